"""The ``scaleboard`` command: a thin layer over the runner and generator libraries.

Each stage registers its own subcommands; this module only dispatches and turns
:class:`~scaleboard.errors.ScaleboardError` into a message and an exit code.
Nothing here imports torch: ``scaleboard build`` works without it.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn

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


#: Commands after which the ``scaleboard`` program ends without tearing its heap down.
QUICK_EXIT = frozenset({"build", "validate"})


def program() -> None:
    """The ``scaleboard`` program: :func:`main`, then exit with its code.

    After ``build`` and ``validate`` the process ends at once (:func:`os._exit`, its output
    flushed) instead of freeing every object it made one by one, as mypy ends: the site is
    written and nothing of theirs waits for the interpreter's exit. That teardown took 0.04 s
    after a cold ``build -j 2`` of 35,520 records, 0.1 s after ``-j 1`` and 0.07 s after
    a rebuild of one changed file (a tenth of it). Other commands (``run``, ``serve``) exit as
    usual: their libraries clean up at exit (Ray, the measuring processes).

    When whatever reads the output stops reading (``scaleboard build | head -0``), the program
    ends with code 1 and no traceback, as Python's documentation advises: the rest of its output
    goes nowhere."""
    try:
        code = main(quick_exit=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        code = 1
    sys.exit(code)


def main(argv: list[str] | None = None, *, quick_exit: bool = False) -> int:
    """Run the command ``argv`` names (default: the process's arguments); its exit code.
    ``quick_exit``: end the process once a :data:`QUICK_EXIT` command has run (see :func:`program`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    code = _run(args)
    if quick_exit and args.command in QUICK_EXIT:
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (``| head``): what was written is all there is
            code = code or 1
    os._exit(code)


def _run(args: argparse.Namespace) -> int:
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
