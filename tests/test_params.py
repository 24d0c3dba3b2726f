"""Declarative parameter constraints, one helper for every estimator (issue 13).

Every glassnet estimator declares ``_parameter_constraints`` and its ``fit`` checks them with
``glassnet._params.validate_params``. The tests here do not read what the constraints accept:

* a hand-written table of bad values (with the error type a user should get) covers every
  constrained parameter of every estimator, and each bad value must be refused by ``fit``
  with a message that names the parameter and the value;
* parametrised from ``_parameter_constraints``: every constrained parameter is a real
  constructor parameter, is covered by the table, and refuses a function or an arbitrary
  object with a ``TypeError`` (a callable is never taken for a number or an option);
* a hand-written table of good values at the edges of what is allowed, each of which must
  fit.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import max_error
from sklearn.model_selection import KFold, cross_val_score

from glassnet import MixtureOfLinearModels, ReluNetClassifier, ReluNetRegressor, ReluNetwork
from glassnet._params import HasMethods, Integer, Interval, Options, SequenceOf, check_param
from glassnet.simplify import RegionMerger, RegionPruner

ESTIMATORS = (ReluNetClassifier, ReluNetRegressor, MixtureOfLinearModels, RegionMerger,
              RegionPruner)


def _network() -> ReluNetwork:
    rng = np.random.default_rng(0)
    return ReluNetwork([rng.normal(size=(6, 3)), rng.normal(size=(1, 6))],
                       [0.1 * rng.normal(size=6), np.zeros(1)])


def _data(cls):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    if cls is ReluNetClassifier:
        return X, (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, X[:, 0] - 0.5 * X[:, 2]


def _make(cls, **params):
    """A cheap estimator of ``cls`` (tiny training, fixed count) with ``params`` set."""
    if cls in (ReluNetClassifier, ReluNetRegressor):
        base = dict(hidden_layer_sizes=(4,), max_epochs=2, batch_size=30, random_state=0)
        return cls(**{**base, **params})
    if cls is MixtureOfLinearModels:
        base = dict(n_layer_clusters=3, n_epics=2, n_perturb=5, random_state=0)
        return cls(_network(), **{**base, **params})
    return cls(_network(), **{"n_regions": 1, **params})


_RELU_BAD = [
    ("hidden_layer_sizes", (0,), ValueError), ("hidden_layer_sizes", (4, 2.5), ValueError),
    ("hidden_layer_sizes", [], ValueError), ("hidden_layer_sizes", "8", TypeError),
    ("hidden_layer_sizes", True, TypeError),
    ("standardize", 1, TypeError), ("standardize", "yes", TypeError),
    ("categorical_features", 1.5, TypeError), ("categorical_features", -1, ValueError),
    ("categorical_features", [True], ValueError),
    ("l1_reg", -1.0, ValueError), ("l1_reg", math.nan, ValueError), ("l1_reg", "0.1", TypeError),
    ("learning_rate", 0.0, ValueError), ("learning_rate", math.inf, ValueError),
    ("batch_size", 0, ValueError), ("batch_size", 10.0, TypeError),
    ("max_epochs", 0, ValueError), ("max_epochs", True, TypeError),
    ("validation_fraction", 1.0, ValueError), ("validation_fraction", -0.1, ValueError),
    ("n_iter_no_change", 0, ValueError), ("n_iter_no_change", 2.5, TypeError),
    ("tol", -1e-4, ValueError),
    ("random_state", -1, ValueError), ("random_state", 2**32, ValueError),
    ("random_state", 1.5, TypeError),
    ("verbose", -1, ValueError), ("verbose", "yes", TypeError),
    ("device", "no-such-device", ValueError), ("device", 3, TypeError),
    ("n_jobs", 0, ValueError), ("n_jobs", 1.0, TypeError),
]
_MLM_BAD = [
    ("n_layer_clusters", 0, ValueError), ("n_layer_clusters", "many", ValueError),
    ("n_layer_clusters", [2, 0], ValueError), ("n_layer_clusters", 2.5, TypeError),
    ("clustering", "dbscan", ValueError),
    ("n_perturb", -1, ValueError), ("n_perturb", 1.5, TypeError),
    ("perturb_var", -1e-3, ValueError), ("perturb_var", math.nan, ValueError),
    ("n_epics", 0, ValueError), ("n_epics", 2.0, TypeError),
    ("linkage", "centroid", ValueError), ("weights", "fuzzy", ValueError),
    ("prior", "flat", ValueError), ("covariance_type", "banded", ValueError),
    ("covariance_source", "perturbed", ValueError),
    ("covariance_shrinkage", -1.0, ValueError), ("reg_covar", -1e-6, ValueError),
    ("penalty", "elasticnet", ValueError), ("penalty", 1, TypeError),
    ("alpha", 0.0, ValueError), ("alpha", "big", TypeError),
    ("task", "ranking", ValueError),
    ("validation_fraction", 0.0, ValueError), ("validation_fraction", 1.0, ValueError),
    ("selection_tol", -0.1, ValueError),
    ("max_iter", 0, ValueError), ("max_iter", np.float64(10), TypeError),
    ("random_state", -1, ValueError), ("random_state", "seed", TypeError),
]
_SIMPLIFIER_BAD = [
    ("n_regions", 0, ValueError), ("n_regions", "all", ValueError),
    ("n_regions", True, TypeError), ("n_regions", 2.0, TypeError),
    ("selection", "min", ValueError), ("selection", 1, TypeError),
    ("task", "ranking", ValueError), ("task", "Regression", ValueError), ("task", 1, TypeError),
    ("cv", 1, ValueError), ("cv", 0, ValueError), ("cv", 2.0, TypeError),
    ("cv", "5", TypeError), ("cv", True, TypeError),
    ("scoring", "auc", ValueError), ("scoring", "", ValueError), ("scoring", 1, TypeError),
    ("candidates", [], ValueError), ("candidates", [0, 2], ValueError),
    ("candidates", (1, 2.0), ValueError), ("candidates", [1, True], ValueError),
    ("candidates", np.array([1.0, 2.0]), ValueError), ("candidates", 3, TypeError),
    ("candidates", "1,2", TypeError),
    ("refit", "lr", TypeError), ("refit", dict, TypeError),
    ("random_state", -1, ValueError), ("random_state", 2**32, ValueError),
    ("random_state", 1.5, TypeError), ("random_state", "0", TypeError),
    ("verbose", -1, ValueError), ("verbose", 1.0, TypeError), ("verbose", "yes", TypeError),
]
_MERGER_BAD = [
    ("min_count", 0, ValueError), ("min_count", 1.5, TypeError),
    ("connectivity", 0, ValueError), ("connectivity", "a", TypeError),
    ("unseen", "nearest", ValueError), ("unseen", 1, TypeError),
    ("cv_tree", "all", ValueError), ("cv_tree", None, TypeError),
    ("n_jobs", 0, ValueError), ("n_jobs", 1.0, TypeError), ("n_jobs", True, TypeError),
]
BAD = {
    ReluNetClassifier: _RELU_BAD,
    ReluNetRegressor: _RELU_BAD,
    MixtureOfLinearModels: _MLM_BAD,
    RegionMerger: _SIMPLIFIER_BAD + _MERGER_BAD,
    RegionPruner: _SIMPLIFIER_BAD,
}


def _id(value):
    """A test id without memory addresses, so every pytest-xdist worker collects the same."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def _cases(table):
    return [pytest.param(cls, name, value, exc, id=f"{cls.__name__}-{name}-{_id(value)}")
            for cls, rows in table.items() for name, value, exc in rows]


