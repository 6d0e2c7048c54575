"""Blog pages: index with excerpts and pagination, posts, tags, pages, drafts."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from blog_fixtures import build_blog, post, text, write

from scaleboard.errors import BuildError, ConfigError
from scaleboard.generator import blog


def titles(html: str) -> list[str]:
    """Post titles in list order (blog index and tag pages)."""
    return re.findall(r'<li class="post-item">\s*<h2><a href="[^"]*">([^<]*)</a>', html)


def test_index_is_newest_first_with_excerpts(tmp_path):
    write(tmp_path, "content/posts/2026-10-01-a.md", post("A", "2026-10-01", "Shown.\n\n<!-- more -->\n\nHidden.\n"))
    write(tmp_path, "content/posts/2026-11-01-b.md", post("B", "2026-11-01", "First paragraph.\n\nSecond.\n"))
    write(tmp_path, "content/posts/2026-10-15-c.md", post("C", "2026-10-15", "Body.\n", summary="The summary."))
    _, _, files = build_blog(tmp_path)
    html = text(files, "blog/index.html")
    assert titles(html) == ["B", "C", "A"]
    assert "Shown." in html and "Hidden." not in html
    assert "First paragraph." in html and "Second." not in html
    assert "The summary." in html and "Body." not in html
    assert 'href="/blog/b/"' in html
    post_a = text(files, "blog/a/index.html")
    assert "Shown." in post_a and "Hidden." in post_a


def test_pagination(tmp_path):
    write(tmp_path, "scaleboard.yaml", "blog:\n  per_page: 2\n")
    for day in range(1, 6):
        write(tmp_path, f"content/posts/2026-11-0{day}-p{day}.md", post(f"P{day}", f"2026-11-0{day}"))
    _, _, files = build_blog(tmp_path)
    assert titles(text(files, "blog/index.html")) == ["P5", "P4"]
    assert titles(text(files, "blog/page/2/index.html")) == ["P3", "P2"]
    last = text(files, "blog/page/3/index.html")
    assert titles(last) == ["P1"]
    assert 'rel="prev" href="/blog/page/2/"' in last and 'rel="next"' not in last
    assert 'rel="next" href="/blog/page/2/"' in text(files, "blog/index.html")
    assert "blog/page/4/index.html" not in files


def test_tag_pages_list_the_right_posts(tmp_path):
    write(tmp_path, "content/posts/2026-11-01-a.md", post("A", "2026-11-01", tags="[gpt2, Compile]"))
    write(tmp_path, "content/posts/2026-11-02-b.md", post("B", "2026-11-02", tags="[gpt2]"))
    write(tmp_path, "content/posts/2026-11-03-c.md", post("C", "2026-11-03", tags="[compile, int8]"))
    write(tmp_path, "content/posts/2026-11-04-d.md", post("D", "2026-11-04"))
    _, _, files = build_blog(tmp_path)
    assert titles(text(files, "tags/gpt2/index.html")) == ["B", "A"]
    assert titles(text(files, "tags/compile/index.html")) == ["C", "A"]  # Compile and compile share a page
    assert titles(text(files, "tags/int8/index.html")) == ["C"]
    index = text(files, "tags/index.html")
    assert re.findall(r'<li><a href="/tags/([^/]*)/">', index) == ["compile", "gpt2", "int8"]
    assert 'href="/tags/gpt2/"' in text(files, "blog/a/index.html")


def test_drafts_and_future_posts_only_with_drafts(tmp_path):
    write(tmp_path, "content/posts/2026-11-01-live.md", post("Live", "2026-11-01", tags="[t]"))
    write(tmp_path, "content/posts/2026-11-02-draft.md", post("Draft", "2026-11-02", draft="true", tags="[t]"))
    write(tmp_path, "content/posts/2027-01-01-later.md", post("Later", "2027-01-01", tags="[t]"))
    _, _, files = build_blog(tmp_path)
    assert titles(text(files, "blog/index.html")) == ["Live"]
    assert titles(text(files, "tags/t/index.html")) == ["Live"]
    assert "blog/draft/index.html" not in files and "blog/later/index.html" not in files
    assert b"Draft" not in files["feed.xml"] and b"Later" not in files["feed.xml"]
    _, _, with_drafts = build_blog(tmp_path, drafts=True)
    assert titles(text(with_drafts, "blog/index.html")) == ["Later", "Draft", "Live"]
    assert 'class="badge">draft' in text(with_drafts, "blog/draft/index.html")


def test_post_page_has_toc_neighbours_and_meta(tmp_path):
    body = "## One\n\nText.\n\n## Two\n\n### Two and a half\n\nMore.\n"
    write(tmp_path, "content/posts/2026-11-01-old.md", post("Old", "2026-11-01"))
    write(tmp_path, "content/posts/2026-11-02-mid.md", post("Mid", "2026-11-02", body, author="Ada Lovelace"))
    write(tmp_path, "content/posts/2026-11-03-new.md", post("New", "2026-11-03"))
    _, _pages, files = build_blog(tmp_path)
    html = text(files, "blog/mid/index.html")
    assert 'class="post-toc"' in html and '<a href="#two-and-a-half">' in html
    assert 'rel="prev" href="/blog/new/"' in html and 'rel="next" href="/blog/old/"' in html
    assert "Ada Lovelace" in html and '<time datetime="2026-11-02">2 November 2026</time>' in html
    assert "<title>Mid · ScaleBoard</title>" in html
    assert 'class="post-toc"' not in text(files, "blog/old/index.html")  # too short for contents


def test_standalone_pages(tmp_path):
    write(tmp_path, "content/pages/about.md", "---\ntitle: About\n---\n# Hello\n\nWho we are.\n")
    _, _, files = build_blog(tmp_path)
    html = text(files, "about/index.html")
    assert "Who we are." in html and "<title>About · ScaleBoard</title>" in html


def test_empty_blog_still_has_its_pages(tmp_path):
    _, _, files = build_blog(tmp_path)
    for name in ("blog/index.html", "tags/index.html", "404.html", "feed.xml", "assets/pygments.css"):
        assert name in files
    assert "No posts yet" in text(files, "blog/index.html")


def test_strict_reports_every_bad_block_of_every_post(tmp_path):
    bad = "Text.\n\n```chart\nmodel: nope\n```\n"
    write(tmp_path, "content/posts/2026-11-01-a.md", post("A", "2026-11-01", bad))
    write(tmp_path, "content/pages/about.md", "---\ntitle: About\n---\n" + bad)
    with pytest.raises(BuildError) as info:
        build_blog(tmp_path, strict=True)
    message = str(info.value)
    assert message.startswith("2 problems in content (--strict):")
    assert "content/posts/2026-11-01-a.md:7: chart block: unknown model 'nope'" in message
    assert "content/pages/about.md:6: chart block: unknown model 'nope'" in message


@pytest.mark.parametrize(("yaml", "message"), [("blog:\n  per_page: 0\n", "'per_page'"), ("blog:\n  x: 1\n", "'x'")])
def test_blog_options_are_checked(tmp_path, yaml, message):
    write(tmp_path, "scaleboard.yaml", yaml)
    with pytest.raises(ConfigError, match=message):
        build_blog(tmp_path)


def test_latest_posts_for_the_index(tmp_path):
    write(tmp_path, "scaleboard.yaml", "base_url: /repo/\n")
    for day in range(1, 4):
        write(tmp_path, f"content/posts/2026-11-0{day}-p{day}.md", post(f"P{day}", f"2026-11-0{day}", summary="S."))
    site, _, _ = build_blog(tmp_path)
    latest = blog.latest_posts(site, 2)
    assert [(p.title, p.url, p.date, p.summary) for p in latest] == [
        ("P3", "/repo/blog/p3/", "2026-11-03", "S."),
        ("P2", "/repo/blog/p2/", "2026-11-02", "S."),
    ]


SAMPLE_CONTENT = Path(__file__).resolve().parents[2] / "content"
SHIPPED_DATA = Path(__file__).resolve().parents[2] / "data"


def test_sample_posts_build_strictly_against_the_shipped_records(tmp_path):
    shutil.copytree(SAMPLE_CONTENT, tmp_path / "content")
    shutil.copytree(SHIPPED_DATA, tmp_path / "data")
    _, _, files = build_blog(tmp_path, strict=True)
    for name in ("blog/exploring-gpt2-part-2/index.html", "blog/how-to-read-a-scalebench-page/index.html"):
        html = text(files, name)
        assert html.count('class="chart-data"') >= 5 and "could not be drawn" not in html
    assert 'class="leaderboard"' in text(files, "blog/exploring-gpt2-part-2/index.html")
    assert "about/index.html" in files


def test_sample_posts_build_without_data(tmp_path):
    shutil.copytree(SAMPLE_CONTENT, tmp_path / "content")
    site, _, files = build_blog(tmp_path)
    assert "could not be drawn" in text(files, "blog/exploring-gpt2-part-2/index.html")
    assert any("chart block: unknown model 'gpt2'" in w for w in site.warnings)
