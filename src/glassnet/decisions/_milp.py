"""A ReLU network over an input box as a mixed-integer linear program (MILP).

Every hidden neuron ``a = max(0, z)`` with pre-activation bounds ``l <= z <= u`` over the box
is encoded exactly:

* ``u <= 0``: the neuron is off everywhere in the box, ``a = 0`` (no variable needed);
* ``l >= 0``: it is on everywhere, ``a = z`` (a continuous variable tied by an equality);
* otherwise (unstable) one binary ``s`` and the standard big-M constraints
  ``a >= z, a >= 0, a <= z - l (1 - s), a <= u s``, which force ``a = max(0, z)`` for
  ``s`` in {0, 1} as long as ``l`` and ``u`` really bound ``z``.

The bounds come from interval arithmetic layer by layer (exact for the first hidden layer)
and are then tightened by linear programs over the LP relaxation of the layers before
(each unstable neuron's pre-activation minimised and maximised). Tighter bounds mean fewer
unstable neurons and a stronger relaxation, hence fewer branch-and-bound nodes in HiGHS.

The program is built in a :class:`Model` that several callers extend (cost variables,
decision constraints, a second copy of the network for monotonicity) before one call to
:func:`scipy.optimize.milp`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from glassnet.network import ReluNetwork

# HiGHS stops when the relative gap between the best solution and the best bound is below
# this; 1e-9 makes "optimal" mean optimal to rounding, not HiGHS's default 1e-4.
MIP_REL_GAP = 1e-9


def check_box(box: Any, d: int, name: str = "box") -> tuple[np.ndarray, np.ndarray]:
    """Validate an input box given as ``(lo, hi)`` arrays or a ``(d, 2)`` array."""
    try:
        arr = np.asarray(box, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric (lo, hi) arrays; {exc}") from exc
    if arr.shape == (2, d):
        lo, hi = arr[0], arr[1]
    elif arr.shape == (d, 2):
        lo, hi = arr[:, 0], arr[:, 1]
    else:
        raise ValueError(
            f"{name} must be (lo, hi) with two arrays of {d} values, or an array of shape "
            f"({d}, 2); got shape {arr.shape}."
        )
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(f"{name} must be finite; give finite lower and upper bounds.")
    if (lo > hi).any():
        j = int(np.flatnonzero(lo > hi)[0])
        raise ValueError(f"{name} is inverted in feature {j}: lower {lo[j]} > upper {hi[j]}.")
    return lo.copy(), hi.copy()


# ---------------------------------------------------------------------- bounds
def interval_bounds(
    net: ReluNetwork, lo: np.ndarray, hi: np.ndarray, *, tighten: bool = True,
    ball: tuple[np.ndarray, np.ndarray, float, str] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Lower and upper bounds of every hidden layer's pre-activations over the box.

    Parameters
    ----------
    net : ReluNetwork
    lo, hi : ndarray of shape (n_features,)
    tighten : bool
        Tighten the interval bounds of layers 2.. by LPs over the relaxation (see the module
        docstring). The first layer's interval bounds are already exact.
    ball : (x0, weights, radius, norm), optional
        Restrict the inputs further to ``||weights * (x - x0)||_norm <= radius`` (a
        counterfactual's cost budget). The first layer then also gets the dual-norm bound
        ``|w_i . (x - x0)| <= radius * ||w_i / weights||_dual``, and the tightening LPs
        include the ball.

    Returns
    -------
    list of (l, u), one pair of arrays per hidden layer.
    """
    bounds: list[tuple[np.ndarray, np.ndarray]] = []
    a_lo, a_hi = lo, hi
    for layer in range(len(net.hidden_sizes)):
        W, b = net.weights[layer], net.biases[layer]
        Wp, Wn = np.maximum(W, 0.0), np.minimum(W, 0.0)
        zl = Wp @ a_lo + Wn @ a_hi + b
        zu = Wp @ a_hi + Wn @ a_lo + b
        if ball is not None and layer == 0:
            x0, wts, rad, norm = ball
            inv = np.where(wts > 0, 1.0 / np.where(wts > 0, wts, 1.0), np.inf)
            scaled = np.abs(W) * inv  # inf where a free feature has a nonzero weight
            scaled = np.where(W == 0, 0.0, scaled)
            dual = scaled.max(axis=1) if norm == "l1" else scaled.sum(axis=1)
            centre = W @ x0 + b
            zl = np.maximum(zl, centre - rad * dual)
            zu = np.minimum(zu, centre + rad * dual)
        if tighten and layer > 0:
            zl, zu = _lp_tighten(net, lo, hi, bounds, layer, zl, zu, ball)
        bounds.append((zl, zu))
        a_lo, a_hi = np.maximum(zl, 0.0), np.maximum(zu, 0.0)
    return bounds


