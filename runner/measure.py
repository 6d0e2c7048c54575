"""One ``measure()`` function: time a callable the way every point is timed.

Protocol (DESIGN.md, Measurement):

1. the first call is timed apart (``first_call_s``): trace / compile / autotune cost lives
   here, so it is never a timeout;
2. ``budget.warmup_iterations`` warm-up calls (``warmup_s``);
3. timed iterations until BOTH ``min_iterations`` and ``min_time_s`` are met, stopped early
   by the caps ``max_iterations`` and ``max_time_s`` (a cap wins over a minimum: a slow point
   gets fewer samples rather than an unbounded run).

Any warm-up or timed iteration slower than ``budget.point_timeout_s`` raises
:class:`PointTimeout` (larger batches would be slower still). An iteration that never
returns cannot be interrupted from inside; the parent's hard timeout kills the child.

Timing: on CPU a wall clock around each call; on CUDA a pair of
``torch.cuda.Event(enable_timing=True)`` recorded around each call and read after a
synchronize, so the GPU time of the call is measured, not the launch time. Both go through
the small :class:`WallTimer` / :class:`EventTimer` objects so that the CUDA path's logic is
tested on any machine with fake events.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from scaleboard.record import MAX_SAMPLES
from scaleboard.runner.spec import Budget
from scaleboard.stats import stability, summarize


class PointTimeout(Exception):
    """One steady-state iteration took longer than the point's time budget."""

    def __init__(self, seconds: float, limit_s: float):
        self.seconds, self.limit_s = seconds, limit_s
        super().__init__(f"one iteration took {seconds:.1f} s, over the {limit_s:g} s budget per point")


