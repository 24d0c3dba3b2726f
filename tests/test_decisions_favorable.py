"""One favourable class everywhere: decisions, diagnose, the reports and the CLI.

The oracle is the network's own raw output ``eta`` (the log-odds of class 1): the default
favourable class 0 has log-odds ``-eta`` and is the decision wherever ``eta <= 0``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

import glassnet
from glassnet.cli import main
from glassnet.decisions import (
    DEFAULT_FAVORABLE,
    favorable_note,
    reason_codes,
    recourse_audit,
)
from glassnet.diagnose import fairness


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    net = glassnet.ReluNetwork([rng.normal(size=(6, 3)), rng.normal(size=(1, 6))],
                               [rng.normal(0, 0.3, 6), np.array([0.2])], output="sigmoid",
                               feature_names=["a", "b", "c"])
    X = pd.DataFrame(rng.normal(size=(600, 3)), columns=["a", "b", "c"])
    p = net.predict_output(X)[:, 0]
    y = (rng.uniform(size=600) < p).astype(int)
    sex = rng.integers(1, 3, 600)
    return net, X, y, sex


def _by_hand(net, X, rows, favorable):
    """Totals of the reason codes against the approved rows' mean, from eta alone."""
    eta = net.forward(X)[:, 0]
    approved = (eta > 0) if favorable == 1 else (eta <= 0)
    ref = X.to_numpy()[approved].mean(axis=0)
    sign = 1.0 if favorable == 1 else -1.0
    return sign * (eta[rows] - net.forward(ref[None])[0, 0]), approved


@pytest.mark.parametrize("favorable", [None, 0, 1])
def test_decisions_and_diagnose_use_the_same_class(data, favorable):
    net, X, y, sex = data
    fav = DEFAULT_FAVORABLE if favorable is None else favorable
    kw = {} if favorable is None else {"favorable": favorable}
    rows = [0, 1, 2, 3, 4]
    rc = reason_codes(net, X.iloc[rows], "approved_mean", population=X, top_k=None, **kw)
    totals, approved = _by_hand(net, X, rows, fav)
    np.testing.assert_allclose(rc.groupby("row").total.first().to_numpy(), totals, atol=1e-12)
    assert rc.attrs["favorable_note"] == f"favourable class: {fav}"
    # fairness: the favourable-decision rate of each group, counted by hand
    f = fairness(net, X, y, protected=sex, **kw).set_index("group")
    for g in (1, 2):
        assert f.loc[g, "favorable_rate"] == pytest.approx(approved[sex == g].mean(), abs=1e-12)
    assert f.attrs["favorable"] == fav
    # groups given as floats (a CSV column) are labelled as the integers they are
    g_float = fairness(net, X, y, protected=sex.astype(float), **kw)
    assert g_float["group"].tolist() == f.index.tolist() and g_float["group"].dtype.kind == "i"
    assert f.attrs["favorable_note"] == f"favourable class: {fav}"
    # the recourse audit declines exactly the rows outside the favourable class
    audit = recourse_audit(net, X.iloc[:12], data=X, time_limit=10, **kw)
    assert audit.summary.loc["all", "n_declined"] == int((~approved[:12]).sum())
    assert audit.summary.attrs["favorable"] == fav


def test_default_is_class_zero_and_documented():
    assert DEFAULT_FAVORABLE == 0
    assert favorable_note(target="FlagDefault") == "favourable class: 0 (FlagDefault = 0)"
    assert favorable_note(1, target="y", classes=["bad", "good"]) == (
        "favourable class: 1 (y = good)")
    assert favorable_note(0, target="y", classes=[0.0, 1.0]) == "favourable class: 0 (y = 0)"


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    net, X, y, sex = data
    d = tmp_path_factory.mktemp("fav")
    X.assign(sex=sex, FlagDefault=y).to_csv(d / "d.csv", index=False)
    glassnet.save(net, d / "m.glassnet")
    return d


@pytest.mark.parametrize("favorable", [None, 1])
def test_cli_commands_use_the_same_class(data, files, favorable, capsys):
    net, X, y, sex = data
    fav = DEFAULT_FAVORABLE if favorable is None else favorable
    flag = [] if favorable is None else ["--favorable", str(favorable)]
    model, csv = str(files / "m.glassnet"), str(files / "d.csv")
    tag = f"f{fav}"

    # explain: the printed reason codes are the library's for the same class
    assert main(["explain", model, csv, "--target", "FlagDefault", "--rows", "0,1", "--reasons",
                 "--report", str(files / f"explain-{tag}.html"), "--force", *flag]) == 0
    out = capsys.readouterr().out
    rc = reason_codes(net, X.iloc[[0, 1]], "approved_mean", population=X,
                      favorable=fav, top_k=4)
    assert rc[["row", "rank", "feature", "contribution"]].round(4).to_string(index=False) in out
    assert f"favourable class: {fav} (FlagDefault = {fav})" in out

    # diagnose: the adverse impact ratio on the held-out rows, by hand for the same class
    assert main(["diagnose", model, csv, "--target", "FlagDefault", "--protected", "sex",
                 "--sections", "fairness", "--report", str(files / f"diag-{tag}.html"),
                 "--force", *flag]) == 0
    out = capsys.readouterr().out
    _, te = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=y)
    eta = net.forward(X.iloc[te])[:, 0]
    good = (eta > 0) if fav == 1 else (eta <= 0)
    rate = {g: good[sex[te] == g].mean() for g in (1, 2)}
    ref = 1 if (sex[te] == 1).sum() >= (sex[te] == 2).sum() else 2
    other = 3 - ref
    line = next(ln.split() for ln in out.splitlines() if ln.strip().startswith(str(other)))
    assert float(line[2]) == pytest.approx(rate[other] / rate[ref], abs=5e-5)
    html = (files / f"diag-{tag}.html").read_text()
    assert f"Favourable class: {fav} (FlagDefault = {fav})" in html

    # unwrap's report: the overview and the per-decision appendix state the same class
    rep = files / f"unwrap-{tag}.html"
    assert main(["unwrap", "-q", model, csv, "--target", "FlagDefault", "--explain-rows", "3",
                 "--report", str(rep), "--force", *flag]) == 0
    html = rep.read_text()
    assert f"{fav} (FlagDefault = {fav})" in html.split('data-section="overview"')[1].split(
        "</section>")[0]
    # a bare model file carries no provenance: the AUC may include training rows
    assert "AUC on the 600 rows given (may include training rows: the model folder has no " \
        "provenance)" in html
    expl = html.split('data-section="explanations"')[1].split("</section>")[0]
    assert f"Favourable class: {fav} (FlagDefault = {fav})" in expl
