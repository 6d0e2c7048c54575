"""Reading ``data/**/*.jsonl``: every line validated (errors name ``file:line``), the newest
record of each point kept, flattened into rows.

Validation (``scaleboard.record``) is most of the reading time of a large data set, so
with several files it runs in forked worker processes, one group of files each, while
this process parses the same lines; the workers only send back their findings. The
result is the same either way.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
from dataclasses import dataclass, field
from pathlib import Path

from generator.config import SiteConfig
from generator.frame import flatten, latest_per_point
from scaleboard.errors import BuildError
from scaleboard.record import Problem, data_files, iter_file

MAX_ERRORS_SHOWN = 20
#: Below this many bytes of data, starting processes costs more than it saves.
PARALLEL_MIN_BYTES = 4_000_000


@dataclass
class Data:
    rows: list[dict]
    raw: dict[tuple, list[dict]]  # (model, machine, suite) → the newest original record of each point
    warnings: list[str]
    files: int
    raw_lines: dict[tuple, list[str]] = field(default_factory=dict)  # the same records as JSON text


def load_data(config: SiteConfig, strict: bool = False, workers: int | None = None) -> Data:
    """Read and validate every ``data/**/*.jsonl``; errors name ``file:line``."""
    files = data_files(config.path("data_dir"))
    records, problems, lines = read(files, config.root, workers)
    warnings = [str(p) for p in problems if p.severity == "warning"]
    errors = [str(p) for p in problems if p.severity == "error"] + (warnings if strict else [])
    if errors:
        _raise(errors, strict)
    latest = latest_per_point(records)
    raw: dict[tuple, list[dict]] = {}
    raw_lines: dict[tuple, list[str]] = {}
    for record in latest:
        key = (record["model"], record["machine"], record["suite"])
        raw.setdefault(key, []).append(record)
        raw_lines.setdefault(key, []).append(lines[id(record)])
    return Data([flatten(r) for r in latest], raw, warnings, len(files), raw_lines)


def _raise(errors: list[str], strict: bool) -> None:
    if len(errors) == 1:
        raise BuildError(errors[0])
    shown = errors[:MAX_ERRORS_SHOWN]
    tail = [f"... and {len(errors) - len(shown)} more"] if len(errors) > len(shown) else []
    kind = "problems" if strict else "errors"
    raise BuildError(f"{len(errors)} {kind} in data:\n" + "\n".join(shown + tail))


def read(files: list[Path], root: Path, workers: int | None = None) -> tuple[list[dict], list[Problem], dict[int, str]]:
    """Records, problems and each record's JSON text (by ``id(record)``), in file and line order.

    The same as ``scaleboard.record.load_records``, plus the text: the JSON downloads reuse
    it instead of encoding every record again.
    """
    from generator.build import default_workers

    workers = default_workers() if workers is None else workers
    named = [(path, _relative(path, root)) for path in files]
    size = sum(path.stat().st_size for path in files)
    if workers < 2 or len(files) < 2 or size < PARALLEL_MIN_BYTES:
        return _collect(named, {display: _validate_file(path, display) for path, display in named})
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_validate_group, group) for group in _groups(named, workers)]
        parsed = {display: _parse_file(path) for path, display in named}  # meanwhile, here
        findings = {display: found for future in futures for display, found in future.result().items()}
    return _collect(named, findings, parsed)


def _collect(named: list[tuple[Path, str]], findings: dict, parsed: dict | None = None) -> tuple:
    records: list[dict] = []
    problems: list[Problem] = []
    lines: dict[int, str] = {}
    for path, display in named:
        file_problems, good = findings[display]
        problems.extend(file_problems)
        by_line = parsed[display] if parsed is not None else _parse_file(path) if good else {}
        for lineno in good:
            text, record = by_line[lineno]
            records.append(record)
            lines[id(record)] = text
    return records, problems, lines


def _parse_file(path: Path) -> dict[int, tuple[str, dict]]:
    """Line number → (text, parsed object) of every line that is JSON (validity is checked apart)."""
    parsed = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").split("\n"), start=1):
        text = line.strip()
        if text:
            try:
                parsed[lineno] = (text, json.loads(text))
            except json.JSONDecodeError:
                continue
    return parsed


def _groups(named: list[tuple[Path, str]], workers: int) -> list[list[tuple[Path, str]]]:
    """Largest files first, dealt round-robin: groups of similar size."""
    groups: list[list[tuple[Path, str]]] = [[] for _ in range(workers)]
    for i, item in enumerate(sorted(named, key=lambda f: -f[0].stat().st_size)):
        groups[i % workers].append(item)
    return [g for g in groups if g]


def _validate_file(path: Path, display: str) -> tuple[list[Problem], list[int]]:
    """The problems of one file and the numbers of its lines that hold a valid record."""
    problems, good = [], []
    for lineno, record, problem in iter_file(path, display):
        if problem is not None:
            problems.append(problem)
        if record is not None:
            good.append(lineno)
    return problems, good


def _validate_group(group: list[tuple[Path, str]]) -> dict[str, tuple[list[Problem], list[int]]]:
    return {display: _validate_file(path, display) for path, display in group}


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
