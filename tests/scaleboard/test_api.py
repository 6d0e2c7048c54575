"""``scaleboard.load_records``: records as a DataFrame with the site's CSV columns."""

from __future__ import annotations

import pytest

import scaleboard
from scaleboard.generator import synthetic
from scaleboard.generator.frame import COLUMNS
from scaleboard.record import POINT_FIELDS, RecordError


def test_a_folder_loads_as_one_row_per_point_with_the_site_columns(tmp_path):
    records = synthetic.dataset(configs=synthetic.CONFIGS[:3], threads=(1, 2), batch_sizes=(1, 2, 4))
    synthetic.write_jsonl(records[:10], tmp_path / "a" / "one.jsonl")
    synthetic.write_jsonl(records[10:], tmp_path / "b" / "two.jsonl")
    df = scaleboard.load_records(tmp_path)
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == len({tuple(r.get(f) for f in POINT_FIELDS) for r in records})
    assert set(df["latency_stat"].dropna()) == {"median"}
    base = df[(df.optimization == "eager") & (df.precision == "fp32") & (df.attention == "sdpa") & (df.status == "ok")]
    assert (base["speedup"] == 1.0).all()


def test_a_single_file_loads_too(tmp_path):
    synthetic.write_jsonl(synthetic.dataset(configs=synthetic.CONFIGS[:1], batch_sizes=(1,)), tmp_path / "r.jsonl")
    assert len(scaleboard.load_records(tmp_path / "r.jsonl")) >= 1


def test_a_bad_line_is_named(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"schema": 1}\n')
    with pytest.raises(RecordError, match="bad.jsonl:1: "):
        scaleboard.load_records(tmp_path)
