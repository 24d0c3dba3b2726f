"""Unwrapping data that does not fit in memory: chunk iterators, CSV/Parquet files.

The rows are reduced chunk by chunk to **pattern statistics** (:class:`PatternStats`): for
every distinct activation pattern of a chunk, its count, the sums and sums of squares of the
network output (after the link) and of the target, the earliest row as representative, and
the exactness certificate of the chunk. Statistics of different chunks merge associatively
(:func:`merge_stats`), so the same code serves this single-machine stream and the Dask
backend (:mod:`glassnet.dask`), which merges them in a tree on a cluster.

Memory grows with the number of distinct regions, never with the number of rows: the row
labels are not kept unless asked for (``keep_labels=True``; they cost 8 bytes a row).
The result equals :func:`glassnet.unwrap` on all the rows at once: same regions, numbering,
counts, representatives and LLMs; sums agree up to float64 summation order.

The exactness certificate is checked chunk by chunk with the LLMs of each chunk's distinct
patterns (the same formula that gives the final LLMs, which are computed once, for the
merged distinct patterns, at the end). Pass ``certify=False`` to skip it; the certificate
is then NaN.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from glassnet._engine import (
    PatternLookup,
    PatternStats,
    chunk_stats_codes,
    factorize_patterns,
    region_order,
)
from glassnet._validation import check_chunk_size, check_y, feature_names_of
from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.regions import Regions, raw_row_encoder, regions_from_stats

__all__ = [
    "PatternStats",
    "sort_stats",
    "chunk_stats",
    "iter_file",
    "merge_sorted",
    "merge_stats",
    "stats_to_regions",
    "unwrap_chunks",
    "unwrap_file",
]

_CSV = (".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz", ".txt", ".tsv")
_PARQUET = (".parquet", ".pq")


def chunk_stats(
    net: ReluNetwork,
    X: np.ndarray,
    y: np.ndarray | None = None,
    *,
    first_key: int = 0,
    certify: bool = True,
    keep_llm: bool = False,
) -> PatternStats:
    """Pattern statistics of one chunk of validated rows.

    Parameters
    ----------
    net : ReluNetwork
    X : ndarray (n, n_features) float64, already validated
    y : ndarray (n,) or (n, n_targets), optional
    first_key : int
        Sort key of the chunk's first row; row ``i`` gets ``first_key + i``.
    certify : bool
        Compute the chunk's exactness certificate.
    keep_llm : bool
        Keep the LLM of each distinct pattern in the statistics (``coef``, ``intercept``),
        so that it need not be computed again after merging.
    """
    return chunk_stats_codes(net, X, y, first_key, certify, keep_llm)[0]


def merge_stats(parts: Sequence[PatternStats]) -> PatternStats:
    """Merge statistics of disjoint sets of rows (associative and commutative)."""
    return _merge(parts)


def merge_sorted(net: ReluNetwork, parts: Sequence[PatternStats]) -> PatternStats:
    """:func:`merge_stats` then :func:`sort_stats`, gathering every array only once."""
    return _merge(parts, net)


_GATHERED = ("packed", "first", "representatives", "coef", "intercept")
_SUMMED = ("pred_sum", "pred_sumsq", "y_sum", "y_sumsq")


def _merge(parts: Sequence[PatternStats], net: ReluNetwork | None = None) -> PatternStats:
    """Merge; with ``net``, also put the result in region order and fill in missing LLMs."""
    parts = list(parts)
    if not parts:
        raise ValueError("merge_stats needs at least one PatternStats.")
    with_y = {p.y_sum is not None for p in parts}
    if len(with_y) > 1:
        raise ValueError("Some chunks came with a target y and others without.")
    err = float(np.max([p.max_abs_error for p in parts]))
    nonempty = [p for p in parts if p.n_regions]
    if len(nonempty) <= 1:
        base = nonempty[0] if nonempty else parts[0]
        merged = PatternStats(**{**base.__dict__, "max_abs_error": err})
        return merged if net is None else sort_stats(net, merged)
    with_llm = all(p.coef is not None for p in nonempty)
    # Concatenate in row order: then the first occurrence of a pattern is its earliest row.
    nonempty.sort(key=lambda p: int(p.first.min()))
    key = np.concatenate([p.first for p in nonempty])
    packed = np.concatenate([p.packed for p in nonempty])
    perm = None
    if np.any(key[1:] < key[:-1]):  # parts whose row ranges interleave
        perm = np.argsort(key, kind="stable")
    codes, pick = factorize_patterns(packed if perm is None else np.take(packed, perm, axis=0))
    if perm is not None:
        pick = perm[pick]
        codes_in_concat = np.empty_like(codes)
        codes_in_concat[perm] = codes
        codes = codes_in_concat
    R = pick.shape[0]
    counts = np.bincount(codes, weights=np.concatenate([p.counts for p in nonempty]),
                         minlength=R).astype(np.int64)
    order = None
    if net is not None:  # region order: gather once, in that order
        order = region_order(np.take(packed, pick, axis=0), counts)
        pick = pick[order]
        counts = counts[order]

    def gathered(name: str) -> np.ndarray | None:
        if name == "packed":
            return np.take(packed, pick, axis=0)
        if name == "first":
            return key[pick]
        if name in ("coef", "intercept") and not with_llm:
            return None
        return np.take(np.concatenate([getattr(p, name) for p in nonempty]), pick, axis=0)

    def summed(name: str) -> np.ndarray | None:
        if getattr(nonempty[0], name) is None:
            return None
        vals = np.concatenate([getattr(p, name) for p in nonempty])
        out = np.empty((R, vals.shape[1]))
        for j in range(vals.shape[1]):
            col = np.bincount(codes, weights=vals[:, j], minlength=R)
            out[:, j] = col if order is None else col[order]
        return out

    fields = {name: gathered(name) for name in _GATHERED}
    fields.update({name: summed(name) for name in _SUMMED})
    merged = PatternStats(counts=counts, max_abs_error=err, **fields)
    if net is not None and merged.coef is None:
        merged.coef, merged.intercept = net.local_linear_models_packed(merged.packed)
    return merged


def sort_stats(
    net: ReluNetwork, stats: PatternStats, order: np.ndarray | None = None
) -> PatternStats:
    """The statistics in region order (:func:`glassnet.regions.region_order`), with LLMs.

    The LLMs are computed when the statistics do not carry them. ``order`` is the region
    order when already known.
    """
    if order is None:
        order = region_order(stats.packed, stats.counts)

    def take(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.take(a, order, axis=0)

    sorted_ = PatternStats(
        counts=stats.counts[order],
        max_abs_error=stats.max_abs_error,
        **{name: take(getattr(stats, name)) for name in (*_GATHERED, *_SUMMED)},
    )
    if sorted_.coef is None:
        sorted_.coef, sorted_.intercept = net.local_linear_models_packed(sorted_.packed)
    return sorted_


def stats_to_regions(
    net: ReluNetwork,
    stats: PatternStats,
    *,
    feature_names: Sequence[str] | None = None,
) -> tuple[Regions, np.ndarray]:
    """Number the regions as :func:`glassnet.unwrap` does and compute their LLMs once.

    Returns the :class:`~glassnet.Regions` (``labels`` None) and ``rank``, the region index
    of each pattern of ``stats``.
    """
    if stats.n_rows == 0:
        raise ValueError("No rows to unwrap: every chunk was empty.")
    order = region_order(stats.packed, stats.counts)
    rank = np.empty(order.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    return regions_from_stats(net, sort_stats(net, stats, order), feature_names), rank


# ---------------------------------------------------------------------- chunk sources
def split_chunk(
    net: ReluNetwork,
    item: Any,
    y: Any,
    *,
    allow_empty: bool = True,
    first_row: int = 0,
    source: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None, list[str] | None]:
    """Validate one chunk: ``X``, ``(X, y)`` or a DataFrame holding the target column ``y``.

    ``first_row`` is the position of the chunk's first row in the whole stream and
    ``source`` the name of the file it was read from, if any: a NaN, infinite or
    non-numeric value is then reported at its row in the whole file (``data row N of
    NAME``, numbered from 1 after the header, as the CSV reader does) or stream (``row N
    of the stream``, numbered from 0 as rows of an array), not at its row in the chunk.
    """
    y_chunk = None
    if isinstance(item, tuple):
        if len(item) != 2:
            raise ValueError(f"A chunk tuple must be (X, y); got {len(item)} elements.")
        if y is not None:
            raise ValueError("Give y either inside the (X, y) chunks or as y=, not both.")
        item, y_chunk = item
    elif y is not None:
        if not isinstance(y, str) or not hasattr(item, "columns"):
            raise TypeError(
                "With chunks, y= must be the name of a target column of DataFrame chunks; "
                "pass (X, y) tuples to give the target separately."
            )
        if y not in item.columns:
            raise ValueError(f"A chunk has no target column {y!r}.")
        y_chunk = item[y]
        item = item.drop(columns=[y])
    names = feature_names_of(item)
    try:
        X = net.check_input(item, allow_empty=allow_empty)
    except (TypeError, ValueError) as exc:
        better = _bad_value_message(net, item, first_row, source)
        if better is None:
            raise
        raise type(exc)(better) from exc
    y_arr = None
    if y_chunk is not None:
        try:
            y_arr = check_y(y_chunk, X.shape[0])
        except ValueError as exc:
            better = _bad_target_message(y_chunk, y, first_row, source)
            if better is None:
                raise
            raise ValueError(better) from exc
    return X, y_arr, names


def row_label(first_row: int, source: str | None) -> Any:
    """Row ``i`` of a chunk starting at ``first_row`` as errors name it (see split_chunk)."""
    if source is None:
        return lambda i: f"row {first_row + i} of the stream"
    return lambda i: f"data row {first_row + i + 1} of {source}"


def _feature_frame(net: ReluNetwork, item: Any) -> tuple[list[str], Any] | None:
    """The chunk's feature columns in the network's order, as check_input selects them."""
    cols = {str(c): c for c in item.columns}
    names = list(net.feature_names) if net.feature_names else list(cols)
    if not all(n in cols for n in names):
        return None
    return names, item[[cols[n] for n in names]]


def _bad_value_message(
    net: ReluNetwork, item: Any, first_row: int, source: str | None
) -> str | None:
    """The first NaN, infinite or non-numeric feature value of a chunk, named by its row in
    the whole stream (None when the chunk's problem is another one: check_input's stands)."""
    import pandas as pd

    label = row_label(first_row, source)
    try:
        if hasattr(item, "columns"):
            picked = _feature_frame(net, item)
            if picked is None:
                return None
            names, frame = picked
            for j, col in enumerate(names):  # a non-numeric column: its first bad cell
                if frame.iloc[:, j].dtype.kind in "biuf":
                    continue
                values = frame.iloc[:, j]
                bad = pd.to_numeric(values, errors="coerce").isna() & values.notna()
                rows = np.flatnonzero(bad.to_numpy())
                if rows.size:
                    return (f"column {col!r} is not numeric: {label(int(rows[0]))} holds "
                            f"{str(values.iloc[rows[0]])[:30]!r}; encode it as numbers (for "
                            "example one-hot) before using it with a network.")
            arr = frame.apply(pd.to_numeric, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan)
        else:
            names = None
            arr = np.asarray(item, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 2 or arr.shape[1] != net.n_features:
        return None
    bad = ~np.isfinite(arr)
    rows = np.flatnonzero(bad.any(axis=1))
    if not rows.size:
        return None
    r = int(rows[0])
    j = int(np.flatnonzero(bad[r])[0])
    col = repr(names[j]) if names else f"{j}"
    kind = "a missing value (NaN)" if np.isnan(arr[r, j]) else "an infinite value"
    more = f" ({rows.size} rows of this chunk have one)" if rows.size > 1 else ""
    return (f"feature column {col} holds {kind} in {label(r)}{more}; impute or drop those "
            "rows first.")


def _bad_target_message(y_chunk: Any, name: Any, first_row: int, source: str | None) -> str | None:
    """The first missing or infinite target value, named by its row in the whole stream."""
    try:
        arr = np.asarray(y_chunk.to_numpy() if hasattr(y_chunk, "to_numpy") else y_chunk,
                         dtype=np.float64)
    except (TypeError, ValueError):
        return None
    bad = ~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1) if arr.ndim else None
    if bad is None or not bad.any():
        return None
    what = f"target column {name!r}" if isinstance(name, str) else "the target y"
    return (f"{what} holds a missing or infinite value in "
            f"{row_label(first_row, source)(int(np.flatnonzero(bad)[0]))}; drop or fill "
            "those rows first.")


def iter_file(
    path: str | os.PathLike,
    *,
    chunk_size: int,
    columns: Sequence[str] | None = None,
) -> Iterator[Any]:
    """Yield pandas DataFrames of ``chunk_size`` rows from a CSV or Parquet file."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"No data file at {path!r}.")
    low = path.lower()
    cols = None if columns is None else list(columns)
    if low.endswith(_PARQUET):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is in the dask extra
            raise ImportError(
                "Reading Parquet needs pyarrow: pip install 'glassnet[dask]' or pyarrow."
            ) from exc
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=chunk_size, columns=cols):
            yield batch.to_pandas()
    elif low.endswith(_CSV):
        # the CLI's reader: a header without duplicates, no row longer than the header
        # (pandas would shift it into the next column or drop fields), UTF-8 named
        from glassnet._csv_read import iter_frames

        yield from iter_frames(path, chunk_size, columns=cols)
    else:
        raise ValueError(
            f"Cannot tell the format of {path!r}; use a .csv (.csv.gz, .tsv) or .parquet file, "
            "or pass an iterator of chunks."
        )


