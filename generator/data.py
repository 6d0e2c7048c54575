"""Reading ``data/**/*.jsonl``: every line validated (errors name ``file:line``), the newest
record of each point kept, flattened into rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from scaleboard.diagnostics import Problem, display_path
from scaleboard.errors import BuildError
from scaleboard.generator.cache import BuildCache, key_of
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.frame import PageKey, Row, flatten, latest_per_point, pool_repeats
from scaleboard.record import Record, data_files, iter_text, parse_json, upgrade

MAX_ERRORS_SHOWN = 20


@dataclass
class Data:
    rows: list[Row]
    raw: dict[PageKey, list[Record]]  # (model, machine, suite) → the newest original record of each point
    warnings: list[str]
    files: int
    raw_lines: dict[PageKey, list[str]] = field(default_factory=dict)  # the same records as JSON text
    history: list[Record] = field(default_factory=list)  # every valid record, older runs of a point too
    # model → a hash of the data files holding its records (their names and contents), when the
    # build has a cache: what a cached result about one model (its compare section) depends on
    sources: dict[str, str] = field(default_factory=dict)


class Read(NamedTuple):
    """What :func:`read` found, in file and line order."""

    records: list[dict[str, Any]]
    problems: list[Problem]
    lines: dict[int, str]  # id(record) → its JSON text
    sources: dict[str, str]  # model → hash of the files holding it (empty without a cache)


def load_data(config: SiteConfig, strict: bool = False, cache: BuildCache | None = None) -> Data:
    """Read and validate every ``data/**/*.jsonl``; errors name ``file:line``. A file the cache
    has seen with the same content is parsed without being validated again."""
    files = data_files(config.path("data_dir"))
    records, problems, lines, sources = read(files, config.root, cache)
    warnings = [str(p) for p in problems if p.severity == "warning"]
    errors = [str(p) for p in problems if p.severity == "error"] + (warnings if strict else [])
    if errors:
        _raise(errors, strict)
    latest = latest_per_point(records)
    raw: dict[PageKey, list[Record]] = {}
    raw_lines: dict[PageKey, list[str]] = {}
    for record in latest:
        key = (record["model"], record["machine"], record["suite"])
        raw.setdefault(key, []).append(record)
        raw_lines.setdefault(key, []).append(lines[id(record)])
    # the passes of --repeats become one row each; the downloads keep every pass's own record
    rows = [flatten(r) for r in pool_repeats(latest)]
    return Data(rows, raw, warnings, len(files), raw_lines, records, sources)


def _raise(errors: list[str], strict: bool) -> None:
    if len(errors) == 1:
        raise BuildError(errors[0])
    shown = errors[:MAX_ERRORS_SHOWN]
    tail = [f"... and {len(errors) - len(shown)} more"] if len(errors) > len(shown) else []
    kind = "problems" if strict else "errors"
    raise BuildError(f"{len(errors)} {kind} in data:\n" + "\n".join(shown + tail))


def read(files: list[Path], root: Path, cache: BuildCache | None = None) -> Read:
    """Records, problems and each record's JSON text (by ``id(record)``), in file and line order.

    The same as ``scaleboard.record.load_records``, plus the text: the JSON downloads reuse
    it instead of encoding every record again.
    """
    records: list[dict[str, Any]] = []
    problems: list[Problem] = []
    lines: dict[int, str] = {}
    names = []
    held: dict[str, list[tuple[str, str]]] = defaultdict(list)  # model → (file, content hash)
    for path in files:
        name = display_path(path, root)
        names.append(name)
        stat = path.stat()  # before reading: a file written meanwhile is validated again next time
        data = path.read_bytes()  # once: parsed, and kept for the downloads
        text = data.decode("utf-8", errors="replace")
        text_lines = text.split("\n")
        entry = cache.file_entry(name, data, stat) if cache is not None else None
        if entry is not None:
            found: list[tuple[int, dict[str, Any] | None, Problem | None]] = _trusted(text_lines, entry.bad_lines)
            problems.extend(Problem(name, line, message, severity) for line, message, severity in entry.problems)
        else:
            found = list(iter_text(text, name))
            file_problems: list[Problem] = [problem for _, _, problem in found if problem is not None]
            problems.extend(file_problems)
            if cache is not None:
                good = {lineno for lineno, record, _ in found if record is not None}
                bad = {lineno for lineno, _, _ in found} - good  # a line with warnings still holds its record
                cache.store_file(name, data, stat, file_problems, bad)
        models = set()
        for lineno, record, _ in found:
            if record is not None:
                records.append(record)
                lines[id(record)] = text_lines[lineno - 1].strip()
                models.add(record["model"])
        stored = cache.files.get(name) if cache is not None else None
        if stored is not None:
            for model in models:
                held[model].append((name, stored.digest))
    if cache is not None:
        cache.forget_files_except(names)
    return Read(records, problems, lines, {model: key_of(files_of) for model, files_of in held.items()})


def _trusted(
    text_lines: list[str], bad_lines: frozenset[int]
) -> list[tuple[int, dict[str, Any] | None, Problem | None]]:
    """The records of a file validated before with this very content: parsed, not checked again."""
    return [(lineno, upgrade(parse_json(line)), None) for lineno, line in enumerate(text_lines, start=1)
            if line.strip() and lineno not in bad_lines]  # fmt: skip
