"""Merger fit time on 100k CoCircles rows with n_regions="cv", against unwrap time (F8).

Trains the 4x40 CoCircles network of ``examples/cocircles_merge.py`` on 2,000 rows, draws
100,000 rows from the same distribution (``make_circles(noise=0.1, factor=0.8)``), then
times ``unwrap`` and ``RegionMerger(n_regions="cv", cv=5, candidates=1..20).fit`` on them
in the same run and prints both and their ratio.

Run from the repository root::

    .venv/bin/python benchmarks/merge_speed.py [n_rows]
"""

from __future__ import annotations

import sys
import time
import warnings

from sklearn.datasets import make_circles
from sklearn.neural_network import MLPClassifier

from glassnet import RegionMerger, unwrap


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv else 100_000
    X, y = make_circles(n_samples=2000, noise=0.1, factor=0.8, random_state=0)
    mlp = MLPClassifier(
        hidden_layer_sizes=[40] * 4, max_iter=2000, early_stopping=True, n_iter_no_change=100,
        validation_fraction=0.2, learning_rate_init=0.001, random_state=0,
    ).fit(X, y)
    Xb, yb = make_circles(n_samples=n, noise=0.1, factor=0.8, random_state=1)
    t = time.perf_counter()
    regions = unwrap(mlp, Xb)
    t_unwrap = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merger = RegionMerger(mlp, random_state=0).fit(Xb, yb)
    t_merge = time.perf_counter() - t
    print(f"{n} rows, {len(regions)} regions")
    print(f"unwrap: {t_unwrap:.2f} s")
    print(f"RegionMerger(n_regions='cv', cv=5, 20 candidates).fit: {t_merge:.2f} s "
          f"-> {merger.n_regions_} merged regions")
    print(f"ratio merge / unwrap: {t_merge / t_unwrap:.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
