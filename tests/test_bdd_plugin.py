"""The drafters' scenario plugin, run in isolation with pytester."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.rulebook import default_rules_dir

pytest_plugins = ["pytester"]

TRADEMARK = """\
# language: zh-CN
功能: 商标国际注册补助

  场景: 小型企业按费用的70%获得补助
    假如 一家注册在"阜新市"的"小型企业"
    并且 该主体于"2016-05-01"办理商标国际注册，费用10000元
    当 按"2016-12-31"的政策评估
    那么 该主体可获得"ln2015.trademark.intl-subsidy"{amount}
"""


@pytest.fixture(autouse=True)
def _collect_features(request: pytest.FixtureRequest) -> None:
    """Collection of .feature files is opt-in (``huiqi_features = true``), as in this repository's pyproject.toml."""
    if "pytester" in request.fixturenames:
        request.getfixturevalue("pytester").makeini("[pytest]\nhuiqi_features = true\n")


def make_proposal(target: Path, rate: str = "0.80") -> Path:
    """A copy of the shipped rules with the international trademark subsidy rate changed (as a drafter would)."""
    shutil.copytree(default_rules_dir(), target)
    file = target / "liaoning" / "ln-2015-2020.toml"
    text = file.read_text(encoding="utf-8")
    start = text.index("[parameters.ln2015_intl_trademark_rate]")
    at = text.index("value = 0.70", start)
    file.write_text(text[:at] + f"value = {rate}" + text[at + len("value = 0.70"):], encoding="utf-8")
    return target


