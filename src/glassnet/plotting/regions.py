"""Displays of the regions as a whole: how rows spread over them, and which features matter.

* :class:`RegionSizeDistributionDisplay`: bar chart of the largest regions' row counts and,
  on a second axes, the cumulative share of rows covered by the largest regions (over all
  regions, log scale): how concentrated the network's activation regions are.
* :class:`FeatureImportanceDisplay`: horizontal bars of the global feature importance from
  the exact local linear models (:func:`glassnet.feature_importance`), every feature.

Both follow scikit-learn's Display pattern: ``from_*`` computes (with
:mod:`glassnet.explain`), ``plot(ax=None)`` only draws and sets ``ax_`` and ``figure_``.
They draw the figures of :meth:`glassnet.Report.add_size_distribution` and
:meth:`glassnet.Report.add_feature_importance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from glassnet.explain import check_regions
from glassnet.explain import feature_importance as _feature_importance
from glassnet.plotting._common import check_top
from glassnet.regions import Regions

__all__ = ["FeatureImportanceDisplay", "RegionSizeDistributionDisplay"]

# the report's blue: the same colour as the other bars of a report
_BLUE = "#3d6fb6"
# at most this many points of the cumulative curve: it is monotone, so log-spaced points
# lose nothing visible, and the figure draws in the same time for 10 or 10 million regions
_CURVE_POINTS = 2000


def _is_axes_pair(ax: Any) -> bool:
    return isinstance(ax, (Sequence, np.ndarray)) and not isinstance(ax, str)


class RegionSizeDistributionDisplay:
    """Row counts of the largest regions, and the cumulative share of rows they cover.

    Parameters
    ----------
    counts : array-like of int
        Row counts of the regions shown as bars, largest first.
    n_regions : int
        Number of regions in all (the x label says how many of them the bars show).
    coverage_at : array-like of int
        Numbers of largest regions at which the cumulative share is drawn (1-based).
    coverage : array-like of float
        Share of rows held by the ``coverage_at[i]`` largest regions.

    Attributes
    ----------
    bars_ : BarContainer
        One bar per region shown.
    coverage_line_ : Line2D or None
        The cumulative share of rows (None when only the bars were drawn).
    ax_ : matplotlib Axes
        The axes with the bars.
    coverage_ax_ : matplotlib Axes or None
        The axes with the cumulative share.
    figure_ : matplotlib Figure
    """

    def __init__(self, counts: Any, n_regions: int, coverage_at: Any, coverage: Any) -> None:
        self.counts = np.asarray(counts)
        self.n_regions = int(n_regions)
        self.coverage_at = np.asarray(coverage_at, dtype=np.int64)
        self.coverage = np.asarray(coverage, dtype=np.float64)

    @classmethod
    def from_regions(cls, regions: Regions, *, top: int | None = 50, ax: Any = None,
                     **plot_kw: Any) -> RegionSizeDistributionDisplay:
        """Bars of the ``top`` largest regions and the coverage curve over all of them.

        Parameters
        ----------
        regions : Regions
        top : int or None, default 50
            Number of bars (the largest regions); None: one bar per region.
        ax : matplotlib Axes or pair of Axes, optional
            See :meth:`plot`.
        **plot_kw
            Passed to :meth:`plot`.

        Returns
        -------
        RegionSizeDistributionDisplay
        """
        regions = check_regions(regions)
        top = check_top(top)
        # largest first (Regions are already in that order; the stable sort keeps ties)
        counts = regions.counts[np.argsort(-regions.counts, kind="stable")]
        n = len(counts)
        cum = np.cumsum(counts) / max(regions.n_samples, 1)
        at = np.unique(np.geomspace(1, max(n, 1), _CURVE_POINTS).astype(np.int64))
        disp = cls(counts[:top], n, at, cum[at - 1] if n else at * 0.0)
        return disp.plot(ax=ax, **plot_kw)

    def plot(self, ax: Any = None, *, color: str = _BLUE,
             coverage_color: str = "#b5482f") -> RegionSizeDistributionDisplay:
        """Draw the bars (and the coverage curve) from the stored values.

        Parameters
        ----------
        ax : matplotlib Axes or pair of Axes, optional
            One Axes: only the bars, there. A pair: the bars on the first, the cumulative
            share on the second. None: a new 8 x 3.4 inch figure with both, side by side.
        color, coverage_color : str
            Colours of the bars and of the curve.

        Returns
        -------
        RegionSizeDistributionDisplay
            ``self``, with ``ax_``, ``coverage_ax_``, ``figure_`` and the artists set.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            fig, (ax, cax) = plt.subplots(1, 2, figsize=(8, 3.4))
        elif _is_axes_pair(ax):
            if len(ax) != 2:
                raise ValueError(f"ax must be one Axes or a pair of Axes; got {len(ax)}.")
            ax, cax = ax
            fig = ax.figure
        else:
            fig, cax = ax.figure, None
        k = len(self.counts)
        self.bars_ = ax.bar(np.arange(k), self.counts, color=color)
        ax.set_xlabel(f"region, largest first ({k} of {self.n_regions:,})")
        ax.set_ylabel("rows")
        ax.set_title("Region sizes")
        self.coverage_line_ = None
        if cax is not None:
            (self.coverage_line_,) = cax.plot(self.coverage_at, self.coverage,
                                              color=coverage_color)
            cax.axhline(0.95, color="grey", lw=0.8, ls="--")
            cax.set_xscale("log")
            cax.set_xlabel("number of largest regions")
            cax.set_ylabel("share of rows")
            cax.set_ylim(0, 1.02)
            cax.set_title("Cumulative coverage")
        self.ax_, self.coverage_ax_, self.figure_ = ax, cax, fig
        return self


