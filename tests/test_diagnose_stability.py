"""explanation_stability and its Display against the direct formula for one hidden layer.

With one hidden layer the activation region is an intersection of half-spaces, one per
neuron, so a row's distance to the region's boundary is ``min_i |w_i x + b_i| / ||w_i||``
(a half-space that does not bound the region is farther away than one that does).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from glassnet import ReluNetwork, unwrap
from glassnet.diagnose import explanation_stability


def _one_layer(seed=0, d=3, h=7):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(h, d)), rng.normal(size=h)
    net = ReluNetwork([W, rng.normal(size=(1, h))], [b, np.zeros(1)], output="sigmoid")
    X = rng.normal(size=(250, d)) * np.array([1.0, 10.0, 0.1])[:d]
    return net, X, W, b


def test_distances_match_the_direct_formula_in_both_units():
    net, X, W, b = _one_layer()
    res = explanation_stability(net, X, standardize=False)
    direct = np.min(np.abs(X @ W.T + b) / np.linalg.norm(W, axis=1), axis=1)
    np.testing.assert_allclose(res.distances, direct, rtol=1e-10)
    assert res.unit == "feature units" and res.n_used == res.n_rows == 250
    q = res.quantiles.set_index("quantile")["distance (feature units)"]
    assert q["min"] == pytest.approx(direct.min()) and q["max"] == pytest.approx(direct.max())
    assert q["median"] == pytest.approx(np.sort(direct)[124])  # inverted-cdf median
    close = res.close.set_index("closer than (feature units)")
    for t in (0.01, 0.1, 1.0):
        assert close.loc[t, "rows"] == int((direct < t).sum())
    assert res.layers["layer of the nearest neuron"].tolist() == ["hidden layer 1"]
    # standardised: each feature divided by its sd, so w_i is multiplied by it
    sd = X.std(axis=0)
    res = explanation_stability(net, X)
    scaled = np.min(np.abs(X @ W.T + b) / np.linalg.norm(W * sd, axis=1), axis=1)
    np.testing.assert_allclose(res.distances, scaled, rtol=1e-10)
    np.testing.assert_allclose(res.raw_distances, direct, rtol=1e-10)
    assert res.standardized and "distance (feature units)" in res.quantiles


def test_sample_bound_per_region_and_bad_input():
    net, X, W, b = _one_layer(1)
    regions = unwrap(net, X)
    res = explanation_stability(regions, pd.DataFrame(X), max_rows=100, top=3)
    assert res.n_used == 100 and res.n_rows == 250 and res.distances.shape == (100,)
    assert list(res.per_region["region"]) == [0, 1, 2]
    assert res.per_region["count"].tolist() == regions.counts[:3].tolist()
    assert explanation_stability(net, X).per_region is None  # a network: no regions
    with pytest.raises(ValueError, match="max_rows"):
        explanation_stability(net, X, max_rows=0)
    with pytest.raises(ValueError, match="at least one row"):
        explanation_stability(net, X[:0])


def test_display_draws_the_distances():
    from glassnet.plotting.diagnostics import BoundaryDistanceDisplay

    net, X, W, b = _one_layer(2)
    res = explanation_stability(net, X, standardize=False)
    disp = BoundaryDistanceDisplay.from_result(res)
    heights = sum(p.get_height() for p in disp.hist_)
    assert heights == np.sum(np.isfinite(res.distances) & (res.distances > 0))
    xy = disp.cumulative_line_.get_xydata()
    np.testing.assert_allclose(xy[:, 0], np.sort(res.distances))
    assert xy[-1, 1] == pytest.approx(1.0)
    assert disp.ax_[0].get_xscale() == "log" and "feature units" in disp.ax_[0].get_xlabel()
