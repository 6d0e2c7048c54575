"""Speed-ups over the configured baseline, with their intervals: derived data, computed once per build.

A row's ``speedup`` is the baseline's latency divided by its own at the same point (model,
machine, suite, task, sequence length, new tokens, threads, batch size, and the same latency
statistic: a mean is never divided by a median). ``speedup_low`` / ``speedup_high`` bound it
from the two medians' 95% intervals, and ``speedup_significant`` says whether it is a finding.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any


def add_speedups(rows: list[dict[str, Any]], baseline: tuple[str, str, str]) -> list[dict[str, Any]]:
    """``rows`` with ``speedup`` = baseline latency / latency at the same point (set in place).

    The baseline is the (optimization, precision, attention) of ``scaleboard.yaml``,
    measured on the same model, machine, suite, task, threads and batch size. The site's
    rows already hold it (computed once by ``make_site``); this recomputes it for a baseline.
    """
    cell = itemgetter(*CELL)  # the statistic is part of it: a mean is never divided by a median
    base = {}
    for r in rows:
        if (r["optimization"], r["precision"], r["attention"]) == baseline and r["latency_ms"]:
            base[cell(r)] = r
    for r in rows:
        ref, own = base.get(cell(r)), r["latency_ms"]
        if ref and own:
            r["speedup"] = ratio = ref["latency_ms"] / own
            r["speedup_low"], r["speedup_high"] = low, high = speedup_interval(ref, r)
            r["speedup_significant"] = significant(ratio, low, high)
        else:
            r["speedup"] = r["speedup_low"] = r["speedup_high"] = r["speedup_significant"] = None
    return rows


#: A speed-up smaller than this is no finding, however narrow its interval (asv's default factor is 10%).
MIN_EFFECT = 0.05


def speedup_interval(base: dict[str, Any], row: dict[str, Any]) -> tuple[float | None, float | None]:
    """Conservative interval of base latency / latency from the two medians' 95% intervals."""
    lows, highs = (base["latency_ci_low"], row["latency_ci_low"]), (base["latency_ci_high"], row["latency_ci_high"])
    if None in lows or None in highs or not highs[1] or not lows[1]:
        return None, None
    return lows[0] / highs[1], highs[0] / lows[1]


def significant(ratio: float | None, low: float | None, high: float | None) -> bool | None:
    """True when the interval leaves 1× out and the change is at least ``MIN_EFFECT``; None when unknown."""
    if ratio is None or low is None or high is None:
        return None
    return (low > 1.0 or high < 1.0) and abs(ratio - 1.0) >= MIN_EFFECT


#: The columns a row and its baseline share: the same point, measured with the same statistic.
CELL = ("model", "machine", "suite", "task", "seq_len", "new_tokens", "threads", "batch_size", "latency_stat")
