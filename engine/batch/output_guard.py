"""What ``huiqi batch -o`` may replace: nothing the clerk gave us, and only files this program wrote.

Checked before anything is read or written (``run_batch`` calls ``check_batch_output`` first), on top of
``engine.output_safety`` (never over an input, links followed):

* xlsx: an existing workbook is replaced only when it is a previous output, unchanged since: its manifest
  (``<stem>.manifest.json`` beside it) records it with the same SHA-256, or (a run stopped between the
  workbook and its manifest) its document properties are still the fixed ones this program writes, which
  Excel and WPS rewrite on saving; a stray manifest name is refused likewise;
* csv / parquet / jsonl: the folder must be new, empty, or a previous output: its ``manifest.json`` lists
  every file in it, each unchanged since it was written. Anything else (a clerk's own file, a subfolder, an
  edited table) would be deleted by the swap, so the run is refused and the message names what is there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from engine.output_safety import OutputRefused, check_not_an_input

TOOL_PREFIX = "huiqi batch"  # manifest["stable"]["tool"] of every batch output (engine.batch.manifest)
_SHOWN = 5  # file names quoted in a refusal


def check_batch_output(out: str | Path, fmt: str, inputs: Iterable[str | Path]) -> Path:
    """Raise ``OutputRefused`` unless writing ``out`` in ``fmt`` is safe; return the real target."""
    from engine.batch.write import manifest_path

    inputs = [Path(p) for p in inputs]
    shown = str(out)
    if fmt != "xlsx":
        target = check_not_an_input(out, inputs, folder=True)
        if target.exists() and not target.is_dir():
            raise OutputRefused(f"输出 {shown} 是一个文件；--format {fmt} 写出的是一个文件夹（每张表一个文件），请给 -o 一个文件夹名",
                                f"the output {shown} is a file; --format {fmt} writes a folder (one file per table): "
                                "give -o a folder name")
        if target.is_dir():
            _check_previous_folder(target, shown)
        return target
    target = check_not_an_input(out, inputs, folder=False)
    manifest = manifest_path(target, fmt)
    check_not_an_input(manifest, inputs, folder=False)
    if target.is_dir():
        raise OutputRefused(f"输出 {shown} 是一个文件夹；xlsx 格式请给 -o 一个 .xlsx 文件名（或用 --format csv 等写到文件夹）",
                            f"the output {shown} is a folder; for xlsx give -o an .xlsx file name (or --format csv etc. for a folder)")
    recorded = _recorded_outputs(manifest)
    if target.exists() and not (_unchanged(target, recorded) or _untouched_workbook(target)):
        raise OutputRefused(f"{shown} 已存在，但不是本程序先前写出的结果（或写出后被修改过，清单 {manifest.name} 对不上）；"
                            "为免覆盖您的文件，请换一个文件名，或确认不再需要后自行删除它",
                            f"{shown} exists but is not an earlier output of this program (or was changed since: its manifest "
                            f"{manifest.name} does not match); so as not to overwrite your file, choose another name, or delete it "
                            "yourself if it is no longer needed")
    if manifest.exists() and recorded is None:
        raise OutputRefused(f"{manifest} 已存在，但不是本程序写出的清单；请换一个输出文件名",
                            f"{manifest} exists but is not a manifest written by this program; choose another output name")
    return target


def _recorded_outputs(manifest: Path) -> dict[str, str | None] | None:
    """file name → SHA-256 of the outputs a batch manifest records (None: a folder of part files, as the Spark
    engine writes, recorded without a hash); None when ``manifest`` is not one."""
    if not manifest.is_file() or manifest.is_symlink():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        stable = data["stable"]
        if not str(stable["tool"]).startswith(TOOL_PREFIX):
            return None
        return {str(o["file"]): (str(o["sha256"]) if "sha256" in o else None) for o in stable["outputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _unchanged(path: Path, recorded: dict[str, str | None] | None) -> bool:
    from engine.batch.write import sha256_of

    if recorded is None or path.name not in recorded or path.is_symlink():
        return False
    if recorded[path.name] is None:  # a table folder of Spark part files: recognised by the manifest listing it
        return path.is_dir()
    return path.is_file() and sha256_of(path) == recorded[path.name]


def _untouched_workbook(path: Path) -> bool:
    """The workbook's core properties are exactly ours (``engine.batch.write``): never saved by anything else."""
    import zipfile

    from engine.batch.write import FIXED_TIME, WORKBOOK_TITLE

    try:
        with zipfile.ZipFile(path) as archive:
            core = archive.read("docProps/core.xml").decode("utf-8")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return False
    stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (f"<dc:title>{WORKBOOK_TITLE}</dc:title>" in core and "<cp:lastModifiedBy>huiqi</cp:lastModifiedBy>" in core
            and f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>' in core)


def _listed(names: list[str]) -> tuple[str, str]:
    """The first few names, in Chinese and English punctuation."""
    more = "…" if len(names) > _SHOWN else ""
    return "、".join(names[:_SHOWN]) + more, ", ".join(names[:_SHOWN]) + more


def _check_previous_folder(folder: Path, shown: str) -> None:
    names = sorted(os.listdir(folder))
    if not names:
        return
    recorded = _recorded_outputs(folder / "manifest.json")
    if recorded is None:
        zh, en = _listed(names)
        raise OutputRefused(f"输出文件夹 {shown} 不是空的，也不是本程序先前写出的结果（没有本程序的 manifest.json），其中有：{zh}。"
                            "写出结果会替换整个文件夹并删除这些文件；请用 -o 指定一个新的（或空的）文件夹",
                            f"the output folder {shown} is not empty and is not an earlier output of this program (no manifest.json "
                            f"of ours); it holds: {en}. Writing would replace the folder and delete them: give -o a new (or "
                            "empty) folder")
    foreign = [n for n in names if n != "manifest.json" and not _unchanged(folder / n, recorded)]
    if foreign:
        zh, en = _listed(foreign)
        raise OutputRefused(f"输出文件夹 {shown} 是先前的结果，但其中有本程序没有写过（或写出后被修改过）的文件：{zh}。"
                            "写出结果会删除它们；请先把它们移走，或用 -o 指定一个新的文件夹",
                            f"the output folder {shown} is an earlier output but holds files this program did not write (or that "
                            f"were changed since): {en}. Writing would delete them: move them away first, or give -o a new folder")