@pytest.mark.parametrize("cls, name, value, exc", _cases(BAD))
def test_bad_value_is_refused_in_fit_naming_parameter_and_value(cls, name, value, exc):
    X, y = _data(cls)
    with pytest.raises(exc) as info:
        _make(cls, **{name: value}).fit(X, y)
    msg = str(info.value)
    assert msg.startswith(f"{name} must be "), msg
    assert msg.endswith(f"; got {value!r}."), msg
    assert type(info.value) is exc  # not a subclass standing in for the other kind


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_constrained_parameter_is_real_and_in_the_bad_table(cls):
    declared = set(cls._parameter_constraints)
    assert declared <= set(_make(cls).get_params()), declared - set(_make(cls).get_params())
    assert declared == {name for name, _, _ in BAD[cls]}


# the parameters documented to take a function (a score(y_true, y_score)); every other one
# refuses a function as well as an arbitrary object
TAKES_A_FUNCTION = {(RegionMerger, "scoring"), (RegionPruner, "scoring")}


def _declared():
    return [pytest.param(cls, name, value, id=f"{cls.__name__}-{name}-{kind}")
            for cls in ESTIMATORS for name in cls._parameter_constraints
            for kind, value in (("function", lambda: 1), ("object", object()))
            if kind == "object" or (cls, name) not in TAKES_A_FUNCTION]


