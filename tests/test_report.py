"""The HTML report: sections, embedded figures, escaping, and bad input."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

# readers of a report's tables and NumPy oracles (forward pass, patterns, LLMs), shared
# with the value tests
from test_report_values import (
    _assert_pngs,
    all_tables,
    assert_shown,
    forward,
    frame,
    hand_regions,
    items,
    llm_at,
    num,
    sections,
)

from glassnet import ReluNetwork, Report, unwrap


class _Collector(HTMLParser):
    """Section keys, image sources and text of a report; fails on unbalanced tags."""

    VOID = {"meta", "img", "br", "hr", "link", "input", "col", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.scripts = 0
        self.links: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)
        if tag == "section":
            self.sections.append(a.get("data-section"))
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "script":
            self.scripts += 1
        if tag == "link" and a.get("href"):
            self.links.append(a["href"])

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> after {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    c.close()
    assert c.stack == [], f"unclosed tags {c.stack}"
    return c


def _net(n_features=2, output="sigmoid", seed=0):
    rng = np.random.default_rng(seed)
    sizes = (n_features, 8, 8, 1)
    Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=b) * 0.3 for b in sizes[1:]]
    return ReluNetwork(Ws, bs, output=output, feature_names=[f"f{i}" for i in range(n_features)])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    net = _net()
    X = pd.DataFrame(rng.uniform(-1, 1, size=(400, 2)), columns=["f0", "f1"])
    y = (net.predict_output(X)[:, 0] + 0.2 * rng.normal(size=400) > 0.5).astype(int)
    return net, X, y, unwrap(net, X, y)


def _full_report(data, fmt="png"):
    net, X, y, regions = data
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    return (
        Report("Full <report>", subtitle="a & b", figure_format=fmt)
        .add_overview(net, X, y, data_name="synthetic", metrics={"AUC": 0.9})
        .add_certificate(regions)
        .add_region_summary(regions, X, y, top=5)
        .add_size_distribution(regions)
        .add_feature_importance(regions, X)
        .add_coefficients(regions, X, top=5)
        .add_boundary_distance(regions, X)
        .add_partition_map(net, X, y)
        .add_simplification(pd.DataFrame({"model": ["network", "merged"], "regions": [30, 4]}))
        .add_table("Extra table", {"a": [1, 2]})
        .add_figure("Extra figure", fig, caption="a line")
        .add_text("Notes", "first <b>paragraph</b>\n\nsecond")
    )


def test_all_sections_render_and_parse(data, tmp_path):
    report = _full_report(data)
    path = report.save(tmp_path / "sub" / "report.html")
    html = path.read_text(encoding="utf-8")
    doc = parse(html)
    expected = ["overview", "certificate", "region-summary", "size-distribution",
                "feature-importance", "coefficients", "boundary-distance", "partition-map",
                "simplification", "table", "figure", "text", "versions"]
    assert doc.sections == expected
    assert report.sections == expected[:-1]  # saving does not add the versions section for good
    assert doc.scripts == 0 and doc.links == []  # self-contained, no scripts, no external files
    assert not re.search(r"""(src|href)=["']https?:""", html)
    # size, importance, coefficients, profiles, boundary distance, partition, extra
    assert len(doc.images) == 7
    _assert_pngs(doc.images, 7)  # each decodes whole (Pillow), with a size > 0


def test_content_is_correct_and_escaped(data):
    net, X, y, regions = data
    html = _full_report(data).to_html()
    text = " ".join(parse(html).text)
    assert "<report>" not in html.split("<body>")[1] and "Full &lt;report&gt;" in html
    assert "&lt;b&gt;paragraph&lt;/b&gt;" in html
    assert "first &lt;b&gt;paragraph" not in text  # the escaped text reads back as typed
    assert "first <b>paragraph</b>" in text
    secs = sections(html)
    # the region count is that of the distinct activation patterns of a NumPy forward pass
    cert = items(secs["certificate"]["tables"][0])
    assert num(cert["activation regions"]) == len(
        hand_regions(net.weights, net.biases, X.to_numpy())) == len(regions)
    assert num(cert["max abs error (certificate)"]) == float(f"{regions.max_abs_error:.3e}")
    assert num(cert["max abs error (certificate)"]) < 1e-12
    over = items(secs["overview"]["tables"][0])
    assert over["architecture (inputs → hidden → outputs)"] == "2 → 8 → 8 → 1"
    assert num(over["parameters"]) == (2 * 8 + 8) + (8 * 8 + 8) + (8 + 1)
    # every package version of the environment is listed, each on its own row
    import sklearn

    assert items(secs["versions"]["tables"][0])["scikit-learn"] == sklearn.__version__
    # class distribution in the overview, counted here
    n0, n1 = np.bincount(y, minlength=2)
    assert over["target classes"] == (f"0: {n0:,} ({n0 / len(y):.1%}), "
                                      f"1: {n1:,} ({n1 / len(y):.1%})")


