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


# ------------------------------------------------------------------ the rounding heuristic
def _rounding_case(seed):
    """A 3-input network (a, b continuous, k whole), a row, its target class, and the
    continuous optimum (k relaxed) that the heuristic starts from."""
    from glassnet.decisions.constraints import resolve

    net = random_net(seed, d=3, hidden=(4, 3)).with_feature_names(["a", "b", "k"])
    rng = np.random.default_rng(seed)
    lo, hi = np.array([-2.0, -2.0, 0.0]), np.array([2.0, 2.0, 4.0])
    x0 = np.r_[rng.uniform(-1.5, 1.5, 2), rng.integers(0, 5)]
    w = rng.uniform(0.5, 2.0, 3)
    relaxed = counterfactual(net, x0[None], weights=w, box=(lo, hi),
                             constraints={"integer": []}, time_limit=20)
    res = resolve(net, Constraints.from_dict({"integer": ["k"]}))
    return net, x0, w, lo, hi, relaxed, res


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_rounded_point_is_a_whole_valid_point_no_worse_than_plain_rounding(seed):
    """The heuristic's point has a whole k, is in the target class by a forward pass, costs
    no less than the brute-force integer optimum and no more than either plain rounding of
    k when that rounding is itself in the target class."""
    from glassnet.decisions._search import rounded_point

    net, x0, w, lo, hi, relaxed, res = _rounding_case(seed)
    if relaxed.frame.status[0] != "found":
        return
    t = int(relaxed.frame.target[0])
    start = relaxed.counterfactual.to_numpy()[0]
    discrete = res.integer.copy()
    cost, p = rounded_point(net, start, x0, t, 0.0, 1e-6, lo, hi, res, w, "l1", discrete)

    def in_target(q):
        z = float(net.forward(q[None])[0, 0])
        return z > 0 if t == 1 else z < 0

    plain = []
    for k in (np.floor(start[2]), np.ceil(start[2]), np.round(start[2])):
        q = start.copy()
        q[2] = k
        if in_target(q):
            plain.append(float(np.sum(w * np.abs(q - x0))))
    if p is None:
        assert np.isinf(cost) and not plain
        return
    assert p[2] == round(p[2]) and in_target(p)
    assert np.all(p >= lo - 1e-9) and np.all(p <= hi + 1e-9)
    np.testing.assert_allclose(cost, np.sum(w * np.abs(p - x0)), rtol=1e-12)
    best = brute_force_l1(net, x0, t, w, lo.copy(), hi.copy(),
                          [{2: float(k)} for k in range(5)])
    assert cost >= best - 1e-6
    if plain:  # up to the margin the polishing LP asks for (1e-6 in raw output units)
        assert cost <= min(plain) + 1e-4


def test_rounded_point_gives_up_when_no_whole_value_reaches_the_target():
    """Output positive only for k in (0.25, 0.75): no whole k is in the target class."""
    from glassnet import ReluNetwork
    from glassnet.decisions._search import rounded_point
    from glassnet.decisions.constraints import resolve

    W = [np.array([[0.0, 4.0], [0.0, -4.0]]), np.array([[-1.0, -1.0]])]
    b = [np.array([-2.0, 2.0]), np.array([1.0])]
    net = ReluNetwork(W, b, output="sigmoid", feature_names=["a", "k"])
    res = resolve(net, Constraints.from_dict({"integer": ["k"]}))
    x0, relaxed = np.array([0.0, 2.0]), np.array([0.0, 0.5])
    assert net.forward(relaxed[None])[0, 0] > 0  # the relaxed optimum is in the target
    lo, hi = np.array([-1.0, 0.0]), np.array([1.0, 3.0])
    cost, p = rounded_point(net, relaxed, x0, 1, 0.0, 1e-6, lo, hi, res, np.ones(2), "l1",
                            res.integer.copy())
    assert p is None and np.isinf(cost)


def test_whole_number_columns_of_one_row_and_of_none():
    from glassnet.decisions.constraints import whole_number_columns

    one = pd.DataFrame({"a": [3.0], "b": [0.5], "c": [-2.0]})
    np.testing.assert_array_equal(whole_number_columns(one.to_numpy()),
                                  [c in codes_by_hand(one) for c in one.columns])
    np.testing.assert_array_equal(whole_number_columns(np.zeros((0, 3))), [False] * 3)


def test_equal_bounds_fix_a_feature():
    """bounds [v, v] are allowed (lower > upper is the error): the feature keeps v."""
    data = reference_data(4)
    net = random_net(4, d=4, hidden=(3, 3)).with_feature_names(list(data.columns))
    v = float(data.a.iloc[0])
    cf = counterfactual(net, data.iloc[[0]], data=data, time_limit=10,
                        constraints={"bounds": {"a": [v, v]}})
    if cf.frame.status[0] in ("found", "time_limit"):
        assert cf.counterfactual.a.iloc[0] == v


def test_highs_debug_output_is_hidden_and_nothing_else_is_lost():
    """The C-level stdout (where the HiGHS build writes its stray debug line) is silenced
    only inside the solve; Python and C output before and after arrive, in order."""
    import subprocess
    import sys

    code = (
        "import ctypes, os\n"
        "from glassnet.decisions._milp import c_stdout_silenced\n"
        "libc = ctypes.CDLL(None)\n"
        "print('before', flush=True)\n"
        "libc.printf(b'c-before\\n')\n"
        "with c_stdout_silenced():\n"
        "    libc.printf(b'c-hidden\\n')\n"
        "    os.write(1, b'fd-hidden\\n')\n"
        "print('after', flush=True)\n"
        "libc.printf(b'c-after\\n'); libc.fflush(None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "hidden" not in out
    assert out.split() == ["before", "c-before", "after", "c-after"]
