"""Shared test fixtures: random networks and reproducible data."""

from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# `make test` (and CI) draws the same hypothesis examples on every run, so a result depends
# on the code, not on the day's random draw; `make fuzz` explores fresh examples, more of them.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile(os.environ.get("GLASSNET_HYPOTHESIS", "default"))

SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def random_network(rng: np.random.Generator, d: int, hidden: tuple[int, ...], k: int,
                   output: str = "identity"):
    """A ReluNetwork with He-scaled Gaussian weights and small random biases."""
    from glassnet import ReluNetwork

    sizes = (d, *hidden, k)
    weights = [rng.normal(0, np.sqrt(2.0 / sizes[i]), size=(sizes[i + 1], sizes[i]))
               for i in range(len(sizes) - 1)]
    biases = [rng.normal(0, 0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(weights, biases, output=output)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(scope="session")
def shared_data_dir() -> str:
    path = os.path.abspath(SHARED_DATA)
    if not os.path.isdir(path):
        pytest.fail(f"The shared data directory {path} is missing; it must sit beside the repo.")
    return path