def test_svg_figures(data):
    net, X, y, regions = data
    html = Report(figure_format="svg").add_size_distribution(regions).to_html()
    src = parse(html).images[0]
    assert src.startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(src.split(",", 1)[1])


def test_certificate_flags_a_bad_certificate(data):
    import copy

    net, X, y, regions = data
    good = Report().add_certificate(regions).to_html()
    assert 'class="ok"' in good and 'class="bad"' not in good and "ABOVE" not in good
    # a certificate 5.0 off (the error of issue 19's first-chunk-only mutant) is flagged red
    # and shown as it is, not rounded into the tolerance
    broken = copy.copy(regions)
    broken.max_abs_error = 5.0
    bad = Report().add_certificate(broken).to_html()
    assert 'class="bad"' in bad and 'class="ok"' not in bad
    assert "5.000e+00 (ABOVE the tolerance 1e-08)" in bad
    assert num(items(sections(bad)["certificate"]["tables"][0])[
        "max abs error (certificate)"]) == 5.0
    # the comparison is against the tolerance given: just below the error, it fails
    assert regions.max_abs_error > 0
    tight = Report().add_certificate(regions, tolerance=regions.max_abs_error / 2).to_html()
    assert tight.count("ABOVE") == 1 and 'class="bad"' in tight
    assert Report().add_certificate(
        regions, tolerance=regions.max_abs_error).to_html().count("ABOVE") == 0


def test_duplicate_keys_get_unique_ids(data):
    r = Report().add_text("A", "x").add_text("B", "y")
    assert r.sections == ["text", "text-2"]
    assert parse(r.to_html()).sections[:2] == ["text", "text-2"]


def test_bad_input(data):
    net, X, y, regions = data
    with pytest.raises(ValueError, match="figure_format"):
        Report(figure_format="jpg")
    with pytest.raises(TypeError, match="Regions"):
        Report().add_certificate(net)
    with pytest.raises(ValueError, match="2 inputs"):
        Report().add_partition_map(_net(n_features=3), np.zeros((5, 3)))
    with pytest.raises(TypeError, match="Figure"):
        Report().add_figure("x", "not a figure")
    with pytest.raises(ValueError, match="output"):
        Report().add_coefficients(regions, output=3)


def test_regression_overview_and_multi_output():
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(6, 3)), rng.normal(size=(2, 6))]
    net = ReluNetwork(Ws, [np.zeros(6), np.zeros(2)])
    X = rng.normal(size=(100, 3))
    y = X[:, 0] * 2.0
    regions = unwrap(net, X)
    html = (Report().add_overview(net, X, y).add_coefficients(regions, output=1)
            .add_feature_importance(regions).to_html())
    text = " ".join(parse(html).text)
    assert "Output 1 of 2" in text
    secs = sections(html)
    over = items(secs["overview"]["tables"][0])
    assert over["task"] == "regression" and over["output link"] == "identity"
    assert "favourable class" not in over  # no class to favour in a regression
    mean, std = over["target mean ± std"].split(" ± ")
    assert_shown(mean, y.mean(), "target mean")
    assert_shown(std, y.std(), "target std")
    # the quantile table is of output 1's coefficients: each row's own LLM, by hand
    llms = [llm_at(Ws, [np.zeros(6), np.zeros(2)], x) for x in X]
    coefs = np.array([np.append(A[1], c[1]) for A, c in llms])  # (rows, features + intercept)
    q = frame(secs["coefficients"]["tables"][0]).set_index("feature")
    assert list(q.index) == ["x0", "x1", "x2", "intercept"]
    for j, name in enumerate(q.index):
        v = coefs[:, j]
        assert_shown(q.loc[name, "mean"], v.mean(), f"mean {name}")
        assert_shown(q.loc[name, "std"], v.std(), f"std {name}")
        assert_shown(q.loc[name, "min"], v.min(), f"min {name}")
        assert_shown(q.loc[name, "max"], v.max(), f"max {name}")
        assert_shown(q.loc[name, "q0.5"], np.quantile(v, 0.5, method="inverted_cdf"), name)
        assert_shown(q.loc[name, "share_positive"], np.mean(v > 0), f"share > 0 {name}")
        assert_shown(q.loc[name, "share_negative"], np.mean(v < 0), f"share < 0 {name}")
    imp = frame(secs["feature-importance"]["tables"][0])
    assert sorted(imp["feature"]) == ["x0", "x1", "x2"]


