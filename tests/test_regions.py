"""unwrap / Regions: exactness on random networks (hypothesis), numbering, grouping, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet._engine as engine_mod
from glassnet import Regions, ReluNetwork, unwrap


def _near_boundary_rows(net: ReluNetwork, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows moved onto, and to within 1e-9 of, hyperplanes of the regions they start in.

    Inside a region every neuron's pre-activation is an affine function ``a @ x + c``
    (from :meth:`ReluNetwork.neuron_affine_maps`); projecting a row onto ``a @ x + c = 0``
    puts it on a boundary of its region (first layer) or on a bent hyperplane (deeper).
    """
    out = []
    pats = net.activation_patterns(X)
    for i in range(X.shape[0]):
        A, c = net.neuron_affine_maps(pats[i])
        norms = np.linalg.norm(A, axis=1)
        usable = np.flatnonzero(norms > 1e-12)
        if usable.size == 0:
            continue
        j = rng.choice(usable)
        a, nrm = A[j], norms[j]
        on = X[i] - (a @ X[i] + c[j]) / nrm**2 * a
        out.append(on)
        for eps in (1e-9, -1e-9, 1e-12):
            out.append(on + eps * a / nrm)
    return np.array(out) if out else np.zeros((0, X.shape[1]))


def _assert_exact(net: ReluNetwork, X: np.ndarray, regions: Regions) -> None:
    out = net.forward(X)
    coef = regions.coef[regions.labels]
    llm = np.einsum("nkd,nd->nk", coef, X) + regions.intercept[regions.labels]
    # the rounding of both sides grows with the size of the terms being summed
    scale = 1.0 + np.abs(out).max(axis=1, keepdims=True) + np.abs(
        np.einsum("nkd,nd->nk", np.abs(coef), np.abs(X))).max(axis=1, keepdims=True)
    assert np.all(np.abs(llm - out) <= 1e-9 * scale)
    direct_err = float(np.abs(llm - out).max())
    assert regions.max_abs_error == pytest.approx(direct_err, rel=1e-6, abs=1e-300)
    np.testing.assert_allclose(regions.predict_raw(X), out, rtol=1e-9, atol=1e-9 * scale.max())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    depth=st.integers(1, 5),
    width=st.integers(1, 64),
    d=st.integers(1, 30),
    k=st.integers(1, 5),
    n=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
)
def test_llms_reproduce_network_on_random_networks(depth, width, d, k, n, seed):
    rng = np.random.default_rng(seed)
    widths = tuple(int(w) for w in rng.integers(1, width + 1, size=depth))
    net = random_network(rng, d, widths, k)
    X = rng.normal(size=(n, d)) * rng.choice([0.1, 1.0, 10.0])
    X = np.vstack([X, _near_boundary_rows(net, X[:10], rng)])
    regions = unwrap(net, X)
    _assert_exact(net, X, regions)
    # every row's pattern is its region's pattern
    np.testing.assert_array_equal(regions.patterns[regions.labels], net.activation_patterns(X))


def test_rows_exactly_on_first_layer_hyperplane_use_off_side():
    # one neuron, x1 = 0 is its hyperplane; rows on it are off, their LLM is the off model
    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[2.0]])], [np.zeros(1), np.ones(1)])
    X = np.array([[0.0, 5.0], [0.0, -3.0], [1e-300, 0.0], [-1e-300, 0.0]])
    regions = unwrap(net, X)
    np.testing.assert_array_equal(regions.patterns[regions.labels].ravel(),
                                  [False, False, True, False])
    assert regions.max_abs_error == 0.0


def test_numbering_by_count_then_pattern(rng):
    net = random_network(rng, 2, (6, 6), 1)
    X = rng.normal(size=(500, 2))
    regions = unwrap(net, X)
    assert np.all(np.diff(regions.counts) <= 0)
    np.testing.assert_array_equal(np.bincount(regions.labels, minlength=len(regions)),
                                  regions.counts)
    # ties: the lexicographically smaller pattern (off before on) comes first
    pats = regions.patterns.astype(int)
    for r in range(len(regions) - 1):
        if regions.counts[r] == regions.counts[r + 1]:
            assert tuple(pats[r]) < tuple(pats[r + 1])
    # numbering does not depend on row order
    perm = rng.permutation(len(X))
    again = unwrap(net, X[perm])
    np.testing.assert_array_equal(again.labels, regions.labels[perm])
    np.testing.assert_array_equal(again.packed_patterns, regions.packed_patterns)


