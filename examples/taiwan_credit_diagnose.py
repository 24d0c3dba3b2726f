"""TaiwanCredit: every validation test of ``glassnet.diagnose`` on a 2x40 ReLU network
===================================================================================

Data: the published protocol (``glassnet.datasets.load_taiwan_credit``: 18 features, signed
log10 of the amounts, random 80/20 split with seed 0), then standardised with the training
rows' mean and standard deviation, so the robustness radii read in standard deviations.
SEX is not a model input in this protocol; it is taken from the raw file for the same rows
and used only for the fairness section (reference group: the larger one, 2 = female).

Sections: accuracy (overall, per activation region, per merged region), weak spots (histogram,
tree, exact regions), overfit, split-conformal reliability (calibrated on half of the test
rows), robustness (random noise and the exact worst-case flip radius on 30 test rows),
resilience, fairness by SEX, comparison (network, merged regions, GLM, gradient boosting),
permutation importance, ALE and Friedman's H. Writes ``taiwan_credit_diagnose.html``.

Run from the repository root. The exact MILPs take most of the time: up to 30 x 60 s, so
10 to 30 minutes on a 2-core machine (HiGHS time limits are wall-clock, so a loaded machine
sees more time-outs); set ``EXACT_ROWS = 5`` and ``TIME_LIMIT = 10.0`` below for a run of
about a minute that prints every section::

    .venv/bin/python examples/taiwan_credit_diagnose.py [path/to/taiwan_credit.csv] [out.html]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from glassnet import RegionMerger, ReluNetClassifier, Report  # noqa: E402
from glassnet import diagnose as D  # noqa: E402
from glassnet.datasets import load_taiwan_credit  # noqa: E402
from glassnet.diagnose import run_diagnostics  # noqa: E402

EXACT_ROWS = 30  # test rows given the exact flip radius: one MILP each (HiGHS, 60 s at most)
TIME_LIMIT = 60.0


def main(argv: list[str]) -> dict:
    torch.set_num_threads(1)
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "taiwan_credit.csv"
    path = Path(argv[0]) if argv else (default if default.exists() else None)
    out_html = argv[1] if len(argv) > 1 else "taiwan_credit_diagnose.html"
    data = load_taiwan_credit(path)
    raw = load_taiwan_credit(path, preprocess=None).frame
    scaler = StandardScaler().fit(data.X_train)
    X_tr = pd.DataFrame(scaler.transform(data.X_train), columns=data.feature_names)
    X_te = pd.DataFrame(scaler.transform(data.X_test), columns=data.feature_names)
    y_tr, y_te = data.y_train.to_numpy(), data.y_test.to_numpy()
    sex_te = raw.loc[data.X_test.index, "SEX"].to_numpy()

    t = time.perf_counter()
    clf = ReluNetClassifier(hidden_layer_sizes=(40, 40), random_state=0).fit(X_tr, y_tr)
    print(f"trained 2x40 in {time.perf_counter() - t:.0f} s ({clf.n_epochs_} epochs)")
    results: dict = {}

    # 1. accuracy, also per merged region (8 merged regions, a fixed count to keep the run short)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        merger = RegionMerger(clf, n_regions=8, random_state=0).fit(X_tr, y_tr)
    by_merged = D.accuracy_table(clf, X_tr, y_tr, X_te, y_te, by="merged", merger=merger,
                                 metrics=["auc", "brier"], min_rows=200)
    by_region = D.accuracy_table(clf, X_tr, y_tr, X_te, y_te, by="region",
                                 metrics=["auc", "brier"], min_rows=200)
    print("\nper merged region:\n" + by_merged.round(4).to_string(index=False))
    print(f"\nper activation region: {len(by_region)} rows (regions with >= 200 training rows, "
          "the rest pooled as 'small', unseen test patterns as -1)")
    tree = D.weakspots(clf, X_te, y_te, method="tree", metric="log_loss", max_depth=3,
                       min_samples=100)
    print("\nweak spots (tree on the per-row log-loss):\n"
          + tree.round(4).head(5).to_string(index=False))

    fair_merged = D.fairness(clf, X_te, y_te, protected=sex_te, reference_group=2, by="merged",
                             merger=merger, min_group=100)
    print("\nfairness by merged region (groups of >= 100 test rows):\n"
          + fair_merged[["region", "group", "n", "air", "smd", "eo_gap"]].round(4)
          .to_string(index=False))

    # everything else through the same section builder as `glassnet diagnose`
    report = Report("TaiwanCredit 2x40: validation tests",
                    subtitle="glassnet.diagnose; published protocol, standardised features")
    report.add_table("Accuracy per merged region", by_merged.round(4), key="diag-merged",
                     caption="RegionMerger with 8 merged regions fitted on the training rows.")
    report.add_table("Weak spots (decision tree)", tree.round(4), key="diag-tree",
                     caption="Leaves of a depth-3 tree fitted to the per-row test log-loss.")
    report.add_table("Fairness by merged region", fair_merged.round(4), key="diag-fair-merged",
                     caption="SEX (reference 2 = female) within each merged region where both "
                     "groups have at least 100 test rows.")
    hgb = HistGradientBoostingClassifier(random_state=0).fit(X_tr, y_tr)
    t = time.perf_counter()
    res = run_diagnostics(
        clf, X_tr, y_tr, X_te, y_te, protected=sex_te, reference_group=2,
        challengers={"merged regions (8)": merger, "gradient boosting": hgb},
        exact_rows=EXACT_ROWS, exact_time_limit=TIME_LIMIT, random_state=0,
    )
    report.add_diagnostics(res, target="FlagDefault")
    print(f"\nall sections in {time.perf_counter() - t:.0f} s")
    results.update(res)
    report.add_versions(command="examples/taiwan_credit_diagnose.py")
    print(f"report: {report.save(out_html)}")

    print("\naccuracy:\n" + res["accuracy"].round(4).to_string())
    print(f"weak slices (histogram, log-loss 10% worse): {int(res['weakspots']['weak'].sum())} "
          f"of {len(res['weakspots'])}; worst: {res['weakspots']['slice'].iloc[0]}")
    print(f"weak activation regions: {int(res['weakspots_region']['weak'].sum())} of "
          f"{len(res['weakspots_region'])}")
    print(f"overfit slices: {int(res['overfit']['overfit'].sum())} of {len(res['overfit'])}")
    print("reliability:\n" + res["reliability"].summary.round(4).to_string(index=False))
    print("brier decomposition: " + ", ".join(
        f"{k} {v:.4f}" for k, v in res["reliability"].brier._asdict().items()))
    rb = res["robustness"]
    print("robustness:\n" + rb.random.merge(rb.exact.drop(columns=["n_rows", "n_timed_out"]),
                                            on="size").round(4).to_string(index=False))
    finite = rb.distances[np.isfinite(rb.distances)]
    print(f"exact flip radius: {len(finite)} of {len(rb.distances)} rows flip within 0.5 sd "
          f"(median radius {np.median(finite) if len(finite) else np.nan:.4f} sd); "
          f"{int(np.isnan(rb.distances).sum())} MILPs hit the time limit")
    print("resilience:\n" + res["resilience"].worst.round(4).to_string(index=False))
    print("fairness (SEX; 1 = male, 2 = female):\n"
          + res["fairness"].round(4).to_string(index=False))
    print("compare:\n" + res["compare"].table.round(4).to_string())
    print("permutation importance:\n"
          + res["permutation_importance"].head(5).round(4).to_string(index=False))
    print("H-statistic:\n" + res["h_statistic"].round(4).to_string(index=False))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
