"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("SCALEBOARD_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Iterator[Path]:
    """The runner's model and reference cache in a folder of this session's own: tests never read
    a user's ``~/.cache/scaleboard``, and the tests of one session share what they build."""
    folder = tmp_path_factory.mktemp("scaleboard-cache")
    old = os.environ.get("SCALEBOARD_CACHE")
    os.environ["SCALEBOARD_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("SCALEBOARD_CACHE", None)
    else:
        os.environ["SCALEBOARD_CACHE"] = old


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Debian chromium for the whole session, driven by playwright.

    One instance for all: playwright's sync API refuses a second one while the first runs.
    Skips (with the reason) where chromium or playwright is missing.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
