"""The ``glassnet`` command line.

Commands (``glassnet COMMAND --help`` for the options of each)::

    glassnet demo [--out DIR]                 the whole pipeline on CoCircles, no arguments
    glassnet train DATA.csv --target y --out DIR
    glassnet unwrap MODEL DATA.csv [--target y] [--report report.html] [--chunk-size N]
    glassnet simplify MODEL DATA.csv --target y --method merge|prune|l1|mlm [--report ...]

MODEL is a glassnet file (``glassnet.save``, or a directory written by ``glassnet train``),
an ONNX file, a torch ``nn.Sequential`` saved whole with ``torch.save`` (``.pt``/``.pth``),
or a scikit-learn MLP saved with skops (``.skops``) or joblib/pickle (``.joblib``,
``.pkl``). Pickle-based files (torch, joblib) execute code when loaded: a warning says so.

``glassnet unwrap`` streams the CSV in chunks (memory independent of the number of rows)
with ``--chunk-size N``, or by itself for files above ``--stream-above`` MB (default 256).

Exit codes: 0 success, 2 bad input (the error is one line on stderr, ``--debug`` prints
the traceback), 1 an unexpected internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class CLIError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


# ---------------------------------------------------------------------- small utilities
def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _warn(msg: str) -> None:
    print(f"glassnet: warning: {msg}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, KeyError) and text.startswith("'"):
        text = f"missing key {text}"
    return text or type(exc).__name__


class _Steps:
    """A progress bar over the named steps of a command (stderr, only on a terminal)."""

    def __init__(self, names: Sequence[str], quiet: bool) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=len(names), unit="step", disable=True if quiet else None,
                         file=sys.stderr, leave=False, bar_format="{desc} {bar} {n}/{total}")

    def __call__(self, name: str) -> None:
        self._bar.set_description_str(f"glassnet: {name:<12}")
        self._bar.update(0)

    def done(self) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> _Steps:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---------------------------------------------------------------------- data
def read_csv(path: str | os.PathLike[str], target: str | None = None) -> tuple[Any, Any]:
    """Read a CSV into numeric features and an optional target column.

    Raises CLIError for a missing file, a missing target column, non-numeric feature
    columns or missing values, each naming the columns at fault.
    """
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"data file not found: {p}")
    try:
        df = pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {p} as CSV: {_one_line(exc)}") from exc
    if df.shape[0] == 0:
        raise CLIError(f"{p} has no data rows.")
    df.columns = [str(c) for c in df.columns]
    y = None
    if target is not None:
        if target not in df.columns:
            raise CLIError(
                f"target column {target!r} is not in {p.name}; its columns are "
                f"{_list(df.columns)}."
            )
        y = df.pop(target)
        if y.isna().any():
            raise CLIError(
                f"target column {target!r} has {int(y.isna().sum())} missing value(s); drop "
                "or fill those rows first."
            )
    if df.shape[1] == 0:
        raise CLIError(f"{p.name} has no feature columns besides the target.")
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if bad:
        raise CLIError(
            f"column(s) {_list(bad)} in {p.name} are not numeric; encode them as numbers "
            "(for example one-hot) before using the file."
        )
    nan_cols = [c for c in df.columns if df[c].isna().any()]
    if nan_cols:
        raise CLIError(
            f"column(s) {_list(nan_cols)} in {p.name} have missing values; impute or drop them."
        )
    if not np.isfinite(df.to_numpy(dtype=np.float64)).all():
        raise CLIError(f"{p.name} holds infinite values; remove them first.")
    return df.astype(np.float64), y


def _list(cols: Any, n: int = 8) -> str:
    cols = [str(c) for c in cols]
    more = f" and {len(cols) - n} more" if len(cols) > n else ""
    return ", ".join(repr(c) for c in cols[:n]) + more


def _align(net: Any, X: Any, data_name: str) -> Any:
    """Select and order the columns of ``X`` the network expects."""
    cols = _select_columns(net, list(X.columns), data_name)
    return X if cols == list(X.columns) else X[cols]


def _select_columns(net: Any, columns: list[str], data_name: str) -> list[str]:
    """The feature columns (of ``columns``, the non-target ones) the network takes, in order."""
    if net.feature_names is not None:
        missing = [f for f in net.feature_names if f not in columns]
        if missing:
            raise CLIError(
                f"the model expects feature column(s) {_list(missing)}, which {data_name} "
                f"lacks (the model has {net.n_features} features: {_list(net.feature_names)})."
            )
        extra = [c for c in columns if c not in set(net.feature_names)]
        if extra:
            _warn(f"ignoring column(s) {_list(extra)} of {data_name}: the model does not use them.")
        return list(net.feature_names)
    if len(columns) != net.n_features:
        raise CLIError(
            f"the model expects {net.n_features} features but {data_name} has {len(columns)} "
            "feature columns (all columns except the target are used, in file order)."
        )
    return list(columns)


def _task_of(net: Any) -> str:
    return "regression" if net.output == "identity" else "classification"


def _encode_target(y: Any, net: Any, classes: Any, data_name: str) -> Any:
    """Target as the network's output space expects it: 0/1 or class index, or floats."""
    import pandas as pd

    if y is None:
        return None
    if _task_of(net) == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            raise CLIError(f"the target of {data_name} must be numeric for a regression model.")
        return y.to_numpy(dtype=np.float64)
    values = y.to_numpy()
    if classes is None:
        classes = _infer_classes(values, net, data_name)
    idx = pd.Index(np.asarray(classes)).get_indexer(values)
    if (idx < 0).any():
        unknown = pd.unique(values[idx < 0])[:5]
        raise CLIError(
            f"target value(s) {_list(unknown)} of {data_name} are not classes of the model "
            f"({_list(classes)})."
        )
    return idx.astype(np.float64)


def _infer_classes(values: Any, net: Any, data_name: str) -> Any:
    """Classes of a model without ``classes_``: the sorted distinct labels (0/1 kept)."""
    classes = np.unique(values)
    k = 2 if net.output == "sigmoid" else net.n_outputs
    if net.output == "sigmoid" and classes.size <= 2 and set(classes.tolist()) <= {0, 1}:
        classes = np.array([0, 1])
    if classes.size > k:
        raise CLIError(
            f"the target of {data_name} has {classes.size} classes but the model has "
            f"{k} class outputs."
        )
    return classes


# ---------------------------------------------------------------------- streamed CSV
_STREAM_ABOVE_MB = 256.0
_DEFAULT_CHUNK = 100_000
_SAMPLE_ROWS = 10_000


