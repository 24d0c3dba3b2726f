"""The numbers a report shows, read back from its HTML and compared with values computed
here, independently of glassnet: a plain NumPy forward pass of the network (outputs,
activation patterns, the local linear model of a pattern), ``np.unique`` counts of the
patterns for the regions, scikit-learn / SciPy for the outcome metrics, and the
surrogates' own ``predict_proba`` for fidelity.

The report prints 4 significant digits (integers exactly, with thousands separators), so
a shown number is compared with the oracle to that precision (``_close``). Tables are read
with :class:`html.parser.HTMLParser` (pandas.read_html needs lxml, which the project does
not install); a wide table's print-only copy (blocks of columns) is skipped.
"""

from __future__ import annotations

import base64
import io
import re
import struct
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp, spearmanr
from sklearn.metrics import (
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from glassnet import ReluNetwork, Report, unwrap
from glassnet.datasets import make_cocircles

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------- reading a report
class _Sections(HTMLParser):
    """Per ``data-section`` key: tables (lists of rows of cell text), text outside tables
    and image sources. Tables inside ``gn-print-only`` blocks are skipped."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, dict[str, list]] = {}
        self._key: str | None = None
        self._divs: list[bool] = []
        self._table: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def _hidden(self) -> bool:
        return self._key is None or any(self._divs)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._key = a["data-section"]
            self.sections[self._key] = {"tables": [], "text": [], "images": []}
        elif tag == "div":
            self._divs.append("gn-print-only" in (a.get("class") or ""))
        elif self._hidden():
            return
        elif tag == "table":
            self._table = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.sections[self._key]["images"].append(a.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "section":
            self._key = None
        elif tag == "div":
            self._divs.pop()
        elif self._hidden():
            return
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            self.sections[self._key]["tables"].append(self._table)
            self._table = None

    def handle_data(self, data):
        if self._hidden():
            return
        (self._cell if self._cell is not None else self.sections[self._key]["text"]).append(data)


def sections(html: str) -> dict[str, dict[str, list]]:
    p = _Sections()
    p.feed(html)
    p.close()
    return p.sections


class _AllTables(HTMLParser):
    """Every table of an HTML fragment, print-only copies included."""

    def __init__(self):
        super().__init__()
        self.tables, self.row, self.cell = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.row.append("".join(self.cell))
            self.cell = None
        elif tag == "tr":
            self.tables[-1].append(self.row)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def all_tables(html: str) -> list[list[list[str]]]:
    p = _AllTables()
    p.feed(html)
    p.close()
    return p.tables


def frame(table: list[list[str]]) -> pd.DataFrame:
    """A parsed table as a DataFrame of strings (first row: header)."""
    assert len(table) >= 2, "the table has no body"
    return pd.DataFrame(table[1:], columns=table[0])


def items(table: list[list[str]]) -> dict[str, str]:
    """An ``item | value`` (or ``metric | value``) table as a dict."""
    assert table[0][1] == "value", table[0]
    return {k: v for k, v in table[1:]}


def num(text: str) -> float:
    """A shown number: thousands separators and a percent sign removed."""
    t = text.strip().replace(",", "")
    if t.endswith("%"):
        return float(t[:-1]) / 100
    return float(t)


def _close(shown: str, value: float) -> bool:
    """``shown`` (4 significant digits, or 3 after the point in scientific notation) is
    ``value`` rounded for display."""
    if not np.isfinite(value):
        return shown.strip() in ("", "nan", str(value))
    v = num(shown)
    if v == value:
        return True
    # half a unit in the 4th significant digit of the shown number, plus float slack
    digits = 3 - int(np.floor(np.log10(abs(value)))) if value != 0 else 3
    return abs(v - value) <= 0.5 * 10.0 ** (-digits) * (1 + 1e-9) + 1e-300


def assert_shown(shown: str, value: float, what: str = "") -> None:
    assert _close(shown, float(value)), f"{what}: report shows {shown!r}, oracle {value!r}"


# ---------------------------------------------------------------------- oracles
def forward(Ws, bs, X):
    """Raw output and activation pattern (hidden units > 0) by a plain NumPy pass."""
    h = np.asarray(X, dtype=np.float64)
    pattern = []
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        z = h @ W.T + b
        pattern.append(z > 0)
        h = np.maximum(z, 0.0)
    return h @ Ws[-1].T + bs[-1], np.hstack(pattern)


def llm_at(Ws, bs, x):
    """The local linear model (coefficients A, intercept c) of the region holding ``x``:
    each hidden layer multiplied by its 0/1 activation mask."""
    A, c, h = np.eye(len(x)), np.zeros(len(x)), np.asarray(x, dtype=np.float64)
    for W, b in zip(Ws[:-1], bs[:-1], strict=True):
        z = W @ h + b
        on = (z > 0).astype(np.float64)
        A, c, h = on[:, None] * (W @ A), on * (W @ c + b), np.maximum(z, 0.0)
    return Ws[-1] @ A, Ws[-1] @ c + bs[-1]


def sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


def hand_regions(Ws, bs, X):
    """Unique activation patterns, their rows and counts, largest first."""
    _, pattern = forward(Ws, bs, X)
    _, inverse, counts = np.unique(pattern, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    return [np.flatnonzero(inverse == r) for r in np.argsort(-counts, kind="stable")]


# ---------------------------------------------------------------------- fixture
@pytest.fixture(scope="module")
def case():
    """A 2-8-6-1 sigmoid network with random weights on 500 CoCircles rows."""
    rng = np.random.default_rng(7)
    sizes = (2, 8, 6, 1)
    Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=b) * 0.5 for b in sizes[1:]]
    df = make_cocircles(500, random_state=3)
    X = df[["X0", "X1"]]
    y = df["target"].rename("default")
    net = ReluNetwork(Ws, bs, output="sigmoid", feature_names=["X0", "X1"])
    raw, _ = forward(Ws, bs, X.to_numpy())
    return {"net": net, "Ws": Ws, "bs": bs, "X": X, "y": y, "raw": raw[:, 0],
            "p": sigmoid(raw[:, 0]), "regions": unwrap(net, X, y),
            "groups": hand_regions(Ws, bs, X.to_numpy())}


# ---------------------------------------------------------------------- overview
def test_overview_values(case):
    net, X, y, Ws, bs = case["net"], case["X"], case["y"], case["Ws"], case["bs"]
    auc = roc_auc_score(y, case["p"])
    html = Report().add_overview(net, X, y, data_name="cocircles.csv",
                                 metrics={"test AUC (held out, 100 rows)": 0.75,
                                          "AUC on the 500 rows given": auc}).to_html()
    sec = sections(html)["overview"]
    rows = items(sec["tables"][0])
    assert rows["architecture (inputs → hidden → outputs)"] == " → ".join(
        str(s) for s in (Ws[0].shape[1], *(W.shape[0] for W in Ws)))
    assert num(rows["hidden ReLU neurons"]) == sum(W.shape[0] for W in Ws[:-1])
    assert num(rows["parameters"]) == sum(W.size + b.size for W, b in zip(Ws, bs, strict=True))
    assert rows["output link"] == "sigmoid" and rows["task"] == "classification"
    # the favourable class is class 0 of the target named by the Series
    assert rows["favourable class"] == "0 (default = 0)"
    assert num(rows["rows"]) == len(X) and num(rows["features"]) == X.shape[1]
    assert rows["data"] == "cocircles.csv"
    # class distribution: "0: 250 (50.0%), 1: 250 (50.0%)" from np.unique
    vals, cnt = np.unique(y.to_numpy(), return_counts=True)
    shown = re.findall(r"(\d+): ([\d,]+) \(([\d.]+)%\)", rows["target classes"])
    assert [(int(v), num(c)) for v, c, _ in shown] == [(int(v), c) for v, c in
                                                      zip(vals, cnt, strict=True)]
    for (_, _count, pct), n in zip(shown, cnt, strict=True):
        assert abs(float(pct) - 100 * n / len(y)) <= 0.05 + 1e-9
    # metric rows keep the caller's label (which rows they are on) and value
    assert_shown(rows["test AUC (held out, 100 rows)"], 0.75, "test AUC")
    assert_shown(rows["AUC on the 500 rows given"], auc, "AUC")
    # per-feature statistics: population std (ddof=0), as stated for a description of X
    feats = frame(sec["tables"][1]).set_index("feature")
    assert list(feats.index) == ["X0", "X1"]
    for stat, oracle in (("mean", X.mean()), ("std", X.std(ddof=0)), ("min", X.min()),
                         ("max", X.max())):
        for f in ("X0", "X1"):
            assert_shown(feats.loc[f, stat], oracle[f], f"{stat} of {f}")


def test_overview_regression_target_mean_and_std():
    rng = np.random.default_rng(2)
    net = ReluNetwork([rng.normal(size=(5, 3)), rng.normal(size=(1, 5))],
                      [rng.normal(size=5), np.zeros(1)])
    X = rng.normal(size=(120, 3))
    y = 3.0 + 2.0 * rng.normal(size=120)
    rows = items(sections(Report().add_overview(net, X, y).to_html())["overview"]["tables"][0])
    assert rows["task"] == "regression" and "favourable class" not in rows
    mean, std = rows["target mean ± std"].split(" ± ")
    assert_shown(mean, y.mean(), "target mean")
    assert_shown(std, y.std(), "target std")


# ---------------------------------------------------------------------- certificate
def test_certificate_values(case):
    Ws, bs, X, groups = case["Ws"], case["bs"], case["X"].to_numpy(), case["groups"]
    html = Report().add_certificate(case["regions"]).to_html()
    sec = sections(html)["certificate"]
    rows = items(sec["tables"][0])
    counts = np.array([len(g) for g in groups])
    n = len(X)
    assert num(rows["activation regions"]) == len(groups)
    assert num(rows["rows"]) == n
    assert num(rows["regions holding a single row"]) == int((counts == 1).sum())
    cum = np.cumsum(counts) / n  # counts are largest first
    for share in (0.5, 0.95):
        k = next(i + 1 for i, c in enumerate(cum) if c >= share)
        assert num(rows[f"regions covering {share:.0%} of rows"]) == k
    assert_shown(rows["largest region share"], counts[0] / n, "largest share")
    # the certificate: every row's own LLM against the network, by hand
    raw = case["raw"]
    err = max(abs((A @ x + c)[0] - raw[i]) for i, x in enumerate(X) for A, c in
              [llm_at(Ws, bs, x)])
    assert err < 1e-12
    shown = num(rows["max abs error (certificate)"])
    assert 0 <= shown < 1e-12  # the bound shown is as tight as the hand computation
    verdict = " ".join(sec["text"])
    assert f"all {n} rows" in verdict and "within the tolerance" in verdict
    assert "ABOVE" not in verdict


# ---------------------------------------------------------------------- region table
def test_region_table_matches_hand_regions(case):
    Ws, bs, X, y, groups = case["Ws"], case["bs"], case["X"], case["y"], case["groups"]
    Xa, ya, p = X.to_numpy(), y.to_numpy(), case["p"]
    assert len(groups) <= 100  # the table shows every region
    html = Report().add_region_summary(case["regions"], X, y, top=len(groups)).to_html()
    t = frame(sections(html)["region-summary"]["tables"][0])
    n = len(Xa)
    counts = t["count"].map(num).to_numpy()
    assert len(t) == len(groups)
    assert list(counts) == sorted((len(g) for g in groups), reverse=True)  # largest first
    shares = t["share"].map(num).to_numpy()
    assert shares.sum() == pytest.approx(1.0, abs=5e-4 * len(t))
    assert num(t["cum_share"].iloc[-1]) == 1
    for s, c in zip(t["share"], counts, strict=True):
        assert_shown(s, c / n, "share")
    # every row of the table is one hand region: same size, LLM, target and score means
    for _, row in t.iterrows():
        size = num(row["count"])
        found = False
        for g in (g for g in groups if len(g) == size):
            A, c = llm_at(Ws, bs, Xa[g[0]])
            shown = [(row["intercept"], c[0]), (row["coef_X0"], A[0, 0]),
                     (row["coef_X1"], A[0, 1]), (row["y_mean"], ya[g].mean()),
                     (row["y_std"], ya[g].std()), (row["pred_mean"], p[g].mean())]
            if all(_close(s, v) for s, v in shown):
                found = True
                break
        assert found, f"no region of {size} rows with the shown values {row.to_dict()}"


def test_largest_region_llm_and_performance_by_hand(case):
    """The largest region: its LLM from the weights at one of its rows, its local AUC and
    accuracy on its own rows, its global AUC and accuracy with its LLM applied to all rows."""
    Ws, bs, X, y, groups = case["Ws"], case["bs"], case["X"], case["y"], case["groups"]
    Xa, ya, p = X.to_numpy(), y.to_numpy(), case["p"]
    assert len(groups[0]) > len(groups[1])  # a unique largest region (precondition)
    g = groups[0]
    html = Report().add_region_summary(case["regions"], X, y, top=3).to_html()
    top = frame(sections(html)["region-summary"]["tables"][0]).iloc[0]
    A, c = llm_at(Ws, bs, Xa[g[len(g) // 2]])
    assert num(top["count"]) == len(g)
    assert_shown(top["intercept"], c[0], "intercept")
    assert_shown(top["coef_X0"], A[0, 0], "coef_X0")
    assert_shown(top["coef_X1"], A[0, 1], "coef_X1")
    # the LLM reproduces the network on every row of the region
    assert np.abs(Xa[g] @ A[0] + c[0] - case["raw"][g]).max() < 1e-12
    assert len(np.unique(ya[g])) == 2  # both classes in it (precondition): a local AUC
    assert_shown(top["local_auc"], roc_auc_score(ya[g], p[g]), "local_auc")
    assert_shown(top["local_accuracy"], np.mean((p[g] > 0.5) == ya[g]), "local_accuracy")
    glob = Xa @ A[0] + c[0]
    assert_shown(top["global_auc"], roc_auc_score(ya, glob), "global_auc")
    assert_shown(top["global_accuracy"], np.mean((glob > 0) == ya), "global_accuracy")


def test_size_distribution_bands_by_hand(case):
    groups, n = case["groups"], len(case["X"])
    html = Report().add_size_distribution(case["regions"]).to_html()
    sec = sections(html)["size-distribution"]
    t = frame(sec["tables"][0]).set_index("rows per region")
    counts = np.array([len(g) for g in groups])
    bands = {"1": (1, 1), "2-4": (2, 4), "5-9": (5, 9), "10-49": (10, 49), "50-99": (50, 99),
             "100 or more": (100, np.inf)}
    assert list(t.index) == list(bands)
    for label, (lo, hi) in bands.items():
        inside = (counts >= lo) & (counts <= hi)
        assert num(t.loc[label, "regions"]) == inside.sum()
        assert_shown(t.loc[label, "share of rows"], counts[inside].sum() / n, label)
    assert sum(num(v) for v in t["regions"]) == len(groups)
    _assert_pngs(sec["images"], 1)


# ---------------------------------------------------------------------- outcomes
@pytest.mark.parametrize("ties", [False, True], ids=["network-scores", "tied-scores"])
def test_outcomes_metrics_gains_and_calibration(case, ties):
    """Metrics against scikit-learn / SciPy; gains bands and calibration bins recounted
    from the sorted scores. With scores rounded to 0.1 (a scorecard's few distinct values)
    a band or bin must not split rows of equal score, or its counts would be arbitrary."""
    from glassnet.outcomes import outcomes

    y, p = case["y"].to_numpy(), case["p"]
    if ties:
        p = np.clip(np.round(p, 1), 0.05, 0.95)
    html = Report().add_outcomes(outcomes(y, p), rows_note="all 500 rows").to_html()
    sec = sections(html)["outcomes"]
    m = items(sec["tables"][0])
    auc = roc_auc_score(y, p)
    assert num(m["rows"]) == len(y) and num(m["events (positive class)"]) == y.sum()
    assert_shown(m["event rate"], y.mean(), "event rate")
    assert_shown(m["AUC"], auc, "AUC")
    assert_shown(m["Gini"], 2 * auc - 1, "Gini")
    ks = ks_2samp(p[y == 1], p[y == 0]).statistic
    # the same KS as the largest gap between the two empirical CDFs, on every score
    grid = np.sort(p)
    gap = np.abs(np.searchsorted(np.sort(p[y == 1]), grid, side="right") / (y == 1).sum()
                 - np.searchsorted(np.sort(p[y == 0]), grid, side="right") / (y == 0).sum())
    assert gap.max() == pytest.approx(ks, abs=1e-12)
    assert_shown(m["KS"], ks, "KS")
    assert_shown(m["Brier score"], brier_score_loss(y, p), "Brier")
    assert_shown(m["Brier uncertainty"], y.mean() * (1 - y.mean()), "Brier uncertainty")
    assert_shown(m["log loss"], log_loss(y, p), "log loss")
    # gains: bands from the highest scores down
    gains = frame(sec["tables"][1])
    n_band = gains["n"].map(num).to_numpy()
    assert n_band.sum() == len(y)
    order = np.argsort(-p, kind="stable")
    edges = np.concatenate([[0], np.cumsum(n_band)]).astype(int)
    events = y.sum()
    for b, row in gains.iterrows():
        rows = order[edges[b]:edges[b + 1]]
        if b + 1 < len(gains):  # tied scores stay in one band
            assert p[rows].min() > p[order[edges[b + 1]:edges[b + 2]]].max()
        assert num(row["events"]) == y[rows].sum(), f"band {b + 1}"
        assert_shown(row["min score"], p[rows].min(), "min score")
        assert_shown(row["max score"], p[rows].max(), "max score")
        top = order[:edges[b + 1]]
        capture = y[top].sum() / events
        nonevent = (1 - y[top]).sum() / (len(y) - events)
        assert_shown(row["capture rate"], capture, "capture rate")
        assert_shown(row["ks"], capture - nonevent, "gains ks")
    # calibration: equal-count bins of the score, lowest first
    cal = frame(sec["tables"][2])
    n_bin = cal["n"].map(num).to_numpy()
    assert n_bin.sum() == len(y)
    if not ties:  # equal counts, up to one row
        assert n_bin.max() - n_bin.min() <= 1
    low = np.argsort(p, kind="stable")
    edges = np.concatenate([[0], np.cumsum(n_bin)]).astype(int)
    for b, row in cal.iterrows():
        rows = low[edges[b]:edges[b + 1]]
        if b + 1 < len(cal):  # tied scores stay in one bin
            assert p[rows].max() < p[low[edges[b + 1]:edges[b + 2]]].min()
        assert_shown(row["mean predicted"], p[rows].mean(), "mean predicted")
        assert_shown(row["observed rate"], y[rows].mean(), "observed rate")
    _assert_pngs(sec["images"], 1)


def test_outcomes_regression_metrics():
    from glassnet.outcomes import outcomes

    rng = np.random.default_rng(5)
    y = rng.normal(size=300) * 4 + 10
    pred = y + rng.normal(size=300)
    m = items(sections(Report().add_outcomes(outcomes(y, pred, task="regression")).to_html())
              ["outcomes"]["tables"][0])
    assert num(m["rows"]) == 300
    assert_shown(m["RMSE"], np.sqrt(mean_squared_error(y, pred)), "RMSE")
    assert_shown(m["MAE"], mean_absolute_error(y, pred), "MAE")
    assert_shown(m["R²"], r2_score(y, pred), "R²")
    assert_shown(m["mean residual (bias)"], np.mean(y - pred), "bias")


# ---------------------------------------------------------------------- fidelity
def test_fidelity_table_against_surrogates_own_predictions(case):
    from glassnet import RegionMerger, RegionPruner
    from glassnet.outcomes import fidelity_table

    net, X, y, p = case["net"], case["X"], case["y"], case["p"]
    merged = RegionMerger(net, n_regions=3, min_count=5).fit(X, y)
    pruned = RegionPruner(net, n_regions=3).fit(X, y)
    scores = {"merged regions": merged.predict_proba(X)[:, 1],
              "pruned regions": pruned.predict_proba(X)[:, 1]}
    html = Report().add_fidelity(fidelity_table(p, scores)).to_html()
    t = frame(sections(html)["fidelity"]["tables"][0]).set_index("model")
    assert list(t.index) == list(scores)
    for name, s in scores.items():
        row = t.loc[name]
        # the surrogate's own decisions, not its scores, for the agreement
        agree = np.mean(merged.predict(X) == (p >= 0.5)) if name.startswith("merged") else \
            np.mean(pruned.predict(X) == (p >= 0.5))
        assert_shown(row["decision agreement"], agree, f"{name} agreement")
        rmse = np.sqrt(mean_squared_error(p, s))
        assert num(row["rows"]) == len(p)
        assert_shown(row["score RMSE"], rmse, f"{name} RMSE")
        assert_shown(row["score RMSE / network score std"], rmse / p.std(), f"{name} ratio")
        assert_shown(row["max abs score difference"], np.abs(s - p).max(), f"{name} max")
        assert_shown(row["R² vs network"], r2_score(p, s), f"{name} R²")
        assert_shown(row["rank correlation"], spearmanr(p, s).statistic, f"{name} rank")


# ---------------------------------------------------------------------- figures
def _assert_pngs(srcs: list[str], n: int) -> None:
    """Each source is a PNG data URI that decodes: signature, IHDR size > 0, and Pillow
    reads the whole image at that size."""
    from PIL import Image

    assert len(srcs) == n
    for src in srcs:
        head, b64 = src.split(",", 1)
        assert head == "data:image/png;base64"
        data = base64.b64decode(b64, validate=True)
        assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
        w, h = struct.unpack(">II", data[16:24])
        assert w > 0 and h > 0
        with Image.open(io.BytesIO(data)) as im:
            im.load()  # decodes every row: a truncated stream raises
            assert im.size == (w, h) and im.format == "PNG"


def test_every_embedded_figure_is_a_valid_png(case):
    net, X, y, regions = case["net"], case["X"], case["y"], case["regions"]
    from glassnet.outcomes import outcomes

    html = (Report().add_size_distribution(regions).add_feature_importance(regions, X)
            .add_coefficients(regions, X, top=5).add_partition_map(net, X, y)
            .add_outcomes(outcomes(y.to_numpy(), case["p"])).to_html())
    secs = sections(html)
    # sizes, importance, coefficients + profiles, partition, outcomes
    expected = {"size-distribution": 1, "feature-importance": 1, "coefficients": 2,
                "partition-map": 1, "outcomes": 1}
    for key, n in expected.items():
        _assert_pngs(secs[key]["images"], n)
    with pytest.raises(AssertionError):  # the check fails on a broken image
        _assert_pngs(["data:image/png;base64," + base64.b64encode(
            PNG_SIGNATURE + b"\0\0\0\rIHDR" + b"\0" * 8).decode()], 1)


# ---------------------------------------------------------------------- the CLI's label
def test_unwrap_report_labels_auc_with_rows_given(case, tmp_path):
    """``glassnet unwrap`` on a bare model file: the overview's AUC is labelled with the
    number of rows passed, and equals the AUC of the NumPy forward pass on those rows."""
    import glassnet
    from glassnet.cli import main

    net, X, y = case["net"], case["X"], case["y"]
    n = 237  # not the fixture's row count: the label must follow the rows passed
    model = glassnet.save(net, tmp_path / "model.glassnet")
    data = tmp_path / "d.csv"
    X.iloc[:n].assign(default=y.iloc[:n]).to_csv(data, index=False)
    rep = tmp_path / "r.html"
    assert main(["unwrap", "-q", str(model), str(data), "--target", "default",
                 "--report", str(rep)]) == 0
    secs = sections(rep.read_text(encoding="utf-8"))
    rows = items(secs["overview"]["tables"][0])
    labels = [k for k in rows if re.match(r"AUC on the ([\d,]+) rows given", k)]
    assert len(labels) == 1, list(rows)
    assert num(re.match(r"AUC on the ([\d,]+) rows given", labels[0]).group(1)) == n
    assert "may include training rows" in labels[0]  # a bare model file: no provenance
    auc = roc_auc_score(y.iloc[:n], case["raw"][:n])
    assert_shown(rows[labels[0]], auc, labels[0])
    assert num(rows["rows"]) == n
    out = items(secs["outcomes"]["tables"][0])
    assert num(out["rows"]) == n
    assert_shown(out["AUC"], auc, "outcomes AUC")
    cert = items(secs["certificate"]["tables"][0])
    assert num(cert["rows"]) == n
    Xn = X.iloc[:n].to_numpy()
    assert num(cert["activation regions"]) == len(hand_regions(case["Ws"], case["bs"], Xn))


# ---------------------------------------------------------------------- the helpers can fail
def test_display_precision_check_can_fail():
    assert _close("0.8412", 0.84123) and _close("1.776e-15", 1.7763568394e-15)
    assert _close("12,345.6", 12345.62) and _close("24,000", 24000.0)
    assert not _close("0.8412", 0.8418) and not _close("0.841", 0.8425)
    assert not _close("1.776e-15", 1.78e-15)


# ---------------------------------------------------------------------- random networks
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 3),
       hidden=st.lists(st.integers(1, 6), min_size=1, max_size=2),
       near=st.integers(0, 20))
def test_certificate_and_region_table_on_random_networks(seed, d, hidden, near):
    """Any small network, with ``near`` rows placed 1e-9 from a first-layer neuron's
    hyperplane: the certificate's counts are those of the distinct patterns of a NumPy
    pass, its bound is tiny, and the table's largest region carries the LLM of its rows."""
    rng = np.random.default_rng(seed)
    sizes = (d, *hidden, 1)
    Ws = [rng.normal(0, np.sqrt(2 / a), size=(b, a)) for a, b in
          zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(0, 0.3, size=b) for b in sizes[1:]]
    X = rng.normal(size=(60, d))
    for i in range(near):  # project row i onto a first-layer hyperplane, then step off it
        k = rng.integers(sizes[1])
        w, b = Ws[0][k], bs[0][k]
        if np.linalg.norm(w) > 0:
            X[i] -= (w @ X[i] + b) / (w @ w) * w
            X[i] += rng.choice([-1e-9, 1e-9]) * w / np.linalg.norm(w)
    net = ReluNetwork(Ws, bs, output="sigmoid")
    regions = unwrap(net, X)
    html = (Report().add_certificate(regions).add_region_summary(regions, X, top=3)
            .to_html())
    secs = sections(html)
    cert = items(secs["certificate"]["tables"][0])
    groups = hand_regions(Ws, bs, X)
    counts = np.array([len(g) for g in groups])
    assert num(cert["activation regions"]) == len(groups)
    assert num(cert["regions holding a single row"]) == int((counts == 1).sum())
    assert num(cert["regions covering 95% of rows"]) == int(
        np.argmax(np.cumsum(counts) >= 0.95 * len(X)) + 1)
    assert num(cert["max abs error (certificate)"]) < 1e-9
    t = frame(secs["region-summary"]["tables"][0])
    assert list(t["count"].map(num)) == list(counts[:3])
    if len(groups) == 1 or counts[0] > counts[1]:  # the largest region is one region
        A, c = llm_at(Ws, bs, X[groups[0][0]])
        assert_shown(t["intercept"].iloc[0], c[0], "intercept")
        for j in range(d):
            assert_shown(t[f"coef_x{j}"].iloc[0], A[0, j], f"coef_x{j}")


# ---------------------------------------------------------------------- printed blocks
def test_print_blocks_hold_the_screen_table():
    """A table wider than 7 columns is printed in blocks of at most 7 columns that each
    repeat the key column; together the blocks hold every cell of the screen table."""

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(4, 16)), columns=[f"c{j}" for j in range(16)])
    df.insert(0, "key", list("abcd"))
    tables = all_tables(Report().add_table("Wide", df).to_html())
    screen, *blocks = [t for t in tables if t and t[0][0] == "key"]  # not versions
    assert screen[0] == ["key", *df.columns[1:]]
    assert len(blocks) == -(-16 // 6)
    seen = []
    for b in blocks:
        assert len(b[0]) <= 7 and b[0][0] == "key"
        assert [r[0] for r in b] == [r[0] for r in screen]  # the key column repeats
        seen += b[0][1:]
        for r, s in zip(b[1:], screen[1:], strict=True):
            for name, v in zip(b[0], r, strict=True):
                assert v == s[screen[0].index(name)]
                if name != "key":
                    assert_shown(v, df.loc[screen[1:].index(s), name], name)
    assert seen == list(df.columns[1:])  # every column once, in order


# ---------------------------------------------------------------------- regression regions
@pytest.fixture(scope="module")
def reg_case():
    rng = np.random.default_rng(2)
    Ws = [rng.normal(size=(5, 3)), rng.normal(size=(1, 5))]
    bs = [rng.normal(size=5), np.zeros(1)]
    X = rng.normal(size=(200, 3))
    raw, _ = forward(Ws, bs, X)
    y = raw[:, 0] + 0.3 * rng.normal(size=200)
    net = ReluNetwork(Ws, bs)
    return Ws, bs, X, y, net, unwrap(net, X, y)


def test_regression_region_table_mse_by_hand(reg_case):
    """A regressor's region table: local MSE/RMSE on the region's rows, global MSE/RMSE of
    the region's LLM applied to every row (scikit-learn's mean_squared_error)."""
    Ws, bs, X, y, net, regions = reg_case
    groups = hand_regions(Ws, bs, X)
    assert len(groups[0]) > len(groups[1])
    html = Report().add_region_summary(regions, X, y, top=4).to_html()
    t = frame(sections(html)["region-summary"]["tables"][0])
    assert list(t["count"].map(num)) == [len(g) for g in groups[:4]]
    top, g = t.iloc[0], groups[0]
    A, c = llm_at(Ws, bs, X[g[0]])
    local = mean_squared_error(y[g], X[g] @ A[0] + c[0])
    glob = mean_squared_error(y, X @ A[0] + c[0])
    assert_shown(top["local_mse"], local, "local_mse")
    assert_shown(top["local_rmse"], np.sqrt(local), "local_rmse")
    assert_shown(top["global_mse"], glob, "global_mse")
    assert_shown(top["global_rmse"], np.sqrt(glob), "global_rmse")
    assert_shown(top["y_mean"], y[g].mean(), "y_mean")
    assert_shown(top["pred_mean"], (X[g] @ A[0] + c[0]).mean(), "pred_mean")


@pytest.mark.parametrize("with_rows", [True, False], ids=["std-units", "raw-units"])
def test_feature_importance_by_hand(reg_case, with_rows):
    """Importance as its caption states: the row-weighted mean of |coef_j| (times the
    feature's standard deviation with rows), normalised to sum to 1; mean_effect signed."""
    Ws, bs, X, y, net, regions = reg_case
    html = Report().add_feature_importance(regions, X if with_rows else None).to_html()
    sec = sections(html)["feature-importance"]
    caption = " ".join(sec["text"])
    t = frame(sec["tables"][0]).set_index("feature")
    coefs = np.array([llm_at(Ws, bs, x)[0][0] for x in X])  # each row's own coefficients
    scale = X.std(axis=0) if with_rows else np.ones(3)
    if with_rows:
        assert "one-standard-deviation" in caption
    else:
        assert "one-unit" in caption and "raw units" in caption
    mean_abs = np.abs(coefs * scale).mean(axis=0)
    assert list(t.index) == ["x0", "x1", "x2"]
    assert sum(num(v) for v in t["importance"]) == pytest.approx(1, abs=2e-3)
    for j, f in enumerate(t.index):
        assert_shown(t.loc[f, "importance"], mean_abs[j] / mean_abs.sum(), f"importance {f}")
        assert_shown(t.loc[f, "mean_abs_effect"], mean_abs[j], f"mean_abs_effect {f}")
        assert_shown(t.loc[f, "mean_effect"], (coefs * scale).mean(axis=0)[j], f"effect {f}")


# ---------------------------------------------------------------------- merged regions
@pytest.fixture(scope="module")
def merged_html(case):
    from glassnet import RegionMerger

    merger = RegionMerger(case["net"], n_regions=3, min_count=5).fit(case["X"], case["y"])
    return merger, Report().add_merged_regions(merger, case["X"], case["y"]).to_html()


def test_merged_regions_summary_and_wald_tables(case, merged_html):
    """The summary rows: counts of the merger's own assignment and the LLM its predictions
    use; the Wald tables: statsmodels' unpenalised Logit on each merged region's rows."""
    import statsmodels.api as sm

    merger, html = merged_html
    X, y = case["X"].to_numpy(), case["y"].to_numpy()
    sec = sections(html)["merged-regions"]
    summary, *wald = sec["tables"]
    t = frame(summary)
    labels = merger.apply(case["X"])
    prob = merger.predict_proba(case["X"])[:, 1]
    sizes = np.bincount(labels, minlength=merger.n_regions_)
    assert sorted(t["count"].map(num), reverse=True) == sorted(sizes, reverse=True)
    heads = re.findall(r"Merged region (\d+) \(([\d,]+) training rows\)", " ".join(sec["text"]))
    assert len(heads) == len(wald) == merger.n_regions_
    assert [num(n) for _, n in heads] == sorted(sizes, reverse=True)  # largest first
    for _, row in t.iterrows():
        r = int(row["region"])
        rows = labels == r
        assert num(row["count"]) == rows.sum()
        assert_shown(row["y_mean"], y[rows].mean(), f"y_mean of {r}")
        # the shown LLM is the one the surrogate scores with, on its own rows
        logit = num(row["intercept"]) + X[rows] @ [num(row["coef_X0"]), num(row["coef_X1"])]
        assert np.abs(sigmoid(logit) - prob[rows]).max() < 5e-3
    for (r, _), table in zip(heads, wald, strict=True):
        rows = merger.apply(case["X"]) == int(r)
        fit = sm.Logit(y[rows], sm.add_constant(X[rows])).fit(disp=0)
        ci = fit.conf_int(0.05)
        w = frame(table).set_index("term")
        assert list(w.index) == ["intercept", "X0", "X1"]
        for j, term in enumerate(w.index):
            for col, v in (("coef", fit.params[j]), ("std_err", fit.bse[j]),
                           ("z", fit.tvalues[j]), ("p_value", fit.pvalues[j]),
                           ("ci_low", ci[j, 0]), ("ci_high", ci[j, 1])):
                assert_shown(w.loc[term, col], v, f"region {r} {term} {col}")


def test_merged_regions_says_which_coefficients_are_penalised(merged_html):
    _, html = merged_html
    text = " ".join(sections(html)["merged-regions"]["text"]).lower()
    assert "penalis" in text or "penaliz" in text


# ---------------------------------------------------------------------- stability
def _psi(e_counts, a_counts, eps=1e-4):
    """PSI = sum (a - e) ln(a / e) over buckets, shares floored at eps (as documented)."""
    e = np.maximum(np.asarray(e_counts) / np.sum(e_counts), eps)
    a = np.maximum(np.asarray(a_counts) / np.sum(a_counts), eps)
    return (a - e) * np.log(a / e)


def test_stability_region_buckets_and_psi_by_hand():
    """Region buckets recounted from the activation patterns of a NumPy pass (the largest
    reference regions one by one, other reference regions, rare or unseen patterns), their
    PSI terms and sum, the unseen share, and each feature's decile PSI."""
    from glassnet.monitor import region_stability

    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(5, 2)), rng.normal(size=(1, 5))]
    bs = [rng.normal(size=5) * 0.3, np.zeros(1)]
    net = ReluNetwork(Ws, bs, output="sigmoid")
    X, Xn = rng.normal(size=(300, 2)), rng.normal(size=(200, 2)) + [0.5, 0.0]
    html = Report().add_stability(region_stability(net, X, Xn, max_regions=5)).to_html()
    sec = sections(html)["stability"]
    checks = frame(sec["tables"][0]).set_index("check")
    feats = frame(sec["tables"][1]).set_index("feature")
    buckets = frame(sec["tables"][2]).set_index("bucket")
    # patterns by hand
    _, pr = forward(Ws, bs, X)
    _, pn = forward(Ws, bs, Xn)
    keys_r = [r.tobytes() for r in pr]
    keys_n = [r.tobytes() for r in pn]
    ref = pd.Series(keys_r).value_counts()
    new = pd.Series(keys_n).value_counts()
    big = ref[ref >= 2]
    top, other = big.iloc[:5], big.iloc[5:]
    rare_r = int(ref[ref < 2].sum())
    rare_n = int(sum(c for k, c in new.items() if ref.get(k, 0) < 2))
    other_n = int(sum(new.get(k, 0) for k in other.index))
    e = [*top.to_numpy(), int(other.sum()), rare_r]
    a = [*(new.get(k, 0) for k in top.index), other_n, rare_n]
    shown_e = list(buckets["reference rows"].map(num))
    shown_a = list(buckets["new rows"].map(num))
    assert len(buckets) == 7 and sum(shown_e) == 300 and sum(shown_a) == 200
    assert shown_e[:5] == list(top.to_numpy())  # largest first
    # the region rows: the pairs (reference, new) of the hand regions (order within ties free)
    assert sorted(zip(shown_e[:5], shown_a[:5], strict=True)) == sorted(zip(e[:5], a[:5],
                                                                             strict=True))
    assert (shown_e[5:], shown_a[5:]) == (e[5:], a[5:])
    terms = _psi(e, a)
    for (_, row), t in zip(buckets.iloc[5:].iterrows(), terms[5:], strict=True):
        assert_shown(row["PSI term"], t, "PSI term")
    assert_shown(checks.loc["region PSI (raw activation regions)", "value"], terms.sum(),
                 "region PSI")
    unseen = sum(c for k, c in new.items() if k not in ref.index) / 200
    assert_shown(checks.loc["share of new rows in unseen regions", "value"], unseen, "unseen")
    # feature PSI on reference deciles
    for j, f in enumerate(["x0", "x1"]):
        inner = np.quantile(X[:, j], np.linspace(0, 1, 11)[1:-1])
        e_f = np.bincount(np.searchsorted(inner, X[:, j]), minlength=10)
        a_f = np.bincount(np.searchsorted(inner, Xn[:, j]), minlength=10)
        assert_shown(feats.loc[f, "PSI"], _psi(e_f, a_f).sum(), f"PSI {f}")
    worst = max(feats.index, key=lambda f: num(feats.loc[f, "PSI"]))
    assert checks.loc[f"largest feature PSI ({worst})", "value"] == feats.loc[worst, "PSI"]


