"""A stand-in for ``scaleboard.runner.group.run_group`` that misbehaves on request, for isolation tests.

The child runs it as ``fake_group:run_group`` (``--group``) with this folder on PYTHONPATH.
``FAKE_MODE=kind@batch`` picks the misbehaviour; ``FAKE_ONLY=optimization`` limits it to one
group; ``FAKE_PID_FILE`` receives the child's pid, ``FAKE_PID_DIR/<optimization>.pid`` each group's.
"""

import os
import signal
import time

from scaleboard.runner.spec import base_record


def run_group(spec, emit):
    mode, _, at = os.environ.get("FAKE_MODE", "ok").partition("@")
    at = int(at or 0)
    if os.environ.get("FAKE_ONLY") not in (None, spec.optimization):
        mode = "ok"
    if os.environ.get("FAKE_PID_DIR"):  # one file per group: <dir>/<optimization>.pid
        with open(os.path.join(os.environ["FAKE_PID_DIR"], f"{spec.optimization}.pid"), "w") as f:
            f.write(str(os.getpid()))
    if os.environ.get("FAKE_SPEC_DIR"):  # what the group was asked to do: <dir>/<optimization>.spec.json
        import json

        with open(os.path.join(os.environ["FAKE_SPEC_DIR"], f"{spec.optimization}.spec.json"), "w") as f:
            json.dump(spec.to_dict(), f)
    if os.environ.get("FAKE_ENV_DIR"):  # the GPU a group was given: <dir>/<label>.gpu
        with open(os.path.join(os.environ["FAKE_ENV_DIR"], spec.label.replace("/", "_") + ".gpu"), "w") as f:
            f.write(os.environ.get("CUDA_VISIBLE_DEVICES", ""))
    if os.environ.get("FAKE_PID_FILE"):
        with open(os.environ["FAKE_PID_FILE"], "w") as f:
            f.write(str(os.getpid()))
    for b in spec.batch_sizes:
        print("library noise on stdout", flush=True)  # must never reach the record channel
        if b == at:
            if mode == "segv":
                os.kill(os.getpid(), signal.SIGSEGV)
            if mode == "abort":
                os.abort()
            if mode == "raise":
                raise RuntimeError("fake failure in the measurement")
            if mode == "hang" or (mode == "hang-once" and _first_time()):
                if os.environ.get("FAKE_HANG_PID_FILE"):
                    with open(os.environ["FAKE_HANG_PID_FILE"], "w") as f:
                        f.write(str(os.getpid()))
                time.sleep(3600)
            if mode == "killparent" or (mode == "killparent-once" and _first_time()):
                time.sleep(1.0)  # let the parent pass the records so far on, as a dying node would have
                os.kill(os.getppid(), signal.SIGKILL)  # the process running the group (a Ray worker) dies
                time.sleep(3600)  # ... and this one with it (PR_SET_PDEATHSIG)
            if mode == "exit0":
                return
            if mode == "invalid":
                emit({**base_record(spec, b, "ok"), "latency_ms": None})
                continue
            if mode == "alloc":
                try:
                    bytearray(1 << 31)  # 2 GiB against a 1 GiB cap
                except MemoryError:
                    emit(base_record(spec, b, "oom", "MemoryError under the cap"))
                    continue
        record = base_record(spec, b, "ok")
        record.update(
            latency_ms=dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), 1.0),
            samples_ms=[1.0],
            iterations=1,
            throughput={"samples_per_s": 1000.0 * b, "tokens_per_s": 8000.0 * b},
        )
        emit(record)


def probe(spec):
    """The planner's probe: a fixed cost, or a crash when FAKE_MODE is probe-segv."""
    if os.environ.get("FAKE_MODE") == "probe-segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    return {"call_s": 0.01 * spec.seq_len / 8, "setup_s": 0.0, "batch_size": min(spec.batch_sizes or (1,))}


def _first_time() -> bool:
    """True once per FAKE_MARKER file: the first attempt misbehaves, a retry does not."""
    marker = os.environ["FAKE_MARKER"]
    if os.path.exists(marker):
        return False
    open(marker, "w").close()
    return True
