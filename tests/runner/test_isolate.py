"""The child process boundary, with a stand-in measurement so that only the isolation is tested.

Each test runs a real child process (``python -m scaleboard.runner.child``) whose group function is
``fake_group.run_group`` (``tests/runner/fake_group.py``): it behaves as told by ``FAKE_MODE`` (``kind@batch``).
The real engine's fault injection is exercised in ``test_faults.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import pytest

from scaleboard.record import validate
from scaleboard.runner.isolate import ChildOptions, Worker, describe_exit, run_isolated
from scaleboard.runner.spec import Budget, GroupSpec

HERE = os.path.dirname(os.path.abspath(__file__))  # holds fake_group.py
DEVICE = {"type": "cpu", "name": "Test CPU", "count": 1, "memory_bytes": 1 << 30}
ENV = {"python": "3", "scaleboard": "0.1.0", "os": "Linux", "fingerprint": "f00"}


def make_spec(batch_sizes=(1, 2, 3), hard_timeout_s: float = 60.0) -> GroupSpec:
    return GroupSpec(
        run_id="r", suite="s", machine="m", model="tiny-gpt2", optimization="eager", precision="fp32",
        attention="sdpa", threads=1, batch_sizes=batch_sizes, seq_len=8, device=DEVICE, env=ENV,
        budget=Budget(hard_timeout_s=hard_timeout_s),
    )  # fmt: skip


@pytest.fixture
def fake(tmp_path):
    """Run a group in a child with the stand-in measurement; returns (records, result)."""

    def run(mode: str = "ok", spec: GroupSpec | None = None, **options):
        env = {"FAKE_MODE": mode, "PYTHONPATH": HERE}
        records: list[dict] = []
        opts = ChildOptions(extra_env=env, group_function="fake_group:run_group", **options)
        result = run_isolated(spec or make_spec(), records.append, opts)
        return records, result

    return run


def statuses(records):
    return [(r["batch_size"], r["status"]) for r in records]


def test_every_point_comes_back_through_the_channel_not_stdout(fake):
    records, result = fake("ok")
    assert statuses(records) == [(1, "ok"), (2, "ok"), (3, "ok")]
    assert result.recorded == 3 and not result.stopped
    for record in records:
        assert validate(record)[0] == []
        assert record["isolation"]["load_avg_1m"] is not None  # filled by the parent on CPU
        assert record["isolation"]["gpu_other_processes"] is None


@pytest.mark.parametrize(("mode", "signal_name"), [("segv", "SIGSEGV"), ("abort", "SIGABRT")])
def test_a_crash_is_an_error_for_its_point_and_skips_the_rest(fake, mode, signal_name):
    records, _ = fake(f"{mode}@2")
    assert statuses(records) == [(1, "ok"), (2, "error"), (3, "skipped")]
    assert records[1]["reason"].startswith(f"child killed by {signal_name}; last output:")
    assert "library noise on stdout" in records[1]["reason"]
    assert records[2]["reason"] == "child crashed at 2"
    assert all(validate(r)[0] == [] for r in records)


def test_an_exception_keeps_the_traceback_tail(fake):
    records, _ = fake("raise@1")
    assert statuses(records) == [(1, "error"), (2, "skipped"), (3, "skipped")]
    assert records[0]["reason"].startswith("child exited with code 1")
    assert "RuntimeError: fake failure in the measurement" in records[0]["reason"]


def test_a_measurement_that_ends_early_without_records(fake):
    records, _ = fake("exit0@2")
    assert statuses(records) == [(1, "ok"), (2, "error"), (3, "skipped")]
    assert records[1]["reason"] == "the measurement ended without a record for batch size 2"


def test_a_silent_child_is_killed_after_the_hard_timeout(fake):
    start = time.monotonic()
    records, _ = fake("hang@2", make_spec(hard_timeout_s=1.0))
    assert time.monotonic() - start < 30
    assert statuses(records) == [(1, "ok"), (2, "timeout"), (3, "skipped")]
    assert records[1]["reason"] == "killed after 1 s without progress"
    assert records[2]["reason"] == "timeout at 2"


def test_an_invalid_record_becomes_a_visible_error(fake):
    records, _ = fake("invalid@2")
    assert statuses(records) == [(1, "ok"), (2, "error"), (3, "ok")]
    assert "invalid record from the measurement: field 'latency_ms' must not be null" in records[1]["reason"]


def test_memory_cap_turns_a_huge_allocation_into_a_failed_allocation(fake):
    records, _ = fake("alloc@2", memory_limit_bytes=1 << 30)
    assert statuses(records) == [(1, "ok"), (2, "oom"), (3, "ok")]


def test_a_stop_request_abandons_the_point_and_records_nothing_for_it(fake, tmp_path):
    pid_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 3
    records: list[dict] = []
    os.environ["FAKE_PID_FILE"] = str(pid_file)
    try:
        records, result = fake("hang@2", should_stop=lambda: time.monotonic() > deadline)
    finally:
        del os.environ["FAKE_PID_FILE"]
    assert result.stopped and statuses(records) == [(1, "ok")]
    assert not _alive(int(pid_file.read_text()))


def test_the_child_dies_with_its_parent(tmp_path):
    """SIGKILL of the runner must not leave a measuring child behind (PR_SET_PDEATHSIG)."""
    pid_file = tmp_path / "child.pid"
    parent = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {HERE!r})
        from test_isolate import make_spec
        from scaleboard.runner.isolate import ChildOptions, run_isolated
        env = {{"FAKE_MODE": "hang@1", "FAKE_PID_FILE": {str(pid_file)!r}, "PYTHONPATH": {HERE!r}}}
        run_isolated(make_spec(), print, ChildOptions(extra_env=env, group_function="fake_group:run_group"))
    """)
    proc = subprocess.Popen([sys.executable, "-c", parent])
    child_pid = _wait_for_pid(pid_file)
    proc.kill()
    proc.wait()
    for _ in range(50):
        if not _alive(child_pid):
            break
        time.sleep(0.1)
    assert not _alive(child_pid)


