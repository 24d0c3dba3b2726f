"""TaiwanCredit with the estimator defaults: standardised inputs, raw CSV and published protocol
=============================================================================================

Three parts (figures in docs/training.md):

1. ``--select``: how the default mini-batch size was chosen. The published protocol's
   training rows are split 80/20 again (``random_state=0``); ``ReluNetClassifier((40, 40))``
   is fitted on the 80% with each candidate batch size and seeds 0-2, and scored by ROC AUC
   on the 20% validation rows. The test rows are not touched.
2. The published protocol (``glassnet.datasets.load_taiwan_credit()``: 18 features, log
   amounts, min-max scaled, 80/20 split with seed 0): test AUC of
   ``ReluNetClassifier(hidden_layer_sizes=(40, 40))`` with defaults, seeds 0-2
   (PiML's ReLU-DNN on the same rows: 0.7695 / 0.7719 / 0.7730).
3. The raw CSV as delivered (23 raw features, amounts up to 1e6, integer-coded SEX,
   EDUCATION, MARRIAGE) through ``glassnet train`` with its defaults, plus the same with
   ``--categorical SEX,EDUCATION,MARRIAGE``.

Run: ``python examples/taiwan_credit_train.py [--select] [--csv PATH]``. Parts 2-3 take
about 2-4 minutes on one core; ``--select`` about 5 more.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from glassnet import ReluNetClassifier
from glassnet.datasets import data_home, load_taiwan_credit

SEEDS = (0, 1, 2)


def select_batch_size(data, candidates=(100, 200, 500)) -> None:
    """Validation AUC per candidate batch size, on rows carved from the training rows."""
    X_fit, X_val, y_fit, y_val = train_test_split(
        data.X_train, data.y_train, test_size=0.2, random_state=0
    )
    print("batch_size | val AUC seeds 0-2 | mean | epochs | fit s")
    for b in candidates:
        aucs, epochs, secs = [], [], []
        for s in SEEDS:
            clf = ReluNetClassifier((40, 40), batch_size=b, random_state=s).fit(X_fit, y_fit)
            aucs.append(roc_auc_score(y_val, clf.predict_proba(X_val)[:, 1]))
            epochs.append(clf.n_epochs_)
            secs.append(clf.fit_time_)
        print(f"{b:10d} | {' / '.join(f'{a:.4f}' for a in aucs)} | {np.mean(aucs):.4f} | "
              f"{np.mean(epochs):.0f} | {np.mean(secs):.1f}", flush=True)


def published(data) -> None:
    aucs = []
    for s in SEEDS:
        t = time.perf_counter()
        clf = ReluNetClassifier(hidden_layer_sizes=(40, 40), random_state=s)
        clf.fit(data.X_train, data.y_train)
        aucs.append(roc_auc_score(data.y_test, clf.predict_proba(data.X_test)[:, 1]))
        print(f"published protocol, seed {s}: test AUC {aucs[-1]:.4f} "
              f"({clf.n_epochs_} epochs, {time.perf_counter() - t:.1f} s)", flush=True)
    print(f"published protocol, mean over seeds 0-2: {np.mean(aucs):.4f} "
          "(PiML 0.7695 / 0.7719 / 0.7730, mean 0.7715)")


def raw_csv(csv: Path, extra: list[str], label: str, importance: bool = False) -> None:
    """``glassnet train`` on the raw CSV; optionally the standardised vs raw importance."""
    import pandas as pd

    from glassnet import feature_importance, unwrap
    from glassnet.cli import main
    from glassnet.persist import load

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        code = main(["train", str(csv), "--target", "FlagDefault", "--out", tmp, "--no-report",
                     "--quiet", *extra])
        secs = time.perf_counter() - t
        metrics = json.loads((Path(tmp) / "metrics.json").read_text())
        est = load(Path(tmp) / "model.glassnet") if importance else None
    assert code == 0
    print(f"raw CSV, glassnet train {label}: test AUC {metrics['test AUC']:.4f}, "
          f"{metrics['regions']} regions on the training rows, {secs:.0f} s", flush=True)
    for caveat in metrics.get("caveats", []):
        print(f"  caveat: {caveat}")
    if est is None:
        return
    df = pd.read_csv(csv)
    y = df.pop("FlagDefault")
    X_tr, _, _, _ = train_test_split(df.astype(float), y, test_size=0.2, random_state=0,
                                     stratify=y)  # the command's split
    regions = unwrap(est, X_tr)
    for scale in ("std", "raw"):
        imp = feature_importance(regions, X_tr, scale=scale)
        ranks = {f: imp.index.get_loc(f) + 1 for f in ("LIMIT_BAL", "SEX", "AGE")}
        print(f"  importance, scale={scale}: top 5 {list(imp.index[:5])}; ranks of 23: {ranks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--select", action="store_true", help="run the batch-size selection")
    parser.add_argument("--csv", type=Path, default=None, help="taiwan_credit.csv")
    parser.add_argument("--skip-raw", action="store_true")
    args = parser.parse_args()
    if args.csv is None:  # the project's copy next to the checkout, else glassnet's data home
        shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "taiwan_credit.csv"
        args.csv = shared if shared.exists() else data_home() / "taiwan_credit.csv"
    data = load_taiwan_credit(args.csv)
    if args.select:
        select_batch_size(data)
    published(data)
    if not args.skip_raw:
        raw_csv(args.csv, [], "(defaults)", importance=True)
        raw_csv(args.csv, ["--categorical", "SEX,EDUCATION,MARRIAGE"],
                "--categorical SEX,EDUCATION,MARRIAGE")
        raw_csv(args.csv, ["--no-standardize"], "--no-standardize (the old behaviour)")


if __name__ == "__main__":
    main()
