"""The record contract: round trip and every validation error, with file:line."""

from __future__ import annotations

import copy
import json

import pytest

from scaleboard import record as rec
from scaleboard.record import RecordError


def make(**overrides) -> dict:
    base = {
        "schema": rec.SCHEMA,
        "run_id": "r1",
        "created_at": "2026-11-23T01:02:03Z",
        "suite": "default",
        "machine": "test-box",
        "model": "tiny-gpt2",
        "weights": "random",
        "params": 180480,
        "family": "causal-lm",
        "input": {"kind": "tokens", "shape": [16]},
        "task": "forward",
        "seq_len": 16,
        "new_tokens": None,
        "optimization": "eager",
        "precision": "fp32",
        "attention": "sdpa",
        "threads": 1,
        "batch_size": 2,
        "device": {"type": "cpu", "name": "cpu", "count": 1, "memory_bytes": 1 << 30},
        "env": {"python": "3.11.7", "scaleboard": "0.1.0", "os": "Linux", "fingerprint": "abc"},
        "status": "ok",
        "reason": None,
        "latency_ms": dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), 1.5),
        "samples_ms": [1.5, 1.5],
        "iterations": 2,
        "throughput": {"samples_per_s": 1333.3, "tokens_per_s": 21333.3},
        "memory": {"peak_rss_bytes": 1000},
        "warmup": {"first_call_s": 0.1},
        "quality": None,
        "energy": None,
        "compute": None,
        "source": {"tool": "scaleboard", "version": "0.1.0"},
    }
    base.update(overrides)
    return base


def test_round_trip_is_lossless():
    original = make(quality={"reference": "eager/fp32", "max_abs_diff": 0.0, "next_token_agreement": 1.0, "ok": True})
    line = rec.dumps(original)
    assert "\n" not in line
    parsed, warnings = rec.loads(line)
    assert parsed == original
    assert warnings == []


def _without(field: str) -> dict:
    record = make()
    del record[field]
    return record


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_without("batch_size"), "missing field 'batch_size'"),
        (make(batch_size="8"), "field 'batch_size' must be an integer"),
        (make(batch_size=True), "field 'batch_size' must be an integer"),
        (make(batch_size=0), "field 'batch_size' must be at least 1"),
        (make(threads=None), "field 'threads' must not be null"),
        (make(status="fine"), "field 'status' is 'fine'; expected one of ok"),
        (make(precision="fp8"), "field 'precision' is 'fp8'"),
        (make(optimization="magic"), "field 'optimization' is 'magic'"),
        (make(weights="some"), "field 'weights' is 'some'"),
        (make(task="pretrain"), "field 'task' is 'pretrain'"),
        (make(schema="scaleboard.record/99"), "this version reads 'scaleboard.record/1' or 'scaleboard.record/2'"),
        (make(created_at="yesterday"), "expected ISO-8601 UTC"),
        (make(device={"type": "tpu", "name": "x", "count": 1}), "field 'device.type' is 'tpu'"),
        (make(device={"name": "x", "count": 1}), "missing field 'device.type'"),
        (make(latency_ms=None), "field 'latency_ms' must not be null when status is 'ok'"),
        (make(latency_ms={"p90": 1.0}), "field 'latency_ms' needs 'p50' or 'mean' when status is 'ok'"),
        (_without("source"), "missing field 'source'"),
        (make(source={"version": "1"}), "missing field 'source.tool'"),
        (make(throughput={"samples_per_s": "fast", "tokens_per_s": 1.0}), "field 'throughput.samples_per_s' must be"),
        (make(samples_ms=[]), "field 'samples_ms' must not be empty"),
        (make(samples_ms=["x"]), "field 'samples_ms' must hold numbers only"),
        (make(samples_ms=[1.0] * (rec.MAX_SAMPLES + 1)), "at most"),
        (make(status="oom", reason=None, latency_ms=None), "field 'reason' must say why"),
        (make(quality={"max_abs_diff": 0.1}), "missing field 'quality.reference'"),
        (make(quality={"reference": "x", "ok": "yes"}), "field 'quality.ok' must be true/false"),
        (make(memory={"peak_rss_bytes": float("nan")}), "field 'memory.peak_rss_bytes' must be"),
        ([1, 2], "a record must be a JSON object"),
    ],
)
def test_each_validation_error_is_named(record, message):
    errors, _ = rec.validate(record)
    assert any(message in e for e in errors), errors
    with pytest.raises(RecordError, match="data/x.jsonl:17: "):
        rec.loads(json.dumps(record), "data/x.jsonl", 17)


