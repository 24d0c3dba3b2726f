"""Report sections on simplified models: before/after table, merged or pruned regions
with their Wald inference, and the mixture of linear models (MLM-EPIC).

A mixin of :class:`glassnet.report.Report`; each method lays out what the fitted
simplifier computes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from glassnet.report._html import esc as _esc

if TYPE_CHECKING:
    from glassnet.report import Report


class SimplificationSections:
    """Sections about simplifications of the network (merger, pruner, L1 path, MLM)."""

    def add_simplification(
        self,
        table: Any,
        *,
        title: str = "Simplification: before and after",
        figure: Any = None,
        caption: str | None = None,
    ) -> Report:
        """A before/after table of a simplification (regions and performance per model)."""
        parts = [self._table(table, caption)]
        if figure is not None:
            parts.append(self._figure(figure))
        return self._add("simplification", title, parts)

    def add_merged_regions(
        self,
        merger: Any,
        X: Any,
        y: Any,
        *,
        X_fit: Any = None,
        y_fit: Any = None,
        inference: bool = True,
        max_regions: int = 10,
        title: str = "Merged regions",
    ) -> Report:
        """Merged regions of a fitted ``RegionMerger``/``RegionPruner``.

        The summary table on ``(X, y)`` (held-out rows, say) and, with ``inference``, the
        Wald table (coef, std err, z, p, CI) of the GLM of each of the ``max_regions``
        largest merged regions, refitted on ``(X_fit, y_fit)`` (default ``X, y``; pass the
        training rows). A region where the GLM cannot be fitted (too few rows, one class,
        separation) shows the reason instead. ``title`` names the section (its key stays
        ``merged-regions``), for example "Kept regions" for a pruner.
        """
        pruned = type(merger).__name__ == "RegionPruner"
        noun = "Pruned region" if pruned else "Merged region"
        parts = [self._table(merger.summary(X, y), f"One row per {noun.lower()}.")]
        chosen = getattr(merger, "cv_n_regions_", None)
        final = int(merger.n_regions_)
        if chosen is not None and int(chosen) != final:
            parts.append(
                f'<p class="note">Cross-validation chose {int(chosen)} regions; {final} remain '
                "because merged regions with fewer training rows than min_count were absorbed "
                "by their nearest neighbour.</p>")
        if X_fit is None:
            X_fit, y_fit = X, y
        if inference:
            # headings in size order: largest (by training rows) first
            sizes = np.bincount(np.asarray(merger.apply(X_fit), dtype=np.int64),
                                minlength=final)
            order = np.argsort(-sizes, kind="stable")[:max_regions]
            models = getattr(merger, "models_", None)
            fitted = _esc(repr(models[0])) if models else "the refit estimator"
            parts.append(
                '<p class="note">The coefficients in the table above are those of each region\'s '
                f"fitted model ({fitted}; scikit-learn's LogisticRegression is L2-penalised "
                "unless its penalty is None). The Wald tables below refit the same rows without "
                "a penalty (statsmodels, maximum likelihood) so that the standard errors hold; "
                "their point estimates can differ from the penalised ones.</p>")
            for r in (int(i) for i in order):
                head = f"{noun} {r} ({sizes[r]:,} training rows)"
                try:
                    table = merger.region_inference(X_fit, y_fit, r)
                except ValueError as exc:
                    parts.append(f"<h3>{_esc(head)}</h3><p class=\"note\">No inference: "
                                 f"{_esc(exc)}</p>")
                    continue
                parts.append(f"<h3>{_esc(head)}: Wald inference</h3>" + self._table(table))
        return self._add("merged-regions", title, parts)

    def add_mlm(
        self,
        mlm: Any,
        *,
        metrics: Any = None,
        rules: Any = None,
        summary: Any = None,
        figure: Any = None,
    ) -> Report:
        """MLM-EPIC section: the EPIC summary table, performance and readable rules."""
        parts = []
        cells = getattr(mlm, "cells_", None)
        n_cells = getattr(mlm, "n_cells_", None) or (0 if cells is None else len(cells))
        n_epics = getattr(mlm, "n_epics_", None)
        parts.append(
            f"<p>{_esc(n_cells)} cells merged into {_esc(n_epics)} EPICs "
            "(explainable prediction-induced input clusters).</p>"
        )
        if metrics is not None:
            parts.append("<h3>Performance</h3>" + self._table(metrics))
        if summary is not None:
            parts.append("<h3>EPICs</h3>" + self._table(summary, max_rows=60))
        if figure is not None:
            parts.append(self._figure(figure, alt="EPIC coefficients"))
        if rules is not None:
            if isinstance(rules, pd.DataFrame):
                parts.append("<h3>Rules</h3>" + self._table(rules, max_rows=100))
            else:
                parts.append("<h3>Rules</h3><pre>" + _esc(str(rules)) + "</pre>")
        return self._add("mlm", "Mixture of linear models (MLM-EPIC)", parts)
