"""Exact 2-D partition: glassnet.partition_2d against the Rust package ``regioncam``.

For random PyTorch networks (default initialisation after ``torch.manual_seed(0)``) of
widths 3x10, 3x20, 4x40, 6x64 and 4x100 on the box [-1, 1]^2, both tools receive the same
weights; the script prints the number of regions each finds, the wall time of each and
their ratio. regioncam is not a glassnet dependency, so run this in a separate
environment that has both; ``make bench-partition`` builds one (``.venv-bench``, glassnet's
pinned versions plus regioncam) and runs this script in it.

The script puts ``src/`` on ``sys.path``, so glassnet need not be installed there.
regioncam works in float32 (the torch weights are float32; glassnet reads the same values
into float64). Times are the best of ``--repeat`` runs (default 3), single process.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _timing import best_time  # noqa: E402

from glassnet.io import from_torch  # noqa: E402
from glassnet.partition import partition_2d  # noqa: E402

SHAPES = [(3, 10), (3, 20), (4, 40), (6, 64), (4, 100)]


def make_net(depth: int, width: int) -> torch.nn.Sequential:
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    d = 2
    for _ in range(depth):
        layers += [torch.nn.Linear(d, width), torch.nn.ReLU()]
        d = width
    layers.append(torch.nn.Linear(d, 1))
    return torch.nn.Sequential(*layers).eval()


def run_regioncam(module: torch.nn.Sequential) -> int:
    import regioncam

    rc = regioncam.Regioncam(size=1.0)  # the square [-1, 1]^2
    for layer in module:
        if isinstance(layer, torch.nn.Linear):
            # regioncam computes x @ weight + bias: pass W transposed, float32.
            w = np.ascontiguousarray(layer.weight.detach().numpy().T, dtype=np.float32)
            rc.linear(w, layer.bias.detach().numpy().astype(np.float32))
        elif isinstance(layer, torch.nn.ReLU):
            rc.relu()
    return int(rc.num_faces)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import regioncam
    except ImportError:
        sys.exit("regioncam is not installed here; see the top of this script.")
    print(f"regioncam {getattr(regioncam, '__version__', '(version unknown)')}, "
          f"torch {torch.__version__}, numpy {np.__version__}, threads {torch.get_num_threads()}")
    header = (f"{'net':>7} {'glassnet':>9} {'regioncam':>9} {'equal':>6} "
              f"{'t_glassnet':>11} {'t_regioncam':>12} {'ratio':>6} {'area err':>9}")
    print(header)
    print("-" * len(header))
    for depth, width in SHAPES:
        module = make_net(depth, width)
        net = from_torch(module)
        bounds = ((-1.0, 1.0), (-1.0, 1.0))
        t_gn, part = best_time(lambda n=net, b=bounds: partition_2d(n, b), args.repeat)
        t_rc, n_rc = best_time(lambda m=module: run_regioncam(m), args.repeat)
        area_err = abs(part.areas.sum() - 4.0) / 4.0
        print(f"{depth}x{width:<5} {len(part):>9} {n_rc:>9} {str(len(part) == n_rc):>6} "
              f"{1e3 * t_gn:>9.1f}ms {1e3 * t_rc:>10.1f}ms {t_gn / t_rc:>6.2f} {area_err:>9.1e}")


if __name__ == "__main__":
    main()
