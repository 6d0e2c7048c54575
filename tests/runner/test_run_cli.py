"""``scaleboard run`` through ``scaleboard.cli.main``: errors, dry runs, real runs, resume, signals."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scaleboard.cli import main
from scaleboard.record import data_files, load_records, point_key
from scaleboard.runner import cli as runner_cli

TINY = """\
label: cli-test
models: [tiny-gpt2]
optimizations: [eager]
precisions: [fp32]
attention: [sdpa]
batch_sizes: 1-2
seq_len: 8
threads: [1]
budget: {warmup_iterations: 1, min_iterations: 2, max_iterations: 5, min_time_s: 0.01, max_time_s: 0.2,
         point_timeout_s: 10, hard_timeout_s: 120}
"""


@pytest.fixture
def suite_file(tmp_path):
    def write(text: str = TINY, name: str = "suite.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def records_under(path: Path) -> list[dict]:
    loaded = load_records(data_files(path))
    assert not loaded.errors, loaded.errors
    return loaded.records


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("batch_sizes: 1-2", "batchsize: 2"), "suite.yaml:6: unknown key 'batchsize' (did you mean 'batch_sizes'?)"),
        (("batch_sizes: 1-2", "batch_sizes: [0]"), "suite.yaml:6: batch size 0 must be at least 1"),
        (("batch_sizes: 1-2", "batch_sizes: abc"), "suite.yaml:6: 'abc' is not a batch size"),
        (("[eager]", "[eagre]"), "suite.yaml:3: unknown optimization 'eagre' (did you mean 'eager'?)"),
        (("[tiny-gpt2]", "[gpt3]"), "suite.yaml:2: unknown model 'gpt3': not a preset (gpt2, gpt2-medium"),
        (
            ("[tiny-gpt2]", "[tiny-gpt2, tiny-gpt2=gpt2]"),
            "suite.yaml:2: model 'tiny-gpt2=gpt2': the name 'tiny-gpt2' is already given to 'tiny-gpt2'",
        ),
    ],
)
def test_suite_errors_name_file_and_line_and_exit_1(capsys, suite_file, monkeypatch, edit, expected):
    path = suite_file(TINY.replace(*edit))
    monkeypatch.chdir(path.parent)
    code, _, err = run_cli(capsys, "suite.yaml", "--dry-run")
    assert code == 1 and err.startswith(f"error: {expected}")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--batch-sizes", "0"], "error: --batch-sizes: batch size 0 must be at least 1"),
        (["--batch-sizes", "abc"], "error: --batch-sizes: 'abc' is not a batch size"),
        (["--optimizations", "eager,turbo"], "error: --optimizations: unknown optimization 'turbo'"),
        (["--models", "gpt3"], "error: --models: unknown model 'gpt3'"),
        (["--threads", "0"], "error: --threads: thread count 0 must be at least 1"),
        (["--memory-limit", "lots"], "error: --memory-limit: memory limit must be like 85%"),
    ],
)
def test_bad_flags_are_errors(capsys, suite_file, flags, expected):
    code, _, err = run_cli(capsys, str(suite_file()), *flags, "--dry-run")
    assert code == 1 and err.startswith(expected)


def test_every_flag_has_help():
    parser = argparse.ArgumentParser()
    runner_cli.register(parser.add_subparsers())
    run = parser._subparsers._group_actions[0].choices["run"]
    for action in run._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help"


@pytest.fixture
def events(monkeypatch):
    """The order in which ``scaleboard run`` starts its worker, resolves the device and measures."""
    from scaleboard.runner import environment
    from scaleboard.runner.isolate import Worker

    seen: list[str] = []
    real_start, real_run, real_device = Worker.start, Worker.run, environment.resolve_device

    def start(self):
        if self.proc is None:
            seen.append("start")
        real_start(self)

    def run(self, spec, emit):
        seen.append(f"run {spec.label} in {'no process yet' if self.proc is None else self.proc.pid}")
        return real_run(self, spec, emit)

    def resolve_device(name):
        seen.append("device")
        return real_device(name)

    monkeypatch.setattr(Worker, "start", start)
    monkeypatch.setattr(Worker, "run", run)
    monkeypatch.setattr(environment, "resolve_device", resolve_device)
    return seen


def test_dry_run_lists_points_and_writes_nothing(capsys, suite_file, tmp_path, events):
    out_dir = tmp_path / "data"
    code, out, _ = run_cli(
        capsys, str(suite_file()), "--out", str(out_dir), "--batch-sizes", "1-4,8", "--precisions", "fp32,bf16",
        "--dry-run",
    )  # fmt: skip
    assert code == 0
    assert "tiny-gpt2 eager/fp32/sdpa t1" in out and "tiny-gpt2 eager/bf16/sdpa t1" in out
    assert "batch sizes 1-4,8" in out
    assert "10 points to measure in 2 groups" in out and "rough estimate" in out
    assert not out_dir.exists()
    assert events == ["device"]  # no measuring process for a dry run


def test_compact_sizes_and_resume_command():
    assert runner_cli.compact_sizes((1, 2, 3, 4, 8, 16, 17)) == "1-4,8,16-17"
    args = argparse.Namespace(suite="my suite.yaml", quiet=True, force=True, dry_run=False)
    for flag, _, _, _ in runner_cli.OVERRIDES:
        setattr(args, runner_cli._dest(flag), None)
    args.batch_sizes, args.out = "1-4", "data"
    assert runner_cli.resume_command(args) == "scaleboard run 'my suite.yaml' --batch-sizes 1-4 --out data --quiet"


@pytest.mark.slow
def test_a_run_records_every_point_and_a_second_run_resumes(capsys, suite_file, tmp_path, events):
    out_dir = tmp_path / "data"
    code, out, _ = run_cli(capsys, str(suite_file()), "--out", str(out_dir))
    assert code == 0
    # The measuring process is started before the device is resolved (torch imported) in this
    # process, so that both import at once; the first group runs in it.
    assert events[:2] == ["start", "device"] and events[2].startswith("run tiny-gpt2 eager/fp32/sdpa t1 in ")
    assert events[2].split()[-1].isdigit() and len(events) == 3  # in the process started ahead
    assert "1 measuring process(es) started" in out
    records = records_under(out_dir)
    assert [(r["batch_size"], r["status"]) for r in records] == [(1, "ok"), (2, "ok")]
    (path,) = data_files(out_dir)
    assert path.parent.parent.name == "cli-test" and path.name == f"{records[0]['run_id']}.jsonl"
    assert f"2 records written to {path}" in out and "Summary" in out
    assert all(r["isolation"]["load_avg_1m"] is not None for r in records)

    code, out, _ = run_cli(capsys, str(suite_file()), "--out", str(out_dir))
    assert code == 0 and "2 already recorded, 0 to measure" in out and "no new records" in out
    assert len(data_files(out_dir)) == 1
    assert "0 measuring process(es) started" in out  # the one started ahead is killed unused

    code, out, _ = run_cli(capsys, str(suite_file()), "--out", str(out_dir), "--force", "--batch-sizes", "1")
    assert code == 0 and len(records_under(out_dir)) == 3


@pytest.mark.slow
def test_a_local_model_measured_under_a_label_keeps_its_source_in_the_records(capsys, suite_file, tmp_path):
    """--models mini=DIR: the records and the site name the model 'mini', each record says where
    it was loaded from, its weights are the directory's (pretrained), and a second run resumes."""
    from scaleboard.generator.build import build
    from scaleboard.runner import models

    models.load_model("tiny-gpt2", "sdpa", "cpu").model.save_pretrained(tmp_path / "checkpoints" / "step-500")
    source = str(tmp_path / "checkpoints" / "step-500")
    out_dir = tmp_path / "data"
    argv = (str(suite_file()), "--models", f"mini={source}", "--out", str(out_dir))
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0
    records = records_under(out_dir)
    assert [(r["model"], r["model_source"], r["weights"], r["status"]) for r in records] == [
        ("mini", source, "pretrained", "ok")] * 2  # fmt: skip
    code, out, _ = run_cli(capsys, *argv)
    assert code == 0 and "2 already recorded, 0 to measure" in out
    build(tmp_path)
    assert (tmp_path / "site" / "models" / "mini" / "index.html").is_file()
    assert source not in (tmp_path / "site" / "index.html").read_text()
    csv_header = (tmp_path / "site" / "data" / "records.csv").read_text().splitlines()[0].split(",")
    assert csv_header[2:4] == ["model", "model_source"]


