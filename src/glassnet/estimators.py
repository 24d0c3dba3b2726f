"""Train ReLU networks with a scikit-learn API: ReluNetClassifier and ReluNetRegressor.

Both estimators train a fully connected ReLU network with PyTorch (Adam, mini-batches, an
optional L1 penalty on the weights, early stopping on a validation split) and expose the
trained network as a float64 :class:`~glassnet.ReluNetwork` in ``network_``, so that
``glassnet.unwrap(est.network_, X)`` gives the exact local linear models of the model that
``predict`` uses: every prediction is computed by ``network_`` in float64, not by torch.

Raw data work as they are: inputs are standardised for training and the scaling is folded
into the first layer of ``network_`` (``standardize=True``), so the network and every local
linear model stay in the original units; categorical columns are one-hot encoded inside the
estimator (``categorical_features``, :meth:`~ReluNetClassifier.transform_inputs`), and the
network records which inputs encode which column (``network_.feature_groups``).

The training loop itself is :func:`train_relu_network` (in :mod:`glassnet._training`), a
plain function on NumPy arrays that also accepts initial weights (used to fine-tune a given
network, for example a flattened merged model).

Reproducibility
---------------
All randomness (weight initialisation, the validation split, the order of mini-batches) is
drawn from generators seeded by ``random_state``; torch's and NumPy's global random states
are neither read nor changed. On CPU, two fits with the same integer ``random_state``, data
and torch thread count give bitwise equal networks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, column_or_1d

from glassnet._estimator_inputs import (
    InputsMixin,
    fold_standardization,
    unfold_standardization,
)
from glassnet._params import (
    Boolean,
    Constraint,
    InstanceOf,
    Integer,
    Interval,
    RandomState,
    SequenceOf,
    is_int,
    validate_params,
)
from glassnet._training import TrainingResult, train_relu_network
from glassnet.io import as_network
from glassnet.network import ReluNetwork

__all__ = [
    "ReluNetClassifier",
    "ReluNetRegressor",
    "TrainingResult",
    "train_relu_network",
]

# ---------------------------------------------------------------------- estimators
class TorchDevice(Constraint):
    """A torch device: a string such as ``"cpu"`` or ``"cuda:0"``, or a ``torch.device``."""

    def right_type(self, value: Any) -> bool:
        return isinstance(value, str) or type(value).__name__ == "device"

    def accepts(self, value: Any) -> bool:
        if not self.right_type(value):
            return False
        import torch  # only when fit runs, which needs torch anyway

        try:
            torch.device(value)
        except (RuntimeError, TypeError, ValueError):
            return False
        return True

    def __str__(self) -> str:
        return "a torch device such as 'cpu' or 'cuda'"


def _make_network(Ws, bs, output, names, groups) -> ReluNetwork:
    """The fitted network: inputs named, one-hot columns grouped by original column."""
    return ReluNetwork(Ws, bs, output, names, feature_groups=groups or None)


class _BaseReluNet(InputsMixin, BaseEstimator):
    """Shared parameters, validation and training of the two estimators."""

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (40, 40),
        *,
        standardize: bool = True,
        categorical_features: Any = None,
        l1_reg: float = 0.0,
        learning_rate: float = 1e-3,
        batch_size: int = 100,
        max_epochs: int = 500,
        validation_fraction: float = 0.1,
        n_iter_no_change: int | None = 20,
        tol: float = 1e-4,
        random_state: Any = None,
        verbose: bool | int = False,
        device: str = "cpu",
        n_jobs: int | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.standardize = standardize
        self.categorical_features = categorical_features
        self.l1_reg = l1_reg
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose
        self.device = device
        self.n_jobs = n_jobs

    # ---- parameter checks
    # What each parameter may be, checked by glassnet._params.validate_params at the start of
    # fit; the columns named by ``categorical_features`` are checked against X later.
    _parameter_constraints: dict[str, list[Any]] = {
        "hidden_layer_sizes": [Integer(1), SequenceOf(Integer(1))],
        "standardize": [Boolean()],
        "categorical_features": [None, InstanceOf(str), Integer(0),
                                 SequenceOf(InstanceOf(str), Integer(0), min_length=0)],
        "l1_reg": [Interval("real", 0, None)],
        "learning_rate": [Interval("real", 0, None, closed="neither")],
        "batch_size": [Integer(1)],
        "max_epochs": [Integer(1)],
        "validation_fraction": [Interval("real", 0, 1, closed="left")],
        "n_iter_no_change": [None, Integer(1)],
        "tol": [Interval("real", 0, None)],
        "random_state": [None, RandomState()],
        "verbose": [Boolean(), Integer(0)],
        "device": [TorchDevice()],
        "n_jobs": [None, Interval("integer", None, -1), Integer(1)],
    }

    def _hidden_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        return (int(sizes),) if is_int(sizes) else tuple(int(h) for h in sizes)

    def _n_threads(self) -> int:
        import os

        n = self.n_jobs
        if n is None:
            return 1
        cores = os.cpu_count() or 1
        return int(n) if n > 0 else max(1, cores + 1 + int(n))

    def _split(self, X, Y, w, seed, stratify):
        n = X.shape[0]
        vf = float(self.validation_fraction)
        n_val = int(math.ceil(vf * n)) if vf > 0 else 0
        if n_val < 1 or n - n_val < 1:
            return X, Y, w, None, None, None
        if stratify is not None:
            _, counts = np.unique(stratify, return_counts=True)
            if counts.min() < 2 or n_val < counts.size or n - n_val < counts.size:
                stratify = None
        Xtr, Xv, Ytr, Yv, wtr, wv = train_test_split(
            X, Y, w, test_size=n_val, random_state=seed % (2**32), stratify=stratify
        )
        return Xtr, Ytr, wtr, Xv, Yv, wv

    def _fit_network(self, X, Y, w, *, loss, n_outputs, stratify, init_network, out_scale):
        sizes = self._hidden_sizes()
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        init = None
        if init_network is not None:
            init = self._check_init_network(init_network, X.shape[1], n_outputs, out_scale)
            sizes = init_network.hidden_sizes
        self._set_standardization(X, w)
        if init is not None:  # init_network works on raw inputs; training sees standardised ones
            init = unfold_standardization(init[0], init[1], self.input_mean_, self.input_scale_)
        X = (X - self.input_mean_) / self.input_scale_
        Xtr, Ytr, wtr, Xv, Yv, wv = self._split(X, Y, w, seed, stratify)
        start = time.perf_counter()
        res = train_relu_network(
            Xtr,
            Ytr,
            loss=loss,
            hidden_layer_sizes=sizes,
            n_outputs=n_outputs,
            init=init,
            l1_reg=self.l1_reg,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            max_epochs=self.max_epochs,
            sample_weight=wtr,
            X_val=Xv,
            Y_val=Yv,
            sample_weight_val=wv,
            n_iter_no_change=self.n_iter_no_change,
            tol=self.tol,
            seed=seed,
            verbose=self.verbose,
            device=self.device,
            desc=type(self).__name__,
            num_threads=self._n_threads(),
        )
        self.fit_time_ = time.perf_counter() - start
        self.loss_curve_ = res.loss_curve
        self.validation_loss_curve_ = res.validation_loss_curve
        self.n_epochs_ = res.n_epochs
        self.best_epoch_ = res.best_epoch
        self.best_loss_ = res.best_loss
        self.n_iter_ = res.n_epochs
        return res

    def _check_init_network(self, net, n_features, n_outputs, out_scale):
        net = as_network(net)
        if net.n_features != n_features:
            raise ValueError(
                f"init_network has {net.n_features} inputs but X has {n_features} features."
            )
        if net.n_outputs != n_outputs:
            raise ValueError(
                f"init_network has {net.n_outputs} outputs; this task needs {n_outputs}."
            )
        Ws, bs = list(net.weights), list(net.biases)
        if out_scale is not None:  # undo the target standardisation folded into the output
            mean, std = out_scale
            Ws[-1] = Ws[-1] / std[:, None]
            bs[-1] = (bs[-1] - mean) / std
        return Ws, bs

    def _network(self, res: TrainingResult, output: str, out_scale=None) -> ReluNetwork:
        Ws, bs = fold_standardization(
            list(res.weights), list(res.biases), self.input_mean_, self.input_scale_
        )
        if out_scale is not None:
            mean, std = out_scale
            Ws[-1] = Ws[-1] * std[:, None]
            bs[-1] = bs[-1] * std + mean
        encoder = self._input_encoder()
        if encoder is None:
            names = getattr(self, "feature_names_in_", None)
            names = None if names is None else [str(f) for f in names]
            self.feature_groups_ = None
        else:
            names = list(encoder.feature_names_out)
            self.feature_groups_ = {
                encoder.columns[j]: encoder.groups[encoder.columns[j]] for j in encoder.categorical
            }
            self.categorical_features_ = [encoder.columns[j] for j in encoder.categorical]
        return _make_network(Ws, bs, output, names, self.feature_groups_)

    def _raw(self, X: Any) -> np.ndarray:
        X = self.transform_inputs(X)
        # The fitted network is the model: predictions come from its float64 forward pass.
        return self.network_.forward(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


class ReluNetClassifier(ClassifierMixin, _BaseReluNet):
    """A ReLU network classifier trained with PyTorch (Adam, L1, early stopping).

    Binary targets get one sigmoid output, ``K > 2`` classes a softmax over ``K`` outputs.
    The trained network is ``network_``, a float64 :class:`~glassnet.ReluNetwork`; every
    prediction is computed from it, so ``glassnet.unwrap(clf.network_, X)`` describes
    exactly the model that ``predict_proba`` uses.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default=(40, 40)
        Width of each hidden layer.
    standardize : bool, default=True
        Train on standardised inputs ``(x - mean) / std`` (mean and standard deviation
        weighted by ``sample_weight`` over all rows given to ``fit``, the early-stopping
        validation rows included; never test rows) and fold the scaling into the first
        layer of ``network_``, so the network, its regions and every local linear model
        stay in the original units of ``X``. Constant columns get scale 1. One-hot columns
        are left as 0/1. Raw features on very different scales (amounts in the millions next
        to 0/1 flags) train badly without it.
    categorical_features : list of str or int, optional
        Columns (names or positions) to one-hot encode, in addition to the DataFrame
        columns of ``category``, ``object`` or string dtype, which always are. Integer-coded
        categories listed here are encoded exactly like the same categories given as a
        ``category`` column. Encoding uses scikit-learn's
        ``OneHotEncoder(handle_unknown="ignore")``: categories unseen in training become all
        zeros (with a warning). See :meth:`transform_inputs` and ``feature_groups_``.
    l1_reg : float, default=0.0
        L1 penalty ``l1_reg * sum |W|`` on the weights of every layer (not the biases),
        added to the mean loss of each mini-batch. Larger values give fewer activation
        regions (see :func:`glassnet.l1_path`).
    learning_rate : float, default=1e-3
        Adam's step size.
    batch_size : int, default=100
        Rows per mini-batch (capped at the number of training rows). Chosen on validation
        rows carved from TaiwanCredit's training rows (docs/training.md).
    max_epochs : int, default=500
        Maximum passes over the training rows.
    validation_fraction : float, default=0.1
        Share of the rows held out (stratified by class where possible) to monitor the
        validation loss for early stopping. 0 monitors the training objective instead.
    n_iter_no_change : int or None, default=20
        Stop after this many epochs without an improvement larger than ``tol`` of the
        monitored loss. None always trains ``max_epochs`` epochs. Either way the weights of
        the epoch with the lowest monitored loss are restored (``best_epoch_``).
    tol : float, default=1e-4
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the validation split and the batch order. With an int,
        CPU fits are bitwise reproducible; the global torch/NumPy random state is not used.
    verbose : bool or int, default=False
        Show a progress bar (epoch, training loss, validation loss).
    device : str, default="cpu"
        Torch device used for training, e.g. ``"cuda"``. ``network_`` always lives in NumPy.
    n_jobs : int or None, default=None
        Torch threads while training (None: 1, the fastest for small dense networks and
        independent of the machine; -1: all cores). Torch's global thread setting is
        restored after ``fit``.

    Attributes
    ----------
    network_ : ReluNetwork
        The trained network (output link ``"sigmoid"`` for two classes, ``"softmax"``
        otherwise) with the feature names of ``X`` when it was a DataFrame.
    classes_ : ndarray of shape (n_classes,)
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had string column names.
    input_mean_, input_scale_ : ndarray of shape (n_network_inputs,)
        The standardisation folded into ``network_`` (0 and 1 where not applied).
    categorical_features_ : list of str
        The one-hot encoded columns (empty without).
    categories_ : list of list, or None
        The categories of each of ``categorical_features_`` seen in training (sorted);
        one network input each.
    feature_groups_ : dict of str to tuple of str, or None
        Categorical column -> its one-hot columns among the network's inputs (also
        ``network_.feature_groups``); None without categorical columns.
    loss_curve_ : list of float
        Training objective (loss + penalty) per epoch.
    validation_loss_curve_ : list of float
        Validation log-loss per epoch (empty when no validation split was used).
    n_epochs_ : int
        Epochs run (``n_iter_`` is an alias).
    best_epoch_ : int
        Epoch whose weights were restored.
    best_loss_ : float
        Monitored loss at ``best_epoch_``.
    fit_time_ : float
        Seconds spent in the training loop.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from glassnet import ReluNetClassifier, unwrap
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> clf = ReluNetClassifier((8, 8), learning_rate=0.01, max_epochs=50,
    ...                         random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (200, 2)
    >>> regions = unwrap(clf.network_, X)
    >>> bool(regions.max_abs_error < 1e-9)
    True
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, init_network: Any = None):
        """Train the network.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Raw features: numbers in any units (see ``standardize``) and categorical columns
            (see ``categorical_features``).
        y : array-like of shape (n_samples,)
            Class labels of any type.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative row weights in the loss.
        init_network : ReluNetwork or model accepted by ``glassnet.io.as_network``, optional
            Start from these weights instead of a random initialisation (fine-tuning);
            its shape overrides ``hidden_layer_sizes``.

        Returns
        -------
        self
        """
        validate_params(self)
        X, y = self._validate_fit(X, y)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        enc = LabelEncoder()
        codes = enc.fit_transform(y)
        self.classes_ = enc.classes_
        K = self.classes_.shape[0]
        if K < 2:
            raise ValueError(
                f"y has only one class ({self.classes_[0]!r}); a classifier needs at least 2 "
                "classes."
            )
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not w.sum() > 0:
            raise ValueError("sample_weight sums to 0; at least one row needs a positive weight.")
        if K == 2:
            Y, loss, n_out, link = codes[:, None].astype(np.float64), "bce", 1, "sigmoid"
        else:
            Y, loss, n_out, link = codes, "ce", K, "softmax"
        res = self._fit_network(
            X, Y, w, loss=loss, n_outputs=n_out, stratify=codes, init_network=init_network,
            out_scale=None,
        )
        self.network_ = self._network(res, link)
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """Raw network output (logits): shape (n,) for two classes, (n, n_classes) otherwise."""
        eta = self._raw(X)
        return eta[:, 0] if self.classes_.shape[0] == 2 else eta

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, n_classes), columns in the order of ``classes_``."""
        eta = self._raw(X)
        p = self.network_.apply_link(eta)
        if self.classes_.shape[0] == 2:
            return np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably from the logits."""
        from scipy.special import log_expit, log_softmax

        eta = self._raw(X)
        if self.classes_.shape[0] == 2:
            return np.hstack([log_expit(-eta), log_expit(eta)])
        return log_softmax(eta, axis=1)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row."""
        eta = self._raw(X)
        if self.classes_.shape[0] == 2:
            return self.classes_[(eta[:, 0] > 0).astype(np.intp)]
        return self.classes_[np.argmax(eta, axis=1)]


class ReluNetRegressor(RegressorMixin, _BaseReluNet):
    """A ReLU network regressor trained with PyTorch (Adam, L1, early stopping).

    One or several targets (identity output). Targets are standardised for training (with
    the sample weights) and the scaling is folded back into the output layer, so
    ``network_`` predicts on the original scale and stays an exact ReLU network.

    Parameters
    ----------
    hidden_layer_sizes, standardize, categorical_features, l1_reg, learning_rate, batch_size, \
