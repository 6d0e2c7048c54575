"""The column registry: the one list that the flat rows, CSV downloads, chart metrics and
docs/columns.md derive from, checked against the record contract."""

from pathlib import Path

from scaleboard import columns
from scaleboard.generator import charts, synthetic
from scaleboard.generator.frame import COLUMNS, flatten
from scaleboard.record import FIELDS, validate

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
