"""``glassnet simplify``: merge or prune regions, an L1 path or a mixture of linear models,
compared with the network on held-out rows."""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._csv import encode_target
from glassnet.cli._common import (
    EPOCHS,
    EXIT_OK,
    SEED,
    TEST_SIZE,
    TOP,
    CLIError,
    Steps,
    add_model_argument,
    analysis_sections,
    check_fraction,
    check_outputs,
    command_line,
    data_stem,
    fit_mlm,
    has_module,
    metric,
    mlm_section,
    model_file,
    read_inputs,
    report_outputs,
    score_proba,
    simplification_section,
    split,
    warn,
    writable,
)
from glassnet.io import classes_of
from glassnet.persist import load_model


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``simplify`` sub-command to ``sub``."""
    simplify = sub.add_parser(
        "simplify", parents=[common],
        help="simplify a model: merge or prune regions, L1 path, or MLM",
        description="Simplify MODEL on DATA.csv: merge its regions into a few GLMs (merge), "
        "keep the largest regions and attach the others to the nearest kept one (prune), "
        "retrain along an L1 path (l1), or explain it by a mixture of linear models (mlm); "
        "compare with the network on held-out rows and write an HTML report.",
    )
    add_model_argument(simplify)
    simplify.add_argument("data", metavar="DATA.csv")
    simplify.add_argument("--target", required=True, help="target column")
    simplify.add_argument("--method", choices=("merge", "prune", "l1", "mlm"), default="merge",
                          help="simplification method (default merge)")
    simplify.add_argument("--n-regions", default="cv",
                          help="merged regions (merge), kept regions (prune) or EPICs (mlm): "
                          "'cv' (chosen by cross-validation on the training rows) or a count")
    simplify.add_argument("--l1-values", default=None,
                          help="comma-separated penalties for --method l1")
    simplify.add_argument("--epochs", type=EPOCHS, default=200,
                          help="maximum epochs per fit for --method l1 (default 200)")
    simplify.add_argument("--test-size", type=TEST_SIZE, default=0.2,
                          help="share of rows held out for the comparison (default 0.2)")
    simplify.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
    simplify.add_argument("--top", type=TOP, default=20, help="regions shown in the report")
    simplify.add_argument("--report", default=None,
                          help="report path (default DATA-METHOD.html in the current folder, "
                          "e.g. credit-merge.html for credit.csv)")
    simplify.add_argument("--no-report", action="store_true", help="do not write a report")
    simplify.add_argument("--out", default=None, metavar="FILE.glassnet",
                          help="save the fitted simplification")
    from glassnet.cli._report import add_report_options

    add_report_options(simplify)
    simplify.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet simplify``; returns the exit code."""

    from glassnet import Report, unwrap
    from glassnet.persist import save

    if args.report is None:
        args.report = f"{data_stem(args.data)}-{args.method}.html"
    check_outputs(
        {"MODEL": args.model, "MODEL file": model_file(args.model), "DATA.csv": args.data},
        {**report_outputs(args, None if args.no_report else args.report), "--out": args.out},
        force=getattr(args, "force", False),
    )
    model, net, desc = load_model(args.model, trust_pickle=args.trust_pickle, warn=warn)
    X, y = read_inputs(model, net, args.data, args.target)
    task = net.task
    y_enc = encode_target(y, net, classes_of(model), Path(args.data).name)
    check_fraction(args.test_size, "--test-size")
    X_tr, X_te, y_tr, y_te = split(X, y_enc, args.test_size, args.seed,
                                    task == "classification")
    X_ev, y_ev = (X_te, y_te) if X_te is not None else (X_tr, y_tr)
    where = "test" if X_te is not None else "train"
    name, net_score = metric(net, X_ev, y_ev)
    module = {"merge": "glassnet.simplify.merge", "mlm": "glassnet.mlm",
              "l1": "glassnet.simplify.l1path", "prune": "glassnet.simplify.prune"}[args.method]
    if not has_module(module):
        raise CLIError(f"--method {args.method} is not available in this glassnet installation.")
    n = _parse_count(args.n_regions)
    with Steps(["unwrap", args.method, "report"], args.quiet) as bar:
        bar("unwrap")
        regions = unwrap(net, X_tr, y_tr)
        bar.done()
        rows = [{"model": "network", "regions": len(regions), f"{where} {name}": net_score}]
        report = Report(f"glassnet simplify ({args.method}): {Path(args.model).name}",
                        subtitle=f"{desc} on {args.data}")
        report.add_overview(model, X_tr, y_tr, data_name=f"{args.data} (training rows)",
                            metrics={f"network {where} {name}": net_score},
                            target=args.target, favorable=args.favorable)
        analysis_sections(report, net, regions, X_tr, y_tr, top=args.top)
        bar(args.method)
        fitted: Any = None
        if args.method == "merge":
            with _one_line_warnings():
                fitted = _fit_merger(net, X_tr, y_tr, n, args.seed, verbose=not args.quiet)
            score = score_proba(task, y_ev, _predict_scores(fitted, X_ev, task))
            rows.append({"model": "merged regions", "regions": fitted.n_regions_,
                         f"{where} {name}": score})
            simplification_section(report, rows, fitted)
            report.add_merged_regions(fitted, X_ev, y_ev, X_fit=X_tr, y_fit=y_tr)
        elif args.method == "prune":
            with _one_line_warnings():
                fitted = _fit_pruner(net, X_tr, y_tr, n, args.seed, verbose=not args.quiet)
            score = score_proba(task, y_ev, _predict_scores(fitted, X_ev, task))
            rows.append({"model": "pruned regions (RegionPruner)", "regions": fitted.n_regions_,
                         f"{where} {name}": score})
            simplification_section(report, rows, None)
            cv_table = _prune_cv_table(fitted, task)
            if cv_table is not None:
                report.add_table(
                    "Pruning: number of kept regions", cv_table, key="prune-cv",
                    caption=f"{fitted.cv}-fold cross-validation on the "
                    f"training rows (score: {'AUC' if task == 'classification' else '-RMSE'}); "
                    f"kept {fitted.n_regions_}, the smallest count within one standard error "
                    "of the best mean score.",
                )
            report.add_merged_regions(fitted, X_ev, y_ev, X_fit=X_tr, y_fit=y_tr,
                                      title="Kept regions (pruning)")
        elif args.method == "mlm":
            fitted = fit_mlm(net, X_tr, y_tr, args.seed, n_epics=n if n != "cv" else "auto")
            score = score_proba(task, y_ev, _predict_scores(fitted, X_ev, task))
            rows.append({"model": "MLM-EPIC", "regions": fitted.n_epics_,
                         f"{where} {name}": score})
            simplification_section(report, rows, None)
            mlm_section(report, fitted, rows[-1])
        else:
            with _one_line_warnings():
                fitted = _run_l1(args, model, net, X_tr, y_tr, X_te, y_te, task)
            table = fitted.table_
            best = table.loc[table["l1_reg"] == fitted.recommended_].iloc[0]
            # the penalty is chosen on validation rows carved from the training rows; the
            # held-out rows are only reported
            shown = best["test_score"] if "test_score" in table else best["score"]
            rows.append({"model": f"L1 retrained, recommended l1_reg={fitted.recommended_:g}",
                         "regions": int(best["n_regions"]), f"{where} {name}": shown})
            simplification_section(report, rows, None)
            report.add_table(
                "L1 regularization path", table, key="l1-path",
                caption=f"One network per penalty, trained on the training rows less a "
                f"validation share; score = {fitted.metric_.upper()} on those "
                f"{fitted.score_on_} rows (the only score used to choose)"
                + (", test_score on the held-out test rows (reported only)"
                   if "test_score" in table else "")
                + f". Recommended ({fitted.recommended_:g}): {fitted.rule_}.",
            )
            report.add_figure("L1 path plot", fitted.plot().figure_, key="l1-path-plot")
        bar.done()
        bar("report")
        if args.out:
            save(fitted, writable(args.out))
        from glassnet.cli import _report

        _report.validation_sections(
            report, args, model=model, net=net, X=X_ev, y_enc=y_ev,
            surrogates=_report.surrogate_scores(fitted, X_ev, rows[-1]["model"]),
            rows_note=f"The {where} rows ({len(X_ev):,}); simplifications were fitted on the "
            "other rows." if where == "test" else "The training rows (no test split).")
        report.add_versions(command=command_line(args._argv))
        report_path = None if args.no_report else report.save(args.report)
        _report.finish(report, args, report_path)
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


