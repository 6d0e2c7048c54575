"""How often does ``scaleboard compare`` cry wolf, and does it catch a real 10%? (goals: ≤ 5%, ≥ 95%)

Runs ``scaleboard run --repeats 2K`` ``--runs`` times on small real points (tiny-gpt2 and gpt2,
batch 1, eager and TorchScript, fp32, 2 threads). In each run, passes 1..K are side A and
passes K+1..2K side B, so every point gives one A/A comparison between processes of the same
code on the same machine: a ``regressed`` or ``improved`` verdict is a false positive. Then
side B's samples are made 10% slower (multiplied by 1.10: a known slowdown applied to real
samples, not a slower callable) and the same comparison should say ``regressed``.

Prints the false-positive rate and the detection rate with their counts, at compare's
default threshold (5%).

    .venv/bin/python benchmarks/compare_calibration.py                 # 4 runs, K = 3
    .venv/bin/python benchmarks/compare_calibration.py --runs 10 --per-side 3
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

SLOWDOWN = 1.10


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="separate scaleboard runs (default: 4)")
    parser.add_argument("--per-side", type=int, default=3, help="passes (processes) per side (default: 3)")
    parser.add_argument("--models", default="tiny-gpt2,gpt2", help="comma-separated (default: tiny-gpt2,gpt2)")
    parser.add_argument("--optimizations", default="eager,torchscript", help="comma-separated")
    parser.add_argument("--threshold", type=float, default=0.05, help="compare's threshold (default: 0.05)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from scaleboard.compare import compare
    from scaleboard.record import data_files, load_records

    verdicts: dict[str, list[str]] = defaultdict(list)
    with tempfile.TemporaryDirectory(prefix="scaleboard-calibration-") as tmp:
        for run in range(args.runs):
            out = Path(tmp) / f"run{run}"
            command = [
                sys.executable, "-m", "scaleboard", "run", "--models", args.models,
                "--optimizations", args.optimizations, "--precisions", "fp32", "--batch-sizes", "1",
                "--threads", "2", "--seq-len", "32", "--repeats", str(2 * args.per_side),
                "--time-budget", "none", "--out", str(out), "--quiet",
            ]  # fmt: skip
            print(f"run {run + 1}/{args.runs} (load {os.getloadavg()[0]:.2f}) …", flush=True)
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            records = [r for r in load_records(data_files(out)).records if r["status"] == "ok"]
            side_a = [r for r in records if r["repeat"] <= args.per_side]
            side_b = [r for r in records if r["repeat"] > args.per_side]
            slower = [{**r, "samples_ms": [s * SLOWDOWN for s in r["samples_ms"]]} for r in side_b]
            for label, new in (("A/A", side_b), ("+10%", slower)):
                for row in compare(side_a, new, args.threshold):
                    verdicts[label].append(row.verdict)
                    print(f"  {label:5} {row.config:58} ratio {row.ratio:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}] "
                          f"p {row.p_value:.3g}  {row.verdict}")  # fmt: skip
    aa, slow = verdicts["A/A"], verdicts["+10%"]
    false_positives = sum(v in ("regressed", "improved") for v in aa)
    detected = sum(v == "regressed" for v in slow)
    print(f"{args.per_side} processes a side, threshold {args.threshold:.0%}, models {args.models}, "
          f"{args.optimizations}, batch 1, seq 32, 2 threads")  # fmt: skip
    print(f"A/A false positives: {false_positives}/{len(aa)} = {false_positives / max(len(aa), 1):.1%} (goal ≤ 5%)")
    print(f"10% slowdown detected: {detected}/{len(slow)} = {detected / max(len(slow), 1):.1%} (goal ≥ 95%)")


if __name__ == "__main__":
    main()
