"""``glassnet unwrap``: the activation regions of a saved model on a CSV, and their report.

Files larger than ``--stream-above`` MB (or any file with ``--chunk-size N``) are streamed:
memory independent of the number of rows, see :class:`glassnet._csv.CSVStream`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from glassnet._csv import DEFAULT_CHUNK, SAMPLE_ROWS, CSVStream, encode_target
from glassnet.cli._common import (
    EXIT_OK,
    TOP,
    CLIError,
    Steps,
    add_model_argument,
    analysis_sections,
    check_outputs,
    command_line,
    data_stem,
    float_in,
    int_in,
    metric,
    model_file,
    network_inputs,
    print_regions,
    read_inputs,
    report_outputs,
    warn,
    warn_ignored,
    writable,
)
from glassnet.io import classes_of
from glassnet.persist import load_model

_STREAM_ABOVE_MB = 256.0


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``unwrap`` sub-command to ``sub``."""
    unwrap = sub.add_parser(
        "unwrap", parents=[common], help="unwrap a saved model on a CSV and report its regions",
        description="Find the activation regions of MODEL on the rows of DATA.csv, with the "
        "exact local linear model of each, and write an HTML report: data and model, "
        "exactness certificate, region summary, region sizes, feature importance, "
        "coefficients, the distance of the rows to their region's boundary (how stable each "
        "row's explanation is; on at most 10000 rows), and for 2 inputs the partition map. "
        "Large files are streamed in chunks (--chunk-size, --stream-above).",
    )
    add_model_argument(unwrap)
    unwrap.add_argument("data", metavar="DATA.csv")
    unwrap.add_argument("--target", default=None, help="target column (optional)")
    unwrap.add_argument("--report", default=None, help="report path (default "
                        "DATA-unwrap.html in the current folder, DATA being the data file's "
                        "name without its extension)")
    unwrap.add_argument("--no-report", action="store_true", help="do not write a report")
    unwrap.add_argument("--out", default=None, metavar="REGIONS.glassnet",
                        help="also save the regions (glassnet.load reads them)")
    unwrap.add_argument("--summary-csv", default=None, help="also write the region summary CSV")
    unwrap.add_argument("--top", type=TOP, default=20, help="regions shown in the report")
    unwrap.add_argument(
        "--chunk-size", type=int_in(0, 10**9), default=None, metavar="N",
        help="stream DATA.csv N rows at a time, so memory does not grow with the number of "
        "rows; the report then shows per-region statistics (counts, target and prediction "
        "means) instead of per-region performance, and uses a uniform sample of at most 10000 "
        "rows for row-level figures (see docs/cli.md). 0: never stream. Default: stream "
        "100000 rows at a time when the file is larger than --stream-above")
    unwrap.add_argument("--stream-above", type=float_in(0.0, 1e9), default=_STREAM_ABOVE_MB,
                        metavar="MB",
                        help=f"file size above which DATA.csv is streamed when --chunk-size is "
                        f"not given (default {_STREAM_ABOVE_MB:g} MB)")
    from glassnet.cli._report import add_report_options

    add_report_options(unwrap)
    unwrap.set_defaults(func=run)


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
        return DEFAULT_CHUNK
    return None


def run(args: argparse.Namespace) -> int:
    """Run ``glassnet unwrap``; returns the exit code."""
    from glassnet import Report, unwrap
    from glassnet.persist import save

    if args.report is None:
        args.report = f"{data_stem(args.data)}-unwrap.html"
    check_outputs(
        {"MODEL": args.model, "MODEL file": model_file(args.model), "DATA.csv": args.data},
        {**report_outputs(args, None if args.no_report else args.report), "--out": args.out,
         "--summary-csv": args.summary_csv},
        force=getattr(args, "force", False),
    )
    model, net, desc = load_model(args.model, trust_pickle=args.trust_pickle, warn=warn)
    chunk_size = _stream_chunk_size(args)
    if chunk_size is not None:
        return _unwrap_streamed(args, model, net, desc, chunk_size)
    X, y = read_inputs(model, net, args.data, args.target)
    y_enc = encode_target(y, net, classes_of(model), Path(args.data).name)
    with Steps(["unwrap", "report"], args.quiet) as bar:
        bar("unwrap")
        regions = unwrap(net, X, y_enc)
        bar.done()
        if args.out:
            save(regions, writable(args.out))
        if args.summary_csv:
            from glassnet.summary import region_summary

            region_summary(regions, X, y_enc).to_csv(writable(args.summary_csv), index=False)
        bar("report")
        report_path = None
        if not args.no_report:
            from glassnet.cli import _report

            metrics = {}
            if y_enc is not None:
                name, val = metric(net, X, y_enc)
                # say which rows the figure is on: the whole file may hold the training rows
                metrics = _report.overview_metrics(args, name, val, len(X))
            report = Report(f"glassnet unwrap: {Path(args.model).name}",
                            subtitle=f"{desc} on {args.data}")
            report.add_overview(model, X, y, data_name=args.data, metrics=metrics,
                                target=args.target, favorable=args.favorable)
            analysis_sections(report, net, regions, X, y_enc, top=args.top)

            _report.validation_sections(report, args, model=model, net=net, X=X, y_enc=y_enc,
                                        rows_note=f"All {len(X):,} rows of {args.data}.")
            report.add_versions(command=command_line(args._argv))
            report_path = report.save(args.report)
            _report.finish(report, args, report_path)
        bar.done()
    return _print_unwrap_result(args, desc, net, regions, report_path)


