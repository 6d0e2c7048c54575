"""The chart component: records + a chart spec → a Plotly figure (a plain dict) → HTML.

The model pages, the compare page and ```` ```chart ```` blocks in posts all use it.
A spec is a small mapping (the YAML of a ```` ```chart ```` block maps straight onto it)::

    model: gpt2                      # filters: a value or a list of values, keys below
    machine: NVIDIA H100 80GB HBM3
    metric: tokens_per_s             # what is on y, one of METRICS
    x: batch_size                    # one of X_AXES (batch_size is drawn on a log2 axis)
    series: optimization             # one line (or bar group) per value; a name or a list of names
    type: line                       # line | bar | heatmap (default: line, bar when x is categorical)
    title: GPT-2 on an H100          # optional; default "<metric> by <x>"
    log_x: true                      # optional; default true for batch_size
    log_y: false                     # optional; default: log where a time metric spans over 20x

Metrics: ``latency_ms`` (p50; also ``latency_p90_ms``, ``latency_p99_ms``, ``latency_mean_ms``),
``tokens_per_s``, ``samples_per_s``, ``peak_memory_gib``, ``first_call_s``, ``speedup``
(over the baseline of scaleboard.yaml), ``tokens_per_s_per_gib``, ``latency_cv``,
``p99_over_p50``, ``next_token_agreement``, ``max_abs_diff``, ``joules_per_sample``, ``mfu``;
aliases ``latency``, ``throughput``, ``peak_memory``.
x: ``batch_size``, ``threads``, ``config``, ``optimization``, ``precision``, ``attention``,
``machine``, ``model``, ``suite``. series: any x value, ``task``, ``workload`` or ``none``.
``config`` is ``optimization · precision · attention``, e.g. ``compile · bf16 · sdpa``.

Filter keys (singular or plural, a value or a list): ``model``, ``machine``, ``suite``,
``task``, ``workload(s)`` (``forward · 128 tokens``), ``optimization(s)``, ``precision(s)``,
``attention(s)``, ``config(s)``, ``threads``, ``batch_size(s)``. When several points share
one (series, x) cell, the best value is drawn and the hover names the configuration it came from.

:func:`validate_spec` returns every problem as a message; :func:`parse_spec` raises
:class:`ChartSpecError` with them. Figures are plain dicts with compact, rounded data
(``jsonout.rnd``): building ``plotly.graph_objects`` figures would be ~100× slower.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import Any, TypedDict

from scaleboard.columns import BY_NAME, Column
from scaleboard.columns import COLUMNS as REGISTRY
from scaleboard.errors import ScaleboardError
from scaleboard.generator.frame import Row
from scaleboard.generator.jsonout import rnd, rnd_floats
from scaleboard.generator.site import PALETTE, Site, config_order
from scaleboard.record import ATTENTIONS, OPTIMIZATIONS, PRECISIONS, TASKS


@dataclass(frozen=True)
class Metric:
    column: str
    label: str
    unit: str
    higher_is_better: bool
    scale: float = 1.0  # multiply the column by this to get ``unit``


GIB = 1024**3

#: A Plotly figure: ``{"data": [trace, ...], "layout": {...}}``, the JSON plotly.js draws.
Figure = dict[str, Any]


def _metric(column: Column, **changes: Any) -> Metric:
    return replace(Metric(column.name, column.label, column.unit, column.higher_is_better), **changes)


#: What a chart can put on y: every metric column of the registry (:mod:`scaleboard.columns`), plus
#: views of a column in another unit and the compare page's own ratio.
METRICS: dict[str, Metric] = {
    **{c.name: _metric(c) for c in REGISTRY if c.metric},
    "images_per_s": _metric(BY_NAME["samples_per_s"], unit="images/s"),  # samples of an image model
    "peak_memory_gib": _metric(BY_NAME["peak_memory_bytes"], unit="GiB", scale=1 / GIB),
    "relative_tokens_per_s": Metric("relative_tokens_per_s", "Throughput relative to the reference", "×", True),
}
#: Metrics the compare page computes itself; records do not hold them.
PAGE_ONLY_METRICS = ("relative_tokens_per_s",)
METRIC_ALIASES = {"latency": "latency_ms", "throughput": "tokens_per_s", "peak_memory": "peak_memory_gib"}

#: Columns a chart can put on x or split into series.
X_AXES = ("batch_size", "threads", "config", "optimization", "precision", "attention", "machine", "model", "suite")
SERIES = (*X_AXES, "task", "workload")
NUMERIC = ("batch_size", "threads")
TYPES = ("line", "bar", "heatmap")
FILTERS = {
    "model": "model",
    "models": "model",
    "machine": "machine",
    "machines": "machine",
    "suite": "suite",
    "suites": "suite",
    "task": "task",
    "workload": "workload",
    "workloads": "workload",
    "optimization": "optimization",
    "optimizations": "optimization",
    "precision": "precision",
    "precisions": "precision",
    "attention": "attention",
    "attentions": "attention",
    "config": "config",
    "configs": "config",
    "threads": "threads",
    "batch_size": "batch_size",
    "batch_sizes": "batch_size",
}
OPTIONS = ("metric", "x", "series", "type", "title", "log_x", "log_y")
LABELS = {
    "batch_size": "batch size",
    "threads": "threads",
    "config": "configuration",
    "optimization": "optimization",
    "precision": "precision",
    "attention": "attention",
    "machine": "machine",
    "model": "model",
    "suite": "suite",
    "task": "task",
    "workload": "workload",
}
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
#: Series dimensions with a natural order: with 3 or more values they get a sequential colour
#: scale (light to dark along the axis), not one colour in many dash patterns.
LOG_DTICK = "D2"  # a log axis labels 1, 2 and 5 of each decade, not every digit
ORDERED = ("threads", "batch_size", "seq_len", "new_tokens")
ORDERED_MIN_VALUES = 3
SEQUENTIAL_SCALE = "Viridis"
SEQUENTIAL_SPAN = 0.9  # Viridis' last tenth (bright yellow) is hard to see on white


class ChartSpecError(ScaleboardError, ValueError):
    """A chart spec with problems; ``errors`` lists each one."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class ChartSpec:
    metric: str = "latency_ms"
    x: str = "batch_size"
    series: tuple[str, ...] = ("config",)
    type: str = ""
    title: str = ""
    log_x: bool | None = None
    log_y: bool | None = None  # None: log where a time metric spans more than WIDE_RANGE
    filters: tuple[tuple[str, tuple[Any, ...]], ...] = field(default=())

    @property
    def chart_type(self) -> str:
        return self.type or ("line" if self.x in NUMERIC else "bar")


