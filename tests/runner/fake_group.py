"""A stand-in for ``scaleboard.runner.group.run_group`` that misbehaves on request, for isolation tests.

The child runs it as ``fake_group:run_group`` (``--group``) with this folder on PYTHONPATH.
``FAKE_MODE=kind@batch`` picks the misbehaviour; ``FAKE_ONLY=optimization`` limits it to one
group; ``FAKE_PID_FILE`` receives the child's pid.
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
            if mode == "hang":
                time.sleep(3600)
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
