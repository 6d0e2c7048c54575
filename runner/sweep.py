"""The sweep: a suite becomes groups of points, each group runs in a child, every record is stored.

Order of work (a plain loop, like the suite reads): models × optimizations × precisions
× attention × threads, each group over its rising batch sizes. Before anything runs the
output folder is indexed and points already recorded for this configuration and
environment fingerprint are left out (see :mod:`scaleboard.runner.store`); ``force`` measures them again.

Stopping: the first SIGINT/SIGTERM abandons the point being measured (its child is
killed) and keeps every finished record; a second one exits at once. When the run's
time budget (``run_budget_s``) is spent, the point in progress is abandoned the same
way and the points not started are *not* recorded: they are no property of the
configuration, and the next run with the same command measures them.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from scaleboard.record import point_key
from scaleboard.runner.isolate import ChildOptions, kill_child_now, run_isolated
from scaleboard.runner.progress import Progress
from scaleboard.runner.spec import GroupSpec, base_record
from scaleboard.runner.store import Index, RunFile
from scaleboard.runner.suite import Suite

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
    existing: list[dict]  # records already under the output folder for points of this plan

    @property
    def total_points(self) -> int:
        return sum(len(g.batch_sizes) for g in self.groups)

    @property
    def todo_points(self) -> int:
        return sum(len(g.batch_sizes) for g in self.todo)


@dataclass
class SweepResult:
    records: list[dict] = field(default_factory=list)  # written by this run
    stopped_by: str | None = None  # "SIGINT", "SIGTERM", "run budget" or None when complete
    not_measured: int = 0  # points left for a later run

    @property
    def exit_code(self) -> int:
        return {"SIGINT": 130, "SIGTERM": 143}.get(self.stopped_by or "", 0)


def build_groups(suite: Suite, *, run_id: str, machine: str, device: dict, env: dict) -> list[GroupSpec]:
    return [
        GroupSpec(
            run_id=run_id,
            suite=suite.label,
            machine=machine,
            model=model,
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
        )
        for model in suite.models
        for optimization in suite.optimizations
        for precision in suite.precisions
        for attention in suite.attention
        for threads in suite.threads
    ]


def spec_point_key(spec: GroupSpec, batch_size: int) -> tuple:
    """The :func:`scaleboard.record.point_key` a record of this point will have."""
    return point_key({**spec.to_dict(), "batch_size": batch_size, "env": spec.env})


def make_plan(groups: list[GroupSpec], index: Index, force: bool = False) -> Plan:
    todo, existing = [], []
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


def _config_key(data: dict, batch_size: int) -> tuple:
    fields = ("model", "optimization", "precision", "attention", "threads", "seq_len", "task", "machine")
    return (*(data.get(f) for f in fields), batch_size)


def _past_durations(index: Index) -> dict[tuple, float]:
    return {
        _config_key(r, r["batch_size"]): r["duration_s"]
        for r in index.records.values()
        if isinstance(r.get("duration_s"), (int, float))
    }


class Interrupts:
    """SIGINT/SIGTERM while sweeping: the first asks to stop, the second exits at once."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.signal_name: str | None = None
        self.child = None  # the running child, killed on a hard exit
        self._previous: dict = {}

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
    run_budget_s: float | None = None,
    extra_env: dict | None = None,
    check_supported: Callable[[str, str, str, str], str | None] | None = None,
    group_function: str | None = None,
) -> SweepResult:
    """Measure every point of ``plan.todo``; each record is stored the moment it arrives."""
    if check_supported is None:
        from scaleboard.runner.optimizations import check_supported
    result = SweepResult()
    started = time.monotonic()

    def out_of_time() -> bool:
        return run_budget_s is not None and time.monotonic() - started > run_budget_s

    def store(record: dict) -> None:
        run_file.append(record)
        result.records.append(record)
        progress.point(record)

    with Interrupts(progress) as interrupts:
        options = ChildOptions(
            memory_limit_bytes=memory_limit_bytes if device_type == "cpu" else None,
            extra_env=extra_env,
            should_stop=lambda: interrupts.signal_name is not None or out_of_time(),
            on_child=lambda proc: setattr(interrupts, "child", proc),
            group_function=group_function,
        )
        for spec in plan.todo:
            if options.should_stop():
                break
            progress.group(spec)
            reason = check_supported(spec.optimization, spec.precision, spec.attention, device_type)
            if reason:
                for batch_size in spec.batch_sizes:
                    store(_unsupported(spec, batch_size, reason))
                continue
            run_isolated(spec, store, options)
    result.not_measured = plan.todo_points - len(result.records)
    result.stopped_by = interrupts.signal_name or ("run budget" if result.not_measured else None)
    return result


def _unsupported(spec: GroupSpec, batch_size: int, reason: str) -> dict:
    from scaleboard.runner.models import PRESETS

    weights = "random" if spec.model in PRESETS else "pretrained"
    record = base_record(spec, batch_size, "unsupported", reason, weights=weights)
    record["duration_s"] = 0.0
    return record
