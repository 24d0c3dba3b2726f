"""Distributed unwrapping with Dask: run where the data lives.

:func:`unwrap` maps every block of a ``dask.array.Array`` (or partition of a
``dask.dataframe.DataFrame``) to its per-pattern statistics
(:class:`glassnet.streaming.PatternStats`: count, sums and sums of squares of the prediction
and target, earliest row, certificate, and the LLMs of the block's distinct patterns, which
the certificate needs anyway). The statistics are then **range-partitioned by activation
pattern** (split points from a sample of every block), each partition is merged on its own
(associative merge) and put in region order on the workers, and the client only places the
sorted partitions into the result, one at a time. So the merging, the sorting and the LLMs
run in parallel, and the client holds the result plus one partition. Blocks of a persisted
Dask array or DataFrame are read where they live (each block's task is loosely restricted
to the workers holding the block). The result is the same
:class:`~glassnet.Regions` as :func:`glassnet.unwrap` on the same rows; ``labels`` is a lazy
dask array.

The computation runs on whatever Dask scheduler is active: create a
``dask.distributed.Client`` for a ``LocalCluster`` or any cluster address first.

Install with ``pip install "glassnet[dask]"``.

Examples
--------
>>> from dask.distributed import Client, LocalCluster      # doctest: +SKIP
>>> import dask.array as da                               # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2))            # doctest: +SKIP
>>> X = da.random.default_rng(0).normal(size=(10**7, 10), chunks=(5 * 10**5, 10))  # doctest: +SKIP
>>> regions = glassnet.dask.unwrap(net, X)                # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

import numpy as np

from glassnet._engine import (
    PatternLookup,
    PatternStats,
    chunk_stats_codes,
    packed_forward,
    pattern_words,
)
from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.regions import Regions, regions_from_stats
from glassnet.streaming import merge_sorted, merge_stats, row_label, split_chunk

__all__ = ["unwrap"]

_BLOCK_SHIFT = 40  # representative key: block index << 40 | row within the block
_MAX_RUNS = 256  # runs of equal counts placed by slices on the client; more: one scatter
_SAMPLES_PER_PART = 16  # first words sampled per block and partition for the split points
# default partitions: one per this many block-level distinct patterns (summed over blocks)
_PATTERNS_PER_PART = 100_000
_TREE_FAN_IN = 8  # blocks merged per task where patterns repeat (one partition)


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - dask is in the test install
        raise ImportError(
            "glassnet.dask needs Dask: pip install 'glassnet[dask]'."
        ) from exc
    return dask, da


def _is_dask_frame(X: Any) -> bool:
    return hasattr(X, "to_delayed") and hasattr(X, "columns") and hasattr(X, "npartitions")


def _is_dask_array(X: Any) -> bool:
    return hasattr(X, "to_delayed") and hasattr(X, "chunks") and hasattr(X, "rechunk")


def unwrap(
    net: Any,
    X: Any,
    y: Any = None,
    *,
    certify: bool = True,
    partitions: int | None = None,
    split_every: int | None = None,
) -> Regions:
    """Unwrap a Dask array or DataFrame on the active Dask scheduler.

    Parameters
    ----------
    net : ReluNetwork or a model :func:`glassnet.io.as_network` accepts
    X : dask.array.Array of shape (n, n_features) or dask.dataframe.DataFrame
        Rows in blocks along axis 0 (column chunks are merged). DataFrame column names are
        the feature names (matched by name when the network has them).
    y : dask array/Series aligned with X's blocks, NumPy array, or str, optional
        The target; for a DataFrame it may be the name of one of its columns (the other
        columns are then the features).
    certify : bool
        Compute the exactness certificate (``max_abs_error``) block by block on the workers,
        with the LLMs of each block's distinct patterns. NaN when False.
    partitions : int, optional
        Into how many ranges of activation patterns the statistics are split; each range is
        merged, sorted and sent to the client on its own, so this sets the parallelism of
        the reduction and the client's working memory (one partition). Default: one per
        100,000 distinct patterns (summed over the blocks, counted once the block
        statistics are computed), at most twice the threads of the active distributed
        cluster (at least 8, at most 64) and at most the number of blocks; so one
        partition where patterns repeat.
    split_every : int, optional
        How many blocks' pieces of a partition one merge task takes (a tree when fewer than
        the blocks). Default: all of them in one task per partition (a partition holds
        about ``1 / partitions`` of the regions, so one task suffices).

    Returns
    -------
    Regions
        Equal to :func:`glassnet.unwrap` on the same rows (regions, numbering, counts,
        representatives, LLMs; sums up to float64 summation order). ``labels`` is a lazy
        ``dask.array.Array`` of int64 computed on demand from the network and the region
        patterns (persist it if you use it several times).
    """
    dask, da = _require_dask()
    net = as_network(net)
    if split_every is not None and (
        not isinstance(split_every, (int, np.integer)) or isinstance(split_every, bool)
        or split_every < 2
    ):
        raise ValueError(f"split_every must be an integer >= 2; got {split_every!r}.")
    ycol = None
    names = list(net.feature_names) if net.feature_names else None
    if _is_dask_frame(X):
        if isinstance(y, str):
            if y not in X.columns:
                raise ValueError(f"X has no target column {y!r}.")
            ycol, y = y, None
        if names is None:
            names = [str(c) for c in X.columns if c != ycol]
        x_blocks = list(X.to_delayed())
        sizes = None
    elif _is_dask_array(X):
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features); got {X.ndim} dimensions.")
        if not np.isnan(X.shape[1]) and X.shape[1] != net.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but the network expects {net.n_features}."
            )
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X has dtype {X.dtype}; a numeric array is required.")
        X = X.rechunk({1: -1})
        x_blocks = list(X.to_delayed()[:, 0])
        sizes = X.chunks[0]
    else:
        raise TypeError(
            f"glassnet.dask.unwrap expects a dask.array.Array or dask.dataframe.DataFrame; got "
            f"{type(X).__name__}. Use glassnet.unwrap for in-memory data."
        )
    y_blocks = _target_blocks(y, len(x_blocks), sizes, da)
    n_parts = _check_partitions(partitions, len(x_blocks))

    delayed = dask.delayed
    net_d = delayed(net, name=f"glassnet-net-{uuid.uuid4().hex}", traverse=False)
    # errors name a row of a Dask array by its place in the whole array
    known = sizes is not None and not np.isnan(np.asarray(sizes, dtype=float)).any()
    starts = [0, *np.cumsum(sizes)[:-1].tolist()] if known else [None] * len(x_blocks)
    holders = _block_holders(X, x_blocks)
    stats = []
    for i, (xb, yb) in enumerate(zip(x_blocks, y_blocks, strict=True)):
        with _on_workers(dask, holders[i]):
            stats.append(delayed(_block_stats, pure=True)(net_d, xb, yb, ycol, i, certify,
                                                          starts[i]))
    if partitions is None and n_parts > 1:
        # The split points need every block's statistics anyway; computing them first
        # lets the partition count follow the number of distinct patterns: where patterns
        # repeat, one partition (no sampling, splitting or per-partition round trips).
        stats = list(dask.persist(*stats))
        n_pat = dask.compute(*[delayed(_n_regions, pure=True)(st) for st in stats])
        n_parts = _auto_partitions(int(sum(n_pat)), n_parts)
    if n_parts == 1:
        # One range of patterns (they repeat): merge the blocks' statistics in a tree of
        # fan-in split_every (8 by default), so merges start while other blocks are still
        # being computed, and bring the sorted result to the client in one round trip.
        fan_in = split_every or _TREE_FAN_IN
        level = list(stats)
        while len(level) > fan_in:
            level = [delayed(merge_stats, pure=True)(level[s : s + fan_in])
                     for s in range(0, len(level), fan_in)]
        (final,) = dask.compute(delayed(merge_sorted, pure=True)(net_d, level))
        regions = _regions_of(net, final, names)
    else:
        regions = _partitioned(net, net_d, stats, n_parts, split_every, names, dask)

    table_d = delayed(
        regions.packed_patterns, name=f"glassnet-patterns-{uuid.uuid4().hex}", traverse=False
    )
    label_blocks = [
        da.from_delayed(
            delayed(_block_labels, pure=True)(net_d, xb, ycol, table_d),
            shape=(np.nan if sizes is None else sizes[i],),
            dtype=np.int64,
        )
        for i, xb in enumerate(x_blocks)
    ]
    regions.labels = da.concatenate(label_blocks) if label_blocks else None
    return regions


def _partitioned(
    net: ReluNetwork, net_d: Any, stats: list, n_parts: int, split_every: int | None,
    names: Any, dask: Any,
) -> Regions:
    """Many distinct patterns: range-partition the statistics by pattern, merge and sort
    each partition on the workers, place them on the client one partition at a time."""
    delayed = dask.delayed
    samples = [delayed(_sample_words, pure=True)(st, _SAMPLES_PER_PART * n_parts)
               for st in stats]
    splits = delayed(_split_points, pure=True)(samples, n_parts)
    pieces = [list(delayed(_split_by_pattern, pure=True, nout=n_parts)(st, splits, n_parts))
              for st in stats]
    fan_in = len(stats) if split_every is None else split_every
    finals = []
    for p in range(n_parts):
        level = [pc[p] for pc in pieces]
        while len(level) > fan_in:
            level = [
                delayed(merge_stats, pure=True)(level[s : s + fan_in])
                for s in range(0, len(level), fan_in)
            ]
        # last merge and region order in one task (every array gathered once)
        finals.append(delayed(merge_sorted, pure=True)(net_d, level))
    # Sorted partitions stay on the workers; the client first gets their count histograms.
    finals = list(dask.persist(*finals))
    heads = dask.compute(*[delayed(_head, pure=True)(f) for f in finals])
    return _assemble(net, finals, heads, names, dask)


def _regions_of(net: ReluNetwork, final: PatternStats, names: Any) -> Regions:
    """Regions from statistics already merged and in region order (with their LLMs)."""
    if final.n_rows == 0:
        raise ValueError("No rows to unwrap: every block was empty.")
    return regions_from_stats(net, final, names)


def _block_holders(X: Any, x_blocks: list) -> list[tuple[str, ...]]:
    """The workers that already hold each block of ``X`` (data persisted on a distributed
    cluster); empty tuples without a distributed client or for blocks not in memory."""
    none: list[tuple[str, ...]] = [()] * len(x_blocks)
    client = _distributed_client()
    if client is None:
        return none
    from distributed import futures_of

    if not futures_of(X):  # not persisted: the blocks are computed where the tasks run
        return none
    who = client.who_has(X)
    return [tuple(who.get(_held_key(b, who), ())) for b in x_blocks]


def _held_key(block: Any, who: dict) -> Any:
    """The key of the persisted piece a block reads: its own (a Dask array's blocks), or
    that of the one piece its task refers to (a DataFrame's partitions are aliases of its
    futures under other keys); None for a block computed from several pieces."""
    from dask.core import get_dependencies

    key = getattr(block, "key", None)
    if key in who:
        return key
    graph = block.__dask_graph__()
    if key not in graph:
        return None
    deps = get_dependencies(graph, key)
    return next(iter(deps)) if len(deps) == 1 else None


def _on_workers(dask: Any, workers: tuple[str, ...]):
    """Ask the scheduler to run a block's task where the block lives (other workers
    allowed: if those die, or to rebalance). Without this, Dask's placement weighs moving
    a block against the workers' queues, and with 8 blocks on 2 workers it put 5 on one
    worker in most repeated runs (moving a 500,000-row block for nothing)."""
    if not workers:
        return contextlib.nullcontext()
    return dask.annotate(workers=list(workers), allow_other_workers=True)


def _check_partitions(partitions: Any, n_blocks: int) -> int:
    if partitions is None:
        return max(1, min(n_blocks, _default_partitions()))
    if not isinstance(partitions, (int, np.integer)) or isinstance(partitions, bool) or (
        partitions < 1
    ):
        raise ValueError(f"partitions must be an integer >= 1; got {partitions!r}.")
    return int(partitions)


def _default_partitions() -> int:
    """Twice the threads of the active distributed cluster (at least 8, at most 64)."""
    client = _distributed_client()
    try:
        threads = sum(client.nthreads().values())
    except Exception:  # no client (None), or one that cannot answer: the local scheduler
        threads = os.cpu_count() or 1
    return int(min(64, max(8, 2 * threads)))


def _distributed_client() -> Any:
    """The active ``dask.distributed`` client, or None (the local scheduler)."""
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _auto_partitions(n_patterns: int, most: int) -> int:
    """One partition per ``_PATTERNS_PER_PART`` block-level patterns, 1 to ``most``."""
    return max(1, min(most, -(-n_patterns // _PATTERNS_PER_PART)))


def _n_regions(stats: PatternStats) -> int:
    return stats.n_regions


def _first_words(packed: np.ndarray) -> np.ndarray:
    """The first 64 bits of each pattern: the partition key (monotone in pattern order)."""
    return pattern_words(packed[:, :8])[:, 0] if packed.shape[1] else np.zeros(
        packed.shape[0], dtype=np.uint64)


def _sample_words(stats: PatternStats, k: int) -> tuple[np.ndarray, float]:
    """About ``k`` first words of a block's patterns (evenly spaced in row order), and the
    number of patterns each stands for."""
    R = stats.n_regions
    if R == 0:
        return np.zeros(0, dtype=np.uint64), 0.0
    words = _first_words(stats.packed[:: max(1, R // k)])
    return words, R / words.shape[0]


def _split_points(samples: list[tuple[np.ndarray, float]], n_parts: int) -> np.ndarray:
    """``n_parts - 1`` split points of the first words: weighted quantiles of the samples."""
    words = np.concatenate([w for w, _ in samples])
    if words.size == 0:
        return np.zeros(0, dtype=np.uint64)
    weights = np.concatenate([np.full(w.shape[0], wt) for w, wt in samples])
    order = np.argsort(words, kind="stable")
    words, cum = words[order], np.cumsum(weights[order])
    targets = cum[-1] * np.arange(1, n_parts) / n_parts
    at = np.minimum(np.searchsorted(cum, targets), words.shape[0] - 1)
    return np.unique(words[at])


def _split_by_pattern(stats: PatternStats, splits: np.ndarray, n_parts: int) -> list:
    """The block's statistics cut into ``n_parts`` ranges of patterns (row order kept)."""
    part = np.searchsorted(splits, _first_words(stats.packed), side="right")
    order = np.argsort(part, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(part, minlength=n_parts))])
    fields = {k: v for k, v in stats.__dict__.items() if isinstance(v, np.ndarray)}
    if not np.all(order[1:] > order[:-1]):
        fields = {k: np.take(v, order, axis=0) for k, v in fields.items()}
    out = []
    for p in range(n_parts):
        sl = slice(bounds[p], bounds[p + 1])
        out.append(PatternStats(**{**stats.__dict__, **{k: v[sl] for k, v in fields.items()}}))
    return out