class _CSVStream:
    """Validated chunks of a CSV for :func:`glassnet.streaming.unwrap_chunks`, and the
    running statistics the report needs.

    The file is read with :func:`glassnet.streaming.iter_file`, ``chunk_size`` rows at a
    time; each chunk gets the checks of :func:`read_csv` (numeric, no missing or infinite
    values) and its target is encoded as the model expects. Kept while streaming, in memory
    independent of the number of rows: per-feature count/mean/std/min/max (Chan's pairwise
    update), the class counts or the target mean/std, the network's sum of squared errors
    (single-output regression), and a uniform random sample of at most ``sample_rows`` rows
    (with their encoded target) for the figures and metrics that need rows.
    """

    def __init__(self, path: str | os.PathLike[str], net: Any, target: str | None,
                 classes: Any, chunk_size: int, sample_rows: int = _SAMPLE_ROWS,
                 seed: int = 0) -> None:
        import pandas as pd

        p = Path(path)
        if not p.is_file():
            raise CLIError(f"data file not found: {p}")
        try:
            header = pd.read_csv(p, nrows=0)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise CLIError(f"cannot read {p} as CSV: {_one_line(exc)}") from exc
        columns = [str(c) for c in header.columns]
        if target is not None and target not in columns:
            raise CLIError(
                f"target column {target!r} is not in {p.name}; its columns are "
                f"{_list(columns)}."
            )
        others = [c for c in columns if c != target]
        if not others:
            raise CLIError(f"{p.name} has no feature columns besides the target.")
        self.path, self.name, self.net, self.target = p, p.name, net, target
        self.features = _select_columns(net, others, p.name)
        self.chunk_size, self.sample_rows = chunk_size, sample_rows
        self.task = _task_of(net)
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

    def _read(self, columns: list[str] | None) -> Any:
        from glassnet.streaming import iter_file

        try:
            yield from iter_file(self.path, chunk_size=self.chunk_size, columns=columns)
        except (UnicodeDecodeError, ValueError) as exc:  # pandas' ParserError is a ValueError
            raise CLIError(f"cannot read {self.name} as CSV: {_one_line(exc)}") from exc

    def _scan_classes(self) -> Any:
        """One pass over the target column alone: its distinct labels."""
        import pandas as pd

        seen: list[Any] = []
        for chunk in self._read([self.target]):
            seen.append(pd.unique(chunk.iloc[:, 0].dropna()))
        values = np.concatenate(seen) if seen else np.zeros(0)
        return _infer_classes(values, self.net, self.name)

    def chunks(self, progress: Any = None) -> Any:
        """Yield ``(X, y)`` (or ``X`` without a target) DataFrame/array chunks."""
        import pandas as pd

        cols = [*self.features, *([self.target] if self.target else [])]
        for df in self._read(cols):
            df.columns = [str(c) for c in df.columns]
            first, last = self.n_rows + 1, self.n_rows + len(df)
            where = f"{self.name} (data rows {first}-{last})"
            y = None
            if self.target is not None:
                y = df.pop(self.target)
                if y.isna().any():
                    raise CLIError(
                        f"target column {self.target!r} has {int(y.isna().sum())} missing "
                        f"value(s) in {where}; drop or fill those rows first."
                    )
            bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
            if bad:
                raise CLIError(
                    f"column(s) {_list(bad)} in {where} are not numeric; encode them as numbers "
                    "(for example one-hot) before using the file."
                )
            X = df[self.features].to_numpy(dtype=np.float64)
            if np.isnan(X).any():
                nan_cols = [c for c in self.features if df[c].isna().any()]
                raise CLIError(
                    f"column(s) {_list(nan_cols)} in {where} have missing values; impute or "
                    "drop them."
                )
            if not np.isfinite(X).all():
                raise CLIError(f"{where} holds infinite values; remove them first.")
            y_enc = None if y is None else _encode_target(y, self.net, self.classes, self.name)
            self._update(X, y_enc)
            if progress is not None:
                progress(self.n_rows)
            frame = pd.DataFrame(X, columns=self.features)
            yield frame if y_enc is None else (frame, y_enc)
        if self.n_rows == 0:
            raise CLIError(f"{self.path} has no data rows.")

    def _update(self, X: Any, y: Any) -> None:
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
                yb = float(y.mean())
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


