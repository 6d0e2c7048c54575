"""Options the generator's commands share (``build``, ``validate``, ``serve``, ``new``)."""

from __future__ import annotations

import argparse


def add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-C",
        "--project",
        metavar="DIR",
        default=".",
        help="project root holding scaleboard.yaml, data/ and content/ (default: the current directory)",
    )
