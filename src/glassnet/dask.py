"""Distributed unwrapping with Dask: run where the data lives.

:func:`unwrap` maps every block of a ``dask.array.Array`` (or partition of a
``dask.dataframe.DataFrame``) to its per-pattern statistics
(:class:`glassnet.streaming.PatternStats`: count, sums and sums of squares of the prediction
and target, earliest row, certificate), merges them by pattern in a tree (associative
merge, ``split_every`` blocks per task), computes the local linear model of every distinct
pattern once on the client, and returns the same :class:`~glassnet.Regions` as
:func:`glassnet.unwrap` on the same rows; ``labels`` is a lazy dask array.

The computation runs on whatever Dask scheduler is active: create a
``dask.distributed.Client`` for a ``LocalCluster`` or any cluster address first.

Install with ``pip install "glassnet[dask]"``.

Examples
--------
>>> from dask.distributed import Client, LocalCluster      # doctest: +SKIP
>>> import dask.array as da                               # doctest: +SKIP
>>> client = Client(LocalCluster(n_workers=2))            # or Client("tcp://host:8786")
>>> X = da.random.default_rng(0).normal(size=(10_000_000, 10), chunks=(500_000, 10))
>>> regions = glassnet.dask.unwrap(net, X)                # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from glassnet.network import ReluNetwork
from glassnet.regions import PatternLookup, Regions, _as_network, _packed_forward
from glassnet.streaming import (
    PatternStats,
    _chunk_stats,
    merge_stats,
    split_chunk,
    stats_to_regions,
)

__all__ = ["unwrap"]

_BLOCK_SHIFT = 40  # representative key: block index << 40 | row within the block


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
    split_every: int = 8,
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
    split_every : int
        How many partial results one reduction task merges (the tree's fan-in).

    Returns
    -------
    Regions
        Equal to :func:`glassnet.unwrap` on the same rows (regions, numbering, counts,
        representatives, LLMs; sums up to float64 summation order). ``labels`` is a lazy
        ``dask.array.Array`` of int64 computed on demand from the network and the region
        patterns (persist it if you use it several times).
    """
    dask, da = _require_dask()
    net = _as_network(net)
    if not isinstance(split_every, (int, np.integer)) or isinstance(split_every, bool) or (
        split_every < 2
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

    net_d = dask.delayed(net, name=f"glassnet-net-{uuid.uuid4().hex}", traverse=False)
    parts = [
        dask.delayed(_block_stats, pure=True)(net_d, xb, yb, ycol, i, certify)
        for i, (xb, yb) in enumerate(zip(x_blocks, y_blocks, strict=True))
    ]
    while len(parts) > 1:
        parts = [
            dask.delayed(merge_stats, pure=True)(parts[s : s + split_every])
            for s in range(0, len(parts), split_every)
        ]
    stats: PatternStats = parts[0].compute()
    regions, _ = stats_to_regions(net, stats, feature_names=names)

    table_d = dask.delayed(
        regions.packed_patterns, name=f"glassnet-patterns-{uuid.uuid4().hex}", traverse=False
    )
    label_blocks = [
        da.from_delayed(
            dask.delayed(_block_labels, pure=True)(net_d, xb, ycol, table_d),
            shape=(np.nan if sizes is None else sizes[i],),
            dtype=np.int64,
        )
        for i, xb in enumerate(x_blocks)
    ]
    regions.labels = da.concatenate(label_blocks) if label_blocks else None
    return regions


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


def _block_rows(net: ReluNetwork, xb: Any, ycol: str | None, yb: Any = None):
    if ycol is not None:
        return split_chunk(net, xb, ycol)
    if yb is not None:
        return split_chunk(net, (xb, yb), None)
    return split_chunk(net, xb, None)


def _block_stats(
    net: ReluNetwork, xb: Any, yb: Any, ycol: str | None, index: int, certify: bool
) -> PatternStats:
    X, y, _ = _block_rows(net, xb, ycol, yb)
    if X.shape[0] >= 1 << _BLOCK_SHIFT:  # pragma: no cover - a trillion-row block
        raise ValueError("A block has more than 2**40 rows; use smaller chunks.")
    return _chunk_stats(net, X, y, index << _BLOCK_SHIFT, certify)[0]


def _block_labels(net: ReluNetwork, xb: Any, ycol: str | None, table: np.ndarray) -> np.ndarray:
    X, _, _ = _block_rows(net, xb, ycol)
    packed, _ = _packed_forward(net, X, None)
    return PatternLookup(table).lookup(packed)
