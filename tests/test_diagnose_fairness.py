"""fairness (AIR, SMD, gaps) by hand with pandas; compare against independently fitted models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from glassnet import diagnose as D


@pytest.fixture
def case():
    rng = np.random.default_rng(11)
    net = random_network(rng, 3, (7,), 1, output="sigmoid")
    X = rng.normal(size=(400, 3))
    p = net.predict_output(X)[:, 0]
    y = (rng.uniform(size=400) < p).astype(int)
    sex = np.where(rng.uniform(size=400) < 0.6, "F", "M")
    return net, X, y, sex, p


def test_air_smd_gaps_by_hand(case):
    net, X, y, sex, p = case
    t = D.fairness(net, X, y, protected=sex, reference_group="F").set_index("group")
    df = pd.DataFrame({"g": sex, "p": p, "y": y, "approve": p < 0.5})
    rate = df.groupby("g")["approve"].mean()
    assert t.loc["M", "air"] == pytest.approx(rate["M"] / rate["F"])
    assert t.loc["F", "air"] == pytest.approx(1.0)
    a, b = df.loc[df.g == "M", "p"], df.loc[df.g == "F", "p"]
    sp = np.sqrt(((len(a) - 1) * a.var() + (len(b) - 1) * b.var()) / (len(a) + len(b) - 2))
    assert t.loc["M", "smd"] == pytest.approx((a.mean() - b.mean()) / sp)
    good = df[df.y == 0]
    tpr = good.groupby("g")["approve"].mean()
    assert t.loc["M", "eo_gap"] == pytest.approx(tpr["M"] - tpr["F"])
    cal = df.groupby("g")["p"].mean() - df.groupby("g")["y"].mean()
    assert t.loc["M", "calibration_gap"] == pytest.approx(cal["M"] - cal["F"])
    assert t.loc["M", "n"] == (sex == "M").sum()
    # default reference: the largest group
    assert D.fairness(net, X, y, protected=sex)["group"].iloc[0] == "F"


def test_fairness_column_by_region_and_errors(case):
    net, X, y, sex, p = case
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(s=(sex == "M").astype(float))
    model = LogisticRegression().fit(frame, y)
    out = D.fairness(net, X, y, protected=sex, by="region", min_group=20)
    assert (out["region"] == "all").sum() == 2
    # every per-region row is a group with at least min_group rows in that region
    assert (out["n"] >= 20).all()
    pr = D.fairness(model, frame, y, protected="s")
    approve = model.predict_proba(frame)[:, 1] < 0.5
    m = frame["s"].to_numpy() == 1.0
    assert pr.set_index("group").loc[1.0, "air"] == pytest.approx(
        approve[m].mean() / approve[~m].mean())
    with pytest.raises(ValueError, match="not a column"):
        D.fairness(model, frame, y, protected="nope")
    with pytest.raises(ValueError, match="single group"):
        D.fairness(net, X, y, protected=np.zeros(400))
    with pytest.raises(ValueError, match="reference_group"):
        D.fairness(net, X, y, protected=sex, reference_group="X")


def test_compare_table_and_glm(case):
    net, X, y, _, p = case
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[:300], y[:300])
    c = D.compare({"net": net, "tree": tree}, X[300:], y[300:], X_train=X[:300],
                  y_train=y[:300])
    assert list(c.table.index) == ["net", "tree", "GLM"]
    glm = LogisticRegression(C=1e6, max_iter=5000).fit(X[:300], y[:300])
    assert c.table.loc["GLM", "auc"] == pytest.approx(
        roc_auc_score(y[300:], glm.predict_proba(X[300:])[:, 1]))
    assert c.table.loc["tree", "auc"] == pytest.approx(
        roc_auc_score(y[300:], tree.predict_proba(X[300:])[:, 1]))
    assert c.table.loc["net", "auc"] == pytest.approx(roc_auc_score(y[300:], p[300:]))
    np.testing.assert_allclose(c.outputs["net"], p[300:])
    with pytest.raises(ValueError, match="X_train"):
        D.compare([net], X, y)
    c2 = D.compare([net, tree], X, y, glm=False)
    assert list(c2.table.index) == ["ReluNetwork", "DecisionTreeClassifier"]
