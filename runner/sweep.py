"""The sweep: a suite becomes groups of points, each group runs in a child, every record is stored.

Order of work (a plain loop, like the suite reads): models × optimizations × precisions
× attention × threads, each group over its rising batch sizes. Before anything runs the
output folder is indexed and points already recorded for this configuration and
environment fingerprint are left out (see :mod:`scaleboard.runner.store`); ``force`` measures them again.

Groups run one after another in a reused measuring process (:class:`~scaleboard.runner.isolate.Worker`;
a fresh one after any crash). With a time budget, each group gets a time limit: its
planned cost (:mod:`scaleboard.runner.planner`) plus what earlier groups saved; a batch
size that would not fit, and every one the plan left out, is recorded ``budget``.

Stopping: the first SIGINT/SIGTERM abandons the point being measured (its worker is
killed) and keeps every finished record; a second one exits at once; the points not
started are not recorded, and the same command resumes. When the time budget is spent,
the point in progress is abandoned the same way and the points not started are recorded
``budget``: no property of the configuration, and measured by a later run.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from scaleboard.record import point_key
from scaleboard.runner.isolate import ChildOptions, Worker, kill_child_now
from scaleboard.runner.planner import Probe, Replanner, group_time_limit_s, probe_key
from scaleboard.runner.progress import Progress
from scaleboard.runner.spec import GroupSpec, base_record
from scaleboard.runner.store import Index, RunFile
from scaleboard.runner.suite import Suite
from scaleboard.runner.tasks import task_unsupported

#: Rough set-up cost of a group (child start, torch import, model build), seconds, and the
#: per-batch-size preparation cost of an optimization on CPU (FINDINGS: gpt2 compile 17–25 s
#: cold, ~3 s warm; a TorchScript trace takes a few seconds). Used only for --dry-run estimates.
GROUP_SETUP_S = 6.0
PREPARE_S = {"eager": 0.0, "torchscript": 3.0, "compile": 15.0, "compile-reduce-overhead": 15.0}
PREPARE_DEFAULT_S = 25.0  # max-autotune and anything unlisted


@dataclass
class Plan:
    """Every point of a suite, and the part of it still to measure."""

    groups: list[GroupSpec]  # every group with every batch size
    todo: list[GroupSpec]  # groups with only the batch sizes not yet recorded
    existing: list[dict[str, Any]]  # records already under the output folder for points of this plan

    @property
    def total_points(self) -> int:
        return sum(len(g.batch_sizes) for g in self.groups)

    @property
    def todo_points(self) -> int:
        return sum(len(g.batch_sizes) for g in self.todo)


@dataclass
class SweepResult:
    records: list[dict[str, Any]] = field(default_factory=list)  # written by this run
    stopped_by: str | None = None  # "SIGINT", "SIGTERM", "time budget" or None when complete
    not_measured: int = 0  # points left for a later run (unrecorded, or recorded 'budget')
    wall_s: float = 0.0  # the sweep's wall time
    group_walls: list[float] = field(default_factory=list)  # each finished group's time in its worker
    workers: int = 0  # measuring processes started
    placements: dict[str, str] = field(default_factory=dict)  # group label → Ray node id (--executor ray)

    @property
    def exit_code(self) -> int:
        return {"SIGINT": 130, "SIGTERM": 143}.get(self.stopped_by or "", 0)

    @property
    def measuring_s(self) -> float:
        """Time spent measuring: first calls (trace/compile included), warm-up and timed iterations."""
        return sum(measuring_time_s(r) for r in self.records)


def measuring_time_s(record: dict[str, Any]) -> float:
    """first_call_s + warmup_s + iterations × mean latency of an ``ok`` record, else 0."""
    if record.get("status") != "ok":
        return 0.0
    warmup = record.get("warmup") or {}
    mean_ms = (record.get("latency_ms") or {}).get("mean") or 0.0
    return (
        (warmup.get("first_call_s") or 0.0)
        + (warmup.get("warmup_s") or 0.0)
        + (record.get("iterations") or 0) * mean_ms / 1000.0
    )


def build_groups(
    suite: Suite, *, run_id: str, machine: str, device: dict[str, Any], env: dict[str, Any]
) -> list[GroupSpec]:
    """One group per (model, optimization, precision, attention, threads); a model without attention
    layers has one group where the suite lists several attention implementations (``attention`` None)."""
    from scaleboard.runner import models

    named = dict(map(models.split_entry, suite.models))  # label → source, in the suite's order
    inputs = {label: models.input_of(source) for label, source in named.items()}
    groups = [
        GroupSpec(
            run_id=run_id,
            suite=suite.label,
            machine=machine,
            model=model,
            model_source=named[model] if named[model] != model else None,
            optimization=optimization,
            precision=precision,
            attention=attention,
            threads=threads,
            batch_sizes=suite.batch_sizes,
            seq_len=suite.seq_len,
            device=device,
            env=env,
            task=suite.task,
            new_tokens=suite.new_tokens,
            budget=suite.budget,
            family=inputs[model]["family"],
            image_shape=inputs[model]["image_shape"],
        )
        for model in named
        for optimization in suite.optimizations
        for precision in suite.precisions
        for attention in (suite.attention if inputs[model]["attention"] else (None,))
        for threads in suite.threads
    ]
    if suite.repeats == 1:
        return groups
    # Pass after pass (interleaved): a drift in the machine's load hits every configuration alike.
    return [replace(g, repeat=r) for r in range(1, suite.repeats + 1) for g in groups]


def spec_point_key(spec: GroupSpec, batch_size: int) -> tuple[Any, ...]:
    """The :func:`scaleboard.record.point_key` a record of this point will have."""
    return point_key({**spec.to_dict(), "seq_len": spec.record_seq_len, "batch_size": batch_size, "env": spec.env})


def make_plan(groups: list[GroupSpec], index: Index, force: bool = False) -> Plan:
    todo: list[Any] = []
    existing: list[Any] = []
    for spec in groups:
        keys = {b: spec_point_key(spec, b) for b in spec.batch_sizes}
        done = {b for b, key in keys.items() if index.has(key)}
        existing.extend(index.records[keys[b]] for b in sorted(done))
        remaining = spec.batch_sizes if force else tuple(b for b in spec.batch_sizes if b not in done)
        if remaining:
            todo.append(replace(spec, batch_sizes=remaining))
    return Plan(groups=groups, todo=todo, existing=existing)


def estimate_s(plan: Plan, device_type: str, history: Index | None = None) -> float:
    """A rough wall-time estimate: past durations of the same points when known, else a budget model."""
    past = _past_durations(history) if history else {}
    total = 0.0
    for spec in plan.todo:
        total += GROUP_SETUP_S
        for batch_size in spec.batch_sizes:
            known = past.get(_config_key(spec.to_dict(), batch_size))
            if known is not None:
                total += known
            else:
                prepare = PREPARE_S.get(spec.optimization, PREPARE_DEFAULT_S) if device_type == "cpu" else 5.0
                budget = spec.budget
                total += prepare + budget.min_time_s + budget.warmup_iterations * budget.min_time_s / 5
    return total


def _config_key(data: dict[str, Any], batch_size: int) -> tuple[Any, ...]:
    fields = ("model", "optimization", "precision", "attention", "threads", "seq_len", "task", "machine")
    return (*(data.get(f) for f in fields), batch_size)


def _past_durations(index: Index) -> dict[tuple[Any, ...], float]:
    return {
        _config_key(r, r["batch_size"]): r["duration_s"]
        for r in index.records.values()
        if isinstance(r.get("duration_s"), (int, float))
    }


def probe_costs(worker: Worker, groups: list[GroupSpec], progress: Progress) -> dict[tuple[Any, ...], Probe]:
    """One probe per (model, precision, attention) on the most threads (see ``scaleboard.runner.group.probe``).

    A probe that fails (its worker crashed, or the combination cannot run here) counts as
    free: the plan keeps those groups whole, and their own records say what went wrong.
    """
    top = max((g.threads for g in groups), default=1)
    chosen: dict[tuple[Any, ...], GroupSpec] = {}
    for spec in sorted(groups, key=lambda g: -g.threads):
        chosen.setdefault(probe_key(spec), replace(spec, threads=top))
    probes = {}
    for key, spec in chosen.items():
        progress.message(f"probing {spec.model} {spec.precision} at batch {min(spec.batch_sizes)} on {top} threads …")
        answer = worker.probe(spec) or {}
        call_s = answer.get("call_s")
        if call_s is None:
            why = answer.get("reason") or "the probe failed"
            progress.message(f"  no probe ({why}): its groups are planned as free")
        else:
            progress.message(f"  one call {call_s * 1000:.0f} ms (set-up {answer.get('setup_s', 0):.1f} s)")
        probes[key] = Probe(call_s or 0.0, min(spec.batch_sizes), top, spec.seq_len)
    return probes


class Interrupts:
    """SIGINT/SIGTERM while sweeping: the first asks to stop, the second exits at once."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.signal_name: str | None = None
        self.child = None  # the running child, killed on a hard exit
        self._previous: dict[signal.Signals, Any] = {}

    def __enter__(self) -> Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        if self.signal_name is not None:  # second signal: no more waiting
            kill_child_now(self.child)
            self.progress.message(f"{name} again: exiting now; every finished point is saved")
            os._exit(128 + signum)
        self.signal_name = name
        self.progress.message(f"{name}: abandoning the current point (press Ctrl-C again to quit at once)")


