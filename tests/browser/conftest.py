"""Browser tests: a site built from synthetic records, served under /scaleboard/, driven by Chromium.

One site, one server and one browser for the whole session (a browser start costs ~1 s, a
plotly.js parse ~0.3 s per page); each test opens its own pages and watches them for console
errors, page errors, failed requests and error responses (:class:`Watched`).

Debian's ``/usr/bin/chromium`` only (the browser downloads of test tools fail here): without it
every browser test is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import Watched, watch
from pages_server import serve

from scaleboard.generator import synthetic
from scaleboard.generator.build import build

BASE_URL = "/scaleboard/"
DESKTOP = {"width": 1280, "height": 900}

#: Six configurations, two machines (one CPU with 8 GiB, so the biggest batches hit the OOM wall).
CONFIGS = tuple(c for c in synthetic.CONFIGS if c[:3] in {
    ("eager", "fp32", "sdpa"), ("eager", "bf16", "sdpa"), ("torchscript", "fp32", "sdpa"),
    ("compile", "fp32", "sdpa"), ("compile", "bf16", "sdpa"), ("eager", "int8-dynamic", "sdpa"),
})  # fmt: skip
MACHINES = (synthetic.machine("epyc-2c", "cpu", 8, 1.0), synthetic.machine("NVIDIA T4", "cuda", 16, 6.0))

POST = """---
title: Batching GPT-2 on two cores
date: 2026-11-20
tags: [gpt2, cpu]
summary: Throughput by batch size, drawn live from the records.
---

Throughput grows with the batch until the cores are saturated.

<!-- more -->

| batch | fp32 eager tokens/s | bf16 eager tokens/s | note |
|---|---|---|---|
| 1 | 526 | 1,769 | two cores, sequence length 128, random weights, median of the timed iterations |
| 8 | 627 | 2,048 | a long row: on a phone the table scrolls inside its own box, never the page |

## Throughput

```chart
model: gpt2
machine: epyc-2c
suite: default
metric: tokens_per_s
x: batch_size
series: optimization
precision: fp32
threads: 2
title: GPT-2 throughput by batch size
```

## Best configurations

```leaderboard
model: gpt2
machine: epyc-2c
```

Back to the [leaderboard](/leaderboard/) or [home](/).
"""

SECOND_POST = """---
title: Notes on int8
date: 2026-11-22
tags: [int8]
---

int8 is fast and wrong: see the [first post](/blog/batching-gpt-2-on-two-cores/).
"""


def write_project(root: Path) -> Path:
    """A small project: synthetic records (2 models × 2 machines × 6 configurations, and a training
    suite of one of them), two posts, a page."""
    records = synthetic.dataset(
        models=[("gpt2", 124_439_808), ("distilgpt2", 81_912_576)],
        machines=MACHINES,
        configs=CONFIGS,
        threads=(1, 2),
        suites=("default",),
        batch_sizes=(1, 2, 4, 8, 16, 64, 256, 1024),
    )
    synthetic.write_jsonl(records, root / "data" / "run.jsonl")
    synthetic.write_jsonl(training_records(), root / "data" / "train.jsonl")
    posts = root / "content" / "posts"
    posts.mkdir(parents=True)
    (posts / "2026-11-20-batching-gpt-2-on-two-cores.md").write_text(POST, encoding="utf-8")
    (posts / "2026-11-22-notes-on-int8.md").write_text(SECOND_POST, encoding="utf-8")
    pages = root / "content" / "pages"
    pages.mkdir()
    (pages / "about.md").write_text("---\ntitle: About\n---\n\nWhat this site measures.\n", encoding="utf-8")
    (root / "scaleboard.yaml").write_text("title: ScaleBoard test site\nurl: https://example.github.io/scaleboard/\n")
    return root


def training_records() -> list[dict]:
    """A training suite of gpt2 on the CPU: two configurations, a third of the forward pass's throughput."""
    forward = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=MACHINES[:1], configs=CONFIGS[:2],
                                suites=("train",), batch_sizes=(1, 2, 4))  # fmt: skip
    return [{**r, "task": "train", "throughput": {k: v / 3 for k, v in r["throughput"].items()} if r["throughput"]
             else None} for r in forward]  # fmt: skip


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_project(tmp_path_factory.mktemp("browser-project"))
    out = root / "site"
    build(root, out=out, base_url=BASE_URL)
    return out


@pytest.fixture(scope="session")
def server(site_dir: Path) -> Iterator[tuple[str, list]]:
    with serve(site_dir, BASE_URL) as served:
        yield served


@pytest.fixture(scope="session")
def root_url(server: tuple[str, list]) -> str:
    return server[0]


@pytest.fixture(scope="session")
def desktop(browser) -> Iterator:
    """One light, desktop-sized browser context shared by the tests (so plotly.js is cached)."""
    context = browser.new_context(viewport=DESKTOP, color_scheme="light")
    yield context
    context.close()


@pytest.fixture
def open_page(desktop) -> Iterator:
    """``open_page(url, context=None) -> Watched``; pages are closed after the test."""
    opened = []

    def opener(url: str, context=None, allowed_status: tuple[int, ...] = ()) -> Watched:
        watched = watch((context or desktop).new_page())
        watched.allowed_status.update(allowed_status)
        opened.append(watched.page)
        watched.goto(url)
        return watched

    yield opener
    for page in opened:
        page.close()
