"""Speed of the region summary table relative to unwrapping, on CoCircles with a 4x40 MLP.

Trains a scikit-learn ``MLPClassifier((40,) * 4)`` on CoCircles (make_circles(noise=0.1,
factor=0.8)), then for 100k and 1M rows times ``unwrap`` and ``region_summary`` on the same
rows in the same run and prints the ratio (target: summary <= 1x unwrap). Also times the
exact boundary distance of 100k rows.

    .venv/bin/python benchmarks/summary_speed.py [--sizes 100000 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import warnings

from _timing import best_time
from sklearn.datasets import make_circles
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from glassnet import ReluNetwork, boundary_distance, region_summary, unwrap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    X, y = make_circles(n_samples=2000, noise=0.1, factor=0.8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((40,) * 4, max_iter=300, random_state=0).fit(X, y)
    net = ReluNetwork.from_sklearn(mlp)
    print(f"network {net}, train accuracy {mlp.score(X, y):.3f}")
    print(f"{'rows':>9} {'regions':>8} {'unwrap s':>9} {'summary s':>10} {'ratio':>6}")
    for n in args.sizes:
        Xn, yn = make_circles(n_samples=n, noise=0.1, factor=0.8, random_state=1)
        t_unwrap, reg = best_time(lambda Xn=Xn: unwrap(net, Xn), args.repeat)
        summarise = lambda reg=reg, Xn=Xn, yn=yn: region_summary(reg, Xn, yn)  # noqa: E731
        t_sum, table = best_time(summarise, args.repeat)
        print(f"{n:>9} {len(reg):>8} {t_unwrap:>9.3f} {t_sum:>10.3f} {t_sum / t_unwrap:>6.2f}")
    Xd, _ = make_circles(n_samples=100_000, noise=0.1, factor=0.8, random_state=2)
    t_dist, _ = best_time(lambda: boundary_distance(net, Xd), args.repeat)
    print(f"boundary_distance, 100000 rows: {t_dist:.3f} s")
    print(table.head(5).iloc[:, :12].to_string())


if __name__ == "__main__":
    main()
