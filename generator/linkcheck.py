"""Check that every internal link of a built site resolves, as it will when served under ``base_url``.

A static host such as GitHub Pages serves ``site/`` at ``https://<user>.github.io/<repo>/``:
a link to ``/leaderboard/`` (missing the ``/<repo>/`` prefix) works on ``localhost:8000`` and
breaks once published. This module reads every HTML, CSS and XML file of a built site and
resolves each internal ``href`` / ``src`` (also ``srcset``, ``poster``, ``action``, ``data-plotly``,
CSS ``url(...)``, Atom ``<link href>`` and sitemap ``<loc>``) the way a browser and a static
host would:

- an absolute path must start with ``base_url`` and name a file (``x/`` → ``x/index.html``);
- a relative one is resolved against the page's own URL first;
- a ``#fragment`` must name an ``id`` (or ``<a name>``) in the target page;
- an absolute URL (feeds, sitemaps) is internal when it starts with the origin of ``site_url``.

Usage::

    problems = check_site("site", base_url="/repo/")
    for p in problems: print(p)            # index.html:12: href '/leaderboard/': outside /repo/

or ``python -m scaleboard.generator.linkcheck site --base-url /repo/`` (exit status 1 on any broken link).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

#: Attributes that hold one URL (``srcset`` holds several and is split below).
URL_ATTRIBUTES = frozenset({"href", "src", "poster", "action", "data-plotly", "data-src"})
#: Schemes that never point into the site.
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
XML_LINK = re.compile(r"""<(?:link|atom:link)\b[^>]*\bhref=(["'])(.*?)\1|<loc>\s*(.*?)\s*</loc>""", re.DOTALL)


@dataclass(frozen=True, order=True)
class BrokenLink:
    """One link that does not resolve: where it is, what it says, and why it fails."""

    page: str  # file below the site directory, e.g. "blog/x/index.html"
    line: int
    attribute: str
    url: str
    reason: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.attribute} {self.url!r}: {self.reason}"


@dataclass
class Link:
    line: int
    attribute: str
    url: str


