"""Data handling of the mixture of linear models: task, targets, splits, clusterers (private).

:class:`DataMixin` holds the parts of :class:`~glassnet.mlm.MixtureOfLinearModels` that turn
the user's ``y`` and the network's outputs into the internal targets (values, positive-class
probability, or one-hot classes), hold out rows for the automatic number of EPICs, build the
layer clusterers and fit the local models, so that ``model.py`` reads as the method itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from glassnet._params import is_int
from glassnet._validation import check_X, check_y, feature_names_of
from glassnet.mlm import _linear as lin
from glassnet.mlm._network import NetworkAdapter

__all__ = ["DataMixin"]


class DataMixin:
    """Task, targets, validation split, layer clusterers, local-model fits and mixing."""

    def _resolve_task(self, adapter: NetworkAdapter, y: Any, n: int) -> str:
        if self.task != "auto":
            if adapter.task is not None and adapter.task != self.task:
                raise ValueError(
                    f"task={self.task!r} was requested, but the network is a "
                    f"{adapter.task} model."
                )
            return self.task
        if adapter.task is not None:
            return adapter.task
        from sklearn.utils.multiclass import type_of_target

        kind = type_of_target(np.asarray(y))
        return "classification" if kind in ("binary", "multiclass") else "regression"

    def _encode_targets(self, y: Any, n: int, adapter: NetworkAdapter) -> np.ndarray:
        if self.task_ == "regression":
            Y = check_y(y, n)
            self._n_outputs = 1 if Y.ndim == 1 else Y.shape[1]
            self._kind = "identity"
            self._single_output = Y.ndim == 1
            if hasattr(self, "classes_"):
                del self.classes_
            return Y.reshape(n, -1)
        yy = check_y(y, n, numeric=False)
        if yy.ndim != 1 and not (yy.ndim == 2 and yy.shape[1] == 1):
            raise ValueError(
                f"Classification needs a 1-D vector of class labels; got shape {yy.shape}."
            )
        yy = yy.ravel()
        if adapter.classes is not None:
            classes = np.asarray(adapter.classes)
            unknown = np.setdiff1d(np.unique(yy), classes)
            if unknown.size:
                raise ValueError(
                    f"y holds labels {unknown[:5].tolist()} that the network does not know "
                    f"(its classes: {classes.tolist()})."
                )
        else:
            classes = np.unique(yy)
        if classes.size < 2:
            raise ValueError(
                f"Classification needs at least two classes in y; got {classes.tolist()}."
            )
        self.classes_ = classes
        idx = np.searchsorted(classes, yy) if adapter.classes is None else _index_of(classes, yy)
        K = classes.size
        if K == 2:
            self._kind, self._n_outputs = "sigmoid", 1
            self._single_output = True
            return (idx == 1).astype(np.float64)[:, None]
        self._kind, self._n_outputs = "softmax", K
        self._single_output = False
        return np.eye(K)[idx]

    def _network_targets(self, P: np.ndarray) -> np.ndarray:
        """Network predictions as targets of the internal models."""
        if self._kind == "sigmoid" and P.shape[1] == 2:
            return P[:, 1:2]
        return P

    def _check_network_output(self, P: np.ndarray, Y: np.ndarray) -> None:
        k = P.shape[1]
        if self._kind == "sigmoid":
            if k not in (1, 2):
                raise ValueError(
                    f"y has 2 classes but the network has {k} outputs; a binary classifier "
                    "needs 1 output (probability or logit of the second class) or 2."
                )
        elif k != self._n_outputs:
            what = "classes in y" if self._kind == "softmax" else "targets in y"
            raise ValueError(
                f"The network has {k} outputs but there are {self._n_outputs} {what}."
            )

    def _layer_ks(self, n_layers: int, n_rows: int) -> list[int]:
        k = self.n_layer_clusters
        if isinstance(k, str):  # "auto": see auto_layer_clusters
            k = auto_layer_clusters(n_rows, self.task_)
        ks = [int(k)] * n_layers if is_int(k) else [int(v) for v in k]
        if len(ks) != n_layers:
            raise ValueError(
                f"n_layer_clusters has {len(ks)} values but the network has {n_layers} hidden "
                "layers; pass one value per hidden layer or a single integer."
            )
        if max(ks) > n_rows:
            raise ValueError(
                f"n_layer_clusters={max(ks)} is larger than the number of rows used for "
                f"fitting ({n_rows}); use fewer clusters or more data."
            )
        return ks

    def _make_clusterer(self, k: int, seed: int) -> Any:
        if self.clustering == "kmeans":
            from sklearn.cluster import KMeans

            return KMeans(n_clusters=k, n_init=1, random_state=seed)
        from sklearn.mixture import GaussianMixture

        return GaussianMixture(n_components=k, covariance_type="full", random_state=seed)

    def _split(self, n: int, y: Any, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.model_selection import train_test_split

        strat = None
        if self.task_ == "classification":
            labels = np.asarray(y).ravel()
            _, cnt = np.unique(labels, return_counts=True)
            strat = labels if cnt.min() >= 2 else None
        n_val = int(round(self.validation_fraction * n))
        if n_val < 1 or n - n_val < 2:
            raise ValueError(
                f"n_epics='auto' holds out validation_fraction={self.validation_fraction} of "
                f"the {n} rows, which leaves too few rows; pass more data or an integer n_epics."
            )
        fit_idx, val_idx = train_test_split(
            np.arange(n), test_size=n_val, stratify=strat,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        return np.sort(fit_idx), np.sort(val_idx)

    def _fit_models(
        self, stats: lin.GroupStats, Z: np.ndarray, T: np.ndarray, groups: np.ndarray, G: int,
        B0: np.ndarray | None = None,
    ) -> np.ndarray:
        """One local model per group; ``B0`` starts the Newton iterations of logistic models.

        Merged groups start from the size-weighted mean of their members' models, which is
        close to their optimum, so Newton's method needs a few steps instead of about ten
        (the problem is strictly convex: the start changes only the time, not the model).
        """
        kind = self._kind
        d = Z.shape[1]
        seed = self.random_state if is_int(self.random_state) else None
        if self.penalty == "l1":
            return lin.fit_l1_loop(Z, T, groups, G, kind, float(self.alpha), seed)
        if kind == "identity":
            return lin.fit_least_squares(stats)
        const = lin.constant_groups(T, groups, G)
        l2 = float(self.alpha) if self.penalty == "l2" else 0.0
        B, _ = lin.fit_logistic(Z, T, groups, G, kind, l2=l2, max_iter=int(self.max_iter),
                                B0=B0)
        if const.any():
            B[const] = lin.constant_logistic(stats.ybar[const], kind, d)
        return B

    def _to_original_units(self, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef = B[:, :, 1:] / self.feature_scale_
        intercept = B[:, :, 0] - coef @ self.feature_mean_
        if self._single_output:
            return coef[:, 0, :], intercept[:, 0]
        return coef, intercept

    def _feature_names(self) -> list[str]:
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(v) for v in names]
        return [f"x{i}" for i in range(self.n_features_in_)]

    def _output_names(self) -> list[str]:
        if self.task_ == "classification":
            if self._kind == "sigmoid":
                return [str(self.classes_[1])]
            return [str(c) for c in self.classes_]
        return [f"y{i}" for i in range(self._n_outputs)]

    def _mix(
        self,
        Z: np.ndarray,
        logdens: np.ndarray,
        B: np.ndarray,
        groups: np.ndarray,
        G: int,
        counts: np.ndarray,
        weights: str,
    ) -> np.ndarray:
        """Mixture response (values or probabilities) for standardised rows ``Z``."""
        post = lin.group_posterior(logdens, self._log_weights(groups, G, counts), groups, G)
        resp = lin.link(lin.predict_all(B, Z), self._kind)  # (n, G, K)
        if weights == "hard":
            return resp[np.arange(Z.shape[0]), post.argmax(axis=1)]
        return np.einsum("ng,ngk->nk", post, resp)

    def _log_weights(self, groups: np.ndarray, G: int, counts: np.ndarray) -> np.ndarray:
        """log(pi_j * n_k / n_j) for every cell k (pi_j = n_j / N or 1 / G)."""
        n_group = np.bincount(groups, weights=counts, minlength=G)
        if self.prior == "size":
            return np.log(counts) - np.log(counts.sum())
        return np.log(counts) - np.log(n_group[groups]) - np.log(G)

    def _prepare(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "epics_")
        names = getattr(self, "feature_names_in_", None)
        X = check_X(X, n_features=self.n_features_in_,
                    feature_names=list(names) if names is not None and
                    feature_names_of(X) is not None else None)
        return (X - self.feature_mean_) / self.feature_scale_

    def _response(self, X: Any, level: str, weights: str | None) -> np.ndarray:
        if level not in ("epic", "cell"):
            raise ValueError(f"level must be 'epic' or 'cell'; got {level!r}.")
        weights = self.weights if weights is None else weights
        if weights not in ("soft", "hard"):
            raise ValueError(f"weights must be 'soft' or 'hard'; got {weights!r}.")
        Z = self._prepare(X)
        C = self.cells_.shape[0]
        if level == "epic":
            B, groups, G = self._B_epic, self.epics_, self.n_epics_
        else:
            B, groups, G = self._B_cell, np.arange(C), C
        out = np.empty((Z.shape[0], B.shape[1]))
        step = max(1, lin._CHUNK_VALUES // max(1, C * Z.shape[1]))
        for s in range(0, Z.shape[0], step):
            z = Z[s : s + step]
            ld = lin.gaussian_log_density(z, self._cell_means, self._cell_prec,
                                          self.covariance_type)
            out[s : s + step] = self._mix(z, ld, B, groups, G, self.cell_counts_, weights)
        return out

    def _proba(self, R: np.ndarray) -> np.ndarray:
        return np.column_stack([1 - R[:, 0], R[:, 0]]) if self._kind == "sigmoid" else R


# The automatic number of clusters per hidden layer: about the square root of the rows, at
# most 100 for regression and 16 for classification (chosen on held-out rows of BikeSharing,
# TaiwanCredit and CoCircles; see docs/mlm.md).
MAX_AUTO_CLUSTERS = {"regression": 100, "classification": 16}


def auto_layer_clusters(n_rows: int, task: str) -> int:
    """Clusters per hidden layer for ``n_layer_clusters="auto"``.

    ``min(cap, ceil(sqrt(n_rows)))`` with ``cap`` 100 for regression and 16 for
    classification: a logistic model learns local log-odds from 0/1 labels, which needs many
    more rows per cell than a least-squares fit to values, and on held-out rows more cells
    did not help the classifiers (TaiwanCredit, CoCircles) while they did help regression
    (BikeSharing).

    Parameters
    ----------
    n_rows : int
        Rows the layers are clustered on.
    task : {"regression", "classification"}

    Returns
    -------
    int
        At least 1 and at most ``n_rows``.
    """
    cap = MAX_AUTO_CLUSTERS[task]
    return int(max(1, min(cap, np.ceil(np.sqrt(n_rows)), n_rows)))


def _index_of(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    order = np.argsort(classes)
    return order[np.searchsorted(classes[order], y)]
