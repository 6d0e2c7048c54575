"""Posts and pages: Markdown files with YAML front matter, read from ``content/``.

``content/posts/*.md`` are blog posts, ``content/pages/*.md`` standalone pages
(``/about/``). A file starts with a front matter block::

    ---
    title: Exploring GPT-2 on two CPU cores   # required
    date: 2026-11-20                          # required for posts (or a YYYY-MM-DD- file name)
    tags: [gpt2, compile]
    summary: One line for the blog index and the feed.
    draft: false                              # true: only built with --drafts
    slug: exploring-gpt2                      # default: the file name without its date
    author: Jane Doe
    ---

An optional ``<!-- more -->`` line ends the excerpt shown on the blog index.

Every problem in every file is collected first and reported together, each
naming the file and line (``content/posts/x.md:3: front matter: 'date' is not a date``);
then loading fails once with :class:`ContentError`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaleboard.diagnostics import Problem, display_path, slugify, yaml_error_line, yaml_line
from scaleboard.errors import BuildError

#: Front matter keys and what each must hold (the words appear in error messages).
KNOWN_KEYS = {
    "title": "a string",
    "date": "a date",
    "tags": "a list of strings",
    "summary": "a string",
    "draft": "true or false",
    "slug": "a slug",
    "author": "a string",
}

_FENCE = "---"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")

#: Top-level paths that belong to other parts of the site; a page may not take them.
RESERVED_SLUGS = frozenset(
    {"assets", "blog", "compare", "data", "leaderboard", "models", "tags", "404", "feed", "sitemap", "index"}
)


class ContentError(BuildError):
    """Content that cannot be built; ``problems`` holds every finding."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{count} in content:\n" + "\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Document:
    """One post or page. ``body_line`` is the file line on which ``body`` starts."""

    kind: str  # "post" or "page"
    source: str  # path as shown in messages, e.g. content/posts/x.md
    title: str
    slug: str
    body: str
    body_line: int
    date: dt.date | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    draft: bool = False
    author: str | None = None

    def is_published(self, today: dt.date) -> bool:
        return not self.draft and (self.date is None or self.date <= today)


@dataclass
class Content:
    """Everything under ``content/``: posts newest first, pages by slug."""

    posts: list[Document] = field(default_factory=list)
    pages: list[Document] = field(default_factory=list)
    hidden: int = 0  # drafts and future posts left out (build without --drafts)


def tag_slug(tag: str) -> str:
    """URL segment of a tag: ``Machine Learning`` → ``machine-learning``."""
    return slugify(tag) or "tag"


def load_content(
    content_dir: str | Path,
    *,
    root: str | Path | None = None,
    drafts: bool = False,
    today: dt.date | None = None,
) -> Content:
    """Read ``posts/*.md`` and ``pages/*.md`` under ``content_dir``.

    ``drafts=False`` leaves out drafts and posts dated after ``today`` (UTC).
    Paths in messages are relative to ``root`` (default: the parent of ``content_dir``).
    Raises :class:`ContentError` listing every problem in every file.
    """
    content_dir = Path(content_dir)
    root = Path(root) if root is not None else content_dir.parent
    today = today or dt.datetime.now(dt.timezone.utc).date()
    problems: list[Problem] = []
    posts = _load_dir(content_dir / "posts", "post", root, problems)
    pages = _load_dir(content_dir / "pages", "page", root, problems)
    problems.extend(_duplicate_slugs(posts) + _duplicate_slugs(pages))
    problems.extend(_reserved_slugs(pages))
    if problems:
        raise ContentError(problems)
    visible = [p for p in posts if drafts or p.is_published(today)]
    visible_pages = [p for p in pages if drafts or not p.draft]
    visible.sort(key=lambda p: (p.date, p.slug), reverse=True)
    visible_pages.sort(key=lambda p: p.slug)
    return Content(visible, visible_pages, hidden=len(posts) + len(pages) - len(visible) - len(visible_pages))


def _load_dir(directory: Path, kind: str, root: Path, problems: list[Problem]) -> list[Document]:
    docs = []
    for path in sorted(directory.glob("*.md")) if directory.is_dir() else []:
        doc = parse_document(path.read_text(encoding="utf-8"), kind, display_path(path, root), path.stem, problems)
        if doc is not None:
            docs.append(doc)
    return docs


