"""Plots of regions and their local linear models, as scikit-learn style Display objects.

Each Display holds the values it draws (computed by its ``from_...`` constructor with
:mod:`glassnet.summary` and NumPy; no computation happens in :meth:`plot`), draws them with
``plot(ax=None)`` and then exposes ``ax_``, ``figure_`` and the artists it made. Coefficients
are on the network's raw output scale (log-odds for a sigmoid output).

========================================  ===================================================
Display                                   shows
========================================  ===================================================
:class:`CoefficientParallelDisplay`       parallel coordinates of the LLM coefficients, one line
                                          per region
:class:`CoefficientViolinDisplay`         each feature's coefficient distribution over rows
                                          (regions weighted by their counts)
:class:`LLMProfileDisplay`                for one feature, each region's linear effect
                                          ``coef * x`` over the region's own range of ``x``
:class:`TwoFeatureDisplay`                rows in two features, coloured by region, with each
                                          region's LLM gradient as an arrow
:class:`RegionSizeDisplay`                bar chart of region sizes with the cumulative share
:class:`ContributionDisplay`              exact contributions ``coef * x`` of one row
:class:`LocalGlobalPerformanceDisplay`    per region, performance on its own rows vs on
                                          all rows
:class:`PartitionDisplay`                 the exact partition of a 2-D box (or a 2-D slice) into
                                          polygons; defined in :mod:`glassnet.plotting.partition`
``RegionSizeDistributionDisplay``         the largest regions' sizes and the cumulative share
                                          of rows; defined in :mod:`glassnet.plotting.regions`
``FeatureImportanceDisplay``              global feature importance from the exact LLMs;
                                          defined in :mod:`glassnet.plotting.regions`
========================================  ===================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from scipy.stats import gaussian_kde

from glassnet.explain import (
    check_regions,
    coefficient_distribution,
    local_contributions,
    unwrapped_rows,
)
from glassnet.plotting._common import check_top as _check_top
from glassnet.plotting._common import fold_smallest, pick_row
from glassnet.plotting.partition import PartitionDisplay
from glassnet.plotting.regions import FeatureImportanceDisplay, RegionSizeDistributionDisplay
from glassnet.regions import Regions
from glassnet.summary import region_summary
from glassnet.unwrap import unwrap

__all__ = [
    "CoefficientParallelDisplay",
    "CoefficientViolinDisplay",
    "LLMProfileDisplay",
    "TwoFeatureDisplay",
    "RegionSizeDisplay",
    "ContributionDisplay",
    "LocalGlobalPerformanceDisplay",
    "PartitionDisplay",
    "RegionSizeDistributionDisplay",
    "FeatureImportanceDisplay",
]


# ---------------------------------------------------------------------- helpers
def _axes(ax: Any) -> tuple[Any, Any]:
    if ax is None:
        # constrained layout: a plain ``savefig`` keeps long feature names and labels
        fig, ax = plt.subplots(layout="constrained")
        return fig, ax
    return ax.figure, ax


_METRIC_NAMES = {"auc": "ROC AUC", "roc_auc": "ROC AUC", "accuracy": "accuracy",
                 "mse": "MSE", "rmse": "RMSE", "neg_log_loss": "log loss"}


def _metric_name(metric: str) -> str:
    """Axis text for a metric key: "ROC AUC", not "roc_auc"."""
    return _METRIC_NAMES.get(str(metric), str(metric).replace("_", " "))


def _feature_ticks(ax: Any, x: np.ndarray, names: Sequence[str]) -> None:
    """Feature names under the axis, readable at 25 features: vertical past 12 features,
    slanted and right-aligned past 6, smaller past 15."""
    n = len(x)
    rotation = 90 if n > 12 else (45 if n > 6 else 0)
    ax.set_xticks(x, names, rotation=rotation, ha="right" if rotation == 45 else "center",
                  fontsize=8 if n > 15 else None)


def _feature_indices(names: Sequence[str], features: Any) -> np.ndarray:
    if features is None:
        return np.arange(len(names))
    if isinstance(features, (str, int, np.integer)):
        features = [features]
    idx = []
    for f in features:
        if isinstance(f, str):
            if f not in names:
                raise ValueError(f"Unknown feature {f!r}; the features are {list(names)[:20]}.")
            idx.append(list(names).index(f))
        elif isinstance(f, (int, np.integer)) and not isinstance(f, bool):
            if not 0 <= f < len(names):
                raise ValueError(f"Feature index {f} is out of range 0..{len(names) - 1}.")
            idx.append(int(f))
        else:
            raise TypeError(f"Features are given by name or index; got {f!r}.")
    if not idx:
        raise ValueError("Select at least one feature.")
    return np.asarray(idx)


def _check_out(regions: Regions, output: Any) -> int:
    k = regions.coef.shape[1]
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) or not 0 <= output < k:
        raise ValueError(f"output must be an integer in 0..{k - 1}; got {output!r}.")
    return int(output)


def _region_label(r: int, count: int) -> str:
    return f"region {r} (n={count})"


# ---------------------------------------------------------------------- parallel coordinates
class CoefficientParallelDisplay:
    """Parallel coordinates of LLM coefficients: one line per region across the features.

    Parameters
    ----------
    coef : ndarray of shape (n_regions, n_features_shown)
    feature_names : sequence of str
    region_ids, counts : ndarray of shape (n_regions,)

    Attributes
    ----------
    lines_ : list of Line2D, one per region
    ax_, figure_ : matplotlib Axes and Figure
    """

    def __init__(self, coef, feature_names, region_ids, counts,
                 ylabel: str = "LLM coefficient") -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.region_ids = np.asarray(region_ids)
        self.counts = np.asarray(counts)
        self.ylabel = ylabel

    @classmethod
    def from_regions(cls, regions: Regions, *, top: int | None = 10, features: Any = None,
                     output: int = 0, feature_sd: Any = None, ax: Any = None,
                     **plot_kw: Any):
        """The ``top`` largest regions (None: all), the chosen features (default all).

        ``feature_sd`` (the standard deviation of every input feature of the network, on
        the rows at hand) multiplies each feature's coefficients, so that features in
        different units compare: ``coef_j * sd_j`` is the effect of a one-sd change.
        """
        regions = check_regions(regions)
        top, output = _check_top(top), _check_out(regions, output)
        cols = _feature_indices(regions.feature_names, features)
        sel = np.arange(len(regions))[:top]
        factor, ylabel = _coef_scale(feature_sd, len(regions.feature_names))
        disp = cls(regions.coef[sel][:, output, cols] * factor[cols],
                   [regions.feature_names[j] for j in cols], sel, regions.counts[sel], ylabel)
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax: Any = None, *, cmap: str = "viridis", legend: bool = True):
        fig, ax = _axes(ax)
        x = np.arange(len(self.feature_names))
        colors = plt.get_cmap(cmap)(np.linspace(0, 1, max(len(self.region_ids), 2)))
        share = self.counts / max(self.counts.max(initial=1), 1)
        self.lines_ = []
        for i, r in enumerate(self.region_ids):
            (line,) = ax.plot(x, self.coef[i], marker="o", color=colors[i],
                              linewidth=0.8 + 2.5 * share[i], alpha=0.85,
                              label=_region_label(int(r), int(self.counts[i])))
            self.lines_.append(line)
        ax.axhline(0.0, color="grey", linewidth=0.8, linestyle=":")
        _feature_ticks(ax, x, self.feature_names)
        ax.set_ylabel(self.ylabel)
        ax.set_title("Local linear model coefficients by region")
        if legend and 0 < len(self.lines_) <= 15:
            # outside the axes, on the right: the legend never covers a line
            ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      borderaxespad=0.0)
        self.ax_, self.figure_ = ax, fig
        return self


def _coef_scale(feature_sd: Any, d: int) -> tuple[np.ndarray, str]:
    """Per-feature multipliers of the coefficients and the axis label they give."""
    if feature_sd is None:
        return np.ones(d), "LLM coefficient"
    f = np.asarray(feature_sd, dtype=np.float64)
    if f.shape != (d,) or not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError(f"feature_sd must hold one finite, non-negative number per feature "
                         f"({d}); got shape {f.shape}.")
    return f, "LLM coefficient x feature sd"


# ---------------------------------------------------------------------- violins
class CoefficientViolinDisplay:
    """Distribution of each feature's LLM coefficient over rows (count-weighted violins).

    Densities are Gaussian kernel estimates with the regions' counts as weights. A feature
    whose coefficient is the same in every region is drawn as a single tick.

    Attributes
    ----------
    violins_ : list, one artist per feature
    medians_ : LineCollection of the weighted medians
    """

    def __init__(self, grids, densities, feature_names, medians, quartiles,
                 ylabel: str = "LLM coefficient") -> None:
        self.grids = [np.asarray(g) for g in grids]
        self.densities = [None if d is None else np.asarray(d) for d in densities]
        self.feature_names = list(feature_names)
        self.medians = np.asarray(medians)
        self.quartiles = np.asarray(quartiles)
        self.ylabel = ylabel

    @classmethod
    def from_regions(cls, regions: Regions, X: Any = None, *, features: Any = None,
                     output: int = 0, grid_size: int = 200, feature_sd: Any = None,
                     ax: Any = None, **plot_kw: Any):
        """Count-weighted violins (weights from ``X``'s rows when given); ``feature_sd`` as
        for :meth:`CoefficientParallelDisplay.from_regions`."""
        regions = check_regions(regions)
        output = _check_out(regions, output)
        cols = _feature_indices(regions.feature_names, features)
        factor, ylabel = _coef_scale(feature_sd, len(regions.feature_names))
        dist = coefficient_distribution(regions, X, output=output, quantiles=(0.25, 0.5, 0.75))
        if X is not None:
            regions = unwrap(regions.network, X)
        w = regions.counts.astype(np.float64)
        grids, dens = [], []
        for j in cols:
            v = regions.coef[:, output, j] * factor[j]
            lo, hi = float(v.min()), float(v.max())
            if hi - lo <= 1e-12 * max(1.0, abs(lo)) or np.count_nonzero(w) < 2:
                grids.append(np.array([lo, hi]))
                dens.append(None)
                continue
            pad = 0.05 * (hi - lo)
            g = np.linspace(lo - pad, hi + pad, grid_size)
            try:
                dens.append(gaussian_kde(v, weights=w)(g))
            except np.linalg.LinAlgError:  # all the weight on a single value
                dens.append(None)
            grids.append(g)
        names = [regions.feature_names[j] for j in cols]
        f = factor[cols]
        disp = cls(grids, dens, names, dist.loc[names, "q0.5"].to_numpy() * f,
                   dist.loc[names, ["q0.25", "q0.75"]].to_numpy() * f[:, None], ylabel)
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax: Any = None, *, width: float = 0.8, color: str = "C0"):
        fig, ax = _axes(ax)
        self.violins_ = []
        for i, (g, d) in enumerate(zip(self.grids, self.densities, strict=True)):
            if d is None:
                (art,) = ax.plot([i - width / 4, i + width / 4], [g[0], g[0]], color=color,
                                 linewidth=2)
            else:
                half = d / d.max() * width / 2
                art = ax.fill_betweenx(g, i - half, i + half, color=color, alpha=0.5,
                                       linewidth=0.8, edgecolor=color)
            self.violins_.append(art)
        x = np.arange(len(self.feature_names))
        self.quartiles_ = ax.vlines(x, self.quartiles[:, 0], self.quartiles[:, 1], color="k",
                                    linewidth=3)
        segs = np.stack([np.column_stack([x - width / 4, self.medians]),
                         np.column_stack([x + width / 4, self.medians])], axis=1)
        self.medians_ = ax.add_collection(LineCollection(segs, colors="white", linewidths=2))
        ax.axhline(0.0, color="grey", linewidth=0.8, linestyle=":")
        _feature_ticks(ax, x, self.feature_names)
        # robust scale: a few tiny regions with huge slopes must not flatten every violin;
        # show the quartile boxes with 3 inter-quartile ranges around them
        q = self.quartiles
        iqr = float(np.nanmax(q[:, 1] - q[:, 0], initial=0.0))
        lo = float(np.nanmin(q[:, 0], initial=0.0)) - 3 * iqr
        hi = float(np.nanmax(q[:, 1], initial=0.0)) + 3 * iqr
        top = max(float(np.max(g)) for g in self.grids) if self.grids else hi
        bottom = min(float(np.min(g)) for g in self.grids) if self.grids else lo
        if iqr > 0 and (bottom < lo or top > hi):
            ax.set_ylim(max(lo, bottom), min(hi, top))
            self.clipped_ = True
            ax.text(0.99, 0.01, "y axis clipped at quartiles ± 3 IQR", transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=7, color="grey")
        else:
            self.clipped_ = False
        ax.set_ylabel(self.ylabel)
        ax.set_title("Coefficient distribution per feature (weighted by rows)")
        self.ax_, self.figure_ = ax, fig
        return self


# ---------------------------------------------------------------------- profiles
class LLMProfileDisplay:
    """For one feature, each region's linear effect ``coef_j * x_j`` over its own x range.

    Attributes
    ----------
    lines_ : LineCollection with one segment per region
    """

    def __init__(self, segments, feature_name, region_ids, counts) -> None:
        self.segments = np.asarray(segments, dtype=np.float64)  # (m, 2, 2)
        self.feature_name = str(feature_name)
        self.region_ids = np.asarray(region_ids)
        self.counts = np.asarray(counts)

    @classmethod
    def from_regions(cls, regions: Regions, X: Any, feature: Any = 0, *, top: int | None = 20,
                     output: int = 0, ax: Any = None, **plot_kw: Any):
        """``X`` are the unwrapped rows; each region's x range is that of its own rows."""
        regions = check_regions(regions)
        X = unwrapped_rows(regions, X)
        top, output = _check_top(top), _check_out(regions, output)
        j = int(_feature_indices(regions.feature_names, feature)[0])
        sel = np.arange(len(regions))[:top]
        # only the rows of the regions drawn: a groupby over every region (one per row in a
        # fragmented model) would cost far more than the few segments shown
        labels = np.asarray(regions.labels)
        keep = labels < sel.size
        grouped = pd.Series(X[keep, j]).groupby(labels[keep])
        lo = grouped.min().reindex(sel).to_numpy()
        hi = grouped.max().reindex(sel).to_numpy()
        b = regions.coef[sel, output, j]
        segs = np.stack([np.column_stack([lo, b * lo]), np.column_stack([hi, b * hi])], axis=1)
        disp = cls(segs, regions.feature_names[j], sel, regions.counts[sel])
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax: Any = None, *, cmap: str = "viridis"):
        fig, ax = _axes(ax)
        colors = plt.get_cmap(cmap)(np.linspace(0, 1, max(len(self.region_ids), 2)))
        lw = 1.0 + 3.0 * self.counts / max(self.counts.max(initial=1), 1)
        self.lines_ = ax.add_collection(
            LineCollection(self.segments, colors=colors[: len(self.region_ids)], linewidths=lw)
        )
        ends = self.segments.reshape(-1, 2)
        self.points_ = ax.scatter(ends[:, 0], ends[:, 1], s=6, color="k", zorder=3)
        ax.autoscale_view()
        # amounts of 10^4 and more in scientific notation (an offset such as 1e5 at the
        # axis end): six-digit tick labels overlap in a report's third-width panel
        ax.ticklabel_format(axis="both", style="sci", scilimits=(-3, 4), useOffset=False)
        ax.set_xlabel(self.feature_name)
        ax.set_ylabel(f"coef x {self.feature_name}")
        ax.set_title(f"Local linear effect of {self.feature_name} per region")
        self.ax_, self.figure_ = ax, fig
        return self


