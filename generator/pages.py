"""The records pages: index, one scalebench page per (model, machine, suite), leaderboard,
compare, and the CSV / JSON downloads under ``/data/``."""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any, NamedTuple, TypedDict

from scaleboard.generator import compare, csvout, leaderboard, model_overview, model_page
from scaleboard.generator.cache import key_of
from scaleboard.generator.frame import COLUMNS, PageKey, Row, task_order
from scaleboard.generator.jsonout import dumps, script_safe
from scaleboard.generator.leaderboard import BoardRow
from scaleboard.generator.parts import PageInfo
from scaleboard.generator.site import Page, Site
from scaleboard.generator.speedups import MIN_EFFECT

if TYPE_CHECKING:  # blog imports this module's neighbours: imported where it is used
    from scaleboard.generator.blog import PostLink


def records_json(records: list[dict[str, Any]], lines: list[str] | None = None) -> bytes:
    """Records as a JSON array (UTF-8); ``<``, ``>``, ``&`` escaped so no browser can read it as HTML.

    ``lines``, the records' own JSON text from data/, saves encoding them again.
    """
    text = "[" + ",".join(lines) + "]" if lines else json.dumps(records, ensure_ascii=False, separators=(",", ":"))
    return script_safe(text.encode("utf-8"))


#: The first line of every records CSV download.
CSV_HEADER = (",".join(COLUMNS) + "\n").encode("utf-8")


def page_keys(site: Site) -> dict[PageKey, PageInfo]:
    """(model, machine, suite) → what the summaries say of it, sorted, without loading records."""
    return {key: info for part in site.parts.values() for key, info in part.summary.pages.items()}


def page_rows(site: Site, key: PageKey) -> list[Row]:
    """The rows of one page (its model's records are loaded if they were not)."""
    return site.parts[key[0]].data().page_rows(key)


class Headline(TypedDict):
    """The index's cards."""

    best_per_machine: list[BoardRow]  # best tokens/s per (machine, task)
    several_tasks: bool
    biggest_speedup: BoardRow | None  # significant and at least 5%, else None
    #: Where none is significant: the biggest speed-up of at least 5% that could not be tested
    #: (too few samples for an interval), else None.
    biggest_untested: BoardRow | None
    speedups_compared: int
    baseline: str
    points: int
    models: int
    machines: int
    configs: int


class ResultTable(TypedDict):
    """One task's results on the index: model × machine, a link per suite."""

    task: str
    title: str
    cells: dict[tuple[str, str], list[tuple[str, str]]]  # (model, machine) → [(suite, url)]
    models: list[str]
    machines: list[str]


class IndexContext(TypedDict):
    """What ``index.html`` shows."""

    headline: Headline
    tables: list[ResultTable]
    posts: list[PostLink]


class LeaderboardContext(TypedDict):
    """What ``leaderboard.html`` shows."""

    rows: list[BoardRow]
    columns: tuple[leaderboard.Column, ...]
    csv_url: str
    cells: list[str]  # each row's table cells as HTML, made once per model (leaderboard.board_with_cells)
    filters: list[Filter]  # the filter menus above the table


class Filter(NamedTuple):
    """A filter menu of the leaderboard: a column and the values its rows hold."""

    key: str
    label: str
    values: list[Any]


#: The leaderboard's filter menus: (column, label).
FILTERS = (("task", "Task"), ("model", "Model"), ("machine", "Machine"), ("optimization", "Optimization"),
           ("precision", "Precision"), ("attention", "Attention"))  # fmt: skip


def filters(rows: list[BoardRow]) -> list[Filter]:
    """Each menu's values: those the rows hold (not empty), one per spelling that differs in more
    than letter case (the first one met), sorted regardless of case, as the template filters
    ``select|unique|sort`` gave them."""
    menus = []
    for key, label in FILTERS:
        kept: dict[Any, Any] = {}
        for value in (row[key] for row in rows):
            if value:
                kept.setdefault(_case_blind(value), value)
        menus.append(Filter(key, label, sorted(kept.values(), key=_case_blind)))
    return menus


