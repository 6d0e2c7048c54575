"""Task ``generate``: greedy decoding with the KV cache, timed token by token.

One call is ``model.generate`` on the point's batch (the correctness gate's fixed rows,
tiled, ``seq_len`` tokens each), greedy (``do_sample=False``, one beam), KV cache on,
exactly ``new_tokens`` new tokens per sample (``min_new_tokens == max_new_tokens``, so an
end-of-text token cannot end it early). A logits processor added to the call notes the
time each step's logits are ready (after a device synchronize on CUDA):

- **TTFT** (time to first token): from the start of the call to the first step, i.e.
  the prefill of the whole prompt and the first token's logits;
- **per-token latency** (inter-token latency, TPOT): the time between consecutive steps,
  one sample per decoded token after the first, over every timed call;
- **decode tokens/s** = batch × (new_tokens − 1) / (last step − first step), the median over
  the timed calls; **prefill tokens/s** = batch × seq_len / median TTFT;
- the record's latency is the whole call, and its ``tokens_per_s`` the generated tokens per
  second end to end: batch × new_tokens / latency.

Gate: the generated ids against fp32 eager greedy decoding of the same rows (token
agreement, position by position; once two greedy decodings differ they usually keep
differing, so this is stricter than next-token agreement on a forward).

Optimizations: eager, and ``compile*`` the way the transformers documentation gives it: a
static KV cache (``cache_implementation="static"``, fixed shapes for every decode step) and
the model's ``forward`` compiled with ``fullgraph=True``, on a shallow copy so the shared
model stays eager. Like a forward point, each batch size compiles afresh (prefill and decode
graphs), and that cost is the point's ``first_call_s``. Weights are not frozen here. A
TorchScript trace is a fixed forward with no KV cache: recorded ``unsupported`` with that
reason, never measured as something else.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

UNSUPPORTED_REASON = {
    "torchscript": "task generate with torchscript: a trace is a fixed forward with no KV cache; "
    "generate runs the model's own decoding loop",
}
#: torch.compile mode per optimization; max-autotune has no CUDA graphs off CUDA.
COMPILE_MODES = {"compile": None, "compile-reduce-overhead": "reduce-overhead", "compile-max-autotune": "max-autotune"}


def check_supported(optimization: str) -> str | None:
    """Why the generate task cannot run with ``optimization``, or None."""
    if optimization == "eager" or optimization in COMPILE_MODES:
        return None
    return UNSUPPORTED_REASON.get(optimization, f"task generate does not support {optimization}")


def compiled(model: Any, optimization: str, device_type: str) -> Any:
    """A shallow copy of ``model`` whose ``forward`` is compiled (fullgraph, static shapes).

    The copy shares parameters and submodules; only its ``forward`` attribute differs, so
    the model other groups use stays eager."""
    import copy

    import torch
    import torch._inductor.config as inductor_config

    mode = COMPILE_MODES[optimization]
    if mode == "max-autotune" and device_type != "cuda":
        mode = "max-autotune-no-cudagraphs"
    torch._dynamo.reset()  # a fresh compile per batch size, as for forward points
    inductor_config.freezing = False
    twin = copy.copy(model)
    twin.forward = torch.compile(model.forward, mode=mode, fullgraph=True, dynamic=False)
    return twin


def generate_kwargs(new_tokens: int, pad_token_id: int | None, static_cache: bool = False) -> dict[str, Any]:
    extra = {"cache_implementation": "static"} if static_cache else {}
    return {
        **extra,
        "max_new_tokens": new_tokens,
        "min_new_tokens": new_tokens,
        "do_sample": False,
        "num_beams": 1,
        "use_cache": True,
        "pad_token_id": pad_token_id,
    }


@dataclass
class Timeline:
    """When one call started and when each step's logits were ready (perf_counter seconds)."""

    start: float
    steps: list[float] = field(default_factory=list)

    @property
    def ttft_ms(self) -> float:
        return (self.steps[0] - self.start) * 1000.0

    @property
    def per_token_ms(self) -> list[float]:
        return [(b - a) * 1000.0 for a, b in zip(self.steps, self.steps[1:], strict=False)]

    @property
    def decode_s(self) -> float:
        return self.steps[-1] - self.steps[0]


