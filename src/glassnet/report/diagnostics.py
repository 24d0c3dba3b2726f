"""Report sections of the validation tests (:func:`glassnet.diagnose.run_diagnostics`).

A mixin of :class:`glassnet.report.Report`. The numbers come from
:mod:`glassnet.diagnose`; the figures are the Displays of
:mod:`glassnet.plotting.diagnostics`; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from glassnet.report import Report


class DiagnosticSections:
    """Sections of the model-validation tests (accuracy to explanations)."""

    def add_diagnostics(self, results: Mapping[str, Any], *,
                        target: str | None = None) -> Report:
        """One section (table, and figure where there is one) per diagnostic in ``results``.

        Parameters
        ----------
        results : mapping
            As returned by :func:`glassnet.diagnose.run_diagnostics`.
        target : str, optional
            Name of the target column, for the favourable-class statement of the fairness
            section ("favourable class: 0 (FlagDefault = 0)").
        """
        from glassnet.decisions.favorable import favorable_note
        from glassnet.plotting import diagnostics as P

        if not isinstance(results, Mapping):
            raise TypeError("results must be the mapping run_diagnostics returns; got "
                            f"{type(results).__name__}.")
        st = results.get("settings", {})
        metric = st.get("metric", "log_loss")
        report: Any = self

        def table(title: str, frame: Any, key: str, caption: str) -> None:
            report.add_table(title, frame, key=key, caption=caption)

        def display(title: str, disp: Any, key: str, caption: str | None = None) -> None:
            report.add_figure(title, disp.figure_, key=key, caption=caption)

        if "accuracy" in results:
            table("Accuracy: train, test and gap", results["accuracy"].reset_index(),
                  "diag-accuracy", "gap = test - train." + (
                      " Threshold 0.5 for accuracy and F1." if st.get("task") !=
                      "regression" else ""))
        if "weakspots" in results:
            w = results["weakspots"]
            table("Weak spots (histogram slices)", w.head(20), "diag-weakspots",
                  f"Test rows; a slice is weak when its {metric} is worse than on all rows by "
                  "more than 10% of the overall value. Worst first.")
            if len(w):
                display("Weak spots", P.WeakspotDisplay.from_frame(w), "diag-weakspots-fig")
        if "weakspots_region" in results:
            wr = results["weakspots_region"]
            unseen = wr.loc[wr["slice"] == "region -1", "share"]
            note = ""
            if len(unseen) and float(unseen.iloc[0]) >= 0.5:
                # a fragmented network: per-region slices say little, merged regions do
                note = (f" {float(unseen.iloc[0]):.0%} of the test rows fall in regions no "
                        "training row has: the network is too fragmented for slices by "
                        "activation region. Slice by merged regions instead: "
                        "glassnet.diagnose.weakspots(model, X_test, y_test, method=\"merged\", "
                        "merger=glassnet.RegionMerger(model).fit(X_train, y_train)).")
            table("Weak spots over the network's own activation regions", wr.head(20),
                  "diag-weakspots-region",
                  "Exact slices: the activation regions found on the training rows (region -1:"
                  " test rows whose activation pattern no training row has); regions with "
                  "fewer than 20 test rows are not shown." + note)
        if "overfit" in results:
            table("Overfit slices", results["overfit"].head(20), "diag-overfit",
                  f"gap = how much worse the test {metric} is than the training {metric}; "
                  "flagged above 10% of the overall training value.")
        if "reliability" in results:
            r = results["reliability"]
            table("Reliability: split-conformal coverage", r.summary, "diag-reliability",
                  f"Calibrated on the first {st.get('calibration_rows')} test rows, "
                  f"measured on the other {st.get('evaluation_rows')}.")
            table("Reliability by slice", r.by_slice, "diag-reliability-slices",
                  "Coverage and bandwidth (mean set size / interval width) per slice.")
            if r.calibration is not None:
                # the same rows as the coverage, not every test row: say so, since the
                # accuracy table's Brier score (all test rows) differs
                rows = f"the {st['evaluation_rows']} " if "evaluation_rows" in st else "the "
                table("Brier decomposition", pd.DataFrame([r.brier._asdict()]), "diag-brier",
                      f"On {rows}rows the coverage is measured on (the Brier score of the "
                      "accuracy table is over every test row). Murphy: brier = reliability - "
                      "resolution + uncertainty + within-bin.")
                display("Reliability diagram", P.ReliabilityDisplay.from_result(r),
                        "diag-reliability-fig", f"On {rows}rows the coverage is measured on.")
        if "robustness" in results:
            rb = results["robustness"]
            frame = rb.random if rb.exact is None else rb.random.merge(
                rb.exact[["size", "share_flippable", "share_flippable_lo",
                          "share_flippable_hi"]], on="size")
            exact = "" if rb.exact is None else (  # decisions only: classifiers
                f" Exact: share of {int(rb.exact['n_rows'].iloc[0])} test rows whose decision "
                "some perturbation within that L-inf radius (in sds) flips "
                f"({int(rb.exact['n_timed_out'].iloc[0])} rows whose MILP hit the time limit "
                "left out; _lo/_hi: the share over all assessed rows with those counted as "
                "not / as flippable).")
            table("Robustness", frame, "diag-robustness",
                  "Random: Gaussian noise of sd = size x the feature's sd, 10 repeats." + exact)
            display("Robustness curve", P.RobustnessDisplay.from_result(rb),
                    "diag-robustness-fig")
        if "resilience" in results:
            rs = results["resilience"]
            table("Resilience: worst rows", rs.worst, "diag-resilience",
                  f"{metric} on the worst share of test rows (by their own loss).")
            table("Resilience: PSI of the worst 20% against the rest", rs.psi.head(10),
                  "diag-resilience-psi", "Features that set the worst-served rows apart.")
        if "fairness" in results:
            f = results["fairness"]
            fav = f.attrs.get("favorable", st.get("favorable"))
            note = favorable_note(fav, target=target) if fav is not None else ""
            table("Fairness by protected group", f, "diag-fairness",
                  (f"{note[:1].upper() + note[1:]}. " if note else "")
                  + "AIR = favourable-decision rate / reference rate (four-fifths rule: "
                  "< 0.8); SMD = standardised mean difference of the score; gaps vs the "
                  "reference.")
            if "air" in f and len(f) and "region" not in f:
                display("Adverse impact ratio", P.FairnessDisplay.from_frame(f),
                        "diag-fairness-fig")
        if "compare" in results:
            c = results["compare"]
            table("Comparison with challengers", c.table.reset_index(), "diag-compare",
                  "Test rows. GLM: unpenalised logistic regression on standardised inputs "
                  "(linear regression for a regressor), fitted on the training rows.")
            if c.task == "classification" and c.pos_label is not None:
                display("ROC and calibration", P.CompareDisplay.from_comparison(c),
                        "diag-compare-fig")
        if "permutation_importance" in results:
            table("Permutation importance", results["permutation_importance"],
                  "diag-permutation",
                  "Drop of the test AUC / rise of the RMSE when one feature is shuffled (5 "
                  "repeats; scikit-learn).")
        if "h_statistic" in results:
            table("Interaction strength (Friedman's H)", results["h_statistic"], "diag-h",
                  "Pairs of the three most important features; 150 test rows.")
        if results.get("ale"):
            from matplotlib.figure import Figure

            ale = results["ale"]
            fig = Figure(figsize=(4.5 * len(ale), 3.5))
            axes = np.atleast_1d(fig.subplots(1, len(ale)))
            for ax, (feat, frame) in zip(axes, ale.items(), strict=True):
                P.ALEDisplay(frame, feat).plot(ax=ax)
            fig.tight_layout()
            report.add_figure("Accumulated local effects", fig, key="diag-ale",
                              caption="ALE of the three most important features (Apley and "
                              "Zhu 2020).")
        return report
