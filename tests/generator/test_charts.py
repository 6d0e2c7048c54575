"""The chart component: spec validation, figures, colours, quality flags, safe embedding."""

from __future__ import annotations

import json

import pytest
from site_fixtures import make_project

from scaleboard.generator import charts
from scaleboard.generator.build import load_data
from scaleboard.generator.config import load_config
from scaleboard.generator.frame import flatten, latest_per_point
from scaleboard.generator.jsonout import rnd, script_json
from scaleboard.generator.site import color_map, make_site, slugify, unique_slugs
from scaleboard.generator.synthetic import make_record


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = make_project(tmp_path_factory.mktemp("charts"))
    config = load_config(root)
    data = load_data(config)
    return make_site(config, data.parts)


def test_valid_spec_has_no_errors(site):
    spec = {
        "model": "gpt2",
        "machine": "epyc-2c",
        "metric": "tokens_per_s",
        "x": "batch_size",
        "series": "optimization",
    }
    assert charts.validate_spec(spec, site) == []


def test_validation_lists_every_problem(site):
    spec = {"model": "gpt3", "metric": "speed", "x": "colour", "series": ["config", "mood"], "sizes": 3, "threads": 0}
    errors = charts.validate_spec(spec, site)
    assert "unknown key 'sizes'" in errors
    assert any(e.startswith("unknown metric 'speed'") for e in errors)
    assert any(e.startswith("unknown x 'colour'") for e in errors)
    assert any(e.startswith("unknown series 'mood'") for e in errors)
    assert any(e.startswith("unknown model 'gpt3' (known: ") and "gpt2" in e for e in errors)
    assert "threads: 0 is not a positive integer" in errors
    with pytest.raises(charts.ChartSpecError) as info:
        charts.parse_spec(spec, site)
    assert info.value.errors == errors


def test_figure_has_a_line_per_series_on_a_log2_batch_axis(site):
    spec = charts.parse_spec({"model": "gpt2", "machine": "epyc-2c", "suite": "v1", "threads": 2, "series": "config"})
    figure = charts.chart_figure(site.rows, spec, site.colors)
    assert len(figure["data"]) == 5
    trace = figure["data"][0]
    assert trace["name"] == "eager · fp32 · sdpa" and trace["x"] == [1, 2, 4, 8, 16, 32, 64]
    assert trace["line"]["color"] == site.colors["eager · fp32 · sdpa"]
    assert "ms" in trace["hovertemplate"] and "%{y}" in trace["hovertemplate"]
    assert figure["layout"]["xaxis"]["type"] == "log"
    assert figure["layout"]["xaxis"]["ticktext"][-1] == "64"


def test_best_point_of_a_cell_names_its_configuration(site):
    spec = charts.parse_spec(
        {"model": "gpt2", "machine": "epyc-2c", "suite": "v1", "metric": "tokens_per_s", "series": "optimization"}
    )
    figure = charts.chart_figure(site.rows, spec, site.colors)
    eager = next(t for t in figure["data"] if t["name"] == "eager")
    # eager mixes fp32, bf16 and int8: the hover says which configuration each point is
    named = eager.get("customdata") or [eager["hovertemplate"]]
    assert all("eager · bf16 · sdpa" in text for text in named)
    lat = make_record()["latency_ms"]
    rows = [
        flatten(make_record(batch_size=1, optimization="compile", latency_ms={**lat, "p50": 1.0})),
        flatten(make_record(batch_size=1, latency_ms={**lat, "p50": 2.0})),
        flatten(make_record(batch_size=2, optimization="compile", latency_ms={**lat, "p50": 4.0})),
        flatten(make_record(batch_size=2, latency_ms={**lat, "p50": 3.0})),
    ]
    single = charts.chart_figure(rows, charts.parse_spec({"series": []}), site.colors)["data"][0]
    assert single["y"] == [1.0, 3.0]
    assert single["customdata"] == ["compile · fp32 · sdpa · 2 threads", "eager · fp32 · sdpa · 2 threads"]
    assert "%{customdata}" in single["hovertemplate"]


def test_colours_are_the_same_in_every_chart():
    colors = color_map(["compile · bf16 · sdpa", "eager · fp32 · sdpa"])
    again = color_map(["eager · fp32 · sdpa", "compile · bf16 · sdpa", "compile · bf16 · sdpa"])
    assert colors == again
    assert list(colors) == ["eager · fp32 · sdpa", "compile · bf16 · sdpa"]  # baseline first


def test_failing_configuration_carries_a_flag(site):
    spec = charts.parse_spec({"model": "gpt2", "machine": "epyc-2c", "suite": "v1", "threads": 2})
    figure = charts.chart_figure(site.rows, spec, site.colors, flagged={"eager · int8-dynamic · sdpa"})
    assert "eager · int8-dynamic · sdpa ⚠" in [t["name"] for t in figure["data"]]


