"""Model comparison: one table of scores over the network and its challengers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassnet.diagnose._common import ModelView, check_xy, scores

__all__ = ["compare", "Comparison", "glm_baseline"]


def glm_baseline(task: str) -> Any:
    """The plain GLM every comparison includes, unfitted.

    Classification: ``StandardScaler`` then ``LogisticRegression(C=1e6, tol=1e-10,
    max_iter=5000)``, an essentially unpenalised logit (scikit-learn's default ``C=1`` would
    shrink it; the tight ``tol`` makes it the maximum-likelihood fit, not lbfgs's default
    stopping point, which is off by up to 0.006 in probability on TaiwanCredit).
    The inputs are standardised inside the pipeline because lbfgs does not converge on raw
    credit data, whose columns span six orders of magnitude (bill amounts in the hundreds
    of thousands next to 0/1 flags): the problem is then badly conditioned and the solver
    stops at ``max_iter`` with a ConvergenceWarning and a poorer fit. Standardising changes
    neither the fitted probabilities of an unpenalised logit nor the model family, only
    how fast lbfgs reaches it. Regression: ``LinearRegression()`` (closed form).
    """
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        return make_pipeline(StandardScaler(),
                             LogisticRegression(C=1e6, tol=1e-10, max_iter=5000))
    return LinearRegression()


@dataclass
class Comparison:
    """What :func:`compare` measured.

    Attributes
    ----------
    table : DataFrame
        One row per model (index = name), one column per metric, plus ``n_test``.
    outputs : dict of str to ndarray
        Each model's test output (positive-class probability or prediction), for figures.
    y : ndarray
        The test labels.
    task : str
    pos_label : label or None
    """

    table: pd.DataFrame
    outputs: dict[str, np.ndarray]
    y: np.ndarray
    task: str
    pos_label: Any = None


def compare(
    models: Any,
    X_test: Any,
    y_test: Any,
    *,
    X_train: Any = None,
    y_train: Any = None,
    glm: bool = True,
    metrics: Any = None,
    task: str = "auto",
) -> Comparison:
    """Score several fitted models on the same test rows.

    Parameters
    ----------
    models : dict of str to fitted model, or a sequence of models
        The network and its challengers: glassnet estimators, networks, merged/pruned/L1/MLM
        models, any scikit-learn estimator with ``predict_proba`` (classification) or
        ``predict`` (regression). A sequence is named by class name.
    X_test, y_test : array-like
        Rows every model is scored on.
    X_train, y_train : array-like, optional
        With ``glm=True``, the rows a plain GLM is fitted on as the baseline.
    glm : bool
        Add ``"GLM"`` (see :func:`glm_baseline`): an essentially unpenalised logistic or
        linear regression on standardised inputs, fitted on the training rows. Needs
        ``X_train``/``y_train``.
    metrics : sequence of str, optional
        See :func:`glassnet.diagnose.accuracy_table`.
    task : {"auto", "classification", "regression"}
        Taken from the first model when "auto".

    Returns
    -------
    Comparison
    """
    if isinstance(models, dict):
        named = dict(models)
    else:
        named = {}
        for m in models:
            name = type(m).__name__
            named[name if name not in named else f"{name}_{len(named)}"] = m
    if not named:
        raise ValueError("models is empty; pass at least one fitted model.")
    X_test, y_test = check_xy(X_test, y_test, "X_test")
    first = ModelView(next(iter(named.values())), task)
    if glm:
        if X_train is None or y_train is None:
            raise ValueError("glm=True needs X_train and y_train to fit the GLM baseline; "
                             "pass them or set glm=False.")
        X_train, y_train = check_xy(X_train, y_train, "X_train")
        named["GLM"] = glm_baseline(first.task).fit(X_train, y_train)
    rows, outputs = {}, {}
    for name, model in named.items():
        view = ModelView(model, first.task)
        out = view.output(X_test)
        outputs[name] = out
        row = scores(view, y_test, out, metrics)
        row["n_test"] = len(y_test)
        rows[name] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    pos = first.classes[1] if first.binary else None
    return Comparison(table, outputs, y_test, first.task, pos)
