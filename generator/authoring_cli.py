"""``scaleboard serve`` and ``scaleboard new`` (authoring tools)."""

from __future__ import annotations

import argparse
from pathlib import Path

from scaleboard.generator.cli_options import add_jobs_option, add_project_option


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the authoring subcommands to the ``scaleboard`` parser."""
    serve = commands.add_parser(
        "serve",
        help="build, serve on localhost, rebuild and reload the browser on every change",
        description="Build the site into a temporary directory and serve it at http://HOST:PORT/. "
        "Changes to data/, content/, templates/ or scaleboard.yaml rebuild it and reload open pages; "
        "a build that fails prints its error and keeps the last good build online. site/ is not touched.",
    )
    add_project_option(serve)
    serve.add_argument("--port", type=_port, default=8000, help="TCP port to listen on (default: 8000)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    serve.add_argument("--drafts", action="store_true", help="include drafts and future-dated posts")
    serve.add_argument("--strict", action="store_true", help="treat warnings (e.g. a bad chart block) as errors")
    add_jobs_option(serve, "make the first build", "Rebuilds, made beside the server's threads, use one. ")
    serve.set_defaults(func=run_serve)

    new = commands.add_parser(
        "new",
        help="scaffold new content (a blog post)",
        description="Create content from a template. Existing files are never overwritten.",
    )
    kinds = new.add_subparsers(title="kinds", dest="kind", metavar="KIND", required=True)
    post = kinds.add_parser(
        "post",
        help="a blog post: content/posts/<date>-<slug>.md with front matter and an example chart",
        description="Write content/posts/<today>-<slug>.md with front matter and an example chart block "
        "that draws the records in data/.",
    )
    post.add_argument("title", help='the post title, e.g. "Exploring GPT-2 (Part 2)"')
    add_project_option(post)
    post.set_defaults(func=run_new_post)

    init = commands.add_parser(
        "init",
        help="start a new ScaleBoard project: config, a sample post, data/ and a GitHub Pages workflow",
        description="Write scaleboard.yaml (every key commented), content/posts/ with a sample post holding a "
        "chart block, data/.gitkeep, .gitignore and .github/workflows/pages.yml (builds and publishes the site "
        "without torch). Refuses to overwrite existing files unless --force.",
    )
    init.add_argument("folder", nargs="?", default=".", metavar="DIR", help="project folder (default: here)")
    init.add_argument("--title", help="site title (default: from the folder name)")
    init.add_argument("--force", action="store_true", help="replace files that already exist")
    init.set_defaults(func=run_init)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535)")
    return port


def run_serve(args: argparse.Namespace) -> int:
    from scaleboard.generator.serve import serve

    return serve(args.project, host=args.host, port=args.port, drafts=args.drafts, strict=args.strict, jobs=args.jobs)


def run_new_post(args: argparse.Namespace) -> int:
    from scaleboard.generator.config import load_config
    from scaleboard.generator.scaffold import new_post

    config = load_config(Path(args.project))
    path = new_post(args.title, config.path("content_dir"), data_dir=config.path("data_dir"))
    print(f"created {path}")
    print("preview it with: scaleboard serve")
    return 0


def run_init(args: argparse.Namespace) -> int:
    from scaleboard.generator.init import NEXT_STEPS, init_project

    for path, action in init_project(args.folder, title=args.title, force=args.force):
        print(f"{action} {path}")
    print(NEXT_STEPS.format(folder=args.folder))
    return 0
