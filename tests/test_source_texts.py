"""The five source texts ship inside the project (rules/sources/, installed as engine/_rules/sources/), so quote
checking works from a fresh clone with nothing beside it, and a missing text fails the check loudly."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "rules" / "sources"

# The texts as received (shared/seeds at the time they were copied in); they must never be edited.
RECEIVED = {
    "000_e009afe222c9a545.txt": "3d497c0cacc8e4617ff9eae8303e90087653798d887d27e5039b831283d1c456",
    "001_6eb086e07f75e31e.txt": "65b0c6d7033b1da6775c82e98120f16ae3fca3de2bad351cc89be399180d24c0",
    "002_00579763bd6bf03f.txt": "53ab0563b11e09bc7a4be8895d2fad6996935b2d3a6a0ffc1b3eadda2f5d944c",
    "003_2d01b04b37810401.txt": "38feda6c81de697108ed0a58897eed944511670bb799e57e055a025154b256ea",
    "004_948df3704114de2d.txt": "d346a7ea6312c8567c45032a1a91bf4d20856a51c8f4d69b97e566ac27de689e",
}


def test_shipped_texts_are_the_received_bytes():
    found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in SOURCES.glob("*.txt")}
    assert found == RECEIVED


def test_the_wheel_ships_the_texts():
    # pyproject force-includes rules/ as engine/_rules, so the texts land in engine/_rules/sources/.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"rules" = "engine/_rules"' in pyproject


def fresh_clone(tmp_path: Path) -> Path:
    """The repository's engine and rules alone in a folder with no ../shared beside it."""
    clone = tmp_path / "clone" / "huiqi"
    shutil.copytree(ROOT / "engine", clone / "engine", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "rules", clone / "rules")
    assert not (clone.parent / "shared").exists()
    return clone


def rules_check(clone: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(clone)}
    return subprocess.run([sys.executable, "-m", "engine.cli", "rules", "check", "--lang", "en"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_fresh_clone_checks_every_quote(tmp_path):
    clone = fresh_clone(tmp_path)
    # A quote that is not in its text must be found without any folder outside the clone.
    rules_file = clone / "rules" / "liaoning" / "ln-2015-2020.toml"
    text = rules_file.read_text(encoding="utf-8")
    assert "对企业商标国际注册给予70%补助" in text
    rules_file.write_text(text.replace("对企业商标国际注册给予70%补助", "对企业商标国际注册给予80%补助", 1), encoding="utf-8")
    done = rules_check(clone)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "quote not found" in done.stdout and "对企业商标国际注册给予80%补助" in done.stdout
    assert "not checked" not in done.stdout


def test_a_fresh_clone_without_a_text_fails_loudly(tmp_path):
    clone = fresh_clone(tmp_path)
    (clone / "rules" / "sources" / "004_948df3704114de2d.txt").unlink()
    done = rules_check(clone)
    assert done.returncode != 0
    assert "source file '004_948df3704114de2d.txt' is not in" in done.stdout
