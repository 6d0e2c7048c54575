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


def default_jobs() -> int:
    """How many processes ``scaleboard build`` uses unless told: the CPUs this process may run on,
    on Linux; one elsewhere (macOS forks badly beside its system frameworks; Windows cannot)."""
    if sys.platform != "linux":
        return 1
    return max(1, len(os.sched_getaffinity(0)))
