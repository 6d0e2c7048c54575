"""The time-budgeted plan: which batch sizes of which configurations fit in ``--time-budget``.

Inputs are the groups of a suite, a probe per (model, precision, sequence length) — the
cost of one eager call at the smallest batch size on the most threads, measured by
:func:`scaleboard.runner.group.probe` — and the budget. The cost of a point is predicted by
:func:`point_cost_s` from one call's cost, the optimization's known first-call cost
(trace, compile) and the suite's iteration budget; the same function decides inside a
group, from the latencies measured so far, whether the next batch size still fits.

Allocation (:func:`allocate`), in rounds over the rising batch sizes, each group keeping a
prefix of its sizes (a curve has no holes):

Groups run largest thread count first and, within it, those of one (model, precision,
attention) together, so a measuring process prepares each model once.

1. every group at the largest thread count gets its first ``MIN_CURVE`` sizes, as far as
   the budget goes (these are the curves a reader looks at first);
2. then every other group, up to ``MIN_CURVE`` sizes;
3. then one more size per group per round, largest thread count first, while it fits.

The sizes left out are recorded with status ``budget`` ("not measured (budget)"), never
as a timeout. Only ``PLANNED_SHARE`` of the budget is planned: the rest absorbs estimation
error, and a group may use what earlier groups saved (see ``scaleboard.runner.sweep``).

For the embedded default suites (``adaptive``), when even step 1 does not fit, the
sequence length is halved (down to ``MIN_SEQ_LEN``) before any curve is cut short; an
explicit suite is never rewritten, only ordered and trimmed.

Cost model constants are from measurements on a 2-core AVX2 EPYC (FINDINGS.md): a CPU
call grows about as ``batch ** 0.85`` (distilgpt2, seq 32: 116 ms at 1, 1.9 s at 32), one
thread is ~1.7× slower than two, and a static-shape ``torch.compile`` with freezing costs
15-25 s per batch size (the FX graph cache does not apply to frozen weights).
This module does not import torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from scaleboard.runner.spec import Budget, GroupSpec

MIN_CURVE = 6  # batch sizes a configuration needs for a scaling curve
PLANNED_SHARE = 0.85  # of the budget; the rest is slack for estimation error
MIN_SEQ_LEN = 16
GROUP_SETUP_S = 1.5  # load a cached model, apply the precision, load the reference
POINT_OVERHEAD_S = 0.2  # input, memory probes, garbage collection
#: One call's growth with the batch size, by device (a GPU is far from linear at small batches).
BATCH_EXPONENT = {"cpu": 0.85, "cuda": 0.5, "mps": 0.7}
THREAD_EXPONENT = 0.8  # CPU: cost ∝ threads ** -0.8 (1 thread measured 1.6-1.9× slower than 2)
#: First-call cost beyond one call: a constant (compile) or a multiple of one call (trace).
COMPILE_S = {"cpu": 20.0, "cuda": 40.0, "mps": 40.0}
MAX_AUTOTUNE_S = {"cpu": 45.0, "cuda": 120.0, "mps": 120.0}
TRACE_CALLS = 2.0  # a TorchScript trace + freeze costs about two calls
#: One decode step against a forward of the whole prompt (gpt2, seq 128, 2 cores: 53 ms vs ~300 ms).
GENERATE_STEP_SHARE = 0.2
TRAIN_STEP_CALLS = 3.5  # forward + backward (about twice a forward) + the optimizer step


def first_call_extra_s(optimization: str, call_s: float, device_type: str) -> float:
    """What a fresh callable's first call costs beyond one call."""
    if optimization == "compile-max-autotune":
        return MAX_AUTOTUNE_S.get(device_type, 120.0)
    if optimization.startswith("compile"):
        return COMPILE_S.get(device_type, 40.0)
    if optimization == "torchscript":
        return TRACE_CALLS * call_s
    return 0.0


def timed_iterations(call_s: float, budget: Budget) -> int:
    """How many timed iterations :func:`scaleboard.runner.measure.measure` will make."""
    call_s = max(call_s, 1e-6)
    wanted = max(budget.min_iterations, math.ceil(budget.min_time_s / call_s))
    capped = max(1, math.ceil(budget.max_time_s / call_s))
    return max(1, min(wanted, capped, budget.max_iterations))


def point_cost_s(call_s: float, first_extra_s: float, budget: Budget) -> float:
    """Wall time of one point: first call, warm-up, timed iterations, the quality check, overhead."""
    calls = 1 + budget.warmup_iterations + timed_iterations(call_s, budget) + 1
    return first_extra_s + calls * call_s + POINT_OVERHEAD_S


def next_point_cost_s(spec: GroupSpec, last_batch: int, last_call_s: float, last_first_s: float, batch: int) -> float:
    """Inside a group: the cost of ``batch`` predicted from the last measured point (linear in batch size)."""
    scale = batch / last_batch
    call = last_call_s * scale
    extra = max(0.0, last_first_s - last_call_s)
    if spec.optimization == "torchscript":
        extra *= scale
    return point_cost_s(call, extra, spec.budget)


