"""The leaderboard: one row per (model, machine, workload, optimization, precision, attention).

The workload (``forward · 128 tokens``, ``generate · 32 tokens + 16 new``, ``train · 64
tokens``) is part of a row's identity: a training step's samples/s is never ranked against a
forward pass's, nor a speed-up taken across them.

Each row shows the configuration's best throughput (tokens/s, with its batch size,
threads and suite), latency at batch 1, speed-up over the baseline configuration of
the same model on the same machine, peak memory and tokens/s per GiB at the best
point, first-call seconds and the correctness gate.

Ranking rules: each workload is ranked on its own, its rows together (forward passes first,
shorter sequences first): a forward pass's tokens/s and a generated token's are not the same
thing, nor tokens/s at 16 tokens and at 128, so the rank numbers start again at 1 for each
workload. A configuration that fails the correctness gate (``quality.ok`` false on any of
its points) is never ranked. It keeps its row, flagged, but it sorts below every passing
row of its workload by default and gets no rank number; the page's "failing last" switch
can mix it in when sorting by another column.

``leaderboard_html(site, spec)`` renders a table for a ```` ```leaderboard ```` block;
its spec takes the chart filters (``model``, ``machine``, ``suite``, ``optimization``...)
and ``sort`` (a column key), ``order`` (asc / desc) and ``limit``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from markupsafe import Markup

from scaleboard.generator import csvout
from scaleboard.generator.charts import (
    FILTERS,
    ChartSpecError,
    _as_list,
    _check_filter_values,
)
from scaleboard.generator.frame import Row, quality_of, workload_order
from scaleboard.generator.parts import Part
from scaleboard.generator.site import Site, config_order
from scaleboard.generator.speedups import significant

GIB = 1024**3
#: One leaderboard row: a configuration's best result (the keys of build_rows, CSV_FIELDS among
#: them). A plain dict, not a TypedDict: the table is sorted and filtered by column names given
#: at run time (a leaderboard block's ``sort:``).
BoardRow = dict[str, Any]
KEY = ("model", "machine", "workload", "optimization", "precision", "attention")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    numeric: bool = True
    higher_is_better: bool = True


COLUMNS = (
    Column("model", "Model", False),
    Column("machine", "Machine", False),
    Column("workload", "Workload", False),
    Column("optimization", "Optimization", False),
    Column("precision", "Precision", False),
    Column("attention", "Attention", False),
    Column("quality", "Quality", False),
    Column("tokens_per_s", "Best tokens/s"),
    Column("samples_per_s", "Best samples/s"),
    Column("batch_size", "at batch"),
    Column("latency_b1_ms", "Latency p50 @ b1 (ms)", higher_is_better=False),
    Column("speedup", "Speed-up"),
    Column("peak_memory_gib", "Peak memory (GiB)", higher_is_better=False),
    Column("tokens_per_s_per_gib", "Tokens/s per GiB"),
    Column("first_call_s", "First call (s)", higher_is_better=False),
)
#: The columns of a model's leaderboard rows on its own pages: the suite where each best was
#: measured in place of the model's name, which every row would repeat; on the page of one
#: machine, without the machine too.
MODEL_PAGE_COLUMNS = (Column("suite", "Suite", False), *COLUMNS[1:])
MACHINE_PAGE_COLUMNS = (MODEL_PAGE_COLUMNS[0], *COLUMNS[2:])
SORT_KEYS = tuple(c.key for c in COLUMNS)
SPEC_KEYS = ("sort", "order", "limit", "title")


def throughput_key(r: dict[str, Any]) -> tuple[float, float]:
    """Higher is better: tokens/s, then samples/s, which is all records imported without a sequence length have."""
    return _or(r["tokens_per_s"]), _or(r["samples_per_s"])


def _best(group: list[dict[str, Any]]) -> dict[str, Any]:
    return max(group, key=_best_key)


def _best_key(r: dict[str, Any]) -> tuple[float, float, int, int]:
    """:func:`throughput_key`, then the smaller batch size and thread count among equals."""
    return (*throughput_key(r), -r["batch_size"], -r["threads"])


def _or(value: float | None) -> float:
    return -1.0 if value is None else value


def _ratio(top: dict[str, Any], base: dict[str, Any] | None) -> float | None:
    """Throughput over the baseline's best, in tokens/s where both have it, else samples/s."""
    for key in ("tokens_per_s", "samples_per_s"):
        if base and top[key] is not None and base[key]:
            ratio: float = top[key] / base[key]
            return ratio
    return None


