"""PiML 0.6's diagnostics on the TaiwanCredit rows that examples/taiwan_credit_diagnose.py uses.

Runs in the peer venv, never in glassnet's (PiML is not a glassnet dependency)::

    ~/.pyenv/versions/3.10.13/bin/python -m venv .venv-piml
    .venv-piml/bin/pip install piml==0.6.0.post2
    .venv-piml/bin/python benchmarks/_piml_side_by_side.py [path/to/taiwan_credit.csv]

Same rows, same preparation as the published protocol (signed log10 of the amounts; LIMIT_BAL,
SEX, EDUCATION, MARRIAGE, AGE excluded from the model; 80/20 split of
``train_test_split(arange(n), test_size=0.2, random_state=0)`` passed to ``data_prepare`` as
``train_idx``/``test_idx``, since PiML's own loader needs the internet). PiML trains its own
ReLU-DNN (2x40, its defaults, random_state=0); each tool diagnoses its own network, so the
figures are comparable in kind, not digit for digit. Prints each PiML result table.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

AMOUNTS = [f"BILL_AMT{i}" for i in range(1, 7)] + [f"PAY_AMT{i}" for i in range(1, 7)]
EXCLUDED = ["LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE"]


def _show(title: str, fn, *args, **kwargs):
    t = time.perf_counter()
    try:
        res = fn(*args, **kwargs)
    except Exception as exc:  # a failing PiML test is reported, the others still run
        print(f"\n== {title}: PiML raised {type(exc).__name__}: {exc}", flush=True)
        return None
    secs = time.perf_counter() - t
    print(f"\n== {title} ({secs:.1f} s)", flush=True)
    data = getattr(res, "data", res)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(data.round(4) if hasattr(data, "round") else data, flush=True)
    return res


def main(argv: list[str]) -> None:
    from piml import Experiment
    from piml.models import ReluDNNClassifier
    from sklearn.model_selection import train_test_split

    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "taiwan_credit.csv"
    df = pd.read_csv(argv[0] if argv else default)
    df[AMOUNTS] = np.sign(df[AMOUNTS]) * np.log10(1.0 + np.abs(df[AMOUNTS]))
    idx_tr, idx_te = train_test_split(np.arange(len(df)), test_size=0.2, random_state=0)

    exp = Experiment()
    exp.data_loader(data=df, silent=True)
    exp.data_summary(feature_exclude=EXCLUDED, silent=True)
    exp.data_prepare(target="FlagDefault", task_type="classification", train_idx=idx_tr,
                     test_idx=idx_te, silent=True)
    t = time.perf_counter()
    exp.model_train(ReluDNNClassifier(hidden_layer_sizes=(40, 40), random_state=0),
                    name="ReLU-DNN")
    print(f"PiML ReLU-DNN 2x40 trained in {time.perf_counter() - t:.0f} s", flush=True)
    m = "ReLU-DNN"
    d = exp.model_diagnose
    _show("accuracy_table", d, model=m, show="accuracy_table", return_data=True)
    _show("weakspot (histogram, PAY_1, ACC)", d, model=m, show="weakspot",
          slice_method="histogram", slice_features=["PAY_1"], metric="ACC", return_data=True)
    _show("overfit (histogram, PAY_1, AUC)", d, model=m, show="overfit",
          slice_method="histogram", slice_features=["PAY_1"], metric="AUC", return_data=True)
    _show("reliability_table (alpha 0.1)", d, model=m, show="reliability_table", alpha=0.1,
          return_data=True)
    _show("robustness_perf (raw, AUC, size 0.1)", d, model=m, show="robustness_perf",
          perturb_method="raw", perturb_size=0.1, metric="AUC", return_data=True)
    _show("robustness_perf (raw, AUC, size 0.5)", d, model=m, show="robustness_perf",
          perturb_method="raw", perturb_size=0.5, metric="AUC", return_data=True)
    _show("resilience_perf (worst-sample, AUC)", d, model=m, show="resilience_perf",
          resilience_method="worst-sample", metric="AUC", return_data=True)
    _show("resilience_distance (worst-sample, PSI)", d, model=m, show="resilience_distance",
          resilience_method="worst-sample", distance_metric="PSI", alpha=0.2, return_data=True)
    for metric in ("AIR", "SMD"):
        _show(f"fairness {metric} (SEX, reference 2, protected 1, favourable 0)",
              exp.model_fairness, model=m, show="metrics", metric=metric,
              group_category=["SEX"], reference_group=[2], protected_group=[1],
              favorable_class=0, return_data=True)


if __name__ == "__main__":
    main(sys.argv[1:])
