"""Model presets, from_pretrained on a local directory, and the unknown-model error."""

from __future__ import annotations

import pytest

from scaleboard.errors import ConfigError
from scaleboard.runner import models


def test_presets_have_the_published_shapes():
    gpt2 = {"gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2", "tiny-gpt2"}
    others = {"bert-base-uncased", "tiny-bert", "vit-base-patch16-224", "tiny-vit", "resnet-50", "tiny-resnet"}
    assert set(models.PRESETS) == set(models.PRESET_ARCHITECTURES) == gpt2 | others
    assert models.PRESETS["gpt2-xl"]["n_layer"] == 48 and models.PRESETS["gpt2-xl"]["n_embd"] == 1600
    tiny = models.PRESETS["tiny-gpt2"]
    assert (tiny["n_layer"], tiny["n_embd"], tiny["n_head"], tiny["vocab_size"]) == (2, 64, 2, 1000)
    assert tiny["bos_token_id"] == tiny["eos_token_id"] == 0


def test_a_preset_is_built_with_the_same_random_weights_every_time():
    import torch

    first = models.load_model("tiny-gpt2", "sdpa", "cpu")
    second = models.load_model("tiny-gpt2", "eager", "cpu")
    assert first.weights == "random"
    assert first.params == 180_480  # FINDINGS: tiny config
    assert first.model.config._attn_implementation == "sdpa"
    assert second.model.config._attn_implementation == "eager"
    assert not first.model.training
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_dtype_casts_the_model():
    import torch

    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu", dtype=torch.bfloat16)
    assert {p.dtype for p in loaded.model.parameters()} == {torch.bfloat16}


def test_from_pretrained_on_a_local_directory(tmp_path):
    import torch

    saved = models.load_model("tiny-gpt2", "sdpa", "cpu").model
    saved.save_pretrained(tmp_path / "tiny")
    models.check_model(str(tmp_path / "tiny"))
    loaded = models.load_model(str(tmp_path / "tiny"), "sdpa", "cpu")
    assert loaded.weights == "pretrained"
    assert loaded.params == 180_480
    ids = torch.randint(0, 1000, (1, 8))
    with torch.inference_mode():
        assert torch.equal(saved(ids).logits, loaded.model(ids).logits)


def test_unknown_model_lists_the_presets():
    with pytest.raises(ConfigError, match=r"unknown model 'no-such-model'.*gpt2, gpt2-medium.*tiny-gpt2"):
        models.check_model("no-such-model")
    with pytest.raises(ConfigError, match="unknown model"):
        models.load_model("someone/not-in-the-cache", "sdpa", "cpu")


def test_a_directory_without_a_model_is_unknown(tmp_path):
    with pytest.raises(ConfigError, match="not a local directory with a config.json"):
        models.check_model(str(tmp_path))


def test_a_model_entry_may_name_its_source(tmp_path):
    """LABEL=SOURCE measures SOURCE under the name LABEL; a plain entry is its own label, and
    so is a local directory whose own path holds '='."""
    saved = models.load_model("tiny-gpt2", "sdpa", "cpu").model
    saved.save_pretrained(tmp_path / "lr=3e-4")
    local = str(tmp_path / "lr=3e-4")
    assert models.split_entry("gpt2") == ("gpt2", "gpt2")
    assert models.split_entry(f" mini = {local}") == ("mini", local)
    assert models.split_entry(local) == (local, local)
    assert models.entry_problems(("tiny-gpt2", f"mini={local}", f"other={local}")) == []


def test_a_model_entrys_problems_are_each_reported_with_its_position(tmp_path):
    problems = models.entry_problems(("=gpt2", "tiny-gpt2", "tiny-gpt2=gpt2", "x=no-such-model", "mine="))
    assert [i for i, _ in problems] == [0, 2, 3, 4]
    messages = dict(problems)
    assert "a label is written LABEL=SOURCE" in messages[0] and "a label is written LABEL=SOURCE" in messages[4]
    assert messages[2] == "model 'tiny-gpt2=gpt2': the name 'tiny-gpt2' is already given to 'tiny-gpt2'"
    assert "unknown model 'no-such-model'" in messages[3]
