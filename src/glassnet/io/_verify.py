"""The last line of defence of every importer: compare with the original model on probe rows.

An importer reads weights and structure; it can still misread a model (an option of a
scaler it ignores, a user subclass with its own ``forward``). So after building the
network each importer runs the ORIGINAL model on a few seeded probe rows and refuses with
:class:`ImportMismatchError` when the two disagree.

Tolerance
---------
Row ``i`` passes when ``max_k |net_ik - ref_ik| <= rtol * (1 + m_i)``, where ``m_i`` is the
largest output of the *absolute-value* network (``|W|`` in every layer, ``|b|``, ``|x|``): a
bound on the magnitudes that rounding acts on, so huge inputs or weights do not trigger
false alarms while a misread layer (an error of the size of the output itself) is caught.
``rtol`` is ``1e-6`` for float64 models and ``1e-4`` for float32 models (float32 rounding
of sums of a few hundred terms). Probabilities are compared after the link (its slope is
at most 1, so the bound carries over).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.network import ReluNetwork

RTOL_FLOAT64 = 1e-6
RTOL_FLOAT32 = 1e-4
PROBE_SCALES = (1e-2, 1.0, 1e2)
PROBE_ROWS_PER_SCALE = 16
PROBE_SEED = 0


class ImportMismatchError(ValueError):
    """The imported network does not reproduce the original model on the probe rows."""


def probe_rows(
    n_features: int, center: np.ndarray | None = None, spread: np.ndarray | None = None
) -> np.ndarray:
    """Seeded probe rows: the zero row (or ``center``) and Gaussian rows at several scales.

    Parameters
    ----------
    n_features : int
    center, spread : ndarray of shape (n_features,), optional
        Rows are ``center + spread * s * N(0, 1)`` for each scale ``s`` (default 0 and 1),
        so rows in raw units can follow a fitted scaler's location and spread.

    Returns
    -------
    ndarray of shape (1 + 3 * 16, n_features), float64
    """
    rng = np.random.default_rng(PROBE_SEED)
    c = np.zeros(n_features) if center is None else np.asarray(center, dtype=np.float64)
    sd = np.ones(n_features) if spread is None else np.asarray(spread, dtype=np.float64)
    blocks = [c[None, :]]
    for s in PROBE_SCALES:
        blocks.append(c + sd * s * rng.standard_normal((PROBE_ROWS_PER_SCALE, n_features)))
    return np.vstack(blocks)


def abs_magnitude(net: ReluNetwork, X: np.ndarray) -> np.ndarray:
    """Per row, the largest output of the network with every weight, bias and input in
    absolute value: what rounding errors scale with."""
    a = np.abs(X)
    with np.errstate(over="ignore", invalid="ignore"):
        for W, b in zip(net.weights, net.biases, strict=True):
            a = a @ np.abs(W).T + np.abs(b)
    return a.max(axis=1)


def check_agreement(
    net: ReluNetwork,
    X_net: np.ndarray,
    reference: Callable[[], Any],
    *,
    model: str,
    float32: bool = False,
    after_link: bool = True,
    rtol: float | None = None,
) -> None:
    """Raise :class:`ImportMismatchError` when ``net`` and the original model disagree.

    Parameters
    ----------
    net : ReluNetwork
        The imported network.
    X_net : ndarray of shape (n, net.n_features)
        Probe rows in the network's input space.
    reference : callable
        Returns the original model's outputs on the same rows, shape ``(n, k)`` or ``(n,)``
        (for a binary classifier, ``(n, 2)`` probabilities are reduced to the second column).
    model : str
        How to name the original model in the message.
    float32 : bool
        Compare at float32 accuracy.
    after_link : bool
        Whether ``reference`` gives outputs after the link (probabilities) or raw ones.
    rtol : float, optional
        Overrides the relative tolerance (float16 models).
    """
    try:
        ref = np.asarray(reference(), dtype=np.float64)
    except Exception as exc:  # the original model itself fails on plain rows
        raise ImportMismatchError(
            f"Could not run the original {model} on probe rows to verify the import: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    ref = ref.reshape(ref.shape[0], -1)
    if ref.shape[1] == 2 and net.n_outputs == 1 and after_link and net.output == "sigmoid":
        ref = ref[:, 1:]
    with np.errstate(over="ignore", invalid="ignore"):
        got = net.predict_output(X_net) if after_link else net.forward(X_net)
    if ref.shape != got.shape:
        raise ImportMismatchError(
            f"The imported network gives {got.shape[1]} outputs per row but the original "
            f"{model} gives {ref.shape[1]}; the import misread the model."
        )
    # rows the original model itself cannot compute (a float32 overflow) are skipped; a
    # non-finite imported output where the original is finite counts as a mismatch
    rows = np.isfinite(ref).all(axis=1)
    if not rows.any():
        raise ImportMismatchError(
            f"The original {model} gives no finite output on any probe row; cannot verify."
        )
    with np.errstate(invalid="ignore"):
        err = np.abs(got[rows] - ref[rows]).max(axis=1)
    err[np.isnan(err)] = np.inf
    if rtol is None:
        rtol = RTOL_FLOAT32 if float32 else RTOL_FLOAT64
    tol = rtol * (1.0 + abs_magnitude(net, X_net[rows]))
    bad = err > tol
    if bad.any():
        i = int(np.argmax(err / tol))
        raise ImportMismatchError(
            f"The imported network does not reproduce the original {model}: on probe row "
            f"{int(np.flatnonzero(rows)[i])} they differ by {err[i]:.3g} (tolerance "
            f"{tol[i]:.3g}; {int(bad.sum())} of {int(rows.sum())} probe rows differ). The "
            "model holds something the importer does not read exactly (a custom layer or an "
            "unsupported option); it is refused rather than imported wrongly."
        )
