"""ROC AUC of many score vectors at once: per group of rows, and per row of a score matrix.

The region table needs an AUC for every region twice over: inside each region (rows grouped
by region) and of each region's local model applied to all rows (one score vector per
region, one label vector). Both are the Mann-Whitney statistic
``AUC = (sum of the positive rows' ranks - n1 (n1 + 1) / 2) / (n1 n0)``, tied scores taking
their average rank, which is what :func:`sklearn.metrics.roc_auc_score` computes; the tests
check these against it.

:func:`auc_rows` avoids an index sort (``argsort`` then gathering labels in sorted order),
which costs about twice a plain sort: every float64 score is mapped to a 64-bit integer with
the same order, its last bit is replaced by the row's label, and the integers are sorted in
place. The sorted keys then carry both the order and the labels. The one thing the lost bit
can hide is whether a positive and a negative row whose scores agree in all other bits are
tied or one ulp apart; such rows (found in the sorted keys as neighbours ``2h`` and
``2h + 1``) are recomputed with the exact index sort, so every result is exact. Building
the keys takes five vectorised passes and no copy of the scores.

This module imports nothing from glassnet, so every floor of the package may import it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auc_rows", "grouped_auc", "grouped_auc_exact"]

# the magnitude bits of a float64 without its last bit (which will carry the label)
_MAGNITUDE_EVEN = np.int64(0x7FFF_FFFF_FFFF_FFFE)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _label_keys(scores: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Signed 64-bit keys ``2 h + label``, ``h`` non-decreasing in the float64 score.

    For a float with magnitude bits ``M`` (its bits without the sign), ``h`` is ``M // 2``
    for positive floats and ``-(M // 2)`` for negative ones: order-preserving, both zeros
    give 0, and only floats whose magnitudes differ in the last bit share an ``h``.
    """
    bits = scores.view(np.int64)
    sign = bits >> 63  # 0 for positive floats, -1 for negative ones
    key = bits & _MAGNITUDE_EVEN
    key ^= sign  # with the subtraction below: two's-complement negation where sign is -1
    key -= sign
    key |= pos.astype(np.int64)
    return key


