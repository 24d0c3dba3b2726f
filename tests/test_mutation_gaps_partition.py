"""Gaps found by mutation testing in glassnet.partition (issue 19).

Oracle: point-in-convex-polygon by the sign of cross products, written here.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import ReluNetwork, partition_2d


def _contains(poly, p, tol=1e-12):
    e = np.roll(poly, -1, axis=0) - poly
    w = p[None, :] - poly
    cross = e[:, 0] * w[:, 1] - e[:, 1] * w[:, 0]
    return (cross >= -tol).all() or (cross <= tol).all()


def test_locate_a_point_whose_pattern_is_no_2d_region():
    # neurons x0 and -x0: on the line x0 = 0 both are exactly 0 ("off", "off"), a pattern
    # that only exists on that line; such points go to a polygon that contains them
    net = ReluNetwork([np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]), np.ones((1, 3))],
                      [np.zeros(3), np.zeros(1)])
    part = partition_2d(net, [(-1.0, 1.0), (-1.0, 1.0)])
    assert len(part.vertices) == 4  # the four quadrants
    pts = np.array([[0.0, -0.7], [0.0, 0.4], [0.0, 0.0], [0.5, 0.5], [-0.3, -0.9]])
    got = part.locate(pts)
    for p, r in zip(pts, got, strict=True):
        assert r >= 0 and _contains(np.asarray(part.vertices[r]), p)
    assert part.locate(np.array([[1.5, 0.0]])).tolist() == [-1]


@pytest.mark.parametrize("half", [1.0, 0.2])
def test_decision_line_through_the_box_centre_is_drawn(half):
    # one region (the hidden neuron x0 + 5 is on in the whole box) and output x0: the decision
    # level 0 is the line x0 = 0, which crosses the box [-1, 1]^2 from (0, -1) to (0, 1). Its
    # two ends project to -1 and +1 along the line, so a length test written as |hi + lo| > 0
    # instead of |hi - lo| > 0 would drop it; in the box [-0.2, 0.2]^2 the segment is 0.4
    # long, so a minimum length of 1 instead of "> 0" would drop it.
    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[1.0]])],
                      [np.array([5.0]), np.array([-5.0])])
    part = partition_2d(net, [(-half, half), (-half, half)], threshold=0.0)
    assert len(part.vertices) == 1
    expected = [[0.0, -half], [0.0, half]]
    assert part.decision_segments.shape == (1, 2, 2)
    got = sorted(part.decision_segments[0].tolist(), key=lambda p: p[1])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    seg, region = part.llm_segments()
    assert region.tolist() == [0]
    np.testing.assert_allclose(sorted(seg[0].tolist(), key=lambda p: p[1]), expected, atol=1e-12)


def test_decision_line_at_a_nonzero_threshold():
    # identity output x0 (one region) and threshold 0.25: the decision line is x0 = 0.25
    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[1.0]])],
                      [np.array([5.0]), np.array([-5.0])])
    part = partition_2d(net, [(-1.0, 1.0), (-1.0, 1.0)], threshold=0.25)
    expected = [[0.25, -1.0], [0.25, 1.0]]
    got = sorted(part.decision_segments[0].tolist(), key=lambda p: p[1])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    seg, _ = part.llm_segments()
    np.testing.assert_allclose(sorted(seg[0].tolist(), key=lambda p: p[1]), expected,
                               atol=1e-12)


def test_a_partition_that_overflows_float64_is_refused():
    # weights of 1e200 in both layers: the regions' models are 1e400 = inf in float64
    net = ReluNetwork([1e200 * np.eye(2), np.full((1, 2), 1e200)], [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match="not finite in float64"):
        partition_2d(net, [(-1.0, 1.0), (-1.0, 1.0)])


def test_softmax_llm_line_is_where_the_top_two_classes_tie():
    # one region; scores x0 and -x0 (5 + x0 - 5 and 5 - x0 - 5): they tie on x0 = 0
    net = ReluNetwork([np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [-1.0, 0.0]])],
                      [np.array([5.0, 5.0]), np.array([-5.0, 5.0])], output="softmax")
    part = partition_2d(net, [(-1.0, 1.0), (-1.0, 1.0)])
    assert len(part.vertices) == 1
    seg, region = part.llm_segments()
    assert region.tolist() == [0]
    np.testing.assert_allclose(sorted(seg[0].tolist(), key=lambda p: p[1]),
                               [[0.0, -1.0], [0.0, 1.0]], atol=1e-12)


def test_no_decision_boundary_has_empty_arrays_of_the_documented_shapes():
    # identity output and no threshold: no decision level, so no segments at all
    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[1.0]])],
                      [np.array([5.0]), np.array([-5.0])])
    part = partition_2d(net, [(-1.0, 1.0), (-1.0, 1.0)])
    assert part.decision_segments.shape == (0, 2, 2)
    assert part.decision_regions.shape == (0,) and part.decision_outputs.shape == (0, 2)
