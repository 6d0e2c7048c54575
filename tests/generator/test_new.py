"""``scaleboard new post``: the scaffolded post loads, builds and draws its example chart."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from blog_fixtures import TODAY, build_blog, text, write_records

from scaleboard.cli import main
from scaleboard.errors import ScaleboardError
from scaleboard.generator.content import load_content
from scaleboard.generator.scaffold import new_post


def test_new_post_builds_and_draws_its_chart(tmp_path):
    write_records(tmp_path)
    path = new_post("Exploring GPT-2: Part 2", tmp_path / "content", data_dir=tmp_path / "data", today=TODAY)
    assert path == tmp_path / "content" / "posts" / "2026-11-23-exploring-gpt-2-part-2.md"
    (doc,) = load_content(tmp_path / "content", today=TODAY).posts
    assert (doc.title, doc.date, doc.slug) == ("Exploring GPT-2: Part 2", TODAY, "exploring-gpt-2-part-2")
    _site, _, files = build_blog(tmp_path, strict=True)
    html = text(files, "blog/exploring-gpt-2-part-2/index.html")
    blobs = re.findall(r'class="chart-data">(.*?)</script>', html, re.S)
    assert blobs and json.loads(blobs[0])[""]["data"], "the example chart draws the records"
    assert "could not be drawn" not in html


def test_example_chart_uses_the_most_measured_model(tmp_path):
    write_records(tmp_path)
    path = new_post("X", tmp_path / "content", data_dir=tmp_path / "data", today=TODAY)
    assert "model: gpt2" in path.read_text()
    empty = new_post("Y", tmp_path / "other", data_dir=tmp_path / "no-data", today=TODAY)
    assert "model: gpt2" in empty.read_text()


def test_new_post_never_overwrites(tmp_path):
    path = new_post("Same", tmp_path, today=TODAY)
    path.write_text("edited")
    with pytest.raises(ScaleboardError, match="already exists"):
        new_post("Same", tmp_path, today=TODAY)
    assert path.read_text() == "edited"


def test_title_needs_letters(tmp_path):
    with pytest.raises(ScaleboardError, match="cannot make a file name"):
        new_post("???", tmp_path)


def test_cli_new_post(tmp_path, capsys):
    assert main(["new", "post", "Hello world", "-C", str(tmp_path)]) == 0
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert (tmp_path / "content" / "posts" / f"{today}-hello-world.md").is_file()
    assert "created" in capsys.readouterr().out
    assert main(["new", "post", "Hello world", "-C", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
