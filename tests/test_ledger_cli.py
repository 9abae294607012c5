"""``huiqi ledger`` end to end on SQLite and PostgreSQL: yearly rounds, edited sheets, refusals, concurrent
clerks and a kill during ``ledger record``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="needs huiqi[ledger]")

import polars as pl  # noqa: E402

from engine.ledger.db import connect  # noqa: E402
from engine.ledger.read import claims_frame  # noqa: E402
from engine.ledger.store import PAUSE_FILE_ENV, PAUSE_SECONDS_ENV  # noqa: E402
from tests.ledgerkit import ledger_url_fixture, snapshot  # noqa: E402, F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "batch" / "sample.xlsx"
PROFILE = ROOT / "examples" / "profiles" / "01_shenyang_trademarks.json"
CODE = "91210100MA0P4K7R2Q"
WELL_KNOWN = "ln.award.well-known-trademark/well_known_trademark/ref:商标注册第7712304号"


def huiqi(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                            timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def start(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "engine.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def lines_of(url: str) -> pl.DataFrame:
    engine = connect(url)
    frame = claims_frame(engine)
    engine.dispose()
    return frame


@pytest.fixture(scope="module")
def batch_2016(tmp_path_factory) -> Path:
    """The sample population's 2016 round as a csv folder (one batch run for the whole module)."""
    out = tmp_path_factory.mktemp("batch") / "r2016"
    huiqi("batch", str(SAMPLE), "--as-of", "2019-12-31", "--period", "2016", "-o", str(out), "--format", "csv", check=False)
    assert (out / "manifest.json").is_file()
    return out


@pytest.fixture
def sheet(batch_2016, tmp_path) -> Path:
    """A copy of the 2016 round that a test may edit."""
    copy = tmp_path / "r2016"
    shutil.copytree(batch_2016, copy)
    return copy


def read_lines(sheet: Path) -> pl.DataFrame:
    return pl.read_csv(sheet / "lines.csv", infer_schema=False)


def write_lines(sheet: Path, frame: pl.DataFrame) -> None:
    frame.write_csv(sheet / "lines.csv", include_bom=True)


def manifest_lines(sheet: Path) -> int:
    return json.loads((sheet / "manifest.json").read_text(encoding="utf-8"))["stable"]["results"]["benefit_lines"]


# -- a yearly round, year after year -------------------------------------------------------------------

def test_a_2014_recognition_is_new_in_2014_and_already_paid_after(ledger_url, tmp_path):
    jsonl = tmp_path / "enterprise.jsonl"
    jsonl.write_text(json.dumps(json.loads(PROFILE.read_text(encoding="utf-8")), ensure_ascii=False) + "\n", encoding="utf-8")
    huiqi("ledger", "init", ledger_url)

    def round_(as_of: str, period: str | None, name: str) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
        out = tmp_path / f"r{name}"
        huiqi("batch", str(jsonl), "--as-of", as_of, *(["--period", period] if period else []), "--ledger", ledger_url,
              "-o", str(out), "--format", "csv", "--lang", "en")
        stable = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["stable"]
        return pl.read_csv(out / "lines.csv", infer_schema=False), pl.read_csv(out / "paid.csv", infer_schema=False), stable

    new, paid, stable = round_("2014-12-31", "2014", "2014")
    award = new.filter(pl.col("once_key") == WELL_KNOWN)
    assert award.get_column("amount (yuan)").to_list() == ["500000.00"] and paid.height == 0
    recorded = huiqi("ledger", "record", str(tmp_path / "r2014"), "--ledger", ledger_url, "--round", "2014", "--status", "paid",
                     "--operator", "张三", "--lang", "en")
    assert f"{new.height} line(s) recorded as paid" in recorded.stdout
    assert stable["round"]["period"] == "2014-01-01..2014-12-31"

    # 2015: the whole history again, with the ledger: the award is already paid, not new
    new, paid, stable = round_("2015-12-31", None, "2015")
    assert WELL_KNOWN not in new.get_column("once_key").to_list()
    again = paid.filter(pl.col("once_key") == WELL_KNOWN)
    assert again.height == 1 and stable["round"]["already_paid_lines"] >= 1
    assert "2014" in again.row(0, named=True).values()
    # 2016: a catch-up round over 2014..2016 under the continuation's documents: still paid once, in 2014
    new, paid, _ = round_("2016-12-31", "2014-01-01..2016-12-31", "2016")
    assert WELL_KNOWN not in new.get_column("once_key").to_list()
    assert paid.filter(pl.col("once_key") == WELL_KNOWN).height == 1
    huiqi("ledger", "record", str(tmp_path / "r2016"), "--ledger", ledger_url, "--round", "2016", "--status", "paid")
    held = lines_of(ledger_url).filter(pl.col("once_key") == WELL_KNOWN)
    assert held.select("round", "amount_fen", "status", "operator").rows() == [("2014", 50_000_000, "paid", "张三")]

    # the per-profile engine reads the same ledger
    shown = huiqi("evaluate", str(PROFILE), "--as-of", "2016-12-31", "--ledger", ledger_url, "--format", "json")
    result = json.loads(shown.stdout)
    assert [p["round_name"] for p in result["already_paid"] if p["line"]["once_key"] == WELL_KNOWN] == ["2014"]
    assert WELL_KNOWN not in [b["once_key"] for b in result["benefits"]]


