"""glassnet.unwrap dispatches on the type of X to peer back-ends (glassnet/unwrap.py).

Each dispatch is checked two ways: the dispatcher's Regions equals the back-end called
directly (field by field, bit for bit), and the regions agree with an independent oracle
(activation patterns computed row by row in plain Python, region counts tallied by hand,
each LLM reproducing the network's forward pass on its region's rows).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from pathlib import Path

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet
import glassnet.dask as gdask
from glassnet import ReluNetwork, unwrap
from glassnet.regions import unwrap_in_memory
from glassnet.streaming import unwrap_chunks, unwrap_file

FIELDS = ("counts", "packed_patterns", "coef", "intercept", "representatives", "pred_sum",
          "pred_sumsq", "y_sum", "y_sumsq")


def assert_identical(a, b) -> None:
    """Every stored field equal bit for bit (NaN certificate equal to NaN)."""
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if x is None or y is None:
            assert x is None and y is None, f
        else:
            np.testing.assert_array_equal(x, y, err_msg=f)
    np.testing.assert_array_equal(a.max_abs_error, b.max_abs_error)
    assert a.feature_names == b.feature_names
    if a.labels is None or b.labels is None:
        assert a.labels is None and b.labels is None
    else:
        np.testing.assert_array_equal(np.asarray(a.labels), np.asarray(b.labels))


def patterns_by_hand(net: ReluNetwork, X: np.ndarray) -> list[tuple[bool, ...]]:
    """Each row's activation pattern, one row and one layer at a time (no packing/hashing)."""
    out = []
    for x in X:
        a, pat = x, []
        for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
            z = W @ a + b
            pat.extend(bool(v > 0) for v in z)
            a = np.maximum(z, 0.0)
        out.append(tuple(pat))
    return out


