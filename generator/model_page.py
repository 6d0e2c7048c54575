"""The scalebench page of one (model, machine, suite): every view of its records.

Latency and throughput each get the three views of the original scalebench page,
each one chart with a selector instead of one image per value: per batch size
(threads on x when several thread counts were measured, else a bar per
configuration), per optimization and per thread count (batch size on a log2 axis).
Then memory with the OOM / timeout wall, first-call cost and break-even, the
speed-up heatmap, jitter, quality flags, the environment and downloads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypedDict

from scaleboard.generator import pareto
from scaleboard.generator.charts import (
    ChartBlock,
    ChartSpec,
    Figure,
    Points,
    Selector,
    chart_block,
    chart_figure,
    fill_points,
    log2_axis,
    threads_label,
)
from scaleboard.generator.frame import PageKey, Row, by_workload, quality_of
from scaleboard.generator.jsonout import rnd
from scaleboard.generator.site import Site, config_order
from scaleboard.record import OPTIMIZATIONS, Record

GIB = 1024**3
#: Metrics of every row the page draws: rounded at once (latency and throughput are drawn per
#: batch size, per optimization and per thread count; the jitter figures once).
DRAWN_OFTEN = ("latency_ms", "tokens_per_s", "samples_per_s", "p99_over_p50", "latency_cv")


@dataclass(frozen=True)
class ConfigInfo:
    """One configuration as the page's table shows it."""

    name: str
    color: str
    quality: str  # "pass", "fail" or "unchecked"
    next_token_agreement: float | None
    max_abs_diff: float | None
    wall: str  # "oom at batch 256", "timeout at batch 1024 (2 threads)" or ""
    points: int
    budget: str = ""  # "batch 64–1024 (2 threads): not measured (budget)" or ""
    perplexity: float | None = None  # _perplexity(): pretrained causal LMs only
    perplexity_change: float | None = None  # against the baseline's, as a fraction (+0.02: 2 % higher)


def _index(rows: list[Row], column: str) -> dict[Any, list[Row]]:
    groups: dict[Any, list[Row]] = defaultdict(list)
    for r in rows:
        groups[r[column]].append(r)
    return groups


#: (config, threads, workload) → (batch size, status) of the first OOM / timeout.
Walls = dict[tuple[str, int, str], tuple[int, str]]


def walls(rows: list[Row]) -> Walls:
    """(config, threads, workload) → (batch size, status) of the first OOM / timeout: a suite
    that ran two sequence lengths hits a wall at each, at different batch sizes."""
    found: Walls = {}
    for r in rows:
        if r["status"] in ("oom", "timeout"):
            key = (r["config"], r["threads"], r["workload"])
            if key not in found or r["batch_size"] < found[key][0]:
                found[key] = (r["batch_size"], r["status"])
    return found


def _budget_note(rows: list[Row], name_threads: bool, name_workload: bool) -> str:
    """Which batch sizes the time plan left out of each workload (named with ``name_workload``,
    when the page has several: each has its own sizes), at the largest thread count that left
    any out (named with ``name_threads``, when the configuration ran at several: the others may
    have measured more or less)."""
    notes = []
    for workload, left in by_workload(r for r in rows if r["status"] == "budget").items():
        threads = max(r["threads"] for r in left)
        sizes = sorted(r["batch_size"] for r in left if r["threads"] == threads)
        what = f"batch {sizes[0]}" if len(sizes) == 1 else f"batch {sizes[0]}–{sizes[-1]}"
        which = [threads_label(threads)] * name_threads + [workload] * name_workload
        notes.append(what + (f" ({', '.join(which)})" if which else ""))
    return f"{'; '.join(notes)}: not measured (budget)" if notes else ""


def _perplexity(group: list[Row]) -> float | None:
    """The perplexity of the gate's fixed input under a configuration, recorded only with
    pretrained weights: its point with the largest batch, which holds the most of the input's
    rows (the gate compares ``min(batch, 4)``), so configurations measured at batch 4 or more
    are compared on the same four rows."""
    found = [r for r in group if r["status"] == "ok" and r["perplexity"] is not None]
    return max(found, key=lambda r: r["batch_size"])["perplexity"] if found else None


