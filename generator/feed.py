"""``/feed.xml`` (Atom, via feedgen) and ``/sitemap.xml``: absolute URLs, deterministic bytes.

Links are absolute, made from the configured site ``url`` and ``base_url``
(feed readers and search engines resolve nothing). Times come from post dates,
never from the clock, so the same content gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from feedgen.feed import FeedGenerator

#: Used when ``url`` is not configured, so the files stay valid; the build warns.
FALLBACK_URL = "http://localhost/"
#: The feed's ``updated`` when there are no posts yet (a fixed time keeps output stable).
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True)
class FeedItem:
    """One post as the feed shows it. ``path`` is site-relative, e.g. ``blog/my-post/``."""

    title: str
    path: str
    date: dt.date
    summary: str | None = None
    content_html: str | None = None
    author: str | None = None
    tags: tuple[str, ...] = ()


def site_root(url: str, base_url: str) -> str:
    """The absolute address of the site's root, ending in ``/``.

    ``url`` gives scheme and host; the path is ``base_url`` unless that is ``/``,
    in which case the path of ``url`` is kept (``https://u.github.io/repo/`` alone works).
    """
    parts = urlsplit(url or FALLBACK_URL)
    if not parts.scheme or not parts.netloc:
        parts = urlsplit(FALLBACK_URL)
    path = base_url if base_url not in ("", "/") else (parts.path or "/")
    path = "/" + path.strip("/") + "/" if path.strip("/") else "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def absolute(root: str, path: str) -> str:
    """``root`` + a site-relative ``path`` (a leading ``/`` is ignored)."""
    return root + path.lstrip("/")


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def atom_feed(
    items: Iterable[FeedItem], *, root: str, title: str, subtitle: str, author: str, feed_path: str = "feed.xml"
) -> bytes:
    """The Atom feed of ``items`` (given newest first) as UTF-8 bytes."""
    items = list(items)
    fg = FeedGenerator()
    fg.id(root)
    fg.title(title)
    fg.subtitle(subtitle or title)
    fg.author({"name": author})
    fg.link(href=root, rel="alternate")
    fg.link(href=absolute(root, feed_path), rel="self")
    fg.language("en")
    fg.updated(max((_midnight(i.date) for i in items), default=EPOCH))
    for item in items:
        entry = fg.add_entry(order="append")
        url = absolute(root, item.path)
        entry.id(url)
        entry.title(item.title)
        entry.link(href=url, rel="alternate")
        entry.published(_midnight(item.date))
        entry.updated(_midnight(item.date))
        if item.author:
            entry.author({"name": item.author})
        for tag in item.tags:
            entry.category(term=tag)
        if item.summary:
            entry.summary(item.summary)
        if item.content_html:
            entry.content(item.content_html, type="html")
    body: bytes = fg.atom_str(pretty=True)
    return body


def sitemap(paths: Iterable[str], *, root: str, lastmod: dict[str, dt.date] | None = None) -> bytes:
    """A sitemap (sitemaps.org 0.9) listing every page path, sorted."""
    lastmod = lastmod or {}
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for path in sorted(set(paths)):
        entry = f"  <url><loc>{escape(absolute(root, path))}</loc>"
        if path in lastmod:
            entry += f"<lastmod>{lastmod[path].isoformat()}</lastmod>"
        lines.append(entry + "</url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def sitemap_paths(output_paths: Iterable[str]) -> list[str]:
    """The page URLs among written files: ``blog/x/index.html`` → ``blog/x/``; no 404, no assets."""
    pages = []
    for path in output_paths:
        path = path.lstrip("/")
        if path == "index.html":
            pages.append("")
        elif path.endswith("/index.html"):
            pages.append(path[: -len("index.html")])
        elif path.endswith(".html") and path != "404.html":
            pages.append(path)
    return sorted(pages)


def sitemap_page(site: Any, pages: Iterable[Any]) -> Any:
    """``sitemap.xml`` for every HTML page among ``pages`` (the build's whole list)."""
    from scaleboard.generator.site import Page

    files = [p.file for p in pages]
    lastmod = {
        p.path: p.context["entry"].doc.date
        for p in pages
        if p.template == "post.html" and "entry" in p.context and p.context["entry"].doc.date
    }
    root = site_root(site.config.url, site.config.base_url)
    return Page("sitemap.xml", body=sitemap(sitemap_paths(files), root=root, lastmod=lastmod))
