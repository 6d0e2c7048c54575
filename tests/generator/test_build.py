"""`scaleboard build` end to end on a small records project: pages, links, safety, atomicity."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from lxml import html as lxml_html
from site_fixtures import ESCAPER, XSS, html_files, links, make_project, resolve

from scaleboard import record as rec
from scaleboard.cli import main
from scaleboard.errors import BuildError
from scaleboard.generator.build import build
from scaleboard.generator.jsonout import fmt_count
from scaleboard.generator.output import MARKER
from scaleboard.generator.site import slugify


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = make_project(tmp_path_factory.mktemp("project"))
    build(root)
    return root


@pytest.fixture(scope="module")
def site(project) -> Path:
    return project / "site"


def test_every_expected_page_exists(site):
    expected = [
        "index.html",
        "leaderboard/index.html",
        "compare/index.html",
        "assets/plotly.min.js",
        "assets/style.css",
        "assets/scaleboard.js",
        "data/records.csv",
        "data/leaderboard.csv",
    ]
    for machine in ("epyc-2c", "nvidia-t4"):
        for suite in ("v1", "v2"):
            expected.append(f"models/gpt2/{machine}/{suite}/index.html")
            expected.append(f"data/gpt2/{machine}/{suite}.csv")
            expected.append(f"data/gpt2/{machine}/{suite}.json")
    for name in expected:
        assert (site / name).is_file(), name


def test_every_internal_link_resolves(site):
    checked = 0
    for page in html_files(site):
        for link in links(page):
            target = resolve(site, link)
            if target is not None:
                assert target.is_file(), f"{page.relative_to(site)} links to missing {link}"
                checked += 1
    assert checked > 100


def test_index_links_every_model_page(site):
    index_links = set(links(site / "index.html"))
    model_pages = {
        "/" + p.parent.relative_to(site).as_posix() + "/" for p in (site / "models").glob("*/*/*/index.html")
    }
    assert len(model_pages) == 6  # gpt2 × 2 machines × 2 suites, and the two hostile names
    assert model_pages <= index_links
    overviews = {"/" + p.parent.relative_to(site).as_posix() + "/" for p in (site / "models").glob("*/index.html")}
    assert len(overviews) == 3 and overviews <= index_links  # each model's name links its own page


def test_plotly_js_is_written_once_and_never_from_a_cdn(site):
    plotly = (site / "assets/plotly.min.js").read_bytes()
    assert len(plotly) > 1_000_000
    for page in html_files(site):
        text = page.read_text()
        assert "cdn.plot.ly" not in text and "cdn.jsdelivr" not in text
        assert len(page.read_bytes()) < len(plotly)  # no inlined copy
    model = (site / "models/gpt2/epyc-2c/v1/index.html").read_text()
    assert model.count('data-plotly="/assets/plotly.min.js"') == 1
    assert "displaylogo: false" in (site / "assets/scaleboard.js").read_text()
    assert 'format: "svg"' in (site / "assets/scaleboard.js").read_text()


def test_model_page_embeds_every_view_as_json(site):
    page = lxml_html.fromstring((site / "models/gpt2/epyc-2c/v1/index.html").read_bytes())
    blocks = [json.loads(s.text) for s in page.xpath('//script[@class="chart-data"]')]
    assert len(blocks) >= 10
    per_batch = blocks[0]
    assert set(per_batch) == {"1", "2", "4", "8", "16", "32", "64"}  # one figure per batch size
    # two thread counts → threads on x, a line per configuration
    assert per_batch["8"]["layout"]["xaxis"]["title"]["text"] == "threads"
    assert len(per_batch["8"]["data"]) == 5
    selects = page.xpath('//figure[@id="latency-per-batch"]//select/option/@value')
    assert selects == ["1", "2", "4", "8", "16", "32", "64"]
    per_opt = blocks[1]["compile"]
    assert per_opt["layout"]["xaxis"]["type"] == "log"
    assert per_opt["layout"]["xaxis"]["tickvals"][:4] == [1, 2, 4, 8]


def test_failing_configuration_is_flagged_on_the_model_page(site):
    text = (site / "models/gpt2/epyc-2c/v1/index.html").read_text()
    assert "eager · int8-dynamic · sdpa</span> fails the correctness gate" in text
    assert "83.0 %" in text
    assert "eager · int8-dynamic · sdpa ⚠" in text  # in chart legends too


def test_oom_wall_is_marked(site):
    page = lxml_html.fromstring((site / "models/gpt2/nvidia-t4/v1/index.html").read_bytes())
    memory = json.loads(page.xpath('//figure[@id="memory-chart"]//script')[0].text)[""]
    wall = [t for t in memory["data"] if t["name"] == "OOM / timeout wall"]
    assert wall and sorted(wall[0]["x"]) == [16, 32]
    assert "oom at batch 16" in page.text_content()


def test_xss_model_name_is_inert_everywhere(site):
    for path in [*html_files(site), *site.rglob("*.json")]:
        text = path.read_text()
        assert XSS not in text, f"raw model name in {path.relative_to(site)}"
        assert "<script>alert" not in text
    index = (site / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    page = site / "models" / slugify(XSS) / "epyc-2c" / "default" / "index.html"
    assert "\\u003cscript\\u003ealert(1)" in page.read_text() or "&lt;script&gt;" in page.read_text()


def test_dotdot_model_stays_inside_the_site(project, site):
    assert (site / "models" / "x" / "epyc-2c" / "default" / "index.html").is_file()
    assert not (project / "x").exists() and not (project.parent / "x").exists()
    assert ESCAPER in (site / "models/x/epyc-2c/default/index.html").read_text()


def test_csv_download_parses_and_matches_the_records(site, project):
    frame = pd.read_csv(site / "data/gpt2/epyc-2c/v1.csv")
    records = [json.loads(line) for line in (project / "data/gpt2.jsonl").read_text().splitlines()]
    mine = [r for r in records if r["machine"] == "epyc-2c" and r["suite"] == "v1"]
    assert len(frame) == len(mine)
    expected = {
        (r["config"], r["threads"], r["batch_size"]): r["throughput"]["tokens_per_s"]
        for r in ({**r, "config": " · ".join((r["optimization"], r["precision"], r["attention"]))} for r in mine)
        if r["status"] == "ok"
    }
    got = frame[frame.status == "ok"].set_index(["config", "threads", "batch_size"])["tokens_per_s"].to_dict()
    assert got == expected
    raw = json.loads((site / "data/gpt2/epyc-2c/v1.json").read_text())
    assert len(raw) == len(mine) and raw[0]["schema"] == rec.SCHEMA
    everything = pd.read_csv(site / "data/records.csv")
    assert len(everything) == len(records) + 2 * 2 * 3  # two hostile models, two configs, three batches


def test_leaderboard_marks_failing_configurations_and_never_ranks_them(site):
    page = lxml_html.fromstring((site / "leaderboard/index.html").read_bytes())
    rows = page.xpath("//table[@data-leaderboard]/tbody/tr")
    qualities = [r.get("data-quality") for r in rows]
    assert "fail" in qualities
    first_fail = qualities.index("fail")
    assert all(q == "fail" for q in qualities[first_fail:])  # failing ones sort last
    for row in rows:
        if row.get("data-quality") == "fail":
            assert "failing" in row.get("class")
            assert row.xpath("./td")[0].text_content() == "—"
            assert "⚠ fails" in row.text_content()
    assert rows[0].xpath("./td")[0].text_content() == "1"
    board = pd.read_csv(site / "data/leaderboard.csv")
    assert board["rank"].isna().sum() == qualities.count("fail")


def test_rebuild_is_byte_identical(project, tmp_path):
    build(project, out=tmp_path / "again")
    first = {p.relative_to(project / "site"): p.read_bytes() for p in (project / "site").rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "again"): p.read_bytes() for p in (tmp_path / "again").rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_base_url_prefixes_every_internal_link(project, tmp_path):
    out = tmp_path / "sub"
    build(project, out=out, base_url="repo")
    for page in html_files(out):
        for link in links(page):
            if link.startswith("/"):
                assert link.startswith("/repo/"), f"{page.relative_to(out)}: {link}"
                target = resolve(out, link, "/repo/")
                assert target is not None and target.is_file(), f"{page.relative_to(out)}: {link}"
    assert 'data-plotly="/repo/assets/plotly.min.js"' in (out / "index.html").read_text()


def test_corrupt_line_fails_with_file_and_line_and_keeps_the_old_site(tmp_path, capsys):
    root = make_project(tmp_path)
    assert main(["build", "-C", str(root)]) == 0
    before = {p: p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    good = (root / "data/gpt2.jsonl").read_text().splitlines()[0]
    (root / "data/bad.jsonl").write_text(good + "\n" + '{"schema": "scaleboard.record/1", "model": \n' + good + "\n")
    capsys.readouterr()
    assert main(["build", "-C", str(root)]) == 1
    err = capsys.readouterr().err
    assert re.search(r"error: .*data/bad\.jsonl:2: not valid JSON", err)
    after = {p: p.read_bytes() for p in (root / "site").rglob("*") if p.is_file()}
    assert after == before
    assert not [p for p in root.iterdir() if p.name.startswith(".site-")]  # no temporary directory left


def test_missing_field_is_named_with_its_line(tmp_path, capsys):
    root = make_project(tmp_path)
    record = json.loads((root / "data/gpt2.jsonl").read_text().splitlines()[0])
    del record["batch_size"]
    (root / "data/gpt2.jsonl").write_text(json.dumps(record) + "\n")
    assert main(["validate", "-C", str(root)]) == 1
    assert "data/gpt2.jsonl:1: missing field 'batch_size'" in capsys.readouterr().err


def test_strict_fails_on_warnings(tmp_path, capsys):
    root = make_project(tmp_path)
    record = json.loads((root / "data/gpt2.jsonl").read_text().splitlines()[0])
    (root / "data/extra.jsonl").write_text(json.dumps({**record, "colour": "blue"}) + "\n")
    assert main(["validate", "-C", str(root)]) == 0
    assert "data/extra.jsonl:1: unknown field 'colour'" in capsys.readouterr().err
    assert main(["build", "-C", str(root), "--strict"]) == 1
    assert "data/extra.jsonl:1: unknown field 'colour'" in capsys.readouterr().err
    assert not (root / "site").exists()


def test_validate_builds_nothing(tmp_path, capsys):
    root = make_project(tmp_path)
    assert main(["validate", "-C", str(root)]) == 0
    assert "ok:" in capsys.readouterr().out
    assert not (root / "site").exists()


def test_refuses_to_replace_a_directory_it_did_not_build(tmp_path):
    root = make_project(tmp_path)
    (root / "site").mkdir()
    (root / "site" / "precious.txt").write_text("keep me")
    with pytest.raises(BuildError, match="not built by scaleboard"):
        build(root)
    assert (root / "site" / "precious.txt").read_text() == "keep me"
    (root / "site" / "precious.txt").unlink()
    build(root)
    assert (root / "site" / MARKER).is_file()


def test_empty_project_builds_a_site(tmp_path):
    result = build(tmp_path)
    index = (tmp_path / "site" / "index.html").read_text()
    assert "No records yet" in index
    assert result.pages >= 3


PARALLEL_CHECK = """
import sys
from scaleboard.generator import build as build_module
from scaleboard.generator.build import gather_pages, load_data, render_pages
from scaleboard.generator.config import load_config
from scaleboard.generator.site import make_site

