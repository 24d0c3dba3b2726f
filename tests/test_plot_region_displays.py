"""RegionSizeDistributionDisplay and FeatureImportanceDisplay (glassnet.plotting.regions), and
the row pick and bar folding the one-row Displays share (glassnet.plotting._common).

The oracles are computed here from the network's weights with NumPy: each row's activation
pattern (for the region counts) and each row's exact gradient, the product of the weight
matrices masked by the active units (for the importance), never from glassnet's regions.
"""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet import ReluNetwork, unwrap
from glassnet.plotting import (
    ContributionDisplay,
    FeatureImportanceDisplay,
    RegionSizeDistributionDisplay,
)
from glassnet.plotting.decisions import CounterfactualDisplay, ReasonCodeDisplay

matplotlib.use("Agg")

NAMES = ["age", "income", "debt", "limit", "months"]


def _net(rng: np.random.Generator, sizes: tuple[int, ...]):
    weights = [rng.normal(0, np.sqrt(2.0 / sizes[i]), size=(sizes[i + 1], sizes[i]))
               for i in range(len(sizes) - 1)]
    biases = [rng.normal(0, 0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return weights, biases, ReluNetwork(weights, biases, output="sigmoid")


def _patterns_and_gradients(weights, biases, X: np.ndarray):
    """Activation pattern (n, units) and gradient of the raw output (n, d) of every row."""
    h, jac, masks = X, np.broadcast_to(np.eye(X.shape[1]), (len(X), X.shape[1], X.shape[1])), []
    for W, b in zip(weights[:-1], biases[:-1], strict=True):
        pre = h @ W.T + b
        on = pre > 0
        masks.append(on)
        h = np.where(on, pre, 0.0)
        jac = on[:, :, None] * np.einsum("ij,njk->nik", W, jac)
    grad = np.einsum("j,njk->nk", weights[-1][0], jac)
    return np.hstack(masks), grad


@pytest.fixture
def case():
    rng = np.random.default_rng(3)
    weights, biases, net = _net(rng, (5, 7, 6, 1))
    # features on very different scales, so the standardised ranking differs from the raw one
    X = pd.DataFrame(rng.normal(size=(500, 5)) * [1.0, 40.0, 3.0, 0.05, 10.0], columns=NAMES)
    return weights, biases, net.with_feature_names(NAMES), X


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_size_bars_are_the_largest_counts(case):
    weights, biases, net, X = case
    patterns, _ = _patterns_and_gradients(weights, biases, X.to_numpy())
    _, counts = np.unique(patterns, axis=0, return_counts=True)
    reg = unwrap(net, X)
    k = 7
    disp = RegionSizeDistributionDisplay.from_regions(reg, top=k)
    assert _png(disp.figure_)[:8] == b"\x89PNG\r\n\x1a\n"
    heights = [b.get_height() for b in disp.bars_]
    np.testing.assert_array_equal(heights, np.sort(counts)[::-1][:k])
    # the coverage curve: share of the rows held by the m largest regions, at each m drawn
    cum = np.cumsum(np.sort(counts)[::-1]) / len(X)
    m = disp.coverage_line_.get_xdata()
    assert m[0] == 1 and m[-1] == len(counts)
    np.testing.assert_allclose(disp.coverage_line_.get_ydata(), cum[m - 1], rtol=0, atol=1e-12)
    assert f"({k} of {len(counts):,})" in disp.ax_.get_xlabel()
    assert disp.ax_.get_title() == "Region sizes"
    assert disp.coverage_ax_.get_title() == "Cumulative coverage"
    assert disp.coverage_ax_.get_xscale() == "log"
    assert disp.figure_ is disp.ax_.figure is disp.coverage_ax_.figure


def test_size_display_draws_on_the_axes_it_is_given(case):
    _, _, net, X = case
    reg = unwrap(net, X)
    fig, (a, b) = plt.subplots(1, 2)
    disp = RegionSizeDistributionDisplay.from_regions(reg, top=3, ax=(a, b))
    assert disp.ax_ is a and disp.coverage_ax_ is b and disp.figure_ is fig
    assert len(a.patches) == 3 and len(b.lines) == 2  # the curve and the 95 % line
    # one Axes: only the bars, drawn again from the stored values
    fig2, ax = plt.subplots()
    again = disp.plot(ax=ax)
    assert again.ax_ is ax and again.figure_ is fig2 and again.coverage_ax_ is None
    assert again.coverage_line_ is None and len(ax.patches) == 3
    with pytest.raises(ValueError, match="top"):
        RegionSizeDistributionDisplay.from_regions(reg, top=0)
    with pytest.raises(ValueError, match="pair of Axes"):
        disp.plot(ax=[ax, ax, ax])


def _oracle_importance(grad: np.ndarray, X: np.ndarray | None) -> np.ndarray:
    effect = np.abs(grad).mean(axis=0)  # every row weighs the same: the count weighting
    if X is not None:
        effect = effect * X.std(axis=0)
    return effect / effect.sum()


@pytest.mark.parametrize("standardised", [True, False])
def test_importance_bars_rank_features_by_the_gradients(case, standardised):
    weights, biases, net, X = case
    _, grad = _patterns_and_gradients(weights, biases, X.to_numpy())
    expected = _oracle_importance(grad, X.to_numpy() if standardised else None)
    reg = unwrap(net, X)
    disp = FeatureImportanceDisplay.from_regions(reg, X if standardised else None)
    assert _png(disp.figure_)[:8] == b"\x89PNG\r\n\x1a\n"
    top_down = [t.get_text() for t in disp.ax_.get_yticklabels()][::-1]
    assert top_down == [NAMES[j] for j in np.argsort(-expected)]
    widths = np.array([b.get_width() for b in disp.bars_])[::-1]
    np.testing.assert_allclose(widths, np.sort(expected)[::-1], rtol=1e-9, atol=1e-12)
    unit = "one-standard-deviation" if standardised else "one-unit"
    assert unit in disp.ax_.get_xlabel()
    assert disp.figure_ is disp.ax_.figure


def test_importance_display_draws_on_the_axes_it_is_given(case):
    _, _, net, X = case
    reg = unwrap(net, X)
    fig, ax = plt.subplots()
    disp = FeatureImportanceDisplay.from_regions(reg, X, ax=ax)
    assert disp.ax_ is ax and disp.figure_ is fig and len(ax.patches) == len(NAMES)
    fig2, ax2 = plt.subplots()
    assert disp.plot(ax=ax2).ax_ is ax2 and disp.figure_ is fig2
    with pytest.raises(ValueError, match="one name each"):
        FeatureImportanceDisplay([0.5, 0.5], ["a"])
    with pytest.raises(TypeError, match="DataFrame"):
        FeatureImportanceDisplay.from_table(np.ones(3))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), width=st.integers(2, 6), top=st.integers(1, 40))
