"""``scaleboard build``, ``validate``, ``serve`` and ``new``."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("build", help="build the static site from data/, content/ and templates/")
    parser.set_defaults(func=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise NotImplementedError
