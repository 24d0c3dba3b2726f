"""partition_2d / Partition2D / PartitionDisplay: exact tiling, patterns, LLMs, degenerate
cuts, planes, decision boundaries, errors and the display."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import random_network  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from glassnet import ReluNetwork  # noqa: E402
from glassnet.partition import Partition2D, PartitionDisplay, partition_2d  # noqa: E402

BOX = ((-1.0, 1.0), (-1.0, 1.0))


# ---------------------------------------------------------------------- helpers
def _box_area(bounds) -> float:
    b = np.asarray(bounds, dtype=float)
    return float(np.prod(b[:, 1] - b[:, 0]))


def _containing(part: Partition2D, pts: np.ndarray) -> np.ndarray:
    """(n_points, R) bool: which polygons contain each point, by matplotlib's own test."""
    return np.stack([Path(v).contains_points(pts) for v in part.vertices], axis=1)


def _random_inside(rng, bounds, n) -> np.ndarray:
    b = np.asarray(bounds, dtype=float)
    return rng.uniform(b[:, 0], b[:, 1], size=(n, 2))


def _grid(bounds, n) -> np.ndarray:
    b = np.asarray(bounds, dtype=float)
    # Offsets keep the grid off the box edges and off "round" coordinates.
    a = np.linspace(b[0, 0], b[0, 1], n + 2)[1:-1] + 1e-7
    c = np.linspace(b[1, 0], b[1, 1], n + 2)[1:-1] - 3e-7
    A, C = np.meshgrid(a, c)
    return np.column_stack([A.ravel(), C.ravel()])


def _pattern_set(P: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in np.packbits(P, axis=1)}


def _check_tiling(part: Partition2D, rng, n_points=1500) -> None:
    """Areas add up, polygons are convex CCW, random points lie in exactly one polygon and
    that polygon's pattern is the network's pattern at the point."""
    box = _box_area(part.bounds)
    assert abs(part.areas.sum() - box) <= 1e-9 * box
    assert (part.areas > 0).all()
    for v in part.vertices:
        e = np.roll(v, -1, axis=0) - v
        cross = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
        assert (cross >= -1e-12 * box).all(), "polygon not convex counter-clockwise"
    pts = _random_inside(rng, part.bounds, n_points)
    inside = _containing(part, pts)
    assert (inside.sum(axis=1) == 1).all(), "a point lies in zero or several polygons"
    where = inside.argmax(axis=1)
    pats = part.network.activation_patterns(part.to_input(pts))
    np.testing.assert_array_equal(part.patterns[where], pats)


def _centered(net: ReluNetwork) -> ReluNetwork:
    """The same net with output biases shifted so each output's median over the box is 0
    (so the decision boundary crosses the box)."""
    med = np.median(net.forward(_grid(BOX, 40)), axis=0)
    return ReluNetwork(net.weights, [*net.biases[:-1], net.biases[-1] - med], output=net.output)


def _seed_net(output="sigmoid") -> ReluNetwork:
    """The two-hidden-layer example of the first seed document."""
    W0 = np.array([[-1.0, 1.0], [1.0, 1.0]]) / np.sqrt(2)
    W1 = np.array([[1, 1 / 4], [1 / 2, 1 / 3], [1 / 3, 1 / 2], [1 / 4, 1]])
    b1 = -0.3 * np.ones(4)
    return ReluNetwork([W0, W1, np.ones((1, 4))], [np.zeros(2), b1, np.zeros(1)], output=output)


