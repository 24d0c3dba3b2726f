"""One self-contained HTML report per run, printable to an A4 PDF.

A :class:`Report` is a list of sections, each added by an ``add_*`` method, written by
:meth:`Report.save` as one HTML file (:meth:`Report.save_pdf` also prints it with headless
Chromium). Figures are embedded as PNG (or SVG) data URIs and the style sheet is inline, so
the file opens anywhere without a network connection and can be archived with a validation
file. The report holds no scripts.

The report only lays out: every figure and table comes from an analysis function
(:mod:`glassnet.summary`, :mod:`glassnet.outcomes`, :mod:`glassnet.monitor`, ...) and a
Display (:mod:`glassnet.plotting`). Sections over many rows or regions are bounded:
they use at most ``max_rows`` rows (a uniform sample with ``random_state``) and show at
most ``max_regions`` regions, and they say so.

Every section is a ``<section class="gn-section" data-section="KEY">`` element, so a
report can also be checked by a program (the test suite does).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from glassnet.report import _html
from glassnet.report._html import esc as _esc
from glassnet.report.diagnostics import DiagnosticSections
from glassnet.report.overview import OverviewSections
from glassnet.report.sections import RegionSections
from glassnet.report.simplification import SimplificationSections
from glassnet.report.validation import ValidationSections

__all__ = ["Report", "print_pdf"]


def print_pdf(html_path: str | os.PathLike[str], pdf_path: str | os.PathLike[str]) -> Path:
    """Print a saved HTML report to an A4 PDF with headless Chromium; returns the PDF path.

    Wide tables are split into column blocks and long values wrap, so no column is cut.
    Raises RuntimeError when no Chromium is installed. :meth:`Report.save_pdf` does the
    same for a report still in memory.
    """
    return _html.print_pdf(Path(os.fspath(html_path)), Path(os.fspath(pdf_path)))

_PACKAGES = (
    "glassnet", "numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "statsmodels",
    "torch", "onnx", "tqdm",
)


@dataclass
class _Section:
    key: str
    title: str
    body: str


class Report(OverviewSections, RegionSections, SimplificationSections, ValidationSections,
             DiagnosticSections):
    """A self-contained HTML report, built section by section.

    Parameters
    ----------
    title : str, default "glassnet report"
    subtitle : str, optional
        A line under the title (data set, model file, command).
    figure_format : {"png", "svg"}, default "png"
        How figures are embedded. PNG keeps dense plots (thousands of polygons or points)
        small; SVG is sharp at any zoom.
    dpi : int, default 100
        Resolution of PNG figures.
    max_rows : int, default 20000
        Row-level sections (region table with per-row metrics, coefficient plots, LLM
        profiles, boundary distance, outcomes) use at most this many rows: a uniform random
        sample drawn with ``random_state`` when there are more, stated in the section. This
        bounds the time of every section whatever the data size.
    max_regions : int, default 5000
        Region-level computations (coefficient distributions, importance over regions)
        use at most this many regions, the largest; their caption says how many rows
        those regions hold.
    random_state : int, default 0
        Seed of the row sample.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from glassnet import ReluNetwork, Report, unwrap
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> X = np.array([[1.0, 2.0], [3.0, -1.0], [-1.0, -1.0]])
    >>> regions = unwrap(net, X)
    >>> report = Report("Toy network").add_overview(net, X).add_certificate(regions)
    >>> report.sections
    ['overview', 'certificate']
    >>> path = report.save(os.path.join(tempfile.mkdtemp(), "report.html"))
    >>> "exactness" in path.read_text().lower()
    True
    """

    def __init__(
        self,
        title: str = "glassnet report",
        *,
        subtitle: str | None = None,
        figure_format: str = "png",
        dpi: int = 100,
        max_rows: int = 20_000,
        max_regions: int = 5_000,
        random_state: int = 0,
    ) -> None:
        if figure_format not in ("png", "svg"):
            raise ValueError(f"figure_format must be 'png' or 'svg'; got {figure_format!r}.")
        if isinstance(dpi, bool) or not isinstance(dpi, (int, np.integer)) or dpi < 10:
            raise ValueError(f"dpi must be an integer >= 10; got {dpi!r}.")
        self.title = str(title)
        self.subtitle = subtitle
        self.figure_format = figure_format
        self.dpi = int(dpi)
        for v, nm in ((max_rows, "max_rows"), (max_regions, "max_regions")):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{nm} must be a positive integer; got {v!r}.")
        self.max_rows, self.max_regions = int(max_rows), int(max_regions)
        self.random_state = int(random_state)
        self.bounds_applied: list[str] = []
        self._sections: list[_Section] = []
        self.created = _dt.datetime.now(_dt.UTC).replace(microsecond=0)

    # ------------------------------------------------------------------ generic sections
    @property
    def sections(self) -> list[str]:
        """Keys of the sections added so far, in order."""
        return [s.key for s in self._sections]

    def _add(self, key: str, title: str, parts: Sequence[str]) -> Report:
        taken = set(self.sections)
        unique, i = key, 2
        while unique in taken:
            unique, i = f"{key}-{i}", i + 1
        self._sections.append(_Section(unique, title, "\n".join(parts)))
        return self

    def add_text(self, title: str, text: str, *, key: str = "text") -> Report:
        """A section of plain text (escaped; blank lines separate paragraphs)."""
        paras = [p.strip() for p in str(text).split("\n\n") if p.strip()]
        return self._add(key, title, [f"<p>{_esc(p)}</p>" for p in paras])

    def add_table(
        self,
        title: str,
        frame: Any,
        *,
        key: str = "table",
        caption: str | None = None,
        max_rows: int = 100,
    ) -> Report:
        """A section holding one table (a DataFrame or anything ``pd.DataFrame`` accepts)."""
        return self._add(key, title, [self._table(frame, caption, max_rows)])

    def add_figure(
        self, title: str, figure: Any, *, key: str = "figure", caption: str | None = None
    ) -> Report:
        """A section holding one matplotlib figure (embedded, then closed)."""
        return self._add(key, title, [self._figure(figure, caption)])

    def _row_sample(self, X: Any, y: Any = None) -> tuple[Any, Any]:
        """``X`` itself, or a uniform sample of ``max_rows`` rows (seed ``random_state``)
        when it has more; the second value describes the sample (None when all rows), and
        the bound is recorded in ``bounds_applied`` for the caveats section."""
        if X is None:
            return None, None
        n = len(X)
        if n <= self.max_rows:
            return X, None
        idx = np.sort(np.random.default_rng(self.random_state).choice(
            n, self.max_rows, replace=False))
        Xs = X.iloc[idx] if hasattr(X, "iloc") else np.asarray(X)[idx]
        used = (f"a uniform random sample of {self.max_rows:,} of the {n:,} rows (seed "
                f"{self.random_state})")
        note = (f"Row-level figures use {used}, so every section takes bounded time; "
                "counts, shares and coefficients use every row.")
        if note not in self.bounds_applied:
            self.bounds_applied.append(note)
        return Xs, used

    def _table(self, frame: Any, caption: str | None = None, max_rows: int = 100) -> str:
        return _html.table(frame, caption, max_rows)

    def _figure(self, figure: Any, caption: str | None = None, alt: str = "figure") -> str:
        return _html.figure(figure, caption, self.figure_format, self.dpi, alt)

    def add_versions(self, *, command: str | None = None) -> Report:
        """Versions of Python and the packages used, for reproducibility."""
        from importlib import metadata

        rows = [("python", sys.version.split()[0]), ("platform", platform.platform())]
        for pkg in _PACKAGES:
            try:
                rows.append((pkg, metadata.version(pkg)))
            except metadata.PackageNotFoundError:
                rows.append((pkg, "not installed"))
        rows.append(("created (UTC)", self.created.isoformat()))
        if command:
            rows.append(("command", command))
        table = pd.DataFrame(rows, columns=["item", "value"])
        return self._add("versions", "Versions", [self._table(table)])

    # ------------------------------------------------------------------ output
    def to_html(self) -> str:
        """The report as one HTML string (a versions section is added if missing)."""
        sections = list(self._sections)
        if not any(s.key == "versions" for s in sections):
            self.add_versions()
            sections = list(self._sections)
            self._sections.pop()
        # provenance heads the document whatever order the sections were added in
        sections.sort(key=lambda s: s.key != "provenance")
        return _html.page(self.title, self.subtitle, [(s.key, s.title, s.body) for s in sections])

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report to ``path`` (UTF-8 HTML) and return the path."""
        path = Path(os.fspath(path))
        if path.is_dir():
            path = path / "report.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path

    def save_pdf(self, path: str | os.PathLike[str], *, html_path: Any = None) -> Path:
        """Print the report to an A4 PDF with headless Chromium and return the PDF path.

        The HTML is written to ``html_path`` (default: next to the PDF, same name with
        ``.html``) and printed from there. Tables wider than the page are split into
        column blocks and long values wrap, so no column is cut. Raises RuntimeError when
        no Chromium is installed.
        """
        pdf = Path(os.fspath(path))
        src = self.save(html_path if html_path is not None else pdf.with_suffix(".html"))
        return _html.print_pdf(src, pdf)

    def __repr__(self) -> str:
        return f"Report({self.title!r}, sections={self.sections})"