def test_speedup_heatmap_is_centred_on_one(site):
    spec = charts.parse_spec(
        {"model": "gpt2", "machine": "epyc-2c", "suite": "v1", "threads": 2, "metric": "speedup", "type": "heatmap"}
    )
    figure = charts.chart_figure(site.rows, spec, site.colors)
    heat = figure["data"][0]
    assert heat["type"] == "heatmap" and heat["zmid"] == 0
    baseline_row = heat["y"].index("eager · fp32 · sdpa")
    assert set(heat["customdata"][baseline_row]) == {1}


def test_a_chart_block_embeds_safe_json(site):
    from scaleboard.generator import embeds

    spec = {"model": "gpt2", "machine": "NVIDIA T4", "suite": "v2", "title": "</script><b>"}
    html = str(embeds.chart(site, spec, "chart-1"))
    assert "</script><b>" not in html
    assert '<figure class="chart"' in html
    data = json.loads(html.split('class="chart-data">')[1].split("</script>")[0])
    assert data[""]["layout"]["title"]["text"] == "</script><b>"


def test_script_json_never_closes_the_script():
    assert str(script_json({"a": "</script>&"})) == '{"a":"\\u003c/script\\u003e\\u0026"}'


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1234.5678, 1234.6), (0.012345678, 0.012346), (12345.67, 12346), (7, 7), (None, None), (float("nan"), None)],
)
def test_rounding_keeps_five_significant_digits(value, expected):
    assert rnd(value) == expected


def test_rounding_arrays_gives_what_rounding_each_value_gives():
    import math

    import numpy as np

    from scaleboard.generator.jsonout import rnd_floats

    rng = np.random.default_rng(3)
    magnitudes = 10 ** rng.uniform(-20, 16, 200_000) * rng.choice([-1, 1], 200_000)
    decimals = [k / 10**d for d in range(8) for k in range(300)]  # near ties at every digit count
    powers = [float(f"{m}e{e}") for m in (1, 5, 15, 99999, 999995, 100005, 123455) for e in range(-20, 17)]
    edges = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e15, 1e15 - 0.5, 9999.5, 10000.5, 1e-19, 5e-324, 9.99995]
    values = np.concatenate([magnitudes, decimals, powers, edges])
    expected = [rnd(float(v)) for v in values]
    got = rnd_floats(values)
    assert [type(v) for v in got] == [type(v) for v in expected]  # ints where rnd gives ints, None for NaN
    assert [math.copysign(1, v) if v is not None else None for v in got] == [
        math.copysign(1, v) if v is not None else None for v in expected
    ]  # -0.0 stays negative
    assert got == expected


def test_a_page_rounds_its_points_at_once_to_what_each_figure_would_round():
    ms = [10.0, 10.2, 9.8, 10.1, 9.9, 10.3, 9.7, 10.0]
    rows = [flatten(make_record(samples_ms=[m * b * 1.37 for m in ms], iterations=8, batch_size=b)) for b in (1, 2, 4)]
    rows.append(flatten(make_record(samples_ms=[10.0, 10.0], iterations=2, batch_size=8)))  # no interval
    ints = flatten(make_record(samples_ms=ms, iterations=8, batch_size=16))
    ints.update(latency_ms=10, latency_ci_low=9, latency_ci_high=11)  # a record may hold ints: left to _point
    rows.append(ints)
    metrics = ("latency_ms", "tokens_per_s", "samples_per_s")
    points: charts.Points = {}
    charts.fill_points(rows, metrics, points)
    assert not points  # a row's interval holds ints: the page's points are left to _point
    rows.remove(ints)
    charts.fill_points(rows, metrics, points)
    assert sorted(points) == sorted(metrics)
    drawn = [p for memo in points.values() for p in memo.values()]
    assert len(drawn) == len(metrics) * len(rows)
    for column, memo in points.items():
        for row_id, point in memo.items():
            row = next(r for r in rows if id(r) == row_id)
            assert point == charts._point(row[column], row, charts.METRICS[column])
    assert any(p[1] is not None for p in drawn) and any(p[1] is None for p in drawn)


def test_slugs_are_safe_and_unique():
    assert slugify("../../x") == "x"
    assert slugify("NVIDIA H100 80GB HBM3") == "nvidia-h100-80gb-hbm3"
    slugs = unique_slugs(["a b", "a-b", "...", "<>"])
    assert len(set(slugs.values())) == 4
    assert all(s and "/" not in s and "." not in s for s in slugs.values())


def test_newest_record_of_a_point_wins():
    old = make_record(created_at="2026-01-01T00:00:00Z")
    new = make_record(created_at="2026-02-01T00:00:00Z", latency_ms={**old["latency_ms"], "p50": 5.0})
    rows = [flatten(r) for r in latest_per_point([new, old])]
    assert len(rows) == 1 and rows[0]["latency_p50_ms"] == 5.0


def test_a_line_drawing_a_failing_configuration_is_flagged(site):
    spec = charts.parse_spec(
        {"model": "gpt2", "machine": "epyc-2c", "suite": "v1", "threads": 2, "series": "precision"}
    )
    names = [t["name"] for t in charts.chart_figure(site.rows, spec, site.colors)["data"]]
    assert names == ["fp32", "bf16", "int8-dynamic ⚠"]


