"""Report sections on the data and the model: overview and exactness certificate.

A mixin of :class:`glassnet.report.Report`; each method lays out tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from glassnet.decisions.favorable import DEFAULT_FAVORABLE, class_label, favorable_note
from glassnet.explain import check_regions
from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.regions import Regions
from glassnet.report._html import fmt as _fmt

if TYPE_CHECKING:
    from glassnet.report import Report


class OverviewSections:
    """Sections about the data, the model and the exactness of its regions."""

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
        favorable: int = DEFAULT_FAVORABLE,
        target: str | None = None,
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
        favorable : int, default=DEFAULT_FAVORABLE (0)
            For a classifier, the class the report treats as favourable (the library-wide
            default of :mod:`glassnet.decisions.favorable`), stated in a row of its own.
        target : str, optional
            Name of the target column, for that statement (default: the name of ``y``).
        """
        net = as_network(model)
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
        if task == "classification":
            name = target if target is not None else getattr(y, "name", None)
            rows.append(("favourable class", favorable_note(
                favorable, target=None if name is None else str(name),
                classes=getattr(model, "classes_", None)).split(": ", 1)[1]))
        parts = []
        if X is not None:
            names = feature_names(net, X)
            n = len(X)
            rows += [("data", data_name or "(in memory)"), ("rows", n), ("features", len(names))]
            if y is not None:
                yv = np.asarray(y)
                if task == "classification":
                    vals, cnt = np.unique(yv, return_counts=True)
                    dist = ", ".join(  # class 1, not 1.0: one spelling in every command
                        f"{class_label(v)}: {c:,} ({c / n:.1%})"
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
                    "feature": feature_names(net, X),
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
        regions = check_regions(regions)
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


def feature_names(net: ReluNetwork, X: Any) -> list[str]:
    """The network's feature names, else the columns of ``X``, else ``x0, x1, ...``."""
    if net.feature_names is not None:
        return list(net.feature_names)
    if hasattr(X, "columns"):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(net.n_features)]
