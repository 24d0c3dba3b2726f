"""Compact HTML summaries for Jupyter (``_repr_html_``), shared by every glassnet object.

Objects delegate to :func:`html_summary` with a title, a few key figures and optionally a
small table, so every object looks alike in a notebook. The output is a fragment with its
own scoped style (no scripts), safe to embed.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

_STYLE = (
    "<style>.gn-repr{font-family:system-ui,sans-serif;font-size:12px;max-width:720px}"
    ".gn-repr b{font-size:13px}.gn-repr table{border-collapse:collapse;margin:4px 0}"
    ".gn-repr td,.gn-repr th{border:1px solid #dde1e7;padding:1px 6px;text-align:left}"
    ".gn-repr th{background:#eef1f6}.gn-repr td.n{text-align:right;"
    "font-variant-numeric:tabular-nums;white-space:nowrap}</style>"
)


def fmt_value(v: Any) -> str:
    """A number as a reader expects it (reports and notebooks alike): integers (and integral
    floats such as counts) with thousands separators, 4 significant digits otherwise,
    scientific only for magnitudes below 0.001 or above 10^15."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not np.isfinite(v):
            return str(v)
        if v == 0:
            return "0"
        a = abs(v)
        if v.is_integer() and a < 1e15:  # counts held as floats: 2,154 like the integers
            return f"{int(v):,}"
        if a >= 1e15 or a < 1e-3:
            return f"{v:.3e}"
        if a >= 1e4:
            return f"{v:,.1f}"
        return f"{v:.4g}"
    return str(v)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def html_summary(
    title: str,
    items: Mapping[str, Any] | pd.DataFrame | Iterable[tuple[str, Any]] | None = None,
    table: pd.DataFrame | None = None,
    *,
    max_rows: int = 8,
) -> str:
    """HTML fragment: a bold ``title``, a two-column table of ``items`` and, optionally,
    the first ``max_rows`` rows of ``table``.

    Parameters
    ----------
    title : str
    items : mapping, list of pairs or DataFrame, optional
        Key figures. A DataFrame with columns ``metric``/``value`` (or any two columns)
        is shown as such pairs.
    table : DataFrame, optional
        A detail table, cut to ``max_rows`` rows (the caption says how many there are).
    max_rows : int, default 8
    """
    if isinstance(items, pd.DataFrame):
        pairs = list(items.iloc[:, :2].itertuples(index=False, name=None))
    elif isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = list(items or [])
    parts = [_STYLE, '<div class="gn-repr">', f"<b>{html.escape(str(title))}</b>"]
    if pairs:
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th>"
            f"<td{' class=n' if _is_num(v) else ''}>{html.escape(fmt_value(v))}</td></tr>"
            for k, v in pairs
        )
        parts.append(f"<table>{rows}</table>")
    if table is not None and len(table.columns):
        shown = table.head(max_rows)
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
        body = "".join(
            "<tr>" + "".join(
                f"<td{' class=n' if _is_num(v) else ''}>{html.escape(fmt_value(v))}</td>"
                for v in row
            ) + "</tr>"
            for row in shown.itertuples(index=False, name=None)
        )
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
        if len(table) > max_rows:
            parts.append(f"<div>first {max_rows} of {len(table):,} rows</div>")
    parts.append("</div>")
    return "".join(parts)


# ---------------------------------------------------------------------- per-type summaries
def repr_html(obj: Any) -> str:
    """The notebook summary of any glassnet object; every ``_repr_html_`` calls this."""
    name = type(obj).__name__
    try:
        builder = _BUILDERS.get(name)
        if builder is None:
            for base in type(obj).__mro__[1:]:
                builder = _BUILDERS.get(base.__name__)
                if builder is not None:
                    break
        if builder is not None:
            return builder(obj)
    except (AttributeError, ValueError, TypeError, KeyError):
        pass  # an unfitted or partial object: fall back to its plain repr
    return f"<pre>{html.escape(repr(obj))}</pre>"


def _regions(r: Any) -> str:
    net = r.network
    arch = " → ".join(str(s) for s in (net.n_features, *net.hidden_sizes, net.n_outputs))
    items = {
        "network": f"{arch} ({net.output})",
        "rows": int(r.n_samples),
        "activation regions": len(r),
        "regions with one row": int((r.counts == 1).sum()),
        "regions covering 50% / 95% of rows":
            f"{r.n_regions_covering(0.5):,} / {r.n_regions_covering(0.95):,}",
        "largest region share": float(r.shares.max()) if len(r) else 0.0,
        "certificate max |LLM − network|": float(r.max_abs_error),
    }
    top = pd.DataFrame({"region": np.arange(min(len(r), 5)), "rows": r.counts[:5],
                        "share": r.shares[:5]})
    return html_summary("Regions", items, top, max_rows=5)


def _piecewise(est: Any) -> str:
    if not hasattr(est, "n_regions_"):
        return html_summary(f"{type(est).__name__} (not fitted)", {})
    items = {"task": est.task_, "regions kept": int(est.n_regions_),
             "activation regions (training)": len(est.regions_)}
    chosen = getattr(est, "cv_n_regions_", None)
    if chosen is not None:
        items["count chosen by cross-validation"] = int(chosen)
        if int(chosen) != int(est.n_regions_):
            items["why fewer"] = "small merged regions absorbed (min_count)"
    labels = getattr(est, "merged_labels_", None)
    table = None
    if labels is not None:
        counts = np.bincount(np.asarray(labels), minlength=int(est.n_regions_))
        table = pd.DataFrame({"region": np.arange(counts.size), "training rows": counts})
    return html_summary(type(est).__name__, items, table, max_rows=6)


def _mlm(m: Any) -> str:
    if not hasattr(m, "n_epics_"):
        return html_summary("MixtureOfLinearModels (not fitted)", {})
    items = {"task": m.task_, "cells": int(getattr(m, "n_cells_", 0) or 0),
             "EPICs": int(m.n_epics_)}
    summary = m.summary()
    keep = [c for c in summary.columns if c in ("epic", "count", "share", "fidelity_rmse",
                                                 "rmse", "auc")]
    return html_summary("MixtureOfLinearModels", items, summary[keep or summary.columns[:4]],
                        max_rows=6)


def _l1path(p: Any) -> str:
    items = {"penalties tried": len(p.table_), "metric": str(p.metric_).upper(),
             "scored on": p.score_on_, "best score": p.best_score_,
             "recommended l1_reg": p.recommended_, "tolerance": p.tolerance_}
    return html_summary("L1Path", items, p.table_, max_rows=8)


_BUILDERS = {"Regions": _regions, "_PiecewiseGLM": _piecewise, "RegionMerger": _piecewise,
             "RegionPruner": _piecewise, "MixtureOfLinearModels": _mlm, "L1Path": _l1path}