def test_paid_under_the_2012_rule_is_not_paid_again_under_its_continuation(ledger_url, tmp_path):
    from datetime import date

    from engine.ledger.store import ClaimLine, RoundInfo, record
    from engine.rulebook import load_rules

    profile = json.loads(PROFILE.read_text(encoding="utf-8"))
    for event in profile["events"]:
        if event["type"] == "well_known_trademark":
            event["date"] = "2015-03-01"  # a 2015 recognition: the 2014–2020 continuation pays it
    jsonl = tmp_path / "enterprise.jsonl"
    jsonl.write_text(json.dumps(profile, ensure_ascii=False) + "\n", encoding="utf-8")
    huiqi("ledger", "init", ledger_url)
    out = tmp_path / "without"
    huiqi("batch", str(jsonl), "--as-of", "2016-12-31", "--period", "2015", "-o", str(out), "--format", "csv")
    new = pl.read_csv(out / "lines.csv", infer_schema=False).filter(pl.col("一次性键") == WELL_KNOWN)
    assert new.get_column("规则编号").to_list() == ["ln2015.award.well-known-trademark"]
    engine = connect(ledger_url)  # paid earlier under the 2012–2015 rule, as a 2015 round under the old plan would have
    record(engine, RoundInfo("2015", date(2015, 12, 31), load_rules().fingerprint, date(2015, 1, 1), date(2015, 12, 31)),
           [ClaimLine(CODE, "ln2012.award.well-known-trademark", WELL_KNOWN, 50_000_000, "well_known_trademark",
                      date(2015, 3, 1), "商标注册第7712304号")], "paid")
    engine.dispose()
    out = tmp_path / "with"
    huiqi("batch", str(jsonl), "--as-of", "2016-12-31", "--period", "2015", "--ledger", ledger_url, "-o", str(out), "--format", "csv")
    assert WELL_KNOWN not in pl.read_csv(out / "lines.csv", infer_schema=False).get_column("一次性键").to_list()
    paid = pl.read_csv(out / "paid.csv", infer_schema=False).filter(pl.col("一次性键") == WELL_KNOWN)
    assert paid.select("规则编号", "兑现规则编号", "兑现批次").rows() == [
        ("ln2015.award.well-known-trademark", "ln2012.award.well-known-trademark", "2015")]


# -- the clerk's edits ---------------------------------------------------------------------------------

