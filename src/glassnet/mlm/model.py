"""Mixture of linear models co-supervised by a network: MLM-EPIC (Seo, Lin & Li, 2022).

:class:`MixtureOfLinearModels` explains *any* feed-forward network (ReLU or not; glassnet,
scikit-learn or PyTorch) by a small set of linear (or logistic) models, each valid in a region
of the input space, mixed with soft weights:

1. **Layer clustering.** The outputs of every hidden layer on the training rows are clustered
   (Gaussian mixture or k-means). A **cell** is an observed tuple of cluster labels across the
   layers: only the tuples that occur, not the whole Cartesian product.
2. **Co-supervised local models.** Around the mean ``x_k`` of each cell, ``m`` points
   ``v ~ N(x_k, eps * diag(s^2))`` are drawn (``s`` the features' standard deviations, so
   ``eps`` is a variance on standardised inputs) and labelled by the network. Each cell's
   model is fitted on its real rows with their true labels plus these perturbed rows with
   the network's labels.
3. **EPIC merging.** The mutual prediction disparity of cells ``s`` and ``t`` is
   ``d(s, t) = [sum over aug(s) + sum over aug(t) of (m_s - m_t)^2] / (n_s + n_t + 2m)``
   (``aug`` = real plus perturbed points). Hierarchical clustering on ``d`` merges cells into
   **EPICs** (explainable prediction-induced input clusters); each EPIC's model is refitted on
   the union of its cells' augmented points.
4. **Soft weights.** A Gaussian is fitted to each cell's rows (by default; shrunk towards the
   pooled within-cell covariance, see ``covariance_shrinkage``); EPIC ``j`` has
   density ``f_j(x) = sum_{k in j} (n_k / n_j) N(x; mu_k, Sigma_k)`` and weight
   ``gamma_j(x) ∝ pi_j f_j(x)``; the prediction is ``sum_j gamma_j(x) m_j(x)``.
5. **Interpretation.** EPIC coefficients (:meth:`MixtureOfLinearModels.coefficients`,
   :class:`MLMCoefficientDisplay`), a per-EPIC summary and readable rules from shallow
   decision trees (:meth:`MixtureOfLinearModels.rules`).

Computational notes
-------------------
All cell and EPIC models are fitted together: least squares from per-group sufficient
statistics (one batched eigen-solve), logistic and multinomial models by a batched Newton
method. The pairwise disparity never loops over pairs: for linear models it follows exactly
from each cell's mean and scatter matrix in a few matrix products; for classifiers every model
is evaluated on every augmented point in chunks (one matrix product per chunk) and the squared
probability differences are summed per cell with a sparse indicator matrix.
"""

from __future__ import annotations

import numbers
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from glassnet import _mlm_linear as lin
from glassnet._mlm_network import NetworkAdapter, network_adapter
from glassnet._validation import check_X, check_y, feature_names_of

__all__ = ["MixtureOfLinearModels", "MLMCoefficientDisplay"]

_LINKAGES = ("ward", "average", "complete", "single", "weighted")
_COVARIANCES = ("full", "tied", "diag", "spherical")


