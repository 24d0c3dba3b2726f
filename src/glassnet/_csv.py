"""Reading a CSV of model inputs, in memory or streamed in chunks, with one set of checks.

:func:`read_csv` reads a whole file; :class:`CSVStream` reads it ``chunk_size`` rows at a
time and keeps the running statistics a report needs (memory independent of the number of
rows). Both refuse the same files with the same one-line messages (``ValueError`` naming
the file and the columns at fault, ``FileNotFoundError`` for a missing file), so the
command line and :mod:`glassnet.streaming` behave alike whichever path a file takes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._csv_read import iter_chunks, read_header

# one typing of text columns for streamed targets and training's categories; re-exported
# here, where the training command reads its CSV helpers from
from glassnet._csv_read import text_as_codes as text_as_codes

DEFAULT_CHUNK = 100_000
SAMPLE_ROWS = 10_000


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (``KeyError`` quotes removed)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError) and text.startswith("'"):
        text = f"missing key {text}"
    return text or type(exc).__name__


def read_csv(path: str | os.PathLike[str], target: str | None = None,
             text_columns: Any = ()) -> tuple[Any, Any]:
    """Read a whole CSV into features and an optional target column.

    Every column but ``target`` is a feature and must hold finite numbers, except the
    columns in ``text_columns`` (categorical features), read as text and refused only when
    a value is missing. Refuses (with ``ValueError`` naming the file, the column and the
    first data row at fault) exactly the files :class:`CSVStream` refuses, with the same
    messages: see :mod:`glassnet._csv_read`.

    Parameters
    ----------
    path : path-like
    target : str, optional
        The target column.
    text_columns : collection of str
        Feature columns read as text (names absent from the file are ignored here; the
        caller says which it needs).

    Returns
    -------
    X : DataFrame
        The feature columns: float64, the text columns as Python strings.
    y : Series or None
        The target: numbers when every value is one, else the labels.
    """
    p = Path(path)
    names = _checked_names(p, target)
    X, y = next(iter_chunks(p, names, target, None, text_columns))
    return X, y


def categorical_columns(model: Any) -> list[str]:
    """The raw columns ``model`` one-hot encodes itself (a glassnet estimator trained with
    ``categorical_features``), read as text by :func:`read_csv`; empty otherwise."""
    if not getattr(model, "feature_groups_", None):
        return []
    return [str(c) for c in getattr(model, "categorical_features_", None) or []]


def as_categories(col: Any, categories: Any, data_name: str) -> Any:
    """Text values of a categorical column in the type of the model's categories.

    A model trained on integer codes (``1, 2``) has numeric categories: the text ``"2"``
    (or ``"2.0"``) must become the number 2 to match. Text categories stay text. A value
    that is no number for a numeric category list is refused, naming column and data row.
    """
    import pandas as pd

    cats = list(categories)
    if not cats or any(isinstance(c, (str, bool)) or not isinstance(c, (int, float, np.number))
                       for c in cats):
        return col.astype(str) if col.dtype != object else col
    num = _numbers_or_refuse(
        col, f"column {col.name!r} of {data_name} must hold the model's numeric category codes "
        f"({format_columns(cats)})")
    vals = num.to_numpy(dtype=np.float64)
    if all(isinstance(c, (int, np.integer)) for c in cats) and np.all(vals == np.round(vals)):
        return pd.Series(vals.astype(np.int64), index=col.index, name=col.name)
    return pd.Series(vals, index=col.index, name=col.name)


def _numbers_or_refuse(col: Any, what: str) -> Any:
    """``col`` parsed as numbers, or a ValueError ``"<what>: data row N holds '...'"`` naming
    the first value that is none (rows counted from 1 after the header, ``col.index + 1``)."""
    import pandas as pd

    num = pd.to_numeric(col, errors="coerce")
    if num.isna().any():
        i = int(np.argmax(num.isna().to_numpy()))
        raise ValueError(
            f"{what}: data row {int(col.index[i]) + 1} holds {str(col.iloc[i])[:30]!r}."
        )
    return num


def _checked_names(p: Path, target: str | None) -> list[str]:
    names = read_header(p)
    if target is not None and target not in names:
        raise ValueError(
            f"target column {target!r} is not in {p.name}; its columns are "
            f"{format_columns(names)}."
        )
    if not [c for c in names if c != target]:
        raise ValueError(f"{p.name} has no feature columns besides the target.")
    return names


def format_columns(cols: Any, n: int = 8) -> str:
    """``'a', 'b', 'c'`` for at most ``n`` names, then ``and K more``."""
    cols = [str(c) for c in cols]
    more = f" and {len(cols) - n} more" if len(cols) > n else ""
    return ", ".join(repr(c) for c in cols[:n]) + more


def select_columns(net: Any, columns: list[str], data_name: str) -> tuple[list[str], list[str]]:
    """The feature columns (of ``columns``, the non-target ones) the network takes, in order,
    and the columns it ignores.

    With feature names the network's names are picked by name (a missing one is an error);
    without, every column is a feature, in file order, and their number must match.
    """
    if net.feature_names is not None:
        missing = [f for f in net.feature_names if f not in columns]
        if missing:
            raise ValueError(
                f"the model expects feature column(s) {format_columns(missing)}, which "
                f"{data_name} lacks (the model has {net.n_features} features: "
                f"{format_columns(net.feature_names)})."
            )
        extra = [c for c in columns if c not in set(net.feature_names)]
        return list(net.feature_names), extra
    if len(columns) != net.n_features:
        raise ValueError(
            f"the model expects {net.n_features} features but {data_name} has {len(columns)} "
            "feature columns (all columns except the target are used, in file order)."
        )
    return list(columns), []


def encode_target(y: Any, net: Any, classes: Any, data_name: str) -> Any:
    """Target as the network's output space expects it: 0/1 or class index, or floats.

    Refusals name the first value at fault and its data row (``y.index + 1``), so a whole
    file and its chunks give the same message.
    """
    import pandas as pd

    if y is None:
        return None
    if net.task == "regression":  # ReluNetwork.task: the one place the task is read
        return _numbers_or_refuse(
            y, f"the target of {data_name} must be numeric for a regression model"
        ).to_numpy(dtype=np.float64)
    values = y.to_numpy()
    if classes is None:
        classes = infer_classes(values, net, data_name)
    idx = pd.Index(np.asarray(classes)).get_indexer(values)
    if (idx < 0).any():
        i = int(np.argmax(idx < 0))
        raise ValueError(
            f"target value {values[i]!r} (data row {int(y.index[i]) + 1}) of {data_name} is "
            f"not a class of the model ({format_columns(classes)})."
        )
    return idx.astype(np.float64)


def infer_classes(values: Any, net: Any, data_name: str) -> Any:
    """Classes of a model without ``classes_``: the sorted distinct labels (0/1 kept)."""
    classes = np.unique(values)
    k = 2 if net.output == "sigmoid" else net.n_outputs
    if net.output == "sigmoid" and classes.size <= 2 and set(classes.tolist()) <= {0, 1}:
        classes = np.array([0, 1])
    if classes.size > k:
        raise ValueError(
            f"the target of {data_name} has {classes.size} classes but the model has "
            f"{k} class outputs."
        )
    return classes


# ---------------------------------------------------------------------- streamed CSV
class CSVStream:
    """Validated chunks of a CSV for :func:`glassnet.streaming.unwrap_chunks`, and the
    running statistics the report needs.

    The file is read ``chunk_size`` rows at a time with the checks of :func:`read_csv`
    (:func:`glassnet._csv_read.iter_chunks`: same files refused, same messages) and its
    target is encoded as the model expects. Kept while streaming, in memory independent of
    the number of rows: per-feature count/mean/std/min/max (Chan's pairwise update), the
    class counts or the target mean/std, the network's sum of squared errors (single-output
    regression), and a uniform random sample of at most ``sample_rows`` rows (with their
    encoded target) for the figures and metrics that need rows. ``ignored`` lists the
    columns the network does not use.
    """

    def __init__(self, path: str | os.PathLike[str], net: Any, target: str | None,
                 classes: Any, chunk_size: int, sample_rows: int = SAMPLE_ROWS,
                 seed: int = 0, model: Any = None,
                 encode: Callable[[Any], Any] | None = None) -> None:
        p = Path(path)
        columns = _checked_names(p, target)
        self.names = columns
        others = [c for c in columns if c != target]
        self.path, self.name, self.net, self.target = p, p.name, net, target
        # a model that one-hot encodes columns: raw columns in, ``encode`` (raw chunk ->
        # DataFrame of network inputs) applied to every chunk, categorical columns as text
        self.encode, self.text_columns = encode, categorical_columns(model)
        if encode is None:
            self.features, self.ignored = select_columns(net, others, p.name)
        else:
            raw = [str(c) for c in getattr(model, "feature_names_in_", others)]
            missing = [c for c in raw if c not in others]
            if missing:
                raise ValueError(
                    f"the model expects column(s) {format_columns(missing)}, which {p.name} "
                    f"lacks (the model reads {len(raw)} raw columns: {format_columns(raw)})."
                )
            self.features = [str(c) for c in net.feature_names]
            self.ignored = [c for c in others if c not in set(raw)]
        self.chunk_size, self.sample_rows = chunk_size, sample_rows
        self.task = net.task
        self.classes = classes
        if target is not None and self.task == "classification" and classes is None:
            self.classes = self._scan_classes()
        d = len(self.features)
        self.n_rows = 0
        self.mean, self.m2 = np.zeros(d), np.zeros(d)
        self.min, self.max = np.full(d, np.inf), np.full(d, -np.inf)
        self.class_counts = None if self.classes is None else np.zeros(len(self.classes), int)
        self.y_mean = self.y_m2 = 0.0
        self.sse = 0.0
        self._rng = np.random.default_rng(seed)
        self._keys = np.zeros(0)
        self._rows = np.zeros(0, dtype=np.int64)
        self._X = np.zeros((0, d))
        self._y = np.zeros(0)

    def _read(self) -> Any:
        """Validated ``(X, y)`` chunks of every column (see :func:`iter_chunks`)."""
        return iter_chunks(self.path, self.names, self.target, self.chunk_size,
                           self.text_columns)

    def _scan_classes(self) -> Any:
        """One validating pass over the file: the target's distinct labels."""
        import pandas as pd

        seen = [pd.unique(y) for _, y in self._read()]
        values = np.concatenate(seen) if seen else np.zeros(0)
        return infer_classes(values, self.net, self.name)

    def chunks(self, progress: Any = None) -> Any:
        """Yield ``(X, y)`` (or ``X`` without a target) DataFrame/array chunks."""
        import pandas as pd

        for X_all, y in self._read():
            X = (X_all[self.features] if self.encode is None else self.encode(X_all)).to_numpy(
                dtype=np.float64)
            y_enc = None if y is None else encode_target(y, self.net, self.classes, self.name)
            self._update(X, y_enc)
            if progress is not None:
                progress(self.n_rows)
            frame = pd.DataFrame(X, columns=self.features)
            yield frame if y_enc is None else (frame, y_enc)

    def _update(self, X: Any, y: Any) -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # huge values: inf statistics
            self._update_stats(X, y)

    def _update_stats(self, X: Any, y: Any) -> None:
        n_a, n_b = self.n_rows, X.shape[0]
        if n_b == 0:
            return
        n = n_a + n_b
        mean_b = X.mean(axis=0)
        delta = mean_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.m2 = self.m2 + ((X - mean_b) ** 2).sum(axis=0) + delta**2 * (n_a * n_b / n)
        self.min, self.max = np.minimum(self.min, X.min(axis=0)), np.maximum(self.max,
                                                                              X.max(axis=0))
        if y is not None:
            if self.class_counts is not None:
                self.class_counts += np.bincount(y.astype(int), minlength=len(self.classes))
            else:
                yb = np.float64(y.mean())  # numpy: overflow gives inf, not OverflowError
                dy = yb - self.y_mean
                self.y_mean += dy * (n_b / n)
                self.y_m2 += float(((y - yb) ** 2).sum()) + dy**2 * (n_a * n_b / n)
                if self.net.n_outputs == 1:
                    self.sse += float(((self.net.predict_output(X)[:, 0] - y) ** 2).sum())
        # uniform sample: the sample_rows rows with the smallest random keys so far
        keys = self._rng.random(n_b)
        rows = np.arange(n_a, n, dtype=np.int64)
        self._keys = np.concatenate([self._keys, keys])
        self._rows = np.concatenate([self._rows, rows])
        self._X = np.concatenate([self._X, X])
        if y is not None:
            self._y = np.concatenate([self._y, y])
        if self._keys.size > self.sample_rows:
            keep = np.argpartition(self._keys, self.sample_rows)[: self.sample_rows]
            keep.sort()
            self._keys, self._rows, self._X = self._keys[keep], self._rows[keep], self._X[keep]
            if y is not None:
                self._y = self._y[keep]
        self.n_rows = n

    def sample(self) -> tuple[Any, Any]:
        """The sampled rows in file order, as a DataFrame, and their encoded target."""
        import pandas as pd

        order = np.argsort(self._rows)
        X = pd.DataFrame(self._X[order], columns=self.features)
        return X, (self._y[order] if self.target is not None else None)

    def feature_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame({"feature": self.features, "mean": self.mean,
                             "std": np.sqrt(self.m2 / max(self.n_rows, 1)),
                             "min": self.min, "max": self.max})

    def target_item(self) -> tuple[str, str] | None:
        if self.target is None:
            return None
        n = max(self.n_rows, 1)
        if self.class_counts is not None:
            return "target classes", ", ".join(
                f"{v}: {c} ({c / n:.1%})"
                for v, c in zip(self.classes, self.class_counts, strict=True)
            )
        std = np.sqrt(self.y_m2 / n)
        return "target mean ± std", f"{self.y_mean:.4g} ± {std:.4g}"


