"""The validation parts of every command's report: provenance carried from ``train``,
outcomes, surrogate fidelity, caveats, the per-decision appendix, and ``--pdf``.

Commands call :func:`add_report_options` on their parser, :func:`validation_sections`
before saving the report, and :func:`finish` after; all computing happens in
:mod:`glassnet.outcomes` and :mod:`glassnet.provenance`.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.cli._common import CLIError, warn
from glassnet.decisions.favorable import DEFAULT_FAVORABLE, favorable_note


def add_report_options(parser: argparse.ArgumentParser, *, explain: bool = True) -> None:
    """``--pdf`` and (for commands that read rows) ``--explain-rows`` with ``--favorable``."""
    parser.add_argument("--pdf", nargs="?", const="", default=None, metavar="REPORT.pdf",
                        help="also print the report to an A4 PDF with headless Chromium "
                        "(default path: the report's, ending in .pdf)")
    if explain:
        parser.add_argument("--explain-rows", default=None, metavar="ROWS",
                            help="comma-separated row numbers of DATA.csv (0: the first data "
                            "row) explained in the report's per-decision appendix")
        parser.add_argument("--favorable", type=int, default=DEFAULT_FAVORABLE,
                            help=f"the favourable class index of the reason codes (default "
                            f"{DEFAULT_FAVORABLE}: class 1 is the modelled event, a default; "
                            "pass 1 when class 1 is the good outcome)")


def parse_rows(text: str | None, X: Any) -> list[Any]:
    """Rows of ``--explain-rows``: row numbers of DATA.csv (0: the first data row), which
    are the labels of ``X.index`` (a command may score only the test rows); CLIError
    naming the ones not among the rows scored."""
    if not text:
        return []
    try:
        rows = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise CLIError(f"--explain-rows must be comma-separated row numbers; got {text!r}.") \
            from None
    if len(rows) > 50:
        raise CLIError(f"--explain-rows lists {len(rows)} rows; at most 50 fit in a report.")
    n = 0 if X is None else len(X)
    index = X.index if hasattr(X, "index") else range(n)
    bad = [r for r in rows if r not in index]
    if bad:
        raise CLIError(f"--explain-rows {bad[:5]} are not among the {n:,} rows this report "
                       "scores (row numbers of DATA.csv; simplify scores its test rows only).")
    return rows


def train_provenance(args: argparse.Namespace, est: Any, X: Any, X_tr: Any, X_te: Any,
                     metrics: dict[str, Any], task: str) -> dict[str, Any]:
    """What ``glassnet train`` records in ``provenance.json``."""
    from glassnet.provenance import file_sha256, versions

    def split_metrics(prefix: str) -> dict[str, Any]:
        return {k[len(prefix) + 1:]: v for k, v in metrics.items() if k.startswith(prefix + " ")}

    by_split = {"train": split_metrics("train")}
    if X_te is not None:
        by_split["test"] = split_metrics("test")
    for part, rows in (("train", X_tr), ("test", X_te)):
        if rows is not None:
            by_split[part]["rows"] = int(len(rows))
    return {
        "data": {"file": str(Path(args.data).resolve()), "sha256": file_sha256(args.data),
                 "rows": int(len(X)), "features": int(X.shape[1]), "target": args.target},
        "split": {"test share": args.test_size, "seed": args.seed,
                  "stratified": task == "classification",
                  "training rows": int(len(X_tr)),
                  "test rows": 0 if X_te is None else int(len(X_te))},
        "training": {"estimator": type(est).__name__, "task": task,
                     "hidden layers": list(metrics.get("hidden", [])), "l1": args.l1,
                     "learning rate": args.lr, "batch size": args.batch_size,
                     "max epochs": args.epochs, "epochs run": metrics.get("epochs"),
                     "seed": args.seed},
        "preprocessing": _preprocessing_summary(metrics.get("preprocessing") or {}),
        "metrics": by_split,
        "classes": [str(c) for c in getattr(est, "classes_", [])] or None,
        "versions": versions(),
    }


def _preprocessing_summary(pre: dict[str, Any]) -> dict[str, Any]:
    cats = pre.get("categorical") or {}
    return {
        "standardise inputs": pre.get("standardize"),
        "standardisation folded into the network": pre.get("folded_into_network"),
        "one-hot encoded columns": ", ".join(f"{c} ({len(v)} categories)"
                                             for c, v in cats.items()) or "none",
    }


def overview_metrics(args: argparse.Namespace, name: str, value: float, n_rows: int, *,
                     of_rows: int | None = None) -> dict[str, Any]:
    """The overview's performance rows, each labelled with the rows it was measured on.

    ``name``/``value``: the network's metric on the ``n_rows`` rows of DATA.csv the command
    scored (``of_rows``: the file's row count when they are a sample of it). When the
    model folder's provenance holds test metrics they come first, named
    as such; the figure on the given rows says whether those rows include the training
    rows (same file as training), may include them (no provenance, or another split), or
    are another file.
    """
    from glassnet.provenance import data_overlap, read_provenance

    prov = _read(read_provenance, args)
    rows: dict[str, Any] = {}
    test = ((prov or {}).get("metrics") or {}).get("test") or {}
    if isinstance(test, dict) and name in test:
        n_test = test.get("rows")
        rows[f"test {name} (model folder" + (f", {n_test:,} held-out rows)"
                                             if isinstance(n_test, int) else ")")] = test[name]
    if prov is None:
        where = "may include training rows: the model folder has no provenance"
    elif data_overlap(prov, args.data) is not None:
        where = "training rows included"
    else:
        where = "another file than the training data"
    given = (f"the {n_rows:,} rows given" if of_rows is None or of_rows == n_rows
             else f"a sample of {n_rows:,} of the {of_rows:,} rows given")
    rows[f"{name} on {given} ({where})"] = value
    return rows


def validation_sections(
    report: Any,
    args: argparse.Namespace,
    *,
    model: Any,
    net: Any,
    X: Any,
    y_enc: Any,
    surrogates: dict[str, Any] | None = None,
    rows_note: str | None = None,
    caveats: list[str] | None = None,
    provenance: dict[str, Any] | None = None,
) -> list[str]:
    """Add provenance, outcomes, fidelity, per-decision appendix and caveats; returns the
    caveats. ``surrogates``: ``{name: scores on X}`` of simplified models."""
    from glassnet.outcomes import fidelity_table, outcomes
    from glassnet.provenance import data_overlap, read_provenance

    caveats = list(caveats or [])
    own = provenance is not None  # glassnet train itself: its rows are its own split
    prov = provenance if own else _read(read_provenance, args)
    if prov:
        report.add_provenance(prov)
        data = getattr(args, "data", None)
        # simplify scores a test split of DATA.csv, unwrap every row of it
        split = (args.seed, args.test_size) if hasattr(args, "test_size") else None
        overlap = data_overlap(prov, data, split=split) if data and not own else None
        if overlap:
            caveats.append(overlap)
            rows_note = f"{rows_note} {overlap}" if rows_note else overlap
    else:
        caveats.append("No provenance.json next to the model (it was not trained with "
                       "'glassnet train'): data, split and training settings are unknown.")
    for c in (prov or {}).get("caveats", []) or []:
        caveats.append(str(c))
    score = None
    if X is not None and y_enc is not None:
        X, y_enc, rows_note = _bounded(X, y_enc, rows_note, caveats)
        score, task = _scores(net, X)
        if score is None:
            caveats.append(f"Outcomes analysis covers binary classifiers and regressors; this "
                           f"network has {net.n_outputs} outputs.")
        else:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = outcomes(np.asarray(y_enc), score, task=task)
            caveats += [f"Outcomes: {w.message}" for w in caught]
            report.add_outcomes(res, rows_note=rows_note)
    if surrogates and X is not None:
        net_score, task = _scores(net, X)
        if net_score is not None:
            table = fidelity_table(net_score, surrogates, task=task)
            from glassnet.plotting.outcomes import FidelityDisplay

            report.add_fidelity(table, figure=FidelityDisplay.from_scores(net_score, surrogates),
                                rows_note=rows_note)
    text = getattr(args, "explain_rows", None)
    if text and X is not None and not hasattr(X, "index"):  # a streamed sample: no row numbers
        caveats.append("--explain-rows was ignored: streamed data keeps no row numbers; "
                       "explain the rows with glassnet unwrap --chunk-size 0 on a smaller file.")
        text = None
    rows = parse_rows(text, X)
    if rows:
        favorable = getattr(args, "favorable", DEFAULT_FAVORABLE)
        reasons = _reasons(net, X, rows, caveats, favorable)
        report.add_explanations(net, X, rows, reasons=reasons, favorable_note=favorable_note(
            favorable, target=getattr(args, "target", None), classes=getattr(
                model, "classes_", None)))
    report.add_caveats(caveats)
    return caveats


OUTCOME_ROWS = 200_000


def _bounded(X: Any, y: Any, note: str | None, caveats: list[str]) -> tuple[Any, Any, Any]:
    """At most OUTCOME_ROWS rows for the outcomes analysis (a uniform sample, seed 0, said
    in the section and the caveats): its sorts and binnings then take bounded time; the
    standard error of an AUC on 200,000 rows is about 0.002."""
    n = len(X)
    if n <= OUTCOME_ROWS:
        return X, y, note
    idx = np.sort(np.random.default_rng(0).choice(n, OUTCOME_ROWS, replace=False))
    Xs = X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]
    msg = (f"Outcomes use a uniform random sample of {OUTCOME_ROWS:,} of the {n:,} rows "
           "(seed 0), so the section takes bounded time.")
    caveats.append(msg)
    return Xs, np.asarray(y)[idx], f"{note} {msg}" if note else msg


def _reasons(net: Any, X: Any, rows: list[Any], caveats: list[str],
             favorable: int = DEFAULT_FAVORABLE) -> Any:
    """Reason codes of the chosen rows against the mean of the rows the model approves
    (``--favorable``, default class 0: in credit data 1 is the default event), when they
    apply."""
    if net.task == "regression":
        return None
    try:
        from glassnet.decisions import reason_codes
    except ImportError:
        return None
    Xr = X.loc[rows] if hasattr(X, "loc") else np.asarray(X)[rows]
    try:
        rc = reason_codes(net, Xr, "approved_mean", population=X, favorable=favorable,
                          top_k=4)
    except (ValueError, TypeError) as exc:
        caveats.append(f"Reason codes were not computed: {exc}")
        return None
    keep = [c for c in ("row", "rank", "feature", "value", "reference_value", "contribution")
            if c in rc.columns]
    return rc[keep]


def _read(reader: Any, args: argparse.Namespace) -> Any:
    try:
        return reader(getattr(args, "model", None))
    except ValueError as exc:
        warn(str(exc))
        return None


def _scores(net: Any, X: Any) -> tuple[Any, str]:
    """The network's score per row: P(positive class) or the predicted value."""
    if net.task == "regression":
        return (net.predict_output(X)[:, 0], "regression") if net.n_outputs == 1 else \
            (None, "regression")
    out = net.predict_output(X)
    if net.output == "sigmoid" and out.shape[1] == 1:
        return out[:, 0], "classification"
    if out.shape[1] == 2:
        return out[:, 1], "classification"
    return None, "classification"


def surrogate_scores(est: Any, X: Any, name: str) -> dict[str, Any]:
    """``{name: P(positive) or prediction}`` of a fitted simplification, or ``{}``."""
    try:
        if hasattr(est, "predict_proba"):
            p = np.asarray(est.predict_proba(X))
            if p.ndim == 2 and p.shape[1] == 2:
                return {name: p[:, 1]}
            return {} if p.ndim == 2 else {name: p}
        if hasattr(est, "predict"):
            return {name: np.asarray(est.predict(X), dtype=np.float64).ravel()}
    except (ValueError, TypeError, AttributeError):
        return {}
    return {}


def finish(report: Any, args: argparse.Namespace, report_path: Path | None) -> Path | None:
    """Print the saved report to PDF when ``--pdf`` was given; returns the PDF path."""
    if report_path is None or getattr(args, "pdf", None) is None:
        return None
    from glassnet.cli._common import pdf_output
    from glassnet.report import print_pdf

    pdf = pdf_output(args, report_path)  # vetted by check_outputs before any work
    try:
        out = print_pdf(report_path, pdf)
    except RuntimeError as exc:
        raise CLIError(str(exc)) from None
    print(f"pdf:    {out}")
    return out
