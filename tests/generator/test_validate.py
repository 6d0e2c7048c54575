"""``scaleboard validate``: what the build of the same project would refuse or warn about,
with nothing written but the build cache."""

from __future__ import annotations

import pytest
from site_fixtures import make_project

from scaleboard.cli import main
from scaleboard.generator import data as data_module

POST = """---
title: Results
date: 2026-01-05
---
A chart that draws:

```chart
model: gpt2
machine: epyc-2c
suite: v1
metric: latency_ms
x: batch_size
series: config
threads: 2
```

and two that cannot:

```chart
model: no-such-model
```

```leaderboard
machine: [oops
```
"""


def messages(stderr: str) -> list[str]:
    return sorted(line for line in stderr.splitlines() if line)


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path)
    (root / "content" / "posts").mkdir(parents=True)
    (root / "content" / "posts" / "2026-01-05-results.md").write_text(POST)
    return root


def test_validate_warns_and_fails_where_the_build_does(project, capsys):
    assert main(["validate", "-C", str(project), "-j", "1"]) == 0
    out, checked = capsys.readouterr()
    assert out.startswith("ok: 2 data files, ") and out.endswith(" records, content/\n")
    assert "results.md:19: chart block: unknown model 'no-such-model'" in checked
    assert "results.md:23: leaderboard block: YAML syntax" in checked
    assert not list(project.glob(".scaleboard-cache/parts/*"))  # the build makes them where it makes the pages
    assert (project / ".scaleboard-cache" / "index.pickle").is_file()  # the files validated: kept
    assert main(["build", "-C", str(project), "-j", "1"]) == 0
    assert messages(capsys.readouterr().err) == messages(checked)  # the same warnings, the feed's too

    assert main(["validate", "-C", str(project), "--strict"]) == 1
    refused = capsys.readouterr().err
    assert refused.startswith("error: 2 problems in content (--strict):\n")
    assert main(["build", "-C", str(project), "--strict"]) == 1
    assert capsys.readouterr().err == refused


def test_content_without_blocks_is_checked_without_making_any_models_rows(project, monkeypatch, capsys):
    post = project / "content" / "posts" / "2026-01-05-results.md"
    post.write_text(POST.split("A chart")[0] + "No data here.\n")

    def refuse(*args, **kwargs):
        raise AssertionError("a model's rows were made")

    monkeypatch.setattr(data_module, "make_data", refuse)  # -j 1: the parts are made in this process
    assert main(["validate", "-C", str(project), "-j", "1"]) == 0
    assert "'url' is not set" in capsys.readouterr().err  # as the build warns
    post.write_text(POST.split("A chart")[0] + "```chart\nmodel: gpt2\n```\n")  # a block: drawn from the data
    with pytest.raises(AssertionError, match="rows were made"):
        main(["validate", "-C", str(project), "-j", "1"])
