"""On-disk cache of what every group of a model needs before it measures anything.

Two things are worth keeping between groups and between runs:

- **a preset's random weights.** Building ``distilgpt2`` from its config draws 82 M random
  numbers (about 9 s on 2 cores); loading the same weights saved as safetensors takes a
  fraction of a second. Saved once with ``save_pretrained`` and loaded with
  ``from_pretrained``, they are bit for bit the weights the preset would build;
- **the fp32 eager reference outputs** of the correctness gate (a forward of the fixed
  quality input), computed once per model, attention implementation and sequence length.

Safe invalidation: every entry is stored under a digest of everything that determines its
content, and holds that key in full beside it (``key.json`` / inside the ``.pt`` file). An
entry is used only when its stored key equals the key asked for: a changed config, seed,
sequence length, attention implementation, input seed, torch or transformers version,
or (for a local model directory) changed model files never reuse a stale entry. Entries
are written to a temporary name and renamed into place, so a crash mid-write leaves
nothing half-written behind a valid name.

Location: the per-user cache folder of :mod:`scaleboard.user_cache` (``$SCALEBOARD_CACHE``,
else ``$XDG_CACHE_HOME/scaleboard``, else ``~/.cache/scaleboard``). ``SCALEBOARD_CACHE=off``
disables it. Deleting the folder is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from scaleboard.user_cache import cache_root

#: Reference outputs larger than this are computed, not stored (gpt2-xl at 1,024 tokens: 823 MB).
MAX_REFERENCE_BYTES = 256 * 1024 * 1024


def digest(key: dict[str, Any]) -> str:
    """A short stable name for a key (sha256 of its canonical JSON)."""
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]


def versions() -> dict[str, str]:
    import torch
    import transformers

    return {"torch": torch.__version__, "transformers": transformers.__version__}


def preset_key(name: str, config: dict[str, Any], seed: int) -> dict[str, Any]:
    """What a preset's random weights depend on."""
    return {"kind": "preset-weights", "model": name, "config": config, "seed": seed, **versions()}


def local_model_key(path: Path) -> dict[str, Any]:
    """A local model directory: its resolved path and the size and mtime of every file in it."""
    files = sorted(p for p in path.rglob("*") if p.is_file())
    stamp = [[str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns] for p in files]
    return {"kind": "local-model", "path": str(path.resolve()), "files": stamp}


# ---------------------------------------------------------------- preset weights


def preset_dir(key: dict[str, Any]) -> Path | None:
    """The folder holding a preset's saved weights for ``key``, if a valid one exists."""
    root = cache_root()
    if root is None:
        return None
    folder = root / "models" / f"{key['model']}-{digest(key)}"
    try:
        stored = json.loads((folder / "key.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return folder if stored == key else None


def save_preset(model: Any, key: dict[str, Any]) -> Path | None:
    """Save a freshly built preset under ``key``; returns the folder, or None when caching is off or fails."""
    root = cache_root()
    if root is None:
        return None
    final = root / "models" / f"{key['model']}-{digest(key)}"
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
        model.save_pretrained(tmp)
        (tmp / "key.json").write_text(json.dumps(key, sort_keys=True, indent=1), encoding="utf-8")
        if final.exists():  # a stale entry under the same digest (a key file that no longer matches)
            shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except OSError:
        with contextlib.suppress(Exception):
            shutil.rmtree(tmp, ignore_errors=True)
        return None
    return final


# ---------------------------------------------------------------- reference outputs


def reference_key(
    weights_key: dict[str, Any] | None,
    attention: str | None,
    seq_len: int | None,
    rows: int,
    input_seed: int,
    device: str,
    new_tokens: int | None = None,
) -> dict[str, Any] | None:
    """What the fp32 eager reference outputs depend on; None when the weights are not identifiable.
    With ``new_tokens`` the reference is greedy decoding's generated ids (task generate), not logits."""
    if weights_key is None:
        return None
    return {
        "kind": "reference" if new_tokens is None else f"generated-{new_tokens}",
        "weights": digest(weights_key),
        "attention": attention,
        "seq_len": seq_len,
        "rows": rows,
        "input_seed": input_seed,
        "device": device,
        **versions(),
    }


def _reference_path(key: dict[str, Any]) -> Path | None:
    root = cache_root()
    return None if root is None else root / "references" / f"{digest(key)}.pt"


def load_reference(key: dict[str, Any] | None) -> Any:
    """The stored reference tensor for ``key``, or None (absent, unreadable or another key)."""
    import torch

    path = _reference_path(key) if key else None
    if path is None or not path.is_file():
        return None
    try:
        stored = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # a truncated or foreign file is simply not a cache hit
        return None
    if not isinstance(stored, dict) or stored.get("key") != json.dumps(key, sort_keys=True):
        return None
    return stored.get("logits")


def save_reference(key: dict[str, Any] | None, logits: Any) -> bool:
    import torch

    path = _reference_path(key) if key else None
    if path is None or logits.numel() * logits.element_size() > MAX_REFERENCE_BYTES:
        return False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="tmp-reference-", suffix=".pt", dir=path.parent)
        os.close(fd)
        torch.save({"key": json.dumps(key, sort_keys=True), "logits": logits.detach().cpu()}, tmp)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        return False
    return True
