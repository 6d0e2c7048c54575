"""Each model's share of the data: its :class:`Part`, made once and kept per model.

A model's rows, speed-ups, downloads, leaderboard rows and compare section come from its own
records alone (every point, baseline and run comparison belongs to one model). So the build
reads the data as one part per model: the newest record of each point, the passes of
``--repeats`` pooled, flattened into rows with their speed-ups, plus every record read (older
runs too, for the compare page) and each record's JSON text (for the downloads).

A part has a small :class:`Summary` (its pages, tasks, configurations and counts: what the
site-wide pages need) and its data (:class:`PartData`). With a build cache the summary is kept
per model, keyed by a hash of the data files holding the model, and the data is made again
from those files only when a page needs it: rebuilding after one data file changed makes the
parts of that file's models and reads the others' summaries only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from scaleboard.generator.cache import lines_key
from scaleboard.generator.frame import PageKey, Row, flatten, latest_per_point, pool_repeats
from scaleboard.record import Record


class PageInfo(NamedTuple):
    """What the site-wide pages need to know of one (model, machine, suite) page."""

    tasks: tuple[str, ...]  # the tasks of its rows, sorted
    digest: str  # a hash of its records as read ("" without a build cache): its cached pages' key
    rows: int


@dataclass(frozen=True)
class Summary:
    """A part without its records."""

    pages: dict[PageKey, PageInfo]  # sorted by key
    configs: frozenset[str]
    rows: int
    points_ok: int  # rows whose status is ok


@dataclass
class PartData:
    """One model's records and rows."""

    rows: list[Row]  # newest record per point, repeats pooled, speed-ups set; in file and line order
    raw: dict[PageKey, list[Record]]  # page → the newest original record of each point
    raw_lines: dict[PageKey, list[str]]  # the same records as JSON text
    history: list[Record]  # every valid record of the model, older runs of a point too
    _by_page: dict[PageKey, list[Row]] | None = field(default=None, repr=False)

    def page_rows(self, key: PageKey) -> list[Row]:
        """The rows of one page."""
        if self._by_page is None:
            grouped: dict[PageKey, list[Row]] = {}
            for r in self.rows:
                grouped.setdefault((r["model"], r["machine"], r["suite"]), []).append(r)
            self._by_page = grouped
        return self._by_page.get(key, [])


class Part:
    """One model: its summary, and its data held or loaded when first asked for."""

    def __init__(
        self, model: str, source: str | None, summary: Summary, data: PartData | Callable[[], PartData]
    ) -> None:
        self.model = model
        self.source = source  # hash of the data files holding the model (None without a cache)
        self.summary = summary
        self._data = data if isinstance(data, PartData) else None
        self._load = None if isinstance(data, PartData) else data
        self.unsaved = False  # made this build and not in the build cache yet

    @property
    def loaded(self) -> bool:
        return self._data is not None

    def data(self) -> PartData:
        if self._data is None:
            assert self._load is not None
            self._data = self._load()
        return self._data


def make_data(records: Iterable[tuple[Record, str]], baseline: tuple[str, str, str]) -> PartData:
    """One model's :class:`PartData` from its valid records and their JSON text, in file and line order."""
    from scaleboard.generator.speedups import add_speedups

    history: list[Record] = []
    lines: dict[int, str] = {}
    for record, line in records:
        history.append(record)
        lines[id(record)] = line
    latest = latest_per_point(history)
    raw: dict[PageKey, list[Record]] = {}
    raw_lines: dict[PageKey, list[str]] = {}
    for record in latest:
        key = (record["model"], record["machine"], record["suite"])
        raw.setdefault(key, []).append(record)
        raw_lines.setdefault(key, []).append(lines[id(record)])
    # the passes of --repeats become one row each; the downloads keep every pass's own record
    rows = [flatten(r) for r in pool_repeats(latest)]
    add_speedups(rows, baseline)
    return PartData(rows, raw, raw_lines, history)


def summarize(data: PartData, with_digests: bool) -> Summary:
    """What the site-wide pages need of a part (``with_digests``: hash each page's records, for a build cache)."""
    pages: dict[PageKey, PageInfo] = {}
    for key in sorted({(r["model"], r["machine"], r["suite"]) for r in data.rows}):
        rows = data.page_rows(key)
        digest = lines_key(data.raw_lines.get(key, [])) if with_digests else ""
        pages[key] = PageInfo(tuple(sorted({r["task"] for r in rows})), digest, len(rows))
    return Summary(
        pages=pages,
        configs=frozenset(r["config"] for r in data.rows),
        rows=len(data.rows),
        points_ok=sum(1 for r in data.rows if r["status"] == "ok"),
    )
