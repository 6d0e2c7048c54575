"""The blog side of the site: posts, the blog index, tags, standalone pages, feed and 404.

``pages(site)`` returns every page; the build renders and writes them with the rest.

==========================  ===============================================================
``blog/``                   newest first, with excerpts; ``blog/page/2/`` ... when long
``blog/<slug>/``            one post
``tags/``, ``tags/<tag>/``  every tag; the posts of one tag
``<slug>/``                 a page from ``content/pages/``
``feed.xml``                Atom feed, absolute links (see :mod:`scaleboard.generator.feed`)
``404.html``                links and styles with absolute paths: works at any depth
``assets/pygments.css``     the code highlighting stylesheet
==========================  ===============================================================

Options under ``blog:`` in scaleboard.yaml: ``per_page`` (posts per index page, 10),
``author`` (the feed's author, default the site title) and ``toc_min_headings``
(headings a post needs before it gets a table of contents, 3).

Each document is rendered once. Problems in its ``chart`` / ``leaderboard`` blocks
are warnings of the build (and warning boxes in the page), or with ``--strict``
errors collected over every document and raised together.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, TypedDict

from markupsafe import Markup

from scaleboard.errors import BuildError, ConfigError
from scaleboard.generator import embeds, feed
from scaleboard.generator.content import Content, Document, tag_slug
from scaleboard.generator.markdown_ext import pygments_css, render
from scaleboard.generator.site import Page

#: Posts per blog index page unless ``blog: {per_page: N}`` in scaleboard.yaml.
PER_PAGE = 10
BLOG_OPTIONS = ("per_page", "author", "toc_min_headings")
#: A table of contents only helps a post with a few sections.
TOC_MIN_HEADINGS = 3
#: Reading speed for the "N min read" line (a common estimate for technical prose).
WORDS_PER_MINUTE = 200

_MORE = re.compile(r"^\s*<!--\s*more\s*-->\s*$", re.MULTILINE | re.IGNORECASE)
_FIRST_PARAGRAPH = re.compile(r"<p>.*?</p>", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Entry:
    """A rendered post or page, as every template and the feed see it."""

    doc: Document
    path: str  # site-relative URL path, e.g. blog/my-post/
    html: Markup
    excerpt: Markup
    toc: Markup | None
    minutes: int
    tags: tuple[tuple[str, str], ...]  # (tag, tags/<slug>/)


class EntryContext(TypedDict):
    """What ``page.html`` shows: a standalone page."""

    entry: Entry


class PostContext(TypedDict):
    """What ``post.html`` shows: a post and its neighbours in date order."""

    entry: Entry
    newer: Entry | None
    older: Entry | None


class Pager(TypedDict):
    number: int
    count: int
    newer: str | None  # the path of the page of newer posts
    older: str | None


class ListContext(TypedDict):
    """What ``blog.html`` shows: one page of the post list."""

    entries: list[Entry]
    pager: Pager


class TagContext(TypedDict):
    """What ``tag.html`` shows."""

    tag: str
    entries: list[Entry]


class TagsContext(TypedDict):
    """What ``tags.html`` shows: (tag, path, its posts) by tag."""

    tags: list[tuple[str, str, list[Entry]]]


class NotFoundContext(TypedDict):
    """What ``404.html`` shows: the newest posts."""

    latest: list[Entry]


def pages(site: Any) -> list[Page]:
    """Every page of the blog side (empty blog pages when ``content/`` is absent)."""
    options = blog_options(site.config.blog)
    content: Content = site.content or Content()
    errors: list[str] = []  # --strict: every document's problems, reported together
    posts = [_entry(site, doc, f"blog/{doc.slug}/", options, errors) for doc in content.posts]
    standalone = [_entry(site, doc, f"{doc.slug}/", options, errors) for doc in content.pages]
    if errors:
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        raise BuildError(f"{count} in content (--strict):\n" + "\n".join(errors))
    found = _index_pages(posts, options["per_page"])
    found += [_post_page(posts, i) for i in range(len(posts))]
    found += _tag_pages(posts)
    found += [Page(e.path, "page.html", EntryContext(entry=e), title=e.doc.title) for e in standalone]
    found.append(Page("404.html", "404.html", NotFoundContext(latest=posts[:5]), title="Page not found"))
    found.append(Page("feed.xml", body=atom(site, posts, options)))
    found.append(Page("assets/pygments.css", body=pygments_css()))
    return found


@dataclass(frozen=True)
class PostLink:
    """A post as other pages link to it (the index's "latest posts")."""

    title: str
    url: str  # with the base URL, ready for href
    date: str  # YYYY-MM-DD
    summary: str | None


def latest_posts(site: Any, limit: int = 5) -> list[PostLink]:
    """The newest published posts (drafts too when building with --drafts); nothing rendered."""
    posts = site.content.posts if site.content is not None else []
    return [PostLink(p.title, site.url(f"blog/{p.slug}/"), p.date.isoformat(), p.summary) for p in posts[:limit]]


def blog_options(raw: dict[str, Any]) -> dict[str, Any]:
    """The ``blog:`` options of scaleboard.yaml, checked."""
    unknown = [k for k in raw if k not in BLOG_OPTIONS]
    if unknown:
        raise ConfigError(f"scaleboard.yaml: blog: unknown key '{unknown[0]}' (known: {', '.join(BLOG_OPTIONS)})")
    options = {"per_page": PER_PAGE, "author": None, "toc_min_headings": TOC_MIN_HEADINGS, **raw}
    for key in ("per_page", "toc_min_headings"):
        value = options[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"scaleboard.yaml: blog: '{key}' must be a whole number of at least 1, got {value!r}")
    if options["author"] is not None and not isinstance(options["author"], str):
        raise ConfigError("scaleboard.yaml: blog: 'author' must be a string")
    return options


def _entry(site: Any, doc: Document, path: str, options: dict[str, Any], errors: list[str]) -> Entry:
    key = f"{doc.kind}-{doc.slug}"
    result = render(
        doc.body,
        source=doc.source,
        first_line=doc.body_line,
        handler=embeds.make_handler(site, key),
        strict=site.strict,
        base_url=site.config.base_url,
    )
    site.warnings.extend(str(p) for p in result.warnings)
    errors.extend(str(p) for p in result.errors)
    toc = Markup(result.toc_html) if result.headings >= options["toc_min_headings"] else None
    words = len(_TAGS.sub(" ", result.html).split())
    tags = tuple((tag, f"tags/{tag_slug(tag)}/") for tag in doc.tags)
    html = Markup(result.html)
    return Entry(doc, path, html, excerpt(html, doc.summary), toc, max(1, math.ceil(words / WORDS_PER_MINUTE)), tags)


def excerpt(html: str, summary: str | None) -> Markup:
    """The HTML before ``<!-- more -->``; else the summary; else the first paragraph."""
    parts = _MORE.split(html, maxsplit=1)
    if len(parts) == 2:
        return Markup(parts[0].strip())
    if summary:
        return Markup("<p>{}</p>").format(summary)
    first = _FIRST_PARAGRAPH.search(html)
    return Markup(first.group(0) if first else "")


def _index_pages(posts: list[Entry], per_page: int) -> list[Page]:
    chunks = [posts[i : i + per_page] for i in range(0, len(posts), per_page)] or [[]]
    paths = ["blog/"] + [f"blog/page/{n}/" for n in range(2, len(chunks) + 1)]
    found = []
    for n, (chunk, path) in enumerate(zip(chunks, paths, strict=True), start=1):
        pager: Pager = {
            "number": n,
            "count": len(chunks),
            "newer": paths[n - 2] if n > 1 else None,
            "older": paths[n] if n < len(chunks) else None,
        }
        title = "Blog" if n == 1 else f"Blog, page {n}"
        found.append(Page(path, "blog.html", ListContext(entries=chunk, pager=pager), title=title))
    return found


def _post_page(posts: list[Entry], i: int) -> Page:
    context: PostContext = {
        "entry": posts[i],
        "newer": posts[i - 1] if i > 0 else None,
        "older": posts[i + 1] if i + 1 < len(posts) else None,
    }
    return Page(posts[i].path, "post.html", context, title=posts[i].doc.title)


def _tag_pages(posts: list[Entry]) -> list[Page]:
    """``tags/<tag>/`` per tag (tags that differ only in case share a page) and ``tags/``."""
    by_path: dict[str, tuple[str, list[Entry]]] = {}
    for entry in posts:
        for tag, path in entry.tags:
            by_path.setdefault(path, (tag, []))[1].append(entry)
    tags = sorted(((name, path, entries) for path, (name, entries) in by_path.items()), key=lambda t: t[0].lower())
    found = [
        Page(path, "tag.html", TagContext(tag=name, entries=entries), title=f"Posts tagged {name}", section="blog/")
        for name, path, entries in tags
    ]
    found.append(Page("tags/", "tags.html", TagsContext(tags=tags), title="Tags", section="blog/"))
    return found


def atom(site: Any, posts: list[Entry], options: dict[str, Any]) -> bytes:
    """``feed.xml``: every published post, newest first."""
    items = [
        feed.FeedItem(
            title=e.doc.title,
            path=e.path,
            date=e.doc.date,
            summary=e.doc.summary or _TAGS.sub("", str(e.excerpt)).strip() or None,
            content_html=str(e.excerpt) or None,
            author=e.doc.author,
            tags=tuple(t for t, _ in e.tags),
        )
        for e in posts
        if e.doc.date is not None  # always: content.py refuses a post without a date
    ]
    config = site.config
    if not config.url:
        site.warnings.append(
            f"scaleboard.yaml: 'url' is not set; feed.xml and sitemap.xml use {feed.FALLBACK_URL} "
            "(set url: to the published address, e.g. https://user.github.io/repo/)"
        )
    return feed.atom_feed(
        items,
        root=feed.site_root(config.url, config.base_url),
        title=config.title,
        subtitle=config.description,
        author=options["author"] or config.title,
    )
