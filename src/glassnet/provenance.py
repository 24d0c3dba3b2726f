"""Provenance of a trained model: where it came from, carried to every later report.

``glassnet train`` writes ``provenance.json`` next to ``model.glassnet``: the data file and
its SHA-256, rows, the split (test share, seed, stratification, rows per split), the
preprocessing, the training settings, metrics on the training and the test rows separately,
and the versions of the packages. ``unwrap``, ``simplify`` and ``monitor`` read it back from
the model's folder (:func:`read_provenance`) and put it at the top of their report, and
:func:`data_overlap` tells them when they are scoring the very file the model was trained on
(their metric then includes the training rows, and the report says so).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["file_sha256", "versions", "write_provenance", "read_provenance", "data_overlap"]

FILE_NAME = "provenance.json"
_PACKAGES = ("glassnet", "numpy", "scipy", "pandas", "scikit-learn", "torch", "matplotlib")


def file_sha256(path: str | os.PathLike[str], *, block: int = 1 << 20) -> str:
    """SHA-256 of a file, read in blocks (memory does not grow with the file)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(block):
            h.update(chunk)
    return h.hexdigest()


def versions() -> dict[str, str]:
    """Python, platform and the versions of the packages a model depends on."""
    from importlib import metadata

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def write_provenance(folder: str | os.PathLike[str], provenance: Mapping[str, Any]) -> Path:
    """Write ``provenance.json`` into ``folder`` (JSON; NumPy scalars become numbers)."""
    path = Path(os.fspath(folder)) / FILE_NAME
    path.write_text(json.dumps(dict(provenance), indent=2, default=_plain), encoding="utf-8")
    return path


def read_provenance(model_path: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The provenance saved with a model: ``provenance.json`` in the model's folder (or in
    the folder given), else None. A file that is not a JSON object raises ValueError."""
    if model_path is None:
        return None
    p = Path(os.fspath(model_path))
    folder = p if p.is_dir() else p.parent
    path = folder / FILE_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object; got {type(data).__name__}.")
    return data


def data_overlap(provenance: Mapping[str, Any] | None,
                 data_path: str | os.PathLike[str], *,
                 split: tuple[int, float] | None = None) -> str | None:
    """A sentence when ``data_path`` is the file the model was trained on (same SHA-256),
    None otherwise or when unknown.

    Without ``split`` the rows scored are the whole file: its metrics include the training
    rows. With ``split=(seed, test_share)`` only a test split is scored: the sentence says
    whether it is the model's own test split (same seed and share) or may hold training
    rows."""
    if not provenance:
        return None
    data = provenance.get("data") or {}
    digest = data.get("sha256") if isinstance(data, Mapping) else None
    if not digest or not Path(os.fspath(data_path)).is_file():
        return None
    if file_sha256(data_path) != digest:
        return None
    trained = provenance.get("split") or {}
    if not isinstance(trained, Mapping):
        trained = {}
    name = Path(os.fspath(data_path)).name
    if split is not None:
        seed, share = split
        if trained.get("seed") == seed and trained.get("test share") == share:
            return (f"{name} is the file the model was trained on, split with the same seed "
                    f"({seed}) and test share ({share:g}): the test rows here are the model's "
                    "own test rows, never used to train it.")
        return (f"{name} is the file the model was trained on, but split here with seed "
                f"{seed} and test share {share:g} (the model: seed {trained.get('seed')}, "
                f"share {trained.get('test share')}): these test rows may include rows the "
                "network was trained on, so its test figures here are optimistic.")
    n_train = trained.get("training rows")
    rows = f"its {n_train:,} training rows" if isinstance(n_train, int) else "its training rows"
    return (f"{name} is the file the model was trained on (same SHA-256): metrics on all its "
            f"rows include {rows}, so they are not test metrics. The test metric is in the "
            "provenance section.")


def _plain(v: Any) -> Any:
    import numpy as np

    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"Cannot write {type(v).__name__} to provenance.json.")
