"""What the browser tests look for: page problems, drawn charts, screenshots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
MOBILE = {"width": 390, "height": 844}


@dataclass
class Watched:
    """A page and every problem seen on it: console errors, page errors, failed requests, HTTP ≥ 400.

    A response whose status is in ``allowed_status`` (a 404 page asked for on purpose) is no
    problem, nor is the console's report of it."""

    page: object
    requests: list[str] = field(default_factory=list)
    allowed_status: set[int] = field(default_factory=set)
    allowed_urls: set[str] = field(default_factory=set)
    seen: list[tuple[str, str]] = field(default_factory=list)  # (url or "", message)

    @property
    def problems(self) -> list[str]:
        return [message for url, message in self.seen if not url or url not in self.allowed_urls]

    def goto(self, url: str, **kwargs):
        return self.page.goto(url, wait_until="load", **kwargs)

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def watch(page) -> Watched:
    watched = Watched(page)

    def on_console(msg) -> None:
        if msg.type == "error":
            watched.seen.append((msg.location.get("url", ""), f"console error on {page.url}: {msg.text}"))

    def on_response(response) -> None:
        if response.status >= 400 and response.status in watched.allowed_status:
            watched.allowed_urls.add(response.url)
        elif response.status >= 400:
            watched.seen.append(("", f"HTTP {response.status} for {response.url}"))

    page.on("console", on_console)
    page.on("pageerror", lambda exc: watched.seen.append(("", f"page error on {page.url}: {exc}")))
    page.on("requestfailed", lambda r: watched.seen.append(("", f"request failed: {r.url} ({r.failure})")))
    page.on("request", lambda r: watched.requests.append(r.url))
    page.on("response", on_response)
    return watched


def html_pages(site_dir: Path) -> list[str]:
    """Every HTML page of the site as a path below the root URL (``blog/x/``, ``404.html``)."""
    found = []
    for file in sorted(site_dir.rglob("*.html")):
        rel = file.relative_to(site_dir).as_posix()
        found.append(re.sub(r"(^|/)index\.html$", r"\1", rel))
    return found


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


#: What one chart shows: the figure JSON of the current selection against what Plotly drew.
CHART_STATE_JS = """fig => {
  const plot = fig.querySelector('.chart-plot');
  const key = Array.from(fig.querySelectorAll('select[data-selector]')).map(s => s.value).join('|');
  const figure = JSON.parse(fig.querySelector('script.chart-data').textContent)[key];
  const svg = plot.querySelector('.main-svg');
  return {
    key: key,
    expected: figure ? figure.data.length : null,
    drawn: plot.data ? plot.data.length : null,
    full: plot._fullData ? plot._fullData.length : null,
    svg: !!svg,
    svg_traces: plot.querySelectorAll('.overplot .trace, .heatmaplayer .hm').length,
    empty: plot.classList.contains('chart-empty'),
    names: plot.data ? plot.data.map(t => t.name) : [],
    paper_bgcolor: plot._fullLayout ? plot._fullLayout.paper_bgcolor : null,
    font_color: plot._fullLayout ? plot._fullLayout.font.color : null,
  };
}"""
DRAWN_JS = "fig => !!fig.querySelector('.chart-plot .main-svg') || fig.querySelector('.chart-plot').classList.contains('chart-empty')"


def draw_chart(page, index: int, timeout_ms: int = 15_000) -> dict:
    """Scroll chart ``index`` into view (charts are drawn lazily), wait for Plotly, return its state."""
    figure = page.locator("figure.chart").nth(index)
    figure.scroll_into_view_if_needed(timeout=timeout_ms)
    handle = figure.element_handle()
    page.wait_for_function(DRAWN_JS, arg=handle, timeout=timeout_ms)
    return figure.evaluate(CHART_STATE_JS)


def chart_state(page, index: int) -> dict:
    return page.locator("figure.chart").nth(index).evaluate(CHART_STATE_JS)


#: Scroll each visible chart into view in turn (they are drawn lazily) and wait until Plotly drew it.
DRAW_VISIBLE_JS = """async (timeoutMs) => {
  const drawn = fig => !!fig.querySelector('.chart-plot .main-svg') || fig.querySelector('.chart-plot').classList.contains('chart-empty');
  const figures = Array.from(document.querySelectorAll('figure.chart')).filter(f => f.offsetParent !== null);
  for (const fig of figures) {
    fig.scrollIntoView({block: 'center'});
    const start = performance.now();
    while (!drawn(fig)) {
      if (performance.now() - start > timeoutMs) throw new Error('chart not drawn within ' + timeoutMs + ' ms: ' + fig.outerHTML.slice(0, 200));
      await new Promise(r => setTimeout(r, 25));
    }
  }
  return figures.length;
}"""


def draw_all_charts(page, timeout_ms: int = 15_000) -> list[dict]:
    """Draw every chart of the page and return the state of each; on a page that shows one section
    at a time (the compare page's model selector), select each option in turn."""
    switch = page.locator("select#compare-model")
    options = switch.locator("option").evaluate_all("os => os.map(o => o.value)") if switch.count() else [None]
    states = []
    for option in options:
        if option is not None:
            switch.select_option(option)
        page.evaluate(DRAW_VISIBLE_JS, timeout_ms)
        states.extend(
            page.locator("figure.chart").evaluate_all(
                f"figs => figs.filter(f => f.offsetParent !== null).map({CHART_STATE_JS})"
            )
        )
    return states