def _fit_pruner(net: Any, X: Any, y: Any, n_regions: Any, seed: int,
                verbose: bool = False) -> Any:
    """A RegionPruner keeping ``n_regions`` regions; ``"cv"``: chosen by the pruner's own
    cross-validation on these (training) rows, with its defaults, as in Python."""
    from glassnet import RegionPruner

    return RegionPruner(net, n_regions=n_regions, random_state=seed,
                        verbose=verbose).fit(X, y)


def _prune_cv_table(pruner: Any, task: str) -> Any:
    import pandas as pd

    res = getattr(pruner, "cv_results_", None)
    if res is None:
        return None
    metric = "AUC" if task == "classification" else "-RMSE"
    return pd.DataFrame({"kept regions": res["n_regions"],
                         f"mean CV {metric}": res["mean_test_score"],
                         f"std CV {metric}": res["std_test_score"],
                         "chosen": np.where(res["n_regions"] == pruner.cv_n_regions_, "yes", "")})


@contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Library warnings during a fit become ``glassnet: warning:`` lines on stderr."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for w in caught:
        msg = str(w.message).removeprefix("glassnet: warning: ").splitlines()[0]
        if msg not in seen:
            seen.add(msg)
            warn(msg)


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
        if not all(math.isfinite(v) and 0 <= v <= 100 for v in values):
            raise CLIError(
                f"--l1-values must be finite penalties in [0, 100]; got {args.l1_values!r}."
            )
    else:
        values = list(_DEFAULT_L1)
    # the penalty is chosen on validation rows carved from the training rows; the test rows
    # are only scored (test_score)
    return l1_path(est, X_tr, y_tr, values, X_test=X_te, y_test=y_te, random_state=args.seed,
                   verbose=not args.quiet)


_DEFAULT_L1 = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def _fit_merger(net: Any, X: Any, y: Any, n_regions: Any, seed: int, fast: bool = False,
                verbose: bool = False) -> Any:
    from glassnet import RegionMerger

    kwargs: dict[str, Any] = {"n_regions": n_regions, "random_state": seed, "verbose": verbose}
    if fast:
        kwargs.update(cv=3, candidates=range(1, 9))
    return RegionMerger(net, **kwargs).fit(X, y)



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


