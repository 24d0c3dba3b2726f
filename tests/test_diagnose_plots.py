"""Diagnostic Displays draw exactly the values computed directly."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import random_network
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve

from glassnet import diagnose as D
from glassnet.plotting import diagnostics as P


@pytest.fixture
def case():
    rng = np.random.default_rng(5)
    net = random_network(rng, 2, (6,), 1, output="sigmoid")
    X = rng.normal(size=(200, 2))
    p = net.predict_output(X)[:, 0]
    y = (rng.uniform(size=200) < p).astype(int)
    yield net, X, y, p
    plt.close("all")


def test_compare_display_draws_sklearn_roc(case):
    net, X, y, p = case
    c = D.compare({"net": net}, X[100:], y[100:], X_train=X[:100], y_train=y[:100])
    d = P.CompareDisplay.from_comparison(c)
    fpr, tpr, _ = roc_curve(y[100:], p[100:])
    line = d.ax_[0].lines[0]
    np.testing.assert_allclose(line.get_xdata(), fpr)
    np.testing.assert_allclose(line.get_ydata(), tpr)
    assert len(d.ax_[1].lines) == 3  # net, GLM, diagonal
    assert d.figure_ is d.ax_[0].figure


def test_robustness_and_resilience_displays(case):
    net, X, y, p = case
    r = D.robustness(net, X[:20], y[:20], sizes=(0.0, 0.2), n_repeats=2, max_exact_rows=8)
    d = P.RobustnessDisplay.from_result(r)
    np.testing.assert_allclose(d.lines_[0].get_ydata(), r.random["flip_rate"])
    np.testing.assert_allclose(d.lines_[1].get_ydata(), r.exact["share_flippable"])
    np.testing.assert_allclose(d.lines_[2].get_ydata(), r.random["auc_mean"])
    # the legend sits below the plotting area, so it hides none of the three lines
    d.figure_.canvas.draw()
    legend, area = d.legend_.get_window_extent(), d.ax_.get_window_extent()
    assert legend.y1 <= area.y0 and len(d.legend_.get_texts()) == 3
    # a regressor has no decisions: the score alone, on the main axis, no empty share axis
    reg = P.RobustnessDisplay([0.0, 0.1], [1.0, 1.5], metric="rmse").plot()
    assert reg.ax2_ is reg.ax_ and len(reg.figure_.axes) == 1
    np.testing.assert_allclose(reg.lines_[0].get_ydata(), [1.0, 1.5])
    assert reg.ax_.get_ylabel() == "rmse" and len(reg.legend_.get_texts()) == 1
    rs = D.resilience(net, X, y, metric="brier")
    dr = P.ResilienceDisplay.from_result(rs)
    np.testing.assert_allclose(dr.line_.get_ydata(), rs.worst["brier"])


def test_weakspot_fairness_ale_reliability_displays(case):
    net, X, y, p = case
    w = D.weakspots(net, X, y, metric="brier", min_samples=5)
    dw = P.WeakspotDisplay.from_frame(w, top=5)
    widths = [b.get_width() for b in dw.bars_]
    np.testing.assert_allclose(widths, w["brier"].head(5))
    groups = np.where(X[:, 0] > 0, "a", "b")
    f = D.fairness(net, X, y, protected=groups)
    df = P.FairnessDisplay.from_frame(f)
    np.testing.assert_allclose([b.get_height() for b in df.bars_], f["air"])
    da = P.ALEDisplay.from_estimator(net, X, 0, n_bins=5)
    np.testing.assert_allclose(da.line_.get_ydata(), D.ale(net, X, 0, n_bins=5)["ale"])
    model = LogisticRegression().fit(X[:100], y[:100])
    rel = D.reliability(model, X[100:150], y[100:150], X[150:], y[150:])
    dr = P.ReliabilityDisplay.from_result(rel)
    np.testing.assert_allclose(dr.line_.get_xdata(), rel.calibration["mean_predicted"])
    with pytest.raises(ValueError, match="weakspots"):
        P.WeakspotDisplay(f)
