"""The per-user cache folder ScaleBoard shares across projects and runs.

The runner keeps presets' random weights and reference outputs there
(:mod:`scaleboard.runner.cache`); the generator keeps its compiled templates there
(:func:`scaleboard.generator.site.make_env`), as Python keeps compiled modules in
``__pycache__``, so that no build compiles the theme again.

Location: ``$SCALEBOARD_CACHE``, else ``$XDG_CACHE_HOME/scaleboard``, else
``~/.cache/scaleboard``. ``SCALEBOARD_CACHE=off`` disables it. Deleting the folder is
always safe.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SCALEBOARD_CACHE"


def cache_root() -> Path | None:
    """The cache folder, or None when ``SCALEBOARD_CACHE=off``."""
    value = os.environ.get(CACHE_ENV)
    if value:
        return None if value.lower() in ("off", "0", "none") else Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scaleboard"
