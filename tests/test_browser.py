"""Render the demo report in headless Chromium: no console errors, every image shown.

How it works (no Python dependency beyond the standard library): the report is copied with
a small probe script inserted at the top of ``<head>``. The probe records JavaScript
errors, resource-loading errors (captured ``error`` events) and ``console.error`` /
``console.warn`` calls, and on ``load`` writes onto ``<html>`` how many images there are
and how many decoded with a non-zero natural and laid-out width. Chromium runs headless
with ``--dump-dom`` (the DOM after the load event, ``--virtual-time-budget`` letting it
settle) and ``--enable-logging=stderr --v=0``, which copies every console message to
stderr as a ``CONSOLE`` line; the report itself has no scripts, so any such line is a
failure. A deliberately broken copy checks that the probe does catch a bad image.

Skipped only when no Chromium binary is found (``make test`` installs Debian's
``chromium`` when it can).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from glassnet.cli import main

CHROMIUM = next(
    (p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))
     if p),
    None,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed"),
]

PROBE = """<script>
(function () {
  var errs = [];
  window.addEventListener("error", function (e) {
    var t = e.target || {};
    errs.push("error: " + (e.message || t.src || t.tagName || "resource"));
  }, true);
  ["error", "warn"].forEach(function (k) {
    var f = console[k];
    console[k] = function () {
      errs.push(k + ": " + Array.prototype.join.call(arguments, " "));
      f.apply(console, arguments);
    };
  });
  window.addEventListener("load", function () {
    var imgs = document.images, ok = 0;
    for (var i = 0; i < imgs.length; i++) {
      var im = imgs[i];
      if (im.complete && im.naturalWidth > 0 && im.getBoundingClientRect().width > 0) ok++;
    }
    var h = document.documentElement;
    h.setAttribute("data-probe-images", imgs.length + ":" + ok);
    h.setAttribute("data-probe-errors", JSON.stringify(errs));
    h.setAttribute("data-probe-sections", document.querySelectorAll("section").length);
  });
})();
</script>"""


def render(html_path: Path, work: Path) -> dict:
    """Load ``html_path`` (with the probe) in headless Chromium and return what it saw."""
    probed = work / f"probed-{html_path.name}"
    text = html_path.read_text(encoding="utf-8")
    assert "<head>" in text
    probed.write_text(text.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")
    cmd = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-extensions", f"--user-data-dir={work / 'profile'}",
        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
        "--window-size=1280,2000", "--dump-dom", probed.resolve().as_uri(),
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    m = re.search(r"<html[^>]*>", r.stdout)
    assert m, f"no DOM dumped: {r.stdout[:500]!r} {r.stderr[-1000:]!r}"
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(0)))
    assert "data-probe-images" in attrs, f"probe did not run: {m.group(0)}"
    total, ok = (int(v) for v in attrs["data-probe-images"].split(":"))
    errors = json.loads(attrs["data-probe-errors"].replace("&quot;", '"'))
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln]
    return {"images": total, "shown": ok, "errors": errors, "console": console,
            "sections": int(attrs["data-probe-sections"])}


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--fast", "--out", str(out), "-q"]) == 0
    return out / "report.html"


def test_demo_report_renders_without_errors(demo_report, tmp_path):
    seen = render(demo_report, tmp_path)
    assert seen["errors"] == []
    assert seen["console"] == []
    assert seen["images"] >= 6
    assert seen["shown"] == seen["images"]
    assert seen["sections"] >= 9


def test_probe_catches_a_broken_image(demo_report, tmp_path):
    broken = tmp_path / "broken.html"
    html = demo_report.read_text(encoding="utf-8")
    html = re.sub(r'src="data:image/png;base64,[^"]{0,40}', 'src="data:image/png;base64,AAAA',
                  html, count=1)
    broken.write_text(html.replace("</main>", '<img src="missing.png" alt="x"></main>'),
                      encoding="utf-8")
    seen = render(broken, tmp_path)
    assert seen["shown"] <= seen["images"] - 2
    assert seen["errors"] or seen["console"]
