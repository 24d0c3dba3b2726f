"""Real raw data, right by default: TaiwanCredit as delivered and `glassnet train` on raw CSVs.

The figures of issue 14's acceptance (test AUC on the full data) come from
examples/taiwan_credit_train.py; these tests check the mechanisms on small samples fast.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from glassnet import ReluNetClassifier, feature_importance, local_contributions, unwrap
from glassnet.cli import main


@pytest.fixture(scope="module")
def taiwan_raw(shared_data_dir):
    """3,000 rows of the raw CSV: amounts up to 1e6, integer-coded SEX/EDUCATION/MARRIAGE."""
    df = pd.read_csv(os.path.join(shared_data_dir, "taiwan_credit.csv"))
    df = df.sample(3000, random_state=0).reset_index(drop=True)
    y = df.pop("FlagDefault").to_numpy()
    return train_test_split(df, y, test_size=0.3, random_state=0, stratify=y)


def _clf(**kw):
    return ReluNetClassifier((16, 16), max_epochs=40, batch_size=100, random_state=0, **kw)


def test_raw_taiwan_standardised_by_default_and_exact(taiwan_raw):
    X_tr, X_te, y_tr, y_te = taiwan_raw
    std = _clf().fit(X_tr, y_tr)
    raw = _clf(standardize=False).fit(X_tr, y_tr)
    auc_std = roc_auc_score(y_te, std.predict_proba(X_te)[:, 1])
    auc_raw = roc_auc_score(y_te, raw.predict_proba(X_te)[:, 1])
    assert auc_std > 0.70, auc_std  # a usable credit model from raw columns, 2,100 rows
    assert auc_std > auc_raw + 0.03, (auc_std, auc_raw)  # unscaled amounts cripple training
    # the network is in raw units: exact LLMs on raw rows with amounts up to 1e6
    regions = unwrap(std, X_te)
    eta = std.decision_function(X_te)
    assert regions.max_abs_error <= 1e-9 * max(1.0, np.abs(eta).max())
    # standardised importance: LIMIT_BAL (in dollars) is not ranked last for its units
    imp = feature_importance(regions, X_te)
    raw_imp = feature_importance(regions, X_te, scale="raw")
    assert imp.attrs["scale"] == "std" and raw_imp.attrs["scale"] == "raw"
    assert raw_imp.index[-1] in {"LIMIT_BAL"} | {c for c in X_te if c.startswith(("BILL", "PAY_A"))}
    assert imp.index.get_loc("LIMIT_BAL") < raw_imp.index.get_loc("LIMIT_BAL")


def test_raw_taiwan_categorical_groups(taiwan_raw):
    X_tr, X_te, y_tr, _ = taiwan_raw
    cats = ["SEX", "EDUCATION", "MARRIAGE"]
    clf = _clf(categorical_features=cats).fit(X_tr, y_tr)
    assert set(clf.network_.feature_groups) == set(cats)
    for c in cats:  # one input per code seen in training
        assert clf.network_.feature_groups[c] == tuple(
            f"{c}_{v}" for v in sorted(X_tr[c].unique()))
    # group contributions sum the one-hot columns' contributions exactly
    c = local_contributions(clf, X_te.iloc[:200], by_group=True)
    assert list(c.columns) == [*X_te.columns, "base", "output"]
    np.testing.assert_allclose(c.drop(columns="output").sum(axis=1),
                               clf.decision_function(X_te.iloc[:200]), rtol=1e-9, atol=1e-9)


def _raw_csv(tmp_path):
    rng = np.random.default_rng(1)
    n = 500
    df = pd.DataFrame({
        "limit": rng.uniform(1e4, 1e6, n).round(),
        "edu": rng.integers(1, 5, n),
        "age": rng.integers(21, 70, n),
    })
    eta = (df["limit"] - 5e5) / 3e5 + 1.2 * (df["edu"] == 2) - 0.03 * (df["age"] - 45)
    df["default"] = (eta + rng.normal(0, 0.7, n) > 0).astype(int)
    path = tmp_path / "raw.csv"
    df.to_csv(path, index=False)
    return path, df


def test_cli_train_uses_defaults_and_records_preprocessing(tmp_path, capsys):
    path, df = _raw_csv(tmp_path)
    out = tmp_path / "m"
    code = main(["train", str(path), "--target", "default", "--hidden", "8,8", "--epochs", "30",
                 "--categorical", "edu", "--out", str(out), "--no-report", "-q"])
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((out / "metrics.json").read_text())
    pre = metrics["preprocessing"]
    assert pre["standardize"] is True and pre["folded_into_network"] is True
    assert pre["categorical"] == {"edu": [1, 2, 3, 4]}
    assert pre["feature_groups"] == {"edu": ["edu_1", "edu_2", "edu_3", "edu_4"]}
    # oracle: the training rows' mean and population SD, from pandas, for the split the CLI
    # documents (80/20, stratified, seed 0)
    y = df.pop("default")
    X_tr, _, _, _ = train_test_split(df, y, test_size=0.2, random_state=0, stratify=y)
    for col in ("limit", "age"):
        assert pre["input_mean"][col] == pytest.approx(X_tr[col].mean(), rel=1e-12)
        assert pre["input_scale"][col] == pytest.approx(X_tr[col].std(ddof=0), rel=1e-12)
    assert pre["input_mean"]["edu_1"] == 0.0 and pre["input_scale"]["edu_1"] == 1.0
    assert metrics["test AUC"] > 0.75 and metrics["max_abs_error"] < 1e-9
    assert isinstance(metrics["caveats"], list)


def test_cli_train_no_standardize_and_bad_categorical(tmp_path, capsys):
    path, _ = _raw_csv(tmp_path)
    out = tmp_path / "m"
    code = main(["train", str(path), "--target", "default", "--hidden", "4", "--epochs", "2",
                 "--no-standardize", "--out", str(out), "--no-report", "-q"])
    assert code == 0, capsys.readouterr().err
    pre = json.loads((out / "metrics.json").read_text())["preprocessing"]
    assert pre["standardize"] is False and set(pre["input_scale"].values()) == {1.0}
    code = main(["train", str(path), "--target", "default", "--categorical", "grade",
                 "--out", str(tmp_path / "x"), "-q"])
    assert code == 2
    assert "--categorical names column(s) ['grade']" in capsys.readouterr().err
