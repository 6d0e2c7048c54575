"""The record contract shared by the runner and the generator (schema ``scaleboard.record/3``).

One JSON object per line of a ``data/*.jsonl`` file; every line stands alone.
This module is the only place that defines the fields. It imports nothing heavy
(no torch, no pandas) so that both stages, and a Pages workflow without torch,
can use it.

Units live in the names: ``*_ms`` milliseconds, ``*_s`` seconds, ``*_bytes`` bytes,
``*_per_s`` per second, ``*_w`` watts, ``*_j`` joules.

Version 2 added ``source`` and lets a record say which statistics it has: records imported
from other tools (packrat's min/avg/max, say) carry only what their source measured, and
everything else is null. Version 3 added models beyond causal language models: ``family``
and ``input`` say what a sample is (``seq_len`` tokens or an image), and a record of an image
model or of a model without attention layers has ``seq_len``, ``tokens_per_s`` or
``attention`` null. ``scaleboard.record/1`` and ``/2`` lines are still read: :func:`upgrade`
turns them into version 3 (asv's ``update_to_N`` way), so old ``data/`` folders keep loading.

Every field is listed once, in :data:`FIELDS` (its JSON type, whether it may be null or left
out, its allowed values and an object's sub-fields) and :data:`DOCS` (what it means);
``docs/records.md`` is made from the two (``python -m scaleboard.docs``). Null means "not known",
never zero.

Any field beyond these is kept but reported as a warning (``--strict`` fails on it).

The site, its CSV downloads and ``scaleboard.load_records`` show records as flat rows; their
columns, and where each comes from in a record, are listed in :mod:`scaleboard.columns`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaleboard.diagnostics import Problem, display_path, where
from scaleboard.errors import ScaleboardError

SCHEMA = "scaleboard.record/3"
SCHEMA_V1 = "scaleboard.record/1"
SCHEMA_V2 = "scaleboard.record/2"
#: Versions this module reads; older ones are upgraded on load.
READABLE_SCHEMAS = (SCHEMA_V1, SCHEMA_V2, SCHEMA)
#: ``source.tool`` of records measured by ScaleBoard itself.
SCALEBOARD_TOOL = "scaleboard"

#: Raw samples kept per record; enough for percentiles and a histogram, small on disk.
MAX_SAMPLES = 200

STATUSES = ("ok", "oom", "timeout", "error", "unsupported", "skipped", "budget")
#: Statuses that say nothing about the configuration: the point is measured again later.
NOT_MEASURED = ("budget",)
TASKS = ("forward", "generate", "train")
WEIGHTS = ("random", "pretrained")
FAMILIES = ("causal-lm", "masked-lm", "image-classification")
INPUT_KINDS = ("tokens", "pixels")
OPTIMIZATIONS = ("eager", "torchscript", "compile", "compile-reduce-overhead", "compile-max-autotune")
PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "amp-fp16", "amp-bf16", "int8-dynamic")
ATTENTIONS = ("sdpa", "eager")
DEVICE_TYPES = ("cpu", "cuda", "mps")

#: The fields that identify a measurement point; together with the environment
#: fingerprint they decide whether a point was already measured (resume).
POINT_FIELDS = (
    "suite",
    "machine",
    "model",
    "task",
    "seq_len",
    "new_tokens",
    "repeat",
    "optimization",
    "precision",
    "attention",
    "threads",
    "batch_size",
)

#: A parsed record: one line of a data file, the fields above.
Record = dict[str, Any]

_NUM = (int, float)
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$")


@dataclass(frozen=True)
class Field:
    """One field: its JSON type(s), whether it may be null, and allowed values."""

    types: tuple[type, ...]
    nullable: bool = False
    choices: tuple[str, ...] | None = None
    # For objects: the sub-fields and their types (all nullable numbers unless named).
    keys: dict[str, tuple[tuple[type, ...], bool]] | None = None
    required: bool = True


def _nums(*names: str, nullable: bool = True) -> dict[str, tuple[tuple[type, ...], bool]]:
    return {n: (_NUM, nullable) for n in names}


FIELDS: dict[str, Field] = {
    "schema": Field((str,)),
    "run_id": Field((str,)),
    "created_at": Field((str,)),
    "suite": Field((str,)),
    "machine": Field((str,)),
    "model": Field((str,)),
    "model_source": Field((str,), nullable=True, required=False),
    "weights": Field((str,), nullable=True, choices=WEIGHTS),
    "params": Field((int,), nullable=True),
    "family": Field((str,), nullable=True, required=False, choices=FAMILIES),
    "input": Field((dict,), nullable=True, required=False, keys={"kind": ((str,), False), "shape": ((list,), False)}),
    "task": Field((str,), choices=TASKS),
    "seq_len": Field((int,), nullable=True),
    "new_tokens": Field((int,), nullable=True),
    "repeat": Field((int,), nullable=True, required=False),
    "optimization": Field((str,), choices=OPTIMIZATIONS),
    "precision": Field((str,), nullable=True, choices=PRECISIONS),
    "attention": Field((str,), nullable=True, choices=ATTENTIONS),
    "threads": Field((int,)),
    "batch_size": Field((int,)),
    "device": Field(
        (dict,),
        keys={
            "type": ((str,), False),
            "name": ((str,), False),
            "count": ((int,), False),
            "memory_bytes": ((int,), True),
        },
    ),
    "env": Field(
        (dict,),
        keys={
            "python": ((str,), True),
            "torch": ((str,), True),
            "transformers": ((str,), True),
            "cuda": ((str,), True),
            "driver": ((str,), True),
            "scaleboard": ((str,), True),
            "git_sha": ((str,), True),
            "cpu": ((str,), True),
            "cores": ((int,), True),
            "os": ((str,), True),
            "fingerprint": ((str,), False),
        },
    ),
    "status": Field((str,), choices=STATUSES),
    "reason": Field((str,), nullable=True),
    "latency_ms": Field((dict,), nullable=True, keys=_nums("p50", "p90", "p95", "p99", "mean", "std", "min", "max")),
    "samples_ms": Field((list,)),
    "iterations": Field((int,), nullable=True),
    "throughput": Field((dict,), nullable=True, keys=_nums("samples_per_s", "tokens_per_s")),
    "memory": Field(
        (dict,), nullable=True, keys=_nums("peak_allocated_bytes", "peak_reserved_bytes", "peak_rss_bytes")
    ),
    "warmup": Field((dict,), nullable=True, keys=_nums("first_call_s", "warmup_s", "warmup_iterations")),
    "quality": Field(
        (dict,),
        nullable=True,
        keys={
            "reference": ((str,), False),
            **_nums("max_abs_diff", "rel_error", "next_token_agreement", "perplexity"),
            "ok": ((bool,), True),
        },
    ),
    "energy": Field((dict,), nullable=True, required=False, keys=_nums("joules_per_sample", "mean_power_w")),
    "compute": Field((dict,), nullable=True, required=False, keys=_nums("flops_per_sample", "achieved_tflops", "mfu")),
    "isolation": Field(
        (dict,),
        nullable=True,
        required=False,
        keys={"gpu_other_processes": ((int,), True), "load_avg_1m": (_NUM, True)},
    ),
    "duration_s": Field(_NUM, nullable=True, required=False),
    "generation": Field(
        (dict,),
        nullable=True,
        required=False,
        keys={
            "ttft_ms": ((dict,), True),
            "per_token_ms": ((dict,), True),
            **_nums("decode_tokens_per_s", "prefill_tokens_per_s"),
        },
    ),
    "stability": Field(
        (dict,),
        nullable=True,
        required=False,
        keys={
            **_nums("p50_ci95_low", "p50_ci95_high", "cv", "iqr_over_median"),
            "unstable": ((bool,), True),
        },
    ),
    "source": Field(
        (dict,),
        keys={
            "tool": ((str,), False),
            "version": ((str,), True),
            "file": ((str,), True),
            "settings": ((dict,), True),
        },
    ),
}

#: What each field means (``docs/records.md`` is made from this and :data:`FIELDS`).
DOCS: dict[str, str] = {
    "schema": '`"scaleboard.record/3"` (`/1` and `/2` are read and upgraded)',
    "run_id": "one id per `scaleboard run` invocation",
    "created_at": "ISO-8601 UTC time the point finished, e.g. `2026-11-23T01:02:03Z`",
    "suite": 'campaign label (the original scalebench "revision")',
    "machine": "machine label (defaults to the device name)",
    "model": "model name: a preset (`gpt2`) or a Hugging Face id / local directory, or the label given to one",
    "model_source": (
        "where the model was loaded from when a suite gave it a label (`LABEL=SOURCE`: a local "
        "directory or Hugging Face id, as written); null or absent: `model` itself"
    ),
    "weights": "`random` (preset built from config) or `pretrained`",
    "family": "`causal-lm`, `masked-lm` or `image-classification` (null: imported without saying)",
    "input": (
        "`{kind, shape}`: one sample of the timed batch: `kind` `tokens` (`shape` `[seq_len]`) or "
        "`pixels` (`[channels, height, width]`); throughput's `samples_per_s` counts images for "
        "`pixels`"
    ),
    "params": "parameter count of the model",
    "task": (
        "`forward` (one forward pass), `generate` (greedy decoding) or `train` (one optimizer step: "
        "forward with labels, backward, AdamW step)"
    ),
    "seq_len": "input length in tokens (null for an image input)",
    "new_tokens": 'tokens generated per sample when `task == "generate"`, else null',
    "repeat": (
        "the pass (1..N) of `scaleboard run --repeats N` that measured the point, each pass in its "
        "own processes; null when the point is measured once. Records of one point that differ only "
        "in `repeat` (or run) are pooled by the site and compare"
    ),
    "optimization": "`eager`, `torchscript`, `compile`, `compile-reduce-overhead`, `compile-max-autotune`",
    "precision": "`fp32`, `tf32`, `fp16`, `bf16`, `amp-fp16`, `amp-bf16`, `int8-dynamic`",
    "attention": "`sdpa` or `eager` (null for a model without attention layers, ResNet)",
    "threads": "CPU intra-op threads (`torch.set_num_threads`)",
    "batch_size": "samples per call",
    "device": "`{type, name, count, memory_bytes?}`: `type` is cpu / cuda / mps",
    "env": (
        "`{python?, torch?, transformers?, cuda?, driver?, scaleboard?, git_sha?, cpu?, cores?, os?, "
        "fingerprint}`; `fingerprint` is a hash of all of it"
    ),
    "status": (
        "`ok`, `oom`, `timeout`, `error`, `unsupported`, `skipped`, `budget`. `skipped`: a smaller "
        'batch of the configuration failed ("oom at 256"); `budget`: not measured because the run\'s '
        "time plan left no room for it, no property of the configuration (a later run with more time "
        "measures it)"
    ),
    "reason": 'why the status is not `ok` (an error message, "oom at 256", ...)',
    "latency_ms": (
        "`{p50?, p90?, p95?, p99?, mean?, std?, min?, max?}`: one call (a whole batch). A record "
        "measured by ScaleBoard must have them all; an imported one has what its source reported (an "
        "`ok` record needs `p50` or `mean`)"
    ),
    "samples_ms": (
        "raw per-iteration latencies in ms, at most `MAX_SAMPLES` of them (empty when the source kept none)"
    ),
    "iterations": "number of timed iterations (may exceed `len(samples_ms)`)",
    "throughput": (
        "`{samples_per_s?, tokens_per_s?}` from the median latency (imported: as the source reported "
        "it). `tokens_per_s` counts input tokens for `forward` (batch × seq_len) and generated tokens "
        "for `generate` (batch × new_tokens)"
    ),
    "memory": "`{peak_allocated_bytes?, peak_reserved_bytes?, peak_rss_bytes?}`",
    "warmup": (
        "`{first_call_s?, warmup_s?, warmup_iterations?}`: `first_call_s` is preparing a fresh "
        "callable and its first call: a TorchScript trace and freeze, a `torch.compile` (which "
        "happens in the first call) included"
    ),
    "quality": (
        "`{reference, max_abs_diff?, rel_error?, next_token_agreement?, perplexity?, ok?}`: outputs "
        "compared with fp32 eager on the same input; `next_token_agreement` is the share of top-1 "
        "predictions that agree: per token for language models, per image (the class) for image "
        "classifiers"
    ),
    "energy": "`{joules_per_sample?, mean_power_w?}`",
    "compute": "`{flops_per_sample?, achieved_tflops?, mfu?}`",
    "isolation": "`{gpu_other_processes?, load_avg_1m?}`: what else ran on the device",
    "duration_s": "wall time spent on the point, set-up included",
    "generation": (
        "`{ttft_ms?, per_token_ms?, decode_tokens_per_s?, prefill_tokens_per_s?}` for `task == "
        '"generate"`: time to first token (prefill) and inter-token latency, each a stats object like '
        "`latency_ms`; decode and prefill throughput"
    ),
    "stability": (
        "`{p50_ci95_low?, p50_ci95_high?, cv?, iqr_over_median?, unstable?}`: how sure the median is, "
        "from the raw samples: its distribution-free 95% confidence interval (order statistics; null "
        "under 6 samples), the coefficient of variation, IQR / median, and `unstable` when that is "
        "over 10% (`scaleboard.stats`)"
    ),
    "source": (
        "`{tool, version?, file?, settings?}`: who measured it. `tool` is `scaleboard` or an "
        "importer's source (`packrat`, `optimum-benchmark`); `file` the imported file; `settings` the "
        "source's own knobs that have no field here (packrat's NUMA topology, say)"
    ),
}

_POSITIVE_INTS = ("seq_len", "batch_size", "threads", "repeat")  # when not null


class RecordError(ScaleboardError, ValueError):
    """A record that breaks the contract; ``str()`` is ``path:line: message``."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message, self.path, self.line = message, path, line
        super().__init__(where(path, line) + message)


