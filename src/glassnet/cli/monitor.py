"""``glassnet monitor``: population and region stability of new rows against reference rows.

Both files are streamed in chunks (memory does not grow with the number of rows): see
:func:`glassnet.region_stability`.
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
    int_in,
    model_file,
    report_outputs,
    warn,
)
from glassnet.cli._report import add_report_options, finish

#: exit code when --fail-on is met (drift found), distinct from bad input (2)
EXIT_DRIFT = 3


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``monitor`` sub-command to ``sub``."""
    mon = sub.add_parser(
        "monitor", parents=[common],
        help="compare new rows with reference rows through the model's regions",
        description="Population stability of NEW.csv against REFERENCE.csv: PSI per feature, "
        "of the model's score and over its activation regions (and merged regions with "
        "--merger), the share of new rows in regions never seen in the reference, and with "
        "--target the observed outcome per region. Both files are streamed. Writes an HTML "
        "report; exit code 3 with --fail-on when the status is reached.",
    )
    add_model_argument(mon)
    mon.add_argument("reference", metavar="REFERENCE.csv")
    mon.add_argument("new", metavar="NEW.csv")
    mon.add_argument("--target", default=None,
                     help="outcome column, used in whichever file has it (optional)")
    mon.add_argument("--merger", default=None, metavar="MERGED.glassnet",
                     help="a saved RegionMerger/RegionPruner (glassnet simplify --out): also "
                     "the PSI over its merged regions")
    mon.add_argument("--thresholds", default="0.1,0.25", metavar="WATCH,ACT",
                     help="PSI thresholds: below WATCH stable, up to ACT watch, above act "
                     "(default 0.1,0.25)")
    mon.add_argument("--bins", type=int_in(2, 1000), default=10,
                     help="equal-count bins per feature and score (default 10)")
    mon.add_argument("--max-regions", type=int_in(1, 100_000), default=20,
                     help="largest regions tested one by one (default 20)")
    mon.add_argument("--chunk-size", type=int_in(1), default=100_000, metavar="N",
                     help="rows read at a time (default 100000)")
    mon.add_argument("--seed", type=int_in(0, 2**32 - 1), default=0,
                     help="seed of the sample the bin edges come from (default 0)")
    mon.add_argument("--fail-on", choices=("never", "watch", "act"), default="never",
                     help="exit with code 3 when the overall status reaches this (default never)")
    mon.add_argument("--report", default="monitor.html", help="report path (default "
                     "monitor.html)")
    mon.add_argument("--no-report", action="store_true", help="do not write a report")
    add_report_options(mon, explain=False)
    mon.set_defaults(func=run)


def _thresholds(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(t) for t in text.split(","))
    except ValueError:
        raise CLIError(f"--thresholds must be two numbers WATCH,ACT such as 0.1,0.25; got "
                       f"{text!r}.") from None
    if not 0 < lo < hi < float("inf"):
        raise CLIError(f"--thresholds must satisfy 0 < WATCH < ACT; got {text!r}.")
    return lo, hi


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet monitor``; returns the exit code."""
    from glassnet import Report
    from glassnet.monitor import region_stability
    from glassnet.persist import load_model
    from glassnet.provenance import read_provenance

    thresholds = _thresholds(args.thresholds)
    check_outputs(
        {"MODEL": args.model, "MODEL file": model_file(args.model),
         "REFERENCE.csv": args.reference, "NEW.csv": args.new},
        report_outputs(args, None if args.no_report else args.report),
        force=getattr(args, "force", False),
    )
    for name, path in (("REFERENCE.csv", args.reference), ("NEW.csv", args.new)):
        if not Path(path).is_file():
            raise CLIError(f"{name} {path} is not a file.")
    model, net, desc = load_model(args.model, trust_pickle=args.trust_pickle, warn=warn)
    merger = None
    if args.merger:
        from glassnet.persist import load

        merger = load(args.merger)
        if not hasattr(merger, "apply"):
            raise CLIError(f"--merger {args.merger} holds a {type(merger).__name__}, not a "
                           "RegionMerger or RegionPruner.")
    transform = None
    from glassnet.io import input_encoder

    if input_encoder(model) is not None:  # raw columns (text categories too) -> network inputs
        from glassnet.cli._common import network_inputs

        def transform(df: Any) -> Any:
            return network_inputs(model, net, df, "the monitored files", warn_extra=False)
    res = region_stability(net, args.reference, args.new, target=args.target, merger=merger,
                           thresholds=thresholds, n_bins=args.bins, max_regions=args.max_regions,
                           chunk_size=args.chunk_size, random_state=args.seed,
                           transform=transform)
    report_path = None
    if not args.no_report:
        report = Report(f"glassnet monitor: {Path(args.model).name}",
                        subtitle=f"{desc}; reference {args.reference}, new {args.new}")
        prov = read_provenance(args.model)
        if prov:
            report.add_provenance(prov)
        report.add_overview(model, data_name=args.reference)
        report.add_stability(res)
        caveats = []
        if prov is None:
            caveats.append("No provenance.json next to the model: its training data and "
                           "settings are unknown.")
        if args.target is None:
            caveats.append("No --target: no back-test of outcomes per region.")
        report.add_caveats(caveats)
        report.add_versions(command=command_line(args._argv))
        report_path = report.save(args.report)
        finish(report, args, report_path)
    st = res.settings
    print(f"model: {desc}")
    print(f"reference: {st['reference rows']:,} rows in {st['reference regions']:,} regions; "
          f"new: {st['new rows']:,} rows")
    for row in res.summary.itertuples(index=False):
        why = ""
        if row.check == "share of new rows in unseen regions":
            # its status is against the share expected with no shift, not an absolute level
            why = (f"; expected with no shift {st['unseen share expected']:.4f}, "
                   f"{st['unseen share z']:+.1f} standard errors")
        print(f"  {row.check}: {row.value:.4f} ({row.status}{why})")
    print(f"status: {res.status}")
    if report_path is not None:
        print(f"report: {report_path}")
    order = {"stable": 1, "watch": 2, "act": 3}
    if args.fail_on != "never" and order.get(res.status, 0) >= order[args.fail_on]:
        return EXIT_DRIFT
    return EXIT_OK
