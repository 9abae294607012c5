"""Requests per second and latency of ``huiqi serve`` over loopback, next to in-process ``engine.evaluate``.

Starts ``huiqi serve`` on a free 127.0.0.1 port (for each --workers value), sends --requests POST
/v1/evaluate from --clients concurrent clients (the shipped example profiles in turn, as of 2019-12-31),
checks every answer against the library's JSON, and prints requests/s, p50 and p99. The in-process rate is
measured in the same run, on the same profiles. Usage:

    python benchmarks/serve.py                      # 2,000 requests, 16 clients, 1 worker process
    python benchmarks/serve.py --requests 200       # a quick check
    python benchmarks/serve.py --workers 0,1,2 --rounds 5   # compare worker models, alternating rounds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import engine  # noqa: E402
from tests.webkit import serve  # noqa: E402

AS_OF = date(2019, 12, 31)


def profiles() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples" / "profiles").glob("*.json"))]


def in_process_rate(items: list[dict], count: int) -> float:
    rules = engine.load_rules()
    for profile in items:  # warm: compiled engine and wording caches, as the server's workers are
        engine.evaluate(profile, AS_OF, rules).to_json()
    start = time.perf_counter()
    for n in range(count):
        engine.evaluate(items[n % len(items)], AS_OF, rules).to_json()
    return count / (time.perf_counter() - start)


async def drive(base: str, items: list[dict], expected: list[str], requests: int, clients: int) -> tuple[float, list[float], int]:
    bodies = [json.dumps({"profile": p, "as_of": AS_OF.isoformat()}, ensure_ascii=False).encode() for p in items]
    latencies: list[float] = []
    failures = [0]  # connections dropped (counted, not retried)
    queue = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for body in bodies:  # warm every worker's engine for the date
            await client.post("/v1/evaluate", content=body, headers={"content-type": "application/json"})

        async def one_client() -> None:
            for n in queue:
                k = n % len(bodies)
                start = time.perf_counter()
                try:
                    answer = await client.post("/v1/evaluate", content=bodies[k], headers={"content-type": "application/json"})
                except httpx.TransportError:
                    failures[0] += 1
                    continue
                latencies.append(time.perf_counter() - start)
                if answer.status_code != 200 or answer.text != expected[k]:
                    raise SystemExit(f"request {n}: answer differs from engine.evaluate ({answer.status_code})")

        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return len(latencies) / elapsed, latencies, failures[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per worker model (default 2000)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", default="1", help="comma-separated worker counts to compare (0: in the server process)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="split the requests into rounds that alternate between the models (fairer on a busy machine)")
    args = parser.parse_args()
    if not 1 <= args.clients <= 64 or not 1 <= args.requests <= 100_000 or not 1 <= args.rounds <= 20:
        parser.error("--clients 1-64, --requests 1-100000, --rounds 1-20")
    models = [int(w) for w in args.workers.split(",")]
    items = profiles()
    rules = engine.load_rules()
    expected = [engine.evaluate(p, AS_OF, rules).to_json() for p in items]
    print(f"{len(items)} example profiles, as of {AS_OF}; {args.requests} requests per model from {args.clients} "
          f"concurrent clients, in {args.rounds} round(s)")
    rates: dict[int, list[float]] = {w: [] for w in models}
    latencies: dict[int, list[float]] = {w: [] for w in models}
    dropped = dict.fromkeys(models, 0)
    in_process: list[float] = []
    with tempfile.TemporaryDirectory(prefix="huiqi-bench-") as tmp, contextlib.ExitStack() as stack:
        bases = {}
        for w in models:
            (Path(tmp) / str(w)).mkdir()
            bases[w] = stack.enter_context(serve(Path(tmp) / str(w), workers=w))
        for _ in range(args.rounds):
            in_process.append(in_process_rate(items, min(args.requests // args.rounds, 1000)))
            for w in models:
                rate, times, failures = asyncio.run(drive(bases[w], items, expected, args.requests // args.rounds, args.clients))
                rates[w].append(rate)
                latencies[w].extend(times)
                dropped[w] += failures
    print(f"{'model':<24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}   (req/s: median of the rounds)")
    rate = statistics.median(in_process)
    print(f"{'in-process evaluate':<24} {rate:8.0f} {1000 / rate:8.2f} {'':>8}")
    for w in models:
        ordered = sorted(latencies[w])
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000
        label = "server, in-process+lock" if w == 0 else f"server, {w} process{'es' if w > 1 else ''}"
        note = f"  ({dropped[w]} connections dropped)" if dropped[w] else ""
        print(f"{label:<24} {statistics.median(rates[w]):8.0f} {p50:8.2f} {p99:8.2f}{note}")


if __name__ == "__main__":
    main()
