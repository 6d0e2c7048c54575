"""The ``copy`` fixture of the importer tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def copy(tmp_path):
    """Copy a fixture into tmp_path (keeping its two parent folders) and return the copy."""

    def _copy(path: Path, text: str | None = None) -> Path:
        target = tmp_path / "in" / path.parent.parent.name / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8") if text is None else text, encoding="utf-8")
        return target

    return _copy
