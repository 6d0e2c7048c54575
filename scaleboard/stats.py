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
- :func:`mann_whitney_p`: the two-sided Mann-Whitney U test on the raw samples
  (``scipy.stats.mannwhitneyu``), as asv's ``compare`` uses, with a minimum effect on top.
- :func:`spread`: coefficient of variation and IQR / median; a point whose IQR is over 10%
  of its median is *unstable*, as pyperf and ``torch.utils.benchmark`` warn.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Sequence

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
    """The largest k with P(B ≤ k−1) ≤ (1 − confidence)/2 for B ~ Binomial(n, 1/2), or None."""
    from scipy.stats import binom

    alpha = 1 - confidence
    k = int(binom.ppf(alpha / 2, n, 0.5)) if n else 0
    while k > 0 and binom.cdf(k - 1, n, 0.5) > alpha / 2:
        k -= 1
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
    """Percentile-bootstrap interval of median(new) / median(base)."""
    import numpy as np

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    b, n = np.asarray(base, dtype=float), np.asarray(new, dtype=float)
    b_med = np.median(rng.choice(b, size=(resamples, len(b)), replace=True), axis=1)
    n_med = np.median(rng.choice(n, size=(resamples, len(n)), replace=True), axis=1)
    ratios = n_med / b_med
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(ratios, [tail, 100 - tail])
    return float(low), float(high)


def mann_whitney_p(base: Sequence[float], new: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (exact for small samples without ties)."""
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(base, new, alternative="two-sided").pvalue)


def spread(samples: Sequence[float]) -> dict[str, float | bool | None]:
    """``{cv, iqr_over_median, unstable}`` of raw samples (None where undefined)."""
    if len(samples) < 2:
        return {"cv": None, "iqr_over_median": None, "unstable": None}
    mean = statistics.fmean(samples)
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    median = statistics.median(samples)
    iqr = (q3 - q1) / median if median else None
    return {
        "cv": statistics.stdev(samples) / mean if mean else None,
        "iqr_over_median": iqr,
        "unstable": iqr is not None and iqr > UNSTABLE_IQR,
    }
