"""Batch evaluation benchmark: columnar batch vs the per-profile engine, on a generated population.

    python benchmarks/batch.py                      # 1,000,000 enterprises + ~3,000,000 events, and 100,000-row xlsx
    python benchmarks/batch.py --n 200000 --xlsx-n 20000 --profiles 1000   # a quicker run

Scenarios (each in its own process, so its peak RSS is its own):
1. Parquet in → evaluate → Parquet out (``run_batch(..., fmt="parquet")``).
2. .xlsx in (sheets 企业 + 事件, read with python-calamine) → .xlsx out (xlsxwriter, constant_memory).
3. The per-profile engine (``engine.evaluate``, default backend) on the first ``--profiles`` enterprises of
   the same population (default 6,000: ~3 s), in this process, warm: profiles per second, for the side-by-side ratio.

Inputs are generated deterministically (``engine.batch.synth``, fixed seed) and cached under --cache.
Targets on the 2-core reference machine: scenario 1 ≤ 10 s and ≤ 4 GB peak RSS, ≥ 50× the per-profile
throughput; scenario 2 ≤ 30 s. The figures go to docs/benchmarks.md. Never run as a unit test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2022, 6, 30)
WARM_UP = 200  # profiles evaluated before the per-profile engine is timed


def _generate(cache: Path, n: int, per: float) -> tuple[Path, Path]:
    from engine.batch import synth

    ents, evs = cache / f"enterprises_{n}.parquet", cache / f"events_{n}_{per}.parquet"
    if not (ents.exists() and evs.exists()):
        started = time.perf_counter()
        e, v = synth.population(n, per)
        e.write_parquet(ents)
        v.write_parquet(evs)
        print(f"generated {e.height:,} enterprises, {v.height:,} events in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return ents, evs


def _xlsx_input(cache: Path, n: int, per: float) -> Path:
    """The same kind of population as a clerk's workbook: Chinese headers, sheets 企业 and 事件."""
    import polars as pl
    import xlsxwriter

    from engine import schema
    from engine.batch import synth

    path = cache / f"population_{n}.xlsx"
    if path.exists():
        return path
    e, v = synth.population(n, per, seed=7)
    zh = {f.name: f.zh for f in schema.ENTITY_FIELDS}
    ev_zh = {f.name: f.zh for f in schema.ALL_EVENT_FIELDS} | {"credit_code": "统一社会信用代码"}
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": datetime(2000, 1, 1)})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, frame, headers in (("企业", e, zh), ("事件", v, ev_zh)):
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, [headers[c] for c in frame.columns])
        kinds = [frame.schema[c] for c in frame.columns]
        for i, row in enumerate(frame.iter_rows(), start=1):
            for j, value in enumerate(row):
                if value is None:
                    continue
                if kinds[j] == pl.Date:
                    sheet.write_datetime(i, j, datetime(value.year, value.month, value.day), day)
                elif kinds[j] == pl.Boolean:
                    sheet.write_string(i, j, "是" if value else "否")
                elif kinds[j] == pl.String:
                    sheet.write_string(i, j, value)
                else:
                    sheet.write_number(i, j, value)
    workbook.close()
    return path


