"""A command that needs a missing optional library stops with one line naming the extra (exit 2)."""

from __future__ import annotations

import importlib.util

import pytest

from scaleboard import extras
from scaleboard.cli import main


def test_run_without_the_runner_extra_names_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert main(["run", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: scaleboard run needs PyTorch and transformers: pip install 'scaleboard[runner]' "
        "(not installed: torch)\n"
    )


def test_run_on_ray_without_the_ray_extra_names_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    assert main(["run", "--executor", "ray", "--dry-run"]) == 2
    assert capsys.readouterr().err == (
        "error: scaleboard run --executor ray needs Ray: pip install 'scaleboard[ray]' (not installed: ray)\n"
    )


def test_an_optional_library_missing_mid_command_is_a_message_not_a_traceback(monkeypatch, capsys):
    def needs_ray(args):
        raise ModuleNotFoundError("No module named 'ray'", name="ray")

    monkeypatch.setattr("scaleboard.generator.cli.run_validate", needs_ray)
    assert main(["validate"]) == 2
    assert (
        capsys.readouterr().err
        == "error: scaleboard validate needs Ray: pip install 'scaleboard[ray]' (not installed: ray)\n"
    )


def test_a_missing_module_that_is_no_optional_library_is_a_real_bug(monkeypatch):
    def broken(args):
        raise ModuleNotFoundError("No module named 'scaleboard.nothing'", name="scaleboard.nothing")

    monkeypatch.setattr("scaleboard.generator.cli.run_validate", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["validate"])


def test_the_message_names_every_extra_needed():
    text = extras.message("serve", "things", ["torch", "ray"])
    assert "pip install 'scaleboard[ray]' 'scaleboard[runner]'" in text
