"""The compare page: one model across machines (hardware generations) and across suites.

Each value is a configuration's best tokens/s (over batch sizes and threads) for one workload
(``forward · 128 tokens``, ``generate · 32 tokens + 16 new``...): a forward pass's tokens/s
and a generated token's are never drawn against each other, so a model measured on several
gets a "Workload" menu on both charts. "Across machines" divides the value by the baseline
configuration's best on a reference machine chosen in the chart (or shows absolute tokens/s);
"across suites" divides it by the baseline configuration's best in the machine's first suite
of that workload, so a campaign that got faster reads as a rising line.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any, TypedDict

from scaleboard import compare as cmp
from scaleboard.generator import verdicts
from scaleboard.generator.charts import (
    ChartBlock,
    ChartSpec,
    Figure,
    Selector,
    chart_block,
    chart_figure,
    workload_menu,
)
from scaleboard.generator.frame import Row, by_workload
from scaleboard.generator.site import Site

#: (workload, machine, suite, config) → best tokens/s.
Best = dict[tuple[str, str, str, str], float]


def _best(rows: list[dict[str, Any]]) -> Best:
    """(workload, machine, suite, config) → best tokens/s."""
    best: Best = {}
    for r in rows:
        if r["status"] == "ok" and r["tokens_per_s"] is not None:
            key = (r["workload"], r["machine"], r["suite"], r["config"])
            best[key] = max(best.get(key, 0.0), r["tokens_per_s"])
    return best


def _workloads(rows: list[dict[str, Any]], best: Best) -> list[str]:
    """The workloads ``best`` holds, forward first, shorter sequences first
    (:func:`~scaleboard.generator.frame.workload_order`)."""
    held = {w for w, _, _, _ in best}
    return [w for w in by_workload(rows) if w in held]


def _suite_order(rows: list[dict[str, Any]]) -> list[str]:
    first: dict[str, str] = {}
    for r in rows:
        first[r["suite"]] = min(first.get(r["suite"], r["created_at"]), r["created_at"])
    return sorted(first, key=lambda s: (first[s], s))


def _fig(site: Site, rows: list[Row], flagged: set[str], **spec: Any) -> Figure:
    return chart_figure(rows, ChartSpec(**spec), site.colors, flagged)


def across_machines(site: Site, rows: list[Row], baseline: str, flagged: set[str]) -> ChartBlock:
    best = _best(rows)
    workloads = _workloads(rows, best)
    several = len(workloads) > 1
    figures: dict[str, Figure] = {}
    options = {"": "absolute tokens/s"}  # reference machine → its menu entry, over every workload
    for workload in workloads or [""]:
        prefix, of = (f"{workload}|", f" · {workload}") if several else ("", "")
        per_machine: dict[tuple[str, str], float] = {}
        for (w, machine, _, config), value in best.items():
            if w == workload:
                per_machine[(machine, config)] = max(per_machine.get((machine, config), 0.0), value)
        absolute: list[Row] = [
            {"machine": m, "config": c, "tokens_per_s": v} for (m, c), v in sorted(per_machine.items())
        ]
        figures[prefix] = _fig(site, absolute, flagged, metric="tokens_per_s", x="machine", series=("config",),
                               type="bar", title=f"Best tokens/s per machine{of}")  # fmt: skip
        for ref in sorted({m for m, _ in per_machine}):
            base = per_machine.get((ref, baseline))
            if not base:
                continue
            relative = [{**p, "relative_tokens_per_s": p["tokens_per_s"] / base} for p in absolute]
            figures[prefix + ref] = _fig(site, relative, flagged, metric="relative_tokens_per_s", x="machine",
                                         series=("config",), type="bar",
                                         title=f"Best tokens/s relative to {baseline} on {ref}{of}")  # fmt: skip
            options[ref] = f"{baseline} on {ref} = 1×"
    normalise: Selector = {"label": "Normalise to", "options": list(options.items())}
    return chart_block("Across machines", figures, [*workload_menu(workloads), normalise])


def across_suites(site: Site, rows: list[Row], baseline: str, flagged: set[str]) -> ChartBlock | None:
    """Each machine's suites of the same workload, in campaign order, where it has two or more."""
    suites = _suite_order(rows)
    best = _best(rows)
    rank = {s: i for i, s in enumerate(suites)}
    drawn: dict[tuple[str, str], Figure] = {}  # (workload, machine) → its figure
    for workload in _workloads(rows, best):
        for machine in sorted({m for w, m, _, _ in best if w == workload}):
            points = sorted(((s, c, v) for (w, m, s, c), v in best.items() if (w, m) == (workload, machine)),
                            key=lambda p: rank[p[0]])  # fmt: skip
            base = next((v for s, c, v in points if c == baseline), None)
            if not base or len({s for s, _, _ in points}) < 2:
                continue
            relative = [{"suite": s, "config": c, "relative_tokens_per_s": v / base} for s, c, v in points]
            first = next(s for s, c, _ in points if c == baseline)
            figure = _fig(site, relative, flagged, metric="relative_tokens_per_s", x="suite", series=("config",),
                          type="line", title=f"{machine}: best tokens/s relative to {baseline} in {first}")  # fmt: skip
            for trace in figure["data"]:  # connect the points in campaign order, not by name
                pairs = sorted(zip(trace["x"], trace["y"], strict=True), key=lambda p: rank[p[0]])
                trace["x"], trace["y"] = [p[0] for p in pairs], [p[1] for p in pairs]
            figure["layout"]["xaxis"]["categoryorder"] = "array"
            figure["layout"]["xaxis"]["categoryarray"] = [s for s in suites if any(p[0] == s for p in points)]
            drawn[(workload, machine)] = figure
    if not drawn:
        return None
    workloads = list(dict.fromkeys(w for w, _ in drawn))  # in _workloads' order
    several = len(workloads) > 1
    if several:
        for (workload, _), figure in drawn.items():
            figure["layout"]["title"]["text"] += f" · {workload}"
    figures = {(f"{w}|{m}" if several else m): figure for (w, m), figure in drawn.items()}
    menu: Selector = {"label": "Machine", "options": [(m, m) for m in sorted({m for _, m in drawn})]}
    return chart_block("Across suites", figures, [*workload_menu(workloads), menu])


