"""Helpers for the web tests: the issue's Fuxin example, and a real ``huiqi serve`` on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bureau-token-for-tests-0123456789"

FUXIN = {"统一社会信用代码": "91350100M000100Y43", "名称": "阜新某新材料有限公司", "所在城市": "阜新", "企业规模": "小型",
         "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "12,345.67元"}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(tmp: Path, *extra: str, workers: int = 2):
    """Start ``huiqi serve`` in a child process; yield its base URL; stop it (by its own pid) afterwards."""
    token_file = tmp / "token.txt"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = (tmp / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--port", str(port), "--token-file", str(token_file),
                                "--workers", str(workers), *extra], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("huiqi serve exited: " + (tmp / "serve.log").read_text(encoding="utf-8"))
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("huiqi serve did not start in 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def input_rows(path: Path) -> dict[str, int]:
    """Non-empty data rows per sheet of an input workbook (header row excluded)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    return {name: sum(1 for row in workbook[name].iter_rows(min_row=2, values_only=True) if any(v is not None for v in row))
            for name in workbook.sheetnames}


def results_accounting(path_or_bytes) -> dict[str, int]:
    """Input rows a results workbook accounts for, per input sheet, read from the workbook alone: enterprises
    evaluated (企业汇总 rows 已评估) and events counted for them (计入事件数 + 评估日后事件数), plus the rows of 错误."""
    import io

    import openpyxl

    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    workbook = openpyxl.load_workbook(source, read_only=True)
    head, *rows = list(workbook["企业汇总"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(head)}
    rows = [r for r in rows if r[col["评估状态"]] == "已评估"]  # the rows not evaluated are in 错误 as well
    found = {"企业": len(rows), "事件": sum(r[col["计入事件数"]] + r[col["评估日后事件数"]] for r in rows)}
    head, *errors = list(workbook["错误"].iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(head)}
    for sheet, _row in {(r[col["工作表"]], r[col["行号"]]) for r in errors}:
        found[sheet] = found.get(sheet, 0) + 1
    return found
