"""``scaleboard run``: a suite (a file, or the embedded default for the device) plus flags → records.

A thin layer: flags override the suite's values, every bad value is reported at once as
a :class:`~scaleboard.errors.ConfigError` (``error: ...`` and exit 1), and the work is
done by :mod:`scaleboard.runner.sweep`. Torch is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the modules themselves are imported when a command runs
    from scaleboard.runner.cluster import RayOptions
    from scaleboard.runner.isolate import Worker
    from scaleboard.runner.planner import Allocation, Replanner
    from scaleboard.runner.progress import Progress
    from scaleboard.runner.spec import GroupSpec
    from scaleboard.runner.store import Index
    from scaleboard.runner.suite import Suite
    from scaleboard.runner.sweep import Plan

#: (flag, suite field, metavar, help). Each flag overrides the suite field of the same meaning.
OVERRIDES = (
    (
        "--models",
        "models",
        "NAMES",
        "comma-separated models: presets (gpt2, gpt2-medium, gpt2-large, gpt2-xl, "
        "distilgpt2, tiny-gpt2), local directories or cached Hugging Face ids; LABEL=SOURCE "
        "measures SOURCE under the name LABEL (my-gpt2=./checkpoints/step-500)",
    ),
    (
        "--optimizations",
        "optimizations",
        "NAMES",
        "comma-separated: eager, torchscript, compile, compile-reduce-overhead, compile-max-autotune",
    ),
    (
        "--precisions",
        "precisions",
        "NAMES",
        "comma-separated: fp32, tf32, fp16, bf16, amp-fp16, amp-bf16, int8-dynamic",
    ),
    ("--attention", "attention", "NAMES", "comma-separated attention implementations: sdpa, eager"),
    ("--batch-sizes", "batch_sizes", "SPEC", "batch sizes as numbers and ranges, e.g. 1-32,64,128,256,512,1024"),
    ("--threads", "threads", "SPEC", "CPU threads: numbers (1,2,4), 'auto' (1, 2, 4 … cores) or 'max' (all cores)"),
    ("--seq-len", "seq_len", "TOKENS", "input length in tokens"),
    (
        "--task",
        "task",
        "TASK",
        "forward (one forward pass), generate (greedy decoding with the KV cache, exactly --new-tokens per "
        "sample; records TTFT, per-token latency and decode tokens/s; eager, or compile with a static KV cache) or "
        "train (one AdamW "
        "step per iteration: forward with labels, backward, step; eager and compile)",
    ),
    ("--new-tokens", "new_tokens", "N", "tokens generated per sample when the task is generate"),
    (
        "--repeats",
        "repeats",
        "N",
        "measure every point N times, in N passes over the suite, each pass in fresh measuring processes "
        "(records say repeat 1..N; the site and compare pool them, their spread between processes included)",
    ),
    ("--device", "device", "DEVICE", "auto, cpu, cuda or mps (auto: cuda, else mps, else cpu)"),
    ("--machine", "machine", "LABEL", "machine label in the records (default: the GPU name, or CPU model and cores)"),
    ("--suite-label", "label", "LABEL", "campaign label in the records (default: the suite's label)"),
    ("--out", "out", "DIR", "folder the records go to, as <DIR>/<suite>/<machine>/<run_id>.jsonl (default: data)"),
    (
        "--memory-limit",
        "memory_limit",
        "SIZE",
        "CPU memory cap per measuring process: 85%% (of available RAM), "
        "8G, 512M or 'none'; an allocation beyond it is recorded as oom",
    ),
    (
        "--time-budget",
        "time_budget_s",
        "DURATION",
        "fit the run in this long (600, 90s, 10m, 1h; 'none' for no limit): a probe per model and precision "
        "estimates the cost, and the batch sizes that do not fit are recorded 'budget' (not measured) and "
        "left for a later run; the embedded default suites carry a budget",
    ),
    (
        "--point-timeout",
        "point_timeout_s",
        "SECONDS",
        "one iteration slower than this is a timeout; larger batch sizes of that configuration are skipped",
    ),
    (
        "--hard-timeout",
        "hard_timeout_s",
        "SECONDS",
        "a measuring process silent for this long is killed and its point recorded as a timeout",
    ),
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "run",
        help="benchmark models into data/*.jsonl records",
        description="Measure every point of a suite (models × optimizations × precisions × attention × threads × "
        "batch sizes) and append one record per point. Points already recorded for the same configuration and "
        "environment are skipped, so running the same command again resumes an interrupted run.",
    )
    parser.add_argument(
        "suite", nargs="?", metavar="SUITE.yaml", help="suite file (default: the embedded suite for the device)"
    )
    for flag, _, metavar, help_text in OVERRIDES:
        parser.add_argument(flag, metavar=metavar, help=help_text)
    parser.add_argument("--run-budget", dest="time_budget", help=argparse.SUPPRESS)  # the older name
    parser.add_argument("--dry-run", action="store_true", help="list the points and a time estimate; measure nothing")
    parser.add_argument("--force", action="store_true", help="measure points again even if already recorded")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or per-point lines")
    cluster = parser.add_argument_group("on a Ray cluster (pip install 'scaleboard[ray]')")
    cluster.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: one group after another on this machine (default); ray: each group a Ray task, "
        "records streamed back and written here by this process alone",
    )
    cluster.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="join the Ray cluster at ADDR (auto, or HOST:PORT of its head); default: start a local Ray "
        "instance on this machine (one group per GPU on a multi-GPU machine)",
    )
    cluster.add_argument(
        "--allow-colocate",
        action="store_true",
        help="on CPU, let Ray pack several groups on one node (each reserving only its threads). "
        "Off by default: two timing runs sharing cores, memory bandwidth and caches measure each other, "
        "so each group gets a whole node",
    )
    cluster.add_argument(
        "--resources",
        metavar="NAME=N,...",
        help="custom Ray resources each group needs, e.g. hw:a100=1 to send groups only to nodes started "
        "with ray start --resources '{\"hw:a100\": 1}'",
    )
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    from scaleboard.extras import RUNNER_MODULES, require

    require("run", RUNNER_MODULES, "PyTorch and transformers")
    if getattr(args, "executor", "local") == "ray":
        return ray_run(args)
    from scaleboard.runner.isolate import Worker

    with Worker() as worker:
        if not args.dry_run:
            # Its imports (5–7 s) run beside this process's own (torch for the device and the
            # environment, ~3 s): the first group starts that much sooner. If nothing is left to
            # measure, or the suite is wrong, it is killed unused. A dry run starts it only
            # where it will probe (see _run_local).
            worker.start()
        return _run_local(args, worker)


def _run_local(args: argparse.Namespace, worker: Worker) -> int:
    from scaleboard.runner import environment, store
    from scaleboard.runner.progress import Progress
    from scaleboard.runner.sweep import build_groups, make_plan

    suite = resolve_suite(args)
    if args.dry_run and suite.time_budget_s is not None:
        worker.start()  # a planned dry run measures its probes
    device_type = environment.resolve_device(suite.device)
    device, env, machine = environment.collect(device_type, suite.machine)
    run_id = store.new_run_id()
    groups = build_groups(suite, run_id=run_id, machine=machine, device=device, env=env)
    index = store.index_records(suite.out)
    progress = Progress(quiet=args.quiet)
    _report_problems(index, progress)
    plan = make_plan(groups, index, force=args.force)
    if not plan.todo:
        worker.close()  # started ahead for nothing: every point is recorded
    path = store.run_path(suite.out, suite.label, machine, run_id)
    if suite.time_budget_s is None:
        if args.dry_run:
            print_plan(plan, suite, device_type, machine, index, progress)
            return 0
        return _measure(args, suite, plan, path, device_type, progress, worker=worker)
    return _budgeted(
        args,
        suite,
        plan,
        path,
        device_type,
        progress,
        worker,
        rebuild=lambda seq_len: make_plan(
            build_groups(suite.replace(seq_len=seq_len), run_id=run_id, machine=machine, device=device, env=env),
            index,
            force=args.force,
        ),
    )


def _budgeted(
    args: argparse.Namespace, suite: Suite, plan: Plan, path: Path, device_type: str, progress: Progress,
    worker: Worker, rebuild: Callable[[int], Plan],
) -> int:  # fmt: skip
    """Probe, plan to fit ``suite.time_budget_s``, print the plan, then (unless --dry-run) measure it."""
    import psutil

    from scaleboard.runner import planner
    from scaleboard.runner.progress import format_duration
    from scaleboard.runner.suite import memory_limit_bytes
    from scaleboard.runner.sweep import Plan, probe_costs

    assert suite.time_budget_s is not None  # run() plans with a budget only when the suite has one
    if not plan.todo:
        progress.message(f"suite {suite.label}: every point is already recorded under {suite.out}/")
        return 0
    limit = memory_limit_bytes(suite.memory_limit, psutil.virtual_memory().available)
    worker.options.memory_limit_bytes = limit if device_type == "cpu" else None  # for the probes
    progress.message(
        f"suite {suite.label} on {plan.todo[0].machine} [{device_type}]: planning {plan.todo_points} points "
        f"to fit a time budget of {format_duration(suite.time_budget_s)}"
    )
    started = time.monotonic()
    probes = probe_costs(worker, plan.todo, progress)
    budget_s = suite.time_budget_s - (time.monotonic() - started)
    plans = {plan.todo[0].seq_len: plan}

    def todo_at(seq_len: int) -> list[GroupSpec]:
        plans.setdefault(seq_len, rebuild(seq_len))
        return plans[seq_len].todo

    allocation = planner.plan_budget(plan.todo, probes, budget_s, adaptive=suite.adaptive, rebuild=todo_at)
    seq_len = allocation.groups[0].seq_len if allocation.groups else plan.todo[0].seq_len
    plan = plans.get(seq_len, plan)
    suite = suite.replace(seq_len=seq_len)
    print_budget_plan(Plan(plan.groups, allocation.groups, plan.existing), allocation, suite, budget_s, progress)
    if args.dry_run:
        return 0
    # Each group may get any of its sizes: the plan is redone at its turn from what was measured.
    full = [replace(g, batch_sizes=g.batch_sizes + allocation.left_out.get(g.label, ())) for g in allocation.groups]
    return _measure(
        args, suite, Plan(plan.groups, full, plan.existing), path, device_type, progress,
        time_budget_s=budget_s, allocation=allocation, worker=worker, started=started,
        replanner=planner.Replanner(full, probes),
    )  # fmt: skip


def ray_run(args: argparse.Namespace) -> int:
    """``scaleboard run --executor ray``: plan against every node's environment, measure on the cluster."""
    from scaleboard.errors import ConfigError
    from scaleboard.extras import require

    require("run --executor ray", ("ray",), "Ray")
    from scaleboard.runner import cluster, store
    from scaleboard.runner.progress import Progress
    from scaleboard.runner.sweep import build_groups

    options = cluster.RayOptions(
        address=args.ray_address,
        allow_colocate=args.allow_colocate,
        resources=cluster.parse_resources(args.resources),
        machine=args.machine,
    )
    if args.time_budget is not None and str(args.time_budget).strip().lower() not in ("none", "off"):
        raise ConfigError("--time-budget: not with --executor ray (its plan assumes one machine); leave it out")
    suite = resolve_suite(args)
    progress = Progress(quiet=args.quiet)
    if suite.time_budget_s is not None:
        progress.message(
            f"note: --executor ray measures every point; the suite's time budget ({suite.time_budget_s:.0f} s) "
            "is for a single machine and is not applied"
        )
        suite = suite.replace(time_budget_s=None)
    cluster.connect(options.address)
    queue = None if args.dry_run else cluster.open_queue()  # its actor starts while the nodes are described
    device_type = cluster.resolve_device(suite.device)
    nodes = cluster.describe_nodes(device_type, options)
    first = nodes[0]
    run_id = store.new_run_id()
    groups = build_groups(suite, run_id=run_id, machine=first["machine"], device=first["device"], env=first["env"])
    index = store.index_records(suite.out)
    _report_problems(index, progress)
    plan = cluster.cluster_plan(groups, index, nodes, force=args.force)
    machines = sorted({n["machine"] for n in nodes})
    cores = sum(n["cpus"] for n in nodes)
    progress.message(
        f"Ray cluster: {len(nodes)} node(s) for {device_type} work ({', '.join(machines)}; {cores} CPUs"
        + ("; one group per GPU)" if device_type == "cuda" else "; one group per node)" if not args.allow_colocate
           else "; groups colocated by threads)")
    )  # fmt: skip
    if args.dry_run:
        print_plan(plan, suite, device_type, ", ".join(machines), index, progress)
        return 0
    label = machines[0] if len(machines) == 1 else "cluster"
    path = store.run_path(suite.out, suite.label, label, run_id)
    return _measure(args, suite, plan, path, device_type, progress, cluster=(options, nodes, queue))


