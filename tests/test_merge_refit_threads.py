"""The simplifiers' final logistic refit by glassnet's Newton steps, and the merger's folds
in threads.

Oracles: scikit-learn's own ``LogisticRegression.fit`` (solved to a gradient of 1e-12), the
penalised log-likelihood written out here, per-row refits of scikit-learn on the rows of each
merged region, and the sequential cross-validation (``n_jobs=1``) for the threaded one.
"""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.datasets import make_circles
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

import glassnet.simplify._glm as glm
import glassnet.simplify._merge_cv as merge_cv
from glassnet import RegionMerger, RegionPruner

# the default refit of the simplifiers, written out (not read from glassnet)
DEFAULT = LogisticRegression(C=100.0, solver="newton-cholesky", tol=1e-10, max_iter=100)


def oracle(C: float, Z: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """scikit-learn's fit of the same objective, run to a gradient of 1e-12."""
    return LogisticRegression(C=C, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(Z, y)


def objective(w: np.ndarray, b: float, Z: np.ndarray, y: np.ndarray, C: float) -> float:
    """``sum_i log(1 + e^z_i) - y_i z_i + ||w||^2 / (2C)``, ``z = Z w + b`` (fsum: exact sum)."""
    z = Z @ w + b
    loss = np.logaddexp(0.0, z) - y * z
    return math.fsum(loss.tolist()) + float(w @ w) / (2.0 * C)


def logistic_data(seed: int, n: int, d: int, sep: float) -> tuple[np.ndarray, np.ndarray]:
    """Standardised Gaussian columns, labels drawn from a logistic model of slope ``sep``
    (large ``sep``: nearly separable)."""
    rng = np.random.default_rng(1000 * seed + 10 * d + n)
    Z = rng.normal(size=(n, d))
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    beta = rng.normal(size=d) * sep / np.sqrt(d)
    y = (rng.random(n) < expit(Z @ beta + 0.3)).astype(np.int64)
    assert 0 < y.sum() < n  # both classes
    return Z, y


def check_against_oracle(refit: LogisticRegression, Z: np.ndarray, y: np.ndarray,
                         proba_atol: float) -> None:
    C = float(refit.C)
    with threadpool_limits(limits=1, user_api="blas"):
        model = glm.fitted_logistic(refit, Z, y)
        ref = oracle(C, Z, y)
    # a fitted LogisticRegression, a new object; refit itself untouched
    assert type(model) is LogisticRegression
    assert model is not refit
    assert model.get_params() == refit.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(refit)
    assert not hasattr(refit, "coef_")
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert model.n_features_in_ == Z.shape[1]
    assert model.coef_.shape == (1, Z.shape[1]) and model.intercept_.shape == (1,)
    assert isinstance(model.n_iter_, np.ndarray) and model.n_iter_.shape == (1,)
    assert np.issubdtype(model.n_iter_.dtype, np.integer) and model.n_iter_[0] >= 1
    # the same optimum as scikit-learn's
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(model.predict_proba(Z), ref.predict_proba(Z), rtol=0,
                               atol=proba_atol)
    np.testing.assert_array_equal(model.predict(Z), ref.predict(Z))
    # and no worse an objective than scikit-learn's solution
    f_model = objective(model.coef_[0], model.intercept_[0], Z, y, C)
    f_ref = objective(ref.coef_[0], ref.intercept_[0], Z, y, C)
    assert f_model <= f_ref + 1e-9


# ---------------------------------------------------------------------- 1. vs scikit-learn
@pytest.mark.parametrize("sep", [1.0, 8.0])
@pytest.mark.parametrize("n", [30, 500, 5000])
@pytest.mark.parametrize("d", [1, 2, 5, 23])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fitted_logistic_matches_sklearn(seed: int, d: int, n: int, sep: float) -> None:
    Z, y = logistic_data(seed, n, d, sep)
    check_against_oracle(DEFAULT, Z, y, proba_atol=1e-9)


@pytest.mark.parametrize("sep", [30.0, 100.0])
@pytest.mark.parametrize("n", [30, 500, 5000])
@pytest.mark.parametrize("d", [1, 5, 23])
@pytest.mark.parametrize("seed", [0, 1])
def test_fitted_logistic_matches_sklearn_nearly_separable(seed: int, d: int, n: int,
                                                         sep: float) -> None:
    # Slopes of 10-60 standard units: the objective is flat along the separating direction.
    # fitted_logistic stops once the Newton decrement is below the objective's rounding
    # (its gradient then ~1e-8, like scikit-learn at the default tol=1e-10), so it sits up
    # to ~4e-8 from the exact optimum in coefficients and ~2e-9 in probability (seed 1,
    # d=23, n=500): the probabilities are compared at 1e-8 here, the objective as above.
    Z, y = logistic_data(seed, n, d, sep)
    check_against_oracle(DEFAULT, Z, y, proba_atol=1e-8)


@pytest.mark.parametrize("refit", [
    LogisticRegression(C=1.0),  # lbfgs, default tol: fitted_logistic solves it all the same
    LogisticRegression(C=0.05, solver="newton-cg", max_iter=50),
    LogisticRegression(C=1e4, solver="newton-cholesky", tol=1e-8),
], ids=["C1-lbfgs", "C0.05-newton-cg", "C1e4"])
def test_fitted_logistic_honours_C_of_any_fast_logistic(refit: LogisticRegression) -> None:
    assert glm.fast_kind(refit, "classification", 2) == "logistic"
    Z, y = logistic_data(3, 400, 4, 3.0)
    check_against_oracle(refit, Z, y, proba_atol=1e-9)
    # and the penalty matters: a different C gives a different model
    other = glm.fitted_logistic(clone(refit).set_params(C=refit.C * 10), Z, y)
    assert np.abs(other.coef_ - glm.fitted_logistic(refit, Z, y).coef_).max() > 1e-4


# ---------------------------------------------------------------------- 2. ConvergenceWarning
def test_fitted_logistic_warns_when_max_iter_is_too_small() -> None:
    Z, y = logistic_data(0, 500, 5, 30.0)  # nearly separable: ~11 Newton steps
    refit = clone(DEFAULT).set_params(max_iter=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = glm.fitted_logistic(refit, Z, y)
    conv = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(conv) == 1, [str(w.message) for w in caught]
    assert "max_iter=1" in str(conv[0].message)
    assert model.n_iter_.tolist() == [1]
    # one step is not the optimum: the objective is measurably above scikit-learn's
    ref = oracle(100.0, Z, y)
    assert (objective(model.coef_[0], model.intercept_[0], Z, y, 100.0)
            > objective(ref.coef_[0], ref.intercept_[0], Z, y, 100.0) + 1e-3)


def test_fitted_logistic_silent_when_converged() -> None:
    Z, y = logistic_data(1, 2000, 3, 1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = glm.fitted_logistic(DEFAULT, Z, y)
    assert caught == [], [str(w.message) for w in caught]
    assert 1 <= model.n_iter_[0] < 100


# ---------------------------------------------------------------------- 3. the final models_
@pytest.fixture(scope="module")
def circles() -> tuple[np.ndarray, np.ndarray, MLPClassifier]:
    X, y = make_circles(n_samples=600, noise=0.1, factor=0.6, random_state=0)
    mlp = MLPClassifier((20, 20), max_iter=600, random_state=0).fit(X, y)
    return X, y, mlp


def check_final_models(est, X: np.ndarray, y: np.ndarray) -> None:
    # the standardisation, computed here
    mean, sd = X.mean(axis=0), X.std(axis=0)
    np.testing.assert_allclose(est.x_mean_, mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.x_scale_, np.where(sd > 0, sd, 1.0), rtol=1e-12)
    Z = (X - mean) / sd
    y_codes = np.searchsorted(est.classes_, y)
    assert len(est.models_) == est.n_regions_
    n_fitted = 0
    for g, model in enumerate(est.models_):
        rows = est.merged_labels_ == g
        assert rows.any()
        if np.unique(y_codes[rows]).size < 2:  # one class: a constant model, listed as such
            assert g in est.constant_regions_.tolist()
            assert not isinstance(model, LogisticRegression)
            continue
        assert g not in est.constant_regions_.tolist()
        assert type(model) is LogisticRegression
        ref = oracle(100.0, Z[rows], y_codes[rows])
        np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0, atol=1e-6)
        np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(model.classes_, [0, 1])
        assert model.n_features_in_ == X.shape[1] and model.n_iter_[0] >= 1
        # coef_/intercept_ of the estimator: the same model in the original units of X
        raw = ref.coef_[0] / sd
        np.testing.assert_allclose(est.coef_[g, 0], raw, rtol=0, atol=1e-5)
        np.testing.assert_allclose(est.intercept_[g, 0], ref.intercept_[0] - raw @ mean,
                                   rtol=0, atol=1e-5)
        n_fitted += 1
    assert n_fitted >= 2  # the check compared real fits


def test_merger_final_models_match_sklearn(circles) -> None:
    X, y, mlp = circles
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a one-class merged region's notice
        merger = RegionMerger(mlp, random_state=0).fit(X, y)
    check_final_models(merger, X, y)


@pytest.mark.parametrize("n_regions", [10, "cv"])
def test_pruner_final_models_match_sklearn(circles, n_regions) -> None:
    X, y, mlp = circles
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pruner = RegionPruner(mlp, n_regions=n_regions, random_state=0).fit(X, y)
    check_final_models(pruner, X, y)


# ---------------------------------------------------------------------- 4. threads
def _cores(n: int | None):
    """A stand-in for the core count glassnet.simplify._merge_cv reads (joblib's ``cpu_count``)."""
    return lambda: n


@pytest.fixture
def spy(monkeypatch):
    """Records the calls of merge_cv.folds_in_threads and the threads the folds ran in."""
    calls: list[int] = []
    fold_threads_seen: list[int] = []
    real_pool, real_fold = merge_cv.folds_in_threads, merge_cv.cv_fold_scores

    def pool(splits, job, threads, bar, **kw):
        calls.append(threads)
        return real_pool(splits, job, threads, bar, **kw)

    def fold(**kw):
        fold_threads_seen.append(threading.get_ident())
        return real_fold(**kw)

    monkeypatch.setattr(merge_cv, "folds_in_threads", pool)
    monkeypatch.setattr(merge_cv, "cv_fold_scores", fold)
    return calls, fold_threads_seen


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return est.fit(X, y)


def assert_same_fit(a, b) -> None:
    assert a.cv_results_.keys() == b.cv_results_.keys()
    for key in a.cv_results_:
        va, vb = np.asarray(a.cv_results_[key]), np.asarray(b.cv_results_[key])
        assert va.dtype == vb.dtype and va.shape == vb.shape, key
        assert np.array_equal(va, vb, equal_nan=va.dtype.kind == "f"), key  # bit for bit
    assert a.cv_n_regions_ == b.cv_n_regions_ and a.n_regions_ == b.n_regions_
    np.testing.assert_array_equal(a.region_to_merged_, b.region_to_merged_)
    np.testing.assert_array_equal(a.merged_labels_, b.merged_labels_)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)


@pytest.mark.parametrize("cpus", [2, 3, 8])
def test_threaded_folds_equal_sequential(circles, spy, monkeypatch, cpus: int) -> None:
    X, y, mlp = circles
    calls, seen = spy
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(cpus))
    threaded = fit_quietly(RegionMerger(mlp, random_state=0), X, y)
    assert calls == [min(5, cpus)]  # the threaded path ran, one thread per core up to 5 folds
    assert len(seen) == 5 and threading.get_ident() not in seen  # every fold in a worker
    calls.clear()
    seen.clear()
    sequential = fit_quietly(RegionMerger(mlp, random_state=0, n_jobs=1), X, y)
    assert calls == []
    assert seen == [threading.get_ident()] * 5
    assert_same_fit(threaded, sequential)


def test_one_core_runs_folds_sequentially(circles, spy, monkeypatch) -> None:
    X, y, mlp = circles
    calls, seen = spy
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(1))
    fit_quietly(RegionMerger(mlp, random_state=0), X, y)
    assert calls == [] and seen == [threading.get_ident()] * 5


