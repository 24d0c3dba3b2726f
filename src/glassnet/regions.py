"""Unwrapping: activation regions of a ReLU network and their exact local linear models.

The :class:`Regions` container, and the in-memory back-end of :func:`glassnet.unwrap`
(:func:`unwrap_in_memory`): it runs the network once over the rows (in chunks), packs each
row's activation pattern into bits, groups equal patterns with a hash table (no Python loop
over rows), and computes the local linear model (LLM) of every distinct pattern once, batched
over patterns. The streamed (:mod:`glassnet.streaming`) and Dask (:mod:`glassnet.dask`)
back-ends build the same :class:`Regions`; :mod:`glassnet.unwrap` picks one.

Region numbering
----------------
Regions are numbered 0..R-1 by decreasing number of rows. Ties are broken by the
lexicographic order of the activation pattern (neurons in network order, off before on),
so the numbering depends only on the data's pattern counts, not on row order or chunking.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from glassnet._engine import (  # re-exported: these names import from glassnet.regions too
    NonFiniteError,
    PatternLookup,
    certificate,
    factorize_patterns,
    group_sums,
    llm_outputs,
    packed_forward,
    pattern_words,
    raise_non_finite,
    region_order,
)
from glassnet._screen import screened_packed_forward
from glassnet._validation import check_y, feature_names_of
from glassnet.io import as_network, input_encoder
from glassnet.network import ReluNetwork

__all__ = [
    "TINY_REGION_SIZE",
    "TINY_SHARE_CAVEAT",
    "UNSEEN_SHARE_CAVEAT",
    "NonFiniteError",
    "PatternLookup",
    "Regions",
    "certificate",
    "factorize_patterns",
    "fragmentation_text",
    "local_models",
    "pattern_words",
    "raise_non_finite",
    "raw_row_encoder",
    "regions_from_stats",
    "region_order",
    "tiny_region_share",
    "unwrap_in_memory",
]

# ---------------------------------------------------------------------- Regions
class Regions:
    """The activation regions found in a data set, with their exact local linear models.

    Built by :func:`glassnet.unwrap`; see there. Regions are numbered by decreasing count.

    Attributes
    ----------
    network : ReluNetwork
    labels : ndarray of shape (n_samples,)
        Region index of every row passed to :func:`glassnet.unwrap` (None for a stream
        unwrapped without ``keep_labels``).
    counts : ndarray of shape (R,)
    packed_patterns : ndarray of shape (R, ceil(H / 8)) uint8
        Activation patterns packed with ``np.packbits(axis=1)``; see :attr:`patterns`.
    coef : ndarray of shape (R, n_outputs, n_features)
    intercept : ndarray of shape (R, n_outputs)
        Inside region ``r``: ``network.forward(x) = coef[r] @ x + intercept[r]``.
    max_abs_error : float
        Exactness certificate: the largest ``|LLM output - network output|`` over all rows
        and outputs, both computed in float64.
    representatives : ndarray of shape (R, n_features)
        The first row (in data order) of each region.
    pred_sum, pred_sumsq : ndarray of shape (R, n_outputs)
        Sum and sum of squares, per region, of the network's output after the link.
    y_sum, y_sumsq : ndarray of shape (R, n_targets) or None
        The same for the target, when ``y`` was given.
    feature_names : tuple of str
    """

    def __init__(
        self,
        network: ReluNetwork,
        *,
        labels: Any,
        counts: np.ndarray,
        packed_patterns: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        max_abs_error: float,
        representatives: np.ndarray,
        pred_sum: np.ndarray,
        pred_sumsq: np.ndarray,
        y_sum: np.ndarray | None = None,
        y_sumsq: np.ndarray | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        self.network = network
        self.labels = labels
        self.counts = np.asarray(counts, dtype=np.int64)
        self.packed_patterns = np.asarray(packed_patterns, dtype=np.uint8)
        self.coef = coef
        self.intercept = intercept
        self.max_abs_error = float(max_abs_error)
        self.representatives = representatives
        self.pred_sum = pred_sum
        self.pred_sumsq = pred_sumsq
        self.y_sum = y_sum
        self.y_sumsq = y_sumsq
        if feature_names is None:
            feature_names = network.feature_names or [f"x{j}" for j in range(network.n_features)]
        self.feature_names = tuple(str(f) for f in feature_names)
        self._lookup: PatternLookup | None = None

    # ------------------------------------------------------------------ sizes and stats
    def __len__(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_regions(self) -> int:
        return len(self)

    @property
    def n_samples(self) -> int:
        return int(self.counts.sum())

    @property
    def patterns(self) -> np.ndarray:
        """Activation patterns ``(R, H)`` bool (unpacked on each access)."""
        return np.unpackbits(self.packed_patterns, axis=1, count=self.network.n_hidden).astype(bool)

    @property
    def shares(self) -> np.ndarray:
        """Share of rows in each region."""
        return self.counts / max(self.n_samples, 1)

    def n_regions_covering(self, share: float = 0.95) -> int:
        """Smallest number of (largest) regions that together hold ``share`` of the rows."""
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1]; got {share}.")
        cum = np.cumsum(self.counts) / max(self.n_samples, 1)
        return int(np.searchsorted(cum, share - 1e-12) + 1)

    @property
    def pred_mean(self) -> np.ndarray:
        """Mean network output (after the link) per region, ``(R, n_outputs)``."""
        return self.pred_sum / self.counts[:, None]

    @property
    def pred_std(self) -> np.ndarray:
        return _std(self.pred_sum, self.pred_sumsq, self.counts)

    @property
    def y_mean(self) -> np.ndarray | None:
        """Mean target per region, ``(R, n_targets)``, or None without ``y``."""
        return None if self.y_sum is None else self.y_sum / self.counts[:, None]

    @property
    def y_std(self) -> np.ndarray | None:
        return None if self.y_sum is None else _std(self.y_sum, self.y_sumsq, self.counts)

    # ------------------------------------------------------------------ new rows
    def assign(self, X: Any) -> np.ndarray:
        """Region index of each row of ``X``, or ``-1`` where its pattern is not a region here."""
        X = self.network.check_input(X)
        packed, _ = packed_forward(self.network, X, None)
        if self._lookup is None:
            self._lookup = PatternLookup(self.packed_patterns)
        return self._lookup.lookup(packed)

    def local_models(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Exact local linear model of every row of ``X``.

        Computed from each row's own activation pattern, so rows whose pattern was never
        seen during :func:`glassnet.unwrap` get their exact model too (nothing is looked up by
        nearness).

        Returns
        -------
        coef : ndarray of shape (n, n_outputs, n_features)
        intercept : ndarray of shape (n, n_outputs)
        """
        return local_models(self.network, X)

    def predict_raw(self, X: Any) -> np.ndarray:
        """LLM outputs ``coef @ x + intercept`` for every row, ``(n, n_outputs)``.

        Equal to ``network.forward(X)`` up to float64 rounding.
        """
        X = self.network.check_input(X)
        coef, intercept = local_models(self.network, X)
        return np.einsum("nkd,nd->nk", coef, X) + intercept

    def predict_output(self, X: Any) -> np.ndarray:
        """LLM outputs after the network's link."""
        return self.network.apply_link(self.predict_raw(X))

    def to_frame(self) -> pd.DataFrame:
        """One row per region: size, share, mean prediction (and target), and the LLM.

        Coefficient columns are named ``coef_<feature>`` (with ``[output]`` appended for
        networks with several outputs).
        """
        k = self.network.n_outputs
        df = pd.DataFrame(
            {
                "region": np.arange(len(self)),
                "count": self.counts,
                "share": self.shares,
                "cum_share": np.cumsum(self.shares),
            }
        )
        out_sfx = [""] if k == 1 else [f"[{j}]" for j in range(k)]
        if self.y_sum is not None:
            ky = self.y_sum.shape[1]
            y_sfx = [""] if ky == 1 else [f"[{j}]" for j in range(ky)]
            for j, s in enumerate(y_sfx):
                df[f"y_mean{s}"] = self.y_mean[:, j]
                df[f"y_std{s}"] = self.y_std[:, j]
        cols: dict[str, np.ndarray] = {}
        for j, s in enumerate(out_sfx):
            cols[f"pred_mean{s}"] = self.pred_mean[:, j]
        for j, s in enumerate(out_sfx):
            cols[f"intercept{s}"] = self.intercept[:, j]
            for f, name in enumerate(self.feature_names):
                cols[f"coef_{name}{s}"] = self.coef[:, j, f]
        return pd.concat([df, pd.DataFrame(cols)], axis=1)

    # ------------------------------------------------------------------ analysis (glassnet.summary)
    def summary(self, X: Any, y: Any = None, task: str | None = None, top: int | None = None,
                min_count: int = 1, **kwargs: Any) -> pd.DataFrame:
        """Region summary table; see :func:`glassnet.summary.region_summary`."""
        from glassnet.summary import region_summary

        return region_summary(self, X, y, task=task, top=top, min_count=min_count, **kwargs)

    def feature_importance(self, X: Any = None, **kwargs: Any) -> pd.DataFrame:
        """Global feature importance; see :func:`glassnet.summary.feature_importance`."""
        from glassnet.summary import feature_importance

        return feature_importance(self, X, **kwargs)

    def local_contributions(self, X: Any, baseline: Any = None, **kwargs: Any) -> pd.DataFrame:
        """Exact per-row contributions; see :func:`glassnet.summary.local_contributions`."""
        from glassnet.summary import local_contributions

        return local_contributions(self, X, baseline, **kwargs)

    def inference(self, X: Any, y: Any, region: Any, **kwargs: Any) -> Any:
        """Wald inference of a refitted GLM; see :func:`glassnet.summary.region_inference`."""
        from glassnet.summary import region_inference

        return region_inference(self, X, y, region, **kwargs)

    def unseen_share(self, X: Any) -> float:
        """Share of the rows of ``X`` falling in regions none of these rows occupy.

        ``X`` is in the network's inputs (for an estimator with categorical columns, its
        ``transform_inputs``). 0.0 for no rows. Enters the fragmentation caveat of
        :func:`glassnet.fragmentation.fragmentation_caveat`.
        """
        labels = self.assign(X)
        return float(np.mean(labels < 0)) if labels.size else 0.0

    def _repr_html_(self) -> str:
        from glassnet._repr import repr_html

        return repr_html(self)

    def __repr__(self) -> str:
        text = (
            f"Regions({len(self)} regions over {self.n_samples} rows, "
            f"max_abs_error={self.max_abs_error:.3g})"
        )
        # from the stored counts only: the repr never runs the network again
        caveat = fragmentation_text(self.n_samples, len(self), tiny_region_share(self))
        return text if caveat is None else f"{text}\n{caveat}"


