"""Merging activation regions into a few, with the number chosen by cross-validation (F8).

How regions are merged
----------------------
1. The network is unwrapped on the training rows (:func:`glassnet.unwrap`).
2. Every region's local linear model (LLM) becomes a feature vector: its coefficients times
   the standard deviation of each feature of ``X`` (the change of the output for a one-std
   move, so features in different units are comparable) and its *level*, the LLM's value
   at the region's centre (the mean of its training rows). The level is taken there, not
   at the origin, because a raw intercept extrapolates the LLM far outside its region and
   depends on where the origin of ``X`` lies. All outputs of the network are concatenated
   (raw outputs, before the link).
3. The regions are clustered by **count-weighted Ward linkage**: each region enters as a
   point mass equal to its number of training rows, and the two clusters ``a``, ``b`` whose
   merge increases the within-cluster sum of squares the least,
   ``n_a n_b / (n_a + n_b) * ||mu_a - mu_b||^2``, are merged first. A region holding 500
   rows therefore weighs as much as 500 one-row regions with its LLM, which is Ward's
   criterion applied to the rows themselves. (scikit-learn's Ward takes no sample weights,
   so the tree is built here, with a heap over the edges of the connectivity graph.)
4. ``connectivity=k`` only lets clusters merge when they touch in a **k-nearest-neighbour
   graph of the region centres** (the mean row of each region, in standardised units,
   made connected by linking its components through their closest centres). Merged
   regions are then contiguous groups of neighbouring regions rather than scattered
   regions that happen to share a slope. ``connectivity=None`` drops the constraint.
5. The tree is cut into ``K`` clusters (by merge order); merged regions holding fewer
   than ``min_count`` training rows are absorbed, one at a time, by the neighbouring
   merged region of least Ward cost. So a merger never has more than ``K`` regions, and
   may have fewer.
6. One GLM is refitted per merged region on its rows (``refit``, default
   ``LogisticRegression`` / ``LinearRegression``). A merged region whose rows hold one
   class only gets a constant model and a warning.

Choosing the number by cross-validation
---------------------------------------
With ``n_regions="cv"`` the rows are split into ``cv`` folds (stratified for
classification). For each fold the regions present in the other folds are clustered
once (their counts and centres from those rows only); every candidate count is a cut of
that one tree, so all candidates are cheap. For each candidate the GLMs are refitted on the
training folds and the held-out fold is scored with ``scoring``. ``cv_results_`` keeps
the mean, standard deviation and standard error of the score per candidate.
``selection="one_se"`` (default) chooses the **smallest count whose mean score is within
one standard error of the best mean** (standard error = sample std over folds /
sqrt(n_folds)); ``selection="best"`` chooses the count with the best mean score (the
smallest one on ties).

New rows
--------
A new row whose activation pattern is one of the training regions goes to that region's
merged region. A row whose pattern was never seen is placed by ``unseen``: for
classification (``"llm"``) it gets its own exact LLM (:func:`glassnet.regions.local_models`),
turned into the same feature vector (its level taken at the row itself, the row being the
centre of what is known of its region), and goes to the merged region whose LLM centroid
(count-weighted mean of its regions' features) is nearest in Euclidean distance; for
regression (``"centre"``) it goes to the merged region of the training region whose centre
is nearest (standardised units), since a linear model applied far from its rows can miss
by any amount. Cross-validation places unseen held-out rows by the same rule.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import Future
from typing import Any

import numpy as np
from joblib import cpu_count
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from glassnet._lazy import lazy_attributes
from glassnet._params import (
    Integer,
    Interval,
    Options,
    validate_params,
)
from glassnet.regions import local_models, unwrap_in_memory
from glassnet.simplify import _merge_cv
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
from glassnet.simplify._glm import Standardizer, progress
from glassnet.simplify._graph import _MAX_FULL_GRAPH
from glassnet.simplify._scoring import resolve_scoring
from glassnet.simplify._ward import (
    Hierarchy,
    NeighbourGraph,
    absorb_small,
    connectivity_edges,
    cut_tree,
    nearest_centroid,
    nearest_row,
    relabel_by_weight,
    weighted_centroids,
    weighted_ward_tree,
)

# The unwrap has one BLAS thread where the folds take every core (see RegionMerger.fit);
# False keeps BLAS's threads for it (the benchmarks compare the two).
SPIN_GUARD = True

__all__ = [
    "RegionMerger",
    "absorb_small",
    "connectivity_edges",
    "cut_tree",
    "llm_features",
    "nearest_centroid",
    "relabel_by_weight",
    "weighted_centroids",
    "weighted_ward_tree",
]


# the merger's Displays moved to glassnet.plotting.simplify (every Display lives in plotting/);
# their old import path resolves on first use, without matplotlib before.
_LAZY = {
    "MergeCVDisplay": "glassnet.plotting.simplify",
    "MergeDendrogramDisplay": "glassnet.plotting.simplify",
}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


# default candidate counts for regression (classification: 1..20); roughly x1.6 steps
_REGRESSION_GRID = (1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, 500, 800, 1300, 2000,
                    3000, 5000)


# ---------------------------------------------------------------------- clustering core
def llm_features(
    coef: np.ndarray, intercept: np.ndarray, scale: np.ndarray, at: np.ndarray
) -> np.ndarray:
    """Feature vectors of LLMs: ``coef * scale`` and the LLM's value at the points ``at``.

    ``coef`` is ``(R, k, d)``, ``intercept`` ``(R, k)``, ``at`` ``(R, d)`` (a region's
    centre, or an unseen row itself). Returns ``(R, k * d + k)``.
    """
    R = coef.shape[0]
    scaled = coef * scale[None, None, :]
    level = intercept + np.einsum("rkd,rd->rk", coef, at)
    return np.concatenate([scaled.reshape(R, -1), level], axis=1)


# ---------------------------------------------------------------------- estimator
class RegionMerger(_PiecewiseGLM):
    """Merge a ReLU network's activation regions into a few, each with one refitted GLM.

    See the module docstring (:mod:`glassnet.simplify.merge`) for the algorithm: count-
    weighted Ward clustering of the regions' local linear models under a k-nearest-
    neighbour constraint on region centres, the count chosen by K-fold cross-validation,
    and the rule placing rows with unseen activation patterns.

    Parameters
    ----------
    network : ReluNetwork, or a fitted glassnet / scikit-learn MLP / torch model
        The network to simplify (anything :func:`glassnet.io.as_network` accepts).
    task : {"auto", "classification", "regression"}
        ``"auto"``: regression for an identity output link, else classification.
    n_regions : "cv" or int
        Number of merged regions, or ``"cv"`` to choose it among ``candidates``.
    cv : int or cross-validation splitter
        Folds for ``n_regions="cv"`` (``StratifiedKFold`` for classification, ``KFold``
        for regression, shuffled with ``random_state``), or any object with ``split``.
    scoring : str or callable, optional
        Greater is better. Classification: ``"roc_auc"`` (default; one-vs-rest for several
        classes), ``"neg_log_loss"``, ``"accuracy"``; regression:
        ``"neg_root_mean_squared_error"`` (default), ``"neg_mean_squared_error"``,
        ``"neg_mean_absolute_error"``, ``"r2"``; or ``score(y_true, y_score)`` with the
        positive-class probability (binary), the probability matrix (multi-class), or the
        predictions (regression).
    candidates : sequence of int, optional
        Counts tried by cross-validation. Default: 1..20 for classification; for regression
        1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, ... up to the smaller of the regions
        in a training fold and ``max(20, 4 * n_fold_rows / min_count)`` (a linear model per
        merged region follows a curved target only with many of them). Given counts above
        the number of regions seen in a training fold are dropped with a warning.
    selection : {"one_se", "best"}
        How the count is chosen from ``cv_results_`` (see the module docstring).
    min_count : int, optional
        Merged regions with fewer training rows are absorbed by their nearest neighbour.
        Default ``5 * (n_features + 1)``, five rows per GLM parameter.
    connectivity : int or None
        Neighbours per region centre in the graph constraining merges (default 5);
        ``None`` for no constraint (at most 3000 regions).
    unseen : {"auto", "centre", "llm"}
        Where a row whose activation pattern no training row had goes. ``"llm"``: the merged
        region whose LLM centroid is nearest to the row's own LLM features; ``"centre"``: the
        merged region of the training region whose centre (mean row, standardised units) is
        nearest to the row. ``"auto"`` (default): ``"centre"`` for regression (a merged
        region's linear model chosen by slope alone extrapolated far from its rows:
        BikeSharing held-out RMSE 360 on such rows), ``"llm"`` for classification.
    cv_tree : {"fold", "full"}
        ``"fold"`` (default): every cross-validation fold clusters the regions of its own
        training rows (one Ward tree per fold). ``"full"``: every fold cuts the one tree of
        all training rows (built from ``X`` and the network, never ``y``), restricted to the
        regions of its training rows; 5 trees fewer, but the held-out rows' ``X`` shapes the
        tree, and the choice can differ (TaiwanCredit: 5 regions instead of 3).
    refit : scikit-learn estimator, optional
        Cloned and fitted per merged region. Default
        ``LogisticRegression(C=100.0, solver="newton-cholesky", tol=1e-10, max_iter=100)``
        (a weak ridge that keeps estimates finite in nearly separable merged regions;
        ``C=1`` visibly shrinks steep local slopes; Newton to the optimum, as the
        cross-validation's refits) or ``LinearRegression()``. For an L1 fit pass for example
        ``LogisticRegression(l1_ratio=1.0, solver="saga", C=0.5)`` or ``Lasso``.
    random_state : int, RandomState or None
        Shuffling of the cross-validation folds.
    n_jobs : int or None
        How the cross-validation folds run. ``None`` (default): in threads of this process,
        one per core up to the folds, when ``refit`` is the default model (its Newton steps
        and the compiled tree loop release the GIL; CoCircles 100k rows on a 2-core VM: median
        1.25x faster in wall time than one thread, for 1.4x the CPU time); one after another
        for any other ``refit``. ``1``: one after another. ``k > 1`` or ``-1`` (every core):
        in ``k`` worker processes (joblib), each receiving a copy of the rows -- for a custom
        ``refit`` on a machine with idle cores. The final refits of the merged regions run in
        threads as the folds do with ``n_jobs=None``, one after another otherwise.
    verbose : bool or int
        ``True`` shows a progress bar over the folds (on a terminal or in a notebook) and
        prints one line with the result and the fit time to stderr.

    Attributes
    ----------
    network_ : ReluNetwork
    regions_ : Regions
        The unwrapped training rows.
    task_ : str
    classes_ : ndarray
        Class labels (classification).
    n_regions_ : int
        Number of merged regions (at most the requested or chosen count).
    cv_n_regions_ : int
        The count chosen by cross-validation (or the ``n_regions`` given).
    cv_results_ : dict of ndarray
        With ``n_regions="cv"``: ``n_regions``, ``mean_test_score``, ``std_test_score``
        (over folds, ddof 0), ``sem_test_score`` (ddof 1 / sqrt(folds)),
        ``split<i>_test_score``, ``mean_n_merged`` (regions left after ``min_count``),
        ``rank_test_score``.
    unseen_ : str
        The rule placing rows with unseen patterns (``"centre"`` or ``"llm"``).
    region_centres_ : ndarray of shape (n_activation_regions, n_features)
        Mean training row of every activation region (original units).
    region_to_merged_ : ndarray of shape (n_activation_regions,)
        Merged region of each activation region of ``regions_``.
    merged_labels_ : ndarray of shape (n_samples,)
        Merged region of every training row.
    models_ : list
        The fitted GLM of each merged region (a :class:`ConstantModel` where only one class
        was present), fitted on the standardised inputs ``(X - x_mean_) / x_scale_``.
    x_mean_, x_scale_ : ndarray of shape (n_features,)
        The training rows' mean and standard deviation (1 for a constant column) used to
        standardise the refits.
    fit_time_ : float
        Seconds taken by ``fit``.
    constant_regions_ : ndarray
        Merged regions predicting a constant.
    coef_ : ndarray of shape (``n_regions_``, n_outputs, n_features)
    intercept_ : ndarray of shape (``n_regions_``, n_outputs)
        Each merged region's GLM on the link scale (log-odds of ``classes_[1]`` for binary
        classification; one row per class for multi-class), in the ORIGINAL units of ``X``:
        the standardised fit folded back (``coef / x_scale_``, intercept adjusted), so
        ``X @ coef_[g].T + intercept_[g]`` is the region's linear predictor.
    centroids_ : ndarray of shape (``n_regions_``, n_llm_features)
        Count-weighted mean LLM feature vector of each merged region.
    children_, distances_ : ndarray
        The Ward tree of all training regions (see :func:`weighted_ward_tree`).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` was a DataFrame.

    Examples
    --------
    >>> from sklearn.datasets import make_circles
    >>> from sklearn.neural_network import MLPClassifier
    >>> from glassnet import RegionMerger
    >>> X, y = make_circles(n_samples=600, noise=0.1, factor=0.6, random_state=0)
    >>> mlp = MLPClassifier((20, 20), max_iter=600, random_state=0).fit(X, y)
    >>> merger = RegionMerger(mlp, random_state=0).fit(X, y)
    >>> merger.n_regions_ <= 20
    True
    """

    def __init__(
        self,
        network: Any,
        *,
        task: str = "auto",
        n_regions: int | str = "cv",
        cv: Any = 5,
        scoring: Any = None,
        candidates: Any = None,
        selection: str = "one_se",
        min_count: int | None = None,
        connectivity: int | None = 5,
        unseen: str = "auto",
        cv_tree: str = "fold",
        refit: Any = None,
        random_state: Any = None,
        n_jobs: int | None = None,
        verbose: bool | int = False,
    ) -> None:
        self.network = network
        self.task = task
        self.n_regions = n_regions
        self.cv = cv
        self.scoring = scoring
        self.candidates = candidates
        self.selection = selection
        self.min_count = min_count
        self.connectivity = connectivity
        self.unseen = unseen
        self.cv_tree = cv_tree
        self.refit = refit
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -------------------------------------------------------------- validation
    # What each parameter may be, checked by glassnet._params.validate_params first thing in
    # fit; what depends on the data (n_regions or candidates vs the regions on X, cv vs the
    # rows and classes, scoring vs the task) is checked once the data are known.
    _parameter_constraints: dict[str, list[Any]] = {
        **PIECEWISE_CONSTRAINTS,
        "min_count": [None, Integer(1)],
        "connectivity": [None, Integer(1)],
        "unseen": [Options("auto", "centre", "llm")],
        "cv_tree": [Options("full", "fold")],
        "n_jobs": [None, Interval("integer", None, -1), Integer(1)],
    }

    def _min_count(self, n_features: int) -> float:
        """``min_count``, or its default of 5 rows per GLM coefficient."""
        return float(5 * (n_features + 1) if self.min_count is None else self.min_count)

    def _candidates(self, max_ok: int, n_rows: int, min_count: float) -> np.ndarray:
        """The counts to try, without those above ``max_ok`` (regions in a training fold)."""
        if self.candidates is None and self.task_ == "regression":
            # a linear model per merged region follows a curved target only with many
            # regions (BikeSharing: held-out RMSE still falling at 300), so the grid runs up
            # to four times the merged regions min_count allows (the cut is cleaned to at
            # most n_rows / min_count): 1, 2, 3, 5, 8, ... as the data allow.
            cap = min(max_ok, max(20, int(4 * n_rows / min_count)))
            grid = np.asarray(_REGRESSION_GRID, dtype=np.int64)
            return grid[grid <= cap]
        return drop_large(check_candidates(self.candidates, np.arange(1, 21)), max_ok)

    def _splitter(self, y: np.ndarray) -> Any:
        return cv_splitter(self.cv, y, self.task_, getattr(self, "classes_", None),
                           self.random_state)

    # -------------------------------------------------------------- fit
    def fit(self, X: Any, y: Any) -> RegionMerger:
        """Unwrap, cluster the regions, choose the count (if ``"cv"``) and refit the GLMs.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels (classification) or numeric targets.

        Returns
        -------
        self
        """
        validate_params(self)
        Xa, yv = self._validate_fit_input(X, y)
        min_count = self._min_count(Xa.shape[1])
        t0 = time.perf_counter()
        # The unwrap's forward pass is large matrix products: BLAS's threads help it (100k
        # CoCircles rows: 0.033 s against 0.045 s with one thread). But OpenBLAS's threads
        # keep spinning for about 0.1 s after their last product, on the cores the folds
        # then need: where the folds take every core, the unwrap has one BLAS thread (the
        # whole fit 2-core: 0.149 s against 0.157 s, and 0.20 against 0.29 CPU seconds)
        # and runs its forward pass's steps in threads of its own, which end with it.
        cores = cpu_count() or 1
        if SPIN_GUARD and self.n_regions == "cv" and _merge_cv.fold_threads(
                self.n_jobs, self._splitter(yv).get_n_splits(Xa, yv), self._refit_estimator(),
                self.task_, self._n_classes) >= cores:
            # the forward pass's steps in threads instead (the same result bit for bit)
            with single_thread_blas():
                self.regions_ = unwrap_in_memory(self.network_, Xa, _threads=cores)
        else:
            self.regions_ = unwrap_in_memory(self.network_, Xa)
        # many small GLM fits: multi-threaded BLAS only adds overhead (10x on busy machines)
        with single_thread_blas():
            return self._fit(Xa, yv, min_count, self.connectivity, t0)

    def _fit(
        self, Xa: np.ndarray, yv: np.ndarray, min_count: float, connectivity: int | None,
        t0: float,
    ) -> RegionMerger:
        R = len(self.regions_)
        labels = self.regions_.labels
        self._std = Standardizer(Xa)
        self._x_center, self._x_scale = self._std.mean_, self._std.scale_
        _, region_centres = group_means(labels, Xa, R)
        self.region_centres_ = region_centres
        self.unseen_ = self._unseen_rule()
        F_all = llm_features(
            self.regions_.coef, self.regions_.intercept, self._x_scale, region_centres
        )
        if connectivity is None and R > _MAX_FULL_GRAPH:
            raise ValueError(
                f"connectivity=None clusters all {R} regions on a complete graph, which is "
                f"limited to {_MAX_FULL_GRAPH} regions; pass connectivity=k (an integer) instead."
            )
        # one neighbour search (X only, never y) serves the final tree and every fold's tree;
        # with threads for the folds, it runs in one while the folds are drawn
        centres = self._std.transform(region_centres)
        graph = _merge_cv.pending(
            lambda: NeighbourGraph(centres, connectivity),
            background=self.n_regions == "cv" and _merge_cv.fold_threads(
                self.n_jobs, 2, self._refit_estimator(), self.task_, self._n_classes) > 1)
        scoring_name, scorer = resolve_scoring(
            self.scoring, self.task_, getattr(self, "classes_", None)
        )
        tree = None
        if self.n_regions == "cv":
            self.cv_results_, tree = self._cross_validate(
                Xa, yv, labels, F_all, R, min_count, graph, scorer
            )
            self.scoring_name_ = scoring_name
            self.cv_n_regions_ = self._select(self.cv_results_)
        else:
            if hasattr(self, "cv_results_"):
                del self.cv_results_
            if self.n_regions > R:
                raise ValueError(
                    f"n_regions={self.n_regions} is larger than the {R} activation regions the "
                    "network has on X; ask for at most that many."
                )
            self.cv_n_regions_ = int(self.n_regions)
        if tree is None:
            tree = Hierarchy(labels, F_all, R, graph.result())
        self.children_, self.distances_ = tree.children, tree.distances
        mapping, centroids = tree.groups(self.cv_n_regions_, min_count)
        self.region_to_merged_ = mapping
        self.centroids_ = centroids
        self.n_regions_ = int(centroids.shape[0])
        self.merged_labels_ = mapping[labels]
        self._fit_models(Xa, yv, self.merged_labels_, self._std,
                         _merge_cv.fold_threads(self.n_jobs, self.n_regions_,
                                                self._refit_estimator(), self.task_,
                                                self._n_classes))
        self.fit_time_ = time.perf_counter() - t0
        if self.verbose:
            print(f"glassnet: RegionMerger: {R} activation regions -> {self.n_regions_} merged "
                  f"regions in {self.fit_time_:.1f} s", file=sys.stderr)
        return self

    def _cross_validate(
        self,
        X: np.ndarray,
        y: np.ndarray,
        labels: np.ndarray,
        F_all: np.ndarray,
        R: int,
        min_count: float,
        pending_graph: Future,
        scorer: Any,
    ) -> tuple[dict[str, np.ndarray], Hierarchy | None]:
        """The CV table, and the tree of all rows where it was built here (``cv_tree="full"``,
        or in the folds' thread pool; else None: the caller builds it)."""
        splitter = self._splitter(y)
        splits = list(splitter.split(X, y))
        if isinstance(splitter, (KFold, StratifiedKFold)):
            # K folds partition the rows: a region has a training row in a fold unless all
            # its rows are held out (counted on the held-out rows, a quarter of the others)
            total = np.bincount(labels, minlength=R)
            max_ok = min(int(np.count_nonzero(total - np.bincount(labels[test], minlength=R)))
                         for _, test in splits)
        else:  # any other splitter: its training rows counted
            max_ok = min(int(np.count_nonzero(np.bincount(labels[train], minlength=R)))
                         for train, _ in splits)
        n_train = min(train.size for train, _ in splits)
        cand = self._candidates(max_ok, n_train, min_count)
        refit = self._refit_estimator()
        n_splits = len(splits)
        threads = _merge_cv.fold_threads(self.n_jobs, n_splits, refit, self.task_,
                                         self._n_classes)
        full_tree = None
        if self.cv_tree == "full":  # built once, from X and the network only
            full_tree = Hierarchy(labels, F_all, R, pending_graph.result())
        # folds in threads take the pending search and wait for it only when they build their
        # tree (their rows are gathered and standardised meanwhile); elsewhere it is done now
        graph: Any = pending_graph if threads > 1 else pending_graph.result()
        # read once for every fold (scikit-learn's get_params goes through inspect.signature)
        params = refit.get_params()
        job = dict(X=X, y=y, labels=labels, F_all=F_all, R=R, graph=graph,
                   graph_scaler=self._std, cand=cand, unseen_rule=self.unseen_,
                   full_tree=full_tree,
                   min_count=min_count, refit=refit, refit_params=params, task=self.task_,
                   n_classes=self._n_classes, n_targets=self.n_targets_, scorer=scorer)
        bar = progress(n_splits, "merge CV", self.verbose)
        caught: list[tuple[str, str]] = []
        tree = full_tree
        if threads > 1:
            # the final tree (X and the network only) is built in the pool, beside the folds
            final = None if tree is not None else (
                lambda: Hierarchy(labels, F_all, R, pending_graph.result()))
            results, built = _merge_cv.folds_in_threads(splits, job, threads, bar, also=final)
            tree = tree if built is None else built
        elif self.n_jobs in (None, 1):
            results = []
            for train, test in splits:
                results.append(_merge_cv.cv_fold(train=train, test=test, **job))
                bar.update(1)
        else:
            from joblib import Parallel, delayed

            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_merge_cv.cv_fold)(train=train, test=test, **job) for train, test in splits
            )
            bar.update(n_splits)
        bar.close()
        scores = np.array([r[0] for r in results])
        merged_n = np.array([r[1] for r in results])
        for r in results:
            caught.extend(r[2])
        report_caught(caught, "the cross-validation refits")
        return cv_summary(cand, scores, merged_n), tree

    def _select(self, res: dict[str, np.ndarray]) -> int:
        return choose_count(res, self.selection)

    # -------------------------------------------------------------- new rows
    def _unseen_rule(self) -> str:
        if self.unseen != "auto":
            return self.unseen
        return "centre" if self.task_ == "regression" else "llm"

    def _assign_unseen(self, X: np.ndarray) -> np.ndarray:
        if getattr(self, "unseen_", "llm") == "centre":
            j = nearest_row(self._standardized(X), self._standardized(self.region_centres_))
            return self.region_to_merged_[j]
        coef, intercept = local_models(self.network_, X)
        F = llm_features(coef, intercept, self._x_scale, X)
        return nearest_centroid(F, self.centroids_)

    # -------------------------------------------------------------- plots
    def plot_cv(self, ax: Any = None) -> Any:
        """Plot the cross-validation curve (mean score +/- one std error per count)."""
        from glassnet.plotting.simplify import MergeCVDisplay

        return MergeCVDisplay.from_merger(self, ax=ax)

    def plot_dendrogram(self, ax: Any = None, *, p: int = 30) -> Any:
        """Plot the top ``p`` clusters of the Ward tree, coloured by merged region."""
        from glassnet.plotting.simplify import MergeDendrogramDisplay

        return MergeDendrogramDisplay.from_merger(self, p=p, ax=ax)

    def linkage_matrix(self) -> np.ndarray:
        """The Ward tree in SciPy's linkage format ``(R - 1, 4)``.

        Heights are made non-decreasing (a running maximum): under a connectivity
        constraint a later merge can be cheaper than an earlier one, which SciPy's
        dendrogram cannot draw.
        """
        check_is_fitted(self, "children_")
        R = self.children_.shape[0] + 1
        size = np.ones(2 * R - 1)
        for m, (a, b) in enumerate(self.children_):
            size[R + m] = size[a] + size[b]
        heights = np.maximum.accumulate(self.distances_) if R > 1 else self.distances_
        return np.column_stack([self.children_.astype(np.float64), heights, size[R:]])
