"""How fast `scaleboard build` is on a large synthetic data set, and how heavy its pages are.

Synthesises ≈ 20 models × 4 machines × 12 configurations × 37 batch sizes ≈ 35k records
(scaleboard.generator.synthetic; made-up numbers of a plausible shape) into a temporary project,
builds it cold (no .scaleboard-cache/), again with nothing changed, and again after one data
file changed, and prints seconds per phase (read → gather → render → write), pages, the
largest page and the gzipped size of the largest model page and of the leaderboard. The cold
build and the one after a change are also timed as the ``scaleboard build`` command, in a new
process: the interpreter's start, the imports and the exit counted too.
Goals: cold ≤ 3 s and one file changed ≤ 1 s on 2 cores; a model page and the leaderboard
≤ 150 KB gzipped (plotly.js, written once under assets/ and cached by the browser, not counted).

    .venv/bin/python benchmarks/build_speed.py [--models 20] [--machines 4] [--threads 1] [--repeats 1] [--jobs N] [--keep DIR]
        [--instructions]

``--instructions`` also counts the instructions of one cold ``-j 1`` build under valgrind's
callgrind (``apt install valgrind``): the same count, within about 1 % (hash seeds), on a fast
or a slow machine, where wall and CPU times on a shared virtual machine move by a third from
one hour to the next. It runs about 50 times slower than the build (5 minutes for the default
set).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scaleboard.generator import synthetic
from scaleboard.generator.build import build
from scaleboard.generator.cache import DIR_NAME as CACHE_DIR
from scaleboard.generator.cli_options import default_jobs

MACHINES = (
    synthetic.machine("epyc-2c", "cpu", 8, 1.0),
    synthetic.machine("NVIDIA T4", "cuda", 16, 6.0),
    synthetic.machine("NVIDIA A100 80GB PCIe", "cuda", 80, 20.0),
    synthetic.machine("NVIDIA H100 80GB HBM3", "cuda", 80, 45.0),
)


def make_project(root: Path, models: int, machines: int, threads: tuple[int, ...], repeats: int = 1) -> int:
    names = [(f"model-{i:02d}", 20_000_000 * (i + 1)) for i in range(models)]
    records = synthetic.dataset(models=names, machines=MACHINES[:machines], threads=threads)
    if repeats > 1:
        records = with_repeats(records, repeats)
    for model, _ in names:  # one file per model, as several runs would write
        synthetic.write_jsonl((r for r in records if r["model"] == model), root / "data" / f"{model}.jsonl")
    return len(records)


def with_repeats(records: list[dict], repeats: int) -> list[dict]:
    """Each point measured in ``repeats`` processes, as ``scaleboard run --repeats`` writes them:
    one record per pass, its samples a little apart (the build pools them, with a two-stage
    bootstrap interval per point)."""
    rng = random.Random(0)
    out = []
    for record in records:
        for repeat in range(1, repeats + 1):
            drift = 1 + 0.02 * rng.random()
            out.append({**record, "repeat": repeat, "samples_ms": [s * drift for s in record["samples_ms"]]})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=20, help="number of models (default 20)")
    parser.add_argument("--machines", type=int, default=4, choices=range(1, 5), help="number of machines (default 4)")
    parser.add_argument("--threads", default="1", help="CPU thread counts, comma-separated (default 1)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="records per point, as run --repeats N writes (default 1)"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help=f"scaleboard build -j: processes (default {default_jobs()}, as the CLI)",
    )
    parser.add_argument("--keep", metavar="DIR", help="build in DIR and keep it (default: a temporary directory)")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count the instructions of a cold -j 1 build under valgrind (slow; the same on any machine speed)",
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind: apt install valgrind")
    threads = tuple(int(t) for t in args.threads.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
        count = make_project(root, args.models, args.machines, threads, args.repeats)
        alone, together = reference_ms(max(1, args.jobs))
        cold, cpu = timed(lambda: build(root, out=root / "site", jobs=args.jobs))
        report(root / "site", count, cold, cpu, args.jobs)
        at_once = f", {together:.0f} ms in each of {args.jobs} processes at once" if args.jobs > 1 else ""
        print(f"machine speed:         a fixed loop took {alone:.0f} ms alone{at_once}, just before (lower is faster)")
        command = command_seconds(root, args.jobs, cold=True)
        print(f"cold, as a command:    {command:.2f} s wall (a new process: its start, imports and exit too)")
        warm, _ = timed(lambda: build(root, out=root / "site", jobs=args.jobs))
        changed = change_one_file(root)
        incremental, _ = timed(lambda: build(root, out=root / "site", jobs=args.jobs))
        print(f"no change, cached:     {line(warm)}")
        print(f"one file changed:      {line(incremental)}  ({changed}; goal ≤ 1 s)")
        change_one_file(root)
        print(f"  as a command:        {command_seconds(root, args.jobs, cold=False):.2f} s wall (the same line again)")
        if args.instructions:
            print(f"instructions:          {count_instructions(root) / 1e9:.2f} G for a cold -j 1 build (callgrind)")


def command_seconds(root: Path, jobs: int, cold: bool) -> float:
    """Wall seconds of ``scaleboard build`` run as a user runs it, in a new process (``cold``:
    without the build cache)."""
    if cold:
        shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    where = ["-C", str(root), "--out", str(root / "site"), "-j", str(jobs)]
    command = [sys.executable, "-m", "scaleboard", "build", *where]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def count_instructions(root: Path) -> int:
    """The instructions a cold ``-j 1`` build of ``root`` executes, counted by callgrind."""
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    code = f"from pathlib import Path; from scaleboard.generator.build import build; build(Path({str(root)!r}), jobs=1)"
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _loop(_: int = 0) -> float:
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i % 7
    return time.perf_counter() - started


def reference_ms(processes: int) -> tuple[float, float]:
    """A fixed pure-Python loop's best of 3 timings in ms, alone and in each of ``processes`` at
    once. A virtual machine's speed changes from one minute to the next at the same load
    average (other tenants, CPU steal): the speed of one core, and how much of a second one it
    gives, by up to half here. They say how the machine was just before; it can change during
    the build too, so compare builds over several runs, taken in turn."""
    import multiprocessing

    alone = min(_loop() for _ in range(3))
    if processes < 2:
        return alone * 1000, alone * 1000
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        together = min(max(pool.map(_loop, range(processes))) for _ in range(3))
    return alone * 1000, together * 1000


def timed(run):
    cpu_started = _cpu_seconds()
    result = run()
    return result, _cpu_seconds() - cpu_started


def line(result) -> str:
    phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in result.phases.items())
    reused = f"{result.cache_hits} reused, {result.cache_misses} made"
    return f"{result.seconds:.2f} s wall ({phases}); cache: {reused}"


def change_one_file(root: Path) -> str:
    """Change one record of one data file as a re-run of that point would: a later date and a
    different measurement (its batch-1 latency 25% higher, so its model's speed-ups, leaderboard
    rows and compare section change too)."""
    path = sorted((root / "data").glob("*.jsonl"))[0]
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["created_at"] = "2026-11-02T00:00:00Z"
    record["latency_ms"] = {name: value * 1.25 for name, value in record["latency_ms"].items()}
    record["samples_ms"] = [value * 1.25 for value in record["samples_ms"]]
    record["throughput"] = {name: value / 1.25 if value else value for name, value in record["throughput"].items()}
    lines[0] = json.dumps(record, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    return f"{path.name}, line 1 re-measured"


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the build's worker processes):
    unlike wall time, it barely moves when other work shares the machine."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def report(site: Path, records: int, result, cpu: float, jobs: int) -> None:
    seconds, pages = result.seconds, result.pages
    html = [p for p in site.rglob("*.html")]
    largest = max(html, key=lambda p: p.stat().st_size)
    models = [p for p in html if p.relative_to(site).parts[0] == "models"]
    largest_model = max(models, key=lambda p: p.stat().st_size)
    gz = len(gzip.compress(largest_model.read_bytes(), compresslevel=6))
    print(f"records:               {records}")
    print(f"cold build (-j {jobs}):     {seconds:.2f} s wall, {cpu:.2f} s CPU (all processes), {os.cpu_count()} CPUs")
    print(f"  phases:              {', '.join(f'{name} {s:.2f} s' for name, s in result.phases.items())} (goal ≤ 3 s)")
    print(f"load average (1 min):  {os.getloadavg()[0]:.1f}")
    print(f"pages:                 {pages} ({len(html)} HTML files)")
    print(f"largest page:          {largest.relative_to(site)} {largest.stat().st_size / 1024:.0f} KiB")
    print(f"largest model page:    {largest_model.relative_to(site)} {largest_model.stat().st_size / 1024:.0f} KiB")
    print(f"  gzipped:             {gz / 1024:.1f} KiB (goal ≤ 150 KB)")
    board = site / "leaderboard" / "index.html"
    board_gz = len(gzip.compress(board.read_bytes(), compresslevel=6))
    print(
        f"leaderboard:           {board.stat().st_size / 1024:.0f} KiB, gzipped {board_gz / 1024:.1f} KiB (goal ≤ 150 KB)"
    )


if __name__ == "__main__":
    main()
