"""``--executor ray`` losing a node mid-group: the group is tried again on another node, and the
points it had delivered are not measured twice. A three-node local cluster: a head without
CPUs (so no group runs there) and two one-CPU workers, one of which is removed."""

from __future__ import annotations

import os
import threading
import time

import pytest
from rich.console import Console

from scaleboard.record import iter_file, point_key
from scaleboard.runner import cluster
from scaleboard.runner.progress import Progress
from scaleboard.runner.store import RunFile, index_records
from scaleboard.runner.suite import parse_suite
from scaleboard.runner.sweep import build_groups

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = """\
label: node-loss
models: [tiny-gpt2]
optimizations: [eager, torchscript]
precisions: [fp32]
batch_sizes: 1-3
seq_len: 8
threads: [1]
budget: {hard_timeout_s: 120}
"""


def _parent(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_a_group_lost_with_its_node_is_measured_on_another(tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})
    workers = [nodes.add_node(num_cpus=1) for _ in range(2)]
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": HERE}})
    hang_pid = tmp_path / "hang.pid"
    try:
        # The records' queue lives on this node, never on one that may go: where Ray chose, it was
        # on a worker node in 2 of 8 tries, and went down with it when that node was the one lost.
        here = ray.get_runtime_context().get_node_id()
        queue = cluster.open_queue()
        assert ray.get(queue.actor.__ray_call__.remote(lambda _: ray.get_runtime_context().get_node_id())) == here
        options = cluster.RayOptions(describe="fake_nodes:describe")
        described = cluster.describe_nodes("cpu", options)
        assert len(described) == 2  # the head has no CPU to give
        first = described[0]
        groups = build_groups(parse_suite(SUITE, "s.yaml"), run_id="r", machine=first["machine"],
                              device=first["device"], env=first["env"])  # fmt: skip
        plan = cluster.cluster_plan(groups, index_records(tmp_path), described)
        removed = []
        done = threading.Event()

        def remove_the_hanging_node():  # the node whose raylet is the grandparent of the hanging child
            while not done.is_set():  # again until found, for as long as the sweep runs: under load the
                time.sleep(0.1)  # hang may come late, and the pid file may be half written
                try:
                    raylet = _parent(_parent(int(hang_pid.read_text())))
                except (OSError, ValueError):
                    continue
                victim = next((w for w in workers if w.all_processes["raylet"][0].process.pid == raylet), None)
                if victim is not None:
                    nodes.remove_node(victim)
                    removed.append(victim)
                    return

        watcher = threading.Thread(target=remove_the_hanging_node, daemon=True)
        watcher.start()
        progress = Progress(console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
        extra = {"PYTHONPATH": HERE, "FAKE_MODE": "hang-once@2", "FAKE_MARKER": str(tmp_path / "hung"),
                 "FAKE_HANG_PID_FILE": str(hang_pid)}  # fmt: skip
        with RunFile(tmp_path / "r.jsonl") as run_file:
            result = cluster.run_sweep_ray(plan, run_file, progress, device_type="cpu", options=options,
                                           nodes=described, extra_env=extra, check_supported=lambda *a: None,
                                           group_function="fake_group:run_group")  # fmt: skip
        done.set()
        # remove_node returns once the node's processes are gone: the sweep, which saw the node
        # die and went on without it, may end first
        watcher.join(timeout=120)
        records = [r for _, r, _ in iter_file(tmp_path / "r.jsonl") if r is not None]
        assert removed  # a node did go away mid-group
        assert len(records) == 6 and all(r["status"] == "ok" for r in records)
        assert len({point_key(r) for r in records}) == 6  # batch 1 of the lost group is not measured twice
        assert len(set(result.placements.values())) == 1  # every group finished on the node left
    finally:
        done.set()
        ray.shutdown()
        nodes.shutdown()
