"""``scaleboard new post "Title"``: a new post with front matter and an example chart block."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import yaml

from scaleboard.diagnostics import slugify
from scaleboard.errors import ScaleboardError
from scaleboard.record import data_files, load_records

#: The example block names this model when data/ holds no record yet.
DEFAULT_MODEL = "gpt2"

TEMPLATE = """---
title: {title}
date: {date}
tags: [benchmarks]
summary: One sentence for the blog index and the feed.
draft: false  # true keeps the post out of the built site (scaleboard build --drafts shows it)
---

What did you measure, on what, and why? The text before the marker below is the
excerpt on the blog index.

<!-- more -->

## Results

The block below draws a live chart from the records in data/ (the same chart as
the model pages). Keys: model, machine, suite, metric, x, series, and filters
such as task, precision, optimization, threads or batch_size.

```chart
model: {model}
metric: tokens_per_s
x: batch_size
series: optimization
```

A `leaderboard` block embeds a table of the best configurations:

```leaderboard
model: {model}
```
"""


def new_post(
    title: str, content_dir: str | Path, *, data_dir: str | Path | None = None, today: dt.date | None = None
) -> Path:
    """Write ``content_dir/posts/<date>-<slug>.md`` and return its path; never overwrites."""
    slug = slugify(title)
    if not title.strip() or not slug:
        raise ScaleboardError(f"cannot make a file name from the title {title!r}; use some letters or digits")
    today = today or dt.datetime.now(dt.timezone.utc).date()
    path = Path(content_dir) / "posts" / f"{today.isoformat()}-{slug}.md"
    if path.exists():
        raise ScaleboardError(f"{path} already exists; choose another title or edit that file")
    model = _most_measured_model(data_dir) if data_dir else DEFAULT_MODEL
    text = TEMPLATE.format(title=_yaml_scalar(title), date=today.isoformat(), model=_yaml_scalar(model))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as fh:  # "x": fail rather than overwrite, even in a race
        fh.write(text)
    return path


def _yaml_scalar(value: str) -> str:
    """``value`` as a one-line YAML scalar, quoted only when needed (``Part 2: compile`` is quoted)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).removesuffix("\n...\n").strip()


def _most_measured_model(data_dir: str | Path) -> str:
    """The model with most ``ok`` records in ``data_dir``, so the example chart shows real data."""
    records = load_records(data_files(data_dir)).records
    counts = Counter(r["model"] for r in records if r["status"] == "ok")
    return counts.most_common(1)[0][0] if counts else DEFAULT_MODEL
