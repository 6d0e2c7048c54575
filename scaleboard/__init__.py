"""ScaleBoard: benchmark how PyTorch models scale, publish the results as a static site."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scaleboard")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"


def load_records(path="data", **options):
    """Records under ``path`` as a pandas DataFrame: see :func:`scaleboard.api.load_records`."""
    from scaleboard.api import load_records as load

    return load(path, **options)
