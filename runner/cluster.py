"""Sweeps on a Ray cluster: ``scaleboard run --executor ray [--ray-address ADDR]``.

Each group (one configuration over its batch sizes) is a Ray task. Inside it the group runs
exactly as it does locally: in the same isolated measuring process
(:class:`~scaleboard.runner.isolate.Worker`), so a segfault or an OOM is a record, never a
lost node. Each task describes its own node (device, versions, fingerprint, machine label)
and its records carry that environment, not the driver's.

What a task asks of Ray:

- on CUDA, one GPU (Ray sets ``CUDA_VISIBLE_DEVICES``, so one group per GPU);
- on CPU, a whole node: the driver hands each node one group at a time and the task reserves
  all of the node's CPUs, because two timing runs sharing cores measure each other. With
  ``--allow-colocate`` a task reserves only its ``threads`` CPUs and Ray packs them;
- with ``--resources hw:a100=1`` also those custom resources, so groups go only to nodes
  started with them (``ray start --resources '{"hw:a100": 1}'``).

Records stream back through a :class:`ray.util.queue.Queue` as each point finishes, and the
driver alone appends them to the run file: one writer, no merging. A task lost with its
worker or node is tried once more for the batch sizes it had not delivered, then those are
recorded ``error`` with the reason. Ctrl-C cancels every running task and keeps every
finished record; the same command resumes, since the plan leaves out points recorded under
any node's environment.
"""

from __future__ import annotations

import functools
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from scaleboard.errors import ConfigError
from scaleboard.runner.spec import GroupSpec, base_record
from scaleboard.runner.sweep import Interrupts, Plan, SweepResult, spec_point_key

if TYPE_CHECKING:
    from scaleboard.runner.progress import Progress
    from scaleboard.runner.store import Index, RunFile

EXECUTORS = ("local", "ray")
ATTEMPTS = 2  # a lost task is tried once more
POLL_S = 0.2
NODE_REFRESH_S = 2.0


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None: start a local Ray instance (or use the one this process started)
    allow_colocate: bool = False
    resources: dict[str, float] = field(default_factory=dict)
    machine: str | None = None  # --machine: one label for every node; None: each node's own
    describe: str | None = None  # module:function describing a node; None: scaleboard.runner.environment.collect


def parse_resources(text: str | None) -> dict[str, float]:
    """``hw:a100=1,ssd=0.5`` → ``{"hw:a100": 1.0, "ssd": 0.5}``."""
    found: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, amount = part.partition("=")
        try:
            value = float(amount) if sep else 1.0
        except ValueError:
            value = -1.0
        if not name.strip() or value <= 0:
            raise ConfigError(f"--resources: {part.strip()!r} is not NAME=AMOUNT with a positive amount (hw:a100=1)")
        found[name.strip()] = value
    return found


# ---------------------------------------------------------------- what runs on the nodes


