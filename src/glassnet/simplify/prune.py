"""Pruning: keep the largest activation regions and attach every other one to them (F8).

:class:`RegionPruner` keeps the ``n_regions`` regions holding the most training rows
(ties: the region numbering of :func:`glassnet.unwrap`), attaches every other region to
the kept region whose **centre** (mean training row, in units of the feature standard
deviations) is nearest to its own centre, and refits one GLM per kept region on the rows
it now holds (on standardised inputs; coefficients reported in the original units). A new
row whose activation pattern was never seen goes to the kept region whose centre is
nearest to the row itself.

With ``n_regions="cv"`` the count is chosen among ``candidates`` by K-fold
cross-validation on the training rows: for every fold the pruner is fitted on the other
folds exactly as above (the fold's own regions, counts, centres and standardisation) and
scored on the held-out fold. The refits of one fold share their work: the default GLMs are
solved by warm-started Newton steps (see :mod:`glassnet.simplify._glm`).
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from glassnet._params import (
    validate_params,
)
from glassnet.regions import unwrap_in_memory
from glassnet.simplify._common import (
    _PiecewiseGLM,
    group_means,
    single_thread_blas,
)
from glassnet.simplify._cv import (
    PIECEWISE_CONSTRAINTS,
    check_candidates,
    choose_count,
    cv_splitter,
    cv_summary,
    drop_large,
    report_caught,
)
from glassnet.simplify._glm import FoldFitter, Standardizer, progress
from glassnet.simplify._scoring import resolve_scoring

__all__ = ["RegionPruner"]

_DEFAULT_CANDIDATES = (1, 2, 3, 5, 8, 10, 15, 20)


def _nearest(points: np.ndarray, kept: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Index of the nearest kept centre to each point, in units of ``scale`` (first on
    ties). A few kept centres: one distance matrix is cheaper than a search tree, and
    nothing but arrays is stored on the estimator (safe to persist)."""
    P, K = points / scale, kept / scale
    d2 = (P**2).sum(1)[:, None] - 2.0 * P @ K.T + (K**2).sum(1)[None, :]
    return np.argmin(d2, axis=1).astype(np.int64)


def _attach(centres: np.ndarray, k: int, scale: np.ndarray) -> np.ndarray:
    """Kept region (0..k-1) of every region; regions ``0..k-1`` are the kept ones."""
    mapping = np.empty(centres.shape[0], dtype=np.int64)
    mapping[:k] = np.arange(k)
    if centres.shape[0] > k:
        mapping[k:] = _nearest(centres[k:], centres[:k], scale)
    return mapping