def _type_name(types: tuple[type, ...]) -> str:
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "an object",
        list: "a list",
        bool: "true/false",
    }
    return " or ".join(dict.fromkeys(names[t] for t in types))


def _type_ok(value: Any, types: tuple[type, ...]) -> bool:
    kind = type(value)
    if kind is float:
        return float in types and math.isfinite(value)
    if kind in types:  # the common case: exact JSON types
        return True
    if isinstance(value, bool):  # bool is an int in Python, never in our schema
        return bool in types
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return isinstance(value, types)


def _check_value(name: str, value: Any, types: tuple[type, ...], nullable: bool) -> str:
    """The message for a value of the wrong type (the caller has checked that it is wrong)."""
    if value is None:
        return f"field '{name}' must not be null"
    return f"field '{name}' must be {_type_name(types)}, got {json.dumps(value)[:60]}"


# FIELDS flattened once: validation runs for every line of every build.
_FIELD_NAMES = frozenset(FIELDS)
_CHECKS = tuple(
    (name, spec, spec.types, spec.nullable, spec.choices, tuple(spec.keys.items()) if spec.keys else None)
    for name, spec in FIELDS.items()
)


def validate(record: Any) -> tuple[list[str], list[str]]:
    """Check one parsed record. Returns ``(errors, warnings)`` as plain messages."""
    if not isinstance(record, dict):
        return [f"a record must be a JSON object, got {type(record).__name__}"], []
    record = upgrade(record)
    errors = _check_semantics(record) if _fields_ok(record) else _field_errors(record)
    warnings = (
        [] if _FIELD_NAMES.issuperset(record) else [f"unknown field '{name}'" for name in record if name not in FIELDS]
    )
    return errors, warnings


