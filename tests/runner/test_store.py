"""The record store: one file per run, fsync'ed lines, resume index, truncated lines."""

from __future__ import annotations

import json

from scaleboard.record import iter_file, point_key
from scaleboard.runner.spec import GroupSpec, base_record
from scaleboard.runner.store import RunFile, index_records, new_run_id, run_path, slug

DEVICE = {"type": "cpu", "name": "Test CPU", "count": 1, "memory_bytes": 1 << 30}
ENV = {"python": "3.11", "scaleboard": "0.1.0", "os": "Linux", "fingerprint": "f00"}


def spec(**changes) -> GroupSpec:
    fields = dict(
        run_id="r1",
        suite="s",
        machine="m",
        model="tiny-gpt2",
        optimization="eager",
        precision="fp32",
        attention="sdpa",
        threads=1,
        batch_sizes=(1, 2, 3),
        seq_len=8,
        device=DEVICE,
        env=ENV,
    )
    return GroupSpec(**{**fields, **changes})


def record(batch_size: int, **changes) -> dict:
    return {**base_record(spec(), batch_size, "skipped", "test"), **changes}


def test_run_path_layout_and_slug():
    assert slug("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3"
    assert slug("AMD EPYC (2 cores)") == "amd-epyc-2-cores"
    path = run_path("data", "cpu-default", "AMD EPYC (2 cores)", "RID")
    assert str(path) == "data/cpu-default/amd-epyc-2-cores/RID.jsonl"
    assert new_run_id() != new_run_id()


def test_file_is_created_lazily_and_every_line_is_whole(tmp_path):
    path = tmp_path / "s" / "m" / "run.jsonl"
    with RunFile(path) as run_file:
        assert not path.exists()
        for b in (1, 2):
            run_file.append(record(b))
    text = path.read_text()
    assert text.endswith("\n") and len(text.splitlines()) == 2
    assert [json.loads(line)["batch_size"] for line in text.splitlines()] == [1, 2]


def test_index_finds_records_by_point_key_anywhere_under_out(tmp_path):
    with RunFile(tmp_path / "a" / "b" / "r1.jsonl") as run_file:
        run_file.append(record(1))
    with RunFile(tmp_path / "r2.jsonl") as run_file:
        run_file.append(record(2, status="error", reason="boom"))
    index = index_records(tmp_path)
    assert index.files == 2 and not index.problems
    assert index.has(point_key(record(1))) and index.has(point_key(record(2)))
    assert not index.has(point_key(record(3)))
    # Another environment fingerprint is another point.
    assert not index.has(point_key(record(1, env={**ENV, "fingerprint": "other"})))
    assert index_records(tmp_path / "absent").files == 0


def test_truncated_last_line_is_a_warning_and_its_point_is_not_recorded(tmp_path):
    path = tmp_path / "killed.jsonl"
    with RunFile(path) as run_file:
        run_file.append(record(1))
    line = json.dumps(record(2))
    with open(path, "a") as f:
        f.write(line[: len(line) // 2])  # a writer killed mid-line
    index = index_records(tmp_path)
    assert [str(p) for p in index.problems] == [f"{path}:2: truncated last line (interrupted write) ignored"]
    assert index.problems[0].severity == "warning"
    assert index.has(point_key(record(1))) and not index.has(point_key(record(2)))


def test_writer_never_glues_a_record_onto_a_partial_line(tmp_path):
    path = tmp_path / "killed.jsonl"
    with RunFile(path) as run_file:
        run_file.append(record(1))
    with open(path, "a") as f:
        f.write('{"schema": "scaleboard.rec')
    with RunFile(path) as run_file:
        run_file.append(record(2))
    parsed = list(iter_file(path))
    assert [problem for _, _, problem in parsed] == [None, None]
    assert [r["batch_size"] for _, r, _ in parsed] == [1, 2]


def test_bad_lines_are_problems_not_exceptions(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"schema": 1}\nnot json\n')
    index = index_records(tmp_path)
    assert len(index.problems) == 2 and all(p.severity == "error" for p in index.problems)
    assert str(index.problems[1]).startswith(f"{tmp_path / 'bad.jsonl'}:2: not valid JSON")
