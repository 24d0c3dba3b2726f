"""``glassnet demo``: the whole pipeline on the built-in CoCircles data, no arguments."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from glassnet.cli._common import (
    EPOCHS,
    EXIT_OK,
    SEED,
    CLIError,
    Steps,
    analysis_sections,
    check_outputs,
    command_line,
    fit_mlm,
    has_module,
    metric,
    mlm_section,
    print_regions,
    score_proba,
    simplification_section,
)


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``demo`` sub-command to ``sub``."""
    demo = sub.add_parser(
        "demo", parents=[common], help="run the whole pipeline on the built-in CoCircles data",
        description="Train a 4x40 ReLU network on CoCircles, unwrap it, merge its regions, fit "
        "a mixture of linear models, and write report.html and model.glassnet.",
    )
    demo.add_argument("--out", default="glassnet-demo", metavar="DIR",
                      help="output directory (default: ./glassnet-demo)")
    demo.add_argument("--fast", action="store_true",
                      help="a small 2x16 network and short training (for tests and a quick look)")
    demo.add_argument("--epochs", type=EPOCHS, default=None, help="maximum training epochs")
    demo.add_argument("--seed", type=SEED, default=0, help="random seed (default 0)")
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet demo``; returns the exit code."""
    from sklearn.model_selection import train_test_split

    from glassnet import Report, unwrap
    from glassnet.datasets import make_cocircles
    from glassnet.io import as_network
    from glassnet.persist import save

    t0 = time.perf_counter()
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out is a directory for the demo's report and model; got {out}.")
    check_outputs({}, {"--out DIR/report.html": out / "report.html",
                       "--out DIR/model.glassnet": out / "model.glassnet"},
                  force=getattr(args, "force", False))
    out.mkdir(parents=True, exist_ok=True)
    hidden = (16, 16) if args.fast else (40, 40, 40, 40)
    df = make_cocircles(random_state=args.seed)
    X, y = df[["X0", "X1"]], df["target"].to_numpy()
    # the published CoCircles protocol: a plain (unstratified) 80/20 split
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=args.seed)
    steps = ["train", "unwrap"]
    have_merge, have_mlm = has_module("glassnet.simplify.merge"), has_module("glassnet.mlm")
    have_flatten = have_merge and has_module("glassnet.simplify._flatten")
    steps += ["merge"] * have_merge + ["mlm"] * have_mlm + ["report"]
    summary: dict[str, Any] = {}
    arch = "x".join(str(h) for h in hidden)
    with Steps(steps, args.quiet) as bar:
        bar(f"train {arch}")
        if has_module("glassnet.estimators"):
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
        name, net_test = metric(net, X_te, y_te.astype(float))
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
        analysis_sections(report, net, regions, X_tr, y_tr.astype(float), top=20)
        rows = [{"model": f"network {arch}", "regions": len(regions),
                 f"test {name}": net_test}]
        merger = mlm = None
        if have_merge:
            bar("merge")
            merger = _fit_demo_merger(net, X_tr, y_tr, args.seed, fast=args.fast)
            m_test = score_proba("classification", y_te, merger.predict_proba(X_te))
            rows.append({"model": "merged regions (RegionMerger, CV)",
                         "regions": merger.n_regions_, f"test {name}": m_test})
            summary["merged"] = {"regions": merger.n_regions_, f"test {name}": m_test}
            if have_flatten:
                from glassnet import flatten

                flat = flatten(merger, X_tr, y_tr, random_state=args.seed,
                               max_epochs=20 if args.fast else 500)
                f_test = score_proba("classification", y_te, flat.predict_proba(X_te))
                rows.append({"model": f"flattened (1 hidden layer, {merger.n_regions_} units)",
                             "regions": len(unwrap(flat.network_, X_tr)),
                             f"test {name}": f_test})
            bar.done()
        if have_mlm:
            bar("mlm")
            mlm = fit_mlm(net, X_tr, y_tr, args.seed, fast=args.fast)
            e_test = score_proba("classification", y_te, mlm.predict_proba(X_te))
            rows.append({"model": "MLM-EPIC (soft weights, EPICs)", "regions": mlm.n_epics_,
                         f"test {name}": e_test})
            summary["mlm"] = {"epics": mlm.n_epics_, f"test {name}": e_test}
            bar.done()
        bar("report")
        simplification_section(report, rows, merger)
        if merger is not None:
            report.add_merged_regions(merger, X_te, y_te, X_fit=X_tr, y_fit=y_tr)
        if mlm is not None:
            mlm_section(report, mlm, rows[-1])
        report.add_versions(command=command_line(args._argv))
        path = report.save(out / "report.html")
        save(model, out / "model.glassnet")
        bar.done()
    print(f"CoCircles, {arch} ReLU network: test {name} {net_test:.4f}")
    print_regions(regions, top=5)
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


def _fit_demo_merger(net: Any, X: Any, y: Any, seed: int, fast: bool = False) -> Any:
    """The demo's merge: at most 8 merged regions (the size of the published CoCircles run),
    the count with the best mean CV score among 1..8."""
    from glassnet import RegionMerger

    kwargs: dict[str, Any] = {"candidates": range(1, 9), "selection": "best",
                              "random_state": seed}
    if fast:
        kwargs.update(cv=3)
    return RegionMerger(net, **kwargs).fit(X, y)