def _field_errors(record: dict[str, Any]) -> list[str]:
    """Every field's type, null and allowed-value errors, each with its message; the semantic
    checks when there are none."""
    errors: list[str] = []
    for name, spec, types, nullable, choices, keys in _CHECKS:
        value = record.get(name, _MISSING)
        if value is _MISSING:
            if spec.required:
                errors.append(f"missing field '{name}'")
        elif value is None:
            if not nullable:
                errors.append(f"field '{name}' must not be null")
        elif not _type_ok(value, types):
            errors.append(_check_value(name, value, types, nullable))
        elif choices is not None and value not in choices:
            errors.append(f"field '{name}' is {value!r}; expected one of {', '.join(choices)}")
        elif keys is not None:
            errors.extend(_check_keys(name, value, keys))
    if not errors:
        errors.extend(_check_semantics(record))
    return errors


_MISSING = object()


def _fields_checker() -> Callable[[dict[str, Any]], bool]:
    """A function telling, in one pass of straight-line code made from :data:`FIELDS`, that every
    field of a record has its type, null and allowed values: :func:`_field_errors` would find
    nothing. It is as strict or stricter (exact JSON types only), so when it says no, the loop
    finds the errors and words them. Validation runs for every line of every build; this is
    about twice as fast as the loop on a valid record."""
    constants: dict[str, Any] = {"M": _MISSING}

    def bad_type(var: str, types: tuple[type, ...]) -> str:
        name = f"T{len(constants)}"
        constants[name] = frozenset(types)
        finite = f" or ({var}.__class__ is float and {var} - {var} != 0)" if float in types else ""
        return f"{var}.__class__ not in {name}{finite}"  # NaN - NaN and inf - inf are NaN: != 0

    lines = ["def fields_ok(record):", "    get = record.get"]
    for name, spec in FIELDS.items():
        lines.append(f"    v = get({name!r}, M)")
        lines.append(f"    if v is M:\n        {'return False' if spec.required else 'pass'}")
        lines.append(f"    elif v is None:\n        {'pass' if spec.nullable else 'return False'}")
        lines.append(f"    elif {bad_type('v', spec.types)}:\n        return False")
        if spec.choices is not None:
            constants[f"C{len(constants)}"] = frozenset(spec.choices)
            lines.append(f"    elif v not in C{len(constants) - 1}:\n        return False")
        elif spec.keys:
            assert spec.types == (dict,), name  # the sub-fields are read with dict.get
            lines.append("    else:\n        sub = v.get")
            for key, (types, nullable) in spec.keys.items():
                lines.append(f"        s = sub({key!r})")  # a missing key and a null one are alike
                lines.append(f"        if s is None:\n            {'pass' if nullable else 'return False'}")
                lines.append(f"        elif {bad_type('s', types)}:\n            return False")
    lines.append("    return True")
    scope: dict[str, Any] = dict(constants)
    exec(compile("\n".join(lines), "<scaleboard.record fields_ok>", "exec"), scope)
    checker: Callable[[dict[str, Any]], bool] = scope["fields_ok"]
    return checker


