"""The pages above the scalebench pages: ``/models/`` (every model), ``/models/<model>/`` (one
model on every machine) and ``/models/<model>/<machine>/`` (one model on one machine).

A model's page holds its own leaderboard: each configuration's best result per machine and
workload, ranked within each workload as ``/leaderboard/`` ranks them (its rows, from the
model's records alone), and the list of its result pages (one per machine and suite) with
their downloads. The breadcrumbs of a scalebench page link here, so a reader who trims its
address, or follows "gpt2" from the index, lands on a page rather than on the 404.
"""

from __future__ import annotations

import functools
from typing import NamedTuple, TypedDict
from urllib.parse import urlencode

from scaleboard.generator import leaderboard
from scaleboard.generator.cache import key_of
from scaleboard.generator.frame import PageKey, task_order
from scaleboard.generator.leaderboard import BoardRow
from scaleboard.generator.parts import PageInfo
from scaleboard.generator.site import Page, Site


class ResultPage(NamedTuple):
    """One (machine, suite) page of a model, as an overview lists it."""

    machine: str
    suite: str
    tasks: tuple[str, ...]
    url: str
    csv_url: str
    json_url: str


class Link(NamedTuple):
    name: str
    url: str


class OverviewContext(TypedDict):
    """What ``overview.html`` shows: one model, on every machine or on one (``machine``)."""

    model: str
    machine: str | None
    model_url: str  # the model's page (the machine page's breadcrumb)
    machines: list[Link]  # the machines it was measured on, each with its page
    rows: list[BoardRow]  # its leaderboard rows (on ``machine`` only), ranked per workload
    cells: list[str]  # each row's cells as HTML
    columns: tuple[leaderboard.Column, ...]
    pages: list[ResultPage]
    compare_url: str
    leaderboard_url: str


class ModelEntry(NamedTuple):
    """One model in ``/models/``."""

    name: str
    url: str
    machines: list[Link]
    suites: int
    tasks: list[str]
    points: int  # measured (status ok), as the index counts them


class ModelsContext(TypedDict):
    """What ``models.html`` shows."""

    models: list[ModelEntry]


class _Board:
    """A model's leaderboard rows and their cells, as ``/leaderboard/`` has them (the cache keeps
    them, and a build with workers makes them where it makes the model's pages): the model's
    page and its machine pages show a part of the leaderboard."""

    def __init__(self, site: Site, model: str) -> None:
        self.site, self.model = site, model

    @functools.cached_property
    def pairs(self) -> list[tuple[BoardRow, leaderboard.RowCells]]:
        part = self.site.parts[self.model]
        rows = leaderboard.model_rows(self.site, part)
        return list(zip(rows, leaderboard.model_cells(self.site, part, rows), strict=True))

    def on(self, machine: str | None) -> tuple[list[BoardRow], list[str]]:
        """The rows (on ``machine`` alone, if given), ranked, and their cells: on one machine's
        page without the Machine cell (:data:`leaderboard.MACHINE_PAGE_COLUMNS`)."""
        if machine is None:
            return leaderboard.ranked_with_cells((r, c.all) for r, c in self.pairs)
        return leaderboard.ranked_with_cells((r, c.rest) for r, c in self.pairs if r["machine"] == machine)


def _blind(name: str) -> tuple[str, str]:
    """Sorts names regardless of letter case (``epyc-2c`` before ``NVIDIA T4``), ties by case."""
    return name.lower(), name


def _by_model(keys: dict[PageKey, PageInfo]) -> dict[str, dict[PageKey, PageInfo]]:
    grouped: dict[str, dict[PageKey, PageInfo]] = {}
    for key, info in keys.items():
        grouped.setdefault(key[0], {})[key] = info
    return grouped


def _machines(site: Site, model: str, own: dict[PageKey, PageInfo]) -> list[Link]:
    """The machines a model ran on (A→Z regardless of case), each with its page."""
    return [Link(m, site.url(site.overview_path(model, m))) for m in sorted({k[1] for k in own}, key=_blind)]


def overview_pages(site: Site, keys: dict[PageKey, PageInfo]) -> list[Page]:
    """The page of each model among ``keys`` and of each machine it ran on. Like the model pages
    they come from the model's records alone (its leaderboard rows and page list), the slugs,
    the colours and the footer's record count: the cache keeps them while those stay the same."""
    pages = []
    for model, own in _by_model(keys).items():
        source = site.parts[model].source
        machines = _machines(site, model, own)
        board = _Board(site, model)
        for machine in (None, *(link.name for link in machines)):
            path = site.overview_path(model, machine)
            title = model if machine is None else f"{model} on {machine}"
            cache_key = key_of(path, title, source, site.slugs, site.colors, site.points) if source else None
            make = functools.partial(_context, site, board, machine, own, machines)
            pages.append(Page(path, "overview.html", title=title, make_context=make, cache_key=cache_key))
    return pages


def _context(
    site: Site, board: _Board, machine: str | None, keys: dict[PageKey, PageInfo], machines: list[Link]
) -> OverviewContext:
    model = board.model
    rows, cells = board.on(machine)
    shown = [key for key in keys if machine is None or key[1] == machine]
    return {
        "model": model,
        "machine": machine,
        "model_url": site.url(site.overview_path(model)),
        "machines": machines,
        "rows": rows,
        "cells": cells,
        "columns": leaderboard.MODEL_PAGE_COLUMNS if machine is None else leaderboard.MACHINE_PAGE_COLUMNS,
        "pages": [_result_page(site, k, keys[k]) for k in sorted(shown, key=lambda k: (_blind(k[1]), _blind(k[2])))],
        "compare_url": site.url(f"compare/?model={site.slugs['model'][model]}"),
        "leaderboard_url": site.url("leaderboard/?" + urlencode({"model": model})),
    }


def _result_page(site: Site, key: PageKey, info: PageInfo) -> ResultPage:
    tasks = tuple(sorted(info.tasks, key=task_order))
    return ResultPage(key[1], key[2], tasks, site.model_url(*key),
                      site.url(site.data_path(*key, "csv")), site.url(site.data_path(*key, "json")))  # fmt: skip


def models_page(site: Site, keys: dict[PageKey, PageInfo]) -> Page:
    """``/models/``: every model, the machines it ran on, its suites, tasks and points."""
    entries = []
    for model, own in sorted(_by_model(keys).items(), key=lambda item: _blind(item[0])):
        entries.append(ModelEntry(
            model,
            site.url(site.overview_path(model)),
            _machines(site, model, own),
            len({suite for _, _, suite in own}),
            sorted({task for info in own.values() for task in info.tasks}, key=task_order),
            site.parts[model].summary.points_ok,
        ))  # fmt: skip
    return Page("models/", "models.html", ModelsContext(models=entries), title="Models")