# ---------------------------------------------------------------------- fragmentation
# The thresholds and the sentence of the fragmentation caveat (glassnet.fragmentation
# explains them and adds the share of new rows in unseen regions). They live here, with the
# counts they read, so that ``Regions.__repr__`` states the caveat without reaching up to the
# analyses.
TINY_REGION_SIZE = 5
TINY_SHARE_CAVEAT = 0.5
UNSEEN_SHARE_CAVEAT = 0.2


def tiny_region_share(regions: Any, size: int = TINY_REGION_SIZE) -> float:
    """Share of the rows that sit in regions holding fewer than ``size`` rows.

    Parameters
    ----------
    regions : Regions
        Or any object with the ``counts`` of its regions.
    size : int
        Regions with fewer rows are tiny.

    Returns
    -------
    float
        0.0 when there are no rows.
    """
    counts = np.asarray(regions.counts)
    n = int(counts.sum())
    return float(counts[counts < size].sum() / n) if n else 0.0


def fragmentation_text(n_rows: int, n_regions: int, tiny_share: float, n_new: int = 0,
                       unseen_share: float = 0.0) -> str | None:
    """The fragmentation caveat from its figures: one sentence, or None below the thresholds.

    Parameters
    ----------
    n_rows, n_regions : int
        Rows the regions were built from, and how many regions they occupy.
    tiny_share : float
        :func:`tiny_region_share` of those rows; stated from ``TINY_SHARE_CAVEAT`` on.
    n_new : int
        Number of new rows (0: none given).
    unseen_share : float
        Share of the new rows in regions none of the ``n_rows`` occupy; stated from
        ``UNSEEN_SHARE_CAVEAT`` on.

    Returns
    -------
    str or None
    """
    parts = []
    if n_rows and tiny_share >= TINY_SHARE_CAVEAT:
        parts.append(
            f"{tiny_share:.1%} of the {n_rows:,} rows sit in regions of fewer than "
            f"{TINY_REGION_SIZE} rows ({n_regions:,} regions)"
        )
    if n_new and unseen_share >= UNSEEN_SHARE_CAVEAT:
        parts.append(
            f"{unseen_share:.1%} of the {n_new:,} new rows fall in regions never seen among "
            "these rows"
        )
    if not parts:
        return None
    return (
        "Fragmented: " + " and ".join(parts) + ", so these local models rest on one or a few "
        "rows each; explain with a merged model (glassnet.RegionMerger) or an L1-penalised "
        "network (glassnet.l1_path) instead."
    )