def _ratio_interval(
    ratio: float | None, top: dict[str, Any], base: dict[str, Any] | None
) -> tuple[float | None, float | None]:
    """The throughput ratio's interval from both points' median latency intervals (throughput ∝ 1 / latency)."""
    if ratio is None or base is None:
        return None, None
    values = (top["latency_ms"], top["latency_ci_low"], top["latency_ci_high"],
              base["latency_ms"], base["latency_ci_low"], base["latency_ci_high"])  # fmt: skip
    if any(not v for v in values):
        return None, None
    t, t_lo, t_hi, b, b_lo, b_hi = values
    return ratio * (t / t_hi) * (b_lo / b), ratio * (t / t_lo) * (b_hi / b)


def board_rows(site: Site) -> list[BoardRow]:
    """The site's leaderboard rows, ranked: made model by model (:func:`model_rows`)."""
    out = [dict(r) for part in site.parts.values() for r in model_rows(site, part)]  # copies: ranking numbers them
    return rank(out)  # the models come sorted, each in key order: as one sorted list of groups


def model_rows(site: Site, part: Part) -> list[BoardRow]:
    """One model's leaderboard rows, unranked. They come from its own records, its pages'
    slugs and the colours, so the cache keeps them while those stay the same."""
    if part.source is None:
        return _part_rows(site, part)
    key = (part.model, part.source, site.slugs, site.colors)
    return site.cache.remember("board", key, functools.partial(_part_rows, site, part))


def board_with_cells(site: Site) -> tuple[list[BoardRow], list[str]]:
    """:func:`board_rows` and each row's table cells as HTML after the model's (the ``row_cells``
    macro; the table writes the first cell, rank aside): a row's cells do not depend on where it
    ranks, so the cache keeps each model's."""
    pairs: list[tuple[BoardRow, str]] = []
    for part in site.parts.values():
        rows = model_rows(site, part)
        pairs.extend((r, c.all) for r, c in zip(rows, model_cells(site, part, rows), strict=True))
    return ranked_with_cells(pairs)


def ranked_with_cells(pairs: Iterable[tuple[BoardRow, str]]) -> tuple[list[BoardRow], list[str]]:
    """Rows and their cells (:func:`model_cells`), the rows copied and ranked (:func:`rank`),
    each keeping its cells: they do not depend on where it ranks."""
    copies = [(dict(r), c) for r, c in pairs]  # copies: ranking numbers them
    html = {id(r): c for r, c in copies}
    ranked = rank([r for r, _ in copies])
    return ranked, [html[id(r)] for r in ranked]


class RowCells(NamedTuple):
    """A leaderboard row's table cells as HTML after the first column (the leaderboard names the
    model there, a model's own pages the suite, each linking the row's result page): the
    Machine cell, which the page of one machine leaves out, and the cells after it."""

    machine: str
    rest: str

    @property
    def all(self) -> str:
        """Every cell after the first column: the leaderboard's, and a model's page on every machine."""
        return Markup(self.machine + self.rest)


def model_cells(site: Site, part: Part, rows: list[BoardRow]) -> list[RowCells]:
    """The cells of the model's rows (:func:`model_rows`), kept by the cache as those rows are
    (a build with workers makes them there, with the model's other pages)."""
    make = functools.partial(_cells, site, rows)
    if part.source is None:
        return make()
    return site.cache.remember("board-cells", (part.model, part.source, site.slugs, site.colors), make)


def _cells(site: Site, rows: list[BoardRow]) -> list[RowCells]:
    macro = site.env.get_template("_leaderboard.html").module.row_cells  # type: ignore[attr-defined]
    machine, rest = COLUMNS[1:2], COLUMNS[2:]
    return [
        RowCells(Markup(macro(r, machine, True)), Markup(macro(r, rest, True))) for r in rows
    ]  # never escaped again


def _part_rows(site: Site, part: Part) -> list[BoardRow]:
    return _unranked(site, part.data().rows)


def build_rows(site: Site, rows: Iterable[Row] | None = None) -> list[BoardRow]:
    """Leaderboard rows, ranked (:func:`rank`): each workload's, passing configurations first, then by best tokens/s."""
    return rank(_unranked(site, site.rows if rows is None else rows))


