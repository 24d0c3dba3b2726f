"""compare's GLM baseline on raw credit data: it converges, and it is the unpenalised logit."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from glassnet import ReluNetwork
from glassnet.diagnose import compare, glm_baseline

CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "taiwan_credit.csv"


@pytest.fixture(scope="module")
def raw():
    if not CSV.exists():
        pytest.fail(f"the shared TaiwanCredit CSV is missing at {CSV}")
    df = pd.read_csv(CSV, nrows=3000)  # raw units, as a user's file: no scaling
    y = df.pop("FlagDefault").to_numpy()
    return df, y


def test_glm_baseline_converges_on_raw_taiwan_credit(raw):
    X, y = raw
    rng = np.random.default_rng(0)
    net = ReluNetwork([rng.normal(size=(4, X.shape[1])) * 1e-5, rng.normal(size=(1, 4))],
                      [np.zeros(4), np.zeros(1)], output="sigmoid")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        c = compare({"network": net}, X[2000:], y[2000:], X_train=X[:2000], y_train=y[:2000])
    assert list(c.table.index) == ["network", "GLM"]
    # oracle: the unpenalised maximum-likelihood logit (statsmodels, Newton) on the same rows
    import statsmodels.api as sm

    Z = (X[:2000] - X[:2000].mean()) / X[:2000].std(ddof=0)
    fit = sm.Logit(y[:2000], sm.add_constant(Z.to_numpy())).fit(disp=0, maxiter=200)
    Zt = (X[2000:] - X[:2000].mean()) / X[:2000].std(ddof=0)
    p_sm = fit.predict(sm.add_constant(Zt.to_numpy(), has_constant="add"))
    np.testing.assert_allclose(c.outputs["GLM"], p_sm, atol=1e-5)


def test_glm_baseline_kinds():
    clf = glm_baseline("classification")
    assert [name for name, _ in clf.steps] == ["standardscaler", "logisticregression"]
    assert clf.steps[-1][1].C == 1e6
    assert type(glm_baseline("regression")).__name__ == "LinearRegression"
