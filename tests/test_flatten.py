"""flatten: merged regions -> fine-tuned one-hidden-layer ReLU network."""

from __future__ import annotations

import warnings
from math import comb

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

from glassnet import RegionMerger, ReluNetClassifier, ReluNetRegressor, flatten, unwrap
from glassnet.simplify._flatten import flatten_init_network


@pytest.fixture(scope="module")
def merged():
    X, y = make_moons(300, noise=0.2, random_state=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPClassifier((12, 12), max_iter=500, random_state=0).fit(X, y)
        merger = RegionMerger(mlp, n_regions=4, min_count=10).fit(X, y)
    return X, y, merger


def test_init_network_has_one_unit_per_merged_region(merged):
    X, y, merger = merged
    init = flatten_init_network(merger, X, y)
    assert init.hidden_sizes == (merger.n_regions_,)
    assert init.output == "sigmoid"
    # each hidden unit is (up to its sign) the GLM of its merged region
    W = init.weights[0]
    c = merger.coef_[:, 0, :]
    assert np.allclose(np.abs(W), np.abs(c))
    # the starting network is already a classifier better than chance
    assert roc_auc_score(y, init.predict_output(X)[:, 0]) > 0.7


def test_flatten_returns_unwrappable_small_network(merged):
    X, y, merger = merged
    flat = flatten(merger, X, y, max_epochs=25, random_state=0)
    assert isinstance(flat, ReluNetClassifier)
    K = merger.n_regions_
    assert flat.network_.hidden_sizes == (K,)
    regions = unwrap(flat.network_, X)
    # K hyperplanes cut the plane into at most sum_{i<=2} C(K, i) cells
    assert len(regions) <= sum(comb(K, i) for i in range(3))
    assert regions.max_abs_error < 1e-9
    assert roc_auc_score(y, flat.predict_proba(X)[:, 1]) > 0.85
    again = flatten(merger, X, y, max_epochs=25, random_state=0)
    assert np.array_equal(again.predict_proba(X), flat.predict_proba(X))


def test_flatten_regression_and_errors():
    rng = np.random.default_rng(0)
    from conftest import random_network

    net = random_network(rng, 2, (8,), 1)
    X = rng.normal(size=(300, 2))
    y = net.forward(X)[:, 0]
    merger = RegionMerger(net, n_regions=3, min_count=5).fit(X, y)
    flat = flatten(merger, X, y, max_epochs=10, random_state=0)
    assert isinstance(flat, ReluNetRegressor)
    assert flat.network_.hidden_sizes == (merger.n_regions_,)
    with pytest.raises(TypeError, match="RegionMerger"):
        flatten(object(), X, y)
    with pytest.raises(Exception, match="not fitted"):
        flatten(RegionMerger(net), X, y)


def test_flatten_stays_the_function_after_any_import_order():
    # the implementation module is private, so importing it can never shadow the public
    # function on the package (it used to: glassnet.simplify.flatten became the module)
    import importlib

    import glassnet
    import glassnet.simplify as simplify

    importlib.import_module("glassnet.simplify._flatten")
    assert callable(glassnet.flatten) and callable(simplify.flatten)
    assert simplify.flatten is glassnet.flatten
