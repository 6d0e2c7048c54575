"""Fixture files for the importer tests (see fixtures/README.md for where each comes from)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
PACKRAT = FIXTURES / "packrat" / "cloudlab" / "large-batches" / "gpt2_latency.csv"
PACKRAT_THROUGHPUT = PACKRAT.with_name("gpt2_throughput.csv")
PACKRAT_OLDER = FIXTURES / "packrat-older" / "skylake2x" / "cdf1d77" / "gpt2_latency.csv"
OPTIMUM_GENERATE = FIXTURES / "optimum-generate.json"
OPTIMUM_FORWARD = FIXTURES / "optimum-forward.json"


@pytest.fixture
def copy(tmp_path):
    """Copy a fixture into tmp_path (keeping its two parent folders) and return the copy."""

    def _copy(path: Path, text: str | None = None) -> Path:
        target = tmp_path / "in" / path.parent.parent.name / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8") if text is None else text, encoding="utf-8")
        return target

    return _copy
