"""Fault injection on tiny-gpt2 with the real measurement engine (``SCALEBOARD_FAULT=kind@batch``).

Every test runs ``scaleboard run`` in-process; each group runs in a real child process
that loads tiny-gpt2 and misbehaves at the given batch size.
"""

from __future__ import annotations

import pytest

from scaleboard.cli import main
from scaleboard.record import data_files, load_records

pytestmark = pytest.mark.slow

SUITE = """\
label: fault-test
models: [tiny-gpt2]
optimizations: [eager]
precisions: [fp32]
attention: [sdpa]
batch_sizes: 1-3
seq_len: 8
threads: [1]
budget: {warmup_iterations: 1, min_iterations: 2, max_iterations: 5, min_time_s: 0.01, max_time_s: 0.2,
         point_timeout_s: 10, hard_timeout_s: 120}
"""


def run_with_fault(tmp_path, monkeypatch, capsys, fault: str, *flags: str) -> list[tuple]:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE)
    monkeypatch.setenv("SCALEBOARD_FAULT", fault)
    out_dir = tmp_path / "data"
    assert main(["run", str(suite), "--out", str(out_dir), *flags]) == 0
    capsys.readouterr()
    loaded = load_records(data_files(out_dir))
    assert not loaded.errors
    return [(r["precision"], r["batch_size"], r["status"], r["reason"]) for r in loaded.records]


@pytest.mark.parametrize(("kind", "signal_name"), [("abort", "SIGABRT"), ("segv", "SIGSEGV")])
def test_a_crashing_child_is_an_error_with_its_signal_and_the_next_group_runs(
    tmp_path, monkeypatch, capsys, kind, signal_name
):
    records = run_with_fault(tmp_path, monkeypatch, capsys, f"{kind}@2", "--precisions", "fp32,bf16")
    for precision, offset in (("fp32", 0), ("bf16", 3)):
        group = records[offset : offset + 3]
        assert [(p, b, s) for p, b, s, _ in group] == [
            (precision, 1, "ok"), (precision, 2, "error"), (precision, 3, "skipped"),
        ]  # fmt: skip
        assert group[1][3].startswith(f"child killed by {signal_name}")
        assert group[2][3] == "child crashed at 2"


def test_exit_code_of_a_child_that_exits(tmp_path, monkeypatch, capsys):
    records = run_with_fault(tmp_path, monkeypatch, capsys, "exit@2")
    assert [s for _, _, s, _ in records] == ["ok", "error", "skipped"]
    assert records[1][3].startswith("child exited with code 3")


def test_an_exception_is_an_error_record_and_a_simulated_cuda_oom_ends_the_rise(tmp_path, monkeypatch, capsys):
    records = run_with_fault(tmp_path, monkeypatch, capsys, "raise@1,oom@3", "--batch-sizes", "1-4")
    assert [s for _, _, s, _ in records] == ["error", "ok", "oom", "skipped"]
    assert records[0][3].startswith("RuntimeError: injected fault")
    assert records[3][3] == "oom at 3"


def test_a_point_over_its_time_budget_is_a_timeout_then_skipped(tmp_path, monkeypatch, capsys):
    records = run_with_fault(tmp_path, monkeypatch, capsys, "slow@2", "--point-timeout", "1")
    assert [s for _, _, s, _ in records] == ["ok", "timeout", "skipped"]
    assert records[2][3] == "timeout at 2"


def test_a_hung_child_is_killed_after_the_hard_timeout(tmp_path, monkeypatch, capsys):
    records = run_with_fault(tmp_path, monkeypatch, capsys, "hang@2", "--hard-timeout", "6")
    assert [s for _, _, s, _ in records] == ["ok", "timeout", "skipped"]
    assert records[1][3] == "killed after 6 s without progress"