def config_infos(site: Site, rows: list[dict[str, Any]]) -> list[ConfigInfo]:
    wall_of = walls(rows)
    workloads = len({r["workload"] for r in rows}) > 1  # then a wall says which workload hit it
    infos = []
    for name, group in sorted(_index(rows, "config").items(), key=lambda kv: config_order(kv[0])):
        state, agreement, diff = quality_of(group)
        several = len({r["threads"] for r in group}) > 1  # then the notes say which thread count
        hits = sorted((b, s, t, w) for (c, t, w), (b, s) in wall_of.items() if c == name)
        wall = ""
        if hits:  # the smallest batch that hit a wall
            batch, status, threads, workload = hits[0]
            which = [threads_label(threads)] * several + [workload] * workloads
            wall = f"{status} at batch {batch}" + (f" ({', '.join(which)})" if which else "")
        points = sum(1 for r in group if r["status"] == "ok")
        budget = _budget_note(group, several, workloads)
        infos.append(ConfigInfo(name, site.color(name), state, agreement, diff, wall, points, budget,
                                _perplexity(group)))  # fmt: skip
    base = next((i.perplexity for i in infos if i.name == site.config.baseline.name), None)
    if base:
        infos = [
            replace(i, perplexity_change=i.perplexity / base - 1) if i.perplexity is not None else i for i in infos
        ]
    return infos


