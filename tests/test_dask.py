"""The Dask backend gives the same regions as single-machine unwrapping, on a LocalCluster
with 2 workers, whatever the block sizes."""

from __future__ import annotations

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_streaming import assert_same_regions

import glassnet
from glassnet import unwrap


@pytest.fixture(scope="module")
def client():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                           dashboard_address=":0")
    with Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def setup():
    rng = np.random.default_rng(11)
    net = random_network(rng, 4, (9, 6), 1, output="sigmoid")
    X = rng.normal(size=(4000, 4))
    y = (rng.random(4000) < 0.3).astype(float)
    return net, X, y, unwrap(net, X, y)


def test_dask_array_equals_single_machine(client, setup):
    net, X, y, ref = setup
    regions = glassnet.dask.unwrap(net, da.from_array(X, chunks=(550, 4)),
                                   da.from_array(y, chunks=550))
    assert len(client.scheduler_info()["workers"]) == 2
    assert_same_regions(regions, ref)
    assert isinstance(regions.labels, da.Array)
    np.testing.assert_array_equal(regions.labels.compute(), ref.labels)
    pd.testing.assert_frame_equal(regions.to_frame(), ref.to_frame(), rtol=1e-10)


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sizes=st.lists(st.integers(1, 1500), min_size=1, max_size=8))
def test_block_sizes_do_not_matter(client, setup, sizes):
    net, X, y, ref = setup
    total = sum(sizes)
    if total < len(X):
        sizes = [*sizes, len(X) - total]
    else:  # trim to 4000 rows
        keep, acc = [], 0
        for s in sizes:
            s = min(s, len(X) - acc)
            if s:
                keep.append(s)
            acc += s
        sizes = keep
    Xd = da.from_array(X, chunks=(tuple(sizes), 4))
    regions = glassnet.dask.unwrap(net, Xd, y, split_every=3)
    assert_same_regions(regions, ref)
    np.testing.assert_array_equal(regions.labels.compute(), ref.labels)


def test_dataframe_with_target_column_and_series(client, setup):
    net, X, y, _ = setup
    pdf = pd.DataFrame(X, columns=["w", "x", "y", "z"]).assign(default=y)
    ddf = dd.from_pandas(pdf, npartitions=5)
    ref = unwrap(net, pdf[["w", "x", "y", "z"]], y)
    regions = glassnet.unwrap(net, ddf, "default")  # dispatched to glassnet.dask
    assert regions.feature_names == ("w", "x", "y", "z")
    assert_same_regions(regions, ref)
    np.testing.assert_array_equal(regions.labels.compute(), ref.labels)
    features = ddf[["w", "x", "y", "z"]]
    r2 = glassnet.dask.unwrap(net, features, ddf["default"])
    assert_same_regions(r2, ref)


def test_multi_target_column_chunks_and_no_certificate(client, rng):
    net = random_network(rng, 5, (8,), 3, output="softmax")
    X = rng.normal(size=(900, 5))
    Y = rng.normal(size=(900, 2))
    ref = unwrap(net, X, Y)
    Xd = da.from_array(X, chunks=(200, 2))  # column chunks are merged
    regions = glassnet.dask.unwrap(net, Xd, da.from_array(Y, chunks=(300, 1)))
    assert_same_regions(regions, ref)
    off = glassnet.dask.unwrap(net, Xd, certify=False)
    assert np.isnan(off.max_abs_error)
    np.testing.assert_array_equal(off.counts, ref.counts)


def test_errors(client, setup):
    net, X, y, _ = setup
    Xd = da.from_array(X, chunks=(1000, 4))
    with pytest.raises(ValueError, match="expects 4"):
        glassnet.dask.unwrap(net, da.from_array(X[:, :3], chunks=(1000, 3)))
    with pytest.raises(TypeError, match="dask.array.Array"):
        glassnet.dask.unwrap(net, X)
    with pytest.raises(ValueError, match="rows"):
        glassnet.dask.unwrap(net, Xd, y[:10])
    with pytest.raises(ValueError, match="split_every"):
        glassnet.dask.unwrap(net, Xd, split_every=1)
    bad = Xd.map_blocks(lambda b: np.where(b > 3, np.nan, b))
    with pytest.raises(ValueError, match="NaN"):
        glassnet.dask.unwrap(net, bad)
    ddf = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=2)
    with pytest.raises(ValueError, match="no target column"):
        glassnet.dask.unwrap(net, ddf, "nope")


@pytest.mark.slow
def test_process_workers(setup):
    """Worker processes: the network and the statistics travel pickled between processes."""
    from dask.distributed import Client, LocalCluster

    net, X, y, ref = setup
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, Client(cluster):
        regions = glassnet.dask.unwrap(net, da.from_array(X, chunks=(700, 4)),
                                       da.from_array(y, chunks=700))
        labels = regions.labels.compute()
    assert_same_regions(regions, ref)
    np.testing.assert_array_equal(labels, ref.labels)