# ---------------------------------------------------------------------- acceptance
def test_seed_example_count_by_hand(rng):
    """The seed's net on [-1, 1]^2, counted by hand.

    Layer 1 cuts the box along y = x and y = -x into four quadrants of p = (y - x)/sqrt2,
    q = (x + y)/sqrt2. Layer 2 neurons are a_i relu(p) + c_i relu(q) - 0.3 with
    (a_i, c_i) = (1, 1/4), (1/2, 1/3), (1/3, 1/2), (1/4, 1):
      * p <= 0, q <= 0: all equal -0.3, off: 1 region;
      * p > 0, q <= 0: lines p = 0.3/a_i = 0.3, 0.6, 0.9, 1.2, all below max p = sqrt2:
        5 regions; symmetrically q > 0, p <= 0: 5 regions;
      * p > 0, q > 0 (triangle p + q <= sqrt2): four lines, every pair meeting inside at six
        distinct points, none three concurrent: 1 + 4 + 6 = 11 regions.
    Total 22.
    """
    part = partition_2d(_seed_net(), BOX)
    assert len(part) == 22
    assert len(_pattern_set(part.patterns)) == 22
    # Regions with both first-layer neurons off: one; each single-on quadrant: five.
    first = part.patterns[:, :2]
    assert (~first.any(axis=1)).sum() == 1
    assert (first[:, 0] & ~first[:, 1]).sum() == 5
    assert (~first[:, 0] & first[:, 1]).sum() == 5
    assert (first.all(axis=1)).sum() == 11
    _check_tiling(part, rng)


@pytest.mark.parametrize(
    ("hidden", "output", "k"),
    [((8,), "identity", 1), ((12, 12), "sigmoid", 1), ((10, 10, 10), "softmax", 3),
     ((16, 8, 8, 4), "identity", 2)],
)
def test_random_networks_tile_the_box(rng, hidden, output, k):
    net = random_network(rng, 2, hidden, k, output=output)
    bounds = ((-2.0, 1.5), (-1.0, 2.5))
    part = partition_2d(net, bounds)
    _check_tiling(part, rng)
    assert len(_pattern_set(part.patterns)) == len(part), "two polygons share a pattern"


def test_every_grid_pattern_is_a_region(rng):
    net = random_network(rng, 2, (20, 20, 20), 1)
    part = partition_2d(net, BOX)
    grid = _grid(BOX, 250)
    seen = _pattern_set(net.activation_patterns(grid))
    assert seen <= _pattern_set(part.patterns)
    # The grid misses regions: the exact partition finds strictly more.
    assert len(part) > len(seen)


def test_llm_reproduces_network_at_centroids(rng):
    net = random_network(rng, 2, (15, 15), 2, output="sigmoid")
    part = partition_2d(net, BOX)
    c = part.centroids
    eta = net.forward(c)
    np.testing.assert_allclose(np.einsum("rkd,rd->rk", part.coef, c) + part.intercept, eta,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        np.einsum("rkd,rd->rk", part.plane_coef, c) + part.plane_intercept, eta,
        rtol=0, atol=1e-10,
    )
    # The per-polygon composed maps agree with the network's own LLM chain.
    coef, intercept = net.local_linear_models(part.patterns)
    np.testing.assert_allclose(part.coef, coef, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(part.intercept, intercept, rtol=1e-10, atol=1e-12)
    # The centroid is interior: its pattern is its region's.
    np.testing.assert_array_equal(net.activation_patterns(c), part.patterns)
    # The LLM also holds at the vertices of its polygon (closed region, continuity).
    for r in rng.choice(len(part), size=20, replace=False):
        v = part.vertices[r]
        np.testing.assert_allclose(v @ part.coef[r].T + part.intercept[r], net.forward(v),
                                   atol=1e-9)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    hidden=st.lists(st.integers(1, 9), min_size=1, max_size=3),
)
def test_property_tiling_and_grid(seed, hidden):
    rng = np.random.default_rng(seed)
    net = random_network(rng, 2, tuple(hidden), 1)
    part = partition_2d(net, BOX)
    box = 4.0
    assert abs(part.areas.sum() - box) <= 1e-9 * box
    assert _pattern_set(net.activation_patterns(_grid(BOX, 60))) <= _pattern_set(part.patterns)
    inside = _containing(part, _random_inside(rng, BOX, 300))
    assert (inside.sum(axis=1) == 1).all()


