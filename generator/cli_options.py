"""Options the generator's commands share (``build``, ``validate``, ``serve``, ``new``)."""

from __future__ import annotations

import argparse
import os
import sys


def add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        "--project",
        metavar="DIR",
        default=".",
        help="project root holding scaleboard.yaml, data/ and content/ (default: the current directory)",
    )


def add_jobs_option(parser: argparse.ArgumentParser, work: str, note: str = "") -> None:
    """``-j N``: how many processes do ``work`` (``note``: a sentence more)."""
    parser.add_argument(
        "-j",
        "--jobs",
        type=_positive_int,
        default=default_jobs(),
        metavar="N",
        help=f"{work} in N processes (default: the CPUs this may use on Linux, {default_jobs()} here; 1 "
        f"elsewhere). {note}The result is the same; -j 1 leaves the other cores to other work",
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}")
    return value


def default_jobs() -> int:
    """How many processes ``scaleboard build`` uses unless told: the CPUs this process may run on,
    on Linux; one elsewhere (macOS forks badly beside its system frameworks; Windows cannot)."""
    if sys.platform != "linux":
        return 1
    return max(1, len(os.sched_getaffinity(0)))