def _std(s: np.ndarray, ss: np.ndarray, n: np.ndarray) -> np.ndarray:
    n = n[:, None].astype(np.float64)
    var = np.maximum(ss / n - (s / n) ** 2, 0.0)
    return np.sqrt(var)


# ---------------------------------------------------------------------- engine
def regions_from_stats(net: ReluNetwork, stats: Any,
                       feature_names: Sequence[str] | None) -> Regions:
    """:class:`Regions` (``labels`` None) from pattern statistics already merged, in region
    order and holding their LLMs: the streamed and Dask back-ends' last step."""
    return Regions(
        net,
        labels=None,
        counts=stats.counts,
        packed_patterns=stats.packed,
        coef=stats.coef,
        intercept=stats.intercept,
        max_abs_error=stats.max_abs_error,
        representatives=stats.representatives,
        pred_sum=stats.pred_sum,
        pred_sumsq=stats.pred_sumsq,
        y_sum=stats.y_sum,
        y_sumsq=stats.y_sumsq,
        feature_names=feature_names,
    )


def local_models(net: ReluNetwork, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact LLM (coef ``(n, k, d)``, intercept ``(n, k)``) of every row of ``X``.

    Each distinct pattern among the rows is computed once.
    """
    X = net.check_input(X)
    packed, _ = packed_forward(net, X, None)
    codes, first = factorize_patterns(packed)
    coef, intercept = net.local_linear_models_packed(packed[first])
    return coef[codes], intercept[codes]


def raw_row_encoder(model: Any) -> Any:
    """The function turning raw rows into the network's (one-hot) inputs, or None: an
    estimator's ``transform_inputs`` when it has categorical columns, a pipeline's one-hot
    encoders (see :func:`glassnet.io.input_encoder`)."""
    if isinstance(model, ReluNetwork):
        return None
    if getattr(model, "feature_groups_", None):
        return model.transform_inputs
    return input_encoder(model)


def _encode_raw_rows(model: Any, X: Any) -> Any:
    """Raw rows -> the network's (one-hot) inputs (unchanged when the network reads raw rows)."""
    encode = raw_row_encoder(model)
    return X if encode is None else encode(X)


def unwrap_in_memory(
    net: Any,
    X: Any,
    y: Any = None,
    *,
    chunk_size: int | None = None,
    screen: bool = False,
    _threads: int = 1,
) -> Regions:
    """The in-memory back-end of :func:`glassnet.unwrap`: rows held in one array or DataFrame.

    :func:`glassnet.unwrap` dispatches here for arrays, DataFrames and nested lists; call it
    directly only to bypass the dispatch. Files, chunk iterators and Dask collections are
    refused with a ``TypeError`` saying to pass them to :func:`glassnet.unwrap`.

    Parameters
    ----------
    net : ReluNetwork, or a model :func:`glassnet.io.as_network` accepts
        (fitted scikit-learn MLP or pipeline, torch ``nn.Sequential``, glassnet estimator).
    X : array-like or DataFrame of shape (n_samples, n_features)
        Rows to unwrap. DataFrame column names are kept as feature names (and matched by
        name with a named network). Raw rows of a model that one-hot encodes its inputs are
        encoded by the model first (:func:`raw_row_encoder`).
    y : array-like of shape (n_samples,) or (n_samples, n_targets), optional
        Numeric target; its mean and spread per region are recorded.
    chunk_size : int, optional
        Rows per chunk of the certificate and an upper bound on the forward pass's steps
        (which the engine keeps small enough to stay in the CPU cache; see
        docs/unwrapping.md). Default: about 32 MB of activations per chunk. The result does
        not depend on it, except that BLAS may round a pre-activation
        within a few ulps of zero differently for another chunk length.
    screen : bool, default False
        Compute the pre-activations in float32 and recompute in float64 only the rows
        where one lies within a rigorous rounding-error bound of zero (see
        docs/unwrapping.md): patterns and LLMs are identical to float64. The network
        outputs behind ``pred_sum`` then come from the exact LLMs, and
        ``max_abs_error`` is certified on the rows that were run in float64 (the
        recomputed rows and every region's representative) instead of all rows.
    _threads : int, default 1
        Internal (not passed through :func:`glassnet.unwrap`): threads for the float64
        forward pass (not with ``screen``), each on whole steps of rows, the same result bit
        for bit; for callers that hold BLAS to one thread (the merger, whose folds then take
        every core).

    Returns
    -------
    Regions
        With ``labels`` of every row.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> from glassnet.regions import unwrap_in_memory
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> regions = unwrap_in_memory(net, np.array([[1.0, 2.0], [3.0, -1.0], [-1.0, -1.0]]))
    >>> len(regions), regions.counts.tolist()
    (3, [1, 1, 1])
    >>> regions.coef[regions.labels[0]]
    array([[1., 1.]])
    """
    if isinstance(X, (str, os.PathLike, Iterator)):
        # read as an array, a path would fail as "non-numeric values": say what it is
        raise TypeError(
            f"X is a {type(X).__name__} (a file path or an iterator of chunks): this in-memory "
            "back-end takes arrays and DataFrames; pass it to glassnet.unwrap, which streams it."
        )
    X = _encode_raw_rows(net, X)
    net = as_network(net)
    names = feature_names_of(X) if net.feature_names is None else list(net.feature_names)
    X = net.check_input(X)
    n = X.shape[0]
    y_arr = None
    if y is not None:
        y_arr = check_y(y, n)
        if y_arr.ndim == 1:
            y_arr = y_arr[:, None]

    if screen:
        packed, cert_rows, cert_out = screened_packed_forward(net, X, chunk_size)
    else:
        packed, out = packed_forward(net, X, chunk_size, threads=_threads)
    codes, first = factorize_patterns(packed)
    R = first.shape[0]
    counts = np.bincount(codes, minlength=R)
    order = region_order(packed[first], counts)
    rank = np.empty(R, dtype=np.int64)
    rank[order] = np.arange(R)
    labels = rank[codes]
    first = first[order]
    counts = counts[order]
    packed_u = packed[first]
    del packed, codes

    coef, intercept = net.local_linear_models_packed(packed_u)
    step = chunk_size or net.default_chunk_size()
    if screen:
        out = llm_outputs(X, labels, coef, intercept, step)
        # certify on every row run in float64: the recomputed ones and the representatives
        rows = np.concatenate([cert_rows, first])
        # one representative per region: chunked (every row its own region makes this X),
        # an overflow named by the row's place in X
        _, rep_out = packed_forward(net, X[first], chunk_size,
                                    row_label=lambda i: f"row {int(first[i])}")
        ref = np.concatenate([cert_out, rep_out])
        max_err = certificate(X[rows], ref, labels[rows], coef, intercept, step)
    else:
        max_err = certificate(X, out, labels, coef, intercept, step)
    pred = net.apply_link(out)
    pred_sum, pred_sumsq = group_sums(labels, pred, R)
    y_sum = y_sumsq = None
    if y_arr is not None:
        y_sum, y_sumsq = group_sums(labels, y_arr, R)
    return Regions(
        net,
        labels=labels,
        counts=counts,
        packed_patterns=packed_u,
        coef=coef,
        intercept=intercept,
        max_abs_error=max_err,
        representatives=X[first].copy(),
        pred_sum=pred_sum,
        pred_sumsq=pred_sumsq,
        y_sum=y_sum,
        y_sumsq=y_sumsq,
        feature_names=names,
    )


# The first release's import path of the in-memory back-end, kept so that user code written
# against it runs; nothing in glassnet uses it (the public ``glassnet.unwrap``, unwrap.py,
# dispatches over every back-end).
unwrap = unwrap_in_memory
