"""The CSV downloads: ``csvout.text`` writes exactly what ``csv.writer`` writes."""

import csv
import io
import math
import random
import struct

import pytest

from scaleboard.generator import csvout


def by_csv_module(rows, columns) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[r[c] for c in columns] for r in rows])
    return out.getvalue()


def random_float(rng: random.Random) -> float:
    kind = rng.random()
    if kind < 0.4:  # any finite double, small and huge ones included
        while True:
            value = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
            if math.isfinite(value):
                return value
    if kind < 0.7:
        return rng.uniform(-1e4, 1e4)
    if kind < 0.8:  # around repr's switches of notation: 1e-4 and 1e16
        return rng.choice([1e-4, 1e16, -1e-4, -1e16]) * rng.choice([0.5, 0.99999, 1, 1.00001, 3])
    if kind < 0.9:
        return rng.choice([0.0, -0.0, 1.0, 0.1, 5e-324, 1.7976931348623157e308, 1e-5, 2.5e-7])
    return round(rng.uniform(0, 1000), rng.randint(0, 4))


STRINGS = ["", " ", "eager · fp32 · sdpa", "a,b", 'say "hi"', "two\nlines", "cr\rhere", "tab\there", "ünï", "⚠"]


def random_value(rng: random.Random, kind: str):
    if rng.random() < 0.2:
        return None
    if kind == "float":
        return random_float(rng)
    if kind == "int":
        return rng.choice([rng.randint(-(10**6), 10**6), rng.randint(0, 2**63), 2**70, -(2**64)])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "str":
        return rng.choice([*STRINGS[:3], "model-01", "NVIDIA H100 80GB HBM3"] if rng.random() < 0.9 else STRINGS)
    if kind == "mixed":
        return rng.choice([1, 1.5, "x", True, float("nan"), float("inf"), [1, 2]])
    return None  # "none": a column without any value


@pytest.mark.parametrize("seed", range(60))
def test_random_tables_are_written_as_csv_writer_writes_them(seed):
    rng = random.Random(seed)
    kinds = rng.choices(["float", "int", "bool", "str", "none", "mixed"], weights=[8, 3, 1, 3, 1, 1 if seed % 3 == 0 else 0],
                        k=rng.randint(1, 12))  # fmt: skip
    columns = [f"c{i}" for i in range(len(kinds))]
    rows = [{c: random_value(rng, k) for c, k in zip(columns, kinds, strict=True)} for _ in range(rng.randint(0, 60))]
    assert csvout.text(rows, columns) == by_csv_module(rows, columns)


def test_floats_of_every_magnitude_are_written_as_repr():
    rng = random.Random(7)
    values = [random_float(rng) for _ in range(200_000)]
    values += [10.0**e for e in range(-320, 309)] + [-(10.0**e) for e in range(-320, 309)]
    rows = [{"x": v, "n": None} for v in values]
    assert csvout.FAST  # the orjson installed writes floats as repr does: the fast path is under test
    assert csvout.text(rows, ["x", "n"]).splitlines() == [repr(v) + "," for v in values]


def test_typical_rows_never_need_the_csv_module(monkeypatch):
    """Numbers, plain strings, booleans and nulls are formatted column by column."""
    rows = [{"model": "gpt2", "config": "eager · fp32 · sdpa", "batch": b, "ms": 1.5 * b, "ok": b % 2 == 0,
             "note": None, "tiny": 1e-7 * b} for b in range(1, 40)]  # fmt: skip
    expected = by_csv_module(rows, list(rows[0]))
    monkeypatch.setattr(csvout.csv, "writer", None)  # would fail if called
    assert csvout.text(rows, list(rows[0])) == expected


@pytest.mark.parametrize("odd", ["a,b", 'say "hi"', "two\nlines", float("nan"), float("-inf"), 2**70, [1], 1.5])
def test_a_cell_only_the_csv_module_writes_sends_the_rows_there(odd):
    for rows in ([{"a": "x", "b": 1.5}, {"a": "y", "b": odd}], [{"a": "x", "b": 1}, {"a": odd, "b": None}]):
        assert csvout.text(rows, ["a", "b"]) == by_csv_module(rows, ["a", "b"])


def test_one_column_and_no_rows():
    assert csvout.text([{"a": None}, {"a": ""}, {"a": 1.5}], ["a"]) == '""\n""\n1.5\n'  # as csv.writer quotes
    assert csvout.text([], ["a", "b"]) == ""
