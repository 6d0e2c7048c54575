"""``scaleboard build``: gather everything, render every page, then swap the site in at once.

The order matters (as in mkdocs)::

    config = load_config(root)
    staging = Staging(out_dir)                           # a temporary directory beside site/
    data = load_data(config, strict, cache)              # data/**/*.jsonl, validated line by line, one part per model
    content = load_site_content(config, drafts)          # content/ (the blog side), when present
    site = make_site(config, data.parts, content, drafts)  # the one typed context object
    written = prepare(site, workers, owners, staging)    # with -j N: the models' pages, written by the workers
    files = render_pages(site, gather_pages(site), written)  # the other pages rendered in memory…
    staging.publish(files)                               # …then written there and swapped in

A failure anywhere before the swap removes the staging directory and leaves the previous
``site/`` untouched. Nothing
in the output depends on the clock or on iteration order, so the same inputs give
byte-identical output.

Blog pages come from ``generator/blog.py: pages(site) -> list[Page]`` and content
from ``generator/content.py: load_content(content_dir, *, drafts=False)``.
"""

from __future__ import annotations

import concurrent.futures
import gc
import multiprocessing
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scaleboard.errors import BuildError
from scaleboard.generator.cache import DIR_NAME as CACHE_DIR
from scaleboard.generator.cache import BuildCache, key_of, tree_fingerprint
from scaleboard.generator.config import SiteConfig, load_config, normalize_base_url
from scaleboard.generator.data import load_data, save_part
from scaleboard.generator.output import Staging
from scaleboard.generator.prepare import prepare
from scaleboard.generator.render import can_fork, render_page
from scaleboard.generator.site import Page, Site, make_site
from scaleboard.generator.theme import asset_files, template_dirs
from scaleboard.generator.workers import Workers


@dataclass
class BuildResult:
    out_dir: Path
    pages: int
    files: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    cache_hits: int = 0  # data files, pages and verdicts reused from .scaleboard-cache/
    cache_misses: int = 0
    phases: dict[str, float] = field(default_factory=dict)  # seconds: read, gather, render, write


def load_site_content(config: SiteConfig, drafts: bool = False) -> Any:
    """Posts and pages of ``content/``, or None when the project has no content directory."""
    from scaleboard.generator.content import load_content

    content_dir = config.path("content_dir")
    if not content_dir.is_dir():
        return None
    return load_content(content_dir, drafts=drafts)


def gather_pages(site: Site) -> list[Page]:
    """Every page of the site: records pages, downloads, the blog's pages, then the sitemap."""
    from scaleboard.generator import blog, feed
    from scaleboard.generator import pages as core

    found = core.pages(site)
    found.extend(blog.pages(site))
    found.append(feed.sitemap_page(site, found))  # needs every page, so it comes last
    return found


def render_pages(
    site: Site, pages: Iterable[Page], jobs: int = 1, written: frozenset[str] = frozenset(), linked: bool = False
) -> dict[str, bytes | Path]:
    """Render every page in memory: output file → bytes. Two pages on one file is an error.

    With ``jobs`` > 1, pages with a ``make_context`` (the model pages) are rendered by
    that many forked processes when there are many of them; the output is the same.
    ``written``: files the workers already wrote into the staging directory, left out.
    ``linked``: a page the build cache holds comes as the path of its file there, not its
    bytes (:meth:`Staging.publish` links it into the site: nothing read, nothing copied).
    """
    pages = list(pages)
    seen: set[str] = set()
    for page in pages:
        if page.file in seen:
            raise BuildError(f"two pages would be written to {page.file!r}")
        seen.add(page.file)
    pages = [page for page in pages if page.file not in written]
    files: dict[str, bytes | Path] = dict.fromkeys((page.file for page in pages), b"")
    keyed = [i for i, page in enumerate(pages) if page.cache_key]  # pages the cache holds, made from the same inputs
    held = [pages[i].cache_key or "" for i in keyed]
    found = site.cache.cached_files(held) if linked else site.cache.cached_pages(held)
    done: dict[int, bytes | Path] = {i: kept for i, kept in zip(keyed, found, strict=True) if kept is not None}
    heavy = [i for i, page in enumerate(pages) if page.make_context is not None and i not in done]
    rendered = _render_in_processes(site, pages, heavy, jobs) if len(heavy) >= PARALLEL_MIN_PAGES else {}
    for i, page in enumerate(pages):
        if i in done:
            files[page.file] = done[i]
            continue
        body = files[page.file] = rendered[i] if i in rendered else render_page(site, page)
        if page.cache_key:
            site.cache.store_page(page.cache_key, body)
    return files


#: Below this many heavy pages, starting processes costs more than it saves.
PARALLEL_MIN_PAGES = 12
_JOB: tuple[Site, list[Page]] | None = None  # what forked workers render (inherited, never pickled)


def _render_in_processes(site: Site, pages: list[Page], indices: list[int], workers: int) -> dict[int, bytes]:
    global _JOB
    if workers < 2 or not can_fork():
        return {}
    chunks = [indices[i :: workers * 2] for i in range(workers * 2)]  # interleaved: similar sizes
    _JOB = (site, pages)
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            return {i: body for part in pool.map(_render_chunk, chunks) for i, body in part}
    finally:
        _JOB = None


def _render_chunk(indices: list[int]) -> list[tuple[int, bytes]]:
    assert _JOB is not None
    site, pages = _JOB
    return [(i, render_page(site, pages[i])) for i in indices]