_fields_ok = _fields_checker()


def _check_keys(name: str, value: dict[str, Any], keys: tuple[Any, ...]) -> list[str]:
    out = []
    for key, (types, nullable) in keys:
        sub = value.get(key, _MISSING)
        if sub is _MISSING:
            if not nullable:
                out.append(f"missing field '{name}.{key}'")
        elif sub is None:
            if not nullable:
                out.append(f"field '{name}.{key}' must not be null")
        elif not _type_ok(sub, types):
            out.append(_check_value(f"{name}.{key}", sub, types, nullable))
    return out


def _check_semantics(record: dict[str, Any]) -> list[str]:
    errors = []
    if record["schema"] != SCHEMA:
        readable = " or ".join(repr(v) for v in READABLE_SCHEMAS)
        errors.append(f"field 'schema' is {record['schema']!r}; this version reads {readable}")
    if not _ISO_UTC.match(record["created_at"]):
        errors.append(
            f"field 'created_at' is {record['created_at']!r}; expected ISO-8601 UTC like 2026-01-31T12:00:00Z"
        )
    for name in _POSITIVE_INTS:
        if record.get(name) is not None and record[name] < 1:
            errors.append(f"field '{name}' must be at least 1, got {record[name]}")
    if record["device"]["type"] not in DEVICE_TYPES:
        errors.append(f"field 'device.type' is {record['device']['type']!r}; expected one of {', '.join(DEVICE_TYPES)}")
    if record["status"] == "ok":
        for name in ("latency_ms", "throughput"):
            if record[name] is None:
                errors.append(f"field '{name}' must not be null when status is 'ok'")
        latency = record["latency_ms"] or {}
        if record["latency_ms"] is not None and latency.get("p50") is None and latency.get("mean") is None:
            errors.append("field 'latency_ms' needs 'p50' or 'mean' when status is 'ok'")
    elif not record.get("reason"):
        errors.append(f"field 'reason' must say why when status is {record['status']!r}")
    for name in ("ttft_ms", "per_token_ms"):
        stats = (record.get("generation") or {}).get(name)
        if stats is not None and not all(v is None or _type_ok(v, _NUM) for v in stats.values()):
            errors.append(f"field 'generation.{name}' must map statistics to numbers or null")
    if record["source"]["tool"] == SCALEBOARD_TOOL:
        errors.extend(_check_own(record))
    if len(record["samples_ms"]) > MAX_SAMPLES:
        errors.append(f"field 'samples_ms' holds {len(record['samples_ms'])} samples; at most {MAX_SAMPLES}")
    if not _all_numbers(record["samples_ms"]):
        errors.append("field 'samples_ms' must hold numbers only")
    return errors