def test_a_passing_chinese_scenario(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", ok=TRADEMARK.format(amount="7,000.00元"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("amount", ["7000", "7,000", "7000.00", "7000元", "7,000.00 元"])
def test_amount_spellings(pytester: pytest.Pytester, amount: str) -> None:
    pytester.makefile(".feature", ok=TRADEMARK.format(amount=amount))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_chinese_and_corner_quotes(pytester: pytest.Pytester) -> None:
    text = TRADEMARK.format(amount="7000元").replace('"阜新市"', "“阜新市”").replace('"小型企业"', "「小型企业」")
    pytester.makefile(".feature", ok=text)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_failure_reads_like_a_finding(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", wrong=TRADEMARK.format(amount="8000元"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    for needle in ("✗ 场景不成立：金额不符", "wrong.feature:8", "场景：小型企业按费用的70%获得补助",
                   '步骤：那么 该主体可获得"ln2015.trademark.intl-subsidy"8000元', "预期：", "8,000.00元", "实际：可获得 7,000.00元",
                   "规则：ln2015.trademark.intl-subsidy", "依据：《辽宁省深入实施知识产权战略行动计划（2014-2020年）》 四、（三）",
                   "对企业商标国际注册给予70%补助", "计算：10,000.00 × 70% = 7,000.00"):
        assert needle in out, needle
    assert "Traceback" not in out and "raise " not in out and "world.py" not in out


def test_broken_file_fails_alone(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", good=TRADEMARK.format(amount="7000元"))
    pytester.makefile(".feature", broken=TRADEMARK.format(amount="7000元").replace("功能:", "功能：").replace("场景:", "场景："))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "「功能」后面要用半角冒号「功能:」，不是全角「功能：」" in out
    assert "第4行：「场景」后面要用半角冒号" in out
    assert "broken.feature::小型企业按费用的70%获得补助" in out  # the file's scenario is still named
    assert "error" not in result.stdout.lines[-1]


def test_missing_language_header(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", noheader=TRADEMARK.format(amount="7000元").replace("# language: zh-CN\n", ""))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*缺少语言声明 `# language: zh-CN`*"])


def test_shiyi_instead_of_lizi(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", outline="""\
# language: zh-CN
功能: 比例
  场景大纲: 按比例补助
    假如 一家注册在"阜新市"的"小型企业"
    并且 该主体于"2016-05-01"办理商标国际注册，费用<费用>元
    当 按"2016-12-31"的政策评估
    那么 该主体可获得"ln2015.trademark.intl-subsidy"<补助>元
  示例:
    | 费用 | 补助 |
    | 10000 | 7000 |
    | 100 | 70 |
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*第8行：例子表的关键字是「例子:」，不是「示例」*"])


def test_outline_one_item_per_row_and_one_fen_matters(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", floor="""\
# language: zh-CN
功能: 阜新成果转化奖励不低于70%
  场景大纲: 奖励完成人的比例
    假如 一家注册在"阜新市"的"高等学校"
    并且 该主体于"2018-05-15"以"转让"方式在"阜新市"转化职务成果，净收益100000元，奖励完成人<奖励>元
    当 按"2018-12-31"的政策评估
    那么 该主体<结果>
  例子:
    | 奖励 | 结果 |
    | 70000.00 | 满足"fx2017.transfer.inventor-share"的要求 |
    | 69999.99 | 未达到"fx2017.transfer.inventor-share"的要求，差额0.01元 |
    | 69999.99 | 满足"fx2017.transfer.inventor-share"的要求 |
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "例子：奖励=69999.99，结果=满足" in out
    assert "未达到要求，差额0.01元" in out
    assert "70,000.00" in out


def test_unknown_sentence_lists_close_ones(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", unknown=TRADEMARK.format(amount="7000元").replace(
        '当 按"2016-12-31"的政策评估', '当 按照"2016-12-31"的政策进行评估'))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*不认识这句话*", "*最接近的已知句子*", '*按"2016-12-31"的政策评估*'])


def test_unknown_rule_lists_close_names(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", rule=TRADEMARK.format(amount="7000元").replace("ln2015.trademark.intl-subsidy",
                                                                                "ln2015.trademark.intl-subsidies"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*规则库中没有名为「ln2015.trademark.intl-subsidies」的规则*", "*相近的规则*",
                                 "*ln2015.trademark.intl-subsidy*"])


def test_shared_title_is_ambiguous_where_it_matters(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", shared="""\
Feature: shared titles
  Scenario: the three pledge rules share their English title
    Given a "small enterprise" registered in "Fuxin"
    And it took out an IP pledge loan of 1000000 yuan on "2016-06-01"
    When it is evaluated as of "2016-12-31"
    Then it receives "IP pledge financing support"
    And "IP pledge financing support" is based on "Liaoning"
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert '"IP pledge financing support" names several rules' in out
    assert "ln2012.finance.pledge" in out and "ln2021.finance.pledge" in out
    assert "Then it receives" not in out.split("Step: ")[1].splitlines()[0]  # the first Then passed


def test_invalid_profile_is_a_finding(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", profile="""\
# language: zh-CN
功能: 资料有误
  场景: 城市写错
    假如 一家主体，信息如下：
      | 字段 | 值 |
      | 所在城市 | 阜新市 |
      | 主体类型 | 小型企业 |
    当 按"2016-12-31"的政策评估
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*主体信息有误，无法评估*", "*字段「主体类型」 \"小型企业\"：不是有效选项*"])
    assert "Traceback" not in result.stdout.str()


def test_huiqi_rules_option_and_sentence(pytester: pytest.Pytester) -> None:
    make_proposal(pytester.path / "proposals" / "rate80")
    pytester.makefile(".feature", rate=TRADEMARK.format(amount="8000元"))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(failed=1)
    pytester.runpytest("-p", "no:cacheprovider", "--huiqi-rules", "proposals/rate80").assert_outcomes(passed=1)
    sub = pytester.mkdir("sub")
    make_proposal(sub / "mine", rate="0.90")
    (sub / "explicit.feature").write_text(TRADEMARK.format(amount="9000元").replace(
        '当 按"2016-12-31"的政策评估', '当 使用规则目录"mine"按"2016-12-31"的政策评估'), encoding="utf-8")
    result = pytester.runpytest("-p", "no:cacheprovider", "sub", "--huiqi-rules", "proposals/rate80")
    result.assert_outcomes(passed=1)  # the scenario's own folder wins over the option


def test_missing_rules_folder(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", rate=TRADEMARK.format(amount="8000元").replace(
        '当 按"2016-12-31"的政策评估', '当 使用规则目录"nowhere"按"2016-12-31"的政策评估'))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*找不到规则目录「nowhere」*"])


def test_english_feature(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", en="""\
Feature: International trademark registration subsidy
  Scenario: a university gets nothing
    Given a "university" registered in "Fuxin"
    And it registered a trademark internationally on "2016-05-01" at a cost of 10000 yuan
    When it is evaluated as of "2016-12-31"
    Then it receives "International trademark registration subsidy" of 7000 yuan
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "✗ Scenario does not hold: the benefit is not received" in out
    assert "✗ kind of entity is enterprise [" in out and "→ no" in out


def test_huiqi_steps_prints_the_vocabulary(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", ok=TRADEMARK.format(amount="8000元"))
    result = pytester.runpytest("--huiqi-steps")
    assert result.ret == 0
    result.stdout.fnmatch_lines(['*假如 一家注册在"阜新市"的"小型企业"*', '*Given a "small enterprise" registered in "Fuxin"*'])
    assert "failed" not in result.stdout.str()


def test_lint(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", dup="""\
# language: zh-CN
功能: 重复
  场景: 同名
    假如 一家注册在"阜新市"的"小型企业"
    当 按"2016-12-31"的政策评估
    那么 该主体可获得"没有这条规则"
  场景: 同名
    假如 一家注册在"阜新市"的"小型企业"
    当 按照"2016-12-31"评估
""")
    done = subprocess.run([sys.executable, "-m", "engine.cli", "features", "check", str(pytester.path)],
                          capture_output=True, text=True, cwd=pytester.path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "dup.feature:7: 场景名「同名」重复（第3、7行）：两个场景都会运行" in done.stdout
    assert "dup.feature:6: 没有名为「没有这条规则」的规则" in done.stdout
    assert "dup.feature:9: 不认识这句话" in done.stdout


def test_lint_clean(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", ok=TRADEMARK.format(amount="7000元"))
    done = subprocess.run([sys.executable, "-m", "engine.cli", "features", "check", "ok.feature"],
                          capture_output=True, text=True, cwd=pytester.path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_collection_is_opt_in(pytester: pytest.Pytester) -> None:
    """Installed in an environment, the plugin leaves other projects' .feature files alone."""
    (pytester.path / "tox.ini").unlink()  # written by _collect_features
    pytester.makefile(".feature", ok=TRADEMARK.format(amount="7000元"))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes()
    pytester.makeini("[pytest]\nhuiqi_features = false\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes()
    make_proposal(pytester.path / "proposals" / "rate70", rate="0.70")
    pytester.runpytest("-p", "no:cacheprovider", "--huiqi-rules", "proposals/rate70").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nhuiqi_features = true\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


DESCRIBED_ZH = """\
# language: zh-CN
功能: 商标国际注册补助
  需求：小型企业办理商标国际注册可获补助。
  例如：费用10000元，补助7000元。
  举例：另一家企业。
  情景：阜新市的企业
  背景：本文件的背景说明
  规则：按省级政策执行

  场景: 小型企业按费用的70%获得补助
    例如：这一行是场景说明
    假如 一家注册在"阜新市"的"小型企业"
    并且 该主体于"2016-05-01"办理商标国际注册，费用10000元
    当 按"2016-12-31"的政策评估
    那么 该主体可获得"ln2015.trademark.intl-subsidy"7000元
"""

DESCRIBED_EN = """\
Feature: International trademark subsidy
  当 the description mentions a Chinese step word, the file is still English.
  Example：a description line with a full-width colon.

  Scenario: a small enterprise gets 70% of the cost
    Given a "small enterprise" registered in "Fuxin"
    And it registered a trademark internationally on "2016-05-01" at a cost of 10000 yuan
    When it is evaluated as of "2016-12-31"
    Then it receives "ln2015.trademark.intl-subsidy" of 7000 yuan
"""


@pytest.mark.parametrize("text", [DESCRIBED_ZH, DESCRIBED_EN], ids=["zh", "en"])
def test_description_lines_are_not_keywords(pytester: pytest.Pytester, text: str) -> None:
    """需求：/例如：/情景：/背景：/规则： (or 当… in an English file) in a description are text, not mistakes."""
    pytester.makefile(".feature", described=text)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    done = subprocess.run([sys.executable, "-m", "engine.cli", "features", "check", "described.feature"],
                          capture_output=True, text=True, cwd=pytester.path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_lookalike_keyword_where_a_keyword_belongs(pytester: pytest.Pytester) -> None:
    """The same words where Gherkin needs a keyword are still explained."""
    text = DESCRIBED_ZH.replace("功能: 商标", "需求：商标").replace("  场景: 小型", "  情景：小型").replace(
        "    例如：这一行是场景说明\n", "")
    pytester.makefile(".feature", wrong=text)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "第2行：功能的关键字是「功能:」，不是「需求」" in out
    assert "第10行：场景大纲的关键字是「场景大纲:」，不是「情景」" in out
    assert "例如" not in out.split("✗")[-1].split("功能的关键字")[0]


def test_example_line_is_the_rows_line(pytester: pytest.Pytester) -> None:
    pytester.makefile(".feature", rows="""\
# language: zh-CN
功能: 商标国际注册补助
  场景大纲: 补助为费用的70%
    假如 一家注册在"阜新市"的"小型企业"
    并且 该主体于"2016-05-01"办理商标国际注册，费用<费用>
    当 按"2016-12-31"的政策评估
    那么 该主体可获得"ln2015.trademark.intl-subsidy"<补助>

    例子:
      | 费用   | 补助  |

      | 10000 | 7000 |
      # a comment between rows
      | 20000 | 9999 |
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    assert "费用=20000，补助=9999（第14行）" in result.stdout.str()


def test_lint_checks_what_the_run_checks(pytester: pytest.Pytester) -> None:
    """An honour that is an event with fields, and a rule of the wrong kind, fail at run time: lint says so too."""
    pytester.makefile(".feature", kinds="""\
# language: zh-CN
功能: 种类
  场景: 荣誉
    假如 一家注册在"阜新市"的"小型企业"
    并且 该主体于"2016-05-01"获得"商标国际注册"
    当 按"2016-12-31"的政策评估
    那么 该主体满足"ln2015.trademark.intl-subsidy"的要求
""")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "不认识的荣誉或奖项「商标国际注册」" in result.stdout.str()
    from engine.bdd.lint import scan

    found = scan([pytester.path], root=pytester.path)
    texts = [p.text("zh") for p in found.problems]
    assert any("kinds.feature:5: 不认识的荣誉或奖项「商标国际注册」" in t for t in texts), texts
    assert any("kinds.feature:7:" in t and "是一条奖补，这句话用于要求" in t for t in texts), texts
    assert found.mentions == []  # a mismatched rule is not coverage


def test_lint_reports_paths_that_are_not_features(pytester: pytest.Pytester) -> None:
    pytester.makefile(".txt", notes="hello")
    for target, needle in (("notes.txt", "不是 .feature 文件或文件夹"), ("missing", "找不到这个文件或文件夹")):
        done = subprocess.run([sys.executable, "-m", "engine.cli", "features", "check", target],
                              capture_output=True, text=True, cwd=pytester.path)
        assert done.returncode == 1 and needle in done.stdout, done.stdout + done.stderr


def test_scan_does_not_crash_on_unreadable_files(pytester: pytest.Pytester) -> None:
    from engine.bdd.lint import scan

    (pytester.path / "latin.feature").write_bytes(b"Feature: caf\xe9\n")
    pytester.makefile(".feature", steps="""\
# language: zh-CN
功能: 第一步
  场景: 以并且开头
    并且 一家注册在"阜新市"的"小型企业"
""")
    found = scan([pytester.path], root=pytester.path)
    texts = " ".join(p.text("zh") for p in found.problems)
    assert "UTF-8" in texts and "第一步要以「假如」「当」或「那么」开头" in texts
