"""``scaleboard validate``: what a build would refuse or warn about, nothing written but the build cache.

Every data file is validated as the build validates it (:func:`data.check_data`: the same
errors, the build cache of files validated before, ``-j`` workers); ``content/`` is read, and
when a post or page holds ``chart`` or ``leaderboard`` blocks, each document is rendered as the
build renders it, blocks drawn from the data: a block the build would warn about (or refuse,
with ``--strict``) is found here too. Only then are the models' rows made (or their cached
summaries read); what is made is not kept for the build, which makes it again where it makes
the pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from scaleboard.generator.config import SiteConfig


@dataclass
class Findings:
    """What valid data and content hold, and the warnings a build would print."""

    files: int
    records: int
    content: bool  # the project has a content/ directory
    warnings: list[str]


def check_project(config: SiteConfig, strict: bool = False, jobs: int = 1, use_cache: bool = True) -> Findings:
    """Check the project of ``config``; raises :class:`~scaleboard.errors.BuildError` (or
    ``ConfigError``) where its build would, naming each file and line."""
    from scaleboard.generator import blog
    from scaleboard.generator.build import load_site_content, open_cache
    from scaleboard.generator.cache import BuildCache
    from scaleboard.generator.data import check_data, load_data
    from scaleboard.generator.markdown_ext import has_blocks
    from scaleboard.generator.site import make_site
    from scaleboard.generator.workers import Workers

    content = load_site_content(config, drafts=True)
    documents = [*content.posts, *content.pages] if content is not None else []
    cache = open_cache(config, use_cache)
    try:
        embeds = any(has_blocks(doc.body) for doc in documents)  # drawn from the rows: made as a build makes them
        # The workers keep no summaries of the parts they make: a build after this one then
        # makes each model's part and pages in one worker, as a cold build does, instead of
        # finding summaries and making every page in its own process.
        with Workers(jobs, cache=BuildCache(None)) as workers:
            data = (load_data if embeds else check_data)(config, strict, cache, workers)
        site = make_site(config, data.parts, content, True, warnings=list(data.warnings), strict=strict, cache=cache)
        blog.pages(site)  # each document rendered once, as the build does: its blocks' problems, the feed's
        return Findings(data.files, data.records, content is not None, site.warnings)
    finally:
        cache.save(prune=False)  # what a build caches besides stays for the next build
