"""Say when a network's regions are too many and too small to explain anything.

A network can have almost as many activation regions as rows: every local linear model
then rests on one or two rows, and new rows fall in regions never seen in the data the
explanation was built on. Exactness does not help there; the explanation is a per-row
gradient. This module measures that and writes one sentence about it, used by
``region_summary(...).attrs["caveats"]``; ``Regions.__repr__`` states the part that needs
only the region counts. The thresholds, :func:`tiny_region_share` and the sentence itself
(:func:`glassnet.regions.fragmentation_text`) are defined in :mod:`glassnet.regions`, next
to the counts they read, and re-exported here.

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

# the thresholds, the tiny-region share and the sentence sit with the counts they read in
# glassnet.regions (Regions.__repr__ states the caveat too); re-exported here, their old home
from glassnet.regions import (
    TINY_REGION_SIZE,
    TINY_SHARE_CAVEAT,
    UNSEEN_SHARE_CAVEAT,
    fragmentation_text,
    tiny_region_share,
)

__all__ = [
    "TINY_REGION_SIZE",
    "TINY_SHARE_CAVEAT",
    "UNSEEN_SHARE_CAVEAT",
    "fragmentation_caveat",
    "tiny_region_share",
    "unseen_share",
]


def unseen_share(regions: Any, X: Any) -> float:
    """Share of the rows of ``X`` whose activation pattern is none of ``regions``' regions.

    ``X`` is in the network's inputs (for an estimator with categorical columns, its
    ``transform_inputs``). 0.0 for no rows. The same as :meth:`Regions.unseen_share
    <glassnet.Regions.unseen_share>`, which computes it.
    """
    return regions.unseen_share(X)


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
    m, unseen = 0, 0.0
    if X_new is not None:  # validated by assign, as the regions' own rows were
        unseen = unseen_share(regions, X_new)
        m = int(np.shape(X_new)[0])
    return fragmentation_text(n, len(regions), tiny_region_share(regions), m, unseen)