# ---------------------------------------------------------------------- the CLI's fidelity
def test_simplify_report_fidelity_against_the_saved_surrogate(case, tmp_path):
    """``glassnet simplify --method prune``: the report's fidelity row, outcomes and
    before/after table recomputed on the test rows (scikit-learn's own split with the
    command's seed) from the saved pruner's predictions and the NumPy forward pass."""
    from sklearn.model_selection import train_test_split

    import glassnet
    from glassnet.cli import main

    X, y = case["X"], case["y"]
    model = glassnet.save(case["net"], tmp_path / "model.glassnet")
    data = tmp_path / "d.csv"
    X.assign(default=y).to_csv(data, index=False)
    rep, out = tmp_path / "s.html", tmp_path / "pruned.glassnet"
    assert main(["simplify", "-q", str(model), str(data), "--target", "default", "--method",
                 "prune", "--n-regions", "2", "--seed", "4", "--report", str(rep),
                 "--out", str(out)]) == 0
    pruner = glassnet.load(out)
    _, X_te, _, y_te = train_test_split(X, y.to_numpy(), test_size=0.2, random_state=4,
                                        stratify=y.to_numpy())
    p = sigmoid(forward(case["Ws"], case["bs"], X_te.to_numpy())[0][:, 0])
    s = pruner.predict_proba(X_te)[:, 1]
    secs = sections(rep.read_text(encoding="utf-8"))
    fid = frame(secs["fidelity"]["tables"][0]).set_index("model")
    assert len(fid) == 1
    row = fid.iloc[0]
    assert "pruned" in fid.index[0]
    assert num(row["rows"]) == len(X_te) == 100
    assert_shown(row["decision agreement"], np.mean(pruner.predict(X_te) == (p >= 0.5)),
                 "agreement")
    assert_shown(row["score RMSE"], np.sqrt(mean_squared_error(p, s)), "RMSE")
    assert_shown(row["rank correlation"], spearmanr(p, s).statistic, "rank correlation")
    out_m = items(secs["outcomes"]["tables"][0])
    assert num(out_m["rows"]) == 100 and num(out_m["events (positive class)"]) == y_te.sum()
    assert_shown(out_m["AUC"], roc_auc_score(y_te, p), "test AUC")
    before_after = frame(secs["simplification"]["tables"][0]).set_index("model")
    assert_shown(before_after.iloc[0]["test AUC"], roc_auc_score(y_te, p), "network AUC")
    assert_shown(before_after.iloc[1]["test AUC"], roc_auc_score(y_te, s), "pruned AUC")
    assert num(before_after.iloc[1]["regions"]) == pruner.n_regions_ == 2


