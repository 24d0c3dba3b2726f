"""The ``glassnet`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd
    from sklearn.datasets import make_circles
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    from glassnet import ReluNetwork, unwrap

    X, y = make_circles(n_samples=2000, noise=0.1, factor=0.8, random_state=0)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=0)
    print("Training a 4x40 ReLU MLP (scikit-learn) on CoCircles ...")
    mlp = MLPClassifier((40, 40, 40, 40), max_iter=2000, random_state=0).fit(X_tr, y_tr)
    net = ReluNetwork.from_sklearn(mlp)
    regions = unwrap(net, X_tr, y_tr)
    auc = roc_auc_score(y_te, net.predict_output(X_te)[:, 0])
    print(f"network: {net}   test AUC {auc:.4f}")
    print(
        f"{len(regions)} activation regions on {regions.n_samples} training rows; "
        f"{int((regions.counts == 1).sum())} hold a single row; "
        f"{regions.n_regions_covering(0.95)} regions cover 95% of the rows."
    )
    print(f"exactness certificate: max |LLM - network| = {regions.max_abs_error:.2e}")
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(regions.to_frame().head(10).round(4).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="Deep ReLU networks as exact local linear models.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="run the whole pipeline on the built-in CoCircles data")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
