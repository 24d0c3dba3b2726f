"""Heatmap of a mixture's EPIC (or cell) coefficients (also importable from glassnet.mlm).

Follows scikit-learn's Display pattern: ``__init__`` stores the values, ``plot`` only draws,
``from_estimator`` computes from a fitted mixture then plots. matplotlib is imported inside
``plot`` so that importing the mixture never loads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["MLMCoefficientDisplay"]


class MLMCoefficientDisplay:
    """Heatmap of EPIC (or cell) coefficients, EPICs as rows and features as columns.

    Parameters
    ----------
    coef : ndarray of shape (n_models, n_features)
    feature_names : list of str
    model_sizes : ndarray of shape (n_models,)
        Training rows per model, shown in the row labels.
    level : str
        ``"epic"`` or ``"cell"``, used in the labels.
    standardized : bool
        Whether ``coef`` is per standard deviation.

    Attributes
    ----------
    figure_, ax_, image_ : matplotlib objects, set by :meth:`plot`.
    """

    def __init__(self, coef, feature_names, model_sizes, level="epic", standardized=True):
        self.coef = np.asarray(coef, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.model_sizes = np.asarray(model_sizes)
        self.level = level
        self.standardized = standardized

    @classmethod
    def from_estimator(
        cls,
        mlm: Any,
        *,
        level: str = "epic",
        output: int = 0,
        standardized: bool = True,
        max_models: int | None = 30,
        ax: Any = None,
        cmap: str = "RdBu_r",
    ) -> MLMCoefficientDisplay:
        """Compute the heatmap values from a fitted mixture and plot them.

        Parameters
        ----------
        level : {"epic", "cell"}
        output : int
            Output (class or target) to show for multi-output models.
        standardized : bool, default=True
            Coefficients per standard deviation (comparable across features).
        max_models : int or None, default=30
            Show only the largest models (None: all).
        ax : matplotlib Axes, optional
        cmap : str, default="RdBu_r"

        Returns
        -------
        MLMCoefficientDisplay
        """
        check_is_fitted(mlm, "epics_")
        if level not in ("epic", "cell"):
            raise ValueError(f"level must be 'epic' or 'cell'; got {level!r}.")
        B = mlm._B_epic if level == "epic" else mlm._B_cell
        if not 0 <= output < B.shape[1]:
            raise ValueError(f"output must be in [0, {B.shape[1]}); got {output}.")
        coef = B[:, output, 1:]
        if not standardized:
            coef = coef / mlm.feature_scale_
        sizes = mlm.epic_counts_ if level == "epic" else mlm.cell_counts_
        order = np.argsort(-sizes, kind="stable")
        if max_models is not None:
            order = order[:max_models]
        disp = cls(coef[order], mlm._feature_names(), sizes[order], level, standardized)
        disp._ids = order
        return disp.plot(ax=ax, cmap=cmap)

    def plot(self, ax: Any = None, *, cmap: str = "RdBu_r") -> MLMCoefficientDisplay:
        """Draw the heatmap.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw (default: a new figure sized to the table).
        cmap : str, default="RdBu_r"
            Diverging colour map, centred on 0.

        Returns
        -------
        self
            With ``figure_``, ``ax_`` and ``image_`` set.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            h = max(2.5, 0.3 * self.coef.shape[0] + 1.5)
            w = max(4.0, 0.45 * self.coef.shape[1] + 2.5)
            fig, ax = plt.subplots(figsize=(w, h))
        else:
            fig = ax.figure
        vmax = _robust_limit(self.coef, self.model_sizes)
        im = ax.imshow(self.coef, aspect="auto", cmap=cmap, vmin=-vmax, vmax=vmax)
        ids = getattr(self, "_ids", np.arange(self.coef.shape[0]))
        ax.set_yticks(np.arange(self.coef.shape[0]))
        labels = [f"{self.level} {i} (n={s})" for i, s in zip(ids, self.model_sizes, strict=True)]
        ax.set_yticklabels(labels)
        ax.set_xticks(np.arange(len(self.feature_names)))
        ax.set_xticklabels(self.feature_names, rotation=60, ha="right")
        label = "coefficient per std. dev." if self.standardized else "coefficient"
        extend = "both" if float(np.abs(self.coef).max()) > vmax else "neither"
        fig.colorbar(im, ax=ax, label=label, extend=extend)
        ax.set_title(f"{self.level.upper()} coefficients")
        self.figure_, self.ax_, self.image_ = fig, ax, im
        return self


def _robust_limit(coef: np.ndarray, sizes: Any, q: float = 0.98) -> float:
    """Colour limit: the row-weighted ``q`` quantile of |coefficient|.

    One tiny model with huge coefficients must not wash out the models that hold most rows,
    so each model's coefficients weigh by its row count; larger values are clipped (the
    colour bar shows an arrow then).
    """
    a = np.abs(np.asarray(coef, dtype=float))
    w = np.repeat(np.asarray(sizes, dtype=float).reshape(-1, 1), a.shape[1], axis=1)
    a, w = a.ravel(), w.ravel()
    keep = np.isfinite(a) & (w > 0)
    if not keep.any():
        return 1.0
    order = np.argsort(a[keep])
    vals, cum = a[keep][order], np.cumsum(w[keep][order])
    limit = float(vals[np.searchsorted(cum, q * cum[-1])])
    return limit if limit > 0 else (float(vals[-1]) or 1.0)
