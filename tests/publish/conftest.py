"""A small project built under ``/scaleboard/``, as GitHub Pages serves a project site."""

from __future__ import annotations

from pathlib import Path

import pytest

from scaleboard.generator import synthetic
from scaleboard.generator.build import build

BASE_URL = "/scaleboard/"
SITE_URL = "https://example.github.io"

POST = """---
title: Links of every kind
date: 2026-11-20
tags: [gpt2, links]
---

Absolute links get the base URL: the [leaderboard](/leaderboard/) and [home](/).

| batch | tokens/s | note |
|---|---|---|
| 1 | 526 | fp32 eager, two threads, sequence length 128, random weights |
| 8 | 627 | a wide row that a phone has to scroll sideways inside the table box |

```chart
model: gpt2
metric: tokens_per_s
x: batch_size
series: optimization
```

## Best

```leaderboard
model: gpt2
```
"""


def write_project(root: Path) -> Path:
    records = synthetic.dataset(
        models=[("gpt2", 124_439_808)],
        machines=[synthetic.machine("epyc-2c", "cpu", 8, 1.0)],
        configs=synthetic.CONFIGS[:4],
        threads=(1, 2),
        batch_sizes=(1, 2, 4, 8, 1024),
    )
    synthetic.write_jsonl(records, root / "data" / "run.jsonl")
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "posts" / "2026-11-20-links.md").write_text(POST, encoding="utf-8")
    (root / "content" / "pages").mkdir()
    (root / "content" / "pages" / "about.md").write_text("---\ntitle: About\n---\n\nSee the [blog](/blog/).\n")
    (root / "scaleboard.yaml").write_text(f"title: Link test\nurl: {SITE_URL}{BASE_URL}\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("publish-project"))


@pytest.fixture(scope="session")
def published_site(project: Path) -> Path:
    """The project built with ``--base-url /scaleboard/`` (read-only: copy it before changing it)."""
    out = project / "site-subpath"
    build(project, out=out, base_url=BASE_URL)
    return out
