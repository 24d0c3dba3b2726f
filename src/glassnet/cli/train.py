"""``glassnet train``: train a ReLU network on a CSV, save it with its metrics and report."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._csv import encode_target, read_csv, text_as_codes
from glassnet.cli._common import (
    EPOCHS,
    EXIT_OK,
    SEED,
    TEST_SIZE,
    TOP,
    CLIError,
    Steps,
    analysis_sections,
    check_fraction,
    check_outputs,
    command_line,
    float_in,
    int_in,
    metric,
    print_regions,
    report_outputs,
    split,
)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``train`` sub-command to ``sub``."""
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
    train.add_argument("--l1", type=float_in(0.0, 100.0), default=0.0,
                       help="L1 penalty on the weights, in [0, 100] (default 0)")
    train.add_argument("--epochs", type=EPOCHS, default=500, help="maximum epochs (default 500)")
    train.add_argument("--lr", type=float_in(0.0, 1.0, lo_open=True), default=1e-3,
                       help="Adam learning rate, in (0, 1] (default 0.001)")
    train.add_argument("--batch-size", type=int_in(1, 10**8), default=500, help="mini-batch size")
    train.add_argument("--test-size", type=TEST_SIZE, default=0.2,
                       help="share of rows held out for the test metrics (default 0.2; 0: none)")
    train.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
    train.add_argument("--top", type=TOP, default=20, help="regions shown in the report")
    train.add_argument("--out", required=True, metavar="DIR", help="output directory")
    train.add_argument("--report", default=None, help="report path (default DIR/report.html)")
    train.add_argument("--no-report", action="store_true", help="do not write a report")
    train.add_argument("--categorical", default=None, metavar="COLS",
                       help="comma-separated feature columns to one-hot encode, e.g. integer-"
                       "coded categories (default: none)")
    train.add_argument("--no-standardize", action="store_true",
                       help="train on the raw feature scales (default: standardise, folded into "
                       "the network so it stays in the original units)")
    _estimator_defaults(train)
    from glassnet.cli._report import add_report_options

    add_report_options(train, explain=False)
    train.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet train``; returns the exit code."""
    import pandas as pd

    from glassnet import Report, unwrap
    from glassnet.persist import save

    hidden = _parse_hidden(args.hidden)
    # categorical columns are read as text (labels or codes), the rest strictly numeric
    named = [c.strip() for c in (args.categorical or "").split(",") if c.strip()]
    try:
        X, y = read_csv(args.data, args.target, text_columns=named)
    except ValueError as exc:
        if " is not numeric: " not in str(exc):
            raise
        raise CLIError(f"{exc} A categorical column can instead be named in --categorical "
                       "(read as text, one-hot encoded).") from exc
    n_out = max(int(y.nunique()), 1) if args.task != "regression" else 1
    check_memory(X.shape[1], hidden, n_out, args.batch_size, X.shape[0])
    task = args.task
    if task == "auto":
        task = _guess_task(y)
    out = Path(args.out)
    if out.suffix == ".glassnet" or (out.exists() and not out.is_dir()):
        raise CLIError(f"--out is a directory for the model and its report; got {out}.")
    check_outputs({"DATA.csv": args.data},
                  {"--out DIR/model.glassnet": out / "model.glassnet",
                   "--out DIR/metrics.json": out / "metrics.json",
                   "--out DIR/provenance.json": out / "provenance.json",
                   **report_outputs(args, None if args.no_report
                                    else (args.report or out / "report.html"))},
                  force=getattr(args, "force", False))
    check_fraction(args.test_size, "--test-size")
    X_tr, X_te, y_tr, y_te = split(X, y, args.test_size, args.seed, task == "classification")
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
    categorical = _categorical_columns(args.categorical, X)
    for part in (X_tr, X_te):  # whole-number codes become int64: categories 1, not '1'
        if part is not None:
            for c in categorical:
                part[c] = text_as_codes(X[c]).loc[part.index]
    est = cls(hidden, l1_reg=args.l1, learning_rate=args.lr, batch_size=args.batch_size,
              max_epochs=args.epochs, random_state=args.seed,
              standardize=not args.no_standardize, categorical_features=categorical or None,
              verbose=not args.quiet and sys.stderr.isatty())
    with Steps(["train", "unwrap", "report"], args.quiet) as bar:
        bar("train")
        est.fit(X_tr, y_tr)
        bar.done()
        net = est.network_
        classes = getattr(est, "classes_", None)
        y_tr_enc = encode_target(y_tr, net, classes, args.data)
        metrics: dict[str, Any] = {"task": task, "hidden": list(hidden), "l1": args.l1,
                                   "epochs": int(getattr(est, "n_epochs_", 0)),
                                   "preprocessing": preprocessing(est)}
        # the network's inputs: categorical columns one-hot encoded (identity otherwise)
        X_tr_in = pd.DataFrame(est.transform_inputs(X_tr), columns=est.get_feature_names_out())
        X_te_in = None if X_te is None else pd.DataFrame(
            est.transform_inputs(X_te), columns=est.get_feature_names_out())
        name, val = metric(net, X_tr_in, y_tr_enc)
        metrics[f"train {name}"] = val
        if X_te is not None:
            name, val = metric(net, X_te_in, encode_target(y_te, net, classes, args.data))
            metrics[f"test {name}"] = val
        bar("unwrap")
        regions = unwrap(net, X_tr_in, y_tr_enc)
        metrics["regions"] = len(regions)
        metrics["max_abs_error"] = regions.max_abs_error
        from glassnet.fragmentation import fragmentation_caveat

        caveat = fragmentation_caveat(regions, X_te_in)
        metrics["caveats"] = [] if caveat is None else [caveat]
        bar.done()
        out.mkdir(parents=True, exist_ok=True)
        save(est, out / "model.glassnet")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
        from glassnet.cli import _report
        from glassnet.provenance import write_provenance

        prov = _report.train_provenance(args, est, X, X_tr, X_te, metrics, task)
        prov["caveats"] = metrics["caveats"]
        write_provenance(out, prov)
        bar("report")
        report_path = None
        if not args.no_report:
            report = Report(f"glassnet train: {Path(args.data).name}",
                            subtitle=f"target {args.target!r}, {task}")
            report.add_overview(est, X_tr_in, y_tr, data_name=f"{args.data} (training rows)",
                                task=task, metrics={k: v for k, v in metrics.items()
                                                    if k.startswith(("train", "test"))})
            analysis_sections(report, net, regions, X_tr_in, y_tr_enc, top=args.top)
            _report.validation_sections(
                report, args, model=est, net=net, X=X_te_in,
                y_enc=None if X_te is None else encode_target(y_te, net, classes, args.data),
                rows_note="Test rows: held out before training, never used to fit the model.",
                provenance=prov)
            report.add_versions(command=command_line(args._argv))
            report_path = report.save(args.report or out / "report.html")
            _report.finish(report, args, report_path)
        bar.done()
    shown = ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()
                      if k.startswith(("train", "test")))
    print(f"trained {type(est).__name__} {'x'.join(map(str, hidden))}: {shown}")
    print_regions(regions, top=5)
    if caveat is not None:
        print(f"caveat: {caveat}")
    print(f"model:  {out / 'model.glassnet'}")
    if report_path is not None:
        print(f"report: {report_path}")
    return EXIT_OK


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



# bytes a network parameter costs while training and unwrapping: a float64 draw at
# initialisation (8), the float32 weight, its gradient and Adam's two moments (4 x 4), and the
# float64 copy in ``network_`` (8)
_BYTES_PER_PARAMETER = 32
_INFERENCE_ROWS = 4096  # rows of one float64 forward-pass chunk when unwrapping


def training_memory(n_features: int, hidden: Sequence[int], n_outputs: int, batch_size: int,
                    n_rows: int) -> int:
    """Bytes ``glassnet train`` needs at least: parameters (see ``_BYTES_PER_PARAMETER``),
    float32 activations of one mini-batch kept for the backward pass (x3: value, gradient,
    ReLU mask), and one float64 forward-pass chunk (x2: input and output of a layer)."""
    widths = [n_features, *hidden, n_outputs]
    params = sum((a + 1) * b for a, b in itertools.pairwise(widths))
    batch = min(batch_size, n_rows) * sum(widths) * 4 * 3
    chunk = min(_INFERENCE_ROWS, n_rows) * max(widths) * 8 * 2
    return params * _BYTES_PER_PARAMETER + batch + chunk


def memory_limit() -> int:
    """Half the machine's physical memory (8 GiB when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def check_memory(n_features: int, hidden: Sequence[int], n_outputs: int, batch_size: int,
                 n_rows: int) -> None:
    """Refuse, before allocating anything, a network too large for this machine."""
    need, limit = training_memory(n_features, hidden, n_outputs, batch_size, n_rows), \
        memory_limit()
    if need > limit:
        raise CLIError(
            f"--hidden {','.join(map(str, hidden))} needs about {need / 2**30:,.1f} GiB to "
            f"train on {n_features} features, more than the {limit / 2**30:,.1f} GiB glassnet "
            "allows itself (half this machine's memory); use narrower or fewer layers."
        )


