"""HTML layout of a report: style sheet (screen and A4 print), number formatting, tables
split to fit a printed page, embedded figures, and printing to PDF with headless Chromium.

Nothing here computes an analysis; it only lays out what it is given.
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from glassnet._repr import fmt_value as fmt  # one number format for reports and notebooks

# A4 is 210 mm wide; with 12 mm margins the printed body is 186 mm, about 703 CSS pixels.
A4_CONTENT_PX = 703
# Columns per printed table block: wider tables are split into blocks of this many columns,
# each repeating the first (key) column, so nothing is cut at the right edge of the page.
MAX_COLUMNS = 7

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0;color:#1d2330;background:#f6f7f9;line-height:1.45}
header{background:#1d2b45;color:#fff;padding:1.2em 2em}
header h1{margin:0 0 .2em 0;font-size:1.6em} header p{margin:0;opacity:.85}
nav{background:#fff;border-bottom:1px solid #dde1e7;padding:.5em 2em;font-size:.9em}
nav a{margin-right:1.1em;color:#2756a3;text-decoration:none;white-space:nowrap;
 display:inline-block}
main{max-width:1100px;margin:0 auto;padding:1em 2em 3em}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:.6em 1.4em 1.2em;
 margin:1.2em 0}
h2{font-size:1.25em;border-bottom:2px solid #e8ebf0;padding-bottom:.3em}
h3{font-size:1.05em}
table{border-collapse:collapse;font-size:.8em;margin:.6em 0;max-width:100%}
th,td{border:1px solid #dde1e7;padding:.2em .45em;text-align:left;vertical-align:top}
th{background:#eef1f6;overflow-wrap:break-word}
.num{text-align:right;font-variant-numeric:tabular-nums} td.num{white-space:nowrap}
.cont{color:#5b6474;font-size:.8em;margin:.2em 0 0 0}
figure{margin:.8em 0}
figure img{max-width:100%;height:auto;border:1px solid #eef0f3;box-sizing:border-box}
figcaption,.note{color:#5b6474;font-size:.88em}
p,li,h1,h2,h3,figcaption{overflow-wrap:anywhere}
.ok{color:#17703a;font-weight:600} .bad{color:#b02a2a;font-weight:600}
.watch{color:#9a6400;font-weight:600}
pre{background:#f3f4f6;padding:.6em;font-size:.85em;white-space:pre-wrap;
 overflow-wrap:anywhere}
ul.caveats li{margin:.25em 0}
.gn-scroll{overflow-x:auto;max-width:100%} .gn-print-only{display:none}
@page{size:A4;margin:12mm}
@media print{
 body{background:#fff;font-size:10pt}
 header{background:#fff;color:#1d2330;padding:0 0 .4em 0;border-bottom:2px solid #1d2b45}
 nav{display:none} .gn-screen-only{display:none} .gn-print-only{display:block}
 main{max-width:none;padding:0}
 section{border:none;border-radius:0;padding:0;margin:0 0 1em 0}
 h2,h3{break-after:avoid} tr,figure{break-inside:avoid}
 figure img{max-height:240mm}
}
"""


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def cell(v: Any) -> str:
    if v is None or (isinstance(v, (float, np.floating)) and np.isnan(v)):
        return ""
    return fmt(v)


_LONG = re.compile(r"[^\s]{13,}")
_JOINERS = re.compile(r"(?<=[_/.\\\-\[])")


def wrappable(text: str) -> str:
    """Escaped text where words longer than 12 characters (column names, hashes, paths) may
    break after ``_ / . - [`` and, failing that, every 12 characters, so no long token can
    widen a table past the page. Only text cells get this; numbers never break."""
    out, last = [], 0
    for m in _LONG.finditer(text):
        out.append(esc(text[last:m.start()]))
        pieces = []
        for part in _JOINERS.split(m.group(0)):
            pieces += [part[i:i + 12] for i in range(0, len(part), 12)] or [part]
        out.append("<wbr>".join(esc(p) for p in pieces if p))
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


_IDENTIFIERS = {"row", "region", "merged region", "band", "bin", "rank", "epic", "cell", "index",
                "seed", "random_state"}


