"""Environment collection, machine label and fingerprint."""

from __future__ import annotations

import pytest

from scaleboard.errors import ConfigError
from scaleboard.runner import environment


def test_collect_on_cpu(cpu_environment):
    device, env, machine = cpu_environment
    assert device["type"] == "cpu" and device["count"] == 1
    assert env["python"] and env["torch"] and env["scaleboard"]
    assert env["cores"] >= 1
    assert machine == environment.default_machine_label(device, env)
    assert f"({env['cores']} cores)" in machine
    assert len(env["fingerprint"]) == environment.FINGERPRINT_CHARS


def test_fingerprint_is_stable_and_changes_with_any_field(cpu_environment):
    device, env, _ = cpu_environment
    again_device, again_env, _ = environment.collect("cpu")
    assert again_device == device
    assert again_env["fingerprint"] == env["fingerprint"]
    assert environment.fingerprint(env, device) == env["fingerprint"]
    assert environment.fingerprint({**env, "torch": "9.9.9"}, device) != env["fingerprint"]
    assert environment.fingerprint(env, {**device, "name": "another CPU"}) != env["fingerprint"]
    assert environment.fingerprint({**env, "fingerprint": "ignored"}, device) == env["fingerprint"]


def test_machine_label_override_and_gpu_name():
    _, _, label = environment.collect("cpu", machine="lab box")
    assert label == "lab box"
    gpu = {"type": "cuda", "name": "NVIDIA H100 80GB HBM3", "count": 1, "memory_bytes": 1}
    assert environment.default_machine_label(gpu, {}) == "NVIDIA H100 80GB HBM3"


def test_resolve_device():
    import torch

    assert environment.resolve_device("cpu") == "cpu"
    assert environment.resolve_device("auto") in ("cpu", "cuda", "mps")
    with pytest.raises(ConfigError, match="unknown device 'tpu'"):
        environment.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda' is not available"):
            environment.resolve_device("cuda")


def test_git_sha_outside_a_checkout_is_none(tmp_path):
    assert environment.git_sha(tmp_path) is None


def test_isolation_reports_load_average():
    info = environment.isolation("cpu")
    assert info["gpu_other_processes"] is None
    assert info["load_avg_1m"] >= 0


def test_native_bf16_detection_reads_cpu_flags():
    from pathlib import Path

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    expected = ("avx512_bf16" in flags or "amx_bf16" in flags) if "flags" in flags else None
    assert environment.cpu_has_native_bf16() == expected
