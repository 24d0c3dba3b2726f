"""Speed of the region summary table relative to unwrapping, on CoCircles with a 4x40 MLP.

Trains a scikit-learn ``MLPClassifier((40,) * 4)`` on CoCircles (make_circles(noise=0.1,
factor=0.8)), then for 10k, 100k and 1M rows times ``unwrap`` and ``Regions.summary(X, y)``
(defaults) on the same rows in the same run, one thread (``OMP_NUM_THREADS=1`` etc. set
before NumPy loads), best of ``--repeat`` in wall-clock and CPU time, and prints the ratio
summary / unwrap (issue 17: "analyses as fast as the unwrap", i.e. <= 1x). Also times
``global_top=None`` (global AUC of every region) at the smallest size, and the exact
boundary distance of 100k rows.

    .venv/bin/python benchmarks/summary_speed.py [--sizes 10000 100000 1000000] [--repeat 5]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread, before NumPy loads its BLAS

import argparse  # noqa: E402
import warnings  # noqa: E402

from _timing import best_wall_cpu  # noqa: E402
from sklearn.datasets import make_circles  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

from glassnet import ReluNetwork, boundary_distance, unwrap  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    X, y = make_circles(n_samples=2000, noise=0.1, factor=0.8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((40,) * 4, max_iter=300, random_state=0).fit(X, y)
    net = ReluNetwork.from_sklearn(mlp)
    print(f"network {net}, train accuracy {mlp.score(X, y):.3f}; best of {args.repeat}, "
          "one thread")
    print(f"{'rows':>9} {'regions':>8} {'unwrap s':>9} {'summary s':>10} {'ratio':>6} "
          f"{'cpu ratio':>9}")
    ratios = {}
    for n in args.sizes:
        Xn, yn = make_circles(n_samples=n, noise=0.1, factor=0.8, random_state=1)
        w_u, c_u, reg = best_wall_cpu(lambda Xn=Xn: unwrap(net, Xn), args.repeat)
        w_s, c_s, table = best_wall_cpu(lambda reg=reg, Xn=Xn, yn=yn: reg.summary(Xn, yn),
                                        args.repeat)
        ratios[n] = (w_s / w_u, c_s / c_u)
        print(f"{n:>9} {len(reg):>8} {w_u:>9.3f} {w_s:>10.3f} {w_s / w_u:>6.2f} "
              f"{c_s / c_u:>9.2f}")
        if n == min(args.sizes):
            w_a, c_a, _ = best_wall_cpu(lambda reg=reg, Xn=Xn, yn=yn:
                               reg.summary(Xn, yn, global_top=None), args.repeat)
            print(f"{'':>9} {'':>8} {'':>9} {w_a:>10.3f} {w_a / w_u:>6.2f} {c_a / c_u:>9.2f}"
                  "  (global_top=None: every region's global AUC)")
    Xd, _ = make_circles(n_samples=100_000, noise=0.1, factor=0.8, random_state=2)
    w_d, _, _ = best_wall_cpu(lambda: boundary_distance(net, Xd), min(args.repeat, 3))
    print(f"boundary_distance, 100000 rows: {w_d:.3f} s")
    print(table.head(5).iloc[:, :12].to_string())
    print("issue 17 | Regions.summary / unwrap on CoCircles (4x40), defaults: "
          + ", ".join(f"{n:,} rows {w:.2f}x (CPU {c:.2f}x)"
                      for n, (w, c) in ratios.items())
          + "; target <= 1x")


if __name__ == "__main__":
    main()
