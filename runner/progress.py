"""What a run shows: a progress bar with ETA, a line per finished point, a summary table.

On a terminal the bar (rich) stays at the bottom while point lines scroll above it.
Elsewhere (CI logs, pipes) there is no bar: each line carries ``[done/total]`` and a
plain estimate of the time left instead.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

from rich.console import Console, JustifyMethod
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.table import Table

from scaleboard.runner.spec import GroupSpec

STATUS_STYLE = {
    "ok": "green",
    "oom": "yellow",
    "timeout": "yellow",
    "skipped": "dim",
    "unsupported": "dim",
    "budget": "dim",
}
PLAIN_WIDTH = 140  # wide enough for the summary table in a CI log


class Progress:
    """Progress display for one run. ``quiet`` keeps only messages and the final lines."""

    def __init__(self, quiet: bool = False, console: Console | None = None):
        self.console = console or Console(highlight=False)
        if not self.console.is_terminal:
            self.console.width = max(self.console.width, PLAIN_WIDTH)
        self.quiet = quiet
        self.total = 0
        self.done = 0
        self._bar: RichProgress | None = None
        self._task = TaskID(0)  # set by start() when there is a bar
        self._started = time.monotonic()
        self.deadline: float | None = None

    def start(self, total_points: int, deadline: float | None = None) -> None:
        """``deadline``: the time budget's end (``time.monotonic()``); the time left is shown against it,
        since points left out by the plan end a run sooner than a count of points suggests."""
        self.total, self.done, self._started, self.deadline = total_points, 0, time.monotonic(), deadline
        if self.console.is_terminal and not self.quiet and total_points:
            remaining = [TextColumn("ETA"), TimeRemainingColumn()]
            if deadline is not None:
                remaining = [TextColumn("{task.fields[budget]}")]
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("points"),
                TimeElapsedColumn(),
                *remaining,
                console=self.console,
            )
            self._task = self._bar.add_task("starting", total=total_points, budget=self._budget_left())
            self._bar.start()

    def group(self, spec: GroupSpec) -> None:
        label = f"{spec.label}"
        if self._bar is not None:
            self._bar.update(self._task, description=label, budget=self._budget_left())
        elif not self.quiet:
            sizes = spec.batch_sizes
            span = f"{sizes[0]}" if len(sizes) == 1 else f"{sizes[0]}..{sizes[-1]}"
            text = f"── {label}: batch sizes {span} ({len(sizes)} points){self._plain_eta()}"
            self.console.print(text, markup=False, soft_wrap=True)

    def point(self, record: dict[str, Any]) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(self._task, advance=1, budget=self._budget_left())
        if not self.quiet:
            line = point_line(record, None if self._bar else (self.done, self.total))
            self.console.print(line, markup=False, soft_wrap=True, style=STATUS_STYLE.get(record["status"], "red"))

    def message(self, text: str) -> None:
        self.console.print(text, markup=False, soft_wrap=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _budget_left(self) -> str:
        if self.deadline is None:
            return ""
        return f"at most {format_duration(max(0.0, self.deadline - time.monotonic()))} left (time budget)"

    def _plain_eta(self) -> str:
        if self.deadline is not None:
            return f", {self._budget_left()}"
        if not self.done or self.done >= self.total:
            return ""
        left_s = (time.monotonic() - self._started) / self.done * (self.total - self.done)
        return f", about {format_duration(left_s)} left"

    def summary(self, records: list[dict[str, Any]]) -> None:
        """The per-configuration table: best throughput and its batch, latency at batch 1, statuses."""
        if records:
            self.console.print(summary_table(records))


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def point_line(record: dict[str, Any], count: tuple[int, int] | None = None) -> str:
    """``gpt2 compile/bf16/sdpa t2  bs    8  p50   212.41 ms     4,822 tok/s  ok``."""
    prefix = f"[{count[0]}/{count[1]}] " if count else ""
    config = f"{record['model']} {record['optimization']}/{record['precision']}/{record['attention'] or '—'} t{record['threads']}"
    latency = record.get("latency_ms") or {}
    p50 = f"{latency['p50']:10.2f} ms" if latency.get("p50") is not None else f"{'—':>13}"
    value, unit = rate(record)
    tokens = f"{value:12,.0f} {unit}" if value is not None else f"{'':>18}"
    status = record["status"]
    reason = (record.get("reason") or "").strip().splitlines()
    note = f" ({reason[0][:90]})" if reason and status != "ok" else ""
    return f"{prefix}{config:38} bs {record['batch_size']:5}  p50 {p50} {tokens}  {status}{note}"


def rate(record: dict[str, Any]) -> tuple[float | None, str]:
    """A record's headline throughput and its unit: tokens/s, else images/s for an image input, else samples/s."""
    throughput = record.get("throughput") or {}
    if throughput.get("tokens_per_s") is not None:
        return throughput["tokens_per_s"], "tok/s"
    images = (record.get("input") or {}).get("kind") == "pixels"
    return throughput.get("samples_per_s"), "img/s" if images else "samples/s"


def summary_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per configuration (model, optimization, precision, attention, threads)."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        key = tuple(record[f] for f in ("model", "optimization", "precision", "attention", "threads"))
        groups[key].append(record)
    rows = []
    for key, items in groups.items():
        ok = [r for r in items if r["status"] == "ok" and r.get("throughput")]
        best = max((r for r in ok if rate(r)[0] is not None), key=lambda r: rate(r)[0] or 0.0, default=None)
        at_one = next((r for r in ok if r["batch_size"] == 1), None)
        statuses = Counter(r["status"] for r in items)
        rows.append(
            {
                **dict(zip(("model", "optimization", "precision", "attention", "threads"), key, strict=False)),
                "best_rate": rate(best) if best else None,  # (value, unit)
                "best_batch_size": best["batch_size"] if best else None,
                "latency_bs1_ms": at_one["latency_ms"]["p50"] if at_one else None,
                "statuses": dict(statuses),
            }
        )
    return rows


def summary_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Summary (best throughput per configuration)", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("model", "left"),
        ("optimization", "left"),
        ("precision", "left"),
        ("attention", "left"),
        ("threads", "right"),
        ("best throughput", "right"),
        ("at batch", "right"),
        ("p50 @ bs 1 (ms)", "right"),
        ("points", "left"),
    )
    for name, justify in columns:
        table.add_column(name, justify=justify)
    for row in summary_rows(records):
        statuses = " ".join(f"[{STATUS_STYLE.get(s, 'red')}]{s} {n}[/]" for s, n in sorted(row["statuses"].items()))
        table.add_row(
            row["model"],
            row["optimization"],
            row["precision"],
            row["attention"] or "—",
            str(row["threads"]),
            f"{row['best_rate'][0]:,.0f} {row['best_rate'][1]}" if row["best_rate"] else "—",
            str(row["best_batch_size"] or "—"),
            f"{row['latency_bs1_ms']:.2f}" if row["latency_bs1_ms"] is not None else "—",
            statuses,
        )
    return table
