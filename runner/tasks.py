"""Which task a configuration can run: the family's own limits, then the task's module.

Kept apart from :mod:`scaleboard.runner.optimizations`, which the task modules
(:mod:`~scaleboard.runner.generate`, :mod:`~scaleboard.runner.train`) import: this module
imports them, so none imports another that imports it back.
"""

from __future__ import annotations


def task_unsupported(task: str, optimization: str, precision: str, family: str = "causal-lm") -> str | None:
    """Why ``task`` cannot run on a model of ``family`` with this optimization and precision, or
    None (no torch import)."""
    from scaleboard.runner.families import FAMILIES
    from scaleboard.runner.families import task_unsupported as family_reason

    reason = family_reason(FAMILIES[family], task)
    if reason:
        return reason
    if task == "generate":
        from scaleboard.runner import generate

        return generate.check_supported(optimization)
    if task == "train":
        from scaleboard.runner import train

        return train.check_supported(optimization, precision)
    return None
