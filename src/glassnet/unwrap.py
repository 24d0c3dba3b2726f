"""The public :func:`unwrap`: one entry point over three peer back-ends.

The back-ends share the engine (:mod:`glassnet._engine`) and build the same
:class:`~glassnet.regions.Regions`; this module only decides which one gets the rows, from
the type of ``X`` (:func:`backend_of`):

* ``"memory"``: a NumPy array, a DataFrame, a nested list, any object with ``__array__``
  (and ``None`` or a SciPy sparse matrix, refused there by name) ->
  :func:`glassnet.regions.unwrap_in_memory`;
* ``"file"``: a ``str`` or ``os.PathLike`` naming a CSV or Parquet file ->
  :func:`glassnet.streaming.unwrap_file`;
* ``"chunks"``: an iterator of chunks (a generator, ``iter(list_of_arrays)``,
  ``pandas.read_csv(path, chunksize=n)``) -> :func:`glassnet.streaming.unwrap_chunks`;
* ``"dask"``: a ``dask.array.Array`` or ``dask.dataframe.DataFrame`` ->
  :func:`glassnet.dask.unwrap` (dask, an optional extra, is imported only then).

Anything else (a dict, a set, bytes, a number, a model passed as data) is refused with a
``TypeError`` that lists what is accepted. A *list* of chunks is read as one nested array, as
NumPy would; pass ``iter(chunks)`` to stream it.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import Any

from glassnet._validation import feature_names_of
from glassnet.regions import Regions, unwrap_in_memory
from glassnet.streaming import unwrap_chunks, unwrap_file

__all__ = ["BACKENDS", "backend_of", "unwrap"]

#: The back-ends, in the order :func:`backend_of` tries them.
BACKENDS = ("dask", "file", "chunks", "memory")

_ACCEPTED = (
    "a 2-D NumPy array or array-like, a pandas DataFrame, a CSV/Parquet path (str or "
    "os.PathLike), an iterator of chunks (arrays, DataFrames or (X, y) tuples), or a Dask "
    "array/DataFrame"
)


def _is_dask(X: Any) -> bool:
    # by module name, so that dask (an optional extra) is imported only when X is one of its
    # collections (dask-expr's DataFrames live in ``dask_expr`` in some releases)
    return type(X).__module__.split(".")[0] in ("dask", "dask_expr")


def _in_memory(X: Any) -> bool:
    """Whether ``X`` is something the in-memory back-end reads (or refuses by name itself)."""
    if X is None:  # check_X says "X is None; pass a 2-D array..." (a ValueError, as before)
        return True
    if isinstance(X, (Mapping, Set, bytes, bytearray)):
        return False
    return (
        isinstance(X, Sequence)
        or any(hasattr(X, a) for a in ("__array__", "__array_interface__", "__array_struct__"))
        or feature_names_of(X) is not None  # DataFrame-like
        or type(X).__module__.startswith("scipy.sparse")  # refused by name there
    )


def backend_of(X: Any) -> str:
    """Which back-end :func:`unwrap` hands ``X`` to: one of :data:`BACKENDS`.

    Parameters
    ----------
    X : object
        What would be passed to :func:`unwrap` as ``X``.

    Returns
    -------
    str
        ``"dask"``, ``"file"``, ``"chunks"`` or ``"memory"``.

    Raises
    ------
    TypeError
        When ``X`` is none of the accepted kinds; the message lists them.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.unwrap import backend_of
    >>> backend_of(np.zeros((2, 3))), backend_of("rows.csv"), backend_of(iter([]))
    ('memory', 'file', 'chunks')
    """
    if _is_dask(X):
        return "dask"
    if isinstance(X, (str, os.PathLike)):
        return "file"
    if isinstance(X, Iterator):
        return "chunks"
    if _in_memory(X):
        return "memory"
    hint = ""
    if isinstance(X, (bytes, bytearray)):
        hint = " (a path given as bytes: decode it with os.fsdecode)"
    elif isinstance(X, Mapping):
        hint = " (a dict of columns: wrap it in pandas.DataFrame)"
    raise TypeError(f"X is a {type(X).__name__}{hint}; unwrap accepts {_ACCEPTED}.")


def _backend_function(backend: str) -> Callable[..., Regions]:
    if backend == "dask":
        from glassnet.dask import unwrap as dask_unwrap  # the optional extra, loaded only now

        return dask_unwrap
    return {"file": unwrap_file, "chunks": unwrap_chunks, "memory": unwrap_in_memory}[backend]


def _extra_keywords(function: Callable[..., Regions]) -> list[str]:
    """The keyword-only options of a back-end that :func:`unwrap` passes through (not its
    internal ones, named with a leading underscore)."""
    params = inspect.signature(function).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY
            and p.name not in ("chunk_size", "screen") and not p.name.startswith("_")]


def unwrap(
    net: Any,
    X: Any,
    y: Any = None,
    *,
    chunk_size: int | None = None,
    screen: bool = False,
    **options: Any,
) -> Regions:
    """Find the activation regions of ``net`` on the rows of ``X`` and their exact LLMs.

    The back-end is chosen from the type of ``X`` (see :mod:`glassnet.unwrap` and
    :func:`backend_of`): rows in memory, a CSV/Parquet file or an iterator of chunks
    (streamed, memory independent of the number of rows), or a Dask collection. Every
    back-end returns the same :class:`~glassnet.Regions` for the same rows: same regions,
    numbering, counts, representatives and LLMs; sums agree up to float64 summation order.

    Parameters
    ----------
    net : ReluNetwork, or a model :func:`glassnet.io.as_network` accepts
        (fitted scikit-learn MLP or pipeline, torch ``nn.Sequential``, glassnet estimator).
    X : array-like, DataFrame, path, iterator of chunks, or Dask collection
        Rows to unwrap, of shape (n_samples, n_features). DataFrame column names are kept
        as feature names (and matched by name with a named network). A path names a
        CSV/Parquet file, read ``chunk_size`` rows at a time; an iterator yields arrays,
        DataFrames or ``(X, y)`` tuples; a ``dask.array.Array`` or
        ``dask.dataframe.DataFrame`` is unwrapped on the active Dask scheduler. For a file
        or an iterator, ``labels`` is None unless ``keep_labels=True``.
    y : array-like of shape (n_samples,) or (n_samples, n_targets), or str, optional
        Numeric target; its mean and spread per region are recorded. For a file, DataFrame
        chunks or a Dask DataFrame, the name of the target column.
    chunk_size : int, optional
        In memory, rows per chunk of the certificate and an upper bound on the forward
        pass's steps (which the engine keeps small enough to stay in the CPU cache; see
        docs/unwrapping.md); for a file, rows per read. Default: about 32 MB of activations
        per chunk. Ignored for iterators and Dask collections, whose chunks are given. The
        result does not depend on it, except that BLAS may round a pre-activation within a
        few ulps of zero differently for another chunk length.
    screen : bool, default False
        Float32 screening of the forward pass (see docs/unwrapping.md): patterns and LLMs
        identical to float64, ``max_abs_error`` certified on the rows run in float64. Rows
        in memory only (the other back-ends ignore it).
    **options
        Extra keywords of the chosen back-end, passed on unchanged:

        * file: ``columns`` (the feature columns to read), ``keep_labels``, ``certify``
          (see :func:`glassnet.streaming.unwrap_file`);
        * chunks: ``keep_labels`` (keep each row's region, 8 bytes a row), ``certify``
          (check exactness chunk by chunk; NaN when False) (see
          :func:`glassnet.streaming.unwrap_chunks`);
        * dask: ``certify``, ``partitions``, ``split_every`` (see
          :func:`glassnet.dask.unwrap`);
        * memory: none.

    Returns
    -------
    Regions

    Raises
    ------
    TypeError
        If ``X`` is none of the accepted kinds, or an option is not one of the chosen
        back-end's (the message names the back-end and its options). The back-ends raise
        ``ValueError``/``TypeError`` for bad rows (NaN, wrong shape or columns, empty).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, unwrap
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0], [-1.0, -1.0]])
    >>> regions = unwrap(net, X)
    >>> len(regions), regions.counts.tolist()
    (3, [1, 1, 1])
    >>> regions.coef[regions.labels[0]]
    array([[1., 1.]])

    The same rows as a stream of chunks give the same regions:

    >>> streamed = unwrap(net, iter([X[:2], X[2:]]), keep_labels=True)
    >>> streamed.labels.tolist() == regions.labels.tolist()
    True
    """
    backend = backend_of(X)
    function = _backend_function(backend)
    allowed = _extra_keywords(function)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) if allowed else "no extra keywords"
        raise TypeError(
            f"unwrap() got keyword(s) {', '.join(map(repr, unknown))} that the {backend} "
            f"back-end ({function.__module__}.{function.__name__}) does not take; it takes: "
            f"{takes}."
        )
    if backend == "memory":
        return function(net, X, y, chunk_size=chunk_size, screen=screen)
    if backend == "file":
        return function(net, X, y, chunk_size=chunk_size, **options)
    return function(net, X, y, **options)
