"""The merger's candidate counts stop at the regions every training fold holds.

The count of regions present in the smallest training fold is computed from the held-out rows
where the folds partition the rows (K folds), and from the training rows for any other
splitter; both are checked here against a direct count with scikit-learn's own splitters.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.model_selection import ShuffleSplit, StratifiedKFold

from glassnet import RegionMerger, unwrap
from tests.conftest import random_network


def _few_regions_data(seed: int):
    rng = np.random.default_rng(seed)
    net = random_network(rng, 2, (4,), 1)
    X = rng.normal(size=(400, 2))
    labels = unwrap(net, X).labels
    # a region with only two rows: in some fold both are held out (or one fold drops it)
    rare = np.flatnonzero(np.bincount(labels) >= 2)[0]
    keep = np.concatenate([np.flatnonzero(labels != rare), np.flatnonzero(labels == rare)[:2]])
    X = X[np.sort(keep)]
    z = net.forward(X)[:, 0]
    y = (z + 0.3 * rng.normal(size=len(X)) > np.median(z)).astype(int)
    return net, X, y


def _fewest_training_regions(net, X, y, splits) -> int:
    labels = unwrap(net, X).labels
    return min(np.unique(labels[train]).size for train, _ in splits)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("cv", ["kfold", "shuffle"])
def test_candidates_stop_at_the_regions_of_the_smallest_training_fold(seed, cv):
    net, X, y = _few_regions_data(seed)
    if cv == "kfold":
        splitter = 5
        oracle = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    else:
        splitter = ShuffleSplit(n_splits=4, train_size=0.3, test_size=0.2, random_state=seed)
        oracle = splitter.split(X, y)
    max_ok = _fewest_training_regions(net, X, y, list(oracle))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        m = RegionMerger(net, task="classification", cv=splitter, random_state=0,
                         n_jobs=1).fit(X, y)
    np.testing.assert_array_equal(m.cv_results_["n_regions"], np.arange(1, min(20, max_ok) + 1))
