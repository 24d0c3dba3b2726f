"""The raw-data CLI path on the delivered Taiwan credit CSV: a model trained with
``--categorical`` reads the same raw file in every command, text categories included.

Oracles: pandas one-hot encoding built by hand (``pd.get_dummies``-style indicator columns)
and a NumPy forward pass of the saved network's weights; the strict numeric reader's own
messages for the columns that are not categorical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from glassnet._csv import as_categories, read_csv
from glassnet._csv_read import iter_chunks, read_header
from glassnet.cli import main

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "taiwan_credit.csv"
CATS = ["SEX", "EDUCATION", "MARRIAGE"]
N_ROWS = 800



@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A few hundred raw rows, the same rows with SEX as text, and a shifted copy."""
    if not DATA.is_file():  # the shared data sit beside the repo in CI too: never skip quietly
        pytest.fail(f"{DATA} is missing; the shared data directory must sit beside the repo.")
    d = tmp_path_factory.mktemp("realdata")
    raw = pd.read_csv(DATA, nrows=N_ROWS)
    raw.to_csv(d / "raw.csv", index=False)
    text = raw.assign(SEX=raw["SEX"].map({1: "male", 2: "female"}))
    text.to_csv(d / "text.csv", index=False)
    raw.assign(AGE=raw["AGE"] + 10).to_csv(d / "shifted.csv", index=False)
    return d, raw, text


@pytest.fixture(scope="module")
def trained(files):
    """Model trained with --categorical on the text file (SEX as labels, others codes)."""
    d, _, _ = files
    rc = main(["train", str(d / "text.csv"), "--target", "FlagDefault", "--categorical",
               ",".join(CATS), "--hidden", "6", "--epochs", "3", "--out", str(d / "m"),
               "--no-report", "-q"])
    assert rc == 0
    from glassnet.persist import load_model

    model, net, _ = load_model(d / "m")
    return d, model, net


def _one_hot(raw: pd.DataFrame, model) -> np.ndarray:
    """The network's inputs built by hand: numeric columns as they are, each categorical
    column replaced in place by one 0/1 column per training category."""
    blocks = []
    cats = dict(zip(model.categorical_features_, model.categories_, strict=True))
    for col in model.feature_names_in_:
        if col in cats:
            values = raw[col].to_numpy()
            blocks += [(values == c).astype(float) for c in cats[col]]
        else:
            blocks.append(raw[col].to_numpy(dtype=float))
    return np.column_stack(blocks)


def _forward(net, X: np.ndarray) -> np.ndarray:
    h = X
    for i, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        h = h @ np.asarray(W).T + np.asarray(b)  # weights are (out, in)
        if i < len(net.weights) - 1:
            h = np.maximum(h, 0)
    return h


# ---------------------------------------------------------------------- reading text columns
def test_text_columns_read_as_written_rest_strict(files):
    d, _, text = files
    X, y = read_csv(d / "text.csv", "FlagDefault", text_columns=["SEX"])
    assert X["SEX"].tolist() == text["SEX"].tolist()
    np.testing.assert_array_equal(X["LIMIT_BAL"].to_numpy(), text["LIMIT_BAL"].to_numpy(float))
    assert X["LIMIT_BAL"].dtype == np.float64
    # without naming it, the same strict message as before (column and first data row)
    with pytest.raises(ValueError, match=r"column 'SEX' of text.csv is not numeric: data row 1"):
        read_csv(d / "text.csv", "FlagDefault")


