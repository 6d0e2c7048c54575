"""Entry point of a measuring worker: ``python -m scaleboard.runner.child --record-fd N``.

Started by :mod:`scaleboard.runner.isolate`. It reads one ``{"spec": GroupSpec}`` JSON line
at a time from stdin (or ``{"probe": GroupSpec}``, answered with the planner's cost probe), measures that group with :func:`scaleboard.runner.group.run_group`,
writes each record as one JSON line to file descriptor ``N`` (a pipe to the parent, so
nothing a library prints can corrupt the records), then a ``group_done`` line, and waits
for the next group; it exits when stdin closes. Before importing torch it ties its life
to the parent's. A request may carry ``"memory_limit"`` (bytes): the worker caps its own
address space to it before measuring, so an oversized batch fails an allocation here
instead of taking the machine down. The cap comes with the request, not at the start, so
the parent can start a worker (5–7 s of imports) before it knows the device and the cap.

Between groups it drops what the last group held: a garbage collection, then glibc's
``malloc_trim(0)`` returns freed heap pages to the system, so the next group's peak RSS
is not inflated by the last one's leftovers.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import importlib
import json
import os
import resource
import signal
import sys
import time
from typing import Any

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
HEARTBEAT = "heartbeat"  # a line with this key is a sign of life, not a record
GROUP_DONE = "group_done"  # a line with this key ends a group's records
PROBE_RESULT = "probe_result"  # the answer to a {"probe": spec} request
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
        prog="python -m scaleboard.runner.child", description="Measure groups sent on stdin (internal)."
    )
    parser.add_argument("--record-fd", type=int, required=True, help="file descriptor records are written to")
    parser.add_argument("--parent-pid", type=int, default=0, help="exit when this process is gone")
    parser.add_argument("--group", default=DEFAULT_GROUP, help="module:function that measures a group")
    args = parser.parse_args(argv)
    die_with_parent(args.parent_pid)
    os.set_inheritable(args.record_fd, False)  # compile workers started later must not hold the pipe

    from scaleboard.runner.spec import GroupSpec

    if args.group == DEFAULT_GROUP:
        preload()
    module_name, _, function_name = args.group.partition(":")
    module = importlib.import_module(module_name)
    run_group = getattr(module, function_name)

    channel = os.fdopen(args.record_fd, "w", encoding="utf-8")

    def emit(record: dict[str, Any]) -> None:
        channel.write(json.dumps(record, ensure_ascii=False) + "\n")
        channel.flush()

    # Imports done: the parent's silence clock (hard_timeout_s) restarts from here.
    emit({HEARTBEAT: "ready"})
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        cap_memory(message.get("memory_limit"))
        if "probe" in message:  # the planner's cost probe (see scaleboard.runner.group.probe)
            emit({PROBE_RESULT: module.probe(GroupSpec.from_dict(message["probe"]))})
            release_memory()
            continue
        spec = GroupSpec.from_dict(message["spec"])
        started = time.monotonic()
        run_group(spec, emit)
        release_memory()
        emit({GROUP_DONE: spec.label, "wall_s": time.monotonic() - started})
    channel.close()
    return 0


def release_memory() -> None:
    """Free the last group's objects and hand freed heap pages back to the system (glibc)."""
    import gc

    gc.collect()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


if __name__ == "__main__":
    sys.exit(main())
