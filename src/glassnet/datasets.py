"""Data sets used in the examples: CoCircles, TaiwanCredit and BikeSharing.

* :func:`make_cocircles` simulates two noisy concentric circles (scikit-learn's
  ``make_circles``), the 2-D benchmark of the ReLU-network-unwrapping literature.
* :func:`load_taiwan_credit` loads the UCI "default of credit card clients" data
  (30,000 rows, 23 features, target ``FlagDefault``), raw or prepared with the published
  protocol of the PiML toolbox examples.
* :func:`load_bike_sharing` loads the UCI hourly bike-sharing data (17,379 rows, target
  ``cnt``), raw or prepared with the protocol of the mixture-of-linear-models reference.

Where the files come from
-------------------------
With ``path=None`` a loader looks for its CSV file (``taiwan_credit.csv``,
``bike_sharing.csv``) in :func:`data_home`: the directory named by the environment variable
``GLASSNET_DATA`` if set, else the platform cache directory (``~/.cache/glassnet`` on
Linux, ``~/Library/Caches/glassnet`` on macOS, ``%LOCALAPPDATA%\\glassnet\\Cache`` on
Windows). If the file is not there it is fetched from OpenML with scikit-learn's
``fetch_openml``, converted to the documented columns and saved there, so the network is
used once. OpenML sources: TaiwanCredit is data id 42477 (``default-of-credit-card-clients``);
BikeSharing is data id 42713 (``Bike_Sharing_Demand``, version 2, the copy used in
scikit-learn's examples), whose categories and physical units are converted back to the UCI
``hour.csv`` coding. Offline and without a copy, a :class:`DatasetNotFoundError` says where
to put the CSV file.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BIKE_SHARING_OPENML_ID",
    "Dataset",
    "DatasetNotFoundError",
    "TAIWAN_CREDIT_OPENML_ID",
    "data_home",
    "load_bike_sharing",
    "load_taiwan_credit",
    "make_cocircles",
]

TAIWAN_CREDIT_OPENML_ID = 42477
BIKE_SHARING_OPENML_ID = 42713

_TAIWAN_FILE = "taiwan_credit.csv"
_BIKE_FILE = "bike_sharing.csv"

TAIWAN_FEATURES = (
    ["LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE"]
    + [f"PAY_{k}" for k in range(1, 7)]
    + [f"BILL_AMT{k}" for k in range(1, 7)]
    + [f"PAY_AMT{k}" for k in range(1, 7)]
)
TAIWAN_TARGET = "FlagDefault"
TAIWAN_DROPPED = ("LIMIT_BAL", "SEX", "EDUCATION", "MARRIAGE", "AGE")
TAIWAN_AMOUNTS = tuple([f"BILL_AMT{k}" for k in range(1, 7)] + [f"PAY_AMT{k}" for k in range(1, 7)])

BIKE_FEATURES = [
    "season", "yr", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit",
    "temp", "atemp", "hum", "windspeed",
]
BIKE_TARGET = "cnt"


class DatasetNotFoundError(FileNotFoundError):
    """A data set is neither on disk nor downloadable (for example, offline)."""


@dataclass
class Dataset:
    """A loaded data set, optionally prepared and split.

    Attributes
    ----------
    frame : DataFrame
        All rows: the feature columns (after preparation, if any) and the target column.
    feature_names : list of str
    target_name : str
    X_train, X_test : DataFrame or None
        The prepared 80/20 split (None when the data were loaded raw).
    y_train, y_test : Series or None
    description : str
        Source and preparation steps, in words.
    """

    frame: pd.DataFrame
    feature_names: list[str]
    target_name: str
    X_train: pd.DataFrame | None = None
    X_test: pd.DataFrame | None = None
    y_train: pd.Series | None = None
    y_test: pd.Series | None = None
    description: str = ""

    @property
    def X(self) -> pd.DataFrame:
        """All rows' features."""
        return self.frame[self.feature_names]

    @property
    def y(self) -> pd.Series:
        """All rows' target."""
        return self.frame[self.target_name]

    def __repr__(self) -> str:
        split = ""
        if self.X_train is not None:
            split = f", train={len(self.X_train)}, test={len(self.X_test)}"
        return (
            f"Dataset({len(self.frame)} rows, {len(self.feature_names)} features, "
            f"target={self.target_name!r}{split})"
        )


