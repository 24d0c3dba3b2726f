"""Reason codes: exact integrated gradients of a ReLU network along a straight segment.

Along the segment ``p(t) = ref + t (x - ref)``, ``t`` in [0, 1], the network is affine
on each piece between the points where the segment crosses a neuron's boundary, so the
integrated-gradients path integral ``IG_i = (x_i - ref_i) * int_0^1 df/dx_i(p(t)) dt`` is
the finite sum ``(x_i - ref_i) * sum_k (t_{k+1} - t_k) * coef_k[i]`` over the pieces, where
``coef_k`` is the gradient of the piece's local linear model. Because the network is
continuous, ``sum_i IG_i = f(x) - f(ref)`` exactly (up to rounding): the completeness that
sampled integrated gradients and KernelSHAP only approximate.

Finding the pieces: walk from ``t = 0``; in the current region every pre-activation is affine
in ``t``, so the next breakpoint is the smallest ``t' > t`` at which some neuron's
pre-activation reaches 0 (one forward pass with its directional derivative). Each piece's
gradient is then taken at the piece's midpoint, and a continuity check (the piece's affine
model must reproduce the forward pass at both ends) splits any piece where a crossing was
missed to rounding, so the sum is exact by construction and by test.

Score units (binary classifier): on a piece the raw output is ``a + b t``, so
``int sigma'(a + b t) dt`` has the closed form ``(sigma(a + b t1) - sigma(a + b t0)) / b``;
the score contributions therefore sum exactly to ``sigma(f(x)) - sigma(f(ref))``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from glassnet.decisions._base import group_index, is_binary, predict_class, require_classifier
from glassnet.decisions.favorable import DEFAULT_FAVORABLE, favorable_note
from glassnet.io import as_network
from glassnet.network import ReluNetwork

__all__ = ["path_attributions", "reason_codes", "resolve_reference"]

_MAX_PIECES = 1_000_000


# ---------------------------------------------------------------------- the path
def segment_pieces(net: ReluNetwork, ref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Breakpoints ``0 = t_0 < ... < t_m = 1`` of the segment ref -> x (sorted, unique)."""
    d = x - ref
    ts = [0.0]
    t = 0.0
    scale = max(1.0, float(np.abs(ref).max()), float(np.abs(x).max()))
    while t < 1.0 and len(ts) < _MAX_PIECES:
        a, da = ref + t * d, d
        t_next = 1.0
        for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
            z = W @ a + b
            dz = W @ da
            tol = 1e-12 * (np.abs(W) @ np.abs(a) + np.abs(b) + scale)
            near = np.abs(z) <= tol
            on = (z > tol) | (near & (dz > 0))
            cross = ~near & (((z > 0) & (dz < 0)) | ((z < 0) & (dz > 0)))
            if cross.any():
                s = -z[cross] / dz[cross]
                t_next = min(t_next, t + float(s.min()))
            a = np.where(on, z, 0.0)
            da = np.where(on, dz, 0.0)
        if t_next <= t:  # rounding: never stall
            t_next = np.nextafter(t, 2.0)
        t = min(t_next, 1.0)
        ts.append(t)
    return np.unique(np.asarray(ts))


def _region_interval(net: ReluNetwork, ref: np.ndarray, d: np.ndarray,
                     t: float) -> tuple[float, float]:
    """The interval of the path ``ref + s d`` around ``s = t`` inside the region of ``t``.

    With the activation pattern of ``t`` held fixed, every hidden pre-activation is an
    affine function ``alpha + s beta`` of ``s``; the region is where each keeps its sign."""
    a, da = ref + t * d, d.copy()
    lo, hi = -np.inf, np.inf
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        z, dz = W @ a + b, W @ da
        on = z > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            s = t - z / dz  # where each pre-activation reaches 0
        # an on neuron stays on while z > 0, an off one while z <= 0
        rises = np.where(on, dz > 0, dz < 0)  # moving away from 0 as s grows
        falls = np.where(on, dz < 0, dz > 0)
        if falls.any():
            hi = min(hi, float(s[falls].min()))
        if rises.any():
            lo = max(lo, float(s[rises].max()))
        a, da = np.where(on, z, 0.0), np.where(on, dz, 0.0)
    return lo, hi