def assets(site: Site) -> dict[str, bytes]:
    """Static files: the theme's ``assets/`` (a project's ``templates/assets/`` overrides them) and plotly.js."""
    import plotly

    found = asset_files(site.config)
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    found["assets/plotly.min.js"] = plotly_js.read_bytes()
    return found


def open_cache(config: SiteConfig, use_cache: bool = True) -> BuildCache:
    """The project's build cache (disabled with ``use_cache`` False), valid for this code, theme
    and configuration only."""
    if not use_cache:
        return BuildCache(None)
    import scaleboard
    import scaleboard.generator

    code = [Path(scaleboard.__file__).parent, Path(scaleboard.generator.__file__).parent]
    fingerprint = key_of(scaleboard.__version__, tree_fingerprint([*code, *template_dirs(config)]), repr(config))
    return BuildCache.open(config.root / CACHE_DIR, fingerprint)


def build(
    root: str | Path = ".",
    out: str | Path | None = None,
    base_url: str | None = None,
    strict: bool = False,
    drafts: bool = False,
    jobs: int = 1,
    site_url: str | None = None,
    use_cache: bool = True,
) -> BuildResult:
    """Build the site of the project in ``root``; returns what was written.

    ``site_url`` (``https://user.github.io``) overrides ``url`` of ``scaleboard.yaml``: the
    feed and sitemap need absolute addresses.
    ``jobs`` > 1 validates new data files, makes each model's part and its leaderboard rows,
    compare section, pages and downloads in that many processes when there is enough to do
    (:mod:`scaleboard.generator.data_workers`, :mod:`scaleboard.generator.prepare`; with the
    build cache, where they leave what they make): faster on an idle multi-core machine,
    slower where other work already takes the cores; the output is the same.
    ``use_cache`` False builds without reading or writing ``.scaleboard-cache/`` (the output is
    the same either way).
    """
    started = time.perf_counter()
    # The build allocates millions of small objects and frees them all at the end: the
    # cyclic garbage collector would re-scan the records many times for nothing.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(Path(root), out, base_url, site_url, strict, drafts, jobs, started, use_cache)
    finally:
        if gc_was_enabled:
            gc.enable()


def _build(
    root: Path,
    out: str | Path | None,
    base_url: str | None,
    site_url: str | None,
    strict: bool,
    drafts: bool,
    jobs: int,
    started: float,
    use_cache: bool = True,
) -> BuildResult:
    clock = _Phases(started)
    config = load_config(root)
    if base_url is not None:
        config = replace(config, base_url=normalize_base_url(base_url))
    if site_url:
        config = replace(config, url=site_url.rstrip("/"))
    out_dir = Path(out) if out is not None else config.path("out_dir")
    staging = Staging(out_dir if out_dir.is_absolute() else Path.cwd() / out_dir)  # the workers write into it
    try:
        site, pages, files, written = _make(config, strict, drafts, jobs, use_cache, staging.root, clock)
        staging.publish(files)
    except BaseException:
        staging.discard()
        raise
    clock.lap("write")
    seconds = time.perf_counter() - started
    cache = site.cache
    return BuildResult(out_dir, len(pages), len(files) + len(written), seconds, site.warnings, cache.hits,
                       cache.misses, clock.laps)  # fmt: skip


def _make(
    config: SiteConfig, strict: bool, drafts: bool, jobs: int, use_cache: bool, staging: Path, clock: _Phases
) -> tuple[Site, list[Page], dict[str, bytes | Path], frozenset[str]]:
    """Every page of the site: the site, its pages, the files still to write and the files the
    workers wrote into ``staging``."""
    cache = open_cache(config, use_cache)
    late = None
    with Workers(jobs, cache=cache) as workers:  # forked only if the work is large enough
        data = load_data(config, strict, cache, workers)
        clock.lap("read")
        # --strict also turns bad chart / leaderboard blocks in posts into errors
        site = make_site(config, data.parts, load_site_content(config, drafts), drafts,
                         warnings=data.warnings, strict=strict, cache=cache)  # fmt: skip
        if workers.started:  # no more forks from here
            late = threading.Thread(target=_warm_up, args=(site,), name="scaleboard-warm-up", daemon=True)
            late.start()
        # the models made in workers: their pages and downloads made there, written into staging
        written = prepare(site, workers, data.owners, staging)
        workers.stop()  # they exit while this process goes on (joined when the block ends)
        if late is not None:
            late.join()
        for part in data.parts.values():
            save_part(cache, part)  # those made in this process (the workers keep theirs)
        pages = gather_pages(site)
        clock.lap("gather")
        files = render_pages(site, pages, jobs, written, linked=True)
        cache.save()
        clock.lap("render")
    for name, body in assets(site).items():
        files.setdefault(name, body)
    return site, pages, files, written


def _warm_up(site: Site) -> None:
    """Ready what only the build's own process needs after the workers' rounds, in a thread while
    the workers make the models' pages: the blog and feed modules (Markdown, Pygments, feedgen,
    lxml) and the compiled templates. Alone at the end of a cold build they took 0.1-0.2 s."""
    try:
        from scaleboard.generator import blog, feed  # noqa: F401

        for name in site.env.list_templates(extensions=["html"]):
            if not name.startswith("assets/"):
                site.env.get_template(name)
    except Exception:  # the build reports it where it needs the module or template
        return


class _Phases:
    """Seconds per phase of a build (read → gather → render → write), for ``benchmarks/build_speed.py``."""

    def __init__(self, started: float) -> None:
        self.last = started
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.last = now - self.last, now