def test_threaded_folds_equal_sequential_regression(spy, monkeypatch) -> None:
    rng = np.random.default_rng(7)
    X = rng.uniform(-2, 2, size=(500, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.normal(size=500)
    mlp = MLPRegressor(hidden_layer_sizes=(12, 12), max_iter=2000, random_state=0).fit(X, y)
    calls, seen = spy
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(4))
    est = dict(cv=4, candidates=[1, 2, 3, 5, 8], random_state=0)
    threaded = fit_quietly(RegionMerger(mlp, **est), X, y)
    assert calls == [4] and threading.get_ident() not in seen
    calls.clear()
    sequential = fit_quietly(RegionMerger(mlp, n_jobs=1, **est), X, y)
    assert calls == []
    assert_same_fit(threaded, sequential)


# ---------------------------------------------------------------------- 5. fold_threads
@pytest.mark.parametrize("cpus, splits, expected", [
    (1, 5, 1), (2, 5, 2), (4, 5, 4), (16, 5, 5), (16, 3, 3), (None, 5, 1),
])
def test_fold_threads_default_refit(monkeypatch, cpus, splits, expected) -> None:
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(cpus))
    assert merge_cv.fold_threads(None, splits, clone(DEFAULT), "classification", 2) == expected
    assert merge_cv.fold_threads(None, splits, LinearRegression(), "regression", 0) == expected


