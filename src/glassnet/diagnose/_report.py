"""Every diagnostic as report sections, for the CLI and the examples.

Uses only the public :class:`glassnet.Report` API (``add_text``, ``add_table``,
``add_figure``), so the report module need not know about diagnostics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

SECTIONS = ("accuracy", "weakspots", "overfit", "reliability", "robustness", "resilience",
            "fairness", "compare", "explain")


def run_diagnostics(
    report: Any,
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    sections: Any = SECTIONS,
    protected: Any = None,
    reference_group: Any = None,
    slice_features: Any = None,
    challengers: dict[str, Any] | None = None,
    exact_rows: int = 20,
    exact_time_limit: float | None = 5.0,
    random_state: int = 0,
) -> dict[str, Any]:
    """Run the chosen diagnostics and add one report section (table, figure) for each.

    Parameters
    ----------
    report : glassnet.Report or None
        Where the sections go (None: compute only).
    model : fitted model or ReluNetwork
    X_train, y_train, X_test, y_test : array-like
        Training rows (accuracy gap, overfit, GLM baseline) and held-out rows (everything
        else; reliability calibrates on the first half of them and measures on the second).
    sections : sequence of str
        A subset of ``SECTIONS``.
    protected : array-like of shape (n_test,), optional
        Protected group of each test row, for the fairness section (skipped without it).
    reference_group : optional
    slice_features : sequence, optional
        Features sliced by weakspots/overfit/reliability (default: all for weak spots, the
        first three for reliability).
    challengers : dict of str to fitted model, optional
        Extra models for the comparison.
    exact_rows : int
        Test rows assessed by the exact worst-case flip (one MILP each; 0 to skip). With
        ``exact_time_limit`` it bounds the section's time: at most rows x limit seconds
        (default 20 x 5 s; 50 rows at 20 s took 15 minutes on TaiwanCredit on a loaded machine).
    exact_time_limit : float or None
        Seconds per MILP; rows that run out are left out of the exact share and counted.
    random_state : int

    Returns
    -------
    dict
        Section name to its result (DataFrame or result object).
    """
    from glassnet import diagnose as D
    from glassnet.plotting import diagnostics as P

    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown sections {unknown}; choose from {list(SECTIONS)}.")
    view = D._common.ModelView(model)
    clf = view.task == "classification"
    out: dict[str, Any] = {}

    def table(title: str, frame: pd.DataFrame, key: str, caption: str) -> None:
        if report is not None:
            report.add_table(title, frame.round(4) if hasattr(frame, "round") else frame,
                             key=key, caption=caption)

    def figure(title: str, fig: Any, key: str, caption: str | None = None) -> None:
        if report is not None:
            report.add_figure(title, fig, key=key, caption=caption)

    if "accuracy" in sections:
        acc = D.accuracy_table(model, X_train, y_train, X_test, y_test)
        out["accuracy"] = acc
        table("Accuracy: train, test and gap", acc.reset_index(), "diag-accuracy",
              "gap = test - train. Threshold 0.5 for accuracy and F1.")
    metric = "log_loss" if clf else "rmse"
    if "weakspots" in sections:
        w = D.weakspots(model, X_test, y_test, slice_features=slice_features, metric=metric)
        out["weakspots"] = w
        table("Weak spots (histogram slices)", w.head(20), "diag-weakspots",
              f"Test rows; a slice is weak when its {metric} is worse than on all rows by more "
              "than 10% of the overall value. Worst first.")
        if len(w):
            figure("Weak spots", _figure_of(P.WeakspotDisplay.from_frame, w), "diag-weakspots-fig")
        try:
            wr = D.weakspots(model, X_test, y_test, method="region", X_regions=X_train,
                             metric=metric)
            out["weakspots_region"] = wr
            table("Weak spots over the network's own activation regions", wr.head(20),
                  "diag-weakspots-region",
                  "Exact slices: the activation regions found on the training rows (region -1:"
                  " test rows whose activation pattern no training row has).")
        except TypeError:
            pass  # not a ReLU network: no exact regions
    if "overfit" in sections:
        o = D.overfit(model, X_train, y_train, X_test, y_test, slice_features=slice_features,
                      metric=metric)
        out["overfit"] = o
        table("Overfit slices", o.head(20), "diag-overfit",
              f"gap = how much worse the test {metric} is than the training {metric}; flagged "
              "above 10% of the overall training value.")
    if "reliability" in sections:
        n = len(y_test) // 2
        Xc, Xe = _rows(X_test, slice(0, n)), _rows(X_test, slice(n, None))
        yc, ye = np.asarray(y_test)[:n], np.asarray(y_test)[n:]
        sf = slice_features if slice_features is not None else list(range(
            min(3, np.shape(X_test)[1])))
        r = D.reliability(model, Xc, yc, Xe, ye, alpha=0.1, slice_features=sf)
        out["reliability"] = r
        table("Reliability: split-conformal coverage", r.summary, "diag-reliability",
              f"Calibrated on the first {n} test rows, measured on the other {len(ye)}.")
        table("Reliability by slice", r.by_slice, "diag-reliability-slices",
              "Coverage and bandwidth (mean set size / interval width) per slice.")
        if r.calibration is not None:
            table("Brier decomposition", pd.DataFrame([r.brier._asdict()]), "diag-brier",
                  "Murphy: brier = reliability - resolution + uncertainty + within-bin.")
            figure("Reliability diagram", P.ReliabilityDisplay.from_result(r).figure_,
                   "diag-reliability-fig")
    if "robustness" in sections:
        rb = D.robustness(model, X_test, y_test, exact=clf and exact_rows > 0,
                          max_exact_rows=max(exact_rows, 1), time_limit=exact_time_limit,
                          random_state=random_state)
        out["robustness"] = rb
        frame = rb.random if rb.exact is None else rb.random.merge(
            rb.exact[["size", "share_flippable", "share_flippable_lo", "share_flippable_hi"]],
            on="size")
        n_ok = 0 if rb.exact is None else int(rb.exact["n_rows"].iloc[0])
        n_late = 0 if rb.exact is None else int(rb.exact["n_timed_out"].iloc[0])
        table("Robustness", frame, "diag-robustness",
              "Random: Gaussian noise of sd = size x the feature's sd, 10 repeats. Exact: share"
              f" of {n_ok} test rows whose decision some perturbation within that L-inf radius"
              f" (in sds) flips ({n_late} rows whose MILP hit the time limit left out; _lo/_hi: "
              "the share over all assessed rows with those counted as not / as flippable).")
        figure("Robustness curve", P.RobustnessDisplay.from_result(rb).figure_,
               "diag-robustness-fig")
    if "resilience" in sections:
        rs = D.resilience(model, X_test, y_test, metric=metric)
        out["resilience"] = rs
        table("Resilience: worst rows", rs.worst, "diag-resilience",
              f"{metric} on the worst share of test rows (by their own loss).")
        table("Resilience: PSI of the worst 20% against the rest", rs.psi.head(10),
              "diag-resilience-psi", "Features that set the worst-served rows apart.")
    if "fairness" in sections and protected is not None:
        f = D.fairness(model, X_test, y_test, protected=protected,
                       reference_group=reference_group)
        out["fairness"] = f
        table("Fairness by protected group", f, "diag-fairness",
              "AIR = favourable-decision rate / reference rate (four-fifths rule: < 0.8); "
              "SMD = standardised mean difference of the score; gaps vs the reference.")
    if "compare" in sections:
        models = {"network": model, **(challengers or {})}
        c = D.compare(models, X_test, y_test, X_train=X_train, y_train=y_train)
        out["compare"] = c
        table("Comparison with challengers", c.table.reset_index(), "diag-compare",
              "Test rows. GLM: unpenalised logistic / linear regression on the training rows.")
        if clf and c.pos_label is not None:
            figure("ROC and calibration", P.CompareDisplay.from_comparison(c).figure_,
                   "diag-compare-fig")
    if "explain" in sections:
        pi = D.permutation_importance(model, X_test, y_test, random_state=random_state)
        out["permutation_importance"] = pi
        table("Permutation importance", pi, "diag-permutation",
              "Drop of the test AUC / rise of the RMSE when one feature is shuffled (5 "
              "repeats; scikit-learn).")
        top = list(pi["feature"].head(3))
        if view.task == "regression" or view.binary:
            h = D.h_statistic(model, X_test, top, n_samples=150, random_state=random_state)
            out["h_statistic"] = h
            table("Interaction strength (Friedman's H)", h, "diag-h",
                  "Pairs of the three most important features; 150 test rows.")
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, len(top), figsize=(4.5 * len(top), 3.5))
            for ax, feat in zip(np.atleast_1d(axes), top, strict=True):
                key = feat if hasattr(X_test, "columns") else int(str(feat).lstrip("x"))
                P.ALEDisplay.from_estimator(model, X_test, key, ax=ax)
            figure("Accumulated local effects", fig, "diag-ale",
                   "ALE of the three most important features (Apley and Zhu 2020).")
    return out


def _figure_of(factory: Any, *args: Any) -> Any:
    """The figure of a Display built by ``factory(*args)``."""
    return factory(*args).figure_


def _rows(X: Any, sl: slice) -> Any:
    return X.iloc[sl] if hasattr(X, "iloc") else np.asarray(X)[sl]
