"""Task ``train``: one optimizer step per iteration, timed like a forward point.

A step is a forward with labels (the family's own, see :mod:`scaleboard.runner.families`:
the input ids for language models, a fixed class per image for classifiers), the loss,
``backward``, an ``AdamW`` step and ``zero_grad``, on fixed data (the gate's rows, tiled to
the batch size). Each point trains its own copy of the model, so every
batch size starts from the same weights. Dropout is off (the model stays in eval mode,
gradients on): the first step's loss is then a deterministic function of the weights and
the input, comparable across optimizations and precisions.

- the record's latency is the step time; ``samples_per_s`` and ``tokens_per_s`` count the
  batch (× seq_len) per step; peak memory holds weights, gradients, optimizer state and
  activations; ``first_call_s`` is the first step (a compile of forward and backward);
- gate: the first step's loss against the fp32 eager loss of the same batch, computed from
  the cached reference logits (so any precision can be checked), within the precision's
  ``LOSS_TOLERANCE`` (relative);
- ``amp-fp16`` scales the loss with a ``GradScaler`` (fp16 gradients underflow without it);
  ``amp-bf16`` needs none.

Optimizations: eager and ``torch.compile`` (default mode, forward and backward through
inductor, no freezing: weights change every step). TorchScript (a frozen trace has no
trainable parameters) and dynamic int8 (quantized weights have no gradients) are recorded
``unsupported`` with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

UNSUPPORTED = {
    "torchscript": "task train with torchscript: a frozen trace has no trainable parameters",
}
PRECISION_UNSUPPORTED = {
    "int8-dynamic": "task train with int8-dynamic: dynamically quantized weights have no gradients",
}
#: First-step loss against fp32 eager, relative. fp32 differs only in kernel order (compile
#: fuses); bf16 / fp16 cast the whole model. Random-weight GPT-2's loss is ~ln(vocab) ≈ 10.8.
LOSS_TOLERANCE = {
    "fp32": 1e-4,
    "tf32": 1e-2,
    "fp16": 1e-2,
    "amp-fp16": 1e-2,
    "bf16": 5e-2,
    "amp-bf16": 5e-2,
}
LEARNING_RATE = 1e-4


def check_supported(optimization: str, precision: str) -> str | None:
    if optimization in UNSUPPORTED:
        return UNSUPPORTED[optimization]
    if optimization not in ("eager",) and not optimization.startswith("compile"):
        return f"task train does not support {optimization}"
    return PRECISION_UNSUPPORTED.get(precision)


class Trainer:
    """``step()`` runs one optimizer step on a private copy of ``model``; ``first_loss`` is the first step's loss."""

    def __init__(self, model: Any, ids: Any, optimization: str, precision: str, labels: Any = None):
        """``ids``: the batch (token ids or pixel values); ``labels``: the targets, the ids themselves if None."""
        import torch

        from scaleboard.runner.optimizations import PRECISIONS, autocast_context, no_kv_cache

        self.ids = ids
        self.labels = ids if labels is None else labels
        self.extra = no_kv_cache(model)  # a training step keeps no KV cache
        self.model = copy.deepcopy(model)
        self.model.eval()  # dropout off: a deterministic first loss (see the module doc)
        for p in self.model.parameters():
            p.requires_grad_(True)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LEARNING_RATE)
        self.autocast: Callable[[], AbstractContextManager[Any]] = lambda: autocast_context(precision, ids.device.type)
        amp_fp16 = PRECISIONS[precision].autocast_dtype == "float16"
        self.scaler = torch.amp.GradScaler(ids.device.type) if amp_fp16 else None
        self.forward = self._loss
        if optimization.startswith("compile"):
            import torch._inductor.config as inductor_config

            inductor_config.freezing = False  # weights are updated every step
            mode = {"compile-reduce-overhead": "reduce-overhead", "compile-max-autotune": "max-autotune"}.get(
                optimization
            )
            if mode == "max-autotune" and ids.device.type != "cuda":
                mode = "max-autotune-no-cudagraphs"
            torch._dynamo.reset()
            self.forward = torch.compile(self._loss, mode=mode, dynamic=False)
        self.first_loss: float | None = None

    def _loss(self, ids: Any) -> Any:
        return self.model(ids, labels=self.labels, return_dict=True, **self.extra).loss

    def step(self) -> float:
        import torch

        with torch.enable_grad():
            with self.autocast():
                loss = self.forward(self.ids)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach().float().item())
        if self.first_loss is None:
            self.first_loss = value
        return value


def reference_loss(
    reference_logits: Any, quality_ids: Any, batch_size: int, family: str = "causal-lm", labels: Any = None
) -> float:
    """fp32 eager's loss on the gate's rows tiled to ``batch_size``, from the cached reference logits.

    Every row has the same number of predicted targets, so the batch's mean loss is the mean of
    its rows' losses; row i of the batch is the gate's row ``i % rows``. ``labels``: the gate
    rows' labels (the ids themselves if None); a tiled batch's labels repeat them likewise.
    """
    from scaleboard.runner.families import FAMILIES, reference_losses

    labels = quality_ids if labels is None else labels
    per_row = reference_losses(FAMILIES[family], reference_logits, quality_ids, labels)
    rows = [per_row[i % len(per_row)] for i in range(batch_size)]
    return sum(rows) / len(rows)


def loss_quality(first_loss: float, reference: float, precision: str) -> dict[str, Any]:
    diff = abs(first_loss - reference)
    rel = diff / abs(reference) if reference else diff
    finite = first_loss == first_loss and abs(first_loss) != float("inf")
    return {
        "max_abs_diff": diff if finite else None,
        "rel_error": rel if finite else None,
        "next_token_agreement": None,
        "perplexity": None,
        "ok": bool(finite and rel <= LOSS_TOLERANCE.get(precision, 5e-2)),
    }
