"""The default theme (templates + assets, shipped inside the package) and a project's overrides.

The theme is the package ``scaleboard.theme`` (the repository's ``templates/`` folder). A
project's own ``templates/`` folder (``templates_dir`` in ``scaleboard.yaml``) overrides single
files of it, the way mkdocs' ``custom_dir`` or a Hugo theme override works: ``templates/base.html``
replaces the shipped ``base.html``, ``templates/assets/style.css`` the shipped stylesheet, and a
file the theme does not have is added. Everything else comes from the theme.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from scaleboard.generator.config import SiteConfig


def theme_dir() -> Path:
    """Where the shipped theme lies: inside the installed package, or the checkout's ``templates/``."""
    return Path(str(files("scaleboard.theme")))


def override_dir(config: SiteConfig) -> Path | None:
    """The project's override folder, if it exists and is not the shipped theme itself.

    In ScaleBoard's own repository ``templates/`` *is* the theme (an editable install maps
    ``scaleboard.theme`` onto it), so it overrides nothing.
    """
    path = config.path("templates_dir")
    if not path.is_dir() or path.resolve() == theme_dir().resolve():
        return None
    return path


def template_dirs(config: SiteConfig) -> list[Path]:
    """Folders Jinja2 searches, first match wins: the project's overrides, then the theme."""
    override = override_dir(config)
    return [override, theme_dir()] if override else [theme_dir()]


def asset_files(config: SiteConfig) -> dict[str, bytes]:
    """``assets/<name>`` → bytes: the theme's assets with the project's replacing or adding files."""
    found: dict[str, bytes] = {}
    for base in reversed(template_dirs(config)):  # the theme first, so overrides win
        asset_dir = base / "assets"
        for path in sorted(asset_dir.rglob("*")) if asset_dir.is_dir() else []:
            if path.is_file() and "__pycache__" not in path.parts:
                found["assets/" + path.relative_to(asset_dir).as_posix()] = path.read_bytes()
    return found
