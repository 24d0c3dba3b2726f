"""What the outcome, fidelity, monitoring and boundary-distance displays draw (issue 19).

Each test compares the drawn artists (line data, bar heights and widths, scatter offsets,
histogram counts, axis limits, labels, legend entries) with values computed here from the
raw data: scikit-learn's ROC and calibration curves, a sort-and-split gains table, NumPy
medians and histograms. A display that draws the right kind of artist with the wrong data
fails.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402

from glassnet.outcomes import outcomes  # noqa: E402
from glassnet.plotting.diagnostics import BoundaryDistanceDisplay  # noqa: E402
from glassnet.plotting.monitor import ScoreShiftDisplay, StabilityDisplay  # noqa: E402
from glassnet.plotting.outcomes import (  # noqa: E402
    CalibrationDisplay,
    FidelityDisplay,
    GainsDisplay,
    OutcomesDisplay,
    ResidualDisplay,
    ROCDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scores():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=1000)  # distinct values: every rule for equal-count bins agrees
    y = (rng.uniform(size=1000) < p).astype(int)
    return y, p


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_roc_curve_auc_and_ks_segment(scores):
    y, p = scores
    d = ROCDisplay.from_predictions(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    x, t = d.line_.get_xdata(), d.line_.get_ydata()
    assert (x[0], t[0], x[-1], t[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(t) >= 0)
    # the drawn polyline is the ROC curve: same area, every vertex on scikit-learn's curve
    auc = roc_auc_score(y, p)
    assert np.trapezoid(t, x) == pytest.approx(auc, abs=1e-12)
    full = roc_curve(y, p, drop_intermediate=False)
    vertices = set(zip(full[0].tolist(), full[1].tolist(), strict=True))
    assert all(v in vertices for v in zip(x.tolist(), t.tolist(), strict=True))
    # KS: a vertical segment at the fpr of max(tpr - fpr), from the diagonal to the curve
    k = int(np.argmax(tpr - fpr))
    ks_line = d.ax_.lines[2]
    np.testing.assert_allclose(ks_line.get_xdata(), [fpr[k], fpr[k]])
    np.testing.assert_allclose(ks_line.get_ydata(), [fpr[k], tpr[k]])
    assert tpr[k] - fpr[k] == pytest.approx(d.ks, abs=1e-12)
    np.testing.assert_allclose(d.ax_.lines[1].get_xydata(), [[0, 0], [1, 1]])
    assert _legend(d.ax_) == [f"ROC AUC {auc:.3f} (Gini {2 * auc - 1:.3f})",
                              f"KS {tpr[k] - fpr[k]:.3f}"]
    assert d.ax_.get_xlim() == (0.0, 1.0)
    assert (d.ax_.get_xlabel(), d.ax_.get_ylabel()) == ("false positive rate",
                                                         "true positive rate")


def test_roc_curve_is_thinned_but_keeps_its_ends_and_ks_point():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=20000)
    y = (rng.uniform(size=20000) < p).astype(int)
    d = ROCDisplay.from_predictions(y, p)
    fpr, tpr, _ = roc_curve(y, p)
    x, t = d.line_.get_xdata(), d.line_.get_ydata()
    assert 2000 <= x.size <= 2001 < fpr.size
    assert (x[0], t[0], x[-1], t[-1]) == (0.0, 0.0, 1.0, 1.0)
    k = int(np.argmax(tpr - fpr))
    assert np.any((x == fpr[k]) & (t == tpr[k]))  # the KS vertex is among the drawn ones


def test_calibration_bins_against_sklearn(scores):
    y, p = scores
    d = CalibrationDisplay.from_predictions(y, p, n_bins=10)
    observed, predicted = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose(d.line_.get_xdata(), predicted, atol=1e-12)
    np.testing.assert_allclose(d.line_.get_ydata(), observed, atol=1e-12)
    assert d.line_.get_marker() == "o"
    brier = np.mean((p - y) ** 2)
    assert _legend(d.ax_) == ["perfect calibration", f"bins (Brier {brier:.4f})"]
    hi = min(1.0, max(predicted.max(), observed.max()) * 1.08 + 1e-3)
    assert d.ax_.get_xlim() == pytest.approx((0, hi)) and d.ax_.get_ylim() == pytest.approx((0, hi))


def test_gains_curve_against_sort_and_split(scores):
    y, p = scores
    d = GainsDisplay.from_predictions(y, p)
    order = np.argsort(-p)
    captured = np.cumsum([y[order[i:i + 100]].sum() for i in range(0, 1000, 100)]) / y.sum()
    np.testing.assert_allclose(d.line_.get_xdata(), np.r_[0, np.arange(1, 11) / 10], atol=1e-12)
    np.testing.assert_allclose(d.line_.get_ydata(), np.r_[0, captured], atol=1e-12)
    assert _legend(d.ax_) == ["model", "random"]


def test_residuals_points_and_running_median():
    rng = np.random.default_rng(2)
    pred = rng.normal(size=200)
    y = pred + rng.normal(scale=0.5, size=200)
    d = ResidualDisplay.from_predictions(y, pred)
    np.testing.assert_allclose(d.points_.get_offsets(), np.c_[pred, y - pred], atol=1e-12)
    order = np.argsort(pred)
    groups = np.array_split(order, 20)  # 200 rows: 20 groups of 10 (k = n // 20)
    med = [np.median((y - pred)[g]) for g in groups]
    ctr = [np.median(pred[g]) for g in groups]
    running = d.ax_.lines[-1]
    np.testing.assert_allclose(running.get_xdata(), ctr, atol=1e-12)
    np.testing.assert_allclose(running.get_ydata(), med, atol=1e-12)
    assert d.ax_.get_title() == "Residuals"
    # a sample of the rows: the title says how many are drawn
    big = ResidualDisplay.from_result(outcomes(y, pred, task="regression"), max_points=50)
    assert len(big.points_.get_offsets()) == 50
    assert big.ax_.get_title() == "Residuals (50 of 200 rows)"


def test_outcomes_display_panels(scores):
    y, p = scores
    d = OutcomesDisplay.from_predictions(y, p)
    assert [a.get_title() for a in d.ax_] == ["ROC curve", "Calibration", "Cumulative gains"]
    assert all(a.figure is d.figure_ for a in d.ax_)
    # a score that is no probability has no calibration panel
    d2 = OutcomesDisplay.from_predictions(y, 3 * p - 1)
    assert [a.get_title() for a in d2.ax_] == ["ROC curve", "Cumulative gains"]


def test_fidelity_panels_scatter_the_scores():
    rng = np.random.default_rng(3)
    net = rng.uniform(size=300)
    sur = {"GLM": net + rng.normal(scale=0.05, size=300), "tree": np.round(net, 1)}
    d = FidelityDisplay.from_scores(net, sur)
    assert len(d.ax_) == 2 and all(a.figure is d.figure_ for a in d.ax_)
    lo = min(net.min(), *(v.min() for v in sur.values()))
    hi = max(net.max(), *(v.max() for v in sur.values()))
    for ax, (name, s) in zip(d.ax_, sur.items(), strict=True):
        np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[net, s])
        np.testing.assert_allclose(ax.lines[0].get_xydata(), [[lo, lo], [hi, hi]])
        assert (ax.get_title(), ax.get_ylabel()) == (name, f"{name} score")
    sampled = FidelityDisplay.from_scores(net, sur, max_points=40)
    off = np.asarray(sampled.ax_[0].collections[0].get_offsets())
    # 40 distinct rows, each an (network, surrogate) pair of one and the same row
    pairs = {tuple(r) for r in np.c_[net, sur["GLM"]]}
    assert off.shape == (40, 2) and len({tuple(r) for r in off}) == 40
    assert all(tuple(r) in pairs for r in off)


def test_stability_bars_colours_and_thresholds():
    names = ["score", "regions", "feature a", "feature b"]
    values = [0.05, 0.3, 0.15, np.nan]
    statuses = ["stable", "act", "watch", "n/a"]
    d = StabilityDisplay(names, values, statuses, (0.1, 0.25)).plot()
    widths = [b.get_width() for b in d.bars_]
    np.testing.assert_array_equal(widths, values)
    # first name at the top: y positions count down
    assert [b.get_y() + b.get_height() / 2 for b in d.bars_] == pytest.approx([3, 2, 1, 0])
    assert [t.get_text() for t in d.ax_.get_yticklabels()] == names
    colours = {"stable": "#3d8b5a", "watch": "#d19a1f", "act": "#b5482f", "n/a": "#8a93a3"}
    for bar, s in zip(d.bars_, statuses, strict=True):
        assert bar.get_facecolor() == pytest.approx(to_rgba(colours[s]))
    assert [ln.get_xdata()[0] for ln in d.ax_.lines] == [0.1, 0.25]
    assert d.ax_.get_xlim() == pytest.approx((0, max(0.25 * 1.3, 0.3 * 1.08)))
    assert _legend(d.ax_) == ["stable", "watch", "act"]
    assert d.ax_.get_xlabel() == "PSI (watch from 0.1, act above 0.25)"


def test_score_shift_bars_and_bin_labels():
    ref = [0.25, 0.25, 0.25, 0.25]
    new = [0.1, 0.2, 0.3, 0.4]
    edges = [0.0, 0.2, 0.45, 0.7]
    d = ScoreShiftDisplay(ref, new, edges).plot()
    bars = d.ax_.patches
    assert len(bars) == 8
    assert [b.get_height() for b in bars[:4]] == ref and [b.get_height() for b in bars[4:]] == new
    np.testing.assert_allclose([b.get_x() + b.get_width() / 2 for b in bars],
                               [-0.2, 0.8, 1.8, 2.8, 0.2, 1.2, 2.2, 3.2])
    assert [t.get_text() for t in d.ax_.get_xticklabels()] == ["< 0.2", "≥ 0.2", "≥ 0.45",
                                                               "≥ 0.7"]
    assert _legend(d.ax_) == ["reference", "new"]


def test_boundary_distance_histogram_and_cumulative_share():
    rng = np.random.default_rng(4)
    d = np.r_[np.exp(rng.normal(size=97)), 0.0, 0.0, np.inf]  # 100 rows, 97 drawable
    disp = BoundaryDistanceDisplay(d, unit="z").plot()
    finite = d[np.isfinite(d) & (d > 0)]
    edges = np.geomspace(finite.min(), finite.max() * (1 + 1e-9), 41)
    counts, _ = np.histogram(finite, bins=edges)
    assert [b.get_height() for b in disp.hist_] == counts.tolist()
    np.testing.assert_allclose([b.get_x() for b in disp.hist_], edges[:-1])
    # the median over all rows (zeros and inf included), drawn as a vertical line
    median_line = disp.ax_[0].lines[0]
    assert median_line.get_xdata()[0] == pytest.approx(np.median(d))
    srt = np.sort(finite)
    np.testing.assert_allclose(disp.cumulative_line_.get_xdata(), srt)
    # the share of ALL 100 rows, so the curve ends at 0.97, not 1
    np.testing.assert_allclose(disp.cumulative_line_.get_ydata(), np.arange(1, 98) / 100)
    assert disp.ax_[0].get_xscale() == "log" and disp.ax_[1].get_xscale() == "log"
    assert disp.ax_[0].get_xlabel() == "distance to the region boundary (z)"
    assert disp.ax_[1].get_ylabel() == "share of rows closer than this"
