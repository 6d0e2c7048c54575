"""Does the runner's measure() agree with torch.utils.benchmark? (goal: medians within ±2%)

Measures one point twice in the same process — once with ``scaleboard.runner.measure.measure`` (the
timing every record uses) and once with ``torch.utils.benchmark.Timer.blocked_autorange``
— on the same callable and input, alternating ``--rounds`` times, and prints both medians
and their ratio. The machine is shared: compare rounds before trusting one ratio.

    .venv/bin/python benchmarks/timer_agreement.py                      # gpt2, eager fp32, b1, seq 128, 2 threads
    .venv/bin/python benchmarks/timer_agreement.py --model tiny-gpt2 --batch-size 8
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gpt2", help="preset or local model directory (default: gpt2)")
    parser.add_argument("--optimization", default="eager", help="optimization name (default: eager)")
    parser.add_argument("--precision", default="fp32", help="precision name (default: fp32)")
    parser.add_argument("--attention", default="sdpa", help="attention implementation (default: sdpa)")
    parser.add_argument("--batch-size", type=int, default=1, help="samples per call (default: 1)")
    parser.add_argument("--seq-len", type=int, default=128, help="tokens per sample (default: 128)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default: 2)")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds of timing per method and round")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds of both methods (default: 10)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import torch
    from torch.utils.benchmark import Timer

    from scaleboard.runner import models, optimizations
    from scaleboard.runner.measure import measure
    from scaleboard.runner.spec import Budget

    torch.set_num_threads(args.threads)
    budget = Budget(
        warmup_iterations=2,
        min_iterations=3,
        max_iterations=10_000,
        min_time_s=args.min_time,
        max_time_s=10 * args.min_time,
        point_timeout_s=600.0,
    )
    with torch.inference_mode():  # thread-local: covers the Timer's statement too
        model = optimizations.apply_precision(
            models.load_model(args.model, args.attention, "cpu").model, args.precision
        )
        ids = torch.randint(
            0, model.config.vocab_size, (args.batch_size, args.seq_len), generator=torch.Generator().manual_seed(0)
        )
        fn = optimizations.build(model, args.optimization, args.precision, ids)
        fn(ids)  # trace / compile cost out of the way for both methods
        timer = Timer(stmt="fn(ids)", globals={"fn": fn, "ids": ids}, num_threads=args.threads)
        print(
            f"{args.model} {args.optimization}/{args.precision}/{args.attention} batch {args.batch_size} "
            f"seq {args.seq_len} threads {args.threads}, load average {os.getloadavg()[0]:.2f}"
        )
        ours_ms, theirs_ms = [], []
        for round_ in range(1, args.rounds + 1):  # interleaved: slow drifts in load hit both methods alike
            ours = measure(lambda: fn(ids), budget=budget)
            theirs = timer.blocked_autorange(min_run_time=args.min_time)
            ours_ms += ours.samples_ms
            theirs_ms += [t * 1000.0 for t in theirs.times]
            print(
                f"round {round_}: runner p50 {ours.stats()['p50']:9.3f} ms ({ours.iterations} iterations)   "
                f"blocked_autorange median {theirs.median * 1000:9.3f} ms ({theirs.number_per_run}×{len(theirs.times)})"
            )
    ratio = statistics.median(ours_ms) / statistics.median(theirs_ms)
    verdict = "within" if abs(ratio - 1) <= 0.02 else "OUTSIDE"
    print(
        f"pooled medians: runner {statistics.median(ours_ms):.3f} ms, blocked_autorange "
        f"{statistics.median(theirs_ms):.3f} ms, ratio {ratio:.4f} ({(ratio - 1) * 100:+.1f}%): {verdict} ±2%"
        f"   (load average now {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
