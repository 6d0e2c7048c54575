"""Run groups in a measuring process and turn whatever happens to it into records.

A *worker* (``python -m scaleboard.runner.child``) is a child process that imports torch
once and then measures group after group: the parent sends each
:class:`~scaleboard.runner.spec.GroupSpec` as one JSON line on the worker's stdin; the
worker writes one JSON record per line to a dedicated pipe (never stdout, where libraries
print) and a ``group_done`` line when the group is finished. Its stdout and stderr go to
an unnamed temporary file whose last lines explain a crash: it has no name on disk, so
nothing is left behind however the parent ends (a Ray actor is killed, not closed).

Isolation is kept where it matters: a worker that crashes, hangs, is stopped, or ends a
group with an ``oom``, ``timeout`` or ``error`` point is killed, and the next group starts
in a fresh process; a segfault still costs one group, never the run. Between groups the
worker frees what the last one held (see :mod:`scaleboard.runner.child`).

What the parent makes of the worker's fate, for the batch size it was on (the first one
without a record) and the larger ones:

================================  =====================================  ======================
worker                            current batch size                     larger batch sizes
================================  =====================================  ======================
segfault / abort / kill / exit≠0  ``error`` (signal or exit code, stderr)  ``skipped`` "child crashed at b"
ends the group with points missing ``error`` "... without a record"      ``skipped`` "child crashed at b"
silent for ``hard_timeout_s``     ``timeout`` "killed after N s …"        ``skipped`` "timeout at b"
stop requested (Ctrl-C, budget)   nothing: not measured, a later run resumes there
================================  =====================================  ======================

The worker is started in its own session (a terminal's Ctrl-C reaches only the parent,
which decides), dies with the parent (``PR_SET_PDEATHSIG``, set by the worker itself),
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
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from scaleboard.record import validate
from scaleboard.runner.child import GROUP_DONE, HEARTBEAT, PROBE_RESULT
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
    wall_s: float | None = None  # the worker's own time for the group (None when it did not finish)


@dataclass
class ChildOptions:
    memory_limit_bytes: int | None = None  # RLIMIT_AS for the child; None: no cap
    extra_env: dict[str, Any] | None = None  # e.g. SCALEBOARD_FAULT for fault injection
    should_stop: Callable[[], bool] = lambda: False
    on_child: Callable[[subprocess.Popen[bytes] | None], None] = lambda proc: None  # for a hard exit's kill
    group_function: str | None = None  # module:function run in the worker; None: scaleboard.runner.group:run_group


def describe_exit(returncode: int) -> str:
    """``killed by SIGSEGV`` / ``exited with code 3``."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def stderr_tail(log: BinaryIO | None, start: int = 0) -> str:
    """The last lines of a worker's output (``log``) since byte ``start``, for an error record's reason."""
    if log is None:
        return ""
    try:
        end = os.fstat(log.fileno()).st_size
        offset = max(start, end - 16384)
        text = os.pread(log.fileno(), end - offset, offset).decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return ""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_TAIL_LINES:])[-STDERR_TAIL_CHARS:]


def run_isolated(
    spec: GroupSpec, emit: Callable[[dict[str, Any]], None], options: ChildOptions | None = None
) -> GroupResult:
    """Measure ``spec`` in a fresh worker; ``emit`` receives one complete record per batch size, in order."""
    with Worker(options) as worker:
        return worker.run(spec, emit)


#: Statuses after which a worker is not reused: its memory or state may be the cause.
RETIRE_AFTER = ("oom", "timeout", "error")


