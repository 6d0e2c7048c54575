"""`scaleboard build` / `validate` on the command line: help text, options, messages."""

from __future__ import annotations

import subprocess
import sys

import pytest
from site_fixtures import make_project

from scaleboard.cli import build_parser, main


@pytest.mark.parametrize("command", ["build", "validate"])
def test_every_option_has_help(command):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    assert sub.description
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"{command} {action.option_strings} has no help"


def test_build_options(tmp_path, capsys):
    root = make_project(tmp_path)
    assert main(["build", "-C", str(root), "--out", str(tmp_path / "public"), "--base-url", "/repo/"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("built ") and "public" in out
    assert 'href="/repo/leaderboard/"' in (tmp_path / "public" / "index.html").read_text()
    assert not (root / "site").exists()


def test_build_reads_out_dir_and_base_url_from_the_config(tmp_path):
    root = make_project(tmp_path, config="out_dir: public\nbase_url: /bench/\n")
    assert main(["build", "-C", str(root)]) == 0
    assert 'href="/bench/compare/"' in (root / "public" / "index.html").read_text()


def test_site_url_makes_feed_and_sitemap_links_absolute(tmp_path):
    root = make_project(tmp_path, config="url: https://wrong.example\n")
    argv = ["build", "-C", str(root), "--base-url", "/repo/", "--site-url", "https://me.github.io/"]
    assert main(argv) == 0
    sitemap = (root / "site" / "sitemap.xml").read_text()
    assert "<loc>https://me.github.io/repo/leaderboard/</loc>" in sitemap
    assert "wrong.example" not in sitemap + (root / "site" / "feed.xml").read_text()


def test_build_uses_the_cpus_it_may_run_on_unless_told(tmp_path, monkeypatch):
    import sys

    from scaleboard.generator import build as build_module
    from scaleboard.generator.cli_options import default_jobs

    root = make_project(tmp_path)
    asked = []
    real = build_module.build
    monkeypatch.setattr(build_module, "build", lambda *a, **kw: asked.append(kw["jobs"]) or real(*a, **kw))
    assert main(["build", "-C", str(root)]) == 0
    assert main(["build", "-C", str(root), "-j", "1"]) == 0
    assert asked == [default_jobs(), 1]
    if sys.platform == "linux":
        import os

        assert default_jobs() == len(os.sched_getaffinity(0))
    monkeypatch.setattr(sys, "platform", "darwin")
    assert default_jobs() == 1  # fork is not safe beside macOS system frameworks


def _program(*argv: str) -> subprocess.CompletedProcess[str]:
    """The ``scaleboard`` program (``python -m scaleboard``) in its own process, output piped."""
    return subprocess.run([sys.executable, "-m", "scaleboard", *argv], capture_output=True, text=True, timeout=120)


def test_the_program_ends_quickly_after_a_build_with_every_line_it_printed(tmp_path):
    root = make_project(tmp_path)
    done = _program("build", "-C", str(root), "-j", "1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("built ") and done.stdout.endswith(" s\n")  # flushed before the quick exit
    assert (root / "site" / "index.html").exists() and not list(tmp_path.glob(".site-*"))
    checked = _program("validate", "-C", str(root))
    assert checked.returncode == 0 and checked.stdout.startswith("ok: "), checked.stderr


def test_the_program_exits_with_the_code_and_message_of_a_failed_build(tmp_path):
    root = make_project(tmp_path)
    (root / "data" / "bad.jsonl").write_text("{not json\n")
    done = _program("build", "-C", str(root))
    assert done.returncode == 1
    assert "bad.jsonl:1" in done.stderr and "not valid JSON" in done.stderr
    assert not (root / "site").exists()


def test_a_reader_that_stops_reading_ends_the_program_without_a_traceback(tmp_path):
    """``scaleboard build | head -0``: the site is built, the line about it goes nowhere."""
    root = make_project(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-m", "scaleboard", "build", "-C", str(root), "-j", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child.stdout.close()  # before the build prints anything: its one line meets a closed pipe
    stderr = child.stderr.read()
    assert child.wait(timeout=120) == 1
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert (root / "site" / "index.html").exists()


def test_a_project_directory_that_does_not_exist_is_an_error_and_is_not_made(tmp_path):
    missing = tmp_path / "no-such-project"
    done = _program("build", "-C", str(missing))
    assert done.returncode == 1
    assert done.stderr == f"error: {missing}: no such project directory\n"
    assert not missing.exists()
    (tmp_path / "a-file").write_text("")
    checked = _program("validate", "-C", str(tmp_path / "a-file"))
    assert checked.returncode == 1 and "a-file: not a directory" in checked.stderr
    served = _program("serve", "-C", str(missing), "--port", "0")  # refused before it listens
    assert served.returncode == 1 and served.stderr == f"error: {missing}: no such project directory\n"


def test_main_returns_after_a_build_in_the_calling_process(tmp_path, capsys):
    """Only the program ends the process; ``main`` called from Python returns its code."""
    root = make_project(tmp_path)
    assert main(["validate", "-C", str(root)]) == 0
    assert main(["build", "-C", str(root), "-j", "1"]) == 0
    assert capsys.readouterr().out.count("\n") == 2
