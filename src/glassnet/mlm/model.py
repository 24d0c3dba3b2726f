"""The estimator :class:`MixtureOfLinearModels` (MLM-EPIC); see :mod:`glassnet.mlm`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from glassnet import _metrics
from glassnet._params import (
    Integer,
    Interval,
    Options,
    RandomState,
    SequenceOf,
    validate_params,
)
from glassnet._validation import check_X, feature_names_of
from glassnet.mlm import _linear as lin
from glassnet.mlm._data import DataMixin
from glassnet.mlm._network import NetworkAdapter, network_adapter
from glassnet.mlm._steps import StepsMixin
from glassnet.mlm.rules import coefficient_table, epic_rules, epic_summary

__all__ = ["MixtureOfLinearModels"]


def _fitted_as_classifier(est: Any) -> bool:
    """``predict_proba`` exists unless the mixture was fitted as a regressor (why, in words)."""
    if getattr(est, "task_", "classification") != "classification":
        raise AttributeError("predict_proba is only available for classification; this "
                             "mixture was fitted as a regressor.")
    return True


class MixtureOfLinearModels(StepsMixin, DataMixin, BaseEstimator):
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
    n_layer_clusters : "auto", int or sequence of int, default="auto"
        Clusters per hidden layer (one value for all layers, or one per layer). ``"auto"``:
        ``min(cap, ceil(sqrt(n)))`` for ``n`` rows clustered, ``cap`` 100 for regression and
        16 for classification (chosen on held-out rows, see docs/mlm.md).
    clustering : {"kmeans", "gmm"}, default="kmeans"
        k-means, or a Gaussian mixture (full covariance, as in the reference; on held-out
        rows it was no better and 15 times slower).
    n_perturb : int, default=100
        Perturbed points ``m`` drawn around each cell mean (0 disables co-supervision).
    perturb_var : float, default=1e-2
        Variance ``eps`` of the perturbations, on standardised inputs (1e-2 was best on
        held-out rows of the three study data sets among 1e-3, 3e-3, 1e-2 and 3e-2).
    n_epics : "auto" or int, default="auto"
        Number of EPICs. ``"auto"`` holds out ``validation_fraction`` of the rows, runs the
        four steps on the rest, scores a geometric grid of EPIC counts from 1 to the number of
        cells on the held-out rows (mean squared error, or log-loss) next to the network's own
        held-out loss, picks a count by the rule of ``selection_tol``, then fits the mixture
        on all rows with that many EPICs. An integer larger than the number of cells is
        reduced to it (with a warning).
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
    selection_tol : float, default=0.2
        Rule of ``n_epics="auto"``, which keeps the mixture close to the network: the smallest
        number of EPICs whose held-out excess loss over the network, ``E_J = L_J - L_net``, is
        at most ``E + selection_tol * max(E, 0.05 L_net)``, ``E`` the smallest excess any count
        reaches (0: the best count; larger values give fewer, larger EPICs, easier to
        validate).
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
    cells_ : ndarray of shape (n_cells, ``n_layers_``)
        The observed tuples of layer cluster labels, one row per cell (sorted).
    cell_counts_ : ndarray of shape (n_cells,)
        Training rows per cell.
    cell_labels_ : ndarray of shape (n_samples,)
        Cell of each training row.
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
    epic_counts_ : ndarray of shape (``n_epics_``,)
    coef_, intercept_ : ndarray
        EPIC models in the original input units (shapes as ``cell_coef_``).
    epic_scores_ : DataFrame or None
        With ``n_epics="auto"``: the held-out loss of every candidate number of EPICs
        (``n_epics``, ``validation_loss``) and the network's on the same rows
        (``network_loss``), from the fit on ``1 - validation_fraction`` of the rows.
    augmented_X_, augmented_y_, augmented_cell_, augmented_is_real_ : ndarray
        The co-supervision data: every training row and perturbed point (original units),
        its target (true label, or the network's prediction: values or probabilities), its
        cell, and whether it is a real row. Lets a validator audit what the models were fitted
        on.
    fit_times_ : dict
        Seconds spent in each step of :meth:`fit` (``n_epics_selection``: the whole
        held-out fit of ``n_epics="auto"``).

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
        n_layer_clusters: int | str | Sequence[int] = "auto",
        clustering: str = "kmeans",
        n_perturb: int = 100,
        perturb_var: float = 1e-2,
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
        selection_tol: float = 0.2,
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

        The four steps of MLM-EPIC, in order: cluster every hidden layer's outputs and form
        the cells; draw perturbed points around each cell and label them with the network;
        fit one co-supervised linear (or logistic) model per cell; merge the cells into EPICs
        by their prediction disparity and fit the soft weights.

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
        t_start = time.perf_counter()
        self._check_params()
        adapter = network_adapter(_unfreeze(self.network))
        X, Y = self._validate_data(adapter, X, y)
        rng = check_random_state(self.random_state)
        self.fit_times_ = {}
        n_epics, scores = self.n_epics, None
        if n_epics == "auto":  # the four steps on part of the rows, scored on the rest
            n_epics, scores = self._choose_n_epics(adapter, X, Y, y, rng)
            self.fit_times_ = {"n_epics_selection": time.perf_counter() - t_start}

        cell_of_row = self._cluster_layers(adapter, X, Y, rng)  # 1. layer clustering -> cells
        aug = self._co_supervise(adapter, X, Y, cell_of_row, rng)  # 2. perturbed points
        B_cell = self._fit_cell_models(aug)  # 3. one co-supervised model per cell
        self._merge_into_epics(aug, B_cell, n_epics)  # 4. EPICs and soft weights
        self.epic_scores_ = scores
        self.fit_times_["total"] = time.perf_counter() - t_start
        return self

    def _validate_data(self, adapter: NetworkAdapter, X: Any, y: Any) -> tuple[np.ndarray, ...]:
        """Checked float64 rows (columns in the network's order), and encoded targets."""
        names = feature_names_of(X)
        X = check_X(X, n_features=adapter.n_features,
                    feature_names=adapter.feature_names if names is not None else None)
        if names is None:
            names = adapter.feature_names
        elif adapter.feature_names is not None:
            names = list(adapter.feature_names)  # check_X reordered the columns to these
        self.n_features_in_ = X.shape[1]
        if names is not None:
            self.feature_names_in_ = np.asarray(names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self.task_ = self._resolve_task(adapter, y, X.shape[0])
        return X, self._encode_targets(y, X.shape[0], adapter)

    # ------------------------------------------------------------------ parameter handling
    # What each parameter may be, checked by glassnet._params.validate_params at the start of
    # fit (and by persistence on a loaded mixture). ``network`` is checked by the adapter.
    _parameter_constraints: dict[str, list[Any]] = {
        "n_layer_clusters": [Options("auto"), Integer(1), SequenceOf(Integer(1))],
        "clustering": [Options("kmeans", "gmm")],
        "n_perturb": [Integer(0)],
        "perturb_var": [Interval("real", 0, None)],
        "n_epics": [Options("auto"), Integer(1)],
        "linkage": [Options("ward", "average", "complete", "single", "weighted")],
        "weights": [Options("soft", "hard")],
        "prior": [Options("size", "uniform")],
        "covariance_type": [Options("full", "tied", "diag", "spherical")],
        "covariance_source": [Options("real", "augmented")],
        "covariance_shrinkage": [Interval("real", 0, None)],
        "reg_covar": [Interval("real", 0, None)],
        "penalty": [None, Options("l1", "l2")],
        "alpha": [Interval("real", 0, None, closed="neither")],
        "task": [Options("auto", "regression", "classification")],
        "validation_fraction": [Interval("real", 0, 1, closed="neither")],
        "selection_tol": [Interval("real", 0, None)],
        "max_iter": [Integer(1)],
        "random_state": [None, RandomState()],
    }

    def _check_params(self) -> None:
        validate_params(self)

    # ------------------------------------------------------------------ prediction
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

    @available_if(_fitted_as_classifier)
    def predict_proba(
        self, X: Any, *, level: str = "epic", weights: str | None = None
    ) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes) (classification only).

        The mixture mixes the local models' probabilities: ``sum_j gamma_j(x) p_j(x)``. A
        mixture fitted as a regressor has no ``predict_proba`` (``hasattr`` is False), as
        scikit-learn's estimators do.
        """
        check_is_fitted(self, "epics_")
        return self._proba(self._response(X, level, weights))

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
        """R^2 (regression) or accuracy (classification) of :meth:`predict`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values or class labels.

        Returns
        -------
        float
            For several targets, the mean of their R^2 (scikit-learn's ``uniform_average``).
        """
        pred = self.predict(X)
        if self.task_ == "classification":
            return _metrics.accuracy(np.asarray(y).ravel(), pred)
        if pred.ndim == 1:
            return _metrics.r2(y, pred)
        from sklearn.metrics import r2_score

        return float(r2_score(y, pred))

    # ------------------------------------------------------------------ interpretation
    def coefficients(self, *, level: str = "epic", standardized: bool = False) -> pd.DataFrame:
        """Model coefficients as a table (one row per EPIC or cell, and output).

        Parameters
        ----------
        level : {"epic", "cell"}
        standardized : bool, default=False
            Coefficients per standard deviation of each feature (comparable across features)
            instead of per unit; the intercept is then the prediction at the mean row.

        Returns
        -------
        DataFrame
        """
        return coefficient_table(self, level, standardized)

    def _repr_html_(self) -> str:
        from glassnet._repr import repr_html

        return repr_html(self)

    def summary(self) -> pd.DataFrame:
        """One row per EPIC: cells, rows, share, mean label, mean network prediction, fit.

        Computed on the training rows used for fitting, each in the EPIC of its cell. The fit
        column is the EPIC model's RMSE (regression), AUC (binary; NaN when the EPIC holds one
        class) or accuracy (multi-class) on its own rows; ``fidelity_rmse`` compares the EPIC
        model with the network on the same rows (RMSE of values or probabilities).

        Returns
        -------
        DataFrame
        """
        return epic_summary(self)

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
        return epic_rules(self, psi, min_size, max_depth, epics)

    def plot_coefficients(self, **kwargs: Any) -> Any:
        """Heatmap of the EPIC coefficients; see
        :meth:`glassnet.plotting.mlm.MLMCoefficientDisplay.from_estimator`."""
        from glassnet.plotting.mlm import MLMCoefficientDisplay

        return MLMCoefficientDisplay.from_estimator(self, **kwargs)


def _unfreeze(network: Any) -> Any:
    if type(network).__name__ == "FrozenEstimator" and hasattr(network, "estimator"):
        return network.estimator
    return network
