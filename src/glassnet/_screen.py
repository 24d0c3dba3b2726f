"""Float32 screening of the unwrap's forward pass (``glassnet.unwrap(..., screen=True)``).

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

import numpy as np

from glassnet._engine import packed_forward, step_rows
from glassnet.network import ReluNetwork

__all__ = ["screened_packed_forward"]


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
    step = max(1, min(step_rows(net), n))
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
