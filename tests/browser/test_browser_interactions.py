"""What a reader does: switch a chart's batch size, toggle legend entries, sort and filter the
leaderboard (and share that view by its URL), land on a missing page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from browsing import chart_state, draw_chart

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MODEL = "models/gpt2/epyc-2c/default/"
ROWS_JS = """() => Array.from(document.querySelectorAll('table[data-leaderboard] tbody tr'))
  .filter(r => !r.hidden)
  .map(r => ({task: r.dataset.task, machine: r.dataset.machine, config: r.dataset.optimization + ' ' + r.dataset.precision,
              quality: r.dataset.quality, speedup: r.cells[%d].dataset.value}))"""


def batch_size_chart(page) -> int:
    """The index of the first chart with a "Batch size" selector."""
    labels = page.locator("figure.chart").evaluate_all(
        "figs => figs.map(f => Array.from(f.querySelectorAll('.chart-controls label'), l => l.textContent.trim()))"
    )
    return next(i for i, names in enumerate(labels) if any(n.startswith("Batch size") for n in names))


DRAWN_Y_JS = "p => JSON.stringify(p.data.map(t => t.y))"
FIGURE_Y_JS = """(p, key) => JSON.stringify(JSON.parse(p.closest('figure').querySelector('script.chart-data')
  .textContent)[key].data.map(t => t.y))"""


def test_the_batch_size_selector_switches_the_figure(root_url, open_page):
    watched = open_page(root_url + MODEL)
    page = watched.page
    index = batch_size_chart(page)
    plot = page.locator(".chart-plot").nth(index)
    before = draw_chart(page, index)
    drawn_before = plot.evaluate(DRAWN_Y_JS)
    select = page.locator("figure.chart").nth(index).locator("select[data-selector]").first
    options = select.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert len(options) > 2
    select.select_option(options[-1])
    page.wait_for_function(
        "([i, y]) => JSON.stringify(document.querySelectorAll('.chart-plot')[i].data.map(t => t.y)) !== y",
        arg=[index, drawn_before],
    )
    after = chart_state(page, index)
    assert after["key"] != before["key"] and after["key"].split("|")[0] == options[-1]
    assert after["svg"] and after["drawn"] == after["expected"] == after["svg_traces"]
    assert plot.evaluate(DRAWN_Y_JS) == plot.evaluate(FIGURE_Y_JS, after["key"])
    assert drawn_before == plot.evaluate(FIGURE_Y_JS, before["key"])
    watched.assert_clean()


def test_a_legend_click_hides_and_shows_a_trace(root_url, open_page):
    watched = open_page(root_url + MODEL)
    page = watched.page
    draw_chart(page, 0)
    plot = page.locator(".chart-plot").first
    item = plot.locator(".legend .traces").first
    item.click()
    page.wait_for_function("() => document.querySelector('.chart-plot').data[0].visible === 'legendonly'")
    assert plot.evaluate("p => p.data.slice(1).every(t => t.visible !== 'legendonly')")
    item.click()
    page.wait_for_function("() => document.querySelector('.chart-plot').data[0].visible === true")
    watched.assert_clean()


def test_leaderboard_sort_and_filter_update_the_url_and_the_url_restores_them(root_url, open_page):
    watched = open_page(root_url + "leaderboard/")
    page = watched.page
    headers = page.locator("th[data-sort]").evaluate_all("hs => hs.map(h => h.dataset.sort)")
    rows_js = ROWS_JS % (headers.index("speedup") + 1)
    all_rows = page.evaluate(rows_js)
    machines = sorted({r["machine"] for r in all_rows})
    assert len(machines) == 2

    page.select_option("#leaderboard-filters select[name=machine]", machines[1])
    page.click("th[data-sort=speedup]")  # numeric: highest first
    page.click("th[data-sort=speedup]")  # then lowest first
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"machine": [machines[1]], "sort": ["speedup"], "dir": ["asc"]}
    shown = page.evaluate(rows_js)
    assert shown and len(shown) < len(all_rows)
    assert page.inner_text("[data-count]") == f"{len(shown)} of {len(all_rows)} rows"
    assert {r["machine"] for r in shown} == {machines[1]}
    # In each task, configurations failing the correctness gate sort after every passing one, each part in order.
    forward = [r for r in shown if r["task"] == "forward"]
    assert [r["task"] for r in shown] == ["forward"] * len(forward) + ["train"] * (len(shown) - len(forward))
    for rows in (forward, shown[len(forward) :]):
        passing = [r["quality"] != "fail" for r in rows]
        assert passing == sorted(passing, reverse=True)
        for part in (True, False):
            speedups = [float(r["speedup"]) for r, ok in zip(rows, passing, strict=True) if ok == part and r["speedup"]]
            assert speedups == sorted(speedups)
    assert not all(r["quality"] != "fail" for r in forward) and len(forward) < len(shown)
    assert len({r["speedup"] for r in shown}) > 2
    assert page.locator("th[data-sort=speedup]").get_attribute("aria-sort") == "ascending"

    restored = open_page(page.url).page
    assert restored.locator("#leaderboard-filters select[name=machine]").input_value() == machines[1]
    assert restored.locator("th[data-sort=speedup]").get_attribute("aria-sort") == "ascending"
    assert restored.evaluate(rows_js) == shown
    watched.assert_clean()


def test_leaderboard_search_narrows_the_rows(root_url, open_page):
    watched = open_page(root_url + "leaderboard/")
    page = watched.page
    page.fill("#leaderboard-filters input[name=q]", "torchscript")
    rows = page.evaluate(ROWS_JS % 1)
    assert rows and all(r["config"].startswith("torchscript") for r in rows)
    assert parse_qs(urlsplit(page.url).query)["q"] == ["torchscript"]
    watched.assert_clean()


TASK_ROWS_JS = """() => Array.from(document.querySelectorAll('table[data-leaderboard] tbody tr'))
  .filter(r => !r.hidden)
  .map(r => ({task: r.dataset.task, rank: r.cells[0].textContent, model: r.dataset.model, quality: r.dataset.quality,
              start: r.classList.contains('workload-start')}))"""


def ranks_by_task(rows: list[dict]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in rows:
        out.setdefault(r["task"], []).append(r["rank"])
    return out


def test_each_workload_is_ranked_on_its_own_however_the_leaderboard_is_sorted_or_filtered(root_url, open_page):
    """A training step's samples/s is never ranked against a forward pass's (the site's two workloads,
    both at 128 tokens): the rows stay grouped by workload (forward first) whatever the sort, the ranks
    start at 1 in each, a line marks where a workload starts."""
    watched = open_page(root_url + "leaderboard/")
    page = watched.page
    for sort in (None, "model", "latency_b1_ms"):
        if sort:
            page.click(f"th[data-sort={sort}]")
        rows = page.evaluate(TASK_ROWS_JS)
        tasks = [r["task"] for r in rows]
        assert tasks == sorted(tasks, key=["forward", "train"].index) and tasks[-1] == "train", (sort, tasks)
        assert [r["start"] for r in rows] == [i > 0 and t != tasks[i - 1] for i, t in enumerate(tasks)]
        for task, ranks in ranks_by_task(rows).items():
            passing = [r for r in ranks if r != "—"]
            assert passing == [str(n) for n in range(1, len(passing) + 1)], (sort, task, ranks)
    assert len(ranks_by_task(page.evaluate(TASK_ROWS_JS))["train"]) == 2  # gpt2 eager fp32 and bf16 on the CPU
    page.select_option("#leaderboard-filters select[name=task]", "train")
    shown = page.evaluate(TASK_ROWS_JS)
    assert [r["task"] for r in shown] == ["train", "train"] and [r["rank"] for r in shown] == ["1", "2"]
    assert not any(r["start"] for r in shown)
    assert parse_qs(urlsplit(page.url).query)["task"] == ["train"]
    watched.assert_clean()


def test_a_missing_page_at_any_depth_serves_404_html_with_working_styles_and_links(root_url, open_page):
    watched = open_page(root_url + "a/b/c/nope", allowed_status=(404,))
    page = watched.page
    assert page.evaluate("() => performance.getEntriesByType('navigation')[0].responseStatus") == 404
    assert "Page not found" in page.inner_text("h1")
    sheets = page.evaluate("() => Array.from(document.styleSheets, s => ({href: s.href, rules: s.cssRules.length}))")
    assert any(s["href"].endswith("/scaleboard/assets/style.css") and s["rules"] > 20 for s in sheets), sheets
    # The stylesheet applied: the header has its own background, not the browser's default transparent one.
    assert page.evaluate("() => getComputedStyle(document.querySelector('.site-header')).position") == "sticky"
    links = page.locator("header a, main a").evaluate_all("as => as.map(a => a.href)")
    assert len(links) >= 5
    for href in links:
        assert href.startswith(root_url), href
        assert page.request.get(href).status == 200, href
    watched.assert_clean()
