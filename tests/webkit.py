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
