"""How far each row's explanation holds: its distance to the boundary of its own region.

A row's local linear model (its exact explanation) holds until the input crosses the nearest
hyperplane of some neuron; :func:`glassnet.boundary_distance` gives that distance exactly.
:func:`explanation_stability` summarises it over rows the way a validator reads it:
quantiles, the share of rows closer than a few thresholds, which hidden layer's neuron bounds
the region, and the distances within the largest regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.regions import Regions

__all__ = ["ExplanationStability", "explanation_stability"]

QUANTILES = np.array([0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0])
QUANTILE_NAMES = ["min", "1%", "5%", "10%", "25%", "median", "75%", "90%", "95%", "99%",
                  "max"]
THRESHOLDS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0)


@dataclass
class ExplanationStability:
    """What :func:`explanation_stability` measured.

    Attributes
    ----------
    distances : ndarray of shape (n_used,)
        Distance of each row used to its region's boundary, in ``unit``.
    raw_distances : ndarray of shape (n_used,)
        The same in the features' own units.
    neuron : ndarray of shape (n_used,)
        Flat index of the hidden neuron whose hyperplane is nearest (-1: none bounds it).
    unit : str
        ``"standard deviations"`` or ``"feature units"``.
    n_rows, n_used : int
        Rows given, and rows used (a uniform sample when there were more than ``max_rows``).
    quantiles : DataFrame
        ``quantile`` and the distance at it (and in feature units when standardised).
    close : DataFrame
        Rows (count and share) closer than each threshold, in ``unit``.
    layers : DataFrame
        Rows whose nearest boundary belongs to each hidden layer.
    per_region : DataFrame or None
        For a :class:`~glassnet.Regions`: the ``top`` largest regions' distance quantiles.
    """

    distances: np.ndarray
    raw_distances: np.ndarray
    neuron: np.ndarray
    unit: str
    n_rows: int
    n_used: int
    quantiles: pd.DataFrame
    close: pd.DataFrame
    layers: pd.DataFrame
    per_region: pd.DataFrame | None = None

    @property
    def standardized(self) -> bool:
        return self.unit == "standard deviations"


def explanation_stability(
    model: Any,
    X: Any,
    *,
    max_rows: int = 10_000,
    standardize: bool = True,
    top: int = 10,
    random_state: int = 0,
) -> ExplanationStability:
    """Distance of each row to the boundary of its activation region, summarised.

    Parameters
    ----------
    model : Regions, ReluNetwork or a model :func:`glassnet.io.as_network` accepts
        With a :class:`~glassnet.Regions`, the ``top`` largest regions get their own row.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The rows (the unwrapped rows, or any rows to check).
    max_rows : int, default 10000
        At most this many rows are used: a uniform random sample (``random_state``) when
        there are more, so the time is bounded whatever the data size.
    standardize : bool, default True
        Measure distances after dividing each feature by its standard deviation on the rows
        used, so features on different scales count alike (the distance in the features'
        own units is kept too).
    top : int, default 10
        Regions in ``per_region`` (only when ``model`` is a ``Regions``).
    random_state : int, default 0

    Returns
    -------
    ExplanationStability
    """
    from glassnet.geometry import boundary_distance

    regions = model if isinstance(model, Regions) else None
    net = regions.network if regions is not None else as_network(model)
    if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or (
        max_rows < 1
    ):
        raise ValueError(f"max_rows must be a positive integer; got {max_rows!r}.")
    Xa = net.check_input(X)
    n = Xa.shape[0]
    if n == 0:
        raise ValueError("explanation_stability needs at least one row.")
    if n > max_rows:
        idx = np.sort(np.random.default_rng(random_state).choice(n, max_rows, replace=False))
        Xa = Xa[idx]
    m = Xa.shape[0]
    raw, raw_neuron = boundary_distance(net, Xa, return_neuron=True)
    if standardize:
        sd = Xa.std(axis=0)
        scale = np.where(sd > 0, sd, 1.0)
        # the same network on inputs divided by their sd: distances in sd units
        scaled = ReluNetwork([net.weights[0] * scale, *net.weights[1:]], list(net.biases),
                             output=net.output)
        dist, neuron = boundary_distance(scaled, Xa / scale, return_neuron=True)
        unit = "standard deviations"
    else:
        dist, neuron, unit = raw, raw_neuron, "feature units"

    cols = {"quantile": QUANTILE_NAMES,
            f"distance ({unit})": np.quantile(dist, QUANTILES, method="inverted_cdf")}
    if standardize:
        cols["distance (feature units)"] = np.quantile(raw, QUANTILES, method="inverted_cdf")
    close = pd.DataFrame({
        f"closer than ({unit})": list(THRESHOLDS),
        "rows": [int((dist < t).sum()) for t in THRESHOLDS],
        "share of rows": [float((dist < t).mean()) for t in THRESHOLDS],
    })
    sizes = np.cumsum(net.hidden_sizes) if net.n_hidden else np.zeros(0, dtype=int)
    layer = np.where(neuron >= 0, np.searchsorted(sizes, neuron, side="right") + 1, 0)
    lay_vals, lay_counts = np.unique(layer, return_counts=True)
    layers = pd.DataFrame({
        "layer of the nearest neuron": [f"hidden layer {v}" if v else
                                        "none (no neuron bounds the region)"
                                        for v in lay_vals],
        "rows": lay_counts,
        "share of rows": lay_counts / m,
    })
    per_region = None
    if regions is not None and top > 0:
        lab = regions.assign(Xa)
        rows = []
        for r in range(min(top, len(regions))):
            d_r = dist[lab == r]
            rows.append({
                "region": r, "count": int(regions.counts[r]), "rows used": d_r.size,
                "min": float(d_r.min()) if d_r.size else np.nan,
                "10%": float(np.quantile(d_r, 0.1, method="inverted_cdf"))
                if d_r.size else np.nan,
                "median": float(np.median(d_r)) if d_r.size else np.nan,
            })
        per_region = pd.DataFrame(rows)
    return ExplanationStability(dist, raw, neuron, unit, n, m, pd.DataFrame(cols), close,
                                layers, per_region)

