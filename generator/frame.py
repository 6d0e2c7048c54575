"""Records → flat rows (one per measurement point) → a pandas DataFrame.

Nested record fields become flat columns whose names carry their units
(``latency_p50_ms``, ``tokens_per_s``, ``peak_memory_bytes``). A point measured
more than once (a re-run, another environment) keeps its newest record: the one
with the latest ``created_at``, the later file line winning ties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from scaleboard.columns import COLUMNS as REGISTRY
from scaleboard.columns import NAMES
from scaleboard.record import NOT_MEASURED, POINT_FIELDS, TASKS, config_name, headline_latency

if TYPE_CHECKING:
    import pandas as pd

#: Every column of the frame, in CSV order: the registry's (:mod:`scaleboard.columns`).
COLUMNS = NAMES

#: A flat row: one measurement point, every column of :mod:`scaleboard.columns`.
Row = dict[str, Any]
#: The points of one model page: (model, machine, suite).
PageKey = tuple[str, str, str]

_EMPTY: dict[str, Any] = {}


def _interval(record: dict[str, Any], stat: str | None) -> tuple[float | None, float | None, bool | None]:
    """The median's 95% interval and the unstable flag: from the record's ``stability`` where the
    runner stored it, else from its raw samples (a mean has no such interval here)."""
    from scaleboard import stats

    stability = record.get("stability") or _EMPTY
    low, high = stability.get("p50_ci95_low"), stability.get("p50_ci95_high")
    unstable = stability.get("unstable")
    samples = record.get("samples_ms") or ()
    if low is None and stat == "median" and samples:
        low, high = stats.median_ci(samples) or (None, None)
    if unstable is None and samples:
        unstable = stats.spread(samples)["unstable"]
    return low, high, unstable


def _copier() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``copy(record)``: a row with every column, the registry's copied ones filled from the record
    and the computed ones null, written out from the registry (the way dataclasses writes
    ``__init__``): a copy of a row of nulls (every column already in its table, in order) whose
    copied columns are then set one by one. That is about 35% faster than a dict literal of the
    72 columns, which grows its table four times as it goes, and flatten runs for every record
    of every build."""
    sections = sorted({c.path[0] for c in REGISTRY if c.path and len(c.path) == 2})
    local = {section: f"s{i}" for i, section in enumerate(sections)}
    lines = ["def copy(record):", "    get = record.get"]
    lines += [f"    {local[section]} = get({section!r}) or EMPTY" for section in sections]
    lines.append("    row = NULLS.copy()")
    for c in REGISTRY:
        if c.path is None:
            continue  # computed by flatten
        value = f"get({c.path[0]!r})" if len(c.path) == 1 else f"{local[c.path[0]]}.get({c.path[1]!r})"
        lines.append(f"    row[{c.name!r}] = {value}")
    source = "\n".join([*lines, "    return row"])
    namespace: dict[str, Any] = {"EMPTY": _EMPTY, "NULLS": dict.fromkeys(c.name for c in REGISTRY)}
    exec(compile(source, "<scaleboard.columns copy>", "exec"), namespace)  # code made from the registry above
    copy: Callable[[Row], Row] = namespace["copy"]
    return copy


_copy = _copier()


