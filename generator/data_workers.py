"""Validating data files and making models' parts in worker processes (``build -j N``).

Two rounds, run by :class:`~scaleboard.generator.workers.Workers` forked when first needed:
after the build read the new files, so each worker holds their text (or, with no new file to
validate, before the make round: a template changed, and the workers read the files again):

1. **validate**: the bytes of the new files are cut into one run of about equal size per
   worker (a run may span files, a file may span runs; a line belongs to the run its first
   byte is in). Each worker validates its runs and keeps the records; the build gets back
   each run's problems, the lines without a record and how many records of each model it
   holds, and never parses a line itself.
2. **make**: each model to make goes to one worker, chosen to balance the work and to keep it
   where most of its records already are. The worker gathers the model's records in file and
   line order (its own runs as validated, other runs and unchanged files parsed again, not
   validated: the build knows their bad lines), makes the part and keeps it: the model's
   pages are made there too (:mod:`scaleboard.generator.prepare`). The build gets summaries.

The records, their order and the problems are those a single process finds.
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from scaleboard.diagnostics import Problem
from scaleboard.generator.cache import digest
from scaleboard.generator.parts import PartData, Summary, make_data, summarize
from scaleboard.generator.workers import Workers, state
from scaleboard.record import Record, iter_lines, parse_json, upgrade

#: Less new data than this (bytes; about 3,000 records): forking costs more than it saves.
MIN_BYTES = 4_000_000


class Text:
    """A new data file's bytes, as workers inherit them, cut into lines where first needed: each
    worker decodes and splits only the files its runs touch, not the build's own process."""

    __slots__ = ("_lines", "data", "name")

    def __init__(self, name: str, data: bytes) -> None:
        self.name = name  # as problems name the file
        self.data = data
        self._lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        """The text split at newlines (undecodable bytes replaced)."""
        if self._lines is None:
            self._lines = self.data.decode("utf-8", errors="replace").split("\n")
        return self._lines

    def line_at(self, offset: int) -> int:
        """The index in :attr:`lines` of the first line that starts at or after byte ``offset``
        (``len(lines)`` when none does): a newline byte is a newline character in UTF-8, and
        never part of another character, so the bytes are counted, not decoded."""
        return 0 if offset <= 0 else 1 + self.data.count(b"\n", 0, offset - 1)

    @property
    def terminated(self) -> bool:
        """It ends with a newline."""
        return self.data.endswith(b"\n")


class Run(NamedTuple):
    """Bytes ``begin:end`` of new file ``file``: one worker validates the lines that start there."""

    file: int
    begin: int
    end: int

    def lines(self, text: Text) -> tuple[int, int | None]:
        """``(start, stop)``: the run's lines are ``text.lines[start:stop]``."""
        stop = None if self.end >= len(text.data) else text.line_at(self.end)
        return text.line_at(self.begin), stop


class Verdict(NamedTuple):
    """What validating a run found."""

    problems: list[Problem]
    bad: set[int]  # line numbers that hold no record
    models: Counter[str]  # records per model
    digest: str | None  # the file's hash (:func:`~scaleboard.generator.cache.digest`), by the run at its start


#: A file a model's records come from: ("new", index of its Text, bad lines) or ("path", path, bad lines).
FileRef = tuple[str, int | str, frozenset[int]]


