"""Train ReLU networks with a scikit-learn API: ReluNetClassifier and ReluNetRegressor.

Both estimators train a fully connected ReLU network with PyTorch (Adam, mini-batches, an
optional L1 penalty on the weights, early stopping on a validation split) and expose the
trained network as a float64 :class:`~glassnet.ReluNetwork` in ``network_``, so that
``glassnet.unwrap(est.network_, X)`` gives the exact local linear models of the model that
``predict`` uses: every prediction is computed by ``network_`` in float64, not by torch.

The training loop itself is :func:`train_relu_network`, a plain function on NumPy arrays that
also accepts initial weights (used to fine-tune a given network, for example a flattened
merged model).

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from glassnet.network import ReluNetwork

__all__ = [
    "ReluNetClassifier",
    "ReluNetRegressor",
    "TrainingResult",
    "train_relu_network",
]

_LOSSES = ("bce", "ce", "mse")


# ---------------------------------------------------------------------- training core
@dataclass
class TrainingResult:
    """What :func:`train_relu_network` returns.

    Attributes
    ----------
    weights, biases : list of ndarray (float64)
        The restored (best) parameters, ``weights[i]`` of shape ``(n_out, n_in)``, in the
        layout of :class:`~glassnet.ReluNetwork`.
    loss_curve : list of float
        Training objective per epoch (data loss plus L1 penalty, mean over mini-batches).
    validation_loss_curve : list of float
        Data loss on the validation rows after each epoch (empty without validation data).
    n_epochs : int
        Epochs run.
    best_epoch : int
        The epoch (1-based) whose weights were restored; 0 means the initial weights.
    best_loss : float
        The monitored loss at ``best_epoch`` (validation loss when validation data were
        given, otherwise the training objective).
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    loss_curve: list[float] = field(default_factory=list)
    validation_loss_curve: list[float] = field(default_factory=list)
    n_epochs: int = 0
    best_epoch: int = 0
    best_loss: float = math.inf