max_epochs, validation_fraction, n_iter_no_change, tol, random_state, verbose, device, n_jobs
        As in :class:`ReluNetClassifier`. The loss is the (weighted) squared error of the
        standardised targets, summed over targets; ``validation_fraction`` splits at random.

    Attributes
    ----------
    network_ : ReluNetwork
        The trained network (identity output).
    n_outputs_ : int
    loss_curve_, validation_loss_curve_, n_epochs_, best_epoch_, best_loss_, fit_time_
        As in :class:`ReluNetClassifier` (losses on the standardised scale).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, (300, 2))
    >>> y = np.abs(X[:, 0]) + X[:, 1]
    >>> reg = ReluNetRegressor((16,), learning_rate=0.01, max_epochs=100,
    ...                        random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3,)
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, init_network: Any = None):
        """Train the network.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), optional
        init_network : ReluNetwork or model accepted by ``glassnet.io.as_network``, optional
            Start from these weights (on the original target scale) instead of a random
            initialisation.

        Returns
        -------
        self
        """
        validate_params(self)
        X, y = self._validate_fit(X, y)
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        Y = y[:, None] if y.ndim == 1 else y
        if Y.shape[1] == 0:
            raise ValueError("y has no target columns.")
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not w.sum() > 0:
            raise ValueError("sample_weight sums to 0; at least one row needs a positive weight.")
        mean = np.average(Y, axis=0, weights=w)
        std = np.sqrt(np.average((Y - mean) ** 2, axis=0, weights=w))
        std = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
        self.n_outputs_ = Y.shape[1]
        res = self._fit_network(
            X, (Y - mean) / std, w, loss="mse", n_outputs=Y.shape[1], stratify=None,
            init_network=init_network, out_scale=(mean, std),
        )
        self.network_ = self._network(res, "identity", out_scale=(mean, std))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Network output: shape (n,) for a 1-D ``y`` at fit time, else (n, n_targets)."""
        out = self._raw(X)
        return out[:, 0] if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
