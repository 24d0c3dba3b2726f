"""glassnet: deep ReLU networks as exact, inspectable local linear models.

The core (:class:`ReluNetwork`, :func:`unwrap`, :class:`Regions`) is imported eagerly; the
rest is imported on first use, so ``import glassnet`` stays fast and torch, statsmodels and
matplotlib are loaded only by the features that need them.
"""

from __future__ import annotations

from glassnet._lazy import lazy_attributes
from glassnet.network import ReluNetwork
from glassnet.regions import Regions

# binds the function over the submodule of the same name (use importlib for the module)
from glassnet.unwrap import unwrap

__version__ = "0.1.0"

# public name -> module that defines it (imported lazily on first attribute access)
_LAZY = {
    # training (F2, F9)
    "ReluNetClassifier": "glassnet.estimators",
    "ReluNetRegressor": "glassnet.estimators",
    "l1_path": "glassnet.simplify.l1path",
    "L1Path": "glassnet.simplify.l1path",
    # analysis (F4-F7)
    "local_contributions": "glassnet.summary",
    "feature_importance": "glassnet.summary",
    "coefficient_distribution": "glassnet.summary",
    "region_inference": "glassnet.summary",
    "region_summary": "glassnet.summary",
    "region_halfspaces": "glassnet.geometry",
    "boundary_distance": "glassnet.geometry",
    "partition_2d": "glassnet.partition",
    "Partition2D": "glassnet.partition",
    # simplification (F8)
    "RegionMerger": "glassnet.simplify.merge",
    "RegionPruner": "glassnet.simplify.prune",
    "flatten": "glassnet.simplify",
    # mixture of linear models (F10)
    "MixtureOfLinearModels": "glassnet.mlm",
    # single decisions (issue 16)
    "reason_codes": "glassnet.decisions.reasons",
    "certify_monotone": "glassnet.decisions.monotone",
    "output_bounds": "glassnet.decisions.monotone",
    "counterfactual": "glassnet.decisions.recourse",
    "recourse_audit": "glassnet.decisions.recourse",
    # product (F11, F12)
    "Report": "glassnet.report",
    "region_stability": "glassnet.monitor",
    "surrogate_fidelity": "glassnet.outcomes",
    "save": "glassnet.persist",
    "load": "glassnet.persist",
}
_SUBMODULES = {"datasets", "plotting", "dask", "io", "summary", "geometry", "partition", "mlm",
               "simplify", "estimators", "report", "persist",
               "diagnose", "decisions", "explain", "inference", "fragmentation",
               "monitor", "outcomes"}

__all__ = ["ReluNetwork", "Regions", "unwrap", "__version__", *sorted(_LAZY)]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals(), _SUBMODULES)
