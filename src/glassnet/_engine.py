"""The engine of unwrapping, shared by the in-memory, streamed and Dask back-ends.

Private to the package (no public import path) but internal API for every module in it:
the names in ``__all__`` are what :mod:`glassnet.regions`, :mod:`glassnet.streaming` and
:mod:`glassnet.dask` build on, so no back-end imports another one's private names.

- pattern packing and grouping: :func:`pattern_words`, :func:`factorize_patterns`
  (64-bit hash, exact check), :func:`region_order`, :class:`PatternLookup`;
- the packed forward pass: :func:`packed_forward` (float64; the float32 screening that
  avoids most of it lives in :mod:`glassnet._screen`);
- statistics: :func:`group_sums`, :class:`PatternStats`, :func:`chunk_stats_codes`;
- the exactness certificate: :func:`certificate`, :class:`NonFiniteError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from glassnet._validation import check_chunk_size
from glassnet.network import ReluNetwork

__all__ = [
    "NonFiniteError",
    "PatternLookup",
    "PatternStats",
    "certificate",
    "chunk_stats_codes",
    "factorize_patterns",
    "group_sums",
    "llm_outputs",
    "packed_forward",
    "pattern_words",
    "raise_non_finite",
    "region_order",
    "row_label_of",
    "step_rows",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


# ---------------------------------------------------------------------- pattern grouping
def pattern_words(packed: np.ndarray, order: bool = True) -> np.ndarray:
    """View packed patterns ``(n, B)`` uint8 as ``(n, W)`` uint64 words.

    Big-endian, so comparing words in order compares the patterns lexicographically (first
    neuron most significant); ``order=False``: the machine's byte order (for grouping by
    equality, without the byte-swapping copy: 6x cheaper).
    """
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    n, B = packed.shape
    W = -(-B // 8)
    if B != 8 * W:
        padded = np.zeros((n, 8 * W), dtype=np.uint8)
        padded[:, :B] = packed
        packed = padded
    words = packed.view(">u8" if order else np.uint64).reshape(n, W)
    return words.astype(np.uint64) if order else words


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def _hash_words(words: np.ndarray) -> np.ndarray:
    """64-bit hash of each row of words; each word is mixed on its own before combining.

    Mixing every word first matters: patterns that differ in one word only must not
    cancel out. Collisions remain possible and are handled by the callers' exact checks.
    """
    with np.errstate(over="ignore"):
        h = _mix(words[:, 0] + _GOLDEN)
        for j in range(1, words.shape[1]):
            h = _mix(h ^ _mix(words[:, j] + _GOLDEN * np.uint64(j + 1)))
    return h


def factorize_patterns(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal packed patterns.

    Returns ``codes`` (n,) with values 0..R-1 in order of first appearance and ``first``
    (R,), the row index where each distinct pattern first occurs. Exact: patterns are
    grouped by a 64-bit hash, then every row is compared word by word with its group's
    first row; on a hash collision the grouping falls back to an exact sort.
    """
    n = packed.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    words = pattern_words(packed, order=False)  # grouping needs equality only: native words
    if words.shape[1] == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64)
    key = words[:, 0] if words.shape[1] == 1 else _hash_words(words)
    codes, _ = pd.factorize(key, sort=False)
    codes = codes.astype(np.int64, copy=False)
    running = np.maximum.accumulate(codes)
    is_first = np.empty(n, dtype=bool)
    is_first[0] = True
    np.greater(running[1:], running[:-1], out=is_first[1:])
    first = np.flatnonzero(is_first)
    if words.shape[1] > 1 and not np.array_equal(words, words[first[codes]]):
        return _factorize_exact(words)
    return codes, first


