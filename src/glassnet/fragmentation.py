"""Say when a network's regions are too many and too small to explain anything.

A network can have almost as many activation regions as rows: every local linear model
then rests on one or two rows, and new rows fall in regions never seen in the data the
explanation was built on. Exactness does not help there; the explanation is a per-row
gradient. This module measures that and writes one sentence about it, used by
``Regions.__repr__`` and ``region_summary(...).attrs["caveats"]``.

Thresholds
----------
``TINY_REGION_SIZE = 5``: a region with fewer rows is *tiny*.
``TINY_SHARE_CAVEAT = 0.5``: the caveat is stated when at least half the rows sit in tiny
regions ("most rows").
``UNSEEN_SHARE_CAVEAT = 0.2``: it is stated when at least a fifth of new rows fall in
regions that hold none of the rows the regions were built from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TINY_REGION_SIZE = 5
TINY_SHARE_CAVEAT = 0.5
UNSEEN_SHARE_CAVEAT = 0.2

__all__ = [
    "TINY_REGION_SIZE",
    "TINY_SHARE_CAVEAT",
    "UNSEEN_SHARE_CAVEAT",
    "fragmentation_caveat",
    "tiny_region_share",
    "unseen_share",
]


def tiny_region_share(regions: Any, size: int = TINY_REGION_SIZE) -> float:
    """Share of the rows that sit in regions holding fewer than ``size`` rows."""
    counts = np.asarray(regions.counts)
    n = int(counts.sum())
    return float(counts[counts < size].sum() / n) if n else 0.0


def unseen_share(regions: Any, X: Any) -> float:
    """Share of the rows of ``X`` whose activation pattern is none of ``regions``' regions.

    ``X`` is in the network's inputs (for an estimator with categorical columns, its
    ``transform_inputs``). 0.0 for no rows.
    """
    labels = regions.assign(X)
    return float(np.mean(labels < 0)) if labels.size else 0.0


def fragmentation_caveat(regions: Any, X_new: Any = None) -> str | None:
    """One sentence with the figures when the regions are fragmented, else None.

    Stated when at least ``TINY_SHARE_CAVEAT`` of the rows sit in regions of fewer than
    ``TINY_REGION_SIZE`` rows, or (with ``X_new``) at least ``UNSEEN_SHARE_CAVEAT`` of the
    new rows fall in regions never seen in the rows the regions were built from.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, unwrap
    >>> from glassnet.fragmentation import fragmentation_caveat, tiny_region_share
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> regions = unwrap(net, np.array([[1.0, 2.0], [3.0, -1.0], [-1.0, -1.0]]))
    >>> tiny_region_share(regions)
    1.0
    >>> print(fragmentation_caveat(regions))
    Fragmented: 100.0% of the 3 rows sit in regions of fewer than 5 rows (3 regions), so ...
    """
    n = int(np.asarray(regions.counts).sum())
    tiny = tiny_region_share(regions)
    parts = []
    if n and tiny >= TINY_SHARE_CAVEAT:
        parts.append(
            f"{tiny:.1%} of the {n:,} rows sit in regions of fewer than {TINY_REGION_SIZE} rows "
            f"({len(regions):,} regions)"
        )
    if X_new is not None:
        unseen = unseen_share(regions, X_new)
        m = int(np.shape(X_new)[0])
        if m and unseen >= UNSEEN_SHARE_CAVEAT:
            parts.append(
                f"{unseen:.1%} of the {m:,} new rows fall in regions never seen among these rows"
            )
    if not parts:
        return None
    return (
        "Fragmented: " + " and ".join(parts) + ", so these local models rest on one or a few "
        "rows each; explain with a merged model (glassnet.RegionMerger) or an L1-penalised "
        "network (glassnet.l1_path) instead."
    )
