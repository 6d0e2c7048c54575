"""The build cache: what a rebuild can reuse, in ``.scaleboard-cache/`` of the project.

Four kinds of entries, each valid only for the same ScaleBoard code and theme:

- **data files**: which lines of a ``data/`` file are valid, what problems it has and which
  models it holds, keyed by the file's size and modification time, confirmed by a SHA-256 hash
  of its content when those changed (a ``touch`` or a fresh checkout costs a hash, not a
  validation). An unchanged file is not even read unless a model it holds changed elsewhere.
- **parts**: each model's summary (``generator/parts.py``: its pages, configurations and
  counts), keyed by a hash of the data files holding the model; a build reads the model's
  records again only when a page needs them.
- **pages**: a heavy page's rendered bytes (model pages, downloads), keyed by a hash of
  everything the page is made from. A page a worker of ``build -j N`` wrote into the site is
  kept as a hard link to that file (no copy, no new inode) and put into the next site the
  same way; the index keeps each page's size, modification time and CRC-32: a page whose
  file changed (a site file edited in place) is made again, one only touched (or restored
  without nanoseconds) costs a checksum.
- **memo**: results of pure functions over raw samples (``scaleboard compare``'s judgement on
  the compare page), keyed by a hash of their arguments.

Every key includes a fingerprint of the generator's code, its templates and the site
configuration, so a cached entry is what the build would compute; the output is byte-identical
with and without the cache. Entries no build used are removed at the end of a build.
A cache that cannot be read is ignored and rewritten: it only ever saves time.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import pickle
import tempfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

DIR_NAME = ".scaleboard-cache"
_FORMAT = 4  # bump when the layout of the index changes
T = TypeVar("T")


@dataclass
class FileEntry:
    """What validating one data file found: its problems, the lines that held no record and the
    models its records are of."""

    size: int
    mtime_ns: int
    digest: str
    problems: list[tuple[int | None, str, str]]  # (line, message, severity)
    bad_lines: frozenset[int]
    models: tuple[str, ...] = ()
    records: int = 0  # how many lines hold a valid record


@dataclass
class BuildCache:
    """The cache of one build; ``directory`` None disables it (every lookup misses)."""

    directory: Path | None
    fingerprint: str = ""
    files: dict[str, FileEntry] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    pages: dict[str, Stamp] = field(default_factory=dict)  # page file name → its stamp as stored
    hits: int = 0
    misses: int = 0
    _used_pages: set[str] = field(default_factory=set)
    _used_parts: set[str] = field(default_factory=set)
    stored_pages: dict[str, Stamp] = field(default_factory=dict)  # key → stamp of the pages stored or re-stamped here
    _counted: set[str] = field(default_factory=set)  # pages and memo entries counted, made or reused this build
    _used_memo: set[str] = field(default_factory=set)
    _dirty: bool = False
    _foreign: bool = False  # an index of another code, theme or configuration was found (and ignored)

    @classmethod
    def open(cls, directory: Path | None, fingerprint: str) -> BuildCache:
        cache = cls(directory, fingerprint)
        if directory is None:
            return cache
        try:
            with open(directory / "index.pickle", "rb") as f:
                saved = pickle.load(f)
            if saved.get("format") == _FORMAT and saved.get("fingerprint") == fingerprint:
                cache.files, cache.memo, cache.pages = saved["files"], saved["memo"], saved["pages"]
            else:
                cache._foreign = True
        except Exception:  # missing, truncated, from another version: start afresh
            pass
        return cache

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    # ---------------------------------------------------------------- data files

    def unchanged(self, name: str, stat: os.stat_result) -> FileEntry | None:
        """The entry of a data file whose size and modification time are as validated, else None
        (the file must then be read: :meth:`file_entry` tells whether its content changed)."""
        entry = self.files.get(name) if self.enabled else None
        if entry is None or entry.size != stat.st_size or entry.mtime_ns != stat.st_mtime_ns:
            return None
        self.hits += 1
        return entry

    def file_entry(self, name: str, data: bytes, stat: os.stat_result) -> FileEntry | None:
        """The entry of a data file whose content is unchanged, else None."""
        if not self.enabled:
            return None
        entry = self.files.get(name)
        if entry is None or entry.size != stat.st_size:
            self.misses += 1
            return None
        if entry.mtime_ns != stat.st_mtime_ns:
            if entry.digest != digest(data):
                self.misses += 1
                return None
            entry.mtime_ns = stat.st_mtime_ns
            self._dirty = True
        self.hits += 1
        return entry

    def store_file(
        self,
        name: str,
        data: bytes,
        stat: os.stat_result,
        problems: Iterable[Any],
        bad_lines: Iterable[int],
        models: Iterable[str] = (),
        hashed: str | None = None,
        records: int = 0,
    ) -> FileEntry | None:
        """Remember a validated file: its problems, the lines that gave no record, its models,
        how many records it holds (``hashed``: its :func:`digest`, where a worker made it)."""
        if not self.enabled:
            return None
        found = [(p.line, p.message, p.severity) for p in problems]
        entry = FileEntry(stat.st_size, stat.st_mtime_ns, hashed or digest(data), found, frozenset(bad_lines),
                          tuple(sorted(set(models))), records)  # fmt: skip
        self.files[name] = entry
        self._dirty = True
        return entry

    def forget_files_except(self, names: Iterable[str]) -> None:
        keep = set(names)
        for name in [n for n in self.files if n not in keep]:
            del self.files[name]
            self._dirty = True

    # ---------------------------------------------------------------- parts

    def load_part(self, key: str) -> Any:
        """What :meth:`store_part` kept under ``key`` (marked as used), or None."""
        if not self.enabled:
            return None
        try:
            with open(self._part_path(key), "rb") as f:
                found = pickle.load(f)
        except Exception:  # missing or unreadable: made again
            self.misses += 1
            return None
        self.hits += 1
        return found

    def store_part(self, key: str, value: Any) -> None:
        if self.enabled:
            _write_atomic(self._part_path(key), pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def keep_part(self, key: str) -> None:
        """Mark a stored part as used by this build without loading it."""
        if self.enabled:
            self._part_path(key)

    def _part_path(self, key: str) -> Path:
        assert self.directory is not None
        name = key_of(self.fingerprint, key)
        self._used_parts.add(name)
        return self.directory / "parts" / f"{name}.pickle"

    # ---------------------------------------------------------------- pages and memo

    def cached_page(self, key: str) -> bytes | None:
        """The page cached under ``key`` (marked as used), or None."""
        if not self.enabled:
            return None
        return self._count(key, self._read_page(key))

    def cached_pages(self, keys: list[str]) -> list[bytes | None]:
        """:meth:`cached_page` of each key, read by a few threads at once (a cold build reads back
        the ~90 MB of pages its workers stored: reading releases the GIL)."""
        if not self.enabled or not keys:
            return [None] * len(keys)
        with concurrent.futures.ThreadPoolExecutor(IO_THREADS) as pool:
            bodies = list(pool.map(self._read_page, keys))
        return [self._count(key, body) for key, body in zip(keys, bodies, strict=True)]

    def cached_files(self, keys: list[str]) -> list[Path | None]:
        """The file of the page cached under each key (:meth:`page_file`), counted."""
        return [self._count(key, self.page_file(key)) for key in keys]

    def _count(self, key: str, found: T | None) -> T | None:
        """What was found for ``key``, counted once a build: a miss when nothing, else a hit
        (not when this build made it, nor when a worker reused it: counted there)."""
        if key not in self._counted:
            self._counted.add(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
        return found

    def page_file(self, key: str) -> Path | None:
        """The file of the page cached under ``key`` if it holds what was stored (marked as used,
        not counted: a worker's lookup, counted when the build adopts what the worker did)."""
        if not self.enabled:
            return None
        name, path = self._page(key)
        stamp = self.pages.get(name)
        if stamp is None:
            return None
        try:
            if _when(path.stat()) == stamp[:2]:
                return path
        except OSError:
            return None
        touched = self._read_stamped(key, name, path)  # touched or restored: its bytes decide
        return path if touched is not None else None

    def store_page(self, key: str, body: bytes, written: Path | None = None) -> None:
        """Keep ``body`` under ``key``: as a hard link to ``written``, a file just written with
        these bytes, where the file system allows, else as a copy."""
        if not self.enabled:
            return
        name, path = self._page(key)
        when = _link_atomic(written, path) if written is not None else None
        if when is None:
            when = _write_atomic(path, body)
        self.stored_pages[key] = self.pages[name] = (*when, zlib.crc32(body))
        self._counted.add(key)  # made this build: finding it again is no hit
        self._dirty = True

    def adopt(self, memo: dict[str, Any], pages: dict[str, Stamp], made: int, reused: Iterable[str] = ()) -> None:
        """Take what a worker process made (:mod:`scaleboard.generator.prepare`): its memo
        entries, the pages it stored (key → stamp), how many things it made and the keys of
        the pages it reused (:meth:`page_file`)."""
        self.memo.update(memo)
        self._counted.update(memo, pages, reused)
        for key, stamp in pages.items():
            name, _ = self._page(key)  # marks it as used by this build
            self.pages[name] = stamp
        for key in reused:
            self._page(key)
            self.hits += 1
        self.misses += made
        self._dirty = self._dirty or bool(memo) or bool(pages)

    def _read_page(self, key: str) -> bytes | None:
        """The bytes of the page cached under ``key`` if its file holds what was stored."""
        return self._read_stamped(key, *self._page(key))

    def _read_stamped(self, key: str, name: str, path: Path) -> bytes | None:
        """The bytes of ``path``, the file of ``key`` named ``name``, if it holds what was stored:
        the same size and modification time, or (a file touched, or restored by a tool that
        keeps no nanoseconds) the same size and checksum, its new time then kept."""
        stamp = self.pages.get(name)
        if stamp is None:
            return None
        try:
            with open(path, "rb") as f:
                size, mtime = _when(os.fstat(f.fileno()))
                if size != stamp[0]:
                    return None
                body = f.read()
        except OSError:
            return None
        if mtime != stamp[1]:
            if zlib.crc32(body) != stamp[2]:
                return None
            self.stored_pages[key] = self.pages[name] = (size, mtime, stamp[2])  # a worker reports it
            self._dirty = True
        return body

    def _page(self, key: str) -> tuple[str, Path]:
        """A page's name (its key and this code's fingerprint, hashed) and the file it lives in,
        marked as used by this build."""
        assert self.directory is not None
        name = key_of(self.fingerprint, key)
        self._used_pages.add(name)
        return name, self.directory / "pages" / f"{name}.bin"

    def remember(self, kind: str, args: Any, compute: Callable[[], T]) -> T:
        """``compute()``, or what it returned before for the same ``kind`` and ``args``."""
        if not self.enabled:
            return compute()
        key = kind + ":" + key_of(args)
        self._used_memo.add(key)
        counted = key in self._counted  # made or found already this build: no hit again
        self._counted.add(key)
        if key in self.memo:
            self.hits += not counted
            found: T = self.memo[key]
            return found
        self.misses += 1
        value = self.memo[key] = compute()
        self._dirty = True
        return value

    # ---------------------------------------------------------------- saving

    def save(self, prune: bool = True) -> None:
        """Write the index and drop what this build did not use. Errors are ignored: a cache
        that cannot be written costs the next build time, never its result.

        ``prune`` False (``scaleboard validate``, which uses the data files' entries only) keeps
        every entry, and writes nothing over the index of another configuration (a build with
        ``--base-url``): checking the data must not make the next build start afresh."""
        if not self.enabled:
            return
        assert self.directory is not None
        try:
            if not prune:
                if self._dirty and not self._foreign:
                    self._write_index(self.pages)
                    (self.directory / "CACHEDIR.TAG").write_text(_CACHEDIR_TAG)
                return
            unused = [k for k in self.memo if k not in self._used_memo]
            for key in unused:
                del self.memo[key]
            pages = {name: stamp for name, stamp in self.pages.items() if name in self._used_pages}
            if self._dirty or unused or len(pages) != len(self.pages):
                self.pages = pages
                self._write_index(pages)
            for folder, suffix, used in (("pages", ".bin", self._used_pages), ("parts", ".pickle", self._used_parts)):
                if (self.directory / folder).is_dir():
                    for path in (self.directory / folder).iterdir():
                        if path.suffix == suffix and path.stem not in used:
                            path.unlink(missing_ok=True)
            (self.directory / "CACHEDIR.TAG").write_text(_CACHEDIR_TAG)
        except OSError:
            pass

    def _write_index(self, pages: dict[str, Stamp]) -> None:
        assert self.directory is not None
        saved = {"format": _FORMAT, "fingerprint": self.fingerprint, "files": self.files, "memo": self.memo,
                 "pages": pages}  # fmt: skip
        _write_atomic(self.directory / "index.pickle", pickle.dumps(saved, protocol=pickle.HIGHEST_PROTOCOL))


#: Marks the directory as a cache for backup tools (https://bford.info/cachedir/).
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by scaleboard build; the directory can be deleted.\n"
)