def test_failed_point_needs_no_measurement():
    record = make(
        status="oom", reason="CUDA out of memory at batch 512", latency_ms=None, throughput=None, samples_ms=[]
    )
    assert rec.validate(record) == ([], [])


def test_unknown_field_is_a_warning_not_an_error():
    errors, warnings = rec.validate(make(colour="blue"))
    assert errors == []
    assert warnings == ["unknown field 'colour'"]


def test_dumps_refuses_an_invalid_record():
    with pytest.raises(RecordError, match="missing field 'batch_size'"):
        rec.dumps(_without("batch_size"))


def test_bad_json_names_file_and_line():
    with pytest.raises(RecordError, match=r"^data/x.jsonl:3: not valid JSON"):
        rec.loads("{nope", "data/x.jsonl", 3)


def test_load_records_reports_problems_with_relative_paths(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = rec.dumps(make())
    (data / "a.jsonl").write_text(good + "\n\n" + json.dumps(_without("model")) + "\n")
    (data / "b.jsonl").write_text(good + "\n" + good[:40])  # killed mid-write
    loaded = rec.load_records(rec.data_files(data), root=tmp_path)
    assert len(loaded.records) == 2
    assert [str(p) for p in loaded.errors] == ["data/a.jsonl:3: missing field 'model'"]
    assert [str(p) for p in loaded.warnings] == ["data/b.jsonl:2: truncated last line (interrupted write) ignored"]


def test_a_bad_last_line_that_ends_in_newline_is_an_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(rec.dumps(make())[:40] + "\n")
    loaded = rec.load_records([path], root=tmp_path)
    assert [p.severity for p in loaded.problems] == ["error"]


def test_point_key_separates_configurations_and_environments():
    a = make()
    b = copy.deepcopy(a)
    assert rec.point_key(a) == rec.point_key(b)
    b["env"]["fingerprint"] = "other"
    assert rec.point_key(a) != rec.point_key(b)
    assert rec.point_key(a) != rec.point_key(make(batch_size=4))


def test_config_name():
    assert rec.config_name(make(optimization="compile", precision="bf16")) == "compile · bf16 · sdpa"


def test_record_module_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, scaleboard.record, scaleboard.cli; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_version_1_record_is_read_and_upgraded():
    old = make(schema=rec.SCHEMA_V1)
    del old["source"]
    parsed, warnings = rec.loads(json.dumps(old))
    assert warnings == []
    assert parsed["schema"] == rec.SCHEMA
    assert parsed["source"] == {"tool": "scaleboard", "version": "0.1.0"}


def test_version_2_records_are_upgraded_to_what_they_measured():
    own = make(schema=rec.SCHEMA_V2)
    del own["family"], own["input"]
    parsed, warnings = rec.loads(json.dumps(own))
    assert warnings == [] and parsed["schema"] == rec.SCHEMA
    assert parsed["family"] == "causal-lm" and parsed["input"] == {"kind": "tokens", "shape": [16]}
    imported = {**own, "source": {"tool": "packrat", "version": None}}
    parsed, _ = rec.loads(json.dumps(imported))
    assert "family" not in parsed and "input" not in parsed  # its source did not say


def test_an_image_record_has_no_sequence_length_and_no_tokens_per_second():
    image = make(family="image-classification", input={"kind": "pixels", "shape": [3, 224, 224]}, seq_len=None,
                 attention=None, throughput={"samples_per_s": 10.0, "tokens_per_s": None})  # fmt: skip
    assert rec.validate(image) == ([], [])
    errors, _ = rec.validate({**image, "seq_len": 128})
    assert errors == ["field 'seq_len' must be null for an image input"]
    errors, _ = rec.validate(make(input={"kind": "tokens", "shape": [32]}))
    assert errors == ["field 'input.shape' is [32]; a token input's is [seq_len]"]
    errors, _ = rec.validate(make(input={"kind": "audio", "shape": [16]}))
    assert errors == ["field 'input.kind' is 'audio'; expected one of tokens, pixels"]


def test_an_imported_record_keeps_only_what_its_source_measured():
    # packrat reports min / mean / max per batch call and no raw samples: that is a valid record.
    imported = make(
        latency_ms={"mean": 133.4, "min": 131.9, "max": 178.6},
        samples_ms=[],
        iterations=None,
        weights=None,
        seq_len=None,
        precision=None,
        attention=None,
        env={"fingerprint": "packrat:abc"},
        source={"tool": "packrat", "version": None, "file": "gpt2_latency.csv", "settings": {"topology": "sequential"}},
    )
    parsed, _ = rec.loads(rec.dumps(imported))
    assert rec.headline_latency(parsed["latency_ms"]) == (133.4, "mean")
    assert rec.config_name(parsed) == "eager"


def test_the_headline_latency_prefers_the_median():
    assert rec.headline_latency({"p50": 2.0, "mean": 3.0}) == (2.0, "median")
    assert rec.headline_latency({"p50": None, "mean": 3.0}) == (3.0, "mean")
    assert rec.headline_latency(None) == (None, None)


def test_a_scaleboard_record_without_samples_is_still_rejected():
    errors, _ = rec.validate(make(samples_ms=[]))
    assert "field 'samples_ms' must not be empty when status is 'ok'" in errors


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (make(latency_ms={"p50": 1.5, "mean": 1.5}), "field 'latency_ms' of a record measured by ScaleBoard lacks p90"),
        (make(throughput={"samples_per_s": 1.0, "tokens_per_s": None}), "lacks tokens_per_s"),
        (make(precision=None), "field 'precision' must not be null in a record measured by ScaleBoard"),
        (make(iterations=None), "field 'iterations' must not be null in a record measured by ScaleBoard"),
        (make(env={"fingerprint": "abc"}), "field 'env.python' must not be null in a record measured by ScaleBoard"),
    ],
)
def test_a_record_measured_by_scaleboard_keeps_every_field_version_1_required(record, message):
    errors, _ = rec.validate(record)
    assert any(message in e for e in errors), errors
    imported = {**record, "source": {"tool": "packrat"}, "samples_ms": []}
    assert rec.validate(imported)[0] == []


