"""The engine of unwrapping, shared by the in-memory, streamed and Dask back-ends.

Private to the package (no public import path) but internal API for every module in it:
the names in ``__all__`` are what :mod:`glassnet.regions`, :mod:`glassnet.streaming` and
:mod:`glassnet.dask` build on, so no back-end imports another one's private names.

- pattern packing and grouping: :func:`pattern_words`, :func:`factorize_patterns`
  (64-bit hash, exact check), :func:`region_order`, :class:`PatternLookup`;
- the packed forward pass: :func:`packed_forward` (float64) and
  :func:`screened_packed_forward` (float32 screening, below);
- statistics: :func:`group_sums`, :class:`PatternStats`, :func:`chunk_stats_codes`;
- the exactness certificate: :func:`certificate`, :class:`NonFiniteError`.

Float32 screening
-----------------

The patterns of :func:`glassnet.unwrap` are the signs of the float64 pre-activations.
:func:`screened_packed_forward` computes the pre-activations in float32 (about twice as fast
as float64 on CPUs) together with a per-row bound ``D`` such that, for every neuron,

    |z32 - z| + |z64 - z| <= D,

where ``z`` is the pre-activation in exact arithmetic, ``z32`` the float32 value computed
here and ``z64`` the value any float64 forward pass computes (whatever the summation order
of its BLAS). ``D`` rests on the standard bound for a dot product of length m in any order,
``|fl(w.x) - w.x| <= gamma_m |w|.|x|`` with ``gamma_m = m u / (1 - m u)`` (Higham, Accuracy
and Stability of Numerical Algorithms, 2nd ed., section 3.1), with ``|w|.|x|`` bounded for
all neurons at once by one matrix-vector product (see :class:`_Layer`). A neuron with
``|z32| > D`` therefore has the same strict sign in float64; rows where any neuron has
``|z32| <= D``, or whose magnitudes could overflow float32, are recomputed in float64. The
resulting patterns are identical to the float64 ones. The derivation is in
docs/unwrapping.md ("Float32 screening").
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
    "screened_packed_forward",
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


def _step_rows(net: ReluNetwork) -> int:
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
    step = max(1, min(check_chunk_size(chunk_size, net.default_chunk_size()), _step_rows(net), n))
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


# ---------------------------------------------------------------------- float32 screening
_U32 = 2.0**-24  # unit roundoff of float32
_U64 = 2.0**-53
_ETA32 = 2.0**-149  # smallest float32 subnormal: absolute error of an underflowing operation
_SLACK = 1.0 + 2.0**-10  # covers the rounding of the bound's own float64 arithmetic
_SAFE32 = 2.0**120  # below this no float32 partial sum of a screened layer can overflow


def _gamma(n: int, u: float) -> float:
    """Higham's gamma_n = n u / (1 - n u): relative error bound of n floating-point steps."""
    if n * u >= 2.0**-12:  # beyond this the slack no longer covers the bound's own rounding
        raise ValueError(f"layer fan-in {n - 1} is too large for float32 screening")
    return n * u / (1.0 - n * u)


def _up32(a: np.ndarray) -> np.ndarray:
    """Float32 values >= ``a`` (one ulp above the nearest rounding)."""
    return np.nextafter(a.astype(np.float32), np.float32(np.inf))


class _Layer:
    """Float32 copies of one hidden layer and the constants of its error bound.

    See docs/unwrapping.md ("Float32 screening") for the derivation. Per row the bound is

        D = c (S + max|b|) + (1 + gamma_m(v)) max_i ||W_i||_1 E + (n + 5) 2^-149,

    with ``S >= |W_i| . |a32|`` for every neuron ``i`` (one matrix-vector product of the
    activations with ``s = max_i |W_i| + 2^-125``, a vector of the fan-in) and ``E`` the
    previous layer's ``D``.
    """

    def __init__(self, Wt: np.ndarray, b: np.ndarray, step: int) -> None:
        n, h = Wt.shape  # fan-in, width
        absW = np.abs(Wt)
        self.Wt32 = Wt.astype(np.float32)
        # the bias as a full (rows, width) block: adding a broadcast row is ~8x slower
        self.b32 = np.ascontiguousarray(np.broadcast_to(b.astype(np.float32), (step, h)))
        # s_j >= max_i |W_ij| + 2^-125: u s covers the cast of W, underflow included
        self.s32 = _up32(absW.max(axis=1, initial=0.0) + 2.0**-125)
        m = n + 1
        g32, g64 = _gamma(m, _U32), _gamma(m, _U64)
        c = g32 * (1 + _U32) + _U32 + g64
        # S from the float32 product s32 . a32 (non-negative terms, so it can only be
        # rounded down, by gamma_n at most, plus n underflows)
        k = 1.0 / (1.0 - _gamma(n, _U32))
        self.cS = c * k * _SLACK
        self.const = (c * (n * _ETA32 * k + float(np.abs(b).max(initial=0.0)))
                      + (n + 5) * _ETA32) * _SLACK
        self.cE = (1.0 + g64) * float(absW.sum(axis=0).max(initial=0.0)) * _SLACK
        self.finite = bool(np.isfinite(self.Wt32).all() and np.isfinite(self.b32[:1]).all()
                           and np.isfinite(self.s32).all())


