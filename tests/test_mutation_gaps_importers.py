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