@pytest.mark.parametrize("cls, name, value", _declared())
def test_callables_and_objects_are_refused_for_every_constraint(cls, name, value):
    # no parameter of these estimators takes an arbitrary object, and only scoring a function
    X, y = _data(cls)
    with pytest.raises(TypeError, match=f"^{name} must be "):
        _make(cls, **{name: value}).fit(X, y)


_RELU_GOOD = [
    ("hidden_layer_sizes", 1), ("hidden_layer_sizes", [2, 1]),
    ("hidden_layer_sizes", np.array([3], dtype=np.int32)),
    ("standardize", np.bool_(False)), ("categorical_features", []),
    ("l1_reg", 0.0), ("l1_reg", 0), ("learning_rate", 1e-12), ("batch_size", 1),
    ("max_epochs", 1), ("validation_fraction", 0.0), ("validation_fraction", 0.5),
    ("n_iter_no_change", None), ("n_iter_no_change", 1), ("tol", 0),
    ("random_state", None), ("random_state", 0), ("random_state", 2**32 - 1),
    ("random_state", np.random.RandomState(0)), ("verbose", 0), ("device", "cpu"),
    ("n_jobs", -1), ("n_jobs", 1), ("n_jobs", np.int64(1)),
]
_MLM_GOOD = [
    ("n_layer_clusters", 1), ("n_layer_clusters", [2]), ("n_layer_clusters", "auto"),
    ("n_perturb", 0), ("perturb_var", 0.0), ("n_epics", 1),
    ("covariance_shrinkage", 0), ("selection_tol", 0.0), ("max_iter", 1),
    ("penalty", "l2"), ("alpha", 1e-12), ("penalty", None), ("linkage", "single"),
    ("random_state", np.random.RandomState(0)), ("random_state", 2**32 - 1),
]
GOOD = {
    ReluNetClassifier: _RELU_GOOD,
    ReluNetRegressor: _RELU_GOOD,
    MixtureOfLinearModels: _MLM_GOOD,
    RegionMerger: [("n_regions", 1), ("min_count", 1), ("connectivity", None),
                   ("connectivity", 1), ("selection", "best"), ("unseen", "llm"),
                   ("cv_tree", "full"), ("n_jobs", -1), ("n_jobs", 1), ("n_jobs", None)],
    RegionPruner: [("n_regions", 1), ("n_regions", np.int64(2)), ("selection", "best")],
}
# parameters the two simplifiers share, at the edges of what is allowed
_SIMPLIFIER_GOOD = [
    ("task", "auto"), ("task", "regression"), ("refit", None), ("refit", Ridge(alpha=1e-3)),
    ("random_state", None), ("random_state", 0), ("random_state", 2**32 - 1),
    ("random_state", np.random.RandomState(0)), ("verbose", False), ("verbose", 0),
    ("verbose", np.int64(2)), ("cv", 2), ("cv", KFold(2)), ("candidates", None),
    ("candidates", [1]), ("candidates", np.array([2, 1, 2], dtype=np.int32)),
    ("candidates", range(1, 3)),
    ("scoring", None), ("scoring", "r2"), ("scoring", "neg_mean_absolute_error"),
]
for _cls in (RegionMerger, RegionPruner):
    GOOD[_cls] = GOOD[_cls] + _SIMPLIFIER_GOOD