def runs(sizes: list[int], workers: int) -> list[list[Run]]:
    """The bytes of files of ``sizes`` in ``workers`` consecutive shares of about equal size (an
    empty file is a run of no bytes, so that a worker hashes it too)."""
    total = sum(sizes)
    cuts = [total * share // workers for share in range(1, workers)]
    shares: list[list[Run]] = [[] for _ in range(workers)]
    offset = 0
    for file, size in enumerate(sizes):
        bounds = [offset, *(cut for cut in cuts if offset < cut < offset + size), offset + size]
        for begin, end in itertools.pairwise(bounds):
            share = sum(1 for cut in cuts if cut <= begin)
            shares[share].append(Run(file, begin - offset, end - offset))
        offset += size
    return [share for share in shares if share]


def validate(
    workers: Workers, texts: list[Text]
) -> tuple[list[tuple[list[Problem], set[int], tuple[str, ...], str, int]], dict[str, list[int]]]:
    """Fork the workers and validate ``texts`` there: each file's problems (in line order), lines
    without a record, models, hash and count of records for the cache (hashing 46 MB took 0.03 s between the
    rounds, the workers waiting); and how many records of each model each worker holds. The
    workers keep the records for :func:`make`. The runs are cut by bytes, each worker finding
    where its lines start: counting the lines of 46 MB took 0.02 s before the fork."""
    plan = runs([len(t.data) for t in texts], workers.jobs)
    workers.start({"texts": texts, "runs": plan}, count=len(plan))
    per_file: list[list[tuple[int, Verdict]]] = [[] for _ in texts]
    sizes: dict[str, list[int]] = {}
    for worker, (share, verdicts) in enumerate(
        zip(plan, workers.run(_validate, [(i,) for i in range(len(plan))]), strict=True)
    ):
        for run, verdict in zip(share, verdicts, strict=True):
            per_file[run.file].append((run.begin, verdict))
            for model, count in verdict.models.items():
                sizes.setdefault(model, [0] * len(plan))[worker] += count
    out = []
    for found in per_file:
        problems: list[Problem] = []
        bad: set[int] = set()
        models: set[str] = set()
        hashed = ""
        records = 0
        for _, verdict in sorted(found, key=lambda pair: pair[0]):
            problems += verdict.problems
            bad |= verdict.bad
            models |= set(verdict.models)
            records += verdict.models.total()
            hashed = verdict.digest or hashed
        out.append((problems, bad, tuple(sorted(models)), hashed, records))
    return out, sizes


def _validate(share: int) -> list[Verdict]:
    """In a worker: validate its runs, keep their records, return what the build needs."""
    texts: list[Text] = state["texts"]
    kept: dict[Run, list[tuple[Record, str]]] = state.setdefault("validated", {})
    verdicts = []
    for run in state["runs"][share]:
        text = texts[run.file]
        records, problems, bad = check(text, *run.lines(text))
        kept[run] = records
        hashed = digest(text.data) if run.begin == 0 else None
        verdicts.append(Verdict(problems, bad, Counter(record["model"] for record, _ in records), hashed))
    return verdicts


def check(
    text: Text, start: int = 0, stop: int | None = None
) -> tuple[list[tuple[Record, str]], list[Problem], set[int]]:
    """Validate ``text.lines[start:stop]``: the records and their JSON text, the problems and
    the line numbers without a record (a line with warnings holds its record)."""
    records: list[tuple[Record, str]] = []
    problems: list[Problem] = []
    seen: set[int] = set()
    good: set[int] = set()
    for lineno, record, problem in iter_lines(text.lines, text.name, text.terminated, start, stop):
        seen.add(lineno)
        if record is not None:
            good.add(lineno)
            records.append((record, text.lines[lineno - 1].strip()))
        if problem is not None:
            problems.append(problem)
    return records, problems, seen - good


def make(
    workers: Workers,
    models: list[str],
    refs: dict[str, list[FileRef]],
    sizes: dict[str, list[int]],
    baseline: tuple[str, str, str],
    keys: dict[str, str],
) -> dict[str, tuple[Summary, int]]:
    """Make the parts of ``models`` in the workers (forked now if they are not running): model →
    (its summary, the worker that holds its part). ``refs``: every model's files; ``sizes``: how
    many records of each model each worker validated (empty when none did); ``keys``: the cache
    key each worker keeps a model's summary under."""
    if not workers.started:
        workers.start({}, count=len(models))
    owner = assign(models, sizes, workers.count)
    calls = [([m for m in models if owner[m] == w], refs, baseline, keys) for w in range(workers.count)]
    made: dict[str, tuple[Summary, int]] = {}
    for worker, summaries in enumerate(workers.run(_make, calls)):
        for model, summary in summaries.items():
            made[model] = (summary, worker)
    return made


#: Parsing a record again (another worker validated it) costs about this share of validating it.
REMOTE_COST = 0.3


def assign(models: list[str], sizes: dict[str, list[int]], workers: int) -> dict[str, int]:
    """Model → worker: each model where most of its records are (a model no worker validated
    goes where the least work is), then, while that lowers the busiest worker's work, one model
    moved off it. A model's work is its records, plus :data:`REMOTE_COST` for each one its
    worker must parse again."""
    totals = {m: max(sum(sizes.get(m, ())), 1) for m in models}
    local = {m: sizes.get(m) or [0] * workers for m in models}

    def cost(model: str, worker: int) -> float:
        return totals[model] + REMOTE_COST * (totals[model] - local[model][worker])

    load = [0.0] * workers
    owner: dict[str, int] = {}
    for model in sorted(models, key=lambda m: (-totals[m], m)):
        held = local[model]
        if any(held):
            best = max(range(workers), key=lambda w: (held[w], -w))
        else:
            best = min(range(workers), key=lambda w: (load[w], w))
        owner[model] = best
        load[best] += cost(model, best)
    while workers > 1:
        busiest = max(range(workers), key=lambda w: (load[w], -w))
        move, peak = None, load[busiest]
        for model in sorted(m for m, w in owner.items() if w == busiest):
            for other in range(workers):
                if other == busiest:
                    continue
                after = [*load]
                after[busiest] -= cost(model, busiest)
                after[other] += cost(model, other)
                if max(after) < peak:
                    move, peak = (model, other), max(after)
        if move is None:
            break
        model, other = move
        load[busiest] -= cost(model, busiest)
        load[other] += cost(model, other)
        owner[model] = other
    return owner


def _make(
    models: list[str], refs: dict[str, list[FileRef]], baseline: tuple[str, str, str], keys: dict[str, str]
) -> dict[str, Summary]:
    """In a worker: make and keep the parts of ``models``; their summaries, each kept in the
    build cache under its key of ``keys``."""
    state["refs"], state["baseline"] = refs, baseline
    parts: dict[str, PartData] = state.setdefault("parts", {})
    summaries = {}
    for model in models:
        parts[model] = make_part(model)
        summaries[model] = summarize(parts[model], with_digests=True)
        state["cache"].store_part(keys[model], summaries[model])
    return summaries


def make_part(model: str) -> PartData:
    """In a worker: a model's part from its files (:func:`_make` sent where they are)."""
    pairs = [pair for ref in state["refs"][model] for pair in _records(ref) if pair[0]["model"] == model]
    return make_data(pairs, state["baseline"])


def _records(ref: FileRef) -> list[tuple[Record, str]]:
    """In a worker: a file's valid records, in line order (read once per worker)."""
    files: dict[FileRef, list[tuple[Record, str]]] = state.setdefault("files", {})
    if ref in files:
        return files[ref]
    kind, where, bad = ref
    if kind == "new":
        assert isinstance(where, int)
        validated: dict[Run, list[tuple[Record, str]]] = state.get("validated", {})
        text: Text = state["texts"][where]
        out: list[tuple[Record, str]] = []
        for run in sorted((r for share in state["runs"] for r in share if r.file == where), key=lambda r: r.begin):
            held = validated.get(run)
            out += held if held is not None else trusted(text.lines, bad, *run.lines(text))
    else:
        assert isinstance(where, str)
        out = read_trusted(Path(where), bad)
    files[ref] = out
    return out


def read_trusted(path: Path, bad: frozenset[int]) -> list[tuple[Record, str]]:
    """The records of a data file validated before with this very content, read now."""
    return trusted(Text(str(path), path.read_bytes()).lines, bad)


def trusted(lines: list[str], bad: frozenset[int], start: int = 0, stop: int | None = None) -> list[tuple[Record, str]]:
    """The records of ``lines[start:stop]`` of a file validated before with this very content
    (``bad``: its line numbers without a record): parsed, not checked again."""
    return [(upgrade(parse_json(line)), line.strip()) for lineno, line in enumerate(lines[start:stop], start=start + 1)
            if line.strip() and lineno not in bad]  # fmt: skip
