"""``scaleboard serve``: build, serve on 127.0.0.1, rebuild on change, reload the browser.

The site is built into a temporary directory (``site/`` is left alone) with
``base_url`` ``/`` so it works at ``http://127.0.0.1:PORT/``. A watcher (watchfiles)
follows ``data/``, ``content/``, ``templates/`` and ``scaleboard.yaml``; each change
rebuilds. Pages are served with a small script added on the fly (never written to
disk) that polls ``/__scaleboard_build`` and reloads when the build version changes.
A build that fails prints its error, keeps the last good site online and shows the
error in the browser until the next good build.
"""

from __future__ import annotations

import html
import json
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import watchfiles

from scaleboard.diagnostics import display_path
from scaleboard.errors import ScaleboardError

STATUS_PATH = "/__scaleboard_build"
#: How often the page asks for the build version; a reload lands within about this long.
POLL_MS = 1000
#: Quiet time before a burst of file events (an editor saving) triggers one rebuild.
DEBOUNCE_MS = 300

RELOAD_SCRIPT = """<script>/* scaleboard serve: live reload (not in the built site) */
(function () {
  var seen = null, box = null;
  function show(error) {
    if (!error) { if (box) { box.remove(); box = null; } return; }
    if (!box) {
      box = document.createElement("div");
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;max-height:50vh;overflow:auto;z-index:99999;" +
        "background:#3b0d0c;color:#ffd7d5;font:13px/1.4 monospace;padding:12px 16px;white-space:pre-wrap";
      document.body.appendChild(box);
    }
    box.textContent = "Build failed; showing the last good build.\\n\\n" + error;
  }
  function poll() {
    fetch("__STATUS__", {cache: "no-store"}).then(function (r) { return r.json(); }).then(function (s) {
      if (seen === null) { seen = s.version; }
      else if (s.version !== seen) { location.reload(); return; }
      show(s.error);
    }).catch(function () {}).then(function () { setTimeout(poll, __POLL_MS__); });
  }
  poll();
})();
</script>
""".replace("__STATUS__", STATUS_PATH).replace("__POLL_MS__", str(POLL_MS))


class BuildState:
    """The version of the last good build and the error of the last failed one."""

    def __init__(self) -> None:
        self.version = 0
        self.error: str | None = None
        self.lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"version": self.version, "error": self.error}


def default_build(root: Path, out: Path, *, drafts: bool, strict: bool, jobs: int = 1) -> list[str]:
    """Build the project at ``root`` into ``out`` with base URL ``/``; return the warnings.
    ``jobs`` as ``build -j``: it forks only while this process runs no other thread (the first
    build, before the server's threads start); later builds fall back to one process."""
    from scaleboard.generator.build import build

    return list(build(root, out=out, base_url="/", drafts=drafts, strict=strict, jobs=jobs).warnings)