class MachineRuns(TypedDict):
    machine: str
    runs: list[verdicts.RunComparison]


class Section(TypedDict):
    """One model on the compare page."""

    name: str
    slug: str
    machines: ChartBlock  # its configurations' best tokens/s on each machine
    suites: ChartBlock | None  # across suites, with two or more
    pages: list[tuple[str, str]]  # (machine, suite) of its model pages
    runs: list[MachineRuns]  # run against run, per machine
    versus: verdicts.Versus | None  # machine against machine, with two or more


class Context(TypedDict):
    """What ``compare.html`` shows."""

    models: list[Section]
    baseline: str
    threshold: float


def context(site: Site) -> Context:
    models = [section(site, model) for model in site.parts]
    return {"models": models, "baseline": site.config.baseline.name, "threshold": verdicts.THRESHOLD}


def section(site: Site, model: str) -> Section:
    """One model's section. It comes from the model's own records (its data files:
    ``part.source``), its slug and the site's colours; the cache keeps it while those stay."""
    part = site.parts[model]
    if part.source is None:
        return _make_section(site, model)
    key = (model, part.source, site.slugs["model"][model], site.colors)
    return site.cache.remember("compare", key, functools.partial(_make_section, site, model))


def _make_section(site: Site, model: str) -> Section:
    baseline = site.config.baseline.name

    def judge(base: list[list[float]], new: list[list[float]], threshold: float) -> cmp.Judgement:
        return site.cache.remember("judge", (base, new, threshold), lambda: cmp.judge(base, new, threshold))

    data = site.parts[model].data()
    rows = data.rows
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in data.history:
        history[r["machine"]].append(r)
    latest = [r for records in data.raw.values() for r in records]
    flagged = {r["config"] for r in rows if r["quality_ok"] is False}
    return {
        "name": model,
        "slug": site.slugs["model"][model],
        "machines": across_machines(site, rows, baseline, flagged),
        "suites": across_suites(site, rows, baseline, flagged),
        "pages": sorted({(r["machine"], r["suite"]) for r in rows}),
        "runs": [
            {"machine": machine, "runs": found}
            for machine in sorted({r["machine"] for r in rows})
            for found in [verdicts.run_comparisons(history[machine], judge)]
            if found
        ],
        "versus": verdicts.machine_comparisons(rows, latest, judge),
    }
