"""``huiqi serve`` as a real process on loopback: start-up checks, and concurrent answers equal sequential ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import pytest

import engine
from tests.webkit import FUXIN, ROOT, free_port, serve

PROFILES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples" / "profiles").glob("*.json"))]
DATES = ["2014-06-30", "2016-12-31", "2019-12-31", "2022-06-30"]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)


def test_a_broken_rules_folder_stops_the_start_with_the_loaders_message(tmp_path):
    bad = tmp_path / "rules"
    bad.mkdir()
    (bad / "broken.toml").write_text("[document\nid = 1\n", encoding="utf-8")
    with pytest.raises(engine.LoadError) as loader:
        engine.load_rules(bad)
    result = run_cli("serve", "--rules", str(bad), "--port", str(free_port()))
    assert result.returncode == 4
    assert loader.value.text("zh") in result.stderr and loader.value.text("en") in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, words", [(["--port", "70000"], "--port"), (["--workers", "-1"], "--workers"),
                                          (["--ledger", "sqlite:///x"], "ledger")])
def test_bad_start_options_are_usage_errors(args, words):
    result = run_cli("serve", *args)
    assert result.returncode == 2 and words in result.stderr


def test_a_taken_port_is_a_plain_error():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("serve", "--port", str(taken.getsockname()[1]), "--workers", "0")
    assert result.returncode == 3 and "cannot listen on 127.0.0.1" in result.stderr and "Traceback" not in result.stderr


def test_a_short_token_is_refused(tmp_path):
    token = tmp_path / "token"
    token.write_text("short", encoding="utf-8")
    result = run_cli("serve", "--token-file", str(token))
    assert result.returncode == 2 and "16" in result.stderr


@pytest.mark.parametrize("workers", [2, 0])
def test_concurrent_requests_answer_exactly_as_sequential_ones(tmp_path, workers):
    jobs = [(p, d) for d in DATES for p in PROFILES + [FUXIN]]
    bodies = [{"profile": p, "as_of": d, "traces": n % 3 == 0} for n, (p, d) in enumerate(jobs)]
    with serve(tmp_path, workers=workers) as base:
        with httpx.Client(base_url=base, timeout=120) as client:
            sequential = [client.post("/v1/evaluate", json=b).text for b in bodies]

        def send(body):
            with httpx.Client(base_url=base, timeout=120) as c:
                return c.post("/v1/evaluate", json=body).text

        with ThreadPoolExecutor(16) as pool:
            concurrent = list(pool.map(send, bodies * 2))
    assert concurrent == sequential * 2
    rules = engine.load_rules()
    for body, text in zip(bodies[::7], sequential[::7]):
        as_of = date.fromisoformat(body["as_of"])
        assert text == engine.evaluate(body["profile"], as_of, rules, explain=body["traces"]).to_json(traces=body["traces"])


def test_the_core_never_imports_the_web_package():
    code = ("import sys, engine, engine.evaluate, engine.batch.run, engine.cli\n"
            "engine.cli.build_parser()\n"
            "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn', 'jinja2')"
            " or (m.startswith('engine.web.') and m != 'engine.web.cli'))\n"
            "print(loaded)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_without_the_web_extra_serve_says_what_to_install():
    code = "import sys\nsys.modules['fastapi'] = None\nfrom engine.cli import main\nsys.exit(main(['serve']))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.returncode == 2
    assert "huiqi[web]" in result.stderr and "fastapi" in result.stderr and "Traceback" not in result.stderr
