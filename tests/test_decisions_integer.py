"""Whole-number features in counterfactuals: found in the reference data by default.

Oracles: a direct per-column check written here for which features count as whole-number
codes, and brute force over activation patterns and the whole values of the integer
feature (one ``linprog`` per combination, ``brute_force_l1`` of test_decisions_recourse)
for the cost of the counterfactual.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_decisions_recourse import brute_force_l1, random_net

from glassnet.decisions import counterfactual
from glassnet.decisions.constraints import Constraints, load_constraints


def codes_by_hand(frame: pd.DataFrame, levels: int = 20) -> list[str]:
    """Columns whose every value is a whole number, with at most ``levels`` values."""
    out = []
    for name in frame.columns:
        values = frame[name].tolist()
        if all(float(v).is_integer() for v in values) and len(set(values)) <= levels:
            out.append(name)
    return out


def reference_data(seed: int, n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.uniform(-2, 2, n),                   # continuous
        "b": rng.integers(-2, 3, n).astype(float),    # a code: 5 whole values
        "c": rng.integers(0, 500, n).astype(float),   # whole amounts, many values
        "k": rng.integers(0, 4, n).astype(float),     # a count: 4 whole values
    })


def test_whole_number_codes_are_found_as_by_hand():
    data = reference_data(0)
    net = random_net(3, d=4, hidden=(3, 3)).with_feature_names(list(data.columns))
    row = data.iloc[[0]]
    cf = counterfactual(net, row, data=data, time_limit=10)
    assert cf.integer_features == codes_by_hand(data) == ["b", "k"]
    # listed explicitly, or turned off, or no reference data: exactly what is said
    assert counterfactual(net, row, data=data, constraints={"integer": ["a"]},
                          time_limit=10).integer_features == ["a"]
    assert counterfactual(net, row, data=data, constraints={"integer": []},
                          time_limit=10).integer_features == []
    box = (data.min().to_numpy(), data.max().to_numpy())
    assert counterfactual(net, data.iloc[:5], box=box, time_limit=10).integer_features == []


def test_the_level_limit_is_twenty_distinct_values():
    base = np.arange(40, dtype=float)
    for k in (19, 20, 21):
        data = pd.DataFrame({"x": base % k, "y": np.linspace(-1, 1, 40)})
        net = random_net(1, d=2, hidden=(3,)).with_feature_names(["x", "y"])
        cf = counterfactual(net, data.iloc[[0]], data=data, time_limit=10)
        assert cf.integer_features == codes_by_hand(data)
        assert ("x" in cf.integer_features) == (k <= 20)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_default_counterfactual_is_the_integer_optimum(seed):
    """No integer list: the codes b and k take whole values, and the cost is the brute-force
    optimum over their whole values; with integer=[] it is the continuous optimum."""
    data = reference_data(seed)
    net = random_net(seed, d=4, hidden=(3, 3)).with_feature_names(list(data.columns))
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 2, size=4)
    lo, hi = data.min().to_numpy(), data.max().to_numpy()
    x0 = data.iloc[int(rng.integers(0, len(data)))].to_numpy()
    cf = counterfactual(net, x0[None], weights=w, data=data, time_limit=20)
    target = int(cf.frame.target[0])
    assigns = [{1: float(b), 3: float(k)} for b in range(-2, 3) for k in range(4)]
    expect = brute_force_l1(net, x0, target, w, lo.copy(), hi.copy(), assigns)
    if np.isinf(expect):
        assert cf.frame.status[0] == "infeasible"
    else:
        assert cf.frame.status[0] == "found" and cf.frame.valid[0]
        np.testing.assert_allclose(cf.frame.cost[0], expect, rtol=1e-4, atol=1e-4)
        p = cf.counterfactual.to_numpy()[0]
        assert p[1] == round(p[1]) and p[3] == round(p[3])
    relaxed = counterfactual(net, x0[None], weights=w, data=data,
                             constraints={"integer": []}, time_limit=20)
    expect_relaxed = brute_force_l1(net, x0, target, w, lo.copy(), hi.copy())
    if np.isfinite(expect_relaxed):
        np.testing.assert_allclose(relaxed.frame.cost[0], expect_relaxed, rtol=1e-4, atol=1e-4)
        assert expect_relaxed <= expect + 1e-9  # whole values can only cost more


def test_constraints_keep_integer_unset_until_given(tmp_path):
    assert Constraints().integer is None
    assert Constraints.from_dict({"immutable": ["a"]}).integer is None
    assert Constraints.from_dict({"integer": []}).integer == []
    path = tmp_path / "policy.json"
    path.write_text('{"integer": ["k"]}')
    assert load_constraints(path).integer == ["k"]
    with pytest.raises(TypeError, match="integer"):
        Constraints.from_dict({"integer": "k"})
