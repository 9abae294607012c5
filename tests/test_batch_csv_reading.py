"""Reading what clerks' CSV files really are (issue 15 items 4, 5, 7; issue 13 item 3).

Line endings (CRLF, LF, lone CR, mixed), encodings (UTF-8 with/without BOM, GB18030/GBK, UTF-16 with BOM;
anything else refused with the row), tab-separated files, headers that are not headers, repeated header
names, and control characters in cells of every input format. Every read error names the file and the row
in Chinese and English, never polars' own text.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from engine.batch import read_population, run_batch, synth
from engine.batch.sources import BadInput
from engine.cli import EXIT_BAD_INPUT, main

AS_OF = date(2019, 12, 31)
HEADER = ["统一社会信用代码", "名称", "所在城市", "企业规模", "营业收入（万元）"]


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    """A small population as text rows (header first), with a quoted cell holding a comma and one a line break."""
    entities, _ = synth.population(25, seed=11)
    frame = entities.select(pl.col("credit_code").alias("统一社会信用代码"), pl.col("name").alias("名称"),
                            pl.col("city").alias("所在城市"), pl.col("size_class").alias("企业规模"),
                            pl.col("revenue_wan").cast(pl.String).alias("营业收入（万元）"))
    body = [["" if v is None else str(v) for v in row] for row in frame.iter_rows()]
    body[3][1] = "大连,测试 有限公司"
    body[4][1] = "锦州\n测试"
    return [HEADER, *body]


def as_csv(rows: list[list[str]], ending: str = "\r\n", delimiter: str = ",") -> str:
    """As Excel writes it: a cell holding a line break is quoted (Python's writer only quotes the row ending)."""
    buffer = io.StringIO()
    for row in rows:
        broken = any("\n" in c or "\r" in c for c in row)
        csv.writer(buffer, delimiter=delimiter, lineterminator=ending,
                   quoting=csv.QUOTE_ALL if broken else csv.QUOTE_MINIMAL).writerow(row)
    return buffer.getvalue()


def read(path: Path) -> pl.DataFrame:
    population = read_population(path)
    assert population.rows_accounted() == population.rows_in
    return population.entities.select("credit_code", "name", "city", "size_class", "revenue_wan")


@pytest.fixture(scope="module")
def reference(rows, tmp_path_factory) -> pl.DataFrame:
    path = tmp_path_factory.mktemp("ref") / "lf.csv"
    path.write_text(as_csv(rows, "\n"), encoding="utf-8")
    frame = read(path)
    assert frame.height == 25
    return frame


# -- item 4: line endings ----------------------------------------------------------------------------

def test_lone_cr_macintosh_csv_reads_every_row(rows, reference, tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(as_csv(rows, "\r").encode("utf-8"))
    assert read(path).drop("name").equals(reference.drop("name"))
    assert read(path).get_column("name").to_list() == reference.get_column("name").to_list()


def test_mixed_line_endings_read_correctly(rows, reference, tmp_path):
    text = "".join(as_csv([r], ending) for r, ending in zip(rows, ["\r\n", "\n", "\r"] * 10))
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode("utf-8"))
    assert read(path).equals(reference)


def test_a_row_with_too_many_cells_names_file_and_row_not_polars(rows, tmp_path, capsys):
    ragged = [list(r) for r in rows]
    ragged[7] += ["多余", "的"]  # spreadsheet row 8 (the header is row 1)
    path = tmp_path / "ragged.csv"
    path.write_text(as_csv(ragged, "\n"), encoding="utf-8")
    code = main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "ragged.csv 第8行有7个单元格" in err and "ragged.csv row 8 has 7 cells" in err
    assert "truncate_ragged_lines" not in err and "Schema" not in err
    assert main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx"), "--lang", "en"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip().startswith("ragged.csv row 8")


def test_unbalanced_quotes_name_the_row(rows, tmp_path):
    records = [as_csv([r], "\n") for r in rows[:10]]
    records[6] = '"' + records[6]  # spreadsheet row 7; row 5 holds a quoted line break, which is no row of its own
    path = tmp_path / "quote.csv"
    path.write_text("".join(records), encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        read_population(path)
    assert "quote.csv 第7行的引号不配对" in caught.value.message_zh and "row 7" in caught.value.message_en
    assert "polars" not in str(caught.value).lower() and "escaped" not in str(caught.value)


def test_trailing_empty_cells_beyond_the_header_are_tolerated(rows, reference, tmp_path):
    lines = as_csv(rows, "\n").splitlines(keepends=True)
    lines[2] = lines[2].rstrip("\n") + ",,\n"
    path = tmp_path / "trailing.csv"
    path.write_text("".join(lines), encoding="utf-8")
    assert read(path).equals(reference)


@pytest.mark.parametrize("header, fragment", [
    (["91210100MA0000000X", "沈阳测试", "沈阳市"], "91210100MA0000000X"),  # a data row where the header should be
    (["统一社会信用代码", "名称", "所在城市", "2019-05-01"], "2019-05-01"),
    (["统一社会信用代码", "名称", "所在城市", "12,000.50"], "12,000.50"),
    (["统一社会信用代码", "名称", "所在城市\n91210100MA0000000X"], "换行"),  # rows not split: all in the header
])
def test_a_header_that_is_not_a_header_is_an_input_error(tmp_path, capsys, header, fragment):
    path = tmp_path / "h.csv"
    path.write_text(as_csv([header, ["91210100MA0000001X", "大连测试", "大连市", ""][:len(header)]], "\n"), encoding="utf-8")
    code = main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    assert "h.csv 表头（第1行）" in err and "header (row 1)" in err and fragment in err
    assert not (tmp_path / "o.xlsx").exists()


# -- item 5: the same header twice ---------------------------------------------------------------------

def test_an_exact_duplicate_header_is_refused_like_an_aliased_one(rows, tmp_path, capsys):
    doubled = [r + [r[3]] for r in rows]
    path = tmp_path / "dup.csv"
    path.write_text(as_csv(doubled), encoding="utf-8")
    code = main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "列「企业规模」出现了两次" in err and "column '企业规模' is given twice" in err
    assert "duplicated" not in err


def test_an_exact_duplicate_header_in_a_workbook_is_refused(rows, tmp_path):
    path = tmp_path / "dup.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("企业")
    for i, row in enumerate(r + [r[3]] for r in rows):
        sheet.write_row(i, 0, row)
    book.close()
    with pytest.raises(BadInput, match="出现了两次"):
        read_population(path)


# -- issue 13 item 3: encodings and tab-separated files -------------------------------------------------

@pytest.mark.parametrize("encoding, recorded", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"),
                                                ("gbk", "gb18030"), ("utf-16", "utf-16")])
def test_encodings_are_read_and_recorded_in_the_manifest(rows, reference, tmp_path, encoding, recorded):
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(as_csv(rows).encode(encoding))
    assert read(path).equals(reference)
    result = run_batch(path, as_of=AS_OF, out=tmp_path / "out", fmt="jsonl")
    entry = result.manifest["stable"]["inputs"][0]
    assert (entry["encoding"], entry["delimiter"], entry["line_endings"]) == (recorded, "comma", "CRLF")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stable"]["inputs"][0]["encoding"] == recorded


@pytest.mark.parametrize("suffix", [".tsv", ".txt", ".csv"])
def test_tab_separated_files_are_read(rows, reference, tmp_path, suffix):
    path = tmp_path / f"tabs{suffix}"
    path.write_text(as_csv(rows, "\r\n", "\t"), encoding="gb18030")
    assert read(path).equals(reference)
    result = run_batch(path, as_of=AS_OF, out=tmp_path / "o.xlsx")
    assert result.manifest["stable"]["inputs"][0]["delimiter"] == "tab"


@pytest.mark.parametrize("data, row", [
    ("统一社会信用代码,名称,所在城市\r\n".encode() + "91210100MA0000000X,Café Zürich,Liaoning\r\n".encode("cp1252"), 2),
    ("統一社會信用代碼,名稱,所在城市\r\n91210100MA0000000X,瀋陽測試科技單位,瀋陽市\r\n".encode("big5"), 1),
    ("회사명,도시,코드\r\n삼성전자,서울,1234\r\n".encode("euc_kr"), 1),
])
def test_a_file_in_no_accepted_encoding_names_the_row(tmp_path, capsys, data, row):
    path = tmp_path / "odd.csv"
    path.write_bytes(data)
    code = main(["batch", str(path), "--as-of", "2019-12-31", "-o", str(tmp_path / "o.xlsx")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert f"odd.csv 的编码无法识别：第{row}行不是有效的 UTF-8" in err and f"row {row} is not valid UTF-8" in err


def test_a_broken_utf8_file_with_a_bom_is_not_read_as_gb18030(rows, tmp_path):
    data = as_csv(rows).encode("utf-8-sig")
    path = tmp_path / "bom.csv"
    path.write_bytes(data + "91210100MA0000000X,沈阳,沈阳市\r\n".encode("gb18030"))
    with pytest.raises(BadInput, match="第27行不是有效的 UTF-8"):
        read_population(path)


@pytest.mark.parametrize("variant", ["gb18030", "lone_cr", "tabs", "duplicate_header"])
def test_the_chunked_path_reads_odd_csv_as_the_in_memory_path_does(rows, reference, tmp_path, variant):
    if variant == "duplicate_header":
        path = tmp_path / "dup.csv"
        path.write_text(as_csv([r + [r[3]] for r in rows]), encoding="utf-8")
        with pytest.raises(BadInput, match="出现了两次"):
            run_batch(path, as_of=AS_OF, out=tmp_path / "o", fmt="csv", chunk_rows=2)
        return
    text = as_csv(rows, "\r" if variant == "lone_cr" else "\r\n", "\t" if variant == "tabs" else ",")
    path = tmp_path / "odd.csv"
    path.write_bytes(text.encode("gb18030" if variant == "gb18030" else "utf-8"))
    from engine.batch import stream

    assert stream.plan(path, None, 2) is None  # polars' scanner would misread it: the in-memory reader takes it
    chunked = run_batch(path, as_of=AS_OF, out=tmp_path / "chunked", fmt="csv", chunk_rows=2)
    run_batch(path, as_of=AS_OF, out=tmp_path / "whole", fmt="csv")
    assert chunked.manifest["stable"]["rows"]["enterprises_evaluated"] == 25
    assert (tmp_path / "chunked" / "entities.csv").read_bytes() == (tmp_path / "whole" / "entities.csv").read_bytes()


def test_a_plain_utf8_csv_still_takes_the_chunked_path(rows, tmp_path):
    from engine.batch import stream

    path = tmp_path / "plain.csv"
    path.write_text(as_csv([r for r in rows if "\n" not in "".join(r) and "," not in "".join(r)], "\r\n"), encoding="utf-8")
    assert stream.plan(path, None, 2) is not None


# -- item 7: control characters in cells, every input format ----------------------------------------------

CONTROL_ROWS = [
    {"统一社会信用代码": "91210100MA0000000X", "名称": "沈阳\x00测试科技", "所在城市": "沈阳市"},
    {"统一社会信用代码": "91210200MA0000001X", "名称": "大连测试科技", "所在城市": "大连市\x85"},
    {"统一社会信用代码": "91210200MA0000002X", "名称": "大连\x7f测试", "所在城市": "大连市"},
    {"统一社会信用代码": "91210200MA0000003X", "名称": "大连\t测试\n二部", "所在城市": "大连市"},  # tab, line feed: legitimate
]


def _write(fmt: str, path: Path) -> None:
    frame = pl.DataFrame(CONTROL_ROWS)
    if fmt == "csv":
        frame.write_csv(path)
    elif fmt == "parquet":
        frame.write_parquet(path)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in CONTROL_ROWS) + "\n", encoding="utf-8")
    else:
        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet("企业")
        sheet.write_row(0, 0, list(CONTROL_ROWS[0]))
        for i, row in enumerate(CONTROL_ROWS, start=1):
            sheet.write_row(i, 0, list(row.values()))
        book.close()


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "parquet", "jsonl"])
def test_control_characters_are_errors_on_their_cell_and_never_reach_an_output(tmp_path, fmt):
    path = tmp_path / f"in.{fmt}"
    _write(fmt, path)
    population = read_population(path)
    assert population.entities.get_column("credit_code").to_list() == ["91210200MA0000003X"]
    errors = population.errors.select("field", "value", "message_en").rows()
    assert [(f, v) for f, v, _ in errors] == [("name", "沈阳[U+0000]测试科技"), ("city", "大连市[U+0085]"),
                                             ("name", "大连[U+007F]测试")]
    assert all("control character U+00" in m for _, _, m in errors)
    out = tmp_path / "out"
    run_batch(path, as_of=AS_OF, out=out, fmt="csv")
    for file in out.iterdir():
        text = file.read_text(encoding="utf-8-sig")
        assert not any(c in text for c in "\x00\x7f\x85"), file.name
    run_batch(path, as_of=AS_OF, out=tmp_path / "o.xlsx")
    import zipfile

    with zipfile.ZipFile(tmp_path / "o.xlsx") as book:
        sheets = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.startswith("xl/worksheets/"))
    assert "_x0000_" not in sheets and "_x007F_" not in sheets


def test_the_chunked_path_names_a_bad_row_too(rows, tmp_path):
    from engine.batch import stream

    ragged = [list(r) for r in rows]
    ragged[7] += ["多余", "的"]
    path = tmp_path / "big.csv"
    path.write_text(as_csv(ragged), encoding="utf-8")
    assert stream.plan(path, None, 2) is not None
    with pytest.raises(BadInput) as caught:
        run_batch(path, as_of=AS_OF, out=tmp_path / "o", fmt="csv", chunk_rows=2)
    assert "big.csv 第8行有7个单元格" in caught.value.message_zh and "row 8 has 7 cells" in caught.value.message_en
    assert "Schema" not in str(caught.value)
