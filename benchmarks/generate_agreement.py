"""Does task generate time what a user times? (goal: ratios within ±5%)

For each batch size, measures one ``task: generate`` point with the runner (in this process,
``scaleboard.runner.group.run_group``, eager fp32) and then, on the same model, input and
settings, times ``model.generate(...)`` directly with ``time.perf_counter``:

- end to end: the record's p50 against the median of direct ``generate(max_new_tokens=N)`` calls;
- TTFT: the record's TTFT p50 (from the step hook inside the timed calls) against the median of
  direct ``generate(max_new_tokens=1)`` calls (prefill and one token).

Prints both ratios per batch size. The machine is shared: run it twice before trusting a ratio.

    .venv/bin/python benchmarks/generate_agreement.py                        # gpt2, b1 and b4, 32 + 16 tokens
    .venv/bin/python benchmarks/generate_agreement.py --model tiny-gpt2 --batch-sizes 1,8
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gpt2", help="a causal LM preset or local directory (default: gpt2)")
    parser.add_argument("--batch-sizes", default="1,4", help="comma-separated (default: 1,4)")
    parser.add_argument("--seq-len", type=int, default=32, help="prompt tokens per sample (default: 32)")
    parser.add_argument("--new-tokens", type=int, default=16, help="tokens generated per sample (default: 16)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (default: 2)")
    parser.add_argument("--calls", type=int, default=10, help="direct calls per timing (default: 10)")
    return parser.parse_args()


def direct_ms(model, ids, kwargs: dict, calls: int) -> float:
    import torch

    mask = torch.ones_like(ids)
    model.generate(ids, attention_mask=mask, **kwargs)  # warm-up
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        model.generate(ids, attention_mask=mask, **kwargs)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def main() -> None:
    args = parse_args()
    import torch

    from scaleboard.runner import environment, families, generate, group, models, quality
    from scaleboard.runner.spec import Budget, GroupSpec

    torch.set_num_threads(args.threads)
    device, env, machine = environment.collect("cpu")
    budget = Budget(warmup_iterations=2, min_iterations=args.calls, max_iterations=args.calls, min_time_s=0.0,
                    max_time_s=600.0, point_timeout_s=600.0)  # fmt: skip
    loaded = models.load_model(args.model, "sdpa", "cpu")
    config = loaded.model.config
    rows = quality.quality_input(families.FAMILIES["causal-lm"], config, args.seq_len, "cpu")
    print(f"{args.model}, eager fp32, {args.seq_len} prompt tokens + {args.new_tokens} new, {args.threads} threads, "
          f"load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(
        f"{'batch':>5}  {'runner p50':>11}  {'direct':>9}  {'ratio':>6}  {'TTFT p50':>9}  {'gen(1)':>9}  {'ratio':>6}"
    )
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        spec = GroupSpec(
            run_id="generate-agreement", suite="bench", machine=machine, model=args.model, optimization="eager",
            precision="fp32", attention="sdpa", threads=args.threads, batch_sizes=(batch,), seq_len=args.seq_len,
            device=device, env=env, task="generate", new_tokens=args.new_tokens, budget=budget,
        )  # fmt: skip
        records: list[dict] = []
        group.run_group(spec, records.append)
        record = records[0]
        if record["status"] != "ok":
            print(f"{batch:>5}  {record['status']}: {record['reason']}")
            continue
        ids = quality.tile_rows(rows, batch)
        eos = config.eos_token_id
        with torch.inference_mode():
            whole = direct_ms(loaded.model, ids, generate.generate_kwargs(args.new_tokens, eos), args.calls)
            first = direct_ms(loaded.model, ids, generate.generate_kwargs(1, eos), args.calls)
        p50, ttft = record["latency_ms"]["p50"], record["generation"]["ttft_ms"]["p50"]
        print(f"{batch:>5}  {p50:9.1f} ms  {whole:6.1f} ms  {p50 / whole:6.3f}  {ttft:6.1f} ms  {first:6.1f} ms"
              f"  {ttft / first:6.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