config = load_config(sys.argv[1])
data = load_data(config)
site = make_site(config, data.parts)
pages = gather_pages(site)
build_module.PARALLEL_MIN_PAGES = 1
assert build_module.can_fork()  # else both calls would render here and prove nothing
assert render_pages(site, pages, jobs=2) == render_pages(site, pages, jobs=1)
"""


def test_pages_rendered_in_worker_processes_are_identical(project):
    # A fresh process: forking is refused while other tests' threads (servers, browsers) run.
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", PARALLEL_CHECK, str(project)], check=True, timeout=120)


def test_two_workloads_on_one_page_are_never_mixed(tmp_path):
    from scaleboard.generator import synthetic

    long = [
        {**r, "seq_len": 512, "input": {"kind": "tokens", "shape": [512]}}
        for r in synthetic.dataset(models=[("gpt2", 124_439_808)], batch_sizes=(1, 2))
    ]
    short = synthetic.dataset(models=[("gpt2", 124_439_808)], batch_sizes=(1, 2))
    synthetic.write_jsonl(short + long, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/models/gpt2/epyc-2c/default/index.html").read_bytes())
    per_threads = json.loads(page.xpath('//figure[@id="latency-per-threads"]//script')[0].text)
    names = [t["name"] for t in next(iter(per_threads.values()))["data"]]
    assert "eager · fp32 · sdpa · forward · 128 tokens" in names
    assert "eager · fp32 · sdpa · forward · 512 tokens" in names


def test_reading_keeps_each_records_text_and_matches_load_records(tmp_path):
    from scaleboard.generator.cache import BuildCache
    from scaleboard.generator.data import scan
    from scaleboard.record import data_files, load_records

    root = make_project(tmp_path)
    line = (root / "data/gpt2.jsonl").read_text().splitlines()[0]
    (root / "data/odd.jsonl").write_text(line.replace('"schema"', '"colour":1,"schema"') + "\n\n" + line[:50])
    files = data_files(root / "data")
    found, problems, _ = scan(files, root, BuildCache(None))
    pairs = [pair for file in found for pair in file.records or []]
    records = [record for record, _ in pairs]
    expected = load_records(files, root=root)
    assert records == expected.records and problems == expected.problems
    assert [p.message for p in problems] == [
        "unknown field 'colour'",
        "truncated last line (interrupted write) ignored",
    ]
    assert [json.loads(text) for _, text in pairs] == records
    assert [file.models for file in found] == [tuple(sorted({r["model"] for r, _ in f.records or []})) for f in found]


def test_a_page_without_any_successful_point_still_builds(tmp_path):
    from scaleboard.generator import synthetic

    failed = [
        synthetic.make_record(
            model="broken", batch_size=b, status="unsupported", reason="int8 needs a CPU",
            latency_ms=None, throughput=None, samples_ms=[], iterations=0, memory=None, warmup=None,
        )
        for b in (1, 2)
    ]  # fmt: skip
    synthetic.write_jsonl(failed, tmp_path / "data" / "broken.jsonl")
    build(tmp_path)
    page = (tmp_path / "site/models/broken/epyc-2c/default/index.html").read_text()
    assert "No successful measurement on this page" in page and "int8 needs a CPU" in page
    assert "broken" not in (tmp_path / "site/leaderboard/index.html").read_text()


def test_the_index_never_calls_noise_or_the_baseline_a_speed_up(tmp_path):
    # In the shipped records no passing configuration beats eager fp32 on its best throughput by
    # more than the noise: compile measured 0.984x, a 1.6% difference, which is no finding.
    import shutil

    shutil.copytree(Path(__file__).resolve().parents[2] / "data", tmp_path / "data")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/index.html").read_bytes())
    card = next(c for c in page.xpath('//div[@class="card"]') if "baseline" in c.text_content().lower())
    text = " ".join(card.text_content().split())
    assert "none significant" in text and "0.984" not in text
    assert "int8" not in text  # int8 fails the correctness gate
    board = (tmp_path / "site/leaderboard/index.html").read_text()
    assert "too few samples to test" in board  # the shipped records hold 3-5 samples per point


def test_a_clear_speed_up_is_the_headline_with_its_interval(tmp_path):
    from scaleboard.generator.synthetic import make_record, write_jsonl

    def point(optimization, ms):
        samples = [ms * (1 + 0.01 * (i % 5)) for i in range(20)]
        latency = dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), sorted(samples)[10])
        return make_record(optimization=optimization, samples_ms=samples, latency_ms=latency,
                           throughput={"samples_per_s": 1000 / latency["p50"], "tokens_per_s": 128000 / latency["p50"]})  # fmt: skip

    write_jsonl(
        [point("eager", 100.0), point("compile", 50.0), point("torchscript", 99.0)], tmp_path / "data" / "r.jsonl"
    )
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/index.html").read_bytes())
    card = next(c for c in page.xpath('//div[@class="card"]') if "speed-up" in c.text_content().lower())
    text = " ".join(card.text_content().split())
    assert "Biggest speed-up found" in text and "2×" in text.replace("2.00×", "2×") and "95% interval" in text
    board = (tmp_path / "site/leaderboard/index.html").read_text()
    assert board.count("no significant difference") == 1 and "too few samples" not in board  # torchscript's 1%


def test_budget_points_say_not_measured_never_a_wall_and_never_hide_a_measurement(tmp_path):
    from scaleboard.generator.frame import latest_per_point
    from scaleboard.generator.synthetic import make_record, write_jsonl
    from scaleboard.record import no_measurement

    def point(b, status="ok", created="2026-11-01T00:00:00Z"):
        record = make_record(batch_size=b, created_at=created, model="distilgpt2")
        if status != "ok":
            record.update(status=status, reason="not measured (budget): the time plan left no room", **no_measurement())
        return record

    measured = [point(b) for b in (1, 2, 4)]
    left = [point(b, "budget") for b in (8, 16)]
    later_budget = point(4, "budget", created="2026-11-02T00:00:00Z")  # a later run that ran out of time
    assert [r["status"] for r in latest_per_point([*measured, later_budget])] == ["ok"] * 3
    write_jsonl([*measured, *left, later_budget], tmp_path / "data" / "run.jsonl")
    assert main(["build", "-C", str(tmp_path), "--strict"]) == 0
    (page,) = (tmp_path / "site" / "models" / "distilgpt2").glob("*/*/index.html")
    text = lxml_html.fromstring(page.read_text()).text_content()
    assert "batch 8–16: not measured (budget)" in text
    assert "Failures" not in text and "timeout" not in text.lower()


def test_budget_notes_and_walls_name_their_thread_count_when_a_configuration_ran_at_several(tmp_path):
    from scaleboard.generator.synthetic import make_record, write_jsonl
    from scaleboard.record import no_measurement

    def point(b, threads, status="ok"):
        record = make_record(batch_size=b, threads=threads, model="distilgpt2")
        if status != "ok":
            record.update(status=status, reason="not measured (budget): the time plan left no room", **no_measurement())
        return record

    # 2 threads measured batch 1-2 and left 4-8 out; 1 thread measured up to 4 and left 8 out;
    # eager · int8 ran out of memory at batch 4 with 2 threads and at batch 8 with 1
    records = [point(1, 2), point(2, 2), point(4, 2, "budget"), point(8, 2, "budget"),
               point(1, 1), point(2, 1), point(4, 1), point(8, 1, "budget")]  # fmt: skip
    oom = [
        make_record(batch_size=b, threads=t, model="distilgpt2", precision="int8-dynamic") for b, t in ((1, 2), (1, 1))
    ]
    for b, t in ((4, 2), (8, 1)):
        oom.append(make_record(batch_size=b, threads=t, model="distilgpt2", precision="int8-dynamic"))
        oom[-1].update(status="oom", reason="CUDA out of memory", **no_measurement())
    records += oom
    write_jsonl(records, tmp_path / "data" / "run.jsonl")
    assert main(["build", "-C", str(tmp_path), "--strict"]) == 0
    (page,) = (tmp_path / "site" / "models" / "distilgpt2").glob("*/*/index.html")
    text = " ".join(lxml_html.fromstring(page.read_text()).text_content().split())
    assert "batch 4–8 (2 threads): not measured (budget)" in text
    assert "oom at batch 4 (2 threads)" in text


def test_budget_notes_name_each_workload_of_a_suite_that_ran_two_sequence_lengths(tmp_path):
    from scaleboard.generator.synthetic import make_record, write_jsonl
    from scaleboard.record import no_measurement

    def point(b, seq, status="ok"):
        record = make_record(batch_size=b, seq_len=seq, input={"kind": "tokens", "shape": [seq]})
        if status != "ok":
            record.update(status=status, reason="not measured (budget): the time plan left no room", **no_measurement())
        return record

    # at 16 tokens the plan measured up to batch 16 and left 32-64 out; at 128 tokens it left 4-64 out
    records = [point(b, 16) for b in (1, 2, 4, 8, 16)] + [point(b, 16, "budget") for b in (32, 64)]
    records += [point(b, 128) for b in (1, 2)] + [point(b, 128, "budget") for b in (4, 8, 16, 32, 64)]
    write_jsonl(records, tmp_path / "data" / "run.jsonl")
    assert main(["build", "-C", str(tmp_path), "--strict"]) == 0
    (page,) = (tmp_path / "site" / "models").glob("*/*/*/index.html")
    text = " ".join(lxml_html.fromstring(page.read_text()).text_content().split())
    assert (
        "batch 32–64 (forward · 16 tokens); batch 4–64 (forward · 128 tokens): not measured (budget)" in text
    )  # each workload's own sizes, the shorter sequence first; before, one range over both: batch 4–64


def test_each_sequence_length_of_a_suite_has_its_own_wall_named_by_its_workload(tmp_path):
    from scaleboard.generator.synthetic import make_record, write_jsonl
    from scaleboard.record import no_measurement

    def point(b, seq, status="ok"):
        record = make_record(batch_size=b, seq_len=seq, input={"kind": "tokens", "shape": [seq]},
                             precision="int8-dynamic")  # fmt: skip
        if status == "oom":
            record.update(status="oom", reason="out of memory", **no_measurement())
        return record

    # at 128 tokens the wall is at batch 8, at 16 tokens at batch 32
    write_jsonl([point(1, 128), point(8, 128, "oom"), point(1, 16), point(8, 16), point(32, 16, "oom")],
                tmp_path / "data" / "run.jsonl")  # fmt: skip
    assert main(["build", "-C", str(tmp_path), "--strict"]) == 0
    (page,) = (tmp_path / "site" / "models").glob("*/*/*/index.html")
    tree = lxml_html.fromstring(page.read_text())
    text = " ".join(tree.text_content().split())
    assert "oom at batch 8 (forward · 128 tokens)" in text  # the smallest, named
    (memory,) = json.loads(tree.xpath('//figure[@id="memory-chart"]//script[@class="chart-data"]/text()')[0]).values()
    (marks,) = [t for t in memory["data"] if t["name"] == "OOM / timeout wall"]
    assert marks["x"] == [8, 32]
    assert [t.split("<br>")[1] for t in marks["text"]] == ["eager · int8-dynamic · sdpa · forward · 128 tokens",
                                                           "eager · int8-dynamic · sdpa · forward · 16 tokens"]  # fmt: skip


def test_generate_records_get_a_generation_section(tmp_path):
    from scaleboard.generator.synthetic import make_record, write_jsonl

    stats = dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), 5.0)
    generation = {"ttft_ms": stats, "per_token_ms": stats, "decode_tokens_per_s": 100.0, "prefill_tokens_per_s": 1e3}
    records = [
        make_record(task="generate", new_tokens=8, batch_size=b, model="gen", generation=generation) for b in (1, 2, 4)
    ]
    write_jsonl([*records, make_record(model="fwd")], tmp_path / "data" / "run.jsonl")
    assert main(["build", "-C", str(tmp_path), "--strict"]) == 0
    (gen,) = (tmp_path / "site" / "models" / "gen").glob("*/*/index.html")
    (fwd,) = (tmp_path / "site" / "models" / "fwd").glob("*/*/index.html")
    assert 'id="generation-chart"' in gen.read_text() and "Decode throughput" in gen.read_text()
    assert 'id="generation"' not in fwd.read_text()


def test_an_image_model_page_counts_images_per_second(tmp_path):
    from scaleboard.generator import synthetic

    image = {"family": "image-classification", "input": {"kind": "pixels", "shape": [3, 224, 224]}, "seq_len": None,
             "model": "resnet-50", "attention": None}  # fmt: skip
    records = []
    for b in (1, 2, 4):
        record = synthetic.make_record(batch_size=b, **image)
        record["throughput"] = {"samples_per_s": 100.0 * b, "tokens_per_s": None}
        records.append(record)
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/models/resnet-50/epyc-2c/default/index.html").read_bytes())
    options = page.xpath('//figure[@id="throughput-per-batch"]//option/text()')
    assert "Throughput (images/s)" in options and not any("tokens/s" in o for o in options)
    figures = json.loads(page.xpath('//figure[@id="throughput-per-optimization"]//script')[0].text)
    figure = next(iter(figures.values()))
    assert figure["layout"]["yaxis"]["title"]["text"] == "Throughput (images/s)"
    assert figure["data"][0]["y"] == [100.0, 200.0, 400.0]
    from scaleboard.generator.frame import workload

    assert workload(records[0]) == "forward · 3×224×224 images"


def test_the_leaderboard_never_ranks_a_training_step_against_a_forward_pass(tmp_path):
    from scaleboard.generator import synthetic

    forward = synthetic.dataset(models=[("gpt2", 124_439_808)], batch_sizes=(1, 2))
    train = [{**r, "task": "train", "throughput": {k: v / 3 for k, v in r["throughput"].items()} if r["throughput"]
              else None} for r in forward]  # fmt: skip
    synthetic.write_jsonl(forward + train, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    board = pd.read_csv(tmp_path / "site/data/leaderboard.csv")
    assert set(board["workload"]) == {"forward · 128 tokens", "train · 128 tokens"}
    pairs = board.pivot_table(index=["machine", "optimization", "precision", "attention"], columns="workload",
                              values="tokens_per_s")  # fmt: skip
    assert (pairs["train · 128 tokens"] / pairs["forward · 128 tokens"]).round(6).eq(round(1 / 3, 6)).all()
    baselines = board[
        (board["optimization"] == "eager") & (board["precision"] == "fp32") & (board["attention"] == "sdpa")
    ]
    assert sorted(baselines["speedup"]) == [1.0] * len(baselines)  # each workload has its own baseline
    assert_ranked_per_workload(tmp_path, ["forward · 128 tokens", "train · 128 tokens"])


def assert_ranked_per_workload(root, workloads: list[str]) -> None:
    """The leaderboard of ``root``'s site (its CSV and its page) lists ``workloads`` in this order,
    each a block of rows ranked from 1 (failing ones unranked, last), a line where each starts."""
    board = pd.read_csv(root / "site/data/leaderboard.csv")
    assert list(dict.fromkeys(board["workload"])) == workloads
    assert list(board["workload"]) == sorted(board["workload"], key=workloads.index)
    for _, rows in board.groupby("workload", sort=False):
        passing = rows["rank"].dropna().astype(int).tolist()
        assert passing == list(range(1, len(passing) + 1)) and len(passing) > 1
        assert rows["rank"].isna().tolist() == sorted(rows["rank"].isna())  # failing ones last
    page = lxml_html.fromstring((root / "site/leaderboard/index.html").read_bytes())
    rows = page.xpath("//table[@data-leaderboard]/tbody/tr")
    shown = [r.get("data-workload") for r in rows]
    assert shown == list(board["workload"])
    starts = [i for i, r in enumerate(rows) if "workload-start" in (r.get("class") or "")]
    assert starts == [shown.index(w) for w in workloads[1:]]
    assert all(rows[i].xpath("./td")[0].text_content() == "1" for i in starts)
    assert "Each workload is ranked on its own" in page.text_content()


def test_the_leaderboard_ranks_each_sequence_length_on_its_own_shorter_first(tmp_path):
    from scaleboard.generator import synthetic

    long = synthetic.dataset(models=[("gpt2", 124_439_808)], batch_sizes=(1, 2))
    short = [{**r, "model": "distilgpt2", "seq_len": 16, "input": {"kind": "tokens", "shape": [16]}}
             for r in synthetic.dataset(models=[("distilgpt2", 81_912_576)], batch_sizes=(1, 2))]  # fmt: skip
    synthetic.write_jsonl(long + short, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    assert_ranked_per_workload(tmp_path, ["forward · 16 tokens", "forward · 128 tokens"])


def test_a_training_page_says_steps_and_counts_break_even_in_steps(tmp_path):
    from scaleboard.generator import synthetic

    records = [{**r, "task": "train"} for r in synthetic.dataset(models=[("gpt2", 124_439_808)], batch_sizes=(1, 2))]
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = (tmp_path / "site/models/gpt2/epyc-2c/default/index.html").read_text()
    assert "one call is one optimizer step" in page
    assert "Break-even (steps)" in page and "Break-even (calls)" not in page


def test_the_passes_of_repeats_are_pooled_into_one_point_with_their_spread():
    import random

    from scaleboard.generator import synthetic
    from scaleboard.generator.frame import to_rows

    rng = random.Random(3)
    passes = []
    for repeat, level in ((1, 10.0), (2, 11.0), (3, 12.0)):  # three processes, each at its own level
        ms = [rng.gauss(level, 0.05) for _ in range(20)]
        passes.append(synthetic.make_record(repeat=repeat, samples_ms=ms, iterations=20, run_id="r",
                                            latency_ms={**synthetic.make_record()["latency_ms"], "p50": level}))  # fmt: skip
    once = synthetic.make_record(batch_size=2)
    rows = to_rows([*passes, once])
    assert len(rows) == 2
    pooled = next(r for r in rows if r["batch_size"] == 1)
    assert pooled["latency_p50_ms"] == pytest.approx(11.0, abs=0.1)
    assert pooled["iterations"] == 60
    assert pooled["samples_per_s"] == pytest.approx(1000.0 / pooled["latency_p50_ms"])
    # the interval carries the spread between the passes, not only within one
    assert pooled["latency_ci_low"] < 10.5 and pooled["latency_ci_high"] > 11.5


def test_the_home_page_gives_each_task_its_own_best_card(tmp_path):
    from scaleboard.generator import synthetic

    forward = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.DEFAULT_MACHINES[0]],
                                batch_sizes=(1, 2))  # fmt: skip
    generate = [{**r, "task": "generate", "new_tokens": 16} for r in forward]
    synthetic.write_jsonl(forward + generate, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/index.html").read_bytes())
    labels = [" ".join(t.split()) for t in page.xpath('//section[@class="cards"]/div/div[@class="label"]/text()')]
    machine = synthetic.DEFAULT_MACHINES[0]["name"]
    assert f"Best forward on {machine}" in labels and f"Best generate on {machine}" in labels


@pytest.mark.parametrize("relative", ["../x.html", "/etc/passwd", "a/../../b.html", "", "."])
def test_nothing_is_written_outside_the_site_directory(tmp_path, relative):
    from scaleboard.generator.output import safe_file

    with pytest.raises(BuildError, match="outside the site directory"):
        safe_file(tmp_path, relative)
    assert safe_file(tmp_path, "models/a/b/index.html") == tmp_path / "models" / "a" / "b" / "index.html"


def test_the_leaderboard_filters_hold_what_jinjas_select_unique_sort_gives():
    """pages.filters makes the menus in Python, as the template's ``map|select|unique|sort``
    made them: empty values left out, one per spelling up to letter case (the first met),
    sorted regardless of case."""
    import jinja2

    from scaleboard.generator.pages import FILTERS, filters

    names = ["gpt2", "GPT2", "bert", "", None, "Bert-large", "bert", "a100", "A100 80GB", "cpu"]
    rows = [{key: names[(i * 7 + k) % len(names)] for k, (key, _) in enumerate(FILTERS)} for i in range(40)]
    template = jinja2.Environment().from_string(
        "{% for key, _ in menus %}{% for v in rows|map(attribute=key)|select|unique|sort %}{{ v }}|{% endfor %};"
        "{% endfor %}"
    )
    expected = template.render(rows=rows, menus=FILTERS)
    assert "".join("".join(f"{v}|" for v in menu.values) + ";" for menu in filters(rows)) == expected
    assert [menu.key for menu in filters(rows)] == [key for key, _ in FILTERS]


def test_the_leaderboard_shows_a_filter_menu_only_where_it_has_two_values_to_choose_from(tmp_path):
    from scaleboard.generator.synthetic import DEFAULT_MACHINES, dataset, write_jsonl

    records = dataset(machines=DEFAULT_MACHINES[:1], batch_sizes=(1, 2))  # gpt2 and distilgpt2 on one machine
    write_jsonl(records, tmp_path / "data" / "run.jsonl")
    assert main(["build", "-C", str(tmp_path)]) == 0
    page = lxml_html.fromstring((tmp_path / "site/leaderboard/index.html").read_bytes())
    menus = page.xpath('//form[@id="leaderboard-filters"]//select/@name')
    assert "model" in menus and "optimization" in menus
    assert "machine" not in menus and "task" not in menus  # one machine, one task: "all" is the only choice


def test_the_index_counts_in_the_singular_where_there_is_one(tmp_path):
    root = make_project(tmp_path)
    machine = json.loads((root / "data" / "gpt2.jsonl").read_text().splitlines()[0])["machine"]
    for path in (root / "data").glob("*.jsonl"):  # one machine left
        lines = [line for line in path.read_text().splitlines() if json.loads(line)["machine"] == machine]
        path.write_text("".join(line + "\n" for line in lines))
    build(root)
    detail = re.search(r'<div class="detail">(\d+ models? · \d+ machines? · \d+ configurations?)</div>',
                       (root / "site" / "index.html").read_text())  # fmt: skip
    assert detail is not None
    counts = [part.split() for part in detail.group(1).split(" · ")]
    assert ["1", "machine"] in counts
    assert all(unit.endswith("s") == (n != "1") for n, unit in counts), counts
    board = (root / "site" / "leaderboard" / "index.html").read_text()
    rows = board.split("<tbody>", 1)[1].split("</tbody>", 1)[0].count("<tr")
    assert re.search(r"<span [^>]*data-count>([^<]*)</span>", board).group(1) == fmt_count(rows, "row")


def test_counts_are_written_with_their_noun_in_the_singular_or_plural():
    assert fmt_count(1, "point") == "1 point"
    assert [fmt_count(n, "record") for n in (0, 2, 35520)] == ["0 records", "2 records", "35,520 records"]


def test_a_model_page_says_whether_its_weights_were_random_or_pretrained(tmp_path):
    """Random weights run as fast as trained ones, but the correctness gate's agreement with fp32
    depends on them: the page says which it measured; an import that does not say, nothing."""
    from scaleboard.generator import synthetic

    records = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.machine("epyc-2c", "cpu", 8, 1.0)],
                                suites=("random", "trained", "imported", "mixed"), batch_sizes=(1, 2))  # fmt: skip
    for r in records:
        if r["suite"] == "trained" or (r["suite"] == "mixed" and r["batch_size"] == 2):
            r["weights"] = "pretrained"
        elif r["suite"] == "imported":
            r["weights"] = None
            r["source"] = {"tool": "packrat", "version": "1"}
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)

    def lede(suite: str) -> str:
        page = lxml_html.fromstring((tmp_path / "site/models/gpt2/epyc-2c" / suite / "index.html").read_bytes())
        return " ".join(page.xpath('//p[@class="lede"]')[0].text_content().split())

    assert "· random weights (built from the config) ·" in lede("random")
    assert "· pretrained weights ·" in lede("trained")
    assert "weights" not in lede("imported")
    assert "· random and pretrained weights ·" in lede("mixed")


def test_a_model_page_shows_each_configurations_perplexity_where_the_records_hold_one(tmp_path):
    """With pretrained weights the runner records the perplexity of the gate's fixed input: the
    Configurations table shows it, from each configuration's largest batch (which holds all four
    of the input's rows), and its change from the baseline's; with random weights, no column."""
    from scaleboard.generator import synthetic

    records = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.machine("epyc-2c", "cpu", 8, 1.0)],
                                suites=("trained", "random"), batch_sizes=(1, 2, 4))  # fmt: skip
    base = {"reference": "fp32 eager", "max_abs_diff": 0.0, "rel_error": 0.0, "next_token_agreement": 1.0, "ok": True}
    for r in records:
        if r["suite"] == "trained" and r["status"] == "ok":
            r["weights"] = "pretrained"
            worse = 1.1 if r["precision"] == "int8-dynamic" else 1.0
            r["quality"] = {**(r["quality"] or base), "perplexity": 200.0 * worse * (1 + r["batch_size"] % 4)}
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)

    def table(suite: str) -> dict[str, dict[str, str]]:
        page = lxml_html.fromstring((tmp_path / "site/models/gpt2/epyc-2c" / suite / "index.html").read_bytes())
        (found,) = page.xpath('//h2[@id="configurations"]/following-sibling::div[1]//table')
        heads = [" ".join(th.text_content().split()) for th in found.xpath("thead/tr/th")]
        rows = [dict(zip(heads, (" ".join(td.text_content().split()) for td in tr.xpath("td")), strict=True))
                for tr in found.xpath("tbody/tr")]  # fmt: skip
        return {row["Configuration"]: row for row in rows}

    trained = table("trained")
    assert trained["eager · fp32 · sdpa"]["Perplexity"] == "200"  # batch 4, not batch 1's 400 or batch 2's 600
    int8 = [row["Perplexity"] for name, row in trained.items() if "int8-dynamic" in name]
    assert int8 and all(p == "220 (+10.0 %)" for p in int8)
    others = [
        row["Perplexity"] for name, row in trained.items() if "int8" not in name and name != "eager · fp32 · sdpa"
    ]
    assert others and all(p == "200 (+0.0 %)" for p in others)
    assert "Perplexity" not in next(iter(table("random").values()))


def test_a_change_is_written_as_a_signed_percentage_without_a_negative_zero():
    from scaleboard.generator.jsonout import fmt_signed_pct

    assert [fmt_signed_pct(v) for v in (0.021, -0.021, 0.0, -0.0004, None, float("nan"))] == [
        "+2.1 %", "-2.1 %", "+0.0 %", "+0.0 %", "—", "—"]  # fmt: skip


def test_an_untested_speed_up_is_shown_as_measured_not_as_none_significant(tmp_path):
    """Points of three samples have no 95% interval: a 2x speed-up on them is not "none
    significant" (that would say it was tested) but the biggest speed-up measured, untested."""
    from scaleboard.generator.synthetic import make_record, write_jsonl

    def point(optimization, ms):
        samples = [ms, ms * 1.01, ms * 1.02]
        latency = dict.fromkeys(("p50", "p90", "p95", "p99", "mean", "std", "min", "max"), ms * 1.01)
        return make_record(optimization=optimization, samples_ms=samples, latency_ms=latency,
                           throughput={"samples_per_s": 1000 / latency["p50"], "tokens_per_s": 128000 / latency["p50"]})  # fmt: skip

    write_jsonl([point("eager", 100.0), point("compile", 50.0)], tmp_path / "data" / "r.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/index.html").read_bytes())
    card = next(c for c in page.xpath('//div[@class="card"]') if "speed-up" in c.text_content().lower())
    text = " ".join(card.text_content().split())
    assert "Biggest speed-up measured" in text and "2× untested" in text and "compile" in text
    assert "none significant" not in text and "no 95% interval (it needs 6 samples a point)" in text
