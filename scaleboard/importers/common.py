"""What every importer shares: the record skeleton, provenance, and an all-or-nothing write.

An importer turns one foreign file into records that say exactly what the source measured:
statistics it did not report stay null (a mean stays a mean), and ``source`` names the tool,
its version where the file says it, the file and the source's own settings that have no
record field. Every problem is collected with its ``file:line`` (or ``file: key path``), and
nothing is written unless every file converted cleanly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scaleboard.errors import ScaleboardError
from scaleboard.record import FIELDS, MAX_SAMPLES, SCHEMA, dumps, no_measurement, point_key


class ImportFailed(ScaleboardError):
    """A file that cannot be imported; the message lists every problem with its place."""


@dataclass
class Converted:
    """The records made from one file, and the problems found on the way."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def file_time(path: Path) -> str:
    """The file's modification time as ISO-8601 UTC: the best "when" a results file tells."""
    stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc).replace(microsecond=0)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def content_id(path: Path) -> str:
    """A short hash of the file's bytes: the same file imports to the same run id and file name."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def fingerprint(tool: str, env: dict[str, Any]) -> str:
    """The environment fingerprint of imported records: the tool plus what the file says of its environment."""
    text = json.dumps({"tool": tool, **env}, sort_keys=True)
    return f"{tool}:" + hashlib.sha256(text.encode()).hexdigest()[:16]


def skeleton(**fields: Any) -> dict[str, Any]:
    """A record with every field present: the given ones set, every measurement null."""
    record = {
        "schema": SCHEMA,
        "weights": None,
        "params": None,
        "task": "forward",
        "seq_len": None,
        "new_tokens": None,
        "precision": None,
        "attention": None,
        "status": "ok",
        "reason": None,
        **no_measurement(iterations=None),
    }
    record.update(fields)
    return record


def bounded_samples(values_ms: list[float]) -> list[float]:
    """At most ``MAX_SAMPLES`` raw samples, in the order they were taken (the first ones)."""
    return [round(v, 6) for v in values_ms[:MAX_SAMPLES]]


def check_unique(converted: Converted, lines: dict[int, dict[str, Any]]) -> None:
    """Two rows of one file that describe the same point are a problem, not a silent overwrite."""
    seen: dict[tuple[Any, ...], int] = {}
    for line, record in lines.items():
        key = point_key(record)
        if key in seen:
            converted.problems.append(
                f"{converted.path}:{line}: the same point as line {seen[key]} "
                f"({record['model']}, {record['optimization']}, threads {record['threads']}, "
                f"batch {record['batch_size']}, suite {record['suite']!r})"
            )
        else:
            seen[key] = line


def _in_field_order(record: dict[str, Any]) -> dict[str, Any]:
    """The record's keys in the order the contract lists them, as the runner writes them."""
    return {**{k: record[k] for k in FIELDS if k in record}, **record}


def write_all(
    converted: Iterable[Converted], out_path: Callable[[dict[str, Any]], Path]
) -> list[tuple[Path, int, str]]:
    """Validate everything, then write the records; all or nothing.

    ``out_path(record)`` names the JSONL file a record goes to (one per suite × machine of
    an imported file). Returns ``(path, records, what happened)`` per file written:
    ``written``, or ``unchanged`` where the same file was imported before.
    """
    converted = list(converted)
    problems = [p for c in converted for p in c.problems]
    files: dict[Path, list[str]] = {}
    for c in converted:
        for record in c.records:
            try:
                line = dumps(_in_field_order(record))
            except ScaleboardError as exc:  # a value the contract refuses
                problems.append(f"{c.path}: record for batch {record.get('batch_size')}: {exc}")
                continue
            files.setdefault(out_path(record), []).append(line)
    if problems:
        shown = problems[:20]
        more = f"\n  … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        raise ImportFailed("nothing imported:\n  " + "\n  ".join(shown) + more)
    results = []
    for target, lines in files.items():
        text = "\n".join(lines) + "\n"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            results.append((target, len(lines), "unchanged"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".jsonl.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        results.append((target, len(lines), "written"))
    return results
