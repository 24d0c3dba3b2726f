"""Monitoring a network after it ships, through its own activation regions.

:func:`region_stability` compares new rows with the reference rows the model was built on:

* the population stability index (PSI) of every feature and of the model's score;
* the PSI over the model's activation regions (the largest regions one by one, the other
  reference regions together, and the rare regions: patterns that hold at most one reference
  row, including those never seen), and over merged regions when a fitted merger is given:
  a shift of
  rows between regions means the model now applies other local linear models than it did
  when validated, even when no single feature moved much;
* the share of new rows in unseen regions, against the share expected with no shift (the
  Good-Turing estimate: reference patterns seen once, divided by the reference rows);
* with outcomes, the back-tested event rate (or error) per region against the reference.

PSI = Σ_b (a_b − e_b) ln(a_b / e_b) over bins with reference shares e_b and new shares a_b
(see :func:`glassnet._metrics.psi_from_counts` for the empty-bin rule). The usual reading:
below 0.1 stable, 0.1 to 0.25 watch, above 0.25 act; ``thresholds`` changes it.

Both data sets can be arrays, DataFrames or paths to CSV/Parquet files; files are read in
chunks of ``chunk_size`` rows (twice for the reference: once for the bin edges and region
counts, once for the binned counts), so they may be larger than memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from glassnet import _metrics
from glassnet._engine import packed_forward
from glassnet.network import ReluNetwork
from glassnet.regions import PatternLookup, Regions, region_order

__all__ = ["StabilityResult", "region_stability", "psi_status"]

DEFAULT_THRESHOLDS = (0.1, 0.25)


def psi_status(value: float, thresholds: tuple[float, float] = DEFAULT_THRESHOLDS) -> str:
    """``"stable"``, ``"watch"`` or ``"act"`` for a PSI value (NaN: ``"n/a"``)."""
    if not np.isfinite(value):
        return "n/a"
    return "stable" if value < thresholds[0] else ("watch" if value <= thresholds[1] else "act")


@dataclass
class StabilityResult:
    """What :func:`region_stability` found.

    Attributes
    ----------
    summary : DataFrame
        One row per check (``check``, ``value``, ``status``, ``detail``): score PSI,
        region PSI (raw, merged), unseen-region share, largest feature PSI, outcomes.
    features : DataFrame
        PSI per feature with its status, largest first.
    regions : DataFrame
        Per region bucket: reference and new counts and shares, PSI term and, with
        outcomes, mean score and observed outcome in both data sets.
    merged : DataFrame or None
        The same per merged region (when a merger was passed).
    score_bins : DataFrame
        Reference and new shares per score bin.
    thresholds : tuple of float
    settings : dict
        Rows read, bins, sample sizes and seeds, so the report can state them; also the
        unseen share expected with no shift (``"unseen share expected"``, Good-Turing) and
        how many standard errors the new rows' share lies above it (``"unseen share z"``).
    """

    summary: pd.DataFrame
    features: pd.DataFrame
    regions: pd.DataFrame
    score_bins: pd.DataFrame
    merged: pd.DataFrame | None
    thresholds: tuple[float, float]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The worst status over all checks."""
        order = {"n/a": 0, "stable": 1, "watch": 2, "act": 3}
        worst = max(self.summary["status"], key=lambda s: order.get(s, 0), default="n/a")
        return str(worst)

    @property
    def flagged(self) -> bool:
        """True when any check says ``act``."""
        return self.status == "act"

    def plot(self, ax: Any = None):
        """Feature and region PSI as bars against the thresholds (a StabilityDisplay)."""
        from glassnet.plotting.monitor import StabilityDisplay

        return StabilityDisplay.from_result(self, ax=ax)

    def _repr_html_(self) -> str:
        from glassnet._repr import html_summary

        return html_summary(f"Region stability: {self.status}",
                            self.summary[["check", "value", "status"]]
                            .assign(check=lambda d: d["check"] + " (" + d["status"] + ")"))