def _unwrap_streamed(args: argparse.Namespace, model: Any, net: Any, desc: str,
                     chunk_size: int) -> int:
    """``glassnet unwrap`` on a CSV read ``chunk_size`` rows at a time."""
    from glassnet import Report
    from glassnet.io import input_encoder
    from glassnet.persist import save
    from glassnet.streaming import unwrap_chunks

    encode = None
    if input_encoder(model) is not None:  # raw chunks (text categories) -> network inputs
        def encode(X: Any) -> Any:
            return network_inputs(model, net, X, Path(args.data).name, warn_extra=False)
    src = CSVStream(args.data, net, args.target, classes_of(model), chunk_size, model=model,
                    encode=encode)
    warn_ignored(src.ignored, src.name)
    with Steps(["unwrap", "report"], args.quiet) as bar:
        bar("unwrap")
        regions = unwrap_chunks(net, src.chunks(lambda n: bar(f"unwrap {n:,} rows")))
        bar.done()
        if args.out:
            save(regions, writable(args.out))
        if args.summary_csv:
            regions.to_frame().to_csv(writable(args.summary_csv), index=False)
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
                    name, val, n_on = "RMSE", float(np.sqrt(src.sse / src.n_rows)), src.n_rows
                else:
                    (name, val), n_on = metric(net, Xs, ys), len(Xs)
                from glassnet.cli import _report

                metrics.update(_report.overview_metrics(args, name, val, n_on,
                                                        of_rows=src.n_rows))
            report = Report(f"glassnet unwrap: {Path(args.model).name}",
                            subtitle=f"{desc} on {args.data} (streamed, {chunk_size:,} rows a "
                            "chunk)")
            report.add_overview(model, data_name=args.data, metrics=metrics,
                                feature_stats=src.feature_frame(), n_rows=src.n_rows,
                                target=args.target, favorable=args.favorable)
            report.add_text("Streaming mode", _streaming_note(src, chunk_size, len(Xs)),
                            key="streaming")
            report.add_certificate(regions)
            report.add_region_summary(regions, top=args.top)
            report.add_size_distribution(regions)
            report.add_feature_importance(regions)
            report.add_coefficients(regions)
            report.add_boundary_distance(regions, Xs, max_rows=SAMPLE_ROWS)
            if net.n_features == 2:
                pad = 0.05 * np.maximum(src.max - src.min, 1e-9)
                lo, hi = src.min - pad, src.max + pad
                report.add_partition_map(net, Xs, ys, bounds=((lo[0], hi[0]), (lo[1], hi[1])))
            from glassnet.cli import _report

            _report.validation_sections(
                report, args, model=model, net=net, X=Xs, y_enc=ys,
                rows_note=(f"A uniform sample of {len(Xs):,} of the {src.n_rows:,} streamed rows."
                           if sampled else f"All {len(Xs):,} streamed rows."))
            report.add_versions(command=command_line(args._argv))
            report_path = report.save(args.report)
            _report.finish(report, args, report_path)
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
    print_regions(regions, top=10)
    if args.out:
        print(f"regions: {args.out}")
    if report_path is not None:
        print(f"report: {report_path}")
    return EXIT_OK


def _streaming_note(src: CSVStream, chunk_size: int, n_sample: int) -> str:
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

