"""Task generate: real greedy decoding, TTFT and per-token latency from the same call, and the gate."""

from __future__ import annotations

import statistics
import time

import pytest

torch = pytest.importorskip("torch")

from scaleboard.record import validate  # noqa: E402
from scaleboard.runner import generate, group, models, quality  # noqa: E402
from scaleboard.runner.families import FAMILIES  # noqa: E402
from scaleboard.runner.generate import Timeline, generation_stats  # noqa: E402


def run(spec) -> list[dict]:
    records: list[dict] = []
    group.run_group(spec, records.append)
    return records


def test_timeline_arithmetic():
    t = Timeline(start=10.0, steps=[10.5, 10.6, 10.8])
    assert t.ttft_ms == pytest.approx(500.0)
    assert t.per_token_ms == pytest.approx([100.0, 200.0])
    stats = generation_stats([t, Timeline(start=0.0, steps=[0.3, 0.4, 0.5])], batch_size=4, seq_len=16, new_tokens=3)
    assert stats["ttft_ms"]["p50"] == pytest.approx(400.0)
    assert stats["per_token_ms"]["max"] == pytest.approx(200.0) and stats["per_token_ms"]["min"] == pytest.approx(100.0)
    # decode: 4 samples × 2 tokens after the first, over the median decode time (0.3 s and 0.2 s → 0.25 s)
    assert stats["decode_tokens_per_s"] == pytest.approx(4 * 2 / 0.25)
    assert stats["prefill_tokens_per_s"] == pytest.approx(4 * 16 / 0.4)


def test_a_generate_point_decodes_exactly_new_tokens_and_times_each_step(make_spec):
    spec = make_spec(task="generate", new_tokens=8, batch_sizes=(1, 4), seq_len=16)
    records = run(spec)
    assert [(r["batch_size"], r["status"]) for r in records] == [(1, "ok"), (4, "ok")]
    for r in records:
        assert validate(r)[0] == [] and r["task"] == "generate" and r["new_tokens"] == 8
        p50_s = r["latency_ms"]["p50"] / 1000
        assert r["throughput"]["tokens_per_s"] == pytest.approx(r["batch_size"] * 8 / p50_s)  # generated tokens
        gen = r["generation"]
        assert (
            set(gen["ttft_ms"]) == set(gen["per_token_ms"]) == {"p50", "p90", "p95", "p99", "mean", "std", "min", "max"}
        )
        # the whole call is the prefill plus seven decode steps (and a little bookkeeping)
        assembled = gen["ttft_ms"]["p50"] + 7 * gen["per_token_ms"]["p50"]
        assert 0.5 < assembled / r["latency_ms"]["p50"] < 1.6
        assert gen["decode_tokens_per_s"] > 0 and gen["prefill_tokens_per_s"] > 0
        assert r["quality"]["next_token_agreement"] == 1.0 and r["quality"]["ok"] is True
        assert r["quality"]["reference"] == "fp32 eager greedy decoding (sdpa attention)"


def test_exactly_new_tokens_even_when_the_model_would_stop():
    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu")
    eos = loaded.model.config.eos_token_id
    ids = torch.full((2, 8), eos)
    with torch.inference_mode():
        loaded.model.lm_head.weight[eos] += 50.0  # make end-of-text the greedy choice everywhere
        runner = generate.Generator(loaded.model, ids, new_tokens=6, precision="fp32")
        runner.call()
    assert runner.new_tokens().shape == (2, 6) and len(runner.timelines[0].steps) == 6


def test_ttft_agrees_with_generating_one_token(make_spec):
    """TTFT from the step hook against the wall time of generate(max_new_tokens=1) on the same input."""
    spec = make_spec(task="generate", new_tokens=8, batch_sizes=(4,), seq_len=64)
    (record,) = run(spec)
    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu")
    ids = quality.tile_rows(quality.quality_input(FAMILIES["causal-lm"], loaded.model.config, 64, "cpu"), 4)
    one = generate.generate_kwargs(1, loaded.model.config.eos_token_id)
    times = []
    with torch.inference_mode():
        for _ in range(15):
            start = time.perf_counter()
            loaded.model.generate(ids, attention_mask=torch.ones_like(ids), **one)
            times.append((time.perf_counter() - start) * 1000)
    ratio = record["generation"]["ttft_ms"]["p50"] / statistics.median(times)
    # generating 8 tokens takes ~4x one token here: a TTFT that timed the whole call would fail this
    assert 0.4 < ratio < 2.5, ratio


def test_torchscript_generate_is_unsupported_not_relabelled(make_spec):
    records = run(make_spec(task="generate", new_tokens=4, optimization="torchscript"))
    assert {r["status"] for r in records} == {"unsupported"}
    assert all("no KV cache" in r["reason"] and r["latency_ms"] is None for r in records)


@pytest.mark.parametrize(
    ("optimization", "device", "mode"),
    [("compile", "cpu", None), ("compile-reduce-overhead", "cuda", "reduce-overhead"),
     ("compile-max-autotune", "cuda", "max-autotune"), ("compile-max-autotune", "cpu", "max-autotune-no-cudagraphs")],
)  # fmt: skip
def test_compiled_generate_uses_a_static_cache_and_a_fullgraph_forward_on_a_copy(
    monkeypatch, optimization, device, mode
):
    calls = []
    monkeypatch.setattr(torch, "compile", lambda fn, **kw: calls.append(kw) or fn)
    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu")
    twin = generate.compiled(loaded.model, optimization, device)
    assert calls == [{"mode": mode, "fullgraph": True, "dynamic": False}]
    assert twin is not loaded.model and "forward" in vars(twin) and "forward" not in vars(loaded.model)
    assert twin.lm_head.weight is loaded.model.lm_head.weight  # shared weights, not a copy
    assert generate.generate_kwargs(4, 0, static_cache=True)["cache_implementation"] == "static"


@pytest.mark.slow
def test_a_compiled_generate_point_matches_eager_tokens(make_spec):
    """One real compile (prefill and decode graphs, ~25 s on 2 cores): the cost lands in the first call."""
    (record,) = run(make_spec(task="generate", new_tokens=4, optimization="compile", batch_sizes=(2,)))
    assert record["status"] == "ok", record["reason"]
    assert record["quality"]["next_token_agreement"] == 1.0
    assert record["warmup"]["first_call_s"] > 10 * record["latency_ms"]["p50"] / 1000
    assert record["generation"]["per_token_ms"]["p50"] > 0


def test_a_lower_precision_is_gated_on_generated_tokens(make_spec):
    (record,) = run(make_spec(task="generate", new_tokens=6, precision="int8-dynamic", batch_sizes=(4,)))
    agreement = record["quality"]["next_token_agreement"]
    assert 0.0 <= agreement <= 1.0
    assert record["quality"]["ok"] == (agreement >= quality.TOLERANCES["int8-dynamic"].min_agreement)