def test_deleted_rows_and_a_lowered_amount_are_recorded_and_reported(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    lines = read_lines(sheet)
    amount = "金额（元）"
    target = lines.with_row_index("n").filter(pl.col(amount).cast(pl.Float64) > 1000).row(0, named=True)
    lowered = lines.with_row_index("n").with_columns(
        pl.when(pl.col("n") == target["n"]).then(pl.lit("1000.00")).otherwise(pl.col(amount)).alias(amount)).drop("n")
    edited = lowered.slice(0, 5).vstack(lowered.slice(8))  # rows 5..7 not approved
    write_lines(sheet, edited)
    out = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "approved").stdout
    assert f"新记为已批准 {edited.height} 行" in out and "表中删除 3 行（未批准）" in out
    assert "手工调低" in out and f"{target[amount]} → 1000.00 元" in out
    held = lines_of(ledger_url)
    assert held.height == edited.height == manifest_lines(sheet) - 3
    line = held.filter((pl.col("credit_code") == target["统一社会信用代码"]) & (pl.col("once_key") == target["一次性键"]))
    assert line.get_column("amount_fen").to_list() == [100_000]
    assert "手工调低" in line.get_column("note").item()
    before = snapshot(ledger_url)  # recording the same sheet again: nothing changes, and it says so
    again = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "approved").stdout
    assert "台账未改变" in again and snapshot(ledger_url) == before


def test_a_raised_amount_refuses_the_whole_sheet(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    lines = read_lines(sheet)
    raised = lines.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("999999.00"))
                                .otherwise(pl.col("金额（元）")).alias("金额（元）"))
    write_lines(sheet, raised)
    before = snapshot(ledger_url)
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3
    assert "lines.csv 第5行 / row 5" in refused.stderr and "金额被手工调高：999999.00 元" in refused.stderr
    assert "amounts may only be lowered" in refused.stderr and "nothing was recorded" in refused.stderr
    assert snapshot(ledger_url) == before