def assert_matches_oracle(net: ReluNetwork, X: np.ndarray, regions) -> None:
    pats = patterns_by_hand(net, X)
    tally: dict[tuple[bool, ...], int] = {}
    for p in pats:
        tally[p] = tally.get(p, 0) + 1
    got = {tuple(p): int(c) for p, c in zip(regions.patterns.tolist(), regions.counts,
                                            strict=True)}
    assert got == tally
    # each row's region LLM reproduces the network (rows found by their pattern, not labels)
    index = {tuple(p): r for r, p in enumerate(regions.patterns.tolist())}
    r = np.array([index[p] for p in pats])
    llm = np.einsum("nkd,nd->nk", regions.coef[r], X) + regions.intercept[r]
    np.testing.assert_allclose(llm, net.forward(X), rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(7)
    net = random_network(rng, 3, (6, 5), 1, output="sigmoid").with_feature_names(
        ["a", "b", "c"])
    X = rng.normal(size=(600, 3))
    y = (rng.random(600) < 0.4).astype(float)
    return net, X, y


def test_array_and_dataframe_go_to_the_in_memory_back_end(case):
    net, X, y = case
    got = unwrap(net, X, y, chunk_size=97)
    assert_identical(got, unwrap_in_memory(net, X, y, chunk_size=97))
    assert_matches_oracle(net, X, got)
    frame = pd.DataFrame(X[:, [2, 0, 1]], columns=["c", "a", "b"])  # matched by name
    assert_identical(unwrap(net, frame, y), unwrap_in_memory(net, frame, y))
    assert_identical(unwrap(net, X.tolist(), y.tolist()), got)  # nested lists read as arrays


def test_screen_reaches_the_in_memory_back_end(case):
    net, X, y = case
    got = unwrap(net, X, y, screen=True)
    assert_identical(got, unwrap_in_memory(net, X, y, screen=True))
    assert_matches_oracle(net, X, got)


def test_chunk_iterator_goes_to_the_streamed_back_end(case):
    net, X, y = case

    def chunks():
        return ((X[s:s + 128], y[s:s + 128]) for s in range(0, len(X), 128))

    got = unwrap(net, chunks(), keep_labels=True, certify=True)
    assert_identical(got, unwrap_chunks(net, chunks(), keep_labels=True, certify=True))
    assert_matches_oracle(net, X, got)
    # the same regions as in memory, whatever the back-end: counts, patterns and LLMs exactly
    ref = unwrap(net, X, y)
    for f in ("counts", "packed_patterns", "coef", "intercept", "representatives"):
        np.testing.assert_array_equal(getattr(got, f), getattr(ref, f))
    np.testing.assert_array_equal(got.labels, ref.labels)
    np.testing.assert_allclose(got.y_sum, ref.y_sum, rtol=1e-12)
    # without keep_labels, as before: no labels; certify=False: a NaN certificate
    plain = unwrap(net, chunks(), certify=False)
    assert plain.labels is None and np.isnan(plain.max_abs_error)


def test_csv_path_goes_to_the_streamed_file_back_end(case, tmp_path):
    net, X, y = case
    path = tmp_path / "rows.csv"
    # 17 significant digits: the file holds the very same float64 values
    pd.DataFrame(np.column_stack([X, y]), columns=["a", "b", "c", "default"]).to_csv(
        path, index=False, float_format="%.17g")
    got = unwrap(net, path, "default", chunk_size=150)
    assert_identical(got, unwrap_file(net, path, "default", chunk_size=150))
    assert_identical(unwrap(net, str(path), "default", chunk_size=150), got)
    assert_matches_oracle(net, X, got)
    ref = unwrap(net, X, y)
    np.testing.assert_array_equal(got.counts, ref.counts)
    np.testing.assert_array_equal(got.coef, ref.coef)
    # the file back-end's own keywords pass through
    sub = unwrap(net, path, columns=["a", "b", "c"], keep_labels=True, chunk_size=150)
    np.testing.assert_array_equal(sub.labels, ref.labels)


def test_dask_collections_go_to_the_dask_back_end(case):
    net, X, y = case
    with dask.config.set(scheduler="synchronous"):
        darr = da.from_array(X, chunks=(150, 3))
        got = unwrap(net, darr, y, partitions=2)
        assert_identical(got, gdask.unwrap(net, darr, y, partitions=2))
        assert_matches_oracle(net, X, got)
        frame = pd.DataFrame(np.column_stack([X, y]), columns=["a", "b", "c", "default"])
        ddf = dd.from_pandas(frame, npartitions=3)
        by_name = unwrap(net, ddf, "default")
        assert_identical(by_name, gdask.unwrap(net, ddf, "default"))
    ref = unwrap(net, X, y)
    np.testing.assert_array_equal(by_name.counts, ref.counts)
    np.testing.assert_array_equal(by_name.coef, ref.coef)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    d=st.integers(1, 4),
    hidden=st.lists(st.integers(1, 8), min_size=1, max_size=3),
    n=st.integers(1, 80),
    step=st.integers(1, 40),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_back_end_gives_the_same_regions_on_random_networks(d, hidden, n, step, seed):
    rng = np.random.default_rng(seed)
    net = random_network(rng, d, tuple(hidden), 2)
    # boundary rows: a zero first-layer bias puts the zero row exactly on that neuron's
    # hyperplane (pre-activation 0.0 in any summation order: off), and rows 1e-9 either side
    biases = [b.copy() for b in net.biases]
    biases[0][0] = 0.0
    net = ReluNetwork(net.weights, biases, output=net.output)
    X = rng.normal(size=(n, d))
    w = net.weights[0][0] / np.linalg.norm(net.weights[0][0])
    X[0::4] = 0.0
    X[1::4] = 1e-9 * w
    X[2::8] = -1e-9 * w
    y = rng.normal(size=n)
    direct = unwrap_in_memory(net, X, y)
    assert_matches_oracle(net, X, direct)
    got = unwrap(net, X, y)
    assert_identical(got, direct)
    chunks = [(X[s:s + step], y[s:s + step]) for s in range(0, n, step)]
    streamed = unwrap(net, iter(chunks), keep_labels=True)
    assert_identical(streamed, unwrap_chunks(net, iter(chunks), keep_labels=True))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        cols = [f"x{j}" for j in range(d)]
        pd.DataFrame(np.column_stack([X, y]), columns=[*cols, "t"]).to_csv(
            path, index=False, float_format="%.17g")
        filed = unwrap(net, path, "t", chunk_size=step, keep_labels=True)
        assert_identical(filed, unwrap_file(net, path, "t", chunk_size=step, keep_labels=True))
    for other in (streamed, filed):
        for f in ("counts", "packed_patterns", "coef", "intercept", "representatives"):
            np.testing.assert_array_equal(getattr(other, f), getattr(direct, f))
        np.testing.assert_array_equal(other.labels, direct.labels)


@pytest.mark.parametrize("X, hint", [
    ({"a": [1.0, 2.0]}, "pandas.DataFrame"),
    ({(1.0, 2.0)}, None),
    (b"rows.csv", "os.fsdecode"),
    (3.0, None),
    (7, None),
    (object(), None),
])
def test_bad_input_types_name_what_is_accepted(case, X, hint):
    net, _, _ = case
    with pytest.raises(TypeError) as info:
        unwrap(net, X)
    msg = str(info.value)
    assert f"X is a {type(X).__name__}" in msg
    for kind in ("2-D NumPy array", "DataFrame", "CSV/Parquet path", "iterator of chunks",
                 "Dask array/DataFrame"):
        assert kind in msg
    if hint:
        assert hint in msg


def test_a_network_or_regions_passed_as_data_is_refused(case):
    net, X, _ = case
    for wrong in (net, unwrap(net, X)):
        with pytest.raises(TypeError, match=f"X is a {type(wrong).__name__}; unwrap accepts"):
            unwrap(net, wrong)


def test_options_of_another_back_end_are_refused_by_name(case, tmp_path):
    net, X, _ = case
    with pytest.raises(TypeError, match=r"'keep_labels'.*memory back-end.*no extra keywords"):
        unwrap(net, X, keep_labels=True)
    with pytest.raises(TypeError, match=r"'partitions'.*chunks back-end.*keep_labels, certify"):
        unwrap(net, iter([X]), partitions=2)
    with pytest.raises(TypeError, match=r"'nope'.*file back-end"):
        unwrap(net, tmp_path / "rows.csv", nope=1)


def test_errors_of_the_back_ends_are_unchanged(case, tmp_path):
    net, X, _ = case
    with pytest.raises(ValueError, match="X is None"):
        unwrap(net, None)
    with pytest.raises(ValueError, match="2-D"):
        unwrap(net, X[:, 0])
    with pytest.raises(ValueError, match="empty"):
        unwrap(net, iter([]))
    with pytest.raises(TypeError, match=r"X\.toarray\(\)"):
        import scipy.sparse as sp

        unwrap(net, sp.csr_matrix(X))
    with pytest.raises((FileNotFoundError, ValueError), match="missing"):
        unwrap(net, tmp_path / "missing.csv")


def test_old_in_memory_name_refuses_streams_with_a_pointer(case, tmp_path):
    net, X, _ = case
    from glassnet import regions as regions_module

    assert regions_module.unwrap is unwrap_in_memory  # old import path of the back-end
    for stream in (tmp_path / "rows.csv", "rows.csv", iter([X])):
        with pytest.raises(TypeError, match="pass it to glassnet.unwrap"):
            unwrap_in_memory(net, stream)


def test_the_public_name_is_the_dispatcher_and_dask_loads_only_for_dask():
    assert glassnet.unwrap is importlib.import_module("glassnet.unwrap").unwrap
    code = ("import sys, numpy as np, glassnet; "
            "net = glassnet.ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)]);"
            "glassnet.unwrap(net, np.ones((3, 2))); glassnet.unwrap(net, iter([np.ones((3, 2))]));"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'glassnet.dask')"
            " or m == 'glassnet.dask'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_internal_options_of_a_back_end_are_not_passed_through():
    # unwrap_in_memory's _threads is for the merger only: unwrap refuses it by name
    import numpy as np

    from glassnet import ReluNetwork, unwrap

    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    with pytest.raises(TypeError, match="'_threads'.*no extra keywords"):
        unwrap(net, np.zeros((3, 2)), _threads=2)