def _text(html: str, key: str) -> str:
    body = html.split(f'data-section="{key}"')[1].split("</section>")[0]
    return " ".join(parse(f"<div>{body}</div>").text)


def test_boundary_distance_section(data):
    from glassnet import boundary_distance

    net, X, y, regions = data
    html = Report().add_boundary_distance(regions, X, max_rows=150, standardize=False).to_html()
    doc = parse(html)
    assert doc.sections[0] == "boundary-distance" and len(doc.images) == 1
    text = _text(html, "boundary-distance")
    assert "a uniform random sample of 150 of the 400 rows" in text
    for part in ("Quantiles", "Rows near a boundary", "Which layer bounds the region",
                 "Per region (feature units)", "hidden layer 1"):
        assert part in text
    # all rows, raw units: the tables against distances computed here, row by row
    html = Report().add_boundary_distance(net, X, standardize=False).to_html()
    text = _text(html, "boundary-distance")
    d, layer = _hand_boundary_distance(net.weights, net.biases, X.to_numpy())
    assert np.allclose(boundary_distance(net, X), d, rtol=1e-9, atol=0)
    assert "all 400 rows" in text and "Per region" not in text  # a network: no region table
    quant, near, layers = sections(html)["boundary-distance"]["tables"]
    quant = items([["quantile", "value"], *quant[1:]])
    assert_shown(quant["min"], d.min(), "min distance")
    assert_shown(quant["max"], d.max(), "max distance")
    for t, rows, share in near[1:]:
        assert num(rows) == np.sum(d < num(t)), f"rows closer than {t}"
        assert_shown(share, np.mean(d < num(t)), f"share closer than {t}")
    for name, rows, _ in layers[1:]:
        k = int(name.rsplit(" ", 1)[1])
        assert num(rows) == np.sum(layer == k), name
    assert sum(num(r) for _, r, _ in layers[1:]) == len(X)
    # standardized (the default): both units, in the caption and the table
    text = _text(Report().add_boundary_distance(regions, X).to_html(), "boundary-distance")
    assert "distance (standard deviations)" in text and "distance (feature units)" in text


def _hand_boundary_distance(Ws, bs, X):
    """Per row, min over hidden neurons of |pre-activation| / ||its gradient on the
    region|| (the distance to the region's boundary), and the layer (1-based) of that
    neuron; a plain NumPy loop over rows."""
    dist, layer = np.full(len(X), np.inf), np.zeros(len(X), dtype=int)
    for i, x in enumerate(X):
        A, h = np.eye(len(x)), x
        for k, (W, b) in enumerate(zip(Ws[:-1], bs[:-1], strict=True), start=1):
            z, G = W @ h + b, W @ A
            norm = np.linalg.norm(G, axis=1)
            with np.errstate(divide="ignore"):
                dk = np.where(norm > 0, np.abs(z) / norm, np.inf)
            if dk.min() < dist[i]:
                dist[i], layer[i] = dk.min(), k
            A, h = (z > 0)[:, None] * G, np.maximum(z, 0.0)
    return dist, layer


