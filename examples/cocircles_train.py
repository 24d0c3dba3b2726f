"""CoCircles: train a 2x40 ReLU network with glassnet's estimator and unwrap it (F2, F11)
======================================================================================

Data: ``make_circles(2000, noise=0.1, factor=0.8, random_state=0)``
(:func:`glassnet.datasets.make_cocircles`), random 80/20 split with seed 0. PiML reports a
2x40 ReLU network at test AUC 0.9215 on these data.

Run from the repository root::

    .venv/bin/python examples/cocircles_train.py
"""

from __future__ import annotations

import time

import torch
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from glassnet import ReluNetClassifier, unwrap
from glassnet.datasets import make_cocircles


def main() -> dict[str, float]:
    torch.set_num_threads(1)
    df = make_cocircles()
    X, y = df[["X0", "X1"]], df["target"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    clf = ReluNetClassifier((40, 40), learning_rate=0.01, batch_size=200, max_epochs=500,
                            n_iter_no_change=30, random_state=0)
    start = time.perf_counter()
    clf.fit(X_tr, y_tr)
    fit_time = time.perf_counter() - start
    auc_tr = roc_auc_score(y_tr, clf.predict_proba(X_tr)[:, 1])
    auc_te = roc_auc_score(y_te, clf.predict_proba(X_te)[:, 1])
    regions = unwrap(clf.network_, X_tr)
    print(f"CoCircles 2x40: train AUC {auc_tr:.4f}, test AUC {auc_te:.4f} (PiML 0.9215)")
    print(f"  {clf.n_epochs_} epochs (best {clf.best_epoch_}), fit time {fit_time:.2f} s")
    print(f"  {regions.n_regions} regions on {regions.n_samples} training rows, "
          f"{regions.n_regions_covering(0.95)} cover 95%; "
          f"exactness certificate max |LLM - net| = {regions.max_abs_error:.1e}")
    return {"test_auc": auc_te, "fit_time": fit_time, "n_regions": regions.n_regions}


if __name__ == "__main__":
    main()
