"""The flat columns: one row per measurement point, the record contract seen as a table.

This registry is the one list of them (after pyperf's ``_metadata.py``). Each column has a name
(its unit in the name), a type, a unit, a label, where it comes from in a record, and whether a
chart can plot it. Everything else derives from it: the rows the generator flattens
(``scaleboard.generator.frame``), the CSV downloads and ``scaleboard.load_records``' DataFrame,
the chart metrics (``scaleboard.generator.charts.METRICS``) and ``docs/columns.md``
(``python -m scaleboard.docs`` writes it; a test checks it is current).

A column with a ``path`` is copied from the record (``("latency_ms", "p90")`` is
``record["latency_ms"]["p90"]``, null where the record has no such section); a column without
one is computed by ``scaleboard.generator.frame.flatten`` (the others in this module say how).
The record's own fields are documented in :mod:`scaleboard.record`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One flat column."""

    name: str
    type: str  # "str", "int", "float" or "bool"; every column may be null
    doc: str
    path: tuple[str, ...] | None = None  # where a record holds it; None: computed by flatten
    label: str = ""  # how a chart or table names it
    unit: str = ""  # what a chart writes after a value ("ms", "tokens/s"); "" for a ratio or a name
    metric: bool = False  # a chart can put it on y
    higher_is_better: bool = False  # for a metric: which way is better

    @property
    def derived(self) -> bool:
        return self.path is None


def _c(
    name: str,
    type_: str,
    doc: str,
    path: tuple[str, ...] | None = None,
    *,
    label: str = "",
    unit: str = "",
    better: str | None = None,
) -> Column:
    """A column; ``better`` ``"higher"`` or ``"lower"`` makes it a chart metric."""
    return Column(name, type_, doc, path, label, unit, better is not None, better == "higher")


def _top(name: str, type_: str, doc: str, *, unit: str = "") -> Column:
    """A column copied from the record's field of the same name."""
    return _c(name, type_, doc, (name,), unit=unit)