def print_budget_plan(plan: Plan, allocation: Allocation, suite: Suite, budget_s: float, progress: Progress) -> None:
    from scaleboard.runner.progress import format_duration

    console = progress.console
    for spec in plan.todo:
        sizes = compact_sizes(spec.batch_sizes) if spec.batch_sizes else "none"
        left = allocation.left_out.get(spec.label)
        note = f"; not measured (budget): {compact_sizes(left)}" if left else ""
        cost = allocation.costs.get(spec.label, 0.0)
        console.print(
            f"  {spec.label:44} batch sizes {sizes}{note} (~{format_duration(cost)})", markup=False, soft_wrap=True
        )
    if allocation.seq_len_note:
        console.print(f"note: {allocation.seq_len_note}", markup=False, soft_wrap=True)
    trimmed = sum(len(v) for v in allocation.left_out.values())
    console.print(
        f"plan: {plan.todo_points} points in {len(plan.todo)} groups, estimate {format_duration(allocation.estimate_s)} "
        f"of the {format_duration(budget_s)} left in the time budget"
        + (f"; {trimmed} batch sizes left out (recorded 'budget')" if trimmed else ""),
        markup=False,
        soft_wrap=True,
    )


def resolve_suite(args: argparse.Namespace) -> Suite:
    """The suite file (or the embedded default for the device) with the flags applied."""
    from scaleboard.runner import environment
    from scaleboard.runner.suite import default_suite, load_suite

    if args.suite:
        return apply_overrides(load_suite(args.suite), args)
    device = environment.resolve_device(args.device or "auto")
    native_bf16 = environment.cpu_has_native_bf16() if device == "cpu" else True
    suite = default_suite(device, native_bf16)
    if native_bf16 is False and not args.precisions:
        print(
            "note: this CPU has no native bf16 (AVX-512 BF16 / AMX), where bf16 runs many times slower "
            "than fp32; the default suite leaves it out. Add --precisions fp32,bf16,int8-dynamic to measure it.",
            file=sys.stderr,
        )
    return apply_overrides(suite, args)


