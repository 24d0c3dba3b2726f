"""Displays of the simplifications: merger/pruner cross-validation curves, the merger's Ward
tree and the L1 path.

Each Display follows scikit-learn's pattern: ``__init__`` stores the values to draw,
``from_*`` classmethods read them from a fitted object and call :meth:`plot`, and ``plot``
only draws and sets ``ax_`` and ``figure_``. The fitted objects keep one-line ``plot_*``
methods that delegate here (:meth:`RegionMerger.plot_cv`, :meth:`RegionMerger.plot_dendrogram`,
:meth:`RegionPruner.plot_cv`, :meth:`L1Path.plot`); ``glassnet.simplify.merge`` still
exposes the merger's Displays under their old import path.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from glassnet.plotting import _metric_name

__all__ = ["L1PathDisplay", "MergeCVDisplay", "MergeDendrogramDisplay"]


def _new_axes(ax: Any, figsize: tuple[float, float], **kwargs: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, **kwargs)[1]


def _cv_values(est: Any, what: str) -> tuple[Any, ...]:
    check_is_fitted(est, "models_")
    if not hasattr(est, "cv_results_"):
        raise ValueError(f"The {what} was fitted with an integer n_regions: no CV curve.")
    r = est.cv_results_
    return (r["n_regions"], r["mean_test_score"], r["sem_test_score"], est.cv_n_regions_,
            est.scoring_name_)


class MergeCVDisplay:
    """Cross-validation curve: held-out score against the number of regions.

    Parameters
    ----------
    n_regions, mean_score, sem_score : ndarray of shape (n_candidates,)
        Candidate counts, mean held-out score and its standard error.
    chosen : int
        The count chosen (a dashed vertical line).
    scoring : str, default="score"
        Name of the score (the y label).
    xlabel : str, default="number of merged regions"
        Label of the count axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(
        self,
        n_regions: np.ndarray,
        mean_score: np.ndarray,
        sem_score: np.ndarray,
        chosen: int,
        scoring: str = "score",
        xlabel: str = "number of merged regions",
    ) -> None:
        self.n_regions = np.asarray(n_regions)
        self.mean_score = np.asarray(mean_score)
        self.sem_score = np.asarray(sem_score)
        self.chosen = chosen
        self.scoring = scoring
        self.xlabel = xlabel

    @classmethod
    def from_merger(cls, merger: Any, *, ax: Any = None) -> MergeCVDisplay:
        """Read a fitted :class:`~glassnet.simplify.RegionMerger`'s ``cv_results_`` and plot.

        Parameters
        ----------
        merger : RegionMerger
            Fitted with ``n_regions="cv"`` (or a list of counts).
        ax : matplotlib Axes, optional

        Returns
        -------
        MergeCVDisplay
        """
        return cls(*_cv_values(merger, "merger")).plot(ax=ax)

    @classmethod
    def from_pruner(cls, pruner: Any, *, ax: Any = None) -> MergeCVDisplay:
        """Read a fitted :class:`~glassnet.simplify.RegionPruner`'s ``cv_results_`` and plot.

        Parameters
        ----------
        pruner : RegionPruner
            Fitted with a cross-validated ``n_regions``.
        ax : matplotlib Axes, optional

        Returns
        -------
        MergeCVDisplay
        """
        values = _cv_values(pruner, "pruner")
        return cls(*values, xlabel="number of kept regions").plot(ax=ax)

    def plot(self, ax: Any = None) -> MergeCVDisplay:
        """Draw the curve with one-standard-error bars.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        self
        """
        ax = _new_axes(ax, (6, 4))
        ax.errorbar(self.n_regions, self.mean_score, yerr=self.sem_score, marker="o",
                    capsize=3, label="mean held-out score +/- 1 s.e.")
        ax.axvline(self.chosen, color="C3", ls="--", label=f"chosen: {self.chosen}")
        ax.set_xlabel(self.xlabel)
        ax.set_ylabel(_metric_name(self.scoring))
        ax.legend(loc="best")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class MergeDendrogramDisplay:
    """Dendrogram of the count-weighted Ward tree of a :class:`~glassnet.simplify.RegionMerger`.

    Parameters
    ----------
    linkage : ndarray of shape (R - 1, 4)
        SciPy linkage matrix (see :meth:`RegionMerger.linkage_matrix`).
    n_clusters : int
        The cut to colour.
    p : int, default=30
        Number of clusters shown at the bottom (``truncate_mode="lastp"``).

    Attributes
    ----------
    dendrogram_ : dict
        What :func:`scipy.cluster.hierarchy.dendrogram` returned.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, linkage: np.ndarray, n_clusters: int, p: int = 30) -> None:
        self.linkage = np.asarray(linkage)
        self.n_clusters = int(n_clusters)
        self.p = int(p)

    @classmethod
    def from_merger(cls, merger: Any, p: int = 30, *, ax: Any = None) -> MergeDendrogramDisplay:
        """Read a fitted merger's linkage matrix and chosen count, and plot.

        Parameters
        ----------
        merger : RegionMerger
        p : int, default=30
        ax : matplotlib Axes, optional

        Returns
        -------
        MergeDendrogramDisplay
        """
        return cls(merger.linkage_matrix(), merger.cv_n_regions_, p).plot(ax=ax)

    def plot(self, ax: Any = None) -> MergeDendrogramDisplay:
        """Draw the tree, coloured below the cut at ``n_clusters``.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        self
        """
        from scipy.cluster.hierarchy import dendrogram

        ax = _new_axes(ax, (8, 4))
        Z = self.linkage
        m = Z.shape[0] + 1 - self.n_clusters  # merges applied at the cut
        # colour threshold halfway between the last merge kept and the first one cut
        if 0 < m < Z.shape[0]:
            thr = 0.5 * (Z[m - 1, 2] + Z[m, 2])
        else:
            thr = 0.0 if m <= 0 else Z[-1, 2] * 1.01
        self.dendrogram_ = dendrogram(
            Z, p=self.p, truncate_mode="lastp", color_threshold=thr, ax=ax, no_labels=False
        )
        ax.set_xlabel("regions (count of regions in a cluster in brackets)")
        ax.set_ylabel("Ward distance")
        ax.set_title(f"count-weighted Ward tree, cut at {self.n_clusters}")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


class L1PathDisplay:
    """Number of regions (left axis) and score (right axis) against the L1 penalty.

    Parameters
    ----------
    l1_reg, n_regions, score : ndarray of shape (n_penalties,)
        The penalties, the training rows' region counts and the scores.
    metric : {"auc", "rmse"}
    score_on : {"validation", "training"}
        Rows the score was computed on (in the score axis label).
    recommended : float
        The recommended penalty (a dotted vertical line; none when NaN).
    log_regions : bool, default=True
        Log scale for the regions axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
        The regions axis.
    score_ax_ : matplotlib Axes
        Its twin, holding the score.
    figure_ : matplotlib Figure
    """

    def __init__(
        self,
        l1_reg: np.ndarray,
        n_regions: np.ndarray,
        score: np.ndarray,
        *,
        metric: str,
        score_on: str,
        recommended: float,
        log_regions: bool = True,
    ) -> None:
        self.l1_reg = np.asarray(l1_reg, dtype=np.float64)
        self.n_regions = np.asarray(n_regions)
        self.score = np.asarray(score, dtype=np.float64)
        self.metric = metric
        self.score_on = score_on
        self.recommended = float(recommended)
        self.log_regions = bool(log_regions)

    @classmethod
    def from_path(cls, path: Any, *, ax: Any = None, log_regions: bool = True) -> L1PathDisplay:
        """Read an :class:`~glassnet.simplify.L1Path`'s table and plot.

        Parameters
        ----------
        path : L1Path
        ax : matplotlib Axes, optional
        log_regions : bool, default=True

        Returns
        -------
        L1PathDisplay
        """
        t = path.table_
        return cls(t["l1_reg"].to_numpy(), t["n_regions"].to_numpy(), t["score"].to_numpy(),
                   metric=path.metric_, score_on=path.score_on_,
                   recommended=path.recommended_, log_regions=log_regions).plot(ax=ax)

    def plot(self, ax: Any = None) -> L1PathDisplay:
        """Draw both curves; the penalty axis is symmetric-log so that 0 can be shown.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.

        Returns
        -------
        self
        """
        ax = _new_axes(ax, (6.4, 4.0), layout="constrained")
        x = self.l1_reg
        ax.plot(x, self.n_regions, "o-", color="C0", label="regions (training rows)")
        ax.set_xlabel("L1 penalty (l1_reg)")
        ax.set_ylabel("number of regions", color="C0")
        positive = x[x > 0]
        ax.set_xscale("symlog", linthresh=float(positive.min()) if positive.size else 1e-6)
        if self.log_regions:
            ax.set_yscale("log")
        score_ax = ax.twinx()
        label = f"{self.metric.upper()} ({self.score_on})"
        score_ax.plot(x, self.score, "s--", color="C1", label=label)
        score_ax.set_ylabel(label, color="C1")
        if math.isfinite(self.recommended):
            ax.axvline(self.recommended, color="0.4", linestyle=":", linewidth=1)
        ax.set_title("L1 path: regions and score against the penalty")
        self.ax_ = ax
        self.score_ax_ = score_ax
        self.figure_ = ax.figure
        return self
