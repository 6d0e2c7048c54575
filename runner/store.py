"""Where records go, and what is already there (resume).

Layout: one file per run, ``<out>/<suite>/<machine-slug>/<run_id>.jsonl``; the
generator reads every ``<out>/**/*.jsonl``. A run never appends to another run's
file, so a line cut short by a killed runner stays the last line of its own file,
where ``scaleboard.record.iter_file`` reports it as a warning and ignores it; the
point it held is measured again on the next run.

Each record is written with one ``write`` of a whole line, then flushed and
fsync'ed before the next point starts: a SIGKILL loses at most the point being
written, never a finished one, and a resumed run duplicates nothing.

Resume rule: a point counts as recorded when a record with the same
:func:`scaleboard.record.point_key` (configuration and environment fingerprint)
exists under ``<out>``, whatever its status. ``error``, ``timeout`` and ``oom``
are results too (a crashing or hanging configuration crashes again), so they are
not retried; ``--force`` measures every point again. A ``budget`` record (the time plan
left the point out) is no result: the point counts as not recorded.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scaleboard.diagnostics import Problem, slugify
from scaleboard.record import NOT_MEASURED, data_files, dumps, iter_file, point_key


def new_run_id() -> str:
    """A sortable, unique id: ``20261123T012345Z-3f9a``."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def slug(text: str) -> str:
    """A file-name-safe form of a label: ``NVIDIA H100 80GB HBM3`` → ``nvidia-h100-80gb-hbm3``."""
    return slugify(text, keep=".", empty="unnamed")


def run_path(out_dir: str | Path, suite: str, machine: str, run_id: str) -> Path:
    return Path(out_dir) / slug(suite) / slug(machine) / f"{run_id}.jsonl"


@dataclass
class Index:
    """Every record found under an output folder, by point key."""

    records: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    files: int = 0

    def has(self, key: tuple[Any, ...]) -> bool:
        return key in self.records


def index_records(out_dir: str | Path) -> Index:
    """Read every record under ``out_dir``. Bad or truncated lines become problems, never exceptions."""
    index = Index()
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return index
    for path in data_files(out_dir):
        index.files += 1
        for _, record, problem in iter_file(path):
            if problem is not None:
                index.problems.append(problem)
            if record is not None and record.get("status") not in NOT_MEASURED:
                index.records[point_key(record)] = record
    return index


class RunFile:
    """Append-only writer of one run's records; the file is created with the first record."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.count = 0
        self._fd: int | None = None

    def append(self, record: dict[str, Any]) -> None:
        """Validate, write one whole line, flush and fsync."""
        line = (dumps(record) + "\n").encode("utf-8")
        fd = self._open()
        os.write(fd, line)
        os.fsync(fd)
        self.count += 1

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(fd).st_size
            if size and _last_byte(self.path, size) != b"\n":
                # Never glue a record onto a partial line left by a killed writer: drop the
                # partial line (readers ignore it anyway), keeping every whole line.
                os.ftruncate(fd, _end_of_last_line(self.path))
            _fsync_dir(self.path.parent)  # the new file's name survives a crash too
            self._fd = fd
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _end_of_last_line(path: Path) -> int:
    data = path.read_bytes()
    return data.rfind(b"\n") + 1


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


def write_run_summary(run_path: str | Path, summary: dict[str, Any]) -> Path:
    """``<run_id>.run.json`` beside the run's records: how the run spent its time (not a record)."""
    import json

    path = Path(run_path).with_suffix(".run.json")
    path.write_text(json.dumps({"run_id": Path(run_path).stem, **summary}, indent=1) + "\n", encoding="utf-8")
    return path