# ---------------------------------------------------------------------- degenerate nets
def test_identical_neurons_give_no_slivers(rng):
    base = random_network(rng, 2, (6, 5), 1)
    W0, W1, W2 = base.weights
    b0, b1, b2 = base.biases
    # Duplicate first-layer neuron 0 and second-layer neuron 1 (their twins get weight 0).
    W0d = np.vstack([W0, W0[:1]])
    b0d = np.append(b0, b0[0])
    W1d = np.vstack([np.hstack([W1, np.zeros((5, 1))]), np.append(W1[1], 0.0)])
    b1d = np.append(b1, b1[1])
    W2d = np.hstack([W2, np.zeros((1, 1))])
    twin = ReluNetwork([W0d, W1d, W2d], [b0d, b1d, b2])
    p_base, p_twin = partition_2d(base, BOX), partition_2d(twin, BOX)
    assert len(p_twin) == len(p_base)
    assert p_twin.areas.min() > 1e-9
    np.testing.assert_allclose(np.sort(p_twin.areas), np.sort(p_base.areas), atol=1e-12)
    # The twins always agree.
    np.testing.assert_array_equal(p_twin.patterns[:, 6], p_twin.patterns[:, 0])
    np.testing.assert_array_equal(p_twin.patterns[:, 7 + 5], p_twin.patterns[:, 7 + 1])
    _check_tiling(p_twin, rng)


def test_lines_through_corners_and_along_edges():
    # x + y = 2 touches only the corner (1, 1); y = x is the diagonal through two corners;
    # x = 1 runs along the right edge; x = -1 along the left one.
    W0 = np.array([[1.0, 1.0], [1.0, -1.0], [1.0, 0.0], [-1.0, 0.0]])
    b0 = np.array([-2.0, 0.0, -1.0, -1.0])
    net = ReluNetwork([W0, np.ones((1, 4))], [b0, np.zeros(1)])
    part = partition_2d(net, BOX)
    assert len(part) == 2
    np.testing.assert_allclose(part.areas, [2.0, 2.0], rtol=1e-12)
    assert sorted(len(v) for v in part.vertices) == [3, 3]


def test_concurrent_lines_meet_in_one_point(rng):
    # Three lines through the origin, then a second layer whose lines also pass through it.
    W0 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, -2.0]])
    W1 = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 1.0, -1.0, 0.5]])
    net = ReluNetwork([W0, W1, np.ones((1, 2))], [np.zeros(4), np.zeros(2), np.zeros(1)])
    part = partition_2d(net, BOX)
    # Every region is a cone from the origin cut by the box: no tiny polygon anywhere.
    assert part.areas.min() > 1e-3
    # Four lines through one point make 8 sectors; each second-layer neuron is linear on a
    # sector, zero at the origin, so it cuts a sector along a ray from the origin at most.
    assert 8 <= len(part) <= 8 + 2 * 8
    _check_tiling(part, rng)


@pytest.mark.parametrize("point", [(0.1, 0.3), (-0.37, 0.61), (0.123456789, -0.987654321)])
def test_three_lines_through_an_inexact_point(point, rng):
    """Three lines through one point whose coordinates are not exact in binary: the second
    cut leaves a vertex a rounding error away from the third line, which must not split it
    into a sliver (without the tolerance it does, for the first point)."""
    c = np.array(point)
    A = np.array([[1.0, 0.3], [0.7, -1.1], [0.2, 1.9]])
    net = ReluNetwork([A, np.ones((1, 3))], [-A @ c, np.zeros(1)])
    part = partition_2d(net, BOX)
    assert len(part) == 6
    assert part.areas.min() > 1e-5  # one wedge is small near the box edge, not a sliver
    _check_tiling(part, rng, n_points=300)


def test_line_through_an_inexact_box_corner():
    bounds = ((-0.7, 0.3), (-0.1, 0.9))
    corner = np.array([0.3, 0.9])
    w = np.array([[0.53, 0.37], [0.61, -0.29]])
    net = ReluNetwork([w, np.ones((1, 2))], [-w @ corner, np.zeros(1)])
    part = partition_2d(net, bounds)
    # Both lines pass through the corner (0.3, 0.9); the first leaves the box there, the
    # second cuts the box into two pieces.
    assert len(part) == 2
    assert part.areas.min() > 1e-2


