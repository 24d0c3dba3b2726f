"""Displays for :mod:`glassnet.diagnose`, in scikit-learn's pattern.

Each Display stores the values it draws (``from_*`` constructors compute them with
:mod:`glassnet.diagnose`), draws with ``plot(ax=None)`` and then exposes ``ax_`` and
``figure_`` plus the artists it made. matplotlib is imported inside ``plot`` only.

================================  =========================================================
Display                           shows
================================  =========================================================
:class:`RobustnessDisplay`        decision flip rate under random noise and the exact share
                                  of rows flippable within each radius; the score under noise
:class:`ReliabilityDisplay`       reliability diagram (observed rate against mean predicted)
:class:`CompareDisplay`           ROC curves and calibration curves of several models
:class:`WeakspotDisplay`          the score of each slice against the overall score
:class:`ResilienceDisplay`        the score on the worst share of rows
:class:`FairnessDisplay`          adverse impact ratio by group with the four-fifths line
:class:`ALEDisplay`               accumulated local effect of one feature
:class:`BoundaryDistanceDisplay`  distance of each row to its region's boundary: histogram
                                  and cumulative share (log scale)
================================  =========================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RobustnessDisplay", "ReliabilityDisplay", "CompareDisplay", "WeakspotDisplay",
           "ResilienceDisplay", "FairnessDisplay", "ALEDisplay", "BoundaryDistanceDisplay"]


def _axes(ax: Any, figsize: tuple[float, float] = (6.0, 4.0)) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


class RobustnessDisplay:
    """Robustness curves: random flip rate, exact flippable share, and the score under noise.

    Parameters
    ----------
    sizes : ndarray
        Perturbation sizes (standard deviations).
    metric_mean : ndarray
        Score under random noise at each size.
    flip_rate : ndarray or None
        Share of decisions changed by random noise.
    share_flippable : ndarray or None
        Exact share of rows with a decision change within each radius.
    metric : str
    noise : str

    The shares go on the left axis and the score on a twin axis (``ax2_``); without
    decisions (a regressor: no flip rate, no exact share) the score has the left axis to
    itself and ``ax2_`` is ``ax_``.
    """

    def __init__(self, sizes: Any, metric_mean: Any, flip_rate: Any = None,
                 share_flippable: Any = None, metric: str = "score",
                 noise: str = "normal", share_bounds: Any = None) -> None:
        self.sizes = np.asarray(sizes, dtype=np.float64)
        self.metric_mean = np.asarray(metric_mean, dtype=np.float64)
        self.flip_rate = None if flip_rate is None else np.asarray(flip_rate, dtype=np.float64)
        self.share_flippable = (None if share_flippable is None
                                else np.asarray(share_flippable, dtype=np.float64))
        self.metric = metric
        self.noise = noise
        self.share_bounds = share_bounds

    @classmethod
    def from_result(cls, result: Any, ax: Any = None) -> RobustnessDisplay:
        """From a :class:`glassnet.diagnose.RobustnessResult`."""
        r = result.random
        exact = bounds = None
        if result.exact is not None:
            exact = result.exact["share_flippable"]
            if result.exact["n_timed_out"].iloc[0] > 0:
                bounds = (result.exact["share_flippable_lo"].to_numpy(),
                          result.exact["share_flippable_hi"].to_numpy())
        flip = r["flip_rate"] if "flip_rate" in r else None
        return cls(r["size"], r[f"{result.metric}_mean"], flip, exact, result.metric,
                   result.noise, bounds).plot(ax)

    @classmethod
    def from_estimator(cls, model: Any, X: Any, y: Any, ax: Any = None,
                       **kwargs: Any) -> RobustnessDisplay:
        """Run :func:`glassnet.diagnose.robustness` (``kwargs`` passed on) and plot."""
        from glassnet.diagnose import robustness

        return cls.from_result(robustness(model, X, y, **kwargs), ax)

    def plot(self, ax: Any = None) -> RobustnessDisplay:
        ax = _axes(ax)
        self.lines_ = []
        if self.flip_rate is not None:
            self.lines_ += ax.plot(self.sizes, self.flip_rate, "o-",
                                   label=f"decisions flipped by random {self.noise} noise")
        if self.share_flippable is not None:
            self.lines_ += ax.step(self.sizes, self.share_flippable, "s-", where="post",
                                   color="C3", label="exact: rows flippable within radius")
        if self.share_bounds is not None:
            # rows whose MILP timed out: the exact share over all rows lies in this band
            ax.fill_between(self.sizes, *self.share_bounds, step="post", color="C3",
                            alpha=0.15)
        ax.set_xlabel("perturbation size (standard deviations; L-inf radius)")
        if self.lines_:
            ax.set_ylabel("share of rows")
            ax.set_ylim(-0.02, 1.02)
            ax2 = ax.twinx()
        else:  # no decisions (a regressor): the metric alone, on the main axis
            ax2 = ax
        self.lines_ += ax2.plot(self.sizes, self.metric_mean, "^--", color="C2",
                                label=f"{self.metric} under noise")
        ax2.set_ylabel(self.metric)
        # below the axes: "best" placement sees only ``ax``'s artists, so inside the axes
        # the legend could hide the metric's line, which lives on the twin axes
        self.legend_ = ax.legend(handles=self.lines_, loc="upper center",
                                 bbox_to_anchor=(0.5, -0.16), fontsize="small")
        self.ax_, self.ax2_, self.figure_ = ax, ax2, ax.figure
        return self


class ReliabilityDisplay:
    """Reliability diagram: observed event rate against mean predicted probability.

    Parameters
    ----------
    curve : DataFrame
        Columns ``mean_predicted``, ``observed_rate``, ``n`` (see
        :func:`glassnet._metrics.calibration_curve`).
    name : str, optional
    """

    def __init__(self, curve: pd.DataFrame, name: str | None = None) -> None:
        self.curve = curve
        self.name = name

    @classmethod
    def from_result(cls, result: Any, ax: Any = None, name: str | None = None
                    ) -> ReliabilityDisplay:
        """From a :class:`glassnet.diagnose.ReliabilityResult` (binary classification)."""
        if result.calibration is None:
            raise ValueError("The result has no calibration curve (binary classification only).")
        return cls(result.calibration, name).plot(ax)

    def plot(self, ax: Any = None) -> ReliabilityDisplay:
        ax = _axes(ax, (5.0, 5.0))
        ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
        (self.line_,) = ax.plot(self.curve["mean_predicted"], self.curve["observed_rate"], "o-",
                                label=self.name or "model")
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel("observed event rate")
        ax.legend(loc="best")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class CompareDisplay:
    """ROC curves (left) and calibration curves (right) of several models on one test set.

    Parameters
    ----------
    comparison : glassnet.diagnose.Comparison
    n_bins : int
        Bins of the calibration curves.
    """

    def __init__(self, comparison: Any, n_bins: int = 10) -> None:
        if comparison.task != "classification" or comparison.pos_label is None:
            raise ValueError("CompareDisplay draws binary classifiers.")
        from glassnet import _metrics as M

        self.names = list(comparison.outputs)
        self.roc = {k: M.roc_curve(comparison.y, v, pos_label=comparison.pos_label)
                    for k, v in comparison.outputs.items()}
        self.calibration = {k: M.calibration_curve(comparison.y, v, n_bins=n_bins,
                                                   pos_label=comparison.pos_label)
                            for k, v in comparison.outputs.items()}
        self.auc = comparison.table["auc"].to_dict() if "auc" in comparison.table else {}

    @classmethod
    def from_comparison(cls, comparison: Any, ax: Any = None, n_bins: int = 10
                        ) -> CompareDisplay:
        """Plot a :class:`glassnet.diagnose.Comparison`."""
        return cls(comparison, n_bins).plot(ax)

    def plot(self, ax: Any = None) -> CompareDisplay:
        """``ax``: a pair of axes (ROC, calibration), or None for a new figure."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(11, 4.5))
        roc_ax, cal_ax = ax
        for k in self.names:
            auc = self.auc.get(k)
            label = k if auc is None else f"{k} (AUC {auc:.4f})"
            roc_ax.plot(self.roc[k]["fpr"], self.roc[k]["tpr"], label=label)
            cal_ax.plot(self.calibration[k]["mean_predicted"],
                        self.calibration[k]["observed_rate"], "o-", label=k)
        roc_ax.plot([0, 1], [0, 1], ":", color="grey")
        roc_ax.set_xlabel("false positive rate")
        roc_ax.set_ylabel("true positive rate")
        roc_ax.set_title("ROC")
        cal_ax.plot([0, 1], [0, 1], ":", color="grey")
        cal_ax.set_xlabel("mean predicted probability")
        cal_ax.set_ylabel("observed event rate")
        cal_ax.set_title("calibration")
        roc_ax.legend(loc="lower right", fontsize="small")
        cal_ax.legend(loc="upper left", fontsize="small")
        self.ax_ = np.array([roc_ax, cal_ax])
        self.figure_ = roc_ax.figure
        return self


