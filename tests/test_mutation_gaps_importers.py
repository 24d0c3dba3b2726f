"""Gaps found by mutation testing in glassnet's importers (issue 19)."""

from __future__ import annotations

import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet.io import as_network


def test_an_unfitted_glassnet_estimator_is_refused_by_name():
    from glassnet import ReluNetRegressor

    with pytest.raises(ValueError, match="ReluNetRegressor is not fitted yet; call fit first"):
        as_network(ReluNetRegressor())
    with pytest.raises(ValueError, match=r"pipeline step 1 .*not fitted yet"):
        as_network(make_pipeline(StandardScaler(), ReluNetRegressor()))


def test_one_hot_encoding_after_another_step_is_refused():
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(60, 2)).astype(float)
    y = X[:, 0] - X[:, 1]
    mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    pipe = make_pipeline(StandardScaler(), OneHotEncoder(), mlp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    with pytest.raises(TypeError, match="one-hot encodes columns after another step"):
        as_network(pipe)