# ---------------------------------------------------------------------- drivers
def unwrap_chunks(
    net: Any,
    chunks: Iterable[Any],
    y: str | None = None,
    *,
    keep_labels: bool = False,
    certify: bool = True,
) -> Regions:
    """Unwrap rows arriving in chunks, with memory independent of the number of rows.

    Parameters
    ----------
    net : ReluNetwork or a model :func:`glassnet.io.as_network` accepts
    chunks : iterable
        Arrays or DataFrames of shape ``(n_i, n_features)``, or ``(X, y)`` tuples. Read once,
        in order; row order only decides which row represents a region.
    y : str, optional
        Name of the target column in DataFrame chunks (the other columns are the features).
    keep_labels : bool
        Keep the region index of every row in ``regions.labels`` (8 bytes a row); otherwise
        ``labels`` is None and :meth:`Regions.assign` maps rows to regions later.
    certify : bool
        Check exactness chunk by chunk (``max_abs_error``); NaN when False.

    Returns
    -------
    Regions
        The same regions, counts, representatives, LLMs and statistics as
        :func:`glassnet.unwrap` on the concatenated rows.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, unwrap
    >>> from glassnet.streaming import unwrap_chunks
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> X = np.random.default_rng(0).normal(size=(1000, 2))
    >>> streamed = unwrap_chunks(net, (X[i:i + 128] for i in range(0, 1000, 128)))
    >>> streamed.counts.tolist() == unwrap(net, X).counts.tolist()
    True
    """
    return _unwrap_chunks(net, chunks, y, keep_labels=keep_labels, certify=certify)