# ---------------------------------------------------------------------- models
def load_model(path: str | os.PathLike[str]) -> tuple[Any, Any, str]:
    """Load MODEL in any supported format.

    Returns ``(model, network, description)``; ``model`` is the loaded object (a glassnet
    estimator, scikit-learn model, torch module or the network itself).
    """
    from glassnet.io import as_network

    p = Path(path)
    if p.is_dir():
        candidates = [p / "model.glassnet", *sorted(p.glob("*.glassnet"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise CLIError(f"{p} is a directory without a model.glassnet file.")
        p = found
    if not p.is_file():
        raise CLIError(f"model file not found: {p}")
    suffix = p.suffix.lower()
    if suffix == ".onnx":
        from glassnet.io import from_onnx

        net = from_onnx(str(p))
        return net, net, f"ONNX file {p.name}"
    if suffix in (".pt", ".pth", ".torch"):
        import torch

        _warn(
            f"{p.name} is a pickle-based torch file: loading it executes code stored in it. "
            "Only load files from a source you trust."
        )
        obj = torch.load(p, map_location="cpu", weights_only=False)
        if isinstance(obj, dict):
            raise CLIError(
                f"{p.name} holds a state_dict (weights only); save the whole module with "
                "torch.save(model, path) or export it to ONNX."
            )
        return obj, as_network(obj), f"torch module {p.name}"
    if suffix == ".skops":
        return _load_skops(p, as_network)
    if suffix in (".joblib", ".pkl", ".pickle"):
        import joblib

        _warn(
            f"{p.name} is a pickle-based file: loading it executes code stored in it. Only "
            "load files from a source you trust; skops (.skops) files are safer."
        )
        obj = joblib.load(p)
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name}"
    import zipfile

    if suffix == ".glassnet" or zipfile.is_zipfile(p):
        from glassnet.io import load

        obj = load(p)
        if type(obj).__name__ == "Regions":
            raise CLIError(f"{p.name} holds unwrapped Regions, not a model.")
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name}"
    raise CLIError(
        f"cannot tell the format of {p.name}; use .glassnet, .onnx, .pt/.pth (torch), "
        ".skops or .joblib/.pkl (scikit-learn)."
    )


def _load_skops(p: Path, as_network: Any) -> tuple[Any, Any, str]:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise CLIError(
            f"Reading {p.name} needs the skops package: pip install skops "
            "(or pip install 'glassnet[skops]')."
        ) from exc

    untrusted = sio.get_untrusted_types(file=p)
    foreign = [t for t in untrusted if not t.startswith(("sklearn.", "numpy."))]
    if foreign:
        raise CLIError(
            f"{p.name} holds types outside scikit-learn and NumPy ({_list(foreign)}); "
            "inspect it with skops.io.get_untrusted_types and load it in Python if you trust it."
        )
    obj = sio.load(p, trusted=untrusted)
    return obj, as_network(obj), f"{type(obj).__name__} from {p.name} (skops)"


def _classes_of(model: Any) -> Any:
    classes = getattr(model, "classes_", None)
    if classes is None and hasattr(model, "steps"):
        classes = getattr(model.steps[-1][1], "classes_", None)
    return classes


# ---------------------------------------------------------------------- metrics
def _metric(net: Any, X: Any, y_enc: Any) -> tuple[str, float]:
    """AUC (one-vs-rest for softmax) for classifiers, RMSE for regressors, on the network."""
    from sklearn.metrics import mean_squared_error, roc_auc_score

    out = net.predict_output(X)
    if _task_of(net) == "regression":
        return "RMSE", float(np.sqrt(mean_squared_error(y_enc, out[:, 0] if out.shape[1] == 1
                                                        else out)))
    if out.shape[1] == 1:
        if np.unique(y_enc).size < 2:
            return "AUC", float("nan")
        return "AUC", float(roc_auc_score(y_enc, out[:, 0]))
    present = np.unique(y_enc).astype(int)
    if present.size < 2:
        return "AUC", float("nan")
    return "AUC", float(roc_auc_score(y_enc.astype(int), out, multi_class="ovr",
                                      labels=np.arange(out.shape[1])))


def _score_proba(task: str, y_enc: Any, scores: Any) -> float:
    from sklearn.metrics import mean_squared_error, roc_auc_score

    scores = np.asarray(scores)
    if task == "regression":
        return float(np.sqrt(mean_squared_error(y_enc, scores)))
    if scores.ndim == 2 and scores.shape[1] == 2:
        scores = scores[:, 1]
    if np.unique(y_enc).size < 2:
        return float("nan")
    if scores.ndim == 1:
        return float(roc_auc_score(y_enc, scores))
    return float(roc_auc_score(y_enc.astype(int), scores, multi_class="ovr",
                               labels=np.arange(scores.shape[1])))


# ---------------------------------------------------------------------- report helpers
def _analysis_sections(report: Any, net: Any, regions: Any, X: Any, y_enc: Any, top: int) -> None:
    report.add_certificate(regions)
    report.add_region_summary(regions, X, y_enc, top=top)
    report.add_size_distribution(regions)
    report.add_feature_importance(regions, X)
    report.add_coefficients(regions, X)
    report.add_boundary_distance(regions, X, max_rows=_SAMPLE_ROWS)
    if net.n_features == 2:
        report.add_partition_map(net, X, None if y_enc is None else y_enc)


def _print_regions(regions: Any, top: int = 10) -> None:
    import pandas as pd

    print(
        f"{len(regions)} activation regions on {regions.n_samples} rows; "
        f"{int((regions.counts == 1).sum())} hold a single row; "
        f"{regions.n_regions_covering(0.95)} regions cover 95% of the rows."
    )
    print(f"exactness certificate: max |LLM - network| = {regions.max_abs_error:.2e}")
    cols = ["region", "count", "share", "cum_share"]
    frame = regions.to_frame()
    cols += [c for c in frame.columns if c.startswith(("y_mean", "pred_mean"))][:2]
    with pd.option_context("display.width", 120, "display.max_columns", 12):
        print(frame[cols].head(top).round(4).to_string(index=False))


def _split(X: Any, y: Any, test_size: float, seed: int, stratify: bool) -> tuple[Any, ...]:
    from sklearn.model_selection import train_test_split

    if test_size <= 0:
        return X, None, y, None
    strat = y if stratify and y is not None and np.unique(y).size > 1 else None
    try:
        return tuple(train_test_split(X, y, test_size=test_size, random_state=seed,
                                      stratify=strat))
    except ValueError:
        return tuple(train_test_split(X, y, test_size=test_size, random_state=seed))


def _command_line(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return "glassnet " + " ".join(args)


# ---------------------------------------------------------------------- commands
def _demo(args: argparse.Namespace) -> int:
    from sklearn.model_selection import train_test_split

    from glassnet import Report, unwrap
    from glassnet.datasets import make_cocircles
    from glassnet.io import as_network, save

    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    hidden = (16, 16) if args.fast else (40, 40, 40, 40)
    df = make_cocircles(random_state=args.seed)
    X, y = df[["X0", "X1"]], df["target"].to_numpy()
    # the published CoCircles protocol: a plain (unstratified) 80/20 split
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=args.seed)
    steps = ["train", "unwrap"]
    have_merge, have_mlm = _has("glassnet.simplify.merge"), _has("glassnet.mlm")
    have_flatten = have_merge and _has("glassnet.simplify.flatten")
    steps += ["merge"] * have_merge + ["mlm"] * have_mlm + ["report"]
    summary: dict[str, Any] = {}
    arch = "x".join(str(h) for h in hidden)
    with _Steps(steps, args.quiet) as bar:
        bar(f"train {arch}")
        if _has("glassnet.estimators"):
            from glassnet import ReluNetClassifier

            model = ReluNetClassifier(
                hidden, learning_rate=0.002, batch_size=100,
                max_epochs=args.epochs or (30 if args.fast else 1000), n_iter_no_change=50,
                random_state=args.seed, verbose=not args.quiet and sys.stderr.isatty(),
            ).fit(X_tr, y_tr)
        else:  # pragma: no cover - the estimators ship with glassnet
            from sklearn.neural_network import MLPClassifier

            model = MLPClassifier(hidden, max_iter=args.epochs or 1000,
                                  random_state=args.seed).fit(X_tr, y_tr)
        net = as_network(model)
        bar.done()
        name, net_test = _metric(net, X_te, y_te.astype(float))
        summary["network"] = {"regions": None, f"test {name}": net_test}
        bar("unwrap")
        regions = unwrap(net, X_tr, y_tr)
        summary["network"]["regions"] = len(regions)
        bar.done()
        report = Report(
            "glassnet demo: CoCircles",
            subtitle=f"A {arch} ReLU network on make_circles(2000, noise=0.1, factor=0.8), "
            "80/20 split; every region, its exact local linear model, and two simplifications.",
        )
        report.add_overview(model, X_tr, y_tr, data_name="CoCircles (training rows)",
                            metrics={f"network test {name}": net_test})
        _analysis_sections(report, net, regions, X_tr, y_tr.astype(float), top=20)
        rows = [{"model": f"network {arch}", "regions": len(regions),
                 f"test {name}": net_test}]
        merger = mlm = None
        if have_merge:
            bar("merge")
            merger = _fit_demo_merger(net, X_tr, y_tr, args.seed, fast=args.fast)
            m_test = _score_proba("classification", y_te, merger.predict_proba(X_te))
            rows.append({"model": "merged regions (RegionMerger, CV)",
                         "regions": merger.n_regions_, f"test {name}": m_test})
            summary["merged"] = {"regions": merger.n_regions_, f"test {name}": m_test}
            if have_flatten:
                from glassnet import flatten

                flat = flatten(merger, X_tr, y_tr, random_state=args.seed,
                               max_epochs=20 if args.fast else 500)
                f_test = _score_proba("classification", y_te, flat.predict_proba(X_te))
                rows.append({"model": f"flattened (1 hidden layer, {merger.n_regions_} units)",
                             "regions": len(unwrap(flat.network_, X_tr)),
                             f"test {name}": f_test})
            bar.done()
        if have_mlm:
            bar("mlm")
            mlm = _fit_mlm(net, X_tr, y_tr, args.seed, fast=args.fast)
            e_test = _score_proba("classification", y_te, mlm.predict_proba(X_te))
            rows.append({"model": "MLM-EPIC (soft weights, EPICs)", "regions": mlm.n_epics_,
                         f"test {name}": e_test})
            summary["mlm"] = {"epics": mlm.n_epics_, f"test {name}": e_test}
            bar.done()
        bar("report")
        _simplification_section(report, rows, merger)
        if merger is not None:
            report.add_merged_regions(merger, X_te, y_te, X_fit=X_tr, y_fit=y_tr)
        if mlm is not None:
            _mlm_section(report, mlm, rows[-1])
        report.add_versions(command=_command_line(args._argv))
        path = report.save(out / "report.html")
        save(model, out / "model.glassnet")
        bar.done()
    print(f"CoCircles, {arch} ReLU network: test {name} {net_test:.4f}")
    _print_regions(regions, top=5)
    for row in rows[1:]:
        print(f"{row['model']}: {row['regions']} regions, test {name} {row[f'test {name}']:.4f}")
    not_wired = [s for s, ok in (("merge", have_merge), ("flatten", have_flatten),
                                 ("MLM", have_mlm)) if not ok]
    if not_wired:
        print(f"(not available in this installation: {', '.join(not_wired)})")
    print(f"model:  {out / 'model.glassnet'}")
    print(f"report: {path}")
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return EXIT_OK


def _fit_merger(net: Any, X: Any, y: Any, n_regions: Any, seed: int, fast: bool = False) -> Any:
    from glassnet import RegionMerger

    kwargs: dict[str, Any] = {"n_regions": n_regions, "random_state": seed}
    if fast:
        kwargs.update(cv=3, candidates=range(1, 9))
    return RegionMerger(net, **kwargs).fit(X, y)


def _fit_demo_merger(net: Any, X: Any, y: Any, seed: int, fast: bool = False) -> Any:
    """The demo's merge: at most 8 merged regions (the size of the published CoCircles run),
    the count with the best mean CV score among 1..8."""
    from glassnet import RegionMerger

    kwargs: dict[str, Any] = {"candidates": range(1, 9), "selection": "best",
                              "random_state": seed}
    if fast:
        kwargs.update(cv=3)
    return RegionMerger(net, **kwargs).fit(X, y)


def _fit_mlm(net: Any, X: Any, y: Any, seed: int, fast: bool = False,
             n_epics: Any = "auto") -> Any:
    from glassnet import MixtureOfLinearModels

    kwargs: dict[str, Any] = {"random_state": seed, "n_epics": n_epics}
    if fast:
        kwargs.update(n_layer_clusters=4, clustering="kmeans", n_perturb=20)
    else:
        kwargs.update(clustering="kmeans")
    return MixtureOfLinearModels(net, **kwargs).fit(X, y)


def _simplification_section(report: Any, rows: list[dict], merger: Any) -> None:
    import pandas as pd

    fig = None
    if merger is not None and getattr(merger, "cv_results_", None):
        fig = merger.plot_cv().figure_
    report.add_simplification(
        pd.DataFrame(rows), figure=fig,
        caption="Number of regions (local models) and held-out performance of the network "
        "and of its simplifications.",
    )


def _mlm_section(report: Any, mlm: Any, row: dict) -> None:
    import pandas as pd

    try:
        rules = mlm.rules()
    except ValueError as exc:  # too few rows for rules: say so in the report
        rules = f"No rules: {exc}"
    fig = mlm.plot_coefficients().figure_
    report.add_mlm(mlm, metrics=pd.DataFrame([row]), summary=mlm.summary(), rules=rules,
                   figure=fig)


def _train(args: argparse.Namespace) -> int:
    import pandas as pd

    from glassnet import Report, unwrap
    from glassnet.io import save

    X, y = read_csv(args.data, args.target)
    hidden = _parse_hidden(args.hidden)
    task = args.task
    if task == "auto":
        task = _guess_task(y)
    out = Path(args.out)
    if out.suffix == ".glassnet":
        raise CLIError(f"--out is a directory for the model and its report; got {out}.")
    _check_fraction(args.test_size, "--test-size")
    X_tr, X_te, y_tr, y_te = _split(X, y, args.test_size, args.seed, task == "classification")
    from glassnet import ReluNetClassifier, ReluNetRegressor

    cls = ReluNetClassifier if task == "classification" else ReluNetRegressor
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise CLIError(f"target {args.target!r} is not numeric; use --task classification.")
    n_classes = int(y.nunique())
    if task == "classification" and n_classes > max(50, len(y) // 10):
        raise CLIError(
            f"target {args.target!r} has {n_classes} distinct values, too many for classes; "
            "use --task regression."
        )
    est = cls(hidden, l1_reg=args.l1, learning_rate=args.lr, batch_size=args.batch_size,
              max_epochs=args.epochs, random_state=args.seed,
              verbose=not args.quiet and sys.stderr.isatty())
    with _Steps(["train", "unwrap", "report"], args.quiet) as bar:
        bar("train")
        est.fit(X_tr, y_tr)
        bar.done()
        net = est.network_
        classes = getattr(est, "classes_", None)
        y_tr_enc = _encode_target(y_tr, net, classes, args.data)
        metrics: dict[str, Any] = {"task": task, "hidden": list(hidden), "l1": args.l1,
                                   "epochs": int(getattr(est, "n_epochs_", 0))}
        name, val = _metric(net, X_tr, y_tr_enc)
        metrics[f"train {name}"] = val
        if X_te is not None:
            name, val = _metric(net, X_te, _encode_target(y_te, net, classes, args.data))
            metrics[f"test {name}"] = val
        bar("unwrap")
        regions = unwrap(net, X_tr, y_tr_enc)
        metrics["regions"] = len(regions)
        metrics["max_abs_error"] = regions.max_abs_error
        bar.done()
        out.mkdir(parents=True, exist_ok=True)
        save(est, out / "model.glassnet")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
        bar("report")
        report_path = None
        if not args.no_report:
            report = Report(f"glassnet train: {Path(args.data).name}",
                            subtitle=f"target {args.target!r}, {task}")
            report.add_overview(est, X_tr, y_tr, data_name=f"{args.data} (training rows)",
                                task=task, metrics={k: v for k, v in metrics.items()
                                                    if k.startswith(("train", "test"))})
            _analysis_sections(report, net, regions, X_tr, y_tr_enc, top=args.top)
            report.add_versions(command=_command_line(args._argv))
            report_path = report.save(args.report or out / "report.html")
        bar.done()
    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()
                      if k.startswith(("train", "test")))
    print(f"trained {type(est).__name__} {'x'.join(map(str, hidden))}: {shown}")
    _print_regions(regions, top=5)
    print(f"model:  {out / 'model.glassnet'}")
    if report_path is not None:
        print(f"report: {report_path}")
    return EXIT_OK


def _stream_chunk_size(args: argparse.Namespace) -> int | None:
    """Rows per chunk when ``glassnet unwrap`` streams the file, else None."""
    if args.chunk_size is not None and args.chunk_size < 0:
        raise CLIError(f"--chunk-size must be a positive number of rows (0: never stream); "
                       f"got {args.chunk_size}.")
    if args.stream_above < 0:
        raise CLIError(f"--stream-above must be a size in MB >= 0; got {args.stream_above}.")
    if args.chunk_size == 0:
        return None
    if args.chunk_size is not None:
        return int(args.chunk_size)
    p = Path(args.data)
    if p.is_file() and p.stat().st_size > args.stream_above * 2**20:
        return _DEFAULT_CHUNK
    return None


def _unwrap(args: argparse.Namespace) -> int:
    from glassnet import Report, unwrap
    from glassnet.io import save

    model, net, desc = load_model(args.model)
    chunk_size = _stream_chunk_size(args)
    if chunk_size is not None:
        return _unwrap_streamed(args, model, net, desc, chunk_size)
    X, y = read_csv(args.data, args.target)
    X = _align(net, X, Path(args.data).name)
    y_enc = _encode_target(y, net, _classes_of(model), Path(args.data).name)
    with _Steps(["unwrap", "report"], args.quiet) as bar:
        bar("unwrap")
        regions = unwrap(net, X, y_enc)
        bar.done()
        if args.out:
            save(regions, args.out)
        if args.summary_csv:
            from glassnet.summary import region_summary

            region_summary(regions, X, y_enc).to_csv(args.summary_csv, index=False)
        bar("report")
        report_path = None
        if not args.no_report:
            metrics = {}
            if y_enc is not None:
                name, val = _metric(net, X, y_enc)
                metrics[name] = val
            report = Report(f"glassnet unwrap: {Path(args.model).name}",
                            subtitle=f"{desc} on {args.data}")
            report.add_overview(model, X, y, data_name=args.data, metrics=metrics)
            _analysis_sections(report, net, regions, X, y_enc, top=args.top)
            report.add_versions(command=_command_line(args._argv))
            report_path = report.save(args.report)
        bar.done()
    return _print_unwrap_result(args, desc, net, regions, report_path)


def _unwrap_streamed(args: argparse.Namespace, model: Any, net: Any, desc: str,
                     chunk_size: int) -> int:
    """``glassnet unwrap`` on a CSV read ``chunk_size`` rows at a time."""
    from glassnet import Report
    from glassnet.io import save
    from glassnet.streaming import unwrap_chunks

    src = _CSVStream(args.data, net, args.target, _classes_of(model), chunk_size)
    with _Steps(["unwrap", "report"], args.quiet) as bar:
        bar("unwrap")
        regions = unwrap_chunks(net, src.chunks(lambda n: bar(f"unwrap {n:,} rows")))
        bar.done()
        if args.out:
            save(regions, args.out)
        if args.summary_csv:
            regions.to_frame().to_csv(args.summary_csv, index=False)
        bar("report")
        report_path = None
        Xs, ys = src.sample()
        sampled = Xs.shape[0] < src.n_rows
        if not args.no_report:
            metrics: dict[str, Any] = {}
            item = src.target_item()
            if item is not None:
                metrics[item[0]] = item[1]
                if src.task == "regression" and net.n_outputs == 1:
                    metrics["RMSE"] = float(np.sqrt(src.sse / src.n_rows))
                else:
                    name, val = _metric(net, Xs, ys)
                    metrics[f"{name} (on a sample of {len(Xs)} rows)" if sampled else name] = val
            report = Report(f"glassnet unwrap: {Path(args.model).name}",
                            subtitle=f"{desc} on {args.data} (streamed, {chunk_size:,} rows a "
                            "chunk)")
            report.add_overview(model, data_name=args.data, metrics=metrics,
                                feature_stats=src.feature_frame(), n_rows=src.n_rows)
            report.add_text("Streaming mode", _streaming_note(src, chunk_size, len(Xs)),
                            key="streaming")
            report.add_certificate(regions)
            report.add_region_summary(regions, top=args.top)
            report.add_size_distribution(regions)
            report.add_feature_importance(regions)
            report.add_coefficients(regions)
            report.add_boundary_distance(regions, Xs, max_rows=_SAMPLE_ROWS)
            if net.n_features == 2:
                pad = 0.05 * np.maximum(src.max - src.min, 1e-9)
                lo, hi = src.min - pad, src.max + pad
                report.add_partition_map(net, Xs, ys, bounds=((lo[0], hi[0]), (lo[1], hi[1])))
            report.add_versions(command=_command_line(args._argv))
            report_path = report.save(args.report)
        bar.done()
    return _print_unwrap_result(
        args, desc, net, regions, report_path,
        note=f"streamed {src.n_rows} rows of {args.data} in chunks of {chunk_size} rows",
    )


def _print_unwrap_result(args: argparse.Namespace, desc: str, net: Any, regions: Any,
                         report_path: Any, note: str | None = None) -> int:
    print(f"model: {desc}, {net}")
    if note:
        print(note)
    _print_regions(regions, top=10)
    if args.out:
        print(f"regions: {args.out}")
    if report_path is not None:
        print(f"report: {report_path}")
    return EXIT_OK


def _streaming_note(src: _CSVStream, chunk_size: int, n_sample: int) -> str:
    whole = ("all the rows" if n_sample == src.n_rows
             else f"a uniform random sample of {n_sample} rows")
    exact = ("the regions, their counts and local linear models, the exactness certificate, "
             "the size distribution, feature importance and coefficient distributions "
             "(weighted by region counts), the per-feature statistics")
    if src.target is not None:
        exact += (", the target distribution, per-region target and prediction means and "
                  "standard deviations")
        if src.task == "regression" and src.net.n_outputs == 1:
            exact += ", the network's RMSE"
    sampled = ["the distance to the region boundary"]
    if src.target is not None and not (src.task == "regression" and src.net.n_outputs == 1):
        sampled.append("the network's " + ("AUC" if src.task == "classification" else "RMSE"))
    if src.net.n_features == 2:
        sampled.append("the points drawn on the partition map (the map itself is exact)")
    return (
        f"The {src.n_rows} rows of {src.name} were read {chunk_size} at a time and reduced to "
        "per-region statistics (glassnet.streaming), so memory did not grow with the number "
        f"of rows. Exact, on all rows: {exact}.\n\n"
        f"Computed on {whole}, kept while streaming: {' and '.join(sampled)}.\n\n"
        "Not shown, as they need every row at once: per-region performance (local and global "
        "AUC, accuracy or MSE of each region's model) and the LLM profiles. Run glassnet "
        "unwrap with --chunk-size 0 on a machine that holds the data to get them."
    )


def _simplify(args: argparse.Namespace) -> int:

    from glassnet import Report, unwrap
    from glassnet.io import save

    model, net, desc = load_model(args.model)
    X, y = read_csv(args.data, args.target)
    X = _align(net, X, Path(args.data).name)
    task = _task_of(net)
    y_enc = _encode_target(y, net, _classes_of(model), Path(args.data).name)
    _check_fraction(args.test_size, "--test-size")
    X_tr, X_te, y_tr, y_te = _split(X, y_enc, args.test_size, args.seed,
                                    task == "classification")
    X_ev, y_ev = (X_te, y_te) if X_te is not None else (X_tr, y_tr)
    where = "test" if X_te is not None else "train"
    name, net_score = _metric(net, X_ev, y_ev)
    module = {"merge": "glassnet.simplify.merge", "mlm": "glassnet.mlm",
              "l1": "glassnet.simplify.l1path", "prune": "glassnet.simplify.prune"}[args.method]
    if not _has(module):
        raise CLIError(f"--method {args.method} is not available in this glassnet installation.")
    n = _parse_count(args.n_regions)
    with _Steps(["unwrap", args.method, "report"], args.quiet) as bar:
        bar("unwrap")
        regions = unwrap(net, X_tr, y_tr)
        bar.done()
        rows = [{"model": "network", "regions": len(regions), f"{where} {name}": net_score}]
        report = Report(f"glassnet simplify ({args.method}): {Path(args.model).name}",
                        subtitle=f"{desc} on {args.data}")
        report.add_overview(model, X_tr, y_tr, data_name=f"{args.data} (training rows)",
                            metrics={f"network {where} {name}": net_score})
        _analysis_sections(report, net, regions, X_tr, y_tr, top=args.top)
        bar(args.method)
        fitted: Any = None
        if args.method == "merge":
            fitted = _fit_merger(net, X_tr, y_tr, n, args.seed)
            score = _score_proba(task, y_ev, _predict_scores(fitted, X_ev, task))
            rows.append({"model": "merged regions", "regions": fitted.n_regions_,
                         f"{where} {name}": score})
            _simplification_section(report, rows, fitted)
            report.add_merged_regions(fitted, X_ev, y_ev, X_fit=X_tr, y_fit=y_tr)
        elif args.method == "prune":
            fitted, cv_table = _fit_pruner(net, X_tr, y_tr, n, args.seed, task)
            score = _score_proba(task, y_ev, _predict_scores(fitted, X_ev, task))
            rows.append({"model": "pruned regions (RegionPruner)", "regions": fitted.n_regions_,
                         f"{where} {name}": score})
            _simplification_section(report, rows, None)
            if cv_table is not None:
                report.add_table(
                    "Pruning: number of kept regions", cv_table, key="prune-cv",
                    caption=f"{_PRUNE_FOLDS}-fold cross-validation on the training rows "
                    f"(score: {'AUC' if task == 'classification' else 'RMSE'}); kept "
                    f"{fitted.n_regions_}, the count with the best mean score.",
                )
            report.add_merged_regions(fitted, X_ev, y_ev, X_fit=X_tr, y_fit=y_tr,
                                      title="Kept regions (pruning)")
        elif args.method == "mlm":
            fitted = _fit_mlm(net, X_tr, y_tr, args.seed, n_epics=n if n != "cv" else "auto")
            score = _score_proba(task, y_ev, _predict_scores(fitted, X_ev, task))
            rows.append({"model": "MLM-EPIC", "regions": fitted.n_epics_,
                         f"{where} {name}": score})
            _simplification_section(report, rows, None)
            _mlm_section(report, fitted, rows[-1])
        else:
            fitted = _run_l1(args, model, net, X_tr, y_tr, X_te, y_te, task)
            table = fitted.table_
            best = table.loc[table["l1_reg"] == fitted.recommended_].iloc[0]
            rows.append({"model": f"L1 retrained, recommended l1_reg={fitted.recommended_:g}",
                         "regions": int(best["n_regions"]), f"{where} {name}": best["score"]})
            _simplification_section(report, rows, None)
            report.add_table(
                "L1 regularization path", table, key="l1-path",
                caption=f"One network per penalty; score = {fitted.metric_.upper()} on the "
                f"{fitted.score_on_} rows. Recommended: the largest penalty within "
                f"{fitted.tolerance_:.0%} of the best score ({fitted.recommended_:g}).",
            )
            report.add_figure("L1 path plot", fitted.plot().figure_, key="l1-path-plot")
        bar.done()
        bar("report")
        if args.out:
            save(fitted, args.out)
        report.add_versions(command=_command_line(args._argv))
        report_path = None if args.no_report else report.save(args.report)
        bar.done()
    print(f"model: {desc}, {net}")
    for row in rows:
        print(f"{row['model']}: {row['regions']} regions, {where} {name} "
              f"{row[f'{where} {name}']:.4f}")
    if args.out:
        print(f"simplified model: {args.out}")
    if report_path is not None:
        print(f"report: {report_path}")
    return EXIT_OK


_PRUNE_CANDIDATES = (1, 2, 3, 5, 8, 10, 15, 20)
_PRUNE_FOLDS = 3


def _fit_pruner(net: Any, X: Any, y: Any, n_regions: Any, seed: int,
                task: str) -> tuple[Any, Any]:
    """A RegionPruner keeping ``n_regions`` regions; with ``"cv"``, the count of
    ``_PRUNE_CANDIDATES`` with the best mean score in ``_PRUNE_FOLDS``-fold CV."""
    import warnings

    import pandas as pd
    from sklearn.model_selection import KFold, StratifiedKFold

    from glassnet import RegionPruner, unwrap

    cv_table = None
    if n_regions == "cv":
        n_avail = len(unwrap(net, X))
        cands = [k for k in _PRUNE_CANDIDATES if k <= n_avail] or [n_avail]
        y = np.asarray(y)
        strat = task == "classification" and np.unique(y, return_counts=True)[1].min() >= \
            _PRUNE_FOLDS
        cv = (StratifiedKFold if strat else KFold)(_PRUNE_FOLDS, shuffle=True, random_state=seed)
        scores = np.full((len(cands), _PRUNE_FOLDS), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one-class regions, convergence on tiny folds
            for f, (tr, va) in enumerate(cv.split(X, y)):
                X_tr, X_va = _take(X, tr), _take(X, va)
                for i, k in enumerate(cands):
                    try:
                        est = RegionPruner(net, n_regions=k).fit(X_tr, y[tr])
                    except ValueError:  # fewer regions than k in this fold
                        continue
                    scores[i, f] = _score_proba(task, y[va], _predict_scores(est, X_va, task))
        sign = -1.0 if task == "regression" else 1.0  # RMSE: lower is better
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean = np.nanmean(scores, axis=1)
        pick = int(np.nanargmax(sign * np.where(np.isnan(mean), -sign * np.inf, mean)))
        n_regions = cands[pick]
        metric = "AUC" if task == "classification" else "RMSE"
        cv_table = pd.DataFrame({"kept regions": cands, f"mean CV {metric}": mean,
                                 f"std CV {metric}": np.nanstd(scores, axis=1),
                                 "chosen": ["yes" if i == pick else "" for i in
                                            range(len(cands))]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        return RegionPruner(net, n_regions=n_regions).fit(X, y), cv_table


def _take(X: Any, idx: Any) -> Any:
    return X.iloc[idx] if hasattr(X, "iloc") else X[idx]


def _predict_scores(est: Any, X: Any, task: str) -> Any:
    if task == "regression":
        return est.predict(X)
    return est.predict_proba(X)


def _run_l1(args: argparse.Namespace, model: Any, net: Any, X_tr: Any, y_tr: Any, X_te: Any,
            y_te: Any, task: str) -> Any:
    from sklearn.base import clone

    from glassnet import ReluNetClassifier, ReluNetRegressor, l1_path

    cls = ReluNetClassifier if task == "classification" else ReluNetRegressor
    if isinstance(model, cls):  # same training settings as the model, only the penalty varies
        est = clone(model).set_params(max_epochs=args.epochs, random_state=args.seed,
                                      verbose=False)
    else:
        est = cls(net.hidden_sizes or (40,), max_epochs=args.epochs, random_state=args.seed)
    if args.l1_values:
        try:
            values = [float(v) for v in args.l1_values.split(",")]
        except ValueError:
            raise CLIError(
                f"--l1-values must be comma-separated numbers; got {args.l1_values!r}."
            ) from None
    else:
        values = list(_DEFAULT_L1)
    return l1_path(est, X_tr, y_tr, values, X_val=X_te, y_val=y_te)


_DEFAULT_L1 = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


# ---------------------------------------------------------------------- argument parsing
def _parse_hidden(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s) for s in re.split(r"[,x]", text.strip()))
    except ValueError:
        raise CLIError(
            f"--hidden must be comma-separated widths such as 40,40; got {text!r}."
        ) from None
    if not sizes or min(sizes) < 1:
        raise CLIError(f"--hidden must list positive widths such as 40,40; got {text!r}.")
    return sizes


def _parse_count(text: str) -> Any:
    if text in ("cv", "auto"):
        return "cv"
    try:
        n = int(text)
    except ValueError:
        raise CLIError(f"--n-regions must be 'cv' or a positive integer; got {text!r}.") from None
    if n < 1:
        raise CLIError(f"--n-regions must be positive; got {n}.")
    return n


def _check_fraction(v: float, name: str) -> None:
    if not 0 <= v < 1:
        raise CLIError(f"{name} must be in [0, 1); got {v}.")


def _guess_task(y: Any) -> str:
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    vals = y.to_numpy(dtype=np.float64)
    if np.all(vals == np.round(vals)) and np.unique(vals).size <= 10:
        return "classification"
    return "regression"


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the command's help, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"glassnet: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="print the full traceback on errors")
    common.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="no progress bars")
    parser = _Parser(
        prog="glassnet",
        description="Deep ReLU networks as exact local linear models: unwrap a network into "
        "its activation regions, simplify it, and write an HTML report.",
        epilog="Run 'glassnet COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--debug", action="store_true", help="print the full traceback on errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--version", action="version", version=f"glassnet {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo", parents=[common], help="run the whole pipeline on the built-in CoCircles data",
        description="Train a 4x40 ReLU network on CoCircles, unwrap it, merge its regions, fit "
        "a mixture of linear models, and write report.html and model.glassnet.",
    )
    demo.add_argument("--out", default="glassnet-demo", metavar="DIR",
                      help="output directory (default: ./glassnet-demo)")
    demo.add_argument("--fast", action="store_true",
                      help="a small 2x16 network and short training (for tests and a quick look)")
    demo.add_argument("--epochs", type=int, default=None, help="maximum training epochs")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(func=_demo)

    train = sub.add_parser(
        "train", parents=[common], help="train a ReLU network on a CSV file",
        description="Train a ReluNetClassifier/ReluNetRegressor on a CSV (all columns but the "
        "target are features), save it as DIR/model.glassnet with DIR/metrics.json, and write "
        "DIR/report.html.",
    )
    train.add_argument("data", metavar="DATA.csv")
    train.add_argument("--target", required=True, help="name of the target column")
    train.add_argument("--task", choices=("auto", "classification", "regression"),
                       default="auto", help="default: classification for text, boolean or "
                       "integer targets with at most 10 values, else regression")
    train.add_argument("--hidden", default="40,40", help="hidden layer widths (default 40,40)")
    train.add_argument("--l1", type=float, default=0.0, help="L1 penalty on the weights")
    train.add_argument("--epochs", type=int, default=500, help="maximum epochs (default 500)")
    train.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    train.add_argument("--batch-size", type=int, default=500, help="mini-batch size")
    train.add_argument("--test-size", type=float, default=0.2,
                       help="share of rows held out for the test metrics (default 0.2; 0: none)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--top", type=int, default=20, help="regions shown in the report")
    train.add_argument("--out", required=True, metavar="DIR", help="output directory")
    train.add_argument("--report", default=None, help="report path (default DIR/report.html)")
    train.add_argument("--no-report", action="store_true", help="do not write a report")
    train.set_defaults(func=_train)

    model_help = ("model file: .glassnet (or a directory from 'glassnet train'), .onnx, "
                  ".pt/.pth (whole torch nn.Sequential), .skops, .joblib/.pkl")
    unwrap = sub.add_parser(
        "unwrap", parents=[common], help="unwrap a saved model on a CSV and report its regions",
        description="Find the activation regions of MODEL on the rows of DATA.csv, with the "
        "exact local linear model of each, and write an HTML report: data and model, "
        "exactness certificate, region summary, region sizes, feature importance, "
        "coefficients, the distance of the rows to their region's boundary (how stable each "
        "row's explanation is; on at most 10000 rows), and for 2 inputs the partition map. "
        "Large files are streamed in chunks (--chunk-size, --stream-above).",
    )
    unwrap.add_argument("model", metavar="MODEL", help=model_help)
    unwrap.add_argument("data", metavar="DATA.csv")
    unwrap.add_argument("--target", default=None, help="target column (optional)")
    unwrap.add_argument("--report", default="report.html", help="report path (default "
                        "report.html)")
    unwrap.add_argument("--no-report", action="store_true", help="do not write a report")
    unwrap.add_argument("--out", default=None, metavar="REGIONS.glassnet",
                        help="also save the regions (glassnet.load reads them)")
    unwrap.add_argument("--summary-csv", default=None, help="also write the region summary CSV")
    unwrap.add_argument("--top", type=int, default=20, help="regions shown in the report")
    unwrap.add_argument(
        "--chunk-size", type=int, default=None, metavar="N",
        help="stream DATA.csv N rows at a time, so memory does not grow with the number of "
        "rows; the report then shows per-region statistics (counts, target and prediction "
        "means) instead of per-region performance, and uses a uniform sample of at most 10000 "
        "rows for row-level figures (see docs/cli.md). 0: never stream. Default: stream "
        "100000 rows at a time when the file is larger than --stream-above")
    unwrap.add_argument("--stream-above", type=float, default=_STREAM_ABOVE_MB, metavar="MB",
                        help=f"file size above which DATA.csv is streamed when --chunk-size is "
                        f"not given (default {_STREAM_ABOVE_MB:g} MB)")
    unwrap.set_defaults(func=_unwrap)

    simplify = sub.add_parser(
        "simplify", parents=[common],
        help="simplify a model: merge or prune regions, L1 path, or MLM",
        description="Simplify MODEL on DATA.csv: merge its regions into a few GLMs (merge), "
        "keep the largest regions and attach the others to the nearest kept one (prune), "
        "retrain along an L1 path (l1), or explain it by a mixture of linear models (mlm); "
        "compare with the network on held-out rows and write an HTML report.",
    )
    simplify.add_argument("model", metavar="MODEL", help=model_help)
    simplify.add_argument("data", metavar="DATA.csv")
    simplify.add_argument("--target", required=True, help="target column")
    simplify.add_argument("--method", choices=("merge", "prune", "l1", "mlm"), default="merge",
                          help="simplification method (default merge)")
    simplify.add_argument("--n-regions", default="cv",
                          help="merged regions (merge), kept regions (prune) or EPICs (mlm): "
                          "'cv' (chosen by cross-validation on the training rows) or a count")
    simplify.add_argument("--l1-values", default=None,
                          help="comma-separated penalties for --method l1")
    simplify.add_argument("--epochs", type=int, default=200,
                          help="maximum epochs per fit for --method l1 (default 200)")
    simplify.add_argument("--test-size", type=float, default=0.2,
                          help="share of rows held out for the comparison (default 0.2)")
    simplify.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    simplify.add_argument("--top", type=int, default=20, help="regions shown in the report")
    simplify.add_argument("--report", default="report.html",
                          help="report path (default report.html)")
    simplify.add_argument("--no-report", action="store_true", help="do not write a report")
    simplify.add_argument("--out", default=None, metavar="FILE.glassnet",
                          help="save the fitted simplification")
    simplify.set_defaults(func=_simplify)
    for name in _COMMAND_MODULES:
        importlib.import_module(f"glassnet.cli.{name}").add_parser(sub, common)
    return parser


# Commands that live in their own module ``glassnet.cli.NAME``: each defines
# ``add_parser(sub, common)``, which adds its sub-parser (``parents=[common]``) and sets
# ``func`` to a ``run(args) -> int`` function.
_COMMAND_MODULES: tuple[str, ...] = ()


def _version() -> str:
    from glassnet import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    args._argv = list(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_OK
    debug = getattr(args, "debug", False)
    args.quiet = getattr(args, "quiet", False)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("glassnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (``glassnet ... | head``): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INTERNAL
    except (CLIError, ValueError, TypeError, OSError, KeyError) as exc:
        if debug:
            traceback.print_exc()
        print(f"glassnet: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # an internal error: still one line unless --debug
        if debug:
            traceback.print_exc()
        print(
            f"glassnet: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
