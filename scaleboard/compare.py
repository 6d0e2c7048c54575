"""``scaleboard compare BASE NEW``: did anything get slower? A regression gate for runs.

BASE and NEW are each a record file, a folder of records, or a selector over the records
under ``--data`` (default ``data/``): ``run:ID``, ``suite:LABEL``, ``machine:LABEL``,
``sha:GITSHA`` (a prefix is enough), combined with commas (``suite:nightly,machine:a100``).

Points are matched by configuration: model, task, sequence length, new tokens,
optimization, precision, attention, threads and batch size. Several records of one point
on one side (repeated runs) are pooled; a point neither side measured is left out. Per point:

- the ratio of medians new / base (latency: above 1 is slower) with a 95% percentile-
  bootstrap interval over the raw samples (:mod:`scaleboard.stats`); where a side holds
  several records of the point (``--repeats``, or several runs), each record is one process
  and the bootstrap is two-stage (processes, then samples), so the interval carries the
  spread between processes;
- the two-sided Mann-Whitney U test on the raw samples;
- a verdict: ``regressed`` / ``improved`` when the test is significant (p < 0.05), the
  interval leaves 1× out, *and* the ratio moves by at least ``--threshold`` (default 5%);
  ``unchanged`` otherwise;
  ``not comparable`` when a side is missing, did not measure the point (oom, timeout,
  budget …) or kept under two raw samples. A point measured on different machines or in a
  different environment is compared, and the difference is said in its note.

Exit status: 0, or 1 with ``--fail-on-regression`` when a point regressed; 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scaleboard.errors import ScaleboardError
from scaleboard.record import data_files, headline_latency, load_records

MATCH_FIELDS = (
    "model", "task", "seq_len", "new_tokens", "optimization", "precision", "attention", "threads", "batch_size",
)  # fmt: skip
SELECTOR_FIELDS = {"run": "run_id", "suite": "suite", "machine": "machine", "sha": "git_sha"}
ALPHA = 0.05
MIN_TEST_SAMPLES = 3  # per side: below this no test can reach significance
VERDICT_ORDER = ("regressed", "improved", "unchanged", "not comparable")
SYMBOL = {"regressed": "▲", "improved": "▼", "unchanged": "=", "not comparable": "?"}


class CompareError(ScaleboardError):
    exit_code = 2


@dataclass
class Row:
    """One point's comparison."""

    config: str
    base_ms: float | None
    new_ms: float | None
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str
    note: str = ""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "compare",
        help="compare two runs point by point (a regression gate)",
        description="Compare two sets of records point by point: ratio of medians with a 95% bootstrap "
        "interval, a Mann-Whitney U test on the raw samples, and a verdict per point (regressed, improved, "
        "unchanged, not comparable). BASE and NEW are a records file, a folder, or a selector over --data.",
        epilog="Selectors: run:ID, suite:LABEL, machine:LABEL, sha:GITSHA, comma-separated. "
        "Exit status: 0; 1 with --fail-on-regression when a point regressed; 2 for bad input.",
    )
    parser.add_argument("base", metavar="BASE", help="records file, folder, or selector (e.g. run:20261124T0850Z-7a15)")
    parser.add_argument("new", metavar="NEW", help="records file, folder, or selector")
    parser.add_argument("--data", default="data", help="folder selectors look in (default: data)")
    parser.add_argument(
        "--threshold", default="5%", help="smallest change that counts as a regression or improvement (default: 5%%)"
    )
    parser.add_argument(
        "--format", choices=("table", "markdown", "json"), default="table", help="output (default: table)"
    )
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 1 when any point regressed")
    parser.set_defaults(func=compare_command)


def compare_command(args: argparse.Namespace) -> int:
    threshold = parse_threshold(args.threshold)
    base, new = select(args.base, args.data), select(args.new, args.data)
    rows = compare(base, new, threshold)
    render = {"table": render_table, "markdown": render_markdown, "json": render_json}[args.format]
    sys.stdout.write(render(rows, threshold))
    regressed = any(r.verdict == "regressed" for r in rows)
    return 1 if args.fail_on_regression and regressed else 0


def parse_threshold(text: str) -> float:
    value = text.strip()
    try:
        number = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        raise CompareError(f"--threshold: {text!r} is not a share like 5% or 0.05") from None
    if not 0 <= number < 10:
        raise CompareError(f"--threshold: {text!r} must be between 0% and 1000%")
    return number


# ---------------------------------------------------------------- selection


def select(spec: str, data_dir: str) -> list[dict[str, Any]]:
    """Records of a file, a folder, or a selector over ``data_dir``."""
    path = Path(spec)
    if path.is_file() or path.is_dir():
        files = [path] if path.is_file() else data_files(path)
        return _load(files, spec)
    if ":" not in spec:
        raise CompareError(f"{spec!r} is neither a records file or folder nor a selector like run:ID or suite:LABEL")
    wanted = {}
    for part in spec.split(","):
        key, _, value = part.partition(":")
        if key.strip() not in SELECTOR_FIELDS or not value.strip():
            raise CompareError(f"selector {part!r}: expected one of {', '.join(k + ':VALUE' for k in SELECTOR_FIELDS)}")
        wanted[key.strip()] = value.strip()
    if not Path(data_dir).is_dir():
        raise CompareError(f"{data_dir}: no such folder to apply selector {spec!r} to (see --data)")
    chosen = [r for r in _load(data_files(data_dir), data_dir) if _matches(r, wanted)]
    if not chosen:
        raise CompareError(f"selector {spec!r} matches no record under {data_dir}/")
    return chosen


