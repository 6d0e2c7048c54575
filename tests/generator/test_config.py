"""scaleboard.yaml: defaults, every option checked, errors naming file:line."""

from __future__ import annotations

import pytest

from scaleboard.cli import main
from scaleboard.errors import ConfigError
from scaleboard.generator.config import DEFAULT_NAV, Baseline, load_config, normalize_base_url


def test_defaults_when_the_file_is_absent(tmp_path):
    config = load_config(tmp_path)
    assert config.title == "ScaleBoard"
    assert config.base_url == "/"
    assert config.baseline == Baseline("eager", "fp32", "sdpa")
    assert config.nav == DEFAULT_NAV


def test_every_option_is_read(tmp_path):
    (tmp_path / "scaleboard.yaml").write_text(
        "title: My Bench\nbase_url: repo\nurl: https://u.github.io/repo/\n"
        "baseline: {optimization: compile, precision: bf16}\n"
        "nav:\n  - {title: Home, url: /}\n  - {title: Code, url: https://example.org/}\n"
        "blog: {per_page: 5}\n"
    )
    config = load_config(tmp_path)
    assert (config.title, config.base_url, config.url) == ("My Bench", "/repo/", "https://u.github.io/repo/")
    assert config.baseline == Baseline("compile", "bf16", "sdpa")
    assert [n.title for n in config.nav] == ["Home", "Code"]
    assert config.blog == {"per_page": 5}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title: ok\ncolour: blue\n", "scaleboard.yaml:2: unknown key 'colour'"),
        ("title: [1, 2]\n", "scaleboard.yaml:1: 'title' must be a string"),
        ("\nbaseline: {optimization: magic}\n", "scaleboard.yaml:2: baseline: optimization is 'magic'"),
        ("nav:\n  - {title: Home}\n", "scaleboard.yaml:1: nav item 1 must be a mapping"),
        ("title: x\n  bad: : indent\n", "scaleboard.yaml:2:"),
        ("- just\n- a list\n", "scaleboard.yaml:1: the configuration must be a mapping"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, text, message):
    (tmp_path / "scaleboard.yaml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert message in str(info.value)


def test_all_problems_are_reported_at_once(tmp_path):
    (tmp_path / "scaleboard.yaml").write_text("colour: blue\ntitle: 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "scaleboard.yaml:1:" in str(info.value) and "scaleboard.yaml:2:" in str(info.value)


def test_the_cli_reports_config_errors(tmp_path, capsys):
    (tmp_path / "scaleboard.yaml").write_text("colour: blue\n")
    assert main(["build", "-C", str(tmp_path)]) == 1
    assert "error: scaleboard.yaml:1: unknown key 'colour'" in capsys.readouterr().err


@pytest.mark.parametrize(("given", "expected"), [("", "/"), ("/", "/"), ("repo", "/repo/"), ("/a/b", "/a/b/")])
def test_base_url_is_normalised(given, expected):
    assert normalize_base_url(given) == expected


def test_the_shipped_example_config_loads(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "scaleboard.yaml"
    config = load_config(example.parent)
    assert config.title and config.baseline.optimization == "eager"
