"""``huiqi --version`` and the batch manifest name the same version and rule-set fingerprint."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import engine
from engine.batch import run_batch
from engine.cli import EXIT_BAD_RULES, EXIT_OK, main
from engine.rulebook import load_rules

ROOT = Path(__file__).resolve().parents[1]


def test_version_prints_version_and_shipped_fingerprint(capsys):
    try:
        code = main(["--version"])
    except SystemExit as stop:  # argparse ends --version with parser.exit()
        code = stop.code or 0
    out = capsys.readouterr().out
    shipped = load_rules()
    assert code == EXIT_OK
    assert out.splitlines()[0] == f"huiqi {engine.__version__}"
    assert shipped.fingerprint in out and f"{len(shipped.rules)} rules" in out and f"{len(shipped.rules)} 条规则" in out


def test_version_from_the_command_line():
    done = subprocess.run([sys.executable, "-m", "engine.cli", "--version"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"huiqi {engine.__version__}\n") and load_rules().fingerprint in done.stdout


def test_version_with_broken_shipped_rules_says_so(monkeypatch, tmp_path, capsys):
    (tmp_path / "bad.toml").write_text("[document\n", encoding="utf-8")
    monkeypatch.setattr("engine.rulebook.default_rules_dir", lambda: tmp_path)
    try:
        code = main(["--version"])
    except SystemExit as stop:
        code = stop.code
    assert code == EXIT_BAD_RULES and "TOML" in capsys.readouterr().err


def test_the_version_is_written_in_one_place():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "engine/__init__.py"
    assert f'__version__ = "{engine.__version__}"' in (ROOT / "engine/__init__.py").read_text(encoding="utf-8")


def test_manifest_records_version_and_fingerprint(tmp_path):
    out = tmp_path / "out"
    result = run_batch(ROOT / "examples/batch/sample.xlsx", None, as_of=date(2019, 12, 31), out=out, fmt="csv")
    stable = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stable"]
    assert stable == result.manifest["stable"]
    assert stable["version"] == engine.__version__
    assert stable["rules"]["fingerprint"] == load_rules().fingerprint
