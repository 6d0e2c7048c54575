"""Task train: a real optimizer step per iteration, a fresh copy per point, and the first-loss gate."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from scaleboard.record import validate  # noqa: E402
from scaleboard.runner import group, models, quality, train  # noqa: E402
from scaleboard.runner.families import FAMILIES  # noqa: E402


def run(spec) -> list[dict]:
    records: list[dict] = []
    group.run_group(spec, records.append)
    return records


def test_a_train_point_times_optimizer_steps_and_gates_the_first_loss(make_spec):
    records = run(make_spec(task="train", batch_sizes=(1, 4), seq_len=16))
    assert [(r["batch_size"], r["status"]) for r in records] == [(1, "ok"), (4, "ok")]
    for r in records:
        assert validate(r)[0] == [] and r["task"] == "train"
        p50_s = r["latency_ms"]["p50"] / 1000
        assert r["throughput"]["samples_per_s"] == pytest.approx(r["batch_size"] / p50_s)
        assert r["throughput"]["tokens_per_s"] == pytest.approx(r["batch_size"] * 16 / p50_s)
        assert r["warmup"]["first_call_s"] > 0 and r["memory"]["peak_rss_bytes"] > 0
        q = r["quality"]
        assert q["reference"] == "fp32 eager first-step loss (sdpa attention)"
        assert q["ok"] is True and q["rel_error"] < 1e-5  # same weights, same batch, same math
        assert q["next_token_agreement"] is None


def test_steps_update_the_weights_of_a_private_copy():
    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu")
    before = loaded.model.transformer.h[0].mlp.c_fc.weight.detach().clone()
    ids = quality.tile_rows(quality.quality_input(FAMILIES["causal-lm"], loaded.model.config, 16, "cpu"), 4)
    trainer = train.Trainer(loaded.model, ids, "eager", "fp32")
    losses = [trainer.step() for _ in range(8)]
    assert losses[-1] < losses[0]  # the same batch again and again: the loss falls
    assert trainer.first_loss == losses[0]
    assert torch.equal(loaded.model.transformer.h[0].mlp.c_fc.weight, before)  # the shared model is untouched


def test_the_reference_loss_of_a_tiled_batch_is_the_mean_of_its_rows():
    ids = torch.randint(0, 10, (2, 5))
    logits = torch.randn(2, 5, 10)
    row_loss = [
        torch.nn.functional.cross_entropy(logits[r, :-1], ids[r, 1:]).item() for r in range(2)
    ]  # fmt: skip
    assert train.reference_loss(logits, ids, 1) == pytest.approx(row_loss[0])
    assert train.reference_loss(logits, ids, 3) == pytest.approx((2 * row_loss[0] + row_loss[1]) / 3)


def test_loss_quality_flags_a_loss_off_by_more_than_the_tolerance():
    assert train.loss_quality(10.0, 10.0, "fp32")["ok"] is True
    assert train.loss_quality(10.1, 10.0, "fp32")["ok"] is False
    assert train.loss_quality(10.1, 10.0, "bf16")["ok"] is True
    nan = train.loss_quality(math.nan, 10.0, "fp32")
    assert nan["ok"] is False and nan["rel_error"] is None


def test_amp_fp16_scales_the_loss():
    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu")
    ids = torch.zeros((1, 8), dtype=torch.long)
    assert train.Trainer(loaded.model, ids, "eager", "amp-fp16").scaler is not None
    assert train.Trainer(loaded.model, ids, "eager", "amp-bf16").scaler is None


@pytest.mark.parametrize(
    ("optimization", "precision", "words"),
    [("torchscript", "fp32", "no trainable parameters"), ("eager", "int8-dynamic", "no gradients")],
)
def test_what_cannot_train_is_unsupported_not_measured(make_spec, optimization, precision, words):
    records = run(make_spec(task="train", optimization=optimization, precision=precision))
    assert {r["status"] for r in records} == {"unsupported"}
    assert all(words in r["reason"] for r in records)