def step_clock(sync: Callable[[], None] | None = None) -> Any:
    """A ``LogitsProcessor`` that appends the time to ``clock.steps`` at every step."""
    from transformers import LogitsProcessor

    class StepClock(LogitsProcessor):
        def __init__(self) -> None:
            self.steps: list[float] = []

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if sync is not None:
                sync()
            self.steps.append(time.perf_counter())
            return scores

    return StepClock()


class Generator:
    """``call()`` runs one timed ``generate``; ``timelines`` keeps each call's step times."""

    def __init__(
        self,
        model: Any,
        ids: Any,
        new_tokens: int,
        precision: str,
        sync: Callable[[], None] | None = None,
        optimization: str = "eager",
    ):
        import torch
        from transformers import LogitsProcessorList

        from scaleboard.runner.optimizations import autocast_context

        static = optimization in COMPILE_MODES
        self.model = compiled(model, optimization, ids.device.type) if static else model
        self.ids, self.precision, self.sync = ids, precision, sync
        self.mask = torch.ones_like(ids)
        self.kwargs = generate_kwargs(new_tokens, model.config.eos_token_id, static_cache=static)
        self.autocast: Callable[[], AbstractContextManager[Any]] = lambda: autocast_context(precision, ids.device.type)
        self.processors = LogitsProcessorList
        self.timelines: list[Timeline] = []
        self.last_output: Any = None

    def call(self) -> Any:
        clock = step_clock(self.sync)
        timeline = Timeline(start=time.perf_counter())
        with self.autocast():
            out = self.model.generate(
                self.ids, attention_mask=self.mask, logits_processor=self.processors([clock]), **self.kwargs
            )
        timeline.steps = clock.steps
        self.timelines.append(timeline)
        self.last_output = out
        return out

    def new_tokens(self) -> Any:
        """The generated ids of the last call (prompt removed)."""
        return self.last_output[:, self.ids.shape[1] :]


def generation_stats(timelines: list[Timeline], batch_size: int, seq_len: int, new_tokens: int) -> dict[str, Any]:
    """The record's ``generation`` object from the timed calls' timelines."""
    from scaleboard.stats import summarize

    ttft = [t.ttft_ms for t in timelines if t.steps]
    per_token = [ms for t in timelines for ms in t.per_token_ms]
    decode = [t.decode_s for t in timelines if len(t.steps) > 1]
    decode_s = statistics.median(decode) if decode else None
    return {
        "ttft_ms": summarize(ttft) if ttft else None,
        "per_token_ms": summarize(per_token) if per_token else None,
        "decode_tokens_per_s": batch_size * (new_tokens - 1) / decode_s if decode_s else None,
        "prefill_tokens_per_s": batch_size * seq_len / (statistics.median(ttft) / 1000.0) if ttft else None,
    }


def token_agreement(tokens: Any, reference: Any, precision: str) -> dict[str, Any]:
    """The gate for generate: share of generated ids equal to fp32 eager greedy ids, row by row."""
    from scaleboard.runner.quality import TOLERANCES

    rows = min(tokens.shape[0], reference.shape[0])
    agreement = (tokens[:rows] == reference[:rows]).float().mean().item()
    return {
        "max_abs_diff": None,
        "rel_error": None,
        "next_token_agreement": agreement,
        "perplexity": None,
        "ok": agreement >= TOLERANCES[precision].min_agreement,
    }


def reference_tokens(model: Any, quality_ids: Any, new_tokens: int) -> Any:
    """fp32 eager greedy decoding of the gate's rows: the reference ids (prompt removed)."""
    import torch

    with torch.inference_mode():
        out = model.generate(
            quality_ids,
            attention_mask=torch.ones_like(quality_ids),
            **generate_kwargs(new_tokens, model.config.eos_token_id),
        )
    return out[:, quality_ids.shape[1] :]