def test_boundary_distance_flat_network_and_bad_input(data):
    net, X, y, regions = data
    flat = ReluNetwork([np.zeros((3, 2)), np.ones((1, 3))], [np.ones(3), np.zeros(1)])
    html = Report().add_boundary_distance(flat, np.zeros((4, 2))).to_html()
    assert len(parse(html).images) == 0  # every distance is infinite: no histogram
    assert "4 row(s) are in a region no neuron bounds" in html
    with pytest.raises(ValueError, match="max_rows"):
        Report().add_boundary_distance(regions, X, max_rows=0)
    with pytest.raises(ValueError, match="at least one row"):
        Report().add_boundary_distance(net, np.zeros((0, 2)))


def test_region_summary_and_overview_without_rows(data):
    from glassnet.streaming import unwrap_chunks

    net, X, y, regions = data
    Xa = X.to_numpy()
    streamed = unwrap_chunks(net, [(Xa[:150], y[:150]), (Xa[150:], y[150:])])
    assert streamed.labels is None
    stats = pd.DataFrame({"feature": ["f0", "f1"], "mean": [0.0, 0.1], "std": [1.0, 1.0],
                          "min": [-1.0, -1.0], "max": [1.0, 1.0]})
    html = (Report().add_overview(net, data_name="big.csv", feature_stats=stats, n_rows=400)
            .add_region_summary(streamed, top=5).add_region_summary(regions).to_html())
    text = _text(html, "region-summary")
    assert "pred_std" in text and "y_mean" in text and "local_auc" not in text
    assert "need" in text and "all rows at once" in text
    assert "local_auc" not in _text(html, "region-summary-2")  # no X: statistics only
    # the streamed statistics are those of the hand regions (count, target, score, LLM)
    secs = sections(html)
    t = frame(secs["region-summary"]["tables"][0])
    groups = hand_regions(net.weights, net.biases, Xa)
    p = 1 / (1 + np.exp(-forward(net.weights, net.biases, Xa)[0][:, 0]))
    assert list(t["count"].map(num)) == [len(g) for g in groups[:5]]
    for _, row in t.iterrows():
        ok = False
        for g in (g for g in groups if len(g) == num(row["count"])):
            A, c = llm_at(net.weights, net.biases, Xa[g[0]])
            want = [("share", len(g) / 400), ("y_mean", y[g].mean()), ("y_std", y[g].std()),
                    ("pred_mean", p[g].mean()), ("pred_std", p[g].std()),
                    ("intercept", c[0]), ("coef_f0", A[0, 0]), ("coef_f1", A[0, 1])]
            try:
                for col, v in want:
                    assert_shown(row[col], v, col)
                ok = True
                break
            except AssertionError:
                continue
        assert ok, f"no hand region matches {row.to_dict()}"
    over = items(secs["overview"]["tables"][0])
    assert over["data"] == "big.csv" and num(over["rows"]) == 400
    assert num(over["features"]) == 2
    feats = frame(secs["overview"]["tables"][1]).set_index("feature")
    assert feats.loc["f1", "mean"] == "0.1" and feats.loc["f0", "min"] == "-1"


# ---------------------------------------------------------------------- validation sections
def _section_text(html, key):
    m = re.search(rf'<section id="{key}"[^>]*>(.*?)</section>', html, re.S)
    assert m, f"no section {key}"
    return re.sub(r"<[^>]+>", " ", m.group(1))


def test_outcomes_section_figures_match_direct(data):
    from scipy.stats import ks_2samp
    from sklearn.metrics import roc_auc_score

    from glassnet.outcomes import outcomes
    from glassnet.report._html import fmt

    net, X, y, _ = data
    p = net.predict_output(X)[:, 0]
    html = Report().add_outcomes(outcomes(y, p), rows_note="test rows").to_html()
    text = _section_text(html, "outcomes")
    auc = roc_auc_score(y, p)
    # each figure in its own labelled row, not merely somewhere in the section
    shown = items(sections(html)["outcomes"]["tables"][0])
    for label, value in (("AUC", auc), ("Gini", 2 * auc - 1),
                         ("KS", ks_2samp(p[y == 1], p[y == 0]).statistic),
                         ("Brier score", np.mean((p - y) ** 2))):
        assert shown[label] == fmt(float(value)), label
    assert "Gains table" in text and "Calibration" in text and "test rows" in text
    assert len(parse(html).images) == 1


