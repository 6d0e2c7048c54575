"""Reading ``data/**/*.jsonl``: every line validated (errors name ``file:line``), the records
of each model made into its :class:`~scaleboard.generator.parts.Part`.

With a build cache, a file whose size and modification time are as validated before is not
read at all unless a model it holds must be made again; a model whose data files are all
unchanged keeps its cached summary, and its records are read again only if a page needs them.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from scaleboard.diagnostics import Problem, display_path
from scaleboard.errors import BuildError
from scaleboard.generator import data_workers
from scaleboard.generator.cache import BuildCache, FileEntry, key_of
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.data_workers import MIN_BYTES
from scaleboard.generator.parts import Part, PartData, Summary, make_data, summarize
from scaleboard.generator.render import can_fork
from scaleboard.generator.workers import Workers
from scaleboard.record import Record, data_files

MAX_ERRORS_SHOWN = 20
#: Fewer models to make than this: they are made in the build's own process.
MIN_MODELS = 2


@dataclass
class Data:
    parts: dict[str, Part]  # model → its part, sorted by model (none from check_data)
    warnings: list[str]
    files: int
    owners: dict[str, int] = field(default_factory=dict)  # model made in a worker → that worker
    records: int = 0  # lines holding a valid record (warnings or not)


@dataclass
class _File:
    """One data file as the build found it."""

    path: Path
    name: str  # as problems name it
    entry: FileEntry | None  # its cache entry, when it has one for this content
    records: list[tuple[Record, str]] | None = None  # (record, JSON text), once read
    models: tuple[str, ...] = ()
    problems: list[Problem] = field(default_factory=list)  # what validating it found (this build only)
    new: int | None = None  # its index among the new files, when workers validated it


def load_data(
    config: SiteConfig, strict: bool = False, cache: BuildCache | None = None, workers: Workers | None = None
) -> Data:
    """Read and validate every ``data/**/*.jsonl``; errors name ``file:line``. A file the cache
    has seen with the same content is not validated again. With ``workers`` (and a cache, where
    they leave what they make), many new lines are validated and many models made in them."""
    cache = cache if cache is not None else BuildCache(None)
    workers = _usable(workers, cache)
    found, problems, sizes = scan(data_files(config.path("data_dir")), config.root, cache, workers)
    warnings = _warnings_or_raise(problems, strict)
    held: dict[str, list[_File]] = defaultdict(list)
    for file in found:
        for model in file.models:
            held[model].append(file)
    # model → a hash of the data files holding its records (names and contents), with a cache:
    # what its cached part, and every cached result about the model, is made from
    sources = {model: key_of([(f.name, f.entry.digest) for f in files if f.entry is not None])
               for model, files in held.items()} if cache.enabled else {}  # fmt: skip
    baseline = config.baseline.key
    loaders = {model: functools.partial(_make, model, files, baseline) for model, files in held.items()}
    parts: dict[str, Part] = {}
    to_make = []
    for model in sorted(held):
        source = sources.get(model)
        summary = cache.load_part(summary_key(model, source)) if source is not None else None
        if source is not None and isinstance(summary, Summary):  # its records are read if a page needs them
            parts[model] = Part(model, source, summary, loaders[model])
        else:
            to_make.append(model)
    owners: dict[str, int] = {}
    # where workers validated the records, they make the parts too; else only several large ones
    large = len(to_make) >= MIN_MODELS and _bytes(held, to_make) >= MIN_BYTES
    if workers is not None and to_make and (workers.started or large):
        refs = {model: [_ref(file) for file in files] for model, files in held.items()}
        keys = {model: summary_key(model, sources[model]) for model in to_make}  # the workers keep the summaries
        for model, (summary, worker) in data_workers.make(workers, to_make, refs, sizes, baseline, keys).items():
            parts[model] = Part(model, sources[model], summary, loaders[model])
            cache.keep_part(keys[model])
            owners[model] = worker
    for model in to_make:
        if model not in parts:
            data = _make(model, held[model], baseline)
            parts[model] = Part(model, sources.get(model), summarize(data, with_digests=cache.enabled), data)
            parts[model].unsaved = model in sources  # saved by save_part once the site is made
    return Data(dict(sorted(parts.items())), warnings, len(found), owners, _records_in(found))


def check_data(
    config: SiteConfig, strict: bool = False, cache: BuildCache | None = None, workers: Workers | None = None
) -> Data:
    """Validate every ``data/**/*.jsonl`` as :func:`load_data` does — the same errors, the same
    cache of files validated before, the same workers — without making the models' parts (the
    :class:`Data` holds none): ``scaleboard validate``. Raises :class:`BuildError` as it does."""
    cache = cache if cache is not None else BuildCache(None)
    found, problems, _ = scan(data_files(config.path("data_dir")), config.root, cache, _usable(workers, cache))
    return Data({}, _warnings_or_raise(problems, strict), len(found), records=_records_in(found))


def _records_in(found: list[_File]) -> int:
    """How many valid records ``found`` hold: their cache entries say, or their records read."""
    return sum(f.entry.records if f.entry is not None else len(f.records or ()) for f in found)


def _usable(workers: Workers | None, cache: BuildCache) -> Workers | None:
    """``workers`` where they can help: several, forking allowed, and a cache (where they leave
    what they validate)."""
    if workers is not None and (workers.jobs < 2 or not cache.enabled or not can_fork()):
        return None
    return workers


def _warnings_or_raise(problems: list[Problem], strict: bool) -> list[str]:
    """The warnings among ``problems``; raise if there are errors (with ``strict``, warnings too)."""
    warnings = [str(p) for p in problems if p.severity == "warning"]
    errors = [str(p) for p in problems if p.severity == "error"] + (warnings if strict else [])
    if errors:
        _raise(errors, strict)
    return warnings


def _bytes(held: dict[str, list[_File]], models: list[str]) -> int:
    """The size of the files holding ``models``."""
    files = {id(f): f for m in models for f in held[m]}.values()
    return sum(f.entry.size if f.entry is not None else 0 for f in files)


def _ref(file: _File) -> data_workers.FileRef:
    """Where a worker finds a file's records: the text it validated, or the file itself."""
    bad = file.entry.bad_lines if file.entry is not None else frozenset()
    return ("new", file.new, bad) if file.new is not None else ("path", str(file.path), bad)


