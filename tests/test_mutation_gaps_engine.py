"""Gaps found by mutation testing in glassnet._engine (issue 19).

Oracles: overflow positions worked out by hand in float64 (each comment gives the
arithmetic), and the certificate's definition ``max |coef[label] @ x + intercept - out|``
computed row by row here.
"""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import ReluNetwork, unwrap
from glassnet._engine import NonFiniteError, certificate


def _overflow_net(w_out: float) -> ReluNetwork:
    # hidden 1: relu(x), relu(-x); hidden 2: relu(2e307 * h1 + 1.7e308 * h2); output w_out * g
    return ReluNetwork(
        [np.array([[1.0], [-1.0]]), np.array([[2e307, 1.7e308]]), np.array([[w_out]])],
        [np.zeros(2), np.zeros(1), np.zeros(1)],
    )


def test_overflow_first_in_the_output_layer_is_named_so():
    # row 1 (x = 1): h = (1, 0), g = 2e307 (finite), output 100 * 2e307 = inf; row 0 (x = 0)
    # is all zeros. The second neuron of hidden layer 1 is off (pre-activation -1): had it
    # counted as 1, hidden layer 2 would be 2e307 + 1.7e308 > 1.8e308, i.e. overflow there.
    with pytest.raises(NonFiniteError) as err:
        unwrap(_overflow_net(100.0), np.array([[0.0], [1.0]]))
    msg = str(err.value)
    assert "row 1 " in msg and "first in the output layer (weights[2])" in msg
    assert "hidden layer" not in msg


def test_overflow_first_in_a_hidden_layer_is_named_so():
    # row 0 (x = -1): h = (0, 1), g = 1.7e308 (finite), then 1.7e308 * 1.7e308 overflows in
    # the output layer; x = -2: g = 3.4e308 overflows in hidden layer 2 already
    net = _overflow_net(1.7e308)
    with pytest.raises(NonFiniteError, match=r"row 0 .*first in the output layer"):
        unwrap(net, np.array([[-1.0]]))
    with pytest.raises(NonFiniteError) as err:
        unwrap(net, np.array([[0.0], [-2.0]]))
    assert "row 1 " in str(err.value)
    assert "first in hidden layer 2 (weights[1])" in str(err.value)


def _rows():
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    coef = np.array([[[1.0, 1.0]], [[2.0, -1.0]]])  # 2 regions, 1 output
    intercept = np.array([[0.5], [-1.0]])
    labels = np.array([0, 1, 0])
    return X, coef, intercept, labels


@pytest.mark.parametrize("chunk", [1, 2, 10])
def test_certificate_is_the_largest_row_error(chunk):
    X, coef, intercept, labels = _rows()
    exact = np.array([[coef[r, 0] @ x + intercept[r, 0]] for x, r in zip(X, labels,
                                                                            strict=True)])
    out = exact + np.array([[1e-3], [-5.0], [2e-3]])  # row 1 is 5.0 off
    assert certificate(X, out, labels, coef, intercept, chunk) == pytest.approx(5.0)
    assert certificate(X, exact, labels, coef, intercept, chunk) == 0.0


def test_certificate_says_which_part_is_not_finite():
    X, coef, intercept, labels = _rows()
    out = np.array([[3.5], [6.0], [np.inf]])
    with pytest.raises(NonFiniteError) as err:
        certificate(X, out, labels, coef, intercept, 2)
    assert "row 2 (region 0)" in str(err.value) and "its network output overflows" in str(err.value)
    # the same in the second row of the second chunk (rows 2-3 with chunk_size 2)
    X4, lab4 = np.vstack([X, X[:1]]), np.r_[labels, 1]
    out4 = np.array([[3.5], [6.0], [1.5], [np.inf]])
    with pytest.raises(NonFiniteError) as err:
        certificate(X4, out4, lab4, coef, intercept, 2)
    assert "row 3 (region 1)" in str(err.value) and "its network output overflows" in str(err.value)
    # finite outputs, but region 1's model overflows at row 1 (1e308 * 3 > 1.8e308)
    big = coef.copy()
    big[1, 0, 0] = 1e308
    with pytest.raises(NonFiniteError) as err:
        certificate(X, np.zeros((3, 1)), labels, big, intercept, 2)
    assert "row 1 (region 1)" in str(err.value)
    assert "its local linear model overflows" in str(err.value)


