"""Gaps found by mutation testing in glassnet.mlm (issue 19).

Oracle: scikit-learn's ``Lasso`` fitted here on each group and each output on its own.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Lasso

from glassnet.mlm._linear import fit_l1_loop


def test_l1_regression_fits_every_output_of_every_group():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(90, 3))
    groups = np.repeat([0, 1, 2], 30)
    Y = np.c_[Z @ [1.0, -2.0, 0.0] + 0.5, Z @ [0.0, 0.5, 3.0] - 1.0]
    Y[groups == 2] = [4.0, -7.0]  # a group with constant targets: intercepts only
    Y[groups < 2] += rng.normal(scale=0.1, size=(60, 2))
    B = fit_l1_loop(Z, Y, groups, 3, "identity", alpha=0.05, random_state=0)
    assert B.shape == (3, 2, 4)
    for g in range(2):
        rows = groups == g
        for k in range(2):
            ref = Lasso(alpha=0.05, max_iter=10000).fit(Z[rows], Y[rows, k])
            np.testing.assert_allclose(B[g, k, 1:], ref.coef_, atol=1e-6)
            assert B[g, k, 0] == pytest.approx(ref.intercept_, abs=1e-6)
    np.testing.assert_array_equal(B[2], [[4.0, 0, 0, 0], [-7.0, 0, 0, 0]])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_feature_names_come_from_the_frame_when_the_network_has_none():
    # scikit-learn's convention: a network fitted on an array has no feature names, so a
    # mixture fitted on a DataFrame takes the frame's columns; on an array it has none
    import pandas as pd
    from sklearn.neural_network import MLPRegressor

    from glassnet import MixtureOfLinearModels

    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(200, 3))
    y = X[:, 0] - np.abs(X[:, 1])
    net = MLPRegressor(hidden_layer_sizes=(6,), max_iter=200, random_state=0).fit(X, y)
    assert not hasattr(net, "feature_names_in_")
    frame = pd.DataFrame(X, columns=["age", "income", "debt"])
    kw = {"n_layer_clusters": 2, "clustering": "kmeans", "n_perturb": 0, "n_epics": 2,
          "random_state": 0}
    named = MixtureOfLinearModels(net, **kw).fit(frame, y)
    assert list(named.feature_names_in_) == ["age", "income", "debt"]
    plain = MixtureOfLinearModels(net, **kw).fit(X, y)
    assert not hasattr(plain, "feature_names_in_")
    np.testing.assert_allclose(named.predict(frame), plain.predict(X))
