"""Models: presets built offline from a config, or anything ``from_pretrained`` finds locally.

Presets have random weights drawn under a fixed seed: latency, throughput and memory
depend on the shapes, not on the weight values, so a preset measures exactly like the
real model without a download. The shapes are those of the published Hugging Face
configs (``gpt2``: 12 layers × 768, 124,439,808 parameters; ``gpt2-xl``: 48 × 1600;
``bert-base-uncased``: 12 × 768 with its masked-LM head; ``vit-base-patch16-224``: 12 × 768
on 16-pixel patches of a 224-pixel image; ``resnet-50``: bottleneck stages of 3, 4, 6, 3
blocks), each in its family (:mod:`scaleboard.runner.families`). ``tiny-*`` presets are for
tests.

Any other name is a local directory or a Hugging Face id already in the local cache,
loaded with ``local_files_only=True`` so that a missing model fails at once instead of
retrying the network, by the Auto class of the family its config's architecture names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from scaleboard.errors import ConfigError
from scaleboard.runner import cache, families
from scaleboard.runner.families import Family

_TOKENS = {"bos_token_id": 50256, "eos_token_id": 50256}
_GPT2 = {"vocab_size": 50257, "n_positions": 1024, **_TOKENS}

#: GPT2Config keyword arguments per preset (the published configs' shapes).
PRESETS: dict[str, dict[str, Any]] = {
    "gpt2": {**_GPT2, "n_layer": 12, "n_embd": 768, "n_head": 12},
    "gpt2-medium": {**_GPT2, "n_layer": 24, "n_embd": 1024, "n_head": 16},
    "gpt2-large": {**_GPT2, "n_layer": 36, "n_embd": 1280, "n_head": 20},
    "gpt2-xl": {**_GPT2, "n_layer": 48, "n_embd": 1600, "n_head": 25},
    "distilgpt2": {**_GPT2, "n_layer": 6, "n_embd": 768, "n_head": 12},
    # For tests: 180,480 parameters, ~1 ms per forward. Token ids must lie inside the vocab.
    "tiny-gpt2": {
        "vocab_size": 1000,
        "n_positions": 256,
        "n_layer": 2,
        "n_embd": 64,
        "n_head": 2,
        "bos_token_id": 0,
        "eos_token_id": 0,
    },
}

_BERT_BASE = {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
              "intermediate_size": 3072, "max_position_embeddings": 512, "type_vocab_size": 2}  # fmt: skip
PRESETS.update({
    "bert-base-uncased": _BERT_BASE,
    # For tests: ~150k parameters.
    "tiny-bert": {**_BERT_BASE, "vocab_size": 1000, "hidden_size": 64, "num_hidden_layers": 2,
                  "num_attention_heads": 2, "intermediate_size": 128, "max_position_embeddings": 256},
    "vit-base-patch16-224": {"image_size": 224, "patch_size": 16, "hidden_size": 768, "num_hidden_layers": 12,
                             "num_attention_heads": 12, "intermediate_size": 3072, "num_labels": 1000},
    "tiny-vit": {"image_size": 32, "patch_size": 8, "hidden_size": 64, "num_hidden_layers": 2,
                 "num_attention_heads": 2, "intermediate_size": 128, "num_labels": 10},
    "resnet-50": {"embedding_size": 64, "hidden_sizes": [256, 512, 1024, 2048], "depths": [3, 4, 6, 3],
                  "layer_type": "bottleneck", "num_labels": 1000, "image_size": 224},
    "tiny-resnet": {"embedding_size": 8, "hidden_sizes": [16, 32], "depths": [1, 1], "layer_type": "basic",
                    "num_labels": 10, "image_size": 32},
})  # fmt: skip

#: The transformers model class of each preset (its config class is the class's ``config_class``).
PRESET_ARCHITECTURES: dict[str, str] = {
    **{name: "GPT2LMHeadModel" for name in ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl", "distilgpt2", "tiny-gpt2")},
    "bert-base-uncased": "BertForMaskedLM",
    "tiny-bert": "BertForMaskedLM",
    "vit-base-patch16-224": "ViTForImageClassification",
    "tiny-vit": "ViTForImageClassification",
    "resnet-50": "ResNetForImageClassification",
    "tiny-resnet": "ResNetForImageClassification",
}

PRESET_SEED = 0  # the same random weights in every process, so quality references agree


@dataclass
class LoadedModel:
    """A model ready for inference, with what the record says about it."""

    model: Any  # a transformers PreTrainedModel in eval mode
    weights: str  # "random" (preset) or "pretrained"
    params: int
    key: dict[str, Any] | None = None  # what identifies these weights, for the caches (None: not identifiable)


def split_entry(entry: str) -> tuple[str, str]:
    """A suite's model entry as (label, source). ``LABEL=SOURCE`` measures the model at
    ``SOURCE`` (a preset, a local directory or a cached Hugging Face id) under the name
    ``LABEL``, which its records and pages show (a checkpoint's path is rarely a name to
    publish); any other entry is its own label. A local directory whose own name holds ``=``
    is taken as it is."""
    label, sep, source = entry.partition("=")
    if not sep or _local_dir(entry) is not None:
        return entry, entry
    label, source = label.strip(), source.strip()
    if not label or not source:
        raise ConfigError(f"model {entry!r}: a label is written LABEL=SOURCE, e.g. my-gpt2=./checkpoints/step-500")
    return label, source


def entry_problems(entries: tuple[str, ...]) -> list[tuple[int, str]]:
    """(index, message) for each entry (:func:`split_entry`) that is malformed, whose source is
    not a model (:func:`check_model`), or whose label an earlier entry already uses."""
    problems = []
    seen: dict[str, str] = {}
    for i, entry in enumerate(entries):
        try:
            label, source = split_entry(entry)
            check_model(source)
        except ConfigError as exc:
            problems.append((i, str(exc)))
            continue
        if label in seen:
            problems.append((i, f"model {entry!r}: the name {label!r} is already given to {seen[label]!r}"))
        seen.setdefault(label, entry)
    return problems


def weights_of(name: str) -> str:
    """What the records of ``name`` say of its weights, loaded or not (a point that failed or
    was left out): ``random`` for a preset, built from its config; ``pretrained`` for a model
    loaded from files."""
    return "random" if name in PRESETS else "pretrained"


def check_model(name: str) -> None:
    """Raise ConfigError unless ``name`` is a preset, a local model directory or a cached HF id. Cheap."""
    if name in PRESETS or _local_dir(name) is not None or _in_hf_cache(name):
        return
    raise ConfigError(
        f"unknown model {name!r}: not a preset ({', '.join(PRESETS)}), "
        "not a local directory with a config.json, and not in the local Hugging Face cache"
    )


def family_of(name: str) -> Family:
    """The family of a preset or of a local / cached model's config (reads config.json only)."""
    return _described(name)[0]