def test_two_column_targets_are_summed_per_region():
    # y of shape (n, 2): per-region sums and sums of squares of each column, against a
    # pandas groupby on the regions' own row labels
    import pandas as pd

    rng = np.random.default_rng(5)
    net = ReluNetwork([rng.normal(size=(4, 3)), rng.normal(size=(2, 4))],
                      [rng.normal(size=4), np.zeros(2)])
    X = rng.normal(size=(50, 3))
    Y = rng.normal(size=(50, 2))
    reg = unwrap(net, X, Y)
    g = pd.DataFrame(Y).groupby(reg.labels)
    np.testing.assert_allclose(reg.y_sum, g.sum().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(reg.y_sumsq, (pd.DataFrame(Y**2).groupby(reg.labels)
                                             .sum().to_numpy()), rtol=1e-12)
    np.testing.assert_allclose(reg.y_mean, g.mean().to_numpy(), rtol=1e-12)
    # the streamed path sums chunk by chunk (in the engine): same figures
    from glassnet.streaming import unwrap_chunks

    streamed = unwrap_chunks(net, [(X[:20], Y[:20]), (X[20:], Y[20:])], keep_labels=True)
    gs = pd.DataFrame(Y).groupby(streamed.labels)
    np.testing.assert_allclose(streamed.y_sum, gs.sum().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(streamed.y_sumsq, (pd.DataFrame(Y**2).groupby(streamed.labels)
                                                  .sum().to_numpy()), rtol=1e-12)


def test_screened_unwrap_with_no_row_near_a_boundary():
    # every pre-activation is at least 1 away from 0, so float32 screening flags no row and
    # only the representatives are certified: same regions, models and sums as float64
    rng = np.random.default_rng(6)
    net = ReluNetwork([np.eye(2), np.array([[1.0, -2.0]])], [np.zeros(2), np.array([0.5])])
    X = rng.choice([-1.0, 1.0], size=(120, 2)) * rng.uniform(1.0, 2.0, size=(120, 2))
    exact, screened = unwrap(net, X), unwrap(net, X, screen=True)
    assert len(screened) == len(exact) == 4
    np.testing.assert_array_equal(screened.labels, exact.labels)
    np.testing.assert_array_equal(screened.coef, exact.coef)
    np.testing.assert_allclose(screened.pred_sum, exact.pred_sum, rtol=1e-12)
    assert screened.max_abs_error <= 1e-12


def test_screening_bound_constants_follow_the_documented_derivation():
    # docs/unwrapping.md ("Float32 screening"): with u = 2^-24, v = 2^-53, eta = 2^-149,
    # gamma_m(u) = m u / (1 - m u), fan-in n and m = n + 1,
    #   c = gamma_m(u) (1 + u) + u + gamma_m(v),  k = 1 / (1 - gamma_n(u)),
    #   D = c k S + (1 + gamma_m(v)) max_i ||W_i||_1 E + c (n eta k + max|b|) + (n + 5) eta,
    # each constant times the slack 1 + 2^-10. Computed here in exact rational arithmetic;
    # a fan-in of 1000 makes gamma_m(v) ~ 1e-13, far above float64 rounding of the constants.
    from fractions import Fraction as F

    from glassnet._screen import _Layer

    rng = np.random.default_rng(7)
    n, h = 1000, 3
    W = rng.normal(size=(h, n))
    b = rng.normal(size=h)
    ly = _Layer(W.T.copy(), b, 16)
    u, v, eta, slack = F(1, 2**24), F(1, 2**53), F(1, 2**149), 1 + F(1, 2**10)

    def gamma(m, unit):
        return m * unit / (1 - m * unit)

    m = n + 1
    c = gamma(m, u) * (1 + u) + u + gamma(m, v)
    k = 1 / (1 - gamma(n, u))
    w1 = max(sum(F(abs(x)) for x in row) for row in W)
    assert ly.cS == pytest.approx(float(c * k * slack), rel=1e-15, abs=0)
    assert ly.cE == pytest.approx(float((1 + gamma(m, v)) * w1 * slack), rel=1e-15, abs=0)
    const = (c * (n * eta * k + F(float(np.abs(b).max()))) + (n + 5) * eta) * slack
    assert ly.const == pytest.approx(float(const), rel=1e-15, abs=0)
    # no bias and small weights: the constant term is underflow only (eta terms), and the
    # largest row norm is below 1
    small = _Layer(1e-5 * W.T, np.zeros(h), 16)
    w1 = max(sum(F(abs(x)) for x in row) for row in 1e-5 * W)
    assert w1 < 1
    assert small.cE == pytest.approx(float((1 + gamma(m, v)) * w1 * slack), rel=1e-15, abs=0)
    assert small.const == pytest.approx(float((c * n * eta * k + (n + 5) * eta) * slack),
                                        rel=1e-12, abs=0)


def test_screening_refusal_names_the_layer_fan_in():
    # the float32 bound needs (fan-in + 1) u < 2^-12, i.e. a fan-in below 4095
    d = 5000
    net = ReluNetwork([np.ones((2, d)) / d, np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(ValueError, match=r"^layer fan-in 5000 is too large for float32 screening"):
        unwrap(net, np.ones((1, d)), screen=True)
