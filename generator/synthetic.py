"""Synthetic records that pass ``scaleboard.record.validate``: for tests, benchmarks and demos.

The numbers follow a simple, plausible shape (latency grows with batch size, shrinks
with threads and optimizations; memory grows with batch size until an OOM wall; int8
disagrees with fp32 on ~17 % of next tokens, as measured in FINDINGS-style runs) but
they are made up: every record says ``suite`` and ``machine`` as given, and nothing
here measures anything. Deterministic: the same arguments give the same records.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from scaleboard.record import MAX_SAMPLES, SCHEMA
from scaleboard.stats import stability

#: Twelve configurations: (optimization, precision, attention, speed factor, first call s).
CONFIGS = (
    ("eager", "fp32", "sdpa", 1.0, 0.3),
    ("eager", "fp32", "eager", 0.95, 0.3),
    ("eager", "bf16", "sdpa", 2.9, 0.4),
    ("eager", "fp16", "sdpa", 2.6, 0.4),
    ("torchscript", "fp32", "sdpa", 1.05, 4.0),
    ("compile", "fp32", "sdpa", 1.6, 22.0),
    ("compile", "bf16", "sdpa", 4.1, 24.0),
    ("compile-reduce-overhead", "fp32", "sdpa", 1.7, 26.0),
    ("compile-reduce-overhead", "bf16", "sdpa", 4.3, 27.0),
    ("compile-max-autotune", "fp32", "sdpa", 1.8, 42.0),
    ("compile-max-autotune", "bf16", "sdpa", 4.5, 45.0),
    ("eager", "int8-dynamic", "sdpa", 2.2, 1.2),
)
BATCH_SIZES = (*range(1, 33), 64, 128, 256, 512, 1024)
GIB = 1024**3


def machine(name: str, kind: str = "cpu", memory_gib: float = 64.0, speed: float = 1.0) -> dict[str, Any]:
    """A machine description: its device and a relative speed."""
    return {"name": name, "type": kind, "memory_bytes": int(memory_gib * GIB), "speed": speed}


DEFAULT_MACHINES = (
    machine("epyc-2c", "cpu", 8, 1.0),
    machine("NVIDIA T4", "cuda", 16, 6.0),
)


def _env(m: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": "3.11.9",
        "torch": "2.13.0",
        "transformers": "5.23.0",
        "scaleboard": "0.1.0",
        "os": "Linux",
    }
    env.update(cpu="AMD EPYC", cores=2) if m["type"] == "cpu" else env.update(cuda="12.8", driver="570.1")
    env["fingerprint"] = hashlib.sha1(json.dumps([env, m["name"]], sort_keys=True).encode()).hexdigest()[:16]
    return env


def make_record(**overrides: Any) -> dict[str, Any]:
    """One valid ``ok`` record; any field can be overridden."""
    m = DEFAULT_MACHINES[0]
    record = {
        "schema": SCHEMA,
        "run_id": "synthetic",
        "created_at": "2026-11-01T00:00:00Z",
        "suite": "default",
        "machine": m["name"],
        "model": "tiny-gpt2",
        "weights": "random",
        "params": 180480,
        "family": "causal-lm",
        "task": "forward",
        "seq_len": 128,
        "new_tokens": None,
        "optimization": "eager",
        "precision": "fp32",
        "attention": "sdpa",
        "threads": 2,
        "batch_size": 1,
        "device": {"type": m["type"], "name": m["name"], "count": 1, "memory_bytes": m["memory_bytes"]},
        "env": _env(m),
        "status": "ok",
        "reason": None,
        "latency_ms": dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), 10.0),
        "samples_ms": [10.0, 10.0, 10.0],
        "iterations": 3,
        "throughput": {"samples_per_s": 100.0, "tokens_per_s": 12800.0},
        "memory": {"peak_rss_bytes": 500_000_000},
        "warmup": {"first_call_s": 0.3, "warmup_s": 0.1},
        "quality": None,
        "energy": None,
        "compute": None,
        "source": {"tool": "scaleboard", "version": "synthetic"},
    }
    record.update(overrides)
    if "input" not in overrides:  # what one sample is follows the (overridden) sequence length
        record["input"] = {"kind": "tokens", "shape": [record["seq_len"]]} if record["seq_len"] else None
    return record


def _quality(precision: str, optimization: str) -> dict[str, Any] | None:
    if (optimization, precision) == ("eager", "fp32"):
        return None
    if precision == "int8-dynamic":
        # int8 dynamic quantization of every linear layer: ~83 % next-token agreement with fp32.
        return {"reference": "eager/fp32", "max_abs_diff": 0.41, "next_token_agreement": 0.83, "ok": False}
    diff = 0.0 if precision == "fp32" else 0.02
    return {"reference": "eager/fp32", "max_abs_diff": diff, "next_token_agreement": 1.0, "ok": True}


def _point(base: dict[str, Any], latency_ms: float, rng: random.Random, seq_len: int) -> dict[str, Any]:
    samples = sorted(latency_ms * rng.uniform(0.97, 1.12) for _ in range(8))
    p50 = samples[len(samples) // 2]
    mean = sum(samples) / len(samples)
    std = (sum((s - mean) ** 2 for s in samples) / len(samples)) ** 0.5
    latency = {"p50": p50, "p90": samples[-2], "p95": samples[-1], "p99": samples[-1] * 1.02}
    latency.update(mean=mean, std=std, min=samples[0], max=samples[-1] * 1.02)
    samples_per_s = base["batch_size"] * 1000.0 / p50
    kept = [round(s, 4) for s in samples[:MAX_SAMPLES]]
    return {
        "latency_ms": {k: round(v, 4) for k, v in latency.items()},
        "samples_ms": kept,
        "stability": stability(kept),  # as the runner writes it
        "iterations": len(samples),
        "throughput": {"samples_per_s": round(samples_per_s, 3), "tokens_per_s": round(samples_per_s * seq_len, 3)},
    }


def group(
    model: str,
    params: int,
    m: dict[str, Any],
    config: tuple[Any, ...],
    threads: int,
    suite: str = "default",
    batch_sizes: Iterable[int] = BATCH_SIZES,
    seq_len: int = 128,
    created_at: str = "2026-11-01T00:00:00Z",
) -> list[dict[str, Any]]:
    """Records of one configuration over rising batch sizes, with an OOM wall when memory runs out."""
    optimization, precision, attention, speed, first_call_s = config
    rng = random.Random(f"{model}/{m['name']}/{optimization}/{precision}/{attention}/{threads}/{suite}")
    weight_bytes = params * (1 if precision == "int8-dynamic" else 4 if precision == "fp32" else 2)
    device = {"type": m["type"], "name": m["name"], "count": 1, "memory_bytes": m["memory_bytes"]}
    out, wall = [], None
    for batch in batch_sizes:
        base = make_record(
            suite=suite, machine=m["name"], model=model, params=params, seq_len=seq_len,
            optimization=optimization, precision=precision, attention=attention, threads=threads,
            batch_size=batch, device=device, env=_env(m), created_at=created_at,
            quality=_quality(precision, optimization), run_id=f"synthetic-{suite}",
        )  # fmt: skip
        peak = int(weight_bytes * 1.3 + batch * seq_len * params / 180)
        if wall is not None:
            base.update(status="skipped", reason=f"oom at {wall}", latency_ms=None, throughput=None, samples_ms=[])
            base.update(iterations=0, memory=None, warmup=None)
        elif peak > m["memory_bytes"]:
            wall = batch
            base.update(status="oom", reason=f"out of memory at batch {batch}", latency_ms=None, throughput=None)
            base.update(samples_ms=[], iterations=0, memory=None, warmup=None)
        else:
            per_sample_ms = params / 5e5 / speed / m["speed"] / threads**0.7
            base.update(_point(base, per_sample_ms * (batch + 2.0), rng, seq_len))
            key = "peak_rss_bytes" if m["type"] == "cpu" else "peak_allocated_bytes"
            base["memory"] = {key: peak}
            base["warmup"] = {"first_call_s": round(first_call_s * rng.uniform(0.9, 1.1), 3), "warmup_s": 0.5}
        out.append(base)
    return out


def dataset(
    models: Iterable[tuple[str, int]] = (("gpt2", 124_439_808), ("distilgpt2", 81_912_576)),
    machines: Iterable[dict[str, Any]] = DEFAULT_MACHINES,
    configs: Iterable[tuple[Any, ...]] = CONFIGS,
    threads: Iterable[int] = (2,),
    suites: Iterable[str] = ("default",),
    batch_sizes: Iterable[int] = BATCH_SIZES,
) -> list[dict[str, Any]]:
    """Every combination of the arguments, in a deterministic order."""
    records = []
    batch_sizes = tuple(batch_sizes)
    for s_index, suite in enumerate(suites):
        created_at = f"2026-11-{s_index + 1:02d}T00:00:00Z"
        for model, params in models:
            for m in machines:
                for config in configs:
                    for t in threads if m["type"] == "cpu" else (1,):
                        records.extend(group(model, params, m, config, t, suite, batch_sizes, created_at=created_at))
    return records


def write_jsonl(records: Iterable[dict[str, Any]], path: str | Path) -> Path:
    """Write records as JSONL (one compact line each)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")
    return path