_NUMBER_CLASSES = frozenset(_NUM)


def _all_numbers(values: list[Any]) -> bool:
    """``all(_type_ok(v, _NUM) for v in values)``, for a record's hundreds of raw samples: when
    every value is a plain int or float and their sum is finite, none is NaN or infinite."""
    if _NUMBER_CLASSES.issuperset(map(type, values)):
        try:
            if math.isfinite(sum(values)):
                return True
        except OverflowError:  # an int too large for a float: the slow way says what it is
            pass
    return all(_type_ok(v, _NUM) for v in values)


#: What ScaleBoard's runner always knows: only imported records may leave these null.
_OWN_FIELDS = ("weights", "family", "input", "precision", "iterations")
_OWN_ENV = ("python", "scaleboard", "os")
_OWN_LATENCY = ("p50", "p90", "p95", "p99", "mean", "std", "min", "max")


def _check_own(record: dict[str, Any]) -> list[str]:
    """A record measured by ScaleBoard keeps version 1's rules: every configuration field, every
    statistic and raw samples. The nulls version 2 allows are for imported records alone; those
    version 3 allows follow from the input (no ``seq_len`` or tokens/s for an image)."""
    errors = [
        f"field '{n}' must not be null in a record measured by ScaleBoard" for n in _OWN_FIELDS if record.get(n) is None
    ]
    given = record.get("input") or {}
    kind, tokens = given.get("kind"), given.get("kind") == "tokens"
    if given and kind not in INPUT_KINDS:
        errors.append(f"field 'input.kind' is {kind!r}; expected one of {', '.join(INPUT_KINDS)}")
    if tokens and record["seq_len"] is None:
        errors.append("field 'seq_len' must not be null in a record measured by ScaleBoard on tokens")
    if tokens and record["seq_len"] is not None and given["shape"] != [record["seq_len"]]:
        errors.append(f"field 'input.shape' is {given['shape']}; a token input's is [seq_len]")
    if kind == "pixels" and record["seq_len"] is not None:
        errors.append("field 'seq_len' must be null for an image input")
    throughput_keys = ("samples_per_s", "tokens_per_s") if tokens else ("samples_per_s",)
    errors += [f"field 'env.{n}' must not be null in a record measured by ScaleBoard" for n in _OWN_ENV
               if record["env"].get(n) is None]  # fmt: skip
    if record["status"] != "ok":
        return errors
    for name, keys in (("latency_ms", _OWN_LATENCY), ("throughput", throughput_keys)):
        section = record[name]
        if section is not None and (missing := [k for k in keys if section.get(k) is None]):
            errors.append(f"field '{name}' of a record measured by ScaleBoard lacks {', '.join(missing)}")
    if not record["samples_ms"]:
        errors.append("field 'samples_ms' must not be empty when status is 'ok'")
    return errors


