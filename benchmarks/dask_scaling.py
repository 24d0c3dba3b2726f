"""Distributed unwrapping: Dask on a LocalCluster against single-machine ``unwrap``.

Run: ``.venv/bin/python benchmarks/dask_scaling.py`` (defaults: the issue's case).

Cases (``--case``, default both):

* ``random``: a random ReLU network with d=10 inputs and 3 hidden layers of 32 (He-scaled
  Gaussian weights, one sigmoid output) on Gaussian rows: nearly every row is its own
  region, so the statistics shipped are as large as the rows (the worst case for a cluster);
* ``cocircles``: a scikit-learn ``MLPClassifier((40,) * 4)`` trained on CoCircles, on
  CoCircles rows: a few thousand regions, so each block ships a few thousand pattern
  statistics whatever its size (the case where a cluster pays off).

``--rows`` rows (default 4M; the issue's original run used 20M random rows) are generated
inside Dask (``da.random.default_rng``, blocks of ``--chunk`` rows; persisted on the workers
before the clock starts unless ``--no-persist``) and unwrapped with
``glassnet.dask.unwrap`` on a ``LocalCluster`` of ``--workers`` worker processes with one
thread each (certificate included). In the same run, before the cluster starts,
``glassnet.unwrap`` unwraps ``--single-rows`` rows (default: as many) held in memory, in a child
process of its own so that its memory does not count as the client's.

Also in the same run: ``--workers`` plain processes (no Dask) unwrapping ``1 / workers`` of the
single machine's rows each, started together -- the ceiling of any cluster of that many
workers on this machine, whose cores share caches and memory bandwidth.

Printed: rows per second of both and their ratio, the number of regions, and the peak
resident memory (``VmHWM``, reset at ``exec``, unlike ``ru_maxrss``) of each worker process,
of the client process and of the single-machine process. BLAS is limited to one thread per
process (checked on the workers with threadpoolctl), so the single-machine figure uses one
core and the cluster one core per worker.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def peak_rss_mib() -> float:
    """Peak resident memory of this process (``VmHWM``) in MiB."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    import resource  # not Linux: ru_maxrss (KiB on Linux, bytes on macOS)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def blas_threads() -> list[int]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return []
    return [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]


def import_glassnet() -> None:
    import glassnet.dask  # noqa: F401


def make_net(d: int, hidden: tuple[int, ...], seed: int = 0):
    from glassnet import ReluNetwork

    rng = np.random.default_rng(seed)
    sizes = (d, *hidden, 1)
    weights = [rng.normal(0, np.sqrt(2.0 / sizes[i]), size=(sizes[i + 1], sizes[i]))
               for i in range(len(sizes) - 1)]
    biases = [rng.normal(0, 0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(weights, biases, output="sigmoid")


def circles_from_uniform(u: np.ndarray) -> np.ndarray:
    """CoCircles rows (radius 1 or 0.8, Gaussian noise 0.1) from 4 uniform columns."""
    angle = 2 * np.pi * u[:, 0]
    radius = np.where(u[:, 1] < 0.5, 1.0, 0.8)
    g = np.sqrt(-2 * np.log1p(-u[:, 2]))  # Box-Muller: two independent N(0, 1)
    noise = np.column_stack([g * np.cos(2 * np.pi * u[:, 3]), g * np.sin(2 * np.pi * u[:, 3])])
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]) + 0.1 * noise


