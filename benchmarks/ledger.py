"""Ledger benchmark: the same batch without a ledger and with one, in one run, and the ratio.

    python benchmarks/ledger.py                                   # 1,000,000 enterprises, 500,000-line ledger
    python benchmarks/ledger.py --n 20000 --ledger-lines 10000    # a quick check

1. The batch (Parquet in → Parquet out) without a ledger, in its own process.
2. A SQLite ledger (or ``--ledger postgresql://…``) filled with ``--ledger-lines`` of that batch's own benefit
   lines as paid in an earlier round, through ``engine.ledger.store.record`` (one transaction): so the second
   run finds them and reports them as already paid.
3. The same batch with ``ledger=`` that database, in its own process: one query read into polars, joined on
   credit code and once-key, plus the round's tables.

Target: the ledger costs at most 1.5× (printed; not a timed test). Inputs are generated deterministically
(``engine.batch.synth``) and cached under --cache. Never run as a unit test; run the 1M size once at most on
a shared machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AS_OF = date(2022, 6, 30)

from benchmarks.batch import _generate  # noqa: E402 - the same cached population as benchmarks/batch.py


def _run(enterprises: str, events: str, out: str, ledger: str | None) -> None:
    """One batch in this (child) process; prints its timings as JSON."""
    from engine.batch.run import run_batch

    lookup = None
    started = time.perf_counter()
    if ledger:
        from engine.ledger import open_lookup

        lookup = open_lookup(ledger)
    result = run_batch(enterprises, events, as_of=AS_OF, out=out, fmt="parquet", ledger=lookup)
    wall = time.perf_counter() - started
    stable, run = result.manifest["stable"], result.manifest["run"]
    print(json.dumps({"wall_s": round(wall, 2), "peak_rss_mb": run["peak_rss_mb"], "lines": stable["results"]["benefit_lines"],
                      "round": stable.get("round")}))


def _child(*args: str) -> dict:
    process = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, cwd=ROOT)
    if process.returncode != 0:
        raise SystemExit(process.stderr)
    return json.loads(process.stdout.strip().splitlines()[-1])


def _fill(url: str, lines_file: Path, count: int) -> dict:
    """Record the first ``count`` benefit lines of a batch as paid in round "earlier"."""
    import polars as pl

    from engine.ledger.db import connect
    from engine.ledger.migrate import upgrade
    from engine.ledger.store import ClaimLine, RoundInfo, record

    frame = pl.read_parquet(lines_file).head(count)
    code, rule, key, amount = (frame.get_column(c) for c in ("统一社会信用代码", "规则编号", "一次性键", "金额（元）"))
    fen = (amount.cast(pl.Decimal(20, 2)) * 100).cast(pl.Int64)
    claims = [ClaimLine(c, r, k, a) for c, r, k, a in zip(code.to_list(), rule.cast(pl.String).to_list(), key.to_list(), fen.to_list())]
    engine = connect(url, create=True)
    upgrade(engine)
    started = time.perf_counter()
    report = record(engine, RoundInfo("earlier", AS_OF, "benchmark"), claims, "paid")
    return {"lines": len(report.inserted), "record_s": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="enterprises")
    parser.add_argument("--per", type=float, default=3.0, help="events per enterprise")
    parser.add_argument("--ledger-lines", type=int, default=500_000, help="paid lines in the ledger")
    parser.add_argument("--ledger", default=None, help="ledger URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "huiqi-bench"), help="generated inputs")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        enterprises, events, out, ledger = args.child
        _run(enterprises, events, out, ledger or None)
        return
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    enterprises, events = _generate(cache, args.n, args.per)
    with tempfile.TemporaryDirectory(prefix="huiqi-ledger-bench-") as work:
        work_dir = Path(work)
        url = args.ledger or str(work_dir / "claims.db")
        without = _child(str(enterprises), str(events), str(work_dir / "without"), "")
        filled = _fill(url, work_dir / "without" / "lines.parquet", args.ledger_lines)
        with_ledger = _child(str(enterprises), str(events), str(work_dir / "with"), url)
    ratio = with_ledger["wall_s"] / without["wall_s"]
    print(f"batch of {args.n:,} enterprises (Parquet in/out), as of {AS_OF}")
    print(f"  without a ledger: {without['wall_s']:8.2f} s   peak {without['peak_rss_mb']:,.0f} MB   "
          f"{without['lines']:,} benefit lines")
    print(f"  ledger filled:    {filled['lines']:,} paid lines recorded in one transaction in {filled['record_s']:.2f} s")
    round_ = with_ledger["round"] or {}
    print(f"  with the ledger:  {with_ledger['wall_s']:8.2f} s   peak {with_ledger['peak_rss_mb']:,.0f} MB   "
          f"{with_ledger['lines']:,} new lines, {round_.get('already_paid_lines', 0):,} already paid")
    print(f"  ratio with/without: {ratio:.2f}x (target ≤ 1.5x)")


if __name__ == "__main__":
    main()
