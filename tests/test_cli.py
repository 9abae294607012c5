"""The ``huiqi`` command: evaluate, explain, rules list — readable text, JSON, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from engine.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "profiles" / "01_shenyang_trademarks.json"


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_evaluate_text_in_chinese(capsys):
    code, out, _ = run(capsys, "evaluate", str(EXAMPLE), "--as-of", "2019-12-31")
    assert code == 0
    assert "商标国际注册补助" in out and "7,000.00" in out and "合计: 507,000.00 元" in out


def test_evaluate_text_in_english(capsys):
    code, out, _ = run(capsys, "evaluate", str(EXAMPLE), "--as-of", "2019-12-31", "--lang", "en")
    assert code == 0 and "Benefits and support" in out and "Total: 507,000.00 yuan" in out
    assert "International trademark" in out and "no stated amount" in out


def test_evaluate_json_is_deterministic(capsys):
    _, first, _ = run(capsys, "evaluate", str(EXAMPLE), "--as-of", "2019-12-31", "--format", "json")
    _, again, _ = run(capsys, "evaluate", str(EXAMPLE), "--as-of", "2019-12-31", "--format", "json")
    data = json.loads(first)
    assert first == again
    assert data["total"] == "507000.00" and data["rule_set"].startswith("sha256:")


def test_explain_shows_each_condition_with_its_value(capsys):
    code, out, _ = run(capsys, "explain", str(EXAMPLE), "--rule", "ln2015.trademark.intl-subsidy", "--as-of", "2019-12-31")
    assert code == 0
    joined = "".join(line.strip() for line in out.splitlines())  # wrapped to 80 columns
    assert ": 符合" in out and "对企业商标国际注册给予70%补助" in joined and "× 70%" in out


def test_explain_unknown_rule_suggests(capsys):
    code, _, err = run(capsys, "explain", str(EXAMPLE), "--rule", "ln2015.trademark.intl-subsidi", "--as-of", "2019-12-31")
    assert code == 2 and "ln2015.trademark.intl-subsidy" in err


def test_rules_list(capsys):
    code, out, _ = run(capsys, "rules", "list", "--as-of", "2019-12-31")
    assert code == 0 and "ln2015.trademark.intl-subsidy" in out and "2015-01-01 ~ 2020-12-31" in out


def test_bad_profile_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"名称": "x", "所在城市": "北京"}, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "evaluate", str(bad), "--as-of", "2019-12-31")
    assert code == 3 and "所在城市" in err and "统一社会信用代码" in err and "Traceback" not in err


def test_not_json_and_missing_file(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{oops", encoding="utf-8")
    assert run(capsys, "evaluate", str(bad), "--as-of", "2019-12-31")[0] == 3
    assert run(capsys, "evaluate", str(tmp_path / "none.json"), "--as-of", "2019-12-31")[0] == 3


def test_installed_command_runs_from_another_directory(tmp_path):
    result = subprocess.run([sys.executable, "-m", "engine.cli", "evaluate", str(EXAMPLE), "--as-of", "2019-12-31"],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "507,000.00" in result.stdout