def _matches(record: dict[str, Any], wanted: dict[str, str]) -> bool:
    for key, value in wanted.items():
        if key == "sha":
            if not str(record["env"].get("git_sha") or "").startswith(value):
                return False
        elif str(record.get(SELECTOR_FIELDS[key])) != value:
            return False
    return True


def _load(files: list[Path], what: str) -> list[dict[str, Any]]:
    loaded = load_records(files)
    if loaded.errors:
        first = loaded.errors[0]
        raise CompareError(f"{first.path}:{first.line}: {first.message}")
    if not loaded.records:
        raise CompareError(f"{what}: no records")
    return loaded.records


# ---------------------------------------------------------------- comparison


def match_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(map(record.get, MATCH_FIELDS))


def describe(key: tuple[Any, ...]) -> str:
    point = dict(zip(MATCH_FIELDS, key, strict=True))
    task = "" if point["task"] == "forward" else f" {point['task']}"
    return (
        f"{point['model']}{task} {point['optimization']} · {point['precision']} · {point['attention']} "
        f"t{point['threads']} b{point['batch_size']}"
    )


def compare(
    base: list[dict[str, Any]], new: list[dict[str, Any]], threshold: float, judge_with: JudgeFn | None = None
) -> list[Row]:
    """One row per point measured on at least one side (a point neither side measured says nothing).

    ``judge_with`` replaces :func:`judge` by a function that gives the same answers (the site's
    build passes a cached one)."""
    sides = [_group(base), _group(new)]
    keys = [k for k in sorted(set(sides[0]) | set(sides[1]), key=_sort_key)
            if _ok(sides[0].get(k, [])) or _ok(sides[1].get(k, []))]  # fmt: skip
    rows = [_compare_point(key, sides[0].get(key, []), sides[1].get(key, []), threshold, judge_with or judge)
            for key in keys]  # fmt: skip
    return sorted(rows, key=lambda r: VERDICT_ORDER.index(r.verdict))


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((0, v) if isinstance(v, (int, float)) else (1, str(v)) for v in key)


def _group(records: list[dict[str, Any]]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[match_key(record)].append(record)
    return groups


def _compare_point(
    key: tuple[Any, ...], base: list[dict[str, Any]], new: list[dict[str, Any]], threshold: float, judge_with: JudgeFn
) -> Row:
    config = describe(key)
    if not base or not new:
        return Row(config, _median(base), _median(new), None, None, None, None, "not comparable",
                   "only in NEW" if not base else "only in BASE")  # fmt: skip
    failed = [f"{side} {_statuses(rs)}" for side, rs in (("BASE", base), ("NEW", new)) if not _ok(rs)]
    if failed:
        return Row(config, _median(base), _median(new), None, None, None, None, "not comparable", "; ".join(failed))
    note = _environment_note(base, new)
    b_ms, n_ms = _median(base), _median(new)
    judged = judge_with(_per_record(base), _per_record(new), threshold)
    if judged.verdict == "not comparable":
        ratio = n_ms / b_ms if b_ms and n_ms is not None else None
        return Row(config, b_ms, n_ms, ratio, None, None, None, judged.verdict, _join(note, judged.note))
    return Row(config, b_ms, n_ms, judged.ratio, judged.ci_low, judged.ci_high, judged.p_value, judged.verdict,
               _join(note, judged.note))  # fmt: skip


@dataclass(frozen=True)
class Judgement:
    """The verdict on two sides' raw times: each side a list of processes' samples (lower is faster)."""

    ratio: float | None  # median(new) / median(base), all samples of a side pooled
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    verdict: str
    note: str = ""


JudgeFn = Callable[[list[list[float]], list[list[float]], float], "Judgement"]


def judge(base: list[list[float]], new: list[list[float]], threshold: float) -> Judgement:
    """Ratio of medians with its two-stage bootstrap interval, the Mann-Whitney U test, and the verdict.

    ``regressed`` / ``improved`` need a significant test (p < ALPHA), an interval that leaves
    1× out and a change of at least ``threshold``; ``not comparable`` below two samples a side.
    The compare page of the site calls this too, so its verdicts are this command's.
    """
    b_samples, n_samples = [s for g in base for s in g], [s for g in new for s in g]
    if len(b_samples) < 2 or len(n_samples) < 2:
        why = f"too few raw samples to test ({len(b_samples)} base, {len(n_samples)} new)"
        return Judgement(None, None, None, None, "not comparable", why)
    from scaleboard import stats

    b_ms, n_ms = statistics.median(b_samples), statistics.median(n_samples)
    ratio = n_ms / b_ms if b_ms else None
    if ratio is None:
        return Judgement(None, None, None, None, "not comparable", "base median is 0")
    low, high = stats.grouped_ratio_ci(base, new)
    p = stats.mann_whitney_p(b_samples, n_samples)
    # significant: the test says so and the interval leaves 1× out; large enough: the threshold
    significant = p < ALPHA and not low <= 1.0 <= high
    verdict = "unchanged"
    if significant and ratio >= 1 + threshold:
        verdict = "regressed"
    elif significant and ratio <= 1 / (1 + threshold):
        verdict = "improved"
    note = ""
    if min(len(b_samples), len(n_samples)) < MIN_TEST_SAMPLES:
        note = "too few samples for the test to reach significance"
    return Judgement(ratio, low, high, p, verdict, note)


def _ok(records: list[dict[str, Any]]) -> bool:
    return any(r["status"] == "ok" for r in records)


def _statuses(records: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({r["status"] for r in records}))


def _samples(records: list[dict[str, Any]]) -> list[float]:
    """Every ok record's raw samples, pooled (repeated runs of one point)."""
    return [s for r in records if r["status"] == "ok" for s in r["samples_ms"]]


def _per_record(records: list[dict[str, Any]]) -> list[list[float]]:
    """Each ok record's raw samples: one list per measuring process."""
    return [r["samples_ms"] for r in records if r["status"] == "ok" and r["samples_ms"]]


def _median(records: list[dict[str, Any]]) -> float | None:
    samples = _samples(records)
    if samples:
        return statistics.median(samples)
    values = [
        v for r in records if r["status"] == "ok" for v in [headline_latency(r["latency_ms"])[0]] if v is not None
    ]
    return statistics.median(values) if values else None


def _environment_note(base: list[dict[str, Any]], new: list[dict[str, Any]]) -> str:
    machines = [sorted({r["machine"] for r in rs}) for rs in (base, new)]
    if machines[0] != machines[1]:
        return f"machines differ: {', '.join(machines[0])} vs {', '.join(machines[1])}"
    prints = [{r["env"].get("fingerprint") for r in rs} for rs in (base, new)]
    if prints[0] != prints[1]:
        changed = [k for k in ("torch", "transformers", "cuda", "driver", "python", "scaleboard", "git_sha")
                   if {r["env"].get(k) for r in base} != {r["env"].get(k) for r in new}]  # fmt: skip
        return "environment differs" + (f" ({', '.join(changed)})" if changed else "")
    return ""


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


# ---------------------------------------------------------------- output


def summary(rows: list[Row]) -> dict[str, int]:
    return {v: sum(1 for r in rows if r.verdict == v) for v in VERDICT_ORDER}


def _fmt_ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g} ms" if value < 100 else f"{value:,.0f} ms"