def screened_packed_forward(
    net: ReluNetwork, X: np.ndarray, chunk_size: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed float64-exact patterns of every row, screened in float32.

    ``chunk_size`` only bounds the float64 recomputation's chunks; the float32 pass runs
    in the forward pass's cache-sized steps.

    Returns
    -------
    packed : ndarray (n, ceil(H / 8)) uint8
        Identical to the packed patterns of a float64 forward pass.
    rows : ndarray of int64
        Rows recomputed in float64 (a pre-activation within the bound of zero).
    out : ndarray (len(rows), n_outputs)
        Float64 network outputs of those rows.
    """
    n, d = X.shape
    H = net.n_hidden
    step = max(1, min(_step_rows(net), n))
    with np.errstate(over="ignore"):  # weights beyond float32's range: inf, checked below
        layers = [_Layer(Wt, b, step) for Wt, b in zip(net._Wt[:-1], net._b[:-1], strict=True)]
    if not layers or not all(ly.finite for ly in layers):  # no layer; weights beyond float32
        packed, out = packed_forward(net, X, chunk_size)
        return packed, np.arange(n, dtype=np.int64), out
    # first layer: |x32| @ [s, 1] gives S and the row's L1 norm (a bound on max |x|)
    s1 = np.column_stack([layers[0].s32, np.ones(d, dtype=np.float32)])
    kd = 1.0 / (1.0 - _gamma(d, _U32))
    packed = np.empty((n, -(-H // 8)), dtype=np.uint8)
    pat = np.empty((step, H), dtype=bool)
    width = max(net.hidden_sizes, default=1)
    # every (rows, width) array is a slice of a buffer allocated once (see packed_forward)
    bufs = (np.empty(step * width, dtype=np.float32), np.empty(step * width, dtype=np.float32))
    x32 = np.empty((step, d), dtype=np.float32)
    x_abs = np.empty((step, d), dtype=np.float32)
    zabs_buf = np.empty(step * width, dtype=np.float32)
    zeros_buf = np.zeros(step * width, dtype=np.float32)  # ReLU: fmax against zeros (SIMD)
    close_buf = np.empty(step * width, dtype=bool)
    flagged = []
    for s in range(0, n, step):
        e = min(s + step, n)
        m = e - s
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            a = x32[:m]
            np.copyto(a, X[s:e], casting="same_kind")
            sl = np.abs(a, out=x_abs[:m]) @ s1
            # E: the cast error of x, u |x| + eta with |x| <= (|x32| + eta) / (1 - u)
            l1 = (sl[:, 1].astype(np.float64) + d * _ETA32) * kd
            E = (l1 + _ETA32) * (_U32 / (1.0 - _U32) * _SLACK) + _ETA32 * _SLACK
            S32 = sl[:, 0]
            unsure = np.zeros(m, dtype=bool)
            off = 0
            for li, ly in enumerate(layers):
                h = ly.Wt32.shape[1]
                z = bufs[li % 2][: m * h].reshape(m, h)
                np.matmul(a, ly.Wt32, out=z)
                z += ly.b32[:m]
                if li:
                    S32 = a @ ly.s32  # a >= 0 after the ReLU
                S = S32.astype(np.float64)
                thr = ly.cS * S + ly.cE * E + ly.const
                # beyond _SAFE32 a float32 partial sum might overflow (NaN and inf too)
                bad = ~((S <= _SAFE32) & (thr <= _SAFE32))
                if bad.any():
                    unsure |= bad
                    thr[bad] = 0.0
                # float32 threshold >= thr (SLACK covers the cast's rounding, eta its
                # subnormal range)
                thr32 = (thr * _SLACK + _ETA32).astype(np.float32)
                zabs = zabs_buf[: z.size].reshape(z.shape)
                close = close_buf[: z.size].reshape(z.shape)
                np.abs(z, out=zabs)
                # one scalar threshold for the chunk, then each candidate row against its
                # own: a scalar comparison is ~4x faster than a row-broadcast one
                np.less_equal(zabs, thr32.max(), out=close)
                cand = np.flatnonzero(close_buf[: z.size]) // h  # repeats do no harm
                if cand.size:
                    unsure[cand[(zabs[cand] <= thr32[cand, None]).any(axis=1)]] = True
                np.greater(z, 0.0, out=pat[:m, off : off + h])
                # fmax against an array (NaN-free here: such rows are flagged above)
                np.fmax(z, zeros_buf[: z.size].reshape(z.shape), out=z)
                a, E = z, thr  # ReLU is 1-Lipschitz: this layer's bound is the next one's E
                off += h
        packed[s:e] = np.packbits(pat[:m], axis=1)
        idx = np.flatnonzero(unsure)
        if idx.size:
            flagged.append(s + idx)
    rows = np.concatenate(flagged) if flagged else np.zeros(0, dtype=np.int64)
    out = np.zeros((0, net.n_outputs))
    if rows.size:  # the float64 pass, for the flagged rows only
        packed[rows], out = packed_forward(net, X[rows], chunk_size,
                                           row_label=lambda i: f"row {int(rows[i])}")
    return packed, rows.astype(np.int64), out


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
