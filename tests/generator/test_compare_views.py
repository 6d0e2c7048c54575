"""The site's comparisons and trade-off views: run vs run and machine vs machine with the verdicts
of ``scaleboard compare``, Pareto frontiers, per-token and training sections, results by task."""

from __future__ import annotations

import json
import random

from lxml import html as lxml_html

from scaleboard import compare as cmp
from scaleboard.generator import pareto, synthetic, verdicts
from scaleboard.generator.build import build


def _timed(rng: random.Random, level: float, n: int = 30, **overrides) -> dict:
    samples = [rng.gauss(level, level * 0.01) for _ in range(n)]
    p50 = sorted(samples)[n // 2]
    return synthetic.make_record(
        samples_ms=samples, iterations=n, latency_ms={**synthetic.make_record()["latency_ms"], "p50": p50}, **overrides
    )


def _chart_data(page, block_id: str) -> dict:
    return json.loads(page.xpath(f'//figure[@id="{block_id}"]//script[@class="chart-data"]/text()')[0])


def _figure_of(node) -> dict:
    return json.loads(node.xpath('.//script[@class="chart-data"]/text()')[0])[""]


def test_run_against_run_gives_the_commands_verdicts_on_the_compare_page(tmp_path):
    rng = random.Random(5)
    before = [_timed(rng, 10.0 * b, batch_size=b, run_id="r1", created_at="2026-11-01T00:00:00Z") for b in (1, 2, 4)]
    slower = {1: 1.25, 2: 1.0, 4: 0.8}  # batch 1 regressed by 25%, batch 2 the same, batch 4 20% faster
    after = [_timed(rng, 10.0 * b * slower[b], batch_size=b, run_id="r2", created_at="2026-11-02T00:00:00Z")
             for b in (1, 2, 4)]  # fmt: skip
    synthetic.write_jsonl(before + after, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/compare/index.html").read_bytes())
    words = {
        row.xpath("td[1]")[0].text_content(): row.xpath('.//span[contains(@class, "verdict")]')[0].text_content()
        for row in page.xpath('//table[@class="verdicts"]/tbody/tr')
    }
    cli = {r.config.removeprefix("tiny-gpt2 "): r.verdict for r in cmp.compare(before, after, 0.05)}
    assert words == cli  # the page says what `scaleboard compare` says, point for point
    assert words == {"eager · fp32 · sdpa t2 b1": "regressed", "eager · fp32 · sdpa t2 b2": "unchanged",
                     "eager · fp32 · sdpa t2 b4": "improved"}  # fmt: skip
    # the colour is never alone: each verdict is a word in the table and a named legend entry
    figure = _figure_of(page.xpath('//section[@class="compare-model"]//figure[@class="chart"]')[-1])
    assert {t["name"] for t in figure["data"]} == {"regressed", "unchanged", "improved"}
    assert all("error_x" in t for t in figure["data"])
    assert "r2 (default) against r1" in page.text_content()


def test_a_point_measured_once_is_not_a_run_comparison(tmp_path):
    rng = random.Random(6)
    first = [_timed(rng, 10.0, batch_size=1, run_id="r1")]
    other = [_timed(rng, 20.0, batch_size=2, run_id="r2", created_at="2026-11-02T00:00:00Z")]
    assert verdicts.run_comparisons(first + other) == []


def test_machines_are_compared_at_each_configurations_best_throughput(tmp_path):
    rng = random.Random(7)
    fast = synthetic.DEFAULT_MACHINES[1]
    records = []
    for b in (1, 2, 4):
        records.append(
            _timed(rng, 10.0 * b, batch_size=b, throughput={"samples_per_s": 100.0 / b, "tokens_per_s": 12800.0 / b})
        )
        records.append(_timed(rng, 4.0 * b, batch_size=b, machine=fast["name"],
                              throughput={"samples_per_s": 250.0 / b, "tokens_per_s": 32000.0 / b}))  # fmt: skip
    records.append(_timed(rng, 10.0, batch_size=8))  # the reference machine has one point more
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/compare/index.html").read_bytes())
    text = page.text_content()
    reference = synthetic.DEFAULT_MACHINES[0]["name"]
    assert f"{fast['name']} against {reference}" in text
    row = page.xpath('//table[@class="verdicts"]/tbody/tr')[-1]
    assert row.xpath('.//span[contains(@class, "verdict")]')[0].text_content() == "faster"
    ratio = float(row.xpath("td[4]")[0].text_content().split("×")[0])
    assert 2.3 < ratio < 2.7  # 10 ms against 4 ms per sample


def _menus(figure) -> dict[str, list[str]]:
    return {label.text.strip(): label.xpath(".//option/@value") for label in figure.xpath(".//label")}


def test_compare_charts_never_draw_one_workload_against_another(tmp_path):
    """A generate suite's decode tokens/s is neither a point of the forward suites' campaign line
    nor a bar beside a forward pass's tokens/s: each workload has its own figures, under a menu."""
    cpu = synthetic.DEFAULT_MACHINES[0]
    forward = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[cpu], configs=synthetic.CONFIGS[:2],
                                suites=("s1", "s2"), batch_sizes=(1, 2))  # fmt: skip
    generate = [{**r, "task": "generate", "new_tokens": 16, "suite": "gen", "created_at": "2026-11-05T00:00:00Z",
                 "throughput": {k: v / 4 for k, v in r["throughput"].items()}}
                for r in forward if r["suite"] == "s1"]  # fmt: skip
    synthetic.write_jsonl(forward + generate, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/compare/index.html").read_bytes())
    machines, suites = page.xpath('//section[@class="compare-model"]//figure[@class="chart"]')[:2]
    workloads = ["forward · 128 tokens", "generate · 128 tokens + 16 new"]
    assert _menus(machines) == {"Workload": workloads, "Normalise to": ["", cpu["name"]]}
    bars = json.loads(machines.xpath('.//script[@class="chart-data"]/text()')[0])
    assert set(bars) == {f"{w}|{ref}" for w in workloads for ref in ("", cpu["name"])}
    best = {w: max(r["throughput"]["tokens_per_s"] for r in records if r["optimization"] == "eager"
                   and r["precision"] == "fp32") for w, records in zip(workloads, (forward, generate), strict=True)}  # fmt: skip
    for w in workloads:
        baseline = next(t for t in bars[f"{w}|"]["data"] if t["name"] == "eager · fp32 · sdpa")
        assert abs(baseline["y"][0] / best[w] - 1) < 1e-4 and bars[f"{w}|"]["layout"]["title"]["text"].endswith(w)
    # across suites: the forward pass's two campaigns only (generate has one suite: no line)
    assert _menus(suites) == {"Machine": [cpu["name"]]}
    (line,) = json.loads(suites.xpath('.//script[@class="chart-data"]/text()')[0]).values()
    assert {tuple(t["x"]) for t in line["data"]} == {("s1", "s2")}
    assert line["layout"]["xaxis"]["categoryarray"] == ["s1", "s2"]


def test_the_best_point_is_the_fastest_with_raw_samples_the_first_among_equals():
    from scaleboard.generator.frame import flatten

    rng = random.Random(3)
    records = [
        _timed(rng, 10.0, batch_size=1, throughput={"samples_per_s": 100.0, "tokens_per_s": 12800.0}),
        _timed(rng, 10.0, batch_size=2, throughput={"samples_per_s": 300.0, "tokens_per_s": 38400.0}),
        _timed(rng, 10.0, batch_size=4, throughput={"samples_per_s": 300.0, "tokens_per_s": 38400.0}),
        _timed(rng, 10.0, batch_size=8, throughput={"samples_per_s": 900.0, "tokens_per_s": 115200.0}),
    ]
    records[3]["samples_ms"] = []  # the fastest point has no raw samples to test
    rows = [flatten(r) for r in records]
    ((key, (row, point)),) = verdicts._best_points(rows, records).items()
    assert key == (rows[0]["machine"], rows[0]["workload"], rows[0]["config"])
    assert row is rows[1] and point == [records[1]]  # 300/s at batch 2 and 4: the first of them


def test_the_pareto_frontier_keeps_only_points_nothing_beats():
    points = [(1.0, 10.0), (2.0, 30.0), (3.0, 20.0), (4.0, 40.0), (2.5, 30.0)]
    kept = pareto.frontier(points, lambda p: p[0], lambda p: p[1], lower_x=True)
    assert kept == [(1.0, 10.0), (2.0, 30.0), (4.0, 40.0)]
    faster = pareto.frontier(points, lambda p: p[1], lambda p: -p[0], lower_x=False)
    assert faster == [(4.0, 40.0), (2.0, 30.0), (1.0, 10.0)]


def test_model_pages_show_trade_offs_and_leave_failing_configurations_off_the_frontier(tmp_path):
    records = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.DEFAULT_MACHINES[0]],
                                batch_sizes=(1, 2, 4))  # fmt: skip
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    path = next((tmp_path / "site/models/gpt2").glob("*/*/index.html"))
    page = lxml_html.fromstring(path.read_bytes())
    latency = next(iter(_chart_data(page, "pareto-latency-chart").values()))
    quality = _chart_data(page, "pareto-quality-chart")[""]
    for figure in (latency, quality):
        edge = next(t for t in figure["data"] if t["name"] == "Pareto frontier")
        assert edge["x"]
    failing = [t for t in quality["data"] if t["name"].endswith("⚠")]
    edge = next(t for t in quality["data"] if t["name"] == "Pareto frontier")
    assert failing and not {(t["x"][0], t["y"][0]) for t in failing} & set(zip(edge["x"], edge["y"], strict=True))


