"""The compare page: one model across machines (hardware generations) and across suites.

Each value is a configuration's best tokens/s (over batch sizes and threads).
"Across machines" divides it by the baseline configuration's best on a reference
machine chosen in the chart (or shows absolute tokens/s); "across suites" divides it
by the baseline configuration's best in the machine's first suite, so a campaign
that got faster reads as a rising line.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any, TypedDict

from scaleboard import compare as cmp
from scaleboard.generator import verdicts
from scaleboard.generator.charts import ChartBlock, ChartSpec, Figure, chart_block, chart_figure
from scaleboard.generator.frame import Row
from scaleboard.generator.site import Site


def _best(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], float]:
    """(machine, suite, config) → best tokens/s."""
    best: dict[tuple[Any, ...], float] = {}
    for r in rows:
        if r["status"] == "ok" and r["tokens_per_s"] is not None:
            key = (r["machine"], r["suite"], r["config"])
            best[key] = max(best.get(key, 0.0), r["tokens_per_s"])
    return best


def _suite_order(rows: list[dict[str, Any]]) -> list[str]:
    first: dict[str, str] = {}
    for r in rows:
        first[r["suite"]] = min(first.get(r["suite"], r["created_at"]), r["created_at"])
    return sorted(first, key=lambda s: (first[s], s))


def _fig(site: Site, rows: list[Row], flagged: set[str], **spec: Any) -> Figure:
    return chart_figure(rows, ChartSpec(**spec), site.colors, flagged)


def across_machines(site: Site, rows: list[Row], baseline: str, flagged: set[str]) -> ChartBlock:
    best = _best(rows)
    per_machine: dict[tuple[Any, ...], float] = {}
    for (machine, _, config), value in best.items():
        per_machine[(machine, config)] = max(per_machine.get((machine, config), 0.0), value)
    machines = sorted({m for m, _ in per_machine})
    absolute = [{"machine": m, "config": c, "tokens_per_s": v} for (m, c), v in sorted(per_machine.items())]
    figures = {"": _fig(site, absolute, flagged, metric="tokens_per_s", x="machine", series=("config",), type="bar",
                        title="Best tokens/s per machine")}  # fmt: skip
    options = [("", "absolute tokens/s")]
    for ref in machines:
        base = per_machine.get((ref, baseline))
        if not base:
            continue
        relative = [{**p, "relative_tokens_per_s": p["tokens_per_s"] / base} for p in absolute]
        figures[ref] = _fig(site, relative, flagged, metric="relative_tokens_per_s", x="machine", series=("config",),
                            type="bar", title=f"Best tokens/s relative to {baseline} on {ref}")  # fmt: skip
        options.append((ref, f"{baseline} on {ref} = 1×"))
    return chart_block("Across machines", figures, [{"label": "Normalise to", "options": options}])


def across_suites(site: Site, rows: list[Row], baseline: str, flagged: set[str]) -> ChartBlock | None:
    if len({r["suite"] for r in rows}) < 2:
        return None
    suites = _suite_order(rows)
    best = _best(rows)
    rank = {s: i for i, s in enumerate(suites)}
    figures, options = {}, []
    for machine in sorted({m for m, _, _ in best}):
        points = sorted(((s, c, v) for (m, s, c), v in best.items() if m == machine), key=lambda p: rank[p[0]])
        base = next((v for s, c, v in points if c == baseline), None)
        if not base:
            continue
        relative = [{"suite": s, "config": c, "relative_tokens_per_s": v / base} for s, c, v in points]
        first = next(s for s, c, _ in points if c == baseline)
        figure = _fig(site, relative, flagged, metric="relative_tokens_per_s", x="suite", series=("config",),
                      type="line", title=f"{machine}: best tokens/s relative to {baseline} in {first}")  # fmt: skip
        for trace in figure["data"]:  # connect the points in campaign order, not by name
            pairs = sorted(zip(trace["x"], trace["y"], strict=True), key=lambda p: rank[p[0]])
            trace["x"], trace["y"] = [p[0] for p in pairs], [p[1] for p in pairs]
        figure["layout"]["xaxis"]["categoryorder"] = "array"
        figure["layout"]["xaxis"]["categoryarray"] = suites
        figures[machine] = figure
        options.append((machine, machine))
    if not figures:
        return None
    return chart_block("Across suites", figures, [{"label": "Machine", "options": options}])


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