class PageCharts:
    """Builds the page's chart blocks from its rows, grouped once."""

    def __init__(self, site: Site, rows: list[dict[str, Any]], flagged: set[str], walls: Walls | None = None):
        self.site, self.rows, self.flagged, self.walls = site, rows, flagged, walls or {}
        self.threads = sorted({r["threads"] for r in rows})
        self.batches = sorted({r["batch_size"] for r in rows})
        self.top_threads = self.threads[-1] if self.threads else 1
        self.by_batch = _index(rows, "batch_size")
        self.by_opt = _index(rows, "optimization")
        self.by_threads = _index(rows, "threads")
        self.workloads = len({r["workload"] for r in rows})
        self.points: Points = {}  # each row is drawn in several figures: rounded once
        fill_points(rows, DRAWN_OFTEN, self.points)

    def figure(self, rows: list[Row], **spec: Any) -> Figure:
        if self.workloads > 1:  # e.g. two sequence lengths in one suite: never mix them in a line
            spec["series"] = (*spec.get("series", ("config",)), "workload")
        return chart_figure(rows, ChartSpec(**spec), self.site.colors, self.flagged, self.points)

    def _selected(self, label: str, values: list[Any], text: Callable[..., Any] = str) -> Selector:
        return {"label": label, "options": [(str(v), text(v)) for v in values]}

    def per_batch(self, metric: str, name: str) -> dict[str, Figure]:
        several = len(self.threads) > 1
        figures = {}
        for b in self.batches:
            title = f"{name} at batch size {b}"
            if several:
                figures[str(b)] = self.figure(
                    self.by_batch[b], metric=metric, x="threads", series=("config",), title=title
                )
            else:
                figures[str(b)] = self.figure(self.by_batch[b], metric=metric, x="config", series=(), title=title)
        return figures

    def per_optimization(self, metric: str, name: str) -> tuple[list[str], dict[str, Figure]]:
        opts = sorted(self.by_opt, key=lambda o: OPTIMIZATIONS.index(o) if o in OPTIMIZATIONS else 99)
        series = ("config", "threads") if len(self.threads) > 1 else ("config",)
        figures = {
            o: self.figure(self.by_opt[o], metric=metric, x="batch_size", series=series, title=f"{name}: {o}")
            for o in opts
        }
        return opts, figures

    def per_threads(self, metric: str, name: str) -> dict[str, Figure]:
        return {
            str(t): self.figure(
                self.by_threads[t], metric=metric, x="batch_size", title=f"{name} at {threads_label(t)}"
            )
            for t in self.threads
        }

    def latency(self) -> list[ChartBlock]:
        opts, per_opt = self.per_optimization("latency_ms", "Latency")
        return [
            chart_block("Latency per batch size", self.per_batch("latency_ms", "Latency"),
                        [self._selected("Batch size", self.batches)], id="latency-per-batch"),
            chart_block("Latency per optimization", per_opt, [self._selected("Optimization", opts)],
                        id="latency-per-optimization"),
            chart_block("Latency per thread count", self.per_threads("latency_ms", "Latency"),
                        [self._selected("Threads", self.threads)], id="latency-per-threads"),
        ]  # fmt: skip

    def throughput(self) -> list[ChartBlock]:
        samples = ("samples_per_s", "Throughput (samples/s)")
        if any(r["sample_unit"] == "images" for r in self.rows):
            samples = ("images_per_s", "Throughput (images/s)")
        metrics = [("tokens_per_s", "Throughput (tokens/s)"), samples]
        if not any(r["tokens_per_s"] is not None for r in self.rows):  # e.g. imported without a sequence length
            metrics = metrics[1:]
        metric_selector: Selector = {"label": "Metric", "options": [(m, t) for m, t in metrics]}
        per_batch: dict[str, Figure] = {}
        per_opt: dict[str, Figure] = {}
        per_threads: dict[str, Figure] = {}
        opts: list[str] = []
        for metric, name in metrics:
            per_batch.update({f"{metric}|{k}": f for k, f in self.per_batch(metric, name).items()})
            opts, figures = self.per_optimization(metric, name)
            per_opt.update({f"{metric}|{k}": f for k, f in figures.items()})
            per_threads.update({f"{metric}|{k}": f for k, f in self.per_threads(metric, name).items()})
        return [
            chart_block("Throughput per batch size", per_batch,
                        [metric_selector, self._selected("Batch size", self.batches)], id="throughput-per-batch"),
            chart_block("Throughput per optimization", per_opt,
                        [metric_selector, self._selected("Optimization", opts)], id="throughput-per-optimization"),
            chart_block("Throughput per thread count", per_threads,
                        [metric_selector, self._selected("Threads", self.threads)], id="throughput-per-threads"),
        ]  # fmt: skip

    def top(self) -> list[Row]:
        """Rows at the largest thread count: the setting the single-view charts show."""
        return self.by_threads.get(self.top_threads, [])

    def memory(self, device_memory_bytes: int | None) -> ChartBlock:
        figure = self.figure(self.top(), metric="peak_memory_gib", x="batch_size",
                             title=f"Peak memory at {threads_label(self.top_threads)}")  # fmt: skip
        top_walls = {k: v for k, v in self.walls.items() if k[1] == self.top_threads}
        _mark_walls(figure, top_walls, device_memory_bytes)
        return chart_block("Memory", {"": figure}, id="memory-chart",
                           caption="× marks the batch size where a configuration ran out of memory or time.")  # fmt: skip

    def first_call(self) -> ChartBlock:
        smallest = [r for r in self.top() if r["batch_size"] == min(self.batches)]
        figure = self.figure(smallest, metric="first_call_s", x="config", series=(),
                             title=f"First call (compile / trace) at batch {min(self.batches)}")  # fmt: skip
        return chart_block("First call", {"": figure}, id="first-call-chart")

    def speedup(self) -> ChartBlock:
        figure = self.figure(self.top(), metric="speedup", x="batch_size", series=("config",), type="heatmap",
                             title=f"Speed-up over the baseline at {threads_label(self.top_threads)}")  # fmt: skip
        figure["layout"]["height"] = max(320, 28 * len({r["config"] for r in self.top()}) + 140)
        return chart_block("Speed-up", {"": figure}, id="speedup-chart")

    def generation(self) -> ChartBlock:
        """Task generate: TTFT, per-token latency and decode throughput against the batch size."""
        figures = {
            m: self.figure(self.top(), metric=m, x="batch_size", title=f"{t} at {threads_label(self.top_threads)}")
            for m, t in (
                ("ttft_ms", "Time to first token (prefill)"),
                ("per_token_ms", "Per-token latency (decode step, p50)"),
                ("decode_tokens_per_s", "Decode throughput"),
            )
        }
        selector: Selector = {
            "label": "Measure",
            "options": [
                ("ttft_ms", "TTFT"),
                ("per_token_ms", "per-token latency"),
                ("decode_tokens_per_s", "decode tokens/s"),
            ],
        }
        return chart_block("Generation", figures, [selector], id="generation-chart")

    def training(self) -> ChartBlock | None:
        """Task train: step time, samples/s and peak memory (weights, grads, optimizer state, activations)."""
        rows = [r for r in self.top() if r["task"] == "train"]
        if not rows:
            return None
        images = any(r["sample_unit"] == "images" for r in rows)
        measures = [("latency_ms", "Step time"), ("images_per_s" if images else "samples_per_s", "Training throughput")]
        if any(r["peak_memory_bytes"] for r in rows):
            measures.append(("peak_memory_gib", "Peak memory of a training step"))
        at = threads_label(self.top_threads)
        figures = {m: self.figure(rows, metric=m, x="batch_size", title=f"{t} at {at}") for m, t in measures}
        words = {"latency_ms": "step time", "samples_per_s": "samples/s", "images_per_s": "images/s",
                 "peak_memory_gib": "peak memory"}  # fmt: skip
        selector: Selector = {"label": "Measure", "options": [(m, words[m]) for m, _ in measures]}
        return chart_block("Training step", figures, [selector], id="training-chart")

    def per_token_distribution(self) -> ChartBlock | None:
        """Task generate: the spread of the decode steps' times (p50, p90, p99) per configuration."""
        rows = [r for r in self.top() if r["per_token_ms"] is not None]
        configs = sorted({r["config"] for r in rows}, key=config_order)
        if not configs:
            return None
        figures = {}
        for config in configs:
            mine = [r for r in rows if r["config"] == config]
            title = f"{config}: per-token latency at {threads_label(self.top_threads)}"
            figure = self.figure(mine, metric="per_token_ms", x="batch_size", series=(), title=title)
            for metric, dash in (("per_token_p90_ms", "dash"), ("per_token_p99_ms", "dot")):
                extra = self.figure(mine, metric=metric, x="batch_size", series=(), title=title)["data"]
                for trace in extra:
                    trace["line"] = {**trace.get("line", {}), "dash": dash}
                figure["data"].extend(extra)
            for trace, name in zip(figure["data"], ("p50", "p90", "p99"), strict=False):
                trace["hovertemplate"] = trace["hovertemplate"].replace(trace["name"], name, 1)
                trace["name"] = name
            figure["layout"]["yaxis"]["title"] = {"text": "time between decode steps (ms)"}
            figures[config] = figure
        selector = self._selected("Configuration", configs)
        return chart_block("Per-token latency distribution", figures, [selector], id="per-token-chart",
                           caption="Percentiles over every decode step of every timed generate call: "
                           "p50 solid, p90 dashed, p99 dotted.")  # fmt: skip

    def jitter(self) -> ChartBlock:
        figures = {
            m: self.figure(self.top(), metric=m, x="batch_size", title=f"{t} at {threads_label(self.top_threads)}")
            for m, t in (("p99_over_p50", "Tail ratio p99 / p50"), ("latency_cv", "Coefficient of variation"))
        }
        selector: Selector = {
            "label": "Measure",
            "options": [("p99_over_p50", "p99 / p50"), ("latency_cv", "CV (std / mean)")],
        }
        return chart_block("Jitter", figures, [selector], id="jitter-chart")