def apply_overrides(suite: Suite, args: argparse.Namespace) -> Suite:
    """Flags win over the suite. Every bad flag is reported, then one ConfigError."""
    from scaleboard.errors import ConfigError
    from scaleboard.record import ATTENTIONS, OPTIMIZATIONS, PRECISIONS, TASKS
    from scaleboard.runner import suite as s
    from scaleboard.runner.models import entry_problems

    parsers: dict[str, Callable[[str], Any]] = {
        "models": lambda v: s.parse_names(v, None, "model"),
        "optimizations": lambda v: s.parse_names(v, OPTIMIZATIONS, "optimization"),
        "precisions": lambda v: s.parse_names(v, PRECISIONS, "precision"),
        "attention": lambda v: s.parse_names(v, ATTENTIONS, "attention"),
        "batch_sizes": s.parse_batch_sizes,
        "threads": s.parse_threads,
        "seq_len": lambda v: s.parse_positive_int(v, "the sequence length"),
        "task": lambda v: s.parse_names(v, TASKS, "task")[0],
        "new_tokens": lambda v: s.parse_positive_int(v, "new tokens"),
        "repeats": lambda v: s.parse_positive_int(v, "repeats"),
        "device": lambda v: s.parse_names(v, s.DEVICES, "device")[0],
        "memory_limit": s.parse_memory_limit,
        "time_budget_s": lambda v: s.parse_time_budget(v, "the time budget"),
        "point_timeout_s": lambda v: s.parse_duration_s(v, "the point timeout"),
        "hard_timeout_s": lambda v: s.parse_duration_s(v, "the hard timeout"),
        "label": lambda v: _nonempty(v, "the suite label"),
        "machine": lambda v: _nonempty(v, "the machine label"),
        "out": lambda v: _nonempty(v, "the output folder"),
    }
    changes: dict[str, Any] = {}
    budget: dict[str, Any] = {}
    problems: list[str] = []
    for flag, name, _, _ in OVERRIDES:
        raw = getattr(args, _dest(flag))
        if raw is None:
            continue
        try:
            value = parsers.get(name, str)(raw)
            if name == "models" and (found := entry_problems(value)):
                raise ConfigError("; ".join(message for _, message in found))
        except (ValueError, ConfigError) as exc:
            problems.append(f"{flag}: {exc}")
            continue
        (budget if name.endswith("timeout_s") else changes)[name] = value
    if (changes.get("task") or suite.task) == "generate" and not (changes.get("new_tokens") or suite.new_tokens):
        problems.append("--task generate needs --new-tokens")
    if problems:
        raise ConfigError("\n  ".join(problems) if len(problems) == 1 else "\n  ".join(["bad options:", *problems]))
    if budget:
        from dataclasses import replace

        changes["budget"] = replace(suite.budget, **budget)
    return suite.replace(**changes)