def test_zero_weights_layers():
    rng = np.random.default_rng(3)
    net1 = random_network(rng, 2, (7,), 1)
    # A second hidden layer with zero weights and zero bias: all off, no cuts.
    net2 = ReluNetwork(
        [net1.weights[0], np.zeros((5, 7)), np.ones((1, 5))],
        [net1.biases[0], np.zeros(5), np.zeros(1)],
    )
    p1, p2 = partition_2d(net1, BOX), partition_2d(net2, BOX)
    assert len(p2) == len(p1)
    assert not p2.patterns[:, 7:].any()
    # All weights zero: one region, the box.
    z = ReluNetwork([np.zeros((4, 2)), np.zeros((1, 4))], [np.zeros(4), np.zeros(1)])
    pz = partition_2d(z, BOX)
    assert len(pz) == 1 and pz.areas[0] == pytest.approx(4.0)


def test_linear_network_is_one_region():
    net = ReluNetwork([np.array([[2.0, -1.0]])], [np.array([0.5])], output="sigmoid")
    part = partition_2d(net, BOX)
    assert len(part) == 1
    assert part.patterns.shape == (1, 0)
    np.testing.assert_allclose(part.coef[0], [[2.0, -1.0]])
    sliced = partition_2d(
        ReluNetwork([np.array([[2.0, -1.0, 3.0]])], [np.array([0.5])]), BOX,
        plane=(np.array([0.0, 0.0, 1.0]), [1.0, 0, 0], [0, 1.0, 0]), threshold=0.0,
    )
    assert len(sliced) == 1
    np.testing.assert_allclose(sliced.plane_intercept, [[3.5]])
    # Its decision line 2x - y + 0.5 = 0 crosses the box once.
    assert len(part.decision_segments) == 1


def test_box_far_from_origin(rng):
    net = random_network(rng, 2, (10, 10), 1)
    bounds = ((100.0, 100.5), (-3.0, -2.2))
    net = ReluNetwork(
        [net.weights[0], *net.weights[1:]],
        [net.biases[0] - net.weights[0] @ np.array([100.2, -2.6]), *net.biases[1:]],
    )
    part = partition_2d(net, bounds)
    assert len(part) > 5
    _check_tiling(part, rng)


# ---------------------------------------------------------------------- planes
def test_plane_slice_matches_composed_network(rng):
    net = random_network(rng, 4, (12, 10), 1, output="sigmoid")
    origin = rng.normal(size=4)
    u, v = rng.normal(size=4), rng.normal(size=4)
    part = partition_2d(net, BOX, plane=(origin, u, v))
    U = np.column_stack([u, v])
    composed = ReluNetwork(
        [net.weights[0] @ U, *net.weights[1:]],
        [net.weights[0] @ origin + net.biases[0], *net.biases[1:]],
    )
    ref = partition_2d(composed, BOX)
    assert len(part) == len(ref)
    assert _pattern_set(part.patterns) == _pattern_set(ref.patterns)
    _check_tiling(part, rng)
    # The input-space LLM is in 4-D and agrees with the network on the slice.
    pts = _random_inside(rng, BOX, 200)
    X = part.to_input(pts)
    r = part.locate(pts)
    np.testing.assert_allclose(np.einsum("nkd,nd->nk", part.coef[r], X) + part.intercept[r],
                               net.forward(X), atol=1e-10)
    np.testing.assert_allclose(part.plane_coef, part.coef @ U, atol=1e-12)


def test_identity_plane_on_2d_net_equals_plain(rng):
    net = random_network(rng, 2, (9, 9), 1)
    a = partition_2d(net, BOX)
    b = partition_2d(net, BOX, plane=(np.zeros(2), [1.0, 0.0], [0.0, 1.0]))
    assert len(a) == len(b)
    assert _pattern_set(a.patterns) == _pattern_set(b.patterns)


# ---------------------------------------------------------------------- decision boundary
def _grid_crossings(net, bounds, n, f):
    """Short horizontal grid edges across which the decision label f(eta) changes."""
    g = _grid(bounds, n).reshape(n, n, 2)
    val = f(net.forward(g.reshape(-1, 2))).reshape(n, n)
    i, j = np.nonzero(val[:, :-1] != val[:, 1:])
    return g[i, j], g[i, j + 1]