#: Every column, in the order of the CSV downloads.
COLUMNS: tuple[Column, ...] = (
    _top("suite", "str", "campaign label"),
    _top("machine", "str", "machine label"),
    _top("model", "str", "model name"),
    _top("model_source", "str", "where the model was loaded from, when `model` is a label for it"),
    _top("weights", "str", "`random` (built from config) or `pretrained`"),
    _top("params", "int", "parameter count"),
    _top("task", "str", "`forward`, `generate` or `train`"),
    _top("family", "str", "`causal-lm`, `masked-lm` or `image-classification`"),
    _c("sample_unit", "str", "what `samples_per_s` counts: `images` for an image input, else `samples`"),
    _top("seq_len", "int", "input length in tokens", unit="tokens"),
    _top("new_tokens", "int", "tokens generated per sample (`generate`)", unit="tokens"),
    _c("workload", "str", "what one call does: `forward · 128 tokens`, `generate · 128 tokens + 32 new`"),
    _top("optimization", "str", "`eager`, `torchscript`, `compile`, ..."),
    _top("precision", "str", "`fp32`, `fp16`, `bf16`, `int8-dynamic`, ..."),
    _top("attention", "str", "`sdpa` or `eager`"),
    _c("config", "str", "optimization · precision · attention"),
    _top("threads", "int", "CPU intra-op threads"),
    _top("batch_size", "int", "samples per call"),
    _top("status", "str", "`ok`, `oom`, `timeout`, `error`, `unsupported`, `skipped` or `budget`"),
    _top("reason", "str", "why the status is not `ok`"),
    _c("latency_ms", "float", "one call: the median where the record has one, else its mean",
       label="Latency", unit="ms", better="lower"),
    _c("latency_stat", "str", "which statistic `latency_ms` is: `median` or `mean`"),
    _c("latency_p50_ms", "float", "median of one call", ("latency_ms", "p50"), label="Latency p50", unit="ms",
       better="lower"),
    _c("latency_p90_ms", "float", "90th percentile", ("latency_ms", "p90"), label="Latency p90", unit="ms", better="lower"),
    _c("latency_p95_ms", "float", "95th percentile", ("latency_ms", "p95"), label="Latency p95", unit="ms"),
    _c("latency_p99_ms", "float", "99th percentile", ("latency_ms", "p99"), label="Latency p99", unit="ms", better="lower"),
    _c("latency_mean_ms", "float", "mean", ("latency_ms", "mean"), label="Latency mean", unit="ms", better="lower"),
    _c("latency_std_ms", "float", "sample standard deviation", ("latency_ms", "std"), label="Latency std", unit="ms"),
    _c("latency_min_ms", "float", "fastest call", ("latency_ms", "min"), label="Latency min", unit="ms"),
    _c("latency_max_ms", "float", "slowest call", ("latency_ms", "max"), label="Latency max", unit="ms"),
    _c("latency_cv", "float", "coefficient of variation: std / mean", label="Latency CV (std / mean)", better="lower"),
    _c("p99_over_p50", "float", "tail ratio p99 / p50", label="Tail ratio p99 / p50", unit="×", better="lower"),
    _c("latency_ci_low", "float", "low end of the median's 95% interval (ms)", unit="ms"),
    _c("latency_ci_high", "float", "high end of the median's 95% interval (ms)", unit="ms"),
    _c("unstable", "bool", "IQR / median over 10%"),
    _top("iterations", "int", "timed iterations"),
    _c("samples_per_s", "float", "samples (or images) per second at the median latency",
       ("throughput", "samples_per_s"), label="Throughput", unit="samples/s", better="higher"),
    _c("tokens_per_s", "float", "input tokens per second (`forward`, `train`), generated ones (`generate`)",
       ("throughput", "tokens_per_s"), label="Throughput", unit="tokens/s", better="higher"),
    _c("ttft_ms", "float", "time to first token (`generate`): median, else mean", label="Time to first token",
       unit="ms", better="lower"),
    _c("per_token_ms", "float", "inter-token latency (`generate`): median, else mean", label="Per-token latency",
       unit="ms", better="lower"),
    _c("per_token_p90_ms", "float", "inter-token latency, 90th percentile", label="Per-token latency p90", unit="ms",
       better="lower"),
    _c("per_token_p99_ms", "float", "inter-token latency, 99th percentile", label="Per-token latency p99", unit="ms",
       better="lower"),
    _c("decode_tokens_per_s", "float", "generated tokens per second after the first",
       ("generation", "decode_tokens_per_s"), label="Decode throughput", unit="tokens/s", better="higher"),
    _c("peak_memory_bytes", "int", "the model's footprint: allocator peak on an accelerator, process RSS on a CPU",
       label="Peak memory", unit="bytes"),
    _c("peak_allocated_bytes", "int", "allocator peak", ("memory", "peak_allocated_bytes"), unit="bytes"),
    _c("peak_reserved_bytes", "int", "allocator reserved peak", ("memory", "peak_reserved_bytes"), unit="bytes"),
    _c("peak_rss_bytes", "int", "process resident set peak", ("memory", "peak_rss_bytes"), unit="bytes"),
    _c("tokens_per_s_per_gib", "float", "`tokens_per_s` per GiB of `peak_memory_bytes`", label="Tokens/s per GiB",
       unit="tokens/s/GiB", better="higher"),
    _c("speedup", "float", "baseline latency / latency at the same point (the site's baseline configuration)",
       label="Speed-up over baseline", unit="×", better="higher"),
    _c("speedup_low", "float", "low end of the speed-up's interval, from the two medians' 95% intervals"),
    _c("speedup_high", "float", "high end of that interval"),
    _c("speedup_significant", "bool", "the interval leaves 1× out and the change is at least 5%"),
    _c("first_call_s", "float", "a fresh callable's first call, trace or compile included", ("warmup", "first_call_s"),
       label="First call (compile / trace)", unit="s", better="lower"),
    _c("warmup_s", "float", "warm-up time", ("warmup", "warmup_s"), label="Warm-up", unit="s"),
    _c("quality_ok", "bool", "passed the correctness gate against fp32 eager", ("quality", "ok")),
    _c("quality_reference", "str", "what the outputs were compared with", ("quality", "reference")),
    _c("max_abs_diff", "float", "largest absolute logit difference from the reference", ("quality", "max_abs_diff"),
       label="Max abs logit difference", better="lower"),
    _c("rel_error", "float", "relative error against the reference", ("quality", "rel_error")),
    _c("next_token_agreement", "float", "share of top-1 predictions that agree with the reference",
       ("quality", "next_token_agreement"), label="Next-token agreement", better="higher"),
    _c("perplexity", "float", "perplexity on the input", ("quality", "perplexity")),
    _c("joules_per_sample", "float", "energy per sample", ("energy", "joules_per_sample"), label="Energy",
       unit="J/sample", better="lower"),
    _c("mean_power_w", "float", "mean device power", ("energy", "mean_power_w"), unit="W"),
    _c("achieved_tflops", "float", "achieved TFLOP/s", ("compute", "achieved_tflops"), unit="TFLOP/s"),
    _c("mfu", "float", "model FLOPs utilisation", ("compute", "mfu"), label="Model FLOPs utilisation", better="higher"),
    _c("device_type", "str", "`cpu`, `cuda` or `mps`", ("device", "type")),
    _c("device_name", "str", "device name", ("device", "name")),
    _c("device_count", "int", "devices used", ("device", "count")),
    _c("device_memory_bytes", "int", "device memory", ("device", "memory_bytes"), unit="bytes"),
    _c("fingerprint", "str", "hash of the environment (library versions, CPU, OS)", ("env", "fingerprint")),
    _c("source", "str", "who measured it: `scaleboard` or an importer's source tool"),
    _c("source_version", "str", "that tool's version", ("source", "version")),
    _top("run_id", "str", "one id per `scaleboard run`"),
    _top("created_at", "str", "ISO-8601 UTC time the point finished"),
)  # fmt: skip

#: The column names, in CSV order.
NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}


def markdown() -> str:
    """``docs/columns.md``: the columns as a Markdown table."""
    lines = [
        "# Columns",
        "",
        "One row per measurement point: the site's CSV downloads (`data/records.csv` and one per model",
        'page) and `scaleboard.load_records()`. Units are in the names; an empty cell is null, "not',
        'known", never zero. *From* says where a record holds the value; a computed column says how in',
        "its meaning. Generated from `scaleboard/columns.py` by `python -m scaleboard.docs`.",
        "",
        "| column | type | unit | meaning | from | chart metric |",
        "|---|---|---|---|---|---|",
    ]
    for c in COLUMNS:
        source = f"`{'.'.join(c.path)}`" if c.path else "computed"
        chart = ("higher is better" if c.higher_is_better else "lower is better") if c.metric else ""
        lines.append(f"| `{c.name}` | {c.type} | {c.unit} | {c.doc} | {source} | {chart} |")
    return "\n".join(lines) + "\n"
