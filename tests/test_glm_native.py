"""The compiled Newton solver of the logistic refits (``glassnet.simplify._glm_native``).

- its exp against Python's ``math.exp`` (glibc), in units in the last place, over the whole
  range it serves (``[-708, 0]``), at the reduction's boundaries, below it and on NaN;
- ``logistic_newton`` through it against NumPy's path (which takes the same steps) and
  against scikit-learn's solver, on random problems; a column slice of a larger design
  equals its copy bit for bit;
- the buffers it refuses (dtype, shape, stride, sizes, read-only ``theta``), the fallback to
  NumPy's path where a Hessian pivot fails or there are more than 64 columns, fits in threads,
  and a whole ``RegionMerger`` fit through either path.

The solver's step rule and stopping tests are checked on both paths in
``test_newton_buffers.py``.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

from glassnet.simplify import _glm

PURE_OK = os.environ.get("GLASSNET_PURE_PYTHON_OK") == "1"


def native_module():
    """The compiled module, or a failure (a skip where GLASSNET_PURE_PYTHON_OK=1)."""
    try:
        from glassnet.simplify import _glm_native
    except ImportError as exc:
        msg = (
            "glassnet.simplify._glm_native is not built: setup.py's optional build of the C "
            "Newton solver failed (no C compiler?) and the logistic refits fall back to "
            "NumPy, 4-5x slower. See why with `pip install -e . -v`; set "
            f"GLASSNET_PURE_PYTHON_OK=1 to accept the pure-Python build. ({exc})"
        )
        if PURE_OK:
            pytest.skip("GLASSNET_PURE_PYTHON_OK=1: pure-Python build accepted; " + msg)
        pytest.fail(msg)
    return _glm_native


@pytest.fixture
def native():
    return native_module()


def test_native_module_is_built_and_used(native):
    assert _glm._glm_native is native


# ---------------------------------------------------------------------- exp
def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.abs(got - ref) / np.spacing(ref)


def test_exp_within_one_ulp_of_glibc_over_its_range(native):
    rng = np.random.default_rng(0)
    ln2 = math.log(2.0)
    x = np.concatenate([
        np.linspace(-708.0, 0.0, 400_001),
        -rng.exponential(3.0, 200_000),
        -rng.uniform(0, 1e-6, 1000),
        # where the rounding of x / ln2 changes k, on either side
        np.array([-(k + 0.5) * ln2 for k in range(1021)])[:, None]
        + np.array([-4e-16, -2e-16, 0.0, 2e-16, 4e-16])[None, :] * 700,
        [0.0, -0.0, -5e-324, -1e-300, -1e-16, -708.0, -707.9999999999],
    ], axis=None)
    x = np.minimum(x.ravel(), 0.0)
    x = x[x >= -708.0]
    out = np.empty_like(x)
    native.exp_nonpos(x, out)
    ref = np.array([math.exp(v) for v in x.tolist()])
    assert _ulps(out, ref).max() <= 1.0
    assert out[x == 0.0].tolist() == [1.0] * int(np.sum(x == 0.0))


def test_exp_below_its_range_is_zero_and_nan_stays_nan(native):
    x = np.array([-708.0000001, -745.0, -746.0, -1e308, -np.inf, np.nan])
    out = np.full_like(x, 7.0)
    native.exp_nonpos(x, out)
    assert out[:5].tolist() == [0.0] * 5
    assert np.isnan(out[5])
    with pytest.raises(ValueError, match="one size"):
        native.exp_nonpos(x, np.empty(3))


# ---------------------------------------------------------------------- the solver
def _problem(seed: int, n: int, d: int, separable: bool = False):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    w = rng.normal(size=d) * (8.0 if separable else 1.5)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(Z @ w + rng.normal())))).astype(float)
    if y.min() == y.max():
        y[0] = 1.0 - y[0]
    return Z, y


def _numpy_path(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as m:
        m.setattr(_glm, "_glm_native", None)
        return _glm.logistic_newton(*args, **kwargs)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 2500), d=st.integers(1, 30),
       C=st.sampled_from([0.01, 1.0, 100.0, np.inf]), separable=st.booleans(),
       warm=st.booleans())
def test_compiled_solver_equals_numpy_path(seed, n, d, C, separable, warm):
    native_module()
    Z, y = _problem(seed, n, d, separable)
    init = np.random.default_rng(seed).normal(size=d + 1) if warm else None
    info_c: dict = {}
    got = _glm.logistic_newton(Z, y, C, init, info=info_c)
    native = _glm._glm_native
    _glm._glm_native = None
    try:
        info_n: dict = {}
        ref = _glm.logistic_newton(Z, y, C, init, info=info_n)
    finally:
        _glm._glm_native = native
    assert info_c["converged"] == info_n["converged"]
    # the same optimum: equal to rounding where it is well defined (an unpenalised
    # separable problem has none; its iterates drift along the separating direction)
    if np.isfinite(C) or not separable:
        np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("C", [0.05, 1.0, 100.0])
@pytest.mark.parametrize("d", [1, 3, 23])
def test_compiled_solver_equals_sklearn(native, C, d):
    Z, y = _problem(7 + d, 3000, d)
    ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-14, max_iter=500).fit(Z, y)
    expected = np.r_[ref.coef_[0], ref.intercept_[0]]
    for init in (None, expected - 0.4, np.full(d + 1, -7.0)):
        np.testing.assert_allclose(_glm.logistic_newton(Z, y, C, init), expected,
                                   rtol=0, atol=1e-8)


def test_slice_of_a_larger_design_equals_its_copy_bit_for_bit(native):
    Z, y = _problem(3, 5000, 3)
    full = np.vstack([Z.T, np.ones(len(y))])
    view = full[:, 700:4100]
    assert not view.flags.c_contiguous
    a = _glm.logistic_newton(None, y[700:4100], 1.0, design_t=view)
    b = _glm.logistic_newton(None, y[700:4100], 1.0, design_t=np.ascontiguousarray(view))
    assert np.array_equal(a, b)
    # and a design with every other column (a row stride the solver cannot take): copied
    c = _glm.logistic_newton(None, y[::2], 1.0, design_t=full[:, ::2])
    d = _glm.logistic_newton(Z[::2], y[::2], 1.0)
    np.testing.assert_allclose(c, d, rtol=0, atol=1e-12)


def test_buffers_the_module_refuses(native):
    A = np.vstack([np.random.default_rng(0).normal(size=(2, 50)), np.ones(50)])
    y = (A[0] > 0).astype(float)
    lam, theta = np.array([1.0, 1.0, 0.0]), np.zeros(3)

    def call(A=A, y=y, lam=lam, theta=theta):
        return native.logistic_newton(A, y, lam, theta, False, 1e-20, 100)

    assert call()[0] == 0
    with pytest.raises(ValueError, match="float64"):
        call(A=A.astype(np.float32))
    with pytest.raises(ValueError, match="float64"):
        call(A=A.ravel())
    with pytest.raises(ValueError, match="unit stride"):
        call(A=A[:, ::2], y=np.ascontiguousarray(y[::2]))
    with pytest.raises(ValueError, match="sizes"):
        call(y=y[:-1])
    with pytest.raises(ValueError, match="sizes"):
        call(lam=lam[:2])
    with pytest.raises(ValueError, match="sizes"):
        call(theta=np.zeros(4))
    with pytest.raises(ValueError, match="sizes"):
        big = np.ones((65, 10))
        native.logistic_newton(big, np.zeros(10), np.zeros(65), np.zeros(65), False, 0.0, 5)
    with pytest.raises(TypeError):
        call(theta=bytes(24))  # read-only: the result could not be written


def test_failed_pivot_falls_back_to_numpy(monkeypatch, native):
    Z, y = _problem(5, 400, 2)
    calls = []

    class Failing:
        @staticmethod
        def logistic_newton(*args):
            calls.append(args)
            return -1, 0

    monkeypatch.setattr(_glm, "_glm_native", Failing)
    got = _glm.logistic_newton(Z, y, 1.0)
    assert len(calls) == 1
    assert np.array_equal(got, _numpy_path(monkeypatch, Z, y, 1.0))


def test_more_than_64_columns_take_numpy_path(monkeypatch, native):
    Z, y = _problem(6, 600, 64)
    calls = []
    real = native.logistic_newton

    class Spy:
        @staticmethod
        def logistic_newton(*args):
            calls.append(args[0].shape)
            return real(*args)

    monkeypatch.setattr(_glm, "_glm_native", Spy)
    _glm.logistic_newton(Z[:, :63], y, 1.0)
    assert calls == [(64, 600)]
    theta = _glm.logistic_newton(Z, y, 1.0)
    assert calls == [(64, 600)]  # 65 columns: not passed
    assert np.array_equal(theta, _numpy_path(monkeypatch, Z, y, 1.0))


def test_non_finite_start_and_data(native):
    Z, y = _problem(8, 300, 2)
    cold = _glm.logistic_newton(Z, y, 1.0)
    for bad in ([np.nan, 0.0, 0.0], [1e308, -1e308, 0.0], [0.0, 0.0, np.inf]):
        with np.errstate(all="ignore"):
            assert np.array_equal(_glm.logistic_newton(Z, y, 1.0, np.array(bad)), cold)


def test_fits_in_threads_equal_fits_one_after_another(native):
    problems = [_problem(s, 20_000, 3) for s in range(8)]
    one = [_glm.logistic_newton(Z, y, 1.0) for Z, y in problems]
    with ThreadPoolExecutor(4) as pool:
        many = list(pool.map(lambda p: _glm.logistic_newton(p[0], p[1], 1.0), problems))
    for a, b in zip(one, many, strict=True):
        assert np.array_equal(a, b)


def test_merger_through_either_path(monkeypatch, native):
    from sklearn.datasets import make_circles

    from glassnet import RegionMerger, ReluNetClassifier

    X, y = make_circles(n_samples=3000, noise=0.1, factor=0.6, random_state=0)
    net = ReluNetClassifier((16, 16), random_state=0, max_epochs=30).fit(X, y)
    a = RegionMerger(net, random_state=0, n_jobs=1).fit(X, y)
    with monkeypatch.context() as m:
        m.setattr(_glm, "_glm_native", None)
        b = RegionMerger(net, random_state=0, n_jobs=1).fit(X, y)
    assert a.n_regions_ == b.n_regions_
    np.testing.assert_allclose(a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"],
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=0, atol=1e-7)


# ---------------------------------------------------------------------- Standardizer
@pytest.mark.parametrize("d", [1, 2, 8, 9, 23])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_standardizer_equals_sklearn_standard_scaler(d, layout):
    # narrow data go column by column, wide data through NumPy's reductions: both against
    # scikit-learn's StandardScaler (population sd; a constant column keeps scale 1)
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(d)
    X = rng.normal(size=(3000, d)) * 10.0 ** rng.integers(-3, 4, size=d) + rng.normal(size=d)
    X[:, 0] = 4.25  # a constant column
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout == "strided":
        X = np.repeat(X, 2, axis=1)[:, ::2]
    std = _glm.Standardizer(X)
    ref = StandardScaler().fit(X)
    np.testing.assert_allclose(std.mean_, ref.mean_, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(std.scale_, ref.scale_, rtol=1e-12)
    assert std.scale_[0] == 1.0
    Z = std.transform(X)
    assert Z.shape == X.shape and Z.dtype == np.float64
    np.testing.assert_allclose(Z, ref.transform(X), rtol=1e-11, atol=1e-11)
    assert np.all(Z[:, 0] == 0.0)


# ---------------------------------------------------------------------- rows grouped by leaf
def _grouped_by_python(leaf: np.ndarray, rank: np.ndarray):
    """The oracle: Python's stable sort of the rows by key, then each key's first position."""
    keys = [int(rank[v]) for v in leaf]
    order = sorted(range(len(leaf)), key=lambda i: keys[i])
    run = [keys[i] for i in order]
    start = [sum(1 for k in keys if k < key) for key in range(len(rank) + 1)]
    return np.array(order, dtype=np.int64), np.array(run, dtype=np.int64), np.array(start)


@settings(max_examples=120, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), L=st.integers(1, 60),
       permuted=st.booleans())
def test_group_rows_in_c_equal_a_stable_sort(seed, n, L, permuted):
    native_module()
    rng = np.random.default_rng(seed)
    leaf = rng.integers(0, L, n)
    # a permutation (what FoldFitter passes) or any ranks in range, with repeats
    rank = rng.permutation(L) if permuted else rng.integers(0, L, L)
    want = _grouped_by_python(leaf, rank)
    for got in (_glm.group_rows(leaf, rank), _glm._group_rows_numpy(leaf, rank)):
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


def test_group_rows_refuses_bad_buffers(native):
    leaf, rank = np.array([0, 2, 1], dtype=np.int64), np.array([2, 0, 1], dtype=np.int64)
    order, run, start = np.empty(3, np.int64), np.empty(3, np.int64), np.empty(4, np.int64)
    native.group_order(leaf, rank, order, run, start)
    assert order.tolist() == [2, 1, 0] and run.tolist() == [0, 1, 2]  # keys 2, 1, 0
    assert start.tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="leaf is out of range"):
        native.group_order(np.array([0, 3, 1], dtype=np.int64), rank, order, run, start)
    with pytest.raises(ValueError, match="leaf is out of range"):
        native.group_order(np.array([0, -1, 1], dtype=np.int64), rank, order, run, start)
    with pytest.raises(ValueError, match="rank is out of range"):
        native.group_order(leaf, np.array([2, 0, 3], dtype=np.int64), order, run, start)
    with pytest.raises(ValueError, match="inconsistent sizes"):
        native.group_order(leaf, rank, order, run, start[:3])
    with pytest.raises(ValueError, match="inconsistent sizes"):
        native.group_order(leaf, rank, order[:2], run, start)


@pytest.mark.parametrize("L", [65_537, 70_000])
def test_group_rows_beyond_16_bit_keys(L):
    # more than 65,536 leaves: NumPy's path sorts the keys as they are, not as uint16
    rng = np.random.default_rng(9)
    rank = rng.permutation(L)
    leaf = np.concatenate([rng.integers(0, L, 5_000), np.flatnonzero(rank >= 65_536)])
    want = np.argsort(rank[leaf], kind="stable")
    for order, run, start in (_glm.group_rows(leaf, rank), _glm._group_rows_numpy(leaf, rank)):
        np.testing.assert_array_equal(order, want)
        np.testing.assert_array_equal(run, rank[leaf][want])
        np.testing.assert_array_equal(start, np.searchsorted(run, np.arange(L + 1)))
