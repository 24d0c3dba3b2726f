"""Distributed unwrapping: Dask on a LocalCluster against single-machine ``unwrap``.

Run: ``.venv/bin/python benchmarks/dask_scaling.py`` (defaults: the issue's case).

Case: a random ReLU network with d=10 inputs and 3 hidden layers of 32 (He-scaled Gaussian
weights, one sigmoid output). ``--rows`` Gaussian rows (default 20M) are generated lazily
inside Dask (``da.random.default_rng``, blocks of ``--chunk`` rows) and unwrapped with
``glassnet.dask.unwrap`` on a ``LocalCluster`` of ``--workers`` worker processes with one
thread each (certificate included). In the same run, before the cluster starts,
``glassnet.unwrap`` unwraps ``--single-rows`` rows (default 2M) held in memory, in a child
process of its own so that its memory does not count as the client's.

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


def make_net(d: int, hidden: tuple[int, ...], seed: int = 0):
    from glassnet import ReluNetwork

    rng = np.random.default_rng(seed)
    sizes = (d, *hidden, 1)
    weights = [rng.normal(0, np.sqrt(2.0 / sizes[i]), size=(sizes[i + 1], sizes[i]))
               for i in range(len(sizes) - 1)]
    biases = [rng.normal(0, 0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(weights, biases, output="sigmoid")


def single_machine(rows: int, d: int) -> dict:
    import glassnet

    net = make_net(d, (32, 32, 32))
    X = np.random.default_rng(1).normal(size=(rows, d))
    t0 = time.perf_counter()
    regions = glassnet.unwrap(net, X)
    seconds = time.perf_counter() - t0
    return {"rows": rows, "seconds": seconds, "regions": len(regions),
            "error": regions.max_abs_error, "peak": peak_rss_mib()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--single-rows", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--split-every", type=int, default=None)
    parser.add_argument("--single-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single_only:
        print(json.dumps(single_machine(args.single_rows, args.d)))
        return

    net = make_net(args.d, (32, 32, 32))
    print(f"network {net}; BLAS threads per process: {os.environ['OMP_NUM_THREADS']}")
    child = subprocess.run(
        [sys.executable, __file__, "--single-only", "--single-rows", str(args.single_rows),
         "--d", str(args.d)], check=True, capture_output=True, text=True)
    single = json.loads(child.stdout.strip().splitlines()[-1])
    single_rate = single["rows"] / single["seconds"]
    print(f"single machine: {single['rows']:,} rows in {single['seconds']:.2f} s = "
          f"{single_rate:,.0f} rows/s; {single['regions']:,} regions; "
          f"certificate {single['error']:.2e}; peak RSS {single['peak']:.0f} MiB")

    import dask.array as da
    from dask.distributed import Client, LocalCluster

    import glassnet.dask

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        threads = client.run(blas_threads)  # also: workers up before timing
        Xd = da.random.default_rng(2).normal(size=(args.rows, args.d),
                                             chunks=(args.chunk, args.d))
        t0 = time.perf_counter()
        options = {k: v for k, v in (("partitions", args.partitions),
                                     ("split_every", args.split_every)) if v is not None}
        regions = glassnet.dask.unwrap(net, Xd, **options)
        t_dask = time.perf_counter() - t0
        worker_peaks = client.run(peak_rss_mib)
    rate = args.rows / t_dask
    print(f"dask, {args.workers} workers x 1 thread (BLAS threads "
          f"{sorted({t for v in threads.values() for t in v})}): {args.rows:,} rows (lazily "
          f"generated, blocks of {args.chunk:,}) in {t_dask:.2f} s = {rate:,.0f} rows/s; "
          f"{len(regions):,} regions; certificate {regions.max_abs_error:.2e}")
    for addr, peak in sorted(worker_peaks.items()):
        print(f"  worker {addr}: peak RSS {peak:.0f} MiB")
    print(f"  client peak RSS {peak_rss_mib():.0f} MiB")
    print(f"throughput ratio dask / single machine: {rate / single_rate:.2f}")


if __name__ == "__main__":
    main()