@pytest.mark.parametrize("cls, name, value", [
    pytest.param(cls, name, value, id=f"{cls.__name__}-{name}-{_id(value)}")
    for cls, rows in GOOD.items() for name, value in rows])
def test_good_boundary_value_fits(cls, name, value):
    X, y = _data(cls)
    est = _make(cls, **{name: value}).fit(X, y)
    assert est.n_features_in_ == 3


def _neg_max_error(y_true, y_pred):
    return -max_error(y_true, y_pred)


@pytest.mark.parametrize("cls", [RegionMerger, RegionPruner], ids=lambda c: c.__name__)
@pytest.mark.parametrize("scoring, sk_scoring", [
    ("r2", "r2"), ("neg_mean_absolute_error", "neg_mean_absolute_error"),
    (_neg_max_error, "neg_max_error"), (None, "neg_root_mean_squared_error")])
def test_accepted_cv_scoring_and_candidates_are_the_ones_used(cls, scoring, sk_scoring):
    # one merged region is one linear model on all of a fold's rows, so each fold's score is
    # scikit-learn's cross_val_score of LinearRegression on the same (unshuffled) folds
    X, y = _data(cls)
    est = _make(cls, n_regions="cv", cv=KFold(3), candidates=np.array([1, 1]),
                scoring=scoring, refit=LinearRegression()).fit(X, y)
    oracle = cross_val_score(LinearRegression(), X, y, cv=KFold(3), scoring=sk_scoring)
    res = est.cv_results_
    assert res["n_regions"].tolist() == [1]
    got = [res[f"split{i}_test_score"][0] for i in range(3)]
    assert "split3_test_score" not in res
    np.testing.assert_allclose(got, oracle, rtol=1e-9, atol=1e-12)
    if callable(scoring):
        assert est.scoring_name_ == "_neg_max_error"


@pytest.mark.parametrize("cls", [RegionMerger, RegionPruner], ids=lambda c: c.__name__)
@pytest.mark.parametrize("refit", [LinearRegression, type("FitOnly", (), {"fit": len})()],
                         ids=["class", "no-get_params"])
def test_refit_must_be_an_estimator_object(cls, refit):
    # a class (its fit is there but unbound) or an object clone() cannot copy is refused
    X, y = _data(cls)
    with pytest.raises(TypeError, match="^refit must be None or an object with methods fit "
                                        "and get_params; got "):
        _make(cls, refit=refit).fit(X, y)


@pytest.mark.parametrize("cls", [RegionMerger, RegionPruner], ids=lambda c: c.__name__)
def test_data_dependent_checks_stay_after_the_declared_ones(cls):
    X, y = _data(cls)
    # a scorer name of the other task passes the declaration, then the task refuses it in
    # fit, with or without cross-validation
    for n_regions in ("cv", 1):
        with pytest.raises(ValueError,
                           match="scoring='roc_auc' is not available for regression"):
            _make(cls, n_regions=n_regions, cv=2, candidates=[1], scoring="roc_auc").fit(X, y)
    # cv=2 is a valid count of folds, but not for 3 rows
    with pytest.raises(ValueError, match=r"cv=2 folds need at least 4 rows; X has 3"):
        _make(cls, n_regions="cv", cv=2).fit(X[:3], y[:3])
    # a bad parameter is named before the data are looked at
    with pytest.raises(ValueError, match="^task must be "):
        _make(cls, task="ranking").fit(X[:, :2], y)