def test_forged_calculations_are_refused(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    lines = read_lines(sheet)
    calc, amount = "计算过程", "金额（元）"
    indexed = lines.with_row_index("n")
    summed = indexed.filter(pl.col(calc).str.contains(r" \+ ")).row(0, named=True)
    rated = indexed.filter(pl.col(calc).str.contains(r"^[\d,.]+ × 70% = ")).row(0, named=True)

    def forge(frame: pl.DataFrame, row: dict, new_calc: str, new_amount: str) -> pl.DataFrame:
        hit = pl.int_range(pl.len()) == row["n"]
        return frame.with_columns(pl.when(hit).then(pl.lit(new_amount)).otherwise(pl.col(amount)).alias(amount),
                                  pl.when(hit).then(pl.lit(new_calc)).otherwise(pl.col(calc)).alias(calc))

    # a sum whose result was raised with the amount: the addition no longer holds
    write_lines(sheet, forge(lines, summed, summed[calc].rsplit(" = ", 1)[0] + " = 99,999.00", "99999.00"))
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "计算过程的加法不对" in refused.stderr
    # a rate line forged consistently (base, product and amount raised together): the 待兑现 sheet still holds the
    # batch's amount; without it, the manifest's total no longer adds up
    write_lines(sheet, forge(lines, rated, "100,000.00 × 70% = 70,000.00", "70000.00"))
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "“待兑现”表中删除或调低了" in refused.stderr
    (sheet / "to_pay.csv").unlink()
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "与批量评估清单的合计" in refused.stderr and "a calculation seems edited" in refused.stderr
    assert lines_of(ledger_url).height == 0


def test_an_xlsx_edited_in_a_spreadsheet_program(ledger_url, tmp_path):
    import openpyxl

    huiqi("ledger", "init", ledger_url)
    out = tmp_path / "r2016.xlsx"
    huiqi("batch", str(SAMPLE), "--as-of", "2019-12-31", "--period", "2016", "-o", str(out), check=False)
    book = openpyxl.load_workbook(out)
    sheet = book["补贴明细"]
    headers = [c.value for c in sheet[1]]
    amount = headers.index("金额（元）") + 1
    row = next(r for r in range(2, sheet.max_row + 1) if isinstance(sheet.cell(row=r, column=amount).value, float | int))
    sheet.cell(row=row, column=amount).value = round(sheet.cell(row=row, column=amount).value / 2, 2)
    sheet.delete_rows(row + 1, 2)
    book.save(out)
    recorded = huiqi("ledger", "record", str(out), "--ledger", ledger_url, "--round", "2016", "--status", "paid", "--lang", "en")
    assert "2 deleted from the sheet (not approved)" in recorded.stdout and "lowered by hand" in recorded.stdout
    total_rows = json.loads(out.with_name("r2016.manifest.json").read_text(encoding="utf-8"))["stable"]["results"]["benefit_lines"]
    assert lines_of(ledger_url).height == total_rows - 2


def test_an_added_row_is_refused(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    lines = read_lines(sheet)
    (sheet / "to_pay.csv").unlink()  # the check holds without the round's to-pay sheet too
    forged = lines.slice(0, 1).with_columns(pl.lit("91350100M000100Y43").alias("统一社会信用代码"))
    write_lines(sheet, lines.vstack(forged))
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "never added" in refused.stderr
    assert lines_of(ledger_url).height == 0


def test_approving_in_the_to_pay_sheet_alone_is_refused(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    to_pay = pl.read_csv(sheet / "to_pay.csv", infer_schema=False)
    assert to_pay.height > 3
    to_pay.slice(1).write_csv(sheet / "to_pay.csv", include_bom=True)  # a row deleted in 待兑现 only
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "“待兑现”表中删除或调低了" in refused.stderr
    assert lines_of(ledger_url).height == 0


# -- refusals ------------------------------------------------------------------------------------------

def test_the_same_award_with_another_amount_in_another_round_is_refused(ledger_url, sheet, tmp_path):
    huiqi("ledger", "init", ledger_url)
    huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid")
    lines = read_lines(sheet)
    first = lines.with_row_index("n").filter(pl.col("金额（元）").cast(pl.Float64) > 1).get_column("n")[0]
    lower = lines.with_columns(pl.when(pl.int_range(pl.len()) == first).then(pl.lit("1.00")).otherwise(pl.col("金额（元）"))
                               .alias("金额（元）"))
    write_lines(sheet, lower)
    before = snapshot(ledger_url)
    refused = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016-supplement", "--status", "paid",
                    check=False)
    assert refused.returncode == 3
    assert "已在轮次“2016”记为已兑现" in refused.stderr and "already paid in round '2016'" in refused.stderr
    assert snapshot(ledger_url) == before


def test_a_revoked_claim_can_be_recorded_again_with_a_corrected_amount(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid")
    lines = read_lines(sheet)
    first = lines.with_row_index("n").filter(pl.col("金额（元）").cast(pl.Float64) > 1).row(0, named=True)
    code, key = first["统一社会信用代码"], first["一次性键"]
    revoked = huiqi("ledger", "revoke", "--ledger", ledger_url, "--credit-code", code, "--once-key", key, "--note", "金额有误")
    assert "已兑现记录" in revoked.stdout and "已改为已撤销" in revoked.stdout
    again = huiqi("ledger", "revoke", "--ledger", ledger_url, "--credit-code", code, "--once-key", key, check=False)
    assert again.returncode == 3 and "no approved or paid claim" in again.stderr
    write_lines(sheet, lines.with_columns(pl.when(pl.int_range(pl.len()) == first["n"]).then(pl.lit("1.00"))
                                          .otherwise(pl.col("金额（元）")).alias("金额（元）")))
    out = huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid").stdout
    assert "新记为已兑现 1 行" in out
    held = lines_of(ledger_url).filter((pl.col("credit_code") == code) & (pl.col("once_key") == key))
    assert sorted(held.select("status", "amount_fen").rows()) == [("paid", 100), ("revoked", int(round(float(first["金额（元）"]) * 100)))]


def test_a_mistyped_ledger_path_is_refused_and_never_created(tmp_path):
    missing = tmp_path / "claimz.db"
    refused = huiqi("evaluate", str(PROFILE), "--as-of", "2016-12-31", "--ledger", str(missing), check=False)
    assert refused.returncode == 2 and "ledger file not found" in refused.stderr and "huiqi ledger init" in refused.stderr
    refused = huiqi("ledger", "show", "--ledger", str(missing), "--credit-code", CODE, check=False)
    assert refused.returncode == 3 and "找不到台账文件" in refused.stderr
    assert not missing.exists()


def test_an_uninitialised_ledger_and_a_missing_manifest_are_refused(tmp_path, sheet):
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    engine = connect(url, create=True)
    with engine.connect():  # an empty database file, never initialised
        pass
    engine.dispose()
    assert (tmp_path / "claims.db").is_file()
    refused = huiqi("ledger", "record", str(sheet), "--ledger", url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "not initialised" in refused.stderr
    huiqi("ledger", "init", url)
    (sheet / "manifest.json").unlink()
    refused = huiqi("ledger", "record", str(sheet), "--ledger", url, "--round", "2016", "--status", "paid", check=False)
    assert refused.returncode == 3 and "manifest" in refused.stderr and "Traceback" not in refused.stderr


# -- clerks at once, and a kill ------------------------------------------------------------------------

def test_two_clerks_recording_the_same_sheet_at_once_pay_once(ledger_url, sheet):
    huiqi("ledger", "init", ledger_url)
    args = ("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", "--lang", "en")
    clerks = [start(*args), start(*args)]
    outputs = [c.communicate(timeout=300) for c in clerks]
    assert [c.returncode for c in clerks] == [0, 0], outputs
    assert sorted("the ledger is unchanged" in out for out, _ in outputs) == [False, True]
    held = lines_of(ledger_url)
    assert held.height == manifest_lines(sheet)
    assert held.select("credit_code", "once_key").is_duplicated().sum() == 0


def test_sigkill_during_ledger_record_leaves_the_ledger_as_before(ledger_url, sheet, tmp_path):
    huiqi("ledger", "init", ledger_url)
    first = read_lines(sheet)
    write_lines(sheet, first.slice(0, 10))  # a first, partial approval is in the ledger already
    huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "approved")
    write_lines(sheet, first)
    before = snapshot(ledger_url)
    marker = tmp_path / "inside"
    clerk = start("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid",
                  env={PAUSE_FILE_ENV: str(marker), PAUSE_SECONDS_ENV: "120"})
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert clerk.poll() is None, clerk.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    clerk.send_signal(signal.SIGKILL)  # every line inserted or updated, nothing committed
    clerk.wait(timeout=30)
    assert snapshot(ledger_url) == before
    huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid")
    assert lines_of(ledger_url).get_column("status").unique().to_list() == ["paid"]


# -- reading the ledger --------------------------------------------------------------------------------

def test_show_and_export(ledger_url, sheet, tmp_path):
    huiqi("ledger", "init", ledger_url)
    huiqi("ledger", "record", str(sheet), "--ledger", ledger_url, "--round", "2016", "--status", "paid", "--operator", "王五")
    code = read_lines(sheet).get_column("统一社会信用代码")[0]
    shown = huiqi("ledger", "show", "--ledger", ledger_url, "--credit-code", code.lower()).stdout
    assert shown.startswith(f"{code}：共 ") and "[已兑现] 轮次 2016" in shown and "王五" in shown
    out = tmp_path / "ledger.xlsx"
    huiqi("ledger", "export", "--ledger", ledger_url, "-o", str(out))
    import openpyxl

    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["轮次", "兑现台账"]
    rows = list(book["兑现台账"].iter_rows(values_only=True))
    assert rows[0][:3] == ("统一社会信用代码", "一次性键", "规则编号") and len(rows) - 1 == manifest_lines(sheet)
    assert {r[rows[0].index("状态")] for r in rows[1:]} == {"已兑现"}
    assert sum(round(r[rows[0].index("金额（元）")] * 100) for r in rows[1:] if r[rows[0].index("金额（元）")] is not None) == \
        lines_of(ledger_url).get_column("amount_fen").sum()
