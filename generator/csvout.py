"""Rows as CSV text, exactly as :func:`csv.writer` writes them, a column at a time.

The CSV downloads hold every row of every page: 35,520 rows × 72 columns in a large site.
``csv.writer`` formats them cell by cell, and a float's ``repr`` is most of that time. Here
each column is formatted at once: numbers through orjson, which writes a float as Python's
``repr`` does wherever ``|x| ≥ 1e-4`` (checked once per process against ``repr``: see
:data:`FAST`; smaller floats are written by ``repr``), ``None`` as an empty cell, strings as
they are; then each row's cells are joined. Twice as fast. A column this does not handle —
a string ``csv.writer`` would quote (a comma, a quote, a line break), a type other than
``str``, ``int``, ``float``, ``bool`` and ``None``, a NaN — sends the rows to ``csv.writer``:
the text is the same either way (``tests/generator/test_csvout.py``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; kept for odd platforms
    orjson = None  # type: ignore[assignment]

#: Characters that make ``csv.writer`` quote a string (or that it must escape): such a column
#: goes to ``csv.writer``.
_QUOTED = (",", '"', "\r", "\n", "\0")

#: Floats orjson must write as ``repr`` does for :func:`text` to use it: around every switch
#: between positional and exponent notation that ``repr`` makes for ``|x| ≥ 1e-4``, and
#: long, short, negative and zero values.
_PROBES = (
    0.0, -0.0, 1.0, -2.5, 0.1, 0.30000000000000004, 1e-4, -1e-4, 0.00012345678901234, 0.001,
    123456.789, 9007199254740993.0, 1e15, 9999999999999998.0, 1e16, -1e16, 1.5e16, 1.2345678901234568e16,
    1e22, 1e100, 1.7976931348623157e308, 2.2250738585072014e-3 * 1e3,
)  # fmt: skip


def _orjson_writes_repr() -> bool:
    if orjson is None:  # pragma: no cover - orjson is a dependency
        return False
    try:
        return all(orjson.dumps(v).decode() == repr(v) for v in _PROBES)
    except Exception:  # pragma: no cover - an orjson that refuses a float
        return False


#: orjson writes these floats as ``repr`` does: columns of numbers are formatted by it.
FAST = _orjson_writes_repr()


def text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as CSV lines (no header) of ``columns``, each line ending ``\\n``: empty cells for
    None, floats exact (``repr``) — what ``csv.writer(out, lineterminator="\\n")`` writes."""
    if not rows:
        return ""
    get = itemgetter(*columns)
    values = [get(r) for r in rows] if len(columns) > 1 else [(get(r),) for r in rows]
    cells = _columns(values) if FAST and len(columns) > 1 else None  # one column: csv.writer quotes an empty cell
    if cells is None:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(values)
        return out.getvalue()
    return "\n".join(map(",".join, zip(*cells, strict=True))) + "\n"


def _columns(values: list[tuple[Any, ...]]) -> list[Sequence[str]] | None:
    """Each column's cells as text, or None when one holds something only ``csv.writer`` writes."""
    out: list[Sequence[str]] = []
    for column in zip(*values, strict=True):
        cells = _cells(column)
        if cells is None:
            return None
        out.append(cells)
    return out


_NONE = frozenset({type(None)})
_STRINGS = frozenset({str, type(None)})
_BOOLS = frozenset({bool, type(None)})
_NUMBERS = frozenset({int, float, type(None)})


def _cells(column: Sequence[Any]) -> Sequence[str] | None:
    kinds = set(map(type, column))
    if kinds <= _NONE:
        return [""] * len(column)
    if kinds <= _STRINGS:
        present = [v for v in column if v is not None] if type(None) in kinds else column
        if any(c in "".join(present) for c in _QUOTED):
            return None
        return [v if v is not None else "" for v in column] if type(None) in kinds else column
    if kinds <= _BOOLS:
        return [str(v) if v is not None else "" for v in column]
    if kinds <= _NUMBERS:
        return _numbers(column)
    return None


def _numbers(column: Sequence[Any]) -> list[str] | None:
    """ints and floats as ``str`` writes them (floats small in magnitude by ``repr``), None as
    an empty cell; None for a NaN, an infinity or an int orjson cannot write."""
    try:
        written = orjson.dumps(list(column)).decode()
    except orjson.JSONEncodeError:  # an int beyond 64 bits
        return None
    if written.count("null") != column.count(None):  # NaN and infinities are written null
        return None
    cells = written[1:-1].replace("null", "").split(",")
    if "e-" in written or "0.0000" in written:  # |x| < 1e-4 somewhere: repr's notation differs
        for i, cell in enumerate(cells):
            if "e-" in cell or cell.startswith(("0.0000", "-0.0000")):
                cells[i] = repr(column[i])
    return cells