@pytest.mark.parametrize("partitions", [1, 3, 64])
def test_partition_counts_do_not_matter(client, setup, partitions):
    """One partition, a few, and more partitions than blocks (most of them empty)."""
    net, X, y, ref = setup
    Xd = da.from_array(X, chunks=(900, 4))
    regions = glassnet.dask.unwrap(net, Xd, y, partitions=partitions, split_every=2)
    assert_same_regions(regions, ref)
    np.testing.assert_array_equal(regions.labels.compute(), ref.labels)
    with pytest.raises(ValueError, match="partitions"):
        glassnet.dask.unwrap(net, Xd, partitions=0)


@pytest.mark.parametrize("per_part", [10**9, 50])
def test_default_partitions_follow_the_number_of_patterns(client, setup, monkeypatch, per_part):
    """By default: one partition when patterns repeat, several when they do not (here made
    'many' by lowering the threshold); the result is the single-machine one either way."""
    import glassnet.dask as gd

    net, X, y, ref = setup
    monkeypatch.setattr(gd, "_PATTERNS_PER_PART", per_part)
    seen = []
    real = gd._auto_partitions
    monkeypatch.setattr(gd, "_auto_partitions", lambda n, most: seen.append(real(n, most))
                        or seen[-1])
    regions = gd.unwrap(net, da.from_array(X, chunks=(500, 4)), y)
    assert_same_regions(regions, ref)
    np.testing.assert_array_equal(regions.labels.compute(), ref.labels)
    assert seen == [1] if per_part == 10**9 else seen[0] > 1


def test_few_regions_and_skewed_blocks(client, rng):
    """Few regions with many distinct counts, blocks in sorted order (unrepresentative
    samples), and empty DataFrame partitions."""
    net = random_network(rng, 2, (3,), 1)
    X = rng.normal(size=(5000, 2))
    X = X[np.argsort(X[:, 0])]  # each block sees other patterns
    ref = unwrap(net, X)
    assert len(ref) < 20
    regions = glassnet.dask.unwrap(net, da.from_array(X, chunks=(400, 2)), partitions=6)
    assert_same_regions(regions, ref)
    pdf = pd.DataFrame(X, columns=["a", "b"])
    ddf = dd.from_pandas(pdf, npartitions=4)
    ddf = ddf[ddf["a"] < 0.5]  # the last partitions lose all their rows
    kept = pdf[pdf["a"] < 0.5]
    r2 = glassnet.dask.unwrap(net, ddf, partitions=4)
    assert_same_regions(r2, unwrap(net, kept))


def test_many_regions_many_distinct_counts(client, rng):
    """More runs of equal counts than the client places by slices: the scatter path."""
    import glassnet.dask as gd

    net = random_network(rng, 3, (12, 12), 1)
    X = np.repeat(rng.normal(size=(700, 3)), rng.integers(1, 400, size=700), axis=0)
    rng.shuffle(X)
    ref = unwrap(net, X)
    assert len(np.unique(ref.counts)) > gd._MAX_RUNS // 2
    old = gd._MAX_RUNS
    try:
        for runs in (old, 4):
            gd._MAX_RUNS = runs
            regions = gd.unwrap(net, da.from_array(X, chunks=(20_000, 3)), partitions=3)
            assert_same_regions(regions, ref)
    finally:
        gd._MAX_RUNS = old


def test_split_points_balance_the_partitions(setup):
    import glassnet.dask as gd
    from glassnet.streaming import chunk_stats

    net, X, y, _ = setup
    blocks = [chunk_stats(net, X[s:s + 1000], first_key=s) for s in range(0, 4000, 1000)]
    splits = gd._split_points([gd._sample_words(b, 64) for b in blocks], 4)
    pieces = [gd._split_by_pattern(b, splits, 4) for b in blocks]
    sizes = [sum(pc[p].n_regions for pc in pieces) for p in range(4)]
    assert sum(sizes) == sum(b.n_regions for b in blocks)
    assert max(sizes) < 2 * min(sizes), sizes
    # partitions are ranges of patterns in order: every pattern of p precedes those of p + 1
    words = [np.concatenate([gd._first_words(pc[p].packed) for pc in pieces]) for p in range(4)]
    for a, b in zip(words[:-1], words[1:], strict=True):
        if a.size and b.size:
            assert a.max() < b.min()


MERGED: list[int] = []


def counting_merge(parts):
    """merge_stats that records its fan-in (module level: tasks pickle it by reference)."""
    from glassnet.streaming import merge_stats

    MERGED.append(len(parts))
    return merge_stats(parts)