def no_measurement(iterations: int | None = 0) -> dict[str, Any]:
    """Every measurement field of a record, empty: a point not measured yet (the runner fills it
    or records why not), or an imported row before the importer sets what its source reported."""
    return {
        "latency_ms": None,
        "samples_ms": [],
        "iterations": iterations,
        "throughput": None,
        "memory": None,
        "warmup": None,
        "quality": None,
        "energy": None,
        "compute": None,
    }


def upgrade(record: dict[str, Any]) -> dict[str, Any]:
    """A record of an older schema as the current one (a new dict); current records pass as they are.

    ``/1`` → ``/2``: every ``/1`` record was measured by ScaleBoard, so its ``source`` is
    ``scaleboard`` at the version in its ``env``.
    ``/2`` → ``/3``: before version 3 ScaleBoard measured causal language models only, on
    ``seq_len`` tokens: its records get that ``family`` and ``input``; an imported record's
    source did not say, so it gets neither.
    """
    schema = record.get("schema")
    if schema == SCHEMA_V1:
        env = record["env"] if isinstance(record.get("env"), dict) else {}
        version = env.get("scaleboard") if isinstance(env.get("scaleboard"), str) else None
        record = {**record, "schema": SCHEMA_V2, "source": {"tool": SCALEBOARD_TOOL, "version": version}}
        schema = SCHEMA_V2
    if schema != SCHEMA_V2:
        return record
    record = {**record, "schema": SCHEMA}
    source = record.get("source")
    if isinstance(source, dict) and source.get("tool") == SCALEBOARD_TOOL and isinstance(record.get("seq_len"), int):
        record.setdefault("family", "causal-lm")
        record.setdefault("input", {"kind": "tokens", "shape": [record["seq_len"]]})
    return record