def _segments_cross(p0, p1, segs):
    """For each short edge p0-p1, whether any segment crosses it."""
    def orient(a, b, c):
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (
            b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])
    a, b = p0[:, None], p1[:, None]
    c, d = segs[None, :, 0], segs[None, :, 1]
    o1, o2 = orient(a, b, c), orient(a, b, d)
    o3, o4 = orient(c, d, a), orient(c, d, b)
    return ((o1 * o2 <= 0) & (o3 * o4 <= 0)).any(axis=1)


def test_sigmoid_boundary_is_where_probability_is_half(rng):
    net = _centered(random_network(rng, 2, (12, 12), 1, output="sigmoid"))
    part = partition_2d(net, BOX)
    segs = part.decision_segments
    assert len(segs) > 0
    ends = segs.reshape(-1, 2)
    np.testing.assert_allclose(net.forward(ends)[:, 0], 0.0, atol=1e-9)
    mids = segs.mean(axis=1)
    np.testing.assert_allclose(net.predict_output(mids)[:, 0], 0.5, atol=1e-9)
    # Each segment's midpoint lies in (the closure of) its region's polygon.
    for s, r in zip(mids, part.decision_regions, strict=True):
        assert Path(part.vertices[r]).contains_point(s, radius=1e-9) or Path(
            part.vertices[r]).contains_point(s, radius=-1e-9)
    # Every sign change of the output on a grid is crossed by some segment.
    p0, p1 = _grid_crossings(net, BOX, 120, lambda e: e[:, 0] > 0)
    assert p0.shape[0] > 0
    assert _segments_cross(p0, p1, segs).all()
    # A different threshold moves the boundary.
    level = float(np.quantile(net.predict_output(_grid(BOX, 30))[:, 0], 0.7))
    moved = partition_2d(net, BOX, threshold=level)
    assert len(moved.decision_segments) > 0
    np.testing.assert_allclose(
        net.predict_output(moved.decision_segments.mean(axis=1))[:, 0], level, atol=1e-9
    )


def test_softmax_boundary_is_where_top_classes_tie(rng):
    net = _centered(random_network(rng, 2, (12, 12), 3, output="softmax"))
    part = partition_2d(net, BOX)
    segs = part.decision_segments
    assert len(segs) > 0
    mids = segs.mean(axis=1)
    eta = net.forward(mids)
    i, j = part.decision_outputs[:, 0], part.decision_outputs[:, 1]
    rows = np.arange(len(mids))
    np.testing.assert_allclose(eta[rows, i], eta[rows, j], atol=1e-9)
    assert (eta[rows, i] >= eta.max(axis=1) - 1e-9).all()
    # Every change of the predicted class along a grid row is crossed by some segment.
    p0, p1 = _grid_crossings(net, BOX, 100, lambda e: e.argmax(axis=1))
    assert p0.shape[0] > 0
    assert _segments_cross(p0, p1, segs).all()


def test_identity_output_boundary_only_with_threshold(rng):
    net = random_network(rng, 2, (10,), 1)
    assert len(partition_2d(net, BOX).decision_segments) == 0
    level = float(np.median(net.forward(_grid(BOX, 20))))
    part = partition_2d(net, BOX, threshold=level)
    assert len(part.decision_segments) > 0
    np.testing.assert_allclose(net.forward(part.decision_segments.reshape(-1, 2))[:, 0], level,
                               atol=1e-9)
    with pytest.raises(ValueError, match="threshold"):
        partition_2d(net, BOX).llm_segments()


def test_llm_segments_follow_each_region_model(rng):
    net = _centered(random_network(rng, 2, (10, 10), 1, output="sigmoid"))
    part = partition_2d(net, BOX)
    segs, reg = part.llm_segments()
    assert len(segs) > 0
    vals = np.einsum("skj,snj->snk", part.plane_coef[reg], segs) + part.plane_intercept[reg][
        :, None]
    np.testing.assert_allclose(vals, 0.0, atol=1e-9)
    assert (segs >= -1 - 1e-12).all() and (segs <= 1 + 1e-12).all()
    one, r1 = part.llm_segments([reg[0]])
    np.testing.assert_allclose(one[0], segs[0])
    with pytest.raises(ValueError, match="indices"):
        part.llm_segments([len(part)])


