"""ScaleBoard: benchmark how PyTorch models scale, publish the results as a static site."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

try:
    __version__ = version("scaleboard")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"


def load_records(path: str | Path = "data", **options: Any) -> pd.DataFrame:
    """Records under ``path`` as a pandas DataFrame: see :func:`scaleboard.api.load_records`."""
    from scaleboard.api import load_records as load

    return load(path, **options)