class WeakspotDisplay:
    """Horizontal bars: each slice's score, weak slices highlighted, the overall score as a line.

    Parameters
    ----------
    frame : DataFrame
        The output of :func:`glassnet.diagnose.weakspots`.
    top : int
        Slices drawn (the worst first).
    """

    def __init__(self, frame: pd.DataFrame, top: int = 15) -> None:
        metric = [c for c in frame.columns
                  if c not in ("slice", "n", "share", "overall", "worse_by", "weak")]
        if len(metric) != 1:
            raise ValueError("frame is not a weakspots() table.")
        self.metric = metric[0]
        self.frame = frame.head(top)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, ax: Any = None, top: int = 15) -> WeakspotDisplay:
        """Plot a :func:`glassnet.diagnose.weakspots` table."""
        return cls(frame, top).plot(ax)

    def plot(self, ax: Any = None) -> WeakspotDisplay:
        f = self.frame
        ax = _axes(ax, (7.0, 0.35 * len(f) + 1.5))
        colors = np.where(f["weak"].to_numpy(), "C3", "C0")
        self.bars_ = ax.barh(np.arange(len(f))[::-1], f[self.metric], color=colors)
        ax.set_yticks(np.arange(len(f))[::-1], [f"{s} (n={n})" for s, n in zip(
            f["slice"], f["n"], strict=True)], fontsize="small")
        if len(f):
            ax.axvline(f["overall"].iloc[0], color="k", ls="--", label="all rows")
            ax.legend(loc="best")
        ax.set_xlabel(self.metric)
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ResilienceDisplay:
    """The score on the worst ``share`` of rows, against the share.

    Parameters
    ----------
    worst : DataFrame
        ``ResilienceResult.worst``.
    metric : str
    """

    def __init__(self, worst: pd.DataFrame, metric: str) -> None:
        self.worst = worst
        self.metric = metric

    @classmethod
    def from_result(cls, result: Any, ax: Any = None) -> ResilienceDisplay:
        """Plot a :class:`glassnet.diagnose.ResilienceResult`."""
        return cls(result.worst, result.metric).plot(ax)

    def plot(self, ax: Any = None) -> ResilienceDisplay:
        ax = _axes(ax)
        (self.line_,) = ax.plot(self.worst["share"], self.worst[self.metric], "o-")
        ax.set_xlabel("share of rows (worst first, by their own loss)")
        ax.set_ylabel(self.metric)
        self.ax_, self.figure_ = ax, ax.figure
        return self