def _unwrap_chunks(
    net: Any,
    chunks: Iterable[Any],
    y: str | None,
    *,
    keep_labels: bool,
    certify: bool,
    source: str | None = None,
) -> Regions:
    """:func:`unwrap_chunks`; ``source`` names the file the chunks come from in errors."""
    encode = raw_row_encoder(net)
    net = as_network(net)
    if isinstance(chunks, (np.ndarray, str, bytes)) or hasattr(chunks, "columns"):
        raise TypeError(
            "chunks must be an iterable of arrays/DataFrames (or (X, y) tuples); pass a single "
            "array to glassnet.unwrap instead."
        )
    stack: list[PatternStats] = []
    label_parts: list[tuple[np.ndarray, np.ndarray]] = []
    names: list[str] | None = list(net.feature_names) if net.feature_names else None
    offset = 0
    y_width: int | None = None  # -1 without a target
    if encode is not None:  # raw chunks of a one-hot model: encode each one, target apart
        chunks, y = _encoded_chunks(chunks, encode, y), None
    for item in chunks:
        X, y_arr, chunk_names = split_chunk(net, item, y, first_row=offset, source=source)
        if names is None and chunk_names is not None:
            names = chunk_names
        width = -1 if y_arr is None else (1 if y_arr.ndim == 1 else y_arr.shape[1])
        if y_width is None:
            y_width = width
        elif y_width != width:
            raise ValueError(
                "The target differs across chunks (present in some, absent in others, or with "
                "a different number of columns)."
            )
        if X.shape[0] == 0:
            continue
        part, codes = chunk_stats_codes(net, X, y_arr, offset, certify,
                                        row_label=row_label(offset, source))
        offset += X.shape[0]
        if keep_labels:
            label_parts.append((part.packed, codes))
        stack.append(part)
        # keep a logarithmic stack: merge while the newest level is as large as the one below
        while len(stack) > 1 and 2 * stack[-1].n_regions >= stack[-2].n_regions:
            top = stack.pop()
            stack[-1] = merge_stats([stack[-1], top])
    if not stack:
        raise ValueError("No rows to unwrap: the chunk iterator was empty.")
    stats = merge_stats(stack) if len(stack) > 1 else stack[0]
    regions, _rank = stats_to_regions(net, stats, feature_names=names)
    if keep_labels:
        lookup = PatternLookup(regions.packed_patterns)
        regions.labels = np.concatenate([lookup.lookup(p)[c] for p, c in label_parts])
    return regions


