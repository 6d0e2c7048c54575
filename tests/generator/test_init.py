"""``scaleboard init``: a project that builds on its own, the Pages workflow, no overwriting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from scaleboard.cli import main
from scaleboard.errors import ScaleboardError
from scaleboard.generator.build import build
from scaleboard.generator.init import init_project, install_command, pages_workflow

REPO = Path(__file__).resolve().parents[2]
PACKRAT = REPO / "tests/importers/fixtures/packrat-older/skylake2x/cdf1d77/gpt2_latency.csv"
TODAY = dt.date(2026, 11, 24)


def test_init_writes_the_project_and_says_what_next(tmp_path, capsys):
    assert main(["init", str(tmp_path / "bench")]) == 0
    out = capsys.readouterr().out
    root = tmp_path / "bench"
    for name in ("scaleboard.yaml", "data/.gitkeep", ".gitignore", ".github/workflows/pages.yml"):
        assert (root / name).is_file(), name
        assert f"created {root / name}" in out
    (post,) = (root / "content/posts").glob("*-first-results.md")
    assert "```chart" in post.read_text()
    assert "title: Bench benchmarks" in (root / "scaleboard.yaml").read_text()
    assert "site/" in (root / ".gitignore").read_text()
    assert "scaleboard run --models gpt2" in out and "GitHub Actions" in out


def test_the_scaffolded_workflow_is_this_repositorys_with_the_release_installed():
    ours = (REPO / ".github/workflows/pages.yml").read_text()
    assert pages_workflow("python -m pip install .") == ours
    assert install_command("0.2.0") == 'python -m pip install "scaleboard==0.2.0"'
    assert install_command("0.0.0+unknown") == 'python -m pip install "scaleboard"'
    assert "torch" not in install_command("0.2.0")


def test_init_refuses_to_overwrite_and_writes_nothing_then(tmp_path):
    (tmp_path / "scaleboard.yaml").write_text("title: mine\n")
    with pytest.raises(ScaleboardError, match="already has scaleboard.yaml; nothing written"):
        init_project(tmp_path, today=TODAY)
    assert not (tmp_path / "content").exists()
    assert (tmp_path / "scaleboard.yaml").read_text() == "title: mine\n"


def test_force_replaces(tmp_path):
    (tmp_path / "scaleboard.yaml").write_text("title: mine\n")
    written = dict(init_project(tmp_path, title="Ours", force=True, today=TODAY))
    assert written[tmp_path / "scaleboard.yaml"] == "replaced"
    assert "title: Ours" in (tmp_path / "scaleboard.yaml").read_text()


def test_a_new_project_builds_before_and_after_it_has_records(tmp_path):
    init_project(tmp_path, today=TODAY)
    empty = build(tmp_path)  # no records yet: the post's chart says so, the build does not fail
    assert any("chart block" in w for w in empty.warnings)
    assert main(["import", "packrat", str(PACKRAT), "--out", str(tmp_path / "data")]) == 0
    result = build(tmp_path, strict=True)
    post = (tmp_path / "site/blog/first-results/index.html").read_text()
    assert 'class="chart' in post and "chart-data" in post
    assert (tmp_path / "site/models/gpt2/skylake2x/cdf1d77/index.html").is_file()
    assert result.pages > 5
