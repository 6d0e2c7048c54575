"""The site context: one typed object built in one place, and the ``Page`` every part emits.

A :class:`Site` holds the configuration, the records (as flat rows, the original records
of each page, and every record read, older runs too), the URL helper that honours ``base_url``, the colour of every
configuration, the URL slugs, the loaded content and the Jinja2 environment.
Templates only display what it holds.

Other parts of the generator add pages by returning :class:`Page` objects; the
build renders all of them first and then writes the site at once.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2

from scaleboard import diagnostics
from scaleboard.generator import jsonout
from scaleboard.generator.cache import BuildCache, key_of
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.frame import PageKey, Row
from scaleboard.generator.theme import template_dirs
from scaleboard.record import ATTENTIONS, OPTIMIZATIONS, PRECISIONS, Record


@dataclass(frozen=True)
class Page:
    """One output file.

    ``path`` is the URL path below the site root: ``"models/gpt2/cpu/default/"``
    (a trailing slash writes ``index.html`` there) or ``"feed.xml"``. With a
    ``template`` the file is that template rendered with ``context`` (plus the
    ``site`` and ``page`` globals); without one, ``body`` is written as it is.
    A heavy page may give ``make_context`` instead: a zero-argument callable run
    when the page is rendered, which lets the build spread such pages over processes.
    """

    path: str
    template: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)  # a page kind's TypedDict, made where that kind is built
    body: str | bytes | None = None
    title: str = ""
    make_context: Callable[[], Mapping[str, Any]] | None = field(default=None, compare=False, repr=False)
    #: A hash of everything the page is made from: the build may reuse its bytes from the cache.
    cache_key: str | None = field(default=None, compare=False, repr=False)

    @property
    def file(self) -> str:
        """The file path below the output directory."""
        return self.path + "index.html" if self.path.endswith("/") or not self.path else self.path


# Tableau 10 then its lighter companions: distinct, readable on light and dark backgrounds.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#b6992d",
    "#f1ce63",
    "#86bcb6",
    "#d37295",
    "#fabfd2",
    "#d4a6c8",
    "#79706e",
)


def slugify(text: str) -> str:
    """A URL segment of a name: ``NVIDIA H100 80GB`` → ``nvidia-h100-80gb``; ``../../x`` → ``x``."""
    return diagnostics.slugify(text, limit=80)


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """A distinct slug per name; names that clash (or slug to nothing) get a short hash."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(set(names)):
        slug = slugify(name)
        if not slug or slug in taken:
            digest = hashlib.sha1(name.encode()).hexdigest()[:8]
            slug = f"{slug}-{digest}" if slug else f"x-{digest}"
        taken.add(slug)
        slugs[name] = slug
    return slugs


@functools.lru_cache(maxsize=4096)
def config_order(name: str) -> tuple[Any, ...]:
    """Sort configurations as the axes are listed: baseline first (eager · fp32 · sdpa)."""
    parts = name.split(" · ")
    axes = (OPTIMIZATIONS, PRECISIONS, ATTENTIONS)
    return tuple((axis.index(p) if p in axis else len(axis), p) for axis, p in zip(axes, parts, strict=False))


def color_map(configs: Iterable[str]) -> dict[str, str]:
    """One colour per configuration name, the same in every chart of the site."""
    ordered = sorted(set(configs), key=config_order)
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(ordered)}