class DevServer:
    """A live-reloading preview of the project at ``root``; :meth:`start` returns at once."""

    def __init__(
        self,
        root: str | Path = ".",
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        drafts: bool = False,
        strict: bool = False,
        jobs: int = 1,
        build: Callable[[Path, Path], list[str] | None] | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.root = Path(root).resolve()
        self.out = Path(tempfile.mkdtemp(prefix="scaleboard-serve-")) / "site"
        self.state = BuildState()
        self._build = build or partial(default_build, drafts=drafts, strict=strict, jobs=jobs)
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._stop = threading.Event()
        handler = partial(LiveReloadHandler, directory=str(self.out), state=self.state)
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._threads: list[threading.Thread] = []
        self._built_from_ns = 0  # when the last build began reading its inputs (file system clock)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}/"

    def rebuild(self, reason: str = "") -> bool:
        """Build once; on failure keep the last good site and remember the error."""
        started = time.perf_counter()
        self._built_from_ns = time.time_ns()
        try:
            warnings = self._build(self.root, self.out) or []
        except Exception as exc:  # any broken edit (bad YAML, template syntax...) must not stop serving
            message = str(exc) if isinstance(exc, ScaleboardError) else _describe(exc)
            with self.state.lock:
                self.state.error = message
            self._log(f"error: {message}\nstill serving the last good build; fix the file and save again")
            return False
        with self.state.lock:
            self.state.version += 1
            self.state.error = None
        took = time.perf_counter() - started
        for warning in warnings:
            self._log(f"warning: {warning}")
        self._log(f"built in {took:.1f} s{f' ({reason})' if reason else ''}")
        return True

    def start(self) -> None:
        self.rebuild()
        paths = self.watch_paths()  # what the first build read: an input that appears later is a change
        for target, args in ((self.httpd.serve_forever, ()), (self._watch, (paths,))):
            thread = threading.Thread(target=target, args=args, daemon=True)
            thread.start()
            self._threads.append(thread)
        watching = ", ".join(display_path(p, self.root) for p in paths)
        self._log(f"serving {self.url} (Ctrl+C to stop); watching {watching}")

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        for thread in self._threads:
            thread.join(timeout_s)
        shutil.rmtree(self.out.parent, ignore_errors=True)

    def watch_paths(self) -> list[Path]:
        """The inputs of a build that exist now: data, content, templates and the config file."""
        from scaleboard.generator.config import CONFIG_FILE, load_config

        try:
            config = load_config(self.root)
            dirs = [config.path(name) for name in ("data_dir", "content_dir", "templates_dir")]
        except ScaleboardError:  # a broken config: watch the usual places until it is fixed
            dirs = [self.root / name for name in ("data", "content", "templates")]
        return [p for p in (*dirs, self.root / CONFIG_FILE) if p.exists()]

    def _watch(self, paths: list[Path]) -> None:
        # Every second without events the set of inputs is checked again, so a data/ directory
        # created by a first `scaleboard run`, or a new scaleboard.yaml, is picked up.
        armed = False
        while not self._stop.is_set():
            if not paths:
                self._stop.wait(1.0)
            else:
                for changes in watchfiles.watch(
                    *paths,
                    stop_event=self._stop,
                    debounce=DEBOUNCE_MS,
                    step=50,
                    rust_timeout=1000,
                    yield_on_timeout=True,
                    raise_interrupt=False,
                ):
                    if not armed:  # watching from now on: an edit saved before this was not seen
                        armed = True
                        if not changes and (edited := self._edited_since_build(paths)):
                            self.rebuild("changed while the watcher started: " + ", ".join(edited[:3]))
                    if changes:
                        self.rebuild(_changed(changes, self.root))
                    if self.watch_paths() != paths:
                        break
            current = self.watch_paths()
            if current != paths and not self._stop.is_set():
                added = sorted(set(current) - set(paths))
                self.rebuild("appeared: " + ", ".join(p.name for p in added) if added else "inputs moved")
                paths, armed = current, False  # a new watcher: catch what is saved before it is ready

    def _edited_since_build(self, paths: list[Path]) -> list[str]:
        """The input files modified since the last build began (a first save can come before
        the watcher is ready), as the log names them."""
        found = []
        for path in paths:
            for file in [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file()):
                try:
                    if file.stat().st_mtime_ns > self._built_from_ns:
                        found.append(display_path(file, self.root))
                except OSError:  # removed meanwhile
                    continue
        return sorted(found)


def _changed(changes: set[tuple[watchfiles.Change, str]], root: Path) -> str:
    names = sorted(
        {Path(path).relative_to(root).as_posix() if Path(path).is_relative_to(root) else path for _, path in changes}
    )
    return "changed: " + ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _describe(exc: Exception) -> str:
    """An unexpected exception as its type, message and innermost frame."""
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({frame.filename}:{frame.lineno})" if frame else ""
    return f"{type(exc).__name__}: {exc}{where}"


class LiveReloadHandler(SimpleHTTPRequestHandler):
    """Static files from the build, the reload script in every HTML page, the status endpoint."""

    def __init__(self, *args: Any, state: BuildState, **kwargs: Any) -> None:
        self.state = state
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request would drown the build messages

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == STATUS_PATH:
            return self._send(HTTPStatus.OK, "application/json", json.dumps(self.state.snapshot()).encode())
        file = Path(self.translate_path(path))
        if file.is_dir():
            if not path.endswith("/"):
                return super().do_GET()  # the standard redirect to the trailing-slash URL
            file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            return self._send(HTTPStatus.OK, "text/html; charset=utf-8", _inject(file.read_bytes()))
        if not file.exists():
            return self._not_found()
        return super().do_GET()

    def _not_found(self) -> None:
        page = Path(self.directory) / "404.html"
        if page.is_file():
            return self._send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", _inject(page.read_bytes()))
        error = self.state.snapshot()["error"]
        text = f"<!doctype html><title>Not built</title><pre>{html.escape(error or 'not found')}</pre>"
        return self._send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", _inject(text.encode()))

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _inject(page: bytes) -> bytes:
    """The page with the reload script before ``</body>`` (or at the end)."""
    script = RELOAD_SCRIPT.encode()
    index = page.lower().rfind(b"</body>")
    return page[:index] + script + page[index:] if index >= 0 else page + script


def serve(
    root: str | Path = ".",
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    drafts: bool = False,
    strict: bool = False,
    jobs: int = 1,
) -> int:
    """Run the preview server until Ctrl+C (``jobs``: see :func:`default_build`)."""
    from scaleboard.generator.config import require_project_dir

    require_project_dir(Path(root))  # a broken file is served around; a missing project is not
    try:
        server = DevServer(root, host=host, port=port, drafts=drafts, strict=strict, jobs=jobs)
    except OSError as exc:
        raise ScaleboardError(f"cannot listen on {host}:{port}: {exc.strerror}; try --port {port + 1}") from None
    server.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server._log("stopping")
    finally:
        server.stop()
    return 0
