"""Float32 screening (glassnet._engine): patterns identical to float64 on adversarial rows.

The oracle is the float64 forward pass (``ReluNetwork.activation_patterns``), computed
independently of the screening code; adversarial rows put pre-activations at exactly 0,
+-1 ulp of 0, and at scales where float32 overflows or underflows.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from glassnet import ReluNetwork, unwrap
from glassnet._screen import screened_packed_forward


def _check_same_as_float64(net, X):
    packed, rows, out = screened_packed_forward(net, X, None)
    ref = net.activation_patterns(X)
    got = np.unpackbits(packed, axis=1, count=net.n_hidden).astype(bool)
    np.testing.assert_array_equal(got, ref)
    if rows.size:
        np.testing.assert_array_equal(out, net.forward(X[rows]))
    return rows


def test_preactivations_at_zero_and_one_ulp_are_recomputed_and_exact():
    # neuron j computes x_j - 1: zero exactly at x_j = 1, +-1 ulp just beside it
    d = 3
    net = ReluNetwork([np.eye(d), np.ones((1, d))], [-np.ones(d), np.zeros(1)])
    up, down = np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0)
    X = np.array([
        [1.0, 1.0, 1.0],
        [up, down, 1.0],
        [down, up, up],
        [3.0, -2.0, 0.5],  # far from every boundary: never recomputed
    ])
    rows = _check_same_as_float64(net, X)
    assert set(rows.tolist()) == {0, 1, 2}
    pat = net.activation_patterns(X)
    assert pat[1].tolist() == [True, False, False] and not pat[0].any()


def test_subnormal_and_tiny_preactivations():
    tiny = np.nextafter(0.0, 1.0)  # 5e-324: zero in float32
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    X = np.array([[tiny, -tiny], [1e-40, -1e-40], [1e-300, 2.0], [0.0, 0.0]])
    rows = _check_same_as_float64(net, X)
    # exact zeros and values float32 flushes to zero are recomputed (1e-40 is a float32
    # subnormal, still far above its bound: kept)
    assert {0, 2, 3} <= set(rows.tolist())
    r = unwrap(net, X, screen=True)
    assert np.array_equal(r.labels, unwrap(net, X).labels)


def test_huge_and_tiny_weight_scales(rng):
    for scale, xscale in ((1e30, 1e10), (1e-30, 1e-20), (1.0, 1e200)):
        base = random_network(rng, 4, (8, 8), 1)
        net = ReluNetwork([base.weights[0] * scale, *base.weights[1:]],
                          [base.biases[0] * scale, *base.biases[1:]])
        X = rng.normal(size=(300, 4)) * xscale
        with np.errstate(over="ignore"):
            if not np.isfinite(net.forward(X)).all():
                continue
        _check_same_as_float64(net, X)


def test_screened_unwrap_equals_float64_unwrap(rng):
    net = random_network(rng, 3, (10, 10, 10), 2, "softmax")
    X = rng.normal(size=(3000, 3))
    a, b = unwrap(net, X), unwrap(net, X, screen=True)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.packed_patterns, b.packed_patterns)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.intercept, b.intercept)
    np.testing.assert_allclose(b.pred_sum, a.pred_sum, rtol=1e-12)
    assert b.max_abs_error < 1e-12
    _, rows, _ = screened_packed_forward(net, X, None)
    assert rows.size < 0.05 * X.shape[0]  # the screen settles almost every row in float32


def test_screening_refuses_layers_too_wide_for_its_bound():
    net = ReluNetwork([np.ones((2, 300_000)), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match="too large for float32 screening"):
        screened_packed_forward(net, np.ones((1, 300_000)), None)


def _exact_boundary_net(rng, X, tweaks):
    """A 2-layer net whose second-layer neuron j is exactly ``tweaks[j]`` at row j.

    Integer weights and inputs make every float64 and float32 partial sum of the first
    two layers exact (so the float64 pattern does not depend on any BLAS's summation
    order); the bias is ``-S_j + t_j`` for the exact sum ``S_j`` of neuron j at row j, and
    ``S_j + (-S_j + t_j)`` is exact (Sterbenz) for ``t_j`` of a few ulps of ``S_j``.
    """
    d, h1, h2 = X.shape[1], 6, len(tweaks)
    W1 = rng.integers(-3, 4, size=(h1, d)).astype(float)
    b1 = rng.integers(0, 3, size=h1).astype(float)
    W2 = rng.integers(-3, 4, size=(h2, h1)).astype(float)
    S = (np.maximum(X[:h2] @ W1.T + b1, 0.0) * W2).sum(axis=1)  # neuron j at row j
    t = np.asarray(tweaks, dtype=float)
    t = np.where(t == 0, 0.0, t * np.spacing(np.abs(S)))  # tweaks in ulps of S
    return ReluNetwork([W1, W2, np.ones((1, h2))], [b1, -S + t, np.zeros(1)]), t


def test_second_layer_exactly_zero_and_one_ulp_by_bias():
    rng = np.random.default_rng(7)
    X = rng.integers(1, 50, size=(9, 3)).astype(float) * 1024.0
    net, t = _exact_boundary_net(rng, X, [0, 1, -1, 0, 2, -1])
    z2 = np.maximum(X @ net.weights[0].T + net.biases[0], 0.0) @ net.weights[1].T
    z2 += net.biases[1]
    np.testing.assert_array_equal(np.diag(z2[:6]), t)  # the construction is exact
    assert (t[[1, 4]] > 0).all() and (t[[2, 5]] < 0).all()
    rows = _check_same_as_float64(net, X)
    assert set(range(6)) <= set(rows.tolist())  # all within the bound: recomputed
    pat = net.activation_patterns(X)
    assert [bool(pat[j, 6 + j]) for j in range(6)] == [False, True, False, False, True, False]


def test_float32_overflow_in_the_last_hidden_layer_is_recomputed():
    # float32 overflows (2^130 > 3.4e38) and cancels: inf - inf; float64 is exact: 2^77 - 1
    net = ReluNetwork([np.eye(2), np.array([[2.0**60, -2.0**60]]), np.ones((1, 1))],
                      [np.zeros(2), np.array([-1.0]), np.zeros(1)])
    X = np.array([[2.0**70, 2.0**70 - 2.0**17], [1.0, 2.0], [2.0**70, 2.0**70 + 2.0**18]])
    rows = _check_same_as_float64(net, X)
    assert {0, 2} <= set(rows.tolist())
    assert net.activation_patterns(X)[:, 2].tolist() == [True, False, False]


def test_no_hidden_layer_falls_back_to_float64(rng):
    net = ReluNetwork([rng.normal(size=(1, 3))], [np.zeros(1)])
    X = rng.normal(size=(20, 3))
    _, rows, out = screened_packed_forward(net, X, None)
    np.testing.assert_array_equal(rows, np.arange(20))
    np.testing.assert_allclose(out, X @ net.weights[0].T, rtol=1e-14)
    assert len(unwrap(net, X, screen=True)) == 1


def test_weights_beyond_float32_range_fall_back_to_float64(rng):
    base = random_network(rng, 3, (5, 5), 1)
    net = ReluNetwork([base.weights[0] * 1e39, *base.weights[1:]],
                      [base.biases[0] * 1e39, *base.biases[1:]])
    X = rng.normal(size=(50, 3))
    rows = _check_same_as_float64(net, X)
    np.testing.assert_array_equal(rows, np.arange(50))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), scales=st.lists(st.floats(-8, 8), min_size=3,
                                                       max_size=3))
def test_random_networks_with_layer_scales_and_exact_second_layer_zeros(seed, scales):
    """Each layer scaled by its own power of two (exact), rows on second-layer boundaries."""
    rng = np.random.default_rng(seed)
    X = rng.integers(-20, 21, size=(60, 3)).astype(float)
    net, _ = _exact_boundary_net(rng, X, [0, 1, -1, 0])
    k = [2.0 ** round(v) for v in scales]
    scaled = ReluNetwork([w * f for w, f in zip(net.weights, k, strict=True)],
                         [net.biases[0] * k[0], net.biases[1] * k[0] * k[1],
                          net.biases[2] * k[0] * k[1] * k[2]])
    _check_same_as_float64(scaled, X)
    _check_same_as_float64(scaled, rng.normal(size=(200, 3)) * 10.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1), depth=st.integers(1, 3), width=st.integers(1, 12),
       d=st.integers(1, 5), log_scale=st.floats(-6, 6))
def test_random_networks_with_rows_on_boundaries(seed, depth, width, d, log_scale):
    rng = np.random.default_rng(seed)
    net = random_network(rng, d, (width,) * depth, 1)
    X = rng.normal(size=(200, d)) * 10.0**log_scale
    # move half of the rows onto a first-layer neuron's hyperplane (pre-activation ~ 0)
    W, b = net.weights[0], net.biases[0]
    j = rng.integers(0, width, size=100)
    w = W[j]
    t = (w * X[:100]).sum(axis=1) + b[j]
    norm2 = (w**2).sum(axis=1)
    ok = norm2 > 0
    X[:100][ok] -= (t[ok] / norm2[ok])[:, None] * w[ok]
    _check_same_as_float64(net, X)


# ---------------------------------------------------------------------- the shared engine
# The back-ends (regions, streaming, dask) all build on these; each is checked against an
# oracle that does not use the engine: NumPy's unique over unpacked patterns, pandas groupby,
# and the network's own float64 forward pass row by row.
def test_engine_all_names_exist():
    import glassnet._engine as engine

    missing = [n for n in engine.__all__ if not hasattr(engine, n)]
    assert not missing and not any(n.startswith("_") for n in engine.__all__)


def test_chunk_stats_codes_against_unique_and_groupby(rng):
    import pandas as pd

    from glassnet._engine import chunk_stats_codes, group_sums

    net = random_network(rng, 3, (12, 9), 1)  # 21 neurons: patterns span three bytes
    X = rng.normal(size=(400, 3))
    y = rng.normal(size=400)
    stats, codes = chunk_stats_codes(net, X, y, 1000, True, keep_llm=True)
    pats = net.activation_patterns(X)
    # codes group exactly the rows with equal patterns, numbered by first appearance
    np.testing.assert_array_equal(pats, np.unpackbits(stats.packed, axis=1,
                                                      count=net.n_hidden)[codes].astype(bool))
    _, first_np = np.unique(pats, axis=0, return_index=True)
    np.testing.assert_array_equal(stats.first, np.sort(first_np) + 1000)
    np.testing.assert_array_equal(stats.counts, np.bincount(codes))
    out = net.forward(X)
    ref = pd.DataFrame({"c": codes, "p": out[:, 0], "y": y}).groupby("c")
    np.testing.assert_allclose(stats.pred_sum[:, 0], ref["p"].sum(), rtol=1e-12)
    np.testing.assert_allclose(stats.y_sum[:, 0], ref["y"].sum(), rtol=1e-12, atol=1e-12)
    s, ss = group_sums(codes, y[:, None], stats.n_regions)
    np.testing.assert_allclose(ss[:, 0], (pd.Series(y**2).groupby(codes).sum()), rtol=1e-12)
    np.testing.assert_allclose(s[:, 0], ref["y"].sum(), rtol=1e-12, atol=1e-12)
    # certificate: the LLM of each row's pattern reproduces the forward pass row by row
    llm = np.einsum("nkd,nd->nk", stats.coef[codes], X) + stats.intercept[codes]
    assert stats.max_abs_error == pytest.approx(np.abs(llm - out).max(), abs=1e-15)
    assert stats.max_abs_error < 1e-12


def test_certificate_refuses_non_finite_outputs():
    from glassnet._engine import NonFiniteError, certificate

    X = np.ones((3, 2))
    coef = np.ones((1, 1, 2))
    out = np.array([[2.0], [np.inf], [2.0]])
    with pytest.raises(NonFiniteError, match="row 1"):
        certificate(X, out, np.zeros(3, dtype=np.int64), coef, np.zeros((1, 1)), 2)


# ---------------------------------------------------------------------- threaded forward
def _forward_by_hand(net: ReluNetwork, X: np.ndarray):
    """The oracle: the forward pass layer by layer in plain NumPy, all rows at once."""
    a, pats = X, []
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        z = a @ W.T + b
        pats.append(z > 0)
        a = np.maximum(z, 0.0)
    return np.packbits(np.concatenate(pats, axis=1), axis=1), a @ net.weights[-1].T + net.biases[-1]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 9000), threads=st.integers(2, 5),
       chunk=st.sampled_from([None, 1, 7, 1000]))
def test_threaded_forward_equals_one_thread_bit_for_bit(seed, n, threads, chunk):
    from glassnet._engine import packed_forward

    rng = np.random.default_rng(seed)
    net = random_network(rng, 3, (9, 7), 2)
    X = rng.normal(size=(n, 3))
    one = packed_forward(net, X, chunk)
    many = packed_forward(net, X, chunk, threads=threads)
    for a, b in zip(one, many, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    packed, out = _forward_by_hand(net, X)
    np.testing.assert_array_equal(one[0], packed)
    np.testing.assert_allclose(one[1], out, rtol=1e-12, atol=1e-12)


def test_threaded_forward_reports_the_first_non_finite_row():
    from glassnet._engine import NonFiniteError, packed_forward

    rng = np.random.default_rng(0)
    net = random_network(rng, 2, (5,), 1)
    X = rng.normal(size=(9000, 2))
    X[[4100, 8500], 0] = np.nan  # non-finite in two different threads' runs of steps
    for threads in (1, 2, 3):
        with pytest.raises(NonFiniteError, match="row 4100"):
            packed_forward(net, X, None, threads=threads)


def test_unwrap_with_threads_equals_unwrap():
    from glassnet.regions import unwrap_in_memory

    rng = np.random.default_rng(1)
    net = random_network(rng, 2, (16, 16), 1)
    X = rng.normal(size=(20_000, 2))
    a, b = unwrap_in_memory(net, X), unwrap_in_memory(net, X, _threads=2)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.coef, b.coef)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert a.max_abs_error == b.max_abs_error
