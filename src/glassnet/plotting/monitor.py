"""Displays of monitoring results (values from :func:`glassnet.region_stability`).

:class:`StabilityDisplay` draws the PSI of each feature and of the score and region
checks as horizontal bars against the stable/watch/act thresholds;
:class:`ScoreShiftDisplay` draws the reference and new shares of each score bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["StabilityDisplay", "ScoreShiftDisplay"]

_COLOURS = {"stable": "#3d8b5a", "watch": "#d19a1f", "act": "#b5482f", "n/a": "#8a93a3"}


class StabilityDisplay:
    """PSI bars (features, score, regions) with the threshold lines.

    Parameters
    ----------
    names : sequence of str
    values : array-like of PSI values
    statuses : sequence of str
    thresholds : (float, float)
    """

    def __init__(self, names, values, statuses, thresholds) -> None:
        self.names = [str(n) for n in names]
        self.values = np.asarray(values, float)
        self.statuses = list(statuses)
        self.thresholds = tuple(thresholds)

    @classmethod
    def from_result(cls, result: Any, *, max_features: int = 30,
                    ax: Any = None) -> StabilityDisplay:
        """The checks with a PSI (score, regions) and the ``max_features`` features with the
        largest PSI."""
        checks = result.summary[result.summary["check"].str.contains("PSI")
                                & ~result.summary["check"].str.startswith("largest")]
        feats = result.features.head(max_features)
        names = [*checks["check"].str.replace(" PSI", "", regex=False),
                 *("feature " + feats["feature"].astype(str))]
        return cls(names, [*checks["value"], *feats["PSI"]],
                   [*checks["status"], *feats["status"]], result.thresholds).plot(ax)

    def plot(self, ax: Any = None) -> StabilityDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7.0, 0.8 + 0.26 * len(self.names)),
                                   layout="constrained")
        else:
            fig = ax.figure
        y = np.arange(len(self.names))[::-1]
        self.bars_ = ax.barh(y, self.values, color=[_COLOURS.get(s, "C0")
                                                     for s in self.statuses])
        ax.set_yticks(y, self.names, fontsize=8 if len(self.names) > 20 else 9)
        lo, hi = self.thresholds
        ax.axvline(lo, color=_COLOURS["watch"], ls="--", lw=1)
        ax.axvline(hi, color=_COLOURS["act"], ls="--", lw=1)
        top = float(np.nanmax(self.values, initial=0.0))
        ax.set_xlim(0, max(hi * 1.3, top * 1.08))
        ax.set_xlabel(f"PSI (watch from {lo:g}, act above {hi:g})")
        ax.set_title("Population stability index")
        from matplotlib.patches import Patch

        handles = [Patch(color=_COLOURS[s], label=s) for s in ("stable", "watch", "act")]
        ax.legend(handles=handles, loc="lower right", fontsize="small", frameon=True,
                  framealpha=0.9)
        self.ax_, self.figure_ = ax, fig
        return self


class ScoreShiftDisplay:
    """Reference and new shares of each equal-count bin of the reference score."""

    def __init__(self, reference_share, new_share, lower_edges) -> None:
        self.reference_share = np.asarray(reference_share, float)
        self.new_share = np.asarray(new_share, float)
        self.lower_edges = np.asarray(lower_edges, float)

    @classmethod
    def from_result(cls, result: Any, ax: Any = None) -> ScoreShiftDisplay:
        b = result.score_bins
        return cls(b["reference share"], b["new share"], b["lower edge"]).plot(ax)

    def plot(self, ax: Any = None) -> ScoreShiftDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            fig, ax = plt.subplots(figsize=(7.0, 3.2), layout="constrained")
        else:
            fig = ax.figure
        k = self.reference_share.size
        x = np.arange(k)
        ax.bar(x - 0.2, self.reference_share, width=0.4, color="#8a93a3", label="reference")
        ax.bar(x + 0.2, self.new_share, width=0.4, color="#3d6fb6", label="new")
        labels = ["< " + f"{self.lower_edges[1]:.3g}" if k > 1 else "all"]
        labels += [f"≥ {e:.3g}" for e in self.lower_edges[1:]]
        ax.set_xticks(x, labels, rotation=45 if k > 6 else 0, ha="right" if k > 6 else "center",
                      fontsize=8)
        ax.set_xlabel("score bin (reference deciles)")
        ax.set_ylabel("share of rows")
        ax.set_title("Score distribution: reference vs new")
        ax.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        self.ax_, self.figure_ = ax, fig
        return self