class WallTimer:
    """Wall clock around a call, with an optional device synchronize on both sides."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter, sync: Callable[[], None] | None = None):
        self.clock, self.sync = clock, sync or (lambda: None)

    def time_ms(self, fn: Callable[[], Any]) -> float:
        self.sync()  # no queued work from before may land in this sample
        start = self.clock()
        fn()
        self.sync()
        return (self.clock() - start) * 1000.0


class EventTimer:
    """CUDA events recorded around a call; ``event_factory()`` is ``torch.cuda.Event(enable_timing=True)``.

    ``elapsed_time`` is read only after the end event completed (``end.synchronize()``),
    which also bounds the queue: one call in flight at a time, like a latency-bound user.
    """

    def __init__(self, event_factory: Callable[[], Any], sync: Callable[[], None] | None = None):
        self.event_factory, self.sync = event_factory, sync or (lambda: None)

    def time_ms(self, fn: Callable[[], Any]) -> float:
        start, end = self.event_factory(), self.event_factory()
        self.sync()
        start.record()
        fn()
        end.record()
        end.synchronize()
        return float(start.elapsed_time(end))


def cuda_timer() -> EventTimer:
    import torch

    return EventTimer(lambda: torch.cuda.Event(enable_timing=True), torch.cuda.synchronize)


@dataclass
class Measurement:
    """Raw per-iteration times and what was spent before them; statistics are derived."""

    samples_ms: list[float] = field(default_factory=list)
    first_call_s: float | None = None
    warmup_s: float | None = None
    warmup_iterations: int = 0

    @property
    def iterations(self) -> int:
        return len(self.samples_ms)

    def stats(self) -> dict[str, float]:
        """``{p50, p90, p95, p99, mean, std, min, max}`` in ms, over all samples."""
        return summarize(self.samples_ms)

    def bounded_samples(self, limit: int = MAX_SAMPLES) -> list[float]:
        """At most ``limit`` samples, evenly spread over the run (keeps drift visible), rounded to 1 ns."""
        return [round(s, 6) for s in subsample(self.samples_ms, limit)]

    def record_fields(self) -> dict[str, Any]:
        """The record fields every task fills the same way from its timed calls: latency statistics,
        the raw samples (bounded), how sure the median is, the iteration count and the warm-up."""
        return {
            "latency_ms": self.stats(),
            "samples_ms": self.bounded_samples(),
            "stability": stability(self.samples_ms),
            "iterations": self.iterations,
            "warmup": {
                "first_call_s": self.first_call_s,
                "warmup_s": self.warmup_s,
                "warmup_iterations": self.warmup_iterations,
            },
        }

    def throughput(self, batch_size: int, seq_len: int | None) -> dict[str, float | None]:
        """Samples and tokens per second at the median latency (robust to outliers); no tokens/s
        without a sequence length (an image input: samples are images)."""
        per_s = 1000.0 / self.stats()["p50"]
        tokens = batch_size * seq_len * per_s if seq_len is not None else None
        return {"samples_per_s": batch_size * per_s, "tokens_per_s": tokens}


def measure(
    fn: Callable[[], Any],
    *,
    budget: Budget,
    sync: Callable[[], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    timer: WallTimer | EventTimer | None = None,
) -> Measurement:
    """Time ``fn()`` following the protocol in the module docstring.

    ``sync`` is a device synchronize (``torch.cuda.synchronize``) for the wall-clock timer;
    ``timer`` replaces the per-iteration timer (``cuda_timer()`` on CUDA). ``clock`` drives
    both the wall timer and the budget, so tests can run on a fake clock.
    """
    timer = timer or WallTimer(clock, sync)
    wall = WallTimer(clock, sync)
    result = Measurement()
    result.first_call_s = wall.time_ms(fn) / 1000.0

    start = clock()
    for _ in range(budget.warmup_iterations):
        _check_timeout(timer.time_ms(fn), budget)
    result.warmup_s = clock() - start
    result.warmup_iterations = budget.warmup_iterations

    start = clock()
    while True:
        result.samples_ms.append(_check_timeout(timer.time_ms(fn), budget))
        elapsed_s, count = clock() - start, len(result.samples_ms)
        if count >= budget.max_iterations or elapsed_s >= budget.max_time_s:
            break
        if count >= budget.min_iterations and elapsed_s >= budget.min_time_s:
            break
    return result


def _check_timeout(sample_ms: float, budget: Budget) -> float:
    if sample_ms > budget.point_timeout_s * 1000.0:
        raise PointTimeout(sample_ms / 1000.0, budget.point_timeout_s)
    return sample_ms


def subsample(values: list[float], limit: int) -> list[float]:
    """``limit`` values at evenly spaced positions (first and last included), or all of them."""
    n = len(values)
    if n <= limit:
        return list(values)
    if limit == 1:
        return [values[0]]
    return [values[round(i * (n - 1) / (limit - 1))] for i in range(limit)]


# --- memory -----------------------------------------------------------------------------


def reset_peak_memory(device_type: str) -> bool:
    """Start a fresh peak for the next point. Returns whether CPU RSS peak could be reset.

    CUDA: ``torch.cuda.reset_peak_memory_stats``. CPU (Linux ≥ 4.0): writing ``5`` to
    ``/proc/self/clear_refs`` resets the peak RSS (``VmHWM``) to the current RSS, so the next
    :func:`peak_memory` is the peak of this point alone. Elsewhere the CPU peak is the
    process-lifetime peak (``ru_maxrss``); with batch sizes measured in rising order in a
    fresh child per group, that is still the peak of the largest batch so far.
    """
    if device_type == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_memory(device_type: str) -> dict[str, int | None]:
    """``{peak_allocated_bytes, peak_reserved_bytes, peak_rss_bytes}`` since the last reset."""
    allocated = reserved = None
    if device_type == "cuda":
        import torch

        allocated, reserved = int(torch.cuda.max_memory_allocated()), int(torch.cuda.max_memory_reserved())
    return {"peak_allocated_bytes": allocated, "peak_reserved_bytes": reserved, "peak_rss_bytes": peak_rss_bytes()}


def peak_rss_bytes() -> int | None:
    """Peak resident set size: ``VmHWM`` from /proc/self/status, else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        pass
    try:
        import resource
        import sys
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, kB on Linux
