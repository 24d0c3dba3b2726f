"""``glassnet explain``: exact answers about single decisions, as an HTML report.

For each chosen row of DATA.csv: the reason codes (exact path attributions against a
reference) and the cheapest counterfactual under the constraints of a JSON (or YAML, when
PyYAML is installed) file; one report section per decision. See
:mod:`glassnet.decisions`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from glassnet.cli._common import (
    EXIT_OK,
    CLIError,
    add_model_argument,
    check_outputs,
    command_line,
    data_stem,
    model_file,
    read_inputs,
    warn,
)
from glassnet.decisions.favorable import DEFAULT_FAVORABLE, favorable_note
from glassnet.io import classes_of
from glassnet.persist import load_model

_MAX_ROWS = 50


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``explain`` sub-command to ``sub``."""
    p = sub.add_parser(
        "explain", parents=[common],
        help="reason codes and counterfactuals of single decisions (exact)",
        description="Explain chosen decisions of MODEL on rows of DATA.csv: exact reason "
        "codes (integrated gradients computed as a finite sum over the activation regions "
        "between a reference and the row) and the cheapest counterfactual that reaches the "
        "favorable decision under --constraints (a mixed-integer program, verified by a "
        "forward pass). Writes one HTML report section per decision.",
    )
    add_model_argument(p)
    p.add_argument("data", metavar="DATA.csv")
    p.add_argument("--rows", required=True,
                   help="comma-separated row numbers of DATA.csv (0: the first data row)")
    p.add_argument("--target", default=None,
                   help="target column of DATA.csv, dropped before scoring (optional)")
    p.add_argument("--reasons", action="store_true", help="reason codes (default: both)")
    p.add_argument("--counterfactual", action="store_true",
                   help="counterfactuals (default: both)")
    p.add_argument("--constraints", default=None, metavar="FILE",
                   help="JSON (or .yaml/.yml) constraints for counterfactuals: immutable, "
                   "increase_only, decrease_only, bounds, integer, one_hot, linear")
    p.add_argument("--favorable", type=int, default=DEFAULT_FAVORABLE,
                   help=f"the favourable (approved) class index (default {DEFAULT_FAVORABLE}: "
                   "class 1 is the modelled event, a default; pass 1 when class 1 is the good "
                   "outcome)")
    p.add_argument("--reference", default="approved_mean",
                   choices=("approved_mean", "nearest_approved"),
                   help="reference of the reason codes among DATA.csv's approved rows")
    p.add_argument("--top", type=int, default=4, help="reasons per decision (default 4)")
    p.add_argument("--cost", default="l1", choices=("l1", "linf"),
                   help="counterfactual cost, MAD-weighted (default l1)")
    p.add_argument("--time-limit", type=float, default=30.0,
                   help="seconds per counterfactual program (default 30)")
    p.add_argument("--report", default=None,
                   help="report path (default DATA-explain.html in the current folder)")
    p.set_defaults(func=run)


