"""Markup every page of a built site needs: a viewport for phones, a favicon, and accessible tables
(a caption, header cells with a scope, a box that scrolls sideways on a narrow screen)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from scaleboard.generator.linkcheck import check_site

#: Elements the templates always close, so that a stack of them tells where a table sits.
CONTAINERS = frozenset({"div", "table", "thead", "tbody", "caption", "figure", "article", "section", "main", "label"})


class PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []
        self.head: dict[str, str] = {}
        self.problems: list[str] = []
        self.tables = 0
        self._caption_text: list[str] = []

    def inside(self, tag: str, cls: str | None = None) -> bool:
        return any(t == tag and (cls is None or cls in c) for t, c in self.stack)

    def markdown_table(self) -> bool:
        """A table written in Markdown: a direct child of a post body (no caption syntax there)."""
        tables = [i for i, (t, _) in enumerate(self.stack) if t == "table"]
        return bool(tables) and tables[-1] > 0 and self.stack[tables[-1] - 1] == ("div", {"post-body"})

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        line = self.getpos()[0]
        if tag == "html":
            self.head["lang"] = a.get("lang", "")
        elif tag == "meta" and a.get("name") == "viewport":
            self.head["viewport"] = a.get("content", "")
        elif tag == "link" and "icon" in a.get("rel", "").split():
            self.head["icon"] = a.get("href", "")
        elif tag == "img" and "alt" not in a:
            self.problems.append(f"{line}: <img> without alt")
        elif tag == "table":
            self.tables += 1
            in_post = self.inside("div", "post-body")
            if not self.inside("div", "table-scroll") and not in_post:
                self.problems.append(f"{line}: a table outside a .table-scroll box")
        elif tag == "th" and "scope" not in a and not (self.markdown_table() and self.inside("thead")):
            self.problems.append(f"{line}: <th> without scope")
        elif tag in ("select", "input") and not (
            self.inside("label") or a.get("aria-label") or a.get("type") == "hidden"
        ):
            self.problems.append(f"{line}: <{tag}> without a label")
        if tag in CONTAINERS:
            self.stack.append((tag, set(a.get("class", "").split())))
            if tag == "table":
                self._caption_text = []
                self._table_line = line
            elif tag == "caption":
                self._caption_text.append("")

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][0] == "caption":
            self._caption_text[-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag not in CONTAINERS:
            return
        if tag == "table" and not self.markdown_table() and not any(t.strip() for t in self._caption_text):
            self.problems.append(f"{self._table_line}: a table without a caption")
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def audit(file: Path) -> PageAudit:
    page = PageAudit()
    page.feed(file.read_text(encoding="utf-8"))
    page.close()
    return page


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_every_page_has_a_language_a_phone_viewport_and_a_favicon(published_site):
    for file in html_files(published_site):
        head = audit(file).head
        name = file.relative_to(published_site)
        assert head.get("lang"), f"{name}: <html> has no lang"
        assert "width=device-width" in head.get("viewport", ""), f"{name}: no viewport meta tag"
        assert head.get("icon") == "/scaleboard/assets/favicon.svg", f"{name}: favicon link {head.get('icon')!r}"
    assert (published_site / "assets" / "favicon.svg").read_text().lstrip().startswith("<svg")
    assert check_site(published_site, "/scaleboard/") == []


def test_tables_have_captions_header_scopes_and_scroll_boxes(published_site):
    problems, tables = [], 0
    for file in html_files(published_site):
        page = audit(file)
        tables += page.tables
        problems.extend(f"{file.relative_to(published_site)}:{p}" for p in page.problems)
    assert tables >= 8, "the fixture site should hold model, leaderboard, index and post tables"
    assert not problems, "\n".join(problems)


def _nav_marks(file: Path) -> dict[str, str]:
    """The main navigation's marked links: title → its aria-current."""
    nav = re.search(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', file.read_text(), re.S)
    assert nav, f"{file}: no main navigation"
    return {title: mark for mark, title in re.findall(r'<a href="[^"]*" aria-current="(\w+)">([^<]*)</a>', nav[1])}


def test_the_main_navigation_marks_the_page_and_the_section_it_is_in(published_site):
    """The link to the page itself is the current page; a link whose address starts the page's is
    the current location (Models on a model's pages, Blog on a post); a tag's page and the
    list of tags belong to the blog, though their addresses are not below it; Home, which starts every
    address, only on the home page. The site is under /scaleboard/, as on GitHub Pages."""
    model_pages = [p for p in published_site.glob("models/**/index.html") if p.parent != published_site / "models"]
    assert len(model_pages) >= 3  # the model's page, its machine's and its result page
    expected = {
        "index.html": {"Home": "page"},
        "models/index.html": {"Models": "page"},
        "leaderboard/index.html": {"Leaderboard": "page"},
        "blog/index.html": {"Blog": "page"},
        "blog/links/index.html": {"Blog": "true"},
        "tags/gpt2/index.html": {"Blog": "true"},
        "tags/index.html": {"Blog": "true"},
        "about/index.html": {},
        "404.html": {},
    }
    assert {name: _nav_marks(published_site / name) for name in expected} == expected
    assert all(_nav_marks(p) == {"Models": "true"} for p in model_pages)


def test_the_audit_reports_what_it_checks(tmp_path):
    page = tmp_path / "x.html"
    page.write_text(
        '<html><body><table><tr><th>a</th></tr></table><img src="x.png">'
        '<div class="table-scroll"><table><caption>ok</caption><tr><th scope="col">b</th></tr></table></div>'
        '<select name="s"></select></body></html>'
    )
    problems = [p.split(": ", 1)[1] for p in audit(page).problems]
    assert problems == [
        "a table outside a .table-scroll box",
        "<th> without scope",
        "a table without a caption",
        "<img> without alt",
        "<select> without a label",
    ]
