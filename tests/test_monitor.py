"""region_stability: PSI against direct computations, shift detection, streaming, bounds."""

import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from glassnet import RegionMerger, ReluNetwork, unwrap
from glassnet.monitor import psi_status, region_stability


def _direct_psi(e_counts, a_counts, eps=1e-4):
    e = np.maximum(np.asarray(e_counts, float) / np.sum(e_counts), eps)
    a = np.maximum(np.asarray(a_counts, float) / np.sum(a_counts), eps)
    return float(np.sum((a - e) * np.log(a / e)))


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(11)
    net = ReluNetwork([rng.normal(size=(10, 4)), rng.normal(size=(6, 10)),
                       rng.normal(size=(1, 6))],
                      [rng.normal(size=10), rng.normal(size=6), np.zeros(1)],
                      output="sigmoid").with_feature_names(["a", "b", "c", "d"])
    X_ref = rng.normal(size=(3000, 4))
    X_same = rng.normal(size=(2500, 4))  # a fresh draw from the same population
    X_shift = X_same.copy()
    X_shift[:, 1] += 0.8  # "higher bill amounts"
    return net, X_ref, X_same, X_shift, rng


def test_flags_shifted_copy_not_unshifted(setup):
    net, X_ref, X_same, X_shift, _ = setup
    same = region_stability(net, X_ref, X_same)
    shifted = region_stability(net, X_ref, X_shift)
    assert same.status == "stable" and not same.flagged
    assert shifted.flagged
    feat = shifted.features.set_index("feature")
    assert feat.loc["b", "status"] == "act"
    assert (feat.drop(index="b")["status"] == "stable").all()
    region_row = shifted.summary.set_index("check").loc["region PSI (raw activation regions)"]
    assert region_row["status"] in ("watch", "act")


def test_exact_copy_is_stable(setup):
    """The reference itself, shuffled: every PSI is zero, nothing is flagged."""
    net, X_ref, _, _, rng = setup
    res = region_stability(net, X_ref, X_ref[rng.permutation(len(X_ref))])
    assert res.status == "stable"
    assert np.allclose(res.summary["value"].iloc[:3], 0.0, atol=1e-12)


def test_psi_matches_direct_computation(setup):
    net, X_ref, _, X_shift, _ = setup
    res = region_stability(net, X_ref, X_shift, max_regions=10_000)
    # features: decile edges of the reference (linear quantiles), open outer bins
    for j, name in enumerate(["a", "b", "c", "d"]):
        edges = np.unique(np.quantile(X_ref[:, j], np.linspace(0, 1, 11)[1:-1]))
        ce = np.bincount(np.searchsorted(edges, X_ref[:, j], side="right"), minlength=10)
        ca = np.bincount(np.searchsorted(edges, X_shift[:, j], side="right"), minlength=10)
        got = res.features.set_index("feature").loc[name, "PSI"]
        assert got == pytest.approx(_direct_psi(ce, ca), rel=1e-10)
    # regions: brute-force pattern counting with tuples; every region its own bucket
    pat_ref = [tuple(r) for r in net.activation_patterns(X_ref).astype(int)]
    pat_new = [tuple(r) for r in net.activation_patterns(X_shift).astype(int)]
    cats = sorted(set(pat_ref))
    n_of, m_of = Counter(pat_ref), Counter(pat_new)
    # regions with one reference row join the unseen patterns in the rare bucket
    ce = [n_of[c] if n_of[c] > 1 else 0 for c in cats] + [0, sum(v == 1 for v in n_of.values())]
    ca = [m_of[c] if n_of[c] > 1 else 0 for c in cats] + [0, sum(
        1 for p in pat_new if n_of.get(p, 0) <= 1)]
    got = res.summary.set_index("check").loc["region PSI (raw activation regions)", "value"]
    # order of buckets does not change a PSI, so compare as multisets of (e, a) pairs
    tab = res.regions
    pairs = sorted(zip(tab["reference rows"], tab["new rows"], strict=True))
    want = sorted(zip(ce, ca, strict=True))
    assert pairs == want
    assert got == pytest.approx(_direct_psi(ce, ca), rel=1e-10)
    unseen = sum(p not in n_of for p in pat_new) / len(pat_new)
    row = res.summary.set_index("check").loc["share of new rows in unseen regions"]
    assert row["value"] == pytest.approx(unseen)


