"""Tests for glassnet.plotting: every Display renders under Agg with the expected artists."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import random_network

from glassnet import ReluNetwork, region_summary, unwrap
from glassnet.plotting import (
    CoefficientParallelDisplay,
    CoefficientViolinDisplay,
    ContributionDisplay,
    LLMProfileDisplay,
    LocalGlobalPerformanceDisplay,
    RegionSizeDisplay,
    TwoFeatureDisplay,
)

matplotlib.use("Agg")


@pytest.fixture
def case():
    rng = np.random.default_rng(7)
    net = random_network(rng, 3, (6, 6), 1, "sigmoid")
    X = pd.DataFrame(rng.normal(size=(600, 3)), columns=["age", "income", "debt"])
    p = net.predict_output(X)[:, 0]
    y = (rng.random(600) < p).astype(int)
    return net, X, y, unwrap(net, X)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _renders(disp):
    assert disp.figure_ is disp.ax_.figure
    buf = io.BytesIO()
    disp.figure_.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def test_parallel_coordinates_one_line_per_region(case):
    _, _, _, reg = case
    disp = CoefficientParallelDisplay.from_regions(reg, top=5)
    _renders(disp)
    assert len(disp.lines_) == 5
    np.testing.assert_array_equal(disp.lines_[2].get_ydata(), reg.coef[2, 0])
    sub = CoefficientParallelDisplay.from_regions(reg, top=None, features=["debt", 0])
    assert len(sub.lines_) == len(reg) and list(sub.feature_names) == ["debt", "age"]
    np.testing.assert_array_equal(sub.lines_[0].get_ydata(), reg.coef[0, 0, [2, 0]])
    with pytest.raises(ValueError, match="Unknown feature"):
        CoefficientParallelDisplay.from_regions(reg, features=["salary"])
    with pytest.raises(ValueError, match="top"):
        CoefficientParallelDisplay.from_regions(reg, top=0)


def test_coefficients_times_feature_sd(case):
    """With the features' standard deviations the lines and violins show coef_j * sd_j,
    the effect of a one-sd change (each row's own LLM from ``local_models``, sd by NumPy)."""
    _, X, _, reg = case
    sd = X.std(axis=0, ddof=0).to_numpy() * np.array([1.0, 1e5, 1e-3])  # units apart
    disp = CoefficientParallelDisplay.from_regions(reg, top=5, feature_sd=sd)
    _renders(disp)
    np.testing.assert_allclose(disp.lines_[2].get_ydata(), reg.coef[2, 0] * sd, rtol=1e-15)
    assert disp.ax_.get_ylabel() == "LLM coefficient x feature sd"
    assert CoefficientParallelDisplay.from_regions(reg).ax_.get_ylabel() == "LLM coefficient"
    vio = CoefficientViolinDisplay.from_regions(reg, feature_sd=sd)
    _renders(vio)
    coef, _ = reg.local_models(X)
    np.testing.assert_allclose(
        vio.medians, np.quantile(coef[:, 0, :], 0.5, axis=0, method="inverted_cdf") * sd,
        rtol=1e-15)
    assert vio.ax_.get_ylabel() == "LLM coefficient x feature sd"
    for bad in (sd[:2], np.array([1.0, np.nan, 1.0]), np.array([1.0, -1.0, 1.0])):
        with pytest.raises(ValueError, match="feature_sd"):
            CoefficientParallelDisplay.from_regions(reg, feature_sd=bad)
        with pytest.raises(ValueError, match="feature_sd"):
            CoefficientViolinDisplay.from_regions(reg, feature_sd=bad)


def test_violin_one_body_per_feature_and_weighted_medians(case):
    _, X, _, reg = case
    disp = CoefficientViolinDisplay.from_regions(reg)
    _renders(disp)
    assert len(disp.violins_) == 3
    assert len(disp.medians_.get_segments()) == 3
    coef, _ = reg.local_models(X)
    np.testing.assert_array_equal(
        disp.medians, np.quantile(coef[:, 0, :], 0.5, axis=0, method="inverted_cdf")
    )
    # a single region: constant coefficients are drawn as ticks, not densities
    one = unwrap(random_network(np.random.default_rng(0), 3, (2,), 1), X.iloc[:1])
    _renders(CoefficientViolinDisplay.from_regions(one, features=[1]))


def test_profile_one_segment_per_region_over_its_range(case):
    _, X, _, reg = case
    disp = LLMProfileDisplay.from_regions(reg, X, "income", top=7)
    _renders(disp)
    segs = disp.lines_.get_segments()
    assert len(segs) == 7
    rows = X["income"].to_numpy()[reg.labels == 3]
    np.testing.assert_allclose(segs[3][:, 0], [rows.min(), rows.max()])
    np.testing.assert_allclose(segs[3][:, 1], reg.coef[3, 0, 1] * segs[3][:, 0])


def test_profile_tick_labels_do_not_overlap_for_large_amounts():
    """A feature in the hundreds of thousands (TaiwanCredit's LIMIT_BAL) in a report's
    third-width panel: no two x tick labels may overlap once drawn."""
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.uniform(1e4, 3.5e5, 500), rng.normal(size=500)])
    net = random_network(rng, 2, (6,), 1)
    net = ReluNetwork([net.weights[0] / np.array([1e5, 1.0]), net.weights[1]], net.biases,
                      output=net.output)
    reg = unwrap(net, X)
    # the report's grid: three panels a row, constrained layout
    fig = plt.figure(figsize=(12.6, 6.6))
    axes = fig.subplots(2, 3).ravel()
    disp = LLMProfileDisplay.from_regions(reg, X, 0, top=10, ax=axes[0])
    fig.set_layout_engine("constrained")
    fig.canvas.draw()
    for axis in (disp.ax_.xaxis, disp.ax_.yaxis):
        boxes = [t.get_window_extent() for t in axis.get_ticklabels()
                 if t.get_visible() and t.get_text()]
        assert len(boxes) >= 2
        for a, b in zip(boxes, boxes[1:], strict=False):
            assert not a.overlaps(b), [t.get_text() for t in axis.get_ticklabels()]


