"""The exact partition map of a 2-D box, as a scikit-learn style Display.

The partition itself (polygons, LLMs, decision segments, outputs at the centroids,
projection of rows onto a plane) is computed by :mod:`glassnet.partition`;
:class:`PartitionDisplay` only draws it. ``glassnet.partition.PartitionDisplay`` remains
an alias of this class.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.partition import Partition2D, partition_2d

__all__ = ["PartitionDisplay"]


class PartitionDisplay:
    """Partition map: every activation region of a 2-D box, coloured by its LLM.

    In the style of scikit-learn's Display objects: build with :meth:`from_network` or
    :meth:`from_partition` (which also plot), or construct and call :meth:`plot`.

    Parameters
    ----------
    partition : Partition2D
        The partition to draw (see :func:`glassnet.partition.partition_2d`).
    X : array-like of shape (n_samples, 2) or (n_samples, n_features), optional
        Data points to overlay. With a plane, rows are projected onto the plane (least
        squares) and drawn at their plane coordinates.
    y : array-like of shape (n_samples,), optional
        Labels or values colouring the points.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : matplotlib Axes
    regions_ : matplotlib PolyCollection
        The polygons.
    boundary_ : LineCollection or None
        The network's decision boundary.
    llm_lines_ : LineCollection or None
        The regions' own decision lines.
    scatter_ : PathCollection or None
        The data points.
    """

    def __init__(self, partition: Partition2D, *, X: Any = None, y: Any = None) -> None:
        if not isinstance(partition, Partition2D):
            raise TypeError(f"partition must be a Partition2D; got {type(partition).__name__}.")
        self.partition = partition
        self.X = X
        self.y = y

    @classmethod
    def from_network(
        cls,
        net: Any,
        bounds: Any,
        *,
        plane: tuple[Any, Any, Any] | None = None,
        threshold: float | None = None,
        X: Any = None,
        y: Any = None,
        ax: Any = None,
        **plot_kwargs: Any,
    ) -> PartitionDisplay:
        """Partition ``net`` over ``bounds``, then plot it.

        Parameters
        ----------
        net : ReluNetwork or any model :func:`glassnet.io.as_network` accepts
        bounds : ((x0, x1), (y0, y1))
        plane, threshold
            As in :func:`glassnet.partition.partition_2d`.
        X, y
            Data points to overlay (see the class).
        ax : matplotlib Axes, optional
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        PartitionDisplay
        """
        part = partition_2d(net, bounds, plane=plane, threshold=threshold)
        return cls(part, X=X, y=y).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_partition(
        cls, partition: Partition2D, *, X: Any = None, y: Any = None, ax: Any = None,
        **plot_kwargs: Any,
    ) -> PartitionDisplay:
        """Plot an existing :class:`~glassnet.partition.Partition2D`.

        Parameters
        ----------
        partition : Partition2D
        X, y
            Data points to overlay (see the class).
        ax : matplotlib Axes, optional
        **plot_kwargs
            Passed to :meth:`plot`.

        Returns
        -------
        PartitionDisplay
        """
        return cls(partition, X=X, y=y).plot(ax=ax, **plot_kwargs)

    def _points(self) -> np.ndarray | None:
        return None if self.X is None else self.partition.to_plane(self.X)

    def plot(
        self,
        ax: Any = None,
        *,
        color_by: str = "output",
        output: int = 0,
        cmap: Any = None,
        edgecolor: Any = "white",
        linewidth: float | None = None,
        alpha: float = 1.0,
        boundary: bool = True,
        llm_lines: Any = None,
        scatter_kwargs: dict | None = None,
    ) -> PartitionDisplay:
        """Draw the partition.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.
        color_by : {"output", "gradient", "region"}
            ``"output"``: the network's output (after the link) at the region's centroid,
            the predicted class for softmax; ``"gradient"``: the direction of the region's
            LLM gradient in the plane as hue, its size as lightness (regions with similar
            LLMs look alike); ``"region"``: one arbitrary distinct colour per region.
        output : int
            Which output colours the map with ``"output"``/``"gradient"``.
        cmap : str or Colormap, optional
        edgecolor, linewidth, alpha
            Polygon style; ``linewidth`` defaults to 0.3, or 0.1 above 1000 regions.
        boundary : bool
            Draw the network's decision boundary (black).
        llm_lines : None, "all" or array-like of int
            Draw these regions' own decision lines across the box (dashed).
        scatter_kwargs : dict, optional
            Passed to ``ax.scatter`` for the data points.

        Returns
        -------
        self
        """
        import matplotlib.pyplot as plt
        from matplotlib import colors as mcolors
        from matplotlib.collections import LineCollection, PolyCollection

        p = self.partition
        k = p.network.n_outputs
        if not (isinstance(output, (int, np.integer)) and 0 <= output < k):
            raise ValueError(f"output must be an integer in [0, {k}); got {output!r}.")
        if color_by not in ("output", "gradient", "region"):
            raise ValueError(
                f"color_by must be 'output', 'gradient' or 'region'; got {color_by!r}."
            )
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 6))
        else:
            fig = ax.figure
        if linewidth is None:
            linewidth = 0.3 if len(p) <= 1000 else 0.1
        facecolors = self._facecolors(color_by, output, cmap, mcolors, plt)
        polys = PolyCollection(
            p.vertices, facecolors=facecolors, edgecolors=edgecolor, linewidths=linewidth,
            alpha=alpha,
        )
        ax.add_collection(polys)
        self.boundary_ = None
        if boundary and len(p.decision_segments):
            self.boundary_ = LineCollection(p.decision_segments, colors="black", linewidths=1.5)
            ax.add_collection(self.boundary_)
        self.llm_lines_ = None
        if llm_lines is not None:
            regions = None if isinstance(llm_lines, str) and llm_lines == "all" else llm_lines
            segs, _ = p.llm_segments(regions)
            self.llm_lines_ = LineCollection(
                segs, colors="#00a000", linewidths=1.4, linestyles="--"
            )
            ax.add_collection(self.llm_lines_)
        self.scatter_ = None
        pts = self._points()
        if pts is not None:
            kw = {"s": 8, "edgecolors": "black", "linewidths": 0.2}
            if self.y is not None:
                kw.update(c=np.asarray(self.y), cmap="coolwarm")
            else:
                kw.update(color="black")
            kw.update(scatter_kwargs or {})
            self.scatter_ = ax.scatter(pts[:, 0], pts[:, 1], **kw)
        ax.set_xlim(*p.bounds[0])
        ax.set_ylim(*p.bounds[1])
        ax.set_aspect("equal", adjustable="box")
        names = p.network.feature_names or ("x0", "x1")
        ax.set_xlabel("a" if p.is_plane else names[0])
        ax.set_ylabel("b" if p.is_plane else names[1])
        ax.set_title(f"{len(p)} activation regions")
        self.regions_ = polys
        self.figure_, self.ax_ = fig, ax
        return self

    def _facecolors(self, color_by: str, output: int, cmap: Any, mcolors: Any, plt: Any):
        p = self.partition
        R = len(p)
        if color_by == "region":
            hue = (np.arange(R) * 0.618033988749895) % 1.0
            sat = 0.35 + 0.3 * ((np.arange(R) * 0.381966) % 1.0)
            return mcolors.hsv_to_rgb(np.stack([hue, sat, np.full(R, 0.95)], axis=1))
        if color_by == "gradient":
            g = p.plane_coef[:, output]
            hue = (np.arctan2(g[:, 1], g[:, 0]) / (2 * np.pi)) % 1.0
            size = np.linalg.norm(g, axis=1)
            ref = np.quantile(size, 0.95) if R else 1.0
            val = 0.35 + 0.6 * np.clip(size / ref if ref > 0 else 0 * size, 0, 1)
            return mcolors.hsv_to_rgb(np.stack([hue, np.full(R, 0.6), val], axis=1))
        out = p.centroid_outputs()
        if p.network.output == "softmax":
            cm = plt.get_cmap(cmap or "tab10")
            cls = out.argmax(axis=1)
            base = np.asarray(cm(cls % cm.N))[:, :3]
            conf = out.max(axis=1)[:, None]
            return 1.0 - (1.0 - base) * (0.3 + 0.7 * conf)
        val = out[:, output]
        if p.network.output == "sigmoid":
            norm = mcolors.Normalize(0.0, 1.0)
        else:
            hi = val.max() if val.max() > val.min() else val.min() + 1.0
            norm = mcolors.Normalize(val.min(), hi)
        return plt.get_cmap(cmap or "RdBu_r")(norm(val))
