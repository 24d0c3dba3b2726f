"""Displays of outcomes and surrogate fidelity (values from :mod:`glassnet.outcomes`).

=============================  =======================================================
Display                        shows
=============================  =======================================================
:class:`ROCDisplay`            the ROC curve with AUC, Gini and the KS point
:class:`CalibrationDisplay`    mean predicted probability against the observed rate
:class:`GainsDisplay`          cumulative share of events captured by score band
:class:`ResidualDisplay`       residuals against predictions (regression)
:class:`OutcomesDisplay`       the three (or residuals) side by side, as in a report
:class:`FidelityDisplay`       surrogate score against the network score
=============================  =======================================================

Each follows scikit-learn's pattern: ``__init__`` stores values, ``plot(ax=None)`` draws and
sets ``ax_`` and ``figure_``, ``from_*`` classmethods compute then plot. Figures use
constrained layout so ``savefig`` keeps every label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ROCDisplay", "CalibrationDisplay", "GainsDisplay", "ResidualDisplay",
           "OutcomesDisplay", "FidelityDisplay"]


def _axes(ax: Any, size: tuple[float, float] = (4.6, 4.0)) -> tuple[Any, Any]:
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=size, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _result(y: Any, score: Any, task: str = "classification", **kw: Any) -> Any:
    from glassnet.outcomes import outcomes

    return outcomes(y, score, task=task, **kw)


class ROCDisplay:
    """ROC curve. ``fpr``, ``tpr``: the curve; ``auc``, ``ks``; ``ks_point``: (fpr, tpr)."""

    def __init__(self, fpr, tpr, auc: float, ks: float, ks_point=None) -> None:
        self.fpr, self.tpr = np.asarray(fpr, float), np.asarray(tpr, float)
        self.auc, self.ks, self.ks_point = float(auc), float(ks), ks_point

    @classmethod
    def from_result(cls, result: Any, ax: Any = None, *, max_points: int = 2000) -> ROCDisplay:
        """At most ``max_points`` vertices of the curve are drawn (evenly spaced)."""
        if result.roc is None:
            raise ValueError("No ROC curve: the outcomes hold one class only.")
        fpr, tpr = result.roc["fpr"].to_numpy(), result.roc["tpr"].to_numpy()
        k = int(np.argmax(tpr - fpr))
        ks_point = (fpr[k], tpr[k])
        if fpr.size > max_points:  # draw time bounded; the ends and the KS point are kept
            keep = np.unique(np.r_[np.linspace(0, fpr.size - 1, max_points).astype(int), k])
            fpr, tpr = fpr[keep], tpr[keep]
        return cls(fpr, tpr, result["AUC"], result["KS"], ks_point).plot(ax)

    @classmethod
    def from_predictions(cls, y: Any, score: Any, ax: Any = None) -> ROCDisplay:
        return cls.from_result(_result(y, score), ax)

    def plot(self, ax: Any = None) -> ROCDisplay:
        fig, ax = _axes(ax)
        (self.line_,) = ax.plot(self.fpr, self.tpr, color="C0", lw=1.8,
                                label=f"ROC AUC {self.auc:.3f} (Gini {2 * self.auc - 1:.3f})")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        if self.ks_point is not None:
            x, t = self.ks_point
            ax.plot([x, x], [x, t], color="C3", lw=1.5, label=f"KS {self.ks:.3f}")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="false positive rate",
               ylabel="true positive rate", title="ROC curve")
        ax.legend(loc="lower right", fontsize="small", frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


class CalibrationDisplay:
    """Reliability diagram: mean predicted probability vs observed event rate per bin."""

    def __init__(self, mean_predicted, observed_rate, counts, brier: float | None = None):
        self.mean_predicted = np.asarray(mean_predicted, float)
        self.observed_rate = np.asarray(observed_rate, float)
        self.counts = np.asarray(counts)
        self.brier = brier

    @classmethod
    def from_result(cls, result: Any, ax: Any = None) -> CalibrationDisplay:
        cal = result.calibration
        if cal is None:
            raise ValueError("No calibration: the scores are not probabilities.")
        return cls(cal["mean_predicted"], cal["observed_rate"], cal["n"],
                   result["Brier score"]).plot(ax)

    @classmethod
    def from_predictions(cls, y: Any, proba: Any, *, n_bins: int = 10,
                         ax: Any = None) -> CalibrationDisplay:
        return cls.from_result(_result(y, proba, n_bins=n_bins), ax)

    def plot(self, ax: Any = None) -> CalibrationDisplay:
        fig, ax = _axes(ax)
        hi = float(max(self.mean_predicted.max(initial=0), self.observed_rate.max(initial=0)))
        hi = min(1.0, hi * 1.08 + 1e-3)
        ax.plot([0, hi], [0, hi], color="grey", lw=0.8, ls=":", label="perfect calibration")
        label = "bins" if self.brier is None else f"bins (Brier {self.brier:.4f})"
        (self.line_,) = ax.plot(self.mean_predicted, self.observed_rate, "o-", color="C0",
                                label=label)
        ax.set(xlim=(0, hi), ylim=(0, hi), xlabel="mean predicted probability",
               ylabel="observed event rate", title="Calibration")
        ax.legend(loc="upper left", fontsize="small", frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


class GainsDisplay:
    """Cumulative gains: share of events captured against share of rows, highest first."""

    def __init__(self, cum_share_rows, capture_rate) -> None:
        self.cum_share_rows = np.r_[0.0, np.asarray(cum_share_rows, float)]
        self.capture_rate = np.r_[0.0, np.asarray(capture_rate, float)]

    @classmethod
    def from_result(cls, result: Any, ax: Any = None) -> GainsDisplay:
        g = result.gains
        if g is None:
            raise ValueError("No gains table: the outcomes hold one class only.")
        return cls(g["cum_n"] / g["n"].sum(), g["capture_rate"]).plot(ax)

    @classmethod
    def from_predictions(cls, y: Any, score: Any, ax: Any = None) -> GainsDisplay:
        return cls.from_result(_result(y, score), ax)

    def plot(self, ax: Any = None) -> GainsDisplay:
        fig, ax = _axes(ax)
        (self.line_,) = ax.plot(self.cum_share_rows, self.capture_rate, "o-", color="C0",
                                label="model")
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":", label="random")
        ax.set(xlim=(0, 1), ylim=(0, 1.01), xlabel="share of rows (highest scores first)",
               ylabel="share of events captured", title="Cumulative gains")
        ax.legend(loc="lower right", fontsize="small", frameon=False)
        self.ax_, self.figure_ = ax, fig
        return self


class ResidualDisplay:
    """Residuals (observed − predicted) against predictions, with a running median.

    At most ``max_points`` points are drawn (a seeded uniform sample), so large data sets
    draw in bounded time; the title says so.
    """

    def __init__(self, prediction, residual, n_total: int | None = None) -> None:
        self.prediction = np.asarray(prediction, float)
        self.residual = np.asarray(residual, float)
        self.n_total = n_total or self.prediction.size

    @classmethod
    def from_result(cls, result: Any, *, max_points: int = 5000, random_state: int = 0,
                    ax: Any = None) -> ResidualDisplay:
        r = result.residuals
        if r is None:
            raise ValueError("No residuals: this is a classification result.")
        n = len(r)
        if n > max_points:
            idx = np.random.default_rng(random_state).choice(n, max_points, replace=False)
            r = r.iloc[np.sort(idx)]
        return cls(r["prediction"], r["residual"], n).plot(ax)

    @classmethod
    def from_predictions(cls, y: Any, pred: Any, ax: Any = None) -> ResidualDisplay:
        return cls.from_result(_result(y, pred, task="regression"), ax=ax)

    def plot(self, ax: Any = None) -> ResidualDisplay:
        fig, ax = _axes(ax)
        self.points_ = ax.scatter(self.prediction, self.residual, s=5, alpha=0.35, color="C0",
                                  linewidths=0)
        ax.axhline(0.0, color="k", lw=0.8)
        order = np.argsort(self.prediction)
        k = max(self.prediction.size // 20, 1)
        if self.prediction.size >= 40:
            med = [np.median(self.residual[order[i:i + k]]) for i in range(0, order.size, k)]
            ctr = [np.median(self.prediction[order[i:i + k]]) for i in range(0, order.size, k)]
            ax.plot(ctr, med, color="C3", lw=1.5, label="running median")
            ax.legend(loc="upper right", fontsize="small", frameon=False)
        shown = "" if self.n_total == self.prediction.size else \
            f" ({self.prediction.size:,} of {self.n_total:,} rows)"
        ax.set(xlabel="prediction", ylabel="residual (observed − predicted)",
               title=f"Residuals{shown}")
        self.ax_, self.figure_ = ax, fig
        return self


class OutcomesDisplay:
    """ROC, calibration and gains side by side (classification) or residuals (regression)."""

    def __init__(self, result: Any) -> None:
        self.result = result

    @classmethod
    def from_result(cls, result: Any) -> OutcomesDisplay:
        return cls(result).plot()

    @classmethod
    def from_predictions(cls, y: Any, score: Any, *, task: str = "classification"):
        return cls.from_result(_result(y, score, task=task))

    def plot(self) -> OutcomesDisplay:
        from matplotlib.figure import Figure

        res = self.result
        if res.task == "regression":
            fig = Figure(figsize=(6.0, 4.0), layout="constrained")
            self.panels_ = [ResidualDisplay.from_result(res, ax=fig.add_subplot())]
        else:
            makers = [m for m, ok in ((ROCDisplay, res.roc is not None),
                                      (CalibrationDisplay, res.calibration is not None),
                                      (GainsDisplay, res.gains is not None)) if ok]
            fig = Figure(figsize=(3.6 * max(len(makers), 1), 3.6), layout="constrained")
            axes = fig.subplots(1, max(len(makers), 1), squeeze=False)[0]
            self.panels_ = [m.from_result(res, ax=a) for m, a in zip(makers, axes, strict=False)]
        self.figure_ = fig
        self.ax_ = [p.ax_ for p in self.panels_]
        return self


class FidelityDisplay:
    """Surrogate score against the network score on the same rows, one panel per surrogate.

    At most ``max_points`` rows per panel (a seeded uniform sample).
    """

    def __init__(self, network_score, surrogate_scores: dict) -> None:
        self.network_score = np.asarray(network_score, float)
        self.surrogate_scores = {k: np.asarray(v, float) for k, v in surrogate_scores.items()}

    @classmethod
    def from_scores(cls, network_score: Any, surrogate_scores: dict, *, max_points: int = 4000,
                    random_state: int = 0) -> FidelityDisplay:
        a = np.asarray(network_score, float)
        idx = np.arange(a.size)
        if a.size > max_points:
            idx = np.sort(np.random.default_rng(random_state).choice(a.size, max_points,
                                                                     replace=False))
        return cls(a[idx], {k: np.asarray(v, float)[idx]
                            for k, v in surrogate_scores.items()}).plot()

    def plot(self) -> FidelityDisplay:
        from matplotlib.figure import Figure

        k = max(len(self.surrogate_scores), 1)
        cols = min(k, 4)
        rows = -(-k // cols)
        fig = Figure(figsize=(3.2 * cols, 3.1 * rows), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        lo = min([self.network_score.min(), *(v.min() for v in self.surrogate_scores.values())])
        hi = max([self.network_score.max(), *(v.max() for v in self.surrogate_scores.values())])
        for ax, (name, s) in zip(axes, self.surrogate_scores.items(), strict=False):
            ax.scatter(self.network_score, s, s=4, alpha=0.35, linewidths=0, color="C0")
            ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls=":")
            ax.set(xlabel="network score", ylabel=f"{name} score", title=str(name))
        for ax in axes[k:]:
            ax.set_visible(False)
        self.ax_, self.figure_ = axes[:k], fig
        return self
