"""Run one group in a child process and turn whatever happens to it into records.

The child (``python -m scaleboard.runner.child``) gets its :class:`~scaleboard.runner.spec.GroupSpec` as a JSON
file and writes one JSON record per line to a dedicated pipe (never stdout, where
libraries print). Its stdout and stderr go to a log file whose last lines explain a crash.

What the parent makes of the child's fate, for the batch size it was on (the first one
without a record) and the larger ones:

================================  =====================================  ======================
child                             current batch size                     larger batch sizes
================================  =====================================  ======================
segfault / abort / kill / exit≠0  ``error`` (signal or exit code, stderr)  ``skipped`` "child crashed at b"
exits 0 with points missing       ``error`` "exited without a record"     ``skipped`` "child crashed at b"
silent for ``hard_timeout_s``     ``timeout`` "killed after N s …"        ``skipped`` "timeout at b"
stop requested (Ctrl-C, budget)   nothing: not measured, a later run resumes there
================================  =====================================  ======================

The child is started in its own session (a terminal's Ctrl-C reaches only the parent,
which decides), dies with the parent (``PR_SET_PDEATHSIG``, set by the child itself),
and on CPU runs under an address-space cap (``RLIMIT_AS``) so that an oversized batch
fails its allocation (an ``oom`` record) instead of swapping or waking the kernel's
OOM killer. CUDA reserves huge virtual ranges, so the cap applies on CPU only.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scaleboard.record import validate
from scaleboard.runner.child import HEARTBEAT
from scaleboard.runner.spec import GroupSpec, base_record

STDERR_TAIL_LINES = 12  # enough for a Python traceback's last frames or a C++ abort message
STDERR_TAIL_CHARS = 1500
POLL_S = 0.2  # how often the parent checks for a stop request while waiting on the child
STARTUP_TIMEOUT_S = 300.0  # imports before the first heartbeat: ~7 s idle, much more on a loaded machine
EXIT_GRACE_S = 30.0  # after its last record, a child gets this long to exit before it is killed


@dataclass
class GroupResult:
    """What came of one group: every point recorded, or a stop request left some unmeasured."""

    recorded: int
    stopped: bool


@dataclass
class ChildOptions:
    memory_limit_bytes: int | None = None  # RLIMIT_AS for the child; None: no cap
    extra_env: dict | None = None  # e.g. SCALEBOARD_FAULT for fault injection
    should_stop: Callable[[], bool] = lambda: False
    on_child: Callable[[subprocess.Popen | None], None] = lambda proc: None  # for a hard exit's kill
    group_function: str | None = None  # module:function run in the child; None: scaleboard.runner.group:run_group


def describe_exit(returncode: int) -> str:
    """``killed by SIGSEGV`` / ``exited with code 3``."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def stderr_tail(path: Path) -> str:
    """The last lines of a child's output, for an error record's reason."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
            text = f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:])[-STDERR_TAIL_CHARS:]


def run_isolated(spec: GroupSpec, emit: Callable[[dict], None], options: ChildOptions | None = None) -> GroupResult:
    """Measure ``spec`` in a child; ``emit`` receives one complete record per batch size, in order."""
    options = options or ChildOptions()
    with tempfile.TemporaryDirectory(prefix="scaleboard-child-") as tmp:
        group = _Group(spec, emit, options, Path(tmp))
        return group.run()


class _Group:
    """The parent's side of one child: spawn, read records, watch the clock, account for every point."""

    def __init__(self, spec: GroupSpec, emit: Callable[[dict], None], options: ChildOptions, tmp: Path):
        self.spec, self.emit, self.options, self.tmp = spec, emit, options, tmp
        self.pending = list(spec.batch_sizes)
        self.recorded = 0
        self.log_path = tmp / "child.log"
        self.isolation = None
        self.info: dict = {}  # weights/params as the child reported them
        self.alive = False  # the child has said something (its imports are done)

    def run(self) -> GroupResult:
        read_fd, write_fd = os.pipe()
        try:
            proc = self._spawn(write_fd)
        finally:
            os.close(write_fd)
        self.options.on_child(proc)
        try:
            outcome = self._watch(proc, read_fd)
        finally:
            os.close(read_fd)
            _kill(proc)
            self.options.on_child(None)
        if outcome == "stopped":
            return GroupResult(self.recorded, stopped=True)
        if self.pending and outcome == "hung":
            limit = self.spec.budget.hard_timeout_s
            self._fail("timeout", f"killed after {limit:g} s without progress", "timeout")
        elif self.pending:
            self._fail("error", self._crash_reason(proc.returncode), "child crashed")
        return GroupResult(self.recorded, stopped=False)

    def _spawn(self, write_fd: int) -> subprocess.Popen:
        spec_path = self.tmp / "spec.json"
        spec_path.write_text(json.dumps(self.spec.to_dict()), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "scaleboard.runner.child",
            "--spec",
            str(spec_path),
            "--record-fd",
            str(write_fd),
        ]
        command += ["--parent-pid", str(os.getpid())]
        if self.options.group_function:
            command += ["--group", self.options.group_function]
        if self.options.memory_limit_bytes:
            command += ["--memory-limit", str(self.options.memory_limit_bytes)]
        env = {**os.environ, **(self.options.extra_env or {})}
        env.setdefault("HF_HUB_OFFLINE", "1")  # never wait on the network inside a measurement
        env.setdefault("PYTHONUNBUFFERED", "1")  # the log's last lines are the last lines printed
        with open(self.log_path, "wb") as log:
            return subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=env,
                start_new_session=True,
            )

    def _watch(self, proc: subprocess.Popen, read_fd: int) -> str:
        """Read records until the child is done: ``exited``, ``hung`` or ``stopped``."""
        buffer = b""
        last_progress = time.monotonic()
        self.isolation = _probe_isolation(self.spec.device["type"], proc.pid)
        while True:
            if self.options.should_stop():
                return "stopped"
            ready, _, _ = select.select([read_fd], [], [], POLL_S)
            if ready:
                chunk = os.read(read_fd, 1 << 16)
                if not chunk:  # every writer closed the pipe: the child is exiting
                    return self._wait_exit(proc)
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    self._receive(line, proc.pid)
                last_progress = time.monotonic()
            elif proc.poll() is not None:
                # The child is gone but a process it forked may still hold the pipe open.
                return "exited"
            elif not self.pending:
                if time.monotonic() - last_progress > EXIT_GRACE_S:
                    return "exited"
            elif time.monotonic() - last_progress > self._silence_limit_s():
                return "hung"

    def _silence_limit_s(self) -> float:
        # Before its first sign of life the child is importing torch: slow on a busy machine.
        limit = self.spec.budget.hard_timeout_s
        return limit if self.alive else max(limit, STARTUP_TIMEOUT_S)

    def _wait_exit(self, proc: subprocess.Popen) -> str:
        try:
            proc.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            return "hung" if self.pending else "exited"
        return "exited"

    def _receive(self, line: bytes, child_pid: int) -> None:
        try:
            record = json.loads(line)
            self.alive = True
            if HEARTBEAT in record:
                return
            batch_size = record["batch_size"]
        except (ValueError, TypeError, KeyError):
            print(f"warning: ignored a malformed line from the child: {line[:200]!r}", file=sys.stderr)
            return
        if batch_size not in self.pending:
            print(f"warning: ignored an unexpected record for batch size {batch_size}", file=sys.stderr)
            return
        self.pending.remove(batch_size)
        self.info = {"weights": record.get("weights", "random"), "params": record.get("params")}
        if record.get("isolation") is None:
            record["isolation"] = self.isolation
        elif self.spec.device["type"] == "cuda":
            # Inside the child, this runner's own CUDA context would count as another process.
            record["isolation"] = {**record["isolation"], "gpu_other_processes": self.isolation["gpu_other_processes"]}
        errors, _ = validate(record)
        if errors:  # a measurement that breaks the contract is an error of that point, kept visible
            record = self._record(batch_size, "error", "invalid record from the measurement: " + "; ".join(errors))
        self._emit(record)
        self.isolation = _probe_isolation(self.spec.device["type"], child_pid)

    def _fail(self, status: str, reason: str, skip_word: str) -> None:
        batch_size, *rest = self.pending
        self._emit(self._record(batch_size, status, reason))
        for larger in rest:
            self._emit(self._record(larger, "skipped", f"{skip_word} at {batch_size}"))
        self.pending = []

    def _crash_reason(self, returncode: int | None) -> str:
        if returncode == 0:
            what = f"child exited without a record for batch size {self.pending[0]}"
        else:
            what = f"child {describe_exit(returncode if returncode is not None else -9)}"
        tail = stderr_tail(self.log_path)
        return f"{what}; last output:\n{tail}" if tail else what

    def _record(self, batch_size: int, status: str, reason: str) -> dict:
        from scaleboard.runner.models import PRESETS

        weights = self.info.get("weights") or ("random" if self.spec.model in PRESETS else "pretrained")
        record = base_record(self.spec, batch_size, status, reason, weights=weights, params=self.info.get("params"))
        record["isolation"] = self.isolation
        return record

    def _emit(self, record: dict) -> None:
        self.recorded += 1
        self.emit(record)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the child and everything it started (its own session / process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def kill_child_now(proc: subprocess.Popen | None) -> None:
    """For a hard exit (second Ctrl-C): no waiting, just the signal."""
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _probe_isolation(device_type: str, child_pid: int) -> dict:
    """What else is running as a point starts: the 1-minute load average; on CUDA, GPU
    processes other than this runner and its child's process tree."""
    import psutil

    from scaleboard.runner import environment

    ours = {child_pid}
    with contextlib.suppress(psutil.Error):
        ours |= {p.pid for p in psutil.Process(child_pid).children(recursive=True)}
    return environment.isolation(device_type, ours)
