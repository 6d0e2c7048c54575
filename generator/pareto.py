"""Pareto views of one model page: what a configuration gives up for what it gains.

Latency against throughput: every (configuration, batch size) point at the page's largest
thread count; a point is on the frontier when no other point has both a lower latency and
a higher throughput. Speed against quality: each configuration's best throughput against
its top-1 agreement with fp32 eager (the correctness gate), as in a precision study; a
configuration is on the frontier when no other is both faster and more faithful. Both are
drawn per workload: a page whose suite ran two sequence lengths gets a Workload menu.
Configurations failing the correctness gate are drawn but never on the frontier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from scaleboard.generator.charts import ChartBlock, Points, chart_block, workload_menu
from scaleboard.generator.frame import Row, by_workload
from scaleboard.generator.jsonout import rnd
from scaleboard.generator.site import config_order

FRONTIER = {"type": "scatter", "mode": "lines", "line": {"color": "#5b6577", "dash": "dot", "width": 1.5},
            "hoverinfo": "skip"}  # fmt: skip


def frontier(points: list[Any], x: Callable[..., Any], y: Callable[..., Any], lower_x: bool) -> list[Any]:
    """The points no other point beats on both axes (x lower or higher as said, y always higher)."""
    ordered = sorted(points, key=lambda p: (x(p) if lower_x else -x(p), -y(p)))
    best, kept = float("-inf"), []
    for p in ordered:
        if y(p) > best:
            kept.append(p)
            best = y(p)
    return kept


def _throughput(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """(column, unit) the page's throughput is counted in: tokens/s where the records have it."""
    if any(r["tokens_per_s"] is not None for r in rows):
        return "tokens_per_s", "tokens/s"
    return "samples_per_s", "images/s" if any(r["sample_unit"] == "images" for r in rows) else "samples/s"


def latency_throughput(
    rows: list[dict[str, Any]], colors: Mapping[str, str], flagged: set[str], threads: int, drawn: Points | None = None
) -> ChartBlock | None:
    """One figure per workload: latency (x) against throughput (y), the frontier dotted.
    ``drawn``: the page's rounded points (:func:`charts.fill_points`), where it has them."""
    column, unit = _throughput(rows)
    kept = drawn or {}

    def rounded(r: Row, name: str) -> float | int | None:
        point = kept.get(name, {}).get(id(r))
        return rnd(r[name]) if point is None else point[0]

    figures = {}
    for work, points in by_workload(r for r in rows if r["latency_ms"] and r[column]).items():
        traces = []
        by_config: dict[str, list[Row]] = defaultdict(list)
        for r in points:
            by_config[r["config"]].append(r)
        for config in sorted(by_config, key=config_order):
            mine = sorted(by_config[config], key=lambda r: r["batch_size"])
            name = f"{config} ⚠" if config in flagged else config
            traces.append({
                "type": "scatter", "mode": "lines+markers", "name": name,
                "x": [rounded(r, "latency_ms") for r in mine], "y": [rounded(r, column) for r in mine],
                "customdata": [r["batch_size"] for r in mine],
                "line": {"color": colors.get(config, "#79706e"), "width": 1}, "marker": {"size": 7},
                "hovertemplate": f"{name}<br>batch %{{customdata}}<br>%{{x}} ms · %{{y}} {unit}<extra></extra>",
            })  # fmt: skip
        best = frontier([r for r in points if r["config"] not in flagged], lambda r: r["latency_ms"],
                        lambda r: r[column], lower_x=True)  # fmt: skip
        if best:
            traces.append({**FRONTIER, "name": "Pareto frontier", "x": [rounded(r, "latency_ms") for r in best],
                           "y": [rounded(r, column) for r in best]})  # fmt: skip
        figures[work] = {"data": traces, "layout": {
            "title": {"text": f"Latency against throughput at {threads} thread{'s' if threads != 1 else ''}"},
            "xaxis": {"title": {"text": "latency of one call (ms, median)"}, "type": "log"},
            "yaxis": {"title": {"text": f"throughput ({unit})"}, "type": "log"},
        }}  # fmt: skip
    return _by_workload_block("Latency against throughput", figures, id="pareto-latency-chart",
                              caption="Each line is one configuration, its points the batch sizes (hover for each). "
                              "Dotted: the frontier, where nothing is both faster per call and higher in throughput; "
                              "configurations failing the correctness gate (⚠) are left off it.")  # fmt: skip


