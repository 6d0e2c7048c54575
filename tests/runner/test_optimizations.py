"""The optimization / precision / attention tables and what each device supports."""

from __future__ import annotations

import pytest

from scaleboard import record
from scaleboard.runner import optimizations as opt


def test_tables_match_the_record_contract():
    choices = opt.list_choices()
    assert choices["optimizations"] == record.OPTIMIZATIONS
    assert choices["precisions"] == record.PRECISIONS
    assert choices["attention"] == record.ATTENTIONS


def test_tables_import_without_torch():
    import subprocess
    import sys

    code = "import sys, scaleboard.runner.optimizations, scaleboard.runner.models; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("optimization", "precision", "device", "expected"),
    [
        ("eager", "fp32", "cpu", None),
        ("compile-reduce-overhead", "bf16", "cpu", None),
        ("torchscript", "int8-dynamic", "cpu", None),
        ("eager", "tf32", "cpu", "tf32 is not available on cpu: tf32 is a CUDA tensor-core matmul mode"),
        ("compile", "int8-dynamic", "cuda", "int8-dynamic is not available on cuda"),
        ("compile", "fp16", "mps", "compile is not supported on mps"),
        ("jit", "fp32", "cpu", "unknown optimization 'jit'"),
    ],
)
def test_check_supported(optimization, precision, device, expected):
    reason = opt.check_supported(optimization, precision, "sdpa", device)
    assert reason == expected if expected is None else expected in reason


def test_int8_dynamic_quantizes_all_49_linear_layers_of_gpt2_shape():
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    # gpt2's layer structure (12 blocks × 4 projections + lm_head) at a tiny width
    config = GPT2Config(n_layer=12, n_embd=32, n_head=2, vocab_size=100, n_positions=32, bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config).eval()
    quantized = opt.quantize_int8_dynamic(model)
    dynamic = [m for m in quantized.modules() if isinstance(m, torch.ao.nn.quantized.dynamic.Linear)]
    assert len(dynamic) == 49


def test_torchscript_output_equals_eager():
    import torch

    from scaleboard.runner.models import load_model

    model = load_model("tiny-gpt2", "sdpa", "cpu").model
    ids = torch.randint(0, 1000, (2, 16), generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        eager = opt.build(model, "eager", "fp32", ids)(ids)
        traced = opt.build(model, "torchscript", "fp32", ids)(ids)
    assert eager.shape == (2, 16, 1000)
    assert torch.equal(eager, traced)


def test_amp_runs_under_autocast_and_casts_back_nothing():
    import torch

    from scaleboard.runner.models import load_model

    model = load_model("tiny-gpt2", "sdpa", "cpu").model
    ids = torch.randint(0, 1000, (1, 8))
    with torch.inference_mode():
        logits = opt.build(model, "eager", "amp-bf16", ids)(ids)
    assert logits.dtype == torch.bfloat16
    assert {p.dtype for p in model.parameters()} == {torch.float32}  # autocast leaves weights alone