def case_net(case: str, d: int):
    if case == "random":
        return make_net(d, (32, 32, 32))
    import warnings

    from sklearn.datasets import make_circles
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from glassnet import ReluNetwork

    X, y = make_circles(2000, noise=0.1, factor=0.8, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((40,) * 4, max_iter=300, random_state=0).fit(X, y)
    return ReluNetwork.from_sklearn(mlp)


def single_machine(rows: int, d: int, case: str, repeat: int = 1,
                   start_at: float | None = None) -> dict:
    import glassnet

    net = case_net(case, d)
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(rows, d)) if case == "random"
         else circles_from_uniform(rng.random(size=(rows, 4))))
    if start_at is not None:  # several of these start their timed part together
        time.sleep(max(0.0, start_at - time.time()))
    seconds = cpu = float("inf")
    for _ in range(repeat):  # best of `repeat`: the run least slowed by other jobs
        t0, c0 = time.perf_counter(), time.process_time()
        regions = glassnet.unwrap(net, X)
        t, c = time.perf_counter() - t0, time.process_time() - c0
        if t < seconds:
            seconds, cpu = t, c
    return {"rows": rows, "seconds": seconds, "cpu": cpu, "regions": len(regions),
            "error": regions.max_abs_error, "peak": peak_rss_mib()}


def plain_processes_at_once(case: str, d: int, rows: int, k: int, repeat: int) -> float:
    """Seconds for ``k`` plain processes (no Dask) to unwrap ``rows / k`` rows each, started
    together: the most a ``k``-worker cluster could reach on this machine, whose cores share
    caches and memory bandwidth (and, on a VM, maybe more)."""
    start_at = time.time() + 20.0  # after every child's imports and rows
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--single-only", "--single-rows", str(rows // k),
             "--d", str(d), "--case", case, "--repeat", str(repeat), "--start-at",
             str(start_at)], stdout=subprocess.PIPE, text=True)
        for _ in range(k)
    ]
    out = [json.loads(c.communicate()[0].strip().splitlines()[-1]) for c in children]
    return max(o["seconds"] for o in out)


