"""packrat's scalebench CSVs (msr-fiddle/packrat) as records: one record per row.

A latency file has the columns ``benchmark, topology, pinning, source, allocator,
instance_id, interop_threads, intraop_threads, batch_size, latency(min), latency(avg),
latency(max), flops`` (older files lack ``source`` and ``allocator``); times are milliseconds
for one call on a whole batch. packrat lays its results out as
``<model>/<machine>/<revision>/<model>_latency.csv``, so the machine and suite labels
default to the two folders above the file.

What maps where:

- ``benchmark`` ``gpt2_manual_script`` → model ``gpt2``, optimization ``torchscript``
  (``none`` → ``eager``); the middle word (how the model was written) goes to settings.
- ``latency(min|avg|max)`` → ``latency_ms.min|mean|max``. packrat reports no median, no
  percentiles and no raw samples: those stay null, and the site labels the latency a mean.
- ``throughput.samples_per_s`` = batch / mean latency, which is exactly what packrat's own
  ``*_throughput.csv`` holds (so those files are recognised and skipped).
- Precision, attention, sequence length and weights are not in the file: null.
- ``topology``, ``pinning``, ``source``, ``allocator``, ``instance_id``, ``interop_threads``
  go to ``source.settings``. When one of them varies within a file (sequential and
  interleave NUMA topology, say), it is added to the suite label so the points stay apart.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from scaleboard.importers.common import Converted, check_unique, content_id, file_time, fingerprint, skeleton

TOOL = "packrat"

REQUIRED = ("benchmark", "intraop_threads", "batch_size", "latency(min)", "latency(avg)", "latency(max)")
SETTINGS = ("topology", "pinning", "source", "allocator", "instance_id", "interop_threads")
KNOWN = (*REQUIRED, *SETTINGS, "flops")
THROUGHPUT_COLUMNS = {"benchmark", "batch_size", "throughput"}

#: The last word of a packrat benchmark name → ScaleBoard's optimization.
OPTIMIZATIONS = {"none": "eager", "script": "torchscript"}


def convert(path: Path, machine: str | None = None, suite: str | None = None) -> Converted:
    """Every row of one packrat latency CSV as a record (problems collected, never raised)."""
    out = Converted(path)
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        out.problems.append(f"{path}:1: empty file; expected a packrat header line")
        return out
    header = [h.strip() for h in rows[0]]
    if set(header) >= THROUGHPUT_COLUMNS and "latency(avg)" not in header:
        out.notes.append(f"{path}: a packrat throughput file (batch / mean latency of its latency file): skipped")
        return out
    unknown = [h for h in header if h not in KNOWN]
    missing = [h for h in REQUIRED if h not in header]
    if unknown:
        out.problems.append(f"{path}:1: unknown column(s) {', '.join(map(repr, unknown))} (known: {', '.join(KNOWN)})")
    if missing:
        out.problems.append(f"{path}:1: missing column(s) {', '.join(map(repr, missing))}")
    if out.problems:
        return out
    machine = machine or path.resolve().parent.parent.name or "unknown machine"
    base_suite = suite or path.resolve().parent.name or "packrat"
    parsed = [(n, dict(zip(header, row, strict=False))) for n, row in enumerate(rows[1:], start=2) if any(row)]
    varying = [k for k in SETTINGS if k in header and len({r.get(k) for _, r in parsed}) > 1]
    common = {"path": path, "machine": machine, "run_id": f"import-packrat-{content_id(path)}"}
    common["created_at"] = file_time(path)
    by_line = {}
    for line, row in parsed:
        if len(row) != len(header):
            out.problems.append(f"{path}:{line}: {len(row)} cells; the header has {len(header)}")
            continue
        record = _record(out, line, row, base_suite, varying, **common)
        if record is not None:
            by_line[line] = record
    check_unique(out, by_line)
    out.records = list(by_line.values())
    return out


def _record(
    out: Converted, line: int, row: dict[str, Any], base_suite: str, varying: list[str], **common: Any
) -> dict[str, Any] | None:
    where = f"{common['path']}:{line}"
    numbers: dict[str, float] = {}
    columns = ("intraop_threads", "batch_size", "latency(min)", "latency(avg)", "latency(max)")
    for column in columns:
        value = _number(row[column])
        if value is None or value <= 0:
            out.problems.append(f"{where}: column {column!r} is {row[column]!r}; expected a positive number")
        else:
            numbers[column] = value
    model, variant, optimization = _benchmark(row["benchmark"])
    if optimization is None:
        out.problems.append(
            f"{where}: benchmark {row['benchmark']!r}: unknown optimization {variant!r} "
            f"(known endings: {', '.join('_' + k for k in OPTIMIZATIONS)})"
        )
    if len(numbers) < len(columns) or optimization is None:
        return None
    for column in ("intraop_threads", "batch_size"):
        if numbers[column] != int(numbers[column]):
            out.problems.append(f"{where}: column {column!r} is {row[column]!r}; expected a whole number")
            return None
    settings = {k: row[k] for k in SETTINGS if k in row}
    settings["benchmark"] = row["benchmark"]
    if _number(row.get("flops", "")):  # packrat writes 0.0 where it did not count FLOPs
        settings["flops"] = row["flops"]
    suite = " ".join([base_suite, *(f"{k}={row[k]}" for k in varying)])
    batch, mean = int(numbers["batch_size"]), numbers["latency(avg)"]
    machine = common["machine"]
    env = {"fingerprint": fingerprint(TOOL, {"machine": machine})}
    return skeleton(
        run_id=common["run_id"],
        created_at=common["created_at"],
        suite=suite,
        machine=machine,
        model=model,
        optimization=optimization,
        threads=int(numbers["intraop_threads"]),
        batch_size=batch,
        device={"type": "cpu", "name": machine, "count": 1, "memory_bytes": None},
        env=env,
        latency_ms={"mean": mean, "min": numbers["latency(min)"], "max": numbers["latency(max)"]},
        throughput={"samples_per_s": batch * 1000.0 / mean, "tokens_per_s": None},
        source={"tool": TOOL, "version": None, "file": common["path"].name, "settings": settings},
    )


def _benchmark(name: str) -> tuple[str, str, str | None]:
    """``gpt2_manual_script`` → (``gpt2``, ``script``, ``torchscript``)."""
    parts = name.strip().split("_")
    variant = parts[-1] if len(parts) > 1 else ""
    return parts[0], variant, OPTIMIZATIONS.get(variant)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None
