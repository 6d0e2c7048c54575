"""The sweep loop with a stand-in measurement: planning, resume filtering, crashes, budgets, signals."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace

from rich.console import Console

from scaleboard.record import iter_file, point_key
from scaleboard.runner.progress import Progress, point_line, summary_rows
from scaleboard.runner.store import Index, RunFile, index_records
from scaleboard.runner.suite import parse_suite
from scaleboard.runner.sweep import build_groups, estimate_s, make_plan, run_sweep, spec_point_key

HERE = os.path.dirname(os.path.abspath(__file__))  # holds fake_group.py
DEVICE = {"type": "cpu", "name": "Test CPU", "count": 1, "memory_bytes": 1 << 30}
ENV = {"python": "3", "scaleboard": "0.1.0", "os": "Linux", "fingerprint": "f00"}
SUITE = """\
label: sweep-test
models: [tiny-gpt2]
optimizations: [eager, torchscript]
precisions: [fp32, bf16]
batch_sizes: 1-3
seq_len: 8
threads: [1]
budget: {hard_timeout_s: 60}
"""


def groups(text: str = SUITE, run_id: str = "r1"):
    return build_groups(parse_suite(text, "s.yaml"), run_id=run_id, machine="m", device=DEVICE, env=ENV)


def sweep(tmp_path, plan, mode="ok", only=None, **kwargs):
    os.environ["FAKE_MODE"] = mode
    if only:
        os.environ["FAKE_ONLY"] = only
    try:
        env = {"PYTHONPATH": HERE}
        progress = Progress(console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
        with RunFile(tmp_path / "out" / "run.jsonl") as run_file:
            result = run_sweep(
                plan, run_file, progress, device_type="cpu", extra_env=env,
                check_supported=kwargs.pop("check_supported", lambda *a: None),
                group_function="fake_group:run_group", **kwargs,
            )  # fmt: skip
        return result
    finally:
        os.environ.pop("FAKE_MODE", None)
        os.environ.pop("FAKE_ONLY", None)


def test_groups_cover_the_product_in_suite_order():
    specs = groups()
    assert [(g.optimization, g.precision) for g in specs] == [
        ("eager", "fp32"), ("eager", "bf16"), ("torchscript", "fp32"), ("torchscript", "bf16"),
    ]  # fmt: skip
    assert all(g.batch_sizes == (1, 2, 3) and g.suite == "sweep-test" for g in specs)


def test_plan_leaves_out_recorded_points_unless_forced():
    specs = groups()
    from scaleboard.runner.spec import base_record

    done = base_record(specs[0], 2, "error", "crashed before")
    index = Index(records={point_key(done): done})
    assert spec_point_key(specs[0], 2) == point_key(done)
    plan = make_plan(specs, index)
    assert plan.total_points == 12 and plan.todo_points == 11 and plan.existing == [done]
    assert plan.todo[0].batch_sizes == (1, 3)
    assert make_plan(specs, index, force=True).todo_points == 12
    assert estimate_s(plan, "cpu") > 0


def test_a_full_sweep_records_every_point_once(tmp_path):
    plan = make_plan(groups(), Index())
    result = sweep(tmp_path, plan)
    assert result.stopped_by is None and result.exit_code == 0 and result.not_measured == 0
    keys = [point_key(r) for _, r, _ in iter_file(tmp_path / "out" / "run.jsonl")]
    assert len(keys) == 12 and len(set(keys)) == 12
    # A second plan over the same folder has nothing left to do.
    assert make_plan(groups(run_id="r2"), index_records(tmp_path / "out")).todo_points == 0


def test_a_crashing_group_does_not_stop_the_next(tmp_path):
    plan = make_plan(groups(), Index())
    result = sweep(tmp_path, plan, mode="segv@2", only="eager")
    by_group = [(r["optimization"], r["precision"], r["batch_size"], r["status"]) for r in result.records]
    assert by_group[:6] == [
        ("eager", "fp32", 1, "ok"), ("eager", "fp32", 2, "error"), ("eager", "fp32", 3, "skipped"),
        ("eager", "bf16", 1, "ok"), ("eager", "bf16", 2, "error"), ("eager", "bf16", 3, "skipped"),
    ]  # fmt: skip
    assert [r["status"] for r in result.records[6:]] == ["ok"] * 6


def test_unsupported_groups_are_recorded_without_a_child(tmp_path):
    plan = make_plan(groups(), Index())

    def check(optimization, precision, attention, device):
        return "bf16 is not available here" if precision == "bf16" else None

    result = sweep(tmp_path, plan, check_supported=check)
    unsupported = [r for r in result.records if r["status"] == "unsupported"]
    assert len(unsupported) == 6 and {r["reason"] for r in unsupported} == {"bf16 is not available here"}


def test_the_time_budget_stops_and_records_the_rest_as_not_measured(tmp_path):
    plan = make_plan(groups(), Index())
    start = time.monotonic()
    result = sweep(tmp_path, plan, mode="hang@2", time_budget_s=2.0)
    assert time.monotonic() - start < 20
    assert result.stopped_by == "time budget" and result.exit_code == 0
    # batch 1 of the first group is measured; the hanging point in progress is abandoned
    # (no record), and every point not measured is recorded 'budget', never 'timeout'.
    assert [r["status"] for r in result.records] == ["ok"] + ["budget"] * 11
    assert all("time budget of 2 s was spent" in r["reason"] for r in result.records[1:])
    assert result.not_measured == 11
    # 'budget' is no result: a later run measures those points.
    assert make_plan(groups(run_id="r2"), index_records(tmp_path / "out")).todo_points == 11


def test_batch_sizes_the_plan_left_out_are_recorded_as_budget(tmp_path):
    specs = groups()
    trimmed = [replace(g, batch_sizes=(1,)) for g in specs]
    plan = make_plan(trimmed, Index())
    left_out = {g.label: (2, 3) for g in specs}
    result = sweep(tmp_path, plan, time_budget_s=600, left_out=left_out, planned_s={g.label: 1.0 for g in specs})
    statuses = [(r["optimization"], r["precision"], r["batch_size"], r["status"]) for r in result.records]
    assert statuses[:3] == [("eager", "fp32", 1, "ok"), ("eager", "fp32", 2, "budget"), ("eager", "fp32", 3, "budget")]
    assert sum(1 for r in result.records if r["status"] == "budget") == 8
    assert {r["reason"] for r in result.records if r["status"] == "budget"} == {
        "not measured (budget): the time plan left no room for this batch size"
    }
    assert result.workers == 1  # four groups, one measuring process


def test_first_signal_abandons_the_point_and_keeps_finished_records(tmp_path):
    plan = make_plan(groups(), Index())
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN where the test run itself is in the background
    timer = threading.Timer(2.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        result = sweep(tmp_path, plan, mode="hang@2")
    finally:
        timer.cancel()
    assert result.stopped_by == "SIGINT" and result.exit_code == 130
    assert [r["status"] for r in result.records] == ["ok"]
    assert signal.getsignal(signal.SIGINT) == before  # handlers restored


def test_progress_lines_and_summary_rows():
    from scaleboard.runner.spec import base_record

    spec = groups()[0]
    ok = {
        **base_record(spec, 4, "ok"),
        "latency_ms": dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), 2.0),
        "throughput": {"samples_per_s": 2000.0, "tokens_per_s": 16000.0},
    }
    at_one = {**ok, "batch_size": 1, "latency_ms": {**ok["latency_ms"], "p50": 1.0}, "throughput": {
        "samples_per_s": 1000.0, "tokens_per_s": 8000.0}}  # fmt: skip
    oom = base_record(spec, 8, "oom", "oom at 8")
    line = point_line(ok, (3, 10))
    assert line.startswith("[3/10] tiny-gpt2 eager/fp32/sdpa t1") and "16,000 tok/s" in line and line.endswith("ok")
    assert point_line(oom).endswith("oom (oom at 8)")
    (row,) = summary_rows([at_one, ok, oom])
    assert row["best_rate"] == (16000.0, "tok/s") and row["best_batch_size"] == 4
    assert row["latency_bs1_ms"] == 1.0 and row["statuses"] == {"ok": 2, "oom": 1}


def test_a_budgeted_run_shows_the_time_left_in_its_budget():
    import io

    console = Console(file=io.StringIO(), width=200)
    progress = Progress(console=console)
    progress.start(10, deadline=time.monotonic() + 95)
    progress.group(groups()[0])
    assert "at most 1 min 3" in console.file.getvalue() and "left (time budget)" in console.file.getvalue()