def _child(args: list[str]) -> dict:
    """Run one scenario in a fresh process; return its report plus its own peak RSS."""
    process = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, cwd=ROOT, text=True)
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"scenario {args} failed with status {status}")
    report = json.loads(out.strip().splitlines()[-1])
    report["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return report


def _scenario(enterprises: str, events: str | None, out: str, fmt: str) -> None:
    from engine.batch import run_batch

    started = time.perf_counter()
    result = run_batch(enterprises, events, as_of=AS_OF, out=out, fmt=fmt)
    wall = time.perf_counter() - started
    stable = result.manifest["stable"]
    print(json.dumps({"wall_s": round(wall, 2), "timings_s": {k: round(v, 2) for k, v in result.timings.items()},
                      "enterprises": stable["rows"]["enterprises_evaluated"], "events": stable["rows"]["events_counted"],
                      "benefit_lines": stable["results"]["benefit_lines"], "balanced": stable["rows"]["balanced"]}))


def _per_profile(enterprises: Path, events: Path, count: int) -> dict:
    """The per-profile engine's rate on the first ``count`` enterprises, warm, over several seconds.

    Profiles are parsed before timing; the engine is warmed on the first ``WARM_UP`` of them; the timed pass
    is split into three equal parts whose rates are reported too, so run-to-run noise is visible.
    """
    import polars as pl

    import engine
    from engine.batch import read_population

    with tempfile.TemporaryDirectory() as tmp:
        e = pl.read_parquet(enterprises).head(count)
        v = pl.read_parquet(events).filter(pl.col("credit_code").is_in(e.get_column("credit_code").implode()))
        e.write_parquet(Path(tmp) / "e.parquet")
        v.write_parquet(Path(tmp) / "v.parquet")
        profiles = list(read_population(Path(tmp) / "e.parquet", Path(tmp) / "v.parquet").profiles())
    rules = engine.default_rules()
    for profile in profiles[:WARM_UP]:  # compiles the durable_rules engine and fills caches
        engine.evaluate(profile, AS_OF, rules)
    third = -(-len(profiles) // 3)
    parts = []
    for start in range(0, len(profiles), third):
        part = profiles[start:start + third]
        started = time.perf_counter()
        for profile in part:
            engine.evaluate(profile, AS_OF, rules)
        parts.append((len(part), time.perf_counter() - started))
    seconds = sum(s for _, s in parts)
    return {"profiles": len(profiles), "seconds": round(seconds, 2), "per_second": round(len(profiles) / seconds, 1),
            "per_second_parts": [round(n / s, 1) for n, s in parts]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="enterprises for the Parquet scenario")
    parser.add_argument("--events-per", type=float, default=3.5, help="mean events per enterprise (3.5 gives ~3 per enterprise)")
    parser.add_argument("--xlsx-n", type=int, default=100_000, help="enterprise rows for the xlsx scenario (0: skip)")
    parser.add_argument("--profiles", type=int, default=6000,
                        help="profiles for the per-profile engine (~3 s at ~2,000 profiles/s, so the ratio is not noise)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "huiqi-bench"), help="where generated inputs are kept")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    parser.add_argument("--scenario", nargs=4, help=argparse.SUPPRESS)  # internal: enterprises events out format
    args = parser.parse_args()
    if args.scenario:
        enterprises, events, out, fmt = args.scenario
        _scenario(enterprises, None if events == "-" else events, out, fmt)
        return
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    ents, evs = _generate(cache, args.n, args.events_per)
    report: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "as_of": AS_OF.isoformat()}
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        report["parquet"] = _child(["--scenario", str(ents), str(evs), str(Path(tmp) / "out"), "parquet"])
        if args.xlsx_n:
            book = _xlsx_input(cache, args.xlsx_n, args.events_per)
            report["xlsx"] = _child(["--scenario", str(book), "-", str(Path(tmp) / "out.xlsx"), "xlsx"])
    report["per_profile"] = _per_profile(ents, evs, args.profiles)
    batch_rate = report["parquet"]["enterprises"] / report["parquet"]["wall_s"]
    report["batch_per_second"] = round(batch_rate, 1)
    report["speedup"] = round(batch_rate / report["per_profile"]["per_second"], 1)
    evaluate_rate = report["parquet"]["enterprises"] / report["parquet"]["timings_s"]["evaluate"]
    report["evaluate_speedup"] = round(evaluate_rate / report["per_profile"]["per_second"], 1)
    p, x = report["parquet"], report.get("xlsx")
    print(f"Parquet {p['enterprises']:,} enterprises / {p['events']:,} events: {p['wall_s']} s "
          f"(read {p['timings_s'].get('read')}, evaluate {p['timings_s'].get('evaluate')}, tables {p['timings_s'].get('tables')}, "
          f"write {p['timings_s'].get('write')}), peak RSS {p['peak_rss_mb']} MB, rows balanced: {p['balanced']}")
    if x:
        print(f"xlsx {x['enterprises']:,} enterprises / {x['events']:,} events: {x['wall_s']} s "
              f"(read {x['timings_s'].get('read')}, evaluate {x['timings_s'].get('evaluate')}, write {x['timings_s'].get('write')}), "
              f"peak RSS {x['peak_rss_mb']} MB")
    pp = report["per_profile"]
    print(f"per-profile engine: {pp['per_second']} profiles/s ({pp['profiles']} in {pp['seconds']} s; "
          f"thirds {pp['per_second_parts']}); "
          f"batch {report['batch_per_second']:,} enterprises/s end to end; speed-up {report['speedup']}x end to end, "
          f"{report['evaluate_speedup']}x evaluation alone")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
