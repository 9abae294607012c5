"""Where evaluations run: a pool of worker processes, each with its own copy of the rules and engine.

durable_rules keeps its rule sets in C globals and never releases the GIL, so threads would only queue
behind one another, and a hang inside it would freeze the whole server. Each worker process loads and
compiles the rules once (at start), evaluates one request at a time, and can be killed when a request
overruns its time limit; the server keeps answering meanwhile. ``workers=0`` runs evaluations in the
server process under a lock instead (what docs/web.md measures it against). docs/web.md has the figures.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from pathlib import Path
from typing import Any

from engine.evaluate import evaluate
from engine.profile import ProfileError
from engine.rulebook import RuleSet, load_rules

# -- what runs inside a worker -------------------------------------------------------------------

_RULES: dict[str, RuleSet] = {}
_LEDGER: dict[str, Any] = {}  # "lookup": the payment ledger's ClaimLookup, when the server was started with one


def _open_ledger(url: str | None) -> None:
    """Each process opens the ledger itself (a database connection cannot cross processes); read per request,
    so a claim recorded while the server runs is seen at once."""
    if url is None:
        _LEDGER.pop("lookup", None)
    else:
        from engine.ledger import open_lookup

        _LEDGER["lookup"] = open_lookup(url)


def _init_worker(rules_dir: str, fingerprint: str, ledger_url: str | None = None) -> None:
    rules = load_rules(rules_dir)
    if rules.fingerprint != fingerprint:  # the folder changed between the server's check and this worker's start
        raise RuntimeError(f"rule set changed on disk: {rules.fingerprint} != {fingerprint}")
    _RULES["rules"] = rules
    _open_ledger(ledger_url)


def _rules() -> RuleSet:
    return _RULES["rules"]


def evaluate_job(profile: dict, as_of: date, explain: bool, traces: bool, period: Any = None) -> tuple[str, Any]:
    """("ok", Evaluation JSON) or ("invalid", [FieldError dicts]); runs in a worker. ``period``: a checked
    ``engine.results.Period`` or None."""
    try:
        result = evaluate(profile, as_of, _rules(), explain=explain or traces, period=period, ledger=_LEDGER.get("lookup"))
    except ProfileError as exc:
        return "invalid", [e.model_dump() for e in exc.errors]
    return "ok", result.to_json(traces=traces)


def batch_job(enterprises: str, events: str | None, as_of: date, lang: str, out: str) -> dict:
    """Run ``huiqi batch`` on files in the request's temporary folder; returns the row accounting."""
    import tempfile

    from engine.batch.run import run_batch
    from engine.batch.sources import BadInput

    # The writer's own scratch files (xlsxwriter) go into the request's folder too, so removing it removes
    # everything. Only in a worker process, which runs one job at a time: in the server process (--workers 0)
    # other requests' temporary folders would land inside this one.
    previous = tempfile.tempdir
    if multiprocessing.parent_process() is not None:
        tempfile.tempdir = str(Path(out).parent)
    try:
        result = run_batch(enterprises, events, as_of=as_of, rules=_rules(), out=out, fmt="xlsx", lang=lang, workers=1,
                           ledger=_LEDGER.get("lookup"))
    except BadInput as exc:
        return {"bad_input": [exc.message_zh, exc.message_en]}
    finally:
        tempfile.tempdir = previous
    return {"rows_in": result.rows_in, "rows_accounted": result.rows_accounted, "error_rows": result.error_rows}


def warm_job() -> str:
    """Nothing but proof that a worker is up with its rules loaded and compiled."""
    return _rules().fingerprint


# -- the server side -----------------------------------------------------------------------------

class TimeLimit(Exception):
    """A request ran longer than its time limit; its worker was stopped."""


class WorkerGone(Exception):
    """The worker died while running the request (killed, or crashed inside durable_rules)."""


class _InProcess(Executor):
    """Runs jobs in the server process, one at a time (durable_rules' globals are not thread-safe)."""

    def __init__(self, rules: RuleSet, ledger_url: str | None = None):
        _RULES["rules"] = rules
        _open_ledger(ledger_url)
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        from concurrent.futures import Future

        future: Future = Future()
        with self._lock:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed to the awaiting request
                future.set_exception(exc)
        return future


class Pool:
    """``workers`` processes (or, with 0, the server process under a lock); ``run`` awaits one job."""

    def __init__(self, rules: RuleSet, workers: int, rules_dir: str | Path | None = None, ledger: str | None = None):
        self.rules = rules
        self.ledger = ledger
        self.workers = workers
        self.rules_dir = str(rules_dir or rules.root)
        self._lock = threading.Lock()
        self._executor: Executor = self._start()

    def _start(self) -> Executor:
        if self.workers == 0:
            return _InProcess(self.rules, self.ledger)
        # spawn, not fork: the server has threads (uvicorn, anyio) that a forked child would inherit half-way.
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_worker,
                                   initargs=(self.rules_dir, self.rules.fingerprint, self.ledger))

    def warm(self) -> None:
        """Start the workers now, so they load the rules at start and not on the first request (blocking)."""
        futures = [self._executor.submit(warm_job) for _ in range(max(1, self.workers))]
        for future in futures:
            future.result()

    async def run(self, fn: Callable, *args: Any, timeout: float) -> Any:
        executor = self._executor
        loop = asyncio.get_running_loop()
        if self.workers == 0:
            # Sequential by construction; the lock in _InProcess also covers batch jobs from other threads.
            return await loop.run_in_executor(None, lambda: executor.submit(fn, *args).result())
        try:
            future = loop.run_in_executor(executor, fn, *args)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._restart(executor)
            raise TimeLimit() from None
        except BrokenProcessPool:
            self._restart(executor)
            raise WorkerGone() from None

    def _restart(self, broken: Executor) -> None:
        """Kill the pool that overran or broke and start a fresh one (jobs still in it fail with WorkerGone)."""
        with self._lock:
            if self._executor is not broken:
                return  # another request already replaced it
            self._executor = self._start()
        _stop(broken, grace=0)

    def close(self) -> None:
        _stop(self._executor, grace=5)


def _stop(executor: Executor, grace: float) -> None:
    """Shut a process pool down: ask, wait up to ``grace`` seconds, then kill what is still running."""
    if not isinstance(executor, ProcessPoolExecutor):
        return
    processes = list((executor._processes or {}).values())  # no public API to stop a running job
    if grace == 0:
        for process in processes:
            process.kill()
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(grace)
        if process.is_alive():
            process.kill()
            process.join(1)


def default_workers() -> int:
    """One evaluation process per core but one (the HTTP process needs its own): 1 on the 2-core machines
    measured in docs/web.md, where a second worker made the server slower; at most 4."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))
