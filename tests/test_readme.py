"""The README's Python quick start runs as written and its claims hold."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.slow
def test_quick_start_runs(tmp_path, monkeypatch):
    text = README.read_text()
    code = re.search(r"## Quick start \(Python\)\n\n```python\n(.*?)```", text, re.S)
    assert code, "the README has no Python quick start"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's convergence warning is not the point here
        exec(compile(code.group(1), "README.md", "exec"), namespace)
    regions, net, X = namespace["regions"], namespace["net"], namespace["X"]
    assert regions.max_abs_error < 1e-9
    out = net.forward(X[:5])[:, 0]
    contrib = namespace["contrib"]
    np.testing.assert_allclose(contrib["output"].to_numpy(), out, rtol=1e-9, atol=1e-12)
    assert 1 <= namespace["merger"].n_regions_ <= 20
    assert (tmp_path / "circles.glassnet").exists()
    # the region count quoted in the comment is the one this code produces
    quoted = re.search(r"Regions\((\d+) regions over 2000 rows", code.group(1))
    assert quoted and int(quoted.group(1)) == len(regions)
