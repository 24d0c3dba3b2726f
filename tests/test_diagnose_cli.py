"""``glassnet diagnose``: report sections and printed figures against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import glassnet
from glassnet.cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("diag")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (rng.uniform(size=400) < 1 / (1 + np.exp(-(X[:, 0] + X[:, 1] * X[:, 2])))).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(sex=rng.integers(1, 3, 400), y=y)
    df.to_csv(d / "d.csv", index=False)
    net = glassnet.ReluNetwork([rng.normal(size=(6, 3)), rng.normal(size=(1, 6))],
                               [rng.normal(0, 0.3, 6), np.zeros(1)], output="sigmoid",
                               feature_names=["a", "b", "c"])
    glassnet.save(net, d / "m.glassnet")
    return d, df, net


def test_diagnose_writes_every_section(files, capsys, monkeypatch):
    d, df, net = files
    monkeypatch.chdir(d)
    code = main(["diagnose", "m.glassnet", "d.csv", "--target", "y", "--protected", "sex",
                 "--exact-rows", "5", "--sections", "accuracy,reliability,robustness,fairness"])
    out, err = capsys.readouterr()
    assert code == 0, err
    html = (d / "d-diagnose.html").read_text(encoding="utf-8")
    for key in ("diag-accuracy", "diag-reliability", "diag-robustness", "diag-fairness"):
        assert f'data-section="{key}"' in html
    # the printed test AUC is the AUC of the network on the same stratified 80/20 split
    idx_tr, idx_te = train_test_split(np.arange(400), test_size=0.2, random_state=0,
                                      stratify=df["y"])
    Xte = df[["a", "b", "c"]].to_numpy()[idx_te]
    auc = roc_auc_score(df["y"].to_numpy()[idx_te], net.predict_output(Xte)[:, 0])
    line = next(ln for ln in out.splitlines() if ln.startswith("auc"))
    assert float(line.split()[2]) == pytest.approx(auc, abs=5e-5)
    assert "exact share flippable" in out and "air" in out


def test_diagnose_bad_input(files, capsys, monkeypatch):
    d, _, _ = files
    monkeypatch.chdir(d)
    code = main(["diagnose", "m.glassnet", "d.csv", "--target", "y", "--sections", "nope"])
    err = capsys.readouterr().err
    assert code == 2 and "--sections" in err and "Traceback" not in err
    code = main(["diagnose", "m.glassnet", "d.csv", "--target", "y", "--protected", "zzz"])
    err = capsys.readouterr().err
    assert code == 2 and "zzz" in err


def test_run_diagnostics_on_a_non_network_model(files):
    from sklearn.linear_model import LogisticRegression

    from glassnet import Report
    from glassnet.diagnose import SECTIONS, run_diagnostics

    _, df, _ = files
    X, y = df[["a", "b", "c"]], df["y"].to_numpy()
    model = LogisticRegression().fit(X[:300], y[:300])
    res = run_diagnostics(model, X[:300], y[:300], X[300:], y[300:], sections=SECTIONS,
                          protected=df["sex"].to_numpy()[300:], exact_rows=0)
    # no exact sections for a model that is not a ReLU network, everything else present
    assert "weakspots_region" not in res and res["robustness"].exact is None
    assert res["accuracy"].loc["auc", "test"] == pytest.approx(
        roc_auc_score(y[300:], model.predict_proba(X[300:])[:, 1]))
    assert set(res) >= {"accuracy", "weakspots", "overfit", "reliability", "robustness",
                        "resilience", "fairness", "compare", "permutation_importance",
                        "h_statistic", "ale"}
    # computing draws nothing; the report lays the same results out, one section each
    report = Report().add_diagnostics(res, target="y")
    assert {"diag-accuracy", "diag-fairness", "diag-compare", "diag-ale"} <= set(report.sections)
    assert "Threshold 0.5 for accuracy and F1" in report.to_html()
    with pytest.raises(ValueError, match="unknown sections"):
        run_diagnostics(model, X, y, X, y, sections=["accuracy", "x"])


def test_report_lays_out_regression_results(files):
    """A regressor's results: no fairness decision, no ROC; the sections that apply, with
    the figures the results hold (the accuracy table's RMSE, by hand)."""
    from sklearn.linear_model import LinearRegression

    from glassnet import Report
    from glassnet.diagnose import run_diagnostics

    _, df, _ = files
    X = df[["a", "b", "c"]]
    y = X["a"].to_numpy() * 2.0 + np.sin(X["b"].to_numpy())
    model = LinearRegression().fit(X[:300], y[:300])
    res = run_diagnostics(model, X[:300], y[:300], X[300:], y[300:],
                          sections=["accuracy", "resilience", "compare", "explain",
                                    "robustness"])
    assert res["settings"]["favorable"] is None and res["settings"]["metric"] == "rmse"
    rmse = np.sqrt(np.mean((model.predict(X[300:]) - y[300:]) ** 2))
    assert res["accuracy"].loc["rmse", "test"] == pytest.approx(rmse)
    report = Report().add_diagnostics(res)
    assert "diag-compare-fig" not in report.sections and "diag-fairness" not in report.sections
    assert {"diag-accuracy", "diag-resilience", "diag-compare", "diag-ale"} <= set(
        report.sections)
    # no accuracy or F1 for a regressor, so no word of their threshold; no decisions to flip
    html = report.to_html()
    assert "Threshold 0.5" not in html and "whose decision" not in html
    assert "Random: Gaussian noise" in html
    with pytest.raises(TypeError, match="run_diagnostics"):
        Report().add_diagnostics([1, 2])
