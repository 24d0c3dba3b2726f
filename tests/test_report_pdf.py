"""Print-ready reports: in headless Chromium, at the printed A4 width, no element is wider
than the page, and printing writes an A4 PDF.

How the width is checked: a copy of the report gets the print rules applied to the screen
(``@media print`` becomes ``@media all``) and a probe script; Chromium lays it out in a
window as wide as the printed A4 body (210 mm - 2 x 12 mm margins = 703 CSS px) and the
probe writes onto ``<html>``, read back with ``--dump-dom``, the document's scrollWidth
and every element whose right edge passes the page or whose content overflows it.
Skipped only when no Chromium binary is installed (``make browser`` installs Debian's).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile

import numpy as np
import pandas as pd
import pytest

from glassnet import ReluNetwork, Report, unwrap
from glassnet.monitor import region_stability
from glassnet.outcomes import fidelity_table, outcomes
from glassnet.report._html import A4_CONTENT_PX, chromium_flags, find_chromium

CHROMIUM = find_chromium()
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")]

PROBE = """<script>
window.addEventListener("load", function () {
  var page = PAGE, wide = [];
  var all = document.body.getElementsByTagName("*");
  for (var i = 0; i < all.length; i++) {
    var r = all[i].getBoundingClientRect();
    var el = all[i];
    // an element past the page, or content (a long word) overflowing its element
    if ((r.width > 0 && r.right > page + 0.5) ||
        (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1))
      wide.push(el.tagName + ":" + Math.round(r.right) + ":" + el.scrollWidth);
  }
  var h = document.documentElement;
  h.setAttribute("data-scroll-width", document.documentElement.scrollWidth);
  h.setAttribute("data-wide", JSON.stringify(wide.slice(0, 20)));
  h.setAttribute("data-n-wide", wide.length);
});
</script>""".replace("PAGE", str(A4_CONTENT_PX))


def _wide_report(tmp_path):
    rng = np.random.default_rng(0)
    d = 25
    names = [f"BILL_AMOUNT_MONTH_{j}" for j in range(d)]
    net = ReluNetwork([rng.normal(size=(12, d)), rng.normal(size=(1, 12))],
                      [rng.normal(size=12), np.zeros(1)],
                      output="sigmoid").with_feature_names(names)
    X = pd.DataFrame(rng.normal(size=(600, d)) * 1e5, columns=names)
    X.iloc[:, 0] *= 1e-11  # values like -6.370e-06 must not wrap mid-number
    p = net.predict_output(X)[:, 0]
    y = (rng.random(600) < p).astype(int)
    regions = unwrap(net, X, y)
    shifted = X.copy()
    shifted.iloc[:, 3] += 2e5
    rep = Report("Wide report", subtitle="/a/very/long/path/" + "x" * 120)
    rep.add_provenance({"data file": "/data/" + "taiwan_credit_" * 8 + ".csv",
                        "sha256": "0123456789abcdef" * 4, "rows": 24_000,
                        "metrics": {"train": {"AUC": 0.78}, "test": {"AUC": 0.77}}})
    rep.add_overview(net, X, y)
    rep.add_region_summary(regions, X, y, top=8)
    rep.add_coefficients(regions, X, top=8)
    rep.add_outcomes(outcomes(y, p))
    rep.add_fidelity(fidelity_table(p, {"merged": np.clip(p + 0.01, 0, 1)}))
    rep.add_stability(region_stability(net, X, shifted, y_new=y, y_reference=y))
    rep.add_table("Coefficients", regions.to_frame().head(5), key="raw-coefficients")
    return rep


def _chromium(args, timeout=120):
    with tempfile.TemporaryDirectory() as prof:
        return subprocess.run([CHROMIUM, *chromium_flags(prof), *args], capture_output=True,
                              text=True, timeout=timeout)


def test_no_element_wider_than_a4_page(tmp_path):
    rep = _wide_report(tmp_path)
    html = rep.to_html()
    # wide tables were split into blocks of at most 7 columns, repeating the key column
    assert "the first column repeats" in html
    assert "2.4e+04" not in html and "24,000" in html  # counts as integers
    printed = html.replace("@media print{", "@media all{", 1).replace(
        "<head>", "<head>\n" + PROBE, 1)
    page = tmp_path / "probe.html"
    page.write_text(printed, encoding="utf-8")
    proc = _chromium(["--hide-scrollbars", "--virtual-time-budget=10000",
                      f"--window-size={A4_CONTENT_PX},3000", "--dump-dom", page.as_uri()])
    dom = proc.stdout
    m = re.search(r'data-scroll-width="(\d+)"', dom)
    assert m, f"the probe did not run: {proc.stderr[-500:]}"
    wide = json.loads(re.search(r'data-wide="([^"]*)"', dom).group(1).replace("&quot;", '"'))
    assert int(m.group(1)) <= A4_CONTENT_PX, wide
    assert wide == []


def test_probe_catches_a_wide_element(tmp_path):
    """The check can fail: a 1200 px wide block is reported."""
    html = Report("x").add_text("t", "y").to_html().replace(
        "</main>", '<div style="width:1200px">wide</div></main>')
    page = tmp_path / "bad.html"
    page.write_text(html.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    dom = _chromium(["--hide-scrollbars", "--virtual-time-budget=5000",
                     f"--window-size={A4_CONTENT_PX},1000", "--dump-dom",
                     page.as_uri()]).stdout
    assert int(re.search(r'data-n-wide="(\d+)"', dom).group(1)) >= 1


def test_save_pdf_writes_a4(tmp_path):
    rep = Report("PDF").add_provenance({"rows": 10, "metrics": {"test": {"AUC": 0.7}}})
    pdf = rep.save_pdf(tmp_path / "out" / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and pdf.with_suffix(".html").is_file()
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box, "no page size in the PDF"
    w, h = float(box.group(1)), float(box.group(2))
    assert abs(w - 595.3) < 2 and abs(h - 841.9) < 2  # A4 in points
