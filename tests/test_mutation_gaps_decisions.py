"""Gaps found by mutation testing in glassnet.decisions (issue 19).

Oracle: a network whose decision line is worked out by hand (class 1 where
``income + savings - 1 > logit(threshold)``), so the cheapest counterfactual has a closed form.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logit

from glassnet import ReluNetwork
from glassnet.decisions import counterfactual


def _net() -> ReluNetwork:
    # inputs in [0, 2]^2, both hidden ReLUs on: raw output income + savings - 1
    return ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.array([-1.0])],
                       output="sigmoid", feature_names=["income", "savings"])


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.75])
def test_counterfactual_reaches_the_threshold_at_the_closed_form_cost(threshold):
    # from (0.2, 0.3), raising income (weight 1; savings costs 2) until
    # income + 0.3 - 1 = logit(threshold): cost logit(threshold) + 0.5 (income stays <= 2)
    cf = counterfactual(_net(), np.array([[0.2, 0.3]]), weights=[1.0, 2.0], threshold=threshold,
                        box=([0, 0], [2, 2]), constraints={"immutable": []})
    assert bool(cf.frame.valid[0])
    assert float(cf.frame.cost[0]) == pytest.approx(logit(threshold) + 0.5, abs=1e-4)
    np.testing.assert_allclose(cf.counterfactual.values,
                               [[logit(threshold) + 0.7, 0.3]], atol=1e-4)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 1.5, -0.2])
def test_threshold_outside_the_open_unit_interval_is_refused(threshold):
    with pytest.raises(ValueError, match=r"threshold must be a probability in \(0, 1\)"):
        counterfactual(_net(), np.array([[0.2, 0.3]]), threshold=threshold,
                       box=([0, 0], [2, 2]))


def test_threshold_that_is_no_number_is_a_type_error():
    with pytest.raises(TypeError, match=r"threshold must be a probability in \(0, 1\)"):
        counterfactual(_net(), np.array([[0.2, 0.3]]), threshold="high", box=([0, 0], [2, 2]))


def test_feasible_point_heuristic_returns_a_verified_target_point():
    # the warm start of counterfactual: from data rows of the target class, a point of
    # class 1 no cheaper than the closed-form optimum (income raised by 0.5), verified by
    # the forward pass; an empty pool gives none
    from glassnet.decisions._search import feasible_point
    from glassnet.decisions.constraints import Constraints, resolve

    net = _net()
    x0 = np.array([0.2, 0.3])
    res = resolve(net, Constraints.from_dict({"immutable": []}))
    grid = np.stack(np.meshgrid(np.linspace(0, 2, 9), np.linspace(0, 2, 9)), -1).reshape(-1, 2)
    args = (net, x0, 1, 0.0, 1e-6, np.zeros(2), np.full(2, 2.0), res, np.array([1.0, 2.0]),
            "l1")
    cost, point = feasible_point(*args, grid, np.zeros(2, bool))
    assert np.isfinite(cost) and point is not None
    assert net.forward(point[None])[0, 0] > 0  # class 1: income + savings - 1 > 0
    direct = abs(point[0] - 0.2) + 2 * abs(point[1] - 0.3)
    assert cost == pytest.approx(direct, rel=1e-9) and cost >= 0.5 - 1e-6
    assert feasible_point(*args, grid[:0], np.zeros(2, bool)) == (np.inf, None)
    one, _ = feasible_point(*args, np.array([[1.5, 0.3]]), np.zeros(2, bool))  # one row
    assert 0.5 - 1e-6 <= one <= 1.3 + 1e-9


def test_same_region_flag_against_the_hidden_pre_activations():
    # the hidden pre-activations are the inputs themselves (identity layer): from
    # (0.2, 0.3) to (0.7, 0.3) both stay positive, so the counterfactual is in the same
    # activation region. With the first neuron at income - 0.5 instead, the row has it off
    # and the counterfactual (income above 0.5) has it on: another region.
    x0 = np.array([[0.2, 0.3]])
    cf = counterfactual(_net(), x0, weights=[1.0, 2.0], box=([0, 0], [2, 2]),
                        constraints={"immutable": []})
    assert bool(cf.frame.same_region[0]) is True
    shifted = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.array([-0.5, 0.0]), np.array([-1.0])],
                          output="sigmoid", feature_names=["income", "savings"])
    cf2 = counterfactual(shifted, x0, weights=[1.0, 2.0], box=([0, 0], [2, 2]),
                         constraints={"immutable": []})
    p = cf2.counterfactual.to_numpy()[0]
    assert p[0] - 0.5 > 0 > x0[0, 0] - 0.5  # the first hidden neuron switched on
    assert bool(cf2.frame.same_region[0]) is False


def test_output_bounds_repr_leaves_the_network_out():
    from glassnet.decisions import output_bounds

    ob = output_bounds(_net(), box=([0, 0], [2, 2]))
    assert ob.lower[0] == pytest.approx(-1.0) and ob.upper[0] == pytest.approx(3.0)
    assert "ReluNetwork" not in repr(ob) and "network=" not in repr(ob)
    # raw output income + savings - 1 over [0, 2]^2: from -1 to 3, and their probabilities
    from scipy.special import expit

    frame = ob.to_frame()
    assert list(frame.columns) == ["output", "min", "max", "min_probability",
                                   "max_probability"]
    np.testing.assert_allclose(frame.iloc[0, 1:].to_numpy(dtype=float),
                               [-1.0, 3.0, expit(-1.0), expit(3.0)], atol=1e-9)


def test_a_row_with_no_admissible_box_is_infeasible_and_timed():
    # income immutable at 0.2 and integer: no admissible value, so the row is infeasible
    # before any program runs; its time is a duration within this call's wall time
    import time

    t0 = time.perf_counter()
    cf = counterfactual(_net(), np.array([[0.2, 0.3]]), box=([0, 0], [2, 2]),
                        constraints={"immutable": ["income"], "integer": ["income"]})
    wall = time.perf_counter() - t0
    row = cf.frame.iloc[0]
    assert row.status == "infeasible" and not row.valid and np.isnan(row.cost)
    assert 0.0 <= row.seconds <= wall


def test_monotone_counterexample_from_a_data_row_by_hand():
    # f = -relu(x0) (identity output): decreasing in x0 wherever x0 > 0. The data row
    # (1, 1) is in that region and no neuron changes sign along +x0, so the step is the
    # rest of the box (to x0 = 2) and the pair is (1, 1) -> (1.5, 1): f from -1 to -1.5,
    # found without any MILP (n_binary 0)
    from glassnet.decisions import certify_monotone

    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[-1.0]])], [np.zeros(1), np.zeros(1)],
                      feature_names=["income", "savings"])
    cert = certify_monotone(net, "income", np.array([[1.0, 1.0]]), box=([0, 0], [2, 2]))
    assert cert.status == "violated" and cert.n_binary == 0
    np.testing.assert_array_equal(cert.counterexample[0], [1.0, 1.0])
    np.testing.assert_array_equal(cert.counterexample[1], [1.5, 1.0])
    assert cert.outputs == (-1.0, -1.5) and cert.worst_change == -0.5


def test_feasible_point_keeps_a_pool_row_at_the_linear_constraint_tolerance():
    # savings >= 0.6 is checked on data rows with a 1e-9 tolerance: a row exactly at
    # 0.6 - 1e-9 counts as satisfying it (and is a class-1 point: 1.5 + 0.6 - 1 > 0)
    from glassnet.decisions._search import feasible_point
    from glassnet.decisions.constraints import Constraints, resolve

    net = _net()
    res = resolve(net, Constraints.from_dict(
        {"linear": [{"coef": {"savings": 1.0}, "lower": 0.6}]}))
    args = (net, np.array([0.2, 0.3]), 1, 0.0, 1e-6, np.zeros(2), np.full(2, 2.0), res,
            np.array([1.0, 2.0]), "l1")
    edge = np.array([[1.5, 0.6 - 1e-9]])
    cost, point = feasible_point(*args, edge, np.zeros(2, bool))
    assert np.isfinite(cost) and point is not None
    below = np.array([[1.5, 0.6 - 3e-9]])  # beyond the tolerance: no admissible row
    assert feasible_point(*args, below, np.zeros(2, bool)) == (np.inf, None)


def test_missed_crossings_are_recovered_by_the_refinement_of_the_path():
    """The crossing search can miss a region boundary (rounding); the pieces are then split
    until each piece's linear model matches the network at both ends. Forcing the search to
    miss every crossing (one piece [0, 1]) must still give the exact attribution: it sums to
    f(x) - f(ref) and equals a fine midpoint Riemann sum of the network's gradient along the
    path, computed here from the weights (an independent oracle)."""
    import glassnet.decisions.reasons as reasons

    rng = np.random.default_rng(7)
    W1, b1 = rng.normal(size=(6, 3)), rng.normal(0, 0.3, size=6)
    W2, b2 = rng.normal(size=(1, 6)), rng.normal(0, 0.3, size=1)
    net = ReluNetwork([W1, W2], [b1, b2], output="identity")
    ref, x = np.array([-1.5, 0.4, -0.8]), np.array([1.7, -1.1, 1.2])

    def f(p):
        return (W2 @ np.maximum(W1 @ p + b1, 0.0) + b2)[0]

    def grad(p):
        return W2[0] @ (W1 * ((W1 @ p + b1) > 0)[:, None])

    n = 20_000
    ts = (np.arange(n) + 0.5) / n
    riemann = (x - ref) * np.mean([grad(ref + t * (x - ref)) for t in ts], axis=0)
    crossings = reasons.segment_pieces(net, ref, x)
    assert len(crossings) > 3  # the path crosses several regions: there is something to miss

    original = reasons.segment_pieces
    reasons.segment_pieces = lambda net, ref, x: np.array([0.0, 1.0])
    try:
        attr, _ = reasons._row_attribution(net, ref, x, 0, 1.0)
    finally:
        reasons.segment_pieces = original
    assert attr.sum() == pytest.approx(f(x) - f(ref), abs=1e-9)
    np.testing.assert_allclose(attr, riemann, atol=1e-3)


@pytest.mark.parametrize("seed", range(4))
def test_region_interval_along_the_path_matches_a_dense_scan(seed):
    """The interval around t where the path keeps t's activation pattern, against a dense
    scan of patterns computed from the weights (both ends, clipped to [0, 1])."""
    from glassnet.decisions.reasons import _region_interval

    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(5, 2)), rng.normal(0, 0.5, size=5)
    W2, b2 = rng.normal(size=(4, 5)), rng.normal(0, 0.5, size=4)
    net = ReluNetwork([W1, W2, rng.normal(size=(1, 4))], [b1, b2, np.zeros(1)])
    ref, x = rng.normal(size=2) * 2, rng.normal(size=2) * 2
    d = x - ref

    def pattern(t):
        h1 = W1 @ (ref + t * d) + b1
        h2 = W2 @ np.maximum(h1, 0) + b2
        return tuple(np.r_[h1 > 0, h2 > 0])

    grid = np.linspace(0.0, 1.0, 20_001)
    pats = [pattern(t) for t in grid]
    k = len(grid) // 2 + 37
    same = np.array([p == pats[k] for p in pats])
    j_lo, j_hi = k, k
    while j_lo > 0 and same[j_lo - 1]:
        j_lo -= 1
    while j_hi < len(grid) - 1 and same[j_hi + 1]:
        j_hi += 1
    lo, hi = _region_interval(net, ref, d, float(grid[k]))
    step = grid[1]
    if j_lo > 0:  # the region starts inside the segment
        assert grid[j_lo - 1] <= lo <= grid[j_lo] + 1e-12
    else:
        assert lo <= 0.0
    if j_hi < len(grid) - 1:
        assert grid[j_hi] - 1e-12 <= hi <= grid[j_hi + 1]
    else:
        assert hi >= 1.0 - step