def _rows(text: str, X: Any) -> list[int]:
    try:
        rows = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise CLIError(f"--rows must be comma-separated row numbers; got {text!r}.") from None
    if not rows:
        raise CLIError("--rows lists no row.")
    if len(rows) > _MAX_ROWS:
        raise CLIError(f"--rows lists {len(rows)} rows; at most {_MAX_ROWS} per report.")
    bad = [r for r in rows if r not in X.index]
    if bad:
        raise CLIError(f"--rows {bad[:5]} are not row numbers of the data (0..{len(X) - 1}).")
    return rows


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet explain``; returns the exit code."""
    from glassnet import Report
    from glassnet.decisions import counterfactual, reason_codes
    from glassnet.decisions.constraints import load_constraints
    from glassnet.plotting.decisions import CounterfactualDisplay, ReasonCodeDisplay

    if args.report is None:
        args.report = f"{data_stem(args.data)}-explain.html"
    check_outputs(
        {"MODEL": args.model, "MODEL file": model_file(args.model), "DATA.csv": args.data,
         "--constraints": args.constraints},
        {"--report": args.report}, force=getattr(args, "force", False),
    )
    if args.top < 1:
        raise CLIError(f"--top must be >= 1; got {args.top}.")
    if not args.time_limit > 0:
        raise CLIError(f"--time-limit must be > 0; got {args.time_limit}.")
    do_reasons = args.reasons or not args.counterfactual
    do_cf = args.counterfactual or not args.reasons
    constraints = load_constraints(args.constraints) if args.constraints else None
    model, net, desc = load_model(args.model, trust_pickle=args.trust_pickle, warn=warn)
    X, _ = read_inputs(model, net, args.data, args.target)
    rows = _rows(args.rows, X)
    Xr = X.loc[rows]
    fav_note = favorable_note(args.favorable, target=args.target, classes=classes_of(model))
    report = Report(f"glassnet explain: {Path(args.model).name}",
                    subtitle=f"{desc}; {len(rows)} decision(s) of {args.data}; {fav_note}")
    rc = cfs = None
    if do_reasons:
        rc = reason_codes(net, Xr, args.reference, population=X, favorable=args.favorable,
                          top_k=args.top)
    if do_cf:
        cfs = counterfactual(net, Xr, target=args.favorable, data=X, cost=args.cost,
                             constraints=constraints, time_limit=args.time_limit)
    p_fav = _favorable_probability(net, Xr, args.favorable)
    for i, r in enumerate(rows):
        parts_title = f"Decision: row {r} (P(class {args.favorable}) = {p_fav[i]:.3f})"
        if rc is not None:
            part = rc[rc.row == r].drop(columns=["row"])
            report.add_table(parts_title + " - reason codes", part.round(6), key="reasons",
                             caption=f"Exact path attributions against the {args.reference} "
                             "reference: the features that lowered the favourable class's score "
                             "most. All attributions sum to the total f(x) - f(reference). "
                             f"{fav_note[:1].upper() + fav_note[1:]}.")
            disp = ReasonCodeDisplay.from_model(net, X, int(X.index.get_loc(r)),
                                                reference=args.reference, population=X,
                                                favorable=args.favorable)
            report.add_figure(f"Row {r}: attributions", disp.figure_, key="reasons-figure")
        if cfs is not None:
            f = cfs.frame.set_index("row").loc[r]
            ch = cfs.changes()
            ch = ch[ch.row == r].drop(columns=["row"])
            summary = (f"status {f.status}, cost {f.cost:.4g} ({args.cost}, MAD-weighted), "
                       f"valid {bool(f.valid)}, optimality gap {f.gap:.2g}, margin "
                       f"{f.margin:.3g}, lands in {'the same' if f.same_region else 'another'}"
                       " activation region")
            report.add_table(f"Row {r}: counterfactual", ch.round(6), key="counterfactual",
                             caption=f"{summary}. Target: the {fav_note.replace(': ', ' ', 1)}."
                             f" {_whole_values_note(cfs)}")
            if f.status in ("found", "time_limit") and ch.shape[0]:
                disp = CounterfactualDisplay.from_counterfactuals(cfs, r)
                report.add_figure(f"Row {r}: counterfactual changes", disp.figure_,
                                  key="counterfactual-figure")
            print(f"row {r}: {summary}")
    if cfs is not None:
        changes = cfs.changes()
        if changes.shape[0]:
            print(changes.round(4).to_string(index=False))
        print(_whole_values_note(cfs))
    if rc is not None:
        print(rc[["row", "rank", "feature", "contribution"]].round(4).to_string(index=False))
    report.add_versions(command=command_line(getattr(args, "_argv", None)))
    path = report.save(args.report)
    print(fav_note)
    print(f"report: {path}")
    return EXIT_OK


def _whole_values_note(cfs: Any) -> str:
    if not cfs.integer_features:
        return "No feature is held to whole values."
    return ("Whole values only: " + ", ".join(cfs.integer_features) + " (listed in "
            "--constraints, or whole-number codes of DATA with at most 20 values; "
            '"integer": [] in --constraints turns this off).')


def _favorable_probability(net: Any, X: Any, favorable: int):
    p = net.predict_output(X)
    if p.shape[1] == 1:
        return p[:, 0] if favorable == 1 else 1.0 - p[:, 0]
    return p[:, favorable]
