"""The site context: one typed object built in one place, and the ``Page`` every part emits.

A :class:`Site` holds the configuration, the records as one part per model
(:mod:`scaleboard.generator.parts`: summaries always, records loaded when a page needs them;
``rows`` gathers every part's), the URL helper that honours
``base_url``, the colour of every configuration, the URL slugs, the loaded content and the
Jinja2 environment. Templates only display what it holds.

Other parts of the generator add pages by returning :class:`Page` objects; the
build renders all of them first and then writes the site at once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jinja2
import jinja2.bccache

from scaleboard import diagnostics
from scaleboard.generator import jsonout
from scaleboard.generator.cache import BuildCache
from scaleboard.generator.config import SiteConfig
from scaleboard.generator.frame import Row
from scaleboard.generator.parts import Part
from scaleboard.generator.theme import template_dirs
from scaleboard.record import ATTENTIONS, OPTIMIZATIONS, PRECISIONS
from scaleboard.user_cache import cache_root


@dataclass(frozen=True)
class Page:
    """One output file.

    ``path`` is the URL path below the site root: ``"models/gpt2/cpu/default/"``
    (a trailing slash writes ``index.html`` there) or ``"feed.xml"``. With a
    ``template`` the file is that template rendered with ``context`` (plus the
    ``site`` and ``page`` globals); without one, ``body`` is written as it is.
    A heavy page may give ``make_context`` instead: a zero-argument callable run
    when the page is rendered, which lets the build spread such pages over processes; a
    file may likewise give ``make_body`` (run only when the cache does not hold the file).
    """

    path: str
    template: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)  # a page kind's TypedDict, made where that kind is built
    body: str | bytes | None = None
    title: str = ""
    #: The path of the site section the page belongs to where that is not a prefix of ``path``
    #: (the tag pages belong to the blog): the header marks that section's link as current.
    section: str = ""
    make_context: Callable[[], Mapping[str, Any]] | None = field(default=None, compare=False, repr=False)
    make_body: Callable[[], bytes] | None = field(default=None, compare=False, repr=False)
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
    parts: dict[str, Part]  # model → its records and summary, sorted by model
    colors: dict[str, str]
    slugs: dict[str, dict[str, str]]  # "model" / "machine" / "suite" → name → slug
    env: jinja2.Environment
    content: Any = None  # what scaleboard.generator.content.load_content returned, if there is content
    drafts: bool = False
    warnings: list[str] = field(default_factory=list)
    strict: bool = False  # bad chart / leaderboard blocks in posts are errors, not warnings
    cache: BuildCache = field(default_factory=lambda: BuildCache(None))  # what the build may reuse (disabled)

    @functools.cached_property
    def rows(self) -> list[Row]:
        """Every part's flat rows, newest record per point, model by model (blog embeds need them
        all; the records pages work part by part, so this loads the parts not loaded yet)."""
        return [r for part in self.parts.values() for r in part.data().rows]

    def rows_matching(self, filters: Iterable[tuple[str, tuple[Any, ...]]]) -> list[Row]:
        """The rows whose every filtered column holds one of its values (``(column, values)``
        pairs), in site order; a filter on ``model`` loads only those models' records."""
        checks = [(column, set(values)) for column, values in filters]
        models = [set(values) for column, values in checks if column == "model"]
        parts = [p for m, p in self.parts.items() if all(m in allowed for allowed in models)]
        rows = [r for part in parts for r in part.data().rows] if models else self.rows
        return [r for r in rows if all(r[c] in allowed for c, allowed in checks)]

    def names(self, dim: str) -> tuple[str, ...]:
        """The sorted names of ``model``, ``machine``, ``suite`` or ``config`` (from the summaries)."""
        if dim == "config":
            return tuple(sorted({c for part in self.parts.values() for c in part.summary.configs}))
        position = ("model", "machine", "suite").index(dim)
        return tuple(sorted({key[position] for part in self.parts.values() for key in part.summary.pages}))

    @property
    def points(self) -> int:
        """How many rows the site has (without loading them)."""
        return sum(part.summary.rows for part in self.parts.values())

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

    def overview_path(self, model: str, machine: str | None = None) -> str:
        """The page of a model (``models/<model>/``), or of a model on one machine."""
        path = f"models/{self.slugs['model'][model]}/"
        return path + f"{self.slugs['machine'][machine]}/" if machine is not None else path

    def data_path(self, model: str, machine: str, suite: str, ext: str) -> str:
        s = self.slugs
        return f"data/{s['model'][model]}/{s['machine'][machine]}/{s['suite'][suite]}.{ext}"

    def color(self, config: str) -> str:
        return self.colors.get(config, PALETTE[-1])

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


def make_env(config: SiteConfig, cache: BuildCache | None = None) -> jinja2.Environment:
    """Jinja2 with autoescaping on; the project's templates first, the shipped ones after.

    With a build cache (not ``--no-cache``), compiled templates are kept in the per-user cache
    folder (:mod:`scaleboard.user_cache`), as Python keeps compiled modules: compiling the
    theme took ~0.3 s of CPU a build. Jinja names each by the template's path and checks its
    source and Jinja's and Python's versions against what it compiled, so an edited template,
    or another project's of the same name, is compiled again.
    """
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in template_dirs(config)])
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=_compiled_templates() if cache is not None and cache.enabled else None,
        autoescape=jinja2.select_autoescape(("html", "htm", "xml", "svg"), default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        script_json=jsonout.script_json,
        rnd=jsonout.rnd,
        num=jsonout.fmt_num,
        counted=jsonout.fmt_count,
        bytes=jsonout.fmt_bytes,
        pct=jsonout.fmt_pct,
        signed_pct=jsonout.fmt_signed_pct,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":")}
    return env


class _TemplateCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, where a folder that cannot be read or written
    costs a compilation, never the build."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().load_bytecode(bucket)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _compiled_templates() -> jinja2.BytecodeCache | None:
    """The cache of compiled templates in the per-user cache folder; None when it is off or
    cannot be made."""
    root = cache_root()
    if root is None:
        return None
    folder = root / "templates"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _TemplateCache(str(folder))


def make_site(
    config: SiteConfig,
    parts: dict[str, Part],
    content: Any = None,
    drafts: bool = False,
    *,
    warnings: list[str] | None = None,
    strict: bool = False,
    cache: BuildCache | None = None,
) -> Site:
    """The one place a :class:`Site` is built; nothing is set on it afterwards."""
    pages = [key for part in parts.values() for key in part.summary.pages]
    slugs = {
        "model": unique_slugs(parts),
        "machine": unique_slugs(machine for _, machine, _ in pages),
        "suite": unique_slugs(suite for _, _, suite in pages),
    }
    site = Site(
        config=config,
        parts=dict(sorted(parts.items())),
        colors=color_map(c for part in parts.values() for c in part.summary.configs),
        slugs=slugs,
        env=make_env(config, cache),
        content=content,
        drafts=drafts,
        warnings=list(warnings or ()),
        strict=strict,
        cache=cache or BuildCache(None),
    )
    site.env.globals.update(site=site, config=config, url=site.url)
    return site
