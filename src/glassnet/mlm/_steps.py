"""The four steps of MLM-EPIC and the choice of the number of EPICs (private).

:class:`StepsMixin` holds the steps that :meth:`MixtureOfLinearModels.fit
<glassnet.mlm.MixtureOfLinearModels.fit>` runs in order: cluster every hidden layer's outputs
into cells (``_cluster_layers``), draw and label perturbed points around each cell
(``_co_supervise``), fit the cell models (``_fit_models`` of :mod:`glassnet.mlm._data`) and
merge the cells into EPICs with their soft weights (``_merge_into_epics``); and, for
``n_epics="auto"``, the same steps on part of the rows scored on the rest
(``_choose_n_epics``, ``_select_n_epics``). ``model.py`` keeps the estimator's interface.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassnet.mlm import _linear as lin
from glassnet.mlm._epics import (
    cell_posterior_terms,
    cut_tree,
    linkage_matrix,
    merged_posterior,
    merged_start,
    mixture_loss,
    renumber_by_size,
)
from glassnet.mlm._network import NetworkAdapter

__all__ = ["StepsMixin"]


@dataclass
class _Augmented:
    """The co-supervision data of one fit, in standardised inputs ``Z``.

    ``T`` the targets (true labels of real rows, network predictions of perturbed points),
    ``cell`` the cell of each point, ``stats`` the cells' sufficient statistics over all
    points and ``stats_real`` over the real rows only (their means centre the perturbations).
    """

    Z: np.ndarray
    T: np.ndarray
    cell: np.ndarray
    n_cells: int
    stats: lin.GroupStats
    stats_real: lin.GroupStats


class StepsMixin:
    """The four steps of the fit and the held-out choice of ``n_epics``."""

    def _choose_n_epics(
        self, adapter: NetworkAdapter, X: np.ndarray, Y: np.ndarray, y: Any, rng: Any
    ) -> tuple[int, pd.DataFrame]:
        """Run the four steps on ``1 - validation_fraction`` of the rows; pick ``n_epics``.

        Every number of EPICs on a geometric grid is scored on the held-out rows, next to the
        network's own held-out loss (see :meth:`_select_n_epics` for the rule).
        """
        fit_idx, val_idx = self._split(X.shape[0], y, rng)
        cell_of_row = self._cluster_layers(adapter, X[fit_idx], Y[fit_idx], rng)
        aug = self._co_supervise(adapter, X[fit_idx], Y[fit_idx], cell_of_row, rng)
        B_cell = self._fit_models(aug.stats, aug.Z, aug.T, aug.cell, aug.n_cells)
        _, link_matrix = self._cell_tree(aug, B_cell)
        self._fit_soft_weights(aug)
        Zv = (X[val_idx] - self.feature_mean_) / self.feature_scale_
        _, net_v = adapter.run(X[val_idx], hidden=False, task=self.task_)
        net_loss = mixture_loss(self._network_targets(net_v), Y[val_idx], self._kind)
        return self._select_n_epics(link_matrix, aug, B_cell, Zv, Y[val_idx], net_loss)

    def _timed(self, step: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        out = func(*args, **kwargs)
        self.fit_times_[step] = self.fit_times_.get(step, 0.0) + time.perf_counter() - t0
        return out

    def _cluster_layers(
        self, adapter: NetworkAdapter, Xf: np.ndarray, Yf: np.ndarray, rng: Any
    ) -> np.ndarray:
        """Step 1: cluster each hidden layer's outputs; a cell is an observed label tuple."""
        hidden, net_f = self._timed("network", adapter.run, Xf, hidden=True,
                                    task=self.task_)
        if len(hidden) == 0:
            raise ValueError(
                "The network has no hidden layers (no activation modules were run), so there "
                "is nothing to cluster; a mixture of linear models needs at least one."
            )
        self._check_network_output(net_f, Yf)
        self._y_fit, self._net_fit = Yf, net_f
        t0 = time.perf_counter()
        ks = self._layer_ks(len(hidden), Xf.shape[0])
        self.n_layers_ = len(hidden)
        self.layer_clusterers_ = []
        layer_labels = np.empty((Xf.shape[0], len(hidden)), dtype=np.int64)
        for i, (H, k) in enumerate(zip(hidden, ks, strict=True)):
            est = self._make_clusterer(k, rng.randint(np.iinfo(np.int32).max))
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*[Cc]onverge.*")
                layer_labels[:, i] = est.fit_predict(H)
            self.layer_clusterers_.append(est)
        self.cells_, cell_of_row, self.cell_counts_ = np.unique(
            layer_labels, axis=0, return_inverse=True, return_counts=True
        )
        self.cell_labels_ = cell_of_row.ravel()
        self.fit_times_["layer_clustering"] = time.perf_counter() - t0
        return self.cell_labels_

    def _co_supervise(
        self, adapter: NetworkAdapter, Xf: np.ndarray, Yf: np.ndarray, cell_of_row: np.ndarray,
        rng: Any,
    ) -> _Augmented:
        """Step 2: perturbed points around each cell mean, labelled by the network."""
        t0 = time.perf_counter()
        C, d = self.cells_.shape[0], Xf.shape[1]
        mean = Xf.mean(axis=0)
        std = Xf.std(axis=0)
        varying = std > 1e-12 * np.maximum(1.0, np.abs(mean))
        scale = np.where(varying, std, 1.0)
        self.feature_mean_, self.feature_scale_ = mean, scale
        Zf = (Xf - mean) / scale
        m = int(self.n_perturb)
        stats_real = lin.group_stats(Zf, Yf[:, :1], cell_of_row, C)
        if m > 0:
            noise = rng.standard_normal((C * m, d)) * (np.sqrt(self.perturb_var) * varying)
            Zp = np.repeat(stats_real.zbar, m, axis=0) + noise
            _, Tp = adapter.run(mean + Zp * scale, hidden=False, task=self.task_)
            Tp = self._network_targets(Tp)
        else:
            Zp, Tp = np.empty((0, d)), np.empty((0, Yf.shape[1]))
        Z = np.concatenate([Zf, Zp])
        T = np.concatenate([Yf, Tp])
        cell = np.concatenate([cell_of_row, np.repeat(np.arange(C), m)])
        self.augmented_X_ = mean + Z * scale
        self.augmented_y_ = T if T.shape[1] > 1 else T[:, 0]
        self.augmented_cell_ = cell
        self.augmented_is_real_ = np.arange(Z.shape[0]) < Zf.shape[0]
        stats = lin.group_stats(Z, T, cell, C)
        self.fit_times_["perturbation"] = time.perf_counter() - t0
        return _Augmented(Z, T, cell, C, stats, stats_real)

    def _fit_cell_models(self, aug: _Augmented) -> np.ndarray:
        """Step 3: one co-supervised linear (or logistic) model per cell, batched."""
        return self._timed("cell_models", self._fit_models, aug.stats, aug.Z, aug.T, aug.cell,
                           aug.n_cells)

    def _cell_tree(self, aug: _Augmented, B_cell: np.ndarray) -> tuple[np.ndarray, ...]:
        """Mutual prediction disparity of the cells and its hierarchical clustering."""
        if self._kind == "identity" and self.penalty is None:
            D = self._timed("disparity", lin.disparity_regression, aug.stats, B_cell)
        else:
            D = self._timed("disparity", lin.disparity_points, B_cell, aug.Z, aug.cell,
                            self._kind)
        return D, self._timed("linkage", linkage_matrix, D, self.linkage)

    def _fit_soft_weights(self, aug: _Augmented) -> None:
        """Gaussian of every cell (its real rows or augmented points) for the soft weights."""
        self._cell_means, self._cell_prec = lin.gaussian_params(
            aug.stats_real if self.covariance_source == "real" else aug.stats,
            self.covariance_type, self.reg_covar, self.covariance_shrinkage,
        )

    def _merge_into_epics(self, aug: _Augmented, B_cell: np.ndarray, n_epics: int) -> None:
        """Step 4: disparity -> linkage tree -> EPICs and their models; soft weights."""
        C, counts = aug.n_cells, self.cell_counts_
        D, link_matrix = self._cell_tree(aug, B_cell)
        self._fit_soft_weights(aug)
        t0 = time.perf_counter()
        J = int(n_epics)
        if J > C:
            warnings.warn(
                f"n_epics={J} is larger than the number of cells ({C}); using {C} EPICs.",
                UserWarning, stacklevel=3,
            )
            J = C
        epics = renumber_by_size(cut_tree(link_matrix, C, J), counts, J)
        B_epic = self._fit_models(lin.merge_stats(aug.stats, epics, J), aug.Z, aug.T,
                                  epics[aug.cell], J, merged_start(B_cell, epics, counts, J))
        self.fit_times_["epics"] = time.perf_counter() - t0
        self.disparity_, self.linkage_ = D, link_matrix
        self.epics_, self.n_epics_ = epics, J
        self.epic_counts_ = np.bincount(epics, weights=counts, minlength=J).astype(np.int64)
        self._B_cell, self._B_epic = B_cell, B_epic
        self.cell_coef_, self.cell_intercept_ = self._to_original_units(B_cell)
        self.coef_, self.intercept_ = self._to_original_units(B_epic)


    def _select_n_epics(
        self, link_matrix: np.ndarray, aug: _Augmented, B_cell: np.ndarray, Zv: np.ndarray,
        Yv: np.ndarray, network_loss: float,
    ) -> tuple[int, pd.DataFrame]:
        """Held-out loss for a geometric grid of EPIC counts, and the count chosen.

        The rule keeps the mixture close to the network: with ``L_J`` the held-out loss of
        ``J`` EPICs, ``L_net`` the network's, ``E_J = L_J - L_net`` and ``E = min_J E_J``, the
        smallest ``J`` with ``E_J <= E + selection_tol * max(E, 0.05 L_net)`` is chosen: its
        excess over the network is within ``selection_tol`` of the smallest reachable, an
        excess under 5% of the network's loss counting as 5%.
        """
        C, counts = aug.n_cells, self.cell_counts_
        grid = np.unique(np.round(np.geomspace(1, C, num=min(C, 25))).astype(int))
        terms = cell_posterior_terms(
            lin.gaussian_log_density(Zv, self._cell_means, self._cell_prec,
                                     self.covariance_type), counts)
        scores = []
        for J in map(int, grid):
            epics = cut_tree(link_matrix, C, J)
            B = self._fit_models(lin.merge_stats(aug.stats, epics, J), aug.Z, aug.T,
                                 epics[aug.cell], J, merged_start(B_cell, epics, counts, J))
            post = merged_posterior(terms, epics, J, counts, self.prior)
            resp = lin.link(lin.predict_all(B, Zv), self._kind)  # (n, J, K)
            if self.weights == "hard":
                resp = resp[np.arange(Zv.shape[0]), post.argmax(axis=1)]
            else:
                resp = np.einsum("ng,ngk->nk", post, resp)
            scores.append(mixture_loss(resp, Yv, self._kind))
        scores = np.asarray(scores)
        excess = scores - network_loss
        best = float(excess.min())
        # an excess below 5% of the network's own loss counts as 5% of it: a mixture that
        # (nearly) matches the network keeps a little room to merge instead of every cell
        allowed = best + self.selection_tol * max(best, 0.05 * abs(network_loss))
        J = int(grid[np.argmax(excess <= allowed + 1e-12 * abs(network_loss))])
        return J, pd.DataFrame({"n_epics": grid, "validation_loss": scores,
                                "network_loss": network_loss})