# ---------------------------------------------------------------------- two features
class TwoFeatureDisplay:
    """Rows in two features coloured by region; each region's LLM gradient as an arrow.

    Attributes
    ----------
    scatters_ : list of PathCollection, one per shown region, plus one for the other rows
    arrows_ : Quiver of the shown regions' gradients (the two coefficients) at their centres
    """

    def __init__(self, points, labels, feature_names, region_ids, counts, centres, gradients):
        self.points = np.asarray(points, dtype=np.float64)
        self.labels = np.asarray(labels)  # region id, or -1 for rows of other regions
        self.feature_names = list(feature_names)
        self.region_ids = np.asarray(region_ids)
        self.counts = np.asarray(counts)
        self.centres = np.asarray(centres, dtype=np.float64)
        self.gradients = np.asarray(gradients, dtype=np.float64)

    @classmethod
    def from_regions(cls, regions: Regions, X: Any, features: Any = (0, 1), *,
                     top: int | None = 8, output: int = 0, ax: Any = None, **plot_kw: Any):
        regions = check_regions(regions)
        X = unwrapped_rows(regions, X)
        top, output = _check_top(top), _check_out(regions, output)
        cols = _feature_indices(regions.feature_names, features)
        if cols.shape[0] != 2:
            raise ValueError(f"TwoFeatureDisplay needs exactly two features; got {len(cols)}.")
        labels = np.asarray(regions.labels)
        sel = np.arange(len(regions))[:top]
        shown = np.where(labels < sel.shape[0], labels, -1)
        pts = X[:, cols]
        cnt = regions.counts[sel].astype(np.float64)
        centres = np.column_stack(
            [np.bincount(labels, weights=pts[:, i], minlength=len(regions))[sel] / cnt
             for i in range(2)]
        )
        disp = cls(pts, shown, [regions.feature_names[j] for j in cols], sel,
                   regions.counts[sel], centres, regions.coef[sel][:, output][:, cols])
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax: Any = None, *, cmap: str = "tab10", s: float = 8.0):
        fig, ax = _axes(ax)
        self.scatters_ = []
        other = self.labels == -1
        if other.any():
            self.scatters_.append(ax.scatter(*self.points[other].T, s=s, color="lightgrey",
                                             label="other regions"))
        colors = plt.get_cmap(cmap)(np.arange(len(self.region_ids)) % 10)
        for i, r in enumerate(self.region_ids):
            m = self.labels == r
            self.scatters_.append(ax.scatter(*self.points[m].T, s=s, color=colors[i],
                                             label=_region_label(int(r), int(self.counts[i]))))
        g = self.gradients / np.maximum(np.linalg.norm(self.gradients, axis=1, keepdims=True),
                                        1e-300)
        self.arrows_ = ax.quiver(self.centres[:, 0], self.centres[:, 1], g[:, 0], g[:, 1],
                                 color=colors[: len(self.region_ids)], angles="xy", zorder=3,
                                 edgecolor="k", linewidth=0.5)
        ax.set_xlabel(self.feature_names[0])
        ax.set_ylabel(self.feature_names[1])
        ax.set_title("Regions in two features (arrows: LLM gradient direction)")
        if len(self.scatters_) <= 12:
            ax.legend(fontsize="small", markerscale=2, loc="upper left",
                      bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        self.ax_, self.figure_ = ax, fig
        return self


# ---------------------------------------------------------------------- sizes
class RegionSizeDisplay:
    """Bar chart of the largest regions' row counts, with the cumulative share of rows.

    Attributes
    ----------
    bars_ : BarContainer, one bar per region
    cumulative_line_ : Line2D of the cumulative share (right axis ``ax2_``)
    """

    def __init__(self, counts, region_ids, cum_share, n_regions_total) -> None:
        self.counts = np.asarray(counts)
        self.region_ids = np.asarray(region_ids)
        self.cum_share = np.asarray(cum_share, dtype=np.float64)
        self.n_regions_total = int(n_regions_total)

    @classmethod
    def from_regions(cls, regions: Regions, *, top: int | None = 20, ax: Any = None,
                     **plot_kw: Any):
        regions = check_regions(regions)
        top = _check_top(top)
        sel = np.arange(len(regions))[:top]
        disp = cls(regions.counts[sel], sel, np.cumsum(regions.shares)[sel], len(regions))
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax: Any = None, *, color: str = "C0"):
        fig, ax = _axes(ax)
        x = np.arange(len(self.counts))
        self.bars_ = ax.bar(x, self.counts, color=color)
        ax.set_xticks(x, [str(r) for r in self.region_ids],
                      rotation=90 if len(x) > 25 else 0)
        ax.set_xlabel("region")
        ax.set_ylabel("rows")
        self.ax2_ = ax.twinx()
        (self.cumulative_line_,) = self.ax2_.plot(x, self.cum_share, color="C3", marker=".")
        self.ax2_.set_ylim(0, 1.02)
        self.ax2_.set_ylabel("cumulative share of rows")
        ax.set_title(f"Largest {len(x)} of {self.n_regions_total} regions")
        self.ax_, self.figure_ = ax, fig
        return self