def test_size_bars_match_pattern_counts_on_random_networks(seed, width, top):
    rng = np.random.default_rng(seed)
    weights, biases, net = _net(rng, (2, width, width, 1))
    # half the rows on a coarse grid, so some sit exactly on or next to region boundaries
    X = np.vstack([rng.normal(size=(60, 2)), rng.integers(-2, 3, size=(60, 2)) * 0.5])
    patterns, _ = _patterns_and_gradients(weights, biases, X)
    _, counts = np.unique(patterns, axis=0, return_counts=True)
    disp = RegionSizeDistributionDisplay.from_regions(unwrap(net, X), top=top)
    np.testing.assert_array_equal([b.get_height() for b in disp.bars_],
                                  np.sort(counts)[::-1][:top])
    assert disp.coverage_line_.get_ydata()[-1] == pytest.approx(1.0, abs=1e-12)
    plt.close(disp.figure_)


def test_one_row_displays_keep_the_largest_contributions(case):
    # ContributionDisplay and the decision Displays pick the row and fold the small bars
    # with one helper; the oracle is coef_j * x_j from the row's own gradient
    weights, biases, net, X = case
    row = 11
    _, grad = _patterns_and_gradients(weights, biases, X.to_numpy()[[row]])
    contrib = grad[0] * X.to_numpy()[row]
    disp = ContributionDisplay.from_model(net, X, row, max_features=2)
    bars = {disp.ax_.get_yticklabels()[i].get_text(): b.get_width()
            for i, b in enumerate(disp.bars_)}
    big = np.argsort(-np.abs(contrib))
    assert set(bars) == {"base", NAMES[big[0]], NAMES[big[1]], "other (3)"}
    assert bars[NAMES[big[0]]] == pytest.approx(contrib[big[0]], rel=1e-9)
    assert bars["other (3)"] == pytest.approx(contrib[big[2:]].sum(), rel=1e-9, abs=1e-12)
    assert disp.ax_.get_title().startswith(f"Row {X.index[row]}:")
    with pytest.raises(ValueError, match="max_features"):
        ContributionDisplay.from_model(net, X, row, max_features=0)
    for bad in (len(X), -1, True):
        with pytest.raises(ValueError, match="row must be a position"):
            CounterfactualDisplay.from_model(net, X, bad)
        with pytest.raises(ValueError, match="row must be a position"):
            ReasonCodeDisplay.from_model(net, X, bad)
