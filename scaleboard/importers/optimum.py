"""optimum-benchmark's ``benchmark.json`` (0.6 format) as one record.

The file holds ``config`` (``backend``, ``scenario``, ``launcher``, ``environment``) and
``report``: one entry per target (``load_model``, ``first_forward``/``forward``,
``first_generate``/``generate``, ``prefill``, ``decode``, ``per_token``), each with
``latency`` (seconds: ``values`` and ``mean``/``p50``/``p90``/``p95``/``p99``/``stdev``),
``throughput`` (``{unit, value}``), ``memory`` (MB) and ``energy``. Read against
optimum-benchmark's ``trackers/latency.py`` and ``benchmark/report.py``.

What maps where:

- ``forward`` (or ``generate``) → ``latency_ms`` (× 1000) and ``samples_ms`` (its raw
  ``values``, at most 200); the task is ``generate`` when the report has a ``generate``
  target, with ``new_tokens`` from ``generate_kwargs`` (only when min = max new tokens).
- forward throughput as reported: ``samples/s`` → ``samples_per_s`` (tokens/s = samples/s ×
  sequence length, the unit conversion the runner makes). Generate throughput is batch / mean
  generate latency (× new tokens for tokens/s): the report's own figure counts decoded tokens
  in one tracking mode and samples in the other, under the same unit (see ``_generate_throughput``).
- ``prefill`` → ``generation.ttft_ms``, ``per_token`` → ``generation.per_token_ms``,
  ``decode``/``prefill`` throughput → ``generation.decode_tokens_per_s`` / ``prefill_tokens_per_s``.
- ``first_forward``/``first_generate`` → ``warmup.first_call_s``; the largest ``max_ram`` → ``peak_rss_bytes``
  (MB of 10⁶ bytes), ``max_allocated``/``max_reserved`` likewise.
- Precision from ``torch_dtype`` / ``autocast_*`` / ``allow_tf32`` (``torch_dtype: null`` loads
  float32, transformers' default); optimization from ``torch_compile`` and its ``mode``.
  A backend, quantization or setting ScaleBoard has no name for is an error, not a guess.
- Energy stays null: optimum-benchmark reports kWh per target, not per sample.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scaleboard.importers.common import Converted, bounded_samples, content_id, file_time, fingerprint, skeleton

TOOL = "optimum-benchmark"

DTYPES = {None: "fp32", "float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
AUTOCAST = {"float16": "amp-fp16", "bfloat16": "amp-bf16", None: "amp-fp16"}
COMPILE_MODES = {None: "compile", "default": "compile", "reduce-overhead": "compile-reduce-overhead"}
COMPILE_MODES["max-autotune"] = COMPILE_MODES["max-autotune-no-cudagraphs"] = "compile-max-autotune"
ATTENTION = {"sdpa": "sdpa", "eager": "eager"}
THREADS_ASSUMED = (
    "intra_op_num_threads not set: threads is the machine's CPU count, an assumption (torch's default "
    "intra-op thread count is usually the number of physical cores)"
)
MB = 1_000_000  # optimum-benchmark's memory tracker divides bytes by 1e6


class Problem(Exception):
    """One thing in the file that cannot be mapped; ``str()`` is ``key path: what``."""


def convert(path: Path, machine: str | None = None, suite: str | None = None) -> Converted:
    """One ``benchmark.json`` as one record (problems collected, never raised)."""
    out = Converted(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        out.problems.append(f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})")
        return out
    try:
        out.records.append(_record(path, data, machine, suite))
    except Problem as exc:
        out.problems.append(f"{path}: {exc}")
    return out


def _get(data: Any, dotted: str, kind: type | tuple[Any, ...] = object, required: bool = True) -> Any:
    node = data
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            if required:
                raise Problem(f"{dotted}: missing (is this an optimum-benchmark benchmark.json?)")
            return None
        node = node[key]
    if node is not None and not isinstance(node, kind):
        raise Problem(f"{dotted}: expected {getattr(kind, '__name__', kind)}, got {json.dumps(node)[:40]}")
    return node


def _record(path: Path, data: dict[str, Any], machine: str | None, suite: str | None) -> dict[str, Any]:
    backend, scenario, env = (_get(data, f"config.{k}", dict) for k in ("backend", "scenario", "environment"))
    report = _get(data, "report", dict)
    if backend.get("name") != "pytorch":
        raise Problem(f"config.backend.name: {backend.get('name')!r}; ScaleBoard records PyTorch backends only")
    for key in ("quantization_scheme", "peft_type"):
        if backend.get(key):
            raise Problem(f"config.backend.{key}: {backend[key]!r} has no ScaleBoard optimization; not imported")
    task = "generate" if "generate" in report else "forward"
    if task == "forward" and "forward" not in report:
        raise Problem(f"report: no 'forward' or 'generate' target (found: {', '.join(report) or 'none'})")
    shapes = _get(data, "config.scenario.input_shapes", dict)
    batch, seq_len = shapes.get("batch_size"), shapes.get("sequence_length")
    if not isinstance(batch, int) or batch < 1:
        raise Problem(f"config.scenario.input_shapes.batch_size: {batch!r}; expected a positive integer")
    device_type = backend.get("device")
    if device_type not in ("cpu", "cuda", "mps"):
        raise Problem(f"config.backend.device: {device_type!r}; expected cpu, cuda or mps")
    device = _device(env, device_type)
    main = _target(report, task)
    latency = _latency(main, f"report.{task}.latency")
    new_tokens = _new_tokens(scenario) if task == "generate" else None
    record = skeleton(
        run_id=f"import-optimum-benchmark-{content_id(path)}",
        created_at=file_time(path),
        suite=suite or _get(data, "config.name", str, required=False) or "optimum-benchmark",
        machine=machine or device["name"],
        model=_get(data, "config.backend.model", str),
        weights="random" if backend.get("no_weights") else "pretrained",
        task=task,
        seq_len=seq_len if isinstance(seq_len, int) and seq_len > 0 else None,
        new_tokens=new_tokens,
        optimization=_optimization(backend),
        precision=_precision(backend, device_type),
        attention=ATTENTION.get(backend.get("attn_implementation")),
        threads=backend.get("intra_op_num_threads") or env.get("cpu_count") or 1,
        batch_size=batch,
        device=device,
        env=_env(env, backend),
        latency_ms=latency,
        samples_ms=bounded_samples([v * 1000 for v in (main.get("latency") or {}).get("values") or []]),
        iterations=(main.get("latency") or {}).get("count"),
        throughput=_throughput(main, seq_len)
        if task == "forward"
        else _generate_throughput(latency, batch, new_tokens),
        memory=_memory(report),
        warmup=_warmup(report, task),
        source={"tool": TOOL, "version": env.get("optimum_benchmark_version"), "file": path.name, "settings": {}},
    )
    if task == "generate":
        record["generation"] = _generation(report)
    if backend.get("attn_implementation") and record["attention"] is None:
        record["source"]["settings"]["attn_implementation"] = backend["attn_implementation"]
    if not backend.get("intra_op_num_threads"):
        record["source"]["settings"]["threads"] = THREADS_ASSUMED
    return record


def _target(report: dict[str, Any], name: str) -> dict[str, Any]:
    target = report.get(name)
    if not isinstance(target, dict) or not isinstance(target.get("latency"), dict):
        raise Problem(f"report.{name}.latency: missing")
    return target


def _latency(target: dict[str, Any] | None, where: str) -> dict[str, Any] | None:
    """optimum-benchmark's latency (seconds) as ScaleBoard's stats in ms; what it lacks stays null."""
    lat = (target or {}).get("latency")
    if not isinstance(lat, dict):
        return None
    if lat.get("unit", "s") != "s":
        raise Problem(f"{where}.unit: {lat.get('unit')!r}; expected 's'")
    values = lat.get("values") or []
    if not all(isinstance(v, (int, float)) for v in values):
        raise Problem(f"{where}.values: expected numbers")

    def ms(key: str) -> float | None:
        value = lat.get(key)
        if value is not None and not isinstance(value, (int, float)):
            raise Problem(f"{where}.{key}: expected a number, got {json.dumps(value)[:40]}")
        return value * 1000 if value is not None else None

    stats = {k: ms(k) for k in ("p50", "p90", "p95", "p99", "mean")}
    stats["std"] = ms("stdev")
    stats["min"] = min(values) * 1000 if values else None
    stats["max"] = max(values) * 1000 if values else None
    return stats


def _generate_throughput(latency: dict[str, Any] | None, batch: int, new_tokens: int | None) -> dict[str, Any] | None:
    """samples/s = batch / mean generate latency (optimum-benchmark's own definition, ``atomic_generate_volume``);
    tokens/s = samples/s × new tokens.

    The report's ``generate.throughput`` is not used: in per-token tracking mode optimum-benchmark 0.6
    divides the *decoded* tokens (batch × beams × (new tokens − 1)) by the generate latency and still
    labels it samples/s (``scenarios/inference/scenario.py``), so the number depends on the mode.
    """
    mean = (latency or {}).get("mean")
    if not mean:
        return None
    samples = batch * 1000.0 / mean
    return {"samples_per_s": samples, "tokens_per_s": samples * new_tokens if new_tokens else None}


def _throughput(target: dict[str, Any], tokens_per_sample: Any) -> dict[str, Any] | None:
    """As reported; tokens/s = samples/s × the input tokens of one sample."""
    thr = target.get("throughput")
    if not isinstance(thr, dict) or not isinstance(thr.get("value"), (int, float)):
        return None
    if thr.get("unit") == "samples/s":
        tokens = thr["value"] * tokens_per_sample if isinstance(tokens_per_sample, int) else None
        return {"samples_per_s": thr["value"], "tokens_per_s": tokens}
    if thr.get("unit") == "tokens/s":
        return {"samples_per_s": None, "tokens_per_s": thr["value"]}
    raise Problem(f"report throughput unit {thr.get('unit')!r}: expected samples/s or tokens/s")


def _generation(report: dict[str, Any]) -> dict[str, Any]:
    def value(name: str) -> float | None:
        thr = (report.get(name) or {}).get("throughput") or {}
        return thr.get("value") if thr.get("unit") == "tokens/s" else None

    return {
        "ttft_ms": _latency(report.get("prefill"), "report.prefill.latency"),
        "per_token_ms": _latency(report.get("per_token"), "report.per_token.latency"),
        "decode_tokens_per_s": value("decode"),
        "prefill_tokens_per_s": value("prefill"),
    }


def _memory(report: dict[str, Any]) -> dict[str, Any] | None:
    peaks: dict[str, int] = {}
    for name, target in report.items():
        mem = (target or {}).get("memory") if isinstance(target, dict) else None
        if name == "load_model" or not isinstance(mem, dict):
            continue
        for theirs, ours in (("max_ram", "peak_rss_bytes"), ("max_allocated", "peak_allocated_bytes")):
            if isinstance(mem.get(theirs), (int, float)):
                peaks[ours] = max(peaks.get(ours, 0), int(mem[theirs] * MB))
        if isinstance(mem.get("max_reserved"), (int, float)):
            peaks["peak_reserved_bytes"] = max(peaks.get("peak_reserved_bytes", 0), int(mem["max_reserved"] * MB))
    return peaks or None


def _warmup(report: dict[str, Any], task: str) -> dict[str, Any] | None:
    first = _latency(report.get(f"first_{task}"), f"report.first_{task}.latency")
    if not first or first.get("mean") is None:
        return None
    return {"first_call_s": first["mean"] / 1000}


def _new_tokens(scenario: dict[str, Any]) -> int | None:
    kwargs = scenario.get("generate_kwargs") or {}
    low, high = kwargs.get("min_new_tokens"), kwargs.get("max_new_tokens")
    if isinstance(high, int) and low == high:
        return high
    new = scenario.get("new_tokens")
    return new if isinstance(new, int) else None


def _optimization(backend: dict[str, Any]) -> str:
    if not backend.get("torch_compile"):
        return "eager"
    mode = (backend.get("torch_compile_config") or {}).get("mode")
    if mode not in COMPILE_MODES:
        raise Problem(f"config.backend.torch_compile_config.mode: {mode!r} has no ScaleBoard optimization")
    return COMPILE_MODES[mode]


def _precision(backend: dict[str, Any], device_type: str) -> str:
    dtype = backend.get("torch_dtype")
    if backend.get("autocast_enabled"):
        if dtype not in (None, "float32") or backend.get("autocast_dtype") not in AUTOCAST:
            raise Problem("config.backend.autocast_dtype: a combination ScaleBoard has no precision for")
        return AUTOCAST[backend.get("autocast_dtype")]
    if dtype not in DTYPES:
        raise Problem(f"config.backend.torch_dtype: {dtype!r} has no ScaleBoard precision")
    if DTYPES[dtype] == "fp32" and backend.get("allow_tf32") and device_type == "cuda":
        return "tf32"
    return DTYPES[dtype]


def _device(env: dict[str, Any], device_type: str) -> dict[str, Any]:
    if device_type == "cuda" and env.get("gpu"):
        gpus = env["gpu"] if isinstance(env["gpu"], list) else [env["gpu"]]
        vram = env.get("gpu_vram_mb")
        memory = int(vram * MB) if isinstance(vram, (int, float)) else None
        return {
            "type": "cuda",
            "name": str(gpus[0]).strip(),
            "count": env.get("gpu_count") or 1,
            "memory_bytes": memory,
        }
    ram = env.get("cpu_ram_mb")
    name = str(env.get("cpu") or "unknown CPU").strip()
    cores = env.get("cpu_count")
    label = f"{name} ({cores} cores)" if isinstance(cores, int) else name
    return {"type": device_type, "name": label, "count": 1, "memory_bytes": int(ram * MB) if ram else None}


def _env(env: dict[str, Any], backend: dict[str, Any]) -> dict[str, Any]:
    ours = {
        "python": env.get("python_version"),
        "torch": backend.get("version"),
        "transformers": env.get("transformers_version"),
        "scaleboard": None,
        "cpu": str(env["cpu"]).strip() if env.get("cpu") else None,
        "cores": env.get("cpu_count") if isinstance(env.get("cpu_count"), int) else None,
        "os": env.get("platform") or env.get("system"),
    }
    ours["fingerprint"] = fingerprint(TOOL, ours)
    return ours
