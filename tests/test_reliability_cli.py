"""The command line never shows a traceback: expected errors keep their exit codes, anything else is exit 70."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import cli
from engine.cli import EXIT_BAD_INPUT, EXIT_BAD_RULES, EXIT_INTERNAL, EXIT_INTERRUPTED, main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "profiles" / "01_shenyang_trademarks.json"
ARGS = ["evaluate", str(EXAMPLE), "--as-of", "2019-12-31"]


def boom(exc: BaseException):
    def handler(*args, **kwargs):
        raise exc
    return handler


def test_unexpected_exception_is_a_short_bilingual_internal_error_with_a_pointer(monkeypatch, capsys):
    monkeypatch.delenv("HUIQI_DEBUG", raising=False)
    monkeypatch.setattr(cli, "evaluate", boom(ZeroDivisionError("deep inside")))
    assert main(ARGS) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "内部错误" in err and "internal error" in err and "Traceback" not in err
    pointer = Path(err.split("details: ")[1].split("\n")[0])
    assert pointer.is_file() and "ZeroDivisionError: deep inside" in pointer.read_text(encoding="utf-8")
    pointer.unlink()


def test_huiqi_debug_shows_the_traceback(monkeypatch, capsys):
    monkeypatch.setenv("HUIQI_DEBUG", "1")
    monkeypatch.setattr(cli, "evaluate", boom(KeyError("x")))
    assert main(ARGS) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_expected_errors_are_not_hidden_as_internal_errors(monkeypatch, capsys, tmp_path):
    from engine.durable_driver import EngineLimitError

    monkeypatch.setattr(cli, "evaluate", boom(EngineLimitError("too many alternatives")))
    assert main(ARGS) == EXIT_BAD_RULES
    assert "too many alternatives" in capsys.readouterr().err
    monkeypatch.setattr(cli, "evaluate", boom(KeyboardInterrupt()))
    assert main(ARGS) == EXIT_INTERRUPTED
    monkeypatch.setattr(cli, "evaluate", boom(PermissionError(13, "Permission denied", "x.json")))
    assert main(ARGS) == EXIT_BAD_INPUT
    assert "Permission denied" in capsys.readouterr().err
    monkeypatch.undo()
    assert main(["evaluate", str(tmp_path / "missing.json"), "--as-of", "2019-12-31"]) == EXIT_BAD_INPUT
    assert main(ARGS + ["--rules", str(tmp_path)]) == EXIT_BAD_RULES
    with pytest.raises(SystemExit) as info:
        main(["evaluate"])
    assert info.value.code == 2


@pytest.mark.parametrize("args", [
    ["evaluate", "/dev/null", "--as-of", "2019-12-31"],
    ["evaluate", str(EXAMPLE), "--as-of", "2019-02-30"],
    ["evaluate", str(EXAMPLE), "--as-of", "2019-12-31", "--rules", "/nonexistent"],
    ["explain", str(EXAMPLE), "--rule", "__class__", "--as-of", "2019-12-31"],
    ["rules", "list", "--rules", str(ROOT / "README.md")],
    ["batch", str(ROOT / "README.md"), "-o", "/tmp/huiqi-never.xlsx", "--as-of", "2019-12-31"],
    ["batch", str(EXAMPLE), "-o", "/proc/huiqi.xlsx", "--as-of", "2019-12-31"],
])
def test_bad_command_lines_never_show_a_traceback(args):
    result = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=60,
                            env={**os.environ, "HUIQI_DEBUG": ""})
    assert result.returncode in (2, 3, 4, 5), result.stderr
    assert "Traceback" not in result.stderr
