"""scikit-learn's estimator checks on RegionMerger, RegionPruner and MixtureOfLinearModels.

All three wrap a FIXED network (issue 13), so the fixture is a network reading 3 features
(the count most checks use) with an identity output: the checks see regressors (the mixture
takes its task from the network, and scikit-learn's checks give a regressor continuous
targets). The simplifiers get n_regions=1 (a fixed count, no cross-validation); the mixture a
fixed n_epics, few clusters and few perturbed points, so the whole run stays short. The checks
that fit on another feature count, or that expect scikit-learn's exact wording of an error
glassnet words itself, are expected failures, each with its reason below (the same list for
the three); every other check runs.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet import MixtureOfLinearModels, ReluNetwork
from glassnet.simplify import RegionMerger, RegionPruner


def _fixed_network() -> ReluNetwork:
    rng = np.random.default_rng(0)
    return ReluNetwork([rng.normal(size=(6, 3)), rng.normal(size=(1, 6))],
                       [0.1 * rng.normal(size=6), np.zeros(1)])


_OTHER_COUNT = ("the fixed network reads 3 features and this check fits on another count, "
                "which glassnet refuses with a ValueError naming both counts")
_WORDING = "glassnet raises its own clear error here, not in scikit-learn's wording"
_EXPECTED = {
    **dict.fromkeys([
        "check_estimators_overwrite_params", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_estimators_dtypes", "check_dtype_object",
        "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
    ], _OTHER_COUNT),
    **dict.fromkeys([
        "check_complex_data", "check_estimators_empty_data_messages", "check_fit2d_1sample",
        "check_fit2d_1feature", "check_fit2d_predict1d",
    ], _WORDING),
}


def _expected_failed_checks(estimator) -> dict[str, str]:
    return _EXPECTED


@parametrize_with_checks(
    [RegionMerger(_fixed_network(), n_regions=1, min_count=1),
     RegionPruner(_fixed_network(), n_regions=1),
     MixtureOfLinearModels(_fixed_network(), n_layer_clusters=2, n_epics=2, n_perturb=5,
                           random_state=0)],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