def auc_rows(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """ROC AUC of every row of ``scores`` against one label vector.

    Parameters
    ----------
    scores : ndarray of shape (n_vectors, n_samples)
        Finite float64 scores; row ``g`` is one scoring of all samples.
    positive : ndarray of shape (n_samples,)
        True (or 1) for the positive samples.

    Returns
    -------
    ndarray of shape (n_vectors,)
        The AUC of each row, equal to ``roc_auc_score(positive, scores[g])``; NaN for every
        row when ``positive`` holds one class (or there are no samples).
    """
    scores = np.asarray(scores, dtype=np.float64)
    pos = np.asarray(positive).astype(bool)
    G, m = scores.shape
    n1 = float(np.count_nonzero(pos))
    n0 = m - n1
    if n1 == 0 or n0 == 0 or G == 0:
        return np.full(G, np.nan)
    key = _label_keys(np.ascontiguousarray(scores), pos)
    key.sort(axis=1)
    # rank sum of the positives: a positive sorts after negatives with the same h, which
    # is exact unless their scores differ in the lost bit only or are tied (fixed below)
    pos_rank = (key & 1) @ np.arange(1, m + 1, dtype=np.int64)
    auc = (pos_rank - n1 * (n1 + 1) / 2.0) / (n1 * n0)
    row, col = np.divmod(np.flatnonzero((key[:, 1:] - key[:, :-1]).ravel() == 1), m - 1)
    doubtful = np.unique(row[(key[row, col] & 1) == 0])
    if doubtful.size:
        auc[doubtful] = _auc_rows_argsort(scores[doubtful], pos, n1, n0)
    return auc


def _auc_rows_argsort(scores: np.ndarray, pos: np.ndarray, n1: float, n0: float) -> np.ndarray:
    """:func:`auc_rows` by an index sort with average ranks for ties (exact, slower)."""
    G, m = scores.shape
    order = np.argsort(scores, axis=1)  # tied scores share a rank: their order is irrelevant
    s = np.take_along_axis(scores, order, axis=1).ravel()
    lab = pos.astype(np.float64)[order].ravel()
    # runs of equal scores inside one row; a row start always opens a run
    new_run = np.empty(m * G, dtype=bool)
    new_run[0] = True
    np.not_equal(s[1:], s[:-1], out=new_run[1:])
    new_run[::m] = True
    run = np.cumsum(new_run) - 1
    rank = np.tile(np.arange(1, m + 1, dtype=np.float64), G)
    avg = np.bincount(run, weights=rank) / np.bincount(run)
    pos_rank = (avg[run] * lab).reshape(G, m).sum(axis=1)
    return (pos_rank - n1 * (n1 + 1) / 2.0) / (n1 * n0)


def grouped_auc(
    groups: np.ndarray, score: np.ndarray, positive: np.ndarray, n_groups: int
) -> np.ndarray:
    """ROC AUC of ``score`` for ``positive`` within every group of rows.

    The rows are ordered by the label-carrying keys of :func:`auc_rows` (one sort) and then
    by group (a stable sort of the group numbers: a radix sort when they fit 16 bits); groups
    whose keys leave a tie or a one-ulp gap across the classes in doubt are recomputed
    exactly by :func:`grouped_auc_exact`.

    Parameters
    ----------
    groups : ndarray of int of shape (n_samples,)
        Group of every row, in ``0..n_groups-1``.
    score : ndarray of shape (n_samples,)
        Finite float64 scores.
    positive : ndarray of shape (n_samples,)
        True (or 1) for the positive rows.
    n_groups : int
        Number of groups (the length of the result).

    Returns
    -------
    ndarray of shape (n_groups,)
        Each group's AUC (ties take their average rank, as in ``roc_auc_score``); NaN for
        groups without both classes.
    """
    groups = np.asarray(groups, dtype=np.int64)
    score = np.ascontiguousarray(score, dtype=np.float64)
    pos = np.asarray(positive).astype(bool)
    n = groups.shape[0]
    counts = np.bincount(groups, minlength=n_groups)
    n1 = np.bincount(groups, weights=pos, minlength=n_groups)
    n0 = counts - n1
    if n == 0:
        return np.full(n_groups, np.nan)
    key = _label_keys(score, pos)
    order = np.argsort(key)
    small = np.uint16 if n_groups <= 1 << 16 else np.int64
    order = order[np.argsort(groups[order].astype(small), kind="stable")]
    g = groups[order]
    k = key[order]
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(1, n + 1, dtype=np.float64) - start[g]
    pos_rank = np.bincount(g, weights=rank * (k & 1), minlength=n_groups)
    auc = _safe_div(pos_rank - n1 * (n1 + 1) / 2.0, n1 * n0)
    near = np.flatnonzero((k[1:] - k[:-1] == 1) & (g[1:] == g[:-1]) & (k[:-1] & 1 == 0))
    doubtful = np.unique(g[near])
    if doubtful.size:
        rows = np.isin(groups, doubtful)
        sub = np.searchsorted(doubtful, groups[rows])  # doubtful groups renumbered 0..
        auc[doubtful] = grouped_auc_exact(sub, score[rows], pos[rows], doubtful.size)
    return auc


def grouped_auc_exact(
    groups: np.ndarray, score: np.ndarray, positive: np.ndarray, n_groups: int
) -> np.ndarray:
    """:func:`grouped_auc` by an index sort on (group, score) with average ranks for ties."""
    groups = np.asarray(groups, dtype=np.int64)
    pos = np.asarray(positive).astype(np.float64)
    n = groups.shape[0]
    counts = np.bincount(groups, minlength=n_groups)
    n1 = np.bincount(groups, weights=pos, minlength=n_groups)
    n0 = counts - n1
    if n == 0:
        return np.full(n_groups, np.nan)
    order = np.lexsort((score, groups))
    g = groups[order]
    s = score[order]
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    np.not_equal(g[1:], g[:-1], out=new_run[1:])
    new_run[1:] |= s[1:] != s[:-1]
    run = np.cumsum(new_run) - 1
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(1, n + 1, dtype=np.float64) - start[g]
    avg = np.bincount(run, weights=rank) / np.bincount(run)
    pos_rank = np.bincount(g, weights=avg[run] * pos[order], minlength=n_groups)
    return _safe_div(pos_rank - n1 * (n1 + 1) / 2.0, n1 * n0)
