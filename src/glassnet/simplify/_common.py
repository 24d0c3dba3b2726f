"""Shared machinery of the region simplifiers (:class:`RegionMerger`, :class:`RegionPruner`).

Both map every activation region of a network to one of a few *merged regions* and fit one
generalised linear model (GLM) per merged region on its rows. What differs is only how
regions are grouped and how rows with an activation pattern never seen in ``fit`` are
placed; the subclass supplies that through :meth:`_PiecewiseGLM._assign`.
"""

from __future__ import annotations

import functools
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from glassnet._validation import check_y, feature_names_of
from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.simplify._scoring import _auc, resolve_scoring

TASKS = ("auto", "classification", "regression")


# ---------------------------------------------------------------------- small helpers
@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def single_thread_blas() -> Any:
    """A context in which BLAS runs in one thread: the many small GLM fits of the merger and
    the pruner gain nothing from BLAS threads, only their overhead (10x on busy machines).

    The thread pools are found once per process (``threadpool_limits`` looks for them at
    every call: 3.5 ms with torch loaded, a tenth of a 100,000-row unwrap); a BLAS loaded
    after the first call is not limited, which changes the speed, never a result.
    """
    return _blas_controller().limit(limits=1, user_api="blas")


def resolve_task(task: str, net: ReluNetwork) -> str:
    """``task`` itself, or the network's task for ``"auto"`` (``task`` is checked in fit)."""
    if task != "auto":
        return task
    return net.task


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


class ConstantModel:
    """The model of a merged region whose rows leave nothing to fit.

    For classification: class probabilities ``(n_c + 0.5) / (n + C / 2)`` (the class
    counts with half a pseudo-row per class, so no probability is exactly 0 or 1); for
    regression: the mean target.
    """

    def __init__(self, value: np.ndarray) -> None:
        self.value = np.asarray(value, dtype=np.float64)

    def __repr__(self) -> str:
        return f"ConstantModel({np.round(self.value, 4).tolist()})"


def constant_for(y_codes_or_values: np.ndarray, task: str, n_classes: int) -> ConstantModel:
    if task == "classification":
        counts = np.bincount(y_codes_or_values, minlength=n_classes).astype(np.float64)
        return ConstantModel((counts + 0.5) / (counts.sum() + 0.5 * n_classes))
    return ConstantModel(np.mean(y_codes_or_values, axis=0))


def default_refit(task: str) -> BaseEstimator:
    # Newton with a Cholesky solve, run to a gradient of 1e-10: the optimum itself (lbfgs at
    # its default tolerance stopped up to 0.32 away in a standardised TaiwanCredit
    # coefficient), as fast here, and the same models the merger's cross-validation scores
    if task == "classification":
        return LogisticRegression(C=100.0, solver="newton-cholesky", tol=1e-10, max_iter=100)
    return LinearRegression()


def fit_group_models(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    refit: Any,
    task: str,
    n_classes: int,
    threads: int = 1,
) -> tuple[list[Any], list[int]]:
    """Fit ``clone(refit)`` on the rows of every group.

    ``y`` holds class codes ``0..C-1`` for classification. A group whose rows hold one class
    only (or a single row, for regression) gets a :class:`ConstantModel`; those groups are
    returned alongside the models. ``threads > 1``: the default logistic refits (NumPy
    releases the GIL) in that many threads, the same models in the same order.
    """
    from glassnet.simplify._glm import fast_kind, fitted_logistic

    newton = fast_kind(refit, task, n_classes) == "logistic"  # the CV's own Newton steps
    if newton:  # read once for every group (see fitted_logistic)
        params, template = refit.get_params(), clone(refit)
    # a stable sort of 16-bit keys is a radix sort: 3x faster on 100,000 rows
    order = np.argsort(groups.astype(np.uint16) if n_groups <= 65536 else groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))

    def fit(g: int) -> Any:
        rows = order[bounds[g] : bounds[g + 1]]
        yg = y[rows]
        if rows.size == 0:
            raise ValueError(f"merged region {g} holds no training rows.")
        if task == "classification":
            one_class = yg.min() == yg.max()  # class codes: no sort needed
        else:
            one_class = rows.size < 2
        if one_class:
            return constant_for(yg, task, n_classes)
        if newton:
            return fitted_logistic(refit, X[rows], yg, params=params, template=template)
        return clone(refit).fit(X[rows], yg)

    if newton and threads > 1 and n_groups > 1:
        with ThreadPoolExecutor(max_workers=min(threads, n_groups)) as pool:
            models = list(pool.map(fit, range(n_groups)))
    else:
        models = [fit(g) for g in range(n_groups)]
    return models, [g for g, m in enumerate(models) if isinstance(m, ConstantModel)]


