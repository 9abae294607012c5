"""The Spark batch next to the in-process batch, on the same generated Parquet population.

    python benchmarks/spark.py                         # 1,000,000 enterprises + ~3,000,000 events (--per 3.5), local[2]
    python benchmarks/spark.py --n 50000               # a quick check

Prints, in one run: the in-process batch (``run_batch``, Parquet in and out, in its own process), the Spark
batch through ``--master`` (JVM start-up shown apart; evaluate + accounting + write), the ratio, and the
measured throughput of one partition (enterprises per second inside the group function, i.e. per core),
which docs/scale.md uses to size a cluster. The machine's load average is printed with the figures: on a
shared machine they are only as good as the load lets them be. Never run as a unit test.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2022, 6, 30)


def _generate(cache: Path, n: int, per: float) -> tuple[Path, Path]:
    """The batch benchmark's cached inputs (same files, same seed)."""
    spec = importlib.util.spec_from_file_location("batch_benchmark", ROOT / "benchmarks" / "batch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module._generate(cache, n, per)


def _in_process(ents: Path, evs: Path, out: Path) -> dict:
    code = ("import json, time, sys; from datetime import date; from engine.batch.run import run_batch; t = time.perf_counter(); "
            f"r = run_batch({str(ents)!r}, {str(evs)!r}, as_of=date.fromisoformat({AS_OF.isoformat()!r}), out={str(out)!r}, "
            "fmt='parquet'); print(json.dumps({'seconds': time.perf_counter() - t, 'stable': r.manifest['stable'], "
            "'peak_rss_mb': r.manifest['run']['peak_rss_mb']}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="enterprises (default 1,000,000)")
    parser.add_argument("--per", type=float, default=3.5, help="mean of the generator's event draw (default 3.5: ~3 events each)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=None, help="groups (default: engine.batch.spark's choice)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "huiqi-bench")
    parser.add_argument("--driver-memory", default="6g")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    ents, evs = _generate(args.cache, args.n, args.per)
    work = Path(tempfile.mkdtemp(prefix="huiqi-spark-bench-"))

    local = _in_process(ents, evs, work / "local")
    print(f"in-process batch: {local['seconds']:.1f} s, peak {local['peak_rss_mb']:.0f} MB", file=sys.stderr)

    from engine.batch.spark import evaluate, session, write

    started = time.perf_counter()
    spark = session(args.master, conf={"spark.ui.enabled": "false", "spark.driver.memory": args.driver_memory})
    spark.sparkContext.setLogLevel("ERROR")
    jvm = time.perf_counter() - started
    started = time.perf_counter()
    batch = evaluate(str(ents), str(evs), as_of=AS_OF, spark=spark, partitions=args.partitions)
    result = write(batch, work / "spark")
    seconds = time.perf_counter() - started
    stable = result.manifest["stable"]
    same = stable["rows"] == local["stable"]["rows"] and stable["results"] == local["stable"]["results"]
    stats = batch.check()["stats"]
    group_seconds = stats["group_ms"] / 1000
    per_partition = stats["received_enterprises"] / group_seconds if group_seconds else float("nan")
    load_after = os.getloadavg()
    spark.stop()
    events = stats["received_events"]
    print(json.dumps({
        "enterprises": args.n, "events": events, "master": args.master, "partitions": batch.partitions,
        "in_process_s": round(local["seconds"], 1), "spark_jvm_start_s": round(jvm, 1), "spark_s": round(seconds, 1),
        "spark_over_in_process": round(seconds / local["seconds"], 2),
        "group_function_s_total": round(group_seconds, 1),
        "enterprises_per_s_per_partition": round(per_partition),
        "same_counts_and_totals": same, "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in load_after], "cpus": os.cpu_count(),
    }, indent=2))


if __name__ == "__main__":
    main()
