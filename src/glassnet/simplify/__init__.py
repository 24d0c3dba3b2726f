"""Simplification of unwrapped networks: merging, pruning, flattening, L1 paths.

- :class:`RegionMerger`: cluster the regions' local linear models into a few merged regions
  (count chosen by cross-validation) and refit one GLM per merged region;
- :class:`RegionPruner`: keep the largest regions, attach the others to the nearest one;
- :func:`flatten`: turn a merger into a fine-tuned one-hidden-layer ReLU network;
- :func:`l1_path`: retrain with increasing L1 penalties and watch the region count fall.

Submodules are imported on first use, so ``import glassnet.simplify`` does not load torch.
"""

from __future__ import annotations

from glassnet._lazy import lazy_attributes

_LAZY = {
    "RegionMerger": "glassnet.simplify.merge",
    "MergeCVDisplay": "glassnet.plotting.simplify",
    "MergeDendrogramDisplay": "glassnet.plotting.simplify",
    "RegionPruner": "glassnet.simplify.prune",
    "flatten": "glassnet.simplify._flatten",
    "l1_path": "glassnet.simplify.l1path",
    "L1Path": "glassnet.simplify.l1path",
}
__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