def headline_latency(latency: dict[str, Any] | None) -> tuple[float | None, str | None]:
    """The latency a chart shows and the statistic it is: the median where the record has one, else the mean.

    An imported mean stays a mean (``("mean")``); it is never passed off as a median.
    """
    if not latency:
        return None, None
    if latency.get("p50") is not None:
        return latency["p50"], "median"
    if latency.get("mean") is not None:
        return latency["mean"], "mean"
    return None, None


def dumps(record: dict[str, Any]) -> str:
    """One record as one line of JSON (no trailing newline). Validates first."""
    errors, _ = validate(record)
    if errors:
        raise RecordError("; ".join(errors))
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def loads(line: str, path: str | Path | None = None, lineno: int | None = None) -> tuple[dict[str, Any], list[str]]:
    """Parse and validate one line. Raises :class:`RecordError` naming ``path:lineno``."""
    try:
        record = parse_json(line)
    except json.JSONDecodeError as exc:  # orjson's error is a subclass
        raise RecordError(f"not valid JSON ({exc.msg} at column {exc.colno})", path, lineno) from None
    errors, warnings = validate(record)
    if errors:
        raise RecordError("; ".join(errors), path, lineno)
    return upgrade(record), warnings


def _json_loads(line: str) -> Any:
    """The standard library's parser, with NaN and Infinity refused as orjson refuses them:
    a record holds finite numbers only, and both parsers must agree on what is valid."""

    def refuse(constant: str) -> Any:
        raise json.JSONDecodeError(f"{constant} is not a JSON number", line, line.find(constant))

    return json.loads(line, parse_constant=refuse)


