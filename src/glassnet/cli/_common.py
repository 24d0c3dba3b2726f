"""What every ``glassnet`` command shares: the error type and exit codes, progress steps,
one-line messages, column alignment, scores, and the report sections common to commands."""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._csv import SAMPLE_ROWS, format_columns, one_line, select_columns

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERNAL", "EXIT_OK", "CLIError", "one_line"]

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


class CLIError(Exception):
    """Bad input from the user: reported as one line, exit code 2."""


# ---------------------------------------------------------------------- small utilities
def has_module(module: str) -> bool:
    """Whether ``module`` can be imported (optional parts of glassnet)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def warn(msg: str) -> None:
    """One ``glassnet: warning:`` line on stderr."""
    print(f"glassnet: warning: {msg}", file=sys.stderr)


class Steps:
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

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def align(net: Any, X: Any, data_name: str) -> Any:
    """Select and order the columns of ``X`` the network expects (warns about the others)."""
    cols, extra = select_columns(net, list(X.columns), data_name)
    warn_ignored(extra, data_name)
    return X if cols == list(X.columns) else X[cols]


def read_inputs(model: Any, net: Any, data: Any, target: str | None) -> tuple[Any, Any]:
    """Read DATA.csv for ``model``: ``(X, y)`` with X the network's inputs.

    The model's categorical columns are read as text (any labels, or integer codes), every
    other feature as numbers; see :func:`network_inputs` for the encoding.
    """
    from glassnet._csv import categorical_columns, read_csv

    X, y = read_csv(data, target, text_columns=categorical_columns(model))
    return network_inputs(model, net, X, Path(data).name), y


def network_inputs(model: Any, net: Any, X: Any, data_name: str,
                   warn_extra: bool = True) -> Any:
    """Raw feature columns of ``X`` -> the network's inputs, as a DataFrame.

    Without an input encoder (``glassnet.io.input_encoder(model)`` is None) this selects
    and orders the network's columns (:func:`align`). With one (a model that one-hot encodes
    categorical columns) the model's raw columns are picked by name, categorical values
    converted to the type of the model's categories, and the encoder applied, so a model
    trained with ``--categorical`` reads the same raw CSV it was trained on. ``warn_extra``
    False: no warning about columns the model does not read (streamed chunks).
    """
    import warnings

    import pandas as pd

    from glassnet._csv import as_categories, format_columns
    from glassnet.io import input_encoder

    encode = input_encoder(model)
    if encode is None:
        return align(net, X, data_name)
    raw = getattr(model, "feature_names_in_", None)
    if raw is not None:
        raw = [str(c) for c in raw]
        missing = [c for c in raw if c not in X.columns]
        if missing:
            raise ValueError(
                f"the model expects column(s) {format_columns(missing)}, which {data_name} "
                f"lacks (the model reads {len(raw)} raw columns: {format_columns(raw)})."
            )
        if warn_extra:
            warn_ignored([c for c in X.columns if c not in set(raw)], data_name)
        X = X[raw]
    cats = getattr(model, "categorical_features_", None) or []
    if cats and getattr(model, "categories_", None) is not None:
        X = X.copy()
        for col, values in zip(cats, model.categories_, strict=True):
            X[col] = as_categories(X[col], values, data_name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        encoded = encode(X)
    for w in caught:  # unseen categories: one warning line of ours, not Python's format
        warn(str(w.message).removeprefix("glassnet: warning: ") + f" ({data_name})")
    names = net.feature_names
    return pd.DataFrame(encoded, columns=None if names is None else list(names), index=X.index)


def warn_ignored(extra: Sequence[str], data_name: str) -> None:
    """One warning line naming the data columns the model does not use."""
    if extra:
        warn(f"ignoring column(s) {format_columns(extra)} of {data_name}: the model does not "
             "use them.")


# ---------------------------------------------------------------------- metrics
def metric(net: Any, X: Any, y_enc: Any) -> tuple[str, float]:
    """AUC (one-vs-rest for softmax) for classifiers, RMSE for regressors, on the network."""
    out = net.predict_output(X)
    task = net.task
    scores = out[:, 0] if out.shape[1] == 1 else out
    return ("RMSE" if task == "regression" else "AUC"), score_proba(task, y_enc, scores)


def score_proba(task: str, y_enc: Any, scores: Any) -> float:
    """RMSE for regression, else the AUC of ``scores`` (a column per class, or one column).

    The scores come from :mod:`glassnet._metrics` (its one-class rule: NaN when ``y_enc``
    holds one class); with more than two columns the AUC is NaN unless every class occurs,
    as a one-vs-rest average over the classes is otherwise undefined.
    """
    from glassnet._metrics import auc, rmse

    scores = np.asarray(scores)
    if task == "regression":
        if scores.ndim == 1:
            return rmse(y_enc, scores)
        # several outputs: the square root of the MSE averaged over outputs
        err = np.asarray(y_enc, dtype=np.float64).reshape(scores.shape) - scores
        return float(np.sqrt(np.mean(err**2)))
    if scores.ndim == 2 and scores.shape[1] > 2:
        if np.unique(y_enc).size < scores.shape[1]:
            return float("nan")
        return auc(np.asarray(y_enc).astype(int), scores, labels=np.arange(scores.shape[1]))
    return auc(y_enc, scores)


# ---------------------------------------------------------------------- report helpers
def analysis_sections(report: Any, net: Any, regions: Any, X: Any, y_enc: Any, top: int) -> None:
    report.add_certificate(regions)
    report.add_region_summary(regions, X, y_enc, top=top)
    report.add_size_distribution(regions)
    report.add_feature_importance(regions, X)
    report.add_coefficients(regions, X)
    report.add_boundary_distance(regions, X, max_rows=SAMPLE_ROWS)
    if net.n_features == 2:
        report.add_partition_map(net, X, None if y_enc is None else y_enc)


def print_regions(regions: Any, top: int = 10) -> None:
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


def split(X: Any, y: Any, test_size: float, seed: int, stratify: bool) -> tuple[Any, ...]:
    from sklearn.model_selection import train_test_split

    if test_size <= 0:
        return X, None, y, None
    strat = y if stratify and y is not None and np.unique(y).size > 1 else None
    try:
        return tuple(train_test_split(X, y, test_size=test_size, random_state=seed,
                                      stratify=strat))
    except ValueError:
        return tuple(train_test_split(X, y, test_size=test_size, random_state=seed))


def command_line(argv: Sequence[str] | None) -> str:
    args = list(sys.argv[1:] if argv is None else argv)
    return "glassnet " + " ".join(args)


def fit_mlm(net: Any, X: Any, y: Any, seed: int, fast: bool = False,
             n_epics: Any = "auto") -> Any:
    from glassnet import MixtureOfLinearModels

    kwargs: dict[str, Any] = {"random_state": seed, "n_epics": n_epics}
    if fast:
        kwargs.update(n_layer_clusters=4, clustering="kmeans", n_perturb=20)
    else:
        kwargs.update(clustering="kmeans")
    return MixtureOfLinearModels(net, **kwargs).fit(X, y)


def simplification_section(report: Any, rows: list[dict], merger: Any) -> None:
    import pandas as pd

    fig = None
    if merger is not None and getattr(merger, "cv_results_", None):
        fig = merger.plot_cv().figure_
    report.add_simplification(
        pd.DataFrame(rows), figure=fig,
        caption="Number of regions (local models) and held-out performance of the network "
        "and of its simplifications.",
    )


def mlm_section(report: Any, mlm: Any, row: dict) -> None:
    import pandas as pd

    try:
        rules = mlm.rules()
    except ValueError as exc:  # too few rows for rules: say so in the report
        rules = f"No rules: {exc}"
    fig = mlm.plot_coefficients().figure_
    report.add_mlm(mlm, metrics=pd.DataFrame([row]), summary=mlm.summary(), rules=rules,
                   figure=fig)


def check_fraction(v: float, name: str) -> None:
    if not 0 <= v < 1:
        raise CLIError(f"{name} must be in [0, 1); got {v}.")



MODEL_HELP = ("model file: .glassnet (or a directory from 'glassnet train'), .onnx, "
              ".pt/.pth (whole torch nn.Sequential), .skops, .joblib/.pkl (with --trust-pickle)")


def add_model_argument(parser: Any) -> None:
    """The MODEL positional argument and ``--trust-pickle`` (see :func:`load_model`)."""
    parser.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    parser.add_argument(
        "--trust-pickle", action="store_true",
        help="load pickle-based model files (.joblib/.pkl, torch files with custom classes), "
        "which run any code stored in them; only for files from a source you trust")


# ---------------------------------------------------------------------- numeric options
def int_in(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=``: an integer in ``[lo, hi]``, refused in one line otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < lo or (hi is not None and value > hi):
            allowed = f">= {lo:,}" if hi is None else f"from {lo:,} to {hi:,}"
            raise argparse.ArgumentTypeError(f"expected an integer {allowed}, got {text!r}")
        return value

    return parse


def float_in(lo: float, hi: float, *, lo_open: bool = False,
             hi_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type=``: a finite number in the interval ``lo..hi`` (open ends as
    flagged), refused in one line otherwise (NaN and infinities included)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        low_ok = value > lo if lo_open else value >= lo
        high_ok = value < hi if hi_open else value <= hi
        if not (math.isfinite(value) and low_ok and high_ok):
            interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
            raise argparse.ArgumentTypeError(
                f"expected a finite number in {interval}, got {text!r}")
        return value

    return parse


SEED = int_in(0, 2**32 - 1)
EPOCHS = int_in(1, 1_000_000)
TOP = int_in(1, 1_000_000)
TEST_SIZE = float_in(0.0, 1.0, hi_open=True)


# ---------------------------------------------------------------------- output paths
_HTML_MARKERS = (b'<meta name="generator" content="glassnet', b'class="gn-section"')
_SNIFF_BYTES = 1 << 20


def is_glassnet_output(path: Path) -> bool:
    """Whether the existing file ``path`` is one glassnet writes, so it may be replaced.

    Recognised: an empty file; an HTML report (``.html``/``.htm`` with glassnet's generator
    tag or section markup in its first MiB); a ``.glassnet`` zip with a ``manifest.json``;
    a region summary CSV (``.csv`` whose header starts with ``region,``); a
    ``metrics.json`` from ``glassnet train`` (a JSON object with ``max_abs_error``) or its
    ``provenance.json`` (a JSON object with ``data`` and ``versions``).
    """
    import zipfile

    if path.stat().st_size == 0:
        return True
    suffix = path.suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            with open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
            return any(m in head for m in _HTML_MARKERS)
        if suffix == ".glassnet":
            with zipfile.ZipFile(path) as zf:
                return "manifest.json" in zf.namelist()
        if suffix == ".csv":
            with open(path, "rb") as fh:
                return fh.readline(4096).startswith(b"region,")
        if suffix == ".json":
            import json

            if path.stat().st_size > _SNIFF_BYTES:
                return False
            obj = json.loads(path.read_text(encoding="utf-8"))
            # metrics.json, or provenance.json (its data file and the versions used)
            return isinstance(obj, dict) and ("max_abs_error" in obj
                                              or {"data", "versions"} <= obj.keys())
    except (OSError, ValueError, zipfile.BadZipFile):
        return False
    return False


def check_outputs(inputs: dict[str, Any], outputs: dict[str, Any], force: bool) -> None:
    """Refuse, before any work, output paths that would destroy an input or a file glassnet
    did not write.

    Parameters
    ----------
    inputs : dict
        ``{label: path}`` of the files the command reads (None entries are skipped).
    outputs : dict
        ``{option: path}`` of the files it will write (None entries are skipped); an
        existing directory stands for ``DIR/report.html`` for ``--report`` options, as
        :meth:`Report.save` does, and is refused for any other option (a file).
    force : bool
        Replace existing files that glassnet did not write (never an input).
    """
    ins = {k: Path(v) for k, v in inputs.items() if v is not None}
    outs = {k: Path(v) for k, v in outputs.items() if v is not None}
    seen: dict[Path, str] = {}
    for opt, path in outs.items():
        if path.is_dir():
            if not opt.startswith("--report"):
                # found now, not when the result is saved after minutes of fitting
                example = ("summary.csv" if opt.endswith("csv") else "report.pdf"
                           if opt == "--pdf" else "model.glassnet")
                raise CLIError(f"{opt} {path} is a directory; {opt} names a file: give a file "
                               f"name, such as {path / example}.")
            path = path / "report.html"
        for label, src in ins.items():
            if _same_file(path, src):
                raise CLIError(
                    f"{opt} {path} is the input {label}; writing it would destroy the input. "
                    "Choose another output path."
                )
        key = path.resolve()
        if key in seen:
            raise CLIError(f"{opt} and {seen[key]} are the same file {path}; give each its "
                           "own path.")
        seen[key] = opt
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise CLIError(f"{opt} {path} exists and is not a regular file; choose another "
                           "path.")
        if path.exists() and not force and not is_glassnet_output(path) and not (
                opt == "--pdf" and _starts_with(path, b"%PDF-")):  # a PDF: as before
            raise CLIError(
                f"{opt} {path} exists and is not a file glassnet wrote (report, .glassnet "
                "file, region summary or metrics); pass --force to replace it, or choose "
                "another path."
            )


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def pdf_output(args: Any, report: Any) -> Path | None:
    """Where ``--pdf`` will print the report (None without ``--pdf`` or without a report):
    its own path, or the report's ending in ``.pdf`` (a report folder holds report.html),
    so that :func:`check_outputs` vets it before any work, as every other output."""
    pdf = getattr(args, "pdf", None)
    if pdf is None or report is None:
        return None
    if pdf:
        return Path(pdf)
    rep = Path(report)
    return (rep / "report.html" if rep.is_dir() else rep).with_suffix(".pdf")


def report_outputs(args: Any, report: Any) -> dict[str, Any]:
    """The outputs a report makes, for :func:`check_outputs`: ``--report`` (None without a
    report) and the PDF that ``--pdf`` prints from it (:func:`pdf_output`)."""
    return {"--report": report, "--pdf": pdf_output(args, report)}


def writable(path: Any) -> Any:
    """``path`` after creating its missing parent folders, as reports do (``--out`` of
    ``unwrap`` and ``simplify``, ``--summary-csv``); :func:`check_outputs` has vetted it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def _same_file(a: Path, b: Path) -> bool:
    """Same file: same inode when both exist, else the same resolved path (links followed)."""
    import os

    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def data_stem(data: Any) -> str:
    """``credit`` for ``credit.csv``, ``credit.csv.gz`` or ``credit.tsv``."""
    name = Path(data).name
    for suffix in (".gz", ".bz2", ".zip", ".xz", ".csv", ".tsv", ".txt"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name or "data"


def model_file(model: Any) -> Path | None:
    """The file MODEL stands for (the ``.glassnet`` file of a directory), if there is one."""
    from glassnet.persist import resolve_model_path

    try:
        return resolve_model_path(Path(model))
    except (OSError, ValueError):
        return None