def flatten(record: dict[str, Any]) -> dict[str, Any]:
    """One validated record as one flat row (every column of :data:`COLUMNS`): the columns with a
    path in the registry copied, the others computed here."""
    row = _copy(record)
    lat = record.get("latency_ms") or _EMPTY
    p50, mean, std, p99 = lat.get("p50"), lat.get("mean"), lat.get("std"), lat.get("p99")
    # The latency charts and speed-ups use the median where the record has one, else its mean.
    headline, stat = headline_latency(lat)
    gen = record.get("generation") or _EMPTY
    per_token = gen.get("per_token_ms") or _EMPTY
    peak, tokens = _peak_memory(row), row["tokens_per_s"]
    row["sample_unit"], row["workload"], row["config"] = _labels(record, row)
    row["latency_ms"], row["latency_stat"] = headline, stat
    # CV = std / mean and the tail ratio p99 / p50: the two jitter figures of the model page.
    row["latency_cv"] = std / mean if std is not None and mean else None
    row["p99_over_p50"] = p99 / p50 if p99 is not None and p50 else None
    row["latency_ci_low"], row["latency_ci_high"], row["unstable"] = _interval(record, stat)
    row["ttft_ms"] = headline_latency(gen.get("ttft_ms"))[0]
    row["per_token_ms"] = headline_latency(per_token)[0]
    row["per_token_p90_ms"], row["per_token_p99_ms"] = per_token.get("p90"), per_token.get("p99")
    row["peak_memory_bytes"] = peak
    row["tokens_per_s_per_gib"] = tokens / (peak / 1024**3) if peak and tokens is not None else None
    row["source"] = (record.get("source") or _EMPTY).get("tool", "scaleboard")
    # speedup, speedup_low, speedup_high and speedup_significant are set by make_site: they depend on the baseline
    return row


def quality_of(rows: Iterable[dict[str, Any]]) -> tuple[str, float | None, float | None]:
    """The correctness gate over a configuration's rows: ``pass`` / ``fail`` / ``unchecked``,
    the lowest next-token agreement and the largest absolute difference."""
    rows = list(rows)
    oks = [r["quality_ok"] for r in rows if r["quality_ok"] is not None]
    agreements = [r["next_token_agreement"] for r in rows if r["next_token_agreement"] is not None]
    diffs = [r["max_abs_diff"] for r in rows if r["max_abs_diff"] is not None]
    state = "unchecked" if not oks else "pass" if all(oks) else "fail"
    return state, min(agreements, default=None), max(diffs, default=None)


#: (input kind, task, seq_len, new_tokens, optimization, precision, attention) → the three
#: labels :func:`flatten` gives a row: thousands of records share a few dozen of them.
_LABELS: dict[tuple[Any, ...], tuple[str, str, str]] = {}
_EXACT = frozenset({int, type(None)})  # where a key's number is what the label writes (not 128.0, not True)


def _labels(record: dict[str, Any], row: Row) -> tuple[str, str, str]:
    """``(sample_unit(record), workload(record), config_name(record))``, made once per kind of
    record (a dict lookup instead of three functions and two f-strings for each record)."""
    kind = (record.get("input") or _EMPTY).get("kind")
    seq_len, new_tokens = row["seq_len"], row["new_tokens"]
    if kind == "pixels" or seq_len.__class__ not in _EXACT or new_tokens.__class__ not in _EXACT:
        return sample_unit(record), workload(record), config_name(record)  # an image's label holds its shape
    key = (kind, row["task"], seq_len, new_tokens, row["optimization"], row["precision"], row["attention"])
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = (sample_unit(record), workload(record), config_name(record))
    return found


def task_order(task: str) -> tuple[int, str]:
    """Where a task goes in a list of tasks or workloads: forward, generate, train, then any other A→Z."""
    return (TASKS.index(task), "") if task in TASKS else (len(TASKS), task)


def workload_order(row: Row) -> tuple[Any, ...]:
    """Where a row's workload goes in a list of workloads: by task (:func:`task_order`), then
    sequence length and new tokens as numbers (16 tokens before 128), then its name."""
    return (*task_order(row["task"]), row["seq_len"] or 0, row["new_tokens"] or 0, row["workload"])


def by_workload(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """``rows`` grouped by workload, the workloads in :func:`workload_order`."""
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r["workload"], []).append(r)
    return dict(sorted(groups.items(), key=lambda item: workload_order(item[1][0])))


def sample_unit(record: dict[str, Any]) -> str:
    """What ``samples_per_s`` counts: ``images`` for an image input, else ``samples``."""
    return "images" if (record.get("input") or {}).get("kind") == "pixels" else "samples"