# ---------------------------------------------------------------------- sources
def _network_and_regions(model: Any) -> tuple[ReluNetwork, Regions | None]:
    if isinstance(model, Regions):
        return model.network, model
    if isinstance(model, ReluNetwork):
        return model, None
    from glassnet.io import as_network

    return as_network(model), None


def _chunks(net: ReluNetwork, data: Any, y: Any, target: str | None, chunk_size: int,
            name: str, transform: Callable[[Any], Any] | None = None,
            ) -> Callable[[], Iterator[tuple[np.ndarray, np.ndarray | None]]]:
    """A function returning a fresh iterator of validated ``(X, y)`` chunks."""
    if isinstance(data, (str, os.PathLike)):
        from glassnet.streaming import iter_file, split_chunk

        if y is not None:
            raise ValueError(f"{name} is a file: name its target column with target=, not y.")

        def from_file() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
            for item in iter_file(data, chunk_size=chunk_size):
                # the outcome column is optional per file (new rows often have none yet)
                tgt = target if target is not None and target in item.columns else None
                if transform is not None:
                    yc = None if tgt is None else item[tgt]
                    item = transform(item.drop(columns=[tgt]) if tgt else item)
                    if tgt is not None:
                        item = item.assign(**{tgt: yc.to_numpy()})
                if net.feature_names is not None:
                    keep = list(net.feature_names) + ([tgt] if tgt else [])
                    missing = [c for c in keep if c not in item.columns]
                    if missing:
                        raise ValueError(f"{name} lacks the model's columns {missing[:5]}.")
                    item = item[keep]
                Xc, yc, _ = split_chunk(net, item, tgt)
                yield Xc, (None if yc is None else np.asarray(yc).reshape(len(Xc), -1)[:, 0])
        return from_file
    if hasattr(data, "columns") and net.feature_names is not None:
        missing = [c for c in net.feature_names if c not in data.columns]
        if missing:
            raise ValueError(f"{name} lacks the model's columns {missing[:5]}.")
        data = data[list(net.feature_names)]
    X = net.check_input(data)
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows.")
    yv = None
    if y is not None:
        yv = np.asarray(y)
        if yv.ndim != 1 or yv.shape[0] != X.shape[0]:
            raise ValueError(f"y for {name} must have shape ({X.shape[0]},); got {yv.shape}.")

    def from_array() -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        for s in range(0, X.shape[0], chunk_size):
            yield X[s:s + chunk_size], None if yv is None else yv[s:s + chunk_size]
    return from_array


def _numeric_y(y: np.ndarray) -> np.ndarray:
    if y.dtype.kind in "fiub":
        out = y.astype(np.float64)
        if not np.isfinite(out).all():
            raise ValueError("The outcomes hold NaN or infinite values; drop those rows first.")
        return out
    raise TypeError(f"Outcomes must be numeric (0/1 events or values); got dtype {y.dtype}.")


