"""``scaleboard build`` and ``scaleboard validate`` (``serve`` and ``new`` come from ``authoring_cli``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scaleboard.generator.cli_options import add_jobs_option, add_project_option


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the generator's subcommands to the ``scaleboard`` parser."""
    build = commands.add_parser(
        "build",
        help="build the static site from data/, content/ and templates/",
        description="Render every page from data/**/*.jsonl, content/ and templates/ into a new site/, "
        "replacing the old one only when everything succeeded.",
    )
    add_project_option(build)
    build.add_argument("--out", metavar="DIR", help="output directory (default: out_dir of scaleboard.yaml, site/)")
    build.add_argument(
        "--base-url",
        metavar="PATH",
        help="path prefix the site is served under, e.g. /repo/ for https://user.github.io/repo/ (default: base_url of scaleboard.yaml, /)",
    )
    build.add_argument(
        "--site-url",
        metavar="URL",
        help="origin the site is published at, e.g. https://user.github.io, for absolute links in the feed and "
        "sitemap (default: url of scaleboard.yaml)",
    )
    build.add_argument("--strict", action="store_true", help="fail on warnings (unknown fields, truncated lines)")
    build.add_argument("--drafts", action="store_true", help="include posts marked as drafts")
    add_jobs_option(build, "validate new data files and make each model's pages")
    build.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write .scaleboard-cache/ (what a rebuild reuses: validated data files, "
        "model pages, compare verdicts) nor the compiled templates in the per-user cache; the site is "
        "the same either way",
    )
    build.set_defaults(func=run_build)

    validate = commands.add_parser(
        "validate",
        help="check data/ and content/ without building",
        description="Validate scaleboard.yaml, every data/**/*.jsonl line and the content/ files, their chart and "
        "leaderboard blocks drawn from the data as the build draws them: the errors and warnings the build would "
        "give. Nothing is written but the build cache.",
    )
    add_project_option(validate)
    validate.add_argument("--strict", action="store_true", help="fail on warnings too")
    add_jobs_option(validate, "validate new data files")
    validate.add_argument(
        "--no-cache",
        action="store_true",
        help="neither read nor write .scaleboard-cache/, where build and validate remember the data files "
        "they validated (a file unchanged since is not validated again); the verdict is the same either way",
    )
    validate.set_defaults(func=run_validate)


def run_build(args: argparse.Namespace) -> int:
    from scaleboard.generator.build import build

    result = build(
        args.project,
        out=args.out,
        base_url=args.base_url,
        site_url=args.site_url,
        strict=args.strict,
        drafts=args.drafts,
        jobs=args.jobs,
        use_cache=not args.no_cache,
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"built {result.pages} pages ({result.files} files) into {result.out_dir} in {result.seconds:.1f} s")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from scaleboard.generator.check import check_project
    from scaleboard.generator.config import load_config
    from scaleboard.generator.jsonout import fmt_count

    config = load_config(Path(args.project))
    checked = check_project(config, strict=args.strict, jobs=args.jobs, use_cache=not args.no_cache)
    for warning in checked.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    found = f"{fmt_count(checked.files, 'data file')}, {fmt_count(checked.records, 'record')}"
    print(f"ok: {found}" + (", content/" if checked.content else ""))
    return 0