def _fmt_ratio(row: Row) -> str:
    if row.ratio is None:
        return "—"
    ci = f" [{row.ci_low:.3f}, {row.ci_high:.3f}]" if row.ci_low is not None else ""
    return f"{row.ratio:.3f}×{ci}"


def _fmt_p(value: float | None) -> str:
    return "—" if value is None else f"{value:.2g}"


def _headline(rows: list[Row], threshold: float) -> str:
    counts = summary(rows)
    parts = [f"{counts[v]} {v}" for v in VERDICT_ORDER]
    return (
        f"{len(rows)} points: {', '.join(parts)} (latency ratio new/base; a change counts when Mann-Whitney U "
        f"p < {ALPHA:g} and it is at least {threshold:.0%})"
    )


def render_table(rows: list[Row], threshold: float) -> str:
    header = ("configuration", "base", "new", "ratio [95% CI]", "p", "verdict", "note")
    cells = [header] + [
        (r.config, _fmt_ms(r.base_ms), _fmt_ms(r.new_ms), _fmt_ratio(r), _fmt_p(r.p_value),
         f"{SYMBOL[r.verdict]} {r.verdict}", r.note)
        for r in rows
    ]  # fmt: skip
    widths = [max(len(c[i]) for c in cells) for i in range(len(header) - 1)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(widths))) + "  " + c[-1] for c in cells]
    return "\n".join([*(line.rstrip() for line in lines), "", _headline(rows, threshold)]) + "\n"


def render_markdown(rows: list[Row], threshold: float) -> str:
    counts = summary(rows)
    title = "regressions found" if counts["regressed"] else "no regression"
    out = [f"### ScaleBoard comparison: {title}", "", _headline(rows, threshold), ""]
    out += ["| Configuration | Base | New | Ratio [95% CI] | p | Verdict | Note |", "|---|---:|---:|---:|---:|---|---|"]
    for r in rows:
        cells = (r.config, _fmt_ms(r.base_ms), _fmt_ms(r.new_ms), _fmt_ratio(r), _fmt_p(r.p_value),
                 f"{SYMBOL[r.verdict]} **{r.verdict}**" if r.verdict in ("regressed", "improved") else r.verdict, r.note)  # fmt: skip
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(out) + "\n"


def render_json(rows: list[Row], threshold: float) -> str:
    payload = {"threshold": threshold, "alpha": ALPHA, "summary": summary(rows), "points": [asdict(r) for r in rows]}
    return json.dumps(payload, indent=1) + "\n"