def test_chunk_size_independence(rng):
    net = random_network(rng, 3, (10, 10, 10), 2)
    X = rng.normal(size=(777, 3))
    y = rng.normal(size=777)
    ref = unwrap(net, X, y)
    for cs in (1, 13, 256, 10_000):
        r = unwrap(net, X, y, chunk_size=cs)
        np.testing.assert_array_equal(r.labels, ref.labels)
        np.testing.assert_array_equal(r.counts, ref.counts)
        np.testing.assert_array_equal(r.coef, ref.coef)
        np.testing.assert_allclose(r.y_sum, ref.y_sum)
        np.testing.assert_allclose(r.pred_sum, ref.pred_sum)


def test_statistics_match_direct_computation(rng):
    net = random_network(rng, 2, (5, 5), 1, output="sigmoid")
    X = rng.normal(size=(300, 2))
    y = (rng.random(300) < 0.4).astype(float)
    regions = unwrap(net, X, y)
    p = net.predict_output(X)[:, 0]
    for r in range(len(regions)):
        rows = regions.labels == r
        assert regions.pred_mean[r, 0] == pytest.approx(p[rows].mean())
        assert regions.y_mean[r, 0] == pytest.approx(y[rows].mean())
        assert regions.y_std[r, 0] == pytest.approx(y[rows].std(), abs=1e-12)
        np.testing.assert_array_equal(regions.representatives[r], X[np.flatnonzero(rows)[0]])
    assert regions.shares.sum() == pytest.approx(1.0)
    assert regions.n_regions_covering(1.0) == len(regions)
    frame = regions.to_frame()
    assert list(frame["count"]) == list(regions.counts)
    assert {"coef_x0", "coef_x1", "intercept", "y_mean", "pred_mean"} <= set(frame.columns)


def test_every_row_its_own_region_chunks_of_regions(rng):
    # wide first layer, many inputs: nearly every row gets its own pattern; LLMs are
    # computed in chunks of regions, so force tiny region chunks through the budget
    net = random_network(rng, 20, (64, 64, 64), 1)
    X = rng.normal(size=(400, 20))
    regions = unwrap(net, X)
    assert len(regions) > 350
    _assert_exact(net, X, regions)


def test_dataframe_feature_names_kept(rng):
    net = random_network(rng, 3, (4,), 1)
    df = pd.DataFrame(rng.normal(size=(30, 3)), columns=["income", "age", "debt"])
    regions = unwrap(net, df)
    assert regions.feature_names == ("income", "age", "debt")
    assert "coef_income" in regions.to_frame().columns


def test_assign_and_unseen_patterns(rng):
    net = random_network(rng, 2, (8, 8), 1)
    X = rng.normal(size=(200, 2))
    regions = unwrap(net, X)
    np.testing.assert_array_equal(regions.assign(X), regions.labels)
    far = rng.normal(size=(200, 2)) * 50
    lab = regions.assign(far)
    seen = lab >= 0
    pats = net.activation_patterns(far)
    np.testing.assert_array_equal(regions.patterns[lab[seen]], pats[seen])
    known = {tuple(p) for p in regions.patterns}
    assert all(tuple(p) not in known for p in pats[~seen])


def test_hash_collision_falls_back_to_exact_grouping(rng, monkeypatch):
    # every pattern hashes to the same key: grouping must still be exact
    monkeypatch.setattr(engine_mod, "_hash_words",
                        lambda words: np.zeros(words.shape[0], dtype=np.uint64))
    net = random_network(rng, 3, (40, 40), 1)  # 80 neurons -> two 64-bit words
    X = rng.normal(size=(300, 3))
    regions = unwrap(net, X)
    pats = net.activation_patterns(X)
    uniq = np.unique(pats, axis=0)
    assert len(regions) == len(uniq)
    np.testing.assert_array_equal(regions.patterns[regions.labels], pats)
    lab = regions.assign(X)
    np.testing.assert_array_equal(lab, regions.labels)


