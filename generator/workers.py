"""Forked processes that keep what they made from one round of a build to the next.

A process pool forgets: each task starts from what the parent held when the pool was forked.
A parallel build needs more: the records a process validated are the ones it makes its models'
parts from, and the parts it made are the ones whose pages it renders. So each worker here is
one ``fork`` of the build, called through a pipe round after round with a function and its
(small) arguments; what a call leaves in :data:`state` is there for the next call. Nothing
large crosses a pipe: records stay where they were parsed, pages go to the build cache.

:class:`Workers` forks when first :meth:`~Workers.start`\\ ed, so the workers inherit what
the build held at that moment (file texts, the cache, the configuration), never pickled.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

from scaleboard.errors import BuildError

#: In a worker: what earlier calls left for later ones. Empty in the build's own process.
state: dict[str, Any] = {}


class WorkerFailed(BuildError):
    """A worker raised, or died (killed, out of memory)."""


class Workers:
    """Up to ``jobs`` forked workers, started on demand; a context manager that stops them."""

    def __init__(self, jobs: int, **shared: Any) -> None:
        self.jobs = jobs
        self.shared = shared  # what every worker finds in :data:`state`
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        self._stopped = False

    @property
    def started(self) -> bool:
        return bool(self._pipes)

    @property
    def count(self) -> int:
        """How many workers run."""
        return len(self._pipes)

    def start(self, shared: dict[str, Any], count: int | None = None) -> None:
        """Fork ``count`` workers (at most ``jobs``), each a copy of this process as it is now,
        with ``shared`` and what the constructor was given as its :data:`state` (inherited, not pickled)."""
        if self.started:
            raise RuntimeError("the workers are already running")
        context = multiprocessing.get_context("fork")
        state.update(self.shared, **shared)
        try:
            for _ in range(min(self.jobs, count or self.jobs)):
                ours, theirs = context.Pipe()
                inherited = [*self._pipes]  # the earlier workers' ends: closed in the new one
                process = context.Process(target=_serve, args=(theirs, inherited), daemon=True)
                process.start()
                theirs.close()
                self._pipes.append(ours)
                self._processes.append(process)
        finally:
            state.clear()

    def run(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``function(*calls[i])`` in worker ``i``, all at once; their results, in order."""
        if self._stopped:
            raise RuntimeError("the workers were stopped")
        if len(calls) > len(self._pipes):
            raise ValueError(f"{len(calls)} calls for {len(self._pipes)} workers")
        for pipe, args in zip(self._pipes, calls, strict=False):
            pipe.send((function, args))
        results, failures = [], []
        for pipe in self._pipes[: len(calls)]:
            try:
                ok, value = pipe.recv()
            except (EOFError, OSError):
                ok, value = False, (WorkerFailed, "a build process died (out of memory? try a lower -j)")
            results.append(value)
            if not ok:
                failures.append(value)
        if failures:
            self.close()  # a worker that failed holds a half-made state: none is called again
            kind, text = failures[0]
            raise kind(text)
        return results

    def stop(self) -> None:
        """Ask every worker to exit, without waiting: a worker takes a while to hand back its
        memory, which it does while this process goes on; :meth:`close` then finds it gone. No
        call can be made after."""
        for pipe in self._pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        self._stopped = True

    def close(self) -> None:
        """Stop every worker (what they made is gone)."""
        if not self._stopped:
            self.stop()
        for process in self._processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self._pipes:
            pipe.close()
        self._pipes, self._processes = [], []
        self._stopped = False

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(pipe: Connection, inherited: list[Connection]) -> None:
    """A worker's loop: run each call sent, send back ``(True, result)`` or ``(False, error)``."""
    for other in inherited:
        other.close()
    # The build does no linear algebra. Imported with the default, numpy's OpenBLAS starts a
    # thread per core that spins about 0.1 s waiting for work: on the core the other worker
    # needs (an import took 120 ms of CPU with one thread, 170-260 ms with the default).
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    while True:
        try:
            message = pipe.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if message is None:
            return
        function, args = message
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except BuildError as error:  # a build's own error (bad input): its message, raised in the build
            reply = (False, (BuildError, str(error)))
        except BaseException:  # anything else: its traceback, for the report
            reply = (False, (WorkerFailed, "in a build process:\n" + traceback.format_exc()))
        try:
            pipe.send(reply)
        except Exception:  # a result that does not pickle
            pipe.send((False, (WorkerFailed, "in a build process:\n" + traceback.format_exc())))