def predict_groups(
    models: list[Any], X: np.ndarray, groups: np.ndarray, task: str, n_classes: int,
    n_targets: int = 1,
) -> np.ndarray:
    """Class probabilities ``(n, C)`` or predictions ``(n,)``/``(n, t)`` of each row's model."""
    n = X.shape[0]
    if task == "classification":
        out = np.zeros((n, n_classes))
    else:
        out = np.zeros((n,) if n_targets == 1 else (n, n_targets))
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(len(models) + 1))
    for g, model in enumerate(models):
        rows = order[bounds[g] : bounds[g + 1]]
        if rows.size == 0:
            continue
        if isinstance(model, ConstantModel):
            out[rows] = model.value
        elif task == "classification":
            proba = model.predict_proba(X[rows])
            out[np.ix_(rows, np.asarray(model.classes_, dtype=np.int64))] = proba
        else:
            out[rows] = np.asarray(model.predict(X[rows])).reshape(out[rows].shape)
    return out


def linear_params(model: Any, task: str, n_classes: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The fitted model as ``coef (k, d)`` and ``intercept (k,)`` on the link scale.

    ``k`` is 1 for binary classification and single-target regression, ``C`` for
    multi-class. A model without ``coef_`` gives NaN.
    """
    k = n_classes if (task == "classification" and n_classes > 2) else 1
    if isinstance(model, ConstantModel):
        coef = np.zeros((k, d))
        if task == "classification":
            p = model.value
            inter = np.log(p[1] / p[0])[None] if n_classes == 2 else np.log(p)
        else:
            inter = np.atleast_1d(model.value)[:k]
        return coef, inter
    c = getattr(model, "coef_", None)
    b = getattr(model, "intercept_", None)
    if c is None:
        return np.full((k, d), np.nan), np.full(k, np.nan)
    c = np.atleast_2d(np.asarray(c, dtype=np.float64))
    b = np.atleast_1d(np.asarray(b if b is not None else 0.0, dtype=np.float64))
    if task == "classification" and n_classes > 2:
        full_c = np.full((k, d), np.nan)
        full_b = np.full(k, np.nan)
        cls = np.asarray(model.classes_, dtype=np.int64)
        if cls.size == 2:  # a binary model inside a multi-class task: coef is log-odds of cls[1]
            full_c[cls[1]], full_b[cls[1]] = c[0], b[0]
            full_c[cls[0]], full_b[cls[0]] = 0.0, 0.0
        else:
            full_c[cls], full_b[cls] = c, np.broadcast_to(b, (cls.size,))
        return full_c, full_b
    return c[:k].reshape(k, d), np.broadcast_to(b, (k,))[:k].copy()


# ---------------------------------------------------------------------- base estimator
def _is_classification(est: _PiecewiseGLM) -> bool:
    return getattr(est, "task_", None) == "classification"


class _PiecewiseGLM(BaseEstimator):
    """Prediction, scoring, summaries and inference for a fitted merged-region model.

    Subclasses set, in ``fit``: ``network_``, ``regions_``, ``task_``, ``classes_``
    (classification), ``n_features_in_``, ``n_regions_``, ``region_to_merged_``,
    ``merged_labels_``, ``models_``, ``constant_regions_``, ``coef_``, ``intercept_``, and
    implement ``_assign_unseen(X_unseen)``.
    """

    def check_fitted_consistency(self) -> None:
        """Raise ``ValueError`` unless ``models_`` holds one model per merged region.

        Each must be a ``ConstantModel``, ``LogisticRegression`` or ``LinearRegression``
        (what ``fit`` makes); :func:`glassnet.load` runs this on a rebuilt object.
        """
        k, models = getattr(self, "n_regions_", None), getattr(self, "models_", None)
        if not (isinstance(models, list) and len(models) == k):
            raise ValueError(f"models_ does not hold {k} models")
        for m in models:
            if not isinstance(m, (ConstantModel, LogisticRegression, LinearRegression)):
                raise ValueError(f"models_ holds a {type(m).__name__}")

    # -------------------------------------------------------------- fit helpers
    def _validate_fit_input(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        self.network_ = as_network(self.network)
        names = feature_names_of(X)
        Xa = self.network_.check_input(X)
        if names is not None:
            self.feature_names_in_ = np.asarray(self.network_.feature_names or names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.n_features_in_ = Xa.shape[1]
        self.task_ = resolve_task(self.task, self.network_)
        if self.task_ == "classification":
            y_raw = check_y(y, Xa.shape[0], numeric=False)
            if y_raw.ndim != 1:
                if y_raw.ndim == 2 and y_raw.shape[1] == 1:
                    y_raw = y_raw.ravel()
                else:
                    raise ValueError("y must be 1-D for classification.")
            self.classes_, y_codes = np.unique(y_raw, return_inverse=True)
            if self.classes_.size < 2:
                raise ValueError(
                    f"y holds a single class ({self.classes_[0]!r}); classification needs two "
                    "or more."
                )
            self.n_targets_ = 1
            return Xa, y_codes.astype(np.int64)
        if hasattr(self, "classes_"):
            del self.classes_
        ya = check_y(y, Xa.shape[0])
        if ya.ndim == 2 and ya.shape[1] == 1:
            ya = ya.ravel()
        self.n_targets_ = 1 if ya.ndim == 1 else ya.shape[1]
        return Xa, ya

    def _refit_estimator(self) -> Any:
        # (None or an object with fit and get_params: checked by validate_params in fit)
        if self.refit is None:
            return default_refit(self.task_)
        return self.refit

    @property
    def _n_classes(self) -> int:
        return len(self.classes_) if self.task_ == "classification" else 0

    def _fit_models(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray,
                    std: Any = None, threads: int = 1) -> None:
        """Refit one GLM per merged region on standardised inputs; record it in raw units.

        The GLMs see ``(X - x_mean_) / x_scale_`` (the rows' mean and standard deviation, or
        ``std`` when given), so solvers converge on raw data and a penalty treats every feature
        alike; ``coef_``/``intercept_`` are folded back to the original units of ``X``.
        ``threads``: see :func:`fit_group_models`. Warnings: at most one ``glassnet: warning:``.
        """
        from glassnet.simplify._glm import Standardizer, capture_warnings

        if std is None:
            std = Standardizer(X)
        self.x_mean_, self.x_scale_ = std.mean_, std.scale_
        with capture_warnings(
            f"refitting the GLMs of {self.n_regions_} merged region(s)",
            "Raise max_iter of refit, lower its C, or use fewer merged regions.",
        ):
            models, constant = fit_group_models(
                std.transform(X), y, groups, self.n_regions_, self._refit_estimator(),
                self.task_, self._n_classes, threads=threads,
            )
        self.models_ = models
        self.constant_regions_ = np.asarray(constant, dtype=np.int64)
        if constant:
            what = "one class only" if self.task_ == "classification" else "a single row"
            fill = (
                "the smoothed class shares (n_c + 0.5) / (n + C/2)"
                if self.task_ == "classification"
                else "the mean target"
            )
            warnings.warn(
                f"glassnet: warning: merged region(s) {constant} hold {what}; no GLM can be "
                f"fitted there, so they predict a constant: {fill}. Lower n_regions or raise "
                "min_count to avoid it.",
                UserWarning,
                stacklevel=3,
            )
        params = [linear_params(m, self.task_, self._n_classes, X.shape[1]) for m in models]
        coef_std = np.stack([p[0] for p in params])
        inter_std = np.stack([p[1] for p in params])
        self.coef_, self.intercept_ = std.fold(coef_std, inter_std)

    def _standardized(self, Xa: np.ndarray) -> np.ndarray:
        """The rows as the GLMs saw them in ``fit`` (raw for models saved before scaling)."""
        mean = getattr(self, "x_mean_", None)
        if mean is None:
            return Xa
        return (Xa - mean) / self.x_scale_

    # -------------------------------------------------------------- assignment
    def _repr_html_(self) -> str:
        from glassnet._repr import repr_html

        return repr_html(self)

    def apply(self, X: Any) -> np.ndarray:
        """Merged region of every row of ``X``.

        Rows whose activation pattern is one of the training regions follow that region;
        the others are placed as the estimator documents (see its class docstring).
        """
        check_is_fitted(self, "models_")
        Xa = self.network_.check_input(X)
        reg = self.regions_.assign(Xa)
        out = np.where(reg >= 0, self.region_to_merged_[np.maximum(reg, 0)], -1)
        unseen = np.flatnonzero(out < 0)
        if unseen.size:
            out[unseen] = self._assign_unseen(Xa[unseen])
        return out

    def _assign_unseen(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _output(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        check_is_fitted(self, "models_")
        Xa = self.network_.check_input(X)
        groups = self.apply(Xa)
        out = predict_groups(
            self.models_, self._standardized(Xa), groups, self.task_, self._n_classes,
            self.n_targets_,
        )
        return out, groups

    # -------------------------------------------------------------- prediction
    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or predicted values (regression)."""
        out, _ = self._output(X)
        if self.task_ == "classification":
            return self.classes_[out.argmax(axis=1)]
        return out

    @available_if(_is_classification)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, C)`` from each row's merged-region GLM."""
        return self._output(X)[0]

    @available_if(_is_classification)
    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of ``classes_[1]`` (binary, shape ``(n,)``) or log-probabilities ``(n, C)``."""
        p = np.clip(self._output(X)[0], 1e-300, 1.0)
        if p.shape[1] == 2:
            return np.log(p[:, 1]) - np.log(p[:, 0])
        return np.log(p)

    def score(self, X: Any, y: Any) -> float:
        """The ``scoring`` metric (default AUC or negative RMSE) on ``(X, y)``."""
        out, _ = self._output(X)
        yv = self._encode_y(y, out.shape[0])
        _, scorer = resolve_scoring(
            getattr(self, "scoring", None), self.task_, getattr(self, "classes_", None)
        )
        return scorer(yv, out)

    def _encode_y(self, y: Any, n: int) -> np.ndarray:
        if self.task_ == "classification":
            y_raw = np.asarray(check_y(y, n, numeric=False)).ravel()
            idx = np.searchsorted(self.classes_, y_raw)
            idx = np.clip(idx, 0, len(self.classes_) - 1)
            if not np.array_equal(self.classes_[idx], y_raw):
                unknown = np.setdiff1d(y_raw, self.classes_)
                raise ValueError(f"y holds classes not seen in fit: {unknown[:10].tolist()}.")
            return idx.astype(np.int64)
        ya = check_y(y, n)
        return ya.ravel() if (ya.ndim == 2 and ya.shape[1] == 1) else ya

    # -------------------------------------------------------------- reporting
    def summary(self, X: Any, y: Any) -> pd.DataFrame:
        """One row per merged region on ``(X, y)``, largest first.

        The columns follow :func:`glassnet.region_summary`: ``region``, ``count``,
        ``share``, ``cum_share``, ``y_mean``, ``y_std`` (share of ``classes_[1]`` for
        binary classification, of each class code's mean otherwise), ``pred_mean``
        (probability of ``classes_[1]``, or the prediction), then ``local_auc``,
        ``local_accuracy``, ``global_auc``, ``global_accuracy`` (classification) or
        ``local_mse``, ``local_rmse``, ``global_mse``, ``global_rmse`` (regression), then
        the GLM's ``intercept`` and ``coef_<feature>`` (link scale; ``[j]`` suffixes for
        several outputs). "Local" scores the region's GLM on its own rows (``local_auc``
        is NaN where one class is missing), "global" applies it to every row. Two columns
        are added: ``n_source_regions`` (activation regions merged into it) and
        ``constant`` (True where the region predicts a constant).
        """
        check_is_fitted(self, "models_")
        Xa = self.network_.check_input(X)
        yv = self._encode_y(y, Xa.shape[0])
        out, groups = self._output(Xa)
        K = self.n_regions_
        n = Xa.shape[0]
        cls = self.task_ == "classification"
        binary = cls and len(self.classes_) == 2
        y_num = np.asarray(yv, dtype=np.float64)
        pred_num = out[:, 1] if binary else (out.argmax(axis=1) if cls else out)
        order = np.argsort(groups, kind="stable")
        bounds = np.searchsorted(groups[order], np.arange(K + 1))
        Zs = self._standardized(Xa)
        cols: dict[str, list[float]] = {}

        def put(key: str, value: float) -> None:
            cols.setdefault(key, []).append(value)

        for g in range(K):
            r = order[bounds[g] : bounds[g + 1]]
            put("y_mean", float(np.mean(y_num[r])) if r.size else np.nan)
            put("y_std", float(np.std(y_num[r])) if r.size else np.nan)
            put("pred_mean", float(np.mean(pred_num[r])) if r.size else np.nan)
            every = predict_groups(
                [self.models_[g]], Zs, np.zeros(n, dtype=np.int64), self.task_,
                self._n_classes, self.n_targets_,
            )
            if cls:
                nc = len(self.classes_)
                put("local_auc", _auc(yv[r], out[r], nc))
                put("local_accuracy",
                    float(np.mean(out[r].argmax(1) == yv[r])) if r.size else np.nan)
                put("global_auc", _auc(yv, every, nc))
                put("global_accuracy", float(np.mean(every.argmax(1) == yv)))
            else:
                mse = float(np.mean((out[r] - yv[r]) ** 2)) if r.size else np.nan
                gmse = float(np.mean((every - yv) ** 2))
                put("local_mse", mse)
                put("local_rmse", float(np.sqrt(mse)))
                put("global_mse", gmse)
                put("global_rmse", float(np.sqrt(gmse)))
        counts = np.diff(bounds)
        idx = np.lexsort((np.arange(K), -counts))
        df = pd.DataFrame({"region": idx, "count": counts[idx], "share": counts[idx] / max(n, 1)})
        df["cum_share"] = np.cumsum(df["share"].to_numpy())
        for key, values in cols.items():
            df[key] = np.asarray(values)[idx]
        k = self.coef_.shape[1]
        sfx = [""] if k == 1 else [f"[{j}]" for j in range(k)]
        names = self._feature_names()
        extra: dict[str, np.ndarray] = {}
        for j, s in enumerate(sfx):
            extra[f"intercept{s}"] = self.intercept_[idx, j]
            for f, name in enumerate(names):
                extra[f"coef_{name}{s}"] = self.coef_[idx, j, f]
        df = pd.concat([df, pd.DataFrame(extra)], axis=1)
        df["n_source_regions"] = np.bincount(self.region_to_merged_, minlength=K)[idx]
        df["constant"] = np.isin(idx, self.constant_regions_)
        df.attrs["task"] = self.task_
        return df

    def region_inference(self, X: Any, y: Any, region: int, *, alpha: float = 0.05) -> pd.DataFrame:
        """Wald inference for the GLM of one merged region on its rows of ``(X, y)``.

        Delegates to :func:`glassnet.region_inference` with the merged region's rows: an
        unpenalised GLM (statsmodels ``Logit`` for binary classification, ``OLS`` for
        regression) is fitted on them, so the standard errors are those of maximum
        likelihood, even when ``refit`` is penalised (its point estimates can then differ
        slightly from ``coef_``).

        Returns
        -------
        DataFrame indexed by ``intercept`` and the feature names, with columns ``coef``,
        ``std_err``, ``z`` (``t`` for OLS), ``p_value``, ``ci_low``, ``ci_high``.
        """
        from glassnet.regions import unwrap_in_memory
        from glassnet.summary import region_inference

        check_is_fitted(self, "models_")
        region = check_positive_int(region, "region", minimum=0)
        if region >= self.n_regions_:
            raise ValueError(f"region must be in 0..{self.n_regions_ - 1}; got {region}.")
        Xa = self.network_.check_input(X)
        yv = self._encode_y(y, Xa.shape[0])
        if self.task_ == "classification" and len(self.classes_) != 2:
            raise ValueError("Wald inference is available for binary classification only.")
        mask = self.apply(Xa) == region
        if not mask.any():
            raise ValueError(f"No row of X falls in merged region {region}.")
        net = self.network_
        if net.feature_names is None and hasattr(self, "feature_names_in_"):
            net = net.with_feature_names([str(f) for f in self.feature_names_in_])
        regions = unwrap_in_memory(net, Xa)
        return region_inference(regions, Xa, yv, mask, task=self.task_, alpha=alpha)

    def _feature_names(self) -> list[str]:
        if self.network_.feature_names is not None:
            return list(self.network_.feature_names)
        if hasattr(self, "feature_names_in_"):
            return [str(f) for f in self.feature_names_in_]
        return [f"x{j}" for j in range(self.n_features_in_)]


def group_means(labels: np.ndarray, X: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Row counts ``(G,)`` and mean rows ``(G, d)`` of each group (NaN for empty groups)."""
    counts = np.bincount(labels, minlength=n_groups).astype(np.float64)
    sums = np.empty((n_groups, X.shape[1]))
    for j in range(X.shape[1]):
        sums[:, j] = np.bincount(labels, weights=X[:, j], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return counts, means
