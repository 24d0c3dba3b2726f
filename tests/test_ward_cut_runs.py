"""Cutting a Ward tree from its dendrogram runs (``cut_runs``) against a replay of the merges.

The oracle replays the first ``R - K`` merges with a union-find written here and numbers the
clusters by their smallest leaf, as :func:`glassnet.simplify._ward.cut_tree` documents.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.simplify._ward import (
    Hierarchy,
    NeighbourGraph,
    _dendrogram_runs,
    cut_runs,
    cut_tree,
    dendrogram_order,
    weighted_ward_tree,
)
from glassnet.simplify.merge import connectivity_edges


def replay_cut(children: np.ndarray, R: int, K: int) -> np.ndarray:
    owner = list(range(2 * R - 1))

    def find(a: int) -> int:
        while owner[a] != a:
            a = owner[a]
        return a

    for m, (a, b) in enumerate(children[: R - K].tolist()):
        owner[find(a)] = R + m
        owner[find(b)] = R + m
    roots = [find(i) for i in range(R)]
    smallest: dict[int, int] = {}
    for i, r in enumerate(roots):
        smallest.setdefault(r, i)
    number = {r: k for k, r in enumerate(sorted(smallest, key=smallest.get))}
    return np.array([number[r] for r in roots], dtype=np.int64)


def random_tree(rng: np.random.Generator, R: int, k: int | None) -> np.ndarray:
    P = rng.normal(size=(R, 2))
    w = rng.integers(1, 6, size=R).astype(float)
    return weighted_ward_tree(P, w, connectivity_edges(P, k))[0]


@settings(max_examples=60, deadline=None)
@given(R=st.integers(2, 70), k=st.sampled_from([1, 2, 5, None]), seed=st.integers(0, 2**32 - 1))
def test_cut_runs_equals_the_replayed_merges_for_every_count(R, k, seed):
    children = random_tree(np.random.default_rng(seed), R, k)
    runs = _dendrogram_runs(children, R)
    for K in range(1, R + 1):
        expected = replay_cut(children, R, K)
        got = cut_runs(runs, children, K)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(cut_tree(children, R, K), expected)


def test_runs_hold_every_node_as_one_block_of_the_order():
    rng = np.random.default_rng(3)
    R = 40
    children = random_tree(rng, R, 3)
    order, start, size = _dendrogram_runs(children, R)
    assert sorted(order.tolist()) == list(range(R))
    # one entry per node of the tree, no more: R leaves and R - 1 merges
    assert start.shape == size.shape == (2 * R - 1,)
    leaves: dict[int, set[int]] = {i: {i} for i in range(R)}
    for m, (a, b) in enumerate(children.tolist()):
        leaves[R + m] = leaves[a] | leaves[b]
    for node, members in leaves.items():
        assert size[node] == len(members)
        assert set(order[start[node]: start[node] + size[node]].tolist()) == members


@pytest.mark.parametrize("R", [1, 2])
def test_tiny_trees(R):
    children = np.zeros((0, 2), dtype=np.int64) if R == 1 else np.array([[0, 1]])
    runs = _dendrogram_runs(children, R)
    for K in range(1, R + 1):
        np.testing.assert_array_equal(cut_runs(runs, children, K), replay_cut(children, R, K))


def test_hierarchy_cuts_as_the_replay():
    rng = np.random.default_rng(5)
    R, n = 30, 400
    labels = rng.integers(0, R, size=n)
    F = rng.normal(size=(R, 3))
    tree = Hierarchy(labels, F, R, NeighbourGraph(rng.normal(size=(R, 2)), 4))
    for K in (1, 2, 7, tree.n_leaves):
        np.testing.assert_array_equal(tree.cut(K), replay_cut(tree.children, tree.n_leaves, K))


def _blocks_are_contiguous(order: np.ndarray, children: np.ndarray, R: int) -> bool:
    position = np.empty(R, dtype=np.int64)
    position[order] = np.arange(R)
    leaves: dict[int, list[int]] = {i: [i] for i in range(R)}
    for m, (a, b) in enumerate(children.tolist()):
        leaves[R + m] = leaves[a] + leaves[b]
        p = position[leaves[R + m]]
        if p.max() - p.min() + 1 != p.size:
            return False
    return True


def test_dendrogram_order_and_leaf_order_keep_every_node_one_block():
    rng = np.random.default_rng(11)
    R, n = 35, 500
    labels = rng.integers(0, R, size=n)
    tree = Hierarchy(labels, rng.normal(size=(R, 3)), R,
                     NeighbourGraph(rng.normal(size=(R, 2)), 3))
    for order in (tree.leaf_order(), dendrogram_order(tree.children, tree.n_leaves)):
        assert sorted(np.asarray(order).tolist()) == list(range(tree.n_leaves))
        assert _blocks_are_contiguous(np.asarray(order), tree.children, tree.n_leaves)
    # a plain leaf numbering is not such an order for this tree (the check can fail)
    assert not _blocks_are_contiguous(np.arange(tree.n_leaves), tree.children, tree.n_leaves)
