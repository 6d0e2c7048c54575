"""run_group on tiny-gpt2 on CPU: every optimization and precision, the status rules, fault injection."""

from __future__ import annotations

import pytest

from scaleboard.errors import ConfigError
from scaleboard.record import validate
from scaleboard.runner import group

CPU_PRECISIONS = ("fp32", "fp16", "bf16", "amp-fp16", "amp-bf16", "int8-dynamic")


def run(spec, monkeypatch=None, fault: str | None = None) -> list[dict]:
    if monkeypatch is not None:
        if fault:
            monkeypatch.setenv(group.FAULT_ENV, fault)
        else:
            monkeypatch.delenv(group.FAULT_ENV, raising=False)
    records: list[dict] = []
    group.run_group(spec, records.append)
    for record in records:
        assert validate(record)[0] == []
    return records


def statuses(records: list[dict]) -> list[tuple[int, str, str | None]]:
    return [(r["batch_size"], r["status"], r["reason"]) for r in records]


def assert_ok_point(record: dict) -> None:
    assert record["status"] == "ok", record["reason"]
    assert record["weights"] == "random" and record["params"] == 180_480
    assert record["iterations"] >= 3 and len(record["samples_ms"]) == record["iterations"]
    assert 0 < record["latency_ms"]["min"] <= record["latency_ms"]["p50"] <= record["latency_ms"]["max"]
    assert record["throughput"]["tokens_per_s"] == pytest.approx(record["throughput"]["samples_per_s"] * 16)
    assert record["warmup"]["first_call_s"] > 0
    assert record["memory"]["peak_rss_bytes"] > 0
    assert record["compute"]["flops_per_sample"] > 2 * 180_480 * 16
    assert record["compute"]["mfu"] is None  # no known peak for a CPU
    assert record["quality"]["reference"] == "fp32 eager (sdpa attention)"
    assert record["duration_s"] > 0


@pytest.mark.parametrize("optimization", ["eager", "torchscript"])
@pytest.mark.parametrize("precision", CPU_PRECISIONS)
def test_every_cpu_precision_with_eager_and_torchscript(make_spec, monkeypatch, optimization, precision):
    batch_sizes = (2, 1) if precision == "fp32" else (2,)  # a traced batch size differs from the example's
    records = run(make_spec(optimization=optimization, precision=precision, batch_sizes=batch_sizes), monkeypatch)
    assert [r["batch_size"] for r in records] == sorted(batch_sizes)  # rising order
    for record in records:
        assert_ok_point(record)
        q = record["quality"]
        assert q["next_token_agreement"] > 0.9
        if precision == "fp32":  # torchscript traces the same kernels: bit-identical to eager
            assert q["max_abs_diff"] == 0.0 and q["ok"] is True
        else:
            assert q["max_abs_diff"] > 0.0  # a lower precision is never exact; int8 is measured, not hidden


@pytest.mark.slow
def test_compile_runs_with_its_cost_in_the_first_call(make_spec, monkeypatch):
    (record,) = run(make_spec(optimization="compile", batch_sizes=(1,)), monkeypatch)
    assert_ok_point(record)
    assert record["quality"]["ok"] is True and record["quality"]["rel_error"] < 1e-5
    assert record["warmup"]["first_call_s"] > 10 * record["latency_ms"]["p50"] / 1000


@pytest.mark.parametrize(
    ("optimization", "mode"),
    [
        ("compile", None),
        ("compile-reduce-overhead", "reduce-overhead"),
        ("compile-max-autotune", "max-autotune-no-cudagraphs"),
    ],
)
def test_compile_variants_pass_their_mode_and_freeze(make_spec, monkeypatch, optimization, mode):
    """The compile variants differ only in the mode handed to torch.compile (compiling each costs ~15 s)."""
    import torch
    import torch._inductor.config as inductor_config

    seen = []

    def fake_compile(module, *, mode, dynamic):
        seen.append((mode, dynamic, inductor_config.freezing))
        return module

    monkeypatch.setattr(torch, "compile", fake_compile)
    with inductor_config.patch(freezing=False):
        (record,) = run(make_spec(optimization=optimization, batch_sizes=(1,)), monkeypatch)
    assert record["status"] == "ok"
    assert seen == [(mode, False, True)]


def test_eager_attention(make_spec, monkeypatch):
    (record,) = run(make_spec(attention="eager", batch_sizes=(1,)), monkeypatch)
    assert record["quality"]["reference"] == "fp32 eager (eager attention)"
    assert record["quality"]["ok"] is True


