"""``scaleboard import optimum-benchmark``: real benchmark.json files (0.6 format) as records."""

from __future__ import annotations

import json

import pytest
from importer_fixtures import OPTIMUM_FORWARD, OPTIMUM_GENERATE

from scaleboard.cli import main
from scaleboard.importers import optimum
from scaleboard.record import data_files, validate


def report(path):
    return json.loads(path.read_text())["report"]


def test_a_generate_benchmark_keeps_its_percentiles_samples_and_phases():
    (record,) = optimum.convert(OPTIMUM_GENERATE).records
    source = report(OPTIMUM_GENERATE)
    assert validate(record) == ([], [])
    assert (record["task"], record["batch_size"], record["seq_len"], record["new_tokens"]) == ("generate", 2, 16, 4)
    assert record["latency_ms"]["p50"] == pytest.approx(source["generate"]["latency"]["p50"] * 1000)
    assert record["latency_ms"]["mean"] == pytest.approx(source["generate"]["latency"]["mean"] * 1000)
    values = source["generate"]["latency"]["values"]
    assert record["samples_ms"] == pytest.approx([v * 1000 for v in values])
    assert record["iterations"] == source["generate"]["latency"]["count"]
    generation = record["generation"]
    assert generation["ttft_ms"]["p50"] == pytest.approx(source["prefill"]["latency"]["p50"] * 1000)
    assert generation["per_token_ms"]["p90"] == pytest.approx(source["per_token"]["latency"]["p90"] * 1000)
    assert generation["decode_tokens_per_s"] == pytest.approx(source["decode"]["throughput"]["value"])
    assert record["warmup"]["first_call_s"] == pytest.approx(source["first_generate"]["latency"]["mean"])
    assert record["source"] == {
        "tool": "optimum-benchmark",
        "version": "0.6.0",
        "file": OPTIMUM_GENERATE.name,
        "settings": {"threads": optimum.THREADS_ASSUMED},
    }
    # Throughput from the generate latency: optimum's own generate figure (80.9 "samples/s" here)
    # counts the decoded tokens batch × (new − 1) = 6 per call in per-token tracking mode.
    reported = source["generate"]["throughput"]["value"]
    assert reported == pytest.approx(2 * 3 / source["generate"]["latency"]["mean"])
    assert record["throughput"]["samples_per_s"] == pytest.approx(2 / source["generate"]["latency"]["mean"])
    assert record["throughput"]["tokens_per_s"] == pytest.approx(2 * 4 / source["generate"]["latency"]["mean"])
    # torch_dtype null is transformers' float32; no torch_compile is eager; attention was not set.
    assert (record["precision"], record["optimization"], record["attention"]) == ("fp32", "eager", None)
    assert record["env"]["transformers"] == "4.57.6" and record["env"]["scaleboard"] is None


def test_a_forward_benchmark_reports_samples_per_second_as_measured():
    (record,) = optimum.convert(OPTIMUM_FORWARD).records
    thr = report(OPTIMUM_FORWARD)["forward"]["throughput"]
    assert record["task"] == "forward" and "generation" not in record
    assert record["throughput"]["samples_per_s"] == pytest.approx(thr["value"])
    assert record["throughput"]["tokens_per_s"] == pytest.approx(thr["value"] * 16)  # × sequence length
    assert record["memory"]["peak_rss_bytes"] > 100_000_000  # max_ram, MB of 10^6 bytes
    assert len(record["samples_ms"]) == report(OPTIMUM_FORWARD)["forward"]["latency"]["count"] == 187


def test_raw_values_are_bounded_like_the_runners(tmp_path):
    bad = tmp_path / "benchmark.json"
    bad.write_text(
        edited(OPTIMUM_FORWARD, lambda d: d["report"]["forward"]["latency"].update(values=[0.001] * 500, count=500))
    )
    (record,) = optimum.convert(bad).records
    assert len(record["samples_ms"]) == 200 and record["iterations"] == 500


def edited(path, change) -> str:
    data = json.loads(path.read_text())
    change(data)
    return json.dumps(data, indent=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (edited(OPTIMUM_FORWARD, lambda d: d["config"].pop("backend")), ": config.backend: missing"),
        (edited(OPTIMUM_FORWARD, lambda d: d["config"]["backend"].update(name="onnxruntime")),
         ": config.backend.name: 'onnxruntime'; ScaleBoard records PyTorch backends only"),
        (edited(OPTIMUM_FORWARD, lambda d: d["config"]["backend"].update(quantization_scheme="bnb")),
         ": config.backend.quantization_scheme: 'bnb' has no ScaleBoard optimization"),
        (edited(OPTIMUM_FORWARD, lambda d: d["config"]["backend"].update(torch_dtype="float8_e4m3fn")),
         ": config.backend.torch_dtype: 'float8_e4m3fn' has no ScaleBoard precision"),
        (edited(OPTIMUM_FORWARD, lambda d: d["report"]["forward"]["latency"].update(p50="fast")),
         ": report.forward.latency.p50: expected a number"),
        (edited(OPTIMUM_FORWARD, lambda d: d["config"]["scenario"]["input_shapes"].update(batch_size=0)),
         ": config.scenario.input_shapes.batch_size: 0"),
        (edited(OPTIMUM_FORWARD, lambda d: d.update(report={"load_model": {}})), ": report: no 'forward' or 'generate' target"),
    ],
)  # fmt: skip
def test_bad_input_names_file_and_key_exits_1_and_writes_nothing(tmp_path, capsys, text, message):
    bad = tmp_path / "benchmark.json"
    bad.write_text(text)
    out = tmp_path / "data"
    assert main(["import", "optimum-benchmark", str(OPTIMUM_GENERATE), str(bad), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}{message}" in err, err
    assert not out.exists()


def test_a_truncated_file_names_its_line(tmp_path):
    bad = tmp_path / "benchmark.json"
    bad.write_text(OPTIMUM_FORWARD.read_text()[:300])
    (problem,) = optimum.convert(bad).problems
    assert problem.startswith(f"{bad}:") and "not valid JSON" in problem
    assert problem.split(":")[1].isdigit()


def test_the_cli_imports_both_files_under_the_given_labels(tmp_path):
    out = tmp_path / "data"
    args = ["import", "optimum-benchmark", str(OPTIMUM_GENERATE), str(OPTIMUM_FORWARD), "--out", str(out)]
    assert main([*args, "--machine", "laptop", "--suite", "peer"]) == 0
    files = data_files(out)
    assert len(files) == 2 and all(f.parent.name == "laptop" and f.parent.parent.name == "peer" for f in files)