# ---------------------------------------------------------------------- other API
def test_locate_agrees_with_point_in_polygon(rng):
    net = random_network(rng, 2, (10, 10), 1)
    part = partition_2d(net, BOX)
    pts = _random_inside(rng, BOX, 500)
    r = part.locate(pts)
    np.testing.assert_array_equal(r, _containing(part, pts).argmax(axis=1))
    assert (part.locate(np.array([[2.0, 0.0], [0.0, -1.5]])) == -1).all()
    # A vertex (on several boundaries) is still assigned to a polygon that holds it.
    v = part.vertices[0][:1]
    r0 = part.locate(v)[0]
    assert r0 >= 0
    assert Path(part.vertices[r0]).contains_point(v[0], radius=1e-9) or Path(
        part.vertices[r0]).contains_point(v[0], radius=-1e-9)


def test_to_frame_and_repr(rng):
    net = random_network(rng, 2, (8,), 2, output="softmax")
    part = partition_2d(net, BOX)
    df = part.to_frame()
    assert len(df) == len(part)
    assert df["share"].sum() == pytest.approx(1.0, rel=1e-12)
    np.testing.assert_allclose(df[["output_0", "output_1"]].sum(axis=1), 1.0)
    np.testing.assert_allclose(df["n_on"], part.patterns.sum(axis=1))
    assert f"{len(part)} regions" in repr(part)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_accepts_sklearn_mlp():
    from sklearn.datasets import make_circles
    from sklearn.neural_network import MLPClassifier

    X, y = make_circles(200, noise=0.1, factor=0.5, random_state=0)
    mlp = MLPClassifier((6, 6), max_iter=50, random_state=0).fit(X, y)
    part = partition_2d(mlp, ((-1.5, 1.5), (-1.5, 1.5)))
    assert part.network.output == "sigmoid"
    assert abs(part.areas.sum() - 9.0) < 1e-9 * 9.0
    np.testing.assert_allclose(part.network.predict_output(part.centroids)[:, 0],
                               mlp.predict_proba(part.centroids)[:, 1], atol=1e-10)


# ---------------------------------------------------------------------- errors
def test_bad_inputs(rng):
    net3 = random_network(rng, 3, (4,), 1)
    net2 = random_network(rng, 2, (4,), 1, output="sigmoid")
    with pytest.raises(ValueError, match="plane"):
        partition_2d(net3, BOX)
    for bounds in [((0, 0), (0, 1)), ((1, 0), (0, 1)), ((0, 1), (2, -2))]:
        with pytest.raises(ValueError, match="empty or inverted"):
            partition_2d(net2, bounds)
    with pytest.raises(ValueError, match="shape"):
        partition_2d(net2, (0, 1, 0, 1))
    with pytest.raises(ValueError, match="finite"):
        partition_2d(net2, ((0, np.nan), (0, 1)))
    with pytest.raises(ValueError, match="parallel"):
        partition_2d(net3, BOX, plane=(np.zeros(3), [1.0, 2, 3], [-2.0, -4, -6]))
    with pytest.raises(ValueError, match="non-zero"):
        partition_2d(net3, BOX, plane=(np.zeros(3), [0.0, 0, 0], [1.0, 0, 0]))
    with pytest.raises(ValueError, match="shape"):
        partition_2d(net3, BOX, plane=(np.zeros(2), [1.0, 0], [0.0, 1]))
    with pytest.raises(TypeError, match="origin, u, v"):
        partition_2d(net3, BOX, plane=np.eye(3))
    with pytest.raises(TypeError):
        partition_2d("not a network", BOX)
    with pytest.raises(ValueError, match="tol"):
        partition_2d(net2, BOX, tol=-1.0)
    with pytest.raises(ValueError, match="probability"):
        partition_2d(net2, BOX, threshold=1.5)
    soft = random_network(rng, 2, (4,), 3, output="softmax")
    with pytest.raises(ValueError, match="softmax"):
        partition_2d(soft, BOX, threshold=0.5)
    part = partition_2d(net2, BOX)
    with pytest.raises(ValueError, match=r"\(m, 2\)"):
        part.locate(np.zeros((3, 3)))


