"""Proofs over an input box: exact output bounds and monotonicity certificates.

* :func:`output_bounds`: the exact minimum and maximum of each raw output over a box, one
  MILP per output and direction, with the inputs that attain them.
* :func:`certify_monotone`: whether the output never decreases (or never increases) as one
  feature grows, everywhere in the box. The MILP holds two copies of the network,
  ``x`` and ``x'`` equal except ``x'_j >= x_j``, and minimises ``f(x') - f(x)``: a minimum
  ``>= 0`` is a proof, a negative one comes with the pair ``(x, x')`` that breaks
  monotonicity, checked by forward passes.
* :func:`monotonicity_table`: per feature, the data-only sign summary (the coefficient's
  sign in each region the data visit) beside the certificate over the box.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from glassnet.decisions._base import input_names
from glassnet.decisions._milp import Model, check_box, interval_bounds
from glassnet.io import as_network
from glassnet.network import ReluNetwork

__all__ = ["MonotoneCertificate", "OutputBounds", "certify_monotone", "monotonicity_table",
           "output_bounds"]

# A certificate tolerates this much decrease (relative to the output's range over the box):
# the MILP is solved in floating point, so a true minimum of exactly 0 can come back as
# -1e-12. A violation smaller than this is reported as certified only if no forward pass
# confirms it.
_CERT_TOL = 1e-9


def _box_of(net: ReluNetwork, X: Any, box: Any) -> tuple[np.ndarray, np.ndarray]:
    if box is not None:
        return check_box(box, net.n_features)
    if X is None:
        raise ValueError(
            "Pass box=(lo, hi) or the data X whose bounding box is used (e.g. the training rows)."
        )
    Xa = net.check_input(X)
    return Xa.min(axis=0), Xa.max(axis=0)


def _check_output(net: ReluNetwork, output: Any) -> int:
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)) \
            or not 0 <= output < net.n_outputs:
        raise ValueError(f"output must be an index in 0..{net.n_outputs - 1}; got {output!r}.")
    return int(output)


def _feature_index(net: ReluNetwork, feature: Any) -> int:
    names = input_names(net)
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if not 0 <= feature < net.n_features:
            raise ValueError(f"feature index {feature} out of range 0..{net.n_features - 1}.")
        return int(feature)
    if str(feature) in names:
        return names.index(str(feature))
    raise ValueError(f"Unknown feature {feature!r}; the network's inputs are {names[:10]}...")


# ---------------------------------------------------------------------- output bounds
@dataclass
class OutputBounds:
    """Exact range of every raw output over a box (see :func:`output_bounds`).

    Attributes
    ----------
    lower, upper : ndarray of shape (n_outputs,)
        Minimum and maximum raw output (logit for classifiers).
    argmin, argmax : ndarray of shape (n_outputs, n_features)
        Inputs attaining them; ``forward`` there equals the bound to rounding.
    gap : ndarray of shape (n_outputs, 2)
        HiGHS's relative optimality gap for the min and max programs (0 when proved).
    seconds : float
    """

    lower: np.ndarray
    upper: np.ndarray
    argmin: np.ndarray
    argmax: np.ndarray
    gap: np.ndarray
    seconds: float
    network: ReluNetwork = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per output: raw bounds and, for a sigmoid output, the probabilities."""
        df = pd.DataFrame({"output": np.arange(self.lower.size), "min": self.lower,
                           "max": self.upper})
        if self.network.output == "sigmoid":
            from scipy.special import expit

            df["min_probability"] = expit(self.lower)
            df["max_probability"] = expit(self.upper)
        return df


