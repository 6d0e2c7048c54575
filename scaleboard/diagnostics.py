"""How ScaleBoard talks about a place in the user's files, in one module.

Every message about a file starts ``path:line: `` (:func:`where`); paths are shown relative
to the project (:func:`display_path`); a YAML node or error gives its 1-based line
(:func:`yaml_line`, :func:`yaml_error_line`); and every name that becomes part of a URL or
a file name goes through one :func:`slugify`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    """A finding about one place in a file. ``severity`` is ``error`` (unusable) or ``warning``."""

    path: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return where(self.path, self.line) + self.message


def where(path: str | Path | None, line: int | None) -> str:
    """``data/x.jsonl:17: `` (the prefix of every message about a file)."""
    if path is None:
        return ""
    return f"{path}:{line}: " if line is not None else f"{path}: "


def display_path(path: str | Path, root: str | Path | None) -> str:
    """``path`` relative to ``root`` (POSIX separators) when it lies inside it, else as given."""
    path = Path(path)
    if root is None:
        return str(path)
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def yaml_line(node: Any, first_line: int = 1) -> int:
    """The file line of a YAML node; ``first_line`` is the file line the YAML text starts on
    (front matter starts on line 2, after its ``---``)."""
    return int(node.start_mark.line) + first_line


def yaml_error_line(exc: BaseException, first_line: int = 1) -> int | None:
    """The file line a YAML parse error points at, or None when PyYAML gives no position."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + first_line if mark is not None else None


def slugify(text: str, *, keep: str = "", limit: int | None = None, empty: str = "") -> str:
    """Lower-case ASCII words joined by dashes: ``NVIDIA H100 80GB`` → ``nvidia-h100-80gb``.

    Accents are folded (``Café`` → ``cafe``); ``keep`` lists punctuation kept as it is (``"."``
    for file names: ``v1.2``); ``../../x`` → ``x``. At most ``limit`` characters; ``empty`` when
    nothing is left.
    """
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(rf"[^a-z0-9{re.escape(keep)}]+", "-", text.lower()).strip("-" + keep)
    if limit is not None:
        slug = slug[:limit].rstrip("-" + keep)
    return slug or empty
