"""``scaleboard serve``: serve, rebuild on change, keep the last good build when an edit breaks."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from blog_fixtures import post, write, write_records

from scaleboard.generator.serve import STATUS_PATH, DevServer

WAIT_S = 30.0  # generous: two cores are shared with other work; a rebuild takes about a second


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def status(server: DevServer) -> dict:
    return json.loads(fetch(server.url.rstrip("/") + STATUS_PATH)[1])


def wait_for(predicate, what: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {WAIT_S:.0f} s waiting for {what}")


@pytest.fixture
def server(tmp_path):
    write_records(tmp_path)
    write(tmp_path, "content/posts/2026-11-01-hello.md", post("Hello", body="First version.\n"))
    dev = DevServer(tmp_path, port=0, log=lambda message: None)
    dev.start()
    yield dev
    dev.stop()


def test_serve_rebuilds_and_keeps_the_last_good_build(server, tmp_path):
    code, page = fetch(server.url + "blog/hello/")
    assert code == 200 and "First version." in page
    assert STATUS_PATH in page  # the live-reload script is injected when serving...
    on_disk = (server.out / "blog" / "hello" / "index.html").read_text()
    assert STATUS_PATH not in on_disk  # ...never written into the built site
    assert status(server) == {"version": 1, "error": None}

    source = tmp_path / "content/posts/2026-11-01-hello.md"
    source.write_text(post("Hello", body="Second version.\n"))
    wait_for(lambda: status(server)["version"] == 2, "the rebuild after an edit")
    assert "Second version." in fetch(server.url + "blog/hello/")[1]

    source.write_text("---\ntitle: Hello\ndate: not-a-date\n---\nBroken version.\n")
    error = wait_for(lambda: status(server)["error"], "the error of a broken edit")
    assert "content/posts/2026-11-01-hello.md:3: front matter: 'date' is not a date" in error
    assert status(server)["version"] == 2
    code, page = fetch(server.url + "blog/hello/")
    assert code == 200 and "Second version." in page  # the last good build is still served

    source.write_text(post("Hello", body="Fixed version.\n"))
    wait_for(lambda: status(server) == {"version": 3, "error": None}, "the rebuild after the fix")
    assert "Fixed version." in fetch(server.url + "blog/hello/")[1]


def test_missing_pages_get_the_404_page(server):
    code, page = fetch(server.url + "no/such/page/")
    assert code == 404 and "Page not found" in page and STATUS_PATH in page


def test_a_failing_first_build_still_serves_the_error(tmp_path):
    write(tmp_path, "content/posts/x.md", "no front matter\n")
    dev = DevServer(tmp_path, port=0, log=lambda message: None)
    dev.start()
    try:
        code, page = fetch(dev.url)
        assert code == 404 and "content/posts/x.md:1: front matter: missing" in page
        assert "front matter: missing" in status(dev)["error"]
    finally:
        dev.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_browser_reloads_and_shows_build_errors(server, tmp_path, browser):
    source = tmp_path / "content/posts/2026-11-01-hello.md"
    page = browser.new_page()
    try:
        page.goto(server.url + "blog/hello/")
        page.wait_for_timeout(500)  # let the script read the current version
        source.write_text(post("Hello", body="Reloaded version.\n"))
        page.get_by_text("Reloaded version.").wait_for(timeout=WAIT_S * 1000)
        page.wait_for_timeout(500)
        source.write_text("---\ntitle: [broken\n---\n")
        alert = page.get_by_role("alert").filter(has_text="Build failed")
        alert.wait_for(timeout=WAIT_S * 1000)
        assert "content/posts/2026-11-01-hello.md" in alert.inner_text()
        assert page.get_by_text("Reloaded version.").is_visible()  # the last good build stays
    finally:
        page.close()


def test_inputs_that_appear_later_are_watched(tmp_path):
    write(tmp_path, "content/posts/2026-11-01-hello.md", post("Hello", body="```chart\nmodel: gpt2\n```\n"))
    dev = DevServer(tmp_path, port=0, log=lambda message: None)
    dev.start()
    try:
        assert "could not be drawn" in fetch(dev.url + "blog/hello/")[1]
        write_records(tmp_path)  # a first `scaleboard run` creates data/
        wait_for(lambda: status(dev)["version"] >= 2, "the rebuild after data/ appeared")
        wait_for(lambda: "could not be drawn" not in fetch(dev.url + "blog/hello/")[1], "the chart drawn")
    finally:
        dev.stop()


@pytest.mark.parametrize("where", ["an existing folder", "a folder that appears"])
def test_a_save_before_the_watcher_is_ready_is_not_lost(tmp_path, monkeypatch, where):
    """``start`` returns once the first build is served; the watcher gets ready in its own thread
    a moment later (longer on a busy machine). A file saved in between makes a rebuild too."""
    import threading

    from scaleboard.generator import serve as serve_module

    saved = threading.Event()
    real_watch = serve_module.watchfiles.watch

    def late_watch(*args, **kwargs):  # the watcher's thread starts only after the save
        saved.wait(10)
        yield from real_watch(*args, **kwargs)

    monkeypatch.setattr(serve_module.watchfiles, "watch", late_watch)
    write_records(tmp_path)
    if where == "an existing folder":
        write(tmp_path, "content/posts/2026-11-01-hello.md", post("Hello", body="First version.\n"))
    dev = DevServer(tmp_path, port=0, log=lambda message: None)
    dev.start()
    try:
        write(tmp_path, "content/posts/2026-11-02-more.md", post("More", body="Saved early.\n"))
        saved.set()
        wait_for(lambda: status(dev)["version"] >= 2, "the rebuild")
        assert "Saved early." in fetch(dev.url + "blog/more/")[1]
    finally:
        saved.set()
        dev.stop()


def test_jobs_reach_every_build_and_only_the_first_may_fork(tmp_path, monkeypatch):
    """``serve -j N``: the first build runs before the server's threads and may fork workers;
    a rebuild runs beside them, where the build falls back to one process (it checks)."""
    from scaleboard.generator import build as build_module
    from scaleboard.generator.render import can_fork

    calls = []
    real = build_module.build

    def spy(*args, **kwargs):
        calls.append((kwargs["jobs"], can_fork()))
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "build", spy)
    write_records(tmp_path)
    dev = DevServer(tmp_path, port=0, jobs=2, log=lambda message: None)
    dev.start()
    try:
        write(tmp_path, "content/posts/2026-11-02-more.md", post("More", body="Second.\n"))
        wait_for(lambda: status(dev)["version"] >= 2, "the rebuild")
        assert "More" in fetch(dev.url + "blog/")[1]
    finally:
        dev.stop()
    assert [jobs for jobs, _ in calls] == [2, 2]
    assert calls[1][1] is False  # the server's threads run: no fork


def test_the_serve_command_passes_its_options(tmp_path, monkeypatch):
    from scaleboard.cli import main
    from scaleboard.generator import serve as serve_module

    seen = {}
    monkeypatch.setattr(serve_module, "serve", lambda root, **options: seen.update(options, root=root) or 0)
    assert main(["serve", "-C", str(tmp_path), "-j", "3", "--port", "0"]) == 0
    assert seen == {"root": str(tmp_path), "host": "127.0.0.1", "port": 0, "drafts": False, "strict": False, "jobs": 3}
