"""``scaleboard init [DIR]``: a new project that builds and publishes with nothing else installed.

It writes ``scaleboard.yaml`` (every key commented), ``content/posts/`` with one sample post
holding a chart block, ``data/.gitkeep``, ``.gitignore`` and the GitHub Pages workflow (the
one this repository uses, installing ScaleBoard without torch). Existing files are left alone
unless ``force``; nothing is written when any would be refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from scaleboard import __version__
from scaleboard.errors import ScaleboardError

#: The install step of the scaffolded Pages workflow: the release that made the project.
INSTALL_MARKER = "__SCALEBOARD_INSTALL__"


@dataclass(frozen=True)
class Planned:
    path: str  # relative to the project folder
    text: str


def skeleton(name: str) -> str:
    """A file of the project skeleton shipped inside the package."""
    return (files("scaleboard.generator") / "skeleton" / name).read_text(encoding="utf-8")


def pages_workflow(install: str) -> str:
    """The Pages workflow with ``install`` as its install command (this repository: ``python -m pip install .``)."""
    return skeleton("pages.yml").replace(INSTALL_MARKER, install)


def install_command(version: str = __version__) -> str:
    """How a project's workflow installs ScaleBoard: the released version that scaffolded it, no extras."""
    if "+" in version or version.startswith("0.0.0"):  # a development build: the newest release
        return 'python -m pip install "scaleboard"'
    return f'python -m pip install "scaleboard=={version}"'


def plan(title: str, today: dt.date) -> list[Planned]:
    return [
        Planned("scaleboard.yaml", skeleton("scaleboard.yaml").replace("__TITLE__", title)),
        Planned(
            f"content/posts/{today.isoformat()}-first-results.md", skeleton("post.md").replace("__DATE__", str(today))
        ),
        Planned("data/.gitkeep", ""),
        Planned(".gitignore", skeleton("gitignore")),
        Planned(".github/workflows/pages.yml", pages_workflow(install_command())),
    ]


def init_project(
    folder: str | Path, *, title: str | None = None, force: bool = False, today: dt.date | None = None
) -> list[tuple[Path, str]]:
    """Write the project; returns ``(path, "created" | "replaced")`` for each file written."""
    root = Path(folder)
    if root.exists() and not root.is_dir():
        raise ScaleboardError(f"{root} exists and is not a folder")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    files_ = plan(title or _title(root), today)
    existing = [f.path for f in files_ if (root / f.path).exists()]
    if existing and not force:
        raise ScaleboardError(
            f"{root} already has {', '.join(existing)}; nothing written (use --force to replace them)"
        )
    written = []
    for f in files_:
        path = root / f.path
        action = "replaced" if path.exists() else "created"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text, encoding="utf-8")
        written.append((path, action))
    return written


def _title(root: Path) -> str:
    name = root.resolve().name.replace("-", " ").replace("_", " ").strip()
    return f"{name.title()} benchmarks" if name else "Benchmarks"


NEXT_STEPS = """\
next:
  cd {folder}
  pip install 'scaleboard[runner]'     # PyTorch and transformers, to measure
  scaleboard run --models gpt2          # benchmark into data/ (or: scaleboard import packrat|optimum-benchmark FILES)
  scaleboard serve                      # preview at http://127.0.0.1:8000/, rebuilt as you edit
  git init && git add . && git commit -m "ScaleBoard site"
then push to GitHub and set Settings → Pages → Source to "GitHub Actions":
.github/workflows/pages.yml builds and publishes the site on every push to main."""
