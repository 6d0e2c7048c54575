"""A small records project for the generator tests: several machines, suites and thread
counts, an OOM wall, a configuration failing the correctness gate, and hostile model names."""

from __future__ import annotations

from pathlib import Path

from lxml import html as lxml_html

from scaleboard.generator import synthetic

XSS = "<script>alert(1)</script>"
ESCAPER = "../../x"
BATCHES = (1, 2, 4, 8, 16, 32, 64)
CONFIGS = tuple(
    c
    for c in synthetic.CONFIGS
    if c[:3]
    in {
        ("eager", "fp32", "sdpa"),
        ("eager", "bf16", "sdpa"),
        ("compile", "fp32", "sdpa"),
        ("compile", "bf16", "sdpa"),
        ("eager", "int8-dynamic", "sdpa"),
    }
)
CPU = synthetic.machine("epyc-2c", "cpu", 64, 1.0)
GPU = synthetic.machine("NVIDIA T4", "cuda", 1.8, 6.0)  # small memory: OOM at batch 16 (fp32), 32 (bf16)


def records() -> list[dict]:
    main = synthetic.dataset(
        models=[("gpt2", 124_439_808)],
        machines=[CPU, GPU],
        configs=CONFIGS,
        threads=(1, 2),
        suites=("v1", "v2"),
        batch_sizes=BATCHES,
    )
    hostile = synthetic.dataset(
        models=[(XSS, 1_000_000), (ESCAPER, 1_000_000)],
        machines=[CPU],
        configs=CONFIGS[:2],
        threads=(2,),
        batch_sizes=(1, 2, 4),
    )
    return main + hostile


def make_project(root: Path, config: str | None = None) -> Path:
    recs = records()
    synthetic.write_jsonl([r for r in recs if r["model"] == "gpt2"], root / "data" / "gpt2.jsonl")
    synthetic.write_jsonl([r for r in recs if r["model"] != "gpt2"], root / "data" / "more" / "hostile.jsonl")
    if config is not None:
        (root / "scaleboard.yaml").write_text(config)
    return root


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def links(path: Path) -> list[str]:
    """Every href / src of an HTML file."""
    tree = lxml_html.fromstring(path.read_bytes())
    return [v for el in tree.iter() for attr in ("href", "src") if (v := el.get(attr))]


def resolve(site: Path, link: str, base_url: str = "/") -> Path | None:
    """The file a site-internal link points to (``None`` for external / data: links)."""
    if not link.startswith("/") or link.startswith("//"):
        return None
    assert link.startswith(base_url), f"{link} does not start with {base_url}"
    path = link[len(base_url) :].split("#")[0].split("?")[0]
    target = site / path
    return target / "index.html" if path.endswith("/") or path == "" else target
