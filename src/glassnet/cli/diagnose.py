"""``glassnet diagnose``: the validation tests of :mod:`glassnet.diagnose` on a CSV, as an
HTML report (accuracy gap, weak spots, overfit, reliability, robustness with the exact
worst case, resilience, fairness, comparison with a GLM, permutation importance, ALE, H)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._csv import categorical_columns, encode_target, read_csv
from glassnet.cli._common import (
    EXIT_OK,
    SEED,
    TEST_SIZE,
    CLIError,
    add_model_argument,
    check_fraction,
    check_outputs,
    command_line,
    data_stem,
    model_file,
    network_inputs,
    split,
    warn,
)
from glassnet.decisions.favorable import DEFAULT_FAVORABLE
from glassnet.diagnose import SECTIONS as _SECTIONS
from glassnet.io import classes_of
from glassnet.persist import load_model


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``diagnose`` sub-command to ``sub``."""
    p = sub.add_parser(
        "diagnose", parents=[common],
        help="validation tests (accuracy, weak spots, reliability, robustness, fairness...)",
        description="Run the model-validation tests of glassnet.diagnose on MODEL and "
        "DATA.csv, split into training and held-out rows as --test-size says (use the rows "
        "the model was trained on with their original split where you can), and write an "
        "HTML report: accuracy with train/test gap, weak spots (histogram slices and the "
        "network's own regions), overfit slices, split-conformal reliability and calibration, "
        "robustness to noise with the exact worst-case flip radius, resilience, fairness by "
        "--protected group, a comparison with a GLM, permutation importance, ALE and "
        "Friedman's H.",
    )
    add_model_argument(p)
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--target", required=True, help="target column")
    p.add_argument("--protected", default=None,
                   help="column of DATA.csv holding the protected group (fairness section); "
                   "it is not passed to the model unless the model uses it")
    p.add_argument("--reference-group", default=None,
                   help="reference group for fairness (default: the largest group)")
    p.add_argument("--favorable", type=int, default=DEFAULT_FAVORABLE,
                   help=f"the favourable class index for fairness (default {DEFAULT_FAVORABLE}: "
                   "class 1 is the modelled event, a default; pass 1 when class 1 is the good "
                   "outcome)")
    p.add_argument("--sections", default=",".join(_SECTIONS),
                   help=f"comma-separated subset of {','.join(_SECTIONS)} (default all)")
    p.add_argument("--slice-features", default=None,
                   help="comma-separated features sliced for weak spots/overfit (default all)")
    p.add_argument("--exact-rows", type=int, default=20,
                   help="held-out rows given the exact worst-case flip radius (one MILP each; "
                   "0 to skip; default 20, so the section takes at most rows x time limit)")
    p.add_argument("--exact-time-limit", type=float, default=5.0,
                   help="seconds per exact MILP; rows that run out are left out and counted "
                   "(default 5)")
    p.add_argument("--test-size", type=TEST_SIZE, default=0.2,
                   help="share of rows held out (default 0.2)")
    p.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
    p.add_argument("--report", default=None,
                   help="report path (default DATA-diagnose.html in the current folder)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet diagnose``; returns the exit code."""
    from glassnet import Report
    from glassnet.decisions.favorable import favorable_note
    from glassnet.diagnose import run_diagnostics

    if args.report is None:
        args.report = f"{data_stem(args.data)}-diagnose.html"
    check_outputs(
        {"MODEL": args.model, "MODEL file": model_file(args.model), "DATA.csv": args.data},
        {"--report": args.report}, force=getattr(args, "force", False),
    )
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    bad = [s for s in sections if s not in _SECTIONS]
    if bad or not sections:
        raise CLIError(f"--sections: unknown {bad}; choose from {','.join(_SECTIONS)}.")
    if args.exact_rows < 0:
        raise CLIError(f"--exact-rows must be >= 0; got {args.exact_rows}.")
    check_fraction(args.test_size, "--test-size")
    if args.test_size <= 0:
        raise CLIError("--test-size must be > 0: the diagnostics need held-out rows.")
    model, net, desc = load_model(args.model, trust_pickle=args.trust_pickle, warn=warn)
    X, y = read_csv(args.data, args.target, text_columns=categorical_columns(model))
    groups = None
    if args.protected is not None:
        if args.protected not in X.columns:
            raise CLIError(f"--protected {args.protected!r} is not a column of {args.data}.")
        groups = X[args.protected].to_numpy()
        # a raw column the model reads (one-hot encoded ones included) stays in X
        used = set(net.feature_names or ()) | set(map(str, getattr(model, "feature_names_in_",
                                                                    ())))
        if args.protected not in used:
            X = X.drop(columns=[args.protected])
    X = network_inputs(model, net, X, Path(args.data).name)
    task = net.task
    y_enc = encode_target(y, net, classes_of(model), Path(args.data).name)
    if task == "classification":
        n_classes = max(net.n_outputs, 2)
        if not 0 <= args.favorable < n_classes:
            raise CLIError(f"--favorable must be a class index in 0..{n_classes - 1}; "
                           f"got {args.favorable}.")
    fav_note = favorable_note(args.favorable, target=args.target, classes=classes_of(model))
    idx = np.arange(len(X))
    i_tr, i_te, y_tr, y_te = split(idx, y_enc, args.test_size, args.seed,
                                   task == "classification")
    X_tr, X_te = X.iloc[i_tr], X.iloc[i_te]
    slice_features = None
    if args.slice_features:
        slice_features = [s.strip() for s in args.slice_features.split(",") if s.strip()]
        missing = [s for s in slice_features if s not in X.columns]
        if missing:
            raise CLIError(f"--slice-features {missing} are not model features of {args.data}.")
    subtitle = (f"{desc} on {args.data} ({len(X_tr)} training / {len(X_te)} held-out rows, "
                f"seed {args.seed})" + (f"; {fav_note}" if task == "classification" else ""))
    report = Report(f"glassnet diagnose: {Path(args.model).name}", subtitle=subtitle)
    results = run_diagnostics(
        net, X_tr, y_tr, X_te, y_te, sections=sections,
        protected=None if groups is None else groups[i_te],
        reference_group=_group_value(groups, args.reference_group),
        favorable=args.favorable if task == "classification" else None,
        slice_features=slice_features, exact_rows=args.exact_rows,
        exact_time_limit=args.exact_time_limit if args.exact_time_limit > 0 else None,
        random_state=args.seed,
    )
    report.add_diagnostics(results, target=args.target)
    report.add_versions(command=command_line(getattr(args, "_argv", None)))
    path = report.save(args.report)
    print(f"model: {desc}, {net}")
    if "accuracy" in results:
        print(results["accuracy"].round(4).to_string())
    if "weakspots" in results:
        print(f"weak slices: {int(results['weakspots']['weak'].sum())} of "
              f"{len(results['weakspots'])}")
    if "reliability" in results:
        s = results["reliability"].summary.iloc[0]
        print(f"conformal coverage {s['coverage']:.3f} (nominal {s['nominal']:.2f}), "
              f"bandwidth {s['bandwidth']:.3f}")
    if "robustness" in results and results["robustness"].exact is not None:
        e = results["robustness"].exact
        print("exact share flippable within radius: " + ", ".join(
            f"{r:g}: {v:.3f}" for r, v in zip(e["size"], e["share_flippable"], strict=True)))
    if "fairness" in results:
        print(fav_note)
        print(results["fairness"][["group", "n", "air", "smd"]].round(4).to_string(index=False)
              if "air" in results["fairness"] else results["fairness"].to_string(index=False))
    print(f"report: {path}")
    return EXIT_OK


def _group_value(groups: Any, text: str | None) -> Any:
    """The reference group typed on the command line, as the group column's own type."""
    if text is None or groups is None:
        return None
    for g in np.unique(groups):
        if str(g) == text or (isinstance(g, (int, float, np.number)) and _num(text) == g):
            return g
    raise CLIError(f"--reference-group {text!r} is not a group of the protected column "
                   f"({np.unique(groups)[:10].tolist()}).")


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
