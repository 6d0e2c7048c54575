"""A site built from imported records: the statistic each record has, and nothing stated without data."""

from __future__ import annotations

import re

import pytest
from importer_fixtures import OPTIMUM_FORWARD, OPTIMUM_GENERATE, PACKRAT

from scaleboard.cli import main
from scaleboard.generator.build import build


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("imported")
    assert main(["import", "packrat", str(PACKRAT), "--out", str(root / "data")]) == 0
    assert (
        main(["import", "optimum-benchmark", str(OPTIMUM_GENERATE), str(OPTIMUM_FORWARD), "--out", str(root / "data")])
        == 0
    )
    build(root, strict=True)
    return root / "site"


def text(path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", path.read_text()))


def test_a_packrat_page_says_mean_and_collapses_what_packrat_does_not_measure(site):
    page = site / "models/gpt2/cloudlab/large-batches-topology-sequential/index.html"
    html, words = page.read_text(), text(page)
    assert "Mean latency of one call (a whole batch), as the source reported it" in words
    assert "Latency (mean)" in html  # the chart's axis
    assert "Latency p50" not in html
    assert "No peak memory in these records (imported from packrat, which does not report it)." in words
    assert "No first-call (trace / compile) time in these records" in words
    assert "No speed-ups: the baseline eager · fp32 · sdpa is not among these records." in words
    assert "never (not faster)" not in words
    assert "Throughput (tokens/s)" not in html  # no sequence length: samples/s only


def test_the_leaderboard_ranks_imported_rows_by_samples_per_second(site):
    html = (site / "leaderboard/index.html").read_text()
    order = re.findall(r'data-machine="cloudlab" data-optimization="([a-z]+)"', html)
    assert order == ["torchscript", "eager"]  # 40.5 samples/s before 21.1; neither has tokens/s
    assert 'title="the source reported a mean, no median">mean' in html


def test_optimum_benchmark_records_keep_their_medians(site):
    (page,) = (site / "models/tiny-gpt2").glob("*/*/index.html")  # one suite, one machine: both files
    assert "Latency p50" in page.read_text()
    words = text(page)
    assert "No peak memory" not in words and "No first-call" not in words  # optimum reports both
    assert "Speed-ups are against eager · fp32 · sdpa." not in words  # attention unknown: no baseline
