"""``chart`` and ``leaderboard`` blocks in posts: a block's YAML → the site's own components.

A block names what to show the way the model pages do (``model``, ``machine``,
``suite``, ``metric``, ``x``, ``series`` and filters such as ``precision`` or
``batch_size``); the chart component (``scaleboard.generator.charts``) and the leaderboard
table draw it. Two rules keep a post honest as data/ grows:

* ``model``, ``machine``, ``suite`` and ``workload`` may be left out only while the
  records leave no choice (one machine has measured the model, say); once there are
  several, the block must name one (a workload by ``workload:`` or ``task:``) or put that
  dimension on ``x`` / ``series``, otherwise points of different machines would be mixed
  in one line, or a generated token's tokens/s with a forward pass's.
* a block whose filters match no measured point is a problem, not an empty chart.

Problems raise :class:`~scaleboard.generator.markdown_ext.BlockError`; the Markdown layer turns
them into a warning box (or, with ``--strict``, an error naming the post's file:line).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from scaleboard.generator.markdown_ext import BlockError, BlockHandler

#: Dimensions a block must pin down (or draw) once the records hold several values.
PINNED = ("model", "machine", "suite", "workload")


def make_handler(site: Any, page_key: str) -> BlockHandler:
    """A handler for the blocks of one page; ``page_key`` makes element ids unique on the site."""

    def handle(kind: str, spec: dict[str, Any], index: int) -> str:
        if kind == "chart":
            return chart(site, spec, f"{page_key}-chart-{index}")
        return leaderboard(site, spec, f"{page_key}-table-{index}")

    return handle


def chart(site: Any, spec: Mapping[str, Any], element_id: str) -> str:
    """A chart block drawn by the chart component, captioned with a link to its model page."""
    from scaleboard.generator import charts

    errors = charts.validate_spec(spec, site)
    if errors:
        raise BlockError("; ".join(errors))
    parsed = charts.parse_spec(spec, site)
    filters = dict(parsed.filters)
    matching = site.rows_matching(parsed.filters)  # the rows hold their speed-ups (parts.make_data)
    _check_ambiguity(matching, filters, {parsed.x, *parsed.series})
    flagged = {r["config"] for r in matching if r["quality_ok"] is False}
    figure = charts.chart_figure(matching, parsed, site.colors, flagged)
    if not figure["data"]:
        raise BlockError(f"no measured point has {parsed.metric} for {_describe(filters)}")
    title = parsed.title or figure["layout"]["title"]["text"]
    block = charts.chart_block(title, {"": figure}, id=element_id, caption=_source_link(site, matching))
    return str(site.env.get_template("_chart.html").module.chart(block))


def leaderboard(site: Any, spec: Mapping[str, Any], element_id: str) -> str:
    """A leaderboard block: the site's leaderboard table, filtered, with its rows as CSV."""
    from scaleboard.generator import leaderboard as board

    errors = board.validate_spec(spec, site)
    if errors:
        raise BlockError("; ".join(errors))
    rows = board.select(site, spec)
    if not rows:
        raise BlockError("no measured configuration matches these filters")
    table = board.leaderboard_html(site, spec)
    csv_href = "data:text/csv;charset=utf-8," + quote(board.to_csv(rows))
    return str(
        Markup(
            '<div class="embed-table" id="{}">{}<p class="embed-csv"><a download="{}.csv" href="{}">CSV</a></p></div>'
        ).format(element_id, table, element_id, csv_href)
    )


def _check_ambiguity(matching: list[dict[str, Any]], filters: dict[str, tuple[Any, ...]], drawn: set[str]) -> None:
    """Refuse to mix machines (suites, models, workloads) in one line when the block names none."""
    for dim in PINNED:
        if dim in filters or dim in drawn:
            continue
        values = sorted({r[dim] for r in matching})
        if len(values) > 1:
            shown = ", ".join(values[:6]) + (" ..." if len(values) > 6 else "")
            how = "with 'workload:' or 'task:', or draw it as series" if dim == "workload" else (
                f"with '{dim}:' or draw it as x or series")  # fmt: skip
            raise BlockError(f"several {dim}s match ({shown}); name one {how}")


def _describe(filters: dict[str, tuple[Any, ...]]) -> str:
    parts = [f"{k} {'/'.join(map(str, v))}" for k, v in sorted(filters.items())]
    return ", ".join(parts) or "these filters"


def _source_link(site: Any, rows: list[dict[str, Any]]) -> Markup | None:
    """The caption "Data: <link to the model page>" when every drawn point comes from one page."""
    pages = {(r["model"], r["machine"], r["suite"]) for r in rows}
    if len(pages) != 1:
        return None
    model, machine, suite = pages.pop()
    return Markup('Data: <a href="{}">{} · {} · {}</a>').format(
        site.model_url(model, machine, suite), model, machine, suite
    )