def test_mlm_validation_fraction_open_interval_edges_fit():
    # n_epics="auto" uses validation_fraction: values just inside (0, 1) must work
    X, y = _data(MixtureOfLinearModels)
    for vf in (0.05, 0.95):
        est = _make(MixtureOfLinearModels, n_epics="auto", n_layer_clusters=2,
                    validation_fraction=vf).fit(X, y)
        assert est.n_epics_ >= 1


# ---------------------------------------------------------------------- the helper itself
@pytest.mark.parametrize("allowed, value, exc, words", [
    ([Interval("real", 0, 1, closed="neither")], 0.0, ValueError, "a real number in (0, 1)"),
    ([Interval("real", 0, 1, closed="left")], 1, ValueError, "a real number in [0, 1)"),
    ([Interval("integer", None, -1), Integer(1)], 0, ValueError,
     "an integer <= -1 or an integer >= 1"),
    ([Interval("real", None, 5, closed="neither")], 5.0, ValueError, "a real number < 5"),
    ([None, Options("a", "b")], "c", ValueError, "None or 'a' or 'b'"),
    ([Integer(1)], 10**400, None, None),  # a huge integer is still an integer
    ([Interval("real", 0)], 10**400, None, None),
    ([Interval("real", 0)], np.float32(np.inf), ValueError, "a real number >= 0"),
    ([SequenceOf(Integer(1))], np.ones((2, 2), dtype=int), ValueError,
     "a non-empty sequence of integers >= 1"),
    ([SequenceOf(Integer(1))], (1, np.int8(2)), None, None),
    ([Integer(0)], np.bool_(True), TypeError, "an integer >= 0"),
    # a string has a split method, but is never taken for a splitter (nor a class for one)
    ([Integer(2), HasMethods("split")], "5", TypeError,
     "an integer >= 2 or an object with a method split"),
    ([None, HasMethods("fit", "get_params")], Ridge, TypeError,
     "None or an object with methods fit and get_params"),
    ([HasMethods("split")], KFold(2), None, None),
    ([SequenceOf(Integer(1))], range(1, 9), None, None),
    ([SequenceOf(Integer(1))], range(0, 3), ValueError, "a non-empty sequence of integers >= 1"),
    ([SequenceOf(Integer(1))], range(5, 1), ValueError, "a non-empty sequence of integers >= 1"),
])
def test_check_param_on_hand_made_cases(allowed, value, exc, words):
    if exc is None:
        check_param("p", value, allowed)
        return
    with pytest.raises(exc) as info:
        check_param("p", value, allowed)
    assert str(info.value).startswith(f"p must be {words}; got ")


def test_long_values_are_shortened_in_the_message():
    with pytest.raises(ValueError) as info:
        check_param("p", list(range(10_000)), [SequenceOf(Integer(1))])
    assert len(str(info.value)) < 200


_finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(low=st.one_of(st.none(), _finite), high=st.one_of(st.none(), _finite),
       closed=st.sampled_from(["both", "left", "right", "neither"]),
       value=st.one_of(_finite, st.integers(-10**6, 10**6),
                       st.sampled_from([math.nan, math.inf, -math.inf])))
def test_real_interval_against_direct_comparisons(low, high, closed, value):
    oracle = math.isfinite(value)
    if low is not None:
        oracle &= value >= low if closed in ("both", "left") else value > low
    if high is not None:
        oracle &= value <= high if closed in ("both", "right") else value < high
    interval = Interval("real", low, high, closed=closed)
    if oracle:
        check_param("x", value, [interval])
    else:  # a number of the right type that is out of range: ValueError, never TypeError
        with pytest.raises(ValueError, match=r"^x must be a real number"):
            check_param("x", value, [interval])