class RegionPruner(_PiecewiseGLM):
    """Keep the top-k regions by count, attach the rest to the nearest kept one, refit.

    Parameters
    ----------
    network : ReluNetwork, or a fitted glassnet / scikit-learn MLP / torch model
    n_regions : int or "cv"
        Number of regions kept (default 10; at most the number of regions on ``X``), or
        ``"cv"`` to choose it among ``candidates`` by cross-validation.
    task : {"auto", "classification", "regression"}
    refit : scikit-learn estimator, optional
        Default ``LogisticRegression(C=100.0, solver="newton-cholesky", tol=1e-10,
        max_iter=100)`` / ``LinearRegression()``, fitted on standardised inputs.
    scoring : str or callable, optional
        Used by :meth:`score` and the cross-validation (see :class:`RegionMerger`).
    cv : int or cross-validation splitter, default=5
        Folds for ``n_regions="cv"`` (stratified for classification).
    candidates : sequence of int, optional
        Counts tried by cross-validation (default 1, 2, 3, 5, 8, 10, 15, 20; counts above
        the regions of a training fold are dropped with a warning).
    selection : {"one_se", "best"}, default="one_se"
        The smallest count within one standard error of the best mean CV score, or the
        best mean score (as for :class:`RegionMerger`).
    random_state : int, RandomState or None
        Shuffling of the folds.
    verbose : bool or int
        ``True``: a progress bar over the folds (terminal/notebook) and one line on stderr.

    Attributes
    ----------
    network_, regions_, task_, classes_, n_regions_, region_to_merged_, merged_labels_,
    models_, constant_regions_, coef_, intercept_, x_mean_, x_scale_, n_features_in_,
    feature_names_in_
        As for :class:`RegionMerger`; merged region ``j`` is kept region ``kept_[j]``.
    kept_ : ndarray of shape (``n_regions_``,)
        Indices (in ``regions_``) of the kept regions.
    centres_ : ndarray of shape (``n_regions_``, n_features)
        Mean training row of each kept region (before attaching the others).
    cv_results_ : dict of ndarray
        With ``n_regions="cv"``: as for :class:`RegionMerger` (``n_regions`` holds the
        candidate counts).
    cv_n_regions_ : int
        The count chosen (or the ``n_regions`` given).
    fit_time_ : float

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.neural_network import MLPClassifier
    >>> from glassnet import RegionPruner
    >>> X, y = make_moons(400, noise=0.2, random_state=0)
    >>> mlp = MLPClassifier((16, 16), max_iter=800, random_state=0).fit(X, y)
    >>> RegionPruner(mlp, n_regions=5).fit(X, y).n_regions_
    5
    """

    def __init__(
        self,
        network: Any,
        *,
        n_regions: int | str = 10,
        task: str = "auto",
        refit: Any = None,
        scoring: Any = None,
        cv: Any = 5,
        candidates: Any = None,
        selection: str = "one_se",
        random_state: Any = None,
        verbose: bool | int = False,
    ) -> None:
        self.network = network
        self.n_regions = n_regions
        self.task = task
        self.refit = refit
        self.scoring = scoring
        self.cv = cv
        self.candidates = candidates
        self.selection = selection
        self.random_state = random_state
        self.verbose = verbose

    # Checked by glassnet._params.validate_params first thing in fit (as for RegionMerger);
    # n_regions and candidates against the regions on X, cv against the rows and classes
    # and scoring against the task are checked once the data are known.
    _parameter_constraints: dict[str, list[Any]] = PIECEWISE_CONSTRAINTS

    def fit(self, X: Any, y: Any) -> RegionPruner:
        """Unwrap ``X``, choose the count (``"cv"``), keep the largest regions, refit.

        Returns
        -------
        self
        """
        t0 = time.perf_counter()
        validate_params(self)
        Xa, yv = self._validate_fit_input(X, y)
        # a scorer of the other task is refused now, not by the first call of score()
        resolve_scoring(self.scoring, self.task_, getattr(self, "classes_", None))
        self.regions_ = unwrap_in_memory(self.network_, Xa)
        R = len(self.regions_)
        with single_thread_blas():
            if self.n_regions == "cv":
                self.cv_results_ = self._cross_validate(Xa, yv)
                self.cv_n_regions_ = choose_count(self.cv_results_, self.selection)
            else:
                if hasattr(self, "cv_results_"):
                    del self.cv_results_
                self.cv_n_regions_ = int(self.n_regions)
            k = self.cv_n_regions_
            if k > R:
                raise ValueError(
                    f"n_regions={k} is larger than the {R} activation regions the network has "
                    "on X; ask for at most that many."
                )
            sd = Xa.std(axis=0)
            self._x_scale = np.where(sd > 0, sd, 1.0)
            _, centres = group_means(self.regions_.labels, Xa, R)
            self.kept_ = np.arange(k)  # regions are numbered by decreasing count
            self.centres_ = centres[:k].copy()
            mapping = _attach(centres, k, self._x_scale)
            self.region_to_merged_ = mapping
            self.n_regions_ = k
            self.merged_labels_ = mapping[self.regions_.labels]
            self._fit_models(Xa, yv, self.merged_labels_)
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(f"glassnet: RegionPruner: kept {k} of {R} activation regions in "
                  f"{self.fit_time_:.1f} s", file=sys.stderr)
        return self

    def _cross_validate(self, X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        cand = check_candidates(self.candidates, _DEFAULT_CANDIDATES)
        splits = list(cv_splitter(self.cv, y, self.task_, getattr(self, "classes_", None),
                                  self.random_state).split(X, y))
        fold_regions = [unwrap_in_memory(self.network_, X[train]) for train, _ in splits]
        cand = drop_large(cand, min(len(r) for r in fold_regions))
        self.scoring_name_, scorer = resolve_scoring(
            self.scoring, self.task_, getattr(self, "classes_", None)
        )
        refit = self._refit_estimator()
        scores = np.full((len(splits), cand.size), np.nan)
        caught: list[tuple[str, str]] = []
        bar = progress(len(splits), "prune CV", self.verbose)
        for f, ((train, test), regions) in enumerate(zip(splits, fold_regions, strict=True)):
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")
                scores[f] = self._fold_scores(X, y, train, test, regions, cand, refit, scorer)
            caught.extend((w.category.__name__, str(w.message)) for w in rec)
            bar.update(1)
        bar.close()
        report_caught(caught, "the pruning cross-validation refits")
        return cv_summary(cand, scores, np.broadcast_to(cand, scores.shape).astype(float))

    def _fold_scores(self, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray,
                     regions: Any, cand: np.ndarray, refit: Any, scorer: Any) -> list[float]:
        """Held-out scores of a pruner fitted on ``train`` for every candidate count."""
        Xtr, Xte = X[train], X[test]
        R = len(regions)
        std = Standardizer(Xtr)
        _, centres = group_means(regions.labels, Xtr, R)
        fitter = FoldFitter(std.transform(Xtr), y[train], regions.labels, R, refit,
                            self.task_, self._n_classes)
        Z_test = std.transform(Xte)
        test_reg = regions.assign(Xte)
        unseen = test_reg < 0
        out_scores: list[float] = []
        prev = prev_map = None
        for k in cand.tolist():
            mapping = _attach(centres, k, std.scale_)
            models = fitter.models(mapping, prev, prev_map)
            g_test = mapping[np.maximum(test_reg, 0)]
            if unseen.any():
                g_test[unseen] = _nearest(Xte[unseen], centres[:k], std.scale_)
            out = fitter.predict(models, Z_test, g_test, self.n_targets_)
            out_scores.append(scorer(y[test], out))
            prev, prev_map = models, mapping
        return out_scores

    def _assign_unseen(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "kept_")
        return _nearest(X, self.centres_, self._x_scale)

    def plot_cv(self, ax: Any = None) -> Any:
        """Plot the cross-validation curve (mean score +/- one std error per count)."""
        from glassnet.plotting.simplify import MergeCVDisplay

        return MergeCVDisplay.from_pruner(self, ax=ax)
