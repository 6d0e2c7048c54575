"""The sweep axes as flat tables: optimizations, precisions, attention implementations.

``OPTIMIZATIONS`` maps a name to ``prepare(model, example_input_ids) -> callable(input_ids) -> logits``.
``prepare`` is called once per batch size: a TorchScript trace bakes the batch size in, and
a static-shape ``torch.compile`` recompiles for a new shape anyway (dynamo's recompile limit
of 8 would otherwise fall back to eager silently in a 1..32 sweep), so every batch size gets
a fresh callable and its first call (``first_call_s``) carries its own trace/compile cost.

``PRECISIONS`` says how a precision is applied: a model cast (fp16, bf16), an autocast
region around each call (amp-*), a matmul mode (tf32) or dynamic int8 quantization.

This module imports torch only inside functions, so the CLI can validate names from the
tables without loading torch.

Decisions (see :func:`check_supported`):

- ``tf32`` is a CUDA tensor-core mode: unsupported elsewhere.
- ``int8-dynamic`` uses ``torch.ao.quantization.quantize_dynamic``, whose kernels are CPU-only
  (fbgemm / onednn): unsupported on CUDA and MPS. On CPU it runs with every optimization:
  torchscript traces the quantized model (output identical to eager int8), and compile
  wraps it (inductor does not fuse the dynamic-quantized linears: on tiny-gpt2 compile
  int8 measured 3.1 ms against 2.1 ms eager int8, so it is measured, not assumed faster).
- fp16 and bf16 on CPU run and are measured, not refused, even where they are slow: CPUs
  without fp16 / bf16 matmul instructions (AVX2 only) take a fallback path: a gpt2 forward
  in bf16 measured ~19× slower than fp32 on such a CPU (see
  ``scaleboard.runner.environment.cpu_has_native_bf16``); the timeout wall bounds them.
- ``compile-reduce-overhead`` on CPU: CUDA graphs do not apply and inductor skips them,
  so it runs as inductor's default CPU path; it is measured as named, not refused.
- ``compile-max-autotune`` on CPU uses ``max-autotune-no-cudagraphs`` (the same autotuning).
- Every ``compile*`` variant sets ``torch._inductor.config.freezing = True``: weights become
  constants folded into the graph, measured here ~2.4× over eager on CPU at batch 8.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from typing import Any

ATTENTION: dict[str, str] = {
    "sdpa": "sdpa",  # torch.nn.functional.scaled_dot_product_attention (fused kernels)
    "eager": "eager",  # the model's own matmul + softmax attention
}


@dataclass(frozen=True)
class Precision:
    """How a precision is applied. Dtypes are torch attribute names, so the table needs no torch."""

    model_dtype: str | None = None  # cast the model's parameters
    autocast_dtype: str | None = None  # run each call inside torch.autocast
    tf32: bool = False  # allow TF32 tensor-core matmuls (CUDA)
    quantize_int8: bool = False  # dynamic int8 quantization of every linear layer
    devices: tuple[str, ...] = ("cpu", "cuda", "mps")


PRECISIONS: dict[str, Precision] = {
    "fp32": Precision(),
    "tf32": Precision(tf32=True, devices=("cuda",)),
    "fp16": Precision(model_dtype="float16"),
    "bf16": Precision(model_dtype="bfloat16"),
    "amp-fp16": Precision(autocast_dtype="float16"),
    "amp-bf16": Precision(autocast_dtype="bfloat16"),
    "int8-dynamic": Precision(quantize_int8=True, devices=("cpu",)),
}

_DEVICE_REASONS = {
    "tf32": "tf32 is a CUDA tensor-core matmul mode",
    "int8-dynamic": "dynamic int8 quantization (torch.ao quantize_dynamic) has CPU kernels only",
}


def _logits_module(model: Any) -> Any:
    """Wrap a HF model as ``inputs -> logits`` (token ids or pixel values, see
    :mod:`scaleboard.runner.families`): traceable and compilable, no KV cache, no dataclass output."""
    import torch

    extra = no_kv_cache(model)

    class _LogitsOnly(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module):
            super().__init__()
            self.inner = inner

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:
            # transformers 5: return_dict=False per call (not in the config, which breaks eager calls)
            logits: torch.Tensor = self.inner(inputs, return_dict=False, **extra)[0]
            return logits

    return _LogitsOnly(model).eval()


def no_kv_cache(model: Any) -> dict[str, bool]:
    """Call keywords that keep no KV cache: ``use_cache=False`` for a model that names it (a causal
    LM); nothing for a model without one (BERT, ViT, ResNet), which would not accept it."""
    import inspect

    return {"use_cache": False} if "use_cache" in inspect.signature(model.forward).parameters else {}


def prepare_eager(model: Any, example_input_ids: Any) -> Callable[..., Any]:
    module: Callable[..., Any] = _logits_module(model)
    return module


def prepare_torchscript(model: Any, example_input_ids: Any) -> Callable[..., Any]:
    """``torch.jit.trace`` + ``freeze`` of the logits wrapper; bit-identical to eager (FINDINGS)."""
    import torch

    with _quiet_deprecations():
        traced = torch.jit.trace(_logits_module(model), (example_input_ids,), check_trace=False)
        frozen: Callable[..., Any] = torch.jit.freeze(traced)
        return frozen


def _prepare_compile(mode: str | None) -> Callable[..., Any]:
    def prepare(model: Any, example_input_ids: Any) -> Callable[..., Any]:
        import torch
        import torch._inductor.config as inductor_config

        torch._dynamo.reset()  # a fresh cache per batch size: static shapes, no recompile limit
        inductor_config.freezing = True  # weights as constants (~2.4× on CPU at batch 8, FINDINGS)
        chosen = mode
        if mode == "max-autotune" and example_input_ids.device.type != "cuda":
            chosen = "max-autotune-no-cudagraphs"  # CUDA graphs exist only on CUDA
        return torch.compile(_logits_module(model), mode=chosen, dynamic=False)

    prepare.__doc__ = f"torch.compile(mode={mode!r}) with inductor freezing, static shapes."
    return prepare


OPTIMIZATIONS: dict[str, Callable[[Any, Any], Callable[..., Any]]] = {
    "eager": prepare_eager,
    "torchscript": prepare_torchscript,
    "compile": _prepare_compile(None),
    "compile-reduce-overhead": _prepare_compile("reduce-overhead"),
    "compile-max-autotune": _prepare_compile("max-autotune"),
}


def list_choices() -> dict[str, tuple[str, ...]]:
    """Valid names per axis, for validating suites and flags."""
    return {
        "optimizations": tuple(OPTIMIZATIONS),
        "precisions": tuple(PRECISIONS),
        "attention": tuple(ATTENTION),
    }


def check_supported(optimization: str, precision: str, attention: str | None, device_type: str) -> str | None:
    """Why ``device_type`` cannot run this combination, or None when it can (attention None: the
    model has no attention layers)."""
    attentions: set[str | None] = {*ATTENTION, None}
    axes: tuple[tuple[str, str | None, Container[Any]], ...] = (
        ("optimization", optimization, OPTIMIZATIONS),
        ("precision", precision, PRECISIONS),
        ("attention", attention, attentions),
    )
    for axis, name, table in axes:
        if name not in table:
            return f"unknown {axis} {name!r}"
    if device_type not in PRECISIONS[precision].devices:
        return f"{precision} is not available on {device_type}: {_DEVICE_REASONS[precision]}"
    if device_type == "mps" and optimization != "eager":
        return f"{optimization} is not supported on mps by this runner (eager only)"
    return None


def set_matmul_mode(precision: str, device_type: str) -> None:
    """TF32 on for ``tf32``, off otherwise, so fp32 means true fp32 on CUDA (process-wide setting)."""
    import torch

    if device_type != "cuda":
        return
    tf32 = PRECISIONS[precision].tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")


def apply_precision(model: Any, precision: str) -> Any:
    """Cast or quantize an fp32 model in place (or return the quantized copy) for ``precision``."""
    import torch

    spec = PRECISIONS[precision]
    if spec.model_dtype:
        return model.to(getattr(torch, spec.model_dtype))
    if spec.quantize_int8:
        return quantize_int8_dynamic(model)
    return model


def autocast_context(precision: str, device_type: str) -> contextlib.AbstractContextManager[Any]:
    """``torch.autocast`` for amp-* precisions, a no-op otherwise."""
    import torch

    dtype = PRECISIONS[precision].autocast_dtype
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device_type, dtype=getattr(torch, dtype))


def build(model: Any, optimization: str, precision: str, example_input_ids: Any) -> Callable[..., Any]:
    """``prepare`` under the precision's autocast, returning a callable that runs under it too."""
    device_type = example_input_ids.device.type
    with autocast_context(precision, device_type):
        fn = OPTIMIZATIONS[optimization](model, example_input_ids)
    if PRECISIONS[precision].autocast_dtype is None:
        return fn

    def call(input_ids: Any) -> Any:
        with autocast_context(precision, device_type):
            return fn(input_ids)

    return call


