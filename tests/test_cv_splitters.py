"""The merger's and pruner's fold splitters give scikit-learn's folds exactly.

``CodedStratifiedKFold`` and ``SortedKFold`` compute the same folds as
``StratifiedKFold`` / ``KFold`` faster; scikit-learn's own classes are the oracle, including
the random draws they consume from a shared ``RandomState``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold, StratifiedKFold

from glassnet.simplify._cv import CodedStratifiedKFold, SortedKFold, cv_splitter


def _same_folds(ours, theirs) -> None:
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (tr_a, te_a), (tr_b, te_b) in zip(ours, theirs, strict=True):
        assert tr_a.dtype == tr_b.dtype and te_a.dtype == te_b.dtype
        np.testing.assert_array_equal(tr_a, tr_b)
        np.testing.assert_array_equal(te_a, te_b)


@st.composite
def coded_targets(draw):
    n_splits = draw(st.integers(2, 7))
    n_classes = draw(st.integers(1, 5))
    extra = draw(st.integers(0, 60))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    # every class at least n_splits times, then shuffled so the classes first appear in a
    # random order (scikit-learn numbers them by first appearance)
    y = np.concatenate([np.repeat(np.arange(n_classes), n_splits),
                        rng.integers(0, n_classes, extra)])
    rng.shuffle(y)
    dtype = draw(st.sampled_from([np.int64, np.int32, np.uint8, np.intp]))
    return y.astype(dtype), n_splits, draw(st.integers(0, 10_000)), draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(coded_targets())
def test_stratified_folds_equal_scikit_learn(case):
    y, n_splits, seed, shuffle = case
    X = np.zeros((y.size, 2))
    rs = seed if shuffle else None
    _same_folds(CodedStratifiedKFold(n_splits, shuffle=shuffle, random_state=rs).split(X, y),
                StratifiedKFold(n_splits, shuffle=shuffle, random_state=rs).split(X, y))


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 9), st.integers(0, 80), st.integers(0, 10_000), st.booleans())
def test_kfold_folds_equal_scikit_learn(n_splits, extra, seed, shuffle):
    n = n_splits + extra
    X = np.zeros((n, 3))
    rs = seed if shuffle else None
    _same_folds(SortedKFold(n_splits, shuffle=shuffle, random_state=rs).split(X),
                KFold(n_splits, shuffle=shuffle, random_state=rs).split(X))


def test_shared_random_state_draws_the_same():
    """A RandomState instance is consumed as scikit-learn consumes it: the folds of a second
    split (and the state left afterwards) agree too."""
    y = np.random.default_rng(1).integers(0, 3, 500)
    X = np.zeros((500, 1))
    a, b = np.random.RandomState(7), np.random.RandomState(7)
    ours = CodedStratifiedKFold(5, shuffle=True, random_state=a)
    theirs = StratifiedKFold(5, shuffle=True, random_state=b)
    for _ in range(2):
        _same_folds(ours.split(X, y), theirs.split(X, y))
    assert a.randint(1 << 30) == b.randint(1 << 30)
    a, b = np.random.RandomState(3), np.random.RandomState(3)
    for _ in range(2):
        _same_folds(SortedKFold(4, shuffle=True, random_state=a).split(X),
                    KFold(4, shuffle=True, random_state=b).split(X))
    assert a.randint(1 << 30) == b.randint(1 << 30)


def test_large_binary_target_as_the_merger_splits_it():
    y = (np.random.default_rng(0).random(100_000) < 0.22).astype(np.int64)
    X = np.zeros((y.size, 2))
    _same_folds(CodedStratifiedKFold(5, shuffle=True, random_state=0).split(X, y),
                StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))


@pytest.mark.parametrize("y", [
    np.array([0.0, 1.0] * 10),                 # not integer codes
    np.array(["a", "b"] * 10),
    np.array([-1, 1] * 10),                    # a negative code
    np.array([0, 2] * 10),                     # code 1 absent
])
def test_anything_else_gets_scikit_learn_itself(y):
    X = np.zeros((y.size, 1))
    _same_folds(CodedStratifiedKFold(5, shuffle=True, random_state=0).split(X, y),
                StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))


def test_small_class_keeps_scikit_learn_warning_and_error():
    y = np.array([0] * 20 + [1] * 3)
    X = np.zeros((y.size, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folds = list(CodedStratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    assert any("least populated class" in str(w.message) for w in caught)
    _same_folds(folds, StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
    with pytest.raises(ValueError, match="cannot be greater"):
        list(CodedStratifiedKFold(5).split(np.zeros((8, 1)), np.array([0] * 4 + [1] * 4)))
    with pytest.raises(ValueError, match="number of samples"):
        list(SortedKFold(5).split(np.zeros((3, 1))))


def test_mismatched_lengths_are_refused_as_scikit_learn_refuses_them():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        list(CodedStratifiedKFold(2).split(np.zeros((5, 1)), np.array([0, 1, 0, 1])))


def test_cv_splitter_gives_these_splitters_for_an_integer_cv():
    y = np.array([0, 1] * 10)
    assert type(cv_splitter(4, y, "classification", np.array(["a", "b"]), 0)) \
        is CodedStratifiedKFold
    assert type(cv_splitter(4, y.astype(float), "regression", None, 0)) is SortedKFold
    custom = KFold(3)
    assert cv_splitter(custom, y, "classification", None, 0) is custom


def test_more_folds_than_an_8_bit_key_holds():
    # fold numbers are sorted as 8-bit keys up to 256 folds; beyond, as they are
    y = np.repeat([0, 1], 300)
    X = np.zeros((600, 1))
    for S in (256, 257, 260):
        _same_folds(CodedStratifiedKFold(S, shuffle=True, random_state=1).split(X, y),
                    StratifiedKFold(S, shuffle=True, random_state=1).split(X, y))
        _same_folds(SortedKFold(S, shuffle=True, random_state=1).split(X),
                    KFold(S, shuffle=True, random_state=1).split(X))
