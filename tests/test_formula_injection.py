"""Names and references that start like a formula reach every output as text, never as a formula.

xlsx: a string cell holding the text exactly; csv: a single quote in front and the field quoted (OWASP);
parquet and jsonl: the text as read. Checked on every output table of the batch (in memory and streamed)
and on the drafters' diff report workbook.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import load_workbook
from rulekit import credit_code

from engine.batch import run_batch, synth
from engine.batch.tables import TITLES
from engine.batch.write import csv_ready, write_csv
from engine.cli import main
from engine.spreadsheet_text import FORMULA_STARTS, csv_text, csv_text_expr, looks_like_formula

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2022, 6, 30)
HOSTILE = ['=HYPERLINK("http://x","点击")', "+SUM(1,2)", "-2+3", "@cmd|' /C calc'!A0", "\tTAB", "\rCR", "=1;=2,=3"]
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.all().cast(pl.String))


def _inputs(folder: Path) -> tuple[Path, Path]:
    """A population whose every output table has rows, with hostile names, references and cell values."""
    ents, evs = synth.population(120, 3.0, seed=11)
    ents = _text(ents).with_columns(pl.Series("name", [HOSTILE[i % len(HOSTILE)] + f"企业{i}" for i in range(ents.height)]))
    evs = _text(evs).with_columns(pl.Series("ref", [HOSTILE[i % len(HOSTILE)] + f"{i}" for i in range(evs.height)]))
    extra = [  # a requirement missed (Fuxin university), benefits withheld (Tieling, blacklisted), bad cells
        {"credit_code": credit_code(1), "name": HOSTILE[0], "city": "阜新市", "entity_kind": "university", "state_owned": "true"},
        {"credit_code": credit_code(2), "name": HOSTILE[1], "city": "铁岭市", "entity_kind": "enterprise", "blacklisted": "true",
         "size_class": "small"},
        {"credit_code": credit_code(3), "name": HOSTILE[2], "city": "沈阳市", "employees": "=1+1"},
    ]
    more = [
        {"credit_code": credit_code(1), "type": "invention_transfer", "date": "2018-07-20", "ref": HOSTILE[3], "mode": "transfer",
         "implementing_city": "阜新市", "net_income": "200000", "inventor_reward": "120000"},
        {"credit_code": credit_code(2), "type": "ip_pledge_loan", "date": "2022-01-10", "ref": HOSTILE[4], "loan_amount": "100"},
        {"credit_code": credit_code(2), "type": "intl_trademark_registration", "date": "2022-02-10", "ref": HOSTILE[5],
         "cost": "-5"},
    ]
    ents = pl.concat([ents, pl.DataFrame(extra, schema={c: pl.String for c in ents.columns})], how="diagonal")
    ents = ents.with_columns(pl.lit("备注").alias(HOSTILE[3]))  # a column not read: the notes table names it
    evs = pl.concat([evs, pl.DataFrame(more, schema={c: pl.String for c in evs.columns})], how="diagonal")
    ents.write_csv(folder / "e.csv")
    evs.write_csv(folder / "v.csv")
    return folder / "e.csv", folder / "v.csv"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return _inputs(tmp_path_factory.mktemp("hostile"))


def _run(inputs, fmt: str, out: Path, chunk: int | None = None):
    target = out / ("out.xlsx" if fmt == "xlsx" else "out")
    return run_batch(*inputs, as_of=AS_OF, out=target, fmt=fmt, chunk_rows=chunk)


def _raw_values(inputs) -> set[str]:
    ents, evs = (pl.read_csv(p, infer_schema=False) for p in inputs)
    return set(ents.get_column("name").to_list()) | set(evs.get_column("ref").drop_nulls().to_list()) | {"=1+1", "-5"}


@pytest.mark.parametrize("chunk", [None, 40])
def test_xlsx_writes_formula_like_text_as_string_cells(inputs, tmp_path, chunk):
    result = _run(inputs, "xlsx", tmp_path, chunk)
    path = result.files[0]
    with zipfile.ZipFile(path) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not [n for n in sheets if re.search(rb"<f[ >]", book.read(n))]  # no formula anywhere
    workbook = load_workbook(str(path))
    seen = set()
    for zh, _ in TITLES.values():
        rows = workbook.get_sheet_by_name(zh).to_python()
        assert len(rows) > 1, f"{zh}: the test population must put rows in every table"
        seen |= {cell for row in rows[1:] for cell in row if isinstance(cell, str) and looks_like_formula(cell)}
    assert seen and seen <= _raw_values(inputs)  # the text exactly as read: no prefix in a string cell
    assert {"=1+1", "-5"} <= seen and any(v.startswith('=HYPERLINK("http://x","点击")') for v in seen)


@pytest.mark.parametrize("chunk", [None, 40])
def test_csv_neutralises_formula_like_text_and_quotes_it(inputs, tmp_path, chunk):
    result = _run(inputs, "csv", tmp_path, chunk)
    raw = _raw_values(inputs)
    neutralised = set()
    for path in result.files:
        if path.suffix != ".csv":
            continue
        text = path.read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        assert len(rows) > 1, f"{path.name}: the test population must put rows in every table"
        for row in rows:
            for cell in row:
                if cell.startswith(FORMULA_STARTS):  # only a number may start with "-", and it is not quoted
                    assert NUMBER.match(cell) and f'"{cell}"' not in text, (path.name, cell)
                if cell.startswith("'") and cell[1:] in raw:
                    neutralised.add(cell[1:])
                    assert '"' + cell.replace('"', '""') + '"' in text  # the field is quoted
    assert {"=1+1", "-5"} <= neutralised and any(v.startswith('=HYPERLINK("http://x","点击")') for v in neutralised)
    # The readers strip leading whitespace from cells, so tab and CR cannot reach a batch output (csv_ready below)
    assert {v[0] for v in neutralised} == {"=", "+", "-", "@"}


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_data_formats_keep_the_text_as_read(inputs, tmp_path, fmt):
    result = _run(inputs, fmt, tmp_path)
    found = set()
    for path in result.files:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                values = [v for v in json.loads(line).values() if isinstance(v, str)]
                found |= {v for v in values if looks_like_formula(v)}
                assert not [v for v in values if v.startswith("'") and v[1:] in _raw_values(inputs)]
            continue
        else:
            continue
        for name in frame.columns:
            if frame.schema[name] in (pl.String, pl.Categorical) or isinstance(frame.schema[name], pl.Enum):
                found |= {v for v in frame.get_column(name).cast(pl.String).drop_nulls().to_list() if looks_like_formula(v)}
                assert not [v for v in frame.get_column(name).cast(pl.String).drop_nulls().to_list()
                            if v.startswith("'") and v[1:] in _raw_values(inputs)]
    assert found and found <= _raw_values(inputs) and "=1+1" in found


def test_csv_keeps_numbers_numeric_and_amounts_exact():
    frame = pl.DataFrame({"name": ["-3 公司", "甲", None, "\t1", "\r2"], "count": [-3, 4, None, 0, 0],
                          "amount": [-123456789012, 5, None, 0, 0],
                          "kind": pl.Series(["@x", "y", "y", "y", "y"], dtype=pl.Categorical)})
    out = io.BytesIO()
    write_csv(csv_ready(frame, ("amount",)), out, first=False)
    assert out.getvalue().decode().split("\n") == [
        "\"'-3 公司\",-3,-1234567890.12,\"'@x\"", '"甲",4,0.05,"y"', ',,,"y"', "\"'\t1\",0,0.00,\"y\"",
        "\"'\r2\",0,0.00,\"y\"", ""]


@given(st.text())
def test_csv_text_is_never_formula_like_and_loses_nothing(text):
    safe = csv_text(text)
    assert not looks_like_formula(safe)
    assert safe == text or (safe == "'" + text and looks_like_formula(text))
    assert pl.select(csv_text_expr(pl.lit(text, dtype=pl.String))).item() == safe


def test_diff_report_workbook_writes_names_as_strings(tmp_path):
    population = pl.read_csv(ROOT / "examples/diff/population.csv", infer_schema=False)
    name = next(c for c in population.columns if c in ("名称", "name"))
    hostile = [HOSTILE[i % len(HOSTILE)] + f"{i}" for i in range(population.height)]
    population.with_columns(pl.Series(name, hostile)).write_csv(tmp_path / "p.csv")
    out = tmp_path / "r.xlsx"
    assert main(["diff", "rules", "examples/diff/rate80", "--population", str(tmp_path / "p.csv"), "--events",
                 "examples/diff/events.csv", "--as-of", "2020-12-31", "-o", str(out)]) == 5  # one bad row on purpose
    from openpyxl import load_workbook as open_xlsx

    book = open_xlsx(out)
    formulas = [(s.title, c.coordinate, c.value) for s in book for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert formulas and all(re.fullmatch(r"=SUM\([GHI]2:[GHI]\d+\)", v) for _, _, v in formulas)  # only our own totals
    people = book["受影响主体"]
    names = [row[0].value for row in people.iter_rows(min_row=2)]
    assert names and set(names) <= {h.strip() for h in hostile} and all(c[0].data_type == "s" for c in people.iter_rows(min_row=2))
    assert {n[0] for n in names} >= {"=", "+", "-"}