def _pieces_with_models(net, ref, x, output):
    """Breakpoints, per-piece gradients ``(m, n_features)`` and raw outputs at breakpoints,
    after splitting every piece whose midpoint model does not match its end points.

    The crossing search can miss a boundary by rounding; such a piece is split at the exact
    ends of its midpoint's region along the path (each pass carves out one region per bad
    piece), or at its midpoint where those ends fall outside it."""
    ts = segment_pieces(net, ref, x)
    d = x - ref
    for _ in range(200):
        pts = ref + ts[:, None] * d
        f_end = net.forward(pts)[:, output]
        t_mid = 0.5 * (ts[:-1] + ts[1:])
        coef, icpt = net.local_linear_models(net.activation_patterns(ref + t_mid[:, None] * d))
        c, c0 = coef[:, output, :], icpt[:, output]
        lin_a = np.einsum("kd,kd->k", c, pts[:-1]) + c0
        lin_b = np.einsum("kd,kd->k", c, pts[1:]) + c0
        scale = 1e-10 * (1.0 + np.abs(f_end).max())
        bad = (np.abs(lin_a - f_end[:-1]) > scale) | (np.abs(lin_b - f_end[1:]) > scale)
        if not bad.any():
            return ts, c, f_end
        new = []
        for k in np.flatnonzero(bad):
            inside = [u for u in _region_interval(net, ref, d, float(t_mid[k]))
                      if ts[k] < u < ts[k + 1]]
            new.extend(inside or [t_mid[k]])
        grown = np.unique(np.r_[ts, new])
        if grown.size == ts.size or grown.size > _MAX_PIECES:
            break  # pieces at float64's resolution, or too many: nothing sensible left
        ts = grown
    raise RuntimeError(
        "glassnet: the path from the reference to the row could not be split into linear "
        f"pieces ({ts.size - 1} pieces); please report this network and row.")


def _row_attribution(net, ref, x, output, sign):
    """Exact IG of one row in logit and in score units (score: binary only, else NaN)."""
    ts, c, f_end = _pieces_with_models(net, ref, x, output)
    d = x - ref
    lens = np.diff(ts)
    logit_attr = sign * d * (lens @ c)
    if net.output != "sigmoid":
        return logit_attr, np.full_like(logit_attr, np.nan)
    eta = sign * f_end
    slope = sign * (c @ d)  # d eta / dt on each piece
    dS = np.diff(expit(eta))
    mid = 0.5 * (eta[:-1] + eta[1:])
    flat = np.abs(slope * lens) < 1e-9
    w = np.where(flat, lens * expit(mid) * expit(-mid), dS / np.where(flat, 1.0, slope))
    score_attr = sign * d * (w @ c)
    return logit_attr, score_attr


# ---------------------------------------------------------------------- references
def resolve_reference(
    net: ReluNetwork, X: np.ndarray, reference: Any, population: Any, favorable: int
) -> np.ndarray:
    """One reference row per row of ``X``, shape ``(n, n_features)``.

    ``reference`` is a fixed profile (array of ``n_features`` values or a one-row
    DataFrame/Series), ``"approved_mean"`` (mean of the ``population`` rows the network
    puts in class ``favorable``) or ``"nearest_approved"`` (per row, the closest such
    population row in standardised units, each feature divided by its population standard
    deviation; a real applicant, so the reference is attainable).
    """
    if isinstance(reference, str):
        if reference not in ("approved_mean", "nearest_approved"):
            raise ValueError(
                "reference must be a profile (array of feature values), 'approved_mean' or "
                f"'nearest_approved'; got {reference!r}."
            )
        if population is None:
            raise ValueError(
                f"reference={reference!r} needs population=: the rows (for example the "
                "training data) among which the approved ones are taken."
            )
        P = net.check_input(population, name="population")
        approved = P[predict_class(net, net.forward(P)) == favorable]
        if approved.shape[0] == 0:
            raise ValueError(
                f"No population row is in the favorable class {favorable}; pass another "
                "population, favorable class, or a fixed reference profile."
            )
        if reference == "approved_mean":
            return np.broadcast_to(approved.mean(axis=0), X.shape).copy()
        sd = P.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        A = approved / sd
        out = np.empty_like(X)
        for s in range(0, X.shape[0], 256):
            Z = X[s : s + 256] / sd
            d2 = (Z**2).sum(1)[:, None] - 2 * Z @ A.T + (A**2).sum(1)[None, :]
            out[s : s + 256] = approved[np.argmin(d2, axis=1)]
        return out
    if hasattr(reference, "to_frame") and not hasattr(reference, "columns"):  # a Series
        reference = reference.to_frame().T
    ref = net.check_input(reference if hasattr(reference, "columns")
                          else np.atleast_2d(np.asarray(reference, dtype=np.float64)),
                          name="reference")
    if ref.shape[0] != 1:
        raise ValueError(f"A fixed reference is one profile; got {ref.shape[0]} rows.")
    return np.broadcast_to(ref[0], X.shape).copy()


