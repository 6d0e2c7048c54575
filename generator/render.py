"""Rendering one page to bytes, and what rendering in forked processes needs."""

from __future__ import annotations

import multiprocessing
import threading

from scaleboard.generator.site import Page, Site


def render_page(site: Site, page: Page) -> bytes:
    """A page's bytes: its template rendered with its context, or its body."""
    if page.template is None:
        body = page.make_body() if page.make_body is not None else page.body if page.body is not None else b""
        return body if isinstance(body, bytes) else body.encode("utf-8")
    context = page.make_context() if page.make_context is not None else page.context
    text = site.env.get_template(page.template).render(page=page, **context)
    return text.encode("utf-8")


def can_fork() -> bool:
    """Forking is only safe from a single-threaded process (``scaleboard serve`` runs threads)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
