"""Private helper of decisions_vs_peers.py, run inside the peers' venv (.venv-peers: dice-ml,
shap). Reads the network's weights, the training rows and the rows to explain from an .npz
file, runs DiCE (counterfactuals) and SHAP's KernelExplainer (attributions) on the same
network (a NumPy forward pass, so both peers see exactly glassnet's function) and writes
their outputs and CPU times (process time: on a shared machine wall time measures the
other jobs) to an .npz file.

usage: python _peers_dice_shap.py IN.npz OUT.npz
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

_RERUN_ROWS = 20  # rows explained twice to measure KernelSHAP's run-to-run variation


class _Net:
    """The ReLU network as a scikit-learn-like classifier (what DiCE's sklearn backend calls)."""

    def __init__(self, weights, biases):
        self.W, self.b = weights, biases
        self.classes_ = np.array([0, 1])

    def logit(self, X):
        a = np.asarray(X, dtype=np.float64)
        for W, b in zip(self.W[:-1], self.b[:-1], strict=True):
            a = np.maximum(a @ W.T + b, 0.0)
        return (a @ self.W[-1].T + self.b[-1])[:, 0]

    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-self.logit(X)))
        return np.c_[1 - p, p]

    def predict(self, X):
        return (self.logit(X) > 0).astype(int)

    def fit(self, X, y):  # pragma: no cover - never called, DiCE checks it exists
        return self


def main(src: str, dst: str) -> None:
    import dice_ml
    import shap

    z = np.load(src, allow_pickle=False)
    n_layers = int(z["n_layers"])
    net = _Net([z[f"W{i}"] for i in range(n_layers)], [z[f"b{i}"] for i in range(n_layers)])
    names = [str(s) for s in z["names"]]
    train = pd.DataFrame(z["X_train"], columns=names)
    train["y"] = net.predict(z["X_train"])  # DiCE needs an outcome column; the model's own
    rows = pd.DataFrame(z["X_rows"], columns=names)
    n_cf = int(z["n_cf"])  # rows given counterfactuals and the 100-row-background SHAP
    favorable = int(z["favorable"])
    seed = int(z["seed"])

    # DiCE: one counterfactual per row, the "random" and "genetic" methods
    data = dice_ml.Data(dataframe=train, continuous_features=names, outcome_name="y")
    model = dice_ml.Model(model=net, backend="sklearn")
    out = {}
    for method in ("random", "genetic"):
        exp = dice_ml.Dice(data, model, method=method)
        cfs = np.full((n_cf, rows.shape[1]), np.nan)
        secs = np.zeros(n_cf)
        for i in range(n_cf):
            t = time.process_time()
            try:
                kw = {"random_seed": seed} if method == "random" else {}
                r = exp.generate_counterfactuals(rows.iloc[[i]], total_CFs=1,
                                                 desired_class=favorable, verbose=False, **kw)
                df = r.cf_examples_list[0].final_cfs_df
                if df is not None and len(df):
                    cfs[i] = df[names].to_numpy(dtype=np.float64)[0]
            except Exception as exc:  # DiCE raises when it finds none
                print(f"DiCE {method} row {i}: {type(exc).__name__}: {exc}"[:200])
            secs[i] = time.process_time() - t
        out[f"dice_{method}_cf"] = cfs
        out[f"dice_{method}_seconds"] = secs

    # SHAP KernelExplainer on the favorable class's logit, against the same reference
    sign = 1.0 if favorable == 1 else -1.0
    f = lambda X: sign * net.logit(X)  # noqa: E731
    ref = z["reference"][None, :]
    for name, background, n in (("shap_ref", ref, len(rows)),
                                ("shap_bg100", z["background"], n_cf)):
        expl = shap.KernelExplainer(f, background)
        vals = np.zeros((n, rows.shape[1]))
        vals2 = np.zeros((n, rows.shape[1]))
        secs = np.zeros(n)
        for i in range(n):
            t = time.process_time()
            # KernelSHAP draws its coalitions from NumPy's global generator
            np.random.seed(seed)  # noqa: NPY002
            vals[i] = expl.shap_values(rows.iloc[[i]].to_numpy(), silent=True)[0]
            secs[i] = time.process_time() - t
            if i < _RERUN_ROWS:  # a second run with other coalitions on the first rows
                np.random.seed(seed + 1)  # noqa: NPY002
                vals2[i] = expl.shap_values(rows.iloc[[i]].to_numpy(), silent=True)[0]
            else:
                vals2[i] = vals[i]
        out[f"{name}_values"] = vals
        out[f"{name}_values_rerun"] = vals2
        out[f"{name}_expected"] = np.asarray(expl.expected_value, dtype=np.float64)
        out[f"{name}_seconds"] = secs
    from importlib.metadata import version

    out["versions"] = np.array([f"dice-ml {version('dice-ml')}", f"shap {version('shap')}"])
    np.savez(dst, **out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
