"""Making the models' share of the site in the workers that made their parts, before the
pages are gathered.

Most of a cold build is per model: its leaderboard rows, its compare section (hundreds of
significance tests) and its pages and downloads come from its own records alone
(:mod:`scaleboard.generator.parts`). With ``-j N``, the models whose parts the workers made
(:mod:`scaleboard.generator.data_workers`) get those made there too: each worker builds the
same :class:`Site` from every model's summary, makes its models' share and leaves it in the
cache (pages and downloads as files; leaderboard rows and their cells, and compare sections,
sent back for the cache's memo). The build then gathers and renders as it always does and
finds them there, so the site is the one a single process writes.
"""

from __future__ import annotations

import functools
from typing import Any

from scaleboard.generator import compare, leaderboard
from scaleboard.generator import pages as core
from scaleboard.generator.cache import BuildCache
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.data_workers import make_part
from scaleboard.generator.parts import Part, PartData, Summary
from scaleboard.generator.render import render_page
from scaleboard.generator.site import Site, make_site
from scaleboard.generator.workers import Workers, state


def prepare(site: Site, workers: Workers | None, owners: dict[str, int]) -> int:
    """Make the share of each model of ``owners`` (model → the worker holding its part) in that
    worker; returns how many models were made so."""
    if workers is None or not workers.started or not owners:
        return 0
    summaries = {model: (part.source, part.summary) for model, part in site.parts.items()}
    common = (site.config, site.content, site.drafts, site.warnings, site.strict, summaries)
    calls = [([m for m, w in owners.items() if w == worker], *common) for worker in range(workers.count)]
    for memo, pages, made in workers.run(_prepare_models, calls):
        site.cache.adopt(memo, pages, [], made)
    return len(owners)


def _prepare_models(
    models: list[str],
    config: SiteConfig,
    content: Any,
    drafts: bool,
    warnings: list[str],
    strict: bool,
    summaries: dict[str, tuple[str | None, Summary]],
) -> tuple[dict[str, Any], list[str], int]:
    """In a worker: the site as the build made it, then each model's leaderboard rows, compare
    section, pages and downloads; returns the memo entries it made, the keys of the pages it
    stored and how many things it made."""
    cache: BuildCache = state["cache"]
    held: dict[str, PartData] = state.get("parts", {})
    parts = {model: Part(model, source, summary, held.get(model) or functools.partial(make_part, model))
             for model, (source, summary) in summaries.items()}  # fmt: skip
    site = make_site(config, parts, content, drafts, warnings=warnings, strict=strict, cache=cache)
    known, stored, misses = set(cache.memo), len(cache.stored_pages), cache.misses
    for model in models:
        part = site.parts[model]
        leaderboard.model_cells(site, part, leaderboard.model_rows(site, part))
        compare.section(site, model)
        keys = part.summary.pages
        csv_text = {key: core.page_csv(site, key, info) for key, info in keys.items()}
        for page in core.model_pages(site, keys, csv_text):
            if page.cache_key and not cache.has_page(page.cache_key):
                cache.store_page(page.cache_key, render_page(site, page))
                cache.misses += 1
    memo = {key: value for key, value in cache.memo.items() if key not in known}
    return memo, cache.stored_pages[stored:], cache.misses - misses
