"""``--executor ray`` on a two-node local cluster (``ray.cluster_utils.Cluster``): on CPU each
group gets a whole node, so both nodes measure at once and never two groups on one node."""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from scaleboard.record import iter_file, validate
from scaleboard.runner import cluster
from scaleboard.runner.progress import Progress
from scaleboard.runner.store import RunFile, index_records
from scaleboard.runner.suite import parse_suite
from scaleboard.runner.sweep import build_groups

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = """\
label: two-nodes
models: [tiny-gpt2]
optimizations: [eager, torchscript]
precisions: [fp32, bf16]
batch_sizes: 1-2
seq_len: 8
threads: [1]
budget: {hard_timeout_s: 60}
"""


@pytest.fixture(scope="module")
def two_nodes():
    if ray.is_initialized():
        ray.shutdown()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {"hw:fast": 1}})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    ray.init(address=nodes.address, log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": HERE}})
    yield nodes
    ray.shutdown()
    nodes.shutdown()


def _run(tmp_path, resources=None):
    options = cluster.RayOptions(describe="fake_nodes:describe", resources=resources or {})
    nodes = cluster.describe_nodes("cpu", options)
    device, env, machine = nodes[0]["device"], nodes[0]["env"], nodes[0]["machine"]
    groups = build_groups(parse_suite(SUITE, "s.yaml"), run_id="r", machine=machine, device=device, env=env)
    plan = cluster.cluster_plan(groups, index_records(tmp_path), nodes)
    progress = Progress(console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
    with RunFile(tmp_path / "r.jsonl") as run_file:
        result = cluster.run_sweep_ray(plan, run_file, progress, device_type="cpu", options=options, nodes=nodes,
                                       extra_env={"PYTHONPATH": HERE, "FAKE_MODE": "ok"},
                                       check_supported=lambda *a: None, group_function="fake_group:run_group")  # fmt: skip
    return result, nodes, [r for _, r, _ in iter_file(tmp_path / "r.jsonl") if r is not None]


def test_groups_spread_over_both_nodes_a_whole_node_each(two_nodes, tmp_path):
    result, nodes, records = _run(tmp_path)
    assert len(nodes) == 2
    assert len(records) == 8 and all(r["status"] == "ok" and not validate(r)[0] for r in records)
    assert set(result.placements.values()) == {n["node"] for n in nodes}  # both nodes worked


def test_a_resource_label_pins_groups_to_the_nodes_that_have_it(two_nodes, tmp_path):
    result, nodes, records = _run(tmp_path, resources={"hw:fast": 1})
    assert len(nodes) == 1 and len(records) == 8
    assert set(result.placements.values()) == {nodes[0]["node"]}