def output_bounds(
    model: Any, box: Any = None, *, X: Any = None, tighten: bool = True,
    time_limit: float | None = None,
) -> OutputBounds:
    """Exact minimum and maximum of each raw output of the network over a box.

    Parameters
    ----------
    model : ReluNetwork, Regions or any model :func:`glassnet.io.as_network` accepts
    box : (lo, hi) or array of shape (n_features, 2), optional
        Default: the bounding box of ``X``.
    X : array-like, optional
        Data whose bounding box is used when ``box`` is None.
    tighten : bool, default=True
        LP-tightened big-M bounds (see :mod:`glassnet.decisions._milp`).
    time_limit : float, optional
        Seconds per MILP; the gap says how far from proved a stopped one is.

    Returns
    -------
    OutputBounds

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> from glassnet.decisions import output_bounds
    >>> net = ReluNetwork([np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])],
    ...                   [np.zeros(2), np.zeros(1)])   # |x|
    >>> b = output_bounds(net, ([-1.0], [2.0]))
    >>> float(b.lower[0]), float(b.upper[0])
    (0.0, 2.0)
    """
    net = as_network(model)
    lo, hi = _box_of(net, X, box)
    bounds = interval_bounds(net, lo, hi, tighten=tighten)
    k, d = net.n_outputs, net.n_features
    low, up = np.empty(k), np.empty(k)
    amin, amax = np.empty((k, d)), np.empty((k, d))
    gap = np.zeros((k, 2))
    secs = 0.0
    m = Model(lo, hi)
    E, e0 = m.add_network(net, m.x, bounds)
    for o in range(k):
        for col, sign in ((0, 1.0), (1, -1.0)):
            sol = m.solve(sign * E[o], time_limit=time_limit)
            secs += sol.seconds
            if sol.x is None:
                raise RuntimeError(f"The MILP for output {o} stopped without a solution "
                                   f"({sol.status}); raise time_limit.")
            p = np.clip(sol.x[:d], lo, hi)
            val = float(net.forward(p[None])[0, o])  # the float64 value at the optimum
            gap[o, col] = sol.gap
            if sign > 0:
                low[o], amin[o] = val, p
            else:
                up[o], amax[o] = val, p
    return OutputBounds(low, up, amin, amax, gap, secs, net)


# ---------------------------------------------------------------------- monotonicity
@dataclass
class MonotoneCertificate:
    """Result of :func:`certify_monotone`.

    Attributes
    ----------
    feature : str
    direction : {"increasing", "decreasing"}
    status : {"certified", "violated", "unknown"}
        ``certified``: proved over the box; ``violated``: ``counterexample`` holds a
        verified pair; ``unknown``: the MILP stopped at its time limit first.
    worst_change : float
        The optimum of ``f(x') - f(x)`` (minimum for increasing, maximum for decreasing):
        the largest violation in raw-output units (0 or the wrong sign means none). When
        the counterexample comes from the data (see :func:`certify_monotone`), it is that
        pair's change, a violation but not necessarily the largest.
    counterexample : tuple of ndarray or None
        ``(x, x_prime)``: equal except in the feature, ``x_prime`` larger there, and
        ``f(x_prime) < f(x)`` (increasing) or ``>`` (decreasing) in a float64 forward pass.
    outputs : tuple of float or None
        ``(f(x), f(x_prime))`` at the counterexample.
    gap : float
    seconds : float
    n_binary : int
        Binary variables in the program (two copies of the network's unstable neurons).
    """

    feature: str
    direction: str
    status: str
    worst_change: float
    counterexample: tuple[np.ndarray, np.ndarray] | None
    outputs: tuple[float, float] | None
    gap: float
    seconds: float
    n_binary: int

    @property
    def certified(self) -> bool:
        return self.status == "certified"


