"""What one child process measures (a :class:`GroupSpec`) and the record skeleton for a point.

A *group* is one (model, optimization, precision, attention, threads) combination
over a rising list of batch sizes. The sweep (``scaleboard.runner.sweep``) runs each group in
its own child process; the measurement engine (``scaleboard.runner.group``) turns a group into
records. Both build records with :func:`base_record`, so every record of a point has
every field of the contract in ``scaleboard.record``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from scaleboard.record import SCALEBOARD_TOOL, SCHEMA, no_measurement


@dataclass(frozen=True)
class Budget:
    """How long to measure each point. Defaults suit a CPU; suites override them."""

    warmup_iterations: int = 2
    min_iterations: int = 5  # statistics need a few samples even for slow points
    max_iterations: int = 200  # cap for fast points
    min_time_s: float = 1.0  # keep timing until both min_iterations and min_time_s are met
    max_time_s: float = 10.0  # stop timing a point after this long, whatever the count
    point_timeout_s: float = 60.0  # one iteration slower than this → status "timeout"
    hard_timeout_s: float = 900.0  # a child silent for this long is killed (a hang)


@dataclass(frozen=True)
class GroupSpec:
    """One child process's work: a configuration over rising batch sizes."""

    run_id: str
    suite: str
    machine: str
    model: str
    optimization: str
    precision: str
    attention: str | None  # None: the model has no attention layers
    threads: int
    batch_sizes: tuple[int, ...]
    seq_len: int
    device: dict[str, Any]  # {type, name, count, memory_bytes}, collected once by the parent
    env: dict[str, Any]  # versions and fingerprint, collected once by the parent
    task: str = "forward"
    new_tokens: int | None = None
    budget: Budget = field(default_factory=Budget)
    seed: int = 0
    #: Wall seconds this group may take (the time plan's share, see scaleboard.runner.planner);
    #: a batch size predicted not to fit is recorded ``budget``. None: no limit.
    time_limit_s: float | None = None
    family: str = "causal-lm"  # see scaleboard.runner.families
    #: Which pass of ``--repeats N`` (1..N) this group belongs to; None: the suite measures each point once.
    repeat: int | None = None
    #: One image's shape (channels, height, width) for an image model; None: tokens of seq_len.
    image_shape: tuple[int, ...] | None = None
    #: What ``model`` is loaded from when the suite gave it a label (``LABEL=SOURCE``); None: ``model``.
    model_source: str | None = None

    @property
    def source(self) -> str:
        """The preset, local directory or Hugging Face id to load."""
        return self.model_source or self.model

    @property
    def label(self) -> str:
        label = f"{self.model} {self.optimization}/{self.precision}/{self.attention or '—'} t{self.threads}"
        return label if self.repeat is None else f"{label} r{self.repeat}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupSpec:
        data = dict(data)
        data["budget"] = Budget(**data.get("budget", {}))
        data["batch_sizes"] = tuple(data["batch_sizes"])
        if data.get("image_shape") is not None:
            data["image_shape"] = tuple(data["image_shape"])
        return cls(**data)

    @property
    def record_seq_len(self) -> int | None:
        """The record's ``seq_len``: none for an image input."""
        return None if self.image_shape else self.seq_len

    @property
    def input(self) -> dict[str, Any]:
        """The record's ``input``: what one sample of the batch is."""
        if self.image_shape:
            return {"kind": "pixels", "shape": list(self.image_shape)}
        return {"kind": "tokens", "shape": [self.seq_len]}


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def base_record(
    spec: GroupSpec,
    batch_size: int,
    status: str,
    reason: str | None = None,
    *,
    weights: str = "random",
    params: int | None = None,
) -> dict[str, Any]:
    """A complete record for one point with no measurement yet (all results null)."""
    return {
        "schema": SCHEMA,
        "run_id": spec.run_id,
        "created_at": utc_now(),
        "suite": spec.suite,
        "machine": spec.machine,
        "model": spec.model,
        "model_source": spec.model_source,
        "weights": weights,
        "params": params,
        "family": spec.family,
        "input": spec.input,
        "task": spec.task,
        "seq_len": spec.record_seq_len,
        "new_tokens": spec.new_tokens,
        "repeat": spec.repeat,
        "optimization": spec.optimization,
        "precision": spec.precision,
        "attention": spec.attention,
        "threads": spec.threads,
        "batch_size": batch_size,
        "device": dict(spec.device),
        "env": dict(spec.env),
        "status": status,
        "reason": reason,
        **no_measurement(),
        "source": {"tool": SCALEBOARD_TOOL, "version": spec.env.get("scaleboard")},
    }