def save_part(cache: BuildCache, part: Part) -> None:
    """Keep the summary of a part made this build in the cache. Its records are not kept: reading
    them again from files validated before (parsed, not checked) costs about twice unpickling
    them, is needed only when a page of the model must be made again although its records did
    not change (a template or configuration changed), and pickling every part made a cold build
    about 1 s slower and the cache twice the size of the data."""
    if part.unsaved and part.source is not None:
        cache.store_part(summary_key(part.model, part.source), part.summary)
        part.unsaved = False


def summary_key(model: str, source: str | None) -> str:
    """The cache key of the summary of ``model`` made from the data files hashed as ``source``."""
    return key_of("summary", model, source)


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


def scan(
    paths: list[Path], root: Path, cache: BuildCache, workers: Workers | None = None
) -> tuple[list[_File], list[Problem], dict[str, list[int]]]:
    """Each data file, every problem found (in file and line order) and, when ``workers``
    validated the new files, how many records of each model each holds. A file is read only
    when the cache does not know it with this size and modification time."""
    found: list[_File] = []
    fresh: list[tuple[int, bytes, os.stat_result]] = []  # to validate: (index in found, bytes, stat)
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
            fresh.append((len(found), data, stat))
            found.append(_File(path, name, None))
    sizes: dict[str, list[int]] = {}
    if workers is not None and fresh and sum(len(data) for _, data, _ in fresh) >= MIN_BYTES:
        texts = [data_workers.Text(found[i].name, data) for i, data, _ in fresh]
        verdicts, sizes = data_workers.validate(workers, texts)
        for n, ((i, data, stat), (problems, bad, models, hashed, count)) in enumerate(
            zip(fresh, verdicts, strict=True)
        ):
            entry = cache.store_file(found[i].name, data, stat, problems, bad, models, hashed, count)
            found[i] = _File(found[i].path, found[i].name, entry, None, models, problems, new=n)
    else:
        for i, data, stat in fresh:
            records, problems, bad = data_workers.check(data_workers.Text(found[i].name, data))
            models = tuple(sorted({record["model"] for record, _ in records}))
            entry = cache.store_file(found[i].name, data, stat, problems, bad, models, records=len(records))
            found[i] = _File(found[i].path, found[i].name, entry, records, models, problems)
    cache.forget_files_except(f.name for f in found)
    return found, [problem for file in found for problem in file.problems], sizes


def _problems(name: str, entry: FileEntry) -> list[Problem]:
    return [Problem(name, line, message, severity) for line, message, severity in entry.problems]


def _records(file: _File) -> list[tuple[Record, str]]:
    """The records of a file, read now if the scan did not need to."""
    if file.records is None:
        assert file.entry is not None
        file.records = data_workers.read_trusted(file.path, file.entry.bad_lines)
    return file.records