def validate_spec(spec: Mapping[str, Any], site: Site | None = None) -> list[str]:
    """Every problem with a spec mapping: unknown keys, metrics, axes, models, machines..."""
    if not isinstance(spec, Mapping):
        return ["a chart spec must be a mapping of keys to values"]
    errors = [f"unknown key '{k}'" for k in spec if k not in OPTIONS and k not in FILTERS]
    metric = METRIC_ALIASES.get(spec.get("metric", "latency_ms"), spec.get("metric", "latency_ms"))
    if metric not in METRICS or metric in PAGE_ONLY_METRICS:
        errors.append(
            f"unknown metric {metric!r}; expected one of {', '.join(m for m in METRICS if m not in PAGE_ONLY_METRICS)}"
        )
    if spec.get("x", "batch_size") not in X_AXES:
        errors.append(f"unknown x {spec.get('x')!r}; expected one of {', '.join(X_AXES)}")
    for name in _as_list(spec.get("series", "config")):
        if name not in SERIES and name not in ("none", None):
            errors.append(f"unknown series {name!r}; expected one of {', '.join(SERIES)}")
    if spec.get("type", "line") not in TYPES:
        errors.append(f"unknown type {spec.get('type')!r}; expected one of {', '.join(TYPES)}")
    errors.extend(_check_filter_values(spec, site))
    return errors


