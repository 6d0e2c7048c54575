"""How much does a training step cost against a forward pass? (rule of thumb: about 3×)

Measures, with the runner in this process (``scaleboard.runner.group.run_group``, eager fp32),
a ``task: forward`` point and a ``task: train`` point (forward with labels, backward, AdamW
step) of the same model at the same batch sizes, and prints both medians and their ratio.
Backward costs about twice the forward's matmuls, so a step is about 3× a forward; AdamW's
update and the gradient memory traffic add to it, most visibly at small batches.

    .venv/bin/python benchmarks/train_vs_forward.py                          # gpt2, b1 and b4, 64 tokens
    .venv/bin/python benchmarks/train_vs_forward.py --model tiny-bert --batch-sizes 1,8
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gpt2", help="preset or local model directory (default: gpt2)")
    parser.add_argument("--batch-sizes", default="1,4", help="comma-separated (default: 1,4)")
    parser.add_argument("--seq-len", type=int, default=64, help="tokens per sample (default: 64)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default: 2)")
    parser.add_argument("--iterations", type=int, default=10, help="timed calls per point (default: 10)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    from scaleboard.runner import environment, group, models
    from scaleboard.runner.spec import Budget, GroupSpec

    device, env, machine = environment.collect("cpu")
    budget = Budget(warmup_iterations=2, min_iterations=args.iterations, max_iterations=args.iterations,
                    min_time_s=0.0, max_time_s=600.0, point_timeout_s=600.0)  # fmt: skip
    info = models.input_of(args.model)
    batches = tuple(int(b) for b in args.batch_sizes.split(","))
    medians: dict[str, dict[int, float]] = {}
    for task in ("forward", "train"):
        spec = GroupSpec(
            run_id="train-vs-forward", suite="bench", machine=machine, model=args.model, optimization="eager",
            precision="fp32", attention="sdpa" if info["attention"] else None, threads=args.threads,
            batch_sizes=batches, seq_len=args.seq_len, device=device, env=env, task=task, budget=budget,
            family=info["family"], image_shape=info["image_shape"],
        )  # fmt: skip
        records: list[dict] = []
        group.run_group(spec, records.append)
        medians[task] = {r["batch_size"]: r["latency_ms"]["p50"] for r in records if r["status"] == "ok"}
    print(f"{args.model}, eager fp32, seq {args.seq_len}, {args.threads} threads, load {os.getloadavg()[0]:.2f}")
    print(f"{'batch':>5}  {'forward p50':>12}  {'train step p50':>15}  {'step / forward':>14}")
    for batch in batches:
        forward, step = medians["forward"].get(batch), medians["train"].get(batch)
        if forward is None or step is None:
            print(f"{batch:>5}  not measured")
            continue
        print(f"{batch:>5}  {forward:9.1f} ms  {step:12.1f} ms  {step / forward:14.2f}")


if __name__ == "__main__":
    main()