@dataclass(frozen=True)
class Probe:
    """One eager call at ``batch_size`` on ``threads`` threads, in seconds."""

    call_s: float
    batch_size: int
    threads: int
    seq_len: int


def call_estimate_s(probe: Probe, spec: GroupSpec, batch: int, seq_len: int | None = None) -> float:
    device_type = spec.device.get("type", "cpu")
    cost = probe.call_s * (batch / probe.batch_size) ** BATCH_EXPONENT.get(device_type, 0.7)
    cost *= (seq_len or spec.seq_len) / probe.seq_len
    if spec.task == "generate" and spec.new_tokens:  # prefill, then one short step per new token
        cost *= 1 + GENERATE_STEP_SHARE * spec.new_tokens
    elif spec.task == "train":
        cost *= TRAIN_STEP_CALLS
    if device_type == "cpu":
        cost *= (probe.threads / spec.threads) ** THREAD_EXPONENT
    return float(cost)


def group_cost_s(spec: GroupSpec, probe: Probe, sizes: Iterable[int]) -> float:
    total = GROUP_SETUP_S
    for batch in sizes:
        call = call_estimate_s(probe, spec, batch)
        total += point_cost_s(call, first_call_extra_s(spec.optimization, call, spec.device["type"]), spec.budget)
    return total


@dataclass
class Allocation:
    """The plan's groups (batch sizes trimmed, in running order) and what it left out."""

    groups: list[GroupSpec]
    left_out: dict[str, tuple[int, ...]] = field(default_factory=dict)  # group label -> sizes
    estimate_s: float = 0.0  # planned groups
    costs: dict[str, float] = field(default_factory=dict)  # group label -> planned seconds
    seq_len_note: str | None = None


def allocate(groups: list[GroupSpec], probes: dict[tuple[Any, ...], Probe], budget_s: float) -> Allocation:
    """Choose a prefix of batch sizes per group so that the whole fits in ``budget_s`` (see the module doc).

    ``budget_s`` is what is left once the probes ran: their measuring process runs on.
    """
    available = budget_s * PLANNED_SHARE
    top = max((g.threads for g in groups), default=1)
    # Largest thread count first; within it, groups of one model and precision together (a
    # measuring process reuses the prepared model), in suite order otherwise.
    first: dict[Any, int] = {}
    for i, g in enumerate(groups):
        first.setdefault(probe_key(g), i)
    # Passes of --repeats stay in order, one after the other.
    order = sorted(
        range(len(groups)), key=lambda i: (groups[i].repeat or 0, -groups[i].threads, first[probe_key(groups[i])], i)
    )
    counts = [0] * len(groups)
    cost = [0.0] * len(groups)
    open_ = [bool(g.batch_sizes) for g in groups]

    def try_add(i: int) -> bool:
        spec = groups[i]
        new = group_cost_s(spec, probe_for(probes, spec), spec.batch_sizes[: counts[i] + 1])
        if sum(cost) - cost[i] + new > available:
            open_[i] = False
            return False
        counts[i], cost[i] = counts[i] + 1, new
        return True

    phases: list[tuple[Callable[[GroupSpec], bool], int | None]] = [
        (lambda g: g.threads == top, MIN_CURVE),
        (lambda g: True, MIN_CURVE),
        (lambda g: True, None),
    ]
    for wanted, cap in phases:
        progress = True
        while progress:
            progress = False
            for i in order:
                spec = groups[i]
                if not open_[i] or not wanted(spec) or counts[i] >= len(spec.batch_sizes):
                    continue
                if cap is not None and counts[i] >= cap:
                    continue
                progress |= try_add(i)
    planned, left_out, costs = [], {}, {}
    for i in order:
        spec = groups[i]
        kept = spec.batch_sizes[: counts[i]]
        if len(kept) < len(spec.batch_sizes):
            left_out[spec.label] = spec.batch_sizes[counts[i] :]
        planned.append(replace(spec, batch_sizes=kept))
        costs[spec.label] = cost[i]
    return Allocation(planned, left_out, sum(cost), costs)


def probe_for(probes: dict[tuple[Any, ...], Probe], spec: GroupSpec) -> Probe:
    return probes[probe_key(spec)]


def probe_key(spec: GroupSpec) -> tuple[Any, ...]:
    return (spec.model, spec.precision, spec.attention)


def curves_fit(allocation: Allocation, groups: list[GroupSpec]) -> bool:
    """Every group at the largest thread count has its ``MIN_CURVE`` sizes (or all it asked for)."""
    top = max((g.threads for g in groups), default=1)
    wanted = {g.label: min(MIN_CURVE, len(g.batch_sizes)) for g in groups if g.threads == top}
    kept = {g.label: len(g.batch_sizes) for g in allocation.groups}
    return all(kept.get(label, 0) >= n for label, n in wanted.items())


