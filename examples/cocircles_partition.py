"""CoCircles: data, exact space partition and local linear models of a 4x40 ReLU net
=================================================================================

Reproduces the first seed's figure ("Deep ReLU DNN: data segmentation and LLMs") without a
grid: every activation region of the network inside the data's box is an exact polygon.

Run from the repository root::

    .venv/bin/python examples/cocircles_partition.py [out.png]

The figure goes to the path given, or to ``./out/cocircles_partition.png``. The network
is scikit-learn's ``MLPClassifier`` (4 hidden layers of 40, as in the Aletheia example).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from _cocircles import cocircles_split, fit_cocircles_mlp  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from glassnet import ReluNetwork  # noqa: E402
from glassnet.partition import PartitionDisplay, partition_2d  # noqa: E402


def main(argv: list[str]) -> Path:
    out = Path(argv[0]) if argv else Path("out") / "cocircles_partition.png"
    out.parent.mkdir(parents=True, exist_ok=True)

    X_tr, X_te, y_tr, y_te = cocircles_split()
    X = np.vstack([X_tr, X_te])
    mlp = fit_cocircles_mlp(X_tr, y_tr)
    auc = roc_auc_score(y_te, mlp.predict_proba(X_te)[:, 1])
    net = ReluNetwork.from_sklearn(mlp)

    pad = 0.1
    lo, hi = X.min(axis=0) - pad, X.max(axis=0) + pad
    bounds = ((lo[0], hi[0]), (lo[1], hi[1]))
    t = time.perf_counter()
    part = partition_2d(net, bounds)
    elapsed = time.perf_counter() - t
    held = np.bincount(part.locate(X_tr), minlength=len(part))
    top = np.argsort(-held)[:8]
    print(f"test AUC {auc:.3f}; {len(part)} regions in the box (exact, {elapsed:.2f} s), "
          f"{(held > 0).sum()} of them hold training rows, {(held == 1).sum()} hold one row")
    print(f"areas sum to {part.areas.sum():.12f} (box {part.box_area:.12f})")

    fig, axes = plt.subplots(1, 3, figsize=(16, 5.6))
    ax = axes[0]
    ax.scatter(X_tr[:, 0], X_tr[:, 1], c=y_tr, cmap="coolwarm", s=5)
    ax.set_xlim(*bounds[0])
    ax.set_ylim(*bounds[1])
    ax.set_aspect("equal", adjustable="box")
    ax.set_title(f"Simulated data (test AUC {auc:.3f})")
    PartitionDisplay.from_partition(part, ax=axes[1], color_by="region", linewidth=0.2,
                                    edgecolor="grey")
    axes[1].set_title(f"Space partitioning: {len(part)} activation regions")
    PartitionDisplay.from_partition(
        part, X=X_tr, y=y_tr, ax=axes[2], color_by="output", edgecolor="none", alpha=0.45,
        llm_lines=top, scatter_kwargs={"s": 4},
    )
    axes[2].set_title("LLM decision lines of the 8 most populated regions")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    print(f"figure written to {out}")
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
