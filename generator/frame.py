"""Records → flat rows (one per measurement point) → a pandas DataFrame.

Nested record fields become flat columns whose names carry their units
(``latency_p50_ms``, ``tokens_per_s``, ``peak_memory_bytes``). A point measured
more than once (a re-run, another environment) keeps its newest record: the one
with the latest ``created_at``, the later file line winning ties.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from scaleboard.record import NOT_MEASURED, POINT_FIELDS, config_name, headline_latency

if TYPE_CHECKING:
    import pandas as pd

#: Every column of the frame, in CSV order.
COLUMNS = (
    "suite",
    "machine",
    "model",
    "weights",
    "params",
    "task",
    "family",
    "sample_unit",
    "seq_len",
    "new_tokens",
    "workload",
    "optimization",
    "precision",
    "attention",
    "config",
    "threads",
    "batch_size",
    "status",
    "reason",
    "latency_ms",
    "latency_stat",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_mean_ms",
    "latency_std_ms",
    "latency_min_ms",
    "latency_max_ms",
    "latency_cv",
    "p99_over_p50",
    "latency_ci_low",
    "latency_ci_high",
    "unstable",
    "iterations",
    "samples_per_s",
    "tokens_per_s",
    "ttft_ms",
    "per_token_ms",
    "per_token_p90_ms",
    "per_token_p99_ms",
    "decode_tokens_per_s",
    "peak_memory_bytes",
    "peak_allocated_bytes",
    "peak_reserved_bytes",
    "peak_rss_bytes",
    "tokens_per_s_per_gib",
    "speedup",
    "speedup_low",
    "speedup_high",
    "speedup_significant",
    "first_call_s",
    "warmup_s",
    "quality_ok",
    "quality_reference",
    "max_abs_diff",
    "rel_error",
    "next_token_agreement",
    "perplexity",
    "joules_per_sample",
    "mean_power_w",
    "achieved_tflops",
    "mfu",
    "device_type",
    "device_name",
    "device_count",
    "device_memory_bytes",
    "fingerprint",
    "source",
    "source_version",
    "run_id",
    "created_at",
)

_EMPTY: dict = {}


def _interval(record: dict, stat: str | None) -> dict:
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
    return {"latency_ci_low": low, "latency_ci_high": high, "unstable": unstable}


def flatten(record: dict) -> dict:
    """One validated record as one flat row (every key of :data:`COLUMNS`)."""
    lat = record.get("latency_ms") or _EMPTY
    thr, qual, device = record.get("throughput") or _EMPTY, record.get("quality") or _EMPTY, record["device"]
    warm, energy, compute = (
        record.get("warmup") or _EMPTY,
        record.get("energy") or _EMPTY,
        record.get("compute") or _EMPTY,
    )
    p50, mean, std, p99 = lat.get("p50"), lat.get("mean"), lat.get("std"), lat.get("p99")
    headline, stat = headline_latency(lat)
    source, gen = record.get("source") or _EMPTY, record.get("generation") or _EMPTY
    mem = _memory(record.get("memory") or _EMPTY, device["type"])
    peak, tokens = mem["peak_memory_bytes"], thr.get("tokens_per_s")
    return {
        "suite": record["suite"],
        "machine": record["machine"],
        "model": record["model"],
        "weights": record["weights"],
        "params": record.get("params"),
        "task": record["task"],
        "family": record.get("family"),
        "sample_unit": sample_unit(record),
        "seq_len": record["seq_len"],
        "new_tokens": record.get("new_tokens"),
        "workload": workload(record),
        "optimization": record["optimization"],
        "precision": record["precision"],
        "attention": record["attention"],
        "config": config_name(record),
        "threads": record["threads"],
        "batch_size": record["batch_size"],
        "status": record["status"],
        "reason": record.get("reason"),
        # The latency charts and speed-ups use: the median where the record has one, else its mean.
        "latency_ms": headline,
        "latency_stat": stat,
        "latency_p50_ms": p50,
        "latency_p90_ms": lat.get("p90"),
        "latency_p95_ms": lat.get("p95"),
        "latency_p99_ms": p99,
        "latency_mean_ms": mean,
        "latency_std_ms": std,
        "latency_min_ms": lat.get("min"),
        "latency_max_ms": lat.get("max"),
        # CV = std / mean and the tail ratio p99 / p50: the two jitter figures of the model page.
        "latency_cv": std / mean if std is not None and mean else None,
        "p99_over_p50": p99 / p50 if p99 is not None and p50 else None,
        **_interval(record, stat),
        "iterations": record.get("iterations"),
        "samples_per_s": thr.get("samples_per_s"),
        "tokens_per_s": tokens,
        "ttft_ms": headline_latency(gen.get("ttft_ms"))[0],
        "per_token_ms": headline_latency(gen.get("per_token_ms"))[0],
        "per_token_p90_ms": (gen.get("per_token_ms") or _EMPTY).get("p90"),
        "per_token_p99_ms": (gen.get("per_token_ms") or _EMPTY).get("p99"),
        "decode_tokens_per_s": gen.get("decode_tokens_per_s"),
        **mem,
        "tokens_per_s_per_gib": tokens / (peak / 1024**3) if peak and tokens is not None else None,
        # set by make_site: they depend on the configured baseline
        "speedup": None,
        "speedup_low": None,
        "speedup_high": None,
        "speedup_significant": None,
        "first_call_s": warm.get("first_call_s"),
        "warmup_s": warm.get("warmup_s"),
        "quality_ok": qual.get("ok"),
        "quality_reference": qual.get("reference"),
        "max_abs_diff": qual.get("max_abs_diff"),
        "rel_error": qual.get("rel_error"),
        "next_token_agreement": qual.get("next_token_agreement"),
        "perplexity": qual.get("perplexity"),
        "joules_per_sample": energy.get("joules_per_sample"),
        "mean_power_w": energy.get("mean_power_w"),
        "achieved_tflops": compute.get("achieved_tflops"),
        "mfu": compute.get("mfu"),
        "device_type": device["type"],
        "device_name": device["name"],
        "device_count": device["count"],
        "device_memory_bytes": device.get("memory_bytes"),
        "fingerprint": record["env"]["fingerprint"],
        "source": source.get("tool", "scaleboard"),
        "source_version": source.get("version"),
        "run_id": record["run_id"],
        "created_at": record["created_at"],
    }


def quality_of(rows: Iterable[dict]) -> tuple[str, float | None, float | None]:
    """The correctness gate over a configuration's rows: ``pass`` / ``fail`` / ``unchecked``,
    the lowest next-token agreement and the largest absolute difference."""
    rows = list(rows)
    oks = [r["quality_ok"] for r in rows if r["quality_ok"] is not None]
    agreements = [r["next_token_agreement"] for r in rows if r["next_token_agreement"] is not None]
    diffs = [r["max_abs_diff"] for r in rows if r["max_abs_diff"] is not None]
    state = "unchecked" if not oks else "pass" if all(oks) else "fail"
    return state, min(agreements, default=None), max(diffs, default=None)


def sample_unit(record: dict) -> str:
    """What ``samples_per_s`` counts: ``images`` for an image input, else ``samples``."""
    return "images" if (record.get("input") or {}).get("kind") == "pixels" else "samples"


def workload(record: dict) -> str:
    """What one call does: ``forward · 128 tokens``, ``generate · 128 tokens + 32 new`` or
    ``forward · 3×224×224 images``."""
    shape = (record.get("input") or {}).get("shape")
    if sample_unit(record) == "images" and shape:
        return f"{record['task']} · {'×'.join(str(s) for s in shape)} images"
    if record.get("seq_len") is None:
        return record["task"]
    text = f"{record['task']} · {record['seq_len']} tokens"
    return text + f" + {record['new_tokens']} new" if record.get("new_tokens") else text


def _memory(mem: dict, device_type: str) -> dict:
    alloc, reserved, rss = mem.get("peak_allocated_bytes"), mem.get("peak_reserved_bytes"), mem.get("peak_rss_bytes")
    # On an accelerator the model's footprint is what the allocator held; on a CPU it is the process RSS.
    peak = (alloc or reserved or rss) if device_type != "cpu" else (rss or alloc)
    return {
        "peak_memory_bytes": peak,
        "peak_allocated_bytes": alloc,
        "peak_reserved_bytes": reserved,
        "peak_rss_bytes": rss,
    }


def latest_per_point(records: Iterable[dict]) -> list[dict]:
    """Keep the newest record of each point, in the order points first appear.

    Records arrive in a deterministic order (sorted files, then lines), so the result is too.
    A ``budget`` record (not measured for want of time) never hides a measurement of its point.
    """
    newest: dict[tuple, dict] = {}
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


def pool_repeats(records: list[dict]) -> list[dict]:
    """One record per point for the passes of ``--repeats`` (records that differ only in ``repeat``).

    The pooled record's latency statistics come from every pass's raw samples together, its
    throughput from the pooled median, and its median's interval from the two-stage bootstrap
    over the passes (:func:`scaleboard.stats.grouped_median_ci`), so it shows the spread
    between processes. A point some pass did not measure keeps the passes that did. Memory,
    warm-up, quality and generation figures are the first measured pass's.
    """
    from scaleboard import stats

    groups: dict[tuple, list[dict]] = {}
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


def to_rows(records: Iterable[dict]) -> list[dict]:
    """Flat rows of the newest record per point (passes of ``--repeats`` pooled), sorted by point."""
    return [flatten(r) for r in pool_repeats(latest_per_point(records))]


def to_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as a DataFrame with every column of :data:`COLUMNS`, even when empty."""
    import pandas as pd  # imported here: building a site needs no DataFrame, and pandas takes ~0.4 s to import

    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))