def test_fold_threads_other_cases(monkeypatch) -> None:
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(8))
    for n_jobs in (1, 2, 4, -1):  # sequential, or worker processes: never threads
        assert merge_cv.fold_threads(n_jobs, 5, clone(DEFAULT), "classification", 2) == 1
    custom = [
        (LogisticRegression(solver="saga", l1_ratio=1.0, C=0.5), "classification", 2),
        (LogisticRegression(class_weight="balanced"), "classification", 2),
        (LogisticRegression(solver="liblinear"), "classification", 2),
        (clone(DEFAULT), "classification", 3),  # multinomial: scikit-learn's solver
        (Ridge(alpha=1.0), "regression", 0),
        (LinearRegression(positive=True), "regression", 0),
    ]
    for refit, task, n_classes in custom:
        assert merge_cv.fold_threads(None, 5, refit, task, n_classes) == 1, refit


def test_custom_refit_merger_never_uses_threads(circles, spy, monkeypatch) -> None:
    X, y, mlp = circles
    calls, seen = spy
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(8))
    refit = LogisticRegression(C=10.0, class_weight="balanced", max_iter=500)
    fit_quietly(RegionMerger(mlp, refit=refit, candidates=[1, 2, 4], random_state=0), X, y)
    assert calls == [] and seen == [threading.get_ident()] * 5


