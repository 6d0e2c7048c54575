"""The pages above the scalebench pages: /models/, /models/<model>/ and /models/<model>/<machine>/."""

from __future__ import annotations

import json

import pytest
from lxml import html as lxml_html

from scaleboard.generator import synthetic
from scaleboard.generator.build import build

MACHINES = synthetic.DEFAULT_MACHINES  # epyc-2c and NVIDIA T4


def _page(path):
    return lxml_html.fromstring(path.read_bytes())


def _words(node) -> str:
    return " ".join(node.text_content().split())


def _board(page) -> list[dict[str, str]]:
    """The overview's leaderboard: each row's cells by column label."""
    (table,) = page.xpath('//table[contains(@class, "leaderboard")]')
    heads = [_words(th) for th in table.xpath("thead/tr/th")]
    return [dict(zip(heads, (_words(td) for td in tr.xpath("td")), strict=True)) for tr in table.xpath("tbody/tr")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("overview")
    records = synthetic.dataset(models=[("gpt2", 124_439_808), ("distilgpt2", 81_912_576)], machines=MACHINES,
                                batch_sizes=(1, 2, 4, 8))  # fmt: skip
    records += [r for r in synthetic.dataset(models=[("gpt2", 124_439_808)], machines=MACHINES[:1],
                                             suites=("later",), batch_sizes=(1, 2))]  # fmt: skip
    synthetic.write_jsonl(records, root / "data" / "runs.jsonl")
    build(root)
    return root / "site"


def test_every_model_has_a_page_and_a_page_per_machine(site):
    for model in ("gpt2", "distilgpt2"):
        assert (site / "models" / model / "index.html").is_file()
        for machine in ("epyc-2c", "nvidia-t4"):
            assert (site / "models" / model / machine / "index.html").is_file()
    models = _page(site / "models/index.html")
    rows = {_words(tr.xpath("th")[0]): tr for tr in models.xpath("//tbody/tr")}
    assert list(rows) == ["distilgpt2", "gpt2"]  # A→Z
    gpt2 = rows["gpt2"]
    assert gpt2.xpath("th//a/@href") == ["/models/gpt2/"]
    assert gpt2.xpath("td[1]//a/@href") == ["/models/gpt2/epyc-2c/", "/models/gpt2/nvidia-t4/"]
    assert _words(gpt2.xpath("td[2]")[0]) == "2"  # suites: default and later
    index = _words(_page(site / "index.html"))
    counted = sum(int(_words(tr.xpath("td[4]")[0]).replace(",", "")) for tr in rows.values())
    assert f"{counted:,} points" in index  # the same count as the home page's


def test_a_models_page_ranks_its_own_configurations_per_machine_and_workload(site):
    page = _page(site / "models/gpt2/index.html")
    board = _board(page)
    assert board and "Model" not in board[0]  # every row's would be gpt2: the suite is named instead
    assert {r["Machine"] for r in board} == {"epyc-2c", "NVIDIA T4"}
    records = [json.loads(line) for line in (site.parent / "data/runs.jsonl").read_text().splitlines()]
    for row in board:  # each row: that configuration's best tokens/s on that machine, over both suites
        config = (row["Optimization"].strip(), row["Precision"], row["Attention"])
        mine = [
            r
            for r in records
            if r["model"] == "gpt2"
            and r["status"] == "ok"
            and r["machine"] == row["Machine"]
            and (r["optimization"], r["precision"], r["attention"]) == config
        ]
        best = max(r["throughput"]["tokens_per_s"] for r in mine)
        assert float(row["Best tokens/s"].replace(",", "")) == pytest.approx(best, rel=0.01)
        assert row["Suite"] in {r["suite"] for r in mine if r["throughput"]["tokens_per_s"] == best}
    passing = [r for r in board if r["#"] != "—"]
    assert [r["#"] for r in passing] == [str(i) for i in range(1, len(passing) + 1)]  # one workload: one ranking
    # each row's suite links the page where its best was measured, and every result page is listed
    table = page.xpath('//table[contains(@class, "leaderboard")]')[0]
    links = [(_words(a), a.get("href")) for a in table.xpath("tbody/tr/td[2]/a")]
    assert len(links) == len(board) and all(
        href.startswith("/models/gpt2/")
        and href.endswith(f"/{suite}/")
        and (site / href.lstrip("/") / "index.html").is_file()
        for suite, href in links
    )
    listed = page.xpath('//h2[@id="pages"]/following-sibling::div[1]//tbody/tr')
    assert [_words(tr.xpath("td[1]")[0]) + " · " + _words(tr.xpath("td[2]")[0]) for tr in listed] == [
        "epyc-2c · default", "epyc-2c · later", "NVIDIA T4 · default"]  # fmt: skip
    for href in page.xpath('//h2[@id="pages"]/following-sibling::div[1]//a/@href'):
        assert (site / href.lstrip("/")).exists() or (site / href.lstrip("/") / "index.html").is_file()
    assert page.xpath('//a[text()="Compare across machines and suites"]/@href') == ["/compare/?model=gpt2"]
    assert page.xpath('//a[text()="On the leaderboard"]/@href') == ["/leaderboard/?model=gpt2"]


def test_a_models_page_on_one_machine_shows_that_machine_alone(site):
    page = _page(site / "models/gpt2/nvidia-t4/index.html")
    board = _board(page)
    assert board and "Machine" not in board[0]  # every row's would be the page's machine
    # its rows are the model page's rows on that machine, ranked among themselves
    everywhere = _board(_page(site / "models/gpt2/index.html"))
    here = [
        {k: v for k, v in r.items() if k not in ("#", "Machine")} for r in everywhere if r["Machine"] == "NVIDIA T4"
    ]
    assert [{k: v for k, v in r.items() if k != "#"} for r in board] == here
    passing = [r for r in board if r["#"] != "—"]
    assert [r["#"] for r in passing] == [str(i) for i in range(1, len(passing) + 1)]
    assert all(link.startswith("/models/gpt2/nvidia-t4/") for link in page.xpath("//td/a/@href") if "/models/" in link)
    listed = page.xpath('//h2[@id="pages"]/following-sibling::div[1]//tbody/tr')
    assert len(listed) == 1 and _words(listed[0].xpath("td[1]")[0]) == "default"
    crumbs = page.xpath("//nav[@aria-label='Breadcrumb']//a/@href")
    assert crumbs == ["/", "/models/", "/models/gpt2/"]
    assert "and on epyc-2c" in _words(page.xpath('//p[@class="lede"]')[0])  # the model's other machine, linked


def test_a_scalebench_pages_breadcrumbs_lead_to_the_model_and_machine_pages(site):
    page = _page(site / "models/gpt2/epyc-2c/later/index.html")
    assert page.xpath("//nav[@aria-label='Breadcrumb']//a/@href") == [
        "/",
        "/models/",
        "/models/gpt2/",
        "/models/gpt2/epyc-2c/",
    ]
    home = _page(site / "index.html")
    assert "/models/gpt2/" in home.xpath('//table[@class="index-table"]//th/a/@href')
    assert "/models/" in _page(site / "404.html").xpath("//main//a/@href")
    compare = _page(site / "compare/index.html")
    assert compare.xpath('//section[@id="model-gpt2"]//a[text()="gpt2\'s page"]/@href') == ["/models/gpt2/"]


def test_a_changed_record_remakes_its_models_pages_and_keeps_the_others(tmp_path):
    records = synthetic.dataset(models=[("gpt2", 124_439_808), ("distilgpt2", 81_912_576)], machines=MACHINES[:1],
                                batch_sizes=(1, 2))  # fmt: skip
    for model in ("gpt2", "distilgpt2"):
        synthetic.write_jsonl([r for r in records if r["model"] == model], tmp_path / "data" / f"{model}.jsonl")
    build(tmp_path)
    other = (tmp_path / "site/models/distilgpt2/index.html").read_bytes()
    path = tmp_path / "data" / "gpt2.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    first = next(r for r in lines if r["status"] == "ok" and r["optimization"] == "eager" and r["precision"] == "fp32")
    first["throughput"]["tokens_per_s"] = 987_654.0  # the eager fp32 best now
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    result = build(tmp_path)
    assert result.cache_hits > 0  # the cache was used...
    for page in ("models/gpt2/index.html", "models/gpt2/epyc-2c/index.html"):  # ...and did not keep these
        row = next(r for r in _board(_page(tmp_path / "site" / page)) if r["Optimization"] == "eager"
                   and r["Precision"] == "fp32")  # fmt: skip
        assert row["Best tokens/s"] == "987,654"
    assert (tmp_path / "site/models/distilgpt2/index.html").read_bytes() == other  # same records, same count
    assert build(tmp_path, out=tmp_path / "plain", use_cache=False) is not None
    for page in ("models/index.html", "models/gpt2/index.html", "models/distilgpt2/epyc-2c/index.html"):
        assert (tmp_path / "plain" / page).read_bytes() == (tmp_path / "site" / page).read_bytes()


def test_a_model_without_a_measured_point_says_so_and_links_no_empty_leaderboard(tmp_path):
    from scaleboard.record import no_measurement

    failed = [synthetic.make_record(batch_size=b, model="org/big model") for b in (1, 2)]
    for record in failed:
        record.update(status="oom", reason="out of memory", **no_measurement())
    synthetic.write_jsonl([*failed, synthetic.make_record(model="fine")], tmp_path / "data" / "x.jsonl")
    build(tmp_path, base_url="/repo/")
    page = _page(tmp_path / "site/models/org-big-model/index.html")
    assert "No point of org/big model was measured" in _words(page)
    assert not page.xpath('//table[contains(@class, "leaderboard")]') and not page.xpath(
        '//a[text()="On the leaderboard"]'
    )
    assert page.xpath("//main//table//a/@href")[0] == "/repo/models/org-big-model/epyc-2c/default/"  # why: its page
    fine = _page(tmp_path / "site/models/fine/index.html")
    assert fine.xpath('//a[text()="On the leaderboard"]/@href') == ["/repo/leaderboard/?model=fine"]
