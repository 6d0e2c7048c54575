"""Run-vs-run and machine-vs-machine verdicts for the compare page, by ``scaleboard compare``'s rules.

Run vs run: each run of a model on a machine against the previous measurement of the same
points (the newest earlier run that measured each one): the command's own
:func:`scaleboard.compare.compare`, so a point the page calls regressed is one the command
calls regressed. Machine vs machine: each configuration's best throughput on a machine
against its best on a reference machine (the one with the most measured points). The two
may be at different batch sizes, so the time compared is per sample (a call's samples ÷
the batch size) and the verdict is :func:`scaleboard.compare.judge`'s on those times:
"improved" reads "faster", "regressed" "slower".

Both draw the ratio with its 95% interval (error bars) and colour each point by its
verdict, and the legend and tables say the verdict in words too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypedDict

from scaleboard import compare as cmp
from scaleboard.generator.charts import ChartBlock, chart_block
from scaleboard.generator.frame import Row
from scaleboard.generator.jsonout import rnd
from scaleboard.record import Record

THRESHOLD = 0.05  # the command's default --threshold
MAX_RUNS = 3  # the newest runs per machine compared with what came before
MAX_DRAWN = 40  # points drawn in one chart: every change, then the largest unchanged ones
COLORS = {"regressed": "#e15759", "improved": "#59a14f", "unchanged": "#9aa4b5", "not comparable": "#bab0ac"}
MACHINE_WORDS = {"regressed": "slower", "improved": "faster", "unchanged": "no significant difference",
                 "not comparable": "not comparable"}  # fmt: skip
RUN_WORDS = {v: v for v in cmp.VERDICT_ORDER}


@dataclass(frozen=True)
class Point:
    """One compared point (or configuration) as the page shows it."""

    label: str
    base: str
    new: str
    ratio: float | None
    low: float | None
    high: float | None
    p_value: float | None
    verdict: str  # the command's: regressed / improved / unchanged / not comparable
    word: str  # what the page says for it
    note: str = ""


class RunComparison(TypedDict):
    """One run against the previous measurement of its points."""

    id: str
    label: str
    points: list[Point]
    counts: dict[str, int]  # verdict → points
    figure: ChartBlock


class MachineComparison(TypedDict):
    """One machine's configurations against the reference machine's."""

    machine: str
    points: list[Point]
    counts: dict[str, int]
    figure: ChartBlock


class Versus(TypedDict):
    """Machine against machine for one model."""

    reference: str
    machines: list[MachineComparison]


def _counts(points: list[Point]) -> dict[str, int]:
    return {v: sum(1 for p in points if p.verdict == v) for v in cmp.VERDICT_ORDER}


# ---------------------------------------------------------------- run vs run


def _runs(records: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(run id, its records) oldest first."""
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_run[r["run_id"]].append(r)
    return sorted(by_run.items(), key=lambda kv: (min(r["created_at"] for r in kv[1]), kv[0]))


def run_comparisons(records: list[Record], judge: cmp.JudgeFn = cmp.judge) -> list[RunComparison]:
    """For one model on one machine: its newest runs, each against the previous measurement of its points."""
    runs = _runs(records)
    found: list[RunComparison] = []
    for position in range(len(runs) - 1, 0, -1):
        run_id, new = runs[position]
        earlier: dict[tuple[Any, ...], tuple[str, list[dict[str, Any]]]] = {}
        for old_id, old in runs[:position]:  # the newest earlier run holding each point wins
            for key, group in _by_key(old).items():
                if cmp._ok(group):
                    earlier[key] = (old_id, group)
        new_groups = _by_key(new)
        keys = [k for k in new_groups if k in earlier and cmp._ok(new_groups[k])]
        if not keys:
            continue
        base = [r for k in keys for r in earlier[k][1]]
        rows = cmp.compare(base, [r for k in keys for r in new_groups[k]], THRESHOLD, judge)
        model = new[0]["model"] + " "
        points = [Point(r.config.removeprefix(model), _ms(r.base_ms), _ms(r.new_ms), r.ratio, r.ci_low, r.ci_high, r.p_value,
                        r.verdict, RUN_WORDS[r.verdict], r.note) for r in rows]  # fmt: skip
        base_runs = sorted({earlier[k][0] for k in keys})
        found.append({
            "id": run_id,
            "label": f"{run_id} ({new[0]['suite']}) against {', '.join(base_runs)}",
            "points": points,
            "counts": _counts(points),
            "figure": figure(points, f"Run {run_id}: latency relative to the previous measurement",
                             "latency ratio new / previous (above 1× is slower)"),
        })  # fmt: skip
        if len(found) == MAX_RUNS:
            break
    return found