def _described(name: str) -> tuple[Family, dict[str, Any]]:
    """The model's family and its config as a dict, without transformers (the sweep's parent stays light)."""
    if name in PRESETS:
        config = {**PRESETS[name], "model_type": PRESET_ARCHITECTURES[name].split("For")[0].lower()}
        return families.family_of_architectures([PRESET_ARCHITECTURES[name]], name), config
    config, where = _config_json(name)
    return families.family_of_architectures(config.get("architectures"), where, config.get("model_type")), config


def input_of(name: str) -> dict[str, Any]:
    """What the sweep needs to know of a model before loading it (config.json only):
    ``{family, image_shape, attention}``: its family's name, one image's shape for an image
    model (None: tokens), and whether it has attention layers (its records say null if not)."""
    family, config = _described(name)
    image_shape = None if family.tokens else tuple(families.sample_shape(family, SimpleNamespace(**config), 0))
    return {
        "family": family.name,
        "image_shape": image_shape,
        "attention": families.has_attention(config.get("model_type")),
    }


def _config_json(name: str) -> tuple[dict[str, Any], str]:
    check_model(name)
    path = _local_dir(name)
    if path is None:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(name, "config.json")
        if not isinstance(found, str):  # check_model found it a moment ago; gone since
            raise ConfigError(f"model {name!r}: config.json is no longer in the local Hugging Face cache")
        path = Path(found).parent
    return families.read_config(path), str(path / "config.json")


def load_model(name: str, attention: str | None, device: str, dtype: Any = None) -> LoadedModel:
    """Build a preset or load a local/cached model, in eval mode on ``device`` (in ``dtype`` if given).

    ``attention`` None: the model has no attention layers (see :func:`attention_applies`)."""
    check_model(name)
    key: dict[str, Any] | None
    if name in PRESETS:
        key = cache.preset_key(name, PRESETS[name], PRESET_SEED)
        model, weights = _cached_preset(name, attention, key), "random"
    else:
        path = _local_dir(name)
        key = cache.local_model_key(path) if path else None
        model, weights = _from_pretrained(name, attention), "pretrained"
    model.eval()
    model.to(device)
    if dtype is not None:
        model.to(dtype)
    params = sum(p.numel() for p in model.parameters())  # tied lm_head/wte counted once
    return LoadedModel(model=model, weights=weights, params=params, key=key)


def _preset_class(name: str) -> Any:
    import transformers

    return getattr(transformers, PRESET_ARCHITECTURES[name])


def config_for(name: str) -> Any:
    """The transformers config of a preset (no weights built)."""
    return _preset_class(name).config_class(**PRESETS[name])


def _attn(attention: str | None) -> dict[str, str]:
    return {} if attention is None else {"attn_implementation": attention}


def _cached_preset(name: str, attention: str | None, key: dict[str, Any]) -> Any:
    """The preset's random weights from the cache (see :mod:`scaleboard.runner.cache`), built and saved on a miss."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights 100%" in every worker log says nothing
    folder = cache.preset_dir(key)
    if folder is not None:
        try:
            return _preset_class(name).from_pretrained(folder, local_files_only=True, **_attn(attention))
        except (OSError, ValueError):
            pass  # unreadable entry: build again below, which replaces it
    model = _build_preset(name, attention)
    cache.save_preset(model, key)
    return model


def _build_preset(name: str, attention: str | None) -> Any:
    import torch

    torch.manual_seed(PRESET_SEED)
    return _preset_class(name)._from_config(config_for(name), **_attn(attention))


def _from_pretrained(name: str, attention: str | None) -> Any:
    import transformers

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait on the network for a missing file
    auto = getattr(transformers, family_of(name).auto_class)
    path = _local_dir(name)
    try:
        return auto.from_pretrained(str(path) if path else name, local_files_only=True, **_attn(attention))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"model {name!r} could not be loaded: {exc}") from None


def _local_dir(name: str) -> Path | None:
    path = Path(name).expanduser()
    return path if (path / "config.json").is_file() else None


def _in_hf_cache(name: str) -> bool:
    """True when the HF cache holds a config.json for ``name`` (no network)."""
    if name.count("/") > 1 or not name.strip() or Path(name).is_absolute():
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(name, "config.json")
    except Exception:  # an id the hub library rejects as malformed is simply not cached
        return False
    return isinstance(found, str)