def _describe_here(
    device_type: str, machine: str | None, describe: str | None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(device, env, machine label) of the node this runs on."""
    if describe:
        import importlib

        module, _, name = describe.partition(":")
        described: tuple[dict[str, Any], dict[str, Any], str] = getattr(importlib.import_module(module), name)(
            device_type, machine
        )
        return described
    from scaleboard.runner import environment

    return environment.collect(device_type, machine)


@functools.lru_cache(maxsize=4)
def _node_description(
    device_type: str, machine: str | None, describe: str | None
) -> tuple[dict[str, Any], dict[str, Any], str]:
    return _describe_here(device_type, machine, describe)


def describe_node(device_type: str, machine: str | None, describe: str | None) -> dict[str, Any]:
    """Run on a node: what its records will say about it."""
    import ray

    device, env, label = _node_description(device_type, machine, describe)
    return {"node": ray.get_runtime_context().get_node_id(), "device": device, "env": env, "machine": label}


_WORKER: dict[str, Any] = {}  # one measuring process per Ray worker process, reused group after group as locally


def measure_group(tag: int, spec_data: dict[str, Any], settings: dict[str, Any], queue: Any) -> dict[str, Any]:
    """Run on a node: measure one group in an isolated worker, each record into ``queue`` as ``(tag, record)``."""
    import psutil
    import ray

    from scaleboard.runner.isolate import ChildOptions, Worker
    from scaleboard.runner.suite import memory_limit_bytes

    node = ray.get_runtime_context().get_node_id()
    queue.put((tag, {"started_on": node}))
    known = settings["nodes"].get(node)  # described before the sweep; a node that joined since describes itself
    if known:
        device, env, label = known["device"], known["env"], known["machine"]
    else:
        device, env, label = _node_description(settings["device_type"], settings["machine"], settings["describe"])
    spec = replace(GroupSpec.from_dict(spec_data), device=device, env=env, machine=label)
    limit = memory_limit_bytes(settings["memory_limit"], psutil.virtual_memory().available)
    options = ChildOptions(
        memory_limit_bytes=limit if settings["device_type"] == "cpu" else None,
        extra_env=settings["extra_env"],
        group_function=settings["group_function"],
    )
    # the cap as asked (85% of what was free when the process started), not as resolved now: memory in use
    # moves between groups, and a changed key would start a new measuring process for every group
    key = (repr(settings["memory_limit"]), repr(options.extra_env), options.group_function)
    worker = _WORKER.get("worker")
    if worker is None or _WORKER.get("key") != key:
        if worker is not None:
            worker.close()
        worker = _WORKER["worker"] = Worker(options)
        _WORKER["key"] = key
    if _WORKER.get("repeat") != spec.repeat:  # a new pass of --repeats: a fresh measuring process
        worker.retire()
        _WORKER["repeat"] = spec.repeat
    before = worker.started
    result = worker.run(spec, lambda record: queue.put((tag, record)))
    return {"node": node, "wall_s": result.wall_s, "recorded": result.recorded, "started": worker.started - before,
            "pid": os.getpid()}  # fmt: skip


class GroupRunner:
    """A Ray actor owning a node (CPU) or a GPU: one measuring process, reused group after group as locally."""

    def run(self, tag: int, spec_data: dict[str, Any], settings: dict[str, Any], queue: Any) -> dict[str, Any]:
        return measure_group(tag, spec_data, settings, queue)


# ---------------------------------------------------------------- the driver


def connect(address: str | None) -> bool:
    """Join the cluster at ``address``, or start a local Ray instance; False when this process already had one."""
    import logging

    import ray

    if ray.is_initialized():
        return False
    ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    return True


def open_queue() -> Any:
    """The queue records stream back through (an actor: open it early, its process starts in the
    background). It lives on this process's node: placed anywhere, it could go down with a node
    lost mid-sweep, and every record that node's groups had sent with it, where the sweep must
    go on on the nodes left."""
    import ray
    from ray.util.queue import Queue

    return Queue(actor_options={"num_cpus": 0, "scheduling_strategy": on_node(ray.get_runtime_context().get_node_id())})


def on_node(node: str) -> Any:
    """Ray's scheduling strategy for a task or actor that runs on ``node`` and nowhere else."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return NodeAffinitySchedulingStrategy(node, soft=False)


def resolve_device(requested: str) -> str:
    """``auto`` on a cluster: ``cuda`` when any node has a GPU, else ``cpu``."""
    import ray

    if requested != "auto":
        if requested == "mps":
            raise ConfigError("--executor ray runs on cpu or cuda nodes; mps is a single-machine device")
        return requested
    return "cuda" if ray.cluster_resources().get("GPU", 0) > 0 else "cpu"


def alive_nodes(resources: dict[str, float]) -> list[dict[str, Any]]:
    """The alive nodes holding every custom resource asked for."""
    import ray

    return [
        n
        for n in ray.nodes()
        if n.get("Alive") and all(n.get("Resources", {}).get(k, 0) >= v for k, v in resources.items())
    ]


def describe_nodes(device_type: str, options: RayOptions) -> list[dict[str, Any]]:
    """Each usable node's description, asked of the node itself."""
    import ray

    nodes = alive_nodes(options.resources)
    needs = "GPU" if device_type == "cuda" else "CPU"  # a head started with no CPUs takes no group
    nodes = [n for n in nodes if n.get("Resources", {}).get(needs, 0) >= 1]
    if not nodes:
        wanted = " with " + ", ".join(f"{k}={v:g}" for k, v in options.resources.items()) if options.resources else ""
        kind = "a GPU" if device_type == "cuda" else "CPUs"
        raise ConfigError(f"no alive Ray node has {kind}{wanted}; `ray status` lists the cluster's resources")
    here = ray.get_runtime_context().get_node_id()
    if len(nodes) == 1 and nodes[0]["NodeID"] == here and options.describe is None:
        # a local Ray instance: the node is this machine, described here (no worker has to import torch for it)
        device, env, label = _node_description(device_type, options.machine, None)
        return [{"node": here, "device": device, "env": env, "machine": label,
                 "cpus": int(nodes[0].get("Resources", {}).get("CPU", 1))}]  # fmt: skip
    remote = ray.remote(describe_node)
    refs = [
        remote.options(num_cpus=0, scheduling_strategy=on_node(n["NodeID"])).remote(
            device_type, options.machine, options.describe
        )
        for n in nodes
    ]
    described = ray.get(refs)
    for info, node in zip(described, nodes, strict=True):
        info["cpus"] = int(node.get("Resources", {}).get("CPU", 1))
    return described


def cluster_plan(groups: list[GroupSpec], index: Index, nodes: list[dict[str, Any]], force: bool = False) -> Plan:
    """Like :func:`scaleboard.runner.sweep.make_plan`, a point being recorded if it is under any node's environment."""
    variants = {(n["machine"], n["env"]["fingerprint"]): n for n in nodes}.values()
    todo: list[Any] = []
    existing: list[Any] = []
    for spec in groups:
        done = {}
        for node in variants:
            placed = replace(spec, machine=node["machine"], env=node["env"], device=node["device"])
            for b in spec.batch_sizes:
                key = spec_point_key(placed, b)
                if b not in done and index.has(key):
                    done[b] = index.records[key]
        existing.extend(done[b] for b in sorted(done))
        remaining = spec.batch_sizes if force else tuple(b for b in spec.batch_sizes if b not in done)
        if remaining:
            todo.append(replace(spec, batch_sizes=remaining))
    return Plan(groups=groups, todo=todo, existing=existing)


@dataclass
class _Task:
    tag: int
    spec: GroupSpec  # the batch sizes this attempt measures
    attempt: int
    node: str | None = None  # where it runs, once known
    delivered: set[int] = field(default_factory=set)  # batch sizes recorded


class RaySweep:
    """The driver's loop: hand out groups, store records as they stream back, retry lost tasks once."""

    def __init__(self, plan: Plan, run_file: RunFile, progress: Progress, *, device_type: str, options: RayOptions,
                 nodes: list[dict[str, Any]], memory_limit: str | int | None, extra_env: dict[str, Any] | None,
                 check_supported: Callable[..., Any], group_function: str | None, queue: Any = None):  # fmt: skip
        import ray

        self.ray, self.plan, self.run_file, self.progress = ray, plan, run_file, progress
        self.device_type, self.options, self.nodes = device_type, options, {n["node"]: n for n in nodes}
        self.check_supported = check_supported
        self.settings = {"device_type": device_type, "machine": options.machine, "describe": options.describe,
                         "memory_limit": memory_limit, "extra_env": extra_env, "group_function": group_function,
                         "nodes": {n["node"]: {k: n[k] for k in ("device", "env", "machine")} for n in nodes}}  # fmt: skip
        self.queue = queue or open_queue()
        self.remote = ray.remote(max_retries=0)(measure_group)  # --allow-colocate: plain tasks Ray packs
        self.runner = ray.remote(max_restarts=0, max_task_retries=0)(GroupRunner)
        self.result = SweepResult()
        self.running: dict[Any, tuple[_Task, Any]] = {}  # ObjectRef → (_Task, slot key or None)
        self.tasks: dict[int, _Task] = {}
        self.alive: set[str] = set(self.nodes)
        self._refreshed = time.monotonic()
        self.slots: dict[str, dict[str, Any]] = {}  # slot → {"actor", "node", "busy"}: a node on CPU, a GPU on CUDA
        if device_type == "cuda":
            gpus = int(sum(n.get("Resources", {}).get("GPU", 0) for n in alive_nodes(options.resources)))
            self.slots = {f"gpu-{i}": {"actor": None, "node": None, "busy": False} for i in range(max(1, gpus))}
        elif not options.allow_colocate:
            self.slots = {node: {"actor": None, "node": node, "busy": False} for node in sorted(self.nodes)}

    # what to run, and where

    def _actor_options(self, slot: dict[str, Any]) -> dict[str, Any]:
        resources = dict(self.options.resources)
        if self.device_type == "cuda":
            return {"num_gpus": 1, "num_cpus": 1, "resources": resources}
        return {"num_cpus": self.nodes[slot["node"]]["cpus"], "resources": resources,
                "scheduling_strategy": on_node(slot["node"])}  # fmt: skip

    def submit(self, task: _Task) -> bool:
        """Start ``task`` now if it has somewhere to run; False when every slot is busy."""
        args = (task.tag, task.spec.to_dict(), self.settings, self.queue)
        if not self.slots:  # colocated: Ray packs tasks by their threads
            options = {"num_cpus": task.spec.threads, "resources": dict(self.options.resources)}
            self.running[self.remote.options(**options).remote(*args)] = (task, None)
            return True
        free = [k for k, s in self.slots.items() if not s["busy"] and (s["node"] is None or s["node"] in self.alive)]
        if not free:
            return False
        key = free[0]
        slot = self.slots[key]
        if slot["actor"] is None:
            slot["actor"] = self.runner.options(**self._actor_options(slot)).remote()
        slot["busy"] = True
        task.node = slot["node"]
        self.running[slot["actor"].run.remote(*args)] = (task, key)
        return True

    # records

    def store(self, record: dict[str, Any]) -> None:
        self.run_file.append(record)
        self.result.records.append(record)
        self.progress.point(record)

    def drain(self) -> None:
        """Store every record that has arrived (a retried task's repeats of delivered points are dropped)."""
        from ray.util.queue import Empty

        while True:
            try:
                batch = self.queue.get_nowait_batch(self.queue.qsize()) if self.queue.qsize() else []
            except Empty:
                batch = []
            if not batch:
                return
            for tag, item in batch:
                task = self.tasks[tag]
                if "started_on" in item:
                    task.node = task.node or item["started_on"]
                    self.progress.group(task.spec)
                    continue
                if item["batch_size"] in task.delivered:
                    continue
                task.delivered.add(item["batch_size"])
                self.store(item)

    # the loop

    def run(self, interrupts: Interrupts) -> None:
        pending: deque[_Task] = deque()
        for tag, spec in enumerate(self.plan.todo):
            reason = self.check_supported(spec.optimization, spec.precision, spec.attention, self.device_type)
            if not reason:
                from scaleboard.runner.tasks import task_unsupported

                reason = task_unsupported(spec.task, spec.optimization, spec.precision, spec.family)
            task = self.tasks[tag] = _Task(tag, spec, 1)
            if reason:
                for b in spec.batch_sizes:
                    self.store(self._failed(task, b, "unsupported", reason))
            else:
                pending.append(task)
        while pending or self.running:
            if interrupts.signal_name is not None:
                self.cancel()
                return
            while pending and self.submit(pending[0]):
                pending.popleft()
            self.drain()
            if not self.running:
                if pending and self.slots and not any(s["node"] is None or s["node"] in self.alive
                                                      for s in self.slots.values()):  # fmt: skip
                    for task in pending:
                        self._give_up(task, "no alive Ray node left to run it")
                    pending.clear()
                continue
            ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=POLL_S)
            for ref in ready:
                retry = self.finished(ref)
                if retry is not None:
                    pending.appendleft(retry)
            self._refresh_nodes()
        self.drain()

    def finished(self, ref: Any) -> _Task | None:
        """A task ended: its records are in; a lost one comes back as its retry (or is recorded ``error``)."""
        task, key = self.running.pop(ref)
        if key is not None:
            self.slots[key]["busy"] = False
        try:
            answer = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:
            if key is not None:  # its actor is gone or unusable: the slot gets a fresh one when next used
                self._drop_actor(key)
            self.drain()
            self._refresh_nodes(force=True)
            where = f" on node {task.node[:12]}" if task.node else ""
            why = f"{type(exc).__name__}{where}: {_first_line(exc)}"
            left = tuple(b for b in task.spec.batch_sizes if b not in task.delivered)
            if not left:
                return None
            if task.attempt < ATTEMPTS:
                self.progress.message(f"{task.spec.label}: task lost ({why}); trying again")
                retry = _Task(task.tag, replace(task.spec, batch_sizes=left), task.attempt + 1, None, task.delivered)
                self.tasks[task.tag] = retry
                return retry
            self._give_up(task, f"lost twice ({why})")
            return None
        self.drain()
        self.result.placements[task.spec.label] = answer["node"]
        self.result.workers += answer.get("started", 0)
        if answer.get("wall_s") is not None:
            self.result.group_walls.append(answer["wall_s"])
        return None

    def _give_up(self, task: _Task, why: str) -> None:
        for b in task.spec.batch_sizes:
            if b not in task.delivered:
                task.delivered.add(b)
                self.store(self._failed(task, b, "error", f"Ray task {why}"))

    def _failed(self, task: _Task, batch_size: int, status: str, reason: str) -> dict[str, Any]:
        """A record for a point no node measured: the environment of the node it ran on when known."""
        from scaleboard.runner.models import weights_of

        node = self.nodes.get(task.node or "") or next(iter(self.nodes.values()))
        spec = replace(task.spec, machine=node["machine"], env=node["env"], device=node["device"])
        record = base_record(spec, batch_size, status, reason, weights=weights_of(spec.source))
        record["duration_s"] = 0.0
        return record

    def _refresh_nodes(self, force: bool = False) -> None:
        if not force and time.monotonic() - self._refreshed < NODE_REFRESH_S:
            return
        self._refreshed = time.monotonic()
        self.alive = {n["NodeID"] for n in alive_nodes(self.options.resources)} & set(self.nodes)

    def _drop_actor(self, key: str) -> None:
        actor, self.slots[key]["actor"] = self.slots[key]["actor"], None
        if actor is not None:
            self.ray.kill(actor)  # its measuring process dies with it (PR_SET_PDEATHSIG)

    def cancel(self) -> None:
        """Ctrl-C: stop every running group (its measuring process dies with it), keep what arrived."""
        for ref, (_, key) in list(self.running.items()):
            if key is None:
                self.ray.cancel(ref, force=True)
        for key in self.slots:
            self._drop_actor(key)
        self.drain()
        self.running.clear()

    def close(self) -> None:
        for key in self.slots:
            self._drop_actor(key)
        self.queue.shutdown()


def run_sweep_ray(plan: Plan, run_file: RunFile, progress: Progress, *, device_type: str, options: RayOptions,
                  nodes: list[dict[str, Any]], memory_limit: str | int | None = None, extra_env: dict[str, Any] | None = None,
                  check_supported: Callable[..., Any] | None = None, group_function: str | None = None,
                  queue: Any = None) -> SweepResult:  # fmt: skip
    """Measure every point of ``plan.todo`` on the Ray cluster this process is connected to."""
    if check_supported is None:
        from scaleboard.runner.optimizations import check_supported as default_check

        check_supported = default_check
    started = time.monotonic()
    sweep = RaySweep(plan, run_file, progress, device_type=device_type, options=options, nodes=nodes,
                     memory_limit=memory_limit, extra_env=extra_env, check_supported=check_supported,
                     group_function=group_function, queue=queue)  # fmt: skip
    try:
        with Interrupts(progress) as interrupts:
            sweep.run(interrupts)
    finally:
        sweep.close()
    result = sweep.result
    result.wall_s = time.monotonic() - started
    measured = sum(len(t.delivered) for t in sweep.tasks.values())
    result.not_measured = plan.todo_points - measured
    result.stopped_by = interrupts.signal_name
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""
