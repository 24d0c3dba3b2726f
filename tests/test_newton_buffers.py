"""The logistic Newton solver of the merger refits, against oracles written here.

``glassnet.simplify._glm.logistic_newton`` minimises ``sum_i logloss_i + ||w||^2 / (2 C)``
(intercept not penalised) with damped Newton steps that write into preallocated buffers; its
Hessian comes from ``_weighted_gram``. The oracles below are independent of that code: the
objective, gradient and Hessian written with ``np.logaddexp`` / ``scipy.special.expit``,
scikit-learn's ``newton-cholesky`` solution polished by a plain damped Newton written in
this file, and direct sums over rows for the Gram matrix.

Every test runs twice: on the compiled solver (``_glm_native.c``, the default where it is
built) and on NumPy's path (the fallback where it is not), which take the same steps.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from glassnet.simplify import _glm
from glassnet.simplify._glm import _solve_spd, _weighted_gram, fitted_logistic, logistic_newton

EPS = np.finfo(np.float64).eps


@pytest.fixture(scope="module", autouse=True, params=["compiled", "numpy"])
def solver_path(request):
    """Each test on the compiled Newton solver, then on NumPy's path (module-scoped, so that
    hypothesis' examples share it; restored after the module's tests)."""
    native = _glm._glm_native
    if request.param == "compiled" and native is None:
        from test_glm_native import native_module

        native_module()  # fails, or skips where the pure-Python build is accepted
    if request.param == "numpy":
        _glm._glm_native = None
    yield request.param
    _glm._glm_native = native


# ---------------------------------------------------------------------- oracle written here
def _design(Z: np.ndarray) -> np.ndarray:
    return np.column_stack([Z, np.ones(len(Z))])


def _objective(theta: np.ndarray, Z: np.ndarray, y: np.ndarray, C: float) -> float:
    """sum log(1 + e^z) - y z + ||w||^2 / (2 C), computed stably with logaddexp."""
    z = _design(Z) @ theta
    pen = 0.0 if np.isinf(C) else float(theta[:-1] @ theta[:-1]) / (2.0 * C)
    return float(np.sum(np.logaddexp(0.0, z) - y * z)) + pen


def _gradient(theta, Z, y, C):
    A = _design(Z)
    g = A.T @ (expit(A @ theta) - y)
    if not np.isinf(C):
        g[:-1] += theta[:-1] / C
    return g


def _hessian(theta, Z, y, C):
    A = _design(Z)
    p = expit(A @ theta)
    H = A.T @ (A * (p * (1.0 - p))[:, None])
    if not np.isinf(C):
        d = len(theta) - 1
        H[np.arange(d), np.arange(d)] += 1.0 / C
    return H


def _optimum(Z, y, C):
    """scikit-learn's newton-cholesky fit, polished by damped Newton steps written here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12,
                               max_iter=1000).fit(Z, y)
    theta = np.r_[m.coef_[0], m.intercept_[0]]
    for _ in range(50):
        step = np.linalg.solve(_hessian(theta, Z, y, C), _gradient(theta, Z, y, C))
        f0, t = _objective(theta, Z, y, C), 1.0
        while _objective(theta - t * step, Z, y, C) > f0 and t > 1e-12:
            t /= 2.0
        if _objective(theta - t * step, Z, y, C) > f0:
            break
        theta = theta - t * step
        if np.abs(step).max() <= 1e-15 * (1.0 + np.abs(theta).max()):
            break
    return theta


def _assert_at_optimum(theta, ref, Z, y, C):
    """The objective at ``theta`` equals the optimum's; so do the coefficients.

    Objective: both values are sums of n terms with relative rounding ~1e-16 each, so they
    agree to ~1e-15 relative when ``theta`` is the optimum; 1e-13 leaves a margin, while a
    solver stopped short (a failed line search) is off by far more. Coefficients: near the
    optimum f(theta) - f* = (theta - t*)' H (theta - t*) / 2, and differences in f below its
    rounding cannot steer a solver; we require that Hessian-norm gap below 1e-12 (1 + |f*|)
    (a margin of ~5000 over float64's eps), and a plain max-norm gap below
    1e-6 (1 + |t*|) as a check that needs no Hessian.
    """
    f, f_ref = _objective(theta, Z, y, C), _objective(ref, Z, y, C)
    assert np.all(np.isfinite(theta))
    assert f <= f_ref + 1e-13 * (1.0 + abs(f_ref)), (f, f_ref)
    delta = theta - ref
    H = _hessian(ref, Z, y, C)
    assert 0.5 * delta @ H @ delta <= 1e-12 * (1.0 + abs(f_ref))
    assert np.abs(delta).max() <= 1e-6 * (1.0 + np.abs(ref).max()), (theta, ref)