#: Shorter timing per point, tried in turn for the default suites before a curve is cut short.
TIME_SCALES = (1.0, 0.5, 0.25)
MIN_TIME_FLOOR_S = 0.1


def with_timing(groups: list[GroupSpec], scale: float) -> list[GroupSpec]:
    """The groups with ``min_time_s`` and ``max_time_s`` scaled (never under ``MIN_TIME_FLOOR_S``)."""
    if scale == 1.0:
        return groups
    out = []
    for g in groups:
        b = g.budget
        low = max(MIN_TIME_FLOOR_S, b.min_time_s * scale)
        out.append(replace(g, budget=replace(b, min_time_s=low, max_time_s=max(low, b.max_time_s * scale))))
    return out


def plan_budget(
    groups: list[GroupSpec],
    probes: dict[tuple[Any, ...], Probe],
    budget_s: float,
    *,
    adaptive: bool,
    rebuild: Callable[[int], list[GroupSpec]] | None = None,
) -> Allocation:
    """:func:`allocate`. For the default suites (``adaptive``), before a curve at the largest
    thread count is cut short: shorter timing per point, then half the sequence length
    (``rebuild(seq_len)`` gives the groups still to measure at that length; resume keys
    depend on it). An explicit suite is only ordered and trimmed."""
    allocation = allocate(groups, probes, budget_s)
    if not adaptive or not groups:
        return allocation
    original = seq_len = groups[0].seq_len
    while True:
        for scale in TIME_SCALES:
            candidate = with_timing(groups, scale)
            allocation = allocate(candidate, probes, budget_s)
            if curves_fit(allocation, candidate):
                break
        if curves_fit(allocation, candidate) or seq_len // 2 < MIN_SEQ_LEN:
            break
        seq_len //= 2
        groups = rebuild(seq_len) if rebuild else [replace(g, seq_len=seq_len) for g in groups]
        if not groups:
            allocation = Allocation([], {}, 0.0, {})
            break
    notes = []
    if seq_len != original:
        notes.append(f"sequence length {seq_len} tokens (the suite says {original})")
    if scale != 1.0:
        notes.append(f"timing per point {scale:g}× the suite's (min_time_s, max_time_s)")
    if notes:
        allocation.seq_len_note = (
            " and ".join(notes) + f", so that every configuration gets a curve of {MIN_CURVE} batch sizes "
            "at the largest thread count in the time budget"
        )
    return allocation


def group_time_limit_s(remaining_s: float, later_planned_s: float) -> float:
    """A group's limit: what is left once later groups' planned time is set aside. It is the
    group's own plan plus whatever earlier groups saved, or less when they overran. A group
    measures its first batch size whatever its limit."""
    return max(0.0, remaining_s - later_planned_s)


class Replanner:
    """The plan, redone before each group from what the run has measured so far (a closed loop).

    ``groups`` are the planned groups in running order, each with every batch size it may get
    (planned and left out). Before group ``i`` runs, the groups from ``i`` on are allocated
    again in the time left, with every cost scaled by how far the finished groups ran over
    or under their plan (``factor``, clamped to [0.5, 3]): a run ahead of its estimate gives
    later configurations more batch sizes, one behind gives them fewer.
    """

    def __init__(self, groups: list[GroupSpec], probes: dict[tuple[Any, ...], Probe]):
        self.groups, self.probes = groups, probes
        self.planned_total = 0.0
        self.actual_total = 0.0
        self.current: Allocation | None = None

    @property
    def factor(self) -> float:
        if self.planned_total <= 0:
            return 1.0
        return min(3.0, max(0.5, self.actual_total / self.planned_total))

    def plan_for(self, spec: GroupSpec, remaining_s: float) -> tuple[GroupSpec, tuple[int, ...], float, float]:
        """``spec``'s group as it should run now: (spec, sizes left out, its planned cost, later groups' planned cost)."""
        labels = [g.label for g in self.groups]
        if spec.label not in labels:  # not planned (cannot run here): as it is, nothing reserved after it
            return spec, (), 0.0, 0.0
        i = labels.index(spec.label)
        k = self.factor
        # allocate() plans PLANNED_SHARE of what it is given; past the first group the
        # reserve has done its job once already, so give it the time left as is.
        self.current = allocate(self.groups[i:], self.probes, remaining_s / k)
        spec = self.current.groups[0]
        own = self.current.costs[spec.label] * k
        later = sum(self.current.costs[g.label] for g in self.current.groups[1:]) * k
        return spec, self.current.left_out.get(spec.label, ()), own, later

    def finished(self, label: str, actual_s: float) -> None:
        if self.current is not None and label in self.current.costs:
            self.planned_total += self.current.costs[label]
            self.actual_total += actual_s
