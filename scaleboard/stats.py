"""How sure a number is: confidence intervals of a median and a ratio, and a significance test.

- :func:`median_ci`: the distribution-free confidence interval of a median from order
  statistics. The number of samples below the true median is Binomial(n, 1/2), so
  [x_(k), x_(n−k+1)] covers it with probability 1 − 2·P(B < k) (Hollander, Wolfe & Chicken,
  *Nonparametric Statistical Methods*, 3rd ed., §3.6; Conover, *Practical Nonparametric
  Statistics*, 3rd ed., §3.2). No assumption on the shape of the timing distribution, which
  is skewed and often multimodal. Too few samples for the level → None.
- :func:`ratio_ci`: the percentile bootstrap (Efron & Tibshirani, *An Introduction to the
  Bootstrap*, 1993, ch. 13) of median(new) / median(base), resampling each side's raw
  samples independently, with a fixed seed so a comparison is reproducible.
- :func:`grouped_ratio_ci` and :func:`grouped_median_ci`: the same bootstrap, two-stage when
  the samples come from several processes (``--repeats``, or repeated runs): processes are
  resampled first, then samples within each (the hierarchical bootstrap of Davison & Hinkley,
  *Bootstrap Methods and their Application*, 1997, §3.8), so the interval carries the
  spread between processes, which samples of one process cannot show.
- :func:`summarize`: the latency statistics of the record contract from raw samples.
- :func:`mann_whitney_p`: the two-sided Mann-Whitney U test on the raw samples, as asv's
  ``compare`` uses, with a minimum effect on top. It follows ``scipy.stats.mannwhitneyu``
  (``method="auto"``): the exact null distribution when one side has at most 8 samples and
  nothing is tied, else the normal approximation with tie and continuity corrections (Conover,
  §5.1). Written here in plain Python because importing ``scipy.stats`` takes 0.7–1.4 s, more
  than a whole incremental build; the tests check it against scipy.
- :func:`spread`: coefficient of variation and IQR / median; a point whose IQR is over 10%
  of its median is *unstable*, as pyperf and ``torch.utils.benchmark`` warn.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

CONFIDENCE = 0.95
UNSTABLE_IQR = 0.10  # IQR / median above this: the point is flagged unstable
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20261124


def median_ci(samples: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """Order-statistic interval [x_(k), x_(n−k+1)] covering the median with at least ``confidence``."""
    k = _order_index(len(samples), confidence)
    if k is None:
        return None  # n too small: even [min, max] covers less than the level asks
    values = sorted(samples)
    return values[k - 1], values[len(values) - k]


@functools.lru_cache(maxsize=4096)
def _order_index(n: int, confidence: float) -> int | None:
    """The largest k with P(B ≤ k−1) ≤ (1 − confidence)/2 for B ~ Binomial(n, 1/2), or None.

    Exact: P(B ≤ k−1) is a sum of binomial coefficients over 2ⁿ, in integers.
    """
    import math

    tail = (1 - confidence) / 2
    total = 1 << n
    below = 0  # C(n, 0) + … + C(n, k−1), the count of outcomes with B ≤ k−1
    k = 0
    while k <= n and (below + math.comb(n, k)) / total <= tail:
        below += math.comb(n, k)
        k += 1
    return k if k >= 1 else None


def stability(samples: Sequence[float]) -> dict[str, float | bool | None]:
    """A record's ``stability``: the median's 95% interval and the spread figures of :func:`spread`."""
    ci = median_ci(samples) if samples else None
    return {
        "p50_ci95_low": ci[0] if ci else None,
        "p50_ci95_high": ci[1] if ci else None,
        **spread(samples),
    }


def ratio_ci(
    base: Sequence[float], new: Sequence[float], confidence: float = CONFIDENCE, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """Percentile-bootstrap interval of median(new) / median(base): one process a side."""
    return grouped_ratio_ci([base], [new], confidence, resamples)


def _percentile_interval(values: Any, confidence: float) -> tuple[float, float]:
    """The central ``confidence`` share of bootstrap ``values`` (the percentile method): what
    ``np.percentile(values, [tail, 100 - tail])`` returns, bit for bit. Its linear method is
    done here as numpy does it (the same indices, weights and interpolation) on ``values``
    partitioned in place (scratch), without its bookkeeping: ``np.unique`` of the indices, which
    imports ``numpy.ma`` (10-20 ms in each build process), and checks that took most of the
    0.1 ms a call. A NaN sorts last and makes both ends NaN, as in numpy."""
    tail = (1 - confidence) / 2 * 100
    count = len(values)
    ends = [_neighbours(count, q / 100) for q in (tail, 100 - tail)]
    if not values.flags.writeable:
        values = values.copy()
    values.partition(sorted({0, count - 1, *(i % count for low, high, _ in ends for i in (low, high))}))
    if values[-1] != values[-1]:  # NaN
        return float(values[-1]), float(values[-1])
    low, high = (_lerp(float(values[a]), float(values[b]), weight) for a, b, weight in ends)
    return low, high


def _neighbours(count: int, quantile: float) -> tuple[int, int, float]:
    """numpy's linear quantile: the two order statistics around the virtual index
    ``(count - 1) · quantile`` (both the last past the end, both the first before the start;
    -1 is the last) and the interpolation weight, the virtual index minus the first of them."""
    import math

    virtual = (count - 1) * quantile
    low = math.floor(virtual)
    high = low + 1
    if virtual >= count - 1:
        low = high = -1
    if virtual < 0:
        low = high = 0
    return low, high, virtual - low


def _lerp(a: float, b: float, weight: float) -> float:
    """numpy's ``_lerp``: from ``a`` below the middle, from ``b`` from it (the same rounding)."""
    difference = b - a
    return b - difference * (1 - weight) if weight >= 0.5 else a + difference * weight


