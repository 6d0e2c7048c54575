"""``scaleboard import packrat``: one record per row, only what packrat measured, every bad input named."""

from __future__ import annotations

import json

import pytest
from importer_fixtures import PACKRAT, PACKRAT_OLDER, PACKRAT_THROUGHPUT

from scaleboard.cli import main
from scaleboard.importers import packrat
from scaleboard.record import data_files, load_records, validate


def test_each_row_becomes_a_record_that_keeps_the_mean_a_mean():
    converted = packrat.convert(PACKRAT)
    assert converted.problems == []
    assert len(converted.records) == 12
    first = converted.records[0]
    assert first["model"] == "gpt2" and first["optimization"] == "torchscript"
    assert (first["threads"], first["batch_size"]) == (1, 1)
    # packrat reports min / avg / max: no median, no percentiles, no raw samples.
    assert first["latency_ms"] == {"mean": 133.3811849722406, "min": 131.88611902296543, "max": 178.55432600481436}
    assert first["samples_ms"] == [] and first["iterations"] is None
    # samples/s is batch / mean latency: the number packrat's own throughput file holds (7.497...).
    assert first["throughput"]["samples_per_s"] == pytest.approx(7.4973093109655675)
    assert first["throughput"]["tokens_per_s"] is None  # no sequence length in the file
    assert (first["precision"], first["attention"], first["seq_len"], first["weights"]) == (None, None, None, None)
    assert first["source"]["tool"] == "packrat"
    assert first["source"]["settings"]["topology"] == "sequential"
    assert first["source"]["settings"]["benchmark"] == "gpt2_manual_script"
    assert all(validate(r)[0] == [] for r in converted.records)


def test_labels_come_from_packrats_folders_and_a_varying_setting_splits_the_suite():
    records = packrat.convert(PACKRAT).records
    assert {r["machine"] for r in records} == {"cloudlab"}
    assert {r["suite"] for r in records} == {"large-batches topology=sequential", "large-batches topology=interleave"}
    assert {r["optimization"] for r in records} == {"torchscript", "eager"}  # _script and _none
    named = packrat.convert(PACKRAT, machine="my box", suite="rev1").records
    assert {r["machine"] for r in named} == {"my box"}
    assert {r["suite"] for r in named} == {"rev1 topology=sequential", "rev1 topology=interleave"}


def test_the_older_column_set_imports_too():
    converted = packrat.convert(PACKRAT_OLDER)
    assert converted.problems == []
    assert {(r["machine"], r["suite"]) for r in converted.records} == {("skylake2x", "cdf1d77")}
    assert "allocator" not in converted.records[0]["source"]["settings"]


def test_a_throughput_file_is_recognised_and_skipped():
    converted = packrat.convert(PACKRAT_THROUGHPUT)
    assert converted.records == [] and converted.problems == []
    assert "throughput file" in converted.notes[0]


def test_the_cli_writes_one_file_per_suite_and_a_second_import_changes_nothing(tmp_path, capsys):
    out = tmp_path / "data"
    assert main(["import", "packrat", str(PACKRAT), str(PACKRAT_THROUGHPUT), "--out", str(out)]) == 0
    files = data_files(out)
    assert len(files) == 2
    loaded = load_records(files)
    assert loaded.problems == [] and len(loaded.records) == 12
    before = {f: f.read_text() for f in files}
    assert main(["import", "packrat", str(PACKRAT), "--out", str(out)]) == 0
    assert "unchanged: 10 records" in capsys.readouterr().out
    assert {f: f.read_text() for f in data_files(out)} == before


HEADER = PACKRAT.read_text().splitlines()[0]
ROW = PACKRAT.read_text().splitlines()[1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + ",colour\n" + ROW + ",red\n", ":1: unknown column(s) 'colour'"),
        (HEADER.replace("latency(avg),", "") + "\n", ":1: missing column(s) 'latency(avg)'"),
        (HEADER + "\n" + ROW.replace("133.3811849722406", "fast") + "\n", ":2: column 'latency(avg)' is 'fast'"),
        (HEADER + "\n" + ROW.replace("gpt2_manual_script", "gpt2_manual_onnx") + "\n", ":2: benchmark 'gpt2_manual_onnx': unknown optimization 'onnx'"),
        (HEADER + "\n" + ROW + "\n" + ROW + "\n", ":3: the same point as line 2"),
        (HEADER + "\n" + ",".join(ROW.split(",")[:5]) + "\n", ":2: 5 cells; the header has 13"),
        ("", ":1: empty file"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_line_exits_1_and_writes_nothing(tmp_path, capsys, copy, text, message):
    bad = copy(PACKRAT, text)
    good = copy(PACKRAT_OLDER)
    out = tmp_path / "data"
    assert main(["import", "packrat", str(good), str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}{message}" in err, err
    assert err.startswith("error: nothing imported")
    assert not out.exists()  # not even the good file's records


def test_a_missing_file_is_named(tmp_path, capsys):
    assert main(["import", "packrat", str(tmp_path / "nope.csv")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_imported_records_load_as_the_site_reads_them(tmp_path):
    out = tmp_path / "data"
    main(["import", "packrat", str(PACKRAT_OLDER), "--out", str(out)])
    line = data_files(out)[0].read_text().splitlines()[0]
    record = json.loads(line)
    assert record["schema"] == "scaleboard.record/3"
    assert list(record)[:3] == ["schema", "run_id", "created_at"]  # the contract's field order
