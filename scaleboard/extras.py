"""Optional dependencies: which extra brings which library, and the error when one is missing.

``pip install scaleboard`` installs what ``scaleboard build`` needs (no torch). The runner's
libraries come with ``scaleboard[runner]``, Ray with ``scaleboard[ray]``, the test tools with
``scaleboard[dev]``. A command that needs a missing one stops with one line naming the
extra (exit status 2), never a traceback.
"""

from __future__ import annotations

import importlib.util

from scaleboard.errors import ScaleboardError

#: Top-level module → (extra that installs it, what to call it in a message).
OPTIONAL = {
    "torch": ("runner", "PyTorch"),
    "transformers": ("runner", "transformers"),
    "rich": ("runner", "rich"),
    "psutil": ("runner", "psutil"),
    "pynvml": ("runner", "nvidia-ml-py"),
    "ray": ("ray", "Ray"),
    "playwright": ("dev", "playwright"),
    "pytest": ("dev", "pytest"),
}

#: What ``scaleboard run`` imports.
RUNNER_MODULES = ("torch", "transformers", "rich", "psutil")


class MissingExtra(ScaleboardError):
    """A command needs a library that is not installed; the CLI exits with status 2."""

    exit_code = 2


def missing(modules: tuple[str, ...]) -> list[str]:
    """The modules of ``modules`` that cannot be imported here."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def require(command: str, modules: tuple[str, ...], needs: str) -> None:
    """Raise :class:`MissingExtra` unless every module is importable.

    ``require("run", RUNNER_MODULES, "PyTorch and transformers")`` →
    ``scaleboard run needs PyTorch and transformers: pip install 'scaleboard[runner]' (not installed: torch)``.
    """
    absent = missing(modules)
    if absent:
        raise MissingExtra(message(command, needs, absent))


def message(command: str, needs: str, absent: list[str]) -> str:
    extras = sorted({OPTIONAL.get(m, ("", ""))[0] for m in absent} - {""}) or ["runner"]
    install = "pip install " + " ".join(f"'scaleboard[{e}]'" for e in extras)
    return f"scaleboard {command} needs {needs}: {install} (not installed: {', '.join(absent)})"


def from_import_error(command: str, exc: ModuleNotFoundError) -> MissingExtra | None:
    """The message for an optional library found missing mid-command; None for anything else (a real bug)."""
    top = (exc.name or "").split(".")[0]
    if top not in OPTIONAL:
        return None
    return MissingExtra(message(command, OPTIONAL[top][1], [top]))
