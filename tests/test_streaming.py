"""Single-machine streaming: chunk iterators and CSV/Parquet files give the same regions as
unwrapping all rows at once, whatever the chunking, in memory independent of the row count."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet import unwrap
from glassnet.streaming import PatternStats, chunk_stats, merge_stats, unwrap_chunks, unwrap_file


def assert_same_regions(a, b, *, sums_rtol=1e-10):
    """Same regions, numbering, counts, representatives, LLMs and statistics."""
    assert len(a) == len(b)
    np.testing.assert_array_equal(a.counts, b.counts)
    np.testing.assert_array_equal(a.packed_patterns, b.packed_patterns)
    np.testing.assert_array_equal(a.representatives, b.representatives)
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.intercept, b.intercept, rtol=1e-12, atol=1e-12)
    for name in ("pred_sum", "pred_sumsq", "y_sum", "y_sumsq"):
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None), name
        if va is not None:
            np.testing.assert_allclose(va, vb, rtol=sums_rtol, atol=1e-9, err_msg=name)
    assert a.feature_names == b.feature_names
    assert a.max_abs_error < 1e-9 and b.max_abs_error < 1e-9


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(3)
    net = random_network(rng, 3, (7, 5), 2, output="softmax")
    X = rng.normal(size=(1500, 3)) * 1.5
    y = rng.normal(size=(1500, 2))
    return net, X, y, unwrap(net, X, y)


def chunks_of(X, y, cuts):
    edges = [0, *sorted(set(cuts)), len(X)]
    for s, e in zip(edges[:-1], edges[1:], strict=True):
        yield (X[s:e], y[s:e]) if y is not None else X[s:e]


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(0, 1500), max_size=25))
def test_chunk_boundaries_do_not_matter(setup, cuts):
    net, X, y, ref = setup
    streamed = unwrap_chunks(net, chunks_of(X, y, cuts), keep_labels=True)
    assert_same_regions(streamed, ref)
    np.testing.assert_array_equal(streamed.labels, ref.labels)


def test_merge_is_associative_and_commutative(setup):
    net, X, y, _ = setup
    parts = [chunk_stats(net, X[s:s + 200], y[s:s + 200], first_key=s) for s in range(0, 1500, 200)]
    whole = chunk_stats(net, X, y)
    grouped = merge_stats([merge_stats(parts[:3]), merge_stats(parts[3:])])
    reversed_ = merge_stats(parts[::-1])

    def canonical(m):
        order = np.lexsort(m.packed.T[::-1])
        return {k: getattr(m, k)[order] for k in ("packed", "counts", "first",
                                                   "representatives", "pred_sum", "y_sumsq")}

    ref = canonical(whole)
    for m in (grouped, reversed_):
        assert isinstance(m, PatternStats) and m.n_rows == 1500
        got = canonical(m)
        for k in ("packed", "counts", "first", "representatives"):
            np.testing.assert_array_equal(got[k], ref[k], err_msg=k)
        for k in ("pred_sum", "y_sumsq"):
            np.testing.assert_allclose(got[k], ref[k], rtol=1e-10, err_msg=k)
    assert grouped.max_abs_error == max(p.max_abs_error for p in parts)


def test_iterator_through_glassnet_unwrap_and_dataframe_chunks(setup):
    net, X, y, ref = setup
    it = unwrap(net, iter([X[:700], X[700:]]))
    assert it.labels is None  # memory independent of rows: no per-row labels
    ref_no_y = unwrap(net, X)
    assert_same_regions(it, ref_no_y)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(t=y[:, 0])
    frames = (df.iloc[s:s + 400] for s in range(0, 1500, 400))
    named = unwrap(net, frames, "t")
    assert named.feature_names == ("a", "b", "c")
    ref_named = unwrap(net, df[["a", "b", "c"]], y[:, 0])
    assert_same_regions(named, ref_named)


def test_many_singleton_regions(rng):
    """Nearly every row its own region: the merge stack still gives the exact result."""
    net = random_network(rng, 8, (32, 32), 1)
    X = rng.normal(size=(3000, 8))
    ref = unwrap(net, X)
    assert len(ref) > 2000
    streamed = unwrap_chunks(net, (X[s:s + 97] for s in range(0, 3000, 97)), keep_labels=True)
    assert_same_regions(streamed, ref)
    np.testing.assert_array_equal(streamed.labels, ref.labels)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_files(tmp_path, setup, fmt):
    net, X, y, _ = setup
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(target=y[:, 0], note="x")
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False, float_format="%.17g")
    else:
        df.to_parquet(path)
    named = net.with_feature_names(["c", "a", "b"])  # columns are found by name
    regions = unwrap(named, path, "target", chunk_size=256)
    ref = unwrap(named, df[["c", "a", "b"]], df["target"])
    assert_same_regions(regions, ref)
    # without feature names: explicit columns
    r2 = unwrap_file(net, str(path), columns=["a", "b", "c"], chunk_size=500, keep_labels=True)
    assert_same_regions(r2, unwrap(net, df[["a", "b", "c"]]))
    np.testing.assert_array_equal(r2.labels, unwrap(net, X).labels)


def test_memory_does_not_grow_with_rows(rng):
    net = random_network(rng, 2, (3,), 1)  # few regions: the statistics stay tiny

    def gen(n_rows, seed):
        g = np.random.default_rng(seed)
        for _ in range(n_rows // 5000):
            yield g.normal(size=(5000, 2))

    peaks = []
    for n_rows in (20_000, 200_000):
        tracemalloc.start()
        regions = unwrap_chunks(net, gen(n_rows, 0))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert regions.n_samples == n_rows
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_certify_off_and_errors(setup, tmp_path):
    net, X, y, _ = setup
    assert np.isnan(unwrap_chunks(net, [X[:10], X[10:20]], certify=False).max_abs_error)
    with pytest.raises(ValueError, match="empty"):
        unwrap_chunks(net, iter([]))
    with pytest.raises(ValueError, match="empty"):
        unwrap_chunks(net, [X[:0]])
    with pytest.raises(ValueError, match="target differs"):
        unwrap_chunks(net, [(X[:5], y[:5]), X[5:10]])
    with pytest.raises(TypeError, match="name of a target column"):
        unwrap_chunks(net, [X[:5]], y=y[:5])
    with pytest.raises(ValueError, match="features"):
        unwrap_chunks(net, [X[:5], X[:5, :2]])
    with pytest.raises(ValueError, match="NaN"):
        unwrap_chunks(net, [np.full((3, 3), np.nan)])
    with pytest.raises(TypeError, match="iterable of arrays"):
        unwrap_chunks(net, X)
    with pytest.raises(ValueError, match="No data file"):
        unwrap(net, tmp_path / "missing.csv")
    (tmp_path / "data.xlsx").write_text("")
    with pytest.raises(ValueError, match="format"):
        unwrap(net, tmp_path / "data.xlsx")


def test_hash_collisions_fall_back_to_exact_grouping(setup, monkeypatch):
    """With a hash that collides everywhere, merging still groups patterns exactly."""
    import glassnet._engine as engine_mod

    net, X, y, ref = setup
    parts = [chunk_stats(net, X[s:s + 300], y[s:s + 300], first_key=s) for s in range(0, 1500, 300)]
    honest = merge_stats(parts)
    monkeypatch.setattr(engine_mod, "_mix", lambda x: x & np.uint64(1))
    forced = merge_stats(parts[::-1])
    for name in ("packed", "counts", "first", "representatives"):
        np.testing.assert_array_equal(getattr(forced, name), getattr(honest, name), err_msg=name)
    np.testing.assert_allclose(forced.pred_sum, honest.pred_sum, rtol=1e-12)
    assert honest.n_regions == len(ref)


def test_carried_llms_and_fused_merge_sort(setup):
    """LLMs kept from the chunks (keep_llm) survive merging; merge_sorted = sort(merge)."""
    from glassnet.streaming import merge_sorted, sort_stats, stats_to_regions

    net, X, y, ref = setup
    parts = [chunk_stats(net, X[s:s + 250], y[s:s + 250], first_key=s, keep_llm=True)
             for s in range(0, 1500, 250)]
    assert chunk_stats(net, X[:10]).coef is None
    merged = merge_stats(parts[::-1])
    coef, intercept = net.local_linear_models_packed(merged.packed)
    np.testing.assert_allclose(merged.coef, coef, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(merged.intercept, intercept, rtol=1e-12, atol=1e-12)
    regions, _ = stats_to_regions(net, merged)
    assert_same_regions(regions, ref)
    fused, apart = merge_sorted(net, parts), sort_stats(net, merged)
    for name in ("packed", "counts", "first", "representatives", "coef"):
        np.testing.assert_array_equal(getattr(fused, name), getattr(apart, name), err_msg=name)
    np.testing.assert_allclose(fused.y_sum, apart.y_sum, rtol=1e-12)
    np.testing.assert_array_equal(fused.counts, ref.counts)
    # without carried LLMs (and mixing both) the LLMs are computed after sorting
    plain = [chunk_stats(net, X[s:s + 500], y[s:s + 500], first_key=s) for s in (0, 500)]
    mixed = merge_sorted(net, [*plain, *parts[4:]])
    np.testing.assert_array_equal(mixed.packed, ref.packed_patterns)
    np.testing.assert_allclose(mixed.coef, ref.coef, rtol=1e-12, atol=1e-12)
    single = merge_sorted(net, [parts[0]])
    np.testing.assert_array_equal(single.counts, np.sort(parts[0].counts)[::-1])


# ---------------------------------------------------------------------- errors name file rows
CHUNK = 100
BAD = 2 * CHUNK + 37  # a row of the 3rd chunk: its position in the chunk (37) is not it


def _whole_file_message(path, target=None):
    """The whole-file CSV reader's message (the CLI's reader: chunk_size=None)."""
    from glassnet._csv_read import iter_chunks, read_header

    with pytest.raises(ValueError) as exc:
        list(iter_chunks(path, read_header(path), target, None))
    return str(exc.value)


@pytest.mark.parametrize("kind", ["nan", "inf"])
def test_non_finite_value_in_third_chunk_names_its_row_in_the_stream(setup, kind):
    net, X, _, _ = setup
    Xb = X[:500].copy()
    Xb[BAD, 1] = np.nan if kind == "nan" else -np.inf
    chunks = (Xb[s:s + CHUNK] for s in range(0, 500, CHUNK))
    with pytest.raises(ValueError, match=rf"in row {BAD} of the stream") as exc:
        unwrap_chunks(net, chunks)
    assert "row 37" not in str(exc.value)
    # the in-memory unwrap names the same row of the same array
    with pytest.raises(ValueError, match=rf"row {BAD}\)"):
        unwrap(net, Xb)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_nan_in_third_chunk_of_a_file_names_the_file_row(tmp_path, setup, fmt):
    net, X, y, _ = setup
    df = pd.DataFrame(X[:500], columns=["a", "b", "c"]).assign(target=y[:500, 0])
    df.loc[BAD, "b"] = np.nan
    path = tmp_path / f"data.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False, float_format="%.17g")
    else:
        df.to_parquet(path)
    # data rows are numbered from 1 after the header, as the whole-file reader numbers them
    with pytest.raises(ValueError, match=rf"'b' .*data row {BAD + 1} of data\.{fmt}"):
        unwrap_file(net, path, "target", chunk_size=CHUNK, columns=["a", "b", "c"])
    if fmt == "csv":
        assert f"data row {BAD + 1};" in _whole_file_message(path, "target")


def test_target_and_text_in_third_chunk_of_a_csv_name_the_file_row(tmp_path, setup):
    net, X, y, _ = setup
    df = pd.DataFrame(X[:500], columns=["a", "b", "c"]).assign(target=y[:500, 0])
    df.loc[BAD, "target"] = np.nan
    path = tmp_path / "target.csv"
    df.to_csv(path, index=False)
    with pytest.raises(ValueError, match=rf"target column 'target' .*data row {BAD + 1} of"):
        unwrap_file(net, path, "target", chunk_size=CHUNK, columns=["a", "b", "c"])
    assert f"data row {BAD + 1};" in _whole_file_message(path, "target")
    text = pd.DataFrame(X[:500], columns=["a", "b", "c"]).astype(object)
    text.loc[BAD, "c"] = "n/k"  # not a number and not a missing-value marker
    path = tmp_path / "text.csv"
    text.to_csv(path, index=False)
    with pytest.raises(TypeError, match=rf"'c' is not numeric: data row {BAD + 1} of .*'n/k'"):
        unwrap_file(net, path, chunk_size=CHUNK, columns=["a", "b", "c"])
    assert f"data row {BAD + 1} holds 'n/k'" in _whole_file_message(path)


def test_overflow_in_third_chunk_names_its_row_in_the_stream(rng):
    from glassnet import ReluNetwork
    from glassnet.regions import NonFiniteError

    net = ReluNetwork([np.eye(2) * 1e150, np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    X = rng.uniform(0.0, 1e-100, size=(500, 2))  # outputs below 1e50: finite, as the LLMs
    X[BAD] = [1e200, 0.5]  # 1e350 in the first layer: overflows float64
    with pytest.raises(NonFiniteError, match=rf"output of row {BAD} of the stream .*layer 1"):
        unwrap_chunks(net, (X[s:s + CHUNK] for s in range(0, 500, CHUNK)))
    with pytest.raises(NonFiniteError, match=rf"output of row {BAD} is"):
        unwrap(net, X)