def digest(data: bytes) -> str:
    """A hash of a file's bytes (SHA-256, cut to 128 bits). Most CPUs hash it in hardware: 46 MB of
    records take 0.03 s, where BLAKE2b took 0.07 s on the build's critical path."""
    return hashlib.sha256(data).hexdigest()[:32]


def lines_key(lines: list[str]) -> str:
    """A hash of lines that hold no newline (a page's records as read): 4× faster than
    :func:`key_of` on them, which writes out ``repr`` of every line first."""
    return digest("\n".join(lines).encode("utf-8"))


def key_of(*parts: Any) -> str:
    """A hash of ``repr(parts)``: for plain data (strings, numbers, tuples, lists, dicts in a
    fixed order) the same value always gives the same key."""
    return digest(repr(parts).encode("utf-8"))


def tree_fingerprint(paths: Iterable[Path]) -> str:
    """A hash of every file under ``paths`` (path, size, modification time): the code and theme a
    cached entry was made with."""
    h = hashlib.sha256()
    for root in paths:
        if not root.exists():
            continue
        files = sorted(p for p in (root.rglob("*") if root.is_dir() else [root]) if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            stat = path.stat()
            h.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return h.hexdigest()[:32]


#: Threads reading or writing many files at once: the kernel copies in parallel, the GIL released.
IO_THREADS = max(1, min(4, os.cpu_count() or 1))


#: A page file's size, modification time (ns) and CRC-32 as stored: a hard-linked page shares
#: its file with the site, so an edit of that file in place shows as a change of these.
Stamp = tuple[int, int, int]


def _when(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_size, stat.st_mtime_ns


def _write_atomic(path: Path, data: bytes) -> tuple[int, int]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            when = _when(os.fstat(fd))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return when


def _link_atomic(source: Path, path: Path) -> tuple[int, int] | None:
    """Make ``path`` a hard link to ``source`` (replacing any file there); its size and
    modification time, or None where the file system refuses (another device, no hard links):
    the caller writes a copy."""
    tmp = path.with_name(f".{path.name}-{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        os.link(source, tmp)
        when = _when(tmp.stat())
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return None
    return when
