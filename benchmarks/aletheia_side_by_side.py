"""``Regions.summary`` against Aletheia's ``UnwrapperClassifier.summary()`` on the same rows.

Trains a scikit-learn ``MLPClassifier((40,) * 4)`` on CoCircles (make_circles(noise=0.1,
factor=0.8)), then on 10,000 other CoCircles rows times, in the same run:

* glassnet: ``unwrap`` + ``Regions.summary`` (defaults: global AUC of the 100 largest regions
  on up to 10,000 rows) and with ``global_top=None`` (global AUC of every region, as Aletheia
  computes it); best of 3;
* Aletheia 1.3.5 (``aletheia-dnn``, closed-source compiled wheels) in its own Python 3.10
  venv ``.venv-aletheia``: ``UnwrapperClassifier(coefs, intercepts).fit(X, y)`` then
  ``.summary()``, once (it takes tens of seconds), in a child process.

Prints wall-clock and CPU-time ratios (CPU time is the steadier figure on a shared machine)
and checks that both tables hold the same regions (equal sorted counts). Issue 17 target:
summary >= 100x faster. Without ``.venv-aletheia`` it prints how to create it and exits 0.

    .venv/bin/python benchmarks/aletheia_side_by_side.py [--rows 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", ".venv-aletheia", "bin", "python")
HOW = ("create it with: ~/.pyenv/versions/3.10.13/bin/python -m venv .venv-aletheia && "
       ".venv-aletheia/bin/pip install numpy==2.2.6 scikit-learn==1.7.2 pandas==2.3.3 "
       "matplotlib==3.10.9 statsmodels aletheia-dnn==1.3.5")


def best(fn, repeat: int = 3) -> tuple[float, float, object]:
    """Best wall and best CPU time of ``repeat`` calls, and the last result."""
    wall = cpu = float("inf")
    out = None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    args = ap.parse_args()
    if not os.path.exists(PEER):
        print(f"Aletheia side by side skipped: no .venv-aletheia; {HOW}")
        return
    from sklearn.datasets import make_circles
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from glassnet import ReluNetwork, unwrap

    Xtr, ytr = make_circles(2000, noise=0.1, factor=0.8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((40,) * 4, max_iter=300, random_state=0).fit(Xtr, ytr)
    net = ReluNetwork.from_sklearn(mlp)
    X, y = make_circles(args.rows, noise=0.1, factor=0.8, random_state=1)

    def ours(global_top=100):
        return unwrap(net, X).summary(X, y, global_top=global_top)

    w_def, c_def, table = best(ours)
    w_all, c_all, _ = best(lambda: ours(None))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "case.npz")
        arrays = {f"coef_{i}": c for i, c in enumerate(mlp.coefs_)}
        arrays.update({f"intercept_{i}": b for i, b in enumerate(mlp.intercepts_)})
        np.savez(path, X=X, y=y, n_layers=len(mlp.coefs_), **arrays)
        res = subprocess.run([PEER, os.path.join(HERE, "_aletheia_summary.py"), path],
                             capture_output=True, text=True)
    if res.returncode != 0:
        print("Aletheia failed:", res.stderr.strip().splitlines()[-1:])
        return
    peer = json.loads(res.stdout.strip().splitlines()[-1])
    same = peer["counts"] == sorted(int(c) for c in table["count"])
    a_wall = peer["fit_wall"] + peer["summary_wall"]
    a_cpu = peer["fit_cpu"] + peer["summary_cpu"]
    print(f"{args.rows} CoCircles rows, 4x40 MLP, {len(table)} regions "
          f"(same regions as Aletheia: {same})")
    print(f"{'':44}{'wall s':>9}{'cpu s':>9}")
    print(f"{'Aletheia fit + summary()':44}{a_wall:>9.3f}{a_cpu:>9.3f}")
    print(f"{'glassnet unwrap + summary (defaults)':44}{w_def:>9.3f}{c_def:>9.3f}")
    print(f"{'glassnet unwrap + summary (global_top=None)':44}{w_all:>9.3f}{c_all:>9.3f}")
    print(f"issue 17 | Regions.summary vs Aletheia summary(): {a_wall / w_def:.0f}x faster "
          f"(wall; CPU {a_cpu / c_def:.0f}x); every region's global AUC: "
          f"{a_wall / w_all:.0f}x (CPU {a_cpu / c_all:.0f}x); target >= 100x")


if __name__ == "__main__":
    main()
