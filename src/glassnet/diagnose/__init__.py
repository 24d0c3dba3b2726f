"""Model diagnostics a validator runs, exact where the network allows.

Each function takes a fitted model (a glassnet estimator or network, or any scikit-learn style
estimator) and data, and returns DataFrames (or a small result object holding DataFrames);
the Displays in :mod:`glassnet.plotting.diagnostics` draw them. Scores come from
:mod:`glassnet._metrics`, so they agree with the report and monitoring.

==================================  =============================================================
function                            what it measures
==================================  =============================================================
:func:`accuracy_table`              scores on train and test and their gap; per (merged) region
:func:`weakspots`                   slices (histogram, tree, or the network's own regions) that
                                    score worse than overall by a relative threshold
:func:`overfit`                     slices whose test score falls behind the training score
:func:`reliability`                 split-conformal sets / intervals: coverage and bandwidth, by
                                    slice; calibration curve and Brier decomposition
:func:`robustness`                  score under random noise; exact worst-case flip radius (MILP)
:func:`resilience`                  score on the worst rows, PSI of those rows, simulated shifts
:func:`fairness`                    AIR, SMD, equal-opportunity and calibration gaps by group
:func:`compare`                     one table over the network, its challengers and a GLM
:func:`permutation_importance`      scikit-learn's permutation importance
:func:`partial_dependence`          scikit-learn's partial dependence and ICE
:func:`ale`, :func:`h_statistic`    accumulated local effects; Friedman's H
:func:`explanation_stability`       distance of each row to its region's boundary: how far
                                    its exact explanation holds
:func:`run_diagnostics`             every section above in one call (what ``glassnet diagnose``
                                    runs; :meth:`glassnet.Report.add_diagnostics` lays it out)
==================================  =============================================================

Where a diagnostic needs the favourable class (fairness), it is the library-wide default of
:mod:`glassnet.decisions.favorable`: class 0, the absence of the modelled event.
"""

from __future__ import annotations

from glassnet.diagnose.accuracy import accuracy_table, region_labels
from glassnet.diagnose.compare import Comparison, compare, glm_baseline
from glassnet.diagnose.explain import (
    ale,
    as_sklearn,
    h_statistic,
    partial_dependence,
    permutation_importance,
)
from glassnet.diagnose.fairness import fairness
from glassnet.diagnose.reliability import ReliabilityResult, conformal_quantile, reliability
from glassnet.diagnose.resilience import ResilienceResult, resilience
from glassnet.diagnose.robustness import RobustnessResult, robustness, worst_case_flip
from glassnet.diagnose.stability import ExplanationStability, explanation_stability
from glassnet.diagnose.suite import SECTIONS, run_diagnostics
from glassnet.diagnose.weakspots import overfit, row_loss, weakspots

__all__ = [
    "SECTIONS", "Comparison", "ExplanationStability", "ReliabilityResult", "ResilienceResult",
    "RobustnessResult",
    "accuracy_table", "ale", "as_sklearn", "compare", "conformal_quantile",
    "explanation_stability", "fairness",
    "glm_baseline", "h_statistic", "overfit", "partial_dependence", "permutation_importance",
    "region_labels", "reliability", "resilience", "robustness", "row_loss",
    "run_diagnostics", "weakspots", "worst_case_flip",
]
