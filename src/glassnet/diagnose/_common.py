"""What every diagnostic needs: one view of a model's outputs and one table of its scores.

A diagnostic accepts a glassnet estimator, a :class:`~glassnet.ReluNetwork`, or any fitted
scikit-learn style estimator (``predict_proba`` for classifiers, ``predict`` for regressors),
so that challengers are scored by the same code as the network.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from glassnet import _metrics as M
from glassnet._validation import feature_names_of
from glassnet.network import ReluNetwork

CLASSIFICATION_METRICS = ("auc", "accuracy", "f1", "log_loss", "brier", "ks")
REGRESSION_METRICS = ("rmse", "mae", "r2")
# direction of each metric: +1 when higher is better
HIGHER_IS_BETTER = {"auc": 1, "gini": 1, "accuracy": 1, "f1": 1, "ks": 1, "r2": 1,
                    "log_loss": -1, "brier": -1, "rmse": -1, "mae": -1}


class ModelView:
    """A model seen through one interface: ``task``, ``classes``, ``output(X)``, ``predict(X)``.

    ``output`` is the positive-class probability (binary), the probability matrix
    (multi-class) or the prediction (regression).

    Parameters
    ----------
    model : estimator or ReluNetwork
        The model to score.
    task : {"auto", "classification", "regression"}
        ``"auto"``: classification when the model has ``predict_proba`` (or a sigmoid/softmax
        network), else regression.
    """

    def __init__(self, model: Any, task: str = "auto") -> None:
        if task not in ("auto", "classification", "regression"):
            raise ValueError(
                f"task must be 'auto', 'classification' or 'regression'; got {task!r}."
            )
        self.model = model
        if isinstance(model, ReluNetwork):
            auto = "regression" if model.output == "identity" else "classification"
            n_out = model.n_outputs
            self.classes = (np.arange(max(n_out, 2)) if auto == "classification" else None)
        elif hasattr(model, "predict_proba"):
            auto = "classification"
            self.classes = np.asarray(getattr(model, "classes_", [0, 1]))
        elif hasattr(model, "predict"):
            auto = "regression"
            self.classes = None
        else:
            raise TypeError(
                f"Cannot score a {type(model).__name__}: pass a fitted estimator with "
                "predict_proba (classifier) or predict (regressor), or a ReluNetwork."
            )
        self.task = auto if task == "auto" else task
        if self.task == "classification" and self.classes is None:
            raise ValueError("task='classification' needs a model with predict_proba.")

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes) == 2

    def _proba(self, X: Any) -> np.ndarray:
        if isinstance(self.model, ReluNetwork):
            p = self.model.predict_output(X)
            if p.shape[1] == 1:
                return np.column_stack([1.0 - p[:, 0], p[:, 0]])
            return p
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)

    def output(self, X: Any) -> np.ndarray:
        """Positive-class probability, class probabilities, or the regression prediction."""
        if self.task == "classification":
            p = self._proba(X)
            return p[:, 1] if p.shape[1] == 2 else p
        if isinstance(self.model, ReluNetwork):
            return self.model.predict_output(X)[:, 0]
        return np.asarray(self.model.predict(X), dtype=np.float64).reshape(len(X), -1)[:, 0]

    def decide(self, out: np.ndarray) -> np.ndarray:
        """Predicted labels from :meth:`output` (threshold 0.5 / argmax)."""
        if out.ndim == 1:
            return np.where(out >= 0.5, self.classes[1], self.classes[0])
        return self.classes[np.argmax(out, axis=1)]

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels (classification) or values (regression)."""
        out = self.output(X)
        return self.decide(out) if self.task == "classification" else out


def check_xy(X: Any, y: Any, name: str = "X") -> tuple[Any, np.ndarray]:
    """Check that ``X`` is 2-D and non-empty and ``y`` matches it; return ``X`` and ``y``."""
    if X is None:
        raise ValueError(f"{name} is None; pass a 2-D array or DataFrame.")
    shape = np.shape(X)
    if len(shape) != 2 or shape[0] == 0:
        raise ValueError(f"{name} must be 2-D with at least one row; got shape {shape}.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or len(y) != shape[0]:
        raise ValueError(
            f"y must be 1-D with one value per row of {name} ({shape[0]}); got shape {y.shape}."
        )
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise ValueError("y holds NaN; drop those rows first.")
    return X, y


def as_frame(X: Any, names: Any = None) -> pd.DataFrame:
    """``X`` as a float DataFrame (column names kept, else ``x0, x1, ...``)."""
    if feature_names_of(X) is not None:
        return X
    arr = np.asarray(X, dtype=np.float64)
    cols = list(names) if names is not None else [f"x{j}" for j in range(arr.shape[1])]
    return pd.DataFrame(arr, columns=cols)


def scores(view: ModelView, y: np.ndarray, out: np.ndarray,
           metrics: Any = None) -> dict[str, float]:
    """Every metric of ``view.task`` for labels ``y`` and model output ``out``."""
    if view.task == "regression":
        funcs = {"rmse": M.rmse, "mae": M.mae, "r2": M.r2}
        names = metrics or REGRESSION_METRICS
        return {m: funcs[m](y, out) for m in names}
    names = metrics or CLASSIFICATION_METRICS
    res: dict[str, float] = {}
    pred = view.decide(out)
    for m in names:
        if m == "auc":
            res[m] = (M.auc(y, out, pos_label=view.classes[1]) if out.ndim == 1
                      else M.auc(y, out, labels=view.classes))
        elif m == "gini":
            res[m] = (M.gini(y, out, pos_label=view.classes[1]) if out.ndim == 1
                      else M.gini(y, out, labels=view.classes))
        elif m == "accuracy":
            res[m] = M.accuracy(y, pred)
        elif m == "f1":
            res[m] = (M.f1(y, pred, pos_label=view.classes[1]) if out.ndim == 1
                      else M.f1(y, pred, average="macro"))
        elif m == "log_loss":
            res[m] = (M.log_loss(y, out, pos_label=view.classes[1]) if out.ndim == 1
                      else M.log_loss(y, out, labels=view.classes))
        elif m == "brier":
            res[m] = M.brier(y, out, pos_label=view.classes[1]) if out.ndim == 1 else np.nan
        elif m == "ks":
            res[m] = M.ks(y, out, pos_label=view.classes[1]) if out.ndim == 1 else np.nan
        else:
            raise ValueError(
                f"Unknown metric {m!r}; choose from {sorted(HIGHER_IS_BETTER)}."
            )
    return res


def one_score(view: ModelView, y: np.ndarray, out: np.ndarray, metric: str) -> float:
    """One metric (see :func:`scores`)."""
    if metric not in HIGHER_IS_BETTER:
        raise ValueError(f"Unknown metric {metric!r}; choose from {sorted(HIGHER_IS_BETTER)}.")
    return scores(view, y, out, [metric])[metric]


def default_metric(view: ModelView) -> str:
    """AUC for classification, RMSE for regression."""
    return "auc" if view.task == "classification" else "rmse"


def as_network_or_none(model: Any) -> ReluNetwork | None:
    """The ReluNetwork behind ``model`` when there is one (exact diagnostics), else None."""
    from glassnet.io import as_network

    try:
        return as_network(model)
    except (TypeError, ValueError):
        return None


def rng_of(random_state: Any) -> np.random.Generator:
    """A NumPy Generator from an int, None or Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)
