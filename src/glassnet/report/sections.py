"""Report sections over the network's regions: overview, certificate, region table, sizes,
importance, coefficients, partition map, boundary distance, simplification and MLM.

A mixin of :class:`glassnet.report.Report`; each method lays out tables and Displays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from glassnet.network import ReluNetwork
from glassnet.regions import Regions
from glassnet.report._html import esc as _esc
from glassnet.report._html import fmt as _fmt

if TYPE_CHECKING:
    from glassnet.report import Report


class RegionSections:
    """Sections about the network and its activation regions."""

    def add_overview(
        self,
        model: Any,
        X: Any = None,
        y: Any = None,
        *,
        data_name: str | None = None,
        task: str | None = None,
        metrics: Mapping[str, Any] | None = None,
        feature_stats: Any = None,
        n_rows: int | None = None,
    ) -> Report:
        """Data and model overview: architecture, parameters, rows, features, target.

        Parameters
        ----------
        model : ReluNetwork or a model glassnet can import
        X : array-like or DataFrame, optional
        y : array-like, optional
        data_name : str, optional
            Where the data came from (a file name).
        task : str, optional
            ``"classification"`` or ``"regression"``; inferred from the output link.
        metrics : mapping, optional
            Named performance figures (for example ``{"test AUC": 0.93}``).
        feature_stats : DataFrame, optional
            Per-feature statistics computed elsewhere (columns ``feature``, ``mean``, ``std``,
            ``min``, ``max``), for data that never sat in memory whole (the CLI's streaming
            mode). Shown instead of the statistics of ``X`` when ``X`` is None.
        n_rows : int, optional
            Number of data rows, shown with ``feature_stats`` when ``X`` is None.
        """
        net = _network(model)
        task = task or ("regression" if net.output == "identity" else "classification")
        n_params = sum(W.size + b.size for W, b in zip(net.weights, net.biases, strict=True))
        arch = " → ".join(str(s) for s in (net.n_features, *net.hidden_sizes, net.n_outputs))
        rows = [
            ("model type", type(model).__name__),
            ("architecture (inputs → hidden → outputs)", arch),
            ("hidden ReLU neurons", net.n_hidden),
            ("parameters", n_params),
            ("output link", net.output),
            ("task", task),
        ]
        parts = []
        if X is not None:
            names = _feature_names(net, X)
            n = len(X)
            rows += [("data", data_name or "(in memory)"), ("rows", n), ("features", len(names))]
            if y is not None:
                yv = np.asarray(y)
                if task == "classification":
                    vals, cnt = np.unique(yv, return_counts=True)
                    dist = ", ".join(  # class 1, not 1.0: one spelling in every command
                        f"{_label(v)}: {c:,} ({c / n:.1%})"
                        for v, c in zip(vals, cnt, strict=True)
                    )
                    rows.append(("target classes", dist))
                else:
                    rows.append(("target mean ± std", f"{_fmt(yv.mean())} ± {_fmt(yv.std())}"))
        elif feature_stats is not None:
            rows.append(("data", data_name or "(streamed)"))
            if n_rows is not None:
                rows.append(("rows", int(n_rows)))
            rows.append(("features", len(feature_stats)))
        for k, v in (metrics or {}).items():
            rows.append((str(k), _fmt(v)))
        parts.append(self._table(pd.DataFrame(rows, columns=["item", "value"])))
        if X is not None:
            arr = net.check_input(X)
            desc = pd.DataFrame(
                {
                    "feature": _feature_names(net, X),
                    "mean": arr.mean(axis=0),
                    "std": arr.std(axis=0),
                    "min": arr.min(axis=0),
                    "max": arr.max(axis=0),
                }
            )
            parts.append("<h3>Features</h3>" + self._table(desc, max_rows=60))
        elif feature_stats is not None:
            parts.append("<h3>Features</h3>" + self._table(feature_stats, max_rows=60))
        return self._add("overview", "Data and model", parts)

    def add_certificate(self, regions: Regions, *, tolerance: float = 1e-8) -> Report:
        """Exactness certificate: max ``|LLM output - network output|`` over the unwrapped rows."""
        regions = _check_regions(regions)
        err = regions.max_abs_error
        ok = err <= tolerance
        verdict = (
            f'<p class="{"ok" if ok else "bad"}">Maximum |local linear model − network| over '
            f"all {regions.n_samples} rows and {regions.network.n_outputs} output(s): "
            f"{err:.3e} ({'within' if ok else 'ABOVE'} the tolerance {tolerance:.0e}).</p>"
        )
        single = int((regions.counts == 1).sum())
        rows = pd.DataFrame(
            [
                ("activation regions", len(regions)),
                ("rows", regions.n_samples),
                ("regions holding a single row", single),
                ("regions covering 50% of rows", regions.n_regions_covering(0.5)),
                ("regions covering 95% of rows", regions.n_regions_covering(0.95)),
                ("largest region share", float(regions.shares.max()) if len(regions) else 0.0),
                ("max abs error (certificate)", err),
            ],
            columns=["item", "value"],
        )
        text = (
            '<p class="note">Inside each activation region the network is exactly affine; the '
            "certificate compares that affine model with the network's own output, both in "
            "float64, on every row.</p>"
        )
        return self._add("certificate", "Exactness certificate", [verdict, self._table(rows), text])

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
        regions = _check_regions(regions)
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
        regions = _check_regions(regions)
        fig = _new_figure(8, 3.4)
        ax = fig.add_subplot(1, 2, 1)
        k = min(top, len(regions))
        ax.bar(np.arange(k), regions.counts[:k], color="#3d6fb6")
        ax.set_xlabel(f"region, largest first ({k} of {len(regions):,})")
        ax.set_ylabel("rows")
        ax.set_title("Region sizes")
        ax2 = fig.add_subplot(1, 2, 2)
        cum = np.cumsum(regions.shares)
        # the curve at <= 2000 log-spaced counts: monotone, so nothing visible is lost, and
        # the figure draws in the same time for 10 or 10 million regions
        at = np.unique(np.geomspace(1, max(len(regions), 1), 2000).astype(np.int64))
        ax2.plot(at, cum[at - 1] if len(regions) else at * 0.0, color="#b5482f")
        ax2.axhline(0.95, color="grey", lw=0.8, ls="--")
        ax2.set_xscale("log")
        ax2.set_xlabel("number of largest regions")
        ax2.set_ylabel("share of rows")
        ax2.set_ylim(0, 1.02)
        ax2.set_title("Cumulative coverage")
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
        regions = _check_regions(regions)
        from glassnet.summary import feature_importance

        Xs, used = self._row_sample(X)  # importance of X re-unwraps its rows: bounded
        table = feature_importance(regions, Xs, standardize=standardize)
        col = "importance" if "importance" in table.columns else table.columns[-1]
        names = table["feature"].astype(str).to_numpy() if "feature" in table else table.index
        vals = table[col].to_numpy(dtype=float)
        order = np.argsort(vals)
        fig = _new_figure(7, max(2.2, 0.28 * len(vals) + 0.8))
        ax = fig.add_subplot()
        ax.barh(np.asarray(names)[order], vals[order], color="#3d6fb6")
        scale = table.attrs.get("scale", "raw")
        ax.set_xlabel("share of importance (" + ("one-standard-deviation effects)"
                                                  if scale == "std" else "one-unit effects)"))
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
        features (each region's linear effect over its own range of the feature)."""
        from glassnet.plotting import (
            CoefficientParallelDisplay,
            CoefficientViolinDisplay,
            LLMProfileDisplay,
        )
        from glassnet.summary import coefficient_distribution, feature_importance

        regions = _check_regions(regions)
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
        CoefficientParallelDisplay.from_regions(regions, top=top, output=output, ax=ax1,
                                                legend=top <= 10)
        CoefficientViolinDisplay.from_regions(regions, Xs, output=output, ax=ax2)
        for ax in (ax1, ax2):
            ax.tick_params(axis="x", labelrotation=90 if d > 12 else 45,
                           labelsize=8 if d > 15 else 9)
        ax1.set_title(f"Parallel coordinates, {min(top, len(regions))} largest regions")
        ax2.set_title("Coefficient distribution (count-weighted)")
        fig.set_layout_engine("constrained")
        note = "" if used is None else f" Distribution over {used}."
        parts = [self._figure(fig, alt="coefficients")]
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
            order = [regions.feature_names.index(f) for f in ranked[:m]
                     if f in regions.feature_names] or list(range(m))
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
                                       "standardised importance)")
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

        net = _network(model)
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
        largest regions.

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
        from glassnet.geometry import boundary_distance

        regions = model if isinstance(model, Regions) else None
        net = regions.network if regions is not None else _network(model)
        if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or (
            max_rows < 1
        ):
            raise ValueError(f"max_rows must be a positive integer; got {max_rows!r}.")
        Xa = net.check_input(X)
        n = Xa.shape[0]
        if n == 0:
            raise ValueError("add_boundary_distance needs at least one row.")
        if n > max_rows:
            idx = np.sort(np.random.default_rng(random_state).choice(n, max_rows, replace=False))
            Xa = Xa[idx]
        m = Xa.shape[0]
        raw = boundary_distance(net, Xa, return_neuron=True)
        if standardize:
            sd = Xa.std(axis=0)
            scale = np.where(sd > 0, sd, 1.0)
            scaled_net = ReluNetwork([net.weights[0] * scale, *net.weights[1:]],
                                     list(net.biases), output=net.output)
            dist, neuron = boundary_distance(scaled_net, Xa / scale, return_neuron=True)
            unit = "standard deviations"
        else:
            dist, neuron = raw
            unit = "feature units"
        raw_dist = raw[0]

        qs = np.array([0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0])
        q_names = ["min", "1%", "5%", "10%", "25%", "median", "75%", "90%", "95%", "99%", "max"]
        cols = {"quantile": q_names,
                f"distance ({unit})": np.quantile(dist, qs, method="inverted_cdf")}
        if standardize:
            cols["distance (feature units)"] = np.quantile(raw_dist, qs, method="inverted_cdf")
        quant = pd.DataFrame(cols)
        thresholds = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0]
        close = pd.DataFrame({
            f"closer than ({unit})": thresholds,
            "rows": [int((dist < t).sum()) for t in thresholds],
            "share of rows": [float((dist < t).mean()) for t in thresholds],
        })
        sizes = np.cumsum(net.hidden_sizes) if net.n_hidden else np.zeros(0, dtype=int)
        layer = np.where(neuron >= 0, np.searchsorted(sizes, neuron, side="right") + 1, 0)
        lay_vals, lay_counts = np.unique(layer, return_counts=True)
        layers = pd.DataFrame({
            "layer of the nearest neuron": [f"hidden layer {v}" if v else
                                            "none (no neuron bounds the region)"
                                            for v in lay_vals],
            "rows": lay_counts,
            "share of rows": lay_counts / m,
        })

        used = f"all {m} rows" if m == n else f"a uniform random sample of {m} of the {n} rows"
        caption = (
            f"Distance from each row to the nearest boundary of its own activation region, "
            f"computed exactly (glassnet.boundary_distance) on {used}: how far the row can "
            "move, in any direction, before some neuron changes state and the row's local "
            "linear model (its explanation) changes. Small distances mean an explanation "
            "that holds only very near the row."
        )
        if standardize:
            caption += (" Distances are in units of the features' standard deviations on "
                        "these rows (each feature divided by its standard deviation); the last "
                        "column gives them in the features' own units.")
        parts = [f'<p class="note">{_esc(caption)}</p>']
        finite = dist[np.isfinite(dist) & (dist > 0)]
        if finite.size:
            fig = _new_figure(9, 3.2)
            ax1, ax2 = fig.subplots(1, 2)
            lo, hi = finite.min(), finite.max()
            edges = np.geomspace(lo, hi * (1 + 1e-9), 41) if hi > lo else np.array(
                [lo * 0.9, lo * 1.1])
            ax1.hist(finite, bins=edges, color="#3d6fb6")
            ax1.set_xscale("log")
            ax1.axvline(np.median(dist), color="#b5482f", lw=1, ls="--", label="median")
            ax1.set_xlabel(f"distance to the region boundary ({unit})")
            ax1.set_ylabel("rows")
            ax1.legend(frameon=False, fontsize=8)
            ax1.set_title("Distribution")
            srt = np.sort(finite)
            ax2.step(srt, np.arange(1, srt.size + 1) / m, where="post", color="#b5482f")
            ax2.set_xscale("log")
            ax2.set_ylim(0, 1.02)
            ax2.set_xlabel(f"distance ({unit})")
            ax2.set_ylabel("share of rows closer than this")
            ax2.set_title("Cumulative share")
            fig.tight_layout()
            parts.append(self._figure(fig, alt="distance to the region boundary"))
        n_zero, n_inf = int((dist == 0).sum()), int(np.isinf(dist).sum())
        if n_zero or n_inf:
            parts.append(
                f'<p class="note">{n_zero} row(s) lie exactly on a boundary (distance 0) and '
                f"{n_inf} row(s) are in a region no neuron bounds (infinite distance); the "
                "figure leaves them out.</p>"
            )
        parts.append("<h3>Quantiles</h3>" + self._table(quant))
        parts.append("<h3>Rows near a boundary</h3>" + self._table(close))
        parts.append("<h3>Which layer bounds the region</h3>" + self._table(layers))
        if regions is not None and top > 0:
            lab = regions.assign(Xa)
            rows = []
            for r in range(min(top, len(regions))):
                d_r = dist[lab == r]
                rows.append({
                    "region": r, "count": int(regions.counts[r]), "rows used": d_r.size,
                    "min": float(d_r.min()) if d_r.size else np.nan,
                    "10%": float(np.quantile(d_r, 0.1, method="inverted_cdf"))
                    if d_r.size else np.nan,
                    "median": float(np.median(d_r)) if d_r.size else np.nan,
                })
            parts.append(
                f"<h3>Per region ({unit})</h3>"
                + self._table(pd.DataFrame(rows),
                              f"The {len(rows)} largest regions: distance quantiles of their "
                              "rows among those used.")
            )
        return self._add("boundary-distance", "Distance to the region boundary", parts)

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


# ---------------------------------------------------------------------- helpers
def _network(model: Any) -> ReluNetwork:
    if isinstance(model, ReluNetwork):
        return model
    from glassnet.io import as_network

    return as_network(model)


def _check_regions(regions: Any) -> Regions:
    if not isinstance(regions, Regions):
        raise TypeError(f"Expected Regions (from glassnet.unwrap); got {type(regions).__name__}.")
    return regions


def _stats_summary(regions: Regions) -> pd.DataFrame:
    """Region table from the statistics a Regions carries (no rows needed)."""
    frame = regions.to_frame()
    k = regions.network.n_outputs
    sfx = [""] if k == 1 else [f"[{j}]" for j in range(k)]
    std = regions.pred_std
    at = list(frame.columns).index(f"pred_mean{sfx[-1]}") + 1
    for j, s in reversed(list(enumerate(sfx))):
        frame.insert(at, f"pred_std{s}", std[:, j])
    return frame


def _feature_names(net: ReluNetwork, X: Any) -> list[str]:
    if net.feature_names is not None:
        return list(net.feature_names)
    if hasattr(X, "columns"):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(net.n_features)]


def _new_figure(w: float, h: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)
