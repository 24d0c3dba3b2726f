"""Helper run inside ``.venv-aletheia``: time Aletheia's ``UnwrapperClassifier`` fit and summary.

Reads an ``.npz`` with the MLP's ``coef_i``/``intercept_i`` and the rows ``X``, ``y`` written
by ``aletheia_side_by_side.py``; runs ``fit`` then ``summary()`` ``repeat`` times (second
argument, default 1) and prints one JSON line: the best wall and CPU seconds of each step,
the region counts and the mean local and global AUC of the last table.
"""

from __future__ import annotations

import json
import sys
import time
import warnings


def main() -> None:
    import numpy as np
    from aletheia import UnwrapperClassifier

    warnings.simplefilter("ignore")
    data = np.load(sys.argv[1])
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    n_layers = int(data["n_layers"])
    coefs = [data[f"coef_{i}"] for i in range(n_layers)]
    intercepts = [data[f"intercept_{i}"] for i in range(n_layers)]
    X, y = data["X"], data["y"]
    best = {"fit_wall": np.inf, "fit_cpu": np.inf, "summary_wall": np.inf,
            "summary_cpu": np.inf}
    for _ in range(repeat):
        clf = UnwrapperClassifier(coefs, intercepts)
        t0, c0 = time.perf_counter(), time.process_time()
        clf.fit(X, y)
        t1, c1 = time.perf_counter(), time.process_time()
        table = clf.summary()
        t2, c2 = time.perf_counter(), time.process_time()
        for key, value in (("fit_wall", t1 - t0), ("fit_cpu", c1 - c0),
                           ("summary_wall", t2 - t1), ("summary_cpu", c2 - c1)):
            best[key] = min(best[key], value)
    print(json.dumps({
        **best,
        "counts": sorted(int(c) for c in table["Count"]),
        "local_auc_mean": float(np.nanmean(table["Local AUC"].astype(float))),
        "global_auc_mean": float(np.nanmean(table["Global AUC"].astype(float))),
    }))


if __name__ == "__main__":
    main()