def certify_monotone(
    model: Any,
    feature: Any,
    X: Any = None,
    *,
    box: Any = None,
    direction: str = "increasing",
    output: int = 0,
    tighten: bool = True,
    time_limit: float | None = 60.0,
) -> MonotoneCertificate:
    """Prove that the output never decreases (increases) in a feature over a box.

    Parameters
    ----------
    model : ReluNetwork, Regions or any model :func:`glassnet.io.as_network` accepts
    feature : str or int
        Input name or index.
    X : array-like, optional
        Data (e.g. the training rows) whose bounding box is used when ``box`` is None.
    box : (lo, hi) or array of shape (n_features, 2), optional
    direction : {"increasing", "decreasing"}
        "increasing": ``f(x + t e_j) >= f(x)`` for all ``t >= 0`` with both points in the
        box; "decreasing" the reverse.
    output : int, default=0
        Which raw output (for a binary classifier the logit; the probability is monotone in
        it, so the certificate holds for the probability too).
    tighten : bool, default=True
    time_limit : float or None, default=60
        Seconds for the MILP; a stopped program gives status "unknown" unless it already
        found a verified counterexample.

    Returns
    -------
    MonotoneCertificate

    Notes
    -----
    With ``X``, the data's regions are checked first: a row whose region's coefficient has
    the wrong sign gives a counterexample at once (a step along the feature inside that
    region, verified by forward passes), without a MILP. The MILP (two network copies)
    is needed for a proof, and for counterexamples the data do not show.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> from glassnet.decisions import certify_monotone
    >>> net = ReluNetwork([np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[2.0, -1.0]])],
    ...                   [np.zeros(2), np.zeros(1)], feature_names=["income", "debt"])
    >>> box = ([-1.0, -1.0], [1.0, 1.0])
    >>> certify_monotone(net, "income", box=box).status
    'certified'
    >>> c = certify_monotone(net, "debt", box=box)
    >>> c.status, c.outputs[1] < c.outputs[0]
    ('violated', True)
    """
    if direction not in ("increasing", "decreasing"):
        raise ValueError(f"direction must be 'increasing' or 'decreasing'; got {direction!r}.")
    net = as_network(model)
    j = _feature_index(net, feature)
    o = _check_output(net, output)
    lo, hi = _box_of(net, X, box)
    sign = 1.0 if direction == "increasing" else -1.0
    name = input_names(net)[j]
    if X is not None:
        # cheap first: a data row whose region has the wrong-signed coefficient gives a
        # counterexample by a small step along the feature inside that region
        found = _data_counterexample(net, net.check_input(X), j, o, sign, lo, hi)
        if found is not None:
            xa, xb, fa, fb = found
            return MonotoneCertificate(name, direction, "violated", float(fb - fa), (xa, xb),
                                       (float(fa), float(fb)), np.nan, 0.0, 0)
    bounds = interval_bounds(net, lo, hi, tighten=tighten)
    m = Model(lo, hi)
    E1, _ = m.add_network(net, m.x, bounds)
    # x' shares every input with x except feature j, which is a new variable >= x_j
    xj2 = m.add_vars(lo[j], hi[j])[0]
    x2 = m.x.copy()
    x2[j] = xj2
    m.add_row([xj2, m.x[j]], [1.0, -1.0], 0.0, np.inf)
    E2, _ = m.add_network(net, x2, bounds)
    diff = np.zeros(m.n)
    diff[: E1.shape[1]] -= E1[o]
    diff[: E2.shape[1]] += E2[o]
    sol = m.solve(sign * diff, time_limit=time_limit)
    if sol.x is None:
        return MonotoneCertificate(name, direction, "unknown", np.nan, None, None, np.nan,
                                   sol.seconds, m.n_binary)
    xa = np.clip(sol.x[: net.n_features], lo, hi)
    xb = xa.copy()
    xb[j] = np.clip(sol.x[xj2], xa[j], hi[j])
    fa, fb = net.forward(np.vstack([xa, xb]))[:, o]
    worst = sign * sol.objective  # f(x') - f(x) at the optimum, from the program
    violated_fp = sign * (fb - fa) < 0  # the float64 forward passes agree
    scale = _CERT_TOL * (1.0 + abs(fa) + abs(fb))
    if violated_fp and sign * (fb - fa) < -scale:
        return MonotoneCertificate(name, direction, "violated", float(fb - fa), (xa, xb),
                                   (float(fa), float(fb)), sol.gap, sol.seconds, m.n_binary)
    # No violation beyond rounding at the optimum. The program's dual bound is a lower
    # bound on every violation in the box: a proof when the program finished (HiGHS stops
    # at an absolute gap of 1e-6, hence the tolerance scaled by the output's size).
    tol = _CERT_TOL * (1.0 + float(np.abs(E1[o]).sum() * np.abs(np.r_[lo, hi]).max()))
    status = "certified" if sol.status == "optimal" and sol.bound >= -max(tol, 1e-6) \
        else "unknown"
    return MonotoneCertificate(name, direction, status, float(worst), None, None, sol.gap,
                               sol.seconds, m.n_binary)


def _data_counterexample(net, Xa, j, o, sign, lo, hi, max_tries: int = 50):
    """A verified pair from the data's regions with a wrong-signed coefficient, or None."""
    inside = ((Xa >= lo) & (Xa <= hi)).all(axis=1)
    Xa = Xa[inside]
    if Xa.shape[0] == 0:
        return None
    pats = net.activation_patterns(Xa)
    coef, _ = net.local_linear_models(pats)
    wrong = np.flatnonzero(sign * coef[:, o, j] < 0)
    # the most wrong-signed first: the largest violation per unit step
    for i in wrong[np.argsort(sign * coef[wrong, o, j])][:max_tries]:
        x = Xa[i]
        A, c = net.neuron_affine_maps(pats[i])
        z, dz = A @ x + c, A[:, j]
        # largest step t >= 0 along e_j keeping every neuron's sign (the region)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_cross = np.where(pats[i] & (dz < 0), -z / dz,
                               np.where(~pats[i] & (dz > 0), -z / dz, np.inf))
        step = min(float(np.min(t_cross, initial=np.inf)), hi[j] - x[j])
        if not np.isfinite(step) or step <= 0:
            continue
        xb = x.copy()
        xb[j] = x[j] + 0.5 * step
        fa, fb = net.forward(np.vstack([x, xb]))[:, o]
        if sign * (fb - fa) < -_CERT_TOL * (1.0 + abs(fa) + abs(fb)):
            return x.copy(), xb, fa, fb
    return None


