"""feed.xml (Atom), sitemap.xml and 404.html: parseable, absolute, deterministic."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from blog_fixtures import build_blog, post, text, write

from scaleboard.generator import feed
from scaleboard.generator.site import Page

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITE = "https://user.github.io/repo/"


@pytest.fixture
def project(tmp_path):
    write(tmp_path, "scaleboard.yaml", f"title: Bench\nurl: {SITE}\nbase_url: /repo/\n")
    write(tmp_path, "content/posts/2026-10-01-older.md", post("Older", "2026-10-01", "Old.\n", tags="[gpt2]"))
    write(tmp_path, "content/posts/2026-11-01-newer.md", post("Newer & better", "2026-11-01", "New.\n", author="Ada"))
    write(tmp_path, "content/pages/about.md", "---\ntitle: About\n---\nAbout us.\n")
    return tmp_path


def test_feed_is_atom_with_absolute_links(project):
    site, _, files = build_blog(project)
    root = ET.fromstring(files["feed.xml"])
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == "Bench"
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == ["Newer & better", "Older"]
    assert entries[0].find(f"{ATOM}link").get("href") == SITE + "blog/newer/"
    assert entries[0].find(f"{ATOM}author/{ATOM}name").text == "Ada"
    assert entries[1].find(f"{ATOM}category").get("term") == "gpt2"
    assert root.find(f"{ATOM}updated").text.startswith("2026-11-01T00:00:00")
    links = [el.get("href") for el in root.iter(f"{ATOM}link")] + [el.text for el in root.iter(f"{ATOM}id")]
    assert links and all(link.startswith(SITE) for link in links), links
    assert not any("url" in w for w in site.warnings)


def test_feed_is_deterministic(project):
    first = build_blog(project)[2]["feed.xml"]
    assert build_blog(project)[2]["feed.xml"] == first


def test_feed_without_url_warns_and_stays_valid(tmp_path):
    write(tmp_path, "content/posts/2026-11-01-x.md", post("X"))
    site, _, files = build_blog(tmp_path)
    root = ET.fromstring(files["feed.xml"])
    assert root.find(f"{ATOM}entry/{ATOM}link").get("href") == "http://localhost/blog/x/"
    assert any("'url' is not set" in w for w in site.warnings)


@pytest.mark.parametrize(
    ("url", "base_url", "expected"),
    [
        ("https://u.github.io/repo/", "/repo/", "https://u.github.io/repo/"),
        ("https://u.github.io", "/repo/", "https://u.github.io/repo/"),
        ("https://u.github.io/repo", "/", "https://u.github.io/repo/"),
        ("https://example.org/", "/", "https://example.org/"),
        ("", "/", "http://localhost/"),
    ],
)
def test_site_root(url, base_url, expected):
    assert feed.site_root(url, base_url) == expected


def test_sitemap_lists_every_page(project):
    site, pages, _ = build_blog(project)
    others = [Page("", body=""), Page("models/gpt2/cpu/default/", body=""), Page("data/x.csv", body="")]
    body = feed.sitemap_page(site, [*others, *pages]).body
    root = ET.fromstring(body)
    locs = {u.find(f"{SITEMAP}loc").text: u.find(f"{SITEMAP}lastmod") for u in root.findall(f"{SITEMAP}url")}
    for path in (
        "",
        "models/gpt2/cpu/default/",
        "blog/",
        "blog/newer/",
        "blog/older/",
        "about/",
        "tags/",
        "tags/gpt2/",
    ):
        assert SITE + path in locs, path
    assert SITE + "404.html" not in locs and SITE + "data/x.csv" not in locs
    assert locs[SITE + "blog/newer/"].text == "2026-11-01"


def test_404_links_are_absolute_under_the_base_url(project):
    _, _, files = build_blog(project)
    html = text(files, "404.html")
    refs = re.findall(r'(?:href|src|data-plotly)="([^"]*)"', html)
    assert refs and all(r.startswith("/repo/") for r in refs), refs
    assert "/repo/assets/style.css" in refs and "/repo/blog/newer/" in refs


def test_feed_item_dates_are_midnight_utc():
    body = feed.atom_feed(
        [feed.FeedItem("T", "blog/t/", dt.date(2026, 1, 2))], root=SITE, title="S", subtitle="", author="A"
    )
    assert b"<published>2026-01-02T00:00:00+00:00</published>" in body
