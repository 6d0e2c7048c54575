"""Measure one group — (model, optimization, precision, attention, threads) over rising batch sizes.

:func:`run_group` runs in the current process; the sweep calls it inside a child process,
one per group, so that a crash costs one group, never the run. It builds the model once,
computes the fp32-eager reference logits once, then for each batch size in rising order
prepares the callable, measures it, checks its output, and emits one complete record.

Status rules:

- a combination the device cannot run → every batch size ``unsupported`` with the reason;
- out of memory at batch b (CUDA OOM, a CPU allocation failure or MemoryError under the
  parent's memory cap) → ``oom`` for b and ``skipped`` ("oom at b") for larger batches;
- one steady-state iteration over ``budget.point_timeout_s`` at b → ``timeout`` for b,
  larger batches ``skipped`` ("timeout at b");
- any other exception in a point → ``error`` with a short reason, and the next batch size runs.

Testing hook — fault injection. ``SCALEBOARD_FAULT="kind@batch[,kind@batch...]"`` makes the
point at that batch size misbehave at its start, to test the sweep's isolation for real:

=========  ================================================================
``abort``  ``os.abort()`` (SIGABRT)
``segv``   ``os.kill(os.getpid(), signal.SIGSEGV)``
``oom``    raise ``torch.cuda.OutOfMemoryError`` (the normal OOM path)
``slow``   the timed callable sleeps ``point_timeout_s + 0.1`` s (the timeout path)
``hang``   sleep forever (the parent's hard timeout must kill the child)
``raise``  raise ``RuntimeError("injected fault")`` (an ``error`` record)
``exit``   ``os._exit(3)``
=========  ================================================================
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from scaleboard.errors import ConfigError
from scaleboard.record import RecordError, validate
from scaleboard.runner import (
    cache,
    environment,
    families,
    generate,
    measure,
    models,
    optimizations,
    planner,
    quality,
    train,
)
from scaleboard.runner.spec import GroupSpec, base_record
from scaleboard.runner.tasks import task_unsupported

FAULT_ENV = "SCALEBOARD_FAULT"
FAULT_KINDS = ("abort", "segv", "oom", "slow", "hang", "raise", "exit")
REASON_CHARS = 400  # a reason is a line in a table, not a log

#: Peak dense (no sparsity) tensor/vector TFLOP/s per GPU and precision, from NVIDIA's
#: datasheets (H100/H200 SXM, H100 PCIe, A100 SXM/PCIe, L4). Matched by substring of the
#: device name, most specific first. MFU is null for anything not listed (CPUs included).
PEAK_TFLOPS: tuple[tuple[str, dict[str, float]], ...] = (
    ("H100 PCIe", {"fp32": 51.2, "tf32": 378.0, "fp16": 756.0, "bf16": 756.0}),
    ("H100", {"fp32": 66.9, "tf32": 494.7, "fp16": 989.4, "bf16": 989.4}),
    ("H200", {"fp32": 66.9, "tf32": 494.7, "fp16": 989.4, "bf16": 989.4}),
    ("A100", {"fp32": 19.5, "tf32": 156.0, "fp16": 312.0, "bf16": 312.0}),
    ("L4", {"fp32": 30.3, "tf32": 60.0, "fp16": 121.0, "bf16": 121.0}),
)
_MATMUL_DTYPE = {"fp32": "fp32", "tf32": "tf32", "fp16": "fp16", "amp-fp16": "fp16", "bf16": "bf16", "amp-bf16": "bf16"}


def run_group(spec: GroupSpec, emit: Callable[[dict[str, Any]], None]) -> None:
    """Measure every batch size of ``spec`` and ``emit`` one validated record per point."""
    import torch

    faults = parse_faults(os.environ.get(FAULT_ENV, ""))
    device_type = spec.device["type"]
    batch_sizes = sorted(spec.batch_sizes)
    reason = optimizations.check_supported(spec.optimization, spec.precision, spec.attention, device_type)
    reason = reason or task_unsupported(spec.task, spec.optimization, spec.precision, spec.family)
    if reason:
        for b in batch_sizes:
            emit(_checked(base_record(spec, b, "unsupported", reason, **_model_fields(spec, {}))))
        return
    torch.set_num_threads(spec.threads)
    torch.manual_seed(spec.seed)
    optimizations.set_matmul_mode(spec.precision, device_type)
    # Training needs autograd: tensors made under inference mode can never take part in it.
    with contextlib.nullcontext() if spec.task == "train" else torch.inference_mode():
        _run_points(spec, batch_sizes, faults, emit)


def probe(spec: GroupSpec) -> dict[str, Any]:
    """The planner's measure of a (model, precision): one eager call at the smallest batch size.

    Builds (or loads from the cache) the model and its reference outputs as a group would, so
    the groups that follow find both cached. Returns ``{call_s, setup_s, batch_size}``, or
    ``{call_s: None, reason}`` when the combination cannot run here.
    """
    import torch

    device_type = spec.device["type"]
    reason = optimizations.check_supported("eager", spec.precision, spec.attention, device_type)
    if reason:
        return {"call_s": None, "reason": reason}
    torch.set_num_threads(spec.threads)
    torch.manual_seed(spec.seed)
    optimizations.set_matmul_mode(spec.precision, device_type)
    batch_size = min(spec.batch_sizes)
    with torch.inference_mode():
        start = time.perf_counter()
        state = prepared(replace(spec, task="forward", new_tokens=None))  # a forward call prices every task
        setup_s = time.perf_counter() - start
        family = families.FAMILIES[spec.family]
        ids = families.make_inputs(family, state["config"], batch_size, spec.seq_len, spec.seed, device_type)
        fn = optimizations.build(state["model"], "eager", spec.precision, ids)
        timing = _timing(device_type)
        timer = timing.get("timer") or measure.WallTimer(sync=timing.get("sync"))
        fn(ids)  # warm-up
        call_s = min(timer.time_ms(lambda: fn(ids)) for _ in range(2)) / 1000.0
    return {"call_s": call_s, "setup_s": setup_s, "batch_size": batch_size}


def _run_points(
    spec: GroupSpec,
    batch_sizes: list[int],
    faults: dict[int, str],
    emit: Callable[..., Any],
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    state: dict[str, Any] = {}
    stopped_by: str | None = None
    started = clock()
    last: tuple[int, float, float] | None = None  # (batch size, p50 s, first call s) of the last ok point
    for i, b in enumerate(batch_sizes):
        if stopped_by:
            emit(_checked(base_record(spec, b, "skipped", stopped_by, **_model_fields(spec, state))))
            continue
        reason = over_budget(spec, last, b, clock() - started)
        if reason:
            for left in batch_sizes[i:]:
                emit(_checked(base_record(spec, left, "budget", reason, **_model_fields(spec, state))))
            return
        start = clock()
        try:
            if not state:
                state.update(prepared(spec))
            record = _measure_point(spec, state, b, faults.get(b))
        except measure.PointTimeout as exc:
            record, stopped_by = _failed(spec, state, b, "timeout", str(exc)), f"timeout at {b}"
        except Exception as exc:
            if is_oom(exc):
                record, stopped_by = _failed(spec, state, b, "oom", short_reason(exc)), f"oom at {b}"
            else:
                record = _failed(spec, state, b, "error", short_reason(exc))
        record["duration_s"] = round(clock() - start, 6)
        if record["status"] == "ok":
            last = (b, record["latency_ms"]["p50"] / 1000.0, record["warmup"]["first_call_s"])
        _release(spec.device["type"], collect=record["status"] != "ok")
        emit(_checked(record))


def over_budget(
    spec: GroupSpec, last: tuple[int, float, float] | None, batch_size: int, elapsed_s: float
) -> str | None:
    """Why ``batch_size`` is not measured (the group's time limit), or None. The first point always runs."""
    if spec.time_limit_s is None or last is None:
        return None
    need = planner.next_point_cost_s(spec, *last, batch_size)
    left = spec.time_limit_s - elapsed_s
    if need <= left:
        return None
    return (
        f"not measured (budget): about {need:.0f} s needed at batch {batch_size}, "
        f"{max(left, 0):.0f} s left of this configuration's {spec.time_limit_s:.0f} s share of the time budget"
    )


#: The last group's model, ready in its precision, with its reference outputs: at most one
#: entry, so a measuring process never holds a model the current group does not use (its
#: peak memory stays that of one model). Groups that differ only in optimization or threads
#: reuse it; the planner runs them one after another.
_KEPT: dict[tuple[Any, ...], dict[str, Any]] = {}


def prepared(spec: GroupSpec) -> dict[str, Any]:
    """:func:`_setup` for ``spec``, reusing the last group's when model, attention, precision,
    sequence length and device are the same. Nothing a group does changes it: a trace, a
    freeze and ``torch.compile`` build new callables around the model."""
    key = (spec.source, spec.attention, spec.precision, spec.seq_len, spec.device["type"], spec.task, spec.new_tokens)
    if key not in _KEPT:
        _KEPT.clear()
        gc.collect()
        _KEPT[key] = _setup(spec)
    return dict(_KEPT[key])


def _setup(spec: GroupSpec) -> dict[str, Any]:
    """Model in fp32, reference logits on the fixed input, then the model in the group's precision."""
    import torch

    device = spec.device["type"]
    loaded = models.load_model(spec.source, spec.attention, device)
    family = families.FAMILIES[spec.family]
    quality_ids = quality.quality_input(family, loaded.model.config, spec.seq_len, device)
    new_tokens = spec.new_tokens if spec.task == "generate" else None
    key = cache.reference_key(
        loaded.key, spec.attention, spec.record_seq_len, quality.QUALITY_ROWS, quality.QUALITY_SEED, device, new_tokens
    )
    reference = cache.load_reference(key)
    if reference is None:
        with torch.inference_mode():
            if new_tokens is None:
                reference = optimizations.prepare_eager(loaded.model, quality_ids)(quality_ids).float()
            else:
                reference = generate.reference_tokens(loaded.model, quality_ids, new_tokens)
        cache.save_reference(key, reference)
    reference = reference.to(device)
    model = optimizations.apply_precision(loaded.model, spec.precision)
    return {
        "model": model,
        "config": loaded.model.config,
        "weights": loaded.weights,
        "params": loaded.params,
        "quality_ids": quality_ids,
        "labels": families.train_labels(family, loaded.model.config, quality_ids),
        "reference": reference,
    }


def _measure_generate_point(
    spec: GroupSpec, state: dict[str, Any], batch_size: int, fault: str | None
) -> dict[str, Any]:
    """One point of task generate (see :mod:`scaleboard.runner.generate`)."""
    device_type = spec.device["type"]
    inject(fault)
    ids = quality.tile_rows(state["quality_ids"], batch_size)
    timing = _timing(device_type)
    assert spec.new_tokens is not None and spec.seq_len is not None  # suite.py: a generate group has both
    runner = generate.Generator(
        state["model"], ids, spec.new_tokens, spec.precision, sync=timing.get("sync"), optimization=spec.optimization
    )
    timed = _slowed(lambda _ids: runner.call(), ids, spec.budget.point_timeout_s) if fault == "slow" else runner.call
    measure.reset_peak_memory(device_type)
    result = measure.measure(timed, budget=spec.budget, **timing)
    memory = measure.peak_memory(device_type)
    timelines = runner.timelines[-result.iterations :]  # the timed calls, not the first call or warm-up
    checked = generate.token_agreement(runner.new_tokens(), state["reference"], spec.precision)
    record = base_record(spec, batch_size, "ok", **_model_fields(spec, state))
    per_s = 1000.0 / result.stats()["p50"]
    record.update(
        **result.record_fields(),
        throughput={"samples_per_s": batch_size * per_s, "tokens_per_s": batch_size * spec.new_tokens * per_s},
        generation=generate.generation_stats(timelines, batch_size, spec.seq_len, spec.new_tokens),
        memory=memory,
        quality={"reference": quality.reference_label(spec.attention, "greedy decoding"), **checked},
        isolation=environment.isolation(device_type),
    )
    return record


def _measure_train_point(spec: GroupSpec, state: dict[str, Any], batch_size: int, fault: str | None) -> dict[str, Any]:
    """One point of task train (see :mod:`scaleboard.runner.train`)."""
    device_type = spec.device["type"]
    inject(fault)
    ids = quality.tile_rows(state["quality_ids"], batch_size)
    labels = quality.tile_rows(state["labels"], batch_size)
    trainer = train.Trainer(state["model"], ids, spec.optimization, spec.precision, labels=labels)
    timed = _slowed(lambda _ids: trainer.step(), ids, spec.budget.point_timeout_s) if fault == "slow" else trainer.step
    measure.reset_peak_memory(device_type)
    result = measure.measure(timed, budget=spec.budget, **_timing(device_type))
    memory = measure.peak_memory(device_type)
    reference = train.reference_loss(state["reference"], state["quality_ids"], batch_size, spec.family, state["labels"])
    assert trainer.first_loss is not None  # measure() ran the step at least once
    checked = train.loss_quality(trainer.first_loss, reference, spec.precision)
    record = base_record(spec, batch_size, "ok", **_model_fields(spec, state))
    record.update(
        **result.record_fields(),
        throughput=result.throughput(batch_size, spec.record_seq_len),
        memory=memory,
        quality={"reference": quality.reference_label(spec.attention, "first-step loss"), **checked},
        isolation=environment.isolation(device_type),
    )
    return record


def _measure_point(spec: GroupSpec, state: dict[str, Any], batch_size: int, fault: str | None) -> dict[str, Any]:
    if spec.task == "generate":
        return _measure_generate_point(spec, state, batch_size, fault)
    if spec.task == "train":
        return _measure_train_point(spec, state, batch_size, fault)
    device_type = spec.device["type"]
    inject(fault)
    # The timed input is the correctness gate's fixed rows, tiled to the batch size (token
    # values do not change the speed of a forward): the last timed call's output is checked,
    # so the gate costs no extra call.
    ids = quality.tile_rows(state["quality_ids"], batch_size)
    prepare_start = time.perf_counter()
    fn = optimizations.build(state["model"], spec.optimization, spec.precision, ids)
    prepare_s = time.perf_counter() - prepare_start  # a TorchScript trace and freeze happen here
    outputs: list[Any] = [None]

    def call() -> Any:
        outputs[0] = fn(ids)
        return outputs[0]

    timed = _slowed(fn, ids, spec.budget.point_timeout_s) if fault == "slow" else call
    measure.reset_peak_memory(device_type)
    result = measure.measure(timed, budget=spec.budget, **_timing(device_type))
    result.first_call_s = (
        result.first_call_s or 0.0
    ) + prepare_s  # the contract: first_call_s includes trace / compile cost
    memory = measure.peak_memory(device_type)
    logits = outputs[0] if outputs[0] is not None else fn(ids)
    checked = quality.compare(
        logits,
        state["reference"],
        spec.precision,
        input_ids=state["quality_ids"],
        pretrained=state["weights"] == "pretrained" and spec.family == "causal-lm",  # perplexity: next-token LMs
    )
    record = base_record(spec, batch_size, "ok", **_model_fields(spec, state))
    throughput = result.throughput(batch_size, spec.record_seq_len)
    record.update(
        **result.record_fields(),
        throughput=throughput,
        memory=memory,
        quality={"reference": quality.reference_label(spec.attention), **checked},
        compute=compute_stats(state["config"], state["params"], spec, batch_size * 1000.0 / result.stats()["p50"]),
        isolation=environment.isolation(device_type),
    )
    return record


def _timing(device_type: str) -> dict[str, Any]:
    """Per-iteration timer and synchronize for the device (CUDA: events; MPS: synchronize)."""
    import torch

    if device_type == "cuda":
        return {"sync": torch.cuda.synchronize, "timer": measure.cuda_timer()}
    if device_type == "mps":
        return {"sync": torch.mps.synchronize}
    return {}


def compute_stats(config: Any, params: int, spec: GroupSpec, samples_per_s: float) -> dict[str, float | None]:
    """FLOPs of one forward per sample, achieved TFLOP/s, and MFU where the device's peak is known.

    Forward FLOPs per token ≈ 2·N + 2·n_layer·n_ctx·d_model (Kaplan et al. 2020, "Scaling
    Laws for Neural Language Models", Table 1), N the parameter count (the tied embedding
    counts once, and the LM head matmul costs 2·vocab·d_model per token, the same), n_ctx
    the sequence length. A ViT's tokens are its patches and the class token (its classifier
    head, applied to one token, is counted for every token: ~4% high for vit-base); a model
    that is no transformer (ResNet) has no such formula: null.
    """
    layers = getattr(config, "num_hidden_layers", None) or 0
    width = getattr(config, "hidden_size", None) or 0
    if spec.image_shape:
        patch = getattr(config, "patch_size", None)
        tokens = (spec.image_shape[-1] // patch) ** 2 + 1 if patch and layers and width else None
    else:
        tokens = spec.seq_len
    if tokens is None:
        return {"flops_per_sample": None, "achieved_tflops": None, "mfu": None}
    flops_per_token = 2 * params + 2 * layers * tokens * width
    flops_per_sample = float(flops_per_token * tokens)
    achieved = flops_per_sample * samples_per_s / 1e12
    peak = peak_tflops(spec.device.get("name", ""), spec.precision) if spec.device["type"] == "cuda" else None
    return {"flops_per_sample": flops_per_sample, "achieved_tflops": achieved, "mfu": achieved / peak if peak else None}


def peak_tflops(device_name: str, precision: str) -> float | None:
    dtype = _MATMUL_DTYPE.get(precision)
    for fragment, peaks in PEAK_TFLOPS:
        if fragment in device_name:
            return peaks.get(dtype) if dtype else None
    return None


def _model_fields(spec: GroupSpec, state: dict[str, Any]) -> dict[str, Any]:
    if not state:  # the model failed to load: say what it would have been
        return {"weights": models.weights_of(spec.source)}
    return {"weights": state["weights"], "params": state["params"]}


def _failed(spec: GroupSpec, state: dict[str, Any], batch_size: int, status: str, reason: str) -> dict[str, Any]:
    return base_record(spec, batch_size, status, reason, **_model_fields(spec, state))


def _checked(record: dict[str, Any]) -> dict[str, Any]:
    errors, _ = validate(record)
    if errors:  # a bug in this module, never the user's input: fail loudly
        raise RecordError("runner built an invalid record: " + "; ".join(errors))
    return record


def _release(device_type: str, collect: bool) -> None:
    """Free the last point's buffers before the next, larger one. Reference counting frees
    them as the point ends; a failed point's traceback keeps them in reference cycles, which
    only a collection frees (0.2 s with torch loaded: not after every point)."""
    if collect:
        gc.collect()
    if device_type == "cuda":
        import torch

        torch.cuda.empty_cache()


def is_oom(exc: BaseException) -> bool:
    """Out of memory: CUDA/MPS OOM, MemoryError, or a CPU allocator failure (e.g. under RLIMIT_AS)."""
    import torch

    if isinstance(exc, (MemoryError, torch.cuda.OutOfMemoryError)):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(
        marker in text
        for marker in ("out of memory", "can't allocate memory", "Cannot allocate memory", "std::bad_alloc")
    )


def short_reason(exc: BaseException) -> str:
    """``RuntimeError: message (at file.py:12 in fn)``: type, message, last traceback line."""
    message = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {message}"
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})"
    if len(text) > REASON_CHARS:
        text = text[: REASON_CHARS - 1] + "…"
    return text


# --- fault injection (testing hook, see the module docstring) ----------------------------------


def parse_faults(value: str) -> dict[int, str]:
    """``"oom@4,slow@8"`` → ``{4: "oom", 8: "slow"}``."""
    faults: dict[int, str] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        kind, _, batch = item.partition("@")
        if kind not in FAULT_KINDS or not batch.isdigit():
            raise ConfigError(f"{FAULT_ENV}: {item!r} is not kind@batch with kind one of {', '.join(FAULT_KINDS)}")
        faults[int(batch)] = kind
    return faults


def inject(fault: str | None) -> None:
    """Misbehave as ``fault`` says (``slow`` acts in the timed callable instead)."""
    import torch

    if fault == "abort":
        os.abort()
    elif fault == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif fault == "oom":
        raise torch.cuda.OutOfMemoryError("simulated CUDA out of memory")
    elif fault == "hang":
        while True:
            time.sleep(3600)
    elif fault == "raise":
        raise RuntimeError("injected fault")
    elif fault == "exit":
        os._exit(3)


def _slowed(fn: Callable[..., Any], ids: Any, point_timeout_s: float) -> Callable[[], Any]:
    def call() -> Any:
        time.sleep(point_timeout_s + 0.1)
        return fn(ids)

    return call
