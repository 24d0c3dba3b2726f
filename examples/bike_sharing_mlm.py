"""BikeSharing: explain a 3x30 ReLU network with a mixture of linear models (MLM-EPIC)
===================================================================================

The reference protocol of the mixture-of-linear-models authors: one-hot ``season`` and
``weathersit`` dropping the first level (16 features), standardised, 80/20 split with seed 0,
a ReLU network with three hidden layers of 30 units. Their published test RMSEs: network 47.6,
MLM-cell 60.9 (1,712 cells), MLM-EPIC 66.7 (150 EPICs).

The network is trained on standardised inputs; the standardisation is then folded into its
first layer, so the mixture (its coefficients and rules) speaks in the original units
(``hr > 16.5 and workingday == 1``) while its perturbations still have variance ``eps`` on
the standardised scale (the mixture scales them by each feature's standard deviation).

Run: ``python examples/bike_sharing_mlm.py`` (about a minute on two cores, network training
included).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd
import torch

from glassnet import MixtureOfLinearModels, ReluNetRegressor, ReluNetwork
from glassnet.datasets import load_bike_sharing

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data", "bike_sharing.csv")
PATH = SHARED if os.path.exists(SHARED) else None  # else the loader's cache / OpenML

# Settings of the mixture used below (see docs/mlm.md for what each one does). As the
# reference notebook: 100 clusters per hidden layer (about 1,900 cells here, 1,712 there),
# 100 perturbed points per cell of variance 0.01, cell-size priors. k-means instead of the
# reference's Gaussian mixtures (clustering="gmm": MLM-cell 58.7, MLM-EPIC 65.8, but a fit of
# about 4 minutes instead of 5 s on two cores); the cell Gaussians
# of the soft weights use the library defaults (each cell's real rows, covariance shrunk
# towards the pooled within-cell covariance with 20 pseudo-rows).
MLM_SETTINGS = dict(n_layer_clusters=100, clustering="kmeans", n_perturb=100, perturb_var=1e-2,
                    prior="size", random_state=0)


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def raw_features(path) -> pd.DataFrame:
    """The 16 published features in original units (0/1 dummies, hour 0..23, ...)."""
    raw = load_bike_sharing(path, preprocess=None).frame
    base = raw.drop(columns=["season", "weathersit", "cnt"]).astype(np.float64)
    dummies = [(raw[c] == level).astype(np.float64).rename(f"{c}_{level}")
               for c in ("season", "weathersit") for level in (2, 3, 4)]
    return pd.concat([base, *dummies], axis=1)


def main() -> None:
    ds = load_bike_sharing(PATH)  # published protocol: standardised, 80/20, seed 0
    print(ds)
    t0 = time.perf_counter()
    reg = ReluNetRegressor((30, 30, 30), learning_rate=3e-3, batch_size=200, max_epochs=600,
                           n_iter_no_change=30, validation_fraction=0.2,
                           random_state=0).fit(ds.X_train, ds.y_train)
    print(f"network trained in {time.perf_counter() - t0:.1f} s ({reg.n_epochs_} epochs)")

    # Fold the standardisation into the first layer: the network then reads raw features.
    X = raw_features(PATH)[ds.feature_names]
    Xtr, Xte = X.loc[ds.X_train.index], X.loc[ds.X_test.index]
    mu, sd = Xtr.mean(), Xtr.std(ddof=0)
    assert np.allclose((Xtr - mu) / sd, ds.X_train), "standardisation differs from the loader"
    net = reg.network_
    W0 = net.weights[0] / sd.to_numpy()
    b0 = net.biases[0] - W0 @ mu.to_numpy()
    raw_net = ReluNetwork([W0, *net.weights[1:]], [b0, *net.biases[1:]],
                          feature_names=list(X.columns))
    ytr, yte = ds.y_train.to_numpy(), ds.y_test.to_numpy()
    net_rmse = rmse(raw_net.forward(Xte)[:, 0], yte)
    print(f"\nnetwork test RMSE                 {net_rmse:7.2f}   (reference 47.6)")

    t0 = time.perf_counter()
    mlm = MixtureOfLinearModels(raw_net, n_epics=150, **MLM_SETTINGS).fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    cell_rmse = rmse(mlm.predict(Xte, level="cell"), yte)
    epic_rmse = rmse(mlm.predict(Xte), yte)
    print(f"MLM-cell test RMSE ({mlm.cells_.shape[0]} cells)   {cell_rmse:7.2f}   (reference 60.9,"
          " 1,712 cells)")
    print(f"MLM-EPIC test RMSE ({mlm.n_epics_} EPICs)    {epic_rmse:7.2f}   (reference 66.7, "
          "150 EPICs)")
    print(f"  hard weights: cell {rmse(mlm.predict(Xte, level='cell', weights='hard'), yte):.2f},"
          f" EPIC {rmse(mlm.predict(Xte, weights='hard'), yte):.2f}")
    print(f"  fit {fit_s:.1f} s; steps: " + ", ".join(
        f"{k} {v:.2f}" for k, v in mlm.fit_times_.items() if k != "total"))

    # every default (k-means with min(100, sqrt(n)) clusters per layer, perturb_var=1e-2,
    # EPICs chosen on a 20% hold-out by the rule that keeps the mixture close to the network)
    t0 = time.perf_counter()
    auto = MixtureOfLinearModels(raw_net, random_state=0).fit(Xtr, ytr)
    print(f"\nMLM-EPIC with the defaults: {auto.n_epics_} EPICs ({auto.cells_.shape[0]} cells), "
          f"test RMSE {rmse(auto.predict(Xte), yte):.2f} (fit {time.perf_counter() - t0:.1f} s)")
    table = auto.epic_scores_
    print(table.assign(validation_rmse=np.sqrt(table.validation_loss),
                       network_rmse=np.sqrt(table.network_loss))
          .drop(columns=["validation_loss", "network_loss"]).round(2).to_string(index=False))

    print("\nLargest EPICs of the default mixture:")
    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print(auto.summary().head(8).round(2).to_string(index=False))
    print("\nExplainable conditions (purity >= 0.8):")
    rules = auto.rules(psi=0.8).sort_values("n_samples", ascending=False, kind="stable")
    for r in rules.head(12).itertuples():
        print(f"  EPIC {r.epic}: {r.rule}  (n={r.n_samples}, purity {r.purity:.2f}, "
              f"coverage {r.coverage:.2f})")
    coefs = auto.coefficients().set_index("epic").head(5)
    print("\nCoefficients of the five largest EPICs (original units):")
    print(coefs[["intercept", "hr", "workingday", "temp", "hum", "yr"]].round(2).to_string())


if __name__ == "__main__":
    main()
