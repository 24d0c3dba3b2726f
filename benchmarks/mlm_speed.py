"""Speed of MLM-EPIC on BikeSharing with about 1,900 cells (the reference had 1,712).

Prints the total fit time of ``MixtureOfLinearModels`` (fixed 150 EPICs, and automatic), the
time of each step, and the pairwise-disparity step alone by both of our methods: the closed
form from the cells' statistics (used for linear models) and the chunked evaluation of every
cell model on every augmented point (used for classifiers). The reference implementation's
disparity step alone took over 4 minutes for 1,712 cells. Target: under 60 s in total on two
cores.

Run: ``python benchmarks/mlm_speed.py``.
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch

from glassnet import MixtureOfLinearModels, ReluNetRegressor
from glassnet.mlm import _linear as lin
from glassnet.datasets import load_bike_sharing

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared", "data", "bike_sharing.csv")


def main() -> None:
    ds = load_bike_sharing(SHARED if os.path.exists(SHARED) else None)
    t0 = time.perf_counter()
    reg = ReluNetRegressor((30, 30, 30), learning_rate=3e-3, batch_size=200, max_epochs=600,
                           n_iter_no_change=30, validation_fraction=0.2,
                           random_state=0).fit(ds.X_train, ds.y_train)
    print(f"BikeSharing, {len(ds.X_train)} training rows, 16 features; 3x30 ReLU network "
          f"trained in {time.perf_counter() - t0:.1f} s (not part of the timings below)")
    # the settings of examples/bike_sharing_mlm.py (100 k-means clusters per hidden layer)
    settings = dict(n_layer_clusters=100, clustering="kmeans", n_perturb=100, perturb_var=1e-2,
                    random_state=0)
    for n_epics in (150, "auto"):
        t0 = time.perf_counter()
        mlm = MixtureOfLinearModels(reg, n_epics=n_epics, **settings).fit(
            ds.X_train, ds.y_train)
        total = time.perf_counter() - t0
        print(f"\nn_epics={n_epics!r}: {mlm.cells_.shape[0]} cells, {mlm.n_epics_} EPICs, "
              f"{mlm.augmented_X_.shape[0]} augmented points")
        print(f"  total fit time            {total:7.2f} s")
        for step, sec in mlm.fit_times_.items():
            if step != "total":
                print(f"    {step:<22}  {sec:7.2f} s")
    # the disparity step alone, both methods, on the last fit's data
    Z = (mlm.augmented_X_ - mlm.feature_mean_) / mlm.feature_scale_
    T = mlm.augmented_y_.reshape(len(Z), -1)
    C = mlm.cells_.shape[0]
    stats = lin.group_stats(Z, T, mlm.augmented_cell_, C)
    t0 = time.perf_counter()
    D1 = lin.disparity_regression(stats, mlm._B_cell)
    t_closed = time.perf_counter() - t0
    t0 = time.perf_counter()
    D2 = lin.disparity_points(mlm._B_cell, Z, mlm.augmented_cell_, "identity")
    t_points = time.perf_counter() - t0
    print(f"\npairwise disparity of {C} cells ({C * (C - 1) // 2:,} pairs):")
    print(f"  closed form from cell statistics   {t_closed:7.2f} s")
    print(f"  chunked evaluation on all points   {t_points:7.2f} s")
    print(f"  max relative difference            {np.abs(D1 - D2).max() / D2.max():.1e}")
    print("  (reference implementation: over 240 s for 1,712 cells)")


if __name__ == "__main__":
    main()
