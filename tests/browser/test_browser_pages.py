"""Every page of a site served under /scaleboard/ loads cleanly in Chromium, and every chart is drawn."""

from __future__ import annotations

import pytest
from browsing import chart_state, draw_all_charts, draw_chart, html_pages, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: The pages a reader lands on most, saved as screenshots for a look by eye.
SCREENSHOT_PAGES = {
    "index": "",
    "model": "models/gpt2/epyc-2c/default/",
    "leaderboard": "leaderboard/",
    "post": "blog/batching-gpt-2-on-two-cores/",
}
SCREENSHOTS = {path: name for name, path in SCREENSHOT_PAGES.items()}
LAYOUT_JS = """() => ({width: document.documentElement.clientWidth,
  scroll_width: document.documentElement.scrollWidth,
  header: Math.round(document.querySelector('.site-header').getBoundingClientRect().width)})"""


def test_site_has_the_expected_pages(site_dir):
    pages = html_pages(site_dir)
    for path in (*SCREENSHOT_PAGES.values(), "404.html", "compare/", "blog/", "about/"):
        assert path in pages, f"{path!r} not built: {pages}"


def test_every_page_loads_cleanly_and_every_chart_holds_its_traces(site_dir, root_url, open_page):
    """No console error, page error, failed request or HTTP error on any page, with every chart drawn
    (charts are drawn when scrolled into view, so their errors count too), each showing as many traces
    as the figure JSON embedded in the page for the current selection. The main pages are saved as
    screenshots (test-artifacts/screenshots/) on the way."""
    problems, wrong, checked = [], [], 0
    for path in html_pages(site_dir):
        watched = open_page(root_url + path)
        states = draw_all_charts(watched.page)
        if path in SCREENSHOTS:
            watched.page.evaluate("window.scrollTo(0, 0)")
            screenshot(watched.page, f"{SCREENSHOTS[path]}-light-desktop")
        for index, state in enumerate(states):
            checked += 1
            if not (state["svg"] and state["expected"] and state["drawn"] == state["expected"] == state["full"]):
                wrong.append(f"{path} chart {index}: {state}")
            elif state["svg_traces"] != state["expected"]:
                wrong.append(f"{path} chart {index}: {state['svg_traces']} traces in the SVG: {state}")
        layout = watched.page.evaluate(LAYOUT_JS)
        if layout["header"] != layout["width"] or layout["scroll_width"] > layout["width"]:
            wrong.append(f"{path}: the header or the page does not span the window exactly: {layout}")
        problems.extend(watched.problems)
        watched.page.close()
    assert not problems, "\n".join(problems)
    assert not wrong, "\n".join(wrong)
    assert checked >= 40, f"only {checked} charts found"


def test_charts_below_the_fold_are_drawn_lazily_by_one_shared_plotly_js(root_url, open_page):
    watched = open_page(root_url + SCREENSHOT_PAGES["model"])
    page = watched.page
    page.wait_for_function("() => window.Plotly !== undefined")
    last = page.locator("figure.chart").count() - 1
    assert not chart_state(page, last)["svg"], "the last chart of a long page was drawn before it was scrolled to"
    assert draw_chart(page, last)["svg"]
    assert [url for url in watched.requests if "plotly" in url] == [root_url + "assets/plotly.min.js"]
    watched.assert_clean()


def test_a_page_without_charts_does_not_load_plotly(root_url, open_page):
    watched = open_page(root_url + "blog/")
    assert not [url for url in watched.requests if "plotly" in url]