def _mark_walls(figure: dict[str, Any], found: Walls, device_memory_bytes: int | None) -> None:
    """Add the OOM / timeout wall: an × per configuration at the batch size that failed."""
    by_batch: dict[tuple[int, str], list[str]] = defaultdict(list)
    several = len({workload for _, _, workload in found}) > 1
    for (config, _, workload), (batch, status) in sorted(found.items()):
        by_batch[(batch, status)].append(f"{config} · {workload}" if several else config)
    if not by_batch:
        return
    top = max((y for t in figure["data"] for y in t["y"] if y is not None), default=1.0)
    if device_memory_bytes:
        top = max(top, device_memory_bytes / GIB)
    xs, texts = [], []
    for (batch, status), configs in sorted(by_batch.items()):
        xs.append(batch)
        texts.append(f"{status.upper()} at batch {batch}<br>" + "<br>".join(configs))
        figure["layout"].setdefault("shapes", []).append(
            {"type": "line", "x0": batch, "x1": batch, "yref": "paper", "y0": 0, "y1": 1,
             "line": {"color": "#e15759", "dash": "dot", "width": 1}}
        )  # fmt: skip
    figure["data"].append(
        {"type": "scatter", "mode": "markers", "name": "OOM / timeout wall", "x": xs, "y": [rnd(top)] * len(xs),
         "marker": {"symbol": "x", "size": 12, "color": "#e15759"}, "text": texts,
         "hovertemplate": "%{text}<extra></extra>"}
    )  # fmt: skip
    axis = figure["layout"]["xaxis"]
    if axis.get("type") == "log" and max(xs) > max(axis["tickvals"]):  # keep the wall on the axis
        axis.update(log2_axis([*axis["tickvals"], *xs]))
    if device_memory_bytes:
        figure["layout"].setdefault("shapes", []).append(
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": rnd(device_memory_bytes / GIB),
             "y1": rnd(device_memory_bytes / GIB), "line": {"color": "#9aa4b5", "dash": "dash", "width": 1}}
        )  # fmt: skip


