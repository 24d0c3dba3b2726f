"""Displays of single decisions: reason codes and counterfactual changes.

* :class:`ReasonCodeDisplay`: one row's exact path attributions (reason codes) as a bar
  chart; the bars add up to the change of the favorable score against the reference.
* :class:`CounterfactualDisplay`: one row's counterfactual, each changed feature's value
  before and after (in units of its cost weight, so the bar lengths add up to the L1 cost).

Both follow scikit-learn's Display pattern: ``from_*`` computes (with
:mod:`glassnet.decisions`), ``plot(ax=None)`` only draws and sets ``ax_`` and ``figure_``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.decisions.favorable import DEFAULT_FAVORABLE
from glassnet.plotting._common import fold_smallest, pick_row

__all__ = ["CounterfactualDisplay", "ReasonCodeDisplay"]


def _axes(ax: Any):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    return fig, ax


class ReasonCodeDisplay:
    """Exact path attributions of one decision (see :func:`glassnet.decisions.reason_codes`).

    Parameters
    ----------
    contributions : array-like
        One value per feature group, in ``units``.
    feature_names : sequence of str
    total : float
        ``f(x) - f(reference)``; the contributions add up to it.
    units : str
    title : str, optional

    Attributes
    ----------
    bars_ : BarContainer
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, contributions: Any, feature_names: Any, total: float,
                 units: str = "logit", title: str | None = None) -> None:
        self.contributions = np.asarray(contributions, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.total = float(total)
        self.units = units
        self.title = title

    @classmethod
    def from_model(cls, model: Any, X: Any, row: int = 0, *, reference: Any = "approved_mean",
                   population: Any = None, favorable: int = DEFAULT_FAVORABLE,
                   output: str = "logit",
                   groups: Any = None, max_features: int | None = 12, ax: Any = None):
        """Compute the reason codes of row position ``row`` of ``X`` and plot them.

        ``max_features`` keeps the largest attributions by size and folds the rest into
        one bar ("other"), so the bars still add up to the total. ``favorable`` is the
        favourable class (default :data:`glassnet.decisions.DEFAULT_FAVORABLE`, 0); the
        title names it.
        """
        from glassnet.decisions import reason_codes

        Xr, label = pick_row(X, row)
        rc = reason_codes(model, Xr, reference, population=population, favorable=favorable,
                          top_k=None, groups=groups, output=output)
        names, vals = fold_smallest(rc.feature, rc.contribution.to_numpy(), max_features)
        disp = cls(vals, names, float(rc.total.iloc[0]), output,
                   title=f"Row {label} (favourable class {favorable})")
        return disp.plot(ax=ax)

    def plot(self, ax: Any = None):
        fig, ax = _axes(ax)
        order = np.argsort(-self.contributions, kind="stable")  # most negative on top
        vals = self.contributions[order]
        names = [self.feature_names[i] for i in order]
        colors = ["C3" if v < 0 else "C2" for v in vals]
        self.bars_ = ax.barh(np.arange(vals.size), vals, color=colors)
        ax.set_yticks(np.arange(vals.size), names)
        ax.axvline(0.0, color="k", linewidth=0.8)
        ax.set_xlabel(f"contribution to f(x) - f(reference) ({self.units}); "
                      f"total {self.total:+.4g}")
        if self.title:
            ax.set_title(self.title)
        fig.tight_layout()
        self.ax_, self.figure_ = ax, fig
        return self


class CounterfactualDisplay:
    """One row's counterfactual: the changed features, before and after.

    Parameters
    ----------
    feature_names : sequence of str
        The features that change.
    original, counterfactual : array-like
        Their values before and after.
    weights : array-like
        Their cost weights; the bars show ``weight * (after - before)``.
    cost : float
    title : str, optional

    Attributes
    ----------
    bars_ : BarContainer
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    """

    def __init__(self, feature_names: Any, original: Any, counterfactual: Any, weights: Any,
                 cost: float, title: str | None = None) -> None:
        self.feature_names = list(feature_names)
        self.original = np.asarray(original, dtype=np.float64)
        self.counterfactual = np.asarray(counterfactual, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.cost = float(cost)
        self.title = title

    @classmethod
    def from_counterfactuals(cls, cfs: Any, row: Any, *, ax: Any = None, atol: float = 1e-9):
        """Plot row label ``row`` of a :class:`~glassnet.decisions.Counterfactuals`."""
        if row not in cfs.original.index:
            raise ValueError(f"row {row!r} is not among the counterfactuals' rows.")
        a = cfs.original.loc[row].to_numpy()
        b = cfs.counterfactual.loc[row].to_numpy()
        if not np.isfinite(b).all():
            raise ValueError(f"Row {row!r} has no counterfactual (status "
                             f"{cfs.frame.set_index('row').status[row]!r}).")
        ch = np.abs(b - a) > atol
        names = list(cfs.original.columns[ch])
        cost = float(cfs.frame.set_index("row").cost[row])
        disp = cls(names, a[ch], b[ch], cfs.weights[ch], cost, title=f"Row {row}")
        return disp.plot(ax=ax)

    @classmethod
    def from_model(cls, model: Any, X: Any, row: int = 0, *, ax: Any = None, **kwargs: Any):
        """Compute the counterfactual of row position ``row`` of ``X`` (``kwargs`` go to
        :func:`glassnet.decisions.counterfactual`) and plot it."""
        from glassnet.decisions import counterfactual

        Xr, _ = pick_row(X, row)
        cfs = counterfactual(model, Xr, **kwargs)
        return cls.from_counterfactuals(cfs, cfs.original.index[0], ax=ax)

    def plot(self, ax: Any = None):
        fig, ax = _axes(ax)
        delta = self.weights * (self.counterfactual - self.original)
        y = np.arange(delta.size)
        self.bars_ = ax.barh(y, delta, color=["C2" if v > 0 else "C3" for v in delta])
        labels = [f"{n}: {a:.4g} -> {b:.4g}" for n, a, b in
                  zip(self.feature_names, self.original, self.counterfactual, strict=True)]
        ax.set_yticks(y, labels)
        ax.axvline(0.0, color="k", linewidth=0.8)
        ax.set_xlabel(f"weighted change (cost {self.cost:.4g})")
        if self.title:
            ax.set_title(self.title)
        fig.tight_layout()
        self.ax_, self.figure_ = ax, fig
        return self