def test_factorize_exact_matches_hash_path(rng):
    packed = np.packbits(rng.random((500, 70)) < 0.02, axis=1)
    codes, first = engine_mod.factorize_patterns(packed)
    words = engine_mod.pattern_words(packed)
    codes2, first2 = engine_mod._factorize_exact(words)
    np.testing.assert_array_equal(codes, codes2)
    np.testing.assert_array_equal(first, first2)


def test_unwrap_accepts_models(rng):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    X = rng.normal(size=(100, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPRegressor(hidden_layer_sizes=(5,), max_iter=300, random_state=0).fit(
            X, X.sum(axis=1))
    regions = unwrap(est, X)
    np.testing.assert_allclose(regions.predict_raw(X)[:, 0], est.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "X, y, exc, match",
    [
        (np.zeros(3), None, ValueError, "2-D"),
        (np.zeros((0, 2)), None, ValueError, "empty"),
        (np.zeros((5, 3)), None, ValueError, "expects 2"),
        (np.array([[0.0, np.nan]]), None, ValueError, "NaN"),
        (np.zeros((5, 2)), np.zeros(4), ValueError, "rows"),
        (np.zeros((2, 2)), np.array([0.0, np.nan]), ValueError, "NaN"),
        (np.zeros((2, 2)), np.array(["a", "b"]), TypeError, "numeric"),
    ],
)
def test_bad_input(rng, X, y, exc, match):
    net = random_network(rng, 2, (3,), 1)
    with pytest.raises(exc, match=match):
        unwrap(net, X, y)


def test_bad_chunk_size_and_model(rng):
    net = random_network(rng, 2, (3,), 1)
    with pytest.raises(ValueError, match="chunk_size"):
        unwrap(net, np.zeros((2, 2)), chunk_size=0)
    with pytest.raises(TypeError, match="chunk_size"):
        unwrap(net, np.zeros((2, 2)), chunk_size=2.5)
    with pytest.raises(TypeError):
        unwrap("not a model", np.zeros((2, 2)))


# ---------------------------------------------------------------------- fragmentation
def _patterns_by_hand(net, X):
    """Activation patterns as tuples, row by row (no hashing, no packing)."""
    out = []
    for x in np.asarray(X, dtype=float):
        a, pat = x, []
        for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
            z = W @ a + b
            pat.extend(bool(v > 0) for v in z)
            a = np.maximum(z, 0.0)
        out.append(tuple(pat))
    return out


def test_fragmentation_is_stated_with_figures(rng):
    from glassnet import region_summary
    from glassnet.fragmentation import tiny_region_share, unseen_share

    net = random_network(rng, 6, (40, 40), 1, "sigmoid")  # far more regions than rows
    X, X_new = rng.normal(size=(300, 6)), rng.normal(size=(120, 6))
    reg = unwrap(net, X)
    pats = _patterns_by_hand(net, X)
    sizes = {p: pats.count(p) for p in set(pats)}
    tiny_ref = sum(c for c in sizes.values() if c < 5) / len(pats)
    unseen_ref = np.mean([p not in sizes for p in _patterns_by_hand(net, X_new)])
    assert tiny_region_share(reg) == pytest.approx(tiny_ref)
    assert unseen_share(reg, X_new) == pytest.approx(unseen_ref)
    assert reg.unseen_share(X_new) == pytest.approx(unseen_ref)
    assert tiny_ref > 0.5 and unseen_ref > 0.2  # the setting is fragmented
    text = repr(reg)
    assert f"{tiny_ref:.1%} of the 300 rows sit in regions of fewer than 5 rows" in text
    assert "RegionMerger" in text and "l1_path" in text
    y = (rng.random(300) < 0.5).astype(float)
    df = region_summary(reg, X, y, X_new=X_new)
    (caveat,) = df.attrs["caveats"]
    assert f"{unseen_ref:.1%} of the 120 new rows fall in regions never seen" in caveat
    assert df.attrs["unseen_share"] == pytest.approx(unseen_ref)


def test_no_caveat_for_few_large_regions(rng):
    from glassnet import region_summary

    net = random_network(rng, 3, (2,), 1)
    X = rng.normal(size=(500, 3))
    reg = unwrap(net, X)
    assert "\n" not in repr(reg) and "Fragmented" not in repr(reg)
    assert region_summary(reg, X).attrs["caveats"] == []
    assert reg.unseen_share(X) == 0.0


@pytest.mark.parametrize("kind", ["csr_matrix", "csc_array", "coo_matrix"])
def test_sparse_input_is_refused_by_name(rng, kind):
    # a sparse matrix used to be reported as "non-numeric values (object)", which sends the
    # user hunting for strings in a numeric matrix; the message must say sparse and the fix
    import scipy.sparse as sp

    net = random_network(rng, 3, (5,), 1)
    X = rng.normal(size=(20, 3))
    Xs = getattr(sp, kind)(X)
    regions = unwrap(net, X)
    msg = r"sparse input is not supported; convert with X\.toarray\(\)"
    for call in (lambda: unwrap(net, Xs), lambda: regions.assign(Xs), lambda: net.forward(Xs)):
        with pytest.raises(TypeError, match=msg):
            call()
    # the advertised fix works: the dense copy unwraps to the same regions
    np.testing.assert_array_equal(unwrap(net, Xs.toarray()).labels, regions.labels)


def test_repr_states_the_caveat_from_the_counts_alone(rng, monkeypatch):
    # Regions.__repr__ reads the stored counts: it neither reaches the layer-4 analyses nor
    # runs the network, so it must work with assign and the forward pass broken
    from glassnet.fragmentation import fragmentation_caveat

    net = random_network(rng, 6, (40, 40), 1, "sigmoid")
    reg = unwrap(net, rng.normal(size=(300, 6)))
    expected = fragmentation_caveat(reg)
    assert expected is not None

    def boom(*args, **kwargs):
        raise AssertionError("repr ran the network")

    monkeypatch.setattr(Regions, "assign", boom)
    monkeypatch.setattr(ReluNetwork, "forward", boom)
    monkeypatch.setattr(ReluNetwork, "_forward_chunk", boom)
    head, caveat = repr(reg).split("\n")
    assert head.startswith(f"Regions({len(reg)} regions over 300 rows") and caveat == expected


class _Counts:
    """Just the region counts: all the counts-only caveat may read."""

    def __init__(self, counts):
        self.counts = np.asarray(counts)

    def __len__(self):
        return len(self.counts)


@pytest.mark.parametrize("counts, stated", [
    ([5, 4, 1], "50.0% of the 10 rows sit in regions of fewer than 5 rows (3 regions)"),
    ([6, 4], None),  # 4 of 10 rows in tiny regions: below half
    ([1] * 3, "100.0% of the 3 rows sit in regions of fewer than 5 rows (3 regions)"),
    ([5, 5], None),  # a region of exactly 5 rows is not tiny
    ([], None),
])
def test_caveat_thresholds_on_hand_made_counts(counts, stated):
    from glassnet.fragmentation import fragmentation_caveat
    from glassnet.regions import fragmentation_text, tiny_region_share

    regions = _Counts(counts)
    n = sum(counts)
    tiny = sum(c for c in counts if c < 5) / n if n else 0.0  # the definition, by hand
    assert tiny_region_share(regions) == pytest.approx(tiny)
    text = fragmentation_text(n, len(counts), tiny)
    assert text == fragmentation_caveat(regions)  # one sentence, whoever states it
    if stated is None:
        assert text is None
    else:
        assert text.startswith(f"Fragmented: {stated}, so these local models rest on")
    # new rows: from a fifth of them in unseen regions on
    with_new = fragmentation_text(n, len(counts), tiny, n_new=5, unseen_share=0.2)
    assert "20.0% of the 5 new rows fall in regions never seen among these rows" in with_new
    assert fragmentation_text(n, len(counts), tiny, n_new=5, unseen_share=0.19) == text