def _estimator_defaults(parser: argparse.ArgumentParser) -> None:
    """The estimator's defaults are the command's (one source of truth for epochs, learning
    rate and batch size; parser-level defaults take precedence over the arguments')."""
    import inspect

    from glassnet.estimators import ReluNetClassifier

    params = inspect.signature(ReluNetClassifier).parameters
    parser.set_defaults(epochs=params["max_epochs"].default,
                        lr=params["learning_rate"].default,
                        batch_size=params["batch_size"].default)


def _categorical_columns(text: str | None, X: Any) -> list[str]:
    if not text:
        return []
    cols = [c.strip() for c in text.split(",") if c.strip()]
    missing = [c for c in cols if c not in X.columns]
    if missing:
        raise CLIError(
            f"--categorical names column(s) {missing} that are not features of the file "
            f"(features: {list(X.columns)[:10]}{'...' if X.shape[1] > 10 else ''})."
        )
    return cols


def preprocessing(est: Any) -> dict[str, Any]:
    """What the estimator does to raw rows, for metrics.json: the standardisation folded into
    the network (per input: mean and scale), the one-hot categories and feature groups."""
    names = [str(n) for n in est.get_feature_names_out()]
    cats = getattr(est, "categorical_features_", [])
    return {
        "standardize": bool(est.standardize),
        "folded_into_network": True,
        "input_mean": dict(zip(names, map(float, est.input_mean_), strict=True)),
        "input_scale": dict(zip(names, map(float, est.input_scale_), strict=True)),
        "categorical": {c: list(v) for c, v in zip(cats, est.categories_ or [], strict=True)},
        "feature_groups": {g: list(m) for g, m in (est.feature_groups_ or {}).items()},
    }


def _guess_task(y: Any) -> str:
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return "classification"
    vals = y.to_numpy(dtype=np.float64)
    if np.all(vals == np.round(vals)) and np.unique(vals).size <= 10:
        return "classification"
    return "regression"