def _head(stats: PatternStats) -> tuple:
    """What the client needs before fetching a sorted partition: its count runs."""
    counts = stats.counts
    starts = np.flatnonzero(np.r_[True, counts[1:] != counts[:-1]]) if counts.size else (
        np.zeros(0, dtype=np.int64))
    values = counts[starts]
    lengths = np.diff(np.r_[starts, counts.shape[0]])
    return values, lengths, stats.max_abs_error, stats.y_sum is not None


def _assemble(net: ReluNetwork, finals: list, heads: tuple, names: Any, dask: Any) -> Regions:
    """Place every sorted partition at its rows of the result (one partition at a time).

    Partitions are ranges of patterns in pattern order and each is sorted by decreasing
    count, then pattern, so the regions with count ``c`` of partition ``p`` follow those
    with a larger count (of any partition) and those with count ``c`` of partitions before
    ``p``.
    """
    values = np.unique(np.concatenate([h[0] for h in heads]))[::-1]  # decreasing counts
    table = np.zeros((len(heads), values.shape[0]), dtype=np.int64)
    for p, (v, n, _, _) in enumerate(heads):
        table[p, values.shape[0] - 1 - np.searchsorted(values[::-1], v)] = n
    R = int(table.sum())
    if R == 0:
        raise ValueError("No rows to unwrap: every block was empty.")
    value_start = np.concatenate([[0], np.cumsum(table.sum(axis=0))[:-1]])
    dest = value_start[None, :] + np.cumsum(table, axis=0) - table
    err = float(np.max([h[2] for h in heads]))

    out: dict[str, np.ndarray | None] = {}
    fields = ("counts", "packed", "representatives", "pred_sum", "pred_sumsq",
              "y_sum", "y_sumsq", "coef", "intercept")
    for p, (v, n, _, _) in enumerate(heads):
        if n.size == 0:
            finals[p] = None
            continue
        (part,) = dask.compute(finals[p])
        finals[p] = None  # release it on the workers
        col = values.shape[0] - 1 - np.searchsorted(values[::-1], v)
        src = np.concatenate([[0], np.cumsum(n)[:-1]])
        starts = dest[p, col]
        pos = None
        if n.shape[0] > _MAX_RUNS:  # many distinct counts: one scatter
            pos = np.repeat(starts - src, n) + np.arange(part.n_regions)
        for f in fields:
            a = getattr(part, f)
            if f not in out:
                out[f] = None if a is None else np.empty((R, *a.shape[1:]), dtype=a.dtype)
            if a is None:
                continue
            if pos is not None:
                out[f][pos] = a
            else:  # each run of equal counts is a contiguous slice of the result
                for d0, s0, m in zip(starts, src, n, strict=True):
                    out[f][d0 : d0 + m] = a[s0 : s0 + m]
        del part
    return Regions(
        net,
        labels=None,
        counts=out["counts"],
        packed_patterns=out["packed"],
        coef=out["coef"],
        intercept=out["intercept"],
        max_abs_error=err,
        representatives=out["representatives"],
        pred_sum=out["pred_sum"],
        pred_sumsq=out["pred_sumsq"],
        y_sum=out["y_sum"],
        y_sumsq=out["y_sumsq"],
        feature_names=names,
    )


