"""TaiwanCredit: a mixture of linear (logistic) models explaining default networks
===============================================================================

Published PiML protocol (18 features, signed log amounts, min-max scaled, 80/20 split with
seed 0). Two networks are explained: a ReLU network (40, 40) trained with glassnet, and a
scikit-learn ``MLPClassifier`` with tanh activations, which has no exact local linear models:
the mixture needs only its hidden-layer outputs and predicted probabilities.

Run: ``python examples/taiwan_credit_mlm.py`` (a few minutes on two cores).
"""

from __future__ import annotations

import os
import time
import warnings

import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

from glassnet import MixtureOfLinearModels, ReluNetClassifier
from glassnet.datasets import load_taiwan_credit

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data", "taiwan_credit.csv")
PATH = SHARED if os.path.exists(SHARED) else None

# The library's defaults (k-means with min(16, sqrt(n)) clusters per hidden layer for a
# classifier, perturbations of variance 1e-2, the number of EPICs chosen on a 20% hold-out by
# the rule that keeps the mixture close to the network); see docs/mlm.md for the study.
MLM_SETTINGS = dict(random_state=0)


def explain(name: str, network, ds) -> MixtureOfLinearModels:
    Xtr, Xte, ytr, yte = ds.X_train, ds.X_test, ds.y_train.to_numpy(), ds.y_test.to_numpy()
    net_auc = roc_auc_score(yte, network.predict_proba(Xte)[:, 1])
    t0 = time.perf_counter()
    mlm = MixtureOfLinearModels(network, **MLM_SETTINGS).fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    auc_epic = roc_auc_score(yte, mlm.predict_proba(Xte)[:, 1])
    auc_cell = roc_auc_score(yte, mlm.predict_proba(Xte, level="cell")[:, 1])
    auc_hard = roc_auc_score(yte, mlm.predict_proba(Xte, weights="hard")[:, 1])
    print(f"\n== {name}")
    print(f"network test AUC                      {net_auc:.4f}")
    print(f"MLM-cell test AUC ({mlm.cells_.shape[0]} cells)        {auc_cell:.4f}")
    print(f"MLM-EPIC test AUC ({mlm.n_epics_} EPICs, auto)   {auc_epic:.4f}   "
          f"(hard weights {auc_hard:.4f})")
    print(f"fit {fit_s:.1f} s; steps: " + ", ".join(
        f"{k} {v:.2f}" for k, v in mlm.fit_times_.items() if k != "total"))
    return mlm


def main() -> None:
    ds = load_taiwan_credit(PATH)
    print(ds)
    t0 = time.perf_counter()
    relu = ReluNetClassifier((40, 40), learning_rate=1e-3, batch_size=500, max_epochs=300,
                             random_state=0).fit(ds.X_train, ds.y_train)
    print(f"ReLU network trained in {time.perf_counter() - t0:.1f} s")
    mlm = explain("ReLU network (40, 40), glassnet", relu, ds)

    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print("\nEPICs:")
        print(mlm.summary().round(3).to_string(index=False))
    print("\nExplainable conditions (purity >= 0.8):")
    for r in mlm.rules(psi=0.8).itertuples():
        print(f"  EPIC {r.epic}: {r.rule}  (n={r.n_samples}, purity {r.purity:.2f}, "
              f"coverage {r.coverage:.2f})")
    coefs = mlm.coefficients(standardized=True).set_index("epic")
    print("\nEPIC log-odds coefficients per standard deviation (largest EPICs):")
    print(coefs[["intercept", "PAY_1", "PAY_2", "BILL_AMT1", "PAY_AMT1", "PAY_AMT2"]]
          .head(6).round(3).to_string())

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tanh = MLPClassifier(hidden_layer_sizes=(40, 40), activation="tanh", early_stopping=True,
                             max_iter=200, random_state=0).fit(ds.X_train, ds.y_train)
    print(f"\ntanh MLPClassifier trained in {time.perf_counter() - t0:.1f} s")
    explain("tanh network (40, 40), scikit-learn", tanh, ds)


if __name__ == "__main__":
    main()
