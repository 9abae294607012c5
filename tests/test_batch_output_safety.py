"""``-o`` never destroys what the clerk gave us (issue 15 items 1–3): inputs, unrelated files, links.

Every output writer of ``huiqi batch`` (xlsx file; csv/parquet/jsonl folder; the chunked path) and the
report outputs of ``huiqi diff`` / ``huiqi rules show`` go through ``engine.output_safety`` and, for the
batch, ``engine.batch.output_guard``.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.batch import run_batch, synth
from engine.cli import EXIT_BAD_INPUT, main
from engine.output_safety import OutputRefused

SAMPLE = Path("examples/batch/sample.xlsx").resolve()
AS_OF = "2019-12-31"


def batch(*args: str) -> int:
    return main(["batch", *args, "--as-of", AS_OF])


@pytest.fixture
def workbook(tmp_path) -> Path:
    path = tmp_path / "名单.xlsx"
    shutil.copy(SAMPLE, path)
    return path


@pytest.fixture
def csv_inputs(tmp_path) -> tuple[Path, Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    entities, events = synth.population(30, seed=3)
    entities.write_csv(folder / "enterprises.csv")
    events.write_csv(folder / "events.csv")
    return folder / "enterprises.csv", folder / "events.csv"


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every file (bytes) and link (its target) under ``folder``."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
    return found


def refused(capsys, code: int, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT, err
    for fragment in fragments:
        assert fragment in err, err
    assert "Traceback" not in err and "disk full" not in err
    return err


# -- item 1: an output that is an input -------------------------------------------------------------

def test_output_equal_to_the_input_workbook_is_refused_and_the_workbook_kept(workbook, capsys):
    before = workbook.read_bytes()
    err = refused(capsys, batch(str(workbook), "-o", str(workbook)), "就是输入文件", "is the input")
    assert workbook.read_bytes() == before
    assert not workbook.with_name("名单.manifest.json").exists() and "名单.xlsx" in err


@pytest.mark.parametrize("link", ["hard", "symbolic"])
def test_output_that_is_a_link_to_the_input_is_refused(workbook, tmp_path, capsys, link):
    other = tmp_path / "elsewhere" / "结果.xlsx"
    other.parent.mkdir()
    if link == "hard":
        os.link(workbook, other)
    else:
        other.symlink_to(workbook)
    before = snapshot(tmp_path)
    refused(capsys, batch(str(workbook), "-o", str(other)), "就是输入文件", "link to the same file")
    assert snapshot(tmp_path) == before


def test_events_file_as_the_output_is_refused(csv_inputs, tmp_path, capsys):
    enterprises, events = csv_inputs
    before = snapshot(tmp_path)
    refused(capsys, batch(str(enterprises), "--events", str(events), "-o", str(events), "--format", "csv"), "events.csv")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("which", ["same", "parent"])
def test_output_folder_holding_an_input_is_refused(csv_inputs, tmp_path, capsys, which):
    enterprises, events = csv_inputs
    out = enterprises.parent if which == "same" else tmp_path
    before = snapshot(tmp_path)
    refused(capsys, batch(str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv"),
            "中有输入文件", "holds the input")
    assert snapshot(tmp_path) == before


def test_output_folder_holding_a_hard_link_to_an_input_is_refused(csv_inputs, tmp_path, capsys):
    enterprises, _ = csv_inputs
    out = tmp_path / "out"
    out.mkdir()
    os.link(enterprises, out / "copy.csv")
    refused(capsys, batch(str(enterprises), "-o", str(out), "--format", "parquet"), "holds the input")
    assert (out / "copy.csv").read_bytes() == enterprises.read_bytes()


def test_dot_as_output_gives_a_true_message(csv_inputs, tmp_path, capsys, monkeypatch):
    enterprises, _ = csv_inputs
    here = tmp_path / "work"
    here.mkdir()
    monkeypatch.chdir(here)
    (here / "notes.txt").write_text("mine", encoding="utf-8")
    refused(capsys, batch(str(enterprises), "-o", ".", "--format", "jsonl"), "当前文件夹", "the current folder")
    monkeypatch.chdir(enterprises.parent)  # the inputs' own folder: the message names the input
    refused(capsys, batch("enterprises.csv", "-o", ".", "--format", "csv"), "中有输入文件", "holds the input")
    assert (here / "notes.txt").read_text(encoding="utf-8") == "mine"


# -- item 2: only files this program wrote are replaced -----------------------------------------------

def test_non_empty_folder_that_is_not_an_output_is_refused_and_untouched(csv_inputs, tmp_path, capsys):
    enterprises, events = csv_inputs
    out = tmp_path / "报表"
    (out / "sub").mkdir(parents=True)
    (out / "预算.xlsx").write_bytes(b"clerk's own")
    (out / "sub" / "x.txt").write_text("x", encoding="utf-8")
    before = snapshot(out)
    refused(capsys, batch(str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv"),
            "不是空的", "not empty", "预算.xlsx")
    assert snapshot(out) == before


def test_previous_output_folder_is_replaced_but_not_with_foreign_or_edited_files(csv_inputs, tmp_path, capsys):
    enterprises, events = csv_inputs
    out = tmp_path / "out"
    assert batch(str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv") in (0, 5)
    assert batch(str(enterprises), "--events", str(events), "-o", str(out), "--format", "parquet") in (0, 5)  # re-run: fine
    assert (out / "lines.parquet").exists() and not (out / "lines.csv").exists()
    capsys.readouterr()
    (out / "备注.txt").write_text("keep me", encoding="utf-8")
    refused(capsys, batch(str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv"),
            "备注.txt", "did not write")
    assert (out / "备注.txt").read_text(encoding="utf-8") == "keep me"
    (out / "备注.txt").unlink()
    edited = out / "lines.parquet"
    edited.write_bytes(edited.read_bytes() + b"\0")
    refused(capsys, batch(str(enterprises), "--events", str(events), "-o", str(out), "--format", "csv"),
            "lines.parquet", "changed since")


def test_existing_workbook_is_replaced_only_when_it_is_a_previous_output(workbook, tmp_path, capsys):
    out = tmp_path / "结果.xlsx"
    out.write_bytes(b"a clerk's own workbook")
    refused(capsys, batch(str(workbook), "-o", str(out)), "不是本程序先前写出的结果", "not an earlier output")
    assert out.read_bytes() == b"a clerk's own workbook"
    out.unlink()
    assert batch(str(workbook), "-o", str(out)) == 5
    assert batch(str(workbook), "-o", str(out)) == 5  # its manifest records it: replaced
    out.with_name("结果.manifest.json").unlink()  # a run stopped before the manifest: the workbook is still ours
    assert batch(str(workbook), "-o", str(out)) == 5


def test_a_folder_given_for_xlsx_and_a_file_given_for_a_folder_format_say_so(workbook, tmp_path, capsys):
    folder = tmp_path / "f.xlsx"
    folder.mkdir()
    refused(capsys, batch(str(workbook), "-o", str(folder)), "是一个文件夹", "is a folder")
    file = tmp_path / "plain"
    file.write_text("x", encoding="utf-8")
    refused(capsys, batch(str(workbook), "-o", str(file), "--format", "csv"), "是一个文件", "is a file")
    assert file.read_text(encoding="utf-8") == "x"


# -- item 3: a symbolic link is written through, atomically ------------------------------------------

def test_symlinked_workbook_output_is_written_through_to_its_target(workbook, tmp_path):
    target = tmp_path / "share" / "result.xlsx"
    target.parent.mkdir()
    link = tmp_path / "latest.xlsx"
    link.symlink_to(target)
    assert batch(str(workbook), "-o", str(link)) == 5
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.is_file() and target.with_name("result.manifest.json").is_file()
    first = target.read_bytes()
    assert batch(str(workbook), "-o", str(link)) == 5  # again: still a link, same bytes
    assert link.is_symlink() and target.read_bytes() == first
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_failed_write_through_a_symlink_keeps_the_previous_output(workbook, tmp_path, fmt):
    from engine.batch.write import write_output

    name = "r.xlsx" if fmt == "xlsx" else "r"
    target = tmp_path / "share" / name
    target.parent.mkdir()
    link = tmp_path / name
    link.symlink_to(target)
    assert batch(str(workbook), "-o", str(link), "--format", fmt) == 5
    before = snapshot(tmp_path)

    def broken(outputs):
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_output([], link, fmt, broken)
    assert snapshot(tmp_path) == before  # nothing half-written, nothing removed, no temporary file left


def test_symlinked_folder_output_is_written_through_in_the_chunked_path_too(csv_inputs, tmp_path):
    enterprises, _ = csv_inputs
    parquet = tmp_path / "e.parquet"
    import polars as pl

    pl.read_csv(enterprises, infer_schema=False).write_parquet(parquet)
    target = tmp_path / "real"
    link = tmp_path / "out"
    link.symlink_to(target, target_is_directory=True)
    result = run_batch(parquet, as_of=date(2019, 12, 31), out=link, fmt="jsonl", chunk_rows=4)
    assert result.manifest["stable"]["rows"]["in"]["enterprises"] == 30
    assert link.is_symlink() and (target / "manifest.json").is_file() and (target / "lines.jsonl").is_file()


def test_stream_path_refuses_the_input_as_output(csv_inputs, tmp_path):
    enterprises, _ = csv_inputs
    parquet = tmp_path / "e.parquet"
    import polars as pl

    pl.read_csv(enterprises, infer_schema=False).write_parquet(parquet)
    before = parquet.read_bytes()
    with pytest.raises(OutputRefused):
        run_batch(parquet, as_of=date(2019, 12, 31), out=tmp_path, fmt="parquet", chunk_rows=4)
    assert parquet.read_bytes() == before


def test_spark_engine_obeys_the_same_rules_and_its_previous_output_is_recognised(csv_inputs, tmp_path, capsys):
    pytest.importorskip("pyspark")
    import json

    import polars as pl

    from engine.batch.output_guard import check_batch_output

    enterprises, _ = csv_inputs
    parquet = enterprises.parent / "e.parquet"
    pl.read_csv(enterprises, infer_schema=False).write_parquet(parquet)
    before = snapshot(tmp_path)
    refused(capsys, batch(str(parquet), "--engine", "spark", "-o", str(enterprises.parent)), "holds the input")
    assert snapshot(tmp_path) == before  # refused before Spark starts
    previous = tmp_path / "spark_out"  # what engine.batch.spark.output writes: table folders, no hashes
    (previous / "lines.parquet").mkdir(parents=True)
    (previous / "lines.parquet" / "part-0.parquet").write_bytes(b"x")
    manifest = {"stable": {"tool": "huiqi batch 0", "outputs": [{"file": "lines.parquet", "rows": 1}]}}
    (previous / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    check_batch_output(previous, "parquet", [parquet])
    (previous / "mine.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputRefused, match="mine.txt"):
        check_batch_output(previous, "parquet", [parquet])


# -- huiqi diff / rules show share the risk --------------------------------------------------------------

def test_diff_report_over_the_population_is_refused(workbook, tmp_path, capsys):
    before = workbook.read_bytes()
    code = main(["diff", "rules", "rules", "--population", str(workbook), "--as-of", AS_OF, "-o", str(workbook)])
    refused(capsys, code, "就是输入文件", "is the input")
    assert workbook.read_bytes() == before


def test_diff_report_through_a_symlink_and_rules_show_over_a_rule_file(workbook, tmp_path, capsys):
    target = tmp_path / "reports" / "diff.html"
    target.parent.mkdir()
    link = tmp_path / "diff.html"
    link.symlink_to(target)
    assert main(["diff", "rules", "rules", "--population", str(workbook), "--as-of", AS_OF, "-o", str(link)]) in (0, 5)  # 5: the sample's bad rows
    assert link.is_symlink() and "<html" in target.read_text(encoding="utf-8").lower()
    rules = tmp_path / "rules"
    shutil.copytree("rules", rules)
    rule_file = next(rules.rglob("*.toml"))
    before = rule_file.read_bytes()
    capsys.readouterr()
    refused(capsys, main(["rules", "show", str(rules), "-o", str(rule_file)]), "输入文件夹", "input folder")
    assert rule_file.read_bytes() == before


# -- the property: nothing outside the output path changes, no input is ever modified ------------------

OUTPUT_CHOICES = ("new_file", "input_itself", "events_itself", "input_folder", "parent_folder", "nested_new",
                  "nested_in_input_folder", "symlink_to_input", "symlink_to_new", "hardlink_to_input", "foreign_folder",
                  "foreign_file", "dot")


def _output_for(choice: str, root: Path, enterprises: Path, events: Path | None, fmt: str) -> str:
    name = "out.xlsx" if fmt == "xlsx" else "out"
    if choice == "input_itself":
        return str(enterprises)
    if choice == "events_itself":
        return str(events or enterprises)
    if choice == "input_folder":
        return str(enterprises.parent)
    if choice == "parent_folder":
        return str(root)
    if choice == "nested_new":
        return str(root / "a" / "b" / name)
    if choice == "nested_in_input_folder":
        return str(enterprises.parent / name)
    if choice == "symlink_to_input":
        (root / "link").symlink_to(enterprises)
        return str(root / "link")
    if choice == "symlink_to_new":
        (root / "real").mkdir()
        (root / name).symlink_to(root / "real" / name)
        return str(root / name)
    if choice == "hardlink_to_input":
        os.link(enterprises, root / "hard")
        return str(root / "hard")
    if choice == "foreign_folder":
        (root / "mine").mkdir()
        (root / "mine" / "keep.txt").write_text("keep", encoding="utf-8")
        return str(root / "mine")
    if choice == "foreign_file":
        (root / name).write_bytes(b"keep")
        return str(root / name)
    if choice == "dot":
        return "."
    return str(root / name)


def _output_paths(out: str, fmt: str) -> set[Path]:
    """What the run may create or replace: the real target (and, for xlsx, its manifest), and the link itself."""
    from engine.batch.write import manifest_path

    real = Path(os.path.realpath(out))
    paths = {real, Path(os.path.abspath(out))}
    if fmt == "xlsx":
        paths.add(manifest_path(real, fmt))
    return paths


def _outside(snap: dict, root: Path, outputs: set[Path]) -> dict:
    return {k: v for k, v in snap.items() if not any(root / k == o or o in (root / k).parents for o in outputs)}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1, max_value=12), seed=st.integers(0, 10_000), input_fmt=st.sampled_from(["csv", "parquet"]),
       separate_events=st.booleans(), out_fmt=st.sampled_from(["xlsx", "csv", "parquet", "jsonl"]),
       choice=st.sampled_from(OUTPUT_CHOICES), rerun=st.booleans())
def test_files_outside_the_output_are_byte_identical_and_inputs_never_change(tmp_path_factory, monkeypatch, n, seed, input_fmt,
                                                                             separate_events, out_fmt, choice, rerun):
    root = tmp_path_factory.mktemp("prop")
    (root / "in").mkdir()
    entities, events = synth.population(n, seed=seed)
    enterprises = root / "in" / f"enterprises.{input_fmt}"
    events_file = root / "in" / f"events.{input_fmt}" if separate_events else None
    write = (lambda f, p: f.write_csv(p)) if input_fmt == "csv" else (lambda f, p: f.write_parquet(p))
    write(entities, enterprises)
    if events_file is not None:
        write(events, events_file)
    (root / "in" / "readme.txt").write_text("clerk's notes", encoding="utf-8")
    monkeypatch.chdir(root / "in")
    out = _output_for(choice, root, enterprises, events_file, out_fmt)
    inputs = {p: p.read_bytes() for p in (enterprises, events_file) if p is not None}
    before = snapshot(root)
    for _ in range(2 if rerun else 1):
        try:
            run_batch(enterprises, events_file, as_of=date(2019, 12, 31), out=out, fmt=out_fmt)
        except OutputRefused:
            pass
    after = snapshot(root)
    outputs = _output_paths(out, out_fmt)
    assert _outside(after, root, outputs) == _outside(before, root, outputs)
    assert {p: p.read_bytes() for p in inputs} == inputs
    assert not [k for k in after if Path(k).name.startswith(".")], "temporary files left behind"
