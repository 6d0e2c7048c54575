"""Making the models' share of the site in the workers that made their parts, before the
pages are gathered.

Most of a cold build is per model: its leaderboard rows, its compare section (hundreds of
significance tests) and its pages and downloads come from its own records alone
(:mod:`scaleboard.generator.parts`). With ``-j N``, the models whose parts the workers made
(:mod:`scaleboard.generator.data_workers`) get those made there too: each worker builds the
same :class:`Site` from every model's summary, makes its models' share, writes their pages
and downloads into the build's staging directory (:mod:`scaleboard.generator.output`) and
keeps them in the cache for the next build; leaderboard rows and their cells, and compare
sections, are sent back for the cache's memo. The build then gathers the pages as it always
does and renders and writes only those no worker wrote, so the site is the one a single
process writes.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Any, NamedTuple

from scaleboard.generator import compare, leaderboard
from scaleboard.generator import pages as core
from scaleboard.generator.cache import BuildCache, Stamp
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.data_workers import make_part
from scaleboard.generator.output import link_file, write_file
from scaleboard.generator.parts import Part, PartData, Summary
from scaleboard.generator.render import render_page
from scaleboard.generator.site import Site, make_site
from scaleboard.generator.workers import Workers, state


class Made(NamedTuple):
    """What a worker made of its models: what the build's cache takes (:meth:`BuildCache.adopt`)
    and the files it wrote."""

    memo: dict[str, Any]  # the memo entries it made
    stored: dict[str, Stamp]  # the pages it stored in the cache: key → stamp
    reused: list[str]  # keys of the pages it found there
    made: int  # how many things it made
    files: list[str]  # written into the staging directory


def prepare(site: Site, workers: Workers | None, owners: dict[str, int], staging: Path) -> frozenset[str]:
    """Make the share of each model of ``owners`` (model → the worker holding its part) in that
    worker, which writes its pages and downloads into ``staging``; returns the files written."""
    if workers is None or not workers.started or not owners:
        return frozenset()
    summaries = {model: (part.source, part.summary) for model, part in site.parts.items()}
    common = (site.config, site.content, site.drafts, site.warnings, site.strict, summaries, staging)
    calls = [([m for m, w in owners.items() if w == worker], *common) for worker in range(workers.count)]
    written: set[str] = set()
    for made in workers.run(_prepare_models, calls):
        site.cache.adopt(made.memo, made.stored, made.made, made.reused)
        written.update(made.files)
    return frozenset(written)


def _prepare_models(
    models: list[str],
    config: SiteConfig,
    content: Any,
    drafts: bool,
    warnings: list[str],
    strict: bool,
    summaries: dict[str, tuple[str | None, Summary]],
    staging: Path,
) -> Made:
    """In a worker: the site as the build made it, then each model's leaderboard rows, compare
    section, pages and downloads, written into ``staging`` (and the cache)."""
    cache: BuildCache = state["cache"]
    held: dict[str, PartData] = state.get("parts", {})
    parts = {model: Part(model, source, summary, held.get(model) or functools.partial(make_part, model))
             for model, (source, summary) in summaries.items()}  # fmt: skip
    site = make_site(config, parts, content, drafts, warnings=warnings, strict=strict, cache=cache)
    known, stored, misses = set(cache.memo), len(cache.stored_pages), cache.misses
    reused: list[str] = []
    files: list[str] = []
    for model in models:
        part = site.parts[model]
        leaderboard.model_cells(site, part, leaderboard.model_rows(site, part))
        compare.section(site, model)
        keys = part.summary.pages
        for page in core.model_pages(site, keys):
            kept = cache.page_file(page.cache_key) if page.cache_key else None
            if kept is not None and link_file(staging, page.file, kept):
                reused.append(page.cache_key or "")
            else:
                body = render_page(site, page)
                written = write_file(staging, page.file, body)
                if page.cache_key:
                    cache.store_page(page.cache_key, body, written)  # a hard link to the file written
                    cache.misses += 1
            files.append(page.file)
    memo = {key: value for key, value in cache.memo.items() if key not in known}
    new = dict(itertools.islice(cache.stored_pages.items(), stored, None))
    return Made(memo, new, reused, cache.misses - misses, files)
