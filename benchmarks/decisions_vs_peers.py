"""Single decisions on TaiwanCredit: glassnet.decisions against DiCE and SHAP.

A (40, 40) ReluNetClassifier (random_state=0, inputs standardised inside, so the network is
in the published protocol's min-max units) is trained on the TaiwanCredit split. The
declined rows are the test rows it predicts as defaults (class 1); the favorable class
is 0. For the first ``--rows`` of them (default 200):

* counterfactuals: glassnet (exact MILP, MAD-weighted L1 cost, data-box bounds) against
  DiCE's "random" and "genetic" methods (dice-ml, one counterfactual per row), by validity
  (a float64 forward pass gives class 0), mean cost (the same MAD-weighted L1 for all) and
  time per row;
* reason codes: glassnet's exact path attributions against SHAP's KernelExplainer on the
  favorable class's logit, both against the approved rows' mean (and KernelSHAP with a
  background of 100 approved rows, its usual use), by additivity error (attributions minus
  the output change they explain), run-to-run variation and time per row;
* MILP size and time: one counterfactual on networks of other depths and widths.

Times are CPU seconds of the process (``time.process_time``), because the development
machine is shared: wall time there measures the other jobs.

The peers run in their own venv (``.venv-peers``, Python 3.11, ``pip install dice-ml
shap``), through ``_peers_dice_shap.py``; glassnet never imports them. Ratios are against
glassnet measured in the same run. Without that venv glassnet's own rows are printed, with
how to create it (so ``make bench`` goes on to the other scripts).

usage: .venv/bin/python benchmarks/decisions_vs_peers.py [--rows 200] [--cf-rows 200]
       [--time-limit 20] [--growth-rows 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402

import glassnet  # noqa: E402
from glassnet.datasets import load_taiwan_credit  # noqa: E402
from glassnet.decisions import counterfactual, path_attributions  # noqa: E402
from glassnet.decisions.recourse import mad_weights  # noqa: E402

FAVORABLE = 0
PEERS_HOW = ("create it with: python3.11 -m venv .venv-peers && "
             ".venv-peers/bin/pip install dice-ml shap")


def train(hidden, seed=0):
    ds = load_taiwan_credit(ROOT.parent / "shared" / "data" / "taiwan_credit.csv")
    clf = glassnet.ReluNetClassifier(hidden_layer_sizes=hidden, random_state=seed)
    clf.fit(ds.X_train, ds.y_train)
    return ds, clf.network_


def ours_counterfactuals(net, D, X_train, time_limit):
    t = time.perf_counter()
    cf = counterfactual(net, D, target=FAVORABLE, data=X_train, time_limit=time_limit)
    return cf, time.perf_counter() - t


def cost_of(points, D, w):
    return (np.abs(points - D) * w).sum(axis=1)


def start_peers(net, X_train, D, n_cf, reference, background, python, tmp, seed=0):
    """Start the peers' process (it runs beside glassnet's counterfactuals)."""
    src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
    arrays = {f"W{i}": W for i, W in enumerate(net.weights)}
    arrays.update({f"b{i}": b for i, b in enumerate(net.biases)})
    np.savez(src, n_layers=len(net.weights), names=np.array(net.feature_names),
             X_train=X_train, X_rows=D, n_cf=n_cf, favorable=FAVORABLE, seed=seed,
             reference=reference, background=background, **arrays)
    proc = subprocess.Popen([python, str(Path(__file__).with_name("_peers_dice_shap.py")),
                             str(src), str(dst)], stderr=subprocess.DEVNULL)
    return proc, dst


def finish_peers(proc, dst):
    if proc.wait() != 0:
        raise RuntimeError("the peers' process failed; run _peers_dice_shap.py by hand")
    with np.load(dst) as z:
        return {k: z[k] for k in z.files}


def milp_growth(rows_per_net, time_limit):
    print("\nMILP size and time (one counterfactual per row, first declined test rows)")
    print(f"{'hidden':>10} {'binaries':>9} {'median cpu s':>13} {'max cpu s':>10} "
          f"{'proved':>7}")
    for hidden in [(20, 20), (40, 40), (80, 80), (40,), (40, 40, 40)]:
        ds, net = train(hidden)
        Xte = ds.X_test.to_numpy()
        D = Xte[net.forward(Xte)[:, 0] > 0][:rows_per_net]
        cf, _ = ours_counterfactuals(net, D, ds.X_train.to_numpy(), time_limit)
        f = cf.frame
        print(f"{'x'.join(map(str, hidden)):>10} {f.n_binary.mean():9.1f} "
              f"{f.cpu_seconds.median():13.2f} {f.cpu_seconds.max():10.2f} "
              f"{(f.status == 'found').mean():7.0%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--cf-rows", type=int, default=200,
                    help="rows given counterfactuals (glassnet, DiCE) and 100-row SHAP")
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--peers-python", default=str(ROOT / ".venv-peers" / "bin" / "python"))
    ap.add_argument("--growth-rows", type=int, default=10,
                    help="rows per network in the depth/width table (0 to skip)")
    args = ap.parse_args()

    ds, net = train((40, 40))
    X_train = ds.X_train.to_numpy()
    Xte = ds.X_test.to_numpy()
    D = Xte[net.forward(Xte)[:, 0] > 0][: args.rows]
    Dc = D[: args.cf_rows]
    print(f"network {net}; {len(D)} declined test rows (predicted default), the first "
          f"{len(Dc)} for counterfactuals and 100-row-background KernelSHAP")
    w = mad_weights(X_train)

    # ---- reason codes
    approved = X_train[net.forward(X_train)[:, 0] <= 0]
    reference = approved.mean(axis=0)
    t = time.process_time()
    A = path_attributions(net, D, reference=reference, favorable=FAVORABLE).to_numpy()
    t_rc = (time.process_time() - t) / len(D)
    delta = -(net.forward(D)[:, 0] - net.forward(reference[None])[0, 0])
    err_ours = np.abs(A.sum(axis=1) - delta)

    # ---- counterfactuals (the peers run at the same time in their own process)
    rng = np.random.default_rng(0)
    background = approved[rng.choice(len(approved), 100, replace=False)]
    peers = None
    if Path(args.peers_python).exists():
        with tempfile.TemporaryDirectory() as tmp:
            proc, dst = start_peers(net, X_train, D, len(Dc), reference, background,
                                    args.peers_python, tmp)
            cf, t_cf = ours_counterfactuals(net, Dc, X_train, args.time_limit)
            peers = finish_peers(proc, dst)
    else:  # glassnet's own rows still print; the peers' rows say how to get them
        print(f"DiCE and SHAP rows skipped: no {args.peers_python}; {PEERS_HOW}")
        cf, t_cf = ours_counterfactuals(net, Dc, X_train, args.time_limit)
    f = cf.frame
    ours_pts = cf.counterfactual.to_numpy()

    print("\nCounterfactuals (MAD-weighted L1 cost; valid = float64 forward pass gives class 0)")
    print(f"{'method':>14} {'valid':>7} {'found':>6} {'mean cost':>10} {'median cost':>12} "
          f"{'cpu s/row':>9} {'time ratio':>10} {'cost ratio (common rows)':>24}")
    ok = f.valid.to_numpy()
    base_t = f.cpu_seconds.mean()
    print(f"{'glassnet MILP':>14} {ok.mean():7.1%} {np.isfinite(ours_pts).all(1).mean():6.1%} "
          f"{f.cost[ok].mean():10.4f} {f.cost[ok].median():12.4f} {base_t:9.2f} "
          f"{1.0:10.2f} {1.0:24.2f}")
    print(f"{'':>14} proved optimal {np.mean(f.status == 'found'):.1%}, median gap "
          f"{np.nanmedian(f.gap):.2g}, CPU s/row median {f.cpu_seconds.median():.2f} max "
          f"{f.cpu_seconds.max():.2f}, wall s/row mean {f.seconds.mean():.2f}, "
          f"binaries {f.n_binary.mean():.1f}")
    for method in ("random", "genetic") if peers is not None else ():
        P = peers[f"dice_{method}_cf"]
        found = np.isfinite(P).all(axis=1)
        valid = np.zeros(len(Dc), bool)
        valid[found] = net.forward(P[found])[:, 0] <= 0
        cost = cost_of(np.where(found[:, None], P, Dc), Dc, w)
        both = valid & ok
        ratio = cost[both].mean() / f.cost[both].mean() if both.any() else np.nan
        secs = peers[f"dice_{method}_seconds"].mean()
        print(f"{'DiCE ' + method:>14} {valid.mean():7.1%} {found.mean():6.1%} "
              f"{cost[valid].mean():10.4f} {np.median(cost[valid]):12.4f} {secs:9.2f} "
              f"{secs / base_t:10.2f} {ratio:24.2f}")

    print("\nReason codes (favorable class's logit, reference = approved rows' mean)")
    print(f"{'method':>22} {'max additivity err':>19} {'mean':>10} {'rerun max diff':>15} "
          f"{'cpu s/row':>9} {'time ratio':>10}")
    print(f"{'glassnet exact IG':>22} {err_ours.max():19.2e} {err_ours.mean():10.2e} "
          f"{0.0:15.2e} {t_rc:9.4f} {1.0:10.2f}")
    for name, label in ((("shap_ref", "KernelSHAP (ref)"), ("shap_bg100", "KernelSHAP (bg 100)"))
                        if peers is not None else ()):
        V = peers[f"{name}_values"]
        exp_value = float(np.ravel(peers[f"{name}_expected"])[0])
        target = -net.forward(D[: len(V)])[:, 0] - exp_value
        err = np.abs(V.sum(axis=1) - target)
        rerun = np.abs(V - peers[f"{name}_values_rerun"]).max()
        secs = peers[f"{name}_seconds"].mean()
        print(f"{label:>22} {err.max():19.2e} {err.mean():10.2e} {rerun:15.2e} "
              f"{secs:9.4f} {secs / t_rc:10.2f}")
    if peers is not None:
        print("peers: " + ", ".join(str(v) for v in peers["versions"]))
    print(f"total glassnet counterfactual wall time {t_cf:.1f} s")
    if args.growth_rows:
        milp_growth(args.growth_rows, args.time_limit)


if __name__ == "__main__":
    main()