def run_sweep(
    plan: Plan,
    run_file: RunFile,
    progress: Progress,
    *,
    device_type: str,
    memory_limit_bytes: int | None = None,
    time_budget_s: float | None = None,
    planned_s: dict[str, float] | None = None,
    left_out: dict[str, tuple[int, ...]] | None = None,
    extra_env: dict[str, Any] | None = None,
    check_supported: Callable[[str, str, str | None, str], str | None] | None = None,
    group_function: str | None = None,
    worker: Worker | None = None,
    replanner: Replanner | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SweepResult:
    """Measure every point of ``plan.todo``; each record is stored the moment it arrives.

    ``planned_s`` (group label → planned seconds) and ``left_out`` (group label → batch sizes
    the plan dropped) come from :func:`scaleboard.runner.planner.plan_budget`; with a
    ``replanner`` (:class:`scaleboard.runner.planner.Replanner`) each group's sizes are planned
    again at its turn from what the run has measured so far (``plan.todo`` then holds every
    size a group may get).
    """
    if check_supported is None:
        from scaleboard.runner.optimizations import check_supported as default_check

        check_supported = default_check
    sweep = _Sweep(plan, run_file, progress, device_type, time_budget_s, planned_s, left_out, check_supported,
                   replanner, clock)  # fmt: skip
    with Interrupts(progress) as interrupts:
        options = ChildOptions(
            memory_limit_bytes=memory_limit_bytes if device_type == "cpu" else None,
            extra_env=extra_env,
            should_stop=lambda: interrupts.signal_name is not None or sweep.out_of_time(),
            on_child=lambda proc: setattr(interrupts, "child", proc),
            group_function=group_function,
        )
        own_worker = worker is None
        worker = worker or Worker(options)
        worker.options = options  # a worker started earlier keeps its process (same environment)
        options.on_child(worker.proc)
        try:
            sweep.run(worker, interrupts)
        finally:
            sweep.result.workers = worker.started
            if own_worker:
                worker.close()
    return sweep.finish(interrupts.signal_name)


PLAN_LEFT_OUT = "not measured (budget): the time plan left no room for this batch size"


class _Sweep:
    """One pass over a plan's groups: what each group may measure, and a record for every point."""

    def __init__(self, plan: Plan, run_file: RunFile, progress: Progress, device_type: str, time_budget_s: float | None,
                 planned_s: dict[str, float] | None, left_out: dict[str, tuple[int, ...]] | None,
                 check_supported: Callable[[str, str, str | None, str], str | None], replanner: Replanner | None,
                 clock: Callable[[], float]):  # fmt: skip
        self.plan, self.run_file, self.progress, self.device_type = plan, run_file, progress, device_type
        self.time_budget_s, self.planned_s, self.left_out = time_budget_s, planned_s or {}, dict(left_out or {})
        self.check_supported, self.replanner, self.clock = check_supported, replanner, clock
        self.result = SweepResult()
        self.started = clock()
        self.repeat: int | None = None  # the --repeats pass of the last group

    def out_of_time(self) -> bool:
        return self.time_budget_s is not None and self.clock() - self.started > self.time_budget_s

    def store(self, record: dict[str, Any]) -> None:
        self.run_file.append(record)
        self.result.records.append(record)
        self.progress.point(record)

    def not_measured(self, spec: GroupSpec, sizes: Iterable[int], reason: str) -> None:
        for batch_size in sizes:
            self.store(_not_measured(spec, batch_size, reason))

    @property
    def spent(self) -> str:
        return f"not measured (budget): the run's time budget of {self.time_budget_s:.0f} s was spent"

    def run(self, worker: Worker, interrupts: Interrupts) -> None:
        for i, spec in enumerate(self.plan.todo):
            if interrupts.signal_name is not None:
                return
            if self.out_of_time():
                for rest in self.plan.todo[i:]:
                    self.not_measured(rest, (*rest.batch_sizes, *self.left_out.get(rest.label, ())), self.spent)
                return
            self.group(i, spec, worker, interrupts)

    def group(self, i: int, spec: GroupSpec, worker: Worker, interrupts: Interrupts) -> None:
        started = self.clock()
        reason = self.check_supported(spec.optimization, spec.precision, spec.attention, self.device_type)
        reason = reason or task_unsupported(spec.task, spec.optimization, spec.precision, spec.family)
        if reason:
            for batch_size in (*spec.batch_sizes, *self.left_out.get(spec.label, ())):
                self.store(_unsupported(spec, batch_size, reason))
            return
        spec = self.limited(i, spec)
        if spec.repeat != self.repeat:  # a new pass of --repeats: its own measuring processes
            worker.retire()
            self.repeat = spec.repeat
        if spec.batch_sizes:
            self.progress.group(spec)
            before = len(self.result.records)
            group = worker.run(spec, self.store)
            if group.wall_s is not None:
                self.result.group_walls.append(group.wall_s)
            if group.stopped and interrupts.signal_name is None:  # the budget ran out mid-group
                done = {r["batch_size"] for r in self.result.records[before:]}
                self.not_measured(spec, [b for b in spec.batch_sizes if b not in done], self.spent)
        self.not_measured(spec, self.left_out.get(spec.label, ()), PLAN_LEFT_OUT)
        if self.replanner is not None:
            self.replanner.finished(spec.label, self.clock() - started)

    def limited(self, i: int, spec: GroupSpec) -> GroupSpec:
        """``spec`` with the batch sizes and time limit the budget gives it now (as is without a budget)."""
        if self.time_budget_s is None:
            return spec
        remaining = self.time_budget_s - (self.clock() - self.started)
        if self.replanner is not None:
            spec, left, _, later = self.replanner.plan_for(spec, remaining)
            self.left_out[spec.label] = left
        else:
            later = sum(self.planned_s.get(g.label, 0.0) for g in self.plan.todo[i + 1 :])
        return replace(spec, time_limit_s=round(group_time_limit_s(remaining, later), 3))

    def finish(self, signal_name: str | None) -> SweepResult:
        result = self.result
        result.wall_s = self.clock() - self.started
        left = 0 if self.replanner else sum(len(v) for v in self.left_out.values())
        result.not_measured = self.plan.todo_points + left - sum(1 for r in result.records if r["status"] != "budget")
        result.stopped_by = signal_name or ("time budget" if result.not_measured else None)
        return result


def _not_measured(spec: GroupSpec, batch_size: int, reason: str) -> dict[str, Any]:
    from scaleboard.runner.models import weights_of

    record = base_record(spec, batch_size, "budget", reason, weights=weights_of(spec.source))
    record["duration_s"] = 0.0
    return record


def _unsupported(spec: GroupSpec, batch_size: int, reason: str) -> dict[str, Any]:
    from scaleboard.runner.models import weights_of

    weights = weights_of(spec.source)
    record = base_record(spec, batch_size, "unsupported", reason, weights=weights)
    record["duration_s"] = 0.0
    return record
