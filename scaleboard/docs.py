"""``docs/records.md`` and ``docs/columns.md``, made from the registries they describe.

``python -m scaleboard.docs`` writes both; a test fails when a committed one is out of date, so a
new field or column is documented where it is defined and nowhere else.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scaleboard import columns
from scaleboard.record import DOCS, FIELDS, MAX_SAMPLES, SCHEMA, Field

_TYPE_NAMES = {int: "integer", float: "number", str: "string", dict: "object", list: "list", bool: "boolean"}


def _type(types: tuple[type, ...]) -> str:
    return " or ".join(dict.fromkeys(_TYPE_NAMES[t] for t in types))


def _field_type(field: Field) -> str:
    text = _type(field.types)
    if field.choices:
        text += ": " + ", ".join(f"`{c}`" for c in field.choices)
    return text


def _presence(field: Field) -> str:
    if not field.required:
        return "may be left out" + (" or null" if field.nullable else "")
    return "may be null" if field.nullable else "always"


def records_markdown() -> str:
    """The record contract as a Markdown page."""
    lines = [
        "# Records",
        "",
        f"One JSON object per line of a `data/**/*.jsonl` file, schema `{SCHEMA}`. Units are in the",
        "names (`*_ms` milliseconds, `*_s` seconds, `*_bytes` bytes, `*_per_s` per second); null means",
        '"not known", never zero. A field not listed here is kept and reported as a warning',
        f"(`--strict` fails on it). `samples_ms` holds at most {MAX_SAMPLES} samples. Older schemas",
        "(`/1`, `/2`) are read and upgraded. Generated from `scaleboard/record.py` (`FIELDS`, `DOCS`)",
        "by `python -m scaleboard.docs`; the flat columns of the CSV downloads are in",
        "[columns.md](columns.md).",
        "",
        "| field | type | present | meaning | sub-fields |",
        "|---|---|---|---|---|",
    ]
    for name, field in FIELDS.items():
        keys = ""
        if field.keys:
            keys = ", ".join(
                f"`{key}`{'?' if nullable else ''} ({_type(types)})" for key, (types, nullable) in field.keys.items()
            )
        doc = DOCS[name].replace("|", "\\|")
        lines.append(f"| `{name}` | {_field_type(field)} | {_presence(field)} | {doc} | {keys} |")
    lines += ["", "In sub-fields, `?` marks one that may be null or left out."]
    return "\n".join(lines) + "\n"


#: Each generated page and what makes it.
PAGES = {"records.md": records_markdown, "columns.md": columns.markdown}


def write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in PAGES.items():
        path = folder / name
        path.write_text(make(), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write(Path(args[0]) if args else Path("docs")):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
