"""The training loop behind the glassnet estimators (private; public names live in
:mod:`glassnet.estimators`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

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
