"""Reading ``data/**/*.jsonl``: every line validated (errors name ``file:line``), the records
of each model made into its :class:`~scaleboard.generator.parts.Part`.

With a build cache, a file whose size and modification time are as validated before is not
read at all unless a model it holds must be made again; a model whose data files are all
unchanged keeps its cached summary, and its records are read again only if a page needs them.
"""

from __future__ import annotations

import concurrent.futures
import functools
import multiprocessing
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from scaleboard.diagnostics import Problem, display_path
from scaleboard.errors import BuildError
from scaleboard.generator.cache import BuildCache, FileEntry, key_of
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.parts import Part, PartData, Summary, make_data, summarize
from scaleboard.generator.render import can_fork
from scaleboard.record import Record, data_files, iter_text, parse_json, upgrade

MAX_ERRORS_SHOWN = 20


@dataclass
class Data:
    parts: dict[str, Part]  # model → its part, sorted by model
    warnings: list[str]
    files: int

    @property
    def points(self) -> int:
        return sum(part.summary.rows for part in self.parts.values())


@dataclass
class _File:
    """One data file as the build found it."""

    path: Path
    name: str  # as problems name it
    entry: FileEntry | None  # its cache entry, when it has one for this content
    records: list[tuple[Record, str]] | None = None  # (record, JSON text), once read
    models: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)  # what validating it found (this build only)


def load_data(config: SiteConfig, strict: bool = False, cache: BuildCache | None = None, jobs: int = 1) -> Data:
    """Read and validate every ``data/**/*.jsonl``; errors name ``file:line``. A file the cache
    has seen with the same content is not validated again; ``jobs`` processes validate the others."""
    cache = cache if cache is not None else BuildCache(None)
    found, problems = scan(data_files(config.path("data_dir")), config.root, cache, jobs)
    warnings = [str(p) for p in problems if p.severity == "warning"]
    errors = [str(p) for p in problems if p.severity == "error"] + (warnings if strict else [])
    if errors:
        _raise(errors, strict)
    held: dict[str, list[_File]] = defaultdict(list)
    for file in found:
        for model in file.models:
            held[model].append(file)
    # model → a hash of the data files holding its records (names and contents), with a cache:
    # what its cached part, and every cached result about the model, is made from
    sources = {model: key_of([(f.name, f.entry.digest) for f in files if f.entry is not None])
               for model, files in held.items()} if cache.enabled else {}  # fmt: skip
    baseline = config.baseline.key
    parts: dict[str, Part] = {}
    for model in sorted(held):
        make = functools.partial(_make, model, held[model], baseline)
        source = sources.get(model)
        summary = cache.load_part(key_of("summary", model, source)) if source is not None else None
        if source is not None and isinstance(summary, Summary):  # its records are read if a page needs them
            parts[model] = Part(model, source, summary, make)
            continue
        data = make()
        parts[model] = Part(model, source, summarize(data, with_digests=cache.enabled), data)
        parts[model].unsaved = source is not None  # saved by save_part once the site is made
    return Data(parts, warnings, len(found))


def save_part(cache: BuildCache, part: Part) -> None:
    """Keep the summary of a part made this build in the cache. Its records are not kept: reading
    them again from files validated before (parsed, not checked) costs about twice unpickling
    them, is needed only when a page of the model must be made again although its records did
    not change (a template or configuration changed), and pickling every part made a cold build
    about 1 s slower and the cache twice the size of the data."""
    if part.unsaved and part.source is not None:
        cache.store_part(part_key(part), part.summary)
        part.unsaved = False


def part_key(part: Part) -> str:
    """The cache key a part's summary is kept under."""
    return key_of("summary", part.model, part.source)


def _make(model: str, files: list[_File], baseline: tuple[str, str, str]) -> PartData:
    """A model's part data from its records in ``files`` (read now where the scan did not)."""
    return make_data([pair for file in files for pair in _records(file) if pair[0]["model"] == model], baseline)


def _raise(errors: list[str], strict: bool) -> None:
    if len(errors) == 1:
        raise BuildError(errors[0])
    shown = errors[:MAX_ERRORS_SHOWN]
    tail = [f"... and {len(errors) - len(shown)} more"] if len(errors) > len(shown) else []
    kind = "problems" if strict else "errors"
    raise BuildError(f"{len(errors)} {kind} in data:\n" + "\n".join(shown + tail))


