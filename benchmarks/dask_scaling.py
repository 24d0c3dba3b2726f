"""Distributed unwrapping: Dask on a LocalCluster against single-machine ``unwrap``.

Run: ``.venv/bin/python benchmarks/dask_scaling.py`` (defaults: the issue's case).

Case: a random ReLU network with d=10 inputs and 3 hidden layers of 32 (He-scaled Gaussian
weights, one sigmoid output). ``--rows`` Gaussian rows (default 20M) are generated lazily
inside Dask (``da.random.default_rng``, blocks of ``--chunk`` rows) and unwrapped with
``glassnet.dask.unwrap`` on a ``LocalCluster`` of ``--workers`` worker processes with one
thread each (certificate included). In the same run, ``glassnet.unwrap`` unwraps
``--single-rows`` rows (default 2M) held in memory in this process.

Printed: rows per second of both, the number of regions, and the peak resident memory
(``ru_maxrss``) of each worker process and of the client process. BLAS is limited to one
thread per process, so the single-machine figure uses one core and the cluster one core
per worker.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_net(d: int, hidden: tuple[int, ...], seed: int = 0):
    from glassnet import ReluNetwork

    rng = np.random.default_rng(seed)
    sizes = (d, *hidden, 1)
    weights = [rng.normal(0, np.sqrt(2.0 / sizes[i]), size=(sizes[i + 1], sizes[i]))
               for i in range(len(sizes) - 1)]
    biases = [rng.normal(0, 0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(weights, biases, output="sigmoid")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--single-rows", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--d", type=int, default=10)
    args = parser.parse_args()

    import dask.array as da
    from dask.distributed import Client, LocalCluster

    import glassnet
    import glassnet.dask

    net = make_net(args.d, (32, 32, 32))
    print(f"network {net}; BLAS threads per process: {os.environ['OMP_NUM_THREADS']}")

    X = np.random.default_rng(1).normal(size=(args.single_rows, args.d))
    t0 = time.perf_counter()
    single = glassnet.unwrap(net, X)
    t_single = time.perf_counter() - t0
    del X
    print(f"single machine: {args.single_rows:,} rows in {t_single:.2f} s = "
          f"{args.single_rows / t_single:,.0f} rows/s; {len(single):,} regions; "
          f"certificate {single.max_abs_error:.2e}; client peak RSS {peak_rss_mib():.0f} MiB")
    del single

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        client.run(lambda: None)  # workers up before timing
        Xd = da.random.default_rng(2).normal(size=(args.rows, args.d),
                                             chunks=(args.chunk, args.d))
        t0 = time.perf_counter()
        regions = glassnet.dask.unwrap(net, Xd)
        t_dask = time.perf_counter() - t0
        worker_peaks = client.run(peak_rss_mib)
    print(f"dask, {args.workers} workers: {args.rows:,} rows (lazily generated, blocks of "
          f"{args.chunk:,}) in {t_dask:.2f} s = {args.rows / t_dask:,.0f} rows/s; "
          f"{len(regions):,} regions; certificate {regions.max_abs_error:.2e}")
    for addr, peak in sorted(worker_peaks.items()):
        print(f"  worker {addr}: peak RSS {peak:.0f} MiB")
    print(f"  client peak RSS {peak_rss_mib():.0f} MiB")
    print(f"throughput ratio dask / single machine: "
          f"{(args.rows / t_dask) / (args.single_rows / t_single):.2f}")


if __name__ == "__main__":
    main()