def test_text_column_missing_value_and_numeric_column_still_refused(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,y\n1,x,0\n2,,1\n")
    with pytest.raises(ValueError, match=r"column 'b' of t.csv has a missing value in data row 2"):
        read_csv(p, "y", text_columns=["b"])
    p.write_text("a,b,y\n1,x,0\nz,w,1\n")
    with pytest.raises(ValueError, match=r"column 'a' of t.csv is not numeric: data row 2"):
        read_csv(p, "y", text_columns=["b"])


def test_text_columns_chunked_same_as_whole(files):
    d, _, _ = files
    names = read_header(d / "text.csv")
    whole, _ = next(iter_chunks(d / "text.csv", names, "FlagDefault", None, ["SEX"]))
    parts = pd.concat(X for X, _ in iter_chunks(d / "text.csv", names, "FlagDefault", 97,
                                                 ["SEX"]))
    pd.testing.assert_frame_equal(whole, parts)


def test_as_categories_matches_model_type():
    col = pd.Series(["1", "2.0", "3"], name="E")
    assert as_categories(col, [1, 2, 3], "f.csv").tolist() == [1, 2, 3]
    assert as_categories(col, ["1", "3"], "f.csv").tolist() == ["1", "2.0", "3"]
    with pytest.raises(ValueError, match=r"column 'E' of f.csv .* data row 2 holds 'two'"):
        as_categories(pd.Series(["1", "two"], name="E"), [1, 2], "f.csv")


# ---------------------------------------------------------------------- the commands
def test_train_text_categories_learnt(trained):
    _, model, net = trained
    assert model.categorical_features_ == CATS
    assert list(model.categories_[0]) == ["female", "male"]
    assert all(isinstance(c, (int, np.integer)) for c in model.categories_[1])
    assert net.n_features == 20 + sum(len(c) for c in model.categories_)


def test_network_inputs_match_hand_one_hot(trained, files):
    from glassnet.cli._common import read_inputs

    d, model, net = trained
    _, _, text = files
    X, y = read_inputs(model, net, d / "text.csv", "FlagDefault")
    expected = _one_hot(text, model)
    np.testing.assert_array_equal(X.to_numpy(), expected)
    assert list(X.columns) == list(net.feature_names)
    # the encoded rows give the estimator's own probabilities (forward pass by hand)
    z = _forward(net, expected)[:, 0]
    np.testing.assert_allclose(1 / (1 + np.exp(-z)), model.predict_proba(text.drop(
        columns="FlagDefault"))[:, 1], rtol=1e-10, atol=1e-12)


def test_unwrap_simplify_explain_on_raw_csv(trained, capsys):
    d, model, net = trained
    data = str(d / "text.csv")
    assert main(["unwrap", str(d / "m"), data, "--target", "FlagDefault", "--no-report",
                 "--out", str(d / "regions.glassnet"), "-q"]) == 0
    from glassnet.persist import load

    regions = load(d / "regions.glassnet")
    assert int(regions.counts.sum()) == N_ROWS
    assert regions.max_abs_error < 1e-9
    # streamed in chunks of 150 rows: the same regions with the same counts
    assert main(["unwrap", str(d / "m"), data, "--target", "FlagDefault", "--no-report",
                 "--chunk-size", "150", "--out", str(d / "streamed.glassnet"), "-q"]) == 0
    streamed = load(d / "streamed.glassnet")
    assert sorted(streamed.counts.tolist()) == sorted(regions.counts.tolist())
    assert main(["simplify", str(d / "m"), data, "--target", "FlagDefault", "--method",
                 "merge", "--no-report", "-q"]) == 0
    capsys.readouterr()
    assert main(["explain", str(d / "m"), data, "--rows", "0,1", "--reasons", "--target",
                 "FlagDefault", "--favorable", "0", "--report", str(d / "explain.html"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "row" in out and "contribution" in out


def test_diagnose_and_monitor_on_raw_csv(trained):
    d, _, _ = trained
    assert main(["diagnose", str(d / "m"), str(d / "text.csv"), "--target", "FlagDefault",
                 "--protected", "SEX", "--sections", "accuracy,fairness",
                 "--report", str(d / "diag.html"), "-q"]) == 0
    # the same rows with AGE shifted by 10 years, monitored against the training file
    d2 = d / "raw2.csv"
    pd.read_csv(d / "text.csv").assign(AGE=lambda f: f["AGE"] + 10).to_csv(d2, index=False)
    rc = main(["monitor", str(d / "m"), str(d / "text.csv"), str(d2), "--no-report",
               "--fail-on", "act", "-q"])
    assert rc == 3  # AGE shifted by 10 years: feature PSI over the act threshold


def test_train_non_numeric_without_categorical_names_the_option(files, capsys):
    d, _, _ = files
    rc = main(["train", str(d / "text.csv"), "--target", "FlagDefault", "--out",
               str(d / "m_bad"), "--no-report", "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "column 'SEX' of text.csv is not numeric" in err and "--categorical" in err


# ---------------------------------------------------------------------- report importance
def test_report_importance_defaults_to_standardised_scale():
    """With rows, the report's importance is the mean over rows of |d logit / d x_j| * sd_j
    (gradients by hand from each row's ReLU pattern), normalised; the caption says so."""
    import re

    import glassnet
    from glassnet import ReluNetwork, Report

    rng = np.random.default_rng(3)
    W1, b1, W2, b2 = (rng.normal(size=(6, 3)), rng.normal(size=6), rng.normal(size=(1, 6)),
                      rng.normal(size=1))
    net = ReluNetwork([W1, W2], [b1, b2], output="sigmoid", feature_names=["a", "b", "c"])
    X = pd.DataFrame(rng.normal(size=(300, 3)) * [1.0, 1000.0, 0.001], columns=["a", "b", "c"])
    html = Report("t").add_feature_importance(glassnet.unwrap(net, X), X).to_html()
    section = html.split('data-section="feature-importance"')[1].split("</section>")[0]
    assert "one-standard-deviation" in section and "standard deviation of feature j" in section
    table = section.split("<table")[1]
    cells = re.findall(r"<tr><td>(\w+)</td><td class=num>([^<]+)</td>", table)
    got = {name: float(v) for name, v in cells}
    active = (X.to_numpy() @ W1.T + b1) > 0
    grads = (active * W2[0]) @ W1  # row i: W2 diag(active_i) W1
    effect = np.abs(grads).mean(axis=0) * X.to_numpy().std(axis=0)
    expected = effect / effect.sum()
    for j, name in enumerate(["a", "b", "c"]):
        assert got[name] == pytest.approx(expected[j], rel=2e-3, abs=1e-6)