def _grouped_medians(groups: Sequence[Sequence[float]], plan: tuple[Any, Any]) -> Any:  # numpy: arrays in and out
    """Medians of two-stage resamples: groups with replacement, then samples within each.
    ``plan`` is what :func:`_draws` made of the indices it drew for these groups' sizes."""
    import numpy as np

    arrays = [np.asarray(g, dtype=float) for g in groups if len(g)]
    if not all(np.isfinite(a).all() for a in arrays):
        raise ValueError("samples must be finite numbers")
    index, sizes = plan
    if sizes is None:  # one group: resample its samples
        return _row_medians(arrays[0][index])
    return _row_medians(np.concatenate([*arrays, [np.inf]])[index], sizes)


#: Bootstraps whose draws are kept (:func:`_draws`): up to this many indices a bootstrap.
KEPT_DRAWS = 2000 * 64


def _draws(sides: tuple[tuple[int, ...], ...], resamples: int) -> tuple[tuple[Any, Any], ...]:
    """For each side (the sizes of its non-empty groups), the bootstrap's resamples as indices
    into the side's samples: ``(index, None)`` for one group, ``resamples`` × its size; for
    several, ``(index, sizes)``: row r pools the groups resample r picked, each padded to the
    longest with the index one past the last sample (where :func:`_grouped_medians` puts +inf,
    sorted last), and ``sizes[r]`` counts its samples.

    The indices are drawn from one generator seeded with ``BOOTSTRAP_SEED``, in order: for each
    side, each group's samples (``resamples`` × its size) then, with several groups, the groups
    (``resamples`` × their count). They depend on the sizes alone, so comparisons and points of
    the same shape (a page holds hundreds) share them."""
    if resamples * sum(len(side) * (max(side) + 1) for side in sides) <= KEPT_DRAWS:
        return _kept_draws(sides, resamples)
    return _drawn(sides, resamples)


def _drawn(sides: tuple[tuple[int, ...], ...], resamples: int) -> tuple[tuple[Any, Any], ...]:
    import numpy as np

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    out: list[tuple[Any, Any]] = []
    for sizes in sides:
        within = [rng.integers(0, n, size=(resamples, n)) for n in sizes]
        if len(sizes) == 1:
            out.append((within[0], None))
            continue
        picks = rng.integers(0, len(sizes), size=(resamples, len(sizes)))
        past_last = sum(sizes)  # the +inf pad
        padded = np.full((len(sizes), resamples, max(sizes)), past_last)
        for g, (start, drawn) in enumerate(zip(np.cumsum([0, *sizes[:-1]]), within, strict=True)):
            padded[g, :, : sizes[g]] = drawn + start  # into all the side's samples, group after group
        index = padded[picks, np.arange(resamples)[:, None], :].reshape(resamples, -1)
        out.append((index, np.array(sizes)[picks].sum(axis=1)))
    for index, counts in out:
        for array in (index, counts):
            if array is not None:
                array.flags.writeable = False  # shared by the comparisons of that shape
    return tuple(out)


_kept_draws = functools.lru_cache(maxsize=32)(_drawn)  # at most 32 MB