def _check_filter_values(spec: Mapping[str, Any], site: Site | None) -> list[str]:
    known = {
        "optimization": OPTIMIZATIONS,
        "precision": PRECISIONS,
        "attention": ATTENTIONS,
        "task": TASKS,
    }
    if site is not None:
        for dim in ("model", "machine", "suite", "config"):
            known[dim] = site.names(dim)
    errors = []
    for key, column in FILTERS.items():
        if key not in spec:
            continue
        for value in _as_list(spec[key]):
            if column in NUMERIC and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                errors.append(f"{key}: {value!r} is not a positive integer")
            elif column in known and value not in known[column]:
                some = ", ".join(known[column][:12]) + (" ..." if len(known[column]) > 12 else "")
                errors.append(f"unknown {column} {value!r} (known: {some or 'none'})")
    return errors


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def parse_spec(spec: Mapping[str, Any], site: Site | None = None) -> ChartSpec:
    """A validated :class:`ChartSpec`; raises :class:`ChartSpecError` listing every problem."""
    errors = validate_spec(spec, site)
    if errors:
        raise ChartSpecError(errors)
    metric = spec.get("metric", "latency_ms")
    series = tuple(s for s in _as_list(spec.get("series", "config")) if s not in ("none", None))
    filters: dict[str, tuple[Any, ...]] = {}
    for key, column in FILTERS.items():
        if key in spec:
            filters[column] = (*filters.get(column, ()), *_as_list(spec[key]))
    return ChartSpec(
        metric=METRIC_ALIASES.get(metric, metric),
        x=spec.get("x", "batch_size"),
        series=series,
        type=spec.get("type", ""),
        title=str(spec.get("title", "")),
        log_x=spec.get("log_x"),
        log_y=None if spec.get("log_y") is None else bool(spec.get("log_y")),
        filters=tuple(sorted(filters.items())),
    )


def filter_rows(rows: Iterable[dict[str, Any]], filters: Iterable[tuple[str, tuple[Any, ...]]]) -> list[dict[str, Any]]:
    """Rows whose every filtered column holds one of the allowed values."""
    checks = [(column, set(values)) for column, values in filters]
    return [r for r in rows if all(r[c] in allowed for c, allowed in checks)]


#: A drawn point: (y, error bar above, error bar below), rounded.
Point = tuple[float | int | None, float | int | None, float | int | None]
#: metric (a column, or ``column*scale``) → id of a row → the point it draws.
Points = dict[str, dict[int, Point]]


def chart_figure(
    rows: Iterable[dict[str, Any]],
    spec: ChartSpec,
    colors: Mapping[str, str],
    flagged: Iterable[str] = (),
    points: Points | None = None,
) -> dict[str, Any]:
    """A Plotly figure dict for ``rows`` (flat rows, see ``scaleboard.generator.frame``) and ``spec``.

    ``colors`` maps configuration names to colours (``Site.colors``); ``flagged`` names
    the configurations that fail the correctness gate: their labels carry a ⚠. ``points``
    keeps each row's drawn point across the figures of one page, which draw each row several
    times (per batch size, per optimization, per thread count): the rows must outlive it.
    """
    metric = METRICS[spec.metric]
    if spec.filters:
        rows = filter_rows(rows, spec.filters)
    cells = _best_cells(rows, spec, metric)
    flagged = frozenset(flagged)
    if spec.chart_type == "heatmap":
        data = [_heatmap_trace(cells, spec, metric, flagged)] if cells else []
    else:
        data = _traces(cells, spec, metric, colors, flagged, {} if points is None else points)
    return {"data": data, "layout": _layout(spec, metric, cells)}


