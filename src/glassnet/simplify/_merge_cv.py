"""Cross-validation folds of :class:`glassnet.RegionMerger`: one fold's held-out scores for
every candidate count (one Ward tree, cached refits), and how the folds run (threads of this
process by default, see :func:`fold_threads`)."""

from __future__ import annotations

import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from joblib import cpu_count

from glassnet.simplify._common import group_means
from glassnet.simplify._glm import FoldFitter, Standardizer, fast_kind
from glassnet.simplify._ward import (
    FoldCut,
    Hierarchy,
    NeighbourGraph,
    nearest_centroid,
    nearest_row,
    weighted_centroids,
)

__all__ = ["cv_fold", "cv_fold_scores", "fold_threads", "folds_in_threads", "pending"]

# predict again only the held-out rows whose model changed since the last count (see
# cv_fold_scores); False predicts every row at every count (the tests compare the two)
INCREMENTAL_PREDICTIONS = True


def _notes(caught: list) -> list[tuple[str, str]]:
    """Recorded warnings as (category name, message): what a fold reports, picklable."""
    return [(w.category.__name__, str(w.message)) for w in caught]


def cv_fold(**job: Any) -> tuple[list[float], list[int], list[tuple[str, str]]]:
    """:func:`cv_fold_scores` with the warnings it raised (category name, message), so that
    worker processes report them too."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores, merged_n = cv_fold_scores(**job)
    return scores, merged_n, _notes(caught)


def cv_fold_scores(
    *, X: np.ndarray, y: np.ndarray, labels: np.ndarray, F_all: np.ndarray, R: int,
    graph: NeighbourGraph | Future, graph_scaler: Standardizer, train: np.ndarray, test: np.ndarray,
    cand: np.ndarray, unseen_rule: str, full_tree: Hierarchy | None,
    min_count: float, refit: Any, task: str, n_classes: int, n_targets: int, scorer: Any,
    refit_params: dict | None = None,
) -> tuple[list[float], list[int]]:
    """Held-out scores of every candidate count on one fold (one tree, cached refits).

    The refits see the fold's training rows standardised with their own mean and standard
    deviation, as a merger fitted on them would. Returns the scores and the merged-region
    counts left after ``min_count``. ``graph`` may be a future of it (see :func:`pending`),
    waited for once the fold's rows are ready. Safe in threads: it changes no global state (the
    caller records the warnings).
    """
    # each fold's rows gathered once (np.take: 10x faster than X[train] on (n, 2) rows)
    X_train, X_test = np.take(X, train, axis=0), np.take(X, test, axis=0)
    lab_train, y_test = labels[train], y[test]
    std = Standardizer(X_train)
    Z_train, Z_test = std.transform(X_train), std.transform(X_test)
    # the fold's own region centres (its training rows only): they rank the neighbours of
    # a fold tree and place unseen held-out rows by the centre rule
    need_centres = full_tree is None or unseen_rule == "centre"
    fold_centres = group_means(lab_train, X_train, R)[1] if need_centres else None
    if full_tree is not None:
        tree: Hierarchy | FoldCut = FoldCut(full_tree, lab_train)
    else:
        if isinstance(graph, Future):
            graph = graph.result()
        tree = Hierarchy(lab_train, F_all, R, graph, graph_scaler.transform(fold_centres))
    pos = np.full(R, -1, dtype=np.int64)
    pos[tree.present] = np.arange(tree.n_leaves)
    fitter = FoldFitter(Z_train, y[train], pos[lab_train], tree.n_leaves, refit,
                        task, n_classes, leaf_order=tree.leaf_order(),
                        refit_params=refit_params)
    test_leaf = pos[labels[test]]
    unseen = test_leaf < 0
    F_unseen = F_all[labels[test][unseen]]
    if unseen_rule == "centre" and unseen.any():
        # the nearest training region does not depend on the count: placed once
        test_leaf[unseen] = nearest_row(
            Z_test[unseen], std.transform(fold_centres[tree.present]))
        unseen[:] = False
    scores: list[float] = []
    merged_n: list[int] = []
    prev = prev_lab = None
    out = row_model = None
    # a scorer that scores many vectors at once (the default AUC) gets every count's
    # positive-class probabilities after the loop: one call instead of one per count
    rows_scorer = getattr(scorer, "rows", None)
    positive = np.empty((len(cand), y_test.size)) if rows_scorer is not None else None
    for i, K in enumerate(cand.tolist()):
        lab = tree.leaf_labels(K, min_count)
        models = fitter.models(lab, prev, prev_lab)
        g_test = lab[np.maximum(test_leaf, 0)]
        if unseen.any():
            centroids = weighted_centroids(lab, tree.weights, tree.features)
            g_test[unseen] = nearest_centroid(F_unseen, centroids)
        # Each held-out row's model, by identity (the fitter's cache holds every model of the
        # fold, so no identity is reused): from one count to the next only the rows of the
        # split region (and unseen rows placed elsewhere) change model, and only they are
        # predicted again. The default models predict row by row, with the same arithmetic
        # in a subset, so the output equals a full prediction; any other refit predicts all.
        now = np.array([id(m) for m in models], dtype=np.int64)[g_test]
        if out is None or fitter.kind is None or not INCREMENTAL_PREDICTIONS:
            out = fitter.predict(models, Z_test, g_test, n_targets)
        else:
            rows = np.flatnonzero(now != row_model)
            if rows.size:
                out[rows] = fitter.predict(models, np.take(Z_test, rows, axis=0),
                                           g_test[rows], n_targets)
        row_model = now
        if positive is not None:
            positive[i] = out[:, 1]
        else:
            scores.append(scorer(y_test, out))
        merged_n.append(len(models))
        prev, prev_lab = models, lab
    if positive is not None:
        scores = rows_scorer(y_test, positive).tolist()
    return scores, merged_n


def pending(fn: Any, background: bool) -> Future:
    """``fn()`` as a future: run in a thread of its own when ``background`` (while the
    caller goes on), else run now (its exception raised now)."""
    if background:
        pool = ThreadPoolExecutor(max_workers=1)
        future = pool.submit(fn)
        pool.shutdown(wait=False)  # the thread ends with fn
        return future
    future: Future = Future()
    future.set_result(fn())
    return future


def fold_threads(n_jobs: int | None, n_splits: int, refit: Any, task: str,
                 n_classes: int) -> int:
    """Threads for the folds (``n_splits`` of them), or for the final refits of that many
    merged regions: with ``n_jobs=None`` and a default refit (solved by NumPy and the
    compiled tree loop, which release the GIL), one per core up to ``n_splits``; else 1
    (``n_jobs=1``; any other refit, whose solver may hold the GIL or change global state; or
    ``n_jobs > 1``, which means worker processes)."""
    if n_jobs is not None or fast_kind(refit, task, n_classes) is None:
        return 1
    return max(1, min(n_splits, cpu_count() or 1))  # joblib's: CPU affinity and quotas


def folds_in_threads(
    splits: list, job: dict[str, Any], threads: int, bar: Any, also: Any = None,
) -> tuple[list[tuple[list[float], list[int], list[tuple[str, str]]]], Any]:
    """Every fold's :func:`cv_fold_scores` in a pool of threads, the warnings recorded once
    around the pool (``warnings.catch_warnings`` is process-wide: entered in several threads
    at once, it could restore the wrong filters).

    ``also`` (a callable without arguments, or None) runs in the pool after the folds are
    queued: with more folds than threads, one thread has a fold less to run (5 folds on 2
    threads), and the merger's final tree fills that gap. Returns the folds' results and
    what ``also`` returned (None without it).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ThreadPoolExecutor(max_workers=threads) as pool:
            futures = [pool.submit(cv_fold_scores, train=train, test=test, **job)
                       for train, test in splits]
            extra = pool.submit(also) if also is not None else None
            out = []
            for f in futures:
                out.append(f.result())
                bar.update(1)
            also_result = extra.result() if extra is not None else None
    notes = _notes(caught)
    # the warnings belong to no fold in particular: all reported with the first
    return [(s, n, notes if i == 0 else []) for i, (s, n) in enumerate(out)], also_result