# ---------------------------------------------------------------------- display
def test_display_from_network_and_partition(rng):
    net = _centered(random_network(rng, 2, (10, 10), 1, output="sigmoid"))
    X = _random_inside(rng, BOX, 50)
    y = (net.predict_output(X)[:, 0] > 0.5).astype(int)
    disp = PartitionDisplay.from_network(net, BOX, X=X, y=y, llm_lines=[0, 1, 2])
    part = disp.partition
    assert disp.figure_ is disp.ax_.figure
    assert len(disp.regions_.get_paths()) == len(part)
    assert len(disp.boundary_.get_segments()) == len(part.decision_segments)
    assert disp.llm_lines_ is not None and len(disp.llm_lines_.get_segments()) <= 3
    assert disp.scatter_.get_offsets().shape == (50, 2)
    assert f"{len(part)}" in disp.ax_.get_title()
    fig, axes = plt.subplots(1, 3)
    for ax, mode in zip(axes, ("output", "gradient", "region"), strict=True):
        d = PartitionDisplay.from_partition(part, ax=ax, color_by=mode, boundary=False)
        assert d.ax_ is ax and d.boundary_ is None
        fc = d.regions_.get_facecolor()
        assert fc.shape[0] == len(part)
    # "output" colours follow the probability: the region with the highest probability
    # is not coloured like the one with the lowest.
    d = PartitionDisplay.from_partition(part, color_by="output")
    prob = net.predict_output(part.centroids)[:, 0]
    fc = d.regions_.get_facecolor()
    assert not np.allclose(fc[prob.argmax()], fc[prob.argmin()])
    with pytest.raises(ValueError, match="color_by"):
        PartitionDisplay.from_partition(part, color_by="rainbow")
    with pytest.raises(ValueError, match="output"):
        PartitionDisplay.from_partition(part, output=3)
    with pytest.raises(TypeError, match="Partition2D"):
        PartitionDisplay("nope")
    plt.close("all")


def test_display_plane_projects_points(rng):
    net = random_network(rng, 3, (6,), 3, output="softmax")
    origin, u, v = np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 1.0])
    ab = _random_inside(rng, BOX, 20)
    X = origin + ab @ np.column_stack([u, v]).T
    disp = PartitionDisplay.from_network(net, BOX, plane=(origin, u, v), X=X)
    np.testing.assert_allclose(disp.scatter_.get_offsets(), ab, atol=1e-12)
    assert disp.ax_.get_xlabel() == "a"
    with pytest.raises(ValueError, match="X must have shape"):
        PartitionDisplay.from_network(net, BOX, plane=(origin, u, v), X=np.zeros((4, 5)))
    plt.close("all")


# ---------------------------------------------------------------------- layout (issue 13)
def test_display_lives_in_plotting_and_old_path_is_the_same_class():
    from glassnet.plotting import PartitionDisplay as FromPackage
    from glassnet.plotting.partition import PartitionDisplay as FromModule

    assert PartitionDisplay is FromModule is FromPackage


@pytest.mark.parametrize("output", ["identity", "sigmoid", "softmax"])
def test_centroid_outputs_and_to_plane_against_the_forward_pass(output):
    # oracle: the network's own forward pass at the centroids mapped back to input space,
    # and points built on the plane from known coordinates
    rng = np.random.default_rng(5)
    k = 3 if output == "softmax" else 1
    net = random_network(rng, 4, (6, 5), k, output=output)
    origin, u, v = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    part = partition_2d(net, BOX, plane=(origin, u, v))
    xs = origin + part.centroids[:, :1] * u + part.centroids[:, 1:] * v
    np.testing.assert_allclose(part.centroid_outputs(), net.predict_output(xs),
                               rtol=1e-9, atol=1e-12)
    ab = _random_inside(rng, BOX, 20)
    np.testing.assert_allclose(part.to_plane(origin + ab[:, :1] * u + ab[:, 1:] * v), ab,
                               atol=1e-10)
    np.testing.assert_array_equal(part.to_plane(ab), ab)
    with pytest.raises(ValueError, match="plane coordinates"):
        part.to_plane(np.zeros((3, 3)))
