"""Making the models' share of the site in several processes, before the pages are gathered.

Most of a cold build is per model: its leaderboard rows, its compare section (hundreds of
significance tests) and its pages and downloads come from its own records alone
(:mod:`scaleboard.generator.parts`). With ``-j N`` and a build cache, :func:`prepare` forks
``N`` processes that make those for the models made this build and leave them in the cache:
the models' parts, pages and downloads as files, leaderboard rows and compare sections sent
back to be kept in the cache's memo. The build then gathers and renders as it always does and finds them there,
so the site is the one a single process writes.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from typing import Any

from scaleboard.generator import compare, leaderboard
from scaleboard.generator import pages as core
from scaleboard.generator.data import part_key, save_part
from scaleboard.generator.render import can_fork, render_page
from scaleboard.generator.site import Site

#: Fewer models than this to make: forking costs more than it saves.
MIN_MODELS = 2
_SITE: Site | None = None  # what forked workers work on (inherited, never pickled)


def prepare(site: Site, jobs: int) -> int:
    """Make the models whose part was made this build in ``jobs`` processes; returns how many
    models were made so (0 when it would not pay: one process, no cache, few models, threads)."""
    global _SITE
    models = [model for model, part in site.parts.items() if part.loaded]
    if jobs < 2 or not site.cache.enabled or len(models) < MIN_MODELS or not can_fork():
        return 0
    workers = min(jobs, len(models))
    chunks = [models[i::workers] for i in range(workers)]
    _SITE = site
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            for memo, pages, made in pool.map(_prepare_models, chunks):
                site.cache.adopt(memo, pages, [], made)
    finally:
        _SITE = None
    for model in models:  # the workers kept them
        part = site.parts[model]
        if part.unsaved:
            part.unsaved = False
            site.cache.adopt({}, [], [part_key(part)], 0)
    return len(models)


def _prepare_models(models: list[str]) -> tuple[dict[str, Any], list[str], int]:
    """In a worker: each model's leaderboard rows, compare section, pages and downloads; returns
    the memo entries it made, the keys of the pages it stored and how many things it made."""
    assert _SITE is not None
    site, cache = _SITE, _SITE.cache
    known, stored, misses = set(cache.memo), len(cache.stored_pages), cache.misses
    for model in models:
        part = site.parts[model]
        save_part(cache, part)
        leaderboard.model_rows(site, part)
        compare.section(site, model)
        keys = part.summary.pages
        csv_text = {key: core.page_csv(site, key, info) for key, info in keys.items()}
        for page in core.model_pages(site, keys, csv_text):
            if page.cache_key and not cache.has_page(page.cache_key):
                cache.store_page(page.cache_key, render_page(site, page))
                cache.misses += 1
    memo = {key: value for key, value in cache.memo.items() if key not in known}
    return memo, cache.stored_pages[stored:], cache.misses - misses