class FairnessDisplay:
    """Adverse impact ratio by group, with the four-fifths (0.8) line.

    Parameters
    ----------
    frame : DataFrame
        The output of :func:`glassnet.diagnose.fairness` (without ``by``, or its "all" rows).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        if "region" in frame.columns:
            frame = frame[frame["region"] == "all"]
        if "air" not in frame.columns:
            raise ValueError("frame has no adverse impact ratio (classification only).")
        self.frame = frame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, ax: Any = None) -> FairnessDisplay:
        """Plot a :func:`glassnet.diagnose.fairness` table."""
        return cls(frame).plot(ax)

    def plot(self, ax: Any = None) -> FairnessDisplay:
        ax = _axes(ax, (5.0, 3.5))
        labels = [str(g) for g in self.frame["group"]]
        self.bars_ = ax.bar(labels, self.frame["air"])
        ax.axhline(0.8, color="C3", ls="--", label="four-fifths rule")
        ax.axhline(1.0, color="grey", ls=":")
        ax.set_ylabel("adverse impact ratio")
        ax.legend(loc="best")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class ALEDisplay:
    """Accumulated local effect of one feature, with a rug of the grid points.

    Parameters
    ----------
    ale : DataFrame
        The output of :func:`glassnet.diagnose.ale`.
    feature : str
    """

    def __init__(self, ale: pd.DataFrame, feature: str) -> None:
        self.ale = ale
        self.feature = feature

    @classmethod
    def from_estimator(cls, model: Any, X: Any, feature: Any, ax: Any = None,
                       **kwargs: Any) -> ALEDisplay:
        """Compute :func:`glassnet.diagnose.ale` and plot."""
        from glassnet.diagnose import ale

        name = feature if isinstance(feature, str) else (
            str(X.columns[feature]) if hasattr(X, "columns") else f"x{feature}")
        return cls(ale(model, X, feature, **kwargs), name).plot(ax)

    def plot(self, ax: Any = None) -> ALEDisplay:
        ax = _axes(ax, (5.0, 3.5))
        (self.line_,) = ax.plot(self.ale["grid"], self.ale["ale"], "o-", ms=3)
        ax.axhline(0.0, color="grey", ls=":")
        ax.set_xlabel(self.feature)
        ax.set_ylabel("ALE (centred)")
        self.ax_, self.figure_ = ax, ax.figure
        return self


class BoundaryDistanceDisplay:
    """Distance of each row to the boundary of its activation region, on a log scale:
    histogram (with the median) and the cumulative share of rows closer than each distance.

    Parameters
    ----------
    distances : ndarray
        One distance per row (rows on a boundary, 0, and in unbounded regions, inf, are
        counted in the cumulative share's denominator but cannot be drawn on a log axis).
    unit : str
        Unit of the distances, for the axis labels.

    Attributes
    ----------
    ax_ : ndarray of two matplotlib Axes (histogram, cumulative share)
    figure_ : matplotlib Figure
    hist_ : the histogram's bar patches; ``cumulative_line_``: the step line
    """

    def __init__(self, distances: Any, unit: str = "feature units") -> None:
        self.distances = np.asarray(distances, dtype=np.float64)
        self.unit = unit

    @classmethod
    def from_result(cls, result: Any, ax: Any = None) -> BoundaryDistanceDisplay:
        """From :func:`glassnet.diagnose.explanation_stability`."""
        return cls(result.distances, result.unit).plot(ax)

    @classmethod
    def from_estimator(cls, model: Any, X: Any, ax: Any = None,
                       **kwargs: Any) -> BoundaryDistanceDisplay:
        """Compute :func:`glassnet.diagnose.explanation_stability` and plot."""
        from glassnet.diagnose import explanation_stability

        return cls.from_result(explanation_stability(model, X, **kwargs), ax)

    def plot(self, ax: Any = None) -> BoundaryDistanceDisplay:
        """Draw on a pair of Axes ``ax`` (default: a new 9 x 3.2 in figure)."""
        if ax is None:
            from matplotlib.figure import Figure

            fig = Figure(figsize=(9, 3.2))
            ax1, ax2 = fig.subplots(1, 2)
        else:
            ax1, ax2 = ax
            fig = ax1.figure
        d = self.distances
        finite = d[np.isfinite(d) & (d > 0)]
        if finite.size:
            lo, hi = finite.min(), finite.max()
            edges = (np.geomspace(lo, hi * (1 + 1e-9), 41) if hi > lo
                     else np.array([lo * 0.9, lo * 1.1]))
            _, _, self.hist_ = ax1.hist(finite, bins=edges, color="#3d6fb6")
            ax1.set_xscale("log")
            ax1.axvline(np.median(d), color="#b5482f", lw=1, ls="--", label="median")
            ax1.legend(frameon=False, fontsize=8)
            srt = np.sort(finite)
            (self.cumulative_line_,) = ax2.step(srt, np.arange(1, srt.size + 1) / d.size,
                                                where="post", color="#b5482f")
            ax2.set_xscale("log")
        ax1.set_xlabel(f"distance to the region boundary ({self.unit})")
        ax1.set_ylabel("rows")
        ax1.set_title("Distribution")
        ax2.set_ylim(0, 1.02)
        ax2.set_xlabel(f"distance ({self.unit})")
        ax2.set_ylabel("share of rows closer than this")
        ax2.set_title("Cumulative share")
        fig.tight_layout()
        self.ax_, self.figure_ = np.array([ax1, ax2], dtype=object), fig
        return self
