"""Markdown for posts and pages: python-markdown plus blocks that embed live data.

Extensions: tables, fenced code highlighted by Pygments (``codehilite``; the
stylesheet comes from :func:`pygments_css` and is written once under
``assets/``), heading anchors with a table of contents, footnotes.

A fenced block whose info string is ``chart`` or ``leaderboard`` holds YAML::

    ```chart
    model: gpt2
    metric: tokens_per_s
    x: batch_size
    series: optimization
    ```

and is replaced by the HTML a :data:`BlockHandler` makes from it (the same chart
and table components the model pages use). In a plain Markdown viewer it still
reads as a code block. A block the handler rejects (unknown model, metric or key)
becomes a visible warning box and a warning naming ``file:line`` of the block's
opening fence; with ``strict=True`` it is an error instead.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import markdown
import yaml
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from pygments.formatters import HtmlFormatter

from scaleboard.diagnostics import Problem, yaml_error_line

BLOCK_KINDS = ("chart", "leaderboard")
CODE_CSS_CLASS = "highlight"
#: Light and dark Pygments styles; the dark one applies under prefers-color-scheme: dark.
CODE_STYLE, CODE_STYLE_DARK = "friendly", "monokai"

_FENCE_OPEN = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")


def has_blocks(text: str) -> bool:
    """Whether Markdown ``text`` holds a ``chart`` or ``leaderboard`` block (a fence opening with
    one of :data:`BLOCK_KINDS`, as :class:`BlockPreprocessor` finds them; one shown inside another
    fenced block counts too): rendering it needs the data."""
    return any(
        (found := _FENCE_OPEN.match(line)) is not None and found["info"].lower() in BLOCK_KINDS
        for line in text.splitlines()
    )


class BlockError(Exception):
    """A ``chart`` / ``leaderboard`` block that cannot be rendered; the message says why."""


#: ``handler(kind, spec, index) -> html``: renders block number ``index`` (1-based on the
#: page) of kind ``chart`` or ``leaderboard`` from its parsed YAML, or raises BlockError.
BlockHandler = Callable[[str, dict[str, Any], int], str]


@dataclass
class Rendered:
    """The HTML of one Markdown document and what was found while rendering it."""

    html: str
    toc_html: str = ""
    headings: int = 0  # headings in the table of contents
    blocks: list[str] = field(default_factory=list)  # kinds of the embedded blocks, in order
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def pygments_css() -> str:
    """The stylesheet for highlighted code (light, plus a dark variant)."""
    light = HtmlFormatter(style=CODE_STYLE).get_style_defs(f".{CODE_CSS_CLASS}")
    dark = HtmlFormatter(style=CODE_STYLE_DARK).get_style_defs(f".{CODE_CSS_CLASS}")
    return f"/* Pygments {CODE_STYLE} / {CODE_STYLE_DARK} */\n{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def render(
    text: str,
    *,
    source: str,
    first_line: int = 1,
    handler: BlockHandler | None = None,
    strict: bool = False,
    base_url: str = "/",
) -> Rendered:
    """Render ``text`` (the body of ``source``, starting on file line ``first_line``).

    Site-absolute links and images (``/leaderboard/``) get ``base_url`` in front, so a
    post can link any page of the site and still work under ``/repo/``.
    """
    result = Rendered(html="")
    md = markdown.Markdown(
        extensions=[
            "tables",
            "fenced_code",
            "footnotes",
            "codehilite",
            "toc",
            DataBlocks(source=source, first_line=first_line, handler=handler, strict=strict, result=result),
            BaseUrlLinks(base_url),
        ],
        extension_configs={
            "codehilite": {"css_class": CODE_CSS_CLASS, "guess_lang": False},
            "toc": {"permalink": "#", "permalink_title": "Link to this section", "toc_depth": "2-4"},
            "footnotes": {"BACKLINK_TITLE": "Back to the text"},
        },
        output_format="html",
    )
    result.html = md.convert(text)
    result.toc_html = getattr(md, "toc", "")
    result.headings = _count_tokens(getattr(md, "toc_tokens", []))
    return result


def _count_tokens(tokens: list[dict[str, Any]]) -> int:
    return sum(1 + _count_tokens(t.get("children", [])) for t in tokens)


class BaseUrlLinks(Extension):
    """Prefix ``href="/x"`` and ``src="/x"`` written in Markdown with the site's base URL."""

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        if self.base_url != "/":
            md.treeprocessors.register(_PrefixLinks(md, self.base_url), "scaleboard_base_url", 0)