# ---------------------------------------------------------------------- diagnostics
@pytest.fixture(scope="module")
def accuracy_table(case):
    from glassnet.diagnose import run_diagnostics

    X, y = case["X"].to_numpy(), case["y"].to_numpy()
    res = run_diagnostics(case["net"], X[:350], y[:350], X[350:], y[350:],
                          sections=["accuracy"])
    html = Report().add_diagnostics(res).to_html()
    return frame(sections(html)["diag-accuracy"]["tables"][0]).set_index("metric")


def _accuracy_oracle(y, p):
    from sklearn.metrics import accuracy_score, f1_score

    return {"auc": roc_auc_score(y, p), "accuracy": accuracy_score(y, p >= 0.5),
            "f1": f1_score(y, p >= 0.5), "log_loss": log_loss(y, p),
            "brier": brier_score_loss(y, p), "ks": ks_2samp(p[y == 1], p[y == 0]).statistic}


def test_diagnostics_accuracy_train_and_test_columns(case, accuracy_table):
    y, p = case["y"].to_numpy(), case["p"]
    t = accuracy_table
    for col, rows in (("train", slice(0, 350)), ("test", slice(350, None))):
        want = _accuracy_oracle(y[rows], p[rows])
        assert list(t.index) == list(want)
        for metric, v in want.items():
            assert v >= 0.01 or v == 0  # 4 decimals then hold 4 significant digits or more
            assert abs(num(t.loc[metric, col]) - v) <= 5e-5 + 1e-12, f"{col} {metric}"


