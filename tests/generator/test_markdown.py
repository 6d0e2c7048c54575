"""Markdown rendering and the chart / leaderboard blocks of posts."""

from __future__ import annotations

import json
import re

import pytest
from blog_fixtures import MACHINE, build_blog, post, text, write, write_records

from scaleboard.errors import BuildError
from scaleboard.generator.markdown_ext import BlockError, parse_spec, pygments_css, render

CHART = """Intro.

```chart
model: gpt2
metric: tokens_per_s
x: batch_size
series: optimization
precision: fp32
threads: 2
```
"""


def figures(html: str) -> list[dict]:
    """Every embedded chart's figure (the JSON inside each chart container)."""
    found = re.findall(r'<script type="application/json" class="chart-data">(.*?)</script>', html, re.S)
    return [fig for blob in found for fig in json.loads(blob).values()]


def test_markdown_features():
    body = (
        "## First\n\n### Sub\n\nA claim[^1].\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\ndef f(x):\n    return x\n```\n\n[^1]: A source.\n"
    )
    result = render(body, source="x.md")
    assert '<h2 id="first">' in result.html and 'class="headerlink" href="#first"' in result.html
    assert '<a href="#sub">Sub</a>' in result.toc_html and result.headings == 2
    assert "<table>" in result.html and "<td>1</td>" in result.html
    assert '<div class="highlight">' in result.html and '<span class="k">def</span>' in result.html
    assert 'class="footnote"' in result.html and 'href="#fn:1"' in result.html
    assert ".highlight .k" in pygments_css()


def test_blocks_inside_other_fences_stay_code():
    body = "````markdown\n```chart\nmodel: gpt2\n```\n````\n"
    result = render(body, source="x.md", handler=lambda *a: pytest.fail("must not render"))
    assert result.blocks == [] and "model: gpt2" in result.html


def test_block_html_and_line_numbers():
    calls = []

    def handler(kind, spec, index):
        calls.append((kind, spec, index))
        if spec.get("model") != "gpt2":
            raise BlockError(f"unknown model {spec.get('model')!r}")
        return '<div class="drawn"></div>'

    body = "a\n\n```chart\nmodel: gpt2\n```\n\n```leaderboard\nmodel: nope\n```\n\n```chart\nmodel: [\n```\n"
    result = render(body, source="content/posts/x.md", first_line=10, handler=handler)
    assert '<div class="drawn"></div>' in result.html
    assert calls == [("chart", {"model": "gpt2"}, 1), ("leaderboard", {"model": "nope"}, 2)]
    assert [str(w) for w in result.warnings] == [
        "content/posts/x.md:16: leaderboard block: unknown model 'nope'",
        "content/posts/x.md:20: chart block: YAML syntax on line 1 of the block: "
        "expected the node content, but found '<stream end>'",
    ]
    assert result.html.count('class="embed-warning"') == 2
    strict = render(body, source="content/posts/x.md", first_line=10, handler=handler, strict=True)
    assert [p.line for p in strict.errors] == [16, 20] and strict.warnings == []


def test_parse_spec_rejects_non_mappings():
    assert parse_spec("", "chart") == {}
    with pytest.raises(BlockError, match="holds 'key: value' lines"):
        parse_spec("- a\n- b", "chart")


def test_chart_block_draws_the_records(tmp_path):
    write_records(tmp_path)
    write(tmp_path, "content/posts/p.md", post("P", body=CHART))
    site, _, files = build_blog(tmp_path)
    html = text(files, "blog/p/index.html")
    (figure,) = figures(html)
    assert [t["name"] for t in figure["data"]] == ["eager", "torchscript", "compile"]
    assert all(t["x"] == [1, 2, 4, 8] and len(t["y"]) == 4 for t in figure["data"])
    assert 'class="chart-csv"' in html  # every chart offers its data as CSV
    assert "/models/gpt2/amd-epyc-2-cores/cpu-default/" in html  # caption links the model page
    assert site.warnings == [] or all("url" in w for w in site.warnings)


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("model: gpt3", "chart block: unknown model 'gpt3'"),
        ("model: gpt2\nmetric: speed", "chart block: unknown metric 'speed'"),
        ("model: gpt2\ncolour: red", "chart block: unknown key 'colour'"),
        ("model: gpt2\nprecision: fp16", "chart block: no measured point"),
    ],
)
def test_bad_chart_is_a_warning_box_or_a_strict_error(tmp_path, block, message):
    write_records(tmp_path)
    body = "Intro.\n\n```chart\n" + block + "\n```\n"
    write(tmp_path, "content/posts/2026-11-01-bad.md", post("Bad", body=body))
    expected = f"content/posts/2026-11-01-bad.md:7: {message}"
    site, _, files = build_blog(tmp_path)
    assert any(w.startswith(expected) for w in site.warnings), site.warnings
    html = text(files, "blog/bad/index.html")
    assert 'class="embed-warning"' in html and "could not be drawn" in html
    with pytest.raises(BuildError) as info:
        build_blog(tmp_path, strict=True)
    assert expected in str(info.value)


def test_machine_may_be_left_out_only_when_one_machine_measured_the_model(tmp_path):
    write_records(tmp_path, machines=(MACHINE, "Other CPU"))
    write(tmp_path, "content/posts/a.md", post("A", body=CHART))
    write(tmp_path, "content/posts/b.md", post("B", body=CHART.replace("threads: 2", f"machine: {MACHINE}")))
    write(tmp_path, "content/posts/c.md", post("C", body=CHART.replace("series: optimization", "series: machine")))
    site, _, files = build_blog(tmp_path)
    assert any("a.md:7: chart block: several machines match" in w for w in site.warnings), site.warnings
    assert len(figures(text(files, "blog/b/index.html"))) == 1
    (figure,) = figures(text(files, "blog/c/index.html"))
    assert sorted(t["name"] for t in figure["data"]) == sorted([MACHINE, "Other CPU"])


