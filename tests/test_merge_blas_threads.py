"""BLAS threads inside ``RegionMerger.fit`` and ``RegionPruner.fit``.

The unwrap inside ``fit`` is one large chunked forward pass, which BLAS's threads speed up;
the many small GLM refits after it are slowed down by them (10x on a busy machine). So the
unwrap must run with the caller's BLAS setting, and everything after it with one thread --
except that where the merger's cross-validation folds take every core, its unwrap runs with
one thread too (OpenBLAS's idle threads spin for ~0.1 s after a product, on those cores).
Checked by reading the BLAS thread count (threadpoolctl, an independent library) at the
moment each step runs.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_circles
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import glassnet.simplify.merge as merge_module
import glassnet.simplify.prune as prune_module
from glassnet import RegionMerger, RegionPruner


def blas_threads() -> set[int]:
    return {int(p["num_threads"]) for p in threadpool_info() if p["user_api"] == "blas"}


@pytest.fixture(scope="module")
def circles() -> tuple[np.ndarray, np.ndarray, MLPClassifier]:
    X, y = make_circles(n_samples=600, noise=0.1, factor=0.6, random_state=0)
    net = MLPClassifier((12, 12), max_iter=400, random_state=0).fit(X, y)
    return X, y, net


@pytest.mark.parametrize("module, cls, kwargs", [
    (merge_module, RegionMerger, {"n_regions": 4}),
    (merge_module, RegionMerger, {"n_regions": "cv", "cv": 3, "n_jobs": 1}),
    (prune_module, RegionPruner, {"n_regions": 3}),
])
def test_unwrap_keeps_the_callers_blas_threads_refits_use_one(
        monkeypatch, circles, module, cls, kwargs) -> None:
    X, y, net = circles
    seen: dict[str, set[int]] = {}
    real_unwrap = module.unwrap_in_memory
    real_fit_models = cls._fit_models

    def spy_unwrap(*args, **kw):
        seen["unwrap"] = blas_threads()
        return real_unwrap(*args, **kw)

    def spy_fit_models(self, *args, **kw):
        seen["refits"] = blas_threads()
        return real_fit_models(self, *args, **kw)

    monkeypatch.setattr(module, "unwrap_in_memory", spy_unwrap)
    monkeypatch.setattr(cls, "_fit_models", spy_fit_models)
    with threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        cls(net, random_state=0, **kwargs).fit(X, y)
        after = blas_threads()
    assert outside == {2}, "precondition: the BLAS library accepts two threads"
    assert seen["unwrap"] == outside
    assert seen["refits"] == {1}
    assert after == outside  # the limit is lifted when fit returns


@pytest.mark.parametrize("cores, cv, guard, want", [
    (2, 5, True, {1}),    # 2 fold threads on 2 cores: the unwrap gets one BLAS thread
    (5, 5, True, {1}),    # 5 folds, 5 cores: still every core
    (8, 5, True, {2}),    # 5 fold threads on 8 cores: cores to spare, the caller's setting
    (4, 3, True, {2}),    # 3 folds on 4 cores: one to spare
    (3, 3, True, {1}),
    (2, 5, False, {2}),   # the guard switched off
])
def test_unwrap_has_one_blas_thread_where_the_folds_take_every_core(
        monkeypatch, circles, cores, cv, guard, want) -> None:
    # OpenBLAS's idle threads spin for ~0.1 s after a product, on the cores the folds need
    import glassnet.simplify._merge_cv as merge_cv

    X, y, net = circles
    seen: dict[str, set[int]] = {}
    real_unwrap = merge_module.unwrap_in_memory

    def spy_unwrap(*args, **kw):
        seen["unwrap"] = blas_threads()
        seen["threads"] = kw.get("_threads", 1)
        return real_unwrap(*args, **kw)

    monkeypatch.setattr(merge_module, "unwrap_in_memory", spy_unwrap)
    monkeypatch.setattr(merge_cv, "cpu_count", lambda: cores)
    monkeypatch.setattr(merge_module, "cpu_count", lambda: cores)
    monkeypatch.setattr(merge_module, "SPIN_GUARD", guard)
    with threadpool_limits(limits=2, user_api="blas"):
        RegionMerger(net, random_state=0, cv=cv).fit(X, y)
        assert blas_threads() == {2}
    assert seen["unwrap"] == want
    # one BLAS thread: the forward pass's steps in a thread per core instead
    assert seen["threads"] == (cores if want == {1} else 1)
    seen.clear()
    with threadpool_limits(limits=2, user_api="blas"):  # n_jobs=1: one fold thread
        RegionMerger(net, random_state=0, cv=5, n_jobs=1).fit(X, y)
    assert seen["unwrap"] == {2}
