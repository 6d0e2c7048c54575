"""What `--executor ray` costs on one machine: the same small sweep locally and on a local Ray instance.

Measures tiny-gpt2 by default (eager and TorchScript, fp32, batch 1-8, 32 tokens, 1 thread) with
`scaleboard run` twice into fresh folders, once with `--executor local` and once with
`--executor ray` (a local Ray instance started by the command, one group per node), and
prints the wall times and their ratio. Goal: Ray adds at most 10% on one node.

    .venv/bin/python benchmarks/ray_overhead.py [--models tiny-gpt2] [--batch-sizes 1-8] [--threads 1]
                                                [--seq-len 32] [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def run(executor: str, out: str, args: argparse.Namespace) -> float:
    command = [
        sys.executable, "-m", "scaleboard", "run", "--models", args.models, "--optimizations", args.optimizations,
        "--precisions", "fp32", "--batch-sizes", args.batch_sizes, "--threads", args.threads, "--seq-len", args.seq_len,
        "--time-budget", "none", "--out", out, "--quiet", "--executor", executor,
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="tiny-gpt2")
    parser.add_argument("--optimizations", default="eager,torchscript")
    parser.add_argument("--batch-sizes", default="1-8")
    parser.add_argument("--threads", default="1")
    parser.add_argument("--seq-len", default="32")
    parser.add_argument("--rounds", type=int, default=1, help="local/ray pairs, alternating (default 1)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    walls: dict[str, list[float]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for executor in ("local", "ray"):
                wall = run(executor, os.path.join(tmp, f"{executor}-{i}"), args)
                walls[executor].append(wall)
                print(f"round {i + 1} {executor:5}: {wall:6.1f} s")
    local, ray = min(walls["local"]), min(walls["ray"])
    print(
        f"best local {local:.1f} s, best ray {ray:.1f} s: ratio {ray / local:.3f} (goal <= 1.10); "
        f"Ray adds {ray - local:.1f} s"
    )
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
