"""Models: GPT-2 presets built offline from a config, or anything ``from_pretrained`` finds locally.

Presets have random weights drawn under a fixed seed: latency, throughput and memory
depend on the shapes, not on the weight values, so a preset measures exactly like the
real model without a download. The shapes are those of the published Hugging Face
configs (``gpt2``: 12 layers × 768, 124,439,808 parameters; ``gpt2-xl``: 48 × 1600).

Any other name is a local directory or a Hugging Face id already in the local cache,
loaded with ``local_files_only=True`` so that a missing model fails at once instead of
retrying the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleboard.errors import ConfigError
from scaleboard.runner import cache

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

PRESET_SEED = 0  # the same random weights in every process, so quality references agree


@dataclass
class LoadedModel:
    """A model ready for inference, with what the record says about it."""

    model: Any  # a transformers PreTrainedModel in eval mode
    weights: str  # "random" (preset) or "pretrained"
    params: int
    key: dict | None = None  # what identifies these weights, for the caches (None: not identifiable)


def check_model(name: str) -> None:
    """Raise ConfigError unless ``name`` is a preset, a local model directory or a cached HF id. Cheap."""
    if name in PRESETS or _local_dir(name) is not None or _in_hf_cache(name):
        return
    raise ConfigError(
        f"unknown model {name!r}: not a preset ({', '.join(PRESETS)}), "
        "not a local directory with a config.json, and not in the local Hugging Face cache"
    )


def load_model(name: str, attention: str, device: str, dtype: Any = None) -> LoadedModel:
    """Build a preset or load a local/cached model, in eval mode on ``device`` (in ``dtype`` if given)."""
    check_model(name)
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


def config_for(name: str) -> Any:
    """The GPT2Config of a preset (no weights built)."""
    from transformers import GPT2Config

    return GPT2Config(**PRESETS[name])


def _cached_preset(name: str, attention: str, key: dict) -> Any:
    """The preset's random weights from the cache (see :mod:`scaleboard.runner.cache`), built and saved on a miss."""
    from transformers import GPT2LMHeadModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # "Loading weights 100%" in every worker log says nothing
    folder = cache.preset_dir(key)
    if folder is not None:
        try:
            return GPT2LMHeadModel.from_pretrained(folder, attn_implementation=attention, local_files_only=True)
        except (OSError, ValueError):
            pass  # unreadable entry: build again below, which replaces it
    model = _build_preset(name, attention)
    cache.save_preset(model, key)
    return model


def _build_preset(name: str, attention: str) -> Any:
    import torch
    from transformers import GPT2LMHeadModel

    torch.manual_seed(PRESET_SEED)
    return GPT2LMHeadModel._from_config(config_for(name), attn_implementation=attention)


def _from_pretrained(name: str, attention: str) -> Any:
    from transformers import AutoModelForCausalLM

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never wait on the network for a missing file
    path = _local_dir(name)
    try:
        return AutoModelForCausalLM.from_pretrained(
            str(path) if path else name, attn_implementation=attention, local_files_only=True
        )
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
