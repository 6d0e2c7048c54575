"""The column registry: the one list that the flat rows, CSV downloads, chart metrics and
docs/columns.md derive from, checked against the record contract."""

from pathlib import Path

from scaleboard import columns
from scaleboard.generator import charts, frame, synthetic
from scaleboard.generator.frame import COLUMNS, flatten
from scaleboard.record import FIELDS, config_name, validate

ROOT = Path(__file__).resolve().parents[2]


def test_every_copied_column_names_a_field_of_the_record_contract():
    for column in columns.COLUMNS:
        if column.path is None:
            continue
        field = FIELDS.get(column.path[0])
        assert field is not None, column.name
        if len(column.path) == 2:
            assert field.keys is not None and column.path[1] in field.keys, column.name


def test_a_flat_row_has_exactly_the_registry_columns_in_order():
    record = synthetic.dataset(models=[("m", 1000)], batch_sizes=(1,))[0]
    assert validate(record) == ([], [])
    row = flatten(record)
    assert tuple(row) == COLUMNS == columns.NAMES
    # a copied column is the record's value; a computed one is filled in
    assert row["latency_p90_ms"] == record["latency_ms"]["p90"]
    assert row["device_name"] == record["device"]["name"]
    assert row["config"] == f"{record['optimization']} · {record['precision']} · {record['attention']}"
    assert row["latency_ms"] == record["latency_ms"]["p50"] and row["latency_stat"] == "median"


def test_the_chart_metrics_are_the_registrys_metric_columns():
    metric_columns = {c.name for c in columns.COLUMNS if c.metric}
    assert metric_columns <= set(charts.METRICS)
    for name in metric_columns:
        column, metric = columns.BY_NAME[name], charts.METRICS[name]
        assert (metric.column, metric.label, metric.unit, metric.higher_is_better) == (
            name, column.label, column.unit, column.higher_is_better)  # fmt: skip
        assert column.label, f"metric {name} has no label"
    for view in set(charts.METRICS) - metric_columns - set(charts.PAGE_ONLY_METRICS):
        assert charts.METRICS[view].column in columns.BY_NAME  # a view of a column in another unit


def test_names_are_unique_and_types_known():
    assert len(set(columns.NAMES)) == len(columns.NAMES)
    assert {c.type for c in columns.COLUMNS} <= {"str", "int", "float", "bool"}
    assert all(c.doc for c in columns.COLUMNS)


def test_the_docs_are_current(tmp_path):
    # python -m scaleboard.docs rewrites them
    from scaleboard import docs

    for name, make in docs.PAGES.items():
        assert (ROOT / "docs" / name).read_text(encoding="utf-8") == make(), f"docs/{name} is out of date"
    assert docs.main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(docs.PAGES)


def test_every_record_field_is_documented():
    from scaleboard.record import DOCS

    assert set(DOCS) == set(FIELDS)
    assert all(DOCS.values())


def test_a_rows_labels_are_those_of_its_own_record_whatever_came_before():
    """flatten keeps the labels of each kind of record once (frame._labels): a record that
    differs in any field a label writes gets its own, an image its shape, and a number that
    compares equal but is written differently (128.0, True) is never given another's label."""
    base = synthetic.dataset(models=[("m", 1000)], batch_sizes=(1,))[0]
    variants = [
        {},
        {"task": "generate", "new_tokens": 32},
        {"task": "generate", "new_tokens": 16},
        {"seq_len": 256, "input": {"kind": "tokens", "shape": [256]}},
        {"seq_len": 256.0, "input": {"kind": "tokens", "shape": [256]}},  # not valid: written as it is
        {"seq_len": None, "input": None},
        {"optimization": "compile", "precision": None, "attention": None},
        {"precision": "bf16", "attention": "eager"},
        {"seq_len": None, "input": {"kind": "pixels", "shape": [3, 224, 224]}},
        {"seq_len": None, "input": {"kind": "pixels", "shape": [3, 32, 32]}},
        {"new_tokens": True, "task": "generate"},  # not valid either
    ]
    for _ in range(2):  # the second time, every kind is already known
        for change in variants:
            record = {**base, **change}
            row = flatten(record)
            expected = (frame.sample_unit(record), frame.workload(record), config_name(record))
            assert (row["sample_unit"], row["workload"], row["config"]) == expected, change
