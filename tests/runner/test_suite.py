"""Suites: parsing, every validation error naming file:line, the embedded defaults."""

from __future__ import annotations

import os

import pytest

from scaleboard.errors import ConfigError
from scaleboard.runner.spec import Budget
from scaleboard.runner.suite import (
    KEYS,
    default_suite,
    load_suite,
    memory_limit_bytes,
    parse_batch_sizes,
    parse_duration_s,
    parse_memory_limit,
    parse_suite,
    parse_threads,
)

GOOD = """\
label: test
models: [tiny-gpt2]
optimizations: [eager, compile]
precisions: [fp32, bf16]
attention: [sdpa]
batch_sizes: 1-4,8
seq_len: 16
threads: [1, 2]
budget:
  min_time_s: 0.1
  point_timeout_s: 5
"""


def errors_of(text: str, name: str = "suite.yaml") -> str:
    with pytest.raises(ConfigError) as info:
        parse_suite(text, name)
    return str(info.value)


def test_a_good_suite_parses_with_budget_defaults_kept():
    suite = parse_suite(GOOD, "suite.yaml")
    assert suite.models == ("tiny-gpt2",)
    assert suite.batch_sizes == (1, 2, 3, 4, 8)
    assert suite.threads == (1, 2)
    assert suite.budget.min_time_s == 0.1
    assert suite.budget.point_timeout_s == 5
    assert suite.budget.max_iterations == Budget().max_iterations


def test_unknown_key_names_line_and_suggests():
    message = errors_of(GOOD + "batchsize: 4\n")
    assert message == "suite.yaml:12: unknown key 'batchsize' (did you mean 'batch_sizes'?)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[1, 0, 4]", "suite.yaml:6: batch size 0 must be at least 1"),
        ("abc", "suite.yaml:6: 'abc' is not a batch size"),
        ("8-4", "suite.yaml:6: batch size range 8-4 is empty"),
    ],
)
def test_bad_batch_sizes(value, expected):
    assert errors_of(GOOD.replace("batch_sizes: 1-4,8", f"batch_sizes: {value}")).startswith(expected)


def test_each_bad_list_item_reports_its_own_line():
    text = GOOD.replace("batch_sizes: 1-4,8", "batch_sizes:\n  - 1\n  - 0\n  - abc")
    message = errors_of(text)
    assert "suite.yaml:8: batch size 0 must be at least 1" in message
    assert "suite.yaml:9: 'abc' is not a batch size" in message


def test_unknown_optimization_lists_the_valid_ones():
    message = errors_of(GOOD.replace("[eager, compile]", "[eager, compil]"))
    assert message.startswith("suite.yaml:3: unknown optimization 'compil' (did you mean 'compile'?)")
    assert "eager, torchscript, compile, compile-reduce-overhead, compile-max-autotune" in message


def test_unknown_precision_and_attention():
    message = errors_of(GOOD.replace("[fp32, bf16]", "[fp32, int4]").replace("[sdpa]", "[flash]"))
    assert "suite.yaml:4: unknown precision 'int4'" in message
    assert "suite.yaml:5: unknown attention 'flash'" in message


def test_unknown_model_lists_presets():
    message = errors_of(GOOD.replace("[tiny-gpt2]", "[no-such-model-xyz]"))
    assert message.startswith("suite.yaml:2: unknown model 'no-such-model-xyz'")
    assert "gpt2-medium" in message and "tiny-gpt2" in message


def test_all_problems_are_reported_at_once():
    text = GOOD.replace("seq_len: 16", "seq_len: 0").replace("[1, 2]", "[1, x]") + "colour: red\n"
    message = errors_of(text)
    assert message.startswith("3 problems in suite.yaml:")
    assert "suite.yaml:7: seq_len must be at least 1, got 0" in message
    assert "suite.yaml:8: 'x' is not a thread count" in message
    assert "suite.yaml:12: unknown key 'colour'" in message


def test_bad_budget_values():
    message = errors_of(
        GOOD.replace("min_time_s: 0.1", "min_time: 0.1").replace("point_timeout_s: 5", "point_timeout_s: -1")
    )
    assert "suite.yaml:10: unknown budget key 'min_time' (did you mean 'min_time_s'?)" in message
    assert "suite.yaml:11: budget point_timeout_s must be a positive number of seconds, got -1" in message


def test_missing_keys_invalid_yaml_and_generate_without_new_tokens():
    assert "missing key 'models'" in errors_of("label: x\n")
    assert errors_of("label: [x\n").startswith("suite.yaml:2: not valid YAML")
    assert "task 'generate' needs new_tokens" in errors_of(GOOD + "task: generate\n")
    assert errors_of("- a\n- b\n") == "suite.yaml:1: a suite must be a mapping of keys to values"