def test_two_feature_view_scatter_per_region(case):
    _, X, _, reg = case
    disp = TwoFeatureDisplay.from_regions(reg, X, ("age", "debt"), top=4)
    _renders(disp)
    others = (reg.labels >= 4).any()
    assert len(disp.scatters_) == 4 + int(others)
    assert disp.arrows_.N == 4
    sizes = [len(s.get_offsets()) for s in disp.scatters_[int(others):]]
    assert sizes == reg.counts[:4].tolist()
    with pytest.raises(ValueError, match="two features"):
        TwoFeatureDisplay.from_regions(reg, X, ("age",))


def test_region_size_bars(case):
    _, _, _, reg = case
    disp = RegionSizeDisplay.from_regions(reg, top=12)
    _renders(disp)
    assert len(disp.bars_) == 12
    assert [b.get_height() for b in disp.bars_] == reg.counts[:12].tolist()
    np.testing.assert_allclose(disp.cumulative_line_.get_ydata(), np.cumsum(reg.shares)[:12])


def test_contribution_bars_add_up_to_the_output(case):
    net, X, _, reg = case
    disp = ContributionDisplay.from_regions(reg, X, row=5)
    _renders(disp)
    assert len(disp.bars_) == 3 + 1
    total = sum(b.get_width() for b in disp.bars_)
    assert total == pytest.approx(net.forward(X.iloc[[5]])[0, 0], abs=1e-9)
    folded = ContributionDisplay.from_model(net, X, row=5, max_features=1, baseline="mean")
    assert len(folded.bars_) == 1 + 1 + 1  # base, top feature, "other"
    assert sum(b.get_width() for b in folded.bars_) == pytest.approx(total, abs=1e-9)
    with pytest.raises(ValueError, match="row"):
        ContributionDisplay.from_model(net, X, row=600)