def break_even(site: Site, rows: list[Row]) -> list[BreakEven]:
    """Per workload and configuration, at the workload's smallest batch and most threads:
    iterations until compile pays off.

    break-even iterations = first_call_s / (baseline latency − configuration latency),
    both at the same workload, batch size and thread count; none when it is not faster.
    """
    baseline = site.config.baseline.key
    out: list[BreakEven] = []
    for workload, mine in by_workload(rows).items():
        threads = max(r["threads"] for r in mine)
        batch = min(r["batch_size"] for r in mine)
        points = {r["config"]: r for r in mine if r["threads"] == threads and r["batch_size"] == batch}
        base = next((r for r in points.values() if (r["optimization"], r["precision"], r["attention"]) == baseline),
                    None)  # fmt: skip
        for name in sorted(points, key=config_order):
            r = points[name]
            saving_ms = (
                base["latency_ms"] - r["latency_ms"]
                if base and r["latency_ms"] and base["latency_ms"] and base["latency_stat"] == r["latency_stat"]
                else None
            )
            iterations = (
                r["first_call_s"] * 1000 / saving_ms
                if saving_ms and saving_ms > 0 and r["first_call_s"] is not None
                else None
            )
            out.append({"config": name, "color": site.color(name), "workload": workload,
                        "first_call_s": r["first_call_s"], "latency_ms": r["latency_ms"], "saving_ms": saving_ms,
                        "iterations": iterations, "is_baseline": r is base, "batch_size": batch,
                        "threads": threads})  # fmt: skip
    return out


def environments(rows: list[Row], raw: list[Record]) -> list[Environment]:
    """Each distinct environment of the page: device and versions, with its fingerprint."""
    seen: dict[str, dict[str, Any]] = {}
    for record in raw:
        env = record["env"]
        if env["fingerprint"] not in seen:
            seen[env["fingerprint"]] = {"device": record["device"], "env": env, "runs": set(), "points": 0}
        seen[env["fingerprint"]]["runs"].add(record["run_id"])
        seen[env["fingerprint"]]["points"] += 1
    return [
        {"device": v["device"], "env": v["env"], "runs": sorted(v["runs"]), "points": v["points"]}
        for _, v in sorted(seen.items())
    ]


def present(rows: list[dict[str, Any]], site: Site) -> dict[str, bool]:
    """Which sections the records can fill: an imported file may hold latency and nothing else.

    A section without data collapses to one line saying what is missing, and nothing is
    compared with a baseline the records do not hold.
    """
    baseline = site.config.baseline.key

    def any_of(column: str) -> bool:
        return any(r[column] is not None for r in rows)

    return {
        "memory": any_of("peak_memory_bytes") or any(r["status"] in ("oom", "timeout") for r in rows),
        "first_call": any_of("first_call_s"),
        "baseline": any((r["optimization"], r["precision"], r["attention"]) == baseline for r in rows),
        "speedup": any(r["speedup"] is not None for r in rows),
        "jitter": any_of("p99_over_p50") or any_of("latency_cv"),
        "generation": any_of("ttft_ms"),
    }


def weights_note(rows: list[dict[str, Any]]) -> str:
    """What the page's weights were: ``random weights (built from the config)``, ``pretrained
    weights``, both, or nothing where no record says (an import). Speed does not depend on it;
    the correctness gate's agreement with fp32 does."""
    kinds = sorted({r["weights"] for r in rows if r["weights"]}, key=lambda w: w != "random")
    if not kinds:
        return ""
    if kinds == ["random"]:
        return "random weights (built from the config)"
    return f"{' and '.join(kinds)} weights"


def _missing_note(rows: list[dict[str, Any]]) -> str:
    """`` (imported from packrat, which does not report it)``, or nothing for ScaleBoard's own records."""
    sources = sorted({r["source"] for r in rows if r["source"] != "scaleboard"})
    return f" (imported from {', '.join(sources)}, which does not report it)" if sources else ""


