"""Kill a real sweep with SIGKILL at random moments, resume it, and check nothing was lost or duplicated.

    .venv/bin/python benchmarks/kill_resume.py [--kills 4] [--seed 1] [--keep DIR]

1. An uninterrupted ``scaleboard run`` of a small tiny-gpt2 suite gives the reference point set.
2. The same command runs into a fresh folder and is SIGKILLed after a random delay,
   ``--kills`` times, each time resumed with the same command; then it runs to the end.
3. The final records must hold exactly the reference's points (``scaleboard.record.point_key``),
   each once, and no measuring child may outlive a killed runner.

Prints each kill (when, records on disk, orphans) and PASS or FAIL (exit status 0 or 1).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from scaleboard.record import data_files, load_records, point_key

SUITE = """\
label: kill-resume
models: [tiny-gpt2]
optimizations: [eager, torchscript]
precisions: [{precisions}]
attention: [sdpa]
batch_sizes: {batch_sizes}
seq_len: 8
threads: [1]
budget: {{warmup_iterations: 1, min_iterations: 3, max_iterations: 20, min_time_s: 0.05, max_time_s: 0.3,
          point_timeout_s: 10, hard_timeout_s: 120}}
"""
SCALEBOARD = [sys.executable, "-m", "scaleboard"]


def run(suite: Path, out: Path, kill_after_s: float | None = None) -> tuple[int, float, int]:
    """Run the sweep; with ``kill_after_s``, SIGKILL it then. Returns (exit status, seconds, pid)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [*SCALEBOARD, "run", str(suite), "--out", str(out), "--quiet"]
    start = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=kill_after_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, -signal.SIGKILL):
        print(stderr[-2000:], file=sys.stderr)
    return proc.returncode, time.monotonic() - start, proc.pid


def keys_of(out: Path) -> tuple[Counter, int]:
    """Point keys of every record under ``out`` (with counts) and the number of load problems."""
    loaded = load_records(data_files(out))
    return Counter(point_key(r) for r in loaded.records), len(loaded.problems)


def orphans(runner_pid: int) -> list[int]:
    """Measuring children of a killed runner that still run (not zombies)."""
    import psutil

    marker = f"--parent-pid {runner_pid}"
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "status"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "scaleboard.runner.child" in cmdline and marker in cmdline and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc.info["pid"])
    return found


def orphans_after_kill(runner_pid: int) -> list[int]:
    for _ in range(30):  # PR_SET_PDEATHSIG delivers at once; allow for slow process teardown
        left = orphans(runner_pid)
        if not left:
            return []
        time.sleep(0.2)
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=4, help="how many times to SIGKILL the runner (default 4)")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the kill times")
    parser.add_argument("--batch-sizes", default="1-6", help="batch sizes of the suite (default 1-6)")
    parser.add_argument("--precisions", default="fp32,bf16", help="precisions of the suite (default fp32,bf16)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="kill-resume-") as tmp:
        workdir = Path(args.keep or tmp).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        suite = workdir / "suite.yaml"
        suite.write_text(SUITE.format(batch_sizes=args.batch_sizes, precisions=args.precisions))
        return check(workdir, suite, args.kills, rng)


def check(workdir: Path, suite: Path, kills: int, rng: random.Random) -> int:
    status, reference_s, _ = run(suite, workdir / "reference")
    reference, _ = keys_of(workdir / "reference")
    print(f"reference: uninterrupted run, exit {status}, {reference_s:.1f} s, {sum(reference.values())} records")
    failures = [] if status == 0 else [f"the reference run exited with {status}"]
    out = workdir / "killed"
    for attempt in range(1, kills + 1):
        done = sum(keys_of(out)[0].values())
        remaining_s = reference_s * (1 - done / max(1, sum(reference.values())))
        delay_s = rng.uniform(0.5, max(3.0, remaining_s))  # a moment while work is left
        status, _, pid = run(suite, out, kill_after_s=delay_s)
        found, problems = keys_of(out)
        left = orphans_after_kill(pid)
        outcome = "SIGKILL" if status == -signal.SIGKILL else f"finished first (exit {status})"
        print(
            f"kill {attempt}: after {delay_s:5.1f} s → {outcome}; {sum(found.values()):3} records on disk, "
            f"{problems} load warnings, {len(left)} orphaned children"
        )
        if left:
            failures.append(f"kill {attempt}: children {left} outlived the runner")
    status, seconds, _ = run(suite, out)
    final, problems = keys_of(out)
    print(f"final resume: exit {status}, {seconds:.1f} s, {sum(final.values())} records, {problems} load warnings")
    failures += compare(reference, final)
    for failure in failures:
        print(f"  ✗ {failure}")
    print("PASS" if not failures else "FAIL")
    return 0 if not failures else 1


def compare(reference: Counter, final: Counter) -> list[str]:
    problems = []
    duplicated = [key for key, count in final.items() if count > 1]
    if duplicated:
        problems.append(f"{len(duplicated)} points recorded more than once, e.g. {duplicated[0]}")
    if set(final) - set(reference):
        problems.append(f"{len(set(final) - set(reference))} points not in the reference run")
    if set(reference) - set(final):
        problems.append(f"{len(set(reference) - set(final))} reference points missing after resume")
    if not problems:
        print(f"  ✓ the final record set equals the reference's {len(reference)} points exactly, each once")
    return problems


if __name__ == "__main__":
    sys.exit(main())