def test_backtest_per_region(setup):
    net, X_ref, X_same, _, rng = setup
    p_ref, p_new = net.predict_output(X_ref)[:, 0], net.predict_output(X_same)[:, 0]
    y_ref = (rng.random(len(p_ref)) < p_ref).astype(int)
    y_new = (rng.random(len(p_new)) < p_new).astype(int)
    res = region_stability(net, X_ref, X_same, y_new, y_reference=y_ref, max_regions=3)
    lab = unwrap(net, X_ref).assign(X_same)
    r0 = res.regions.iloc[0]
    assert r0["new observed"] == pytest.approx(y_new[lab == 0].mean())
    assert r0["new mean score"] == pytest.approx(p_new[lab == 0].mean())
    assert r0["new rows"] == (lab == 0).sum()
    assert len(res.regions) == 5  # 3 largest, other reference regions, unseen


def test_streamed_files_equal_in_memory(setup, tmp_path):
    net, X_ref, _, X_shift, _ = setup
    pd.DataFrame(X_ref, columns=list("abcd")).to_csv(tmp_path / "ref.csv", index=False)
    pd.DataFrame(X_shift, columns=list("abcd")).to_csv(tmp_path / "new.csv", index=False)
    mem = region_stability(net, X_ref, X_shift)
    streamed = region_stability(net, tmp_path / "ref.csv", str(tmp_path / "new.csv"),
                                chunk_size=700)
    pd.testing.assert_frame_equal(mem.features, streamed.features, rtol=1e-9)
    pd.testing.assert_frame_equal(mem.regions, streamed.regions, rtol=1e-9)


def test_merged_regions(setup):
    net, X_ref, _, X_shift, rng = setup
    p = net.predict_output(X_ref)[:, 0]
    y = (rng.random(len(p)) < p).astype(int)
    merger = RegionMerger(net, n_regions=3, min_count=20).fit(X_ref, y)
    res = region_stability(net, X_ref, X_shift, merger=merger)
    lab_r, lab_n = merger.apply(X_ref), merger.apply(X_shift)
    m = merger.n_regions_
    direct = _direct_psi(np.bincount(lab_r, minlength=m), np.bincount(lab_n, minlength=m))
    got = res.summary.set_index("check").loc["region PSI (merged regions)", "value"]
    assert got == pytest.approx(direct, rel=1e-10)
    assert res.merged["reference rows"].sum() == len(X_ref)


def test_merger_of_another_network_is_refused(setup):
    """A merger saved for an earlier version of the model (one bias changed by 1e-12 here)
    would bucket rows by that network's regions: refused, naming both networks."""
    net, X_ref, _, X_shift, rng = setup
    p = net.predict_output(X_ref)[:, 0]
    y = (rng.random(len(p)) < p).astype(int)
    b = [v.copy() for v in net.biases]
    b[1][0] += 1e-12
    other = ReluNetwork(net.weights, b, output=net.output)
    merger = RegionMerger(other, n_regions=3, min_count=20).fit(X_ref, y)
    with pytest.raises(ValueError, match="fitted on another network"):
        region_stability(net, X_ref, X_shift, merger=merger)
    # the same weights under other feature names are the same network
    same = RegionMerger(ReluNetwork(net.weights, net.biases, output=net.output), n_regions=3,
                        min_count=20).fit(X_ref, y)
    assert region_stability(net, X_ref, X_shift, merger=same).merged is not None
    with pytest.raises(ValueError, match="unfitted"):
        region_stability(net, X_ref, X_shift, merger=RegionMerger(net))