def _row_medians(rows: Any, sizes: Any = None) -> Any:  # numpy arrays
    """``np.median`` of each row (of its first ``sizes[r]`` values, the rest being +inf), the
    same numbers: the mean of the two middle values, or the middle one. Sorting the rows is
    4-7x faster than ``np.median`` on a bootstrap's short rows (numpy sorts them with SIMD).
    The values are finite (the +inf padding aside). ``rows`` is scratch: it is sorted in place
    (a copy of a bootstrap's rows cost as much as sorting them)."""
    import numpy as np

    rows.sort(axis=1)
    if sizes is None:  # every row full: its middle one or two columns (what the general case gives, sooner)
        middle = rows.shape[1] // 2
        return rows[:, middle] if rows.shape[1] % 2 else (rows[:, middle - 1] + rows[:, middle]) / 2
    count = np.asarray(sizes)
    index = np.arange(len(rows))
    upper = rows[index, count // 2]
    lower = rows[index, np.maximum(count // 2 - 1, 0)]
    return np.where(count % 2 == 0, (lower + upper) / 2, upper)


def grouped_ratio_ci(
    base: Sequence[Sequence[float]],
    new: Sequence[Sequence[float]],
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> tuple[float, float]:
    """Interval of median(new) / median(base), each side a list of processes' samples (see the module doc)."""
    base_draws, new_draws = _draws((_sizes(base), _sizes(new)), resamples)  # base first, as ratio_ci
    ratios = _grouped_medians(new, new_draws) / _grouped_medians(base, base_draws)
    return _percentile_interval(ratios, confidence)


def grouped_median_ci(
    groups: Sequence[Sequence[float]], confidence: float = CONFIDENCE, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float] | None:
    """Interval of the median of several processes' samples pooled (None without two samples)."""
    if sum(len(g) for g in groups) < 2:
        return None
    (draws,) = _draws((_sizes(groups),), resamples)
    return _percentile_interval(_grouped_medians(groups, draws), confidence)


def _sizes(groups: Sequence[Sequence[float]]) -> tuple[int, ...]:
    return tuple(len(g) for g in groups if len(g))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default method) of already sorted values."""
    import math

    if not sorted_values:
        raise ValueError("no samples")
    pos = (len(sorted_values) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def summarize(samples_ms: Sequence[float]) -> dict[str, float]:
    """Latency statistics of the contract; ``std`` is the sample standard deviation (n-1), 0 for one sample."""
    import math

    values = sorted(samples_ms)
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    stats = {f"p{q}": percentile(values, q) for q in (50, 90, 95, 99)}
    return {**stats, "mean": mean, "std": math.sqrt(var), "min": values[0], "max": values[-1]}


def mann_whitney_p(base: Sequence[float], new: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (exact for small samples without ties)."""
    import math

    n1, n2 = len(base), len(new)
    if not n1 or not n2:
        raise ValueError("the Mann-Whitney test needs samples on both sides")
    ranks, ties = _average_ranks([*base, *new])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u = max(u1, n1 * n2 - u1)
    if (n1 <= 8 or n2 <= 8) and not ties:  # scipy's method="auto"
        counts = _u_counts(min(n1, n2), max(n1, n2))
        p = 2 * sum(counts[int(u) :]) / math.comb(n1 + n2, n1)
    else:
        n = n1 + n2
        tie_term = sum(t**3 - t for t in ties)
        sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
        if sigma == 0:  # every sample equal
            return 1.0
        z = (u - n1 * n2 / 2 - 0.5) / sigma  # continuity-corrected
        p = math.erfc(z / math.sqrt(2))  # 2 · P(Z > z)
    return min(max(p, 0.0), 1.0)


def _average_ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """1-based ranks, tied values sharing their average rank, and the size of each tie group."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


@functools.lru_cache(maxsize=256)
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many of the C(m+n, m) orderings give U = 0, 1, …, m·n: the coefficients of the
    Gaussian binomial ∏ᵢ (1 − q^(n+i)) / (1 − q^i), i = 1…m, in exact integers."""
    size = m * n + 1
    poly = [1] + [0] * (size - 1)
    for i in range(1, m + 1):
        for k in range(size - 1, n + i - 1, -1):  # × (1 − q^(n+i))
            poly[k] -= poly[k - n - i]
        for k in range(i, size):  # ÷ (1 − q^i): a running sum with stride i
            poly[k] += poly[k - i]
    return tuple(poly)


def spread(samples: Sequence[float]) -> dict[str, float | bool | None]:
    """``{cv, iqr_over_median, unstable}`` of raw samples (None where undefined).

    Quartiles by linear interpolation (``statistics.quantiles(method="inclusive")``, numpy's
    default); the standard deviation is the sample one (n-1). Plain float arithmetic: the
    build computes this for every record without a stored ``stability``.
    """
    n = len(samples)
    if n < 2:
        return {"cv": None, "iqr_over_median": None, "unstable": None}
    values = sorted(samples)
    mean = sum(values) / n
    q1, median, q3 = (percentile(values, q) for q in (25, 50, 75))
    iqr = (q3 - q1) / median if median else None
    std = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5
    return {
        "cv": std / mean if mean else None,
        "iqr_over_median": iqr,
        "unstable": iqr is not None and iqr > UNSTABLE_IQR,
    }