def _ident(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return "" if v is None else str(v)


def table(frame: Any, caption: str | None = None, max_rows: int = 100,
          max_columns: int = MAX_COLUMNS) -> str:
    """An HTML table; more than ``max_rows`` rows are cut (a note says so) and more than
    ``max_columns`` columns are split into blocks that each repeat the first column."""
    df = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    if not isinstance(df.index, pd.RangeIndex) or df.index.name is not None:
        df = df.reset_index()  # a meaningful index (feature names, say) becomes a column
    note = ""
    if len(df) > max_rows:
        note = f'<p class="note">First {max_rows:,} of {len(df):,} rows.</p>'
        df = df.head(max_rows)
    numeric = [pd.api.types.is_numeric_dtype(df.iloc[:, j])
               and not pd.api.types.is_bool_dtype(df.iloc[:, j]) for j in range(df.shape[1])]
    # identifiers (row labels, region numbers) print as they are: row 20553, not 20,553
    ident = [str(c).strip().lower() in _IDENTIFIERS for c in df.columns]
    ncol = df.shape[1]
    rows = list(df.itertuples(index=False, name=None))

    def html_table(cols: list[int]) -> str:
        head = "".join(f'<th{" class=num" if numeric[j] else ""}>'
                       f"{wrappable(str(df.columns[j]))}</th>" for j in cols)
        body = "".join(
            "<tr>" + "".join(f'<td class=num>{esc(_ident(row[j]) if ident[j] else cell(row[j]))}'
                             "</td>" if numeric[j]
                             else f"<td>{wrappable(cell(row[j]))}</td>"
                             for j in cols) + "</tr>"
            for row in rows
        )
        return (f'<table class="gn-table"><thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    out = [f'<p class="note">{esc(caption)}</p>' if caption else ""]
    if ncol <= max_columns:
        out.append(html_table(list(range(ncol))))
    else:
        # on screen the whole table, scrolling sideways; in print, blocks of columns that
        # each repeat the first (key) column, so no column is cut at the page edge
        out.append('<div class="gn-screen-only gn-scroll">'
                   f"{html_table(list(range(ncol)))}</div>")
        step = max_columns - 1
        blocks = [[0, *range(s, min(s + step, ncol))] for s in range(1, ncol, step)]
        out.append('<div class="gn-print-only">')
        for b, cols in enumerate(blocks):
            out.append(f'<p class="cont">Columns {cols[1] + 1}-{cols[-1] + 1} of {ncol} '
                       f"(part {b + 1} of {len(blocks)}; the first column repeats).</p>")
            out.append(html_table(cols))
        out.append("</div>")
    out.append(note)
    return "".join(out)


def figure(fig_or_display: Any, caption: str | None, fmt_: str, dpi: int,
           alt: str = "figure") -> str:
    """A figure embedded as a data URI (then closed). Accepts a Display or a Figure."""
    fig = getattr(fig_or_display, "figure_", fig_or_display)
    if not hasattr(fig, "savefig"):
        raise TypeError(
            f"Expected a matplotlib Figure or Display; got {type(fig_or_display).__name__}."
        )
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt_, dpi=dpi, bbox_inches="tight")
    close(fig)
    mime = "image/png" if fmt_ == "png" else "image/svg+xml"
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img alt="{esc(alt)}" src="data:{mime};base64,{data}">{cap}</figure>'


def new_figure(w: float, h: float) -> Any:
    """A matplotlib Figure not registered with pyplot (no global state, nothing to close)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h))


def close(fig: Any) -> None:
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close(fig)


def page(title: str, subtitle: str | None, sections: list[tuple[str, str, str]]) -> str:
    """The whole HTML document from ``(key, title, body)`` sections."""
    nav = " ".join(f'<a href="#{esc(k)}">{esc(t)}</a>' for k, t, _ in sections)
    body = "\n".join(
        f'<section id="{esc(k)}" class="gn-section" data-section="{esc(k)}">\n'
        f"<h2>{esc(t)}</h2>\n{b}\n</section>"
        for k, t, b in sections
    )
    sub = f"<p>{esc(subtitle)}</p>" if subtitle else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{esc(title)}</h1>{sub}</header>\n<nav>{nav}</nav>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_flags(profile: str) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-extensions", f"--user-data-dir={profile}"]


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str], *,
              timeout: float = 120.0) -> Path:
    """Print an HTML file to an A4 PDF with headless Chromium (the page's ``@page`` rule
    sets A4 and the margins); raise RuntimeError naming what is missing if it cannot."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError(
            "Printing to PDF needs Chromium: install it (Debian: apt-get install chromium) "
            "or print the HTML report from a browser."
        )
    pdf = Path(os.fspath(pdf_path)).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    src = Path(os.fspath(html_path)).resolve()
    with tempfile.TemporaryDirectory(prefix="glassnet-chromium-") as profile:
        cmd = [exe, *chromium_flags(profile), "--no-pdf-header-footer",
               f"--print-to-pdf={pdf}", src.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeError(f"Chromium did not print the PDF within {timeout:.0f} s.") from exc
    if not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"Chromium did not write {pdf}: {' | '.join(tail)}")
    return pdf
