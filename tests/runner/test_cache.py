"""The model and reference cache: hits give identical tensors, and nothing stale is ever reused."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")

from scaleboard.runner import cache, models  # noqa: E402
from scaleboard.runner.group import _setup  # noqa: E402


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALEBOARD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_a_preset_is_built_once_then_loaded_with_identical_weights(fresh_cache):
    first = models.load_model("tiny-gpt2", "sdpa", "cpu")
    folders = list((fresh_cache / "models").iterdir())
    assert len(folders) == 1 and (folders[0] / "key.json").is_file()
    second = models.load_model("tiny-gpt2", "sdpa", "cpu")
    assert second.key == first.key and second.weights == "random" and second.params == first.params
    for (name, a), (_, b) in zip(first.model.state_dict().items(), second.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    assert second.model.lm_head.weight.data_ptr() == second.model.transformer.wte.weight.data_ptr()  # still tied


def test_a_changed_config_or_seed_never_reuses_saved_weights(fresh_cache, monkeypatch):
    key = cache.preset_key("tiny-gpt2", models.PRESETS["tiny-gpt2"], models.PRESET_SEED)
    models.load_model("tiny-gpt2", "sdpa", "cpu")
    assert cache.preset_dir(key) is not None
    wider = {**models.PRESETS["tiny-gpt2"], "n_embd": 128}
    assert cache.preset_dir(cache.preset_key("tiny-gpt2", wider, models.PRESET_SEED)) is None
    assert cache.preset_dir(cache.preset_key("tiny-gpt2", models.PRESETS["tiny-gpt2"], 1)) is None
    monkeypatch.setitem(models.PRESETS, "tiny-gpt2", wider)
    loaded = models.load_model("tiny-gpt2", "sdpa", "cpu")
    assert loaded.model.config.n_embd == 128 and len(list((fresh_cache / "models").iterdir())) == 2


def test_an_entry_whose_stored_key_differs_is_ignored_and_replaced(fresh_cache):
    key = cache.preset_key("tiny-gpt2", models.PRESETS["tiny-gpt2"], models.PRESET_SEED)
    models.load_model("tiny-gpt2", "sdpa", "cpu")
    folder = cache.preset_dir(key)
    (folder / "key.json").write_text('{"kind": "something else"}')
    assert cache.preset_dir(key) is None
    models.load_model("tiny-gpt2", "sdpa", "cpu")
    assert cache.preset_dir(key) == folder


def test_references_are_keyed_by_everything_that_changes_them(fresh_cache):
    weights = cache.preset_key("tiny-gpt2", models.PRESETS["tiny-gpt2"], models.PRESET_SEED)
    key = cache.reference_key(weights, "sdpa", 16, 4, 1234, "cpu")
    logits = torch.randn(4, 16, 10)
    assert cache.save_reference(key, logits)
    assert torch.equal(cache.load_reference(key), logits)
    other_weights = cache.preset_key("tiny-gpt2", {**models.PRESETS["tiny-gpt2"], "n_layer": 3}, 0)
    for changed in (
        cache.reference_key(weights, "sdpa", 32, 4, 1234, "cpu"),  # seq_len
        cache.reference_key(weights, "sdpa", 16, 4, 99, "cpu"),  # input seed
        cache.reference_key(weights, "eager", 16, 4, 1234, "cpu"),  # attention
        cache.reference_key(weights, "sdpa", 16, 8, 1234, "cpu"),  # rows
        cache.reference_key(other_weights, "sdpa", 16, 4, 1234, "cpu"),  # config
    ):
        assert cache.load_reference(changed) is None
    assert cache.reference_key(None, "sdpa", 16, 4, 1234, "cpu") is None  # unidentifiable weights: no cache


def test_a_corrupt_reference_file_is_a_miss_not_an_error(fresh_cache):
    weights = cache.preset_key("tiny-gpt2", models.PRESETS["tiny-gpt2"], models.PRESET_SEED)
    key = cache.reference_key(weights, "sdpa", 16, 4, 1234, "cpu")
    cache.save_reference(key, torch.zeros(1))
    (path,) = (fresh_cache / "references").iterdir()
    path.write_bytes(b"not a torch file")
    assert cache.load_reference(key) is None


def test_a_group_setup_reuses_the_cached_reference_and_matches_a_fresh_one(fresh_cache, make_spec):
    spec = make_spec(batch_sizes=(1,))
    first = _setup(spec)
    assert len(list((fresh_cache / "references").iterdir())) == 1
    second = _setup(spec)
    assert torch.equal(first["reference"], second["reference"])
    os.environ["SCALEBOARD_CACHE"] = "off"
    try:
        uncached = _setup(spec)
    finally:
        os.environ["SCALEBOARD_CACHE"] = str(fresh_cache)
    assert torch.equal(first["reference"], uncached["reference"])


def test_a_local_model_key_changes_with_its_files(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    before = cache.local_model_key(folder)
    (folder / "model.safetensors").write_bytes(b"12345")
    assert cache.local_model_key(folder) != before