def test_provenance_caveats_and_explanations(data):
    net, X, y, regions = data
    Xi = X.set_axis(X.index + 20_000)  # the appendix must name rows by their own index
    rep = (Report()
           .add_provenance({"data": {"file": "credit.csv", "sha256": "ab" * 32, "rows": 24000},
                            "split": {"test share": 0.2, "seed": 7},
                            "metrics": {"train": {"AUC": 0.81}, "test": {"AUC": 0.77}}})
           .add_explanations(net, Xi, [20_003, 20_010])
           .add_caveats(["2 regions hold one row"]))
    html = rep.to_html()
    secs = sections(html)
    data_t, split_t, perf_t = secs["provenance"]["tables"]
    assert num(items(data_t)["rows"]) == 24_000 and items(data_t)["sha256"] == "ab" * 32
    assert items(split_t) == {"test share": "0.2", "seed": "7"}
    assert perf_t == [["metric", "train", "test"], ["AUC", "0.81", "0.77"]]  # split columns
    # a top-level entry that does not apply (a regression's classes: None) is no empty row
    reg = Report().add_provenance({"task": "regression", "classes": None, "seed": 0})
    (flat,) = sections(reg.to_html())["provenance"]["tables"]
    assert items(flat) == {"task": "regression", "seed": "0"}
    expl = _section_text(html, "explanations")
    assert "Row 20003" in expl and "Row 20010" in expl
    # the contribution table: coef_j * x_j of each row's own LLM, base = its intercept,
    # output = the network's raw output, all computed here from the weights
    contrib = frame(secs["explanations"]["tables"][0]).set_index("term")
    assert list(contrib.columns) == ["20003", "20010"]
    raw = forward(net.weights, net.biases, X.to_numpy())[0][:, 0]
    for label in (20_003, 20_010):
        x = X.to_numpy()[label - 20_000]
        A, c = llm_at(net.weights, net.biases, x)
        col = contrib[str(label)]
        for j, f in enumerate(["f0", "f1"]):
            assert_shown(col[f], A[0, j] * x[j], f"{label} {f}")
        assert_shown(col["base"], c[0], f"{label} base")
        assert_shown(col["output"], raw[label - 20_000], f"{label} output")
    # contributions add up to the network's raw output
    from glassnet import local_contributions

    c = local_contributions(net, Xi.loc[[20_003]]).iloc[0]
    assert c.drop(["base", "output"]).sum() + c["base"] == pytest.approx(
        net.forward(Xi.loc[[20_003]])[0, 0])
    assert "2 regions hold one row" in _section_text(html, "caveats")
    with pytest.raises(ValueError, match="not in the data's index"):
        Report().add_explanations(net, Xi, [5])


def test_prune_headings_say_pruned_and_follow_size(data):
    from glassnet import RegionPruner

    net, X, y, _ = data
    pruner = RegionPruner(net, n_regions=3).fit(X, y)
    html = Report().add_merged_regions(pruner, X, y, title="Kept regions").to_html()
    heads = re.findall(r"<h3>([^<]*)</h3>", html)
    assert heads and all(h.startswith("Pruned region") for h in heads)
    sizes = np.bincount(pruner.apply(X), minlength=pruner.n_regions_)
    ids = [int(re.match(r"Pruned region (\d+)", h).group(1)) for h in heads]
    assert list(sizes[ids]) == sorted(sizes[ids], reverse=True)


def test_report_bounded_when_every_row_is_its_own_region():
    """Issue 12 defect 10: row-level sections sample above max_rows and say so."""
    import time

    rng = np.random.default_rng(0)
    d, h, n = 12, 48, 12_000
    net = ReluNetwork([rng.normal(size=(h, d)), rng.normal(size=(1, h))],
                      [rng.normal(size=h), np.zeros(1)], output="sigmoid")
    X = rng.normal(size=(n, d))
    y = (rng.random(n) < net.predict_output(X)[:, 0]).astype(int)
    regions = unwrap(net, X, y)
    assert len(regions) > 0.95 * n  # nearly every row is its own region
    t = time.perf_counter()
    rep = Report(max_rows=1500, random_state=3)
    rep.add_region_summary(regions, X, y).add_size_distribution(regions)
    rep.add_feature_importance(regions, X).add_coefficients(regions, X)
    rep.add_boundary_distance(regions, X, max_rows=1500).add_caveats([])
    html = rep.to_html()
    assert time.perf_counter() - t < 120  # a hang guard only; the bound is the sample below
    caveats = _section_text(html, "caveats")
    assert "uniform random sample of 1,500 of the 12,000 rows (seed 3)" in caveats
    assert "a uniform random sample of 1500 of the 12000 rows" in _section_text(
        html, "boundary-distance")


