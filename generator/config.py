"""The site configuration, ``scaleboard.yaml`` at the project root.

Every key is optional; a missing file means all defaults. Every problem is
collected first and reported at once, each naming ``scaleboard.yaml:LINE``
(the mkdocs way: validate every option, then abort once).

Keys (see the documented example ``scaleboard.yaml`` in the repository)::

    title: ScaleBoard                   # site title, shown in the header and <title>
    description: ...                    # one sentence for the index and meta tags
    url: https://user.github.io/repo/   # absolute address of the published site (feed, sitemap)
    base_url: /repo/                    # path prefix the site is served under (default "/")
    data_dir: data                      # where the JSONL records are
    content_dir: content                # Markdown posts and pages
    templates_dir: templates            # Jinja2 templates overriding the shipped ones
    out_dir: site                       # where `scaleboard build` writes
    baseline: {optimization: eager, precision: fp32, attention: sdpa}
    nav: [{title: Home, url: /}, ...]   # header links; "/x/" paths get base_url prepended
    blog: {...}                         # options read by the blog pages, passed through as-is
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from scaleboard.diagnostics import yaml_error_line, yaml_line
from scaleboard.errors import ConfigError
from scaleboard.record import ATTENTIONS, OPTIMIZATIONS, PRECISIONS

CONFIG_FILE = "scaleboard.yaml"


@dataclass(frozen=True)
class NavItem:
    title: str
    url: str


@dataclass(frozen=True)
class Baseline:
    """The configuration every speed-up is measured against."""

    optimization: str = "eager"
    precision: str = "fp32"
    attention: str = "sdpa"

    @property
    def key(self) -> tuple[str, str, str]:
        """``(optimization, precision, attention)``: how rows and records are matched to it."""
        return (self.optimization, self.precision, self.attention)

    @property
    def name(self) -> str:
        """The configuration's display name, ``eager · fp32 · sdpa`` (as ``record.config_name``)."""
        return " · ".join(self.key)


DEFAULT_NAV = (
    NavItem("Home", "/"),
    NavItem("Models", "/models/"),
    NavItem("Leaderboard", "/leaderboard/"),
    NavItem("Compare", "/compare/"),
    NavItem("Blog", "/blog/"),
)


@dataclass(frozen=True)
class SiteConfig:
    root: Path = Path(".")
    title: str = "ScaleBoard"
    description: str = "How PyTorch and Hugging Face models scale with batch size, threads and optimizations."
    url: str = ""
    base_url: str = "/"
    data_dir: str = "data"
    content_dir: str = "content"
    templates_dir: str = "templates"
    out_dir: str = "site"
    baseline: Baseline = Baseline()
    nav: tuple[NavItem, ...] = DEFAULT_NAV
    blog: dict[str, Any] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """A configured directory (``data_dir``...) resolved against the project root."""
        return self.root / str(getattr(self, name))


_STRINGS = ("title", "description", "url", "base_url", "data_dir", "content_dir", "templates_dir", "out_dir")


def normalize_base_url(value: str) -> str:
    """``repo`` / ``/repo`` / ``/repo/`` → ``/repo/``; empty → ``/``."""
    value = value.strip().strip("/")
    return f"/{value}/" if value else "/"


def load_config(root: str | Path, path: str | Path | None = None) -> SiteConfig:
    """Read ``scaleboard.yaml`` in ``root`` (or ``path``); defaults when it does not exist."""
    root = Path(root)
    config_path = Path(path) if path else root / CONFIG_FILE
    if not config_path.exists():
        if path:
            raise ConfigError(f"{config_path}: no such file")
        require_project_dir(root)
        return SiteConfig(root=root)
    text = config_path.read_text(encoding="utf-8")
    display = config_path.name if not path else str(config_path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        at = f"{line}:" if line else ""
        raise ConfigError(f"{display}:{at} invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if node is None:
        return SiteConfig(root=root)
    return _from_node(root, display, node)


def require_project_dir(root: Path) -> None:
    """Refuse a project directory that does not exist: a mistyped ``-C`` would otherwise make it
    and build an empty site there. (An existing folder without ``scaleboard.yaml`` is a project
    of defaults: ``No records yet`` until ``data/`` holds some.)"""
    if not root.is_dir():
        raise ConfigError(f"{root}: {'not a directory' if root.exists() else 'no such project directory'}")


def _from_node(root: Path, display: str, node: yaml.Node) -> SiteConfig:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{display}:{yaml_line(node)}: the configuration must be a mapping of keys to values")
    errors: list[str] = []
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key, where = key_node.value, f"{display}:{yaml_line(key_node)}"
        value = _construct(value_node)
        if key in _STRINGS:
            if not isinstance(value, str):
                errors.append(f"{where}: '{key}' must be a string")
            else:
                values[key] = value
        elif key == "baseline":
            values[key] = _baseline(value, where, errors)
        elif key == "nav":
            values[key] = _nav(value, where, errors)
        elif key == "blog":
            if not isinstance(value, dict):
                errors.append(f"{where}: 'blog' must be a mapping")
            else:
                values[key] = value
        else:
            known = ", ".join((*_STRINGS, "baseline", "nav", "blog"))
            errors.append(f"{where}: unknown key '{key}' (known keys: {known})")
    if errors:
        raise ConfigError("\n".join(errors))
    if "base_url" in values:
        values["base_url"] = normalize_base_url(values["base_url"])
    return SiteConfig(root=root, **values)


def _construct(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)


def _baseline(value: Any, where: str, errors: list[str]) -> Baseline:
    if not isinstance(value, dict):
        errors.append(f"{where}: 'baseline' must be a mapping like {{optimization: eager, precision: fp32}}")
        return Baseline()
    choices = {"optimization": OPTIMIZATIONS, "precision": PRECISIONS, "attention": ATTENTIONS}
    for key, item in value.items():
        if key not in choices:
            errors.append(f"{where}: baseline: unknown key '{key}' (known: optimization, precision, attention)")
        elif item not in choices[key]:
            errors.append(f"{where}: baseline: {key} is {item!r}; expected one of {', '.join(choices[key])}")
    if any(k not in choices or value[k] not in choices[k] for k in value):
        return Baseline()
    return Baseline(**value)


def _nav(value: Any, where: str, errors: list[str]) -> tuple[NavItem, ...]:
    items = []
    if not isinstance(value, list):
        errors.append(f"{where}: 'nav' must be a list of {{title, url}} mappings")
        return DEFAULT_NAV
    for index, item in enumerate(value, start=1):
        ok = isinstance(item, dict) and set(item) == {"title", "url"}
        if not ok or not all(isinstance(v, str) for v in item.values()):
            errors.append(f"{where}: nav item {index} must be a mapping with string 'title' and 'url' only")
            continue
        items.append(NavItem(item["title"], item["url"]))
    return tuple(items)
