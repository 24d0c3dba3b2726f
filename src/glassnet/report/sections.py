"""Report sections over the network's regions: region table, sizes, importance,
coefficients, partition map and distance to the region boundary.

A mixin of :class:`glassnet.report.Report`; each method lays out tables and Displays
(the numbers come from :mod:`glassnet.summary`, :mod:`glassnet.explain`,
:mod:`glassnet.partition` and :mod:`glassnet.diagnose`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from glassnet.explain import check_regions
from glassnet.io import as_network
from glassnet.regions import Regions
from glassnet.report._html import esc as _esc
from glassnet.report._html import new_figure as _new_figure

if TYPE_CHECKING:
    from glassnet.report import Report


class RegionSections:
    """Sections about the activation regions and their local linear models."""

    def add_region_summary(
        self,
        regions: Regions,
        X: Any = None,
        y: Any = None,
        *,
        top: int = 20,
        task: str | None = None,
    ) -> Report:
        """Region summary table of the ``top`` largest regions (see ``region_summary``).

        Without ``X`` (or for regions unwrapped without row labels, as by
        :mod:`glassnet.streaming`), the table is built from the per-region statistics the
        regions carry: count, share, target mean and std (when unwrapped with ``y``), mean
        and std of the network output, and the LLM. Local and global performance (AUC,
        accuracy, MSE per region) need every row and are left out; the caption says so.
        """
        regions = check_regions(regions)
        if X is None or regions.labels is None:
            table = _stats_summary(regions).head(top)
            caption = (
                f"The {min(top, len(regions))} largest of {len(regions)} regions, from the "
                "per-region statistics accumulated while unwrapping (counts, sums and sums of "
                "squares). Per-region performance (local/global AUC, accuracy or MSE) needs all "
                "rows at once and is not shown; compare y_mean with pred_mean for calibration."
            )
            return self._add("region-summary", "Region summary", [self._table(table, caption)])
        from glassnet.summary import region_summary

        table = region_summary(regions, X, y, task=task, top=top)
        caption = (
            f"The {min(top, len(regions))} largest of {len(regions)} regions. Local metrics use "
            "the region's own rows; global metrics apply the region's LLM to all rows."
        )
        return self._add("region-summary", "Region summary", [self._table(table, caption)])

    def add_size_distribution(self, regions: Regions, *, top: int = 50) -> Report:
        """Bar chart of region sizes (largest ``top``) and the cumulative share of rows."""
        regions = check_regions(regions)
        from glassnet.plotting.regions import RegionSizeDistributionDisplay

        fig = _new_figure(8, 3.4)
        RegionSizeDistributionDisplay.from_regions(
            regions, top=top, ax=(fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)))
        fig.tight_layout()
        edges = [1, 2, 5, 10, 50, 100]
        labels = ["1", "2-4", "5-9", "10-49", "50-99", "100 or more"]
        which = np.searchsorted(edges, regions.counts, side="right") - 1
        n_in = np.bincount(which, minlength=len(edges))
        rows_in = np.bincount(which, weights=regions.counts, minlength=len(edges))
        table = pd.DataFrame(
            {"rows per region": labels, "regions": n_in,
             "share of rows": rows_in / max(regions.n_samples, 1)}
        )
        return self._add(
            "size-distribution", "Region size distribution",
            [self._figure(fig, alt="region sizes"), self._table(table)],
        )

    def add_feature_importance(
        self, regions: Regions, X: Any = None, *, standardize: bool | None = None
    ) -> Report:
        """Global feature importance from the exact LLMs, every feature, with a bar chart.

        ``standardize=None`` follows :func:`glassnet.feature_importance`: the effect of a
        one-standard-deviation change when rows ``X`` are given (features in different
        units compare fairly), of a one-unit change without them. The caption states the
        scale and formula the table was computed with.
        """
        regions = check_regions(regions)
        from glassnet.summary import feature_importance

        Xs, used = self._row_sample(X)  # importance of X re-unwraps its rows: bounded
        table = feature_importance(regions, Xs, standardize=standardize)
        from glassnet.plotting.regions import FeatureImportanceDisplay

        fig = _new_figure(7, max(2.2, 0.28 * len(table) + 0.8))
        FeatureImportanceDisplay.from_table(table, ax=fig.add_subplot())
        scale = table.attrs.get("scale", "raw")
        fig.tight_layout()
        caption = (
            ("Effect of a one-standard-deviation change of each feature" if scale == "std"
             else "Effect of a one-unit change of each feature (raw units)")
            + f": {table.attrs.get('formula', '')}."
            + ("" if used is None else f" Over {used}.")
        )
        return self._add(
            "feature-importance", "Feature importance",
            [self._figure(fig, alt="feature importance"), self._table(table, caption)],
        )

    def add_coefficients(
        self,
        regions: Regions,
        X: Any = None,
        *,
        top: int = 20,
        output: int = 0,
        max_profiles: int = 6,
    ) -> Report:
        """LLM coefficient plots: parallel coordinates of the ``top`` largest regions, the
        count-weighted coefficient distribution (violins) per feature, the quantile table,
        and, with the unwrapped rows ``X``, the LLM profile of up to ``max_profiles``
        features (each region's linear effect over its own range of the feature). With
        ``X`` the two plots show each coefficient times its feature's standard deviation
        on the rows (the effect of a one-sd change, comparable across units); the table
        stays in the features' own units."""
        from glassnet.plotting import (
            CoefficientParallelDisplay,
            CoefficientViolinDisplay,
            LLMProfileDisplay,
        )
        from glassnet.summary import coefficient_distribution, feature_importance

        regions = check_regions(regions)
        k = regions.network.n_outputs
        if not 0 <= output < k:
            raise ValueError(f"output must be in [0, {k}); got {output}.")
        d = len(regions.feature_names)
        Xs, used = self._row_sample(X)
        if d > 8:  # one panel per row, full width: 25 feature names stay readable under each
            fig = _new_figure(min(16.0, max(8.0, 0.42 * d + 2.5)), 8.4)
            ax1, ax2 = fig.subplots(2, 1)
        else:
            fig = _new_figure(11.0, 4.2)
            ax1, ax2 = fig.subplots(1, 2)
        # with rows, coefficients times the features' sd: in raw units a feature in dollars
        # has coefficients near 0 whatever its effect (TaiwanCredit's amounts drew as flat
        # lines while second in importance)
        sd = None if Xs is None else regions.network.check_input(Xs).std(axis=0)
        CoefficientParallelDisplay.from_regions(regions, top=top, output=output, ax=ax1,
                                                feature_sd=sd, legend=top <= 10)
        CoefficientViolinDisplay.from_regions(regions, Xs, output=output, ax=ax2,
                                              feature_sd=sd)
        for ax in (ax1, ax2):
            ax.tick_params(axis="x", labelrotation=90 if d > 12 else 45,
                           labelsize=8 if d > 15 else 9)
        ax1.set_title(f"Parallel coordinates, {min(top, len(regions))} largest regions")
        ax2.set_title("Coefficient distribution (count-weighted)")
        fig.set_layout_engine("constrained")
        note = "" if used is None else f" Distribution over {used}."
        scaled = ("" if sd is None else "Coefficients times each feature's standard deviation "
                  "on these rows: the effect of a one-standard-deviation change, so features in "
                  "different units compare. The table below gives them in the features' own "
                  "units.")
        parts = [self._figure(fig, scaled or None, alt="coefficients")]
        parts.append(self._table(coefficient_distribution(regions, Xs, output=output),
                                 ("Quantiles of each coefficient over rows." + note).strip()))
        if X is not None and max_profiles > 0:
            m = min(d, max_profiles)
            # the most important features first, not the first ones in file order
            # ranked on standardised inputs (coef x feature std), so a feature in large
            # units with a small coefficient is not ranked last for its units alone
            imp = feature_importance(regions, Xs, standardize=True)
            col = "importance" if "importance" in imp.columns else imp.columns[-1]
            imp = imp.sort_values(col, ascending=False)
            ranked = [str(f) for f in (imp["feature"] if "feature" in imp.columns
                                       else imp.index)]
            order = [regions.feature_names.index(f) for f in ranked
                     if f in regions.feature_names] or list(range(d))
            # a feature constant within each drawn region gets a panel of dots only (a
            # binary feature that splits regions: BikeSharing's holiday); the next is shown
            moving = _varies_within_regions(regions, X, top)
            order = ([j for j in order if moving[j]] or order)[:m]
            m = len(order)
            cols = min(m, 3)
            rows = -(-m // cols)
            pfig = _new_figure(4.2 * cols, 3.3 * rows)
            axes = np.atleast_1d(pfig.subplots(rows, cols)).ravel()
            for ax, j in zip(axes, order, strict=False):
                LLMProfileDisplay.from_regions(regions, X, feature=j, top=top, output=output,
                                               ax=ax)
            for ax in axes[len(order):]:
                ax.set_visible(False)
            pfig.set_layout_engine("constrained")
            shown = "" if m == d else (f" ({m} most important of {d} features, by "
                                       "standardised importance, among those that vary "
                                       "within some drawn region)")
            parts.append("<h3>LLM profiles</h3>" + self._figure(
                pfig, f"Each region's linear effect over its own range of the feature{shown}.",
                alt="LLM profiles"))
        if k > 1:
            parts.append(f'<p class="note">Output {output} of {k}.</p>')
        return self._add("coefficients", "Local linear model coefficients", parts)

    def add_partition_map(
        self,
        model: Any,
        X: Any = None,
        y: Any = None,
        *,
        bounds: Any = None,
        margin: float = 0.05,
    ) -> Report:
        """For a network with 2 inputs: the exact partition of the input box into regions."""
        from glassnet.partition import PartitionDisplay

        net = as_network(model)
        if net.n_features != 2:
            raise ValueError(
                f"The partition map needs a network with 2 inputs; this one has {net.n_features}."
            )
        Xa = None if X is None else net.check_input(X)
        if bounds is None:
            if Xa is None:
                raise ValueError("Pass X or bounds to choose the box of the partition map.")
            lo, hi = Xa.min(axis=0), Xa.max(axis=0)
            pad = margin * np.maximum(hi - lo, 1e-9)
            bounds = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
        from glassnet.partition import partition_2d

        part = partition_2d(net, bounds)
        fig = _new_figure(12, 5.6)
        ax1, ax2 = fig.subplots(1, 2)
        PartitionDisplay.from_partition(part, X=Xa, y=y, ax=ax1)
        PartitionDisplay.from_partition(part, ax=ax2, color_by="gradient")
        ax1.set_title(f"{len(part)} regions, coloured by the network's output, with the data")
        ax2.set_title("Coloured by the direction of each region's LLM")
        fig.tight_layout()
        caption = (
            f"{len(part)} activation regions inside the box, computed exactly as polygons (not "
            "sampled). Black: the network's decision boundary where it has one. Right: similar "
            "colours mean similar local linear models."
        )
        return self._add(
            "partition-map", "Partition map (2-D input)",
            [self._figure(fig, caption, alt="partition map")],
        )

    def add_boundary_distance(
        self,
        model: Any,
        X: Any,
        *,
        max_rows: int = 10_000,
        standardize: bool = True,
        top: int = 10,
        random_state: int = 0,
    ) -> Report:
        """Distance of each row to the boundary of its activation region: how stable its
        explanation is.

        A row's local linear model (its exact explanation) holds until the input crosses
        the nearest hyperplane of some neuron; :func:`glassnet.boundary_distance` gives that
        distance exactly. The section shows its quantiles (with ``standardize``, in units of
        the features' standard deviations and in the features' own units), the share of
        rows closer than a few thresholds, a histogram and cumulative share on a log scale,
        the layer of the nearest boundary's neuron and, when ``model`` is the
        :class:`~glassnet.Regions`, the distance quantiles within each of the ``top``
        largest regions. The numbers come from
        :func:`glassnet.diagnose.explanation_stability`, the figure from
        :class:`~glassnet.plotting.diagnostics.BoundaryDistanceDisplay`.

        Parameters
        ----------
        model : Regions, ReluNetwork or a model glassnet can import
        X : array-like or DataFrame of shape (n_samples, n_features)
            The rows (the unwrapped rows, or any rows to check).
        max_rows : int, default 10000
            At most this many rows are used: a uniform random sample (``random_state``)
            when there are more. The sample size is in the caption.
        standardize : bool, default True
            Measure distances after dividing each feature by its standard deviation on the
            rows used, so features on different scales count alike.
        top : int, default 10
            Regions in the per-region table (only when ``model`` is a ``Regions``).
        random_state : int, default 0
        """
        from glassnet.diagnose import explanation_stability
        from glassnet.plotting.diagnostics import BoundaryDistanceDisplay

        res = explanation_stability(model, X, max_rows=max_rows, standardize=standardize,
                                    top=top, random_state=random_state)
        m, n, unit = res.n_used, res.n_rows, res.unit
        used = f"all {m} rows" if m == n else f"a uniform random sample of {m} of the {n} rows"
        caption = (
            f"Distance from each row to the nearest boundary of its own activation region, "
            f"computed exactly (glassnet.boundary_distance) on {used}: how far the row can "
            "move, in any direction, before some neuron changes state and the row's local "
            "linear model (its explanation) changes. Small distances mean an explanation "
            "that holds only very near the row."
        )
        if res.standardized:
            caption += (" Distances are in units of the features' standard deviations on "
                        "these rows (each feature divided by its standard deviation); the last "
                        "column gives them in the features' own units.")
        parts = [f'<p class="note">{_esc(caption)}</p>']
        dist = res.distances
        if (np.isfinite(dist) & (dist > 0)).any():
            disp = BoundaryDistanceDisplay.from_result(res)
            parts.append(self._figure(disp, alt="distance to the region boundary"))
        n_zero, n_inf = int((dist == 0).sum()), int(np.isinf(dist).sum())
        if n_zero or n_inf:
            parts.append(
                f'<p class="note">{n_zero} row(s) lie exactly on a boundary (distance 0) and '
                f"{n_inf} row(s) are in a region no neuron bounds (infinite distance); the "
                "figure leaves them out.</p>"
            )
        parts.append("<h3>Quantiles</h3>" + self._table(res.quantiles))
        parts.append("<h3>Rows near a boundary</h3>" + self._table(res.close))
        parts.append("<h3>Which layer bounds the region</h3>" + self._table(res.layers))
        if res.per_region is not None:
            parts.append(
                f"<h3>Per region ({unit})</h3>"
                + self._table(res.per_region,
                              f"The {len(res.per_region)} largest regions: distance quantiles "
                              "of their rows among those used.")
            )
        return self._add("boundary-distance", "Distance to the region boundary", parts)


def _stats_summary(regions: Regions) -> pd.DataFrame:
    """Region table from the statistics a Regions carries (no rows needed): its
    ``to_frame`` with the standard deviation of the network output next to its mean."""
    frame = regions.to_frame()
    k = regions.network.n_outputs
    sfx = [""] if k == 1 else [f"[{j}]" for j in range(k)]
    std = regions.pred_std
    at = list(frame.columns).index(f"pred_mean{sfx[-1]}") + 1
    for j, s in reversed(list(enumerate(sfx))):
        frame.insert(at, f"pred_std{s}", std[:, j])
    return frame


def _varies_within_regions(regions: Regions, X: Any, top: int) -> np.ndarray:
    """Per feature: does it take two values or more within one of the ``top`` largest
    regions (the regions an LLM profile draws), on the unwrapped rows ``X``?"""
    from glassnet.explain import unwrapped_rows

    Xa = unwrapped_rows(regions, X)
    labels = np.asarray(regions.labels)
    keep = labels < min(top, len(regions))
    if not keep.any():
        return np.zeros(Xa.shape[1], dtype=bool)
    by = np.argsort(labels[keep], kind="stable")
    lab, rows = labels[keep][by], Xa[keep][by]
    starts = np.flatnonzero(np.r_[True, lab[1:] != lab[:-1]])
    spread = np.maximum.reduceat(rows, starts, axis=0) - np.minimum.reduceat(rows, starts, axis=0)
    return (spread > 0).any(axis=0)