def test_repeating_patterns_merge_in_a_tree(client, setup, monkeypatch):
    """20 blocks, one partition (patterns repeat): merged 8 at a time, then the final merge
    and sort in one task; the result is the single-machine one."""
    import glassnet.dask as gd

    net, X, y, ref = setup
    MERGED.clear()
    monkeypatch.setattr(gd, "merge_stats", counting_merge)
    regions = gd.unwrap(net, da.from_array(X, chunks=(200, 4)), y)
    assert_same_regions(regions, ref)
    np.testing.assert_array_equal(regions.labels.compute(), ref.labels)
    assert sorted(MERGED) == [4, 8, 8]  # 20 blocks: 8 + 8 + 4, then one final merge of 3


def test_errors_name_the_row_of_the_whole_array(client, setup):
    """A NaN in the 3rd block is named by its row in the array (as glassnet.unwrap names
    it), not in its block; a DataFrame partition's by its partition."""
    net, X, _, _ = setup
    bad = 2 * 500 + 37
    Xb = X.copy()
    Xb[bad, 2] = np.nan
    with pytest.raises(ValueError, match=rf"in row {bad} of the stream"):
        glassnet.dask.unwrap(net, da.from_array(Xb, chunks=(500, 4)))
    with pytest.raises(ValueError, match=rf"row {bad}\)"):
        unwrap(net, Xb)
    ddf = dd.from_pandas(pd.DataFrame(Xb, columns=list("abcd")), npartitions=4)
    start = int(np.flatnonzero(np.asarray(ddf.divisions) <= bad)[-1])  # its partition
    row = bad - ddf.divisions[start] + 1
    with pytest.raises(ValueError, match=rf"'c' .*data row {row} of partition {start}"):
        glassnet.dask.unwrap(net, ddf)


def test_block_tasks_run_where_their_blocks_live(client, setup):
    """Persisted blocks: each block's statistics task is restricted (loosely) to the worker
    holding the block and runs there; checked on the scheduler's own task states."""
    from dask.distributed import wait
    from distributed.diagnostics.plugin import SchedulerPlugin

    net, X, y, ref = setup
    Xd = da.from_array(X, chunks=(500, 4)).persist()
    wait(Xd)
    holders = {k: set(v) for k, v in client.who_has(Xd).items()}
    assert len(holders) == 8 and set().union(*holders.values()) == set(
        client.scheduler_info()["workers"])
    scheduler = client.cluster.scheduler
    seen = {}

    class Record(SchedulerPlugin):
        def transition(self, key, start, finish, *args, **kwargs):
            ts = scheduler.tasks.get(key)
            if finish == "processing" and ts is not None and "_block_stats" in str(key):
                deps = [d.key for d in ts.dependencies if d.key in holders]
                seen[key] = (deps, set(ts.worker_restrictions or ()), ts.loose_restrictions,
                             ts.processing_on.address)

    plugin = Record()
    scheduler.add_plugin(plugin, name="record-block-placement")
    try:
        regions = glassnet.dask.unwrap(net, Xd)
    finally:
        scheduler.remove_plugin(name="record-block-placement")
    assert_same_regions(regions, unwrap(net, X))
    assert len(seen) == 8
    for deps, restricted, loose, worker in seen.values():
        (block,) = deps
        assert restricted == holders[block] and loose
        assert worker in holders[block]


def test_lazy_blocks_are_not_restricted(client, setup):
    """Blocks not yet computed live nowhere: their tasks carry no worker restriction."""
    from glassnet.dask import _block_holders

    net, X, y, ref = setup
    Xd = da.from_array(X, chunks=(1000, 4)) + 0.0
    assert _block_holders(Xd, list(Xd.to_delayed()[:, 0])) == [()] * 4
    assert_same_regions(glassnet.dask.unwrap(net, Xd), unwrap(net, X))


def test_persisted_frame_partitions_are_placed_where_they_live(client, setup):
    """A persisted DataFrame's partitions (aliases of its futures under other keys) are
    found on the workers that hold them."""
    from dask.distributed import wait

    from glassnet.dask import _block_holders

    net, X, y, ref = setup
    frame = pd.DataFrame(X, columns=list("abcd")).assign(t=y)
    ddf = dd.from_pandas(frame, npartitions=4).persist()
    wait(ddf)
    held = {k[1]: tuple(v) for k, v in client.who_has(ddf).items()}
    assert len(held) == 4
    assert _block_holders(ddf, list(ddf.to_delayed())) == [held[i] for i in range(4)]
    assert_same_regions(glassnet.dask.unwrap(net, ddf, "t"), unwrap(net, frame[list("abcd")], y))
