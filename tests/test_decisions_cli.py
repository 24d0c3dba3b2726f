"""glassnet explain (CLI) and the decision Displays."""

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

import glassnet
from glassnet import ReluNetwork
from glassnet.cli import main
from glassnet.decisions import counterfactual, path_attributions

matplotlib.use("Agg")


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    net = ReluNetwork([rng.normal(size=(6, 3)), rng.normal(size=(1, 6))],
                      [rng.normal(size=6), rng.normal(size=1)], output="sigmoid",
                      feature_names=["a", "b", "c"])
    model = tmp_path / "m.glassnet"
    glassnet.save(net, model)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    X["y"] = rng.integers(0, 2, 60)
    data = tmp_path / "d.csv"
    X.to_csv(data, index=False)
    cons = tmp_path / "c.json"
    cons.write_text(json.dumps({"immutable": ["a"], "bounds": {"b": [-3, 3]}}))
    return net, model, data, cons, X


def test_explain_writes_one_section_per_decision(files, tmp_path, capsys):
    net, model, data, cons, X = files
    report = tmp_path / "r.html"
    rc = main(["explain", str(model), str(data), "--rows", "0,4", "--target", "y",
               "--constraints", str(cons), "--report", str(report), "--favorable", "1"])
    assert rc == 0
    html = report.read_text()
    for r in (0, 4):
        assert f"Row {r}: counterfactual" in html and f"row {r} (P(class 1)" in html
    assert "favourable class: 1 (y = 1)" in html
    out = capsys.readouterr().out
    assert "row 0: status" in out and "report:" in out
    # the counterfactual printed respects the immutable feature: compare with the library
    cf = counterfactual(net, X[["a", "b", "c"]].loc[[0]], target=1, data=X[["a", "b", "c"]],
                        constraints={"immutable": ["a"], "bounds": {"b": [-3, 3]}})
    assert f"cost {cf.frame.cost[0]:.4g}" in out


def test_explain_bad_input(files, tmp_path, capsys):
    _, model, data, cons, _ = files
    base = ["explain", str(model), str(data), "--target", "y",
            "--report", str(tmp_path / "r.html")]
    assert main([*base, "--rows", "999"]) == 2
    assert "--rows" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"frozen": ["a"]}')
    assert main([*base, "--rows", "0", "--constraints", str(bad)]) == 2
    assert "Unknown constraint" in capsys.readouterr().err
    assert main([*base, "--rows", "x"]) == 2


def test_displays_add_up(files):
    from glassnet.plotting.decisions import CounterfactualDisplay, ReasonCodeDisplay

    net, _, _, _, X = files
    Xf = X[["a", "b", "c"]]
    ref = np.zeros(3)
    disp = ReasonCodeDisplay.from_model(net, Xf, 2, reference=ref, max_features=2)
    # default favourable class 0: its logit is minus the network's raw (class-1) output
    total = -(net.forward(Xf.iloc[[2]])[0, 0] - net.forward(ref[None])[0, 0])
    assert "favourable class 0" in disp.ax_.get_title()
    heights = [b.get_width() for b in disp.bars_]
    np.testing.assert_allclose(sum(heights), total, atol=1e-9)
    assert len(heights) == 3 and disp.figure_ is disp.ax_.figure  # 2 kept + "other"
    full = path_attributions(net, Xf.iloc[[2]], ref).to_numpy()[0]
    biggest = full[np.argsort(-np.abs(full))[:2]]
    np.testing.assert_allclose(sorted(heights[i] for i in range(3)
                                      if disp.ax_.get_yticklabels()[i].get_text()
                                      != "other (1)"), np.sort(biggest), atol=1e-12)
    cfs = counterfactual(net, Xf.iloc[[2, 5]], data=Xf)
    r = cfs.frame.row[cfs.frame.status == "found"].iloc[0]
    d2 = CounterfactualDisplay.from_counterfactuals(cfs, r)
    np.testing.assert_allclose(sum(abs(b.get_width()) for b in d2.bars_),
                               cfs.frame.set_index("row").cost[r], rtol=1e-9)
