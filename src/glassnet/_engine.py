"""Float32 screening of activation patterns with a rigorous error bound (private engine part).

The patterns of :func:`glassnet.unwrap` are the signs of the float64 pre-activations.
:func:`screened_packed_forward` computes the pre-activations in float32 (about twice as fast
as float64 on CPUs) together with a per-row bound ``D`` such that, for every neuron,

    |z32 - z| + |z64 - z| <= D,

where ``z`` is the pre-activation in exact arithmetic, ``z32`` the float32 value computed
here and ``z64`` the value any float64 forward pass computes (whatever the summation order
of its BLAS). A neuron with ``|z32| > D`` therefore has the same strict sign in float64;
rows where any neuron has ``|z32| <= D`` (or a non-finite value) are recomputed in float64.
The resulting patterns are identical to the float64 ones. The derivation is in
docs/unwrapping.md ("Float32 screening").
"""

from __future__ import annotations

import numpy as np

from glassnet._validation import check_chunk_size
from glassnet.network import ReluNetwork

_U32 = 2.0**-24  # unit roundoff of float32
_U64 = 2.0**-53
_ETA32 = 2.0**-149  # smallest float32 subnormal: absolute error of an underflowing operation
_SLACK = 1.0 + 2.0**-10  # covers the rounding of the bound's own float32 arithmetic


def _gamma(n: int, u: float) -> float:
    """Higham's gamma_n = n u / (1 - n u): relative error bound of n floating-point steps."""
    if n * u >= 2.0**-12:  # beyond this the slack no longer covers the bound's own rounding
        raise ValueError(f"layer fan-in {n - 1} is too large for float32 screening")
    return n * u / (1.0 - n * u)


class _Layer:
    """Float32 copies of one hidden layer and the constants of its error bound."""

    def __init__(self, Wt: np.ndarray, b: np.ndarray) -> None:
        n = Wt.shape[0]  # fan-in
        self.Wt32 = Wt.astype(np.float32)
        self.b32 = b.astype(np.float32)
        g32, g64 = _gamma(n + 1, _U32), _gamma(n + 1, _U64)
        # relative part: float32 dot product and bias (g32, on |W32| <= (1+u)|W|), the
        # casts of W and b to float32 (u), the float64 pass's own rounding (g64)
        self.c = (g32 * (1 + _U32) + _U32 + g64 * (1 + _U32)) * _SLACK
        self.g64 = g64
        self.abs_err = 2.0 * (n + 1) * _ETA32  # underflow in products and sums, both passes
        wnorm = np.sqrt((Wt.astype(np.float64) ** 2).sum(axis=0))  # ||W_i||_2 per neuron
        self.w = wnorm * _SLACK
        self.w_max = float(self.w.max(initial=0.0)) * _SLACK
        self.cb_max = float((self.c * np.abs(b) + self.abs_err).max(initial=0.0)) * _SLACK**2
        self.w_norm = float(np.sqrt((self.w**2).sum())) * _SLACK
        self.cb_norm = float(np.sqrt(((self.c * np.abs(b) + self.abs_err) ** 2).sum())) * _SLACK


def _row_norm(a: np.ndarray) -> np.ndarray:
    """Euclidean norm of every row, rounded up a little (its own error), as float64.

    Summed in the input's precision (float32 sums of squares are 10x faster than asking
    einsum for float64): the relative error gamma_h is far below the slack; an overflow
    gives inf, so the row is recomputed.
    """
    return np.sqrt(np.einsum("ij,ij->i", a, a).astype(np.float64)) * _SLACK


def screened_packed_forward(
    net: ReluNetwork, X: np.ndarray, chunk_size: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Packed float64-exact patterns of every row, screened in float32.

    Returns
    -------
    packed : ndarray (n, ceil(H / 8)) uint8
        Identical to the packed patterns of a float64 forward pass.
    rows : ndarray of int64
        Rows recomputed in float64 (a pre-activation within the bound of zero).
    out : ndarray (len(rows), n_outputs)
        Float64 network outputs of those rows.
    """
    from glassnet.regions import raise_non_finite

    n = X.shape[0]
    step = check_chunk_size(chunk_size, net.default_chunk_size())
    H = net.n_hidden
    layers = [_Layer(Wt, b) for Wt, b in zip(net._Wt[:-1], net._b[:-1], strict=True)]
    packed = np.empty((n, -(-H // 8)), dtype=np.uint8)
    buf = np.empty((min(step, n), H), dtype=bool)
    flagged_parts = []
    d = X.shape[1]
    width = max(net.hidden_sizes, default=1)
    # scratch buffers reused by every layer and chunk (fresh 16 MB arrays cost page faults)
    zabs_buf = np.empty(min(step, n) * width, dtype=np.float32)
    close_buf = np.empty(min(step, n) * width, dtype=bool)
    for s in range(0, n, step):
        e = min(s + step, n)
        pat = buf[: e - s]
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            a = X[s:e].astype(np.float32)
            # the cast itself: |x32 - x| <= u |x| + eta per entry (no float64 error on x)
            err = np.sqrt(np.einsum("ij,ij->i", X[s:e], X[s:e])) * (_U32 * _SLACK)
            err += np.sqrt(d) * _ETA32
            anorm = _row_norm(a)
            unsure = np.zeros(e - s, dtype=bool)
            off = 0
            for ly in layers:
                z = a @ ly.Wt32
                z += ly.b32
                h = z.shape[1]
                srow = ly.c * anorm + (1.0 + ly.g64) * err  # float64 per-row scalar
                # one threshold per row (largest neuron norm and bias term): looser than
                # per neuron, but no (rows, h) bound matrix to build
                thr = (srow * ly.w_max + ly.cb_max).astype(np.float32)[:, None]
                zabs = zabs_buf[: z.size].reshape(z.shape)
                close = close_buf[: z.size].reshape(z.shape)
                np.abs(z, out=zabs)
                np.less_equal(zabs, thr, out=close)
                # a NaN in z propagates into the row's norm and error (flagged below);
                # few entries are close: their flat indices are cheaper than any(axis=1)
                unsure[np.flatnonzero(close_buf[: z.size]) // h] = True
                np.greater(z, 0.0, out=pat[:, off : off + h])
                np.maximum(z, 0.0, out=z)
                a = z
                err = srow * ly.w_norm + ly.cb_norm
                anorm = _row_norm(a)
                off += h
            unsure |= ~np.isfinite(err)
        idx = np.flatnonzero(unsure)
        if idx.size:
            sub = np.empty((idx.size, H), dtype=bool)
            with np.errstate(over="ignore", invalid="ignore"):
                o = net._forward_chunk(X[s + idx], sub)
            if not np.isfinite(o).all():
                raise_non_finite(net, X[s + idx], o, 0)
            pat[idx] = sub
            flagged_parts.append((s + idx, o))
        packed[s:e] = np.packbits(pat, axis=1)
    if flagged_parts:
        rows = np.concatenate([r for r, _ in flagged_parts])
        out = np.concatenate([o for _, o in flagged_parts])
    else:
        rows, out = np.zeros(0, dtype=np.int64), np.zeros((0, net.n_outputs))
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