class _Collector(HTMLParser):
    """Collects the URLs and the anchor targets (ids, ``<a name>``) of one HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.anchors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.anchors.add(value)
            elif name in URL_ATTRIBUTES:
                self.links.append(Link(line, name, value.strip()))
            elif name in ("srcset", "imagesrcset"):
                for candidate in value.split(","):
                    if candidate.strip():
                        self.links.append(Link(line, name, candidate.split()[0]))
            elif name == "style":
                self.links.extend(Link(line, "style url()", m.group(2)) for m in CSS_URL.finditer(value))

    handle_startendtag = handle_starttag


def parse_html(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    return collector


def _text_links(text: str, pattern: re.Pattern[str], attribute: str) -> list[Link]:
    links = []
    for match in pattern.finditer(text):
        url = next((g for g in reversed(match.groups()) if g and g not in "'\""), None)
        if url:
            links.append(Link(text.count("\n", 0, match.start()) + 1, attribute, url.strip()))
    return links


def page_url(relative_file: str, base_url: str) -> str:
    """The URL path a file is served at: ``blog/x/index.html`` → ``/repo/blog/x/``."""
    path = PurePosixPath(relative_file)
    served = path.parent.as_posix() + "/" if path.name == "index.html" else path.as_posix()
    served = "" if served == "./" else served
    return base_url + served


def resolve(url_path: str, site_dir: Path, base_url: str) -> tuple[Path | None, str]:
    """The file a URL path is served from, or ``(None, reason)``."""
    path = unquote(url_path)
    if not path.startswith(base_url):
        return None, f"outside {base_url} (the site is served under it)"
    rel = path[len(base_url) :]
    parts = PurePosixPath(rel).parts if rel else ()
    if ".." in parts:
        return None, "climbs above the site root"
    target = site_dir.joinpath(*parts)
    if rel.endswith("/") or not rel:
        target = target / "index.html"
    elif target.is_dir():
        # A static host redirects /x to /x/ here; a link that depends on it costs a round trip.
        target = target / "index.html"
    if not target.is_file():
        return None, f"no such file {target.relative_to(site_dir).as_posix()}"
    return target, ""


def _normalize(path: str) -> str:
    """Collapse ``.`` and ``..`` segments of an absolute URL path, keeping a trailing slash."""
    out: list[str] = []
    for part in path.split("/")[1:]:
        if part == "..":
            if out:
                out.pop()
            else:
                return "/../"  # climbs above the origin: never resolves
        elif part != ".":
            out.append(part)
    return "/" + "/".join(out)


class _Checker:
    def __init__(self, site_dir: Path, base_url: str, site_url: str, fragments: bool) -> None:
        self.site_dir = site_dir
        self.base_url = base_url
        # Feeds and sitemaps use absolute URLs: the origin of the site address marks them internal.
        self.origin = re.sub(r"^([a-z][a-z0-9+.-]*://[^/]+).*$", r"\1", site_url.strip(), flags=re.IGNORECASE)
        self.fragments = fragments
        self._anchors: dict[Path, set[str]] = {}

    def anchors(self, target: Path) -> set[str]:
        if target not in self._anchors:
            text = target.read_text(encoding="utf-8", errors="replace")
            self._anchors[target] = parse_html(text).anchors
        return self._anchors[target]

    def check(self, page: str, link: Link, here: str, own: Path) -> BrokenLink | None:
        url = link.url
        if self.origin and url.startswith(self.origin + "/"):
            url = url[len(self.origin) :]
        elif not url or EXTERNAL.match(url):
            return None
        parts = urlsplit(url)
        if not parts.path:
            target = own  # "#x" or "?q=1": this page
        else:
            joined = parts.path if parts.path.startswith("/") else here.rsplit("/", 1)[0] + "/" + parts.path
            resolved, reason = resolve(_normalize(joined), self.site_dir, self.base_url)
            if resolved is None:
                return BrokenLink(page, link.line, link.attribute, link.url, reason)
            target = resolved
        fragment = unquote(parts.fragment)
        if self.fragments and fragment and target.suffix == ".html" and fragment not in self.anchors(target):
            return BrokenLink(page, link.line, link.attribute, link.url, f"no element with id {fragment!r}")
        return None


def links_of(file: Path) -> tuple[list[Link], set[str]]:
    """The links of one site file (HTML, CSS or XML) and, for HTML, its anchors."""
    text = file.read_text(encoding="utf-8", errors="replace")
    if file.suffix in (".html", ".htm"):
        parsed = parse_html(text)
        return parsed.links, parsed.anchors
    if file.suffix == ".css":
        return _text_links(text, CSS_URL, "url()"), set()
    return _text_links(text, XML_LINK, "link"), set()


def check_site(
    site_dir: str | Path, base_url: str = "/", *, site_url: str = "", fragments: bool = True
) -> list[BrokenLink]:
    """Every broken internal link of the site in ``site_dir``, by file (sorted) and in document order."""
    site_dir = Path(site_dir)
    if not site_dir.is_dir():
        raise FileNotFoundError(f"{site_dir}: no such site directory")
    base_url = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    checker = _Checker(site_dir, base_url, site_url, fragments)
    problems: list[BrokenLink] = []
    for file in sorted(p for p in site_dir.rglob("*") if p.suffix in (".html", ".htm", ".css", ".xml")):
        page = file.relative_to(site_dir).as_posix()
        links, anchors = links_of(file)
        if file.suffix in (".html", ".htm"):
            checker._anchors[file] = anchors
        here = page_url(page, base_url)
        for link in links:
            problem = checker.check(page, link, here, file)
            if problem is not None:
                problems.append(problem)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scaleboard.generator.linkcheck",
        description="Report every internal href/src of a built site that does not resolve under the base URL.",
    )
    parser.add_argument("site", nargs="?", default="site", help="the built site directory (default: site)")
    parser.add_argument("--base-url", default="/", help="path prefix the site is served under, e.g. /repo/")
    parser.add_argument("--site-url", default="", help="the site's origin, e.g. https://user.github.io")
    parser.add_argument("--no-fragments", action="store_true", help="do not check #fragment targets")
    args = parser.parse_args(argv)
    try:
        problems = check_site(args.site, args.base_url, site_url=args.site_url, fragments=not args.no_fragments)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for problem in problems:
        print(problem)
    print(f"{len(problems)} broken link(s)" if problems else "ok: every internal link resolves", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
