"""A model file of any supported format: glassnet's own here, the others through ``io``.

``io`` reads the files of other libraries (ONNX, torch, skops, pickle) and knows nothing of
glassnet's own format, which lives one layer up; this is the one place that knows both, so
the command line loads every model through :func:`load_model`.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glassnet._csv import one_line
from glassnet.io import MODEL_FILE_SUFFIXES, as_network, is_regions, load_model_file
from glassnet.persist._core import load

__all__ = ["load_model", "resolve_model_path"]


def load_model(path: str | os.PathLike[str], *, trust_pickle: bool = False,
               warn: Callable[[str], None] | None = None) -> tuple[Any, Any, str]:
    """Load a model file of any supported format, without running code stored in it.

    A ``.glassnet`` file (or a directory holding ``model.glassnet``, as ``glassnet train``
    writes, or a ZIP archive under another name) is read with :func:`load`; any other file
    with :func:`glassnet.io.load_model_file` (ONNX, torch, skops, joblib/pickle). The threat
    model is in docs/persistence.md.

    Parameters
    ----------
    path : path-like
        The model file, or a directory holding ``model.glassnet``.
    trust_pickle : bool
        Allow pickle-based files that can run code when loaded (``.joblib``/``.pkl``, and
        torch files naming classes outside the safe list). Only for files from a source
        you trust.
    warn : callable, optional
        Receives the warning printed when a pickle is trusted (default:
        :func:`warnings.warn`).

    Returns
    -------
    tuple
        ``(model, network, description)``; ``model`` is the loaded object (a glassnet
        estimator, scikit-learn model, torch module or the network itself), ``network``
        its :class:`~glassnet.ReluNetwork` and ``description`` one line for reports.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file cannot be read as a model (one line naming the file); a glassnet file
        holding unwrapped regions instead of a model is refused too.
    """
    p = resolve_model_path(Path(path))
    suffix = p.suffix.lower()
    if suffix in MODEL_FILE_SUFFIXES or not (suffix == ".glassnet" or zipfile.is_zipfile(p)):
        return load_model_file(p, trust_pickle=trust_pickle, warn=warn)
    try:
        obj = load(p)
        if is_regions(obj):
            raise ValueError(f"{p.name} holds unwrapped Regions, not a model.")
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name}"
    except (ValueError, TypeError) as exc:  # name the file in every message
        if p.name in str(exc):
            raise
        cls = TypeError if isinstance(exc, TypeError) else ValueError
        raise cls(f"{p.name}: {one_line(exc)}") from exc


def resolve_model_path(p: str | os.PathLike[str]) -> Path:
    """The model file itself: ``p``, or the ``.glassnet`` file in the directory ``p``.

    Parameters
    ----------
    p : path-like
        A model file, or a directory written by ``glassnet train`` (its ``model.glassnet``,
        else the first ``*.glassnet`` file by name).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If ``p`` is a directory without a ``.glassnet`` file.
    """
    p = Path(p)
    if p.is_dir():
        candidates = [p / "model.glassnet", *sorted(p.glob("*.glassnet"))]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ValueError(f"{p} is a directory without a model.glassnet file.")
        p = found
    if not p.is_file():
        raise FileNotFoundError(f"model file not found: {p}")
    return p
