"""Suites: what a ``scaleboard run`` measures, read from YAML and checked before anything runs.

A suite names models, optimizations, precisions, attention implementations, batch
sizes, threads, the task, the device and the measuring budgets. Every problem in a
suite file is reported at once, each naming the file and line::

    suite.yaml:7: unknown key 'batchsize' (did you mean 'batch_sizes'?)
    suite.yaml:3: batch size 0 must be at least 1

Keys (only ``label`` and ``models`` are required)::

    label: cpu-default            # campaign label in every record (the scalebench "revision")
    models: [gpt2]                # presets, local directories or cached Hugging Face ids;
                                  # LABEL=SOURCE names one: my-gpt2=./checkpoints/step-500
    optimizations: [eager]        # eager, torchscript, compile, compile-reduce-overhead, compile-max-autotune
    precisions: [fp32]            # fp32, tf32, fp16, bf16, amp-fp16, amp-bf16, int8-dynamic
    attention: [sdpa]             # sdpa, eager
    batch_sizes: 1-32,64,128      # numbers and ranges, or a YAML list
    seq_len: 128                  # input tokens
    task: forward                 # forward, or generate with new_tokens
    new_tokens: null
    repeats: 1                    # measure every point in this many separate passes (fresh processes)
    threads: auto                 # numbers, auto (1, 2, 4 … cores) or max (all cores)
    device: auto                  # auto, cpu, cuda, mps
    machine: null                 # machine label (default: GPU name, or CPU model and cores)
    budget: {min_time_s: 1.0}     # any field of scaleboard.runner.spec.Budget
    memory_limit: 85%             # CPU cap per measuring process: 85% of available RAM, 8G, none
    time_budget: null             # plan the run to fit this long (10m); see scaleboard.runner.planner
    out: data                     # records go to <out>/<label>/<machine>/<run_id>.jsonl

The embedded default suites live in ``runner/suites/*.yaml`` (package data).
This module does not import torch.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import yaml

from scaleboard.diagnostics import yaml_error_line, yaml_line
from scaleboard.errors import ConfigError
from scaleboard.record import ATTENTIONS, DEVICE_TYPES, OPTIMIZATIONS, PRECISIONS, TASKS
from scaleboard.runner.spec import Budget

DEVICES = ("auto", *DEVICE_TYPES)

#: Default CPU memory cap for a child: a share of the RAM available when the run starts,
#: leaving room for the runner itself and the rest of the machine.
DEFAULT_MEMORY_LIMIT = "85%"


@dataclass(frozen=True)
class Suite:
    """A campaign of measurements. ``threads`` is resolved to numbers (``auto`` → 1, 2, 4 … cores)."""

    label: str
    models: tuple[str, ...]
    optimizations: tuple[str, ...] = ("eager",)
    precisions: tuple[str, ...] = ("fp32",)
    attention: tuple[str, ...] = ("sdpa",)
    batch_sizes: tuple[int, ...] = (1,)
    seq_len: int = 128
    task: str = "forward"
    new_tokens: int | None = None
    repeats: int = 1  # passes over every point, each in fresh measuring processes (between-process spread)
    threads: tuple[int, ...] = (1,)
    device: str = "auto"
    machine: str | None = None
    budget: Budget = field(default_factory=Budget)
    memory_limit: str | int | None = DEFAULT_MEMORY_LIMIT
    time_budget_s: float | None = None
    out: str = "data"
    adaptive: bool = False  # the embedded defaults: the planner may shorten seq_len to fit the budget
    source: str = "<suite>"  # where the suite came from, for messages

    def replace(self, **changes: Any) -> Suite:
        return dataclasses.replace(self, **changes)


class Problems:
    """Collects every problem of a suite so that they are all reported at once."""

    def __init__(self, source: str):
        self.source = source
        self.messages: list[str] = []

    def add(self, line: int | None, message: str) -> None:
        self.messages.append(f"{self.source}:{line}: {message}" if line else f"{self.source}: {message}")

    def fail(self) -> NoReturn:
        """Raise the problems found so far (there is at least one)."""
        self.raise_if_any()
        raise AssertionError("fail() with no problem recorded")

    def raise_if_any(self) -> None:
        if len(self.messages) == 1:
            raise ConfigError(self.messages[0])
        if self.messages:
            raise ConfigError(f"{len(self.messages)} problems in {self.source}:\n  " + "\n  ".join(self.messages))


# ---------------------------------------------------------------- value parsers
# Each parser takes a plain value and returns the parsed value or raises ValueError
# with a message that makes sense after "file:line: " or "--flag: ".


def cores_available() -> int:
    """CPUs this process may run on (respects taskset / container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parse_batch_sizes(value: Any) -> tuple[int, ...]:
    """``"1-32,64,128"``, ``[1, 2, 4]`` or ``8`` → sorted unique batch sizes."""
    items = value if isinstance(value, list) else str(value).split(",")
    sizes: set[int] = set()
    for item in items:
        sizes.update(_batch_item(item))
    if not sizes:
        raise ValueError("no batch sizes given")
    return tuple(sorted(sizes))


def _batch_item(item: Any) -> range:
    if isinstance(item, bool):
        raise ValueError(f"{item!r} is not a batch size")
    if isinstance(item, int):
        lo = hi = item
    else:
        text = str(item).strip()
        match = re.fullmatch(r"(-?\d+)(?:\s*-\s*(-?\d+))?", text)
        if not match:
            raise ValueError(f"'{text}' is not a batch size (use numbers and ranges like 1-32,64,128)")
        lo = int(match.group(1))
        hi = int(match.group(2)) if match.group(2) is not None else lo
    if lo < 1:
        raise ValueError(f"batch size {lo} must be at least 1")
    if hi < lo:
        raise ValueError(f"batch size range {lo}-{hi} is empty")
    return range(lo, hi + 1)


def parse_threads(value: Any, cores: int | None = None) -> tuple[int, ...]:
    """``auto`` → 1, 2, 4 … up to the cores (and the core count itself); ``max`` → the cores; or numbers."""
    cores = cores or cores_available()
    if value in ("auto", "max"):
        if value == "max":
            return (cores,)
        # Powers of two keep the sweep short on big machines; on 2 cores this is 1..cores.
        return tuple(sorted({2**i for i in range(cores.bit_length()) if 2**i <= cores} | {cores}))
    items = value if isinstance(value, list) else str(value).split(",")
    threads = []
    for item in items:
        text = str(item).strip()
        if isinstance(item, bool) or not re.fullmatch(r"\d+", text):
            raise ValueError(f"'{text}' is not a thread count (use numbers, 'auto' or 'max')")
        if int(text) < 1:
            raise ValueError(f"thread count {text} must be at least 1")
        threads.append(int(text))
    if not threads:
        raise ValueError("no thread counts given")
    return tuple(dict.fromkeys(threads))


def parse_names(value: Any, choices: tuple[str, ...] | None, what: str) -> tuple[str, ...]:
    """A list (or comma-separated string) of names, each one of ``choices`` when given."""
    items = value if isinstance(value, list) else str(value).split(",")
    names = tuple(dict.fromkeys(str(i).strip() for i in items if str(i).strip()))
    if not names:
        raise ValueError(f"no {what}s given")
    for name in names:
        if choices is not None and name not in choices:
            raise ValueError(f"unknown {what} '{name}'{_suggest(name, choices)}; expected one of {', '.join(choices)}")
    return names


def parse_positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not re.fullmatch(r"\d+", str(value).strip()):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    if int(value) < 1:
        raise ValueError(f"{what} must be at least 1, got {value}")
    return int(value)


_DURATION = re.compile(r"^\s*((?:\d+(?:\.\d+)?\s*[smh]\s*)+|\d+(?:\.\d+)?\s*)$", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)", re.IGNORECASE)


def parse_duration_s(value: Any, what: str) -> float:
    """``90``, ``"90s"``, ``"10m"``, ``"1.5h"``, ``"6m30s"`` → seconds (positive)."""
    match = _DURATION.match(str(value)) if not isinstance(value, bool) else None
    if not match:
        raise ValueError(f"{what} must be a duration like 600, 90s, 10m, 6m30s or 1h, got {value!r}")
    units = {"s": 1, "m": 60, "h": 3600}
    seconds = sum(float(n) * units[(u or "s").lower()] for n, u in _DURATION_PART.findall(match.group(1)))
    if seconds <= 0:
        raise ValueError(f"{what} must be positive, got {value!r}")
    return seconds


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(%|[kmgt]i?b?|b)?\s*$", re.IGNORECASE)


def parse_memory_limit(value: Any) -> str | int | None:
    """``"85%"`` (of available RAM), ``"8G"``/``"8GiB"``, bytes, or ``none``. Checked, not resolved."""
    if value is None or str(value).lower() in ("none", "off", "0"):
        return None
    match = _SIZE.match(str(value)) if not isinstance(value, bool) else None
    if not match:
        raise ValueError(f"memory limit must be like 85%, 8G, 512M or a number of bytes, got {value!r}")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    if unit == "%" and not 0 < number <= 100:
        raise ValueError(f"memory limit {value} must be between 0% and 100%")
    return str(value).strip() if unit else int(number)


def memory_limit_bytes(limit: str | int | None, available_bytes: int) -> int | None:
    """Resolve a checked memory limit (see :func:`parse_memory_limit`) to bytes."""
    if limit is None or isinstance(limit, int):
        return limit
    match = _SIZE.match(limit)
    if match is None:  # parse_memory_limit has checked it: a caller that skipped it
        raise ValueError(f"not a memory limit: {limit!r}")
    number, unit = float(match.group(1)), (match.group(2) or "b").lower()
    if unit == "%":
        return int(available_bytes * number / 100)
    return int(number * 1024 ** "bkmgt".index(unit[0]))


def parse_time_budget(value: Any, what: str) -> float | None:
    """A duration, or ``none`` / ``off`` for no budget."""
    if value is None or str(value).strip().lower() in ("none", "off"):
        return None
    return parse_duration_s(value, what)


def _suggest(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---------------------------------------------------------------- loading


def load_suite(path: str | Path) -> Suite:
    """Read and check a suite file; raises :class:`ConfigError` listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read suite file ({exc.strerror})") from None
    return parse_suite(text, str(path))


def default_suite(device_type: str, native_bf16: bool | None = True) -> Suite:
    """The embedded suite for a device type: ``cuda-default`` on CUDA, ``cpu-default`` elsewhere.

    ``native_bf16=False`` (a CPU without AVX-512 BF16 or AMX) leaves bf16 out of the CPU
    suite: there torch falls back to a path about 20-100x slower than fp32 (a GPT-2 forward
    at batch 1 took 23-39 s against 0.6-2 s in fp32 on a 2-core AVX2 EPYC), which would
    make the default run take twice as long to record only timeouts.
    """
    name = "cuda-default.yaml" if device_type == "cuda" else "cpu-default.yaml"
    text = resources.files("scaleboard.runner").joinpath("suites").joinpath(name).read_text(encoding="utf-8")
    suite = parse_suite(text, f"runner/suites/{name}").replace(adaptive=True)
    if device_type == "cpu" and native_bf16 is False:
        suite = suite.replace(precisions=tuple(p for p in suite.precisions if p != "bf16"))
    return suite


def parse_suite(text: str, source: str) -> Suite:
    problems = Problems(source)
    entries = _top_level(text, problems)
    values: dict[str, Any] = {}
    for key, (value, line, node) in entries.items():
        if key not in _KEYS:
            problems.add(line, f"unknown key '{key}'{_suggest(key, _KEYS)}")
            continue
        try:
            values[key] = _KEYS[key](value, node, problems)
        except ValueError as exc:
            problems.add(line, str(exc))
    for key in ("label", "models"):
        if key not in entries:
            problems.add(None, f"missing key '{key}'")
    if values.get("task") == "generate" and values.get("new_tokens") is None:
        problems.add(entries["task"][1], "task 'generate' needs new_tokens (tokens to generate per sample)")
    problems.raise_if_any()
    for key in ("time_budget", "run_budget_s"):
        if key in values:
            values["time_budget_s"] = values.pop(key)
    if "new_tokens" in values and values.get("task", "forward") == "forward":
        values["new_tokens"] = None
    return Suite(source=source, **values)


def _top_level(text: str, problems: Problems) -> dict[str, tuple[Any, int, yaml.Node]]:
    """The suite's keys with their values, lines and YAML nodes (for per-item lines)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            problems.add(None, "the suite is empty")
            problems.fail()
        if not isinstance(node, yaml.MappingNode):
            problems.add(yaml_line(node), "a suite must be a mapping of keys to values")
            problems.fail()
        entries = {}
        for key_node, value_node in node.value:
            line = yaml_line(key_node)
            if key_node.value in entries:
                problems.add(line, f"key '{key_node.value}' given twice")
            entries[key_node.value] = (loader.construct_object(value_node, deep=True), line, value_node)
        return entries
    except yaml.YAMLError as exc:
        problems.add(yaml_error_line(exc), f"not valid YAML ({getattr(exc, 'problem', exc)})")
        problems.raise_if_any()
        raise AssertionError("unreachable") from None
    finally:
        loader.dispose()


def _per_item(
    parse: Callable[[Any], tuple[Any, ...]], value: Any, node: yaml.Node, problems: Problems
) -> tuple[Any, ...]:
    """Parse a list item by item so that each bad item is reported on its own line."""
    if not isinstance(node, yaml.SequenceNode):
        return parse(value)
    out: list[Any] = []
    for item, item_node in zip(value, node.value, strict=False):
        try:
            out.extend(parse([item]))
        except ValueError as exc:
            problems.add(yaml_line(item_node), str(exc))
    if not out and not value:
        raise ValueError("the list is empty")
    return tuple(dict.fromkeys(out))


def _models(value: Any, node: yaml.Node, problems: Problems) -> tuple[str, ...]:
    from scaleboard.runner.models import entry_problems  # lazily: the model table may import torch

    names = _per_item(lambda v: parse_names(v, None, "model"), value, node, problems)
    lines = [yaml_line(n) for n in node.value] if isinstance(node, yaml.SequenceNode) else []
    for i, message in entry_problems(names):
        problems.add(lines[i] if i < len(lines) else yaml_line(node), message)
    return names


def _budget(value: Any, node: yaml.Node, problems: Problems) -> Budget:
    if not isinstance(value, dict):
        raise ValueError("budget must be a mapping like {min_time_s: 1.0, point_timeout_s: 30}")
    names = {f.name: f for f in dataclasses.fields(Budget)}
    lines = {k.value: yaml_line(k) for k, _ in node.value}
    checked = {}
    for key, item in value.items():
        if key not in names:
            problems.add(
                lines.get(key), f"unknown budget key '{key}'{_suggest(key, names)}; expected one of {', '.join(names)}"
            )
            continue
        as_int = names[key].type in (int, "int")
        ok = not isinstance(item, bool) and isinstance(item, int if as_int else (int, float))
        least = 0 if key == "warmup_iterations" else (1 if as_int else 0)
        if not ok or item < least or (not as_int and item == 0):
            kind = "a whole number" if as_int else "a positive number of seconds"
            problems.add(lines.get(key), f"budget {key} must be {kind}, got {item!r}")
            continue
        checked[key] = item
    return Budget(**checked)


#: A suite key's parser: (value, its YAML node, problems) → the checked value.
KeyParser = Callable[[Any, yaml.Node, "Problems"], Any]


def _scalar(parse: Callable[[Any], Any]) -> KeyParser:
    return lambda value, node, problems: parse(value)


def _str(what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{what} must be a non-empty string, got {value!r}")
        return value.strip()

    return check


def _choice(choices: tuple[str, ...], what: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
        return str(value)

    return check


def _optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else parse(value)


_KEYS = {
    "label": _scalar(_str("label")),
    "models": _models,
    "optimizations": lambda v, n, p: _per_item(lambda x: parse_names(x, OPTIMIZATIONS, "optimization"), v, n, p),
    "precisions": lambda v, n, p: _per_item(lambda x: parse_names(x, PRECISIONS, "precision"), v, n, p),
    "attention": lambda v, n, p: _per_item(lambda x: parse_names(x, ATTENTIONS, "attention"), v, n, p),
    "batch_sizes": lambda v, n, p: tuple(sorted(_per_item(parse_batch_sizes, v, n, p))),
    "seq_len": _scalar(lambda v: parse_positive_int(v, "seq_len")),
    "task": _scalar(_choice(TASKS, "task")),
    "new_tokens": _scalar(_optional(lambda v: parse_positive_int(v, "new_tokens"))),
    "repeats": _scalar(lambda v: parse_positive_int(v, "repeats")),
    "threads": lambda v, n, p: _per_item(parse_threads, v, n, p) if isinstance(v, list) else parse_threads(v),
    "device": _scalar(_choice(DEVICES, "device")),
    "machine": _scalar(_optional(_str("machine"))),
    "budget": _budget,
    "memory_limit": _scalar(parse_memory_limit),
    "time_budget": _scalar(lambda v: parse_time_budget(v, "time_budget")),
    "run_budget_s": _scalar(lambda v: parse_time_budget(v, "run_budget_s")),  # the older name of time_budget
    "out": _scalar(_str("out")),
}

#: Suite keys, for help text and tests.
KEYS = tuple(_KEYS)