def test_local_vs_global_one_point_per_region(case):
    _, X, y, reg = case
    disp = LocalGlobalPerformanceDisplay.from_regions(reg, X, y, top=10, min_count=5)
    _renders(disp)
    table = region_summary(reg, X, y, top=10, min_count=5)
    both = table["local_auc"].notna() & table["global_auc"].notna()
    assert len(disp.scatter_.get_offsets()) == both.sum()
    np.testing.assert_allclose(disp.scatter_.get_offsets()[:, 1], table["global_auc"][both])
    acc = LocalGlobalPerformanceDisplay.from_summary(table, "accuracy")
    assert len(acc.scatter_.get_offsets()) == len(table)
    with pytest.raises(ValueError, match="no columns"):
        LocalGlobalPerformanceDisplay.from_summary(region_summary(reg, X), "auc")


def test_displays_draw_on_given_axes(case):
    _, X, _, reg = case
    fig, axes = plt.subplots(1, 2)
    a = RegionSizeDisplay.from_regions(reg, ax=axes[0])
    b = CoefficientParallelDisplay.from_regions(reg, ax=axes[1])
    assert a.ax_ is axes[0] and b.ax_ is axes[1] and a.figure_ is fig
    # plot() again on a new axes re-draws from the stored values
    fig2, ax2 = plt.subplots()
    assert b.plot(ax=ax2).ax_ is ax2
    # the same region lines (the 10 largest, the default top), drawn on the new axes
    top = min(10, len(reg))
    assert len(b.lines_) == top and all(line.axes is ax2 for line in b.lines_)
    np.testing.assert_array_equal([line.get_ydata() for line in b.lines_], reg.coef[:top, 0])
    assert all(line.axes is axes[1] for line in axes[1].lines)  # the first axes untouched


# ---------------------------------------------------------------------- simplify Displays
def test_simplify_displays_live_in_plotting_and_old_paths_are_the_same_classes():
    import glassnet.simplify as simplify
    from glassnet.plotting import simplify as module
    from glassnet.simplify.merge import MergeCVDisplay, MergeDendrogramDisplay

    assert MergeCVDisplay is module.MergeCVDisplay is simplify.MergeCVDisplay
    assert MergeDendrogramDisplay is module.MergeDendrogramDisplay


def test_l1path_display_draws_the_values_it_stores():
    from glassnet.plotting.simplify import L1PathDisplay

    pen = np.array([0.0, 1e-3, 1e-2])
    regions, score = np.array([40, 12, 3]), np.array([0.81, 0.80, 0.70])
    d = L1PathDisplay(pen, regions, score, metric="auc", score_on="validation",
                      recommended=1e-3)
    assert not hasattr(d, "ax_")  # __init__ only stores
    fig, ax = plt.subplots()
    assert d.plot(ax=ax).ax_ is ax and d.figure_ is fig
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), pen)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), regions)
    np.testing.assert_array_equal(d.score_ax_.lines[0].get_ydata(), score)
    assert ax.lines[-1].get_xdata()[0] == 1e-3  # the recommended penalty
    assert d.score_ax_.get_ylabel() == "AUC (validation)"
    nan = L1PathDisplay(pen, regions, score, metric="rmse", score_on="training",
                        recommended=float("nan")).plot()
    assert len(nan.ax_.lines) == 1  # no recommendation line without a recommendation
    plt.close("all")


def test_merge_cv_display_draws_the_values_it_stores():
    from glassnet.plotting.simplify import MergeCVDisplay

    d = MergeCVDisplay([1, 2, 4], [0.5, 0.7, 0.69], [0.01, 0.02, 0.02], 2, "roc_auc",
                       xlabel="number of kept regions").plot()
    line = d.ax_.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 4])
    np.testing.assert_array_equal(line.get_ydata(), [0.5, 0.7, 0.69])
    assert d.ax_.get_xlabel() == "number of kept regions" and d.ax_.get_ylabel() == "ROC AUC"
    plt.close("all")