def quantize_int8_dynamic(model: Any) -> Any:
    """Dynamic int8 for every linear layer of a HF GPT-2.

    ``quantize_dynamic`` only touches ``nn.Linear``, and HF GPT-2 uses ``Conv1D`` (a linear
    layer with a transposed weight) for its 48 block projections: left as is, only ``lm_head``
    would be quantized. Swapping each Conv1D for an equivalent ``nn.Linear`` first quantizes
    all 49 (FINDINGS: 111 ms vs 243 ms fp32 at batch 1, ~83% next-token agreement).
    """
    import torch

    _conv1d_to_linear(model)
    with _quiet_deprecations():
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def _conv1d_to_linear(module: Any) -> None:
    import torch
    from transformers.pytorch_utils import Conv1D

    for name, child in module.named_children():
        if isinstance(child, Conv1D):
            n_in, n_out = child.weight.shape  # Conv1D stores (in, out); Linear wants (out, in)
            # skip_init: no random initialisation of weights that are overwritten at once
            linear = torch.nn.utils.skip_init(
                torch.nn.Linear, n_in, n_out, dtype=child.weight.dtype, device=child.weight.device
            )
            with torch.no_grad():
                linear.weight.copy_(child.weight.t())
                linear.bias.copy_(child.bias)
            setattr(module, name, linear)
        else:
            _conv1d_to_linear(child)


@contextlib.contextmanager
def _quiet_deprecations() -> Iterator[None]:
    """Hide the known notices of tracing and quantizing (documented above), nothing else.

    torch 2.13 deprecates torch.jit and torch.ao.quantization; tracing a HF model warns about
    Python booleans baked into the trace (expected: one trace per input shape).
    """
    import torch

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)  # type: ignore[attr-defined]  # not in torch.jit's __all__
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated")
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*deprecated")
        warnings.filterwarnings("ignore", message=r".*is_gradient_checkpointing.*deprecated")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")
        yield
