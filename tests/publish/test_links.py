"""Every internal href/src of a built site resolves under the subpath GitHub Pages serves it at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scaleboard.generator import linkcheck
from scaleboard.generator.build import build
from scaleboard.generator.linkcheck import BrokenLink, check_site, links_of

BASE_URL = "/scaleboard/"
SITE_URL = "https://example.github.io"


def internal_links(site: Path) -> list[str]:
    urls = []
    for file in site.rglob("*"):
        if file.suffix in (".html", ".css", ".xml"):
            links, _ = links_of(file)
            urls.extend(link.url for link in links if not linkcheck.EXTERNAL.match(link.url) or SITE_URL in link.url)
    return urls


def test_every_internal_link_resolves_under_the_subpath(published_site):
    assert check_site(published_site, BASE_URL, site_url=SITE_URL) == []
    urls = internal_links(published_site)
    # Not a vacuous pass: pages, assets, data downloads, fragments, feed and sitemap links were all checked.
    assert len(urls) > 100
    for expected in ("/scaleboard/assets/style.css", "/scaleboard/assets/plotly.min.js", "/scaleboard/leaderboard/"):
        assert expected in urls
    assert any(u.startswith("#") or "/#" in u for u in urls)
    assert any(u.startswith(SITE_URL + BASE_URL) for u in urls), "the feed's absolute links were not checked"


def test_links_in_posts_get_the_base_url(published_site):
    post = (published_site / "blog" / "links" / "index.html").read_text()
    assert 'href="/scaleboard/leaderboard/"' in post


def test_a_site_built_for_the_root_breaks_under_a_subpath(project, tmp_path):
    build(project, out=tmp_path / "site", base_url="/")
    problems = check_site(tmp_path / "site", BASE_URL)
    assert problems, "a site built for / was reported fine under /scaleboard/"
    assert all("outside /scaleboard/" in p.reason for p in problems)
    assert any(p.url == "/assets/style.css" for p in problems)


@pytest.fixture
def site_copy(published_site, tmp_path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(published_site, copy)
    return copy


def add_to_body(page: Path, html: str) -> int:
    """Insert ``html`` on its own line after ``<body ...>``; returns that line number."""
    lines = page.read_text().split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith("<body"))
    lines.insert(index + 1, html)
    page.write_text("\n".join(lines))
    return index + 2


def test_broken_links_are_reported_with_page_line_and_reason(site_copy):
    page = site_copy / "leaderboard" / "index.html"
    line = add_to_body(
        page,
        '<a href="/scaleboard/nope/">x</a><img src="../assets/missing.png" alt="">'
        '<a href="/leaderboard/">y</a><a href="#no-such-id">z</a><a href="../blog/#nothing">w</a>'
        '<a href="https://example.org/elsewhere/">fine</a><a href="mailto:x@example.org">fine</a>',
    )
    problems = check_site(site_copy, BASE_URL)
    assert [(p.page, p.line, p.attribute, p.url) for p in problems] == [
        ("leaderboard/index.html", line, "href", "/scaleboard/nope/"),
        ("leaderboard/index.html", line, "src", "../assets/missing.png"),
        ("leaderboard/index.html", line, "href", "/leaderboard/"),
        ("leaderboard/index.html", line, "href", "#no-such-id"),
        ("leaderboard/index.html", line, "href", "../blog/#nothing"),
    ]
    reasons = [p.reason for p in problems]
    assert reasons[0] == "no such file nope/index.html"
    assert reasons[1] == "no such file assets/missing.png"
    assert reasons[2] == "outside /scaleboard/ (the site is served under it)"
    assert reasons[3] == "no element with id 'no-such-id'"
    assert str(problems[0]) == f"leaderboard/index.html:{line}: href '/scaleboard/nope/': no such file nope/index.html"


def test_fragments_can_be_left_unchecked(site_copy):
    add_to_body(site_copy / "index.html", '<a href="#nowhere">x</a>')
    assert len(check_site(site_copy, BASE_URL)) == 1
    assert check_site(site_copy, BASE_URL, fragments=False) == []


def test_a_broken_link_in_the_feed_or_a_stylesheet_is_reported(site_copy):
    feed = site_copy / "feed.xml"
    feed.write_text(feed.read_text().replace(f"{SITE_URL}{BASE_URL}blog/links/", f"{SITE_URL}{BASE_URL}blog/gone/"))
    (site_copy / "assets" / "extra.css").write_text("body {\n  background: url('../img/none.png');\n}\n")
    problems = check_site(site_copy, BASE_URL, site_url=SITE_URL + BASE_URL)
    assert {(p.page, p.url) for p in problems} >= {
        ("feed.xml", f"{SITE_URL}{BASE_URL}blog/gone/"),
        ("assets/extra.css", "../img/none.png"),
    }
    assert all(p.page in ("feed.xml", "assets/extra.css") for p in problems)


def test_relative_links_resolve_against_the_page_url(tmp_path):
    site = tmp_path / "site"
    (site / "a" / "b").mkdir(parents=True)
    (site / "x.css").write_text("")
    (site / "index.html").write_text('<a href="a/b/">down</a><a href="a/b">no slash</a><a href="x.css?v=1">q</a>')
    (site / "a" / "b" / "index.html").write_text(
        '<p id="top"></p><a href="../../">up</a><a href="../../x.css">css</a><a href="./#top">self</a>'
        '<a href="../../../../">above the root</a>'
    )
    problems = check_site(site, "/repo/")
    assert [(p.page, p.url) for p in problems] == [("a/b/index.html", "../../../../")]
    assert problems[0].reason.startswith("outside /repo/")


def test_check_site_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such site directory"):
        check_site(tmp_path / "nothing")


def test_command_line_exit_status_and_report(site_copy, capsys):
    assert linkcheck.main([str(site_copy), "--base-url", BASE_URL]) == 0
    assert "every internal link resolves" in capsys.readouterr().err
    add_to_body(site_copy / "index.html", '<a href="/scaleboard/missing/">x</a>')
    assert linkcheck.main([str(site_copy), "--base-url", BASE_URL]) == 1
    captured = capsys.readouterr()
    assert "index.html:" in captured.out and "'/scaleboard/missing/'" in captured.out
    assert "1 broken link(s)" in captured.err


def test_broken_link_sorts_by_page_then_line():
    a = BrokenLink("a.html", 9, "href", "x", "r")
    b = BrokenLink("b.html", 1, "href", "x", "r")
    assert sorted([b, a]) == [a, b]