def test_a_chart_never_mixes_workloads_unless_it_draws_them(tmp_path):
    """A suite holding forward passes and generate calls: a block must pick one (by task or by
    workload) or draw them apart, or a generated token's tokens/s would be a forward pass's point."""
    from blog_fixtures import SUITE

    from scaleboard.generator import synthetic

    path = write_records(tmp_path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    generate = [{**r, "task": "generate", "new_tokens": 16, "throughput": {k: v / 4 for k, v in r["throughput"].items()}}
                for r in records if r["status"] == "ok"]  # fmt: skip
    synthetic.write_jsonl(generate, tmp_path / "data" / "generate.jsonl")
    assert {r["suite"] for r in generate} == {SUITE}  # one suite, two workloads
    write(tmp_path, "content/posts/a.md", post("A", body=CHART))
    write(tmp_path, "content/posts/b.md", post("B", body=CHART.replace("threads: 2", "threads: 2\ntask: generate")))
    forward = "workload: forward · 128 tokens"
    write(tmp_path, "content/posts/c.md", post("C", body=CHART.replace("threads: 2", f"threads: 2\n{forward}")))
    write(tmp_path, "content/posts/d.md", post("D", body=CHART.replace("series: optimization", "series: workload")))
    site, _, files = build_blog(tmp_path)
    expected = "a.md:7: chart block: several workloads match (forward · 128 tokens, generate · 128 tokens + 16 new); "
    assert any(expected + "name one with 'workload:' or 'task:'" in w for w in site.warnings), site.warnings
    assert len([w for w in site.warnings if "chart block" in w]) == 1  # b, c and d are drawn
    (decode,) = figures(text(files, "blog/b/index.html"))
    (prefill,) = figures(text(files, "blog/c/index.html"))
    eager = {f["name"]: f["y"] for f in decode["data"]}["eager"], {f["name"]: f["y"] for f in prefill["data"]}["eager"]
    assert len(eager[0]) == 4 and all(abs(d * 4 / p - 1) < 1e-3 for d, p in zip(*eager, strict=True))
    (both,) = figures(text(files, "blog/d/index.html"))
    assert {t["name"] for t in both["data"]} == {"forward · 128 tokens", "generate · 128 tokens + 16 new"}


def test_without_data_a_post_still_builds_with_a_warning(tmp_path):
    write(tmp_path, "content/posts/p.md", post("P", body=CHART))
    site, _, files = build_blog(tmp_path)
    assert "could not be drawn" in text(files, "blog/p/index.html")
    assert any("p.md:7: chart block: unknown model 'gpt2'" in w for w in site.warnings)


def test_leaderboard_block_renders_table_rows(tmp_path):
    write_records(tmp_path)
    body = "Intro.\n\n```leaderboard\nmodel: gpt2\nprecision: [fp32, bf16]\nsort: tokens_per_s\n```\n"
    write(tmp_path, "content/posts/p.md", post("P", body=body))
    _site, _, files = build_blog(tmp_path, strict=True)
    html = text(files, "blog/p/index.html")
    rows = re.findall(r'<tr[^>]*data-optimization="([^"]*)" data-precision="([^"]*)"', html)
    assert sorted(rows) == sorted(
        [("eager", "fp32"), ("eager", "bf16"), ("torchscript", "fp32"), ("compile", "fp32"), ("compile", "bf16")]
    )
    assert 'download="post-p-table-1.csv"' in html and "data:text/csv" in html


def test_bad_leaderboard_block(tmp_path):
    write_records(tmp_path)
    write(tmp_path, "content/posts/p.md", post("P", body="```leaderboard\nmodel: gpt2\nsort: speed\n```\n"))
    site, _, _ = build_blog(tmp_path)
    assert any(
        w.startswith("content/posts/p.md:5: leaderboard block: unknown sort column 'speed'") for w in site.warnings
    )


def test_site_absolute_links_get_the_base_url():
    html = render(
        "[a](/leaderboard/) [b](https://x.org/) [c](../y/) ![i](/assets/x.png)", source="x", base_url="/repo/"
    ).html
    assert 'href="/repo/leaderboard/"' in html and 'src="/repo/assets/x.png"' in html
    assert 'href="https://x.org/"' in html and 'href="../y/"' in html


@pytest.mark.parametrize(
    "body",
    [
        "Plain text.\n",
        "```chart\nmodel: gpt2\n```\n",
        "~~~~ Leaderboard\nmachine: x\n~~~~\n",
        "```python\nprint(1)\n```\n",
        "```markdown\n```chart\nmodel: gpt2\n```\n",  # shown inside another block: counted, never missed
        "  ```chart\n  model: gpt2\n  ```\n",  # indented: code, not a block
        "```chart\nmodel: gpt2\n",  # not closed: still a block (a problem in it)
    ],
)
def test_has_blocks_finds_every_block_render_finds(body):
    from scaleboard.generator.markdown_ext import has_blocks

    found = bool(render(body, source="x.md").blocks)
    if body.startswith("```markdown"):  # an over-count costs validate time, never a missed block
        assert has_blocks(body) and not found
    else:
        assert has_blocks(body) == found