def _factorize_exact(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact grouping by sorting, used only after a hash collision."""
    void = np.ascontiguousarray(words).view(np.dtype((np.void, words.shape[1] * 8))).ravel()
    _, first_sorted, inverse = np.unique(void, return_index=True, return_inverse=True)
    # renumber groups by first appearance, as the hash path does
    order = np.argsort(first_sorted, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.ravel()].astype(np.int64), first_sorted[order].astype(np.int64)


def region_order(packed_unique: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Permutation sorting regions by decreasing count, ties by lexicographic pattern."""
    words = pattern_words(packed_unique)
    keys = [words[:, j] for j in range(words.shape[1] - 1, -1, -1)]
    return np.lexsort((*keys, -np.asarray(counts, dtype=np.int64)))


class PatternLookup:
    """Find rows' packed patterns among a fixed table of patterns (``-1`` when absent)."""

    def __init__(self, packed_table: np.ndarray) -> None:
        self._words = pattern_words(packed_table)
        self._n = packed_table.shape[0]
        if self._words.shape[1] == 0:
            self._index = None
            return
        keys = self._key(self._words)
        index = pd.Index(keys)
        self._index = index if index.is_unique else None
        if self._index is None:  # hash collision inside the table: exact dictionary
            self._dict = {w.tobytes(): i for i, w in enumerate(self._words)}

    @staticmethod
    def _key(words: np.ndarray) -> np.ndarray:
        return words[:, 0] if words.shape[1] == 1 else _hash_words(words)

    def lookup(self, packed: np.ndarray) -> np.ndarray:
        words = pattern_words(packed)
        n = words.shape[0]
        if words.shape[1] == 0:
            return np.zeros(n, dtype=np.int64) if self._n else np.full(n, -1, dtype=np.int64)
        if self._index is None:
            return np.array([self._dict.get(w.tobytes(), -1) for w in words], dtype=np.int64)
        idx = self._index.get_indexer(self._key(words)).astype(np.int64)
        found = idx >= 0
        same = np.zeros(n, dtype=bool)
        same[found] = (self._words[idx[found]] == words[found]).all(axis=1)
        idx[~same] = -1
        return idx


# ---------------------------------------------------------------------- float64 forward pass
RowLabel = Callable[[int], str]


def row_label_of(offset: int = 0) -> RowLabel:
    """How an error names row ``i`` of an array whose first row is row ``offset``."""
    return lambda i: f"row {offset + i}"


_FORWARD_ROWS = 2048  # rows per step of the forward passes: every buffer stays in cache


def step_rows(net: ReluNetwork) -> int:
    """Rows per step: 2,048, fewer for layers wider than 64 (one buffer within ~1 MB)."""
    return max(64, min(_FORWARD_ROWS, (1 << 20) // (8 * max(net.hidden_sizes, default=1))))


def packed_forward(
    net: ReluNetwork, X: np.ndarray, chunk_size: int | None, *, row_label: RowLabel | None = None,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Chunked forward pass returning packed patterns ``(n, B)`` and raw outputs ``(n, k)``.

    The float64 operations of :meth:`ReluNetwork.forward` in steps of at most 2,048 rows
    (fewer for wide layers; ``chunk_size`` only lowers it) that stay in the CPU cache: 1.7x
    faster than 100,000-row steps streaming 32 MB arrays. The bias is added as a full block
    and ReLU is ``np.maximum`` against zeros (NaN propagates): NumPy has no SIMD loop for a
    broadcast row or a scalar operand (4-8x slower). ``row_label`` names row ``i`` of ``X``
    in errors (default ``"row i"``; streams name the row of the whole file or stream).

    ``threads > 1`` runs the steps in that many threads, each on a run of whole steps (the
    same steps, so the same numbers bit for bit; NumPy releases the GIL in the products):
    for a caller that limits BLAS to one thread, whose idle threads would otherwise spin on
    the cores it is about to use (see ``RegionMerger.fit``). The first non-finite output in
    row order is the one reported, as without threads.
    """
    label = row_label or row_label_of()
    n = X.shape[0]
    step = max(1, min(check_chunk_size(chunk_size, net.default_chunk_size()), step_rows(net), n))
    packed = np.empty((n, -(-net.n_hidden // 8)), dtype=np.uint8)
    out = np.empty((n, net.n_outputs))
    n_steps = -(-n // step)
    if threads > 1 and n_steps > 1:
        from concurrent.futures import ThreadPoolExecutor

        per = -(-n_steps // min(threads, n_steps))
        runs = [(a * step, min(n, (a + per) * step)) for a in range(0, n_steps, per)]
        with ThreadPoolExecutor(max_workers=len(runs)) as pool:
            bad = list(pool.map(lambda r: _forward_steps(net, X, step, r, packed, out), runs))
        bad = [b for b in bad if b is not None]
    else:
        bad = [b for b in [_forward_steps(net, X, step, (0, n), packed, out)] if b is not None]
    if bad:
        s, e = min(bad)
        raise_non_finite(net, X[s:e], out[s:e], s, row_label=label)
    return packed, out


def _forward_steps(net: ReluNetwork, X: np.ndarray, step: int, rows: tuple[int, int],
                   packed: np.ndarray, out: np.ndarray) -> tuple[int, int] | None:
    """:func:`packed_forward`'s steps over ``rows`` (a half-open range starting at a step
    boundary), written into ``packed`` and ``out``; returns the first step whose output is
    not finite (``(start, end)``, the rows after it left unwritten), else None."""
    H = net.n_hidden
    pat = np.empty((step, H), dtype=bool)
    bias = [np.ascontiguousarray(np.broadcast_to(b, (step, b.shape[0]))) for b in net._b]
    width = max(net.hidden_sizes, default=1)
    zeros = np.zeros(step * width)
    # two activation buffers used in turn: no allocation per step (Dask's worker processes
    # set MALLOC_TRIM_THRESHOLD_, which makes every large temporary a fresh mmap whose pages
    # are faulted in again: 2-3x slower)
    bufs = (np.empty(step * width), np.empty(step * width))
    lo, hi = rows
    for s in range(lo, hi, step):
        e = min(s + step, hi)
        m = e - s
        a = X[s:e]
        off = 0
        with np.errstate(over="ignore", invalid="ignore"):
            for li, (Wt, b) in enumerate(zip(net._Wt[:-1], bias[:-1], strict=True)):
                h = Wt.shape[1]
                z = bufs[li % 2][: m * h].reshape(m, h)
                np.matmul(a, Wt, out=z)
                z += b[:m]
                np.greater(z, 0.0, out=pat[:m, off : off + h])
                np.maximum(z, zeros[: z.size].reshape(z.shape), out=z)
                a = z
                off += h
            o = out[s:e]
            np.matmul(a, net._Wt[-1], out=o)
            o += bias[-1][:m]
        if not np.isfinite(o).all():
            return s, e
        packed[s:e] = np.packbits(pat[:m], axis=1)
    return None


class NonFiniteError(ValueError):
    """The network's output (or an exact local linear model) is not finite in float64."""


def raise_non_finite(
    net: ReluNetwork, X: np.ndarray, out: np.ndarray, offset: int, *,
    row_label: RowLabel | None = None,
) -> None:
    """Raise :class:`NonFiniteError` naming the first row and the layer that overflowed.

    Row ``i`` of ``X`` is named ``row_label(offset + i)`` (default ``"row {offset + i}"``).
    Finite weights can still overflow float64 in their products (weights of 1e200 in
    two layers); a certificate computed over such outputs would compare inf with inf and
    claim exactness, so unwrapping refuses instead.
    """
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))[0]
    a = X[bad : bad + 1]
    L = len(net.weights) - 1
    where = f"the output layer (weights[{L}])"
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = a @ W.T + b
            if not np.isfinite(z).all():
                where = (f"hidden layer {i + 1} (weights[{i}])" if i < L
                         else f"the output layer (weights[{L}])")
                break
            a = np.maximum(z, 0.0)
    name = (row_label or row_label_of())(offset + int(bad))
    raise NonFiniteError(
        f"The network output of {name} is not finite: values overflow float64 "
        f"first in {where}. Exact local linear models and their certificate do not exist "
        "there; rescale the weights or the inputs (the activation regions do not change "
        "when a whole layer is multiplied by a positive constant)."
    )


# ---------------------------------------------------------------------- statistics and certificate
def certificate(
    X: np.ndarray,
    out: np.ndarray,
    labels: np.ndarray,
    coef: np.ndarray,
    intercept: np.ndarray,
    chunk_size: int,
    *,
    row_label: RowLabel | None = None,
) -> float:
    """Largest ``|coef[label] @ x + intercept[label] - out|`` over rows and outputs.

    NaN/inf aware: a non-finite network output, local linear model or difference raises
    :class:`NonFiniteError` (naming the row, by ``row_label``, and region) instead of being
    lost in a ``max``, so a certificate is either a finite bound over every row or an error.
    """
    err = 0.0
    for s in range(0, X.shape[0], chunk_size):
        lab = labels[s : s + chunk_size]
        with np.errstate(over="ignore", invalid="ignore"):
            llm = np.einsum("nkd,nd->nk", coef[lab], X[s : s + chunk_size])
            llm += intercept[lab]
            llm -= out[s : s + chunk_size]
        if not llm.size:
            continue
        diff = np.abs(llm)
        if not np.isfinite(diff).all():
            row = int(np.flatnonzero(~np.isfinite(diff).all(axis=1))[0])
            what = ("network output" if not np.isfinite(out[s + row]).all()
                    else "local linear model")
            name = (row_label or row_label_of())(s + row)
            raise NonFiniteError(
                f"The certificate is not finite at {name} (region {int(lab[row])}): "
                f"its {what} overflows float64 (products of the weight matrices exceed "
                "1.8e308). Rescale the weights or the inputs."
            )
        err = max(err, float(diff.max()))
    return err


def group_sums(labels: np.ndarray, values: np.ndarray, R: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-label sum and sum of squares of every column of ``values``, ``(R, m)`` each."""
    s = np.empty((R, values.shape[1]))
    ss = np.empty((R, values.shape[1]))
    for j in range(values.shape[1]):
        s[:, j] = np.bincount(labels, weights=values[:, j], minlength=R)
        ss[:, j] = np.bincount(labels, weights=values[:, j] ** 2, minlength=R)
    return s, ss


@dataclass
class PatternStats:
    """Per-pattern partial statistics of some rows; see the module docstring.

    Attributes
    ----------
    packed : ndarray (R, B) uint8
        Distinct packed activation patterns.
    counts : ndarray (R,) int64
    first : ndarray (R,) int64
        Sort key of each pattern's earliest row (a global row index, or for Dask
        ``block << 40 | row in block``); the smallest key wins on merging.
    representatives : ndarray (R, n_features)
    pred_sum, pred_sumsq : ndarray (R, n_outputs)
    y_sum, y_sumsq : ndarray (R, n_targets) or None
    max_abs_error : float
        Certificate over the rows seen (NaN when not certified).
    coef, intercept : ndarray (R, n_outputs, n_features) and (R, n_outputs), or None
        The LLM of each pattern when it was kept (``keep_llm=True``: computed anyway for the
        certificate, carried through merges so it is not computed twice); else None.
    """

    packed: np.ndarray
    counts: np.ndarray
    first: np.ndarray
    representatives: np.ndarray
    pred_sum: np.ndarray
    pred_sumsq: np.ndarray
    y_sum: np.ndarray | None
    y_sumsq: np.ndarray | None
    max_abs_error: float
    coef: np.ndarray | None = None
    intercept: np.ndarray | None = None

    @property
    def n_regions(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.counts.sum())


def chunk_stats_codes(
    net: ReluNetwork,
    X: np.ndarray,
    y: np.ndarray | None,
    first_key: int,
    certify: bool,
    keep_llm: bool = False,
    *,
    row_label: RowLabel | None = None,
) -> tuple[PatternStats, np.ndarray]:
    """Pattern statistics of one chunk of validated rows, and each row's pattern index.

    See :func:`glassnet.streaming.chunk_stats` for the parameters; ``row_label`` names row
    ``i`` of the chunk in errors (streams name the row of the whole file or stream).
    Returns the :class:`PatternStats` and ``codes`` (n,): each row's index into
    ``stats.packed``.
    """
    packed, out = packed_forward(net, X, None, row_label=row_label)
    codes, first = factorize_patterns(packed)
    R = first.shape[0]
    pred_sum, pred_sumsq = group_sums(codes, net.apply_link(out), R)
    y_sum = y_sumsq = None
    if y is not None:
        y2 = y.reshape(y.shape[0], -1)
        y_sum, y_sumsq = group_sums(codes, y2, R)
    err = float("nan")
    coef = intercept = None
    packed_u = np.take(packed, first, axis=0)
    del packed
    if certify or keep_llm:
        coef, intercept = net.local_linear_models_packed(packed_u)
    if certify:
        err = 0.0
        if R:
            err = certificate(X, out, codes, coef, intercept, net.default_chunk_size(),
                              row_label=row_label)
    if not keep_llm:
        coef = intercept = None
    stats = PatternStats(
        packed=packed_u,
        counts=np.bincount(codes, minlength=R).astype(np.int64),
        first=first.astype(np.int64) + np.int64(first_key),
        representatives=np.take(X, first, axis=0),
        pred_sum=pred_sum,
        pred_sumsq=pred_sumsq,
        y_sum=y_sum,
        y_sumsq=y_sumsq,
        max_abs_error=err,
        coef=coef,
        intercept=intercept,
    )
    return stats, codes


def llm_outputs(
    X: np.ndarray, labels: np.ndarray, coef: np.ndarray, intercept: np.ndarray, chunk_size: int
) -> np.ndarray:
    """``coef[label] @ x + intercept[label]`` of every row, in float64, chunked."""
    n, k = X.shape[0], coef.shape[1]
    out = np.empty((n, k))
    for s in range(0, n, chunk_size):
        lab = labels[s : s + chunk_size]
        with np.errstate(over="ignore", invalid="ignore"):
            out[s : s + chunk_size] = np.einsum("nkd,nd->nk", coef[lab], X[s : s + chunk_size])
        out[s : s + chunk_size] += intercept[lab]
    return out