# ---------------------------------------------------------------------- CoCircles
def make_cocircles(
    n_samples: int = 2000,
    noise: float = 0.1,
    factor: float = 0.8,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Two noisy concentric circles: the CoCircles benchmark.

    A thin wrapper around :func:`sklearn.datasets.make_circles`; the defaults reproduce the
    published CoCircles data (``make_circles(2000, noise=0.1, factor=0.8, random_state=0)``).

    Returns
    -------
    DataFrame with columns ``X0``, ``X1`` (float) and ``target`` (0 outer circle, 1 inner).

    Examples
    --------
    >>> from glassnet.datasets import make_cocircles
    >>> df = make_cocircles()
    >>> df.shape, list(df.columns)
    ((2000, 3), ['X0', 'X1', 'target'])
    >>> int(df["target"].sum())
    1000
    """
    from sklearn.datasets import make_circles

    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)):
        raise TypeError(f"n_samples must be an integer; got {n_samples!r}.")
    if n_samples < 2:
        raise ValueError(f"n_samples must be at least 2; got {n_samples}.")
    if not (isinstance(noise, (int, float, np.number)) and noise >= 0):
        raise ValueError(f"noise must be a number >= 0; got {noise!r}.")
    if not (isinstance(factor, (int, float, np.number)) and 0 <= factor < 1):
        raise ValueError(f"factor must be in [0, 1); got {factor!r}.")
    X, y = make_circles(
        n_samples=int(n_samples), noise=float(noise), factor=float(factor),
        random_state=random_state,
    )
    return pd.DataFrame({"X0": X[:, 0], "X1": X[:, 1], "target": y.astype(np.int64)})


# ---------------------------------------------------------------------- file location
def data_home() -> Path:
    """Directory where the loaders look for and cache their CSV files.

    ``$GLASSNET_DATA`` if set, else the platform cache directory for glassnet.
    """
    env = os.environ.get("GLASSNET_DATA")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local"))
        return base / "glassnet" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "glassnet"
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else home / ".cache") / "glassnet"


def _locate(path: Any, filename: str, name: str, fetch, download: bool) -> Path:
    """Resolve ``path`` (file, directory or None) to an existing CSV file."""
    if path is not None:
        p = Path(path).expanduser()
        if p.is_dir():
            p = p / filename
        if not p.is_file():
            raise DatasetNotFoundError(
                f"{name}: no file at {p}. Pass the path of the CSV file (or of the directory "
                f"holding {filename})."
            )
        return p
    home = data_home()
    target = home / filename
    if target.is_file():
        return target
    if not download:
        raise DatasetNotFoundError(_where_msg(name, filename, home, None))
    try:
        frame = fetch()
    except Exception as exc:  # offline, OpenML down, proxy...: all mean "not available"
        raise DatasetNotFoundError(_where_msg(name, filename, home, exc)) from exc
    home.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".csv.part")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, target)
    return target


def _where_msg(name: str, filename: str, home: Path, exc: Exception | None) -> str:
    why = "downloads are disabled" if exc is None else f"the OpenML download failed ({exc})"
    return (
        f"{name} is not in {home} and {why}. Save the CSV file as {home / filename} "
        "(or set GLASSNET_DATA to a directory holding it, or pass path=...)."
    )


def _read_csv(p: Path, columns: list[str], name: str) -> pd.DataFrame:
    df = pd.read_csv(p)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{p} does not look like the {name} data: missing columns {missing}. Expected "
            f"columns {columns}."
        )
    return df[columns]


def _check_preprocess(preprocess: Any) -> None:
    if preprocess not in ("published", None):
        raise ValueError(f"preprocess must be 'published' or None; got {preprocess!r}.")


# ---------------------------------------------------------------------- TaiwanCredit
def _fetch_taiwan() -> pd.DataFrame:
    from sklearn.datasets import fetch_openml

    bunch = fetch_openml(
        data_id=TAIWAN_CREDIT_OPENML_ID, as_frame=True, data_home=str(data_home() / "openml")
    )
    return _taiwan_from_openml(bunch.frame)


def _taiwan_from_openml(frame: pd.DataFrame) -> pd.DataFrame:
    """OpenML's copy (23 features then the target, named x1..x23/y or as in UCI) -> ours."""
    cols = [c for c in frame.columns if str(c).upper() not in ("ID",)]
    if len(cols) != 24:
        raise ValueError(
            f"Unexpected OpenML TaiwanCredit layout: {len(cols)} columns {cols[:30]}."
        )
    out = frame[cols].copy()
    out.columns = [*TAIWAN_FEATURES, TAIWAN_TARGET]
    return out.apply(pd.to_numeric, errors="raise").astype(np.int64)


def load_taiwan_credit(
    path: Any = None, preprocess: str | None = "published", *, download: bool = True
) -> Dataset:
    """Load TaiwanCredit (UCI "default of credit card clients", 30,000 rows).

    Parameters
    ----------
    path : str or Path, optional
        The CSV file (or a directory holding ``taiwan_credit.csv``) with columns
        ``LIMIT_BAL, SEX, EDUCATION, MARRIAGE, AGE, PAY_1..PAY_6, BILL_AMT1..6,
        PAY_AMT1..6, FlagDefault``. Default: :func:`data_home`, else OpenML (id 42477).
    preprocess : {"published", None}, default="published"
        ``"published"``: the protocol of the PiML toolbox examples: drop the five
        demographic/limit columns ``LIMIT_BAL, SEX, EDUCATION, MARRIAGE, AGE`` (18 features
        left), transform the amounts ``BILL_AMT*``, ``PAY_AMT*`` by
        ``sign(x) * log10(1 + |x|)``, split 80/20 at random with seed 0
        (``train_test_split(test_size=0.2, random_state=0)``), and min-max scale every
        feature to [0, 1] with the minimum and maximum of the training rows (test rows may
        fall slightly outside). ``None``: the raw 23 features, no split.
    download : bool, default=True
        Whether a missing file may be fetched from OpenML.

    Returns
    -------
    Dataset
        ``frame`` (prepared features and ``FlagDefault``, in the original row order),
        ``X_train``, ``X_test``, ``y_train``, ``y_test`` (None when ``preprocess=None``).

    Raises
    ------
    DatasetNotFoundError
        When no copy is found and none can be downloaded.
    """
    _check_preprocess(preprocess)
    p = _locate(path, _TAIWAN_FILE, "TaiwanCredit", _fetch_taiwan, download)
    raw = _read_csv(p, [*TAIWAN_FEATURES, TAIWAN_TARGET], "TaiwanCredit")
    source = f"TaiwanCredit (UCI default of credit card clients) read from {p}."
    if preprocess is None:
        return Dataset(raw, list(TAIWAN_FEATURES), TAIWAN_TARGET, description=source)
    X = raw.drop(columns=[*TAIWAN_DROPPED, TAIWAN_TARGET]).astype(np.float64)
    amounts = list(TAIWAN_AMOUNTS)
    X[amounts] = np.sign(X[amounts]) * np.log10(1.0 + np.abs(X[amounts]))
    y = raw[TAIWAN_TARGET].astype(np.int64)
    return _split_scale(
        X, y, "minmax", source + " Published protocol: dropped LIMIT_BAL, SEX, EDUCATION, "
        "MARRIAGE, AGE; sign(x)*log10(1+|x|) on BILL_AMT*, PAY_AMT*; 80/20 split with "
        "random_state=0; min-max scaled with the training rows' range."
    )


def _split_scale(X: pd.DataFrame, y: pd.Series, how: str, description: str) -> Dataset:
    from sklearn.model_selection import train_test_split

    idx_train, idx_test = train_test_split(np.arange(len(X)), test_size=0.2, random_state=0)
    train = X.iloc[idx_train]
    if how == "minmax":
        lo, hi = train.min(), train.max()
        scale = (hi - lo).where(hi > lo, 1.0)
        Xs = (X - lo) / scale
    else:
        mu, sd = train.mean(), train.std(ddof=0)
        Xs = (X - mu) / sd.where(sd > 0, 1.0)
    frame = pd.concat([Xs, y], axis=1)
    names = [str(c) for c in Xs.columns]
    return Dataset(
        frame=frame,
        feature_names=names,
        target_name=str(y.name),
        X_train=Xs.iloc[idx_train],
        X_test=Xs.iloc[idx_test],
        y_train=y.iloc[idx_train],
        y_test=y.iloc[idx_test],
        description=description,
    )


# ---------------------------------------------------------------------- BikeSharing
_OPENML_BIKE_RENAME = {
    "year": "yr", "month": "mnth", "hour": "hr", "weather": "weathersit",
    "feel_temp": "atemp", "humidity": "hum", "count": "cnt",
}
_SEASONS = {"spring": 1, "summer": 2, "fall": 3, "winter": 4}
_WEATHER = {"clear": 1, "misty": 2, "rain": 3, "heavy_rain": 4}


def _fetch_bike() -> pd.DataFrame:
    from sklearn.datasets import fetch_openml

    bunch = fetch_openml(
        data_id=BIKE_SHARING_OPENML_ID, as_frame=True, data_home=str(data_home() / "openml")
    )
    return _bike_from_openml(bunch.frame)


def _bike_from_openml(frame: pd.DataFrame) -> pd.DataFrame:
    """OpenML ``Bike_Sharing_Demand`` (v2) -> the UCI ``hour.csv`` coding used here.

    OpenML stores season/weather as words, holiday/workingday as "False"/"True", and
    temperatures (deg C), humidity and wind speed in physical units; UCI normalises
    temp by 41, atemp by 50, hum by 100 and windspeed by 67.
    """
    df = frame.rename(columns=_OPENML_BIKE_RENAME).copy()
    missing = [c for c in [*BIKE_FEATURES, BIKE_TARGET] if c not in df.columns]
    if missing:
        raise ValueError(f"Unexpected OpenML BikeSharing layout: missing {missing}.")
    df = df[[*BIKE_FEATURES, BIKE_TARGET]]

    def code(col: str, mapping: dict[str, int]) -> pd.Series:
        s = df[col].astype(str).str.strip().str.lower()
        if s.str.fullmatch(r"\d+").all():
            return s.astype(np.int64)
        unknown = sorted(set(s) - set(mapping))
        if unknown:
            raise ValueError(f"Unknown {col} categories in the OpenML data: {unknown}.")
        return s.map(mapping).astype(np.int64)

    out = pd.DataFrame(index=df.index)
    out["season"] = code("season", _SEASONS)
    for c in ("yr", "mnth", "hr", "weekday"):
        out[c] = pd.to_numeric(df[c]).astype(np.int64)
    for c in ("holiday", "workingday"):
        out[c] = code(c, {"false": 0, "true": 1})
    out["weathersit"] = code("weathersit", _WEATHER)
    for c, scale in (("temp", 41.0), ("atemp", 50.0), ("hum", 100.0), ("windspeed", 67.0)):
        v = pd.to_numeric(df[c]).astype(np.float64)
        out[c] = (v / scale).round(4) if v.max() > 1.5 else v
    out[BIKE_TARGET] = pd.to_numeric(df[BIKE_TARGET]).astype(np.int64)
    return out.reset_index(drop=True)


def load_bike_sharing(
    path: Any = None, preprocess: str | None = "published", *, download: bool = True
) -> Dataset:
    """Load BikeSharing (UCI hourly bike rentals, 17,379 rows, target ``cnt``).

    Parameters
    ----------
    path : str or Path, optional
        The CSV file (or a directory holding ``bike_sharing.csv``) with columns ``season,
        yr, mnth, hr, holiday, weekday, workingday, weathersit, temp, atemp, hum,
        windspeed, cnt`` in UCI's coding. Default: :func:`data_home`, else OpenML (id 42713).
    preprocess : {"published", None}, default="published"
        ``"published"``: the protocol of the mixture-of-linear-models reference: one-hot
        ``season`` and ``weathersit`` dropping the first level (``season_2..4``,
        ``weathersit_2..4``) next to the other 10 columns (16 features), split 80/20 at
        random with seed 0, and standardise every feature with the training rows' mean
        and standard deviation. The target ``cnt`` is left as is. ``None``: the raw 12
        features, no split.
    download : bool, default=True
        Whether a missing file may be fetched from OpenML.

    Returns
    -------
    Dataset
    """
    _check_preprocess(preprocess)
    p = _locate(path, _BIKE_FILE, "BikeSharing", _fetch_bike, download)
    raw = _read_csv(p, [*BIKE_FEATURES, BIKE_TARGET], "BikeSharing")
    source = f"BikeSharing (UCI hour.csv) read from {p}."
    if preprocess is None:
        return Dataset(raw, list(BIKE_FEATURES), BIKE_TARGET, description=source)
    base = raw.drop(columns=["season", "weathersit", BIKE_TARGET]).astype(np.float64)
    dummies = [
        (raw[col] == level).astype(np.float64).rename(f"{col}_{level}")
        for col in ("season", "weathersit")
        for level in (2, 3, 4)
    ]
    X = pd.concat([base, *dummies], axis=1)
    y = raw[BIKE_TARGET].astype(np.float64)
    return _split_scale(
        X, y, "standard", source + " Reference protocol: one-hot season and weathersit "
        "(levels 2-4; level 1 dropped), 16 features, 80/20 split with random_state=0, "
        "standardised with the training rows' mean and standard deviation."
    )
