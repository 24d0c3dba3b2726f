"""TaiwanCredit: merge a 2x40 ReLU network's regions into at most 10 (F8).

Published protocol (PiML toolbox examples, see ``glassnet.datasets.load_taiwan_credit``):
18 features, signed log10 of the amounts, min-max scaling, random 80/20 split with seed 0.
PiML reports a 2x40 ReLU net at test AUC 0.769-0.774 and strong-L1 nets with 8-22 local
linear models at 0.741-0.767. The count is chosen by 5-fold CV among 1..10 (one-standard-
error rule).

Run from the repository root::

    .venv/bin/python examples/taiwan_credit_merge.py [path/to/taiwan_credit.csv]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch
from sklearn.metrics import roc_auc_score

from glassnet import RegionMerger, ReluNetClassifier, unwrap
from glassnet.datasets import load_taiwan_credit


def main(argv: list[str]) -> dict[str, float]:
    torch.set_num_threads(1)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "taiwan_credit.csv"
    path = Path(argv[0]) if argv else (default if default.exists() else None)
    data = load_taiwan_credit(path)
    X_tr, X_te, y_tr, y_te = data.X_train, data.X_test, data.y_train, data.y_test
    t = time.perf_counter()
    net = ReluNetClassifier((40, 40), learning_rate=0.001, batch_size=500, max_epochs=300,
                            n_iter_no_change=20, random_state=0).fit(X_tr, y_tr)
    net_auc = roc_auc_score(y_te, net.predict_proba(X_te)[:, 1])
    R = len(unwrap(net, X_tr))
    print(f"network 2x40: {R} regions on {len(X_tr)} training rows, test AUC {net_auc:.4f} "
          f"[{time.perf_counter() - t:.0f} s]")
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        merger = RegionMerger(net, candidates=range(1, 11), random_state=0).fit(X_tr, y_tr)
    for w in caught:
        print(f"  warning: {w.message}")
    auc = roc_auc_score(y_te, merger.predict_proba(X_te)[:, 1])
    r = merger.cv_results_
    print("CV (5 folds):", "  ".join(
        f"{k}:{m:.4f}" for k, m in zip(r["n_regions"], r["mean_test_score"], strict=True)))
    print(f"merged: {merger.n_regions_} regions (CV chose {merger.cv_n_regions_}), test AUC "
          f"{auc:.4f} [{time.perf_counter() - t:.0f} s]")
    print(merger.summary(X_te, y_te)[["region", "count", "y_mean", "pred_mean", "local_auc",
                                      "global_auc"]].round(3))
    return {"network": net_auc, "merged": auc, "n_merged": merger.n_regions_}


if __name__ == "__main__":
    out = main(sys.argv[1:])
    ok = out["n_merged"] <= 10 and out["merged"] >= 0.765
    print("targets (<= 10 regions, test AUC >= 0.765):", "met" if ok else "NOT met")