def _target_blocks(y: Any, n_blocks: int, sizes: tuple | None, da: Any) -> list:
    if y is None:
        return [None] * n_blocks
    if _is_dask_array(y):
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D; got {y.ndim} dimensions.")
        if sizes is not None:
            if y.shape[0] != sum(sizes):
                raise ValueError(f"y has {y.shape[0]} rows but X has {sum(sizes)}.")
            y = y.rechunk({0: sizes, **({1: -1} if y.ndim == 2 else {})})
        blocks = y.to_delayed()
        blocks = list(blocks[:, 0] if y.ndim == 2 else blocks)
    elif hasattr(y, "to_delayed"):  # dask Series / DataFrame
        blocks = list(y.to_delayed())
    elif sizes is not None:
        arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
        if arr.ndim == 0 or arr.shape[0] != sum(sizes):
            raise ValueError(f"y has {np.shape(arr)} rows but X has {sum(sizes)}.")
        return _target_blocks(da.from_array(arr, chunks=(sizes,) + arr.shape[1:]), n_blocks,
                              sizes, da)
    else:
        raise TypeError(
            "For a Dask DataFrame, y must be a column name or a Dask Series with the same "
            "partitions."
        )
    if len(blocks) != n_blocks:
        raise ValueError(
            f"y is split into {len(blocks)} blocks but X into {n_blocks}; align their partitions."
        )
    return blocks