def test_thresholds_configurable_and_checked(setup):
    net, X_ref, X_same, _, _ = setup
    assert psi_status(0.05) == "stable" and psi_status(0.2) == "watch"
    assert psi_status(0.3) == "act" and psi_status(0.05, (0.01, 0.02)) == "act"
    strict = region_stability(net, X_ref, X_same, thresholds=(1e-4, 2e-4))
    assert strict.features["status"].eq("act").all()
    with pytest.raises(ValueError, match="thresholds"):
        region_stability(net, X_ref, X_same, thresholds=(0.3, 0.1))
    with pytest.raises(ValueError, match="columns"):
        region_stability(net, pd.DataFrame(X_ref, columns=list("abcx")), X_same)
    with pytest.raises(ValueError):
        region_stability(net, X_ref, X_same[:, :3])


def test_many_regions_bounded():
    """Every row its own region: the work stays linear and the table capped."""
    rng = np.random.default_rng(0)
    d, h = 20, 64
    net = ReluNetwork([rng.normal(size=(h, d)), rng.normal(size=(1, h))],
                      [rng.normal(size=h), np.zeros(1)], output="sigmoid")
    X, X2 = rng.normal(size=(20_000, d)), rng.normal(size=(20_000, d))
    t = time.perf_counter()
    res = region_stability(net, X, X2, max_regions=20)
    assert time.perf_counter() - t < 30
    assert res.settings["reference regions"] > 19_000
    assert len(res.regions) == 22
    # nearly every new pattern is unseen, and Good-Turing expected as much: not flagged
    row = res.summary.set_index("check").loc["share of new rows in unseen regions"]
    assert row["value"] > 0.9 and row["status"] == "stable"


def test_cli_monitor_report_and_exit_code(setup, tmp_path):
    from glassnet.cli import main
    from glassnet.persist import save

    net, X_ref, X_same, X_shift, rng = setup
    save(net, tmp_path / "model.glassnet")
    p = net.predict_output(X_ref)[:, 0]
    ref = pd.DataFrame(X_ref, columns=list("abcd")).assign(y=(rng.random(len(p)) < p) * 1)
    ref.to_csv(tmp_path / "ref.csv", index=False)
    pd.DataFrame(X_same, columns=list("abcd")).to_csv(tmp_path / "same.csv", index=False)
    pd.DataFrame(X_shift, columns=list("abcd")).to_csv(tmp_path / "new.csv", index=False)
    report = tmp_path / "monitor.html"
    args = [str(tmp_path / "model.glassnet"), str(tmp_path / "ref.csv")]
    assert main(["monitor", "-q", *args, str(tmp_path / "same.csv"), "--target", "y",
                 "--report", str(report), "--fail-on", "act"]) == 0
    assert main(["monitor", "-q", *args, str(tmp_path / "new.csv"), "--target", "y",
                 "--report", str(report), "--fail-on", "act", "--force"]) == 3
    html = report.read_text()
    assert 'data-section="stability"' in html and "ACT" in html
    assert "below 0.1 stable, 0.1 to 0.25 watch, above 0.25 act" in html
    assert main(["monitor", "-q", *args, str(tmp_path / "new.csv"), "--thresholds", "0.3,0.2",
                 "--no-report"]) == 2


def test_cli_monitor_prints_the_expected_unseen_share(setup, tmp_path, capsys):
    """The console line of the unseen share gives what it is compared with: the share of
    reference rows whose pattern no other reference row has (Good-Turing), counted here
    by brute force over the activation patterns."""
    from collections import Counter

    from glassnet.cli import main
    from glassnet.persist import save

    net, X_ref, X_same, _, _ = setup
    save(net, tmp_path / "model.glassnet")
    pd.DataFrame(X_ref, columns=list("abcd")).to_csv(tmp_path / "ref.csv", index=False)
    pd.DataFrame(X_same, columns=list("abcd")).to_csv(tmp_path / "same.csv", index=False)
    capsys.readouterr()
    assert main(["monitor", "-q", str(tmp_path / "model.glassnet"), str(tmp_path / "ref.csv"),
                 str(tmp_path / "same.csv"), "--no-report"]) in (0, 2)
    out = capsys.readouterr().out
    counts = Counter(tuple(r) for r in net.activation_patterns(X_ref).astype(int))
    expected = sum(v == 1 for v in counts.values()) / len(X_ref)
    (line,) = [ln for ln in out.splitlines() if "share of new rows in unseen regions" in ln]
    assert f"expected with no shift {expected:.4f}, " in line and "standard errors)" in line