def speed_quality(rows: list[dict[str, Any]], colors: Mapping[str, str], flagged: set[str]) -> ChartBlock | None:
    """Each configuration's best throughput (x) against its top-1 agreement (y), one figure per
    workload (a Workload menu where there are several); None without two configurations to compare."""
    column, unit = _throughput(rows)
    figures = {}
    for work, mine in by_workload(rows).items():
        figure = _speed_quality(mine, column, unit, colors, flagged)
        if figure is not None:
            figures[work] = figure
    return _by_workload_block("Speed against quality", figures, id="pareto-quality-chart",
                              caption="Agreement is the correctness gate's: the share of top-1 predictions equal to "
                              "fp32 eager's (the lowest over the configuration's points). Dotted: the frontier of "
                              "passing configurations, where nothing is both faster and more faithful.")  # fmt: skip


def _by_workload_block(title: str, figures: dict[str, Any], *, id: str, caption: str) -> ChartBlock | None:
    """The block of figures keyed by workload: under a "Workload" menu, or the only one alone
    (key ``""``); None without any."""
    if not figures:
        return None
    menu = workload_menu(list(figures))
    return chart_block(title, figures if menu else {"": next(iter(figures.values()))}, menu, id=id, caption=caption)


def _speed_quality(
    rows: list[dict[str, Any]], column: str, unit: str, colors: Mapping[str, str], flagged: set[str]
) -> dict[str, Any] | None:
    """The speed-against-quality figure of one workload's rows; None without two configurations."""
    best: dict[str, dict[str, Any]] = {}
    agreement: dict[str, float] = {}
    for r in rows:
        if r[column] and (r["config"] not in best or r[column] > best[r["config"]][column]):
            best[r["config"]] = r
        if r["next_token_agreement"] is not None:
            agreement[r["config"]] = min(agreement.get(r["config"], 1.0), r["next_token_agreement"])
    configs = [c for c in sorted(best, key=config_order) if c in agreement]
    if len(configs) < 2:
        return None
    traces = []
    for config in configs:
        name = f"{config} ⚠" if config in flagged else config
        r = best[config]
        traces.append({
            "type": "scatter", "mode": "markers", "name": name, "x": [rnd(r[column])],
            "y": [rnd(agreement[config] * 100)], "marker": {"size": 11, "color": colors.get(config, "#79706e"),
                                                             "symbol": "x" if config in flagged else "circle"},
            "hovertemplate": f"{name}<br>%{{x}} {unit} at batch {r['batch_size']}<br>%{{y}}% agreement<extra></extra>",
        })  # fmt: skip
    passing = [c for c in configs if c not in flagged]
    edge = frontier(passing, lambda c: best[c][column], lambda c: agreement[c], lower_x=False)
    if edge:
        edge = sorted(edge, key=lambda c: best[c][column])
        traces.append({**FRONTIER, "name": "Pareto frontier", "x": [rnd(best[c][column]) for c in edge],
                       "y": [rnd(agreement[c] * 100) for c in edge]})  # fmt: skip
    return {"data": traces, "layout": {
        "title": {"text": "Speed against quality"},
        "xaxis": {"title": {"text": f"best throughput ({unit})"}, "type": "log"},
        "yaxis": {"title": {"text": "top-1 agreement with fp32 eager (%)"}, "ticksuffix": "%"},
    }}  # fmt: skip


def charts(
    rows: list[Row], colors: Mapping[str, str], flagged: set[str], threads: int, points: Points | None = None
) -> list[ChartBlock]:
    """The page's trade-off blocks that its records can fill."""
    blocks = (latency_throughput(rows, colors, flagged, threads, points), speed_quality(rows, colors, flagged))
    return [b for b in blocks if b]
