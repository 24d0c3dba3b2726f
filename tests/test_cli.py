"""The glassnet command line: every command on small CSVs, model formats and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from sklearn.neural_network import MLPClassifier

import glassnet
from glassnet.cli import main


class _Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections, self.images = [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self.sections.append(a["data-section"])
        if tag == "img" and a.get("src", "").startswith("data:image/"):
            self.images += 1


class _Table(HTMLParser):
    """Header and rows (text) of the first table in some HTML."""

    def __init__(self):
        super().__init__()
        self.head, self.rows, self._cell, self._done = [], [], None, False

    def handle_starttag(self, tag, attrs):
        if self._done:
            return
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th"):
            self._cell = ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if self._done:
            return
        if tag in ("td", "th"):
            (self.head if tag == "th" else self.rows[-1]).append(self._cell)
            self._cell = None
        if tag == "table":
            self._done = True


def section_table(path, key):
    """The first table of section ``key`` of a report, as a DataFrame of strings."""
    html = path.read_text(encoding="utf-8")
    p = _Table()
    p.feed(html.split(f'data-section="{key}"')[1].split("</section>")[0])
    return pd.DataFrame([r for r in p.rows if r], columns=p.head)


def sections_of(path):
    p = _Sections()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_bad_input(code, err, *fragments):
    assert code == 2, err
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("glassnet: warning")]
    assert len(lines) == 1 and lines[0].startswith("glassnet: error: "), err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    n = 300
    X = rng.uniform(-1, 1, size=(n, 3))
    y = ((X[:, 0] ** 2 + X[:, 1] ** 2 + 0.1 * rng.normal(size=n)) < 0.5).astype(int)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = np.where(y == 1, "good", "bad")
    df.to_csv(d / "cls.csv", index=False)
    reg = df[["a", "b", "c"]].copy()
    reg["value"] = 2 * X[:, 0] - X[:, 2] + 0.05 * rng.normal(size=n)
    reg.to_csv(d / "reg.csv", index=False)
    text = df.copy()
    text["city"] = "Paris"
    text.to_csv(d / "text.csv", index=False)
    extra = df.copy()
    extra.insert(3, "d", 1.0)
    extra.to_csv(d / "four.csv", index=False)
    two = df[["a", "b", "label"]]
    two.to_csv(d / "two.csv", index=False)
    return d


@pytest.fixture(scope="module")
def trained(csvs, tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    code = main(["train", str(csvs / "cls.csv"), "--target", "label", "--hidden", "8,8",
                 "--epochs", "20", "--lr", "0.01", "--batch-size", "64", "--out", str(out),
                 "-q"])
    assert code == 0
    return out


def test_help_everywhere(capsys):
    for cmd in ([], ["demo"], ["train"], ["unwrap"], ["simplify"]):
        assert main([*cmd, "--help"]) == 0
        out = capsys.readouterr().out
        assert "usage: glassnet" in out
        if cmd == ["unwrap"]:
            assert "--chunk-size" in out and "--stream-above" in out
        if cmd == ["simplify"]:
            assert "prune" in out
    assert main([]) == 0 and "COMMAND" in capsys.readouterr().out


def test_python_m_glassnet_and_argparse_errors():
    r = subprocess.run([sys.executable, "-m", "glassnet", "train", "x.csv"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "glassnet: error: the following arguments are required: --target, --out "
        "(see 'glassnet train --help')"
    ]
    r = subprocess.run([sys.executable, "-m", "glassnet", "--version"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and glassnet.__version__ in r.stdout


def test_train_writes_model_metrics_and_report(trained, csvs):
    est = glassnet.load(trained / "model.glassnet")
    assert type(est).__name__ == "ReluNetClassifier"
    assert list(est.classes_) == ["bad", "good"]
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["task"] == "classification" and metrics["hidden"] == [8, 8]
    assert 0.0 <= metrics["test AUC"] <= 1.0 and metrics["max_abs_error"] < 1e-9
    assert metrics["regions"] >= 1
    rep = sections_of(trained / "report.html")
    assert {"overview", "certificate", "region-summary", "feature-importance",
            "versions"} <= set(rep.sections)
    assert "partition-map" not in rep.sections  # 3 features: no 2-D map
    # the saved estimator predicts like the network it holds
    X = pd.read_csv(csvs / "cls.csv")[["a", "b", "c"]]
    assert np.allclose(est.predict_proba(X)[:, 1], est.network_.predict_output(X)[:, 0])


def test_train_regression(csvs, tmp_path, capsys):
    code, out, err = run(capsys, "train", csvs / "reg.csv", "--target", "value", "--hidden", "6",
                         "--epochs", "5", "--out", tmp_path / "m", "--no-report", "-q")
    assert code == 0, err
    assert "RMSE" in out and not (tmp_path / "m" / "report.html").exists()
    assert json.loads((tmp_path / "m" / "metrics.json").read_text())["task"] == "regression"


def test_unwrap_glassnet_model_and_outputs(trained, csvs, tmp_path, capsys):
    report = tmp_path / "r.html"
    code, out, err = run(capsys, "unwrap", trained, csvs / "cls.csv", "--target", "label",
                         "--report", report, "--out", tmp_path / "reg.glassnet",
                         "--summary-csv", tmp_path / "s.csv", "-q")
    assert code == 0, err
    regions = glassnet.load(tmp_path / "reg.glassnet")
    assert f"{len(regions)} activation regions on 300 rows" in out
    assert regions.y_sum is not None and regions.max_abs_error < 1e-9
    summary = pd.read_csv(tmp_path / "s.csv")
    assert len(summary) == len(regions) and summary["count"].sum() == 300
    assert {"certificate", "region-summary", "versions"} <= set(sections_of(report).sections)


def test_unwrap_streaming_equals_in_memory(trained, csvs, tmp_path, capsys):
    base = ["unwrap", trained, csvs / "cls.csv", "--target", "label", "-q"]
    code, out_mem, err = run(capsys, *base, "--chunk-size", "0", "--stream-above", "0",
                             "--out", tmp_path / "mem.glassnet", "--summary-csv",
                             tmp_path / "mem.csv", "--report", tmp_path / "mem.html")
    assert code == 0, err
    assert "streamed" not in out_mem  # --chunk-size 0: never stream
    code, out, err = run(capsys, *base, "--chunk-size", "7", "--out", tmp_path / "str.glassnet",
                         "--summary-csv", tmp_path / "str.csv", "--report",
                         tmp_path / "str.html")
    assert code == 0, err
    assert "streamed 300 rows of" in out and "in chunks of 7 rows" in out
    mem, st = glassnet.load(tmp_path / "mem.glassnet"), glassnet.load(tmp_path / "str.glassnet")
    assert st.labels is None  # no per-row state kept
    assert len(st) == len(mem) and st.n_samples == 300
    np.testing.assert_array_equal(st.counts, mem.counts)
    np.testing.assert_array_equal(st.packed_patterns, mem.packed_patterns)
    np.testing.assert_array_equal(st.representatives, mem.representatives)
    np.testing.assert_allclose(st.coef, mem.coef, rtol=0, atol=1e-12)
    np.testing.assert_allclose(st.y_sum, mem.y_sum)
    np.testing.assert_allclose(st.pred_sum, mem.pred_sum, rtol=1e-12)
    assert st.max_abs_error < 1e-9
    # the printed region table is the same
    def table(text):  # the region table (the certificates agree to rounding, checked above)
        return text.split("max |LLM - network|")[1].split("\n", 1)[1].split("regions:")[0]

    assert table(out_mem) == table(out)
    s_mem, s_str = pd.read_csv(tmp_path / "mem.csv"), pd.read_csv(tmp_path / "str.csv")
    np.testing.assert_array_equal(s_mem["count"], s_str["count"])
    np.testing.assert_allclose(s_mem["y_mean"], s_str["y_mean"])
    # the report: what streaming shows and what it leaves out
    rep = sections_of(tmp_path / "str.html")
    expected = ["overview", "streaming", "certificate", "region-summary", "size-distribution",
                "feature-importance", "coefficients", "boundary-distance", "versions"]
    # these, in this order (other sections, e.g. provenance, may sit between them)
    assert [k for k in rep.sections if k in expected] == expected
    assert "partition-map" not in rep.sections  # 3 inputs
    table = section_table(tmp_path / "str.html", "region-summary")
    assert {"count", "y_mean", "pred_mean", "pred_std", "coef_a"} <= set(table.columns)
    assert "local_auc" not in table.columns
    assert "local_auc" in section_table(tmp_path / "mem.html", "region-summary").columns
    html = (tmp_path / "str.html").read_text()
    assert "bad: 179 (59.7%), good: 121 (40.3%)" in html  # streamed class counts
    assert "Not shown, as they need every row at once" in html


def test_unwrap_streaming_auto_2d_regression_and_errors(csvs, tmp_path, capsys):
    import skops.io as sio
    from sklearn.neural_network import MLPRegressor

    # a 2-input classifier: automatic streaming (tiny threshold), partition map from a sample
    sio.dump(_sk_model(csvs, cols=("a", "b")), tmp_path / "two.skops")
    code, out, err = run(capsys, "unwrap", tmp_path / "two.skops", csvs / "two.csv",
                         "--target", "label", "--stream-above", "0", "--report",
                         tmp_path / "two.html", "-q")
    assert code == 0, err
    assert "streamed 300 rows" in out and "in chunks of 100000 rows" in out
    assert {"streaming", "partition-map", "boundary-distance"} <= set(
        sections_of(tmp_path / "two.html").sections)
    # regression: the streamed RMSE is exact, equal to the in-memory one
    reg = pd.read_csv(csvs / "reg.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp = MLPRegressor(hidden_layer_sizes=(5,), max_iter=30, random_state=0).fit(
            reg[["a", "b", "c"]].to_numpy(), reg["value"])
    sio.dump(mlp, tmp_path / "r.skops")
    rmse = []
    for chunk in ("0", "50"):
        path = tmp_path / f"r{chunk}.html"
        code, _, err = run(capsys, "unwrap", tmp_path / "r.skops", csvs / "reg.csv",
                           "--target", "value", "--chunk-size", chunk, "--report", path, "-q")
        assert code == 0, err
        # the overview names the rows the RMSE is on (every row, no provenance here)
        rmse.append(path.read_text().split("rows given (may include training rows: the model "
                                           "folder has no provenance)</td><td")[1]
                    .split(">")[1].split("<")[0])
    assert rmse[0] == rmse[1]
    # bad input is still one line, naming the rows at fault
    df = pd.read_csv(csvs / "two.csv")
    df["b"] = df["b"].astype(object)
    df.loc[250, "b"] = "unknown"
    df.to_csv(tmp_path / "late.csv", index=False)
    code, _, err = run(capsys, "unwrap", tmp_path / "two.skops", tmp_path / "late.csv",
                       "--target", "label", "--chunk-size", "100")
    assert_bad_input(code, err, "'b'", "data row 251", "not numeric", "'unknown'")
    code, _, err = run(capsys, "unwrap", tmp_path / "two.skops", csvs / "two.csv",
                       "--target", "nope", "--chunk-size", "10")
    assert_bad_input(code, err, "target column 'nope'")
    code, _, err = run(capsys, "unwrap", tmp_path / "two.skops", csvs / "two.csv",
                       "--chunk-size", "-5")
    assert_bad_input(code, err, "--chunk-size")


def _sk_model(csvs, cls=MLPClassifier, target="label", cols=("a", "b", "c")):
    df = pd.read_csv(csvs / ("cls.csv" if target == "label" else "reg.csv"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cls((5,), max_iter=30, random_state=0).fit(df[list(cols)].to_numpy(), df[target])


def test_unwrap_sklearn_joblib_and_skops(csvs, tmp_path, capsys):
    import joblib
    import skops.io as sio

    mlp = _sk_model(csvs)
    joblib.dump(mlp, tmp_path / "m.joblib")
    sio.dump(mlp, tmp_path / "m.skops")
    code, _, err = run(capsys, "unwrap", tmp_path / "m.joblib", csvs / "cls.csv",
                       "--target", "label", "--no-report", "-q")
    assert_bad_input(code, err, "m.joblib is a pickle file", "--trust-pickle")
    code, out, err = run(capsys, "unwrap", tmp_path / "m.joblib", csvs / "cls.csv",
                         "--target", "label", "--no-report", "-q", "--trust-pickle")
    assert code == 0, err
    assert "runs any code" in err  # warned that loading executes code
    n_regions = int(out.split("activation regions")[0].split()[-1])
    code, out2, err = run(capsys, "unwrap", tmp_path / "m.skops", csvs / "cls.csv",
                          "--target", "label", "--no-report", "-q")
    assert code == 0, err
    assert "pickle" not in err
    assert f"{n_regions} activation regions" in out2
    net = glassnet.ReluNetwork.from_sklearn(mlp)
    X = pd.read_csv(csvs / "cls.csv")[["a", "b", "c"]].to_numpy()
    assert len(glassnet.unwrap(net, X)) == n_regions


def test_unwrap_torch_and_onnx(csvs, tmp_path, capsys):
    import torch

    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.ReLU(), torch.nn.Linear(6, 1))
    torch.save(seq, tmp_path / "m.pt")
    code, out, err = run(capsys, "unwrap", tmp_path / "m.pt", csvs / "reg.csv", "--target",
                         "value", "--no-report", "-q")
    assert code == 0, err
    assert err == ""  # loaded with weights_only=True: no code runs, nothing to warn about
    n_torch = out.split("activation regions")[0].split()[-1]
    torch.save(seq.state_dict(), tmp_path / "sd.pt")
    code, _, err = run(capsys, "unwrap", tmp_path / "sd.pt", csvs / "reg.csv", "-q")
    assert_bad_input(code, err, "state_dict")

    from skl2onnx import to_onnx

    mlp = _sk_model(csvs)
    onx = to_onnx(mlp, np.zeros((1, 3), dtype=np.float32))
    (tmp_path / "m.onnx").write_bytes(onx.SerializeToString())
    code, out, err = run(capsys, "unwrap", tmp_path / "m.onnx", csvs / "cls.csv",
                         "--target", "label", "--no-report", "-q")
    assert code == 0, err
    assert int(n_torch) >= 1 and "RMSE" not in out and "ONNX file m.onnx" in out


def test_simplify_merge_and_mlm(trained, csvs, tmp_path, capsys):
    report = tmp_path / "merge.html"
    code, out, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                         "--method", "merge", "--n-regions", "3", "--report", report,
                         "--out", tmp_path / "merger.glassnet", "-q")
    assert code == 0, err
    merger = glassnet.load(tmp_path / "merger.glassnet")
    assert type(merger).__name__ == "RegionMerger" and merger.n_regions_ <= 3
    assert f"merged regions: {merger.n_regions_} regions" in out
    assert {"simplification", "merged-regions"} <= set(sections_of(report).sections)
    assert "Wald inference" in report.read_text()

    report = tmp_path / "mlm.html"
    code, out, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                         "--method", "mlm", "--n-regions", "2", "--report", report, "-q")
    assert code == 0, err
    assert "MLM-EPIC: 2 regions" in out
    assert {"simplification", "mlm"} <= set(sections_of(report).sections)


def test_simplify_prune(trained, csvs, tmp_path, capsys):
    report = tmp_path / "prune.html"
    code, out, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                         "--method", "prune", "--report", report, "--out",
                         tmp_path / "pruner.glassnet", "-q")
    assert code == 0, err
    pruner = glassnet.load(tmp_path / "pruner.glassnet")
    assert type(pruner).__name__ == "RegionPruner"
    assert f"pruned regions (RegionPruner): {pruner.n_regions_} regions, test AUC" in out
    rep = sections_of(report)
    assert {"simplification", "prune-cv", "merged-regions", "boundary-distance"} <= set(
        rep.sections)
    html = report.read_text()
    # the library's defaults, as a Python user gets them (5 folds, one standard error)
    defaults = glassnet.RegionPruner(pruner.network_).get_params()
    assert pruner.cv == defaults["cv"] == 5 and pruner.selection == defaults["selection"]
    assert "Kept regions (pruning)" in html and "5-fold cross-validation" in html
    # the count chosen by CV is the one marked in the table
    cv = section_table(report, "prune-cv")
    assert cv.loc[cv["chosen"] == "yes", "kept regions"].tolist() == [str(pruner.n_regions_)]

    code, out, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                         "--method", "prune", "--n-regions", "2", "--no-report", "-q")
    assert code == 0, err
    assert "pruned regions (RegionPruner): 2 regions" in out
    code, _, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                       "--method", "prune", "--n-regions", "100000", "--no-report")
    assert_bad_input(code, err, "n_regions=100000 is larger than")


def test_simplify_l1_path(trained, csvs, tmp_path, capsys):
    report = tmp_path / "l1.html"
    code, out, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                         "--method", "l1", "--l1-values", "0,0.05", "--epochs", "5",
                         "--report", report, "--out", tmp_path / "path.glassnet", "-q")
    assert code == 0, err
    path = glassnet.load(tmp_path / "path.glassnet")
    assert list(path.table_["l1_reg"]) == [0.0, 0.05]
    assert f"recommended l1_reg={path.recommended_:g}" in out
    assert {"simplification", "l1-path", "l1-path-plot"} <= set(sections_of(report).sections)
    code, _, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                       "--method", "l1", "--l1-values", "0,abc")
    assert_bad_input(code, err, "--l1-values")


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--fast", "--out", tmp_path / "d", "-q")
    assert code == 0, err
    report = tmp_path / "d" / "report.html"
    assert f"report: {report}" in out
    rep = sections_of(report)
    assert rep.sections == ["overview", "certificate", "region-summary", "size-distribution",
                            "feature-importance", "coefficients", "boundary-distance",
                            "partition-map", "simplification", "merged-regions", "mlm",
                            "versions"]
    # sizes, importance, coefficients, profiles, boundary distance, partition, CV curve, EPICs
    assert rep.images == 8
    for line in ("merged regions (RegionMerger, CV):", "flattened (1 hidden layer",
                 "MLM-EPIC", "exactness certificate: max |LLM - network| = "):
        assert line in out
    model = glassnet.load(tmp_path / "d" / "model.glassnet")
    assert model.network_.hidden_sizes == (16, 16)


# ---------------------------------------------------------------------- bad input
def test_missing_target_column(trained, csvs, tmp_path, capsys):
    code, _, err = run(capsys, "train", csvs / "cls.csv", "--target", "nope", "--out",
                       tmp_path / "x")
    assert_bad_input(code, err, "'nope'", "'label'")
    code, _, err = run(capsys, "unwrap", trained, csvs / "cls.csv", "--target", "nope")
    assert_bad_input(code, err, "target column 'nope'")
    code, _, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "nope")
    assert_bad_input(code, err, "target column 'nope'")


def test_non_numeric_column(trained, csvs, tmp_path, capsys):
    code, _, err = run(capsys, "train", csvs / "text.csv", "--target", "label", "--out",
                       tmp_path / "x")
    assert_bad_input(code, err, "'city'", "not numeric")
    code, _, err = run(capsys, "unwrap", trained, csvs / "text.csv", "--target", "label")
    assert_bad_input(code, err, "'city'")


def test_feature_count_mismatch(trained, csvs, tmp_path, capsys):
    import skops.io as sio

    sio.dump(_sk_model(csvs), tmp_path / "m.skops")  # 3 unnamed features
    code, _, err = run(capsys, "unwrap", tmp_path / "m.skops", csvs / "four.csv",
                       "--target", "label", "--no-report")
    assert_bad_input(code, err, "expects 3 features", "has 4")
    # a model with named features reports the missing names
    code, _, err = run(capsys, "unwrap", trained, csvs / "two.csv", "--target", "label")
    assert_bad_input(code, err, "'c'")


def test_bad_files_and_options(trained, csvs, tmp_path, capsys):
    code, _, err = run(capsys, "unwrap", tmp_path / "none.glassnet", csvs / "cls.csv")
    assert_bad_input(code, err, "not found")
    junk = tmp_path / "junk.glassnet"
    junk.write_bytes(b"not a zip")
    code, _, err = run(capsys, "unwrap", junk, csvs / "cls.csv")
    assert_bad_input(code, err, "not a glassnet file")
    code, _, err = run(capsys, "unwrap", trained, tmp_path / "missing.csv")
    assert_bad_input(code, err, "data file not found")
    code, _, err = run(capsys, "train", csvs / "cls.csv", "--target", "label", "--hidden",
                       "4,x", "--out", tmp_path / "x")
    assert_bad_input(code, err, "--hidden")
    code, _, err = run(capsys, "train", csvs / "reg.csv", "--target", "value", "--task",
                       "classification", "--out", tmp_path / "x")
    assert_bad_input(code, err, "distinct values", "--task regression")
    code, _, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                       "--n-regions", "0")
    assert_bad_input(code, err, "--n-regions")
    code, _, err = run(capsys, "simplify", trained, csvs / "cls.csv", "--target", "label",
                       "--method", "bogus")
    assert_bad_input(code, err, "invalid choice")
    (tmp_path / "labels.csv").write_text("a,b,c,label\n0.1,0.2,0.3,maybe\n")
    code, _, err = run(capsys, "unwrap", trained, tmp_path / "labels.csv", "--target", "label")
    assert_bad_input(code, err, "'maybe'", "data row 1", "not a class")


def test_debug_prints_traceback(trained, csvs, capsys):
    code, _, err = run(capsys, "--debug", "unwrap", trained, csvs / "cls.csv", "--target", "x")
    assert code == 2 and "Traceback" in err and err.strip().endswith("'label'.")
    code, _, err = run(capsys, "unwrap", trained, csvs / "cls.csv", "--target", "x", "--debug")
    assert code == 2 and "Traceback" in err


def test_multiclass_train_unwrap_merge(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3))
    labels = np.array(["low", "mid", "high"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    df = pd.DataFrame(X, columns=["p", "q", "r"]).assign(cls=labels)
    df.to_csv(tmp_path / "m.csv", index=False)
    code, out, err = run(capsys, "train", tmp_path / "m.csv", "--target", "cls", "--hidden", "6",
                         "--epochs", "3", "--out", tmp_path / "model", "--no-report", "-q")
    assert code == 0, err
    est = glassnet.load(tmp_path / "model" / "model.glassnet")
    assert est.network_.output == "softmax" and list(est.classes_) == ["high", "low", "mid"]
    code, out, err = run(capsys, "simplify", tmp_path / "model", tmp_path / "m.csv",
                         "--target", "cls", "--n-regions", "2", "--report", tmp_path / "s.html",
                         "-q")
    assert code == 0, err
    assert "merged regions: " in out and "test AUC" in out
    assert "region-summary" in sections_of(tmp_path / "s.html").sections