def test_repr_html_of_notebook_objects(data):
    from glassnet import RegionMerger, RegionPruner

    net, X, y, regions = data
    html = regions._repr_html_()
    assert "Regions" in html and "<script" not in html
    # the notebook summary's numbers against the patterns of a NumPy pass
    groups = hand_regions(net.weights, net.biases, X.to_numpy())
    counts = np.array([len(g) for g in groups])
    head, top = all_tables(html)
    info = dict(head)
    assert num(info["rows"]) == len(X) and num(info["activation regions"]) == len(groups)
    assert num(info["regions with one row"]) == int((counts == 1).sum())
    cover = [int(np.argmax(np.cumsum(counts) >= s * len(X)) + 1) for s in (0.5, 0.95)]
    assert info["regions covering 50% / 95% of rows"] == f"{cover[0]} / {cover[1]}"
    assert [num(r[1]) for r in top[1:]] == list(counts[:5])
    merger = RegionMerger(net, n_regions=3, min_count=5).fit(X, y)
    mh = merger._repr_html_()
    assert "RegionMerger" in mh and "regions kept" in mh
    counts = np.bincount(merger.merged_labels_)
    assert f"<td class=n>{counts[0]:,}</td>" in mh
    assert "RegionPruner (not fitted)" in RegionPruner(net)._repr_html_()


@pytest.mark.slow
def test_cli_carries_provenance_and_validation_sections(tmp_path):
    """train writes provenance.json; unwrap and simplify reports carry it, with outcomes,
    fidelity, caveats (the training file is recognised) and the per-decision appendix."""
    import json

    from glassnet.cli import main

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=300) > 0).astype(int)
    data = tmp_path / "credit.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(default=y).to_csv(data, index=False)
    out = tmp_path / "model"
    assert main(["train", "-q", str(data), "--target", "default", "--hidden", "4",
                 "--epochs", "3", "--seed", "5", "--out", str(out)]) == 0
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["split"]["seed"] == 5 and prov["split"]["test rows"] == 60
    assert prov["data"]["rows"] == 300 and len(prov["data"]["sha256"]) == 64
    assert set(prov["metrics"]) == {"train", "test"}
    train_html = (out / "report.html").read_text()
    assert "Test rows: held out before training" in _section_text(train_html, "outcomes")
    rep = tmp_path / "unwrap.html"
    assert main(["unwrap", "-q", str(out), str(data), "--target", "default",
                 "--report", str(rep), "--explain-rows", "3,7"]) == 0
    html = rep.read_text()
    assert "0.2" in _section_text(html, "provenance")
    assert "include its 240 training rows" in _section_text(html, "caveats")
    # the overview's AUC says which rows it is on; the model folder's test AUC comes first
    overview = " ".join(_section_text(html, "overview").split())
    assert "AUC on the 300 rows given (training rows included)" in overview
    assert "test AUC (model folder, 60 held-out rows)" in overview
    assert f"{prov['metrics']['test']['AUC']:.4g}"[:5] in overview
    assert "favourable class 0 (default = 0)" in overview
    assert "Row 3" in _section_text(html, "explanations")
    rep2 = tmp_path / "prune.html"
    assert main(["simplify", "-q", str(out), str(data), "--target", "default", "--method",
                 "prune", "--n-regions", "2", "--report", str(rep2)]) == 0
    fid = _section_text(rep2.read_text(), "fidelity")
    assert "decision agreement" in fid and "pruned regions" in fid
    assert "may include rows the network was trained on" in fid  # seed 0 here, 5 in train
    assert "include its" not in _section_text(train_html, "outcomes")
    assert main(["unwrap", "-q", str(out), str(data), "--explain-rows", "300",
                 "--report", str(tmp_path / "x.html")]) == 2


