"""Where a run happens: the device, the software versions, a machine label and a fingerprint.

:func:`collect` is called once per run by the parent; every record of the run carries its
``device`` and ``env`` objects. The ``fingerprint`` is a short hash of everything else in
``env`` and ``device`` (never of the time), so that a re-run on the same machine with the
same software recognises points it has already measured, and a driver or torch upgrade
does not.

Optional helpers (psutil, nvidia-ml-py) are used when present; nothing here fails when
they are missing — the fields become null instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from scaleboard import __version__
from scaleboard.errors import ConfigError

DEVICES = ("auto", "cpu", "cuda", "mps")
_PROJECT_ROOT = Path(__file__).resolve().parent.parent
FINGERPRINT_CHARS = 12  # 48 bits: collisions are irrelevant at the scale of one data/ directory


def resolve_device(name: str) -> str:
    """``auto`` → ``cuda`` if available, else ``mps``, else ``cpu``. An unavailable device is a ConfigError."""
    import torch

    if name not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; expected one of {', '.join(DEVICES)}")
    cuda_ok = torch.cuda.is_available()
    mps_ok = hasattr(torch.backends, "mps") and torch.backends.mps.is_available()
    if name == "auto":
        return "cuda" if cuda_ok else "mps" if mps_ok else "cpu"
    if (name == "cuda" and not cuda_ok) or (name == "mps" and not mps_ok):
        raise ConfigError(f"device {name!r} is not available on this machine (torch {torch.__version__})")
    return name


def collect(device: str, machine: str | None = None) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Return ``(device_info, env, machine_label)`` for a resolved device (``cpu``, ``cuda``, ``mps``)."""
    device_info = device_details(device)
    env = software_details()
    env["fingerprint"] = fingerprint(env, device_info)
    label = machine or default_machine_label(device_info, env)
    return device_info, env, label


def fingerprint(env: dict[str, Any], device_info: dict[str, Any]) -> str:
    """A short stable hash of ``env`` (minus its own fingerprint) and ``device_info``."""
    content = {"env": {k: v for k, v in env.items() if k != "fingerprint"}, "device": device_info}
    blob = json.dumps(content, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:FINGERPRINT_CHARS]


def default_machine_label(device_info: dict[str, Any], env: dict[str, Any]) -> str:
    """The GPU name on CUDA (``NVIDIA H100 80GB HBM3``); on CPU the model and core count."""
    if device_info["type"] != "cpu":
        return str(device_info["name"])
    cores = env.get("cores")
    return f"{env.get('cpu') or 'CPU'} ({cores} cores)" if cores else env.get("cpu") or "CPU"


def device_details(device: str) -> dict[str, Any]:
    import torch

    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        return {
            "type": "cuda",
            "name": props.name,
            "count": torch.cuda.device_count(),
            "memory_bytes": int(props.total_memory),
        }
    if device == "mps":
        return {
            "type": "mps",
            "name": f"Apple MPS ({cpu_model() or platform.machine()})",
            "count": 1,
            "memory_bytes": _ram_bytes(),
        }
    return {"type": "cpu", "name": cpu_model() or platform.machine() or "CPU", "count": 1, "memory_bytes": _ram_bytes()}


def software_details() -> dict[str, Any]:
    """Versions and host facts; every value is a string or int or null (see scaleboard.record)."""
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "cuda": torch.version.cuda,
        "driver": nvidia_driver(),
        "scaleboard": __version__,
        "git_sha": git_sha(),
        "cpu": cpu_model(),
        "cores": _cores(),
        "os": platform.platform(),
    }


def cpu_model() -> str | None:
    """``AMD EPYC 9R14 96-Core Processor`` from /proc/cpuinfo on Linux, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def cpu_has_native_bf16() -> bool | None:
    """Whether the CPU multiplies bf16 natively (AVX-512 BF16 or AMX), from /proc/cpuinfo; None if unknown.

    Without it, torch computes bf16 matmuls on a slow fallback path: on a 2-core AVX2 EPYC
    (torch 2.13) a gpt2 forward at batch 1, seq 128 took 39 s in bf16 against 2.1 s in fp32
    under the same load (one 128×768×50257 bf16 matmul alone: 2.8 s, ~1.7 GFLOP/s), so a
    default suite should leave bf16 out on such a CPU.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return bool(flags & {"avx512_bf16", "amx_bf16"})
    return None


def _cores() -> int | None:
    """Cores this process may use (the affinity mask: containers often get fewer than the host has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def _ram_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().total)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def nvidia_driver() -> str | None:
    """The NVIDIA driver version through NVML, or null without a driver or nvidia-ml-py."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            version = pynvml.nvmlSystemGetDriverVersion()
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no library, no driver, no GPU: all mean "unknown"
        return None
    return version.decode() if isinstance(version, bytes) else str(version)


def git_sha(root: Path = _PROJECT_ROOT) -> str | None:
    """The commit of the project checkout, or null outside a git checkout / without git."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = result.stdout.strip()
    return sha if result.returncode == 0 and sha else None


def isolation(device_type: str, exclude_pids: Iterable[int] = ()) -> dict[str, Any]:
    """What else ran during a point: other GPU processes (NVML) and the 1-minute load average.

    This process and ``exclude_pids`` (the measuring child) do not count as others.
    A busy neighbour explains an outlier; the site can flag such points.
    """
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    others = _gpu_other_processes({os.getpid(), *exclude_pids}) if device_type == "cuda" else None
    return {"gpu_other_processes": others, "load_avg_1m": round(load, 2) if load is not None else None}


def _gpu_other_processes(ours: set[int]) -> int | None:
    """Compute processes on GPU 0 whose pid is not in ``ours`` (NVML), or None when unknown."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            procs = pynvml.nvmlDeviceGetComputeRunningProcesses(handle)
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # NVML missing, no driver, or a container that hides processes: unknown
        return None
    return sum(1 for p in procs if p.pid not in ours)
