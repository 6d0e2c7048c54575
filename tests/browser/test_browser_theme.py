"""Dark mode and the mobile layout: colours follow prefers-color-scheme (charts too); a phone
screen never scrolls sideways except inside a table's own scrolling box."""

from __future__ import annotations

import pytest
from browsing import MOBILE, chart_state, draw_all_charts, draw_chart, screenshot, watch

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAIN_PAGES = {
    "index": "",
    "model": "models/gpt2/epyc-2c/default/",
    "leaderboard": "leaderboard/",
    "post": "blog/batching-gpt-2-on-two-cores/",
    "compare": "compare/",
    "blog": "blog/",
}
POST = MAIN_PAGES["post"]

COLOURS_JS = "() => ({background: getComputedStyle(document.documentElement).backgroundColor,"
COLOURS_JS += " text: getComputedStyle(document.body).color})"

#: Elements that stick out of the viewport, unless a scrolling box (a table's) holds them.
OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => { const o = getComputedStyle(el).overflowX; return o === 'auto' || o === 'scroll'; };
  const held = el => { for (let p = el.parentElement; p; p = p.parentElement) if (scrolls(p)) return true; return false; };
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > width + 1 || box.left < -1) && !held(el) && !el.closest('.js-plotly-plot, #js-plotly-tester'))
      out.push(el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? '.' + el.className : '') +
               ' ' + Math.round(box.left) + '..' + Math.round(box.right));
  }
  return {scroll_width: document.documentElement.scrollWidth, width: width, sticking_out: out.slice(0, 10)};
}"""


@pytest.fixture(scope="module")
def dark_context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    yield context
    context.close()


@pytest.fixture(scope="module")
def mobile(browser):
    context = browser.new_context(viewport=MOBILE, is_mobile=True, has_touch=True, color_scheme="light")
    yield context
    context.close()


def test_dark_mode_changes_the_page_and_the_chart_colours_without_a_reload(root_url, open_page):
    watched = open_page(root_url + POST)
    page = watched.page
    light, light_colours = draw_chart(page, 0), page.evaluate(COLOURS_JS)
    page.emulate_media(color_scheme="dark")
    try:
        page.wait_for_function(
            "c => document.querySelector('.chart-plot')._fullLayout.font.color !== c", arg=light["font_color"]
        )
        dark, dark_colours = chart_state(page, 0), page.evaluate(COLOURS_JS)
        dark_bg = page.evaluate("() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim()")
    finally:
        page.emulate_media(color_scheme="light")
    assert light_colours["background"] != dark_colours["background"]
    assert light_colours["text"] != dark_colours["text"]
    assert light["paper_bgcolor"] != dark["paper_bgcolor"]
    assert light["font_color"] != dark["font_color"]
    assert dark["paper_bgcolor"] == dark_bg, "the chart does not take the page background"
    watched.assert_clean()


def test_dark_screenshots(root_url, dark_context):
    for name in ("index", "model", "leaderboard", "post"):
        watched = watch(dark_context.new_page())
        watched.goto(root_url + MAIN_PAGES[name])
        draw_all_charts(watched.page)
        watched.page.evaluate("window.scrollTo(0, 0)")
        screenshot(watched.page, f"{name}-dark-desktop")
        watched.assert_clean()
        watched.page.close()


def test_mobile_pages_do_not_scroll_sideways(root_url, mobile):
    problems = []
    for name, path in MAIN_PAGES.items():
        watched = watch(mobile.new_page())
        watched.goto(root_url + path)
        page = watched.page
        assert page.evaluate("() => window.innerWidth") == MOBILE["width"], "the viewport meta tag is not honoured"
        for state in draw_all_charts(page):
            assert state["svg"]
        page.evaluate("window.scrollTo(0, 0)")
        layout = page.evaluate(OVERFLOW_JS)
        if layout["scroll_width"] > layout["width"] or layout["sticking_out"]:
            problems.append(f"{path or 'index'}: {layout}")
        widest = page.evaluate(
            "() => Math.max(0, ...Array.from(document.querySelectorAll('.main-svg'), s => s.getBoundingClientRect().width))"
        )
        if widest > MOBILE["width"]:
            problems.append(f"{path or 'index'}: a chart is {widest}px wide")
        if name in ("index", "model", "leaderboard", "post"):
            screenshot(page, f"{name}-light-mobile")
        problems.extend(watched.problems)
        page.close()
    assert not problems, "\n".join(problems)


def test_a_drawn_chart_follows_the_window_width(root_url, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = watch(context.new_page())
    watched.goto(root_url + POST)
    page = watched.page
    draw_chart(page, 0)
    width_js = "() => document.querySelector('.chart-plot .main-svg').getBoundingClientRect().width"
    wide = page.evaluate(width_js)
    page.set_viewport_size(MOBILE)
    page.wait_for_function(f"() => ({width_js})() <= {MOBILE['width']}")
    assert wide > MOBILE["width"] * 1.5
    watched.assert_clean()
    context.close()
