"""How heavy each page of a built site is, and how soon its first chart is drawn in Chromium.

Builds a site from synthetic records (scaleboard.generator.synthetic: made-up numbers of a plausible
shape; 2 models × 2 machines × 6 configurations, or the records of an existing project with
``--project``), or takes a built one (``--site DIR``), then prints for every page its bytes,
raw and gzipped (level 9, about what GitHub Pages serves), with and without the assets it
loads. With Debian's Chromium it serves the site under ``/scaleboard/`` (as GitHub Pages
serves a project site), opens each page type in a fresh browser context (cold cache) and
prints the time from navigation to the first drawn Plotly chart, and checks that plotly.js
was requested exactly once per page, from the shared asset.

    .venv/bin/python benchmarks/page_weight.py [--site DIR | --project DIR] [--base-url /scaleboard/] [--runs 3]

Exit status 1 when a page loads plotly.js more than once or from anywhere else.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from scaleboard.generator.build import build

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from pages_server import serve  # noqa: E402  (a test helper: the GitHub Pages-like server)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ASSET = re.compile(r"""(?:href|src)="([^"]+/assets/[^"]+)\"""")
FIRST_CHART_JS = "() => document.querySelector('figure.chart .main-svg') !== null"


def synthetic_project(root: Path) -> Path:
    """The browser tests' fixture project: records, two posts (one with a chart) and a page."""
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from conftest import write_project

    return write_project(root)


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def page_type(rel: str) -> str:
    first = rel.split("/", 1)[0]
    if rel in ("index.html", "404.html"):
        return rel.removesuffix(".html").replace("index", "home")
    if first in ("models", "leaderboard", "compare", "tags"):
        return first.rstrip("s") if first == "models" else first
    if first == "blog":
        return "blog index" if rel.count("/") == 1 or "/page/" in rel else "post"
    return "page"


def weights(site: Path) -> list[dict]:
    """Bytes of every HTML page, raw and gzipped, alone and with the assets it references."""
    rows = []
    for file in sorted(site.rglob("*.html")):
        html = file.read_bytes()
        assets = {m.split("/assets/", 1)[1] for m in ASSET.findall(html.decode("utf-8", "replace"))}
        if b'class="chart"' in html:
            assets.add("plotly.min.js")  # loaded by scaleboard.js only on pages with charts
        asset_bytes = [(site / "assets" / a).read_bytes() for a in sorted(assets) if (site / "assets" / a).is_file()]
        rel = file.relative_to(site).as_posix()
        rows.append(
            {
                "page": rel,
                "type": page_type(rel),
                "raw": len(html),
                "gzip": gz(html),
                "total_raw": len(html) + sum(map(len, asset_bytes)),
                "total_gzip": gz(html) + sum(gz(a) for a in asset_bytes),
            }
        )
    return rows


def print_weights(rows: list[dict]) -> None:
    print(f"{'page':58} {'type':11} {'html':>9} {'html gz':>9} {'+assets':>10} {'+assets gz':>10}")
    for r in rows:
        print(
            f"{r['page'][:58]:58} {r['type']:11} {r['raw']:>9,} {r['gzip']:>9,} {r['total_raw']:>10,} {r['total_gzip']:>10,}"
        )
    biggest = max(rows, key=lambda r: r["gzip"])
    print(f"{len(rows)} pages; largest HTML: {biggest['page']} {biggest['raw']:,} B ({biggest['gzip']:,} B gzipped)")


def first_chart_ms(context, url: str) -> tuple[float, list[str]]:
    """Milliseconds from navigation to the first drawn chart, and the plotly.js URLs requested."""
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.locator("figure.chart").first.scroll_into_view_if_needed()
    page.wait_for_function(FIRST_CHART_JS, timeout=30_000)
    elapsed_ms = (time.perf_counter() - started) * 1000
    page.wait_for_load_state("load")
    page.close()
    return elapsed_ms, [u for u in requests if "plotly" in u]


def time_to_first_chart(site: Path, base_url: str, runs: int) -> int:
    """Print the median time to the first drawn chart per page type, with a cold cache (a new
    browser context) and a warm one (plotly.js cached); returns how many pages broke the plotly rule."""
    from playwright.sync_api import sync_playwright

    samples = {}
    for row in weights(site):
        if row["type"] not in samples and 'class="chart"' in (site / row["page"]).read_text():
            samples[row["type"]] = row["page"]
    failures = 0
    with serve(site, base_url) as (root_url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        print(f"\ntime to first drawn chart, Chromium {browser.version}, median of {runs}:")
        print(f"  {'type':11} {'cold':>8} {'warm':>8}")
        for kind, rel in samples.items():
            url = root_url + re.sub(r"(^|/)index\.html$", r"\1", rel)
            cold, warm, loads = [], [], []
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                ms, plotly = first_chart_ms(context, url)
                cold.append(ms)
                loads.append(plotly)
                ms, plotly = first_chart_ms(context, url)  # plotly.js now in the HTTP cache
                warm.append(ms)
                loads.append(plotly or [root_url + "assets/plotly.min.js"])  # a cache hit is no request
                context.close()
            once = all(found == [root_url + "assets/plotly.min.js"] for found in loads)
            failures += not once
            verdict = "plotly.js once, shared asset" if once else f"PLOTLY LOADS: {loads}"
            print(
                f"  {kind:11} {statistics.median(cold):6.0f} ms {statistics.median(warm):6.0f} ms  ({rel}; {verdict})"
            )
        browser.close()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="an already built site (built with --base-url BASE_URL)")
    parser.add_argument("--project", type=Path, help="a project to build (default: a synthetic one)")
    parser.add_argument("--base-url", default="/scaleboard/", help="the base URL to build with and serve under")
    parser.add_argument("--runs", type=int, default=3, help="page loads per page type for the timing")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="page-weight-") as tmp:
        site = args.site
        if site is None:
            project = args.project or synthetic_project(Path(tmp))
            result = build(project, out=Path(tmp) / "site", base_url=args.base_url)
            site = result.out_dir
            print(f"built {result.pages} pages in {result.seconds:.1f} s")
        print_weights(weights(site))
        if not CHROMIUM.exists():
            print(f"\n{CHROMIUM} is missing: no timing (apt-get install chromium)")
            return 0
        return 1 if time_to_first_chart(site, args.base_url, args.runs) else 0


if __name__ == "__main__":
    sys.exit(main())