# ---------------------------------------------------------------------- contributions
class ContributionDisplay:
    """Exact local contributions of one row: ``coef_j * x_j`` (or ``coef_j (x_j - b_j)``).

    The bars plus the base add up exactly to the network's raw output for the row.

    Attributes
    ----------
    bars_ : BarContainer with one bar per feature shown plus one for the base
    """

    def __init__(self, contributions, feature_names, base, output_value, title=None) -> None:
        self.contributions = np.asarray(contributions, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.base = float(base)
        self.output_value = float(output_value)
        self.title = title

    @classmethod
    def from_model(cls, model: Any, X: Any, row: int = 0, *, baseline: Any = None,
                   output: int = 0, max_features: int | None = None, ax: Any = None,
                   **plot_kw: Any):
        """``model``: Regions, ReluNetwork or any importable model; ``row``: position in X
        (the title shows the row's index label when X is a DataFrame).

        ``max_features`` keeps the largest contributions and folds the rest into one bar
        ("other"), so the bars still add up to the output.
        """
        Xr, label = pick_row(X, row)  # titled with the row's own label, not its position
        c = local_contributions(model, Xr, baseline, output=output).iloc[0]
        feats = [f for f in c.index if f not in ("base", "output")]
        feats, vals = fold_smallest(feats, c[feats].to_numpy(dtype=np.float64), max_features)
        disp = cls(vals, feats, c["base"], c["output"], title=f"Row {label}")
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_regions(cls, regions: Regions, X: Any, row: int = 0, **kw: Any):
        return cls.from_model(check_regions(regions), X, row, **kw)

    def plot(self, ax: Any = None, *, sort: bool = True):
        fig, ax = _axes(ax)
        n = len(self.contributions)
        # barh draws bottom-up: the largest contribution ends on top, next to the base
        order = np.argsort(np.abs(self.contributions), kind="stable") if sort else np.arange(n)
        names = ["base"] + [self.feature_names[i] for i in order]
        vals = np.r_[self.base, self.contributions[order]]
        colors = ["grey"] + ["C3" if v < 0 else "C2" for v in vals[1:]]
        self.bars_ = ax.barh(np.arange(len(vals)), vals, color=colors)
        ax.set_yticks(np.arange(len(vals)), names)
        ax.axvline(0.0, color="k", linewidth=0.8)
        ax.set_xlabel("contribution to the raw output")
        t = f"{self.title}: " if self.title else ""
        ax.set_title(f"{t}output {self.output_value:.4g} = base + contributions")
        self.ax_, self.figure_ = ax, fig
        return self


# ---------------------------------------------------------------------- local vs global
class LocalGlobalPerformanceDisplay:
    """Per region: performance of its LLM on its own rows (x) vs on all rows (y).

    A region whose point lies near the diagonal has an LLM that works globally as well as
    locally; far below, its linear model is purely local.

    Attributes
    ----------
    scatter_ : PathCollection, one point per region with both values
    diagonal_ : Line2D of y = x
    """

    def __init__(self, local, global_, counts, region_ids, metric, network_value=None):
        self.local = np.asarray(local, dtype=np.float64)
        self.global_ = np.asarray(global_, dtype=np.float64)
        self.counts = np.asarray(counts)
        self.region_ids = np.asarray(region_ids)
        self.metric = str(metric)
        self.network_value = None if network_value is None else float(network_value)

    @classmethod
    def from_summary(cls, summary: pd.DataFrame, metric: str | None = None, *, ax: Any = None,
                     **plot_kw: Any):
        """From a :func:`glassnet.summary.region_summary` table (with ``y``)."""
        if metric is None:
            metric = summary.attrs.get("metric")
            if metric is None:
                metric = "auc" if "local_auc" in summary else "mse"
        lc, gc = f"local_{metric}", f"global_{metric}"
        if lc not in summary or gc not in summary:
            raise ValueError(
                f"The summary has no columns {lc!r}/{gc!r}; build it with y, and pick a "
                "metric among auc, accuracy (classification) or mse, rmse (regression)."
            )
        ok = summary[lc].notna() & summary[gc].notna()
        s = summary[ok]
        disp = cls(s[lc], s[gc], s["count"], s["region"], metric,
                   summary.attrs.get(f"network_{metric}"))
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_regions(cls, regions: Regions, X: Any, y: Any, *, metric: str | None = None,
                     top: int | None = 50, min_count: int = 2, ax: Any = None,
                     **summary_kw: Any):
        table = region_summary(regions, X, y, top=top, min_count=min_count, **summary_kw)
        return cls.from_summary(table, metric, ax=ax)

    def plot(self, ax: Any = None, *, color: str = "C0"):
        fig, ax = _axes(ax)
        size = 15 + 300 * self.counts / max(self.counts.max(initial=1), 1)
        self.scatter_ = ax.scatter(self.local, self.global_, s=size, color=color, alpha=0.6,
                                   edgecolor="k", linewidth=0.5)
        vals = np.r_[self.local, self.global_]
        lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
        (self.diagonal_,) = ax.plot([lo, hi], [lo, hi], color="grey", linestyle="--",
                                    linewidth=1)
        if self.network_value is not None:
            ax.axhline(self.network_value, color="C3", linewidth=1,
                       label=f"network {_metric_name(self.metric)} = {self.network_value:.3g}")
            ax.legend(fontsize="small", loc="best")
        ax.set_xlabel(f"local {_metric_name(self.metric)} (region's own rows)")
        ax.set_ylabel(f"global {_metric_name(self.metric)} (region's LLM on all rows)")
        ax.set_title("Local vs global performance of each region's LLM")
        self.ax_, self.figure_ = ax, fig
        return self