#: series key → x → (value, row): the best value of each cell of a chart.
Cells = dict[tuple[Any, ...], dict[Any, tuple[float, Row]]]


def _best_cells(rows: Iterable[Row], spec: ChartSpec, metric: Metric) -> Cells:
    """series key → x → (value, row): the best value of each cell."""
    column, higher, x, series = metric.column, metric.higher_is_better, spec.x, spec.series
    # grouped by the series' value itself (or its tuple), made a key tuple at the end
    group = itemgetter(*series) if series else None
    lines: dict[Any, dict[Any, tuple[float, Row]]] = {}
    for r in rows:
        value = r.get(column)
        if value is None or value != value:  # missing or NaN
            continue
        key = group(r) if group is not None else ()
        line = lines.get(key)
        if line is None:
            line = lines[key] = {}
        xv = r[x]
        old = line.get(xv)
        if old is None or (value > old[0] if higher else value < old[0]):
            line[xv] = (value, r)
    if len(series) == 1:
        return {(key,): line for key, line in lines.items()}
    return lines


def _order(dim: str, values: Iterable[Any]) -> list[Any]:
    values = list(values)
    if dim == "config":
        return sorted(values, key=config_order)
    if dim in ("optimization", "precision", "attention"):
        axis = {"optimization": OPTIMIZATIONS, "precision": PRECISIONS, "attention": ATTENTIONS}[dim]
        return sorted(values, key=lambda v: (axis.index(v) if v in axis else len(axis), v))
    return sorted(values)