# ---------------------------------------------------------------------- 6. warnings in threads
@pytest.mark.parametrize("n_jobs", [None, 1])
def test_warnings_in_threads_reported_once(circles, monkeypatch, n_jobs) -> None:
    X, y, mlp = circles
    monkeypatch.setattr(merge_cv, "cpu_count", _cores(4))
    real = glm.logistic_newton
    calls: list[int] = []
    lock = threading.Lock()

    def noisy(*args, **kwargs):
        with lock:
            calls.append(threading.get_ident())
        warnings.warn("x", UserWarning, stacklevel=2)
        return real(*args, **kwargs)

    monkeypatch.setattr(glm, "logistic_newton", noisy)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        merger = RegionMerger(mlp, random_state=0, n_jobs=n_jobs).fit(X, y)
        after = list(warnings.filters)
    # the filters the fit found are the filters it left (no "always" leaked from a thread)
    assert after == before
    messages = [str(w.message) for w in caught]
    assert "x" not in messages  # every raw warning was recorded, none escaped
    cv = [m for m in messages if m.startswith("glassnet: warning:") and "cross-validation" in m]
    assert len(cv) == 1, messages
    # the final refit's Newton calls: one per non-constant merged region (in this thread)
    final = merger.n_regions_ - merger.constant_regions_.size
    n_cv = len(calls) - final
    assert n_cv > 0
    assert "the cross-validation refits raised " in cv[0]
    assert f"raised {n_cv} warning(s) (UserWarning; first: x)" in cv[0]
    if n_jobs is None:  # every refit, cross-validation and final, ran in a worker thread
        assert final > 1
        assert threading.get_ident() not in calls
    else:  # n_jobs=1: the final refits one after another in this thread
        assert calls[n_cv:] == [threading.get_ident()] * final
    final_notes = [m for m in messages if "refitting the GLMs" in m]
    assert len(final_notes) == 1 and f"raised {final} warning(s)" in final_notes[0]
