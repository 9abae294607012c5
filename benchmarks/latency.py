"""Single-evaluation latency of the per-profile engine (warm), for realistic profiles.

Prints p50 / p99 / mean in milliseconds and evaluations per second, for each shipped example profile and
both backends (durable_rules with the cross-checking evaluator, and the Python evaluator alone).
Usage: python benchmarks/latency.py [--runs 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import engine

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "profiles"
PROFILES = ["01_shenyang_trademarks.json", "08_fuxin_sme_derived_size.json", "10_tieling_blacklisted.json"]


def measure(profile: dict, rules, backend: str, runs: int) -> list[float]:
    for _ in range(50):  # warm: the compiled durable_rules engine and the wording caches
        engine.evaluate(profile, date(2019, 12, 31), rules, backend=backend)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        engine.evaluate(profile, date(2019, 12, 31), rules, backend=backend)
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    rules = engine.load_rules()
    print(f"rule set {rules.fingerprint}, {len(rules.rules)} rules, {args.runs} warm runs each")
    print(f"{'profile':<36} {'backend':<8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'eval/s':>8}")
    for name in PROFILES:
        profile = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
        for backend in ("durable", "python"):
            t = sorted(measure(profile, rules, backend, args.runs))
            p50, p99 = t[len(t) // 2], t[int(len(t) * 0.99) - 1]
            mean = statistics.fmean(t)
            print(f"{name:<36} {backend:<8} {p50:8.3f} {p99:8.3f} {mean:8.3f} {1000 / mean:8.0f}")


if __name__ == "__main__":
    main()