def _nonempty(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value.strip()


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def resume_command(args: argparse.Namespace) -> str:
    """The same command without --force/--dry-run: running it measures only what is missing."""
    words = ["scaleboard", "run"] + ([args.suite] if args.suite else [])
    for flag, _, _, _ in OVERRIDES:
        value = getattr(args, _dest(flag))
        if value is not None:
            words += [flag, str(value)]
    if args.quiet:
        words.append("--quiet")
    return shlex.join(words)


def _report_problems(index: Index, progress: Progress) -> None:
    shown = index.problems[:5]
    for problem in shown:
        progress.message(f"warning: {problem}")
    if len(index.problems) > len(shown):
        progress.message(f"warning: … and {len(index.problems) - len(shown)} more problems in existing records")


def print_plan(plan: Plan, suite: Suite, device_type: str, machine: str, index: Index, progress: Progress) -> None:
    from scaleboard.runner.progress import format_duration
    from scaleboard.runner.sweep import estimate_s

    console = progress.console
    console.print(f"suite {suite.label} ({suite.source}) on {machine} [{device_type}]", markup=False, soft_wrap=True)
    for spec in plan.todo:
        console.print(f"  {spec.label:44} batch sizes {compact_sizes(spec.batch_sizes)}", markup=False, soft_wrap=True)
    done = plan.total_points - plan.todo_points
    console.print(
        f"{plan.todo_points} points to measure in {len(plan.todo)} groups "
        f"({plan.total_points} in the suite, {done} already recorded under {suite.out}/); "
        f"rough estimate {format_duration(estimate_s(plan, device_type, index))} "
        "(timeouts end a group's rise early)",
        markup=False,
        soft_wrap=True,
    )


def compact_sizes(sizes: tuple[int, ...]) -> str:
    """``(1, 2, 3, 4, 8, 16)`` → ``1-4,8,16``."""
    parts, i = [], 0
    while i < len(sizes):
        j = i
        while j + 1 < len(sizes) and sizes[j + 1] == sizes[j] + 1:
            j += 1
        parts.append(str(sizes[i]) if j == i else f"{sizes[i]}-{sizes[j]}")
        i = j + 1
    return ",".join(parts)


def _measure(
    args: argparse.Namespace, suite: Suite, plan: Plan, path: Path, device_type: str, progress: Progress, *,
    time_budget_s: float | None = None, allocation: Allocation | None = None, worker: Worker | None = None,
    started: float | None = None, replanner: Replanner | None = None,
    cluster: tuple[RayOptions, list[dict[str, Any]], Any] | None = None,
) -> int:  # fmt: skip
    import psutil

    from scaleboard.runner.progress import format_duration
    from scaleboard.runner.store import RunFile, write_run_summary
    from scaleboard.runner.suite import memory_limit_bytes
    from scaleboard.runner.sweep import run_sweep

    started = started if started is not None else time.monotonic()
    limit = memory_limit_bytes(suite.memory_limit, psutil.virtual_memory().available)
    done = plan.total_points - plan.todo_points
    progress.message(
        f"suite {suite.label}: {plan.total_points} points, {done} already recorded, {plan.todo_points} to measure"
        + (f" in a time budget of {format_duration(time_budget_s)}" if time_budget_s else "")
    )
    left_out = allocation.left_out if allocation and replanner is None else {}
    deadline = time.monotonic() + time_budget_s if time_budget_s else None  # the sweep starts its clock now
    progress.start(plan.todo_points + sum(len(v) for v in left_out.values()), deadline=deadline)
    with RunFile(path) as run_file:
        try:
            if cluster is not None:
                from scaleboard.runner.cluster import run_sweep_ray

                options, nodes, queue = cluster
                result = run_sweep_ray(plan, run_file, progress, device_type=device_type, options=options,
                                       nodes=nodes, memory_limit=suite.memory_limit, queue=queue)  # fmt: skip
            else:
                result = run_sweep(
                    plan,
                    run_file,
                    progress,
                    device_type=device_type,
                    memory_limit_bytes=limit,
                    time_budget_s=time_budget_s,
                    planned_s=allocation.costs if allocation else None,
                    left_out=left_out,
                    worker=worker,
                    replanner=replanner,
                )
        finally:
            progress.stop()
    wall_s = time.monotonic() - started
    progress.summary(plan.existing + result.records)
    share = result.measuring_s / wall_s if wall_s > 0 else 0.0
    estimate = f"estimate {format_duration(allocation.estimate_s)}, actual " if allocation else ""
    progress.message(
        f"time: {estimate}{format_duration(wall_s)}; measuring (first calls, warm-up, timed iterations) "
        f"{format_duration(result.measuring_s)} = {share:.0%} of it; "
        + (
            f"{len(set(result.placements.values()))} Ray node(s) used"
            if cluster
            else f"{result.workers} measuring process(es) started"
        )
    )
    where = f"{run_file.count} records written to {path}" if run_file.count else "no new records"
    progress.message(where)
    if run_file.count:
        write_run_summary(
            path,
            {
                "time_budget_s": suite.time_budget_s,
                "left_after_probes_s": round(time_budget_s, 3) if time_budget_s is not None else None,
                "estimate_s": round(allocation.estimate_s, 3) if allocation else None,
                "wall_s": round(wall_s, 3),
                "sweep_wall_s": round(result.wall_s, 3),
                "measuring_s": round(result.measuring_s, 3),
                "measuring_share": round(share, 4),
                "workers_started": result.workers,
                "group_wall_s": [round(w, 3) for w in result.group_walls],
                "seq_len": suite.seq_len,
                "not_measured_budget": sorted(
                    {
                        f"{r['optimization']}/{r['precision']}/{r['attention']} t{r['threads']}"
                        for r in result.records
                        if r["status"] == "budget"
                    }
                ),
                "stopped_by": result.stopped_by,
            },
        )
    budget_left = sum(1 for r in result.records if r["status"] == "budget")
    if result.stopped_by in ("SIGINT", "SIGTERM"):
        progress.message(
            f"stopped ({result.stopped_by}): {result.not_measured} points not measured; "
            f"resume with:\n  {resume_command(args)}"
        )
    elif budget_left:
        progress.message(
            f"{budget_left} points not measured (budget), recorded as such; a larger --time-budget "
            f"measures them without repeating the rest:\n  {resume_command(args)}"
        )
    return result.exit_code
