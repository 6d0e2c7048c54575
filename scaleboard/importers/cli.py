"""``scaleboard import FORMAT FILES...``: other tools' results as records in ``data/``."""

from __future__ import annotations

import argparse
from pathlib import Path

from scaleboard.errors import ConfigError

#: FORMAT → (module, what it reads).
FORMATS = {
    "packrat": ("scaleboard.importers.packrat", "packrat scalebench latency CSVs (*_latency.csv)"),
    "optimum-benchmark": ("scaleboard.importers.optimum", "optimum-benchmark benchmark.json files (0.6 format)"),
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "import",
        help="turn other benchmark tools' results into records in data/",
        description="Convert results of other tools into ScaleBoard records, one JSONL file per imported file, "
        "so they appear on the site next to ScaleBoard's own. Each record names its source tool and keeps only the "
        "statistics the source reported (a mean stays a mean). Every file is checked first: on any problem nothing "
        "is written. Importing the same file again changes nothing.",
    )
    parser.add_argument("format", choices=sorted(FORMATS), metavar="FORMAT", help=_formats_help())
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to import")
    parser.add_argument("--out", default="data", metavar="DIR", help="records folder (default: data)")
    parser.add_argument(
        "--machine",
        metavar="LABEL",
        help="machine label of the records (default: packrat: the folder two levels up; "
        "optimum-benchmark: the device named in the file)",
    )
    parser.add_argument(
        "--suite",
        metavar="LABEL",
        help="suite (campaign) label of the records (default: packrat: the file's folder; "
        "optimum-benchmark: the benchmark's name)",
    )
    parser.set_defaults(func=run_import)


def _formats_help() -> str:
    return "; ".join(f"{name}: {what}" for name, (_, what) in FORMATS.items())


def run_import(args: argparse.Namespace) -> int:
    import importlib

    from scaleboard.importers.common import write_all
    from scaleboard.runner.store import run_path

    module = importlib.import_module(FORMATS[args.format][0])
    paths = [Path(f) for f in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ConfigError("no such file: " + ", ".join(missing))
    converted = [module.convert(p, machine=args.machine, suite=args.suite) for p in paths]
    for c in converted:
        for note in c.notes:
            print(f"note: {note}")
    results = write_all(converted, lambda r: run_path(args.out, r["suite"], r["machine"], r["run_id"]))
    total = 0
    for path, count, what in results:
        print(f"{what}: {count} records → {path}")
        total += count if what == "written" else 0
    print(f"imported {total} records from {len(paths)} file(s); build the site with: scaleboard build")
    return 0