@pytest.mark.slow
def test_sigint_keeps_finished_records_and_prints_how_to_resume(suite_file, tmp_path):
    out_dir = tmp_path / "data"
    suite = suite_file(TINY.replace("batch_sizes: 1-2", "batch_sizes: 1-3"))
    command = [sys.executable, "-m", "scaleboard", "run", str(suite), "--out", str(out_dir), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SCALEBOARD_FAULT": "hang@2"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_records(out_dir, 1, proc)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, output
    assert "SIGINT: abandoning the current point" in output
    resume = f"scaleboard run {suite} --out {out_dir} --quiet"
    assert f"resume with:\n  {resume}" in output
    assert [(r["batch_size"], r["status"]) for r in records_under(out_dir)] == [(1, "ok")]

    env.pop("SCALEBOARD_FAULT")
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    records = records_under(out_dir)
    assert sorted(r["batch_size"] for r in records) == [1, 2, 3]
    assert len({point_key(r) for r in records}) == 3


def _wait_for_records(out_dir: Path, count: int, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended early: {proc.stdout.read()}")
        lines = [line for path in data_files(out_dir) for line in path.read_text().splitlines() if line]
        if len(lines) >= count:
            json.loads(lines[-1])
            return
        time.sleep(0.2)
    raise AssertionError(f"no {count} records after {timeout_s} s")


@pytest.mark.slow
def test_sigkill_mid_sweep_then_resume_gives_every_point_exactly_once(suite_file, tmp_path):
    out_dir = tmp_path / "data"
    suite = suite_file(TINY.replace("batch_sizes: 1-2", "batch_sizes: 1-4").replace("[fp32]", "[fp32, bf16]"))
    command = [sys.executable, "-m", "scaleboard", "run", str(suite), "--out", str(out_dir), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for_records(out_dir, 2, proc)
    proc.kill()  # SIGKILL: no handler runs, no cleanup
    proc.wait()
    killed = records_under(out_dir)
    assert 2 <= len(killed) < 8
    assert not _children_of(proc.pid), "a measuring child outlived the killed runner"

    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    records = records_under(out_dir)
    points = [(r["precision"], r["batch_size"]) for r in records]
    assert sorted(points) == sorted((p, b) for p in ("fp32", "bf16") for b in (1, 2, 3, 4))
    assert len({point_key(r) for r in records}) == len(records) == 8
    assert all(r["status"] == "ok" for r in records)


def _children_of(parent_pid: int) -> list[int]:
    """Measuring children started by ``parent_pid`` that are still alive (not zombies)."""
    import psutil

    marker = f"--parent-pid {parent_pid}"
    for _ in range(25):  # PR_SET_PDEATHSIG is immediate; allow for process teardown
        alive = []
        for proc in psutil.process_iter(["pid", "cmdline", "status"]):
            cmdline = " ".join(proc.info["cmdline"] or [])
            if (
                "scaleboard.runner.child" in cmdline
                and marker in cmdline
                and proc.info["status"] != psutil.STATUS_ZOMBIE
            ):
                alive.append(proc.info["pid"])
        if not alive:
            return []
        time.sleep(0.2)
    return alive


@pytest.mark.slow
def test_the_documented_sweep_records_every_point(capsys, suite_file, tmp_path):
    """``scaleboard run --models tiny-gpt2 --optimizations eager,torchscript,compile --precisions fp32,bf16
    --batch-sizes 1-4 --threads 1,2``: every one of its 48 points gets a valid ``ok`` record.
    The suite file only shortens seq_len and the timing budgets (compile dominates the time)."""
    out_dir = tmp_path / "data"
    flags = ["--models", "tiny-gpt2", "--optimizations", "eager,torchscript,compile", "--precisions", "fp32,bf16"]
    flags += ["--batch-sizes", "1-4", "--threads", "1,2"]
    code, out, _ = run_cli(capsys, str(suite_file()), "--out", str(out_dir), *flags)
    assert code == 0, out
    records = records_under(out_dir)
    points = {(r["optimization"], r["precision"], r["threads"], r["batch_size"]) for r in records}
    expected = {(o, p, t, b) for o in ("eager", "torchscript", "compile") for p in ("fp32", "bf16") for t in (1, 2)
                for b in range(1, 5)}  # fmt: skip
    assert points == expected and len(records) == 48
    assert [r for r in records if r["status"] != "ok"] == []
    assert all(r["quality"]["ok"] for r in records)


@pytest.mark.slow
def test_a_time_budget_plans_measures_what_fits_and_records_the_rest_as_budget(capsys, suite_file, tmp_path, events):
    out_dir = tmp_path / "data"
    sizes = "1,2,4,8,16,32,64,128,256,512,1024"
    common = (str(suite_file()), "--out", str(out_dir), "--batch-sizes", sizes, "--threads", "1,2")

    code, out, _ = run_cli(capsys, *common, "--time-budget", "25s", "--dry-run")
    assert code == 0 and not out_dir.exists()
    assert events[:2] == ["start", "device"]  # a planned dry run probes: its worker starts first
    assert "probing tiny-gpt2 fp32 at batch 1 on 2 threads" in out
    assert "tiny-gpt2 eager/fp32/sdpa t2" in out.split("tiny-gpt2 eager/fp32/sdpa t1")[0]  # most threads first
    assert "plan: " in out and "of the" in out and "left in the time budget" in out

    started = time.monotonic()
    code, out, _ = run_cli(capsys, *common, "--time-budget", "25s")
    # the budget is a hard stop; the slack is for importing torch and collecting the environment here
    assert code == 0 and time.monotonic() - started < 25 + 60
    records = records_under(out_dir)
    assert len(records) == 22 and {r["status"] for r in records} <= {"ok", "budget"}
    # How many sizes fit depends on this machine's speed (the planner's choice is tested on a
    # fake clock in test_planner.py); what does not: each thread count's measured sizes are the
    # smallest ones, a curve without holes, and the largest thread count gets at least one.
    all_sizes = [int(b) for b in sizes.split(",")]
    for threads in (1, 2):
        ok = sorted(r["batch_size"] for r in records if r["status"] == "ok" and r["threads"] == threads)
        assert ok == all_sizes[: len(ok)]
    assert any(r["status"] == "ok" and r["threads"] == 2 for r in records)
    left = [r for r in records if r["status"] == "budget"]
    assert all(r["reason"].startswith("not measured (budget)") for r in left)
    assert "estimate" in out and "actual" in out and "measuring" in out
    assert ("not measured (budget), recorded as such" in out) == bool(left)
    (summary,) = out_dir.rglob("*.run.json")
    data = json.loads(summary.read_text())
    assert data["time_budget_s"] == 25 and 0 < data["measuring_share"] <= 1 and data["workers_started"] == 1

    # The points not measured are measured by a later run with more time, nothing else again.
    code, out, _ = run_cli(capsys, *common, "--time-budget", "none", "--batch-sizes", "1,2,4,8,16,32,64")
    assert code == 0
    newest = {point_key(r): r for r in sorted(records_under(out_dir), key=lambda r: r["created_at"])}
    assert len(records_under(out_dir)) == len(records) + sum(1 for r in left if r["batch_size"] <= 64)
    assert all(r["status"] == "ok" for r in newest.values() if r["batch_size"] <= 64)


def test_repeats_measure_every_point_in_a_fresh_process_per_pass_and_resume(capsys, suite_file, tmp_path, events):
    out_dir = tmp_path / "data"
    common = (str(suite_file()), "--out", str(out_dir), "--batch-sizes", "1,2", "--threads", "1", "--repeats", "2")
    code, out, _ = run_cli(capsys, *common, "--time-budget", "none")
    assert code == 0, out
    # Pass 1 in the process started ahead (never used, so fresh), pass 2 in a new one.
    runs = [e for e in events if e.startswith("run ")]
    assert len(runs) == 2 and runs[0].split()[-1].isdigit() and runs[1].endswith("no process yet"), events
    records = records_under(out_dir)
    assert sorted((r["repeat"], r["batch_size"]) for r in records) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert {r["status"] for r in records} == {"ok"}
    # pass after pass: every point of pass 1 before any of pass 2
    assert [r["repeat"] for r in sorted(records, key=lambda r: r["created_at"])] == [1, 1, 2, 2]
    (summary,) = out_dir.rglob("*.run.json")
    assert json.loads(summary.read_text())["workers_started"] == 2  # one measuring process per pass
    code, out, _ = run_cli(capsys, *common, "--time-budget", "none")  # both passes are recorded: nothing to do
    assert code == 0 and len(records_under(out_dir)) == 4