def run_case(case: str, args: argparse.Namespace) -> float:
    """One case: the single machine in a child process, then the cluster; returns the ratio."""
    d = args.d if case == "random" else 2
    single_rows = args.single_rows or args.rows
    net = case_net(case, d)
    print(f"== case {case}: network {net}; BLAS threads per process: "
          f"{os.environ['OMP_NUM_THREADS']}")
    child = subprocess.run(
        [sys.executable, __file__, "--single-only", "--single-rows", str(single_rows),
         "--d", str(d), "--case", case, "--repeat", str(args.repeat)],
        check=True, capture_output=True, text=True)
    single = json.loads(child.stdout.strip().splitlines()[-1])
    single_rate = single["rows"] / single["seconds"]
    print(f"single machine: {single['rows']:,} rows in {single['seconds']:.2f} s = "
          f"{single_rate:,.0f} rows/s; {single['regions']:,} regions; "
          f"certificate {single['error']:.2e}; peak RSS {single['peak']:.0f} MiB")
    t_plain = plain_processes_at_once(case, d, single["rows"], args.workers, args.repeat)
    ceiling = single["seconds"] / t_plain
    print(f"{args.workers} plain processes at once (no Dask), {single['rows'] // args.workers:,} "
          f"rows each: {t_plain:.2f} s = {ceiling:.2f}x the single machine (the ceiling of a "
          f"{args.workers}-worker cluster on this machine)")

    import dask
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    import glassnet.dask

    # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in the worker processes (to hand freed
    # memory back to the OS); that also fixes glibc's mmap threshold at 128 KiB, so every
    # large temporary of a block's statistics is a fresh mmap whose pages fault in again
    # (unwrap measured 1.6x slower under it). Unset by default here, as docs/scaling.md
    # advises; --dask-malloc keeps Dask's setting.
    malloc = {} if args.dask_malloc else {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    with dask.config.set(malloc), \
            LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
        threads = client.run(blas_threads)  # also: workers up before timing
        # glassnet imported on the workers before timing, as the single machine's process
        # imported it before its clock started (else the first blocks pay for the import,
        # and work stealing then moves blocks away from the slower worker)
        client.run(import_glassnet)
        rng = da.random.default_rng(2)
        if case == "random":
            Xd = rng.normal(size=(args.rows, d), chunks=(args.chunk, d))
        else:
            U = rng.random(size=(args.rows, 4), chunks=(args.chunk, 4))
            Xd = U.map_blocks(circles_from_uniform, chunks=(U.chunks[0], (2,)), dtype=float)
        if args.persist:  # the data already lives on the workers, as in-memory X does
            from dask.distributed import wait

            Xd = Xd.persist()
            wait(Xd)
        options = {k: v for k, v in (("partitions", args.partitions),
                                     ("split_every", args.split_every)) if v is not None}
        t_dask = float("inf")
        for _ in range(args.repeat):  # best of `repeat`, as for the single machine
            w0, s0 = client.run(time.process_time), client.run_on_scheduler(time.process_time)
            c0 = time.process_time()
            t0 = time.perf_counter()
            regions = glassnet.dask.unwrap(net, Xd, **options)
            t = time.perf_counter() - t0
            c = time.process_time() - c0
            w1, s1 = client.run(time.process_time), client.run_on_scheduler(time.process_time)
            if t < t_dask:
                t_dask, c_client, cpu_w, cpu_s = t, c, (w0, w1), s1 - s0
        w0, w1 = cpu_w
        worker_peaks = client.run(peak_rss_mib)
    w_cpu = [w1[a] - w0[a] for a in sorted(w0)]
    rate = args.rows / t_dask
    print(f"dask, {args.workers} workers x 1 thread (BLAS threads "
          f"{sorted({t for v in threads.values() for t in v})}): {args.rows:,} rows ("
          f"{'persisted' if args.persist else 'lazily generated'}, blocks of {args.chunk:,}) "
          f"in {t_dask:.2f} s = {rate:,.0f} rows/s; "
          f"{len(regions):,} regions; certificate {regions.max_abs_error:.2e}; workers' "
          f"MALLOC_TRIM_THRESHOLD_ {sorted(set(map(str, trim.values())))}")
    for addr, peak in sorted(worker_peaks.items()):
        print(f"  worker {addr}: peak RSS {peak:.0f} MiB")
    print(f"  client peak RSS {peak_rss_mib():.0f} MiB")
    # On a shared machine wall time mostly measures the other jobs; CPU seconds show what
    # the same run would take with a dedicated core per process: the busiest worker plus
    # the client's own part (which does not overlap the workers' for the most part).
    cpu_path = max(w_cpu) + c_client
    cpu_ratio = single["cpu"] / cpu_path * args.rows / single["rows"]
    print(f"  CPU seconds: single {single['cpu']:.2f}; workers "
          f"{', '.join(f'{c:.2f}' for c in w_cpu)}; client {c_client:.2f}; scheduler "
          f"{cpu_s:.2f}")
    print(f"throughput ratio dask / single machine: {rate / single_rate:.2f} (wall); "
          f"{cpu_ratio:.2f} (CPU seconds: single / (busiest worker + client))")
    return rate / single_rate, cpu_ratio, ceiling


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=["both", "random", "cocircles"], default="both")
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--single-rows", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--split-every", type=int, default=None)
    parser.add_argument("--dask-malloc", action="store_true",
                        help="keep Dask's MALLOC_TRIM_THRESHOLD_=65536 in the workers")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each side; the fastest (least disturbed) one counts")
    parser.add_argument("--persist", action=argparse.BooleanOptionalAction, default=True,
                        help="generate the rows on the workers before timing (default), as "
                             "the single machine's rows are in memory before timing")
    parser.add_argument("--single-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single_only:
        print(json.dumps(single_machine(args.single_rows, args.d, args.case, args.repeat,
                                        args.start_at)))
        return
    cases = ["cocircles", "random"] if args.case == "both" else [args.case]
    ratios = {case: run_case(case, args) for case in cases}
    labels = {"cocircles": "patterns repeat (CoCircles 4x40), target >= 1.5",
              "random": "every row its own region (d=10 3x32), target >= 1"}
    for case, (wall, cpu, ceiling) in ratios.items():
        print(f"issue 17 | Dask {args.workers} workers / one process, {labels[case]}: "
              f"{wall:.2f}x wall, {cpu:.2f}x from CPU seconds ({args.workers} plain processes "
              f"at once: {ceiling:.2f}x)")


if __name__ == "__main__":
    main()