try:  # orjson parses records about 4× faster; the standard library is the fallback
    import orjson

    parse_json: Callable[[str], Any] = orjson.loads
except ImportError:  # pragma: no cover - orjson is a dependency; kept for odd platforms
    parse_json = _json_loads


@dataclass
class Loaded:
    """Records read from files, with every problem found on the way."""

    records: list[dict[str, Any]]
    problems: list[Problem]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def iter_file(
    path: str | Path, display: str | None = None
) -> Iterator[tuple[int, dict[str, Any] | None, Problem | None]]:
    """Yield ``(lineno, record, problem)`` for each non-blank line of a JSONL file.

    A last line without its newline that does not parse is a *truncated write*
    (a runner killed mid-line): it is reported as a warning, never an error,
    so an interrupted run never breaks loading.
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    yield from iter_text(text, display or str(path))


def iter_text(text: str, name: str) -> Iterator[tuple[int, dict[str, Any] | None, Problem | None]]:
    """:func:`iter_file` on a file's text already read (``name`` is what problems call the file)."""
    yield from iter_lines(text.split("\n"), name, text.endswith("\n"))


def iter_lines(
    lines: list[str], name: str, terminated: bool, start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, dict[str, Any] | None, Problem | None]]:
    """:func:`iter_text` on the text split at newlines (``terminated``: it ends with one), for
    ``lines[start:stop]`` only: parts of a file can be validated apart."""
    for lineno, line in enumerate(lines[start:stop], start=start + 1):
        if not line.strip():
            continue
        is_last_unterminated = lineno == len(lines) and not terminated
        try:
            record, warnings = loads(line, name, lineno)
        except RecordError as exc:
            if is_last_unterminated and line.lstrip().startswith("{"):
                yield lineno, None, Problem(name, lineno, "truncated last line (interrupted write) ignored", "warning")
            else:
                yield lineno, None, Problem(name, lineno, exc.message)
            continue
        for warning in warnings:
            yield lineno, None, Problem(name, lineno, warning, "warning")
        yield lineno, record, None


def load_records(paths: Iterable[str | Path], root: str | Path | None = None) -> Loaded:
    """Read many JSONL files; paths in messages are shown relative to ``root``."""
    loaded = Loaded([], [])
    for path in sorted(Path(p) for p in paths):
        display = display_path(path, root)
        for _, record, problem in iter_file(path, display):
            if problem is not None:
                loaded.problems.append(problem)
            if record is not None:
                loaded.records.append(record)
    return loaded


def data_files(data_dir: str | Path) -> list[Path]:
    """Every ``*.jsonl`` under ``data_dir``, sorted, so builds are deterministic."""
    return sorted(Path(data_dir).rglob("*.jsonl"))


def point_key(record: dict[str, Any]) -> tuple[Any, ...]:
    """The identity of a measurement point, environment fingerprint included."""
    return (*tuple(record.get(f) for f in POINT_FIELDS), record.get("env", {}).get("fingerprint"))


def config_name(record: dict[str, Any]) -> str:
    """A short label for a configuration: ``compile · bf16 · sdpa`` (parts a source did not state are left out)."""
    parts = (record["optimization"], record.get("precision"), record.get("attention"))
    return " · ".join(p for p in parts if p)