def _series_order(spec: ChartSpec, keys: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    keys = list(keys)
    for position in reversed(range(len(spec.series))):
        rank = {v: i for i, v in enumerate(_order(spec.series[position], {k[position] for k in keys}))}
        keys.sort(key=functools.partial(_rank_at, position, rank))
    return keys


def _rank_at(position: int, rank: dict[Any, int], key: tuple[Any, ...]) -> int:
    return rank[key[position]]


def threads_label(count: int) -> str:
    """``1 thread``, ``2 threads``."""
    return f"{count} thread" + ("s" if count != 1 else "")


def _label(dim: str, value: Any, flagged: frozenset[str] = frozenset()) -> str:
    if dim == "threads":
        return threads_label(value)
    if dim == "batch_size":
        return f"batch {value}"
    if dim == "config" and value in flagged:
        return f"{value} ⚠"
    return str(value)


def _config_labels(configs: list[Any], flagged: frozenset[Any]) -> list[str]:
    """``_label("config", c, flagged)`` of each of ``configs``: a bar chart's x labels."""
    if flagged.isdisjoint(configs):
        return [str(c) for c in configs]
    return [_label("config", c, flagged) for c in configs]


def _traces(
    cells: Cells, spec: ChartSpec, metric: Metric, colors: Mapping[str, str], flagged: frozenset[Any], points: Points
) -> list[dict[str, Any]]:
    keys = _series_order(spec, cells)
    styles = _styles(spec, keys, colors)
    unit = f" {metric.unit}" if metric.unit else ""
    traces = []
    for key in keys:
        line = cells[key]
        xs = _order(spec.x, line)
        name = " · ".join(_label(d, v, flagged) for d, v in zip(spec.series, key, strict=True)) or metric.label
        if "config" not in (*spec.series, spec.x) and any(line[x][1].get("quality_ok") is False for x in xs):
            name += " ⚠"  # a point of this line comes from a configuration failing the correctness gate
        trace: dict[str, Any] = {
            "name": name,
            "x": _config_labels(xs, flagged) if spec.x == "config" else xs,
        }
        drawn = _points(line, xs, metric, points)
        trace["y"] = [y for y, _, _ in drawn]
        color, dash = styles[key]
        if spec.chart_type == "bar":
            trace["type"] = "bar"
            bar_colors = [colors.get(x, color) for x in xs] if spec.x == "config" and not spec.series else color
            trace["marker"] = {"color": bar_colors}
        else:
            trace.update(type="scatter", mode="lines+markers", line={"color": color, "dash": dash})
        if metric.column in INTERVAL_METRICS and metric.scale == 1 and any(p[1] is not None for p in drawn):
            bars = {"array": [p[1] for p in drawn], "arrayminus": [p[2] for p in drawn]}
            trace["error_y"] = {**bars, "type": "data", "symmetric": False, "thickness": 1, "width": 3, "color": color}
        origins = _origins(line, xs, spec)
        where = "%{x}" if spec.x == "config" else f"{LABELS[spec.x]} %{{x}}"
        if isinstance(origins, list):
            trace["customdata"] = origins
            origins = "%{customdata}"
        origin = f"<br>{_hover_text(origins)}" if origins else ""
        trace["hovertemplate"] = f"{_hover_text(name)}<br>{where}<br>%{{y}}{unit}{origin}<extra></extra>"
        traces.append(trace)
    return traces


#: Metrics drawn with the 95% interval of the point's median latency as error bars (throughput
#: is batch / latency, so its interval is the latency interval turned over).
INTERVAL_METRICS = {"latency_ms": False, "samples_per_s": True, "tokens_per_s": True}


def _points(line: dict[Any, tuple[float, Row]], xs: list[Any], metric: Metric, points: Points) -> list[Any]:
    """The drawn point of each x: its rounded value and the rounded error bars of the median's
    95% interval (None where it has none: a mean, or under 6 samples; and for other metrics)."""
    memo = points.setdefault(metric.column if metric.scale == 1 else f"{metric.column}*{metric.scale}", {})
    try:  # each row's point made before (fill_points, or another figure of the page): looked up
        return [memo[id(line[x][1])] for x in xs]
    except KeyError:
        pass
    out = []
    for x in xs:
        value, row = line[x]
        point = memo.get(id(row))
        if point is None:
            point = memo[id(row)] = _point(value, row, metric)
        out.append(point)
    return out


def _point(value: float, row: Row, metric: Metric) -> Point:
    if metric.scale != 1:
        return rnd(value * metric.scale), None, None
    inverse = INTERVAL_METRICS.get(metric.column)
    if inverse is None:
        return rnd(value), None, None
    low, high, p50 = row.get("latency_ci_low"), row.get("latency_ci_high"), row.get("latency_ms")
    if low is None or high is None or not p50 or not low or row.get("latency_stat") != "median":
        return rnd(value), None, None
    if inverse:  # throughput ∝ 1 / latency: the slow end of the interval is the low throughput
        return rnd(value), rnd(value * (p50 / low - 1)), rnd(value * (1 - p50 / high))
    return rnd(value), rnd(high - value), rnd(value - low)


def fill_points(rows: list[Row], metrics: Iterable[str], points: Points) -> None:
    """Put the drawn point of every row for each of ``metrics`` into ``points`` at once: what
    :func:`_point` gives, computed and rounded with numpy (:func:`jsonout.rnd_floats`), column by
    column. A model page draws each of its thousands of rows in several figures. A column
    holding a number that is not a float (a record may hold an int) is left to :func:`_point`."""
    import numpy as np

    ids = [id(r) for r in rows]
    low, high, p50 = ([r.get(c) for r in rows] for c in ("latency_ci_low", "latency_ci_high", "latency_ms"))
    floats = _floats_only(low) and _floats_only(high) and _floats_only(p50)
    if floats:  # where _point draws an interval: both ends, a median latency that is not 0, a low end not 0
        lo, hi, mid = (np.array(c, dtype=float) for c in (low, high, p50))  # None → NaN
        has_ci = _given(low) & _given(high) & _given(p50) & (mid != 0) & (lo != 0)
        has_ci &= np.array([r.get("latency_stat") == "median" for r in rows])
    for name in metrics:
        metric = METRICS[name]
        column, inverse = metric.column, INTERVAL_METRICS.get(metric.column)
        values = [r.get(column) for r in rows]
        if metric.scale != 1 or not _floats_only(values) or (inverse is not None and not floats):
            continue
        keep = [i for i, v in zip(ids, values, strict=True) if v is not None]  # a missing value is not drawn
        value = np.array([v for v in values if v is not None], dtype=float)
        memo = points.setdefault(column, {})
        if inverse is None:
            memo.update(zip(keep, ((v, None, None) for v in rnd_floats(value)), strict=True))
            continue
        drawn = _given(values)
        lo_, hi_, mid_ = lo[drawn], hi[drawn], mid[drawn]
        with np.errstate(divide="ignore", invalid="ignore"):
            if inverse:  # throughput ∝ 1 / latency: the slow end of the interval is the low throughput
                up, down = value * (mid_ / lo_ - 1), value * (1 - mid_ / hi_)
            else:
                up, down = hi_ - value, value - lo_
        interval = has_ci[drawn]
        rounded = rnd_floats(np.concatenate([value, np.where(interval, up, np.nan), np.where(interval, down, np.nan)]))
        n = len(keep)
        memo.update(zip(keep, zip(rounded[:n], rounded[n : 2 * n], rounded[2 * n :], strict=True), strict=True))


_FLOAT_OR_NONE = frozenset({float, type(None)})


def _floats_only(values: list[Any]) -> bool:
    return _FLOAT_OR_NONE.issuperset(map(type, values))


def _given(values: list[Any]) -> Any:  # a numpy array of bools
    import numpy as np

    return np.array([v is not None for v in values], dtype=bool)


def _origins(line: dict[str, Any], xs: list[Any], spec: ChartSpec) -> list[str] | str | None:
    """The configuration (and threads) behind each point, when the series does not say it:
    one text when every point shares it, else one per point."""
    named = set(spec.series) | {spec.x}
    sample = next(iter(line.values()))[1]
    parts = [d for d in ("config", "threads") if d not in named and d in sample]
    if not parts or ("config" in parts and {"optimization", "precision", "attention"} <= named):
        return None
    get, named_parts = itemgetter(*parts), tuple(parts)
    keys = [get(line[x][1]) for x in xs]
    if keys.count(keys[0]) == len(keys):
        return _origin_text(named_parts, keys[0])
    return [_origin_text(named_parts, key) for key in keys]


@functools.lru_cache(maxsize=4096)
def _origin_text(parts: tuple[str, ...], key: Any) -> str:
    """The text of a point's origin: its value of each of ``parts`` (``key``: a tuple if several)."""
    values = key if len(parts) > 1 else (key,)
    return " · ".join(_label(d, v) for d, v in zip(parts, values, strict=True))


def _hover_text(text: str) -> str:
    """Plotly reads ``%{...}`` in a hover template as a variable: keep names literal."""
    return text if text == "%{customdata}" else text.replace("%{", "%\u200b{")


def sequential_colors(n: int) -> list[str]:
    """``n`` colours along a sequential scale, dark (first value) to light (last)."""
    from plotly.colors import sample_colorscale

    points = [SEQUENTIAL_SPAN * i / (n - 1) for i in range(n)] if n > 1 else [0.0]
    colors: list[str] = sample_colorscale(SEQUENTIAL_SCALE, points)
    return colors


def _styles(
    spec: ChartSpec, keys: list[tuple[Any, ...]], colors: Mapping[str, str]
) -> dict[tuple[Any, ...], tuple[str, str]]:
    """A colour and dash per series: configurations keep their site-wide colour, except beside
    an ordered dimension (threads 1..16) with several values, which takes a sequential colour
    scale while the configurations take the dashes."""
    styles = {}
    ranks = [{v: i for i, v in enumerate(_order(d, {k[p] for k in keys}))} for p, d in enumerate(spec.series)]
    ordered = [p for p, d in enumerate(spec.series) if d in ORDERED and len(ranks[p]) >= ORDERED_MIN_VALUES]
    if ordered:
        position = ordered[0]
        scale = sequential_colors(len(ranks[position]))
        others = [p for p in range(len(spec.series)) if p != position]
        for key in keys:
            dash = DASHES[ranks[others[0]][key[others[0]]] % len(DASHES)] if others else "solid"
            styles[key] = (scale[ranks[position][key[position]]], dash)
        return styles
    for key in keys:
        color, dash = PALETTE[0], "solid"
        if "config" in spec.series:
            color = colors.get(key[spec.series.index("config")], PALETTE[-1])
            others = [ranks[p][key[p]] for p, d in enumerate(spec.series) if d != "config"]
            dash = DASHES[others[0] % len(DASHES)] if others else "solid"
        elif spec.series:
            color = PALETTE[ranks[0][key[0]] % len(PALETTE)]
            dash = DASHES[ranks[1][key[1]] % len(DASHES)] if len(keys[0]) > 1 else "solid"
        styles[key] = (color, dash)
    return styles


def _heatmap_trace(cells: Cells, spec: ChartSpec, metric: Metric, flagged: frozenset[Any]) -> dict[str, Any]:
    keys = _series_order(spec, cells)
    xs = _order(spec.x, {x for line in cells.values() for x in line})
    z = [[rnd(cells[k][x][0] * metric.scale) if x in cells[k] else None for x in xs] for k in keys]
    names = [" · ".join(_label(d, v, flagged) for d, v in zip(spec.series, k, strict=True)) for k in keys]
    unit = f" {metric.unit}" if metric.unit else ""
    trace: dict[str, Any] = {"type": "heatmap", "x": [str(x) for x in xs], "y": names, "z": z, "colorscale": "RdBu"}
    trace["hovertemplate"] = f"%{{y}}<br>{LABELS[spec.x]} %{{x}}<br>%{{z}}{unit}<extra></extra>"
    if spec.metric == "speedup":
        # Diverging around 1× on a log2 scale: red slower than the baseline, blue faster.
        top = max((abs(math.log2(v)) for row in z for v in row if v), default=1.0) or 1.0
        trace.update(zmid=0, z=[[rnd(math.log2(v)) if v else None for v in row] for row in z], customdata=z)
        trace["hovertemplate"] = f"%{{y}}<br>{LABELS[spec.x]} %{{x}}<br>%{{customdata}}×<extra></extra>"
        trace["colorbar"] = _log2_colorbar(top)
        trace.update(zmin=-top, zmax=top, reversescale=True)
    return trace


def _log2_colorbar(top: float) -> dict[str, Any]:
    steps = list(range(-math.ceil(top), math.ceil(top) + 1))
    return {"tickvals": steps, "ticktext": [f"{2.0**s:g}×" for s in steps], "title": {"text": "speed-up"}}


#: How the headline latency is labelled by the statistic the drawn records hold.
STAT_LABELS = {
    frozenset({"median"}): "Latency p50",
    frozenset({"mean"}): "Latency (mean)",
    frozenset({"median", "mean"}): "Latency (p50, or mean where only that was reported)",
}


def metric_label(metric: Metric, cells: Cells) -> str:
    """The metric's label; for the headline latency, it names the statistic drawn (median or mean)."""
    if metric.column != "latency_ms":
        return metric.label
    stats = frozenset(row["latency_stat"] for line in cells.values() for _, row in line.values())
    return STAT_LABELS.get(stats, "Latency p50")


#: A time chart whose largest value is this many times its smallest starts on a log axis, so one
#: slow configuration (bf16 without native support: 25 s beside 0.3 s) does not flatten the rest.
WIDE_RANGE = 20.0
TIME_UNITS = ("ms", "s")


def _wide(metric: Metric, cells: Cells) -> bool:
    if metric.unit not in TIME_UNITS:
        return False
    values = [v for line in cells.values() for v, _ in line.values() if v and v > 0]
    return bool(values) and max(values) / min(values) > WIDE_RANGE


def _scale_buttons(log_y: bool) -> dict[str, Any]:
    """Plotly buttons that switch the y axis between linear and log in the page."""
    return {
        "type": "buttons",
        "direction": "right",
        "showactive": True,
        "active": 1 if log_y else 0,
        "x": 1.0,
        "xanchor": "right",
        "y": 1.12,
        "yanchor": "bottom",
        "pad": {"r": 0, "t": 0},
        "buttons": [
            {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear", "yaxis.dtick": None}]},
            {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log", "yaxis.dtick": LOG_DTICK}]},
        ],
    }


def _layout(spec: ChartSpec, metric: Metric, cells: Cells) -> dict[str, Any]:
    unit = f" ({metric.unit})" if metric.unit else ""
    label = metric_label(metric, cells)
    title = spec.title or f"{label} by {LABELS[spec.x]}"
    layout: dict[str, Any] = {"title": {"text": title}, "xaxis": {"title": {"text": LABELS[spec.x]}}}
    if spec.chart_type == "heatmap":
        layout["xaxis"]["type"] = "category"
        layout["yaxis"] = {"automargin": True, "autorange": "reversed"}  # first series on top
        return layout
    log_y = spec.log_y if spec.log_y is not None else _wide(metric, cells)
    layout["yaxis"] = {"title": {"text": label + unit}, "type": "log" if log_y else "linear"}
    if log_y:
        layout["yaxis"]["dtick"] = LOG_DTICK
    if metric.unit in TIME_UNITS and spec.chart_type == "line":
        layout["updatemenus"] = [_scale_buttons(log_y)]
    if spec.x in NUMERIC:
        xs = sorted({x for line in cells.values() for x in line})
        log_x = spec.log_x if spec.log_x is not None else spec.x == "batch_size"
        layout["xaxis"].update(log2_axis(xs) if log_x and xs else {"type": "linear", "tickvals": xs})
    else:
        layout["xaxis"]["type"] = "category"
    return layout


def log2_axis(xs: list[int]) -> dict[str, Any]:
    """A log axis ticked at powers of two: 1, 2, 4, ... (Plotly's log axes are base 10)."""
    top = max(1, math.ceil(math.log2(max(xs))))
    ticks = [2**i for i in range(top + 1)]
    return {"type": "log", "tickvals": ticks, "ticktext": [str(t) for t in ticks]}


class Selector(TypedDict):
    """A drop-down above a chart: its label and its options as (value, text)."""

    label: str
    options: list[tuple[str, str]]


class ChartBlock(TypedDict):
    """What the ``chart`` macro (``_chart.html``) renders: one or more figures, one shown at a
    time, keyed by the selectors' values joined with ``|`` (``""`` without selectors)."""

    title: str
    figures: dict[str, Figure]
    selectors: list[Selector]
    id: str | None  # the HTML id of the figure
    caption: str | None


def workload_menu(workloads: list[str]) -> list[Selector]:
    """The "Workload" menu of a block drawing several workloads (its figures' keys then start
    ``workload|``, or are the workload where it is the only menu); none for one workload."""
    return [{"label": "Workload", "options": [(w, w) for w in workloads]}] if len(workloads) > 1 else []


def chart_block(
    title: str,
    figures: Mapping[str, Figure],
    selectors: list[Selector] | None = None,
    *,
    id: str | None = None,  # the HTML attribute it becomes
    caption: str | None = None,
) -> ChartBlock:
    """A :class:`ChartBlock`; with no ``selectors``, ``figures`` holds one figure under the key ``""``."""
    return {"title": title, "figures": dict(figures), "selectors": selectors or [], "id": id, "caption": caption}