def train_relu_network(
    X: np.ndarray,
    Y: np.ndarray,
    *,
    loss: str,
    hidden_layer_sizes: Sequence[int] = (40, 40),
    n_outputs: int | None = None,
    init: tuple[Sequence[np.ndarray], Sequence[np.ndarray]] | None = None,
    l1_reg: float = 0.0,
    learning_rate: float = 1e-3,
    batch_size: int = 500,
    max_epochs: int = 500,
    sample_weight: np.ndarray | None = None,
    X_val: np.ndarray | None = None,
    Y_val: np.ndarray | None = None,
    sample_weight_val: np.ndarray | None = None,
    n_iter_no_change: int | None = 20,
    tol: float = 1e-4,
    seed: int = 0,
    verbose: bool | int = False,
    device: str = "cpu",
    desc: str = "training",
    num_threads: int | None = 1,
) -> TrainingResult:
    """Train a ReLU network with Adam on validated NumPy arrays.

    This is the loop behind :class:`ReluNetClassifier` and :class:`ReluNetRegressor`; it
    does no input validation beyond shapes, so call it with clean float arrays.

    The objective per mini-batch ``B`` is::

        sum_{i in B} w_i * loss_i / sum_{i in B} w_i  +  l1_reg * sum_l sum |W_l|

    (the penalty acts on the weights of every layer, never on the biases).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    Y : ndarray
        ``loss="bce"``: 0/1 targets of shape (n, k) (k independent sigmoid outputs);
        ``loss="ce"``: class indices of shape (n,) (softmax over ``n_outputs`` classes);
        ``loss="mse"``: targets of shape (n, k).
    loss : {"bce", "ce", "mse"}
    hidden_layer_sizes : sequence of int
        Ignored when ``init`` is given (its shapes are used).
    n_outputs : int, optional
        Output width; default ``Y.shape[1]`` (``"bce"``, ``"mse"``) or ``Y.max() + 1``.
    init : (weights, biases), optional
        Initial parameters in :class:`~glassnet.ReluNetwork` layout (``weights[i]`` of shape
        ``(n_out, n_in)``), for example ``(list(net.weights), list(net.biases))``. Default:
        PyTorch's ``nn.Linear`` initialisation drawn from a generator seeded by ``seed``.
    l1_reg, learning_rate, batch_size, max_epochs
        See :class:`ReluNetClassifier`.
    sample_weight, sample_weight_val : ndarray of shape (n,), optional
    X_val, Y_val : ndarray, optional
        Validation rows; when given, early stopping and the restored weights use their loss.
    n_iter_no_change : int or None
        Stop after this many epochs without an improvement of the monitored loss by more
        than ``tol``; None trains ``max_epochs`` epochs. The weights of the epoch with the
        lowest monitored loss are restored in either case.
    tol : float
    seed : int
        Seeds the generator used for the initialisation and the batch order.
    verbose : bool or int
        Show a tqdm progress bar with the epoch, training and validation loss.
    device : str
        A torch device (``"cpu"``, ``"cuda"``, ...).
    desc : str
        Label of the progress bar.
    num_threads : int or None, default=1
        Torch intra-op threads while training (set with ``torch.set_num_threads`` and
        restored afterwards); None leaves torch's setting alone. One thread is the fastest
        for the small dense networks this library targets, and makes results independent
        of the machine's core count.

    Returns
    -------
    TrainingResult
    """
    import torch

    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}; got {loss!r}.")
    dev = torch.device(device)
    dtype = torch.float32
    gen = torch.Generator(device="cpu")
    gen.manual_seed(int(seed))
    n, d = X.shape
    if n_outputs is None:
        n_outputs = int(Y.max()) + 1 if loss == "ce" else int(Y.shape[1])

    # ---- parameters
    params: list[torch.Tensor] = []
    if init is not None:
        W0, b0 = list(init[0]), list(init[1])
        for W, b in zip(W0, b0, strict=True):
            params.append(torch.tensor(np.asarray(W), dtype=dtype, device=dev))
            params.append(torch.tensor(np.asarray(b), dtype=dtype, device=dev))
    else:
        sizes = [d, *[int(h) for h in hidden_layer_sizes], n_outputs]
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            # the scheme of torch.nn.Linear.reset_parameters, with our own generator
            bound = 1.0 / math.sqrt(fan_in)
            W = (torch.rand((fan_out, fan_in), generator=gen, dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand((fan_out,), generator=gen, dtype=torch.float64) * 2 - 1) * bound
            params.append(W.to(device=dev, dtype=dtype))
            params.append(b.to(device=dev, dtype=dtype))
    for p in params:
        p.requires_grad_(True)
    weights = params[0::2]
    biases = params[1::2]

    def forward(a: torch.Tensor) -> torch.Tensor:
        for W, b in zip(weights[:-1], biases[:-1], strict=True):
            a = torch.relu(torch.addmm(b, a, W.T))
        return torch.addmm(biases[-1], a, weights[-1].T)

    def data_loss(out: torch.Tensor, target: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if loss == "bce":
            per = torch.nn.functional.binary_cross_entropy_with_logits(
                out, target, reduction="none"
            ).sum(dim=1)
        elif loss == "ce":
            per = torch.nn.functional.cross_entropy(out, target, reduction="none")
        else:
            per = ((out - target) ** 2).sum(dim=1)
        return (per * w).sum() / w.sum().clamp_min(1e-300)

    def to_t(a: np.ndarray, target: bool = False) -> torch.Tensor:
        if target and loss == "ce":
            return torch.as_tensor(np.asarray(a, dtype=np.int64), device=dev)
        return torch.as_tensor(np.asarray(a, dtype=np.float32), device=dev)

    Xt, Yt = to_t(X), to_t(Y, True)
    wt = to_t(np.ones(n) if sample_weight is None else sample_weight)
    has_val = X_val is not None and Y_val is not None and len(X_val) > 0
    if has_val:
        Xv, Yv = to_t(X_val), to_t(Y_val, True)
        wv = to_t(np.ones(len(X_val)) if sample_weight_val is None else sample_weight_val)

    optimizer = torch.optim.Adam(params, lr=float(learning_rate))
    l1 = float(l1_reg)
    bs = max(1, min(int(batch_size), n))

    def snapshot() -> list[np.ndarray]:
        return [p.detach().to("cpu", torch.float64).numpy().copy() for p in params]

    result = TrainingResult(weights=[], biases=[])
    best_state = snapshot()
    best = math.inf
    since_best = 0
    bar = None
    old_threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(int(num_threads))
    if verbose:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(max_epochs), desc=desc, unit="epoch", leave=True)
    try:
        for epoch in range(1, int(max_epochs) + 1):
            order = torch.randperm(n, generator=gen).to(dev)
            total = 0.0
            for s in range(0, n, bs):
                idx = order[s : s + bs]
                optimizer.zero_grad(set_to_none=True)
                obj = data_loss(forward(Xt[idx]), Yt[idx], wt[idx])
                obj.backward()
                batch_obj = float(obj.detach())
                if l1 > 0:
                    # the penalty's (sub)gradient l1 * sign(W), added outside autograd (cheaper)
                    with torch.no_grad():
                        for W in weights:
                            W.grad.add_(torch.sign(W), alpha=l1)
                            batch_obj += l1 * float(W.abs().sum())
                optimizer.step()
                total += batch_obj * idx.shape[0]
            train_loss = total / n
            if not math.isfinite(train_loss):
                raise FloatingPointError(
                    f"The training loss became {train_loss} at epoch {epoch}; lower "
                    "learning_rate or scale the inputs (and targets)."
                )
            result.loss_curve.append(train_loss)
            monitored = train_loss
            if has_val:
                with torch.no_grad():
                    monitored = float(data_loss(forward(Xv), Yv, wv))
                result.validation_loss_curve.append(monitored)
            result.n_epochs = epoch
            if monitored < best:
                if monitored < best - tol:
                    since_best = 0
                else:
                    since_best += 1
                best = monitored
                result.best_epoch = epoch
                best_state = snapshot()
            else:
                since_best += 1
            if bar is not None:
                post = {"loss": f"{train_loss:.4g}"}
                if has_val:
                    post["val_loss"] = f"{monitored:.4g}"
                bar.set_postfix(post, refresh=False)
                bar.update(1)
            if n_iter_no_change is not None and since_best >= n_iter_no_change:
                break
    finally:
        if bar is not None:
            bar.close()
        if torch.get_num_threads() != old_threads:
            torch.set_num_threads(old_threads)
    result.best_loss = best
    result.weights = best_state[0::2]
    result.biases = best_state[1::2]
    return result


# ---------------------------------------------------------------------- estimators
class _BaseReluNet(BaseEstimator):
    """Shared parameters, validation and training of the two estimators."""

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (40, 40),
        *,
        l1_reg: float = 0.0,
        learning_rate: float = 1e-3,
        batch_size: int = 500,
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
    def _check_params(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, (int, np.integer)) and not isinstance(sizes, bool):
            sizes = (int(sizes),)
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(
                f"hidden_layer_sizes must be a sequence of positive ints; got {sizes!r}."
            ) from None
        if any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or h < 1 for h in sizes):
            raise ValueError(
                f"hidden_layer_sizes must hold positive integers; got {self.hidden_layer_sizes!r}."
            )
        checks = [
            ("l1_reg", self.l1_reg, 0.0, False),
            ("learning_rate", self.learning_rate, 0.0, True),
            ("tol", self.tol, 0.0, False),
        ]
        for name, value, low, strict in checks:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"{name} must be a number; got {value!r}.")
            if not math.isfinite(value) or value < low or (strict and value == low):
                raise ValueError(f"{name} must be {'>' if strict else '>='} {low}; got {value}.")
        for name in ("batch_size", "max_epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}.")
        vf = self.validation_fraction
        if isinstance(vf, bool) or not isinstance(vf, (int, float, np.number)) or not 0 <= vf < 1:
            raise ValueError(f"validation_fraction must be in [0, 1); got {vf!r}.")
        try:
            import torch

            torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda'; got "
                             f"{self.device!r} ({exc}).") from None
        nic = self.n_iter_no_change
        if nic is not None and (
            isinstance(nic, bool) or not isinstance(nic, (int, np.integer)) or nic < 1
        ):
            raise ValueError(f"n_iter_no_change must be a positive integer or None; got {nic!r}.")
        return tuple(int(h) for h in sizes)

    # ---- input checks
    @staticmethod
    def _reject_text_columns(X: Any) -> None:
        if hasattr(X, "dtypes") and hasattr(X, "columns"):
            bad = [
                str(c)
                for c, dt in zip(X.columns, X.dtypes, strict=True)
                if getattr(dt, "kind", "O") not in "biuf"
            ]
            if bad:
                raise TypeError(
                    f"X has non-numeric columns {bad[:10]}; encode them as numbers (for "
                    "example one-hot with pandas.get_dummies) before training a network."
                )

    def _validate_X(self, X: Any, *, reset: bool, y: Any = None) -> Any:
        self._reject_text_columns(X)
        try:
            if reset:
                return validate_data(self, X, y, dtype=np.float64, multi_output=True)
            return validate_data(self, X, reset=False, dtype=np.float64)
        except ValueError as exc:
            if "could not convert string to float" in str(exc):
                raise ValueError(
                    f"X holds text ({exc}); encode categorical features as numbers first."
                ) from exc
            raise

    def _n_threads(self) -> int:
        import os

        n = self.n_jobs
        if n is None:
            return 1
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n == 0:
            raise ValueError(f"n_jobs must be None or a non-zero integer; got {n!r}.")
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
        sizes = self._check_params()
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1))
        init = None
        if init_network is not None:
            init = self._check_init_network(init_network, X.shape[1], n_outputs, out_scale)
            sizes = init_network.hidden_sizes
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
        if not isinstance(net, ReluNetwork):
            from glassnet.io import as_network

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
        Ws, bs = list(res.weights), list(res.biases)
        if out_scale is not None:
            mean, std = out_scale
            Ws[-1] = Ws[-1] * std[:, None]
            bs[-1] = bs[-1] * std + mean
        names = getattr(self, "feature_names_in_", None)
        return ReluNetwork(Ws, bs, output, None if names is None else [str(f) for f in names])

    def _raw(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = self._validate_X(X, reset=False)
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
    l1_reg : float, default=0.0
        L1 penalty ``l1_reg * sum |W|`` on the weights of every layer (not the biases),
        added to the mean loss of each mini-batch. Larger values give fewer activation
        regions (see :func:`glassnet.l1_path`).
    learning_rate : float, default=1e-3
        Adam's step size.
    batch_size : int, default=500
        Rows per mini-batch (capped at the number of training rows).
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
            Numeric features (scale them, e.g. to [0, 1] or standardised).
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
        X, y = self._validate_X(X, reset=True, y=y)
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
    hidden_layer_sizes, l1_reg, learning_rate, batch_size, max_epochs, validation_fraction, \
n_iter_no_change, tol, random_state, verbose, device, n_jobs
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
        X, y = self._validate_X(X, reset=True, y=y)
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
