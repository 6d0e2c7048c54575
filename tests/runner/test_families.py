"""Model families beyond GPT-2: masked LM (BERT), image classification (ViT, ResNet), loaded
from presets and from local directories by the Auto class their config names."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from scaleboard.errors import ConfigError  # noqa: E402
from scaleboard.record import validate  # noqa: E402
from scaleboard.runner import families, group, models  # noqa: E402
from scaleboard.runner.suite import Suite  # noqa: E402
from scaleboard.runner.sweep import build_groups  # noqa: E402

FAMILY_MODELS = ("tiny-bert", "tiny-vit", "tiny-resnet")


def run(spec) -> list[dict]:
    records: list[dict] = []
    group.run_group(spec, records.append)
    return records


@pytest.mark.parametrize("model", FAMILY_MODELS)
@pytest.mark.parametrize("optimization", ["eager", "torchscript", "compile"])
def test_forward_of_every_family_and_optimization(make_spec, model, optimization):
    sizes = (3,) if optimization == "compile" else (1, 3)  # a compile per size: 10-20 s each on 2 cores
    records = run(make_spec(model=model, optimization=optimization, batch_sizes=sizes))
    assert [r["status"] for r in records] == ["ok"] * len(sizes), [r["reason"] for r in records]
    for r in records:
        assert validate(r) == ([], [])
        assert r["quality"]["ok"] is True and r["quality"]["next_token_agreement"] == 1.0
        p50_s = r["latency_ms"]["p50"] / 1000
        assert r["throughput"]["samples_per_s"] == pytest.approx(r["batch_size"] / p50_s)
    r = records[0]
    if model == "tiny-bert":
        assert r["family"] == "masked-lm" and r["input"] == {"kind": "tokens", "shape": [16]} and r["seq_len"] == 16
        assert r["throughput"]["tokens_per_s"] == pytest.approx(16 * r["throughput"]["samples_per_s"])
    else:  # images: no sequence length, no tokens/s
        assert r["family"] == "image-classification" and r["input"] == {"kind": "pixels", "shape": [3, 32, 32]}
        assert r["seq_len"] is None and r["throughput"]["tokens_per_s"] is None
    assert (r["attention"] is None) == (model == "tiny-resnet")
    assert (r["compute"]["flops_per_sample"] is None) == (model == "tiny-resnet")  # no transformer formula


@pytest.mark.parametrize("model", FAMILY_MODELS)
def test_a_train_step_of_every_family_passes_the_first_loss_gate(make_spec, model):
    records = run(make_spec(model=model, task="train", batch_sizes=(1, 6)))
    assert [r["status"] for r in records] == ["ok", "ok"], [r["reason"] for r in records]
    for r in records:
        assert validate(r) == ([], [])
        assert r["quality"]["ok"] is True and r["quality"]["rel_error"] < 1e-5


@pytest.mark.parametrize("model", FAMILY_MODELS)
def test_generate_does_not_apply_outside_causal_language_models(make_spec, model):
    records = run(make_spec(model=model, task="generate", new_tokens=4))
    assert {r["status"] for r in records} == {"unsupported"}
    assert "does not apply to a" in records[0]["reason"] and "forward, train" in records[0]["reason"]


def test_presets_have_the_published_shapes():
    bert = models.config_for("bert-base-uncased")
    assert (bert.num_hidden_layers, bert.hidden_size, bert.vocab_size) == (12, 768, 30522)
    vit = models.config_for("vit-base-patch16-224")
    assert (vit.image_size, vit.patch_size, vit.num_labels) == (224, 16, 1000)
    resnet = models.config_for("resnet-50")
    assert resnet.depths == [3, 4, 6, 3] and resnet.layer_type == "bottleneck"
    assert models.input_of("resnet-50") == {"family": "image-classification", "image_shape": (3, 224, 224),
                                            "attention": False}  # fmt: skip


def test_a_suite_collapses_the_attention_axis_for_a_model_without_attention(cpu_environment):
    device, env, machine = cpu_environment
    suite = Suite(label="t", models=("tiny-resnet", "tiny-vit"), attention=("sdpa", "eager"), threads=(1,))
    groups = build_groups(suite, run_id="r", machine=machine, device=device, env=env)
    per_model = {m: [g.attention for g in groups if g.model == m] for m in ("tiny-resnet", "tiny-vit")}
    optimizations = len(suite.optimizations) * len(suite.precisions)
    assert per_model["tiny-resnet"] == [None] * optimizations
    assert sorted(set(per_model["tiny-vit"])) == ["eager", "sdpa"]


@pytest.mark.parametrize(("preset", "auto_family"), [("tiny-bert", "masked-lm"), ("tiny-vit", "image-classification")])
def test_a_local_directory_loads_with_the_auto_class_of_its_architecture(tmp_path, make_spec, preset, auto_family):
    built = models._build_preset(preset, "sdpa")
    built.save_pretrained(tmp_path / preset)
    name = str(tmp_path / preset)
    assert models.family_of(name).name == auto_family
    records = run(make_spec(model=name, batch_sizes=(2,)))
    assert records[0]["status"] == "ok" and records[0]["weights"] == "pretrained"
    assert records[0]["family"] == auto_family and records[0]["quality"]["perplexity"] is None  # not a causal LM


def test_an_architecture_scaleboard_cannot_drive_is_a_clear_error(tmp_path):
    folder = tmp_path / "seq2seq"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["T5ForConditionalGeneration"]}))
    with pytest.raises(ConfigError) as caught:
        models.family_of(str(folder))
    message = str(caught.value)
    assert "config.json" in message and "T5ForConditionalGeneration" in message
    assert "masked-lm (*ForMaskedLM)" in message and "image-classification" in message


def test_image_labels_and_reference_losses_follow_the_tiled_rows():
    config = models.config_for("tiny-vit")
    family = families.FAMILIES["image-classification"]
    pixels = families.make_inputs(family, config, 4, 0, seed=1, device="cpu")
    assert pixels.shape == (4, 3, 32, 32)
    labels = families.train_labels(family, config, pixels)
    assert labels.tolist() == [0, 1, 2, 3]
    logits = torch.randn(4, 10)
    losses = families.reference_losses(family, logits, pixels, labels)
    expected = torch.nn.functional.cross_entropy(logits, labels, reduction="none").tolist()
    assert losses == pytest.approx(expected)


def test_a_config_without_architectures_is_placed_by_its_model_type():
    assert families.family_of_architectures(None, "c", "gpt2").name == "causal-lm"
    assert families.family_of_architectures(None, "c", "bert").name == "masked-lm"
    assert families.family_of_architectures(None, "c", "resnet").name == "image-classification"
    with pytest.raises(ConfigError, match="no architecture"):
        families.family_of_architectures(None, "c", "no-such-type")
