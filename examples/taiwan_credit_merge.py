"""TaiwanCredit as delivered: merge and prune a 2x40 ReLU network's regions (F8, issue 14)
=======================================================================================

The raw CSV (23 features: amounts up to 1e6, integer-coded categories), split 80/20
stratified with seed 0 as ``glassnet simplify`` does. The network is a
``ReluNetClassifier((40, 40))`` with its defaults (inputs standardised and the scaler
folded into the network, so every local model is in the original units). Then:

- ``RegionMerger(n_regions="cv")``: 5-fold CV on the training rows among 1..20 merged
  regions, one-standard-error rule;
- ``RegionPruner(n_regions="cv")``: 5-fold CV among 1, 2, 3, 5, 8, 10, 15, 20 kept regions,
  same rule.

Both refit their GLMs on standardised inputs and report them in raw units; the test rows
are only scored. Targets (issue 14): each fit under 30 s on the 2-core project machine, no
third-party warning.

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
from sklearn.model_selection import train_test_split

from glassnet import RegionMerger, RegionPruner, ReluNetClassifier, unwrap
from glassnet.datasets import load_taiwan_credit


def main(argv: list[str]) -> dict[str, float]:
    torch.set_num_threads(1)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "taiwan_credit.csv"
    path = Path(argv[0]) if argv else (default if default.exists() else None)
    frame = load_taiwan_credit(path, preprocess=None).frame
    y = frame.pop("FlagDefault").to_numpy()
    X_tr, X_te, y_tr, y_te = train_test_split(frame, y, test_size=0.2, random_state=0,
                                              stratify=y)
    t = time.perf_counter()
    net = ReluNetClassifier((40, 40), random_state=0).fit(X_tr, y_tr)
    net_auc = roc_auc_score(y_te, net.predict_proba(X_te)[:, 1])
    R = len(unwrap(net, X_tr))
    print(f"network 2x40 (standardize=True): {R} regions on {len(X_tr)} raw training rows, "
          f"test AUC {net_auc:.4f} [{time.perf_counter() - t:.0f} s]")
    out: dict[str, float] = {"network": net_auc, "n_network": R}
    for name, est in (("merge", RegionMerger(net, random_state=0)),
                      ("prune", RegionPruner(net, n_regions="cv", random_state=0))):
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            est.fit(X_tr, y_tr)
        seconds = time.perf_counter() - t
        auc = roc_auc_score(y_te, est.predict_proba(X_te)[:, 1])
        r = est.cv_results_
        print(f"\n{name}: {est.n_regions_} regions (CV chose {est.cv_n_regions_}), test AUC "
              f"{auc:.4f}, fit {seconds:.1f} s, {len(caught)} warning(s)")
        for w in caught:
            print(f"  {w.category.__name__}: {w.message}")
        print("  CV AUC:", "  ".join(
            f"{k}:{m:.4f}" for k, m in zip(r["n_regions"], r["mean_test_score"], strict=True)))
        out.update({name: auc, f"n_{name}": est.n_regions_, f"t_{name}": seconds,
                    f"w_{name}": len(caught)})
        if name == "merge":
            # the GLMs in raw units: per NT$ for amounts, per code step for PAY_k
            cols = ["region", "count", "y_mean", "pred_mean", "local_auc", "coef_PAY_1",
                    "coef_LIMIT_BAL"]
            print(est.summary(X_te, y_te)[cols].to_string(index=False,
                                                          float_format="{:.4g}".format))
    return out


if __name__ == "__main__":
    res = main(sys.argv[1:])
    ok = all(res[f"t_{m}"] < 30 and res[f"w_{m}"] == 0 for m in ("merge", "prune"))
    print("\ntargets (each fit < 30 s, no warning):", "met" if ok else "NOT met")
