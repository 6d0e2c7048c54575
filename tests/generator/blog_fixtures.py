"""A small project for the blog tests: synthetic gpt2 records on one CPU machine, and posts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from scaleboard.generator import blog, synthetic
from scaleboard.generator.build import load_data, render_pages
from scaleboard.generator.config import load_config
from scaleboard.generator.content import load_content
from scaleboard.generator.site import make_site

MACHINE = "AMD EPYC (2 cores)"
SUITE = "cpu-default"
TODAY = dt.date(2026, 11, 23)
CONFIGS = tuple(c for c in synthetic.CONFIGS if c[:3] in {
    ("eager", "fp32", "sdpa"), ("eager", "bf16", "sdpa"), ("torchscript", "fp32", "sdpa"),
    ("compile", "fp32", "sdpa"), ("compile", "bf16", "sdpa"), ("eager", "int8-dynamic", "sdpa"),
})  # fmt: skip


def write_records(root: Path, machines: tuple[str, ...] = (MACHINE,)) -> Path:
    records = synthetic.dataset(
        models=[("gpt2", 124_439_808)],
        machines=[synthetic.machine(m) for m in machines],
        configs=CONFIGS,
        threads=(1, 2),
        suites=(SUITE,),
        batch_sizes=(1, 2, 4, 8),
    )
    return synthetic.write_jsonl(records, root / "data" / "run.jsonl")


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def post(title: str, date: str = "2026-11-01", body: str = "Text.\n", **front: str) -> str:
    lines = [f"title: {title}", f"date: {date}", *(f"{k}: {v}" for k, v in front.items())]
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def build_blog(root: Path, *, strict: bool = False, drafts: bool = False, today: dt.date = TODAY):
    """The blog pages of the project at ``root``, rendered: ``(site, pages, files)``."""
    config = load_config(root)
    data = load_data(config)
    content = load_content(config.path("content_dir"), drafts=drafts, today=today)
    site = make_site(config, data.parts, content, drafts, strict=strict)
    pages = blog.pages(site)
    return site, pages, render_pages(site, pages)


def text(files: dict[str, bytes], name: str) -> str:
    return files[name].decode("utf-8")