def test_the_straight_line_field_check_passes_only_what_the_field_loop_passes():
    """validate() trusts _fields_ok on the common path: it must never pass a record in which
    the worded loop (_field_errors) finds a type, null or allowed-value error."""
    import math
    import random

    from scaleboard.generator import synthetic

    base = synthetic.make_record()
    odd = [None, 1, 1.5, True, False, "x", [], {}, [1], {"a": 1}, math.inf, -math.inf, math.nan, 0, -1, "ok", "cpu"]
    rng = random.Random(3)
    passed = failed = 0
    for _ in range(4000):
        r = copy.deepcopy(base)
        for _ in range(rng.randint(1, 3)):
            name = rng.choice([*rec.FIELDS, "extra"])
            spec = rec.FIELDS.get(name)
            if spec and spec.keys and isinstance(r.get(name), dict) and rng.random() < 0.5:
                key = rng.choice([*spec.keys, "zz"])
                if rng.random() < 0.2:
                    r[name].pop(key, None)
                else:
                    r[name][key] = rng.choice(odd)
            elif rng.random() < 0.15:
                r.pop(name, None)
            else:
                r[name] = rng.choice(odd)
        record = rec.upgrade(r)
        if rec._fields_ok(record):
            passed += 1
            assert rec._field_errors(record) == rec._check_semantics(record), r
        else:
            failed += 1
            assert rec._field_errors(record), r  # never stricter than the loop on JSON types
    assert passed > 100 and failed > 1000  # both paths were exercised
    assert rec._fields_ok(base) and rec.validate(base) == ([], [])


@pytest.mark.parametrize(
    "values",
    [
        [],
        [1.5, 2, 3.25],
        [float("nan")],
        [1.0, float("inf")],
        [float("-inf"), float("inf")],  # a NaN sum
        [1e308, 1e308],  # each finite, the sum is not
        [10**400, 1.0],  # an int no float holds
        [True, 1.0],
        ["1.0"],
        [None],
        [type("Int", (int,), {})(3)],
    ],
)
def test_the_fast_sample_check_agrees_with_the_field_check(values):
    assert rec._all_numbers(values) == all(rec._type_ok(v, rec._NUM) for v in values)
