"""``Regions.summary`` against Aletheia's ``UnwrapperClassifier.summary()`` on the same rows.

Trains a scikit-learn ``MLPClassifier((40,) * 4)`` on CoCircles (make_circles(noise=0.1,
factor=0.8)), then on 10,000 other CoCircles rows times, in the same run, one thread each
(``OMP_NUM_THREADS=1`` etc. are set before NumPy loads, here and in the child process):

* glassnet: ``unwrap``, and ``Regions.summary(X, y)`` with its defaults (global AUC and
  accuracy of the 100 largest regions on up to 10,000 rows; the others get NaN) and with
  ``global_top=None`` (global AUC of every region, as Aletheia computes it); best of 5;
* Aletheia 1.3.5 (``aletheia-dnn``, closed-source compiled wheels) in its own Python 3.10
  venv ``.venv-aletheia``: ``UnwrapperClassifier(coefs, intercepts).fit(X, y)`` then
  ``.summary()`` (columns Count, Response Mean/Std, Local AUC, Global AUC of every region),
  best of 5, in a child process.

The headline ratio (issue 17 target: >= 100x) is the pipeline Aletheia fit + summary()
against glassnet unwrap + summary with its defaults; the same with every region's global
AUC, and summary against summary alone, are printed beside it. Wall-clock and CPU time are
both printed; CPU time is the steadier figure on a shared machine. Checks that both tables
hold the same regions (equal sorted counts) and prints both mean local and global AUCs.
Without ``.venv-aletheia`` it prints how to create it and exits 0.

    .venv/bin/python benchmarks/aletheia_side_by_side.py [--rows 10000] [--repeat 5]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread on both sides, before NumPy loads its BLAS

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from _timing import best_wall_cpu  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", ".venv-aletheia", "bin", "python")
HOW = ("create it with: ~/.pyenv/versions/3.10.13/bin/python -m venv .venv-aletheia && "
       ".venv-aletheia/bin/pip install numpy==2.2.6 scikit-learn==1.7.2 pandas==2.3.3 "
       "matplotlib==3.10.9 statsmodels aletheia-dnn==1.3.5")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5, help="best of this many runs, each side")
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

    w_unwrap, c_unwrap, reg = best_wall_cpu(lambda: unwrap(net, X), args.repeat)
    w_def, c_def, table = best_wall_cpu(lambda: reg.summary(X, y), args.repeat)
    w_all, c_all, full = best_wall_cpu(lambda: reg.summary(X, y, global_top=None), args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "case.npz")
        arrays = {f"coef_{i}": c for i, c in enumerate(mlp.coefs_)}
        arrays.update({f"intercept_{i}": b for i, b in enumerate(mlp.intercepts_)})
        np.savez(path, X=X, y=y, n_layers=len(mlp.coefs_), **arrays)
        res = subprocess.run([PEER, os.path.join(HERE, "_aletheia_summary.py"), path,
                              str(args.repeat)], capture_output=True, text=True)
    if res.returncode != 0:
        print("Aletheia failed:", res.stderr.strip().splitlines()[-1:])
        return
    peer = json.loads(res.stdout.strip().splitlines()[-1])
    same = peer["counts"] == sorted(int(c) for c in table["count"])
    a_wall = peer["fit_wall"] + peer["summary_wall"]
    a_cpu = peer["fit_cpu"] + peer["summary_cpu"]
    simd = os.environ.get("NPY_DISABLE_CPU_FEATURES")
    print(f"{args.rows} CoCircles rows, 4x40 MLP, {len(table)} regions (same regions as "
          f"Aletheia: {same}); best of {args.repeat}, one thread"
          + (f"; NPY_DISABLE_CPU_FEATURES={simd} (both sides)" if simd else ""))
    print(f"mean local AUC  glassnet {np.nanmean(full['local_auc']):.6f}  "
          f"Aletheia {peer['local_auc_mean']:.6f}")
    print(f"mean global AUC glassnet {np.nanmean(full['global_auc']):.6f}  "
          f"Aletheia {peer['global_auc_mean']:.6f}")
    rows = [
        ("Aletheia fit", peer["fit_wall"], peer["fit_cpu"]),
        ("Aletheia summary()", peer["summary_wall"], peer["summary_cpu"]),
        ("glassnet unwrap", w_unwrap, c_unwrap),
        ("glassnet summary (defaults: global of top 100)", w_def, c_def),
        ("glassnet summary (global_top=None: every region)", w_all, c_all),
    ]
    print(f"{'':52}{'wall s':>9}{'cpu s':>9}")
    for name, wall, cpu in rows:
        print(f"{name:52}{wall:>9.3f}{cpu:>9.3f}")
    pipe = (a_wall / (w_unwrap + w_def), a_cpu / (c_unwrap + c_def))
    pipe_all = (a_wall / (w_unwrap + w_all), a_cpu / (c_unwrap + c_all))
    alone = (peer["summary_wall"] / w_def, peer["summary_cpu"] / c_def)
    print(f"issue 17 | Regions.summary on {args.rows // 1000}k CoCircles rows (4x40) vs Aletheia "
          f"summary(): {pipe[0]:.0f}x faster (wall; CPU {pipe[1]:.0f}x), fit+summary vs "
          f"unwrap+summary, defaults (global AUC of the 100 largest regions); every region's "
          f"global AUC: {pipe_all[0]:.0f}x (CPU {pipe_all[1]:.0f}x); summary alone: "
          f"{alone[0]:.0f}x (CPU {alone[1]:.0f}x); target >= 100x")


if __name__ == "__main__":
    main()