class _PrefixLinks(Treeprocessor):
    def __init__(self, md: markdown.Markdown, base_url: str):
        super().__init__(md)
        self.base_url = base_url

    def run(self, root: Any) -> None:  # an ElementTree element
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value and value.startswith("/") and not value.startswith("//"):
                    element.set(attribute, self.base_url + value.lstrip("/"))


class DataBlocks(Extension):
    """Registers the preprocessor that turns chart / leaderboard fences into HTML."""

    def __init__(self, *, source: str, first_line: int, handler: BlockHandler | None, strict: bool, result: Rendered):
        super().__init__()
        self.options = {"source": source, "first_line": first_line, "handler": handler, "strict": strict}
        self.result = result

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After normalize_whitespace (30), which keeps the line count, so list index i is
        # body line i; before fenced_code (25), which would turn the block into code.
        md.preprocessors.register(BlockPreprocessor(md, self.options, self.result), "scaleboard_blocks", 28)


class BlockPreprocessor(Preprocessor):
    def __init__(self, md: markdown.Markdown, options: dict[str, Any], result: Rendered):
        super().__init__(md)
        self.options, self.result = options, result

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        i, index = 0, 0
        while i < len(lines):
            match = _FENCE_OPEN.match(lines[i])
            if not match:
                out.append(lines[i])
                i += 1
                continue
            end = _closing_fence(lines, i + 1, match.group("fence"))
            kind = match.group("info").lower()
            if kind not in BLOCK_KINDS:
                out.extend(lines[i : (end if end is not None else len(lines) - 1) + 1])
                i = len(lines) if end is None else end + 1
                continue
            index += 1
            file_line = self.options["first_line"] + i
            body = lines[i + 1 : end] if end is not None else lines[i + 1 :]
            block_html = self._block(kind, "\n".join(body), file_line, index, closed=end is not None)
            out.extend(["", self.md.htmlStash.store(block_html), ""])
            i = len(lines) if end is None else end + 1
        return out

    def _block(self, kind: str, body: str, file_line: int, index: int, *, closed: bool) -> str:
        self.result.blocks.append(kind)
        try:
            if not closed:
                raise BlockError(f"the {kind} block is not closed (end it with a ``` line)")
            spec = parse_spec(body, kind)
            handler = self.options["handler"]
            if handler is None:
                raise BlockError(f"{kind} blocks cannot be rendered here")
            return str(handler(kind, spec, index))
        except BlockError as exc:
            problem = Problem(self.options["source"], file_line, f"{kind} block: {exc}", "warning")
            if self.options["strict"]:
                self.result.errors.append(Problem(problem.path, problem.line, problem.message))
            else:
                self.result.warnings.append(problem)
            return warning_box(kind, str(problem), body)


def _closing_fence(lines: list[str], start: int, fence: str) -> int | None:
    closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    return next((j for j in range(start, len(lines)) if closing.match(lines[j])), None)


def parse_spec(body: str, kind: str) -> dict[str, Any]:
    """The YAML mapping inside a block (an empty block is an empty mapping)."""
    try:
        spec = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        where = f" on line {line} of the block" if line else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise BlockError(f"YAML syntax{where}: {problem}") from None
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise BlockError(f"a {kind} block holds 'key: value' lines, got {type(spec).__name__}")
    return {str(k): v for k, v in spec.items()}


def warning_box(kind: str, message: str, body: str) -> str:
    """A visible box in place of a block that could not be rendered (built without --strict)."""
    return (
        f'<div class="embed-warning" role="alert"><p><strong>This {html.escape(kind)} could not be drawn.</strong> '
        f"{html.escape(message)}</p>"
        f'<pre class="embed-warning-source"><code>{html.escape(body)}</code></pre></div>'
    )
