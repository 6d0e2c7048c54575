"""How much of a sweep's wall time is measuring? (goal: ≥ 0.9, the first process start excluded)

Runs a fixed small sweep through the real runner — one reused measuring process, the model
and reference cache, every record validated — and prints, per group, its wall time in the
worker, the time spent measuring (first calls, warm-up and timed iterations, as
``scaleboard.runner.sweep.measuring_time_s`` counts them) and the rest (set-up: loading the
cached model, applying the precision, the reference; per point: input, memory probes,
the correctness check). Then the share for the whole sweep, with and without the first
process start (importing torch in a fresh process).

    .venv/bin/python benchmarks/harness_overhead.py                  # distilgpt2, eager+torchscript × fp32+int8
    .venv/bin/python benchmarks/harness_overhead.py --model tiny-gpt2 --batch-sizes 1,2,4,8,16

The records go to a temporary folder; the model cache is the user's (``SCALEBOARD_CACHE``),
so a second run shows the cached set-up. ``--cold`` uses an empty cache instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="distilgpt2", help="preset or local model directory (default: distilgpt2)")
    parser.add_argument(
        "--optimizations", default="eager,torchscript", help="comma-separated (default: eager,torchscript)"
    )
    parser.add_argument(
        "--precisions", default="fp32,int8-dynamic", help="comma-separated (default: fp32,int8-dynamic)"
    )
    parser.add_argument("--batch-sizes", default="1,2,4,8", help="batch sizes (default: 1,2,4,8)")
    parser.add_argument("--seq-len", type=int, default=32, help="tokens per sample (default: 32)")
    parser.add_argument("--threads", default="2", help="thread counts (default: 2)")
    parser.add_argument("--min-time", type=float, default=0.5, help="budget.min_time_s per point (default: 0.5)")
    parser.add_argument("--cold", action="store_true", help="start from an empty model and reference cache")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="scaleboard-overhead-") as tmp:
        if args.cold:
            os.environ["SCALEBOARD_CACHE"] = str(Path(tmp) / "cache")
        run(args, Path(tmp))


def run(args: argparse.Namespace, tmp: Path) -> None:
    from rich.console import Console

    from scaleboard.runner import environment
    from scaleboard.runner.isolate import ChildOptions, Worker
    from scaleboard.runner.planner import Probe, allocate, probe_key
    from scaleboard.runner.progress import Progress
    from scaleboard.runner.store import Index, RunFile
    from scaleboard.runner.suite import parse_suite
    from scaleboard.runner.sweep import build_groups, make_plan, measuring_time_s, run_sweep

    suite = parse_suite(
        f"label: overhead\nmodels: [{args.model}]\noptimizations: [{args.optimizations}]\n"
        f"precisions: [{args.precisions}]\nbatch_sizes: {args.batch_sizes}\nseq_len: {args.seq_len}\n"
        f"threads: [{args.threads}]\nbudget: {{warmup_iterations: 1, min_iterations: 3, min_time_s: {args.min_time}, "
        "max_time_s: 2.0, point_timeout_s: 60}\n",
        "harness_overhead",
    )
    device, env, machine = environment.collect("cpu", None)
    groups = build_groups(suite, run_id="overhead", machine=machine, device=device, env=env)
    # the order a planned run uses: groups of one model and precision together (see scaleboard.runner.planner)
    free = {probe_key(g): Probe(0.0, 1, 1, g.seq_len) for g in groups}
    plan = make_plan(allocate(groups, free, budget_s=1e9).groups, Index())
    progress = Progress(quiet=True, console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
    load = os.getloadavg()[0]
    with Worker(ChildOptions()) as worker, RunFile(tmp / "run.jsonl") as run_file:
        started = time.monotonic()
        result = run_sweep(plan, run_file, progress, device_type="cpu", worker=worker)
        wall = time.monotonic() - started
        startup = worker.startup_s[0] if worker.startup_s else 0.0
    print(f"{machine}, load average {load:.2f} at start; {len(groups)} groups, {plan.todo_points} points")
    print(f"{'group':46} {'wall s':>7} {'measuring s':>12} {'rest s':>7}")
    rests = []
    for spec, group_wall in zip(plan.todo, result.group_walls, strict=False):
        records = [r for r in result.records if r["optimization"] == spec.optimization and r["precision"] == spec.precision
                   and r["threads"] == spec.threads]  # fmt: skip
        measuring = sum(measuring_time_s(r) for r in records)
        rests.append(group_wall - measuring)
        print(f"{spec.label:46} {group_wall:7.2f} {measuring:12.2f} {group_wall - measuring:7.2f}")
    statuses = sorted({r["status"] for r in result.records})
    print(f"statuses: {', '.join(statuses)}; measuring processes started: {result.workers}")
    print(f"first process start (import torch): {startup:.2f} s")
    print(f"per-group set-up and checks: median {statistics.median(rests):.2f} s, max {max(rests):.2f} s")
    print(f"measuring share of sweep wall time: {result.measuring_s / wall:.3f} "
          f"({result.measuring_s:.1f} s of {wall:.1f} s)")  # fmt: skip
    print(f"excluding the first process start:  {result.measuring_s / (wall - startup):.3f} (goal ≥ 0.9)")


if __name__ == "__main__":
    main()
