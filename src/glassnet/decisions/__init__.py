"""Exact answers about single decisions of a ReLU network.

* :func:`reason_codes` / :func:`path_attributions`: exact integrated gradients along the
  segment from a reference, summing to the change of the output to rounding error;
* :func:`min_flip_distance`: the smallest input change that changes the decision;
* :func:`counterfactual` / :func:`recourse_audit`: the cheapest constrained change that
  reaches a target decision, and the share of declined rows that have one;
* :func:`certify_monotone`, :func:`monotonicity_table`, :func:`output_bounds`: proofs (or
  verified counterexamples) over an input box.

Which class is favourable (approved) is one library-wide default,
:data:`~glassnet.decisions.favorable.DEFAULT_FAVORABLE` = 0: class 1 is the modelled event
(a default), see :mod:`glassnet.decisions.favorable`.

The exact questions are mixed-integer programs over the network's activation patterns,
solved by HiGHS through :func:`scipy.optimize.milp` (see :mod:`glassnet.decisions._milp`).
"""

from __future__ import annotations

from glassnet._lazy import lazy_attributes

_LAZY = {
    "reason_codes": "glassnet.decisions.reasons",
    "path_attributions": "glassnet.decisions.reasons",
    "min_flip_distance": "glassnet.decisions.flip",
    "counterfactual": "glassnet.decisions.recourse",
    "recourse_audit": "glassnet.decisions.recourse",
    "Counterfactuals": "glassnet.decisions.recourse",
    "RecourseAudit": "glassnet.decisions.recourse",
    "Constraints": "glassnet.decisions.constraints",
    "load_constraints": "glassnet.decisions.constraints",
    "certify_monotone": "glassnet.decisions.monotone",
    "monotonicity_table": "glassnet.decisions.monotone",
    "output_bounds": "glassnet.decisions.monotone",
    "region_signs": "glassnet.decisions.monotone",
    "MonotoneCertificate": "glassnet.decisions.monotone",
    "OutputBounds": "glassnet.decisions.monotone",
    "DEFAULT_FAVORABLE": "glassnet.decisions.favorable",
    "favorable_note": "glassnet.decisions.favorable",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