def _explained(net: ReluNetwork, favorable: int) -> tuple[int, float]:
    """Output index and sign so that ``sign * eta[output]`` is the favorable class's logit."""
    if net.n_outputs == 1:
        return 0, (1.0 if favorable == 1 else -1.0)
    return favorable, 1.0


# ---------------------------------------------------------------------- public
def path_attributions(
    model: Any,
    X: Any,
    reference: Any = "approved_mean",
    *,
    population: Any = None,
    favorable: int = DEFAULT_FAVORABLE,
    groups: Any = None,
    output: str = "logit",
) -> pd.DataFrame:
    """Exact integrated-gradients attribution of every row, one column per feature group.

    Parameters
    ----------
    model, X, reference, population, favorable, groups, output
        As in :func:`reason_codes`.

    Returns
    -------
    DataFrame of shape (n, n_groups)
        Row ``i`` sums to ``f(x_i) - f(ref_i)`` (favorable class's logit, or its probability
        for ``output="score"``) to rounding error.
    """
    net, Xa, refs, out_idx, sign, gidx, index = _prepare(
        model, X, reference, population, favorable, groups, output)
    col = 0 if output == "logit" else 1
    rows = np.array([_row_attribution(net, refs[i], Xa[i], out_idx, sign)[col]
                     for i in range(Xa.shape[0])]).reshape(Xa.shape)
    return _stated(pd.DataFrame(_group_sum(rows, gidx), index=index, columns=list(gidx)),
                   favorable)


