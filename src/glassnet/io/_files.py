"""Loading a model file of any supported format, for the command line.

:func:`load_model` tells the format from the file name (a directory written by
``glassnet train`` is accepted too) and returns the loaded object with its
:class:`~glassnet.ReluNetwork`. Bad files raise ``ValueError`` (or ``FileNotFoundError``)
with a one-line message naming the file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glassnet._csv import format_columns

__all__ = ["classes_of", "load_model"]


def _warn(msg: str) -> None:
    warnings.warn(msg, UserWarning, stacklevel=3)


def load_model(path: str | os.PathLike[str],
               warn: Callable[[str], None] = _warn) -> tuple[Any, Any, str]:
    """Load MODEL in any supported format.

    Parameters
    ----------
    path : path-like
        The model file, or a directory holding ``model.glassnet``.
    warn : callable, optional
        Receives the warning about pickle-based files (default: :func:`warnings.warn`).

    Returns
    -------
    tuple
        ``(model, network, description)``; ``model`` is the loaded object (a glassnet
        estimator, scikit-learn model, torch module or the network itself).
    """
    from glassnet.io import as_network

    p = Path(path)
    if p.is_dir():
        candidates = [p / "model.glassnet", *sorted(p.glob("*.glassnet"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ValueError(f"{p} is a directory without a model.glassnet file.")
        p = found
    if not p.is_file():
        raise FileNotFoundError(f"model file not found: {p}")
    suffix = p.suffix.lower()
    if suffix == ".onnx":
        from glassnet.io import from_onnx

        net = from_onnx(str(p))
        return net, net, f"ONNX file {p.name}"
    if suffix in (".pt", ".pth", ".torch"):
        import torch

        warn(
            f"{p.name} is a pickle-based torch file: loading it executes code stored in it. "
            "Only load files from a source you trust."
        )
        obj = torch.load(p, map_location="cpu", weights_only=False)
        if isinstance(obj, dict):
            raise ValueError(
                f"{p.name} holds a state_dict (weights only); save the whole module with "
                "torch.save(model, path) or export it to ONNX."
            )
        return obj, as_network(obj), f"torch module {p.name}"
    if suffix == ".skops":
        return _load_skops(p, as_network)
    if suffix in (".joblib", ".pkl", ".pickle"):
        import joblib

        warn(
            f"{p.name} is a pickle-based file: loading it executes code stored in it. Only "
            "load files from a source you trust; skops (.skops) files are safer."
        )
        obj = joblib.load(p)
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name}"
    import zipfile

    if suffix == ".glassnet" or zipfile.is_zipfile(p):
        from glassnet.io import load

        obj = load(p)
        if type(obj).__name__ == "Regions":
            raise ValueError(f"{p.name} holds unwrapped Regions, not a model.")
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name}"
    raise ValueError(
        f"cannot tell the format of {p.name}; use .glassnet, .onnx, .pt/.pth (torch), "
        ".skops or .joblib/.pkl (scikit-learn)."
    )


def _load_skops(p: Path, as_network: Any) -> tuple[Any, Any, str]:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ValueError(
            f"Reading {p.name} needs the skops package: pip install skops "
            "(or pip install 'glassnet[skops]')."
        ) from exc

    untrusted = sio.get_untrusted_types(file=p)
    foreign = [t for t in untrusted if not t.startswith(("sklearn.", "numpy."))]
    if foreign:
        raise ValueError(
            f"{p.name} holds types outside scikit-learn and NumPy ({format_columns(foreign)}); "
            "inspect it with skops.io.get_untrusted_types and load it in Python if you trust it."
        )
    obj = sio.load(p, trusted=untrusted)
    return obj, as_network(obj), f"{type(obj).__name__} from {p.name} (skops)"


def classes_of(model: Any) -> Any:
    """The ``classes_`` of a classifier or of the last step of a pipeline, else None."""
    classes = getattr(model, "classes_", None)
    if classes is None and hasattr(model, "steps"):
        classes = getattr(model.steps[-1][1], "classes_", None)
    return classes

