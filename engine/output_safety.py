"""Where an output may be written, and writing it atomically: the one mechanism every writer uses.

* An output never replaces an input: not the same path, not the same file through a symbolic or hard link
  (compared by device and inode), and a folder output never holds an input (nor the current folder).
* An output that is a symbolic link is written through to the link's target (the link stays a link).
* A file is written to a temporary file beside its target and moved into place with ``os.replace``; a folder
  is built as a temporary sibling and swapped in; an interrupted write leaves the previous output or none.

What may be *replaced* beyond that (only a previous output of the same program) is the caller's decision:
``engine.batch.output_guard`` recognises a previous batch output by its manifest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path


class OutputRefused(Exception):
    """An output path that would destroy something the user gave us; the run is refused (exit 3)."""

    def __init__(self, message_zh: str, message_en: str):
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


def real_target(path: str | Path) -> Path:
    """The path writes really go to: symbolic links followed (a dangling link gives its target), absolute."""
    return Path(os.path.realpath(path))


def _same_file(a: Path, b: Path) -> bool:
    """Same file on disk (path, symbolic link or hard link: device and inode), for existing paths."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _inside(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or lies under it (both real, absolute paths)."""
    return path == folder or folder in path.parents


def check_not_an_input(out: str | Path, inputs: Iterable[str | Path], *, folder: bool) -> Path:
    """Refuse (``OutputRefused``) when writing ``out`` would replace or remove one of ``inputs``; return the
    real target. ``folder``: ``out`` is an output folder (everything in it is replaced), else an output file.
    An input that is a folder (rules, a folder of profiles) counts with every file already in it."""
    target = real_target(out)
    shown = str(out)
    for given in inputs:
        source = Path(given)
        real = real_target(source)
        if real == target or _same_file(source, target):
            raise OutputRefused(f"输出 {shown} 就是输入文件 {source.name}（同一路径，或经链接指向同一文件）；写出结果会覆盖输入。"
                                "请用 -o 另指定一个文件名或文件夹",
                                f"the output {shown} is the input {source.name} itself (same path, or a link to the same file); "
                                "writing would replace it. Give -o another name")
        if not folder and source.is_dir() and target.exists() and _inside(target, real):
            raise OutputRefused(f"输出 {shown} 是输入文件夹 {source.name} 中已有的文件；写出结果会覆盖它。请用 -o 另指定一个文件名",
                                f"the output {shown} is a file already in the input folder {source.name}; writing would replace "
                                "it. Give -o another name")
        if folder and (_inside(real, target) or _inside(Path(os.path.abspath(source)), target) or _holds_same_file(target, source)):
            raise OutputRefused(f"输出文件夹 {shown} 中有输入文件 {source.name}；写出结果会替换整个文件夹并删除它。"
                                "请用 -o 指定一个新的（或空的）文件夹",
                                f"the output folder {shown} holds the input {source.name}; writing would replace the folder "
                                "and remove it. Give -o a new (or empty) folder")
    if folder and _inside(real_target(os.getcwd()), target):
        raise OutputRefused(f"输出文件夹 {shown} 是当前文件夹（或它的上级）；写出结果会替换这个文件夹及其中的全部文件。"
                            "请用 -o 指定一个新的子文件夹，例如 -o 结果",
                            f"the output folder {shown} is the current folder (or one above it); writing would replace it and "
                            "everything in it. Give -o a new sub-folder, e.g. -o results")
    return target


def _holds_same_file(folder: Path, source: Path) -> bool:
    """A hard link to ``source`` directly in ``folder`` (the folder swap would remove that name)."""
    try:
        info = source.stat()
    except OSError:
        return False
    if info.st_nlink < 2 or not folder.is_dir():
        return False
    for entry in os.scandir(folder):
        with contextlib.suppress(OSError):
            mine = entry.stat(follow_symlinks=False)
            if (mine.st_dev, mine.st_ino) == (info.st_dev, info.st_ino):
                return True
    return False


# -- atomic writes -----------------------------------------------------------------------------------

def remove_temporary(path: Path) -> None:
    """Remove a temporary file or folder. Callers retry on KeyboardInterrupt: polars turns SIGINT into
    KeyboardInterrupt inside its own call and Python raises it once more at the next call, so one Ctrl-C can
    interrupt the clean-up of the first. The retry loop must be in the caller, around the call: a helper holding
    the loop would itself be entered with the interrupt pending and lose the clean-up (tested)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside the real target of ``target``; on success move it into place.

    A symbolic link is written through: the temporary file is made in the link target's folder and replaces
    the target, so the link keeps pointing at the new content."""
    real = real_target(target)
    handle, name = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".tmp")
    os.close(handle)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, real)
    except BaseException:
        while True:  # the loop must be here, around the call: see remove_temporary
            try:
                remove_temporary(tmp)
                break
            except KeyboardInterrupt:
                continue
        raise


def temporary_folder(out: str | Path, suffix: str = ".tmp") -> Path:
    """An empty temporary folder beside the real target of ``out`` (same file system, so it can be swapped in)."""
    real = real_target(out)
    real.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=real.parent, prefix=f".{real.name}.", suffix=suffix))


def swap_in_folder(work: Path, out: str | Path) -> None:
    """Replace the real target of ``out`` by the finished folder ``work`` (made by ``temporary_folder``)."""
    real = real_target(out)
    os.chmod(work, 0o777 & ~_umask())
    old = None
    if real.exists():
        old = Path(tempfile.mkdtemp(dir=real.parent, prefix=f".{real.name}.", suffix=".old"))
        os.rmdir(old)
        os.replace(real, old)
    try:
        os.replace(work, real)
    except BaseException:
        if old is not None and not real.exists():
            os.replace(old, real)  # interrupted between the two renames: put the previous output back
        raise
    while old is not None:  # the loop must be here, around the call: see remove_temporary
        try:
            remove_temporary(old)
            break
        except KeyboardInterrupt:
            continue