def test_a_page_with_two_sequence_lengths_keeps_them_apart_in_its_trade_offs_and_break_even(tmp_path):
    """One suite, two workloads (16 and 128 tokens): the speed-against-quality points, the
    latency-against-throughput lines and each break-even's baseline come from one workload each."""
    configs = [c for c in synthetic.CONFIGS if c[:3] in {("eager", "fp32", "sdpa"), ("compile", "fp32", "sdpa"),
                                                           ("eager", "int8-dynamic", "sdpa")}]  # fmt: skip
    long = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.DEFAULT_MACHINES[0]],
                             configs=configs, batch_sizes=(1, 2))  # fmt: skip
    short = [{**r, "seq_len": 16, "input": {"kind": "tokens", "shape": [16]},
              "latency_ms": {k: v / 5 for k, v in r["latency_ms"].items()} if r["latency_ms"] else None,
              "samples_ms": [v / 5 for v in r["samples_ms"]], "warmup": {**r["warmup"], "first_call_s": 7.0}}
             for r in long]  # fmt: skip
    synthetic.write_jsonl(long + short, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    (path,) = (tmp_path / "site/models/gpt2").glob("*/*/index.html")
    page = lxml_html.fromstring(path.read_bytes())
    workloads = ["forward · 16 tokens", "forward · 128 tokens"]
    assert list(_chart_data(page, "pareto-quality-chart")) == workloads
    assert list(_chart_data(page, "pareto-latency-chart")) == workloads
    table = next(t for t in page.xpath("//table") if "Break-even" in t.text_content())
    cells = [[td.text_content().strip() for td in tr.xpath("td")] for tr in table.xpath("tbody/tr")]
    assert [c[1] for c in cells] == [workloads[0]] * 3 + [workloads[1]] * 3
    p50 = {(r["seq_len"], r["optimization"], r["precision"]): r["latency_ms"]["p50"] for r in long + short
           if r["batch_size"] == 1 and r["threads"] == 2}  # fmt: skip
    for row, seq in zip(cells, (16,) * 3 + (128,) * 3, strict=True):
        opt, precision = row[0].split(" · ")[:2]
        if (opt, precision) == ("eager", "fp32"):
            assert row[4] == "baseline"
        else:  # saved per call against the same workload's baseline
            saved = p50[(seq, "eager", "fp32")] - p50[(seq, opt, precision)]
            assert abs(float(row[4]) / saved - 1) < 0.01, (row, saved)  # shown to 3 significant digits


def test_a_generate_page_draws_the_per_token_distribution_and_a_train_page_its_step(tmp_path):
    base = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.DEFAULT_MACHINES[0]],
                             batch_sizes=(1, 2))  # fmt: skip
    per_token = {"p50": 30.0, "p90": 36.0, "p95": 38.0, "p99": 45.0, "mean": 31.0, "std": 3.0, "min": 28.0,
                 "max": 46.0}  # fmt: skip
    generation = {"ttft_ms": per_token, "per_token_ms": per_token, "decode_tokens_per_s": 33.0}
    generate = [{**r, "task": "generate", "new_tokens": 16, "suite": "gen", "generation": generation} for r in base]
    train = [{**r, "task": "train", "suite": "train"} for r in base]
    synthetic.write_jsonl(generate + train, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    gen_page = lxml_html.fromstring(next((tmp_path / "site/models/gpt2").glob("*/gen/index.html")).read_bytes())
    figures = _chart_data(gen_page, "per-token-chart")
    first = next(iter(figures.values()))
    assert [t["name"] for t in first["data"]] == ["p50", "p90", "p99"]
    assert [t["y"][0] for t in first["data"]] == [30.0, 36.0, 45.0]
    train_page = lxml_html.fromstring(next((tmp_path / "site/models/gpt2").glob("*/train/index.html")).read_bytes())
    measures = [o.get("value") for o in train_page.xpath('//figure[@id="training-chart"]//option')]
    assert measures[:2] == ["latency_ms", "samples_per_s"]
    assert "AdamW" in train_page.xpath('//h2[@id="training"]/following-sibling::p[1]')[0].text_content()


def test_the_home_page_groups_results_by_task(tmp_path):
    base = synthetic.dataset(models=[("gpt2", 124_439_808)], machines=[synthetic.DEFAULT_MACHINES[0]],
                             batch_sizes=(1,))  # fmt: skip
    records = base + [{**r, "task": "train", "suite": "train"} for r in base]
    synthetic.write_jsonl(records, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    page = lxml_html.fromstring((tmp_path / "site/index.html").read_bytes())
    assert [h.text_content() for h in page.xpath('//h3[starts-with(@id, "results-")]')] == [
        "Forward pass", "Training step"]  # fmt: skip
    train_links = page.xpath('//h3[@id="results-train"]/following-sibling::div[1]//td//a/text()')
    assert train_links == ["train"]  # the suite's page; the row's header links the model's own page


def test_the_build_pools_the_passes_of_repeats_into_one_row(tmp_path):
    rng = random.Random(8)
    passes = [_timed(rng, level, repeat=i + 1, run_id="r") for i, level in enumerate((10.0, 11.0, 12.0))]
    synthetic.write_jsonl(passes, tmp_path / "data" / "runs.jsonl")
    build(tmp_path)
    csv = (tmp_path / "site/data/records.csv").read_text().splitlines()
    assert len(csv) == 2  # the header and one pooled point, not one row per pass
    downloads = next((tmp_path / "site/data").glob("*/*/*.json")).read_text()
    assert downloads.count('"repeat"') == 3  # the JSON download keeps each pass's own record