def parse_document(text: str, kind: str, source: str, stem: str, problems: list[Problem]) -> Document | None:
    """Parse one file's text; append problems (file:line) and return None if any."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    lines = text.split("\n")
    if not lines or lines[0].strip() != _FENCE:
        problems.append(Problem(source, 1, "front matter: missing; start the file with a '---' line"))
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == _FENCE), None)
    if end is None:
        problems.append(Problem(source, 1, "front matter: not closed; add a '---' line after it"))
        return None
    before = len(problems)
    meta = _parse_front_matter("\n".join(lines[1:end]), source, problems)
    if meta is None:
        return None
    fields = _check_keys(meta, kind, source, stem, problems)
    if len(problems) > before:
        return None
    body = "\n".join(lines[end + 1 :])
    return Document(kind=kind, source=source, body=body, body_line=end + 2, **fields)


def _parse_front_matter(yaml_text: str, source: str, problems: list[Problem]) -> dict[str, tuple[Any, int]] | None:
    """Map each key to ``(value, file line)``. Front matter starts on file line 2."""
    try:
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = yaml_error_line(exc, first_line=2) or 1
        problems.append(Problem(source, line, f"front matter: YAML syntax: {exc.problem or exc.context}"))
        return None
    if node is None:
        return {}
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem(source, 2, "front matter: must be 'key: value' lines"))
        return None
    meta: dict[str, tuple[Any, int]] = {}
    loader = yaml.SafeLoader("")
    for key_node, value_node in node.value:
        line = yaml_line(key_node, first_line=2)
        key = loader.construct_object(key_node, deep=True)
        if key in meta:
            problems.append(Problem(source, line, f"front matter: '{key}' is given twice"))
        meta[str(key)] = (_construct(loader, value_node), line)
    return meta


def _construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """The Python value of a node; an impossible timestamp (2026-02-30) stays a string."""
    try:
        return loader.construct_object(node, deep=True)
    except (yaml.YAMLError, ValueError):
        return node.value if isinstance(node, yaml.ScalarNode) else None


def _check_keys(
    meta: dict[str, tuple[Any, int]], kind: str, source: str, stem: str, problems: list[Problem]
) -> dict[str, Any]:
    def bad(line: int, message: str) -> None:
        problems.append(Problem(source, line, f"front matter: {message}"))

    for key, (_, line) in meta.items():
        if key not in KNOWN_KEYS:
            bad(line, f"unknown key '{key}'; known keys: {', '.join(KNOWN_KEYS)}")
    fields: dict[str, Any] = {}
    for key in KNOWN_KEYS:
        if key in meta:
            value, line = meta[key]
            converted = _convert(key, value)
            if converted is None:
                bad(line, f"'{key}' is not {KNOWN_KEYS[key]}" + _hint(key, value))
            else:
                fields[key] = converted
    dated = _DATED_NAME.match(stem)
    if "title" not in fields and "title" not in meta:
        bad(1, "missing 'title'")
    if kind == "post" and "date" not in meta:
        fields["date"] = _convert("date", dated.group(1)) if dated else None
        if fields["date"] is None:
            bad(1, "missing 'date' (add 'date: YYYY-MM-DD' or name the file YYYY-MM-DD-slug.md)")
    if "slug" not in meta:
        fields["slug"] = slugify(dated.group(2) if dated else stem)
        if not fields["slug"]:
            bad(1, f"cannot make a slug from the file name {stem!r}; add 'slug:'")
    return fields


def _convert(key: str, value: Any) -> Any:
    """The checked value for a known key, or None when it has the wrong type."""
    if key == "date":
        return _to_date(value)
    if key == "draft":
        return value if isinstance(value, bool) else None
    if key == "tags":
        ok = isinstance(value, list) and all(isinstance(t, str) and t.strip() for t in value)
        return tuple(dict.fromkeys(t.strip() for t in value)) if ok else None
    if key == "slug":
        return value if isinstance(value, str) and _SLUG.match(value) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _to_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for parse in (dt.date.fromisoformat, lambda v: dt.datetime.fromisoformat(v).date()):
            try:
                return parse(value.strip())
            except ValueError:
                pass
    return None


def _hint(key: str, value: Any) -> str:
    if key == "date":
        return f" (got {value!r}; write YYYY-MM-DD)"
    if key == "slug":
        return f" (got {value!r}; use lower-case letters, digits and dashes)"
    if key == "tags":
        return " (write tags: [gpt2, compile])"
    if isinstance(value, str):
        return " (it is empty)"
    return f" (got {type(value).__name__} {value!r})"


def _duplicate_slugs(docs: list[Document]) -> list[Problem]:
    seen: dict[str, Document] = {}
    problems = []
    for doc in docs:
        if doc.slug in seen:
            problems.append(Problem(doc.source, 1, f"slug '{doc.slug}' is also used by {seen[doc.slug].source}"))
        seen.setdefault(doc.slug, doc)
    return problems


def _reserved_slugs(pages: list[Document]) -> list[Problem]:
    return [
        Problem(p.source, 1, f"slug '{p.slug}' is reserved for the site's own pages; choose another")
        for p in pages
        if p.slug in RESERVED_SLUGS
    ]