class Worker:
    """The parent's side of a measuring process that runs group after group."""

    def __init__(self, options: ChildOptions | None = None):
        self.options = options or ChildOptions()
        self.proc: subprocess.Popen[bytes] | None = None
        self.read_fd: int | None = None
        self.buffer = b""
        self.ready = False  # the worker has said it finished its imports
        self.started = 0  # processes that were sent work (one started ahead and never used is not counted)
        self._sent = False  # the current process has had a request
        self.startup_s: list[float] = []  # per process: spawn until its imports were done
        self._spawned_at = 0.0
        self.log: BinaryIO | None = None  # the current process's stdout and stderr (an unnamed file)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the worker (if any) and close its log."""
        self._retire()
        self._close_log()

    def retire(self) -> None:
        """Make the next group start in a process that has measured nothing: end the current one,
        unless it has not been sent any work yet (one started ahead is as fresh as a new one)."""
        if self.proc is not None and self._sent:
            self._retire()

    def start(self) -> None:
        """Start a measuring process now unless one is running, so that its imports (5–7 s)
        overlap the caller's own work; the first request finds it ready sooner."""
        if self.proc is None or self.proc.poll() is not None:
            self._retire()
            self._spawn()

    def run(self, spec: GroupSpec, emit: Callable[[dict[str, Any]], None]) -> GroupResult:
        """Measure ``spec``; a fresh process is started first if the last one is gone."""
        self._send({"spec": spec.to_dict()})
        group = _Group(self, spec, emit)
        outcome = group.watch()
        if outcome != "done":  # crashed, hung or stopped: never reused
            self._retire()
        result = group.finish(outcome)
        if group.failed:
            self._retire()
        return result

    def probe(self, spec: GroupSpec) -> dict[str, Any] | None:
        """The planner's cost probe for ``spec`` (see ``scaleboard.runner.group.probe``); None if the worker failed."""
        self._send({"probe": spec.to_dict()})
        group = _Group(self, replace(spec, batch_sizes=()), lambda record: None)
        outcome = group.watch()
        if outcome != "done" or group.probe_result is None:
            self._retire()
            return None
        return group.probe_result

    def _send(self, message: dict[str, Any]) -> None:
        """Send a request, starting a fresh worker first if the last one is gone (and once more on a broken pipe)."""
        message = {**message, "memory_limit": self.options.memory_limit_bytes}
        line = (json.dumps(message) + "\n").encode()
        for attempt in (1, 2):
            self.start()
            stdin = self.proc.stdin if self.proc is not None else None
            assert stdin is not None  # _spawn starts the worker with a pipe on its stdin
            try:
                stdin.write(line)
                stdin.flush()
                if not self._sent:
                    self.started, self._sent = self.started + 1, True
                return
            except OSError:  # the worker died since its last request
                self._retire()
                if attempt == 2:
                    raise

    def _spawn(self) -> None:
        read_fd, write_fd = os.pipe()
        self._sent = False
        self._close_log()  # the last process's: its group has read it
        self.log = tempfile.TemporaryFile(prefix="scaleboard-worker-")  # noqa: SIM115 (open until the next spawn)
        command = [sys.executable, "-m", "scaleboard.runner.child", "--record-fd", str(write_fd)]
        command += ["--parent-pid", str(os.getpid())]
        if self.options.group_function:
            command += ["--group", self.options.group_function]
        env = {**os.environ, **(self.options.extra_env or {})}
        env.setdefault("HF_HUB_OFFLINE", "1")  # never wait on the network inside a measurement
        env.setdefault("PYTHONUNBUFFERED", "1")  # the log's last lines are the last lines printed
        try:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=self.log,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=env,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
        self.read_fd, self.buffer, self.ready = read_fd, b"", False
        self._spawned_at = time.monotonic()
        self.options.on_child(self.proc)

    def _retire(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(OSError):
                if self.proc.stdin is not None:
                    self.proc.stdin.close()
            _kill(self.proc)
            self.options.on_child(None)
        if self.read_fd is not None:
            os.close(self.read_fd)
        self.proc, self.read_fd, self.buffer, self.ready = None, None, b"", False

    def _close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    def log_size(self) -> int:
        """Bytes the current process has written to its log so far."""
        try:
            return os.fstat(self.log.fileno()).st_size if self.log is not None else 0
        except (OSError, ValueError):
            return 0


class _Group:
    """One group on a worker: read its records, watch the clock, account for every point."""

    def __init__(self, worker: Worker, spec: GroupSpec, emit: Callable[[dict[str, Any]], None]):
        self.worker, self.spec, self.emit, self.options = worker, spec, emit, worker.options
        self.pending = list(spec.batch_sizes)
        self.recorded = 0
        self.failed = False  # a point ended oom / timeout / error: do not reuse the worker
        self.log_start = worker.log_size()
        self.log = worker.log  # this group's process's, read after it is retired
        self.isolation: dict[str, Any] | None = None  # what else ran as the current point started
        self.info: dict[str, Any] = {}  # weights/params as the worker reported them
        self.proc = worker.proc
        self.wall_s: float | None = None
        self.probe_result: dict[str, Any] | None = None

    def finish(self, outcome: str) -> GroupResult:
        proc = self.proc
        if outcome == "stopped":
            return GroupResult(self.recorded, stopped=True)
        if outcome == "done" and not self.pending:
            return GroupResult(self.recorded, stopped=False, wall_s=self.wall_s)
        if self.pending and outcome == "hung":
            limit = self.spec.budget.hard_timeout_s
            self._fail("timeout", f"killed after {limit:g} s without progress", "timeout")
        elif self.pending and outcome == "done":
            self._fail(
                "error", f"the measurement ended without a record for batch size {self.pending[0]}", "child crashed"
            )
        elif self.pending:
            self._fail("error", self._crash_reason(proc.returncode if proc else None), "child crashed")
        return GroupResult(self.recorded, stopped=False)

    def watch(self) -> str:
        """Read records until the group is over: ``done``, ``exited``, ``hung`` or ``stopped``."""
        worker, proc = self.worker, self.worker.proc
        assert proc is not None and worker.read_fd is not None  # the worker was started to run this group
        last_progress = time.monotonic()
        self.isolation = _probe_isolation(self.spec.device["type"], proc.pid)
        while True:
            if self.options.should_stop():
                return "stopped"
            ready, _, _ = select.select([worker.read_fd], [], [], POLL_S)
            if ready:
                chunk = os.read(worker.read_fd, 1 << 16)
                if not chunk:  # every writer closed the pipe: the worker is exiting
                    return self._wait_exit(proc)
                worker.buffer += chunk
                *lines, worker.buffer = worker.buffer.split(b"\n")
                for line in lines:
                    if self._receive(line, proc.pid) == "done":
                        return "done"
                last_progress = time.monotonic()
            elif proc.poll() is not None:
                # The worker is gone but a process it forked may still hold the pipe open.
                return "exited"
            elif time.monotonic() - last_progress > self._silence_limit_s():
                return "hung"

    def _silence_limit_s(self) -> float:
        # Before its first sign of life the worker is importing torch: slow on a busy machine.
        limit = self.spec.budget.hard_timeout_s
        return limit if self.worker.ready else max(limit, STARTUP_TIMEOUT_S)

    def _wait_exit(self, proc: subprocess.Popen[bytes]) -> str:
        try:
            proc.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            return "hung" if self.pending else "exited"
        return "exited"

    def _receive(self, line: bytes, child_pid: int) -> str | None:
        try:
            record = json.loads(line)
            if HEARTBEAT in record:
                if not self.worker.ready:
                    self.worker.startup_s.append(time.monotonic() - self.worker._spawned_at)
                self.worker.ready = True
                return None
            self.worker.ready = True
            if GROUP_DONE in record:
                self.wall_s = record.get("wall_s")
                return "done"
            if PROBE_RESULT in record:
                self.probe_result = record[PROBE_RESULT]
                return "done"
            batch_size = record["batch_size"]
        except (ValueError, TypeError, KeyError):
            print(f"warning: ignored a malformed line from the worker: {line[:200]!r}", file=sys.stderr)
            return None
        if batch_size not in self.pending:
            print(f"warning: ignored an unexpected record for batch size {batch_size}", file=sys.stderr)
            return None
        self.pending.remove(batch_size)
        self.info = {"weights": record.get("weights", "random"), "params": record.get("params")}
        if record.get("isolation") is None:
            record["isolation"] = self.isolation
        elif self.spec.device["type"] == "cuda":
            # Inside the worker, this runner's own CUDA context would count as another process.
            record["isolation"] = {
                **record["isolation"],
                "gpu_other_processes": (self.isolation or {}).get("gpu_other_processes"),
            }
        errors, _ = validate(record)
        if errors:  # a measurement that breaks the contract is an error of that point, kept visible
            record = self._record(batch_size, "error", "invalid record from the measurement: " + "; ".join(errors))
        self._emit(record)
        self.isolation = _probe_isolation(self.spec.device["type"], child_pid)
        return None

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
        tail = stderr_tail(self.log, self.log_start)
        return f"{what}; last output:\n{tail}" if tail else what

    def _record(self, batch_size: int, status: str, reason: str) -> dict[str, Any]:
        from scaleboard.runner.models import weights_of

        weights = self.info.get("weights") or weights_of(self.spec.source)
        record = base_record(self.spec, batch_size, status, reason, weights=weights, params=self.info.get("params"))
        record["isolation"] = self.isolation
        return record

    def _emit(self, record: dict[str, Any]) -> None:
        self.recorded += 1
        if record["status"] in RETIRE_AFTER:
            self.failed = True
        self.emit(record)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started (its own session / process group)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def kill_child_now(proc: subprocess.Popen[bytes] | None) -> None:
    """For a hard exit (second Ctrl-C): no waiting, just the signal."""
    if proc is not None and proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def _probe_isolation(device_type: str, child_pid: int) -> dict[str, Any]:
    """What else is running as a point starts: the 1-minute load average; on CUDA, GPU
    processes other than this runner and its child's process tree."""
    import psutil

    from scaleboard.runner import environment

    ours = {child_pid}
    with contextlib.suppress(psutil.Error):
        ours |= {p.pid for p in psutil.Process(child_pid).children(recursive=True)}
    return environment.isolation(device_type, ours)