# ---------------------------------------------------------------------- main
def region_stability(
    model_or_regions: Any,
    X_reference: Any,
    X_new: Any,
    y_new: Any = None,
    *,
    y_reference: Any = None,
    target: str | None = None,
    merger: Any = None,
    thresholds: tuple[float, float] = DEFAULT_THRESHOLDS,
    n_bins: int = 10,
    max_regions: int = 20,
    output: int | None = None,
    chunk_size: int = 100_000,
    max_sample: int = 200_000,
    random_state: int = 0,
    transform: Callable[[Any], Any] | None = None,
) -> StabilityResult:
    """Stability of the population and of the model's activation regions.

    Parameters
    ----------
    model_or_regions : Regions, ReluNetwork or a model glassnet can import
    X_reference, X_new : array-like, DataFrame, or path to a CSV/Parquet file
        The rows the model was validated on and the rows to monitor. Files are streamed.
    y_new : array-like, optional
        Observed outcomes of the new rows (0/1 events or values), for the back-test.
    y_reference : array-like, optional
        Observed outcomes of the reference rows.
    target : str, optional
        For files: the name of the outcome column (used in whichever file has it; an error
        when neither has it).
    merger : fitted RegionMerger or RegionPruner, optional
        Adds the PSI over its merged regions.
    thresholds : (float, float), default (0.1, 0.25)
        PSI below the first is "stable", up to the second "watch", above it "act".
    n_bins : int, default 10
        Equal-count bins (deciles) of each feature and of the score on the reference rows.
        Features with fewer distinct values get fewer bins.
    max_regions : int, default 20
        The largest reference regions shown and tested one by one; the other reference
        regions with two or more reference rows form one bucket, and the rare patterns
        (at most one reference row, or never seen) another. Bounds the work and the table
        whatever the number of regions.
    output : int, optional
        Which network output is the score (default: the only one, or the last class).
    chunk_size : int, default 100000
        Rows per chunk read.
    max_sample : int, default 200000
        Bin edges come from a uniform random sample of at most this many reference rows
        (``random_state``); all rows are counted.
    random_state : int, default 0
    transform : callable, optional
        For files: applied to each DataFrame chunk (without the outcome column) before it is
        scored, e.g. a fitted estimator's one-hot encoding of raw columns.

    Returns
    -------
    StabilityResult
    """
    lo, hi = _check_thresholds(thresholds)
    for v, nm, mn in ((n_bins, "n_bins", 2), (max_regions, "max_regions", 1),
                      (chunk_size, "chunk_size", 1), (max_sample, "max_sample", 10)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < mn:
            raise ValueError(f"{nm} must be an integer >= {mn}; got {v!r}.")
    net, _ = _network_and_regions(model_or_regions)
    if merger is not None:
        _check_merger_of(merger, net)
    k = net.n_outputs
    out_col = (k - 1 if output is None else int(output))
    if not 0 <= out_col < k:
        raise ValueError(f"output must be in 0..{k - 1}; got {output!r}.")
    ref = _chunks(net, X_reference, y_reference, target, chunk_size, "X_reference", transform)
    new = _chunks(net, X_new, y_new, target, chunk_size, "X_new", transform)
    names = list(net.feature_names or [f"x{j}" for j in range(net.n_features)])

    # pass 1 over the reference: region counts (exact) and a uniform sample for the edges
    rng = np.random.default_rng(random_state)
    sample, keys = np.empty((0, net.n_features + 1)), np.empty(0)
    packed_parts: list[tuple[np.ndarray, np.ndarray]] = []
    n_ref = 0
    for Xc, _ in ref():
        packed, raw = packed_forward(net, Xc, None)
        score = net.apply_link(raw)[:, out_col]
        packed_parts.append(_count_patterns(packed))
        if len(packed_parts) > 8:
            packed_parts = [_merge_counts(packed_parts)]
        n_ref += Xc.shape[0]
        u = rng.random(Xc.shape[0])
        sample = np.vstack([sample, np.column_stack([Xc, score])])
        keys = np.r_[keys, u]
        if keys.size > max_sample:
            keep = np.argpartition(keys, max_sample)[:max_sample]
            sample, keys = sample[keep], keys[keep]
    if n_ref == 0:
        raise ValueError("X_reference has no rows.")
    pat, cnt = _merge_counts(packed_parts)
    order = region_order(pat, cnt)
    pat, cnt = pat[order], cnt[order]
    lookup = PatternLookup(pat)
    top = min(max_regions, len(cnt))
    singletons = int((cnt == 1).sum())
    edges = [_edges(sample[:, j], n_bins) for j in range(net.n_features + 1)]
    fine = _edges(sample[:, -1], 100)

    # pass 2 over the reference and one pass over the new rows: binned counts
    # rare bucket: patterns with at most one reference row, seen or not. Reference rows can
    # never be unseen, so an "unseen" bucket alone would be empty on the reference side and
    # inflate the PSI of any fresh sample; its reference share (singletons / rows) is the
    # Good-Turing estimate of the unseen share, and an exact copy of the reference scores 0
    acc_ref = _Accumulator(net, edges, fine, lookup, top, out_col, merger, counts=cnt)
    for Xc, yc in ref():
        acc_ref.add(Xc, yc)
    acc_new = _Accumulator(net, edges, fine, lookup, top, out_col, merger, counts=cnt)
    for Xc, yc in new():
        acc_new.add(Xc, yc)
    if acc_new.n == 0:
        raise ValueError("X_new has no rows.")
    if target is not None and not (acc_ref.has_y or acc_new.has_y):
        raise ValueError(f"Neither data file has the outcome column {target!r}.")

    feats = []
    for j, nm in enumerate(names):
        v = _metrics.psi_from_counts(acc_ref.feat[j], acc_new.feat[j])
        feats.append({"feature": nm, "PSI": v, "status": psi_status(v, (lo, hi)),
                      "bins": int(acc_ref.feat[j].size)})
    features = pd.DataFrame(feats).sort_values("PSI", ascending=False, kind="stable")
    features = features.reset_index(drop=True)

    labels = [f"region {r}" for r in range(top)] + [
        "other reference regions", "rare: at most one reference row, or unseen"]
    regions = _bucket_table(labels, acc_ref, acc_new, acc_ref.reg, acc_new.reg,
                            acc_ref.reg_sums, acc_new.reg_sums)
    psi_regions = _metrics.psi_from_counts(acc_ref.reg, acc_new.reg)
    merged_tab, psi_merged = None, float("nan")
    if merger is not None:
        m = max(acc_ref.mrg.size, acc_new.mrg.size)
        cr, cn = _pad(acc_ref.mrg, m), _pad(acc_new.mrg, m)
        merged_tab = _bucket_table([f"merged region {r}" for r in range(m)], acc_ref, acc_new,
                                   cr, cn, _pad2(acc_ref.mrg_sums, m), _pad2(acc_new.mrg_sums, m))
        psi_merged = _metrics.psi_from_counts(cr, cn)
    psi_score = _metrics.psi_from_counts(acc_ref.feat[-1], acc_new.feat[-1])
    cdf_r = np.cumsum(acc_ref.fine) / acc_ref.n
    cdf_n = np.cumsum(acc_new.fine) / acc_new.n
    ks_score = float(np.abs(cdf_r - cdf_n).max())

    unseen = acc_new.unseen / acc_new.n
    expected = singletons / n_ref
    # standard error of (observed - expected): the new rows' binomial variance plus the
    # Good-Turing estimator's own, Var ~ (n1 (1 - n1/N) + 2 n2) / N^2 (Esty 1983)
    doubletons = int((cnt == 2).sum())
    var_gt = (singletons * (1 - expected) + 2 * doubletons) / n_ref**2
    se = float(np.sqrt(max(expected * (1 - expected), 1e-12) / acc_new.n + var_gt))
    z = (unseen - expected) / se
    unseen_status = "act" if z > 5 else ("watch" if z > 3 else "stable")

    rows = [
        ("score PSI", psi_score, psi_status(psi_score, (lo, hi)),
         f"{len(acc_ref.feat[-1])} equal-count bins of the reference score"),
        ("score KS (reference vs new)", ks_score, "n/a",
         "largest gap between the score distributions, at 100 reference quantiles"),
        ("region PSI (raw activation regions)", psi_regions,
         psi_status(psi_regions, (lo, hi)),
         f"{top} largest regions, other reference regions, rare regions (at most one "
         "reference row, or unseen)"),
    ]
    if merger is not None:
        rows.append(("region PSI (merged regions)", psi_merged,
                     psi_status(psi_merged, (lo, hi)), f"{merged_tab.shape[0]} merged regions"))
    rows.append(("share of new rows in unseen regions", unseen, unseen_status,
                 f"expected with no shift {expected:.4f} (reference patterns seen once / "
                 f"reference rows), {z:+.1f} standard errors; watch above +3, act above +5"))
    worst = features.iloc[0]
    rows.append((f"largest feature PSI ({worst['feature']})", float(worst["PSI"]),
                 str(worst["status"]),
                 f"{int((features['status'] == 'act').sum())} feature(s) act, "
                 f"{int((features['status'] == 'watch').sum())} watch"))
    if acc_new.has_y:
        obs, pred = acc_new.y_sum / acc_new.n, acc_new.s_sum / acc_new.n
        rows.append(("new rows: observed outcome mean vs mean score", obs - pred, "n/a",
                     f"observed {obs:.4g}, predicted {pred:.4g}"))
    summary = pd.DataFrame(rows, columns=["check", "value", "status", "detail"])
    score_bins = pd.DataFrame({
        "bin": np.arange(acc_ref.feat[-1].size),
        "lower edge": np.r_[-np.inf, edges[-1]][: acc_ref.feat[-1].size],
        "reference share": acc_ref.feat[-1] / acc_ref.n,
        "new share": acc_new.feat[-1] / acc_new.n,
    })
    settings = {"reference rows": n_ref, "new rows": acc_new.n, "reference regions": len(cnt),
                "regions shown": top, "bins": n_bins, "edge sample rows": int(keys.size),
                "random_state": random_state, "chunk_size": chunk_size,
                "thresholds": (lo, hi), "output": out_col,
                "unseen share expected": expected, "unseen share z": float(z)}
    return StabilityResult(summary, features, regions, score_bins, merged_tab, (lo, hi),
                           settings)


def _check_merger_of(merger: Any, net: ReluNetwork) -> None:
    """The merger must have been fitted on this very network (its regions are that
    network's): the same layers, weights, biases and output link. Feature names may
    differ (an estimator and its bare network)."""
    other = getattr(merger, "network_", None)
    if other is None:
        raise ValueError(f"merger must be a fitted RegionMerger or RegionPruner; got an "
                         f"unfitted {type(merger).__name__}.")
    if other.with_feature_names(None) != net.with_feature_names(None):
        raise ValueError(
            f"the merger was fitted on another network ({other}) than the model monitored "
            f"({net}): its merged regions are not this model's. Pass the RegionMerger or "
            "RegionPruner fitted on this model.")


def _check_thresholds(thresholds: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(t) for t in thresholds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"thresholds must be two numbers (watch, act); got {thresholds!r}.") \
            from exc
    if not (0 < lo < hi and np.isfinite(hi)):
        raise ValueError(f"thresholds must satisfy 0 < watch < act; got {thresholds!r}.")
    return lo, hi


def _edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """Inner edges of equal-count bins, the rule of :func:`glassnet._metrics.psi` (one bin per
    value when there are few): a value goes to bin ``searchsorted(edges, v, 'right')``."""
    return _metrics._psi_edges(values, n_bins)


def _count_patterns(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if packed.shape[1] == 0:
        return packed[:1], np.array([packed.shape[0]], dtype=np.int64)
    uniq, counts = np.unique(packed, axis=0, return_counts=True)
    return uniq, counts.astype(np.int64)


def _merge_counts(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    packed = np.concatenate([p for p, _ in parts])
    counts = np.concatenate([c for _, c in parts])
    if packed.shape[1] == 0:
        return packed[:1], np.array([counts.sum()], dtype=np.int64)
    uniq, inv = np.unique(packed, axis=0, return_inverse=True)
    return uniq, np.bincount(inv.ravel(), weights=counts, minlength=len(uniq)).astype(np.int64)


def _pad(a: np.ndarray, m: int) -> np.ndarray:
    return np.r_[a, np.zeros(m - a.size)]


def _pad2(a: np.ndarray, m: int) -> np.ndarray:
    return np.vstack([a, np.zeros((m - a.shape[0], a.shape[1]))])


class _Accumulator:
    """Binned counts of one data set, chunk by chunk."""

    def __init__(self, net, edges, fine, lookup, top, out_col, merger, counts) -> None:
        self.net, self.edges, self.fine_edges = net, edges, fine
        self.counts, self.unseen = counts, 0
        self.lookup, self.top, self.out_col, self.merger = lookup, top, out_col, merger
        self.feat = [np.zeros(e.size + 1) for e in edges]
        self.fine = np.zeros(fine.size + 1)
        self.reg = np.zeros(top + 2)
        # per bucket: score sum, outcome sum, squared error sum, outcome count
        self.reg_sums = np.zeros((top + 2, 4))
        self.mrg = np.zeros(0)
        self.mrg_sums = np.zeros((0, 4))
        self.n, self.s_sum, self.y_sum, self.has_y = 0, 0.0, 0.0, False

    def add(self, X: np.ndarray, y: np.ndarray | None) -> None:
        packed, raw = packed_forward(self.net, X, None)
        score = self.net.apply_link(raw)[:, self.out_col]
        cols = np.column_stack([X, score])
        for j, e in enumerate(self.edges):
            self.feat[j] += np.bincount(np.searchsorted(e, cols[:, j], side="right"),
                                        minlength=e.size + 1)
        self.fine += np.bincount(np.searchsorted(self.fine_edges, score, side="right"),
                                 minlength=self.fine_edges.size + 1)
        idx = self.lookup.lookup(packed)
        unseen = idx < 0
        self.unseen += int(unseen.sum())
        rare = unseen | (self.counts[np.maximum(idx, 0)] <= 1)
        # a single-row region goes to the rare bucket even among the largest (a fragmented
        # model's "largest" regions may hold one row each)
        bucket = np.where(rare, self.top + 1, np.minimum(idx, self.top))
        yv = None if y is None else _numeric_y(np.asarray(y))
        self.reg += np.bincount(bucket, minlength=self.top + 2)
        self.reg_sums += _sums(bucket, self.top + 2, score, yv)
        if self.merger is not None:
            lab = np.asarray(self.merger.apply(X), dtype=np.int64)
            m = max(int(lab.max(initial=-1)) + 1, self.mrg.size)
            self.mrg = _pad(self.mrg, m) + np.bincount(lab, minlength=m)
            self.mrg_sums = _pad2(self.mrg_sums, m) + _sums(lab, m, score, yv)
        self.n += X.shape[0]
        self.s_sum += float(score.sum())
        if yv is not None:
            self.has_y = True
            self.y_sum += float(yv.sum())


def _sums(bucket: np.ndarray, m: int, score: np.ndarray, y: np.ndarray | None) -> np.ndarray:
    out = np.zeros((m, 4))
    out[:, 0] = np.bincount(bucket, weights=score, minlength=m)
    if y is not None:
        out[:, 1] = np.bincount(bucket, weights=y, minlength=m)
        out[:, 2] = np.bincount(bucket, weights=(y - score) ** 2, minlength=m)
        out[:, 3] = np.bincount(bucket, minlength=m)
    return out


def _bucket_table(labels, acc_ref, acc_new, cr, cn, sr, sn) -> pd.DataFrame:
    with np.errstate(invalid="ignore", divide="ignore"):
        tab = pd.DataFrame({
            "bucket": labels,
            "reference rows": cr.astype(np.int64),
            "new rows": cn.astype(np.int64),
            "reference share": cr / acc_ref.n,
            "new share": cn / acc_new.n,
            "PSI term": _metrics.psi_terms_from_counts(cr, cn),
            "reference mean score": sr[:, 0] / cr,
            "new mean score": sn[:, 0] / cn,
        })
        if acc_ref.has_y:
            tab["reference observed"] = sr[:, 1] / sr[:, 3]
            tab["reference RMSE vs outcome"] = np.sqrt(sr[:, 2] / sr[:, 3])
        if acc_new.has_y:
            tab["new observed"] = sn[:, 1] / sn[:, 3]
            tab["new observed − new mean score"] = tab["new observed"] - tab["new mean score"]
            tab["new RMSE vs outcome"] = np.sqrt(sn[:, 2] / sn[:, 3])
    return tab