def _case_blind(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def headline(site: Site, board: list[BoardRow]) -> Headline:
    """The index cards: best tokens/s per machine and task (a forward pass's tokens/s and a
    generated token are not the same thing) and the biggest speed-up, passing configurations only."""
    passing = [r for r in board if r["quality"] != "fail"]
    per_machine: dict[tuple[str, str], BoardRow] = {}
    for r in passing:  # tokens/s where records have it; samples/s for those imported without a sequence length
        old = per_machine.get((r["machine"], r["task"]))
        if old is None or leaderboard.throughput_key(r) > leaderboard.throughput_key(old):
            per_machine[(r["machine"], r["task"])] = r
    baseline = site.config.baseline.key
    # The baseline's speed-up over itself is 1× by definition: never a finding.
    # Only a speed-up whose 95% interval leaves 1× out and that reaches 5% is a finding;
    # within the noise, "no significant speed-up" is what the card says.
    speedups = [
        r
        for r in passing
        if r["speedup"] is not None and (r["optimization"], r["precision"], r["attention"]) != baseline
    ]
    faster = [r for r in speedups if r["speedup_significant"] and r["speedup"] > 1]
    # Too few samples for an interval is not "no difference": a 3x speed-up measured on three
    # samples a point is shown as measured and untested, not hidden under "none significant".
    untested = [r for r in speedups if r["speedup_significant"] is None and r["speedup"] >= 1 + MIN_EFFECT]
    return {
        "best_per_machine": [per_machine[k] for k in sorted(per_machine)],
        "several_tasks": len({task for _, task in per_machine}) > 1,
        "biggest_speedup": max(faster, key=lambda r: r["speedup"], default=None),
        "biggest_untested": None if faster else max(untested, key=lambda r: r["speedup"], default=None),
        "speedups_compared": len(speedups),
        "baseline": " · ".join(baseline),
        "points": sum(part.summary.points_ok for part in site.parts.values()),
        "models": len(site.slugs["model"]),
        "machines": len(site.slugs["machine"]),
        "configs": len(site.colors),
    }


def latest_posts(site: Site, limit: int = 5) -> list[PostLink]:
    """The blog's newest posts, for the index."""
    from scaleboard.generator import blog

    return list(blog.latest_posts(site, limit))


TASK_TITLES = {"forward": "Forward pass", "generate": "Generation", "train": "Training step"}


def result_tables(site: Site, keys: dict[PageKey, PageInfo]) -> list[ResultTable]:
    """The index's results: one table per task (model × machine, a link per suite), forward first."""
    by_task: dict[str, dict[tuple[str, str], list[tuple[str, str]]]] = {}
    for (model, machine, suite), info in keys.items():
        for task in info.tasks:
            cells = by_task.setdefault(task, defaultdict(list))
            cells[(model, machine)].append((suite, site.model_url(model, machine, suite)))
    return [
        {"task": task, "title": TASK_TITLES.get(task, task), "cells": cells,
         "models": sorted({m for m, _ in cells}), "machines": sorted({m for _, m in cells})}
        for task, cells in sorted(by_task.items(), key=lambda kv: task_order(kv[0]))
    ]  # fmt: skip


def index_page(site: Site, keys: dict[PageKey, PageInfo], board: list[BoardRow]) -> Page:
    context: IndexContext = {
        "headline": headline(site, board),
        "tables": result_tables(site, keys),
        "posts": latest_posts(site),
    }
    return Page("", "index.html", context, title="")


def csv_download(site: Site, key: PageKey) -> bytes:
    """One page's CSV download: the header, then a line per row; UTF-8."""
    return CSV_HEADER + csvout.text(page_rows(site, key), COLUMNS).encode("utf-8")


def csv_key(key: PageKey, info: PageInfo) -> str | None:
    """The cache key of a page's CSV download: a page's rows (speed-ups included) come from its
    records alone, so the hash of those is enough."""
    return key_of("csv", key, info.digest) if info.digest else None


def cached_download(site: Site, key: PageKey, info: PageInfo) -> bytes:
    """:func:`csv_download`, from the cache where it holds it (kept there if made now): the
    build's own process needs every page's for ``records.csv``."""
    cache_key = csv_key(key, info)
    kept = site.cache.cached_page(cache_key) if cache_key else None
    if kept is not None:
        return kept
    body = csv_download(site, key)
    if cache_key:
        site.cache.store_page(cache_key, body)
    return body


def _json_download(site: Site, key: PageKey) -> bytes:
    data = site.parts[key[0]].data()
    return records_json(data.raw.get(key, []), data.raw_lines.get(key))


def model_pages(site: Site, keys: dict[PageKey, PageInfo], downloads: dict[PageKey, bytes] | None = None) -> list[Page]:
    """Each (model, machine, suite) page and its CSV / JSON downloads, then the pages of each
    model and of each machine it ran on (:mod:`~scaleboard.generator.model_overview`). ``downloads``: the CSV
    downloads made already (:func:`cached_download`); without them (in the workers of
    ``build -j N``), each is made when written, and kept in the cache then."""
    points = site.points
    pages = []
    for key, info in keys.items():
        model, machine, suite = key
        make = functools.partial(_model_context, site, key)
        title = f"{model} on {machine} · {suite}"
        path = site.model_path(*key)
        # what the page is made from: its records (as read), the site-wide colours, slugs and
        # record count (the footer); the configuration and code are in the cache's fingerprint
        cache_key = key_of(path, title, info.digest, site.colors, site.slugs, points) if info.digest else None
        pages.append(Page(path, "model.html", title=title, make_context=make, cache_key=cache_key))
        csv_path = site.data_path(model, machine, suite, "csv")
        if downloads is not None:
            pages.append(Page(csv_path, body=downloads[key], cache_key=csv_key(key, info)))
        else:
            pages.append(Page(csv_path, make_body=functools.partial(csv_download, site, key),
                              cache_key=csv_key(key, info)))  # fmt: skip
        json_path = site.data_path(model, machine, suite, "json")
        json_key = key_of("json", key, info.digest) if info.digest else None
        pages.append(Page(json_path, make_body=functools.partial(_json_download, site, key), cache_key=json_key))
    pages.extend(model_overview.overview_pages(site, keys))
    return pages


def _model_context(site: Site, key: PageKey) -> model_page.Context:
    data = site.parts[key[0]].data()
    return model_page.context(site, key, data.page_rows(key), data.raw.get(key, []))


def pages(site: Site) -> list[Page]:
    """Every records page of the site."""
    keys = page_keys(site)
    board, cells = leaderboard.board_with_cells(site)
    found = [index_page(site, keys, board)]
    downloads = {key: cached_download(site, key, info) for key, info in keys.items()}
    found.extend(model_pages(site, keys, downloads))
    found.append(model_overview.models_page(site, keys))
    lb_context: LeaderboardContext = {
        "rows": board,
        "columns": leaderboard.COLUMNS,
        "csv_url": site.url("data/leaderboard.csv"),
        "cells": cells,
        "filters": filters(board),
    }
    found.append(Page("leaderboard/", "leaderboard.html", lb_context, title="Leaderboard"))
    found.append(Page("compare/", "compare.html", compare.context(site), title="Compare"))
    found.append(Page("data/leaderboard.csv", body=leaderboard.to_csv(board)))
    skip = len(CSV_HEADER)  # every page's rows under one header
    found.append(
        Page("data/records.csv", body=b"".join([CSV_HEADER, *(memoryview(d)[skip:] for d in downloads.values())]))
    )
    found.append(Page("data/colors.json", body=dumps(site.colors)))
    return found
