"""``--executor ray`` on a local Ray instance: GPU-per-group scheduling with fake GPUs, the same
points as a local run, one writer, resume, a killed worker retried once then recorded, Ctrl-C.

The groups run the stand-in measurement (``fake_group``) in the same isolated child as
locally, so these tests cost seconds, not minutes.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

import pytest
from rich.console import Console

from scaleboard.errors import ConfigError
from scaleboard.record import iter_file, point_key, validate
from scaleboard.runner import cluster
from scaleboard.runner.progress import Progress
from scaleboard.runner.store import RunFile, index_records
from scaleboard.runner.suite import parse_suite
from scaleboard.runner.sweep import build_groups, make_plan, run_sweep

ray = pytest.importorskip("ray")

HERE = os.path.dirname(os.path.abspath(__file__))  # fake_group.py and fake_nodes.py
SUITE = """\
label: ray-test
models: [tiny-gpt2]
optimizations: [eager, torchscript]
precisions: [fp32, bf16]
batch_sizes: 1-3
seq_len: 8
threads: [1]
budget: {hard_timeout_s: 60}
"""
DRIVER_DEVICE = {"type": "cpu", "name": "Driver CPU", "count": 1, "memory_bytes": 1 << 30}
DRIVER_ENV = {"python": "3", "scaleboard": "0.2.0", "os": "Linux", "fingerprint": "driver"}


@pytest.fixture(scope="module")
def local_ray():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": HERE}})  # fmt: skip
    yield ray
    ray.shutdown()


def _groups(run_id="r1"):
    suite = parse_suite(SUITE, "s.yaml")
    return build_groups(suite, run_id=run_id, machine="m", device=DRIVER_DEVICE, env=DRIVER_ENV)


def _sweep(tmp_path, device_type="cpu", mode="ok", run_id="r1", force=False, **env):
    options = cluster.RayOptions(describe="fake_nodes:describe")
    nodes = cluster.describe_nodes(device_type, options)
    plan = cluster.cluster_plan(_groups(run_id), index_records(tmp_path / "out"), nodes, force=force)
    progress = Progress(console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
    extra = {"PYTHONPATH": HERE, "FAKE_MODE": mode, **env}
    with RunFile(tmp_path / "out" / f"{run_id}.jsonl") as run_file:
        result = cluster.run_sweep_ray(plan, run_file, progress, device_type=device_type, options=options, nodes=nodes,
                                       extra_env=extra, check_supported=lambda *a: None,
                                       group_function="fake_group:run_group")  # fmt: skip
    return result, plan


def _records(path):
    return [r for _, r, _ in iter_file(path) if r is not None]


def test_resources_parse_and_bad_ones_are_named():
    assert cluster.parse_resources("hw:a100=1, ssd=0.5") == {"hw:a100": 1.0, "ssd": 0.5}
    assert cluster.parse_resources("hw:h100") == {"hw:h100": 1.0}
    with pytest.raises(ConfigError, match="hw:a100=x"):
        cluster.parse_resources("hw:a100=x")


def test_each_gpu_group_gets_one_gpu_and_the_nodes_environment(local_ray, tmp_path):
    gpus = tmp_path / "gpus"
    gpus.mkdir()
    result, plan = _sweep(tmp_path, device_type="cuda", FAKE_ENV_DIR=str(gpus))
    records = _records(tmp_path / "out" / "r1.jsonl")
    assert len(records) == plan.todo_points == 12 and all(r["status"] == "ok" for r in records)
    assert not [e for r in records for e in validate(r)[0]]
    # the node's description, not the driver's
    assert {r["device"]["name"] for r in records} == {"Fake GPU"}
    assert {r["env"]["fingerprint"] for r in records} == {"node-cuda"}
    seen = [p.read_text() for p in gpus.iterdir()]
    assert len(seen) == 4 and set(seen) <= {"0", "1"}  # one GPU each, never both
    assert len(result.placements) == 4


def test_a_ray_run_records_the_points_a_local_run_does_and_resumes_without_duplicates(local_ray, tmp_path):
    os.environ.update(FAKE_MODE="ok")
    try:  # the same sweep locally, in this process's isolated child
        device, env, machine = cluster._describe_here("cpu", None, "fake_nodes:describe")
        local_groups = build_groups(parse_suite(SUITE, "s.yaml"), run_id="l", machine=machine, device=device, env=env)
        progress = Progress(console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
        with RunFile(tmp_path / "local" / "l.jsonl") as run_file:
            run_sweep(make_plan(local_groups, index_records(tmp_path / "local")), run_file, progress,
                      device_type="cpu", extra_env={"PYTHONPATH": HERE}, check_supported=lambda *a: None,
                      group_function="fake_group:run_group")  # fmt: skip
    finally:
        os.environ.pop("FAKE_MODE")
    local = {point_key(r) for r in _records(tmp_path / "local" / "l.jsonl")}
    _sweep(tmp_path)
    first = _records(tmp_path / "out" / "r1.jsonl")
    assert {point_key(r) for r in first} == local and len(first) == len(local) == 12
    result, plan = _sweep(tmp_path, run_id="r2")  # the same command again: nothing left to measure
    assert plan.todo_points == 0 and result.records == []
    everything = [r for p in (tmp_path / "out").glob("*.jsonl") for r in _records(p)]
    assert max(Counter(point_key(r) for r in everything).values()) == 1


def test_a_killed_worker_is_retried_once(local_ray, tmp_path):
    marker = tmp_path / "killed-once"
    result, _ = _sweep(tmp_path, mode="killparent-once@2", FAKE_ONLY="eager", FAKE_MARKER=str(marker))
    records = _records(tmp_path / "out" / "r1.jsonl")
    assert marker.exists()  # a worker did die
    assert len(result.records) == 12
    assert len(records) == 12 and all(r["status"] == "ok" for r in records)
    assert max(Counter(point_key(r) for r in records).values()) == 1  # batch 1 is not recorded twice


def test_a_task_lost_twice_is_recorded_as_an_error(local_ray, tmp_path):
    result, _ = _sweep(tmp_path, mode="killparent@2", FAKE_ONLY="torchscript")
    records = _records(tmp_path / "out" / "r1.jsonl")
    lost = [r for r in records if r["status"] == "error"]
    assert sorted((r["precision"], r["batch_size"]) for r in lost) == [
        ("bf16", 2),
        ("bf16", 3),
        ("fp32", 2),
        ("fp32", 3),
    ]
    assert all("lost twice" in r["reason"] and not validate(r)[0] for r in lost)
    assert sum(r["status"] == "ok" for r in records) == 8  # the other groups, and batch 1 of these
    assert len(records) == 12 and result.not_measured == 0


def test_ctrl_c_cancels_running_tasks_and_keeps_finished_records(local_ray, tmp_path):
    def interrupt_when_a_record_lands():
        path = tmp_path / "out" / "r1.jsonl"
        while not (path.exists() and path.stat().st_size):
            threading.Event().wait(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_when_a_record_lands, daemon=True).start()
    result, plan = _sweep(tmp_path, mode="hang@2")
    records = _records(tmp_path / "out" / "r1.jsonl")
    assert result.stopped_by == "SIGINT" and result.exit_code == 130
    assert records and all(r["status"] == "ok" and r["batch_size"] == 1 for r in records)
    assert result.not_measured == plan.todo_points - len(records)


def test_scaleboard_run_on_ray_measures_for_real_and_resumes(local_ray, tmp_path, capsys):
    from scaleboard.cli import main

    out = tmp_path / "data"
    command = ["run", "--executor", "ray", "--device", "cpu", "--models", "tiny-gpt2", "--optimizations", "eager",
               "--precisions", "fp32", "--batch-sizes", "1-2", "--threads", "1", "--seq-len", "8", "--out", str(out)]  # fmt: skip
    assert main(command) == 0
    records = [r for p in out.rglob("*.jsonl") for r in _records(p)]
    assert [(r["status"], r["batch_size"]) for r in records] == [("ok", 1), ("ok", 2)]
    assert all(r["samples_ms"] and not validate(r)[0] for r in records)
    seen = capsys.readouterr()
    err = seen.out + seen.err
    assert "Ray cluster: 1 node(s) for cpu work" in err and "time budget" in err  # the default suite's is not applied
    assert main(command) == 0  # again: nothing left to measure, nothing written
    assert sum(len(_records(p)) for p in out.rglob("*.jsonl")) == 2


def test_a_time_budget_is_refused_on_ray(capsys):
    from scaleboard.cli import main

    assert main(["run", "--executor", "ray", "--time-budget", "5m", "--dry-run"]) == 1
    assert "--time-budget: not with --executor ray" in capsys.readouterr().err