def test_load_suite_names_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD + "batchsize: 1\n")
    with pytest.raises(ConfigError, match=r"mine\.yaml:12: unknown key 'batchsize'"):
        load_suite(path)
    with pytest.raises(ConfigError, match="cannot read suite file"):
        load_suite(tmp_path / "absent.yaml")


def test_embedded_defaults_follow_the_design():
    cpu = default_suite("cpu")
    assert cpu.label == "cpu-default" and cpu.models == ("distilgpt2",) and cpu.seq_len == 32
    assert cpu.optimizations == ("eager", "torchscript", "compile")
    assert cpu.precisions == ("fp32", "bf16", "int8-dynamic")
    assert cpu.threads[0] == 1 and cpu.batch_sizes == tuple(2**i for i in range(11))
    assert cpu.time_budget_s == 390 and cpu.adaptive  # planned to fit; the planner may shorten it
    assert cpu.budget.point_timeout_s == 60  # a real limit, not the plan's tool
    cuda = default_suite("cuda")
    assert cuda.label == "cuda-default" and cuda.time_budget_s == 1800 and cuda.adaptive
    assert cuda.batch_sizes == (*range(1, 33), 64, 128, 256, 512, 1024)
    assert set(cuda.attention) == {"sdpa", "eager"} and len(cuda.threads) == 1
    assert {"compile-reduce-overhead", "compile-max-autotune"} <= set(cuda.optimizations)
    assert {"tf32", "fp16", "amp-fp16", "amp-bf16"} <= set(cuda.precisions)


def test_cpu_default_leaves_bf16_out_without_native_bf16():
    assert default_suite("cpu", native_bf16=False).precisions == ("fp32", "int8-dynamic")
    assert "bf16" in default_suite("cpu", native_bf16=None).precisions  # unknown CPU: keep it
    assert "bf16" in default_suite("cuda", native_bf16=False).precisions


def test_run_says_why_bf16_is_left_out(monkeypatch, capsys):
    from scaleboard.cli import main
    from scaleboard.runner import environment

    monkeypatch.setattr(environment, "cpu_has_native_bf16", lambda: False)
    assert main(["run", "--device", "cpu", "--models", "tiny-gpt2", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "no native bf16" in captured.err
    assert "bf16 " not in captured.out.replace("int8", "")


def test_value_parsers():
    assert parse_batch_sizes("1-3,64,2") == (1, 2, 3, 64)
    assert parse_batch_sizes([4, "1-2"]) == (1, 2, 4)
    assert parse_threads("auto", cores=6) == (1, 2, 4, 6)
    assert parse_threads("auto", cores=2) == (1, 2)
    assert parse_threads("max", cores=6) == (6,)
    assert parse_threads("2,1") == (2, 1)
    assert parse_duration_s("10m", "x") == 600 and parse_duration_s(90, "x") == 90
    with pytest.raises(ValueError, match="duration"):
        parse_duration_s("soon", "x")
    assert memory_limit_bytes(parse_memory_limit("50%"), 1000) == 500
    assert memory_limit_bytes(parse_memory_limit("2G"), 0) == 2 << 30
    assert memory_limit_bytes(parse_memory_limit("512MiB"), 0) == 512 << 20
    assert parse_memory_limit("none") is None and parse_memory_limit(4096) == 4096
    with pytest.raises(ValueError, match="memory limit"):
        parse_memory_limit("lots")


def test_keys_are_documented_in_the_default_suite_or_design():
    # Every key a suite accepts is also a Suite field; the time budget is a duration stored in seconds.
    fields = {"label", *parse_suite(GOOD, "s").__dataclass_fields__, "time_budget", "run_budget_s"}
    assert set(KEYS) <= fields


def test_the_time_budget_key_takes_a_duration_or_none_and_the_older_name_still_works():
    assert parse_suite(GOOD + "time_budget: 10m\n", "s").time_budget_s == 600
    assert parse_suite(GOOD + "run_budget_s: 90\n", "s").time_budget_s == 90
    assert parse_suite(GOOD + "time_budget: none\n", "s").time_budget_s is None
    with pytest.raises(ConfigError, match="time_budget must be a duration"):
        parse_suite(GOOD + "time_budget: soon\n", "s")


def test_embedded_defaults_load_in_a_process_outside_the_checkout(tmp_path):
    # `python -m pytest` puts the checkout on sys.path, where a top-level `runner` package exists;
    # an installed scaleboard has only `scaleboard.runner`, so look the suites up from elsewhere.
    import subprocess
    import sys

    code = "from scaleboard.runner.suite import default_suite as d; print(d('cpu', True).label, d('cuda', True).label)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [default_suite("cpu", True).label, default_suite("cuda", True).label]
