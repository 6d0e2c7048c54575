"""Shared fixtures for runner tests: a tiny group spec factory on CPU."""

from __future__ import annotations

import pytest

from scaleboard.runner.spec import Budget, GroupSpec

#: A budget that measures a tiny model in a fraction of a second.
TINY_BUDGET = Budget(
    warmup_iterations=1,
    min_iterations=3,
    max_iterations=5,
    min_time_s=0.0,
    max_time_s=1.0,
    point_timeout_s=30.0,
    hard_timeout_s=120.0,
)


@pytest.fixture(scope="session")
def cpu_environment():
    """``(device, env, machine)`` collected once: collecting runs git and imports torch."""
    from scaleboard.runner import environment

    return environment.collect("cpu")


@pytest.fixture
def make_spec(cpu_environment):
    """``make_spec(optimization="torchscript", batch_sizes=(1, 2), ...)``: a tiny-gpt2 CPU GroupSpec
    (another model's family, image shape and attention as the sweep would set them)."""
    device, env, machine = cpu_environment

    def make(**overrides) -> GroupSpec:
        fields = {
            "run_id": "test-run",
            "suite": "test",
            "machine": machine,
            "model": "tiny-gpt2",
            "optimization": "eager",
            "precision": "fp32",
            "attention": "sdpa",
            "threads": 1,
            "batch_sizes": (1, 2),
            "seq_len": 16,
            "device": device,
            "env": env,
            "budget": TINY_BUDGET,
        }
        fields.update(overrides)
        if "family" not in overrides:  # what the sweep's build_groups says of the model
            from scaleboard.runner.models import input_of

            info = input_of(fields["model"])
            fields.update(family=info["family"], image_shape=info["image_shape"])
            if not info["attention"]:
                fields["attention"] = None
        return GroupSpec(**fields)

    return make
