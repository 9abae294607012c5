"""Security: nothing a drafter or a spreadsheet supplies can run code, read attributes or exhaust memory.

* Conditions are parsed with ``ast`` and a whitelist; nothing is ever evaluated. The classic Python escape
  payloads are refused with a plain message, and none of them has any effect (a sentinel file is never created).
* Limits: condition length/depth/size, rule-file size, profile-file size and nesting, cell length.
* .xlsx: read without evaluating formulas, with bounds on file size, inflated size (zip bombs) and the
  sheet's cell area (a 5 KB sparse sheet otherwise makes the reader abort the process).
"""

from __future__ import annotations

import ast
import builtins
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from engine import conditions
from engine.conditions import MAX_DEPTH, MAX_LENGTH, MAX_NODES, ConditionError, Scope, parse_condition
from engine.rulebook import LoadError, load_rules

ROOT = Path(__file__).resolve().parent.parent
SCOPE = Scope("intl_trademark_registration", frozenset({"sme"}), {"rate": "rate"})
SENTINEL = "/tmp/huiqi-pwned"

PAYLOADS = [
    f"__import__('os').system('touch {SENTINEL}')",
    f"open('{SENTINEL}', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "event.__class__.__init__.__globals__",
    "params.__dict__",
    "event.cost.__class__",
    "event.cost.real",
    "high_tech.__class__",
    "__builtins__",
    "__import__",
    "_private",
    "event._private",
    "lambda: 0",
    "(lambda: 0)()",
    "[x for x in ()]",
    "{x: 1 for x in ()}",
    "{x for x in ()}",
    "(x for x in ())",
    "eval('1')",
    "exec('import os')",
    "compile('1', '', 'eval')",
    "getattr(event, 'cost')",
    "globals()",
    "locals()['x']",
    "vars()",
    "breakpoint()",
    "event['cost']",
    "employees if high_tech else 0",
    "(x := 1)",
    'f"{__import__(\'os\')}"',
    "employees > 1 + 1",
    "employees > 9 ** 9 ** 9",
    "'a' * 10 ** 9",
    "[*range(10**9)]",
    "await x",
    "(yield)",
    "city.join([])",
    "employees.bit_length()",
    "employees > (lambda: 1)",
    "import os",
    "os.system('id')",
    "employees > 1; import os",
    "employees > 1\nimport os",
    "high_tech # comment\n.__class__",
    "params.rate.__class__",
    "event.date.year",
    "as_of.year > 2000",
    "Ellipsis",
    "...",
    "employees is not None",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_classic_payloads_are_refused_and_have_no_effect(payload, monkeypatch):
    called = []
    for name in ("eval", "exec", "open", "__import__"):  # ast.parse needs compile(); nothing else may run
        original = getattr(builtins, name)
        monkeypatch.setattr(builtins, name, lambda *a, _n=name, _o=original, **k: (called.append((_n, a[:1])), _o(*a, **k))[1])
    Path(SENTINEL).unlink(missing_ok=True)
    with pytest.raises(ConditionError) as info:
        parse_condition(payload, SCOPE)
    monkeypatch.undo()
    assert info.value.message_zh and info.value.message_en
    assert not Path(SENTINEL).exists()
    assert [c for c in called if c[0] != "__import__"] == [], called
    assert not {c[1][0] for c in called if c[0] == "__import__"} & {"os", "subprocess", "shutil", "socket", "posix"}, called


def test_the_condition_module_never_evaluates_anything():
    # Static check: the only code path from text to tree is ast.parse + isinstance checks.
    tree = ast.parse(Path(conditions.__file__).read_text(encoding="utf-8"))
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    attrs = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
    assert not calls & {"eval", "exec", "compile", "__import__", "getattr", "setattr", "globals", "locals", "vars", "open"}
    assert not attrs & {"literal_eval", "import_module", "system", "popen"}


def test_payloads_in_a_rule_file_are_load_errors_naming_the_place(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from rulekit import document, rule, write_rules

    body = "\n".join(rule(f"r{i}", f'kind = "derived"\nconditions = [{json.dumps(payload)}]', cite=False)
                     for i, payload in enumerate(PAYLOADS[:12]))
    folder = write_rules(tmp_path / "rules", document() + body)
    with pytest.raises(LoadError) as info:
        load_rules(folder)
    problems = info.value.problems
    assert {p.rule_id for p in problems} == {f"r{i}" for i in range(12)}
    for p in problems:
        assert p.file.endswith("f0.toml") and p.line and p.field == "conditions[0]"
    assert not Path(SENTINEL).exists()


def test_limits_have_clear_messages():
    with pytest.raises(ConditionError, match=f"over {MAX_LENGTH} characters"):
        parse_condition("x" * (MAX_LENGTH + 1), SCOPE)
    with pytest.raises(ConditionError, match=f"over {MAX_DEPTH} levels"):
        parse_condition("(" * (MAX_DEPTH + 1) + "high_tech" + ")" * (MAX_DEPTH + 1), SCOPE)
    with pytest.raises(ConditionError, match=f"over {MAX_NODES} elements"):
        parse_condition(" or ".join(["sme"] * 160), SCOPE)
    with pytest.raises(ConditionError, match="list too long"):
        parse_condition("employees in [" + ", ".join(map(str, range(101))) + "]", SCOPE)


# -- .xlsx bounds and formulas ------------------------------------------------------------------------

def run_isolated(code: str, timeout: int = 60) -> subprocess.CompletedProcess:
    """Run in a child: if a guard failed, the reader's abort must not take the test session down."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_sparse_sheet_that_would_abort_the_reader_is_a_clear_error(tmp_path):
    import xlsxwriter

    path = tmp_path / "sparse.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("企业")
    sheet.write_row(0, 0, ["统一社会信用代码", "名称", "所在城市"])
    sheet.write(1_048_575, 16_383, "x")  # the reader would allocate 1,048,576 × 16,384 cells (~550 GB)
    workbook.close()
    assert path.stat().st_size < 10_000
    result = run_isolated(
        "from engine.batch.sources import read_tables, BadInput\n"
        f"try:\n    read_tables({str(path)!r})\nexcept BadInput as exc:\n    print('BadInput', exc.message_en)\n")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "BadInput" in result.stdout and "too many cells" in result.stdout


def test_zip_bomb_is_a_clear_error_without_inflating_it_into_memory(tmp_path):
    from engine.batch.xlsx_guard import XlsxTooLarge, check_xlsx

    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"<row>" * 200_000
            for _ in range(60):  # ~60 MB of XML in a file of a few hundred KB
                member.write(block)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(XlsxTooLarge, match="once unzipped"):
        check_xlsx(path, max_uncompressed=20_000_000)
    with pytest.raises(XlsxTooLarge, match="too large"):
        check_xlsx(path, max_file_bytes=1_000)


def test_cells_placed_without_references_are_counted_too(tmp_path):
    from engine.batch.xlsx_guard import XlsxTooLarge, check_xlsx

    path = tmp_path / "implicit.xlsx"
    sheet = b"<worksheet><sheetData><row>" + b"<c><v>1</v></c>" * 5_000 + b"</row>" + b"<row><c><v>1</v></c></row>" * 3_000 + \
        b"</sheetData></worksheet>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    with pytest.raises(XlsxTooLarge, match="too many cells"):
        check_xlsx(path, max_cells=10_000_000)
    check_xlsx(path, max_cells=20_000_000)


def test_shipped_sample_passes_the_guard():
    from engine.batch.xlsx_guard import check_xlsx

    check_xlsx(ROOT / "examples" / "batch" / "sample.xlsx")


def test_formulas_are_never_evaluated(tmp_path):
    import xlsxwriter

    from engine.batch.sources import read_tables

    path = tmp_path / "formulas.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("企业")
    sheet.write_row(0, 0, ["统一社会信用代码", "名称", "所在城市", "从业人员"])
    sheet.write_row(1, 0, ["91350100M000100Y43", "甲公司", "沈阳"])
    sheet.write_formula(1, 3, "=1+1", None, 7)  # stored result 7: what Excel showed the clerk
    sheet.write_row(2, 0, ["91350100M000100Y43", "乙公司", "沈阳"])
    sheet.write_formula(2, 3, f'=WEBSERVICE("http://127.0.0.1/") & CALL("kernel32","WinExec","JCJ","touch {SENTINEL}",0)', None, "")
    workbook.close()
    (table,) = [t for t in read_tables(path) if t.kind == "enterprises"]
    column = table.columns[table.headers.index("从业人员")].to_list()
    assert column[0] in (7, 7.0) and column[1] in (None, "")  # the stored value; never 2, never a call
    assert not Path(SENTINEL).exists()