def test_unsupported_combinations_are_recorded_not_raised(make_spec, monkeypatch):
    records = run(make_spec(precision="tf32", batch_sizes=(1, 2, 4)), monkeypatch)
    assert [r["status"] for r in records] == ["unsupported"] * 3
    assert "CUDA tensor-core" in records[0]["reason"]
    assert records[0]["weights"] == "random"


def test_oom_at_a_batch_size_skips_the_larger_ones(make_spec, monkeypatch):
    records = run(make_spec(batch_sizes=(1, 2, 4, 8)), monkeypatch, fault="oom@2")
    assert statuses(records) == [
        (1, "ok", None),
        (2, "oom", records[1]["reason"]),
        (4, "skipped", "oom at 2"),
        (8, "skipped", "oom at 2"),
    ]
    assert "simulated CUDA out of memory" in records[1]["reason"]
    assert records[2]["params"] == 180_480


def test_an_iteration_over_the_point_budget_is_a_timeout(make_spec, monkeypatch):
    from dataclasses import replace

    spec = make_spec(batch_sizes=(1, 2, 4))
    spec = replace(spec, budget=replace(spec.budget, point_timeout_s=0.2))
    records = run(spec, monkeypatch, fault="slow@2")
    assert [(b, s) for b, s, _ in statuses(records)] == [(1, "ok"), (2, "timeout"), (4, "skipped")]
    assert "over the 0.2 s budget" in records[1]["reason"]
    assert records[2]["reason"] == "timeout at 2"


def test_an_exception_is_an_error_record_and_the_next_batch_runs(make_spec, monkeypatch):
    records = run(make_spec(batch_sizes=(1, 2, 4)), monkeypatch, fault="raise@2")
    assert [r["status"] for r in records] == ["ok", "error", "ok"]
    assert records[1]["reason"].startswith("RuntimeError: injected fault (at group.py:")


def test_fault_spec_errors():
    assert group.parse_faults("oom@4, slow@8") == {4: "oom", 8: "slow"}
    assert group.parse_faults("") == {}
    with pytest.raises(ConfigError, match="'boom@2' is not kind@batch"):
        group.parse_faults("boom@2")
    with pytest.raises(ConfigError, match="'oom' is not kind@batch"):
        group.parse_faults("oom")


def test_oom_classification():
    import torch

    assert group.is_oom(torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert group.is_oom(MemoryError())
    assert not group.is_oom(RuntimeError("shape mismatch"))
    assert not group.is_oom(ValueError("out of memory"))  # only allocator errors count
    try:  # a real CPU allocator failure: 16 TiB fails even with overcommit
        torch.empty(1 << 44, dtype=torch.uint8)
    except Exception as exc:
        assert group.is_oom(exc), repr(exc)


def test_pretrained_weights_get_a_perplexity(make_spec, monkeypatch, tmp_path):
    from scaleboard.runner.models import load_model

    load_model("tiny-gpt2", "sdpa", "cpu").model.save_pretrained(tmp_path / "tiny")
    (record,) = run(make_spec(model=str(tmp_path / "tiny"), batch_sizes=(1,)), monkeypatch)
    assert record["weights"] == "pretrained"
    # random weights over a 1000-token vocabulary: close to uniform, perplexity near 1000
    assert 500 < record["quality"]["perplexity"] < 2000


def test_peak_flops_table():
    assert group.peak_tflops("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert group.peak_tflops("NVIDIA H100 PCIe", "amp-fp16") == 756.0
    assert group.peak_tflops("NVIDIA H100 80GB HBM3", "int8-dynamic") is None
    assert group.peak_tflops("AMD EPYC", "fp32") is None


def test_a_model_that_fails_to_load_is_an_error_for_each_batch(make_spec, monkeypatch, tmp_path):
    (tmp_path / "broken").mkdir()
    config = '{"model_type": "no-such-architecture", "architectures": ["NoSuchForCausalLM"]}'
    (tmp_path / "broken" / "config.json").write_text(config)
    records = run(make_spec(model=str(tmp_path / "broken"), batch_sizes=(1, 2)), monkeypatch)
    assert [r["status"] for r in records] == ["error", "error"]
    assert "could not be loaded" in records[0]["reason"]
    assert records[0]["weights"] == "pretrained"


def test_a_record_says_how_sure_its_median_is(make_spec, monkeypatch):
    from dataclasses import replace

    spec = make_spec(batch_sizes=(1,))
    spec = replace(spec, budget=replace(spec.budget, min_iterations=12, max_iterations=12))
    (record,) = run(spec, monkeypatch)
    stability = record["stability"]
    assert stability["p50_ci95_low"] <= record["latency_ms"]["p50"] <= stability["p50_ci95_high"]
    assert stability["cv"] > 0 and isinstance(stability["unstable"], bool)
