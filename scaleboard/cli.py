"""The ``scaleboard`` command: a thin layer over the runner and generator libraries.

Each stage registers its own subcommands; this module only dispatches and turns
:class:`~scaleboard.errors.ScaleboardError` into a message and an exit code.
Nothing here imports torch: ``scaleboard build`` works without it.
"""

from __future__ import annotations

import argparse
import sys

from scaleboard import __version__
from scaleboard.errors import ScaleboardError
from scaleboard.extras import from_import_error


def build_parser() -> argparse.ArgumentParser:
    from scaleboard import compare as compare_cli
    from scaleboard.generator import authoring_cli
    from scaleboard.generator import cli as generator_cli
    from scaleboard.importers import cli as import_cli
    from scaleboard.runner import cli as runner_cli

    parser = argparse.ArgumentParser(
        prog="scaleboard",
        description="Benchmark how PyTorch / Hugging Face models scale, and publish the results as a static site.",
    )
    parser.add_argument("--version", action="version", version=f"scaleboard {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    runner_cli.register(commands)
    generator_cli.register(commands)
    authoring_cli.register(commands)
    import_cli.register(commands)
    compare_cli.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ModuleNotFoundError as exc:  # an optional library a command reached for is not installed
        missing = from_import_error(args.command, exc)
        if missing is None:
            raise
        print(f"error: {missing}", file=sys.stderr)
        return missing.exit_code
    except ScaleboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