def scan(paths: list[Path], root: Path, cache: BuildCache, jobs: int = 1) -> tuple[list[_File], list[Problem]]:
    """Each data file and every problem found, in file and line order. A file is read only
    when the cache does not know it with this size and modification time; with ``jobs`` > 1,
    new files are validated in that many processes while this one parses them."""
    found: list[_File] = []
    fresh: list[tuple[int, bytes, str, os.stat_result]] = []  # to validate: (index in found, bytes, text, stat)
    for path in paths:
        name = display_path(path, root)
        stat = path.stat()  # before reading: a file written meanwhile is validated again next time
        entry = cache.unchanged(name, stat)
        if entry is not None:
            found.append(_File(path, name, entry, None, entry.models, _problems(name, entry)))
            continue
        data = path.read_bytes()
        entry = cache.file_entry(name, data, stat)
        if entry is not None:  # the same content, touched: read again only if one of its models is made
            found.append(_File(path, name, entry, None, entry.models, _problems(name, entry)))
        else:
            fresh.append((len(found), data, data.decode("utf-8", errors="replace"), stat))
            found.append(_File(path, name, None))
    checked = _check([(found[i].name, text) for i, _, text, _ in fresh], jobs)
    for (i, data, _, stat), (records, problems, bad) in zip(fresh, checked, strict=True):
        models = tuple(sorted({record["model"] for record, _ in records}))
        entry = cache.store_file(found[i].name, data, stat, problems, bad, models)
        found[i] = _File(found[i].path, found[i].name, entry, records, models, problems)
    cache.forget_files_except(f.name for f in found)
    return found, [problem for file in found for problem in file.problems]


def _problems(name: str, entry: FileEntry) -> list[Problem]:
    return [Problem(name, line, message, severity) for line, message, severity in entry.problems]


#: What validating a file found: its records and their JSON text, its problems, the lines without a record.
Checked = tuple[list[tuple[Record, str]], list[Problem], set[int]]


def _check(files: list[tuple[str, str]], jobs: int) -> list[Checked]:
    """Validate each ``(name, text)`` line by line, in ``jobs`` processes when there are several files."""
    if jobs < 2 or len(files) < 2 or not can_fork():
        return [_checked(text, list(iter_text(text, name))) for name, text in files]
    global _FILES
    workers = min(jobs, len(files))
    _FILES = files
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            futures = [pool.submit(_verdicts, list(range(i, len(files), workers))) for i in range(workers)]
            parsed = [_parse(text) for _, text in files]  # meanwhile: the records, as a validated file's
            verdicts = dict(v for future in futures for v in future.result())
    finally:
        _FILES = None
    out: list[Checked] = []
    for i, lines in enumerate(parsed):
        problems, good, bad = verdicts[i]
        out.append(([lines[lineno] for lineno in sorted(good)], problems, bad))
    return out


_FILES: list[tuple[str, str]] | None = None  # what forked workers validate (inherited, never pickled)


def _verdicts(indices: list[int]) -> list[tuple[int, tuple[list[Problem], set[int], set[int]]]]:
    """In a worker: each file's problems, lines with a record and lines without."""
    assert _FILES is not None
    out = []
    for i in indices:
        name, text = _FILES[i]
        checked = list(iter_text(text, name))
        good = {lineno for lineno, record, _ in checked if record is not None}
        problems = [problem for _, _, problem in checked if problem is not None]
        out.append((i, (problems, good, {lineno for lineno, _, _ in checked} - good)))
    return out


def _checked(text: str, checked: list[tuple[int, Record | None, Problem | None]]) -> Checked:
    text_lines = text.split("\n")
    records = [(record, text_lines[lineno - 1].strip()) for lineno, record, _ in checked if record is not None]
    problems = [problem for _, _, problem in checked if problem is not None]
    good = {lineno for lineno, record, _ in checked if record is not None}
    return records, problems, {lineno for lineno, _, _ in checked} - good  # a line with warnings holds its record


def _parse(text: str) -> dict[int, tuple[Record, str]]:
    """Line number → (record, JSON text) of every line that parses as an object (valid or not:
    the validation tells which to keep)."""
    out: dict[int, tuple[Record, str]] = {}
    for lineno, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            try:
                record = parse_json(line)
                if isinstance(record, dict):
                    out[lineno] = (upgrade(record), line.strip())
            except Exception:
                continue
    return out


def _records(file: _File) -> list[tuple[Record, str]]:
    """The records of a file, read now if the scan did not need to."""
    if file.records is None:
        assert file.entry is not None
        file.records = _trusted(file.path.read_bytes().decode("utf-8", errors="replace"), file.entry.bad_lines)
    return file.records


def _trusted(text: str, bad_lines: frozenset[int]) -> list[tuple[Record, str]]:
    """The records of a file validated before with this very content: parsed, not checked again."""
    return [(upgrade(parse_json(line)), line.strip()) for lineno, line in enumerate(text.split("\n"), start=1)
            if line.strip() and lineno not in bad_lines]  # fmt: skip