def _worker_groups(tmp_path, monkeypatch, mode: str, only: str | None = None):
    """Three groups (eager, torchscript, compile) on one Worker; returns per group (pid, records)."""
    monkeypatch.setenv("FAKE_MODE", mode)
    if only:
        monkeypatch.setenv("FAKE_ONLY", only)
    monkeypatch.setenv("FAKE_PID_DIR", str(tmp_path))
    out = []
    options = ChildOptions(extra_env={"PYTHONPATH": HERE}, group_function="fake_group:run_group")
    with Worker(options) as worker:
        for optimization in ("eager", "torchscript", "compile"):
            pid_file = tmp_path / f"{optimization}.pid"
            records: list[dict] = []
            worker.run(replace(make_spec(), optimization=optimization), records.append)
            out.append((int(pid_file.read_text()) if pid_file.exists() else None, records))
        started = worker.started
    return out, started


def test_a_worker_measures_group_after_group_in_one_process(tmp_path, monkeypatch):
    groups, started = _worker_groups(tmp_path, monkeypatch, "ok")
    assert started == 1
    assert len({pid for pid, _ in groups}) == 1
    assert [statuses(records) for _, records in groups] == [[(1, "ok"), (2, "ok"), (3, "ok")]] * 3


def test_a_reused_worker_that_crashes_mid_group_costs_that_group_only(tmp_path, monkeypatch):
    groups, started = _worker_groups(tmp_path, monkeypatch, "segv@2", only="torchscript")
    (pid1, first), (pid2, second), (pid3, third) = groups
    assert statuses(first) == [(1, "ok"), (2, "ok"), (3, "ok")]
    assert statuses(second) == [(1, "ok"), (2, "error"), (3, "skipped")]
    assert second[1]["reason"].startswith("child killed by SIGSEGV")
    assert statuses(third) == [(1, "ok"), (2, "ok"), (3, "ok")]  # nothing lost after the crash
    assert pid1 == pid2 != pid3 and started == 2  # the next group ran in a fresh process