def _block_rows(
    net: ReluNetwork, xb: Any, ycol: str | None, yb: Any = None, where: dict | None = None
):
    where = where or {}
    if ycol is not None:
        return split_chunk(net, xb, ycol, **where)
    if yb is not None:
        return split_chunk(net, (xb, yb), None, **where)
    return split_chunk(net, xb, None, **where)


def _block_stats(
    net: ReluNetwork, xb: Any, yb: Any, ycol: str | None, index: int, certify: bool,
    first_row: int | None = None,
) -> PatternStats:
    # errors name the row in the whole array, or (DataFrame partitions, whose lengths are
    # unknown) in its partition: "row N of the stream", "data row N of partition K"
    where = ({"first_row": first_row} if first_row is not None
             else {"source": f"partition {index}"})
    X, y, _ = _block_rows(net, xb, ycol, yb, where)
    if X.shape[0] >= 1 << _BLOCK_SHIFT:  # pragma: no cover - a trillion-row block
        raise ValueError("A block has more than 2**40 rows; use smaller chunks.")
    # the certificate needs the block's LLMs: keep them, so they are not computed twice
    label = row_label(where.get("first_row", 0), where.get("source"))
    return chunk_stats_codes(net, X, y, index << _BLOCK_SHIFT, certify, keep_llm=certify,
                             row_label=label)[0]


def _block_labels(net: ReluNetwork, xb: Any, ycol: str | None, table: np.ndarray) -> np.ndarray:
    X, _, _ = _block_rows(net, xb, ycol)
    packed, _ = packed_forward(net, X, None)
    return PatternLookup(table).lookup(packed)
