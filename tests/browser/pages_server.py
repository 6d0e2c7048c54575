"""Serve a built site the way GitHub Pages does: under a subpath, with ``404.html`` for unknown paths.

``https://<user>.github.io/<repo>/`` maps ``/<repo>/x/`` to ``x/index.html``, redirects a
directory without its trailing slash, and answers any other path, at any depth, with the
site's ``404.html`` and status 404. Serving the built site like that on 127.0.0.1 shows
in a real browser whether every link, stylesheet and script still resolves there.

Used by the browser tests (``tests/browser/conftest.py``) and ``benchmarks/page_weight.py``.
"""

from __future__ import annotations

import contextlib
import mimetypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("application/atom+xml", ".xml")


class SubpathHandler(BaseHTTPRequestHandler):
    """Maps ``<base_url>...`` to ``site_dir``; everything else gets ``404.html`` with status 404."""

    site_dir: Path
    base_url: str  # "/scaleboard/"
    served: list[tuple[str, int]]  # (path, status) of every request, for tests and benchmarks

    def log_message(self, format: str, *args) -> None:  # the test output stays quiet
        pass

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path + "/" == self.base_url:
            return self._redirect(self.base_url)
        target = self._file(path)
        if target is not None and target.is_dir():
            return self._redirect(path + "/")  # as GitHub Pages does for a directory
        if target is None or not target.is_file():
            return self._send(HTTPStatus.NOT_FOUND, self.site_dir / "404.html", head)
        self._send(HTTPStatus.OK, target, head)

    def _file(self, path: str) -> Path | None:
        if not path.startswith(self.base_url):
            return None
        parts = PurePosixPath(path[len(self.base_url) :]).parts
        if ".." in parts:
            return None
        target = self.site_dir.joinpath(*parts)
        return target / "index.html" if path.endswith("/") else target

    def _redirect(self, location: str) -> None:
        self.served.append((self.path, HTTPStatus.MOVED_PERMANENTLY))
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: HTTPStatus, file: Path, head: bool) -> None:
        body = file.read_bytes() if file.is_file() else b"not found\n"
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
            kind += "; charset=utf-8"
        self.served.append((self.path, int(status)))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")  # GitHub Pages sends the same
        self.end_headers()
        if not head:
            # The browser may go away mid-download (a page closed): nothing left to serve then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)


@contextmanager
def serve(site_dir: str | Path, base_url: str = "/scaleboard/") -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """Serve ``site_dir`` under ``base_url`` on a free port of 127.0.0.1, in a thread.

    Yields ``(root_url, served)``: ``http://127.0.0.1:PORT/scaleboard/`` and the live list of
    ``(request path, status)`` pairs.
    """
    served: list[tuple[str, int]] = []
    handler = type(
        "Handler", (SubpathHandler,), {"site_dir": Path(site_dir).resolve(), "base_url": base_url, "served": served}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="pages-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{base_url}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
