"""Batch reliability: interrupted runs, byte-identical reruns, independence from durable_rules, any cells.

* A ``huiqi batch`` killed midway (SIGKILL, SIGINT) leaves the previous output byte for byte, or the
  complete new one; SIGINT also leaves no temporary file behind.
* The same batch twice, and with ``--workers 1`` and ``--workers 2``, gives the same bytes.
* The batch path never uses durable_rules: it runs with the C extension unimportable, and gives the same bytes.
* Spreadsheets and CSV files with cells of every type: a result or row errors, every row accounted for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "examples" / "batch" / "sample.xlsx"


def huiqi(*args: str, env: dict | None = None, prelude: str = "") -> subprocess.Popen:
    code = prelude + "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})


def finish(process: subprocess.Popen, timeout: int = 120) -> int:
    _, err = process.communicate(timeout=timeout)
    assert process.returncode in (0, 5), err.decode(errors="replace")[-3000:]
    return process.returncode


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    from engine.batch import synth

    folder = tmp_path_factory.mktemp("population")
    entities, events = synth.population(5_000, seed=7)
    entities.write_csv(folder / "enterprises.csv")
    events.write_csv(folder / "events.csv")
    return folder / "enterprises.csv", folder / "events.csv"


def stray_temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".") and (p.name.endswith(".tmp") or p.name.endswith(".old"))]


def test_interrupted_batch_leaves_previous_output_or_complete_new_one(population, tmp_path):
    enterprises, events = population
    out = tmp_path / "out.xlsx"
    finish(huiqi("batch", str(enterprises), "--events", str(events), "-o", str(out), "--as-of", "2016-12-31"))
    previous = out.read_bytes()
    # The complete new output, for reference, and how long a run takes.
    reference = tmp_path / "reference" / "out.xlsx"
    started = time.monotonic()
    finish(huiqi("batch", str(enterprises), "--events", str(events), "-o", str(reference), "--as-of", "2019-12-31"))
    duration = time.monotonic() - started
    complete = reference.read_bytes()
    assert complete != previous
    outcomes = []
    for fraction, sig in ((0.3, signal.SIGKILL), (0.85, signal.SIGKILL), (0.5, signal.SIGINT), (0.95, signal.SIGINT)):
        out.write_bytes(previous)
        process = huiqi("batch", str(enterprises), "--events", str(events), "-o", str(out), "--as-of", "2019-12-31")
        time.sleep(duration * fraction)
        process.send_signal(sig)
        _, err = process.communicate(timeout=120)
        now = out.read_bytes()
        assert now in (previous, complete), f"half-written output after {sig.name} at {fraction:.0%}"
        outcomes.append((sig.name, fraction, "previous" if now == previous else "new", process.returncode))
        if sig == signal.SIGINT:
            assert process.returncode in (0, 5, 130, -signal.SIGINT), (outcomes, err.decode(errors="replace")[-2000:])  # -2: after main()
            assert stray_temp_files(tmp_path) == [], outcomes
        else:
            for leftover in stray_temp_files(tmp_path):  # SIGKILL cannot clean up; leftovers are hidden temp names
                leftover.unlink() if leftover.is_file() else None
    assert any(o[2] == "previous" for o in outcomes), outcomes


def test_interrupted_folder_output_is_previous_or_complete(population, tmp_path):
    enterprises, events = population
    out = tmp_path / "out"
    finish(huiqi("batch", str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv", "--as-of", "2016-12-31"))
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    started = time.monotonic()
    reference = tmp_path / "reference"
    finish(huiqi("batch", str(enterprises), "--events", str(events), "-o", str(reference), "--format", "csv",
                 "--as-of", "2019-12-31"))
    duration = time.monotonic() - started
    complete = {p.name: p.read_bytes() for p in reference.iterdir()}
    for fraction in (0.5, 0.9):
        process = huiqi("batch", str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv",
                        "--as-of", "2019-12-31")
        time.sleep(duration * fraction)
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)
        now = {p.name: p.read_bytes() for p in out.iterdir()} if out.exists() else {}
        stable = {k: v for k, v in now.items() if k != "manifest.json"}
        assert stable in ({k: v for k, v in previous.items() if k != "manifest.json"},
                          {k: v for k, v in complete.items() if k != "manifest.json"}), fraction
        assert stray_temp_files(tmp_path) == []
        if now == {} or stable != {k: v for k, v in previous.items() if k != "manifest.json"}:
            break


def stable_outputs(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith("manifest.json"):
                data = json.dumps(json.loads(data)["stable"], sort_keys=True).encode()
            found[str(path.relative_to(folder))] = data
    return found


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_same_batch_twice_and_with_1_or_2_workers_gives_the_same_bytes(tmp_path, fmt):
    runs = []
    for name, workers in (("a", "1"), ("b", "1"), ("c", "2")):
        target = tmp_path / name / ("out.xlsx" if fmt == "xlsx" else "out")
        args = ["batch", str(SAMPLE), "-o", str(target), "--format", fmt, "--as-of", "2019-12-31", "--workers", workers]
        finish(huiqi(*args))
        runs.append(stable_outputs(tmp_path / name))
    assert runs[0] and runs[0] == runs[1] == runs[2]


def test_batch_never_needs_durable_rules(tmp_path):
    # The batch path is columnar (polars) with the Python evaluator as fallback: durable_rules, whose C engine can
    # crash or hang (see docs/reliability.md), is never imported, so it cannot take a batch down.
    blocked = "import sys; sys.modules['durable_rules_engine'] = None; sys.modules['durable_rules'] = None\n"
    plain, without = tmp_path / "plain", tmp_path / "without"
    finish(huiqi("batch", str(SAMPLE), "-o", str(plain / "out.xlsx"), "--as-of", "2019-12-31"))
    finish(huiqi("batch", str(SAMPLE), "-o", str(without / "out.xlsx"), "--as-of", "2019-12-31", prelude=blocked))
    assert stable_outputs(plain) == stable_outputs(without)


# -- spreadsheets and CSV files with cells of every type ----------------------------------------------------

HEADERS = ["统一社会信用代码", "名称", "所在城市", "企业规模", "从业人员", "营业收入（万元）", "高新技术企业", "列入名单日期", "重点产业", "备注"]
XLSX_CELLS = st.one_of(
    st.none(), st.booleans(), st.integers(-2**53, 2**53), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30).filter(lambda s: "\x00" not in s), st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.sampled_from(["91350100M000100Y43", "91350100M000100Y4X", "沈阳", "Fuxin", "210900", "小型", "small", "1,200人", "1.5万",
                     "是", "√", "2016年5月1日", "20160501", "42000", "=1+1", "@SUM(A1)", "-", "N/A", "软件、化工", "１２３",
                     "9" * 400, "\u200b", " "]),
)


def write_xlsx(path: Path, rows: list[list]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("企业")
    sheet.write_row(0, 0, HEADERS)
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, (date, datetime)):
                sheet.write_datetime(i, j, datetime(value.year, value.month, value.day), day)
            elif isinstance(value, bool):
                sheet.write_boolean(i, j, value)
            elif isinstance(value, (int, float, Decimal)):
                sheet.write_number(i, j, float(value))
            else:
                sheet.write_string(i, j, str(value))
    workbook.close()


def write_csv(path: Path, rows: list[list], encoding: str) -> None:
    import csv

    with path.open("w", encoding=encoding, errors="replace", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS)
        for row in rows:
            writer.writerow(["" if v is None else str(v) for v in row])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.lists(XLSX_CELLS, min_size=len(HEADERS), max_size=len(HEADERS)), min_size=1, max_size=12),
       st.sampled_from(["xlsx", "csv-utf-8", "csv-gb18030", "csv-utf-8-sig"]))
def test_batch_over_cells_of_every_type_accounts_for_every_row_25(rows, kind):
    import tempfile

    from engine.batch.run import run_batch

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / ("in.xlsx" if kind == "xlsx" else "in.csv")
        if kind == "xlsx":
            write_xlsx(source, rows)
        else:
            write_csv(source, rows, kind.removeprefix("csv-"))
        # The headers are fixed and valid, so the input is always usable: BadInput here would be a bug. run_batch
        # itself checks row by row that evaluated and refused rows are disjoint and cover the input.
        result = run_batch(source, None, as_of=date(2019, 12, 31), out=Path(folder) / "out", fmt="jsonl")
        filled = sum(any(v is not None and v != "" for v in row) for row in rows)
        assert result.rows_in == {"enterprises": filled, "events": 0}
        assert result.rows_accounted == result.rows_in
        manifest = json.loads((Path(folder) / "out" / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["stable"]["rows"]["enterprises_evaluated"] + result.error_rows == filled