def test_diagnostics_small_values_keep_four_significant_digits(case, accuracy_table):
    y, p = case["y"].to_numpy(), case["p"]
    train = _accuracy_oracle(y[:350], p[:350])
    test = _accuracy_oracle(y[350:], p[350:])
    for metric in train:
        assert_shown(accuracy_table.loc[metric, "gap"], test[metric] - train[metric],
                     f"gap {metric}")


def test_diagnostics_brier_decomposition_names_its_rows(case):
    """The decomposition is over the rows the coverage is measured on (the second half of
    the test rows), not every test row as in the accuracy table: its Brier score is that of
    those rows (scikit-learn) and its caption says how many they are."""
    from glassnet.diagnose import run_diagnostics

    X, y, p = case["X"].to_numpy(), case["y"].to_numpy(), case["p"]
    res = run_diagnostics(case["net"], X[:350], y[:350], X[350:], y[350:],
                          sections=["accuracy", "reliability"])
    secs = sections(Report().add_diagnostics(res).to_html())
    n_test = len(y) - 350
    n_eval = n_test - n_test // 2
    y_eval, p_eval = y[350 + n_test // 2:], p[350 + n_test // 2:]
    assert len(y_eval) == n_eval
    decomposition = frame(secs["diag-brier"]["tables"][0])
    assert_shown(decomposition.loc[0, "brier"], brier_score_loss(y_eval, p_eval), "brier")
    text = " ".join(secs["diag-brier"]["text"])
    assert f"On the {n_eval} rows the coverage is measured on" in text
    assert f"On the {n_eval} rows" in " ".join(secs["diag-reliability-fig"]["text"])


@pytest.mark.parametrize("n_train, fragmented", [(6, True), (350, False)])
def test_diagnostics_region_weakspots_say_when_the_network_is_too_fragmented(
        case, n_train, fragmented):
    """With regions found on a handful of training rows most test rows have a pattern no
    training row has; the section then says so and points to merged regions. The share is
    counted here from the activation patterns (a plain forward pass of the weights)."""
    from glassnet.diagnose import run_diagnostics

    X, y, net = case["X"].to_numpy(), case["y"].to_numpy(), case["net"]
    res = run_diagnostics(net, X[:n_train], y[:n_train], X[350:], y[350:],
                          sections=["weakspots"])
    patterns = [forward(net.weights, net.biases, rows)[1] for rows in (X[:n_train], X[350:])]
    seen = {p.tobytes() for p in patterns[0]}
    unseen = np.mean([p.tobytes() not in seen for p in patterns[1]])
    assert (unseen >= 0.5) == fragmented
    secs = sections(Report().add_diagnostics(res).to_html())
    text = " ".join(secs["diag-weakspots-region"]["text"])
    assert ("too fragmented" in text) == fragmented
    if fragmented:
        assert f"{unseen:.0%} of the test rows fall in regions no training row has" in text
        assert 'method="merged"' in text


def test_overview_of_a_scikit_learn_classifier():
    """An MLPClassifier with string classes: architecture and parameter count from its own
    ``coefs_``/``intercepts_``, the favourable class named by its label in ``classes_``,
    class counts from pandas."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    df = make_cocircles(300)
    X, y = df[["X0", "X1"]], df["target"].map({0: "good", 1: "bad"}).rename("status")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier((6, 4), max_iter=50, random_state=0).fit(X, y)
    rows = items(sections(Report().add_overview(model, X, y).to_html())["overview"]
                 ["tables"][0])
    assert rows["model type"] == "MLPClassifier"
    assert rows["architecture (inputs → hidden → outputs)"] == " → ".join(
        str(s) for s in (model.coefs_[0].shape[0], *(W.shape[1] for W in model.coefs_)))
    assert num(rows["parameters"]) == sum(W.size for W in model.coefs_) + sum(
        b.size for b in model.intercepts_)
    assert rows["favourable class"] == f"0 (status = {model.classes_[0]})"
    counts = y.value_counts()
    assert rows["target classes"] == ", ".join(
        f"{c}: {counts[c]:,} ({counts[c] / len(y):.1%})" for c in sorted(counts.index))
