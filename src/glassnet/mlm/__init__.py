"""Mixture of linear models co-supervised by a network: MLM-EPIC (Seo, Lin & Li, 2022).

:class:`MixtureOfLinearModels` explains *any* feed-forward network (ReLU or not; glassnet,
scikit-learn or PyTorch) by a small set of linear (or logistic) models, each valid in a region
of the input space, mixed with soft weights:

1. **Layer clustering.** The outputs of every hidden layer on the training rows are clustered
   (Gaussian mixture or k-means). A **cell** is an observed tuple of cluster labels across the
   layers: only the tuples that occur, not the whole Cartesian product.
2. **Co-supervised local models.** Around the mean ``x_k`` of each cell, ``m`` points
   ``v ~ N(x_k, eps * diag(s^2))`` are drawn (``s`` the features' standard deviations, so
   ``eps`` is a variance on standardised inputs) and labelled by the network. Each cell's
   model is fitted on its real rows with their true labels plus these perturbed rows with
   the network's labels.
3. **EPIC merging.** The mutual prediction disparity of cells ``s`` and ``t`` is
   ``d(s, t) = [sum over aug(s) + sum over aug(t) of (m_s - m_t)^2] / (n_s + n_t + 2m)``
   (``aug`` = real plus perturbed points). Hierarchical clustering on ``d`` merges cells into
   **EPICs** (explainable prediction-induced input clusters); each EPIC's model is refitted on
   the union of its cells' augmented points.
4. **Soft weights.** A Gaussian is fitted to each cell's rows (by default; shrunk towards the
   pooled within-cell covariance, see ``covariance_shrinkage``); EPIC ``j`` has
   density ``f_j(x) = sum_{k in j} (n_k / n_j) N(x; mu_k, Sigma_k)`` and weight
   ``gamma_j(x) ∝ pi_j f_j(x)``; the prediction is ``sum_j gamma_j(x) m_j(x)``.
5. **Interpretation.** EPIC coefficients (:meth:`MixtureOfLinearModels.coefficients`,
   :class:`MLMCoefficientDisplay`), a per-EPIC summary and readable rules from shallow
   decision trees (:meth:`MixtureOfLinearModels.rules`).

Computational notes
-------------------
All cell and EPIC models are fitted together: least squares from per-group sufficient
statistics (one batched eigen-solve), logistic and multinomial models by a batched Newton
method. The pairwise disparity never loops over pairs: for linear models it follows exactly
from each cell's mean and scatter matrix in a few matrix products; for classifiers every model
is evaluated on every augmented point in chunks (one matrix product per chunk) and the squared
probability differences are summed per cell with a sparse indicator matrix.

Layout: :mod:`glassnet.mlm.model` (the estimator's interface; ``fit`` calls the four steps in
order), :mod:`glassnet.mlm.rules` (coefficient tables, EPIC summary, readable rules), and
private modules for the four steps and the choice of ``n_epics`` (``_steps``), the network
adapter (``_network``), the batched linear algebra (``_linear``), the linkage tree
(``_epics``) and targets and splits (``_data``); the coefficient heatmap is a Display of
:mod:`glassnet.plotting.mlm`, re-exported here lazily (no matplotlib on import). The
parameter constraints are declared on the class (``_parameter_constraints``) and checked by
the helper every glassnet estimator shares (``glassnet._params``).
"""

from glassnet._lazy import lazy_attributes
from glassnet.mlm.model import MixtureOfLinearModels

# The public home of these classes is this package: saved files and pickles name
# ``glassnet.mlm:MixtureOfLinearModels`` (as before the package split), whichever private
# module defines them.
MixtureOfLinearModels.__module__ = __name__

__all__ = ["MLMCoefficientDisplay", "MixtureOfLinearModels"]

# the Display's home is glassnet.plotting.mlm (layer 6); the old name resolves lazily here
_LAZY = {"MLMCoefficientDisplay": "glassnet.plotting.mlm"}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
