"""The library side of the CLI: records as a pandas DataFrame for analysis in a notebook."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scaleboard.errors import ScaleboardError

if TYPE_CHECKING:
    import pandas as pd


def load_records(
    path: str | Path = "data", *, baseline: tuple[str, str, str] = ("eager", "fp32", "sdpa"), strict: bool = False
) -> pd.DataFrame:
    """Every record under ``path`` (a ``.jsonl`` file or a folder, searched recursively) as a DataFrame.

    One row per measurement point (the newest record of a point measured more than once),
    with the flat columns of the site's CSV downloads: units in the names
    (``latency_ms``, ``tokens_per_s``, ``peak_memory_bytes``), ``latency_stat`` saying whether
    ``latency_ms`` is a median or a mean, and ``speedup`` against ``baseline``
    (optimization, precision, attention) at the same point. Bad lines raise
    :class:`~scaleboard.record.RecordError` naming ``file:line``; warnings (unknown fields,
    a truncated last line) are errors only with ``strict``.
    """
    from scaleboard.generator.frame import to_frame, to_rows
    from scaleboard.generator.speedups import add_speedups
    from scaleboard.record import RecordError, data_files
    from scaleboard.record import load_records as read

    path = Path(path)
    if not path.exists():
        raise ScaleboardError(f"{path}: no such file or folder")
    loaded = read([path] if path.is_file() else data_files(path))
    problems = loaded.problems if strict else loaded.errors
    if problems:
        first = problems[0]
        raise RecordError(first.message + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                          first.path, first.line)  # fmt: skip
    return to_frame(add_speedups(to_rows(loaded.records), baseline))