def _unranked(site: Site, rows: Iterable[Row]) -> list[BoardRow]:
    """Leaderboard rows in key order (model, machine, workload, configuration)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    key_of_row = itemgetter(*KEY)
    for r in rows:
        if r["status"] == "ok" and (r["tokens_per_s"] is not None or r["samples_per_s"] is not None):
            groups.setdefault(key_of_row(r), []).append(r)
    best = {k: _best(g) for k, g in groups.items()}
    b = site.config.baseline
    out: list[BoardRow] = []
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], config_order(groups[k][0]["config"]))):
        group, top = groups[key], best[key]
        base = best.get((*key[:3], *b.key))
        quality, agreement, _ = quality_of(group)
        memory = top["peak_memory_bytes"]
        b1 = [
            (r["latency_ms"], r["latency_stat"]) for r in group if r["batch_size"] == 1 and r["latency_ms"] is not None
        ]
        b1_ms, b1_stat = min(b1, default=(None, None))
        out.append(
            {
                **dict(zip(KEY, key, strict=True)),
                "config": top["config"],
                "task": top["task"],
                "workload_order": workload_order(top),
                "color": site.color(top["config"]),
                "tokens_per_s": top["tokens_per_s"],
                "samples_per_s": top["samples_per_s"],
                "batch_size": top["batch_size"],
                "threads": top["threads"],
                "suite": top["suite"],
                "latency_b1_ms": b1_ms,
                "latency_b1_stat": b1_stat,
                "speedup": (ratio := _ratio(top, base)),
                "speedup_low": (interval := _ratio_interval(ratio, top, base))[0],
                "speedup_high": interval[1],
                "speedup_significant": significant(ratio, *interval),
                "is_baseline": key[3:] == b.key,
                "peak_memory_gib": memory / GIB if memory else None,
                "tokens_per_s_per_gib": top["tokens_per_s"] / (memory / GIB)
                if memory and top["tokens_per_s"]
                else None,
                "first_call_s": top["first_call_s"],
                "quality": quality,
                "next_token_agreement": agreement,
                "url": site.model_url(top["model"], top["machine"], top["suite"]),
            }
        )
    return out


def rank(rows: list[BoardRow], sort: str = "tokens_per_s", descending: bool = True) -> list[BoardRow]:
    """Sort by workload (:func:`~scaleboard.generator.frame.workload_order`), then failing
    configurations last, then by ``sort``; number the passing rows of each workload from 1.
    ``workload_start`` marks the first row of each workload after the first (the table draws a
    line there)."""
    present = [r for r in rows if r[sort] is not None]
    missing = [r for r in rows if r[sort] is None]
    present.sort(key=lambda r: r[sort], reverse=descending)
    if sort == "tokens_per_s":  # rows imported without tokens/s rank among themselves by samples/s
        missing.sort(key=lambda r: _or(r["samples_per_s"]), reverse=descending)
    ordered = sorted(present + missing, key=lambda r: (r["workload_order"], r["quality"] == "fail"))
    positions: dict[str, int] = {}
    for i, r in enumerate(ordered):
        if r["quality"] != "fail":
            positions[r["workload"]] = positions.get(r["workload"], 0) + 1
        r["rank"] = positions[r["workload"]] if r["quality"] != "fail" else None
        r["workload_start"] = i > 0 and r["workload"] != ordered[i - 1]["workload"]
    return ordered


CSV_FIELDS = (
    "rank", "model", "machine", "workload", "optimization", "precision", "attention", "suite", "threads", "batch_size",
    "tokens_per_s", "samples_per_s", "latency_b1_ms", "speedup", "peak_memory_gib", "tokens_per_s_per_gib",
    "first_call_s", "quality", "next_token_agreement",
)  # fmt: skip


def to_csv(rows: list[dict[str, Any]]) -> str:
    return ",".join(CSV_FIELDS) + "\n" + csvout.text(rows, CSV_FIELDS)


def validate_spec(spec: Mapping[str, Any], site: Site | None = None) -> list[str]:
    """Every problem with a ```` ```leaderboard ```` spec."""
    if not isinstance(spec, Mapping):
        return ["a leaderboard spec must be a mapping of keys to values"]
    errors = [f"unknown key '{k}'" for k in spec if k not in FILTERS and k not in SPEC_KEYS]
    if spec.get("sort", "tokens_per_s") not in SORT_KEYS:
        errors.append(f"unknown sort column {spec.get('sort')!r}; expected one of {', '.join(SORT_KEYS)}")
    if spec.get("order", "desc") not in ("asc", "desc"):
        errors.append("order must be asc or desc")
    limit = spec.get("limit", 1)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        errors.append(f"limit must be a positive integer, got {limit!r}")
    return errors + _check_filter_values(spec, site)


def select(site: Site, spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows a spec asks for; raises :class:`ChartSpecError` listing every problem."""
    errors = validate_spec(spec, site)
    if errors:
        raise ChartSpecError(errors)
    filters: dict[str, list[Any]] = {}
    for key, column in FILTERS.items():
        if key in spec:
            filters.setdefault(column, []).extend(_as_list(spec[key]))
    rows = build_rows(site, site.rows_matching([(c, tuple(v)) for c, v in filters.items()]))
    rows = rank(rows, spec.get("sort", "tokens_per_s"), spec.get("order", "desc") == "desc")
    return rows[: spec["limit"]] if "limit" in spec else rows


def leaderboard_html(site: Site, spec: Mapping[str, Any]) -> Markup:
    """A ```` ```leaderboard ```` block as HTML: the same table partial as ``/leaderboard/``."""
    rows = select(site, spec)
    module: Any = site.env.get_template("_leaderboard.html").module  # its macros are its attributes
    macro = module.leaderboard_table
    return Markup(macro(rows, COLUMNS, interactive=False, title=spec.get("title", "")))