def _lp_tighten(net, lo, hi, bounds, layer, zl, zu, ball=None):
    """Minimise/maximise each unstable pre-activation of ``layer`` over the LP relaxation."""
    m = Model(lo, hi)
    acts = m.add_hidden(net, m.x, bounds, relax=True, n_layers=layer)
    if ball is not None:
        m.add_ball(*ball)
    W, b = net.weights[layer], net.biases[layer]
    A_ub, b_ub, A_eq, b_eq = m.dense_rows()
    zl, zu = zl.copy(), zu.copy()
    for i in np.flatnonzero((zl < 0) & (zu > 0)):
        c = np.zeros(m.n)
        keep = acts >= 0  # -1 marks a neuron fixed at 0: it drops out of the sum
        c[acts[keep]] = W[i, keep]
        for sign in (1.0, -1.0):
            res = linprog(sign * c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq,
                          bounds=list(zip(m.lb, m.ub, strict=True)), method="highs")
            if res.status != 0:
                continue  # keep the interval bound: it is valid, only looser
            val = sign * res.fun + b[i]
            # a small outward margin keeps the bound valid under LP tolerances
            slack = 1e-7 * (1.0 + abs(val))
            if sign > 0:
                zl[i] = max(zl[i], val - slack)
            else:
                zu[i] = min(zu[i], val + slack)
    return zl, zu


# ---------------------------------------------------------------------- the program
@dataclass
class Solution:
    """What :meth:`Model.solve` returns."""

    status: str  # "optimal", "infeasible", "time_limit", "error"
    x: np.ndarray | None  # all variables
    objective: float
    gap: float
    bound: float
    seconds: float


