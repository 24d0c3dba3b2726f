"""The scores of the simplifiers and the command line go through glassnet._metrics (issue 13):
checked against scikit-learn's own metrics, with the one-class and missing-class rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, roc_auc_score

from glassnet.cli._common import score_proba
from glassnet.simplify._scoring import _auc, resolve_scoring


def _proba(rng, n, k):
    return rng.dirichlet(np.ones(k), size=n)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_simplify_auc_matches_sklearn(k):
    rng = np.random.default_rng(k)
    y = np.concatenate([np.arange(k), rng.integers(0, k, 40)])
    p = _proba(rng, y.size, k)
    expected = (roc_auc_score(y, p[:, 1]) if k == 2
                else roc_auc_score(y, p, multi_class="ovr", labels=np.arange(k)))
    assert _auc(y, p, k) == pytest.approx(expected, abs=1e-12)
    _, named = resolve_scoring("roc_auc", "classification", np.arange(k))
    assert named(y, p) == pytest.approx(expected, abs=1e-12)


def test_simplify_auc_nan_on_empty_one_class_and_missing_class():
    rng = np.random.default_rng(0)
    assert math.isnan(_auc(np.zeros(0, dtype=int), np.zeros((0, 2)), 2))
    assert math.isnan(_auc(np.ones(5, dtype=int), _proba(rng, 5, 2), 2))
    assert math.isnan(_auc(np.array([0, 1, 0, 1]), _proba(rng, 4, 3), 3))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_cli_score_proba_matches_sklearn(k):
    rng = np.random.default_rng(10 + k)
    classes = max(k, 2)
    y = np.concatenate([np.arange(classes), rng.integers(0, classes, 30)])
    if k == 1:
        s = rng.random(y.size)
        expected = roc_auc_score(y, s)
    else:
        s = _proba(rng, y.size, k)
        expected = (roc_auc_score(y, s[:, 1]) if k == 2
                    else roc_auc_score(y, s, multi_class="ovr", labels=np.arange(k)))
    assert score_proba("classification", y, s) == pytest.approx(expected, abs=1e-12)
    assert math.isnan(score_proba("classification", np.zeros(y.size), s))
    if k == 3:
        assert math.isnan(score_proba("classification", y % 2, s))


def test_cli_score_proba_rmse_one_and_several_outputs():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=20), rng.normal(size=20)
    assert score_proba("regression", y, p) == pytest.approx(
        math.sqrt(mean_squared_error(y, p)), abs=1e-12)
    Y, P = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
    assert score_proba("regression", Y, P) == pytest.approx(
        math.sqrt(mean_squared_error(Y, P)), abs=1e-12)


class _Fixed:
    """A fitted classifier whose probabilities are given (the input of the score)."""

    def __init__(self, proba, classes):
        self.proba, self.classes_ = proba, np.asarray(classes)

    def predict_proba(self, X):
        return self.proba


@pytest.mark.parametrize("k", [2, 3])
def test_l1path_score_matches_sklearn(k):
    from glassnet.simplify.l1path import _score

    rng = np.random.default_rng(20 + k)
    labels = np.array(["a", "b", "c"][:k])
    y = labels[np.concatenate([np.arange(k), rng.integers(0, k, 30)])]
    p = _proba(rng, y.size, k)
    expected = (roc_auc_score(y == "b", p[:, 1]) if k == 2
                else roc_auc_score(y, p, multi_class="ovr", labels=labels))
    got, _ = _score(_Fixed(p, labels), None, y, classifier=True)
    assert got == pytest.approx(expected, abs=1e-12)
    assert math.isnan(_score(_Fixed(p, labels), None, np.full(y.size, "a"), True)[0])
    if k == 3:
        assert math.isnan(_score(_Fixed(p, labels), None, np.where(y == "c", "a", y), True)[0])