def test_data_overlap_messages(tmp_path):
    from glassnet.provenance import data_overlap, file_sha256, read_provenance, write_provenance

    f = tmp_path / "d.csv"
    f.write_text("a,b\n1,2\n")
    other = tmp_path / "e.csv"
    other.write_text("a,b\n1,3\n")
    prov = {"data": {"sha256": file_sha256(f)},
            "split": {"seed": 4, "test share": 0.2, "training rows": 1}}
    write_provenance(tmp_path, prov)
    assert read_provenance(tmp_path / "model.glassnet") == prov
    assert "include its 1 training rows" in data_overlap(prov, f)
    assert "own test rows" in data_overlap(prov, f, split=(4, 0.2))
    assert "may include rows" in data_overlap(prov, f, split=(0, 0.2))
    assert data_overlap(prov, other) is None and data_overlap(None, f) is None
    (tmp_path / "provenance.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        read_provenance(tmp_path)


def test_llm_profiles_skip_features_constant_within_every_drawn_region(monkeypatch):
    """x0 is binary and drives the first hidden unit (active iff x0 = 1), so every region
    holds one value of x0 while x0 has the largest standardised importance: its panel
    would be dots only. The panels go to the features that vary inside a region; which
    ones vary is counted here from the rows and their regions."""
    import glassnet.plotting as plotting

    rng = np.random.default_rng(0)
    n = 600
    X = np.column_stack([rng.integers(0, 2, n), rng.uniform(0, 1, n), rng.uniform(0, 1, n)])
    W1 = np.array([[10.0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]])
    b1 = np.array([-5.0, 0, -0.5, -1.0])
    net = ReluNetwork([W1, np.array([[30.0, 1, 1, 1]])], [b1, np.zeros(1)], output="identity",
                      feature_names=["x0", "x1", "x2"])
    regions = unwrap(net, X)
    top = 20
    lab = np.asarray(regions.labels)
    varies = [any(np.ptp(X[lab == r, j]) > 0 for r in range(min(top, len(regions))))
              for j in range(3)]
    assert varies == [False, True, True]
    drawn = []
    real = plotting.LLMProfileDisplay.from_regions.__func__

    def spy(cls, regions, X, feature=0, **kw):
        drawn.append(feature)
        return real(cls, regions, X, feature=feature, **kw)

    monkeypatch.setattr(plotting.LLMProfileDisplay, "from_regions", classmethod(spy))
    html = Report().add_coefficients(regions, X, top=top, max_profiles=2).to_html()
    assert sorted(drawn) == [1, 2]
    assert "2 most important of 3 features" in html and "vary within some drawn region" in html
    # room for all three: still no panel of dots, so two panels
    drawn.clear()
    Report().add_coefficients(regions, X, top=top, max_profiles=3)
    assert sorted(drawn) == [1, 2]


def test_coefficient_figures_use_the_features_sd_when_rows_are_given(monkeypatch):
    """In raw units a feature measured in large numbers has tiny coefficients whatever its
    effect; with rows the report draws coef_j * sd_j (sd by NumPy here) and says so."""
    import glassnet.plotting as plotting

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3)) * np.array([1.0, 5e4, 1e-2])
    net = ReluNetwork([rng.normal(size=(5, 3)) / np.array([1.0, 5e4, 1e-2]),
                       rng.normal(size=(1, 5))], [rng.normal(size=5), np.zeros(1)],
                      output="identity")
    regions = unwrap(net, X)
    seen = {}
    for name in ("CoefficientParallelDisplay", "CoefficientViolinDisplay"):
        cls = getattr(plotting, name)
        real = cls.from_regions.__func__

        def spy(c, *args, _real=real, _name=name, **kw):
            seen[_name] = kw.get("feature_sd")
            return _real(c, *args, **kw)

        monkeypatch.setattr(cls, "from_regions", classmethod(spy))
    html = Report().add_coefficients(regions, X, max_profiles=0).to_html()
    for name in seen:
        np.testing.assert_allclose(seen[name], X.std(axis=0), rtol=1e-12)
    assert "standard deviation on these rows: the effect of a one-standard-deviation" in html
    seen.clear()
    html = Report().add_coefficients(regions).to_html()  # no rows: raw coefficients
    assert seen == {"CoefficientParallelDisplay": None, "CoefficientViolinDisplay": None}
    assert "standard deviation on these rows" not in html
