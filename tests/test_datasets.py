"""Tests of glassnet.datasets: CoCircles, TaiwanCredit and BikeSharing (never the network)."""

from __future__ import annotations

import os
from urllib.error import URLError

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_circles
from sklearn.utils import Bunch

from glassnet import datasets
from glassnet.datasets import (
    Dataset,
    DatasetNotFoundError,
    load_bike_sharing,
    load_taiwan_credit,
    make_cocircles,
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch, tmp_path):
    """Any OpenML call fails, and the cache points at an empty temporary directory."""

    def offline(*args, **kwargs):
        raise URLError("network disabled in tests")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "cache"))


def test_make_cocircles_matches_published_definition():
    df = make_cocircles()
    X, y = make_circles(n_samples=2000, noise=0.1, factor=0.8, random_state=0)
    assert list(df.columns) == ["X0", "X1", "target"]
    np.testing.assert_array_equal(df[["X0", "X1"]].to_numpy(), X)
    np.testing.assert_array_equal(df["target"].to_numpy(), y)
    assert len(make_cocircles(n_samples=10, random_state=1)) == 10
    with pytest.raises(ValueError, match="factor"):
        make_cocircles(factor=1.5)
    with pytest.raises(TypeError, match="n_samples"):
        make_cocircles(n_samples=10.5)


def test_taiwan_published_protocol(shared_data_dir):
    raw = pd.read_csv(os.path.join(shared_data_dir, "taiwan_credit.csv"))
    d = load_taiwan_credit(shared_data_dir)
    assert isinstance(d, Dataset)
    assert len(d.feature_names) == 18
    assert not {"LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE"} & set(d.feature_names)
    assert d.target_name == "FlagDefault" and d.target_name not in d.feature_names
    assert (len(d.X_train), len(d.X_test)) == (24000, 6000)
    # the split is train_test_split(test_size=0.2, random_state=0) of the row order
    from sklearn.model_selection import train_test_split

    tr, te = train_test_split(np.arange(len(raw)), test_size=0.2, random_state=0)
    np.testing.assert_array_equal(d.X_train.index, tr)
    np.testing.assert_array_equal(d.y_test.to_numpy(), raw["FlagDefault"].to_numpy()[te])
    # min-max on the training rows
    np.testing.assert_allclose(d.X_train.min(), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.max(), 1.0, atol=1e-12)
    # sign(x)*log10(1+|x|) on amounts, then the affine scaling: rank order is kept and
    # the transformed value can be reproduced for one column
    amt = raw["BILL_AMT1"].to_numpy(dtype=float)
    t = np.sign(amt) * np.log10(1 + np.abs(amt))
    lo, hi = t[tr].min(), t[tr].max()
    np.testing.assert_allclose(d.frame["BILL_AMT1"].to_numpy(), (t - lo) / (hi - lo))
    assert d.X.shape == (30000, 18) and d.y.sum() == raw["FlagDefault"].sum()


def test_taiwan_raw_and_env_lookup(shared_data_dir, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", shared_data_dir)
    d = load_taiwan_credit(preprocess=None)
    assert d.frame.shape == (30000, 24) and d.X_train is None
    assert "LIMIT_BAL" in d.feature_names
    file = os.path.join(shared_data_dir, "taiwan_credit.csv")
    assert load_taiwan_credit(file, preprocess=None).frame.equals(d.frame)


def test_bike_published_protocol(shared_data_dir):
    d = load_bike_sharing(shared_data_dir)
    assert len(d.feature_names) == 16
    for name in ["season_2", "season_3", "season_4", "weathersit_2", "weathersit_3",
                 "weathersit_4", "hr", "temp"]:
        assert name in d.feature_names
    assert "season" not in d.feature_names and "season_1" not in d.feature_names
    assert (len(d.X_train), len(d.X_test)) == (13903, 3476)
    np.testing.assert_allclose(d.X_train.mean(), 0.0, atol=1e-10)
    np.testing.assert_allclose(d.X_train.std(ddof=0), 1.0, atol=1e-10)
    raw = load_bike_sharing(shared_data_dir, preprocess=None).frame
    assert raw.shape == (17379, 13)
    np.testing.assert_array_equal(d.y.to_numpy(), raw["cnt"].to_numpy())


def test_offline_without_copy_says_where_to_put_the_file(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_taiwan_credit()
    msg = str(info.value)
    assert "taiwan_credit.csv" in msg and str(tmp_path / "cache") in msg
    assert "GLASSNET_DATA" in msg and "network disabled" in msg
    with pytest.raises(DatasetNotFoundError, match="downloads are disabled"):
        load_bike_sharing(download=False)
    with pytest.raises(DatasetNotFoundError, match="no file"):
        load_bike_sharing(tmp_path / "missing.csv")


def test_bad_arguments_and_files(tmp_path, shared_data_dir):
    with pytest.raises(ValueError, match="preprocess"):
        load_taiwan_credit(shared_data_dir, preprocess="piml")
    bad = tmp_path / "bike_sharing.csv"
    pd.DataFrame({"a": [1, 2]}).to_csv(bad, index=False)
    with pytest.raises(ValueError, match="missing columns"):
        load_bike_sharing(bad)


def test_openml_download_is_converted_and_cached(shared_data_dir, monkeypatch, tmp_path):
    """Simulate OpenML's copies (their column names and coding) built from the shared CSVs."""
    taiwan = pd.read_csv(os.path.join(shared_data_dir, "taiwan_credit.csv"))
    openml_taiwan = taiwan.copy()
    openml_taiwan.columns = [f"x{i}" for i in range(1, 24)] + ["y"]
    bike = pd.read_csv(os.path.join(shared_data_dir, "bike_sharing.csv"))
    seasons = np.array(["spring", "summer", "fall", "winter"])
    weather = np.array(["clear", "misty", "rain", "heavy_rain"])
    openml_bike = pd.DataFrame({
        "season": pd.Categorical(seasons[bike["season"] - 1]),
        "year": bike["yr"], "month": bike["mnth"], "hour": bike["hr"],
        "holiday": pd.Categorical(np.where(bike["holiday"] == 1, "True", "False")),
        "weekday": bike["weekday"],
        "workingday": pd.Categorical(np.where(bike["workingday"] == 1, "True", "False")),
        "weather": pd.Categorical(weather[bike["weathersit"] - 1]),
        "temp": bike["temp"] * 41, "feel_temp": bike["atemp"] * 50,
        "humidity": bike["hum"], "windspeed": bike["windspeed"] * 67,
        "count": bike["cnt"],
    })
    calls = []

    def fake_fetch(*, data_id, **kwargs):
        calls.append(data_id)
        frame = {datasets.TAIWAN_CREDIT_OPENML_ID: openml_taiwan,
                 datasets.BIKE_SHARING_OPENML_ID: openml_bike}[data_id]
        return Bunch(frame=frame)

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_fetch)
    got = load_taiwan_credit(preprocess=None).frame
    pd.testing.assert_frame_equal(got, taiwan, check_dtype=False)
    assert (tmp_path / "cache" / "taiwan_credit.csv").is_file()
    got_bike = load_bike_sharing(preprocess=None).frame
    pd.testing.assert_frame_equal(got_bike, bike, check_dtype=False, atol=1e-9)
    assert calls == [42477, 42713]
    load_taiwan_credit(preprocess=None)  # now from the cache: no new download
    assert calls == [42477, 42713]


def test_data_home_default_is_platform_cache(monkeypatch):
    monkeypatch.delenv("GLASSNET_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", "/some/cache")
    home = datasets.data_home()
    assert "glassnet" in str(home)
