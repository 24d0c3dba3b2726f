"""Consistency checks for objects rebuilt from a glassnet file (private to ``glassnet.persist``).

Every object decoded from a file passes through :func:`check_object` before it is handed
on. The checks refuse what a fresh object could never hold (a wrong-typed attribute where
glassnet calls methods, region labels out of range, coefficients that do not match the
network) and bound the few parameters that size resources on use (``n_jobs``, thread
counts). Each raises ``ValueError`` naming the attribute; the loader turns it into a
``GlassnetFormatError``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.network import ReluNetwork
from glassnet.regions import Regions

_MAX_JOBS = 1024
# regions whose local linear models are recomputed from their patterns on loading
_LLM_SAMPLE = 256


def _need(ok: bool, msg: str) -> None:
    if not ok:
        raise ValueError(msg)


def _array(v: Any, name: str, ndim: int, kinds: str = "f", shape: tuple | None = None,
           finite: bool = True) -> np.ndarray:
    _need(isinstance(v, np.ndarray), f"{name} is not an array")
    _need(v.ndim == ndim and v.dtype.kind in kinds, f"{name} has dtype {v.dtype} and "
          f"{v.ndim} dimensions; expected {ndim}-D of kind {kinds!r}")
    if shape is not None:
        _need(all(s is None or s == t for s, t in zip(shape, v.shape, strict=True)),
              f"{name} has shape {v.shape}; expected {shape}")
    if finite and v.dtype.kind in "fc":
        _need(bool(np.isfinite(v).all()), f"{name} holds NaN or infinite values")
    return v


def check_regions(r: Regions) -> None:
    net = r.network
    _need(isinstance(net, ReluNetwork), "Regions.network is not a ReluNetwork")
    counts = _array(r.counts, "counts", 1, "iu")
    R, K, F = counts.shape[0], net.n_outputs, net.n_features
    _need(bool((counts >= 0).all()), "counts has negative entries")
    _need(len(r.feature_names) == F, f"{len(r.feature_names)} feature names for {F} features")
    _array(r.packed_patterns, "packed_patterns", 2, "u", (R, math.ceil(net.n_hidden / 8)))
    coef = _array(r.coef, "coef", 3, "f", (R, K, F))
    intercept = _array(r.intercept, "intercept", 2, "f", (R, K))
    _array(r.representatives, "representatives", 2, "f", (R, F))
    _array(r.pred_sum, "pred_sum", 2, "f", (R, K), finite=False)
    _array(r.pred_sumsq, "pred_sumsq", 2, "f", (R, K), finite=False)
    _need((r.y_sum is None) == (r.y_sumsq is None), "only one of y_sum and y_sumsq is stored")
    if r.y_sum is not None:
        _array(r.y_sum, "y_sum", 2, "f", (R, None), finite=False)
        _array(r.y_sumsq, "y_sumsq", 2, "f", r.y_sum.shape, finite=False)
    _need(not r.max_abs_error < 0, "max_abs_error is negative")
    if r.labels is not None:
        labels = _array(r.labels, "labels", 1, "iu")
        _need(labels.shape[0] == int(counts.sum()),
              f"{labels.shape[0]} labels but the counts sum to {int(counts.sum())}")
        if labels.size:
            _need(0 <= int(labels.min()) and int(labels.max()) < R,
                  f"labels outside 0..{R - 1}")
            _need(np.array_equal(np.bincount(labels, minlength=R), counts),
                  "counts do not match the labels")
    # the local linear models must be the network's on each stored pattern (a sample)
    if R:
        idx = np.unique(np.linspace(0, R - 1, min(R, _LLM_SAMPLE)).astype(np.int64))
        c, b = net.local_linear_models_packed(r.packed_patterns[idx])
        scale = 1.0 + max(float(np.abs(c).max(initial=0)), float(np.abs(b).max(initial=0)))
        _need(np.allclose(c, coef[idx], rtol=1e-9, atol=1e-9 * scale)
              and np.allclose(b, intercept[idx], rtol=1e-9, atol=1e-9 * scale),
              "the local linear models do not match the network on their patterns")


def _check_glassnet_estimator(est: Any) -> None:
    if "network_" in vars(est):
        net = est.network_
        _need(isinstance(net, ReluNetwork), "network_ is not a ReluNetwork")
        d = vars(est)
        if "n_features_in_" in d:
            # one-hot encoded columns widen the network's input (categories_ per column)
            cats = d.get("categories_") or []
            _need(isinstance(cats, list) and all(isinstance(c, list) for c in cats),
                  "categories_ is not a list of category lists")
            expected = est.n_features_in_ - len(cats) + sum(len(c) for c in cats)
            _need(expected == net.n_features,
                  f"n_features_in_={est.n_features_in_} (with {len(cats)} one-hot encoded) "
                  f"gives {expected} inputs but the network has {net.n_features}")
        for name in ("input_mean_", "input_scale_"):
            if d.get(name) is not None:
                _array(d[name], name, 1, "f", (net.n_features,))
        classes = vars(est).get("classes_")
        if classes is not None:
            _array(classes, "classes_", 1, "biufUSO", finite=False)
            n_out = net.n_outputs
            _need(n_out == len(classes) or (n_out == 1 and len(classes) == 2),
                  f"{len(classes)} classes for a network with {n_out} outputs")


def _check_piecewise(est: Any) -> None:
    """RegionMerger / RegionPruner: regions, their map to merged regions and the models."""
    _check_glassnet_estimator(est)
    d = vars(est)
    if "regions_" not in d:
        return
    regions = est.regions_
    _need(isinstance(regions, Regions), "regions_ is not a Regions object")
    _need(regions.network == est.network_, "regions_ belong to another network")
    k = est.n_regions_
    _need(type(k) is int and k >= 1, "n_regions_ is not a positive integer")
    r2m = _array(est.region_to_merged_, "region_to_merged_", 1, "iu", (len(regions),))
    _need(r2m.size == 0 or (0 <= int(r2m.min()) and int(r2m.max()) < k),
          "region_to_merged_ points outside the merged regions")
    type(est).check_fitted_consistency(est)  # simplify's own rule, looked up on the class
    F = est.network_.n_features
    _array(est.coef_, "coef_", 3, "f", (k, None, F), finite=False)
    _array(est.intercept_, "intercept_", 2, "f", (k, est.coef_.shape[1]), finite=False)


def _check_partition(p: Any) -> None:
    net = p.network
    _need(isinstance(net, ReluNetwork), "network is not a ReluNetwork")
    patterns = _array(p.patterns, "patterns", 2, "b", (None, net.n_hidden))
    R, K = patterns.shape[0], net.n_outputs
    _array(p.coef, "coef", 3, "f", (R, K, net.n_features))
    _array(p.intercept, "intercept", 2, "f", (R, K))
    areas = _array(p.areas, "areas", 1, "f", (R,))
    _need(bool((areas >= 0).all()), "areas has negative entries")
    _array(p.centroids, "centroids", 2, "f", (R, 2))
    _need(isinstance(p.vertices, list) and len(p.vertices) == R, "vertices does not list "
          "one polygon per region")
    for i, v in enumerate(p.vertices):
        _array(v, f"vertices[{i}]", 2, "f", (None, 2))


def _check_constant(m: Any) -> None:
    _array(m.value, "ConstantModel.value", m.value.ndim if isinstance(m.value, np.ndarray)
           else 1, "f")


def _check_mlm(m: Any) -> None:
    from glassnet.estimators import ReluNetClassifier, ReluNetRegressor

    d = vars(m)
    net = d.get("network")
    _need(net is None or isinstance(net, (ReluNetwork, ReluNetClassifier, ReluNetRegressor)),
          f"network is a {type(net).__name__}")
    if "cells_" not in d:
        return
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    F, L, E = m.n_features_in_, m.n_layers_, m.n_epics_
    _need(all(type(v) is int and v >= 1 for v in (F, L, E)),
          "n_features_in_, n_layers_ and n_epics_ must be positive integers")
    _need(isinstance(m.layer_clusterers_, list) and len(m.layer_clusterers_) == L
          and all(isinstance(c, (KMeans, GaussianMixture)) for c in m.layer_clusterers_),
          f"layer_clusterers_ is not {L} KMeans/GaussianMixture models")
    cells = _array(m.cells_, "cells_", 2, "iu", (None, L))
    C = cells.shape[0]
    epics = _array(m.epics_, "epics_", 1, "iu", (C,))
    _need(epics.size == 0 or (0 <= int(epics.min()) and int(epics.max()) < E),
          "epics_ points outside the epics")
    _array(m.cell_counts_, "cell_counts_", 1, "iu", (C,))
    scale = _array(m.feature_scale_, "feature_scale_", 1, "f", (F,))
    _need(bool((scale > 0).all()), "feature_scale_ has non-positive entries")
    _array(m.feature_mean_, "feature_mean_", 1, "f", (F,))
    _array(m._cell_means, "_cell_means", 2, "f", (C, F))
    _array(m._cell_prec, "_cell_prec", 3, "f", (C, F, F))
    b_cell = _array(m._B_cell, "_B_cell", 3, "f", (C, None, F + 1))
    _array(m._B_epic, "_B_epic", 3, "f", (E, b_cell.shape[1], F + 1))


def _check_l1path(p: Any) -> None:
    from glassnet.estimators import ReluNetClassifier, ReluNetRegressor

    ests = vars(p).get("estimators_", [])
    _need(isinstance(ests, list) and all(isinstance(e, (ReluNetClassifier, ReluNetRegressor))
                                         for e in ests),
          "estimators_ is not a list of glassnet estimators")


def _check_standardizer(s: Any) -> None:
    mean = _array(vars(s).get("mean_"), "mean_", 1)
    scale = _array(vars(s).get("scale_"), "scale_", 1, shape=mean.shape)
    _need(bool((scale > 0).all()), "scale_ has non-positive entries")


def _check_mlp(m: Any) -> None:
    from sklearn.neural_network._base import ACTIVATIONS, LOSS_FUNCTIONS

    d = vars(m)
    _need(d.get("activation") in ACTIVATIONS, "activation is not a known activation")
    _need(d.get("loss") in LOSS_FUNCTIONS, "loss is not a known loss name")
    if "coefs_" in d:
        _need(d.get("out_activation_") in ACTIVATIONS, "out_activation_ is not known")
        coefs, ints = m.coefs_, m.intercepts_
        _need(isinstance(coefs, list) and isinstance(ints, list) and len(coefs) == len(ints)
              and len(coefs) >= 1, "coefs_/intercepts_ are not lists of one array per layer")
        for i, (W, b) in enumerate(zip(coefs, ints, strict=True)):
            _array(W, f"coefs_[{i}]", 2)
            _array(b, f"intercepts_[{i}]", 1, shape=(W.shape[1],))
            if i:
                _need(W.shape[0] == coefs[i - 1].shape[1], f"coefs_[{i}] does not chain")


def _check_pipeline(p: Any) -> None:
    from sklearn.base import BaseEstimator

    # a cache folder would make a later fit unpickle whatever that folder holds
    _need(vars(p).get("memory") is None, "Pipeline.memory must be None in a glassnet file")
    steps = vars(p).get("steps")
    _need(isinstance(steps, list) and len(steps) >= 1, "Pipeline.steps is not a list")
    for s in steps:
        _need(isinstance(s, tuple) and len(s) == 2 and isinstance(s[0], str)
              and (s[1] is None or s[1] == "passthrough" or isinstance(s[1], BaseEstimator)),
              "Pipeline.steps holds something other than (name, estimator) pairs")


def _check_neighbors(nn: Any) -> None:
    """Brute force, or a KD/ball tree rebuilt here from the stored rows (save drops it)."""
    d = vars(nn)
    if "_fit_method" not in d:
        return
    method = d["_fit_method"]
    _need(method in ("brute", "kd_tree", "ball_tree"), "_fit_method is not a known method")
    _need(d.get("_tree") is None, "_tree must not be stored")
    if method == "brute":
        return
    from sklearn.neighbors import BallTree, KDTree

    tree_cls = KDTree if method == "kd_tree" else BallTree
    metric, params = d.get("effective_metric_"), d.get("effective_metric_params_") or {}
    # 'pyfunc' would call a Python function given in the parameters
    _need(isinstance(metric, str) and metric != "pyfunc" and metric in tree_cls.valid_metrics,
          f"effective_metric_ {str(metric)[:40]!r} is not a {method} metric")
    _need(isinstance(params, dict) and all(
        isinstance(k, str) and (type(v) in (int, float) or isinstance(v, np.ndarray))
        for k, v in params.items()), "effective_metric_params_ must hold numbers only")
    X = _array(d.get("_fit_X"), "_fit_X", 2, "f")
    leaf = d.get("leaf_size")
    _need(type(leaf) is int and leaf >= 1, "leaf_size is not a positive integer")
    nn._tree = tree_cls(X, leaf, metric=metric, **params)  # as NearestNeighbors.fit builds it


_CHECKS: dict[str, Callable[[Any], None]] = {
    "glassnet.regions:Regions": check_regions,
    "glassnet.estimators:ReluNetClassifier": _check_glassnet_estimator,
    "glassnet.estimators:ReluNetRegressor": _check_glassnet_estimator,
    "glassnet.simplify.merge:RegionMerger": _check_piecewise,
    "glassnet.simplify.prune:RegionPruner": _check_piecewise,
    "glassnet.simplify._common:ConstantModel": _check_constant,
    "glassnet.mlm:MixtureOfLinearModels": _check_mlm,
    "glassnet.mlm.model:MixtureOfLinearModels": _check_mlm,
    "glassnet.simplify.l1path:L1Path": _check_l1path,
    "glassnet.simplify._glm:Standardizer": _check_standardizer,
    "glassnet.partition:Partition2D": _check_partition,
    "sklearn.pipeline:Pipeline": _check_pipeline,
    "sklearn.neural_network._multilayer_perceptron:MLPClassifier": _check_mlp,
    "sklearn.neural_network._multilayer_perceptron:MLPRegressor": _check_mlp,
    "sklearn.neighbors._unsupervised:NearestNeighbors": _check_neighbors,
}


def check_object(path: str, obj: Any) -> None:
    """Run the generic bounds and the class's own consistency checks on a loaded object."""
    path = f"{type(obj).__module__}:{type(obj).__qualname__}"  # where the class lives now
    d = getattr(obj, "__dict__", None)
    if isinstance(d, dict):
        for k, v in d.items():
            # the listed value types only make numbers, but even so a type is accepted
            # only where a dtype is expected, never where code would call it
            if isinstance(v, type) and not (k == "dtype" or k.endswith("_dtype")):
                raise ValueError(f"{k} holds the type {v.__name__}")
        n_jobs = d.get("n_jobs")
        _need(n_jobs is None or (type(n_jobs) is int and 1 <= abs(n_jobs) <= _MAX_JOBS),
              f"n_jobs={n_jobs!r} is out of range")
        if "_n_threads" in d:  # KMeans: an OpenMP thread count fixed at fit time
            _need(type(d["_n_threads"]) is int and d["_n_threads"] >= 1, "bad _n_threads")
            d["_n_threads"] = min(d["_n_threads"], os.cpu_count() or 1)
    check = _CHECKS.get(path)
    if check is not None:
        check(obj)
    # the class's own parameter validation, as fit would run it: scikit-learn's constraints,
    # the mixture's checks (the networks' is left to fit: it imports torch for `device`)
    if path.startswith("sklearn.") and hasattr(type(obj), "_parameter_constraints"):
        obj._validate_params()  # InvalidParameterError is a ValueError
    elif type(obj).__qualname__ == "MixtureOfLinearModels":
        obj._check_params()
    elif type(obj).__qualname__ in ("RegionMerger", "RegionPruner"):
        from glassnet._params import validate_params

        validate_params(obj)  # the declared constraints fit checks first
