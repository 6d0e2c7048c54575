"""Entry point of a measuring child: ``python -m scaleboard.runner.child --spec SPEC.json --record-fd N``.

Started by :mod:`scaleboard.runner.isolate`, one per group. It measures the group with
:func:`scaleboard.runner.group.run_group` and writes each record as one JSON line to file
descriptor ``N`` (a pipe to the parent), so nothing a library prints can corrupt the
records. Before importing torch it ties its life to the parent's and caps its own
address space (``--memory-limit``), so an oversized batch fails an allocation here
instead of taking the machine down.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import importlib
import json
import os
import resource
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
HEARTBEAT = "heartbeat"  # a line with this key is a sign of life, not a record
DEFAULT_GROUP = "scaleboard.runner.group:run_group"  # tests substitute a stand-in to exercise the isolation alone


def die_with_parent(parent_pid: int) -> None:
    """Ask Linux to SIGKILL this process when the parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:
            pass
    if parent_pid and os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def cap_memory(limit_bytes: int | None) -> None:
    """``RLIMIT_AS``: allocations beyond the cap fail (MemoryError / allocator error → ``oom``)."""
    if limit_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit_bytes = min(limit_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, hard))


def preload() -> None:
    """Import torch and the model code before the heartbeat (5–7 s on 2 cores), so that the
    parent's hard timeout counts silence in the measurement, not in Python imports."""
    try:
        import torch  # noqa: F401
        from transformers import GPT2LMHeadModel  # noqa: F401
    except ImportError:  # the measurement reports what is missing
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scaleboard.runner.child", description="Measure one group (internal)."
    )
    parser.add_argument("--spec", required=True, help="JSON file holding the GroupSpec")
    parser.add_argument("--record-fd", type=int, required=True, help="file descriptor records are written to")
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    parser.add_argument("--memory-limit", type=int, default=None, help="address-space cap in bytes")
    parser.add_argument("--group", default=DEFAULT_GROUP, help="module:function that measures a group")
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    cap_memory(args.memory_limit)
    os.set_inheritable(args.record_fd, False)  # compile workers started later must not hold the pipe

    from scaleboard.runner.spec import GroupSpec

    if args.group == DEFAULT_GROUP:
        preload()
    module_name, _, function_name = args.group.partition(":")
    run_group = getattr(importlib.import_module(module_name), function_name)

    with open(args.spec, encoding="utf-8") as f:
        spec = GroupSpec.from_dict(json.load(f))
    channel = os.fdopen(args.record_fd, "w", encoding="utf-8")

    def emit(record: dict) -> None:
        channel.write(json.dumps(record, ensure_ascii=False) + "\n")
        channel.flush()

    # Imports done: the parent's silence clock (hard_timeout_s) restarts from here.
    channel.write(json.dumps({HEARTBEAT: "ready"}) + "\n")
    channel.flush()
    run_group(spec, emit)
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