def test_a_time_chart_spanning_a_wide_range_starts_on_a_log_axis_with_a_switch():
    from scaleboard.generator.charts import ChartSpec, chart_figure

    base = _row()
    rows = [
        {**base, "config": config, "batch_size": b, "latency_ms": ms * scale, "latency_stat": "median"}
        for config, scale in (
            ("eager · fp32 · sdpa", 1.0),
            ("eager · bf16 · sdpa", 80.0),
        )  # bf16 without native support
        for b, ms in ((1, 300.0), (2, 560.0))
    ]
    wide = chart_figure(rows, ChartSpec(metric="latency_ms", x="batch_size"), {})
    assert wide["layout"]["yaxis"]["type"] == "log"
    (menu,) = wide["layout"]["updatemenus"]
    assert [b["label"] for b in menu["buttons"]] == ["linear", "log"] and menu["active"] == 1
    narrow = chart_figure(rows[:2], ChartSpec(metric="latency_ms", x="batch_size"), {})
    assert narrow["layout"]["yaxis"]["type"] == "linear" and narrow["layout"]["updatemenus"][0]["active"] == 0
    forced = chart_figure(rows, ChartSpec(metric="latency_ms", x="batch_size", log_y=False), {})
    assert forced["layout"]["yaxis"]["type"] == "linear"
    throughput = chart_figure(rows, ChartSpec(metric="samples_per_s", x="batch_size"), {})
    assert "updatemenus" not in throughput["layout"]


def _row() -> dict:
    from scaleboard.generator.frame import COLUMNS

    row = dict.fromkeys(COLUMNS)
    row.update(model="gpt2", machine="m", suite="s", task="forward", threads=1, optimization="eager", attention="sdpa",
               samples_per_s=1.0, status="ok", workload="forward · 128 tokens")  # fmt: skip
    return row


def test_many_thread_counts_get_an_ordered_colour_scale_and_configurations_the_dashes():
    from scaleboard.generator.charts import ChartSpec, chart_figure, sequential_colors

    base = _row()
    rows = [
        {**base, "config": config, "threads": t, "batch_size": b, "latency_ms": 10.0 * b / t, "latency_stat": "median"}
        for config in ("eager · fp32 · sdpa", "eager · int8-dynamic · sdpa")
        for t in (1, 2, 4, 8, 16)
        for b in (1, 2)
    ]
    figure = chart_figure(rows, ChartSpec(metric="latency_ms", x="batch_size", series=("config", "threads")), {})
    scale = sequential_colors(5)
    assert len(set(scale)) == 5
    assert len(figure["data"]) == 10
    colors = [t["line"]["color"] for t in figure["data"]]
    assert set(colors) == set(scale)  # one colour per thread count, along the scale
    dashes = {t["line"]["dash"] for t in figure["data"]}
    assert dashes == {"solid", "dash"}  # one dash per configuration, not one per thread count
    two = [r for r in rows if r["threads"] in (1, 2)]
    few = chart_figure(two, ChartSpec(metric="latency_ms", x="batch_size", series=("config", "threads")), {})
    assert len({t["line"]["dash"] for t in few["data"]}) == 2  # two values: the usual colour-per-configuration


def test_latency_and_throughput_carry_the_median_interval_as_error_bars():
    ms = [10.0, 10.2, 9.8, 10.1, 9.9, 10.3, 9.7, 10.0]  # 8 samples: an order-statistic interval exists
    with_ci = flatten(make_record(samples_ms=ms, iterations=8, batch_size=1))
    few = flatten(make_record(samples_ms=[10.0, 10.0], iterations=2, batch_size=2))
    rows = [with_ci, few]
    spec = charts.parse_spec({"series": [], "metric": "latency_ms"})
    (trace,) = charts.chart_figure(rows, spec, {})["data"]
    low, high = with_ci["latency_ci_low"], with_ci["latency_ci_high"]
    assert trace["error_y"]["array"] == [rnd(high - with_ci["latency_ms"]), None]  # two samples: no interval
    assert trace["error_y"]["arrayminus"][0] == rnd(with_ci["latency_ms"] - low)
    spec = charts.parse_spec({"series": [], "metric": "samples_per_s"})
    (trace,) = charts.chart_figure(rows, spec, {})["data"]
    value = with_ci["samples_per_s"]  # throughput: the interval turned over
    assert trace["error_y"]["array"][0] == rnd(value * (with_ci["latency_ms"] / low - 1))
    spec = charts.parse_spec({"series": [], "metric": "peak_memory_gib"})
    assert "error_y" not in charts.chart_figure(rows, spec, {})["data"][0]


def test_page_json_is_compact_deterministic_and_safe_in_a_script_tag():
    import numpy as np

    from scaleboard.generator.jsonout import dumps, script_json

    data = {"b": [1.5, np.float64(2.25), np.int64(3)], "a": "</script><b>&"}
    assert dumps(data) == '{"a":"</script><b>&","b":[1.5,2.25,3]}'
    text = str(script_json(data))
    assert text.startswith('{"b":') and "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["a"] == "</script><b>&"
    assert json.loads(str(script_json({"x": float("nan")}))) == {"x": None}  # a gap, never a number
    with pytest.raises(ValueError, match="nan"):
        dumps({"x": [float("nan")]})
