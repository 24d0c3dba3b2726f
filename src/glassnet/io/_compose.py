"""Build a ReluNetwork from a flat list of affine maps and ReLUs.

Every importer (scikit-learn, torch, ONNX) reduces its model to such a list. Adjacent
affine maps (a Linear followed by a folded BatchNorm, two Linears without an activation)
are multiplied together; repeated ReLUs collapse; a ReLU at the very start or end gets an
identity affine map beside it, so any such stack becomes ``affine (relu affine)*`` exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from glassnet.network import ReluNetwork


@dataclass(frozen=True)
class Affine:
    """``x -> W @ x + b`` with ``W`` of shape (n_out, n_in)."""

    W: np.ndarray
    b: np.ndarray
    source: str = ""


RELU = "relu"


def network_from_ops(
    ops: Sequence[Affine | str],
    *,
    output: str = "identity",
    feature_names: Sequence[str] | None = None,
    n_features: int | None = None,
    feature_groups: Mapping[str, Sequence[str]] | None = None,
) -> ReluNetwork:
    """Normalise ``ops`` to ``affine (relu affine)*`` and build the network."""
    norm: list[Affine | str] = []
    for op in ops:
        if isinstance(op, Affine):
            W = np.asarray(op.W, dtype=np.float64)
            b = np.asarray(op.b, dtype=np.float64)
            if norm and isinstance(norm[-1], Affine):
                prev = norm[-1]
                if W.shape[1] != prev.W.shape[0]:
                    raise ValueError(
                        f"Layer {op.source or '?'} expects {W.shape[1]} inputs but the layer "
                        f"before it ({prev.source or '?'}) gives {prev.W.shape[0]}."
                    )
                with np.errstate(over="ignore", invalid="ignore"):
                    merged = Affine(W @ prev.W, W @ prev.b + b, prev.source)
                if not (np.isfinite(merged.W).all() and np.isfinite(merged.b).all()):
                    raise ValueError(
                        f"Folding {op.source or '?'} into {prev.source or '?'} (two affine maps "
                        "without a ReLU between them) gives non-finite weights: NaN/inf "
                        "weights or products that overflow float64."
                    )
                norm[-1] = merged
            else:
                norm.append(Affine(W, b, op.source))
        elif op == RELU:
            if not norm or norm[-1] != RELU:
                norm.append(RELU)
        else:  # pragma: no cover - importers only emit the two kinds
            raise TypeError(f"Unknown operation {op!r}.")
    if not any(isinstance(op, Affine) for op in norm):
        raise ValueError("The model has no dense (linear) layer; nothing to import.")
    if norm[0] == RELU:
        first = next(op for op in norm if isinstance(op, Affine))
        d = first.W.shape[1] if n_features is None else n_features
        norm.insert(0, Affine(np.eye(d), np.zeros(d), "input identity"))
    if norm[-1] == RELU:
        width = norm[-2].W.shape[0]
        norm.append(Affine(np.eye(width), np.zeros(width), "output identity"))
    affines = [op for op in norm if isinstance(op, Affine)]
    for a, b in zip(affines[:-1], affines[1:], strict=True):
        if b.W.shape[1] != a.W.shape[0]:
            raise ValueError(
                f"Layer {b.source or '?'} expects {b.W.shape[1]} inputs but the layer before "
                f"it ({a.source or '?'}) gives {a.W.shape[0]}."
            )
    return ReluNetwork(
        [op.W for op in affines],
        [op.b for op in affines],
        output=output,
        feature_names=feature_names,
        feature_groups=feature_groups,
    )