class FeatureImportanceDisplay:
    """Global feature importance from the exact local linear models, as horizontal bars.

    Parameters
    ----------
    importances : array-like of float
        One value per feature (or group).
    feature_names : sequence of str
    scale : {"std", "raw"}, default "raw"
        What an effect is: of one standard deviation (``"std"``) or of one unit (``"raw"``)
        of the feature; the x label says which.

    Attributes
    ----------
    bars_ : BarContainer
        One bar per feature, the most important on top.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, importances: Any, feature_names: Any, scale: str = "raw") -> None:
        self.importances = np.asarray(importances, dtype=np.float64)
        self.feature_names = [str(n) for n in feature_names]
        if len(self.feature_names) != self.importances.size:
            raise ValueError(f"{self.importances.size} importances for "
                             f"{len(self.feature_names)} feature names; give one name each.")
        self.scale = str(scale)

    @classmethod
    def from_table(cls, table: pd.DataFrame, *, ax: Any = None,
                   **plot_kw: Any) -> FeatureImportanceDisplay:
        """Plot a :func:`glassnet.feature_importance` table (its ``importance`` column).

        Parameters
        ----------
        table : DataFrame
            Indexed by feature (or with a ``feature`` column); the scale is read from
            ``table.attrs["scale"]`` (default ``"raw"``).
        ax : matplotlib Axes, optional
        **plot_kw
            Passed to :meth:`plot`.

        Returns
        -------
        FeatureImportanceDisplay
        """
        if not isinstance(table, pd.DataFrame) or table.shape[1] == 0:
            raise TypeError("table must be the DataFrame returned by feature_importance.")
        col = "importance" if "importance" in table.columns else table.columns[-1]
        names = table["feature"].astype(str).to_numpy() if "feature" in table else table.index
        disp = cls(table[col].to_numpy(dtype=np.float64), names,
                   table.attrs.get("scale", "raw"))
        return disp.plot(ax=ax, **plot_kw)

    @classmethod
    def from_regions(cls, regions: Regions, X: Any = None, *, ax: Any = None,
                     plot_kw: dict[str, Any] | None = None,
                     **importance_kw: Any) -> FeatureImportanceDisplay:
        """Compute :func:`glassnet.feature_importance` of ``regions`` (over ``X``) and plot it.

        Parameters
        ----------
        regions : Regions
        X : array-like, optional
            Rows: their standard deviations set the scale (the default with ``X``).
        ax : matplotlib Axes, optional
        plot_kw : dict, optional
            Passed to :meth:`plot`.
        **importance_kw
            Passed to :func:`glassnet.feature_importance` (``scale``, ``output``,
            ``by_group``, ``groups``, ``standardize``).

        Returns
        -------
        FeatureImportanceDisplay
        """
        table = _feature_importance(check_regions(regions), X, **importance_kw)
        return cls.from_table(table, ax=ax, **(plot_kw or {}))

    def plot(self, ax: Any = None, *, color: str = _BLUE) -> FeatureImportanceDisplay:
        """Draw the bars, the most important feature on top.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Default: a new figure, its height growing with the number of features.
        color : str

        Returns
        -------
        FeatureImportanceDisplay
            ``self``, with ``ax_``, ``figure_`` and ``bars_`` set.
        """
        if ax is None:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(7, max(2.2, 0.28 * self.importances.size + 0.8)))
        else:
            fig = ax.figure
        order = np.argsort(self.importances)  # barh draws bottom-up: the largest on top
        self.bars_ = ax.barh(np.asarray(self.feature_names)[order], self.importances[order],
                             color=color)
        ax.set_xlabel("share of importance (" + ("one-standard-deviation effects)"
                                                  if self.scale == "std"
                                                  else "one-unit effects)"))
        self.ax_, self.figure_ = ax, fig
        return self