class MixtureOfLinearModels(BaseEstimator):
    """Mixture of linear models co-supervised by a network (MLM-EPIC).

    Parameters
    ----------
    network : object
        The fitted network to explain: a :class:`~glassnet.ReluNetwork`, a fitted glassnet
        estimator (with ``network_``), a fitted scikit-learn ``MLPClassifier``/``MLPRegressor``
        of any activation (alone or at the end of a ``Pipeline``), or a PyTorch module of any
        activation. Only its hidden-layer outputs and predictions are used. For a PyTorch
        module the hidden layers are the outputs of its activation modules (``nn.ReLU``,
        ``nn.Tanh``, ...), in execution order; a final ``nn.Sigmoid``/``nn.Softmax`` is taken as
        the output link. A scikit-learn model may be wrapped in
        ``sklearn.frozen.FrozenEstimator`` so that :func:`sklearn.base.clone` keeps it fitted.
    n_layer_clusters : int or sequence of int, default=10
        Clusters per hidden layer (one value for all layers, or one per layer).
    clustering : {"gmm", "kmeans"}, default="gmm"
        Gaussian mixture (full covariance, as in the reference) or the faster k-means.
    n_perturb : int, default=100
        Perturbed points ``m`` drawn around each cell mean (0 disables co-supervision).
    perturb_var : float, default=1e-3
        Variance ``eps`` of the perturbations, on standardised inputs.
    n_epics : "auto" or int, default="auto"
        Number of EPICs. ``"auto"`` holds out ``validation_fraction`` of the rows, fits on the
        rest, and picks the smallest number of EPICs whose held-out loss (mean squared error,
        or log-loss for classification) is close to the best (see ``selection_tol``) over a
        geometric grid from 1 to the number of cells. An integer larger than the number of
        cells is reduced to it (with a warning).
    linkage : {"ward", "average", "complete", "single", "weighted"}, default="ward"
        Hierarchical clustering method applied to the disparity matrix.
    weights : {"soft", "hard"}, default="soft"
        Default way :meth:`predict` mixes the EPIC (or cell) models: posterior weights, or the
        single most probable one.
    prior : {"size", "uniform"}, default="size"
        Prior ``pi_j`` of the soft weights: ``n_j / N`` or ``1 / J``.
    covariance_type : {"full", "tied", "diag", "spherical"}, default="full"
        Covariance of each cell's Gaussian (``tied``: one pooled covariance for all cells).
    covariance_source : {"real", "augmented"}, default="real"
        Points each cell's Gaussian is estimated from. ``"real"``: the cell's training rows
        (the region the cell covers). ``"augmented"``: its rows plus its perturbed points, as
        in the reference implementation; the ``n_perturb`` points of tiny variance then shrink
        the covariance of small cells by about ``n_k / (n_k + n_perturb)``, so that a test row
        is rarely given to the small cell it falls in.
    covariance_shrinkage : float, default=20.0
        Pseudo-count ``tau`` of a prior centred on the pooled within-cell covariance ``P``:
        each cell's covariance is ``(S_k + tau * P) / (n_k + tau)`` (``S_k`` its scatter
        matrix over ``n_k`` points), so a cell with one or a few rows borrows the shape of the
        others instead of collapsing to a point. 0 disables it (then ``reg_covar`` alone keeps
        the covariances invertible); not used by ``covariance_type="tied"``.
    reg_covar : float, default=1e-6
        Added to the diagonal of each covariance (standardised units).
    penalty : {None, "l1", "l2"}, default=None
        Penalty of the local models. ``None``: least squares / (practically) unpenalised
        logistic regression. ``"l1"``: Lasso / L1-logistic regression, one scikit-learn fit per
        model. ``"l2"``: ridge on the slopes (logistic models only; batched Newton).
    alpha : float, default=1e-3
        Penalty strength per point (the Lasso's ``alpha``), used when ``penalty`` is set.
    task : {"auto", "regression", "classification"}, default="auto"
        ``"auto"`` asks the network (scikit-learn type, output link); a network that cannot
        tell (e.g. a torch module ending in a Linear layer) is taken as a classifier when
        ``y`` is binary or multi-class (its outputs are then logits), a regressor otherwise.
    validation_fraction : float, default=0.2
        Share of the rows held out to choose ``n_epics="auto"`` (stratified for classifiers).
    selection_tol : float, default=0.05
        Tolerance of the automatic choice: the smallest number of EPICs whose held-out loss is
        at most ``best + selection_tol * (loss of one EPIC - best)`` is kept, i.e. the mixture
        keeps 95% (by default) of the improvement over a single linear model with as few
        EPICs as possible (fewer, larger EPICs are easier to validate).
    max_iter : int, default=100
        Newton iterations of the logistic models.
    random_state : int, RandomState or None, default=None
        Seeds the layer clustering, the perturbations and the validation split.

    Attributes
    ----------
    task_ : str
        ``"regression"`` or ``"classification"``.
    classes_ : ndarray
        Class labels (classification).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Feature names (from a DataFrame or the network), when known.
    n_layers_ : int
        Number of hidden layers clustered.
    layer_clusterers_ : list
        The fitted ``GaussianMixture``/``KMeans`` of each hidden layer.
    cells_ : ndarray of shape (n_cells, n_layers_)
        The observed tuples of layer cluster labels, one row per cell (sorted).
    cell_counts_ : ndarray of shape (n_cells,)
        Training rows per cell.
    cell_labels_ : ndarray of shape (n_fit_rows,)
        Cell of each training row used for fitting.
    cell_coef_, cell_intercept_ : ndarray
        Cell models in the original input units, shapes ``(n_cells, n_features)`` and
        ``(n_cells,)`` for one output, ``(n_cells, n_outputs, n_features)`` and
        ``(n_cells, n_outputs)`` for several (multi-class, multi-target).
    disparity_ : ndarray of shape (n_cells, n_cells)
        Mutual prediction disparity (symmetric, zero diagonal). For classifiers it compares
        predicted probabilities (summed over classes for multi-class).
    linkage_ : ndarray
        SciPy linkage matrix of the cells.
    epics_ : ndarray of shape (n_cells,)
        EPIC of each cell. EPICs are numbered by decreasing number of training rows.
    n_epics_ : int
    epic_counts_ : ndarray of shape (n_epics_,)
    coef_, intercept_ : ndarray
        EPIC models in the original input units (shapes as ``cell_coef_``).
    epic_scores_ : DataFrame or None
        The held-out loss of every candidate number of EPICs (``n_epics="auto"``).
    augmented_X_, augmented_y_, augmented_cell_, augmented_is_real_ : ndarray
        The co-supervision data: every training row and perturbed point (original units),
        its target (true label, or the network's prediction: values or probabilities), its
        cell, and whether it is a real row. Lets a validator audit what the models were fitted
        on.
    fit_times_ : dict
        Seconds spent in each step of :meth:`fit`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.neural_network import MLPRegressor
    >>> from glassnet import MixtureOfLinearModels
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(400, 2))
    >>> y = np.sin(X[:, 0]) + X[:, 1] ** 2
    >>> net = MLPRegressor(hidden_layer_sizes=(16, 16), activation="tanh", max_iter=300,
    ...                    random_state=0).fit(X, y)
    >>> mlm = MixtureOfLinearModels(net, n_layer_clusters=4, n_epics=5, random_state=0)
    >>> mlm.fit(X, y).n_epics_
    5
    """

    def __init__(
        self,
        network: Any,
        n_layer_clusters: int | Sequence[int] = 10,
        clustering: str = "gmm",
        n_perturb: int = 100,
        perturb_var: float = 1e-3,
        n_epics: int | str = "auto",
        linkage: str = "ward",
        weights: str = "soft",
        prior: str = "size",
        covariance_type: str = "full",
        covariance_source: str = "real",
        covariance_shrinkage: float = 20.0,
        reg_covar: float = 1e-6,
        penalty: str | None = None,
        alpha: float = 1e-3,
        task: str = "auto",
        validation_fraction: float = 0.2,
        selection_tol: float = 0.05,
        max_iter: int = 100,
        random_state: Any = None,
    ) -> None:
        self.network = network
        self.n_layer_clusters = n_layer_clusters
        self.clustering = clustering
        self.n_perturb = n_perturb
        self.perturb_var = perturb_var
        self.n_epics = n_epics
        self.linkage = linkage
        self.weights = weights
        self.prior = prior
        self.covariance_type = covariance_type
        self.covariance_source = covariance_source
        self.covariance_shrinkage = covariance_shrinkage
        self.reg_covar = reg_covar
        self.penalty = penalty
        self.alpha = alpha
        self.task = task
        self.validation_fraction = validation_fraction
        self.selection_tol = selection_tol
        self.max_iter = max_iter
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any) -> MixtureOfLinearModels:
        """Fit the mixture to the training rows ``X`` with true labels ``y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Inputs, in the units the network expects.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True labels: class labels for classification, values for regression.

        Returns
        -------
        self
        """
        times: dict[str, float] = {}
        t_start = time.perf_counter()
        self._check_params()
        adapter = network_adapter(_unfreeze(self.network))
        names = feature_names_of(X)
        X = check_X(X, n_features=adapter.n_features,
                    feature_names=adapter.feature_names if names is not None else None)
        n, d = X.shape
        if names is None:
            names = adapter.feature_names
        elif adapter.feature_names is not None:
            names = list(adapter.feature_names)  # check_X reordered the columns to these
        self.n_features_in_ = d
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        task = self._resolve_task(adapter, y, n)
        self.task_ = task
        Y_true = self._encode_targets(y, n, adapter)
        rng = check_random_state(self.random_state)

        # hold-out rows for the automatic choice of the number of EPICs
        val_idx = None
        fit_idx = np.arange(n)
        if self.n_epics == "auto":
            fit_idx, val_idx = self._split(n, y, rng)
        Xf, Yf = X[fit_idx], Y_true[fit_idx]

        # 1. layer clustering -> cells
        t0 = time.perf_counter()
        hidden, net_f = adapter.run(Xf, hidden=True, task=task)
        if len(hidden) == 0:
            raise ValueError(
                "The network has no hidden layers (no activation modules were run), so there "
                "is nothing to cluster; a mixture of linear models needs at least one."
            )
        self._check_network_output(net_f, Yf)
        times["network"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        ks = self._layer_ks(len(hidden), Xf.shape[0])
        self.n_layers_ = len(hidden)
        self.layer_clusterers_ = []
        layer_labels = np.empty((Xf.shape[0], len(hidden)), dtype=np.int64)
        for i, (H, k) in enumerate(zip(hidden, ks, strict=False)):
            est = self._make_clusterer(k, rng.randint(np.iinfo(np.int32).max))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*[Cc]onverge.*")
                layer_labels[:, i] = est.fit_predict(H)
            self.layer_clusterers_.append(est)
        del hidden
        self.cells_, cell_of_row, counts = np.unique(
            layer_labels, axis=0, return_inverse=True, return_counts=True
        )
        cell_of_row = cell_of_row.ravel()
        C = self.cells_.shape[0]
        self.cell_counts_ = counts
        self.cell_labels_ = cell_of_row
        times["layer_clustering"] = time.perf_counter() - t0

        # 2. co-supervision: perturbed points around each cell mean, labelled by the network
        t0 = time.perf_counter()
        mean = Xf.mean(axis=0)
        std = Xf.std(axis=0)
        varying = std > 1e-12 * np.maximum(1.0, np.abs(mean))
        scale = np.where(varying, std, 1.0)
        self.feature_mean_, self.feature_scale_ = mean, scale
        Zf = (Xf - mean) / scale
        m = int(self.n_perturb)
        stats_real = lin.group_stats(Zf, Yf[:, :1], cell_of_row, C)
        zbar_real = stats_real.zbar
        if m > 0:
            noise = rng.standard_normal((C * m, d)) * (np.sqrt(self.perturb_var) * varying)
            Zp = np.repeat(zbar_real, m, axis=0) + noise
            _, Tp = adapter.run(mean + Zp * scale, hidden=False, task=task)
            Tp = self._network_targets(Tp)
        else:
            Zp = np.empty((0, d))
            Tp = np.empty((0, Yf.shape[1]))
        Z_aug = np.concatenate([Zf, Zp])
        T_aug = np.concatenate([Yf, Tp])
        cell_aug = np.concatenate([cell_of_row, np.repeat(np.arange(C), m)])
        times["perturbation"] = time.perf_counter() - t0

        # cell models
        t0 = time.perf_counter()
        kind = self._kind
        stats = lin.group_stats(Z_aug, T_aug, cell_aug, C)
        B_cell = self._fit_models(stats, Z_aug, T_aug, cell_aug, C)
        times["cell_models"] = time.perf_counter() - t0

        # 3. disparity and hierarchical clustering
        t0 = time.perf_counter()
        if kind == "identity" and self.penalty is None:
            D = lin.disparity_regression(stats, B_cell)
        else:
            D = lin.disparity_points(B_cell, Z_aug, cell_aug, kind)
        times["disparity"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        link_matrix = _linkage(D, self.linkage)
        times["linkage"] = time.perf_counter() - t0

        # soft-weight Gaussians of every cell (real rows or augmented points)
        means, prec = lin.gaussian_params(
            stats_real if self.covariance_source == "real" else stats,
            self.covariance_type, self.reg_covar, self.covariance_shrinkage,
        )
        self._cell_means, self._cell_prec = means, prec

        # choose the number of EPICs
        t0 = time.perf_counter()
        self.epic_scores_ = None
        if self.n_epics == "auto":
            J, self.epic_scores_ = self._select_n_epics(
                link_matrix, stats, Z_aug, T_aug, cell_aug, C, counts,
                (X[val_idx] - mean) / scale, Y_true[val_idx],
            )
        else:
            J = int(self.n_epics)
            if J > C:
                warnings.warn(
                    f"n_epics={J} is larger than the number of cells ({C}); using {C} EPICs.",
                    UserWarning, stacklevel=2,
                )
                J = C
        epics = _cut_tree(link_matrix, C, J)
        epics = _renumber_by_size(epics, counts, J)
        B_epic = self._fit_models(
            lin.merge_stats(stats, epics, J), Z_aug, T_aug, epics[cell_aug], J
        )
        times["epics"] = time.perf_counter() - t0

        self.disparity_ = D
        self.linkage_ = link_matrix
        self.epics_ = epics
        self.n_epics_ = J
        self.epic_counts_ = np.bincount(epics, weights=counts, minlength=J).astype(np.int64)
        self._B_cell, self._B_epic = B_cell, B_epic
        self.cell_coef_, self.cell_intercept_ = self._to_original_units(B_cell)
        self.coef_, self.intercept_ = self._to_original_units(B_epic)
        self.augmented_X_ = mean + Z_aug * scale
        self.augmented_y_ = T_aug if T_aug.shape[1] > 1 else T_aug[:, 0]
        self.augmented_cell_ = cell_aug
        self.augmented_is_real_ = np.arange(Z_aug.shape[0]) < Zf.shape[0]
        self._y_fit = Yf
        self._net_fit = net_f
        times["total"] = time.perf_counter() - t_start
        self.fit_times_ = times
        return self

    # ------------------------------------------------------------------ parameter handling
    def _check_params(self) -> None:
        k = self.n_layer_clusters
        ks = [k] if _is_int(k) else (list(k) if isinstance(k, (Sequence, np.ndarray)) else None)
        if not ks or not all(_is_int(v) and v >= 1 for v in ks) or isinstance(k, str):
            raise ValueError(
                "n_layer_clusters must be a positive integer or a sequence of positive integers "
                f"(one per hidden layer); got {k!r}."
            )
        if self.clustering not in ("gmm", "kmeans"):
            raise ValueError(f"clustering must be 'gmm' or 'kmeans'; got {self.clustering!r}.")
        if not _is_int(self.n_perturb) or self.n_perturb < 0:
            raise ValueError(f"n_perturb must be a non-negative integer; got {self.n_perturb!r}.")
        if not _is_real(self.perturb_var) or self.perturb_var < 0:
            raise ValueError(
                f"perturb_var must be a non-negative number; got {self.perturb_var!r}."
            )
        if not (self.n_epics == "auto" or (_is_int(self.n_epics) and self.n_epics >= 1)):
            raise ValueError(f"n_epics must be 'auto' or a positive integer; got {self.n_epics!r}.")
        if self.linkage not in _LINKAGES:
            raise ValueError(f"linkage must be one of {_LINKAGES}; got {self.linkage!r}.")
        if self.weights not in ("soft", "hard"):
            raise ValueError(f"weights must be 'soft' or 'hard'; got {self.weights!r}.")
        if self.prior not in ("size", "uniform"):
            raise ValueError(f"prior must be 'size' or 'uniform'; got {self.prior!r}.")
        if self.covariance_type not in _COVARIANCES:
            raise ValueError(
                f"covariance_type must be one of {_COVARIANCES}; got {self.covariance_type!r}."
            )
        if self.covariance_source not in ("real", "augmented"):
            raise ValueError(
                "covariance_source must be 'real' or 'augmented'; "
                f"got {self.covariance_source!r}."
            )
        if not _is_real(self.covariance_shrinkage) or self.covariance_shrinkage < 0:
            raise ValueError(
                f"covariance_shrinkage must be >= 0; got {self.covariance_shrinkage!r}."
            )
        if not _is_real(self.reg_covar) or self.reg_covar < 0:
            raise ValueError(f"reg_covar must be a non-negative number; got {self.reg_covar!r}.")
        if self.penalty not in (None, "l1", "l2"):
            raise ValueError(f"penalty must be None, 'l1' or 'l2'; got {self.penalty!r}.")
        if self.penalty is not None and (not _is_real(self.alpha) or self.alpha <= 0):
            raise ValueError(f"alpha must be a positive number; got {self.alpha!r}.")
        if self.task not in ("auto", "regression", "classification"):
            raise ValueError(
                f"task must be 'auto', 'regression' or 'classification'; got {self.task!r}."
            )
        if not _is_real(self.validation_fraction) or not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction must be in (0, 1); got {self.validation_fraction!r}."
            )
        if not _is_real(self.selection_tol) or self.selection_tol < 0:
            raise ValueError(f"selection_tol must be >= 0; got {self.selection_tol!r}.")
        if not _is_int(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer; got {self.max_iter!r}.")

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
        ks = [int(k)] * n_layers if _is_int(k) else [int(v) for v in k]
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

    # ------------------------------------------------------------------ model fitting
    def _fit_models(
        self, stats: lin.GroupStats, Z: np.ndarray, T: np.ndarray, groups: np.ndarray, G: int
    ) -> np.ndarray:
        kind = self._kind
        d = Z.shape[1]
        seed = self.random_state if _is_int(self.random_state) else None
        if self.penalty == "l1":
            return lin.fit_l1_loop(Z, T, groups, G, kind, float(self.alpha), seed)
        if kind == "identity":
            return lin.fit_least_squares(stats)
        const = lin.constant_groups(T, groups, G)
        l2 = float(self.alpha) if self.penalty == "l2" else 0.0
        B, _ = lin.fit_logistic(Z, T, groups, G, kind, l2=l2, max_iter=int(self.max_iter))
        if const.any():
            B[const] = lin.constant_logistic(stats.ybar[const], kind, d)
        return B

    def _to_original_units(self, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef = B[:, :, 1:] / self.feature_scale_
        intercept = B[:, :, 0] - coef @ self.feature_mean_
        if self._single_output:
            return coef[:, 0, :], intercept[:, 0]
        return coef, intercept

    # ------------------------------------------------------------------ choosing J
    def _select_n_epics(self, link_matrix, stats, Z_aug, T_aug, cell_aug, C, counts, Zv, Yv):
        grid = np.unique(np.round(np.geomspace(1, C, num=min(C, 25))).astype(int))
        logdens = lin.gaussian_log_density(Zv, self._cell_means, self._cell_prec,
                                           self.covariance_type)
        scores = []
        for J in grid:
            epics = _cut_tree(link_matrix, C, int(J))
            B = self._fit_models(lin.merge_stats(stats, epics, int(J)), Z_aug, T_aug,
                                 epics[cell_aug], int(J))
            resp = self._mix(Zv, logdens, B, epics, int(J), counts, self.weights)
            scores.append(_loss(resp, Yv, self._kind))
        scores = np.asarray(scores)
        best = scores.min()
        # keep (1 - selection_tol) of the improvement a single model leaves to the best
        ok = scores <= best + self.selection_tol * max(scores[0] - best, 0.0)
        J = int(grid[np.argmax(ok)])
        table = pd.DataFrame({"n_epics": grid, "validation_loss": scores})
        return J, table

    # ------------------------------------------------------------------ prediction
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

    def predict(self, X: Any, *, level: str = "epic", weights: str | None = None) -> np.ndarray:
        """Predict with the mixture.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        level : {"epic", "cell"}, default="epic"
            Mix the EPIC models (MLM-EPIC) or the cell models (MLM-cell).
        weights : {"soft", "hard"}, optional
            Overrides the estimator's ``weights``.

        Returns
        -------
        ndarray
            Values (regression) or class labels (classification).
        """
        R = self._response(X, level, weights)
        if self.task_ == "regression":
            return R[:, 0] if self._single_output else R
        return self.classes_[self._proba(R).argmax(axis=1)]

    def predict_proba(
        self, X: Any, *, level: str = "epic", weights: str | None = None
    ) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes) (classification only).

        The mixture mixes the local models' probabilities: ``sum_j gamma_j(x) p_j(x)``.
        """
        check_is_fitted(self, "epics_")
        if self.task_ != "classification":
            raise AttributeError("predict_proba is only available for classification.")
        return self._proba(self._response(X, level, weights))

    def _proba(self, R: np.ndarray) -> np.ndarray:
        return np.column_stack([1 - R[:, 0], R[:, 0]]) if self._kind == "sigmoid" else R

    def posterior(self, X: Any, *, level: str = "epic") -> np.ndarray:
        """Soft weights ``gamma`` of every EPIC (or cell) for each row; rows sum to 1."""
        if level not in ("epic", "cell"):
            raise ValueError(f"level must be 'epic' or 'cell'; got {level!r}.")
        Z = self._prepare(X)
        C = self.cells_.shape[0]
        groups, G = (self.epics_, self.n_epics_) if level == "epic" else (np.arange(C), C)
        ld = lin.gaussian_log_density(Z, self._cell_means, self._cell_prec, self.covariance_type)
        return lin.group_posterior(ld, self._log_weights(groups, G, self.cell_counts_), groups, G)

    def assign(self, X: Any, *, level: str = "epic") -> np.ndarray:
        """Most probable EPIC (or cell) of each row (hard assignment)."""
        return self.posterior(X, level=level).argmax(axis=1)

    def score(self, X: Any, y: Any) -> float:
        """R^2 (regression) or accuracy (classification) of :meth:`predict`."""
        from sklearn.metrics import accuracy_score, r2_score

        pred = self.predict(X)
        if self.task_ == "regression":
            return float(r2_score(y, pred))
        return float(accuracy_score(np.asarray(y).ravel(), pred))

    # ------------------------------------------------------------------ interpretation
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

    def coefficients(self, *, level: str = "epic", standardized: bool = False) -> pd.DataFrame:
        """Model coefficients as a table (one row per EPIC or cell, and output).

        Parameters
        ----------
        level : {"epic", "cell"}
        standardized : bool, default=False
            Coefficients per standard deviation of each feature (comparable across features)
            instead of per unit.
        """
        check_is_fitted(self, "epics_")
        if level not in ("epic", "cell"):
            raise ValueError(f"level must be 'epic' or 'cell'; got {level!r}.")
        B = self._B_epic if level == "epic" else self._B_cell
        if standardized:
            # per standard deviation, around the training mean (the intercept is the
            # prediction at the mean row)
            coef = B[:, :, 1:]
            icpt = B[:, :, 0]
        else:
            coef = B[:, :, 1:] / self.feature_scale_
            icpt = B[:, :, 0] - coef @ self.feature_mean_
        G, K, d = coef.shape
        df = pd.DataFrame(coef.reshape(G * K, d), columns=self._feature_names())
        df.insert(0, "intercept", icpt.reshape(-1))
        df.insert(0, "output", np.tile(self._output_names(), G))
        df.insert(0, level, np.repeat(np.arange(G), K))
        if K == 1:
            df = df.drop(columns="output")
        return df

    def _repr_html_(self) -> str:
        from glassnet._repr import repr_html

        return repr_html(self)

    def summary(self) -> pd.DataFrame:
        """One row per EPIC: cells, rows, share, mean label, mean network prediction, fit.

        Computed on the training rows used for fitting, each in the EPIC of its cell. The fit
        column is the EPIC model's RMSE (regression), AUC (binary; NaN when the EPIC holds one
        class) or accuracy (multi-class) on its own rows; ``fidelity`` compares the EPIC model
        with the network on the same rows (RMSE of values or probabilities).
        """
        check_is_fitted(self, "epics_")
        from sklearn.metrics import roc_auc_score

        J = self.n_epics_
        ep = self.epics_[self.cell_labels_]
        Zf = (self.augmented_X_[self.augmented_is_real_] - self.feature_mean_) / self.feature_scale_
        resp = lin.link(lin.predict_groups(self._B_epic, Zf, ep), self._kind)
        Y, P = self._y_fit, self._network_targets(self._net_fit)
        rows = []
        for j in range(J):
            r = ep == j
            row = {
                "epic": j,
                "n_cells": int((self.epics_ == j).sum()),
                "n_samples": int(r.sum()),
                "share": float(r.mean()),
            }
            if self.task_ == "regression":
                row["y_mean"] = float(Y[r, 0].mean())
                row["network_mean"] = float(P[r, 0].mean())
                row["rmse"] = float(np.sqrt(((resp[r] - Y[r]) ** 2).mean()))
            elif self._kind == "sigmoid":
                row["positive_rate"] = float(Y[r, 0].mean())
                row["network_mean"] = float(P[r, 0].mean())
                both = 0 < Y[r, 0].sum() < r.sum()
                row["auc"] = float(roc_auc_score(Y[r, 0], resp[r, 0])) if both else np.nan
            else:
                row["accuracy"] = float((resp[r].argmax(1) == Y[r].argmax(1)).mean())
            row["fidelity_rmse"] = float(np.sqrt(((resp[r] - P[r]) ** 2).sum(axis=1).mean()))
            rows.append(row)
        return pd.DataFrame(rows)

    def rules(
        self,
        psi: float = 0.8,
        min_size: int | None = None,
        *,
        max_depth: int = 3,
        epics: Sequence[int] | None = None,
    ) -> pd.DataFrame:
        """Explainable conditions: readable rules describing each EPIC.

        For each EPIC ``j`` a shallow decision tree separates the training rows of ``j`` from
        the others. Walking the tree from the root, the first nodes whose share of EPIC-``j``
        rows (purity) is at least ``psi`` and that hold at least ``min_size`` rows are reported,
        each as the conjunction of the conditions on its path (ranges on the same feature are
        merged; a 0/1 feature reads ``f == 1``).

        Parameters
        ----------
        psi : float, default=0.8
            Minimum purity of a reported node.
        min_size : int, optional
            Minimum rows of a reported node; default 1% of the training rows (at least 5).
        max_depth : int, default=3
            Depth of each tree (the longest rule has this many conditions before merging).
        epics : sequence of int, optional
            The EPICs to describe (default all).

        Returns
        -------
        DataFrame
            Columns ``epic``, ``rule``, ``n_samples`` (rows in the node), ``purity`` and
            ``coverage`` (share of the EPIC's rows the rule covers).
        """
        check_is_fitted(self, "epics_")
        from sklearn.tree import DecisionTreeClassifier

        if not _is_real(psi) or not 0 < psi <= 1:
            raise ValueError(f"psi must be in (0, 1]; got {psi!r}.")
        Xr = self.augmented_X_[self.augmented_is_real_]
        n = Xr.shape[0]
        if min_size is None:
            min_size = max(5, int(np.ceil(0.01 * n)))
        if not _is_int(min_size) or min_size < 1:
            raise ValueError(f"min_size must be a positive integer; got {min_size!r}.")
        if not _is_int(max_depth) or max_depth < 1:
            raise ValueError(f"max_depth must be a positive integer; got {max_depth!r}.")
        which = range(self.n_epics_) if epics is None else [int(e) for e in epics]
        for e in which:
            if not 0 <= e < self.n_epics_:
                raise ValueError(f"EPIC {e} does not exist (there are {self.n_epics_}).")
        ep = self.epics_[self.cell_labels_]
        names = self._feature_names()
        binary = np.all((Xr == 0) | (Xr == 1), axis=0)
        seed = self.random_state if _is_int(self.random_state) else 0
        out = []
        for j in which:
            target = ep == j
            size_j = int(target.sum())
            if size_j == 0:
                continue
            tree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed)
            tree.fit(Xr, target)
            t = tree.tree_
            # class counts per node: value holds fractions (sklearn >= 1.4) or counts
            frac_pos = t.value[:, 0, list(tree.classes_).index(True)] if True in tree.classes_ \
                else np.zeros(t.node_count)
            if t.value[:, 0, :].sum(axis=1).max() > 1.0 + 1e-9:
                frac_pos = frac_pos / t.value[:, 0, :].sum(axis=1)
            sizes = t.n_node_samples
            stack: list[tuple[int, list[tuple[int, str, float]]]] = [(0, [])]
            while stack:
                node, path = stack.pop()
                if frac_pos[node] >= psi and sizes[node] >= min_size:
                    npos = int(round(frac_pos[node] * sizes[node]))
                    out.append({
                        "epic": j,
                        "rule": _render_rule(path, names, binary),
                        "n_samples": int(sizes[node]),
                        "purity": float(frac_pos[node]),
                        "coverage": npos / size_j,
                    })
                    continue
                left, right = t.children_left[node], t.children_right[node]
                if left == -1:
                    continue
                f, thr = int(t.feature[node]), float(t.threshold[node])
                stack.append((right, [*path, (f, ">", thr)]))
                stack.append((left, [*path, (f, "<=", thr)]))
        df = pd.DataFrame(out, columns=["epic", "rule", "n_samples", "purity", "coverage"])
        if len(df):
            df = df.sort_values(["epic", "coverage"], ascending=[True, False], kind="stable")
        return df.reset_index(drop=True)

    def plot_coefficients(self, **kwargs: Any) -> MLMCoefficientDisplay:
        """Heatmap of the EPIC coefficients; see :meth:`MLMCoefficientDisplay.from_estimator`."""
        return MLMCoefficientDisplay.from_estimator(self, **kwargs)


# ---------------------------------------------------------------------- display
class MLMCoefficientDisplay:
    """Heatmap of EPIC (or cell) coefficients, EPICs as rows and features as columns.

    Parameters
    ----------
    coef : ndarray of shape (n_models, n_features)
    feature_names : list of str
    model_sizes : ndarray of shape (n_models,)
        Training rows per model, shown in the row labels.
    level : str
        ``"epic"`` or ``"cell"``, used in the labels.
    standardized : bool
        Whether ``coef`` is per standard deviation.

    Attributes
    ----------
    figure_, ax_, image_ : matplotlib objects, set by :meth:`plot`.
    """

    def __init__(self, coef, feature_names, model_sizes, level="epic", standardized=True):
        self.coef = np.asarray(coef, dtype=np.float64)
        self.feature_names = list(feature_names)
        self.model_sizes = np.asarray(model_sizes)
        self.level = level
        self.standardized = standardized

    @classmethod
    def from_estimator(
        cls,
        mlm: MixtureOfLinearModels,
        *,
        level: str = "epic",
        output: int = 0,
        standardized: bool = True,
        max_models: int | None = 30,
        ax: Any = None,
        cmap: str = "RdBu_r",
    ) -> MLMCoefficientDisplay:
        """Compute the heatmap values from a fitted mixture and plot them.

        Parameters
        ----------
        level : {"epic", "cell"}
        output : int
            Output (class or target) to show for multi-output models.
        standardized : bool, default=True
            Coefficients per standard deviation (comparable across features).
        max_models : int or None, default=30
            Show only the largest models (None: all).
        """
        check_is_fitted(mlm, "epics_")
        if level not in ("epic", "cell"):
            raise ValueError(f"level must be 'epic' or 'cell'; got {level!r}.")
        B = mlm._B_epic if level == "epic" else mlm._B_cell
        if not 0 <= output < B.shape[1]:
            raise ValueError(f"output must be in [0, {B.shape[1]}); got {output}.")
        coef = B[:, output, 1:]
        if not standardized:
            coef = coef / mlm.feature_scale_
        sizes = mlm.epic_counts_ if level == "epic" else mlm.cell_counts_
        order = np.argsort(-sizes, kind="stable")
        if max_models is not None:
            order = order[:max_models]
        disp = cls(coef[order], mlm._feature_names(), sizes[order], level, standardized)
        disp._ids = order
        return disp.plot(ax=ax, cmap=cmap)

    def plot(self, ax: Any = None, *, cmap: str = "RdBu_r") -> MLMCoefficientDisplay:
        import matplotlib.pyplot as plt

        if ax is None:
            h = max(2.5, 0.3 * self.coef.shape[0] + 1.5)
            w = max(4.0, 0.45 * self.coef.shape[1] + 2.5)
            fig, ax = plt.subplots(figsize=(w, h))
        else:
            fig = ax.figure
        vmax = float(np.abs(self.coef).max()) or 1.0
        im = ax.imshow(self.coef, aspect="auto", cmap=cmap, vmin=-vmax, vmax=vmax)
        ids = getattr(self, "_ids", np.arange(self.coef.shape[0]))
        ax.set_yticks(np.arange(self.coef.shape[0]))
        labels = [f"{self.level} {i} (n={s})" for i, s in zip(ids, self.model_sizes, strict=True)]
        ax.set_yticklabels(labels)
        ax.set_xticks(np.arange(len(self.feature_names)))
        ax.set_xticklabels(self.feature_names, rotation=60, ha="right")
        label = "coefficient per std. dev." if self.standardized else "coefficient"
        fig.colorbar(im, ax=ax, label=label)
        ax.set_title(f"{self.level.upper()} coefficients")
        self.figure_, self.ax_, self.image_ = fig, ax, im
        return self


# ---------------------------------------------------------------------- helpers
def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)


def _unfreeze(network: Any) -> Any:
    if type(network).__name__ == "FrozenEstimator" and hasattr(network, "estimator"):
        return network.estimator
    return network


def _index_of(classes: np.ndarray, y: np.ndarray) -> np.ndarray:
    order = np.argsort(classes)
    return order[np.searchsorted(classes[order], y)]


def _linkage(D: np.ndarray, method: str) -> np.ndarray:
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if D.shape[0] == 1:
        return np.empty((0, 4))
    return linkage(squareform(D, checks=False), method=method)


def _cut_tree(link_matrix: np.ndarray, n: int, J: int) -> np.ndarray:
    """Cluster of every leaf after the first ``n - J`` merges (exactly ``J`` clusters)."""
    parent = np.arange(2 * n - 1) if n > 1 else np.arange(1)
    for i in range(n - J):
        a, b = int(link_matrix[i, 0]), int(link_matrix[i, 1])
        parent[a] = n + i
        parent[b] = n + i
    root = parent[:n].copy()
    while True:
        nxt = parent[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return np.unique(root, return_inverse=True)[1].ravel()


def _renumber_by_size(labels: np.ndarray, counts: np.ndarray, J: int) -> np.ndarray:
    sizes = np.bincount(labels, weights=counts, minlength=J)
    order = np.lexsort((np.arange(J), -sizes))
    new = np.empty(J, dtype=np.int64)
    new[order] = np.arange(J)
    return new[labels]


def _loss(resp: np.ndarray, Y: np.ndarray, kind: str) -> float:
    if kind == "identity":
        return float(((resp - Y) ** 2).mean())
    P = np.clip(resp, 1e-12, 1 - 1e-12)
    if kind == "sigmoid":
        return float(-(Y * np.log(P) + (1 - Y) * np.log1p(-P)).mean())
    return float(-(Y * np.log(P)).sum(axis=1).mean())


def _render_rule(path: list[tuple[int, str, float]], names: list[str], binary: np.ndarray) -> str:
    if not path:
        return "(all rows)"
    lo: dict[int, float] = {}
    hi: dict[int, float] = {}
    order: list[int] = []
    for f, op, thr in path:
        if f not in order:
            order.append(f)
        if op == ">":
            lo[f] = max(lo.get(f, -np.inf), thr)
        else:
            hi[f] = min(hi.get(f, np.inf), thr)
    parts = []
    for f in order:
        name = names[f]
        a, b = lo.get(f, -np.inf), hi.get(f, np.inf)
        if binary[f] and (0 <= a < 1 or 0 <= b < 1):
            parts.append(f"{name} == 1" if a > -np.inf else f"{name} == 0")
        elif a > -np.inf and b < np.inf:
            parts.append(f"{_fmt(a)} < {name} <= {_fmt(b)}")
        elif a > -np.inf:
            parts.append(f"{name} > {_fmt(a)}")
        else:
            parts.append(f"{name} <= {_fmt(b)}")
    return " and ".join(parts)


def _fmt(v: float) -> str:
    return f"{v:.4g}"
