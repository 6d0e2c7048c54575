"""Where a build writes: a staging directory beside the output, swapped in at the end.

A build opens its :class:`Staging` before it makes anything: the worker processes of
``build -j N`` write the models' pages and downloads into it as they make them (while the
other worker still works), and the build's own process writes the rest. Only when every page
is there is the staging directory renamed into place; a failure anywhere removes it and
leaves the previous site untouched.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from scaleboard.errors import BuildError
from scaleboard.generator.cache import IO_THREADS

#: Written into every built site: a directory without it is never replaced (it is not ours).
MARKER = ".scaleboard-site"


def safe_file(root: Path, relative: str) -> Path:
    """``root / relative``, refusing anything that would land outside ``root``. A lexical check:
    ``root`` is a staging directory the build made, which holds no links."""
    rel = PurePosixPath(relative)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BuildError(f"refusing to write {relative!r}: it is outside the site directory")
    return root / rel


def write_files(root: Path, files: dict[str, bytes | Path]) -> None:
    """Each of ``files`` (path below ``root`` → bytes, or a file of the build cache to link
    there: :func:`put_file`): their folders first, then the files, a few threads at once (the
    kernel copies in parallel, the GIL released)."""
    targets = {name: safe_file(root, name) for name in files}
    folders: set[Path] = set()
    for target in targets.values():
        folder = target.parent
        while folder != root and folder not in folders:  # every folder below root, each once
            folders.add(folder)
            folder = folder.parent
    for folder in sorted(folders):  # a parent before its children: one mkdir each
        folder.mkdir(exist_ok=True)
    items = [(targets[name], data) for name, data in sorted(files.items())]
    if len(items) < 2 * IO_THREADS:
        for target, data in items:
            put_file(target, data)
        return
    with concurrent.futures.ThreadPoolExecutor(IO_THREADS) as pool:
        for _ in pool.map(lambda item: put_file(*item), items):
            pass


def put_file(target: Path, data: bytes | Path) -> None:
    """``data`` at ``target``, whose folder exists: bytes written, or a file hard-linked (copied
    where the file system refuses)."""
    if isinstance(data, bytes):
        target.write_bytes(data)
    elif not _link(data, target):
        shutil.copyfile(data, target)


def write_file(root: Path, relative: str, data: bytes) -> Path:
    """One file under ``root``, its folders made as needed (a worker writes its pages so); its path."""
    target = safe_file(root, relative)
    os.makedirs(target.parent, exist_ok=True)
    target.write_bytes(data)
    return target


def link_file(root: Path, relative: str, source: Path) -> bool:
    """Put ``source`` at ``root / relative`` as a hard link (a page the build cache holds: no
    copy), its folders made as needed; False where the file system refuses (the caller writes
    the file)."""
    target = safe_file(root, relative)
    os.makedirs(target.parent, exist_ok=True)
    return _link(source, target)


def _link(source: Path, target: Path) -> bool:
    """Hard-link ``source`` at ``target``; False where the file system refuses (another device,
    no hard links)."""
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


class Staging:
    """A temporary directory beside ``out_dir`` that becomes it (:meth:`publish`) or is removed
    (:meth:`discard`). Opening it refuses an ``out_dir`` that holds files scaleboard did not write."""

    def __init__(self, out_dir: Path) -> None:
        out_dir = out_dir.resolve()
        if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
            raise BuildError(f"refusing to replace {out_dir}: it is not empty and was not built by scaleboard")
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.root = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-build-", dir=out_dir.parent))

    def publish(self, files: dict[str, bytes | Path]) -> None:
        """Write ``files`` (the pages no worker wrote), then swap the directory in."""
        write_files(self.root, files)
        (self.root / MARKER).write_text("built by scaleboard build; replaced on every build\n")
        self.root.chmod(0o755)  # mkdtemp makes it private; a site is meant to be read
        _swap(self.root, self.out_dir)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _swap(new: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        new.rename(out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
    old.rmdir()
    out_dir.rename(old)
    try:
        new.rename(out_dir)
    except BaseException:
        old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