class Model:
    """A MILP under construction: variables with bounds, sparse linear rows.

    The first ``d`` variables are the input ``x`` (bounded by the box).
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray) -> None:
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.integer: list[int] = []
        self._rows: list[np.ndarray] = []
        self._cols: list[np.ndarray] = []
        self._vals: list[np.ndarray] = []
        self._rlo: list[float] = []
        self._rhi: list[float] = []
        self.x = self.add_vars(lo, hi)

    @property
    def n(self) -> int:
        return len(self.lb)

    @property
    def n_binary(self) -> int:
        return int(sum(self.integer))

    def add_vars(self, lb: Any, ub: Any, integer: bool = False) -> np.ndarray:
        lb = np.atleast_1d(np.asarray(lb, dtype=np.float64))
        ub = np.broadcast_to(np.asarray(ub, dtype=np.float64), lb.shape)
        start = self.n
        self.lb.extend(lb.tolist())
        self.ub.extend(ub.tolist())
        self.integer.extend([int(integer)] * lb.size)
        return np.arange(start, start + lb.size)

    def add_row(self, idx: Any, coef: Any, lo: float = -np.inf, hi: float = np.inf) -> None:
        """Add ``lo <= sum coef * var[idx] <= hi``."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        coef = np.broadcast_to(np.asarray(coef, dtype=np.float64), idx.shape).ravel()
        r = len(self._rlo)
        self._rows.append(np.full(idx.size, r))
        self._cols.append(idx)
        self._vals.append(coef)
        self._rlo.append(float(lo))
        self._rhi.append(float(hi))

    def add_hidden(
        self,
        net: ReluNetwork,
        x_idx: np.ndarray,
        bounds: list[tuple[np.ndarray, np.ndarray]],
        *,
        relax: bool = False,
        n_layers: int | None = None,
    ) -> np.ndarray:
        """Encode the first ``n_layers`` hidden layers on inputs ``x_idx``; returns the
        indices of the last layer's activations (``-1`` marks a neuron fixed at 0).

        ``relax`` replaces each binary by a continuous variable in [0, 1] (the LP
        relaxation used to tighten bounds).
        """
        L = len(net.hidden_sizes) if n_layers is None else n_layers
        prev = np.asarray(x_idx)
        for layer in range(L):
            W, b = net.weights[layer], net.biases[layer]
            zl, zu = bounds[layer]
            cur = np.full(W.shape[0], -1)
            keep = prev >= 0  # inputs fixed at 0 drop out of the sums
            pidx = prev[keep]
            for i in range(W.shape[0]):
                w = W[i, keep]
                if zu[i] <= 0:
                    continue  # off in the whole box
                a = self.add_vars(0.0, max(zu[i], 0.0))[0]
                cur[i] = a
                if zl[i] >= 0:  # on in the whole box: a = z
                    self.add_row(np.r_[a, pidx], np.r_[1.0, -w], b[i], b[i])
                    continue
                s = self.add_vars(0.0, 1.0, integer=not relax)[0]
                # a >= z
                self.add_row(np.r_[a, pidx], np.r_[1.0, -w], b[i], np.inf)
                # a <= z - l (1 - s)  <=>  a - z - l s <= -l
                self.add_row(np.r_[a, pidx, s], np.r_[1.0, -w, -zl[i]], -np.inf, b[i] - zl[i])
                # a <= u s
                self.add_row(np.r_[a, s], np.r_[1.0, -zu[i]], -np.inf, 0.0)
            prev = cur
        return prev

    def add_network(
        self, net: ReluNetwork, x_idx: np.ndarray, bounds: list[tuple[np.ndarray, np.ndarray]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Encode the whole network; returns the raw outputs as affine expressions
        ``eta = E @ vars + e0`` (``E`` dense, shape ``(n_outputs, n_vars_now)``)."""
        last = self.add_hidden(net, x_idx, bounds)
        W, b = net.weights[-1], net.biases[-1]
        E = np.zeros((W.shape[0], self.n))
        keep = last >= 0
        E[:, last[keep]] = W[:, keep]
        return E, b.copy()

    def add_ball(self, x0: np.ndarray, weights: np.ndarray, radius: float, norm: str
                 ) -> np.ndarray:
        """Add the cost ``||weights * (x - x0)||_norm`` (returned as a cost vector over the
        variables) and, for a finite ``radius``, the budget ``cost <= radius``."""
        d = x0.size
        w = np.where(np.isfinite(weights), weights, 0.0)
        c = np.zeros(0)
        if norm == "l1":
            e = self.add_vars(np.zeros(d), np.full(d, np.inf))
            for j in range(d):  # e_j >= |x_j - x0_j|
                self.add_row([e[j], self.x[j]], [1.0, -1.0], -x0[j], np.inf)
                self.add_row([e[j], self.x[j]], [1.0, 1.0], x0[j], np.inf)
            c = np.zeros(self.n)
            c[e] = w
        else:
            t = self.add_vars(0.0, np.inf)[0]
            for j in np.flatnonzero(w):  # w_j |x_j - x0_j| <= t
                self.add_row([t, self.x[j]], [1.0, -w[j]], -w[j] * x0[j], np.inf)
                self.add_row([t, self.x[j]], [1.0, w[j]], w[j] * x0[j], np.inf)
            c = np.zeros(self.n)
            c[t] = 1.0
        if np.isfinite(radius):
            nz = np.flatnonzero(c)
            self.add_row(nz, c[nz], -np.inf, radius)
        return c

    def add_expr_row(self, E: np.ndarray, e0: float, lo: float, hi: float) -> None:
        """Add ``lo <= E @ vars + e0 <= hi`` for a dense expression row ``E``."""
        nz = np.flatnonzero(E)
        self.add_row(nz, E[nz], lo - e0, hi - e0)

    def dense_rows(self):
        """The rows as dense (A_ub, b_ub, A_eq, b_eq) for ``linprog``."""
        A = self.matrix().toarray()
        rlo, rhi = np.asarray(self._rlo), np.asarray(self._rhi)
        eq = rlo == rhi
        ub_parts, bub = [], []
        fin_hi = ~eq & np.isfinite(rhi)
        fin_lo = ~eq & np.isfinite(rlo)
        ub_parts.append(A[fin_hi])
        bub.append(rhi[fin_hi])
        ub_parts.append(-A[fin_lo])
        bub.append(-rlo[fin_lo])
        A_ub = np.vstack(ub_parts) if ub_parts else None
        b_ub = np.concatenate(bub) if bub else None
        A_eq = A[eq] if eq.any() else None
        b_eq = rlo[eq] if eq.any() else None
        return A_ub, b_ub, A_eq, b_eq

    def matrix(self) -> sparse.csr_array:
        if not self._rows:
            return sparse.csr_array((0, self.n))
        return sparse.csr_array(
            (np.concatenate(self._vals), (np.concatenate(self._rows), np.concatenate(self._cols))),
            shape=(len(self._rlo), self.n),
        )

    def solve(self, c: Any, *, time_limit: float | None = None) -> Solution:
        """Minimise ``c @ vars`` with HiGHS."""
        import time

        c = np.zeros(self.n) if c is None else np.asarray(c, dtype=np.float64)
        if c.size < self.n:
            c = np.r_[c, np.zeros(self.n - c.size)]
        options: dict[str, Any] = {"mip_rel_gap": MIP_REL_GAP}
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        cons = []
        if self._rlo:
            cons.append(LinearConstraint(self.matrix(), np.asarray(self._rlo),
                                         np.asarray(self._rhi)))
        t0 = time.perf_counter()
        with c_stdout_silenced():
            res = milp(c, integrality=np.asarray(self.integer), bounds=Bounds(self.lb, self.ub),
                       constraints=cons, options=options)
        secs = time.perf_counter() - t0
        status = {0: "optimal", 1: "time_limit", 2: "infeasible"}.get(res.status, "error")
        if res.x is None:
            if status == "time_limit":
                status = "time_limit_no_solution"
            return Solution(status, None, np.nan, np.nan, np.nan, secs)
        gap = float(getattr(res, "mip_gap", 0.0) or 0.0)
        bound = float(getattr(res, "mip_dual_bound", res.fun) or res.fun)
        return Solution(status, np.asarray(res.x), float(res.fun), gap, bound, secs)


def _flush_c_stdio() -> None:
    try:
        ctypes.CDLL(None).fflush(None)  # the C library's buffered stdout, not Python's
    except (OSError, AttributeError, TypeError):  # no C library handle (e.g. Windows)
        pass


@contextlib.contextmanager
def c_stdout_silenced() -> Iterator[None]:
    """Send file descriptor 1 to the null device while HiGHS solves.

    The HiGHS build that SciPy ships writes a debug line
    (``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``) to the C
    ``stdout`` in some mixed-integer programs, whatever its output options; a validator
    running ``glassnet explain`` would read it as an error. Python's ``sys.stdout`` and the
    C library's buffer are flushed before redirecting, and the C buffer again before
    restoring, so no output from outside the solve is lost or reordered. Without a real
    descriptor 1 (captured output, some notebooks), it does nothing.
    """
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else -1
    except (AttributeError, OSError, ValueError):
        fd = -1
    if fd < 0:
        yield
        return
    if sys.stdout is not None:
        sys.stdout.flush()
    _flush_c_stdio()  # what the C library holds so far belongs to the real stdout
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            try:
                yield
            finally:
                _flush_c_stdio()
                os.dup2(saved, fd)
    finally:
        os.close(saved)