@dataclass(frozen=True)
class Site:
    """Everything a page needs; built once by :func:`make_site` and never reassigned (its
    ``warnings`` list collects what pages report while they are made)."""

    config: SiteConfig
    rows: list[Row]  # flat rows, newest record per point
    raw: dict[PageKey, list[Record]]  # (model, machine, suite) → the original record of each of its rows
    colors: dict[str, str]
    slugs: dict[str, dict[str, str]]  # "model" / "machine" / "suite" → name → slug
    env: jinja2.Environment
    content: Any = None  # what scaleboard.generator.content.load_content returned, if there is content
    drafts: bool = False
    warnings: list[str] = field(default_factory=list)
    raw_lines: dict[PageKey, list[str]] = field(default_factory=dict)  # ``raw`` as JSON text, when read from files
    strict: bool = False  # bad chart / leaderboard blocks in posts are errors, not warnings
    history: list[Record] = field(default_factory=list)  # every record read, older runs of a point too (compare)
    cache: BuildCache = field(default_factory=lambda: BuildCache(None))  # what the build may reuse (disabled)
    # Hashes of what cached results are made from (only with a cache): each page's records as
    # read (``raw_lines``), and model → its data files (``Data.sources``).
    page_digests: dict[PageKey, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.config.base_url

    def url(self, path: str = "") -> str:
        """A site-internal link: ``url("leaderboard/")`` → ``/repo/leaderboard/``. Absolute URLs pass."""
        if re.match(r"^[a-z][a-z0-9+.-]*:", path) or path.startswith("//"):
            return path
        return self.config.base_url + path.lstrip("/")

    def absolute_url(self, path: str = "") -> str:
        """``url`` joined to the configured site address (for feeds and sitemaps)."""
        origin = re.sub(r"^([a-z]+://[^/]+).*$", r"\1", self.config.url.rstrip("/"))
        return origin + self.url(path) if origin else self.url(path)

    def model_path(self, model: str, machine: str, suite: str) -> str:
        s = self.slugs
        return f"models/{s['model'][model]}/{s['machine'][machine]}/{s['suite'][suite]}/"

    def model_url(self, model: str, machine: str, suite: str) -> str:
        return self.url(self.model_path(model, machine, suite))

    def data_path(self, model: str, machine: str, suite: str, ext: str) -> str:
        s = self.slugs
        return f"data/{s['model'][model]}/{s['machine'][machine]}/{s['suite'][suite]}.{ext}"

    def color(self, config: str) -> str:
        return self.colors.get(config, PALETTE[-1])

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


def make_env(config: SiteConfig, cache: BuildCache | None = None) -> jinja2.Environment:
    """Jinja2 with autoescaping on; the project's templates first, the shipped ones after.

    With a build cache, compiled templates are kept in it (Jinja checks each template's source
    against what it compiled, so an edited template is compiled again).
    """
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs(config)])
    compiled = cache.directory / "templates" if cache is not None and cache.directory is not None else None
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(compiled)) if compiled is not None else None,
        autoescape=jinja2.select_autoescape(("html", "htm", "xml", "svg"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        script_json=jsonout.script_json,
        rnd=jsonout.rnd,
        num=jsonout.fmt_num,
        bytes=jsonout.fmt_bytes,
        pct=jsonout.fmt_pct,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    return env


def make_site(
    config: SiteConfig,
    rows: list[Row],
    raw_by_page: dict[PageKey, list[Record]],
    content: Any = None,
    drafts: bool = False,
    history: list[Record] | None = None,
    *,
    raw_lines: dict[PageKey, list[str]] | None = None,
    warnings: list[str] | None = None,
    strict: bool = False,
    cache: BuildCache | None = None,
    sources: dict[str, str] | None = None,
) -> Site:
    """The one place a :class:`Site` is built; nothing is set on it afterwards."""
    from scaleboard.generator.speedups import add_speedups

    add_speedups(rows, config.baseline.key)
    slugs = {dim: unique_slugs(r[dim] for r in rows) for dim in ("model", "machine", "suite")}
    site = Site(
        config=config,
        rows=rows,
        raw=raw_by_page,
        colors=color_map(r["config"] for r in rows),
        slugs=slugs,
        env=make_env(config, cache),
        content=content,
        drafts=drafts,
        history=history if history is not None else [r for page in raw_by_page.values() for r in page],
        raw_lines=raw_lines or {},
        warnings=list(warnings or ()),
        strict=strict,
        cache=cache or BuildCache(None),
        page_digests={key: key_of(lines) for key, lines in (raw_lines or {}).items()}
        if cache and cache.enabled
        else {},
        sources=dict(sources or {}),
    )
    site.env.globals.update(site=site, config=config, url=site.url)
    return site
