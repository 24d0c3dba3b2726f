"""Gaps found by mutation testing in glassnet.geometry (issue 19): assertions that were missing.

Oracles: hand-built networks whose regions are known in closed form, and brute-force sampling.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network

from glassnet import ReluNetwork, region_halfspaces, unwrap


def test_region_index_out_of_range_is_a_value_error_both_ends(rng):
    net = random_network(rng, 2, (6,), 1, "sigmoid")
    X = rng.normal(size=(100, 2))
    reg = unwrap(net, X)
    n = len(reg)
    # -1 must not silently mean "the last region"; len must not leak an IndexError
    for bad in (-1, n, n + 3):
        with pytest.raises(ValueError, match=rf"region must be in 0\.\.{n - 1}"):
            region_halfspaces(reg, bad)
    # the last valid index works and its half-spaces contain that region's points (brute force)
    A, c = region_halfspaces(reg, n - 1, remove_redundant=False)
    pts = X[(net.activation_patterns(X) == reg.patterns[n - 1]).all(axis=1)]
    assert len(pts) > 0 and (pts @ A.T <= c + 1e-9).all()


def test_an_on_neuron_that_is_identically_zero_is_not_realisable():
    # neuron 2 (second layer) has zero weights and zero bias: its pre-activation is exactly 0,
    # which counts as "off"; a pattern claiming it "on" describes an empty region
    net = ReluNetwork([np.eye(2), np.zeros((1, 2)), np.ones((1, 1))],
                      [np.zeros(2), np.zeros(1), np.zeros(1)])
    with pytest.raises(ValueError, match="neuron 2 is constant"):
        region_halfspaces(net, np.array([True, True, True]))
    # the same region with that neuron off is the positive quadrant: x0 > 0, x1 > 0
    A, c = region_halfspaces(net, np.array([True, True, False]))
    assert sorted(map(tuple, np.round(A, 12).tolist())) == [(-1.0, 0.0), (0.0, -1.0)]
    np.testing.assert_allclose(c, [0.0, 0.0])


def test_a_degenerate_box_leaves_no_interior():
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    # lower == upper on feature 0: the box is a segment, the region intersected with it is flat
    with pytest.raises(ValueError, match="no interior"):
        region_halfspaces(net, np.array([1.0, 1.0]), bounds=([0.5, 0.0], [0.5, 2.0]))
    # without redundancy removal the rows are still returned: both bounds of feature 0
    A, c, src = region_halfspaces(net, np.array([1.0, 1.0]), bounds=([0.5, 0.0], [0.5, 2.0]),
                                  remove_redundant=False, return_source=True)
    rows = {int(s): (A[i], c[i]) for i, s in enumerate(src)}
    np.testing.assert_allclose(rows[2][0], [1.0, 0.0])  # x0 <= 0.5
    np.testing.assert_allclose(rows[2][1], 0.5)
    np.testing.assert_allclose(rows[4][0], [-1.0, 0.0])  # -x0 <= -0.5
    np.testing.assert_allclose(rows[4][1], -0.5)


@pytest.mark.parametrize("tol", [0.0, -1e-3, float("nan")])
def test_non_positive_tolerance_is_refused(tol):
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match="tol must be positive"):
        region_halfspaces(net, np.array([1.0, 1.0]), tol=tol)


def test_a_region_without_constraints_is_the_whole_space():
    # the only hidden neuron has zero weights and bias 1: on everywhere, so the region of
    # "on" has no half-space at all
    net = ReluNetwork([np.zeros((1, 2)), np.ones((1, 1))], [np.ones(1), np.zeros(1)])
    A, c = region_halfspaces(net, np.array([True]))
    assert A.shape == (0, 2) and c.shape == (0,)


def test_duplicated_neurons_give_one_facet():
    # two identical first-layer neurons x0 > 0: the same hyperplane twice, kept once
    net = ReluNetwork([np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), np.ones((1, 3))],
                      [np.zeros(3), np.zeros(1)])
    A, c, src = region_halfspaces(net, np.array([2.0, 3.0]), return_source=True)
    assert sorted(map(tuple, np.round(A, 12).tolist())) == [(-1.0, 0.0), (0.0, -1.0)]
    np.testing.assert_allclose(c, [0.0, 0.0])
    assert len(set(src.tolist()) & {0, 1}) == 1 and 2 in src


@pytest.mark.parametrize("bad", [-1, 2.5, True, "10"])
def test_boundary_distance_refuses_a_bad_chunk_size(rng, bad):
    from glassnet import boundary_distance

    net = random_network(rng, 2, (4,), 1)
    with pytest.raises(ValueError, match="chunk_size must be a positive integer or None"):
        boundary_distance(net, rng.normal(size=(3, 2)), chunk_size=bad)
