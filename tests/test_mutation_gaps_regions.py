"""Gaps found by mutation testing in glassnet.regions (issue 19): assertions that were missing.

Oracles: a forward pass written out here with NumPy (never the library's own evaluation),
brute-force counting for region coverage, and networks whose regions are known by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import random_network

from glassnet import ReluNetwork, unwrap
from glassnet.regions import PatternLookup


def _numpy_forward(net, X):
    a = np.asarray(X, dtype=np.float64)
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        a = np.maximum(a @ W.T + b, 0.0)
    return a @ net.weights[-1].T + net.biases[-1]


def test_predict_raw_on_a_dataframe_with_reordered_columns(rng):
    names = ["income", "age", "debt"]
    net = random_network(rng, 3, (6, 4), 2).with_feature_names(names)
    X = rng.normal(size=(40, 3))
    reg = unwrap(net, X)
    shuffled = pd.DataFrame(X, columns=names)[["debt", "income", "age"]]
    np.testing.assert_allclose(reg.predict_raw(shuffled), _numpy_forward(net, X), atol=1e-10)
    # taking the columns by position instead of by name would be far off: the test can fail
    assert np.abs(_numpy_forward(net, shuffled.to_numpy()) - _numpy_forward(net, X)).max() > 1e-3
    with pytest.raises(ValueError, match="debt"):
        reg.predict_raw(pd.DataFrame(X[:, :2], columns=["income", "age"]))


def test_assign_and_lookup_on_a_network_without_hidden_layer(rng):
    linear = ReluNetwork([rng.normal(size=(2, 3))], [rng.normal(size=2)])
    X = rng.normal(size=(25, 3))
    reg = unwrap(linear, X)
    # no hidden neuron: the whole input space is one region holding every row
    assert len(reg) == 1 and reg.counts.tolist() == [25]
    np.testing.assert_array_equal(reg.assign(rng.normal(size=(7, 3))), np.zeros(7, dtype=int))
    np.testing.assert_allclose(reg.predict_raw(X), X @ linear.weights[0].T + linear.biases[0],
                               atol=1e-12)
    empty = np.zeros((0, 0), dtype=np.uint8)
    np.testing.assert_array_equal(PatternLookup(empty).lookup(np.zeros((3, 0), np.uint8)),
                                  [-1, -1, -1])
    np.testing.assert_array_equal(PatternLookup(np.zeros((1, 0), np.uint8)).lookup(
        np.zeros((3, 0), np.uint8)), [0, 0, 0])


def test_assign_finds_seen_patterns_and_flags_unseen_ones(rng):
    net = random_network(rng, 2, (8,), 1)
    X = rng.normal(size=(60, 2))
    reg = unwrap(net, X)
    np.testing.assert_array_equal(reg.assign(X), reg.labels)
    far = rng.normal(scale=50.0, size=(200, 2))
    seen = {tuple(p) for p in net.activation_patterns(X)}
    expected = [-1 if tuple(p) not in seen else 0 for p in net.activation_patterns(far)]
    got = reg.assign(far)
    np.testing.assert_array_equal(got == -1, np.array(expected) == -1)
    inside = got >= 0
    np.testing.assert_array_equal(reg.patterns[got[inside]], net.activation_patterns(far)[inside])


@pytest.mark.parametrize("share", [0.0, -0.1, 1.0000001, 2.0, float("nan")])
def test_n_regions_covering_refuses_shares_outside_0_1(rng, share):
    reg = unwrap(random_network(rng, 2, (5,), 1), rng.normal(size=(30, 2)))
    with pytest.raises(ValueError, match=r"share must be in \(0, 1\]"):
        reg.n_regions_covering(share)


def test_n_regions_covering_matches_brute_force(rng):
    net = random_network(rng, 2, (6, 5), 1)
    X = rng.normal(size=(300, 2))
    reg = unwrap(net, X)
    _, counts = np.unique(net.activation_patterns(X), axis=0, return_counts=True)
    counts = np.sort(counts)[::-1]
    for share in (0.01, 0.25, 0.5, 0.9, 0.95, 1.0):
        brute = next(k for k in range(1, len(counts) + 1) if counts[:k].sum() >= share * 300)
        assert reg.n_regions_covering(share) == brute
    assert reg.n_regions_covering(1.0) == len(counts)


def test_per_region_prediction_and_target_moments_match_pandas(rng):
    net = random_network(rng, 2, (6,), 2, "sigmoid")
    X = rng.normal(size=(250, 2))
    y = rng.integers(0, 2, size=(250, 2)).astype(float)
    reg = unwrap(net, X, y)
    P = net.activation_patterns(X)
    prob = 1 / (1 + np.exp(-_numpy_forward(net, X)))
    for r in range(len(reg)):
        rows = (P == reg.patterns[r]).all(axis=1)
        frame = pd.DataFrame(prob[rows])
        np.testing.assert_allclose(reg.pred_mean[r], frame.mean(), rtol=1e-10)
        np.testing.assert_allclose(reg.pred_std[r], frame.std(ddof=0), rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(reg.y_mean[r], y[rows].mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(reg.y_std[r], y[rows].std(axis=0), rtol=1e-6, atol=1e-9)


def test_screened_unwrap_names_the_overflowing_row():
    # float32 screening certifies on the recomputed rows and the representatives; a row
    # whose float64 output overflows (x = 1: 2e307 in hidden layer 2, times 100 at the
    # output) is named by its index in X, also when it is not the first row
    from glassnet._engine import NonFiniteError

    net = ReluNetwork(
        [np.array([[1.0], [-1.0]]), np.array([[2e307, 1.7e308]]), np.array([[100.0]])],
        [np.zeros(2), np.zeros(1), np.zeros(1)],
    )
    for X, row in ((np.array([[0.0], [0.0], [1.0]]), 2), (np.array([[1.0]]), 0)):
        for screen in (False, True):
            with pytest.raises(NonFiniteError, match=rf"row {row} is not finite"):
                unwrap(net, X, screen=screen)


def test_unseen_share_is_stated_only_with_new_rows():
    # no new rows given (n_new defaults to 0): an unseen share alone states nothing
    from glassnet.regions import UNSEEN_SHARE_CAVEAT, fragmentation_text

    assert fragmentation_text(1000, 10, 0.0, unseen_share=0.9) is None
    text = fragmentation_text(1000, 10, 0.0, n_new=50, unseen_share=0.9)
    assert 0.9 >= UNSEEN_SHARE_CAVEAT and "90.0% of the 50 new rows" in text
