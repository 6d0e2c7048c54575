"""ScaleBoard: benchmark how PyTorch models scale, publish the results as a static site."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: The one place the version is written: pyproject.toml reads it (``[tool.setuptools.dynamic]``).
#: Asking importlib.metadata instead cost every command (and build) about 40 ms.
__version__ = "0.2.0"


def load_records(path: str | Path = "data", **options: Any) -> pd.DataFrame:
    """Records under ``path`` as a pandas DataFrame: see :func:`scaleboard.api.load_records`."""
    from scaleboard.api import load_records as load

    return load(path, **options)