def _encoded_chunks(chunks: Iterable[Any], encode: Any, y: Any) -> Iterator[tuple]:
    """``(encoded X, y)`` for raw chunks: ``X``, ``(X, y)`` or DataFrames holding ``y``."""
    for item in chunks:
        y_chunk = None
        if isinstance(item, tuple) and len(item) == 2:
            if y is not None:
                raise ValueError("Give y either inside the (X, y) chunks or as y=, not both.")
            item, y_chunk = item
        elif y is not None and hasattr(item, "columns") and y in item.columns:
            y_chunk, item = item[y], item.drop(columns=[y])
        elif y is not None:
            raise ValueError(f"A chunk has no target column {y!r}.")
        if len(item) == 0:  # nothing to encode (unwrap_chunks skips empty chunks too)
            continue
        yield encode(item), y_chunk


def unwrap_file(
    net: Any,
    path: str | os.PathLike,
    y: str | None = None,
    *,
    chunk_size: int | None = None,
    columns: Sequence[str] | None = None,
    keep_labels: bool = False,
    certify: bool = True,
) -> Regions:
    """Unwrap the rows of a CSV or Parquet file, read ``chunk_size`` rows at a time.

    The feature columns are the network's feature names when it has them, else ``columns``,
    else every column but ``y``. See :func:`unwrap_chunks` for the other parameters.
    """
    model, net = net, as_network(net)
    step = check_chunk_size(chunk_size, net.default_chunk_size())
    if y is not None and not isinstance(y, str):
        raise TypeError("With a file, y must be the name of the target column.")
    cols = list(columns) if columns is not None else None
    if raw_row_encoder(model) is not None:  # the file holds raw columns: the model encodes
        raw_names = getattr(model, "feature_names_in_", None)
        if cols is None and raw_names is not None:
            cols = [str(c) for c in raw_names]
        net = model
    elif cols is None and net.feature_names is not None:
        cols = list(net.feature_names)
    if cols is not None and y is not None and y not in cols:
        cols = [*cols, y]
    return _unwrap_chunks(
        net, iter_file(path, chunk_size=step, columns=cols), y,
        keep_labels=keep_labels, certify=certify, source=os.path.basename(os.fspath(path)),
    )