def workload(record: dict[str, Any]) -> str:
    """What one call does: ``forward · 128 tokens``, ``generate · 128 tokens + 32 new`` or
    ``forward · 3×224×224 images``."""
    shape = (record.get("input") or {}).get("shape")
    if sample_unit(record) == "images" and shape:
        return f"{record['task']} · {'×'.join(str(s) for s in shape)} images"
    if record.get("seq_len") is None:
        return str(record["task"])
    text = f"{record['task']} · {record['seq_len']} tokens"
    return text + f" + {record['new_tokens']} new" if record.get("new_tokens") else text


def _peak_memory(row: Row) -> int | None:
    """On an accelerator the model's footprint is what the allocator held; on a CPU it is the
    process RSS (from the row's copied memory and device columns)."""
    alloc, reserved, rss = row["peak_allocated_bytes"], row["peak_reserved_bytes"], row["peak_rss_bytes"]
    peak: int | None = (alloc or reserved or rss) if row["device_type"] != "cpu" else (rss or alloc)
    return peak


def latest_per_point(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the newest record of each point, in the order points first appear.

    Records arrive in a deterministic order (sorted files, then lines), so the result is too.
    A ``budget`` record (not measured for want of time) never hides a measurement of its point.
    """
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for record in records:
        key = tuple(map(record.get, POINT_FIELDS))
        old = newest.get(key)
        if old is not None and (record["status"] in NOT_MEASURED) != (old["status"] in NOT_MEASURED):
            if record["status"] in NOT_MEASURED:
                continue
            newest[key] = record
        elif old is None or record["created_at"] >= old["created_at"]:
            newest[key] = record
    return list(newest.values())


def pool_repeats(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per point for the passes of ``--repeats`` (records that differ only in ``repeat``).

    The pooled record's latency statistics come from every pass's raw samples together, its
    throughput from the pooled median, and its median's interval from the two-stage bootstrap
    over the passes (:func:`scaleboard.stats.grouped_median_ci`), so it shows the spread
    between processes. A point some pass did not measure keeps the passes that did. Memory,
    warm-up, quality and generation figures are the first measured pass's.
    """
    if all(record.get("repeat") is None for record in records):  # no --repeats passes: nothing to pool
        return records
    from scaleboard import stats

    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        if record.get("repeat") is None:
            groups[(id(record),)] = [record]
        else:
            groups.setdefault(tuple(record.get(f) for f in POINT_FIELDS if f != "repeat"), []).append(record)
    pooled = []
    for group in groups.values():
        ok = [r for r in group if r["status"] == "ok" and r["samples_ms"]]
        if len(group) == 1 or not ok:
            pooled.append(group[0] if len(group) == 1 else max(group, key=lambda r: r["created_at"]))
            continue
        samples = [s for r in ok for s in r["samples_ms"]]
        latency = stats.summarize(samples)
        first = ok[0]
        calls_per_s = 1000.0 / latency["p50"]
        old = first.get("throughput") or {}
        tokens = (
            old.get("tokens_per_s") / old["samples_per_s"]
            if old.get("tokens_per_s") and old.get("samples_per_s")
            else None
        )
        samples_per_s = first["batch_size"] * calls_per_s
        interval = stats.grouped_median_ci([r["samples_ms"] for r in ok])
        pooled.append({
            **first,
            "repeat": None,
            "repeats": len(ok),
            "latency_ms": latency,
            "samples_ms": samples,
            "iterations": sum(r.get("iterations") or 0 for r in ok),
            "throughput": {"samples_per_s": samples_per_s, "tokens_per_s": samples_per_s * tokens if tokens else None},
            "stability": {**stats.spread(samples), "p50_ci95_low": interval[0] if interval else None,
                          "p50_ci95_high": interval[1] if interval else None},
        })  # fmt: skip
    return pooled


def to_rows(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat rows of the newest record per point (passes of ``--repeats`` pooled), sorted by point."""
    return [flatten(r) for r in pool_repeats(latest_per_point(records))]


def to_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a DataFrame with every column of :data:`COLUMNS`, even when empty."""
    import pandas as pd  # imported here: building a site needs no DataFrame, and pandas takes ~0.4 s to import

    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))
