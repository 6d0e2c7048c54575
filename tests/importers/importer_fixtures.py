"""Paths of the importer tests' fixture files (see fixtures/README.md for where each comes from)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PACKRAT = FIXTURES / "packrat" / "cloudlab" / "large-batches" / "gpt2_latency.csv"
PACKRAT_THROUGHPUT = PACKRAT.with_name("gpt2_throughput.csv")
PACKRAT_OLDER = FIXTURES / "packrat-older" / "skylake2x" / "cdf1d77" / "gpt2_latency.csv"
OPTIMUM_GENERATE = FIXTURES / "optimum-generate.json"
OPTIMUM_FORWARD = FIXTURES / "optimum-forward.json"