class BreakEven(TypedDict):
    """How many calls repay a configuration's first-call cost against the baseline."""

    config: str
    color: str
    workload: str  # the baseline it is measured against ran the same workload
    first_call_s: float | None
    latency_ms: float | None
    saving_ms: float | None  # per call, against the baseline
    iterations: float | None  # calls until the first-call cost is repaid
    is_baseline: bool
    batch_size: int
    threads: int


class Environment(TypedDict):
    """One environment the page's records were measured in."""

    device: dict[str, Any]
    env: dict[str, Any]
    runs: list[str]
    points: int


class Context(TypedDict):
    """What ``model.html`` shows: one model on one machine in one suite."""

    has: dict[str, bool]  # which sections the records can fill (see present())
    missing_note: str
    latency_stats: list[str]  # "median" and / or "mean"
    model: str
    machine: str
    model_url: str  # the model's page (models/<model>/), then its page on this machine
    machine_url: str
    suite: str
    weights: str  # weights_note()
    rows: list[Row]
    configs: list[ConfigInfo]
    flagged: list[ConfigInfo]  # failing the correctness gate
    flagged_names: set[str]
    threads: list[int]
    batches: list[int]
    workloads: list[str]
    tasks: list[str]
    call_word: str  # "call", or "step" on a training page
    baseline: str
    latency_charts: list[ChartBlock]
    throughput_charts: list[ChartBlock]
    memory_chart: ChartBlock | None
    first_call_chart: ChartBlock | None
    speedup_chart: ChartBlock | None
    jitter_chart: ChartBlock | None
    generation_chart: ChartBlock | None
    training_chart: ChartBlock | None
    per_token_chart: ChartBlock | None
    pareto_charts: list[ChartBlock]
    break_even: list[BreakEven]
    environments: list[Environment]
    csv_url: str
    json_url: str
    failures: list[Row]  # points that errored, ran out of memory or time, or are unsupported


def context(site: Site, key: PageKey, rows: list[Row], raw: list[Record]) -> Context:
    """Everything the ``model.html`` template shows."""
    infos = config_infos(site, rows)
    flagged = {i.name for i in infos if i.quality == "fail"}
    ok_rows = [r for r in rows if r["status"] == "ok"]
    charts = PageCharts(site, ok_rows or rows, flagged, walls(rows))
    device_memory = next((r["device_memory_bytes"] for r in rows), None)
    model, machine, suite = key
    has = present(ok_rows, site)
    return {
        "has": has,
        "missing_note": _missing_note(rows),
        "latency_stats": sorted({r["latency_stat"] for r in ok_rows if r["latency_stat"]}),
        "model": model,
        "machine": machine,
        "model_url": site.url(site.overview_path(model)),
        "machine_url": site.url(site.overview_path(model, machine)),
        "suite": suite,
        "weights": weights_note(rows),
        "rows": rows,
        "configs": infos,
        "flagged": [i for i in infos if i.quality == "fail"],
        "flagged_names": flagged,
        "threads": charts.threads,
        "batches": charts.batches,
        "workloads": sorted({r["workload"] for r in rows}),
        "tasks": sorted({r["task"] for r in rows}),
        # A training page's calls are optimizer steps: its break-even is counted in steps.
        "call_word": "step" if {r["task"] for r in rows} == {"train"} else "call",
        "baseline": site.config.baseline.name,
        "latency_charts": charts.latency() if ok_rows else [],
        "throughput_charts": charts.throughput() if ok_rows else [],
        "memory_chart": charts.memory(device_memory) if has["memory"] else None,
        "first_call_chart": charts.first_call() if has["first_call"] else None,
        "speedup_chart": charts.speedup() if has["speedup"] else None,
        "jitter_chart": charts.jitter() if has["jitter"] else None,
        "generation_chart": charts.generation() if has["generation"] else None,
        "training_chart": charts.training() if ok_rows else None,
        "per_token_chart": charts.per_token_distribution() if has["generation"] else None,
        "pareto_charts": pareto.charts(charts.top(), site.colors, flagged, charts.top_threads, charts.points)
        if ok_rows
        else [],
        "break_even": break_even(site, ok_rows) if has["first_call"] and has["baseline"] else [],
        "environments": environments(rows, raw),
        "csv_url": site.url(site.data_path(model, machine, suite, "csv")),
        "json_url": site.url(site.data_path(model, machine, suite, "json")),
        "failures": [r for r in rows if r["status"] not in ("ok", "skipped", "budget")],
    }