def region_signs(model: Any, X: Any, output: int = 0) -> pd.DataFrame:
    """Data-only monotonicity: the sign of each feature's coefficient over the regions
    that the rows of ``X`` visit.

    Returns
    -------
    DataFrame indexed by feature: ``n_regions``, ``n_positive``, ``n_negative``, ``n_zero``,
    ``share_rows_negative`` (rows in regions with a negative coefficient) and
    ``data_sign`` ("increasing", "decreasing", "constant" or "mixed").
    """
    net = as_network(model)
    o = _check_output(net, output)
    Xa = net.check_input(X)
    pats = net.activation_patterns(Xa)
    uniq, inverse = np.unique(np.packbits(pats, axis=1), axis=0, return_inverse=True)
    coef, _ = net.local_linear_models_packed(uniq)
    c = coef[:, o, :]  # (R, d)
    counts = np.bincount(inverse.ravel(), minlength=uniq.shape[0])
    pos, neg = (c > 0), (c < 0)
    n_pos, n_neg = pos.sum(0), neg.sum(0)
    sign = np.where(n_neg == 0, np.where(n_pos == 0, "constant", "increasing"),
                    np.where(n_pos == 0, "decreasing", "mixed"))
    return pd.DataFrame({
        "n_regions": uniq.shape[0], "n_positive": n_pos, "n_negative": n_neg,
        "n_zero": uniq.shape[0] - n_pos - n_neg,
        "share_rows_negative": (counts[:, None] * neg).sum(0) / Xa.shape[0],
        "data_sign": sign,
    }, index=pd.Index(input_names(net), name="feature"))


def monotonicity_table(
    model: Any, X: Any, features: Any = None, box: Any = None, *, output: int = 0,
    time_limit: float | None = 30.0,
) -> pd.DataFrame:
    """Per feature: the data-only sign summary and the certificate over the box.

    Parameters
    ----------
    model : ReluNetwork, Regions or any model :func:`glassnet.io.as_network` accepts
    X : array-like or DataFrame
        Data (e.g. the training rows): their regions give the data-only summary, their
        bounding box the default certification box.
    features : list of str or int, optional
        Default: every input.
    box : (lo, hi), optional
    output : int, default=0
    time_limit : float or None, default=30
        Seconds per MILP.

    Returns
    -------
    DataFrame indexed by feature: the columns of the data-only summary (``data_sign``, ...),
    ``certified`` ("increasing", "decreasing", "neither", "constant" or "unknown"),
    ``worst_increase_violation`` and ``worst_decrease_violation`` (raw-output units), and
    ``counterexample`` (text: the pair of values of the feature and the outputs).
    """
    net = as_network(model)
    Xa = net.check_input(X)
    signs = region_signs(net, Xa, output)
    names = input_names(net)
    idx = range(net.n_features) if features is None else [_feature_index(net, f)
                                                           for f in features]
    rows = []
    for j in idx:
        inc = certify_monotone(net, j, Xa, box=box, direction="increasing", output=output,
                               time_limit=time_limit)
        dec = certify_monotone(net, j, Xa, box=box, direction="decreasing", output=output,
                               time_limit=time_limit)
        if inc.certified and dec.certified:
            verdict = "constant"
        elif inc.certified:
            verdict = "increasing"
        elif dec.certified:
            verdict = "decreasing"
        elif inc.status == "violated" and dec.status == "violated":
            verdict = "neither"
        else:
            verdict = "unknown"
        example = ""
        if inc.status == "violated":
            a, b = inc.counterexample
            example = (f"{names[j]}: {a[j]:.4g} -> {b[j]:.4g} lowers the output "
                       f"{inc.outputs[0]:.4g} -> {inc.outputs[1]:.4g}")
        rows.append({"feature": names[j], "certified": verdict,
                     "worst_increase_violation": min(inc.worst_change, 0.0)
                     if inc.status != "unknown" else np.nan,
                     "worst_decrease_violation": max(dec.worst_change, 0.0)
                     if dec.status != "unknown" else np.nan,
                     "counterexample": example})
    cert = pd.DataFrame(rows).set_index("feature")
    return signs.loc[cert.index].join(cert)