def _problem(seed: int, n: int, d: int, kind: str, C: float):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d)
    w = rng.normal(size=d)
    if kind == "nearly_separable":  # a sharp boundary, 1% of labels flipped
        y = (Z @ (8.0 * w) + 0.3 > 0).astype(np.float64)
        flip = rng.random(n) < 0.01
        y[flip] = 1.0 - y[flip]
    else:
        y = (rng.random(n) < expit(Z @ w + 0.3)).astype(np.float64)
    if kind == "one_row_per_class":  # one row of class 1 among class 0 (or the reverse)
        y[:] = 0.0
        y[rng.integers(n)] = 1.0
        if rng.random() < 0.5:
            y = 1.0 - y
    if np.isinf(C):
        # No penalty: the optimum exists only when no direction separates the classes.
        # Rows at 0 and at +-e_j in both classes rule every direction out (a direction
        # (w, b) with sign-consistent logits on them must have b = 0 and w = 0).
        E = np.vstack([np.zeros(d), np.eye(d), -np.eye(d)])
        Z = np.vstack([Z, E, E])
        y = np.r_[y, np.zeros(2 * d + 1), np.ones(2 * d + 1)]
    if y.min() == y.max():
        y[0] = 1.0 - y[0]
    return Z, y


# ---------------------------------------------------------------------- 1. _weighted_gram
def _gram_reference(At: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sum_k At[i,k] w[k] At[j,k] by a loop over the rows k, and the sum of |terms|."""
    m, n = At.shape
    H = np.zeros((m, m))
    S = np.zeros((m, m))
    for k in range(n):
        col = At[:, k]
        H += np.outer(col * w[k], col)
        S += np.abs(np.outer(col * w[k], col))
    return H, S


@pytest.mark.parametrize("n", [1, 2, 7, 1000])
@pytest.mark.parametrize("m", range(1, 31))
def test_weighted_gram_equals_a_sum_over_rows(m: int, n: int) -> None:
    rng = np.random.default_rng(1000 * m + n)
    At = rng.normal(size=(m, n)) * rng.uniform(0.1, 10.0, size=(m, 1))
    w = rng.uniform(0.0, 0.25, size=n)  # p (1 - p) lies in [0, 1/4]
    w[rng.random(n) < 0.3] = 0.0  # saturated rows weigh exactly 0
    H = _weighted_gram(At, w)
    ref, S = _gram_reference(At, w)
    assert H.shape == (m, m)
    # Each of the two sums of n products (two roundings per product) is within
    # (n + 2) eps sum|terms| of the exact value (the classical dot-product error bound).
    # (the mean of the two triangles adds one more rounding: 3 instead of 2)
    np.testing.assert_array_less(np.abs(H - ref), 3.0 * (n + 2) * EPS * S + 1e-300)
    assert np.array_equal(H, H.T)  # exactly symmetric, by either branch


@pytest.mark.parametrize("m", [1, 2, 3, 6, 24, 25])
@pytest.mark.parametrize("n", [3999, 4000, 6001])
def test_weighted_gram_on_either_side_of_the_row_threshold(m: int, n: int) -> None:
    # from 4,000 rows and up to 24 columns the Gram matrix is built row by row of the result
    rng = np.random.default_rng(7 * m + n)
    At = rng.normal(size=(m, n))
    w = rng.uniform(0.0, 0.25, size=n)
    terms = At[:, None, :] * w * At[None, :, :]  # (m, m, n): every product, then summed
    ref = np.sum(terms, axis=2)
    S = np.sum(np.abs(terms), axis=2)
    H = _weighted_gram(At, w)
    np.testing.assert_array_less(np.abs(H - ref), 3.0 * (n + 2) * EPS * S + 1e-300)
    assert np.array_equal(H, H.T)


@pytest.mark.parametrize("m", [3, 24, 25])
def test_weighted_gram_of_the_designs_callers_pass(m: int) -> None:
    # FoldFitter passes a column slice of the fold's design (rows not contiguous as a
    # whole array) or an np.take gather; any strided view must give the same matrix
    rng = np.random.default_rng(m)
    full = rng.normal(size=(m, 30000))
    w_full = rng.uniform(0.0, 0.25, size=30000)
    views = {  # each on either side of the 4,000-row threshold
        "slice": (full[:, 500:1700], w_full[500:1700]),
        "long slice": (full[:, 500:6500], w_full[500:6500]),
        "take": (np.take(full, np.arange(0, 30000, 3), axis=1), w_full[::3]),
        "strided": (full[:, ::2], w_full[::2]),
        "fortran": (np.asfortranarray(full[:, :900]), w_full[:900]),
        "long fortran": (np.asfortranarray(full[:, :9000]), w_full[:9000]),
    }
    for At, w in views.values():
        ref, S = _gram_reference(np.ascontiguousarray(At), np.ascontiguousarray(w))
        H = _weighted_gram(At, w)
        n = At.shape[1]
        np.testing.assert_array_less(np.abs(H - ref), 3.0 * (n + 2) * EPS * S)
        assert np.array_equal(H, H.T)


def test_weighted_gram_all_weights_zero_and_one_row() -> None:
    At = np.arange(12.0).reshape(3, 4)
    assert np.array_equal(_weighted_gram(At, np.zeros(4)), np.zeros((3, 3)))
    a = np.array([[2.0, -3.0, 0.5]])
    # one column of the design: the weighted sum of squares, exactly
    assert _weighted_gram(a, np.array([0.25, 1.0, 4.0]))[0, 0] == 4 * 0.25 + 9.0 + 0.25 * 4


# ---------------------------------------------------------------------- 2. the optimum
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 3000), d=st.integers(1, 6),
       C=st.sampled_from([0.01, 1.0, 100.0, np.inf]),
       kind=st.sampled_from(["logistic", "nearly_separable", "one_row_per_class"]))
def test_newton_reaches_the_optimum(seed: int, n: int, d: int, C: float, kind: str) -> None:
    Z, y = _problem(seed, n, d, kind, C)
    info: dict = {}
    theta = logistic_newton(Z, y, C, info=info)
    assert info["converged"] and 1 <= info["n_iter"] <= 100
    _assert_at_optimum(theta, _optimum(Z, y, C), Z, y, C)


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
def test_two_rows_one_per_class(C: float) -> None:
    # the smallest problem, one row per class, against the oracle
    Z = np.array([[-1.0], [2.0]])
    y = np.array([0.0, 1.0])
    theta = logistic_newton(Z, y, C)
    _assert_at_optimum(theta, _optimum(Z, y, C), Z, y, C)
    # (w, b) -> (w, -w - b) maps the objective onto itself (the rows swap roles), so the
    # unique optimum has b = -w / 2: opposite logits at x = -1 and x = 2
    z = _design(Z) @ theta
    assert abs(z[0] + z[1]) <= 1e-9 * (1.0 + abs(z[1]))


# ---------------------------------------------------------------------- 3. the line search
def _iterates(Z, y, C, init, limit=100):
    """The iterates theta_1, theta_2, ...: the solver stopped after 1, 2, ... Newton steps
    (each run repeats the same deterministic steps), up to the converged one."""
    out = []
    for k in range(1, limit + 1):
        info: dict = {}
        out.append(logistic_newton(Z, y, C, init, max_iter=k, info=info))
        if info["converged"]:
            return out
    raise AssertionError(f"not converged in {limit} steps")


def _far_cases():
    # (seed, n, d, C, offset of the start from the optimum (a vector) or an absolute start)
    return [
        (3, 400, 2, 1.0, np.array([40.0, -25.0, 0.0])),
        (4, 1500, 3, 100.0, np.array([0.0, 5.0, 0.0, 30.0])),
        (5, 800, 1, np.inf, np.array([-50.0, 50.0])),
        (6, 2000, 4, 0.01, np.array([12.0, -7.0, 20.0, 0.0, -45.0])),
        (7, 300, 2, 1.0, np.array([0.0, 0.0, 400.0])),  # a huge intercept
        (8, 1000, 5, 100.0, np.r_[np.zeros(5), -1e4]),  # every row saturated at the start
    ]


@pytest.mark.parametrize("case", range(6))
def test_far_warm_start_damped_steps_decrease_the_objective(case: int) -> None:
    seed, n, d, C, offset = _far_cases()[case]
    Z, y = _problem(seed, n, d, "logistic", C)
    ref = _optimum(Z, y, C)
    init = ref + offset
    its = _iterates(Z, y, C, init)
    _assert_at_optimum(its[-1], ref, Z, y, C)
    # every accepted step decreases the objective (the objective written here); a rise
    # smaller than its rounding (~n eps |f|) is all that is allowed
    f = [_objective(init, Z, y, C)] + [_objective(t, Z, y, C) for t in its]
    for a, b in zip(f[:-1], f[1:], strict=True):
        assert b <= a + 1e-13 * (1.0 + abs(a)), f
    # the first full Newton step from so far out overshoots: some step was damped, i.e. it
    # is a fraction 2^-j (j >= 1) of the Newton step computed here at its start, so the
    # objective comparison ran (the gradient test accepts a step's end without it only
    # after a comparison failed for the longer step). Only steps whose Hessian (written
    # here) is well conditioned are measured: a saturated start makes it singular.
    fractions = []
    prev = init
    for theta in its:
        H = _hessian(prev, Z, y, C)
        if np.linalg.cond(H) < 1e8:
            step = np.linalg.solve(H, _gradient(prev, Z, y, C))
            fractions.append(float((prev - theta) @ step) / float(step @ step))
        prev = theta
    assert all(t > 0 for t in fractions), fractions  # downhill, never beyond
    damped = [t for t in fractions if 2.0**-10 <= t < 0.75]
    assert damped, fractions
    for t in damped:  # halvings of the Newton step (within 1%: the solver's Hessian carries
        # a 1e-10-per-row ridge, which tilts the step a little where rows are saturated)
        assert abs(np.log2(t) - np.round(np.log2(t))) < 0.01, fractions


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 60), d=st.integers(1, 3),
       C=st.sampled_from([0.1, 1.0, 100.0]), scale=st.floats(0.5, 30.0),
       direction=st.integers(0, 2**32 - 1))
def test_every_accepted_step_decreases_the_exact_objective(seed, n, d, C, scale, direction):
    # Small problems (objectives of a few units) and warm starts at random distances from
    # the optimum, so that some full Newton steps overshoot by a little: the objective
    # comparison then decides, and it must compare exact objectives. An objective without
    # its log1p(e^-|z|) term (relu counted twice), an upper bound taken for the exact value
    # (log1p(e) <= e), or a comparison with slack each accept a step that raises it.
    Z, y = _problem(seed, n, d, "logistic", C)
    ref = _optimum(Z, y, C)
    v = np.random.default_rng(direction).normal(size=d + 1)
    init = ref + scale * v / np.linalg.norm(v)
    its = _iterates(Z, y, C, init)
    _assert_at_optimum(its[-1], ref, Z, y, C)
    f = [_objective(init, Z, y, C)] + [_objective(t, Z, y, C) for t in its]
    for a, b in zip(f[:-1], f[1:], strict=True):
        assert b <= a + 1e-13 * (1.0 + abs(a)), f


# ---------------------------------------------------------------------- 4. invalid warm starts
@pytest.mark.parametrize("bad", [
    [np.nan, 0.0, 0.0],
    [0.0, np.inf, 0.0],
    [0.0, 0.0, -np.inf],
    [1e308, 1e308, 1e308],  # logits overflow to inf
    [1e308, -1e308, 0.0],  # logits inf and -inf: inf - inf in the objective
    [0.0, 0.0, 1e308],  # the intercept alone overflows the penalty-free part
])
def test_non_finite_warm_start_falls_back_to_the_cold_start(bad) -> None:
    Z, y = _problem(31, 500, 2, "logistic", 1.0)
    ref = _optimum(Z, y, 1.0)
    init = np.array(bad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow in the rejected start
        theta = logistic_newton(Z, y, 1.0, init=init)
    _assert_at_optimum(theta, ref, Z, y, 1.0)
    assert np.array_equal(theta, logistic_newton(Z, y, 1.0))  # exactly the cold start
    assert np.array_equal(init, np.array(bad), equal_nan=True)  # the caller's array kept


# ---------------------------------------------------------------------- 5. info
def test_info_reports_steps_and_non_convergence() -> None:
    Z, y = _problem(41, 800, 3, "logistic", 1.0)
    ref = _optimum(Z, y, 1.0)
    info: dict = {}
    theta = logistic_newton(Z, y, 1.0, init=ref + 5.0, max_iter=1, info=info)
    assert info == {"n_iter": 1, "converged": False}
    assert _objective(theta, Z, y, 1.0) > _objective(ref, Z, y, 1.0) + 1e-3
    info = {}
    logistic_newton(Z, y, 1.0, init=ref + 5.0, info=info)
    assert info["converged"] and 2 <= info["n_iter"] <= 100
    # at the optimum already: one step (the check) is enough, even with max_iter=1
    info = {}
    theta = logistic_newton(Z, y, 1.0, init=ref, max_iter=1, info=info)
    assert info == {"n_iter": 1, "converged": True}
    _assert_at_optimum(theta, ref, Z, y, 1.0)


def test_fitted_logistic_warns_when_one_step_is_not_enough() -> None:
    Z, y = _problem(42, 800, 3, "nearly_separable", 100.0)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        model = fitted_logistic(LogisticRegression(C=100.0, max_iter=1), Z, y)
    assert model.n_iter_.tolist() == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fitted_logistic(LogisticRegression(C=100.0), Z, y)
    assert model.n_iter_[0] >= 2
    _assert_at_optimum(np.r_[model.coef_[0], model.intercept_[0]], _optimum(Z, y, 100.0),
                       Z, y, 100.0)


# ---------------------------------------------------------------------- 6. design_t
@pytest.mark.parametrize("C", [0.01, 1.0, np.inf])
def test_design_t_path_equals_the_Z_path(C: float) -> None:
    Z, y = _problem(51, 3000, 4, "logistic", C)
    n = len(y)
    full = np.empty((5, n))
    full[:4] = Z.T
    full[4] = 1.0
    for init in (None, np.full(5, 3.0)):
        by_z = logistic_newton(Z, y, C, init)
        by_t = logistic_newton(None, y, C, init, design_t=full)
        np.testing.assert_allclose(by_t, by_z, rtol=0, atol=1e-12)
        # what FoldFitter passes: a column slice of a larger design, and an np.take gather
        rows = np.arange(100, 2500)
        sub = logistic_newton(Z[rows], y[rows], C, init)
        np.testing.assert_allclose(
            logistic_newton(None, y[rows], C, init, design_t=full[:, 100:2500]), sub,
            rtol=0, atol=1e-12)
        pick = np.flatnonzero(np.arange(n) % 3 != 1)
        np.testing.assert_allclose(
            logistic_newton(None, y[pick], C, init, design_t=np.take(full, pick, axis=1)),
            logistic_newton(Z[pick], y[pick], C, init), rtol=0, atol=1e-12)
    _assert_at_optimum(by_t, _optimum(Z, y, C), Z, y, C)


# ---------------------------------------------------------------------- _solve_spd
@pytest.mark.parametrize("m", range(1, 9))
def test_solve_spd_solves_positive_definite_systems(m: int) -> None:
    # both sides of the 6-column switch to LAPACK; the residual is checked directly
    rng = np.random.default_rng(m)
    for _ in range(20):
        B = rng.normal(size=(m, m))
        H = B @ B.T + 1e-3 * np.eye(m) * rng.uniform(0.1, 10.0)
        H = (H + H.T) / 2
        g = rng.normal(size=m)
        x = _solve_spd(H, g)
        assert x.shape == (m,)
        cond = np.linalg.cond(H)
        assert np.linalg.norm(H @ x - g) <= 1e-12 * cond * np.linalg.norm(H) * (
            np.linalg.norm(x) + 1.0)


@pytest.mark.parametrize(
    ("H", "g", "expected"),
    [
        # a zero first pivot: singular, the least-squares (minimum-norm) answer
        ([[0.0, 0.0], [0.0, 2.0]], [0.0, 4.0], [0.0, 2.0]),
        # a zero pivot after one elimination step (rank 1)
        ([[1.0, 1.0], [1.0, 1.0]], [2.0, 2.0], [1.0, 1.0]),
        # a negative first pivot (not positive definite): the exact solve still applies
        ([[-2.0, 0.0], [0.0, 1.0]], [4.0, 3.0], [-2.0, 3.0]),
    ],
)
def test_solve_spd_hands_singular_and_indefinite_systems_to_lapack(H, g, expected) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warning from an elimination by zero
        x = _solve_spd(np.array(H), np.array(g))
    np.testing.assert_allclose(x, expected, atol=1e-12)


def test_solve_spd_with_nan_returns_what_lapack_returns() -> None:
    H = np.array([[np.nan, 0.0], [0.0, 1.0]])
    g = np.array([1.0, 1.0])
    x = _solve_spd(H, g)
    assert np.isnan(x[0]) and x[1] == 1.0