def reason_codes(
    model: Any,
    X: Any,
    reference: Any = "approved_mean",
    *,
    population: Any = None,
    favorable: int = DEFAULT_FAVORABLE,
    top_k: int | None = 4,
    groups: Any = None,
    output: str = "logit",
) -> pd.DataFrame:
    """The principal reasons for each decision: exact path attributions, ranked.

    For each row, ``f(x) - f(reference)`` (the favorable class's logit or probability) is
    split exactly over the features (summed per one-hot group) by integrated gradients
    along the straight segment from the reference, computed as a finite sum over the
    activation regions the segment crosses (see :mod:`glassnet.decisions.reasons`).

    Parameters
    ----------
    model : ReluNetwork, Regions or any model :func:`glassnet.io.as_network` accepts
        A binary (sigmoid) or multi-class (softmax) classifier.
    X : array-like or DataFrame of shape (n, n_features)
        The decisions to explain (typically the declined applicants).
    reference : array-like, {"approved_mean", "nearest_approved"}, default="approved_mean"
        What the row is compared with. A fixed profile (e.g. a policy's typical approved
        applicant); the mean of the approved ``population`` rows (a stable, single
        reference, but possibly no real applicant); or each row's nearest approved
        ``population`` row in standardised units (a real, attainable applicant; the
        reasons then depend on who is nearest).
    population : array-like or DataFrame, optional
        Rows defining "approved" (e.g. the training data); needed by the string references.
    favorable : int, default=DEFAULT_FAVORABLE (0)
        The favorable (approved) class, as everywhere in glassnet
        (:mod:`glassnet.decisions.favorable`): 0 by default, the absence of the modelled
        event (class 1 = default), so the explained score is the probability of class 0.
        Pass 1 for a model whose class 1 is the good outcome.
    top_k : int or None, default=4
        How many reasons per row: the ``top_k`` most negative contributions (the ones that
        lowered the favorable score most). None lists every group, most negative first.
    groups : mapping, optional
        Group name -> input names or indices whose contributions are summed (one-hot
        columns of one original feature). Default: the network's ``feature_groups``;
        ``{}`` disables grouping.
    output : {"logit", "score"}, default="logit"
        Units used to rank: the favorable class's raw output (logit), or its probability
        (binary classifiers only). Both columns are always returned for binary networks.

    Returns
    -------
    DataFrame
        One row per (decision, reason): ``row`` (index label of X), ``rank``, ``feature``
        (group), ``value``, ``reference_value`` (sums over a group's inputs),
        ``contribution`` (in ``output`` units), ``contribution_logit``,
        ``contribution_score`` (NaN for multi-class), ``within_region`` (the row's own
        local linear model ``coef * (x - ref)``, logit units), ``within_region_error``
        (``f(x) - f(ref)`` minus the sum of ``within_region``: zero when the reference lies
        in the row's region, the error of that shortcut otherwise), ``total`` (``f(x) -
        f(ref)`` in ``output`` units, which ``contribution`` sums to over all groups).
        ``attrs["favorable"]`` / ``attrs["favorable_note"]`` state the class explained.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> from glassnet.decisions import reason_codes
    >>> net = ReluNetwork([np.eye(2), np.array([[1.0, -2.0]])], [np.zeros(2), [0.5]],
    ...                   output="sigmoid", feature_names=["income", "debt"])
    >>> # here class 1 means "approved": say so (the default favourable class is 0)
    >>> rc = reason_codes(net, np.array([[0.2, 1.0]]), reference=[1.0, 0.0], top_k=2,
    ...                   favorable=1)
    >>> rc[["feature", "contribution"]].round(3).to_dict("list")
    {'feature': ['debt', 'income'], 'contribution': [-2.0, -0.8]}
    """
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise ValueError(f"top_k must be a positive integer or None; got {top_k!r}.")
    net, Xa, refs, out_idx, sign, gidx, index = _prepare(
        model, X, reference, population, favorable, groups, output)
    n, names = Xa.shape[0], list(gidx)
    logit_attr = np.empty_like(Xa)
    score_attr = np.empty_like(Xa)
    for i in range(n):
        logit_attr[i], score_attr[i] = _row_attribution(net, refs[i], Xa[i], out_idx, sign)
    coef, _ = net.local_linear_models(net.activation_patterns(Xa))
    within = sign * coef[:, out_idx, :] * (Xa - refs)
    f_x = sign * net.forward(Xa)[:, out_idx]
    f_r = sign * net.forward(refs)[:, out_idx]
    gl, gs, gw = (_group_sum(a, gidx) for a in (logit_attr, score_attr, within))
    gx, gr = _group_sum(Xa, gidx), _group_sum(refs, gidx)
    primary = gl if output == "logit" else gs
    total = (f_x - f_r) if output == "logit" else (expit(f_x) - expit(f_r))
    err = (f_x - f_r) - gw.sum(axis=1)
    parts = []
    for i in range(n):
        order = np.argsort(primary[i], kind="stable")
        if top_k is not None:
            order = [j for j in order[:top_k] if primary[i, j] < 0]
        order = np.asarray(order, dtype=np.intp)
        parts.append(pd.DataFrame({
            "row": index[i], "rank": np.arange(1, order.size + 1),
            "feature": [names[j] for j in order], "value": gx[i, order],
            "reference_value": gr[i, order], "contribution": primary[i, order],
            "contribution_logit": gl[i, order], "contribution_score": gs[i, order],
            "within_region": gw[i, order], "within_region_error": err[i], "total": total[i],
        }))
    return _stated(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(), favorable)


def _prepare(model, X, reference, population, favorable, groups, output):
    net = as_network(model)
    require_classifier(net, "reason_codes")
    if output not in ("logit", "score"):
        raise ValueError(f"output must be 'logit' or 'score'; got {output!r}.")
    if output == "score" and not is_binary(net):
        raise ValueError("output='score' needs a binary (one sigmoid output) network; "
                         "use output='logit' for a multi-class one.")
    k = 2 if net.n_outputs == 1 else net.n_outputs
    if isinstance(favorable, bool) or not isinstance(favorable, (int, np.integer)) \
            or not 0 <= favorable < k:
        raise ValueError(f"favorable must be a class index in 0..{k - 1}; got {favorable!r}.")
    index = list(X.index) if hasattr(X, "index") and hasattr(X, "columns") else None
    Xa = net.check_input(X)
    if index is None:
        index = list(range(Xa.shape[0]))
    refs = resolve_reference(net, Xa, reference, population, int(favorable))
    out_idx, sign = _explained(net, int(favorable))
    return net, Xa, refs, out_idx, sign, group_index(net, groups), index


def _stated(frame: pd.DataFrame, favorable: int) -> pd.DataFrame:
    """Record on the table which class it explains (``attrs``), as fairness tables do."""
    frame.attrs["favorable"] = int(favorable)
    frame.attrs["favorable_note"] = favorable_note(int(favorable))
    return frame


def _group_sum(A: np.ndarray, gidx: dict[str, np.ndarray]) -> np.ndarray:
    return np.stack([A[:, idx].sum(axis=1) for idx in gidx.values()], axis=1)
