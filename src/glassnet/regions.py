"""Unwrapping: activation regions of a ReLU network and their exact local linear models.

:func:`unwrap` runs the network once over the rows (in chunks), packs each row's activation
pattern into bits, groups equal patterns with a hash table (no Python loop over rows), and
computes the local linear model (LLM) of every distinct pattern once, batched over
patterns. The result is a :class:`Regions` object.

Region numbering
----------------
Regions are numbered 0..R-1 by decreasing number of rows. Ties are broken by the
lexicographic order of the activation pattern (neurons in network order, off before on),
so the numbering depends only on the data's pattern counts, not on row order or chunking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from glassnet._validation import check_chunk_size, check_y, feature_names_of
from glassnet.network import ReluNetwork

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


# ---------------------------------------------------------------------- pattern grouping
def pattern_words(packed: np.ndarray) -> np.ndarray:
    """View packed patterns ``(n, B)`` uint8 as ``(n, W)`` uint64 words.

    Bytes are read big-endian, so comparing words in order compares the patterns
    lexicographically (first neuron most significant).
    """
    packed = np.ascontiguousarray(packed, dtype=np.uint8)
    n, B = packed.shape
    W = -(-B // 8)
    if B != 8 * W:
        padded = np.zeros((n, 8 * W), dtype=np.uint8)
        padded[:, :B] = packed
        packed = padded
    return packed.view(">u8").astype(np.uint64).reshape(n, W)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: every input bit affects every output bit."""
    x = x ^ (x >> np.uint64(30))
    x *= _MIX1
    x ^= x >> np.uint64(27)
    x *= _MIX2
    x ^= x >> np.uint64(31)
    return x


def _hash_words(words: np.ndarray) -> np.ndarray:
    """64-bit hash of each row of words; each word is mixed on its own before combining.

    Mixing every word first matters: patterns that differ in one word only must not
    cancel out. Collisions remain possible and are handled by the callers' exact checks.
    """
    with np.errstate(over="ignore"):
        h = _mix(words[:, 0] + _GOLDEN)
        for j in range(1, words.shape[1]):
            h = _mix(h ^ _mix(words[:, j] + _GOLDEN * np.uint64(j + 1)))
    return h


