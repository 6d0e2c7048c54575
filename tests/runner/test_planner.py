"""The time-budgeted planner: allocation, adaptive defaults, in-group budget stops, and the sweep's limits.

Everything here runs on made-up costs and a fake clock: no torch, no child process (except the
last tests, which use the stand-in measurement of ``fake_group.py``).
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from rich.console import Console

from scaleboard.runner import planner
from scaleboard.runner.group import over_budget
from scaleboard.runner.planner import Probe, allocate, group_cost_s, plan_budget, point_cost_s, timed_iterations
from scaleboard.runner.progress import Progress
from scaleboard.runner.spec import Budget, GroupSpec
from scaleboard.runner.store import Index, RunFile
from scaleboard.runner.sweep import make_plan, run_sweep

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = {"type": "cpu", "name": "Test CPU", "count": 1, "memory_bytes": 1 << 30}
ENV = {"python": "3", "scaleboard": "0.2.0", "os": "Linux", "fingerprint": "f00"}
SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
BUDGET = Budget(warmup_iterations=1, min_iterations=3, max_iterations=50, min_time_s=0.5, max_time_s=2.0)


def spec(optimization="eager", precision="fp32", threads=2, sizes=SIZES, seq_len=32, **kw) -> GroupSpec:
    return GroupSpec(
        run_id="r", suite="s", machine="m", model="distilgpt2", optimization=optimization, precision=precision,
        attention="sdpa", threads=threads, batch_sizes=sizes, seq_len=seq_len, device=DEVICE, env=ENV,
        budget=kw.pop("budget", BUDGET), **kw,
    )  # fmt: skip


def suite_groups(seq_len=32):
    return [
        spec(o, p, t, seq_len=seq_len)
        for o in ("eager", "torchscript", "compile")
        for p in ("fp32", "int8-dynamic")
        for t in (1, 2)
    ]


def probes(call_s: float, seq_len: int = 32) -> dict:
    return {("distilgpt2", p, "sdpa"): Probe(call_s, 1, 2, seq_len) for p in ("fp32", "int8-dynamic")}


def test_point_cost_counts_first_call_warmup_timed_iterations_and_the_check():
    assert timed_iterations(0.001, BUDGET) == 50  # capped by max_iterations
    assert timed_iterations(0.1, BUDGET) == 5  # min_time_s 0.5 / 0.1
    assert timed_iterations(1.5, BUDGET) == 2  # max_time_s 2.0 stops it after two
    assert timed_iterations(5.0, BUDGET) == 1
    # 1 first call + 1 warm-up + 5 timed + 1 quality check, plus a compile's fixed cost
    assert point_cost_s(0.1, 20.0, BUDGET) == pytest.approx(20.0 + 8 * 0.1 + planner.POINT_OVERHEAD_S)


def test_the_plan_fits_the_budget_and_serves_the_largest_thread_count_first():
    groups = suite_groups()
    allocation = allocate(groups, probes(0.09), budget_s=600)
    assert allocation.estimate_s <= 600 * planner.PLANNED_SHARE
    assert [g.threads for g in allocation.groups] == [2] * 6 + [1] * 6  # running order
    for g in allocation.groups:
        assert g.batch_sizes == SIZES[: len(g.batch_sizes)]  # a prefix: curves have no holes
        assert allocation.left_out.get(g.label, ()) == SIZES[len(g.batch_sizes) :]
    top = [g for g in allocation.groups if g.threads == 2]
    assert all(len(g.batch_sizes) >= planner.MIN_CURVE for g in top)
    # the planned cost of each group is what the sweep sets its time limits from
    assert allocation.costs[top[0].label] == pytest.approx(
        group_cost_s(top[0], probes(0.09)[("distilgpt2", "fp32", "sdpa")], top[0].batch_sizes)
    )


def test_a_tiny_probe_cost_plans_every_point():
    allocation = allocate(suite_groups(), probes(1e-5), budget_s=3600)
    assert allocation.left_out == {}
    assert all(g.batch_sizes == SIZES for g in allocation.groups)


def test_a_huge_probe_cost_plans_nothing_and_leaves_everything_to_budget_records():
    allocation = allocate(suite_groups(), probes(120.0), budget_s=60)
    assert all(g.batch_sizes == () for g in allocation.groups)
    assert sum(len(v) for v in allocation.left_out.values()) == len(SIZES) * 12


def test_an_explicit_suite_is_only_trimmed_never_rewritten():
    groups = suite_groups()
    allocation = plan_budget(groups, probes(0.09), 390, adaptive=False)
    assert {g.seq_len for g in allocation.groups} == {32}
    assert {g.budget for g in allocation.groups} == {BUDGET}
    assert allocation.seq_len_note is None


def test_the_default_suite_shortens_timing_then_the_sequence_before_cutting_a_curve():
    groups = suite_groups()
    tight = plan_budget(groups, probes(0.09), 390, adaptive=True)
    assert planner.curves_fit(tight, groups)
    assert tight.groups[0].seq_len < 32 or tight.groups[0].budget != BUDGET
    assert "so that every configuration gets a curve of 6 batch sizes" in tight.seq_len_note
    roomy = plan_budget(groups, probes(0.09), 3600, adaptive=True)
    assert {g.seq_len for g in roomy.groups} == {32} and roomy.seq_len_note is None


def test_the_default_suite_rebuilds_its_plan_at_a_shorter_sequence():
    asked = []

    def rebuild(seq_len):
        asked.append(seq_len)
        return suite_groups(seq_len)

    allocation = plan_budget(suite_groups(128), probes(0.09, 128), 390, adaptive=True, rebuild=rebuild)
    assert asked and asked == sorted(asked, reverse=True) and all(s >= planner.MIN_SEQ_LEN for s in asked)
    assert {g.seq_len for g in allocation.groups} == {asked[-1]}


def test_inside_a_group_a_batch_that_would_overrun_its_limit_is_not_measured():
    limited = spec(time_limit_s=10.0)
    last = (8, 0.5, 0.6)  # batch 8: 0.5 s per call, first call 0.6 s
    # batch 16: 1 s per call, first + warm-up + 2 timed (max_time_s 2) + check = 5 calls: fits in 9 s
    assert over_budget(limited, last, 16, elapsed_s=1.0) is None
    # batch 64: 4 s per call, 4 calls: does not
    reason = over_budget(limited, last, 64, elapsed_s=1.0)
    assert reason.startswith("not measured (budget): about 16 s needed at batch 64, 9 s left")
    assert over_budget(spec(), last, 1024, elapsed_s=1e6) is None  # no limit: never
    assert over_budget(limited, None, 1024, elapsed_s=1e6) is None  # the first point always runs


def test_compile_keeps_its_fixed_cost_in_the_prediction():
    compiled = spec("compile", time_limit_s=30.0)
    assert over_budget(compiled, (1, 0.05, 18.0), 2, elapsed_s=0.0) is None  # ~18 s compile again: fits
    assert over_budget(compiled, (1, 0.05, 18.0), 2, elapsed_s=15.0) is not None


class ClockProgress(Progress):
    """Advances a fake clock by ``step`` seconds per record, as if each point took that long."""

    def __init__(self, now: list[float], step: float):
        super().__init__(console=Console(file=open(os.devnull, "w")))  # noqa: SIM115
        self.now, self.step = now, step

    def point(self, record):
        self.now[0] += self.step
        super().point(record)


@pytest.mark.parametrize("step", [0.0, 30.0])
def test_the_sweep_gives_each_group_its_plan_plus_what_earlier_groups_saved(tmp_path, monkeypatch, step):
    import json

    monkeypatch.setenv("FAKE_SPEC_DIR", str(tmp_path))
    groups = [spec(o, sizes=(1, 2)) for o in ("eager", "torchscript", "compile")]
    planned = {g.label: 40.0 for g in groups}
    now = [0.0]
    with RunFile(tmp_path / "out.jsonl") as run_file:
        result = run_sweep(
            make_plan(groups, Index()), run_file, ClockProgress(now, step), device_type="cpu",
            time_budget_s=150.0, planned_s=planned, extra_env={"PYTHONPATH": HERE},
            check_supported=lambda *a: None, group_function="fake_group:run_group", clock=lambda: now[0],
        )  # fmt: skip
    limits = [
        json.loads((tmp_path / f"{o}.spec.json").read_text())["time_limit_s"]
        for o in ("eager", "torchscript", "compile")
    ]
    # with no time passing each group may use all but the later groups' plans: 150-80, 150-40, 150
    # with 30 s per point (60 s per group), the overrun comes out of the later groups' slack
    expected = [70.0, 110.0, 150.0] if step == 0 else [70.0, 50.0, 30.0]
    assert limits == expected
    assert [r["status"] for r in result.records] == ["ok"] * 6
    assert result.workers == 1


def test_the_replanner_gives_later_groups_what_a_run_ahead_of_its_estimate_saved():
    order = allocate(suite_groups(), probes(0.09), budget_s=600).groups  # running order, sizes trimmed
    full = [replace(g, batch_sizes=SIZES) for g in order]
    ahead, behind = planner.Replanner(full, probes(0.09)), planner.Replanner(full, probes(0.09))
    for replanner, pace in ((ahead, 0.4), (behind, 2.0)):
        first, _, own, later = replanner.plan_for(full[0], remaining_s=600)
        assert first.label == full[0].label and own > 0 and later > 0
        replanner.finished(first.label, actual_s=own * pace)
    assert ahead.factor == 0.5 and behind.factor == 2.0
    sizes = {
        name: len(r.plan_for(full[6], remaining_s=300)[0].batch_sizes)
        for name, r in (("ahead", ahead), ("behind", behind))
    }
    assert sizes["ahead"] > sizes["behind"]
    unplanned = replace(full[0], model="elsewhere")
    assert ahead.plan_for(unplanned, 100) == (unplanned, (), 0.0, 0.0)
