"""Tests for glassnet.geometry: H-representations and distance to the region boundary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import random_network

from glassnet import ReluNetwork, boundary_distance, region_halfspaces, unwrap
from glassnet.geometry import neuron_affine_maps_batched


def _small_net(rng, d=2, hidden=(6, 6)):
    return random_network(rng, d, hidden, 1, "sigmoid")


def _facets_by_vertices(G, h, tol=1e-9):
    """Facets of a bounded 2-D polygon, found independently by enumerating its vertices."""
    verts = []
    for i, j in itertools.combinations(range(G.shape[0]), 2):
        M = G[[i, j]]
        if abs(np.linalg.det(M)) < 1e-12:
            continue
        v = np.linalg.solve(M, h[[i, j]])
        if (G @ v <= h + tol).all():
            verts.append(v)
    verts = np.unique(np.round(np.array(verts), 9), axis=0)
    on = np.abs(verts @ G.T - h) <= 1e-7  # (vertices, rows)
    return {i for i in range(G.shape[0]) if on[:, i].sum() >= 2}


def test_batched_affine_maps_match_single(rng):
    net = random_network(rng, 3, (5, 4, 6), 2)
    P = net.activation_patterns(rng.normal(size=(20, 3)))
    A, c = neuron_affine_maps_batched(net, P)
    for r in range(20):
        A1, c1 = net.neuron_affine_maps(P[r])
        np.testing.assert_allclose(A[r], A1, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(c[r], c1, rtol=1e-13, atol=1e-13)


def test_halfspaces_select_exactly_the_region_rows(rng):
    net = _small_net(rng)
    X = rng.uniform(-3, 3, size=(10_000, 2))
    reg = unwrap(net, X)
    for r in range(min(5, len(reg))):
        rows = reg.labels == r
        A, c = region_halfspaces(reg, r)
        assert np.allclose(np.linalg.norm(A, axis=1), 1.0)
        # every row of the region satisfies them, and nothing else does
        inside = (X @ A.T <= c + 1e-12).all(axis=1)
        np.testing.assert_array_equal(inside, rows)
        Afull, cfull = region_halfspaces(reg, r, remove_redundant=False)
        assert Afull.shape[0] >= A.shape[0]
        np.testing.assert_array_equal((X @ Afull.T <= cfull + 1e-12).all(axis=1), rows)


def test_points_just_outside_a_facet_violate_it_and_leave_the_region(rng):
    from scipy.optimize import linprog

    net = _small_net(rng)
    X = rng.uniform(-3, 3, size=(3000, 2))
    reg = unwrap(net, X)
    pattern = reg.patterns[0]
    A, c, src = region_halfspaces(net, pattern, bounds=(-50, 50), return_source=True)
    H = net.n_hidden
    for i in range(A.shape[0]):
        # a point in the relative interior of facet i: on its hyperplane, with the largest
        # slack t on every other row; t > 0 also shows that the facet is not redundant
        others = np.delete(np.arange(A.shape[0]), i)
        res = linprog(np.r_[0.0, 0.0, -1.0],
                      A_ub=np.column_stack([A[others], np.ones(others.size)]), b_ub=c[others],
                      A_eq=np.r_[A[i], 0.0][None], b_eq=[c[i]],
                      bounds=[(None, None)] * 2 + [(None, 1.0)], method="highs")
        assert res.status == 0 and res.x[2] > 1e-7
        on_facet = res.x[:2]
        step = 1e-3 * min(1.0, res.x[2])
        inside, outside = on_facet - step * A[i], on_facet + step * A[i]
        assert (A @ inside < c).all()
        viol = A @ outside > c
        assert viol[i] and viol.sum() == 1
        if src[i] < H:  # a neuron's facet: crossing it flips exactly that neuron
            p_in = net.activation_patterns(inside[None])[0]
            p_out = net.activation_patterns(outside[None])[0]
            np.testing.assert_array_equal(p_in, pattern)
            assert p_out[src[i]] != pattern[src[i]]


def test_non_redundant_rows_equal_polygon_edges(rng):
    for seed in range(4):
        net = _small_net(np.random.default_rng(seed), hidden=(8, 8))
        X = np.random.default_rng(seed).uniform(-2, 2, size=(500, 2))
        reg = unwrap(net, X)
        for r in range(min(3, len(reg))):
            G, h, src = region_halfspaces(reg, r, bounds=(-2, 2), remove_redundant=False,
                                          return_source=True)
            _, _, kept = region_halfspaces(reg, r, bounds=(-2, 2), return_source=True)
            expected = {int(src[i]) for i in _facets_by_vertices(G, h)}
            assert set(kept.tolist()) == expected


def test_halfspace_inputs_pattern_point_index_agree(rng):
    net = _small_net(rng)
    X = rng.normal(size=(200, 2))
    reg = unwrap(net, X)
    by_index = region_halfspaces(reg, 1)
    by_point = region_halfspaces(net, X[reg.labels == 1][0])
    by_pattern = region_halfspaces(net, reg.patterns[1])
    by_01 = region_halfspaces(net, reg.patterns[1].astype(int))
    for other in (by_point, by_pattern, by_01):
        np.testing.assert_allclose(other[0], by_index[0])
        np.testing.assert_allclose(other[1], by_index[1])


def test_box_bounds_rows_and_sources():
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    A, c, src = region_halfspaces(net, np.array([1.0, 1.0]), bounds=([-1, -2], [3, 4]),
                                  return_source=True)
    # x0 > 0, x1 > 0 with x0 <= 3, x1 <= 4: four facets; the lower bounds are redundant
    assert sorted(src.tolist()) == [0, 1, 2, 3]
    order = np.argsort(src)
    np.testing.assert_allclose(A[order], [[-1, 0], [0, -1], [1, 0], [0, 1]])
    np.testing.assert_allclose(c[order], [0, 0, 3, 4])


def test_halfspaces_bad_input(rng):
    net = _small_net(rng)
    with pytest.raises(ValueError, match="shape"):
        region_halfspaces(net, np.zeros(5))
    with pytest.raises(ValueError, match="shape"):
        region_halfspaces(net, np.zeros(5, dtype=bool))
    with pytest.raises(TypeError, match="Regions"):
        region_halfspaces(net, 0)
    with pytest.raises(ValueError, match="bounds"):
        region_halfspaces(net, np.zeros(2), bounds=(1, 0))
    # layer 2 neuron reads only layer-1 neurons; with both off it is constantly -1 < 0,
    # so "on" is impossible
    bad = ReluNetwork([np.eye(2), np.ones((1, 2)), np.ones((1, 1))],
                      [np.zeros(2), -np.ones(1), np.zeros(1)])
    with pytest.raises(ValueError, match="not realisable"):
        region_halfspaces(bad, np.array([False, False, True]))
    # both first-layer neurons on and off at once cannot hold: empty region
    twin = ReluNetwork([np.array([[1.0, 0.0], [-1.0, 0.0]]), np.ones((1, 2))],
                       [np.array([0.0, -1.0]), np.zeros(1)])
    with pytest.raises(ValueError, match="empty|interior"):
        region_halfspaces(twin, np.array([True, True]))


# ---------------------------------------------------------------------- boundary distance
def _line_search_distance(net, x, n_dirs=720, reach=1.0, steps=400):
    """Brute force: along many directions, the first t at which the pattern changes."""
    p0 = net.activation_patterns(x[None])[0]
    ang = np.linspace(0, 2 * np.pi, n_dirs, endpoint=False)
    U = np.column_stack([np.cos(ang), np.sin(ang)])
    ts = np.linspace(0, reach, steps + 1)[1:]
    pts = x + ts[None, :, None] * U[:, None, :]
    changed = (net.activation_patterns(pts.reshape(-1, 2)) != p0).any(axis=1)
    changed = changed.reshape(n_dirs, steps)
    hit = np.flatnonzero(changed.any(axis=1))
    if hit.size == 0:
        return np.inf
    j = changed[hit].argmax(axis=1)
    lo, hi = np.where(j > 0, ts[j - 1], 0.0), ts[j]
    for _ in range(60):  # bisection on every direction at once
        mid = 0.5 * (lo + hi)
        moved = (net.activation_patterns(x + mid[:, None] * U[hit]) != p0).any(axis=1)
        hi = np.where(moved, mid, hi)
        lo = np.where(moved, lo, mid)
    return float(hi.min())


def test_boundary_distance_matches_brute_force_line_search(rng):
    net = _small_net(rng, hidden=(5, 5))
    X = rng.uniform(-2, 2, size=(8, 2))
    dist = boundary_distance(net, X)
    assert (dist > 0).all()
    for x, d in zip(X, dist, strict=True):
        brute = _line_search_distance(net, x, reach=1.5 * d)
        assert d <= brute + 1e-9
        assert brute <= d * (1 + 2e-4) + 1e-9


def test_boundary_distance_equals_min_over_lp_facets(rng):
    net = _small_net(rng, d=3, hidden=(6, 5))
    X = rng.normal(size=(300, 3))
    reg = unwrap(net, X)
    dist, neuron = boundary_distance(reg, X, return_neuron=True)
    for r in range(min(6, len(reg))):
        A, c, src = region_halfspaces(reg, r, return_source=True)
        rows = np.flatnonzero(reg.labels == r)
        slack = c[None, :] - X[rows] @ A.T
        np.testing.assert_allclose(dist[rows], slack.min(axis=1), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(neuron[rows], src[slack.argmin(axis=1)])
    np.testing.assert_array_equal(boundary_distance(net, X, chunk_size=7), dist)


def test_boundary_distance_moving_past_it_flips_the_nearest_neuron(rng):
    net = _small_net(rng)
    X = rng.normal(size=(50, 2))
    dist, neuron = boundary_distance(net, X, return_neuron=True)
    P = net.activation_patterns(X)
    z = np.concatenate(net.pre_activations(X), axis=1)
    for i in range(50):
        A, _ = net.neuron_affine_maps(P[i])
        a = A[neuron[i]]
        u = -np.sign(z[i, neuron[i]]) * a / np.linalg.norm(a)
        inside = net.activation_patterns((X[i] + 0.999 * dist[i] * u)[None])[0]
        outside = net.activation_patterns((X[i] + 1.001 * dist[i] * u)[None])[0]
        np.testing.assert_array_equal(inside, P[i])
        assert outside[neuron[i]] != P[i, neuron[i]]


def test_boundary_distance_edge_cases():
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    np.testing.assert_allclose(boundary_distance(net, [[0.0, 3.0], [-2.0, 5.0]]), [0.0, 2.0])
    linear = ReluNetwork([np.ones((1, 2))], [np.zeros(1)])
    d, j = boundary_distance(linear, [[1.0, 2.0]], return_neuron=True)
    assert np.isinf(d).all() and (j == -1).all()
    with pytest.raises(ValueError, match="features"):
        boundary_distance(net, np.zeros((2, 3)))