def test_a_worker_is_not_reused_after_an_oom(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_MODE", "alloc@2")
    options = ChildOptions(extra_env={"PYTHONPATH": HERE}, group_function="fake_group:run_group",
                           memory_limit_bytes=1 << 30)  # fmt: skip
    with Worker(options) as worker:
        records: list[dict] = []
        worker.run(make_spec(), records.append)
        worker.run(make_spec(), records.append)
        assert worker.started == 2
    assert [r["status"] for r in records] == ["ok", "oom", "ok"] * 2


def test_a_worker_started_ahead_measures_the_first_group_under_the_cap_it_is_sent(tmp_path, monkeypatch):
    """``start()`` spawns the process before anything is asked of it (``scaleboard run`` does so
    while it imports torch itself); the cap set afterwards still applies, because it comes
    with the request: the 2 GiB allocation fails against 1 GiB."""
    monkeypatch.setenv("FAKE_MODE", "alloc@2")
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "child.pid"))
    options = ChildOptions(extra_env={"PYTHONPATH": HERE}, group_function="fake_group:run_group")
    with Worker(options) as worker:
        worker.start()
        assert worker.proc is not None and worker.started == 0  # started ahead, not yet used
        ahead = worker.proc.pid
        worker.start()  # already running: the same process
        assert worker.proc.pid == ahead
        worker.options.memory_limit_bytes = 1 << 30
        records: list[dict] = []
        worker.run(make_spec(), records.append)
        assert int((tmp_path / "child.pid").read_text()) == ahead and worker.started == 1
    assert statuses(records) == [(1, "ok"), (2, "oom"), (3, "ok")]


def test_a_worker_started_ahead_and_never_used_is_not_counted(tmp_path):
    options = ChildOptions(extra_env={"PYTHONPATH": HERE}, group_function="fake_group:run_group")
    with Worker(options) as worker:
        worker.start()
        proc = worker.proc
    assert proc is not None and proc.poll() is not None  # killed on close
    assert worker.started == 0


def test_retire_ends_a_used_process_and_keeps_one_started_ahead(monkeypatch):
    """``retire()`` (a new pass of --repeats) promises a process that has measured nothing: one
    started ahead and never sent work already is one, so it is kept; a used one is ended."""
    monkeypatch.setenv("FAKE_MODE", "ok")
    options = ChildOptions(extra_env={"PYTHONPATH": HERE}, group_function="fake_group:run_group")
    with Worker(options) as worker:
        worker.start()
        ahead = worker.proc
        worker.retire()
        assert worker.proc is ahead and ahead is not None and ahead.poll() is None
        worker.run(make_spec(), lambda record: None)
        worker.retire()
        assert worker.proc is None and ahead.poll() is not None
        worker.run(make_spec(), lambda record: None)
        assert worker.started == 2


def test_a_worker_killed_with_its_owner_leaves_no_file_behind(tmp_path):
    """A Ray actor is killed, never closed: the worker's log must have no name on disk to leak.
    The owner runs a group that crashes (its reason reads the log), then SIGKILLs itself."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = textwrap.dedent(f"""
        import json, os, signal
        from scaleboard.runner.isolate import ChildOptions, Worker
        from test_isolate import make_spec
        worker = Worker(ChildOptions(extra_env={{"PYTHONPATH": {HERE!r}, "FAKE_MODE": "raise@2"}},
                                     group_function="fake_group:run_group"))
        records = []
        worker.run(make_spec(), records.append)
        worker.run(make_spec(), records.append)  # in a fresh process: a second log
        print(json.dumps([len(records), records[1]["reason"], os.listdir({str(scratch)!r})]), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": HERE}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    count, reason, listed = json.loads(done.stdout)
    assert count == 6 and "RuntimeError: fake failure in the measurement" in reason  # the tail was read
    assert listed == []  # nothing named while it ran…
    assert list(scratch.iterdir()) == []  # …nor after its owner was killed


def test_describe_exit():
    assert describe_exit(-signal.SIGSEGV) == "killed by SIGSEGV"
    assert describe_exit(3) == "exited with code 3"


def _wait_for_pid(path) -> int:
    for _ in range(200):
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.05)
    raise AssertionError("the child never started")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False