def _by_key(records: list[dict[str, Any]]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[cmp.match_key(r)].append(r)
    return groups


def _ms(value: float | None) -> str:
    return cmp._fmt_ms(value)


# ---------------------------------------------------------------- machine vs machine


def _best_points(
    rows: list[dict[str, Any]], raw: list[dict[str, Any]]
) -> dict[tuple[str, str, str], tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(machine, workload, config) → (the row of its best samples/s whose point has raw samples,
    that point's records with samples); the first such row in ``rows`` among equals."""
    records: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in raw:
        if r["status"] == "ok" and r["samples_ms"]:  # records without samples cannot be tested
            records[_point(r)].append(r)
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["status"] == "ok" and row["samples_per_s"]:
            groups[_group(row)].append(row)
    best: dict[tuple[str, str, str], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for key, group in groups.items():
        for row in sorted(group, key=_faster_first):  # stable: among equals, the first row
            point = records.get(_point(row))
            if point:
                best[key] = (row, point)
                break
    return best


#: A point's key, in a record or a row (both hold these fields: validated records require them).
_point = itemgetter("machine", "suite", *cmp.MATCH_FIELDS)
_group = itemgetter("machine", "workload", "config")


def _faster_first(row: dict[str, Any]) -> float:
    return -row["samples_per_s"]  # type: ignore[no-any-return]


def machine_comparisons(rows: list[Row], raw: list[Record], judge: cmp.JudgeFn = cmp.judge) -> Versus | None:
    """One model's configurations on every machine against a reference machine (None with one machine)."""
    counts = Counter(r["machine"] for r in rows if r["status"] == "ok")
    machines = sorted(counts)
    if len(machines) < 2:
        return None
    reference = max(machines, key=lambda m: (counts[m], [-ord(c) for c in m]))
    best = _best_points(rows, raw)
    found: list[MachineComparison] = []
    for machine in (m for m in machines if m != reference):
        points = []
        for (m, work, config), (row, records) in sorted(best.items()):
            if m != machine or (reference, work, config) not in best:
                continue
            ref_row, ref_records = best[(reference, work, config)]
            judged = judge(_per_sample(ref_records), _per_sample(records), THRESHOLD)
            ratio, low, high = (None if v is None else 1 / v for v in (judged.ratio, judged.ci_high, judged.ci_low))
            label = f"{config} · {work}" if len({w for _, w, _ in best}) > 1 else config
            points.append(Point(label, _throughput(ref_row), _throughput(row), ratio, low, high, judged.p_value,
                                judged.verdict, MACHINE_WORDS[judged.verdict], judged.note))  # fmt: skip
        if points:
            found.append({
                "machine": machine,
                "points": points,
                "counts": _counts(points),
                "figure": figure(points, f"{machine}: best throughput relative to {reference}",
                                 f"throughput ratio {machine} / {reference} (above 1× is faster)", higher=True),
            })  # fmt: skip
    return {"reference": reference, "machines": found} if found else None


def _per_sample(records: list[dict[str, Any]]) -> list[list[float]]:
    """Each process's times per sample: a call's time ÷ its batch size."""
    return [[s / r["batch_size"] for s in r["samples_ms"]] for r in records if r["samples_ms"]]


def _throughput(row: dict[str, Any]) -> str:
    unit = "images" if row["sample_unit"] == "images" else "samples"
    return f"{row['samples_per_s']:,.3g} {unit}/s at batch {row['batch_size']}"


# ---------------------------------------------------------------- the chart


def _ratio(point: Point) -> float:
    assert point.ratio is not None  # only points with a ratio are drawn
    return point.ratio


def _bar(point: Point) -> tuple[float | int | None, float | int | None]:
    """The error bar of a drawn point: (above, below) its ratio, or none without an interval."""
    if point.low is None or point.high is None:
        return None, None
    return rnd(point.high - _ratio(point)), rnd(_ratio(point) - point.low)


def figure(points: list[Point], title: str, axis: str, higher: bool = False) -> ChartBlock:
    """Ratios with their 95% intervals, one row per point, coloured and named by verdict."""
    drawn = [p for p in points if p.ratio is not None]
    changed = [p for p in drawn if p.verdict in ("regressed", "improved")]
    rest = sorted((p for p in drawn if p not in changed), key=lambda p: -abs(_ratio(p) - 1))
    drawn = sorted(changed + rest[: max(0, MAX_DRAWN - len(changed))], key=_ratio)
    words = MACHINE_WORDS if higher else RUN_WORDS
    traces = []
    for verdict in cmp.VERDICT_ORDER:
        mine = [p for p in drawn if p.verdict == verdict]
        if not mine:
            continue
        bars = [_bar(p) for p in mine]
        traces.append({
            "type": "scatter", "mode": "markers", "name": words[verdict],
            "x": [rnd(p.ratio) for p in mine], "y": [p.label for p in mine],
            "marker": {"color": COLORS[verdict], "size": 9, "symbol": "circle" if verdict == "unchanged" else "diamond"},
            "error_x": {"type": "data", "symmetric": False, "array": [b[0] for b in bars],
                        "arrayminus": [b[1] for b in bars], "color": COLORS[verdict], "thickness": 1, "width": 3},
            "customdata": [f"{p.base} → {p.new}" for p in mine],
            "hovertemplate": f"%{{y}}<br>%{{x}}× · {words[verdict]}<br>%{{customdata}}<extra></extra>",
        })  # fmt: skip
    band = {"type": "rect", "xref": "x", "yref": "paper", "x0": 1 / (1 + THRESHOLD), "x1": 1 + THRESHOLD, "y0": 0,
            "y1": 1, "fillcolor": "#9aa4b5", "opacity": 0.15, "line": {"width": 0}}  # fmt: skip
    one = {"type": "line", "xref": "x", "yref": "paper", "x0": 1, "x1": 1, "y0": 0, "y1": 1,
           "line": {"color": "#5b6577", "width": 1}}  # fmt: skip
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": axis}, "ticksuffix": "×"},
        "yaxis": {"type": "category", "automargin": True},
        "shapes": [band, one],
        "height": max(260, 24 * len({p.label for p in drawn}) + 140),
        "legend": {"orientation": "h", "y": -0.25},
        "margin": {"l": 10},
    }
    hidden = len(points) - len(drawn)
    caption = "Error bars: 95% interval of the ratio. Grey band: within the 5% threshold."
    if hidden:
        caption += f" {hidden} more unchanged or untestable points are in the table only."
    return chart_block(title, {"": {"data": traces, "layout": layout}}, caption=caption)