def factorize_patterns(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal packed patterns.

    Returns ``codes`` (n,) with values 0..R-1 in order of first appearance and ``first``
    (R,), the row index where each distinct pattern first occurs. Exact: patterns are
    grouped by a 64-bit hash, then every row is compared word by word with its group's
    first row; on a hash collision the grouping falls back to an exact sort.
    """
    n = packed.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    words = pattern_words(packed)
    if words.shape[1] == 0:
        return np.zeros(n, dtype=np.int64), np.zeros(1, dtype=np.int64)
    key = words[:, 0] if words.shape[1] == 1 else _hash_words(words)
    codes, _ = pd.factorize(key, sort=False)
    codes = codes.astype(np.int64, copy=False)
    running = np.maximum.accumulate(codes)
    is_first = np.empty(n, dtype=bool)
    is_first[0] = True
    np.greater(running[1:], running[:-1], out=is_first[1:])
    first = np.flatnonzero(is_first)
    if words.shape[1] > 1 and not np.array_equal(words, words[first[codes]]):
        return _factorize_exact(words)
    return codes, first


def _factorize_exact(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact grouping by sorting, used only after a hash collision."""
    void = np.ascontiguousarray(words).view(np.dtype((np.void, words.shape[1] * 8))).ravel()
    _, first_sorted, inverse = np.unique(void, return_index=True, return_inverse=True)
    # renumber groups by first appearance, as the hash path does
    order = np.argsort(first_sorted, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[inverse.ravel()].astype(np.int64), first_sorted[order].astype(np.int64)


def region_order(packed_unique: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Permutation sorting regions by decreasing count, ties by lexicographic pattern."""
    words = pattern_words(packed_unique)
    keys = [words[:, j] for j in range(words.shape[1] - 1, -1, -1)]
    return np.lexsort((*keys, -np.asarray(counts, dtype=np.int64)))


class PatternLookup:
    """Find rows' packed patterns among a fixed table of patterns (``-1`` when absent)."""

    def __init__(self, packed_table: np.ndarray) -> None:
        self._words = pattern_words(packed_table)
        self._n = packed_table.shape[0]
        if self._words.shape[1] == 0:
            self._index = None
            return
        keys = self._key(self._words)
        index = pd.Index(keys)
        self._index = index if index.is_unique else None
        if self._index is None:  # hash collision inside the table: exact dictionary
            self._dict = {w.tobytes(): i for i, w in enumerate(self._words)}

    @staticmethod
    def _key(words: np.ndarray) -> np.ndarray:
        return words[:, 0] if words.shape[1] == 1 else _hash_words(words)

    def lookup(self, packed: np.ndarray) -> np.ndarray:
        words = pattern_words(packed)
        n = words.shape[0]
        if words.shape[1] == 0:
            return np.zeros(n, dtype=np.int64) if self._n else np.full(n, -1, dtype=np.int64)
        if self._index is None:
            return np.array([self._dict.get(w.tobytes(), -1) for w in words], dtype=np.int64)
        idx = self._index.get_indexer(self._key(words)).astype(np.int64)
        found = idx >= 0
        same = np.zeros(n, dtype=bool)
        same[found] = (self._words[idx[found]] == words[found]).all(axis=1)
        idx[~same] = -1
        return idx


# ---------------------------------------------------------------------- Regions
class Regions:
    """The activation regions found in a data set, with their exact local linear models.

    Built by :func:`unwrap`; see there. Regions are numbered by decreasing count.

    Attributes
    ----------
    network : ReluNetwork
    labels : ndarray of shape (n_samples,)
        Region index of every row passed to :func:`unwrap`.
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
        packed, _ = _packed_forward(self.network, X, None)
        if self._lookup is None:
            self._lookup = PatternLookup(self.packed_patterns)
        return self._lookup.lookup(packed)

    def local_models(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Exact local linear model of every row of ``X``.

        Computed from each row's own activation pattern, so rows whose pattern was never
        seen during :func:`unwrap` get their exact model too (nothing is looked up by
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
        """Share of the rows of ``X`` falling in regions none of these rows occupy."""
        from glassnet.fragmentation import unseen_share

        return unseen_share(self, X)

    def _repr_html_(self) -> str:
        from glassnet._repr import repr_html

        return repr_html(self)

    def __repr__(self) -> str:
        from glassnet.fragmentation import fragmentation_caveat

        text = (
            f"Regions({len(self)} regions over {self.n_samples} rows, "
            f"max_abs_error={self.max_abs_error:.3g})"
        )
        caveat = fragmentation_caveat(self)
        return text if caveat is None else f"{text}\n{caveat}"


def _std(s: np.ndarray, ss: np.ndarray, n: np.ndarray) -> np.ndarray:
    n = n[:, None].astype(np.float64)
    var = np.maximum(ss / n - (s / n) ** 2, 0.0)
    return np.sqrt(var)


# ---------------------------------------------------------------------- engine
def _packed_forward(
    net: ReluNetwork, X: np.ndarray, chunk_size: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Chunked forward pass returning packed patterns ``(n, B)`` and raw outputs ``(n, k)``."""
    n = X.shape[0]
    step = check_chunk_size(chunk_size, net.default_chunk_size())
    H = net.n_hidden
    packed = np.empty((n, -(-H // 8)), dtype=np.uint8)
    out = np.empty((n, net.n_outputs))
    buf = np.empty((min(step, n), H), dtype=bool)
    for s in range(0, n, step):
        e = min(s + step, n)
        pat = buf[: e - s]
        with np.errstate(over="ignore", invalid="ignore"):
            out[s:e] = net._forward_chunk(X[s:e], pat)
        if not np.isfinite(out[s:e]).all():
            raise_non_finite(net, X[s:e], out[s:e], s)
        packed[s:e] = np.packbits(pat, axis=1)
    return packed, out


class NonFiniteError(ValueError):
    """The network's output (or an exact local linear model) is not finite in float64."""


def raise_non_finite(net: ReluNetwork, X: np.ndarray, out: np.ndarray, offset: int) -> None:
    """Raise :class:`NonFiniteError` naming the first row and the layer that overflowed.

    Finite weights can still overflow float64 in their products (weights of 1e200 in
    two layers); a certificate computed over such outputs would compare inf with inf and
    claim exactness, so unwrapping refuses instead.
    """
    bad = np.flatnonzero(~np.isfinite(out).all(axis=1))[0]
    a = X[bad : bad + 1]
    L = len(net.weights) - 1
    where = f"the output layer (weights[{L}])"
    with np.errstate(over="ignore", invalid="ignore"):
        for i, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = a @ W.T + b
            if not np.isfinite(z).all():
                where = (f"hidden layer {i + 1} (weights[{i}])" if i < L
                         else f"the output layer (weights[{L}])")
                break
            a = np.maximum(z, 0.0)
    raise NonFiniteError(
        f"The network output of row {offset + bad} is not finite: values overflow float64 "
        f"first in {where}. Exact local linear models and their certificate do not exist "
        "there; rescale the weights or the inputs (the activation regions do not change "
        "when a whole layer is multiplied by a positive constant)."
    )


def local_models(net: ReluNetwork, X: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact LLM (coef ``(n, k, d)``, intercept ``(n, k)``) of every row of ``X``.

    Each distinct pattern among the rows is computed once.
    """
    X = net.check_input(X)
    packed, _ = _packed_forward(net, X, None)
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
    from glassnet.io import input_encoder

    return input_encoder(model)


def _encode_raw_rows(model: Any, X: Any) -> Any:
    """Raw rows -> the network's (one-hot) inputs (unchanged when the network reads raw rows)."""
    encode = raw_row_encoder(model)
    return X if encode is None else encode(X)


def _as_network(model: Any) -> ReluNetwork:
    if isinstance(model, ReluNetwork):
        return model
    from glassnet.io import as_network

    return as_network(model)


def unwrap(
    net: Any,
    X: Any,
    y: Any = None,
    *,
    chunk_size: int | None = None,
    screen: bool = False,
) -> Regions:
    """Find the activation regions of ``net`` on the rows of ``X`` and their exact LLMs.

    Parameters
    ----------
    net : ReluNetwork, or a model :func:`glassnet.io.as_network` accepts
        (fitted scikit-learn MLP, torch ``nn.Sequential``, glassnet estimator).
    X : array-like or DataFrame of shape (n_samples, n_features), or a stream
        Rows to unwrap. DataFrame column names are kept as feature names. Also accepted,
        with memory independent of the number of rows (see :mod:`glassnet.streaming`): an
        iterator of chunks (arrays, DataFrames or ``(X, y)`` tuples) or the path of a
        CSV/Parquet file, for which ``labels`` is None; and a ``dask.array.Array`` or
        ``dask.dataframe.DataFrame``, handed to :func:`glassnet.dask.unwrap`.
    y : array-like of shape (n_samples,) or (n_samples, n_targets), optional
        Numeric target; its mean and spread per region are recorded. For a file or
        DataFrame chunks, the name of the target column.
    chunk_size : int, optional
        Rows per chunk (default: about 32 MB of activations per chunk). The result does
        not depend on it, except that BLAS may round a pre-activation within a few ulps of
        zero differently for another chunk length.
    screen : bool, default False
        Compute the pre-activations in float32 and recompute in float64 only the rows
        where one lies within a rigorous rounding-error bound of zero (see
        docs/unwrapping.md): patterns and LLMs are identical to float64. The network
        outputs behind ``pred_sum`` then come from the exact LLMs, and
        ``max_abs_error`` is certified on the rows that were run in float64 (the
        recomputed rows and every region's representative) instead of all rows.
        In-memory arrays only (streams and Dask ignore it).

    Returns
    -------
    Regions

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, unwrap
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> regions = unwrap(net, np.array([[1.0, 2.0], [3.0, -1.0], [-1.0, -1.0]]))
    >>> len(regions), regions.counts.tolist()
    (3, [1, 1, 1])
    >>> regions.coef[regions.labels[0]]
    array([[1., 1.]])
    """
    from glassnet.streaming import is_streamed

    if is_streamed(X):
        from glassnet.streaming import unwrap_streamed

        return unwrap_streamed(net, X, y, chunk_size=chunk_size)
    X = _encode_raw_rows(net, X)
    net = _as_network(net)
    names = feature_names_of(X) if net.feature_names is None else list(net.feature_names)
    X = net.check_input(X)
    n = X.shape[0]
    y_arr = None
    if y is not None:
        y_arr = check_y(y, n)
        if y_arr.ndim == 1:
            y_arr = y_arr[:, None]

    if screen:
        from glassnet._engine import screened_packed_forward

        packed, cert_rows, cert_out = screened_packed_forward(net, X, chunk_size)
    else:
        packed, out = _packed_forward(net, X, chunk_size)
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
        from glassnet._engine import llm_outputs

        out = llm_outputs(X, labels, coef, intercept, step)
        # certify on every row run in float64: the recomputed ones and the representatives
        rows = np.concatenate([cert_rows, first])
        with np.errstate(over="ignore", invalid="ignore"):
            ref = np.concatenate([cert_out, net._forward_chunk(X[first])])
        if not np.isfinite(ref).all():
            raise_non_finite(net, X[rows], ref, 0)
        max_err = certificate(X[rows], ref, labels[rows], coef, intercept, step)
    else:
        max_err = certificate(X, out, labels, coef, intercept, step)
    pred = net.apply_link(out)
    pred_sum, pred_sumsq = _group_sums(labels, pred, R)
    y_sum = y_sumsq = None
    if y_arr is not None:
        y_sum, y_sumsq = _group_sums(labels, y_arr, R)
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


def certificate(
    X: np.ndarray,
    out: np.ndarray,
    labels: np.ndarray,
    coef: np.ndarray,
    intercept: np.ndarray,
    chunk_size: int,
) -> float:
    """Largest ``|coef[label] @ x + intercept[label] - out|`` over rows and outputs.

    NaN/inf aware: a non-finite network output, local linear model or difference raises
    :class:`NonFiniteError` (naming the row and region) instead of being lost in a ``max``,
    so a certificate is either a finite bound over every row or an error.
    """
    err = 0.0
    for s in range(0, X.shape[0], chunk_size):
        lab = labels[s : s + chunk_size]
        with np.errstate(over="ignore", invalid="ignore"):
            llm = np.einsum("nkd,nd->nk", coef[lab], X[s : s + chunk_size])
            llm += intercept[lab]
            llm -= out[s : s + chunk_size]
        if not llm.size:
            continue
        diff = np.abs(llm)
        if not np.isfinite(diff).all():
            row = int(np.flatnonzero(~np.isfinite(diff).all(axis=1))[0])
            what = ("network output" if not np.isfinite(out[s + row]).all()
                    else "local linear model")
            raise NonFiniteError(
                f"The certificate is not finite at row {s + row} (region {int(lab[row])}): "
                f"its {what} overflows float64 (products of the weight matrices exceed "
                "1.8e308). Rescale the weights or the inputs."
            )
        err = max(err, float(diff.max()))
    return err


def _group_sums(labels: np.ndarray, values: np.ndarray, R: int) -> tuple[np.ndarray, np.ndarray]:
    s = np.empty((R, values.shape[1]))
    ss = np.empty((R, values.shape[1]))
    for j in range(values.shape[1]):
        s[:, j] = np.bincount(labels, weights=values[:, j], minlength=R)
        ss[:, j] = np.bincount(labels, weights=values[:, j] ** 2, minlength=R)
    return s, ss
