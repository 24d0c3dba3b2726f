"""CoCircles: merge a 4x40 ReLU network's regions (count by CV), then flatten (F8)
===============================================================================

The Aletheia reference: 530 regions, test AUC 0.932; merged to 8 regions, 0.90;
flattened, 0.91. The network here is scikit-learn's ``MLPClassifier`` with 4 hidden layers
of 40, trained as in ``examples/cocircles_partition.py`` (80/20 split, seed 0). The merged
count is chosen by 5-fold cross-validation among 1..8 with the one-standard-error rule.

Run from the repository root::

    .venv/bin/python examples/cocircles_merge.py
"""

from __future__ import annotations

import time
import warnings

import torch
from _cocircles import cocircles_split, fit_cocircles_mlp
from sklearn.metrics import roc_auc_score

from glassnet import RegionMerger, flatten, unwrap


def main() -> dict[str, float]:
    torch.set_num_threads(1)
    X_tr, X_te, y_tr, y_te = cocircles_split()
    mlp = fit_cocircles_mlp(X_tr, y_tr)
    net_auc = roc_auc_score(y_te, mlp.predict_proba(X_te)[:, 1])
    n_regions = len(unwrap(mlp, X_tr))
    print(f"network 4x40: {n_regions} regions on the training rows, test AUC {net_auc:.4f}")

    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        merger = RegionMerger(mlp, candidates=range(1, 9), random_state=0).fit(X_tr, y_tr)
    for w in caught:
        print(f"  warning: {w.message}")
    merged_auc = roc_auc_score(y_te, merger.predict_proba(X_te)[:, 1])
    r = merger.cv_results_
    print("CV (5 folds):", "  ".join(
        f"{k}:{m:.4f}+/-{s:.4f}" for k, m, s in
        zip(r["n_regions"], r["mean_test_score"], r["sem_test_score"], strict=True)))
    print(f"merged: {merger.n_regions_} regions (CV chose {merger.cv_n_regions_}), "
          f"test AUC {merged_auc:.4f}  [{time.perf_counter() - t:.1f} s]")

    t = time.perf_counter()
    flat = flatten(merger, X_tr, y_tr, random_state=0)
    flat_auc = roc_auc_score(y_te, flat.predict_proba(X_te)[:, 1])
    flat_regions = len(unwrap(flat.network_, X_tr))
    print(f"flattened: 1x{merger.n_regions_} network, {flat_regions} regions, "
          f"test AUC {flat_auc:.4f}  [{time.perf_counter() - t:.1f} s]")
    print(merger.summary(X_te, y_te)[["region", "count", "y_mean", "pred_mean", "local_auc",
                                      "intercept", "coef_x0", "coef_x1"]].round(3))
    return {"network": net_auc, "merged": merged_auc, "n_merged": merger.n_regions_,
            "flattened": flat_auc}


if __name__ == "__main__":
    out = main()
    ok = out["n_merged"] <= 8 and out["merged"] >= 0.91 and out["flattened"] >= 0.91
    print("targets (<= 8 regions, merged AUC >= 0.91, flattened AUC >= 0.91):",
          "met" if ok else "NOT met")
