"""Loading a model file written by another library without running code stored in it.

:func:`load_model_file` tells the format from the file name, checks the file's first bytes
against that format (a CSV renamed ``.pt`` is "not a torch file", not a crash deep inside a
parser), and returns the loaded object with its :class:`~glassnet.ReluNetwork`. glassnet's
own files (``.glassnet``, and the directories ``glassnet train`` writes) are persistence's
job, one layer up: :func:`glassnet.persist.load_model` reads every format, those included,
and hands the others to this module.

Threat model: a model file comes from someone else and may be crafted. Loading it must
never run code stored in it. So:

- ``.glassnet`` (through :func:`glassnet.persist.load_model`): :func:`glassnet.load` (no
  pickle; an exact list of types).
- ``.onnx``: a protobuf message, parsed as data.
- ``.pt``/``.pth``: ``torch.load(weights_only=True)`` with only the exact module classes of
  :data:`TORCH_SAFE_GLOBALS` added to torch's safe globals; a file naming any other global
  is refused before it is unpickled, and the loaded modules are checked to be exactly those
  classes, with no instance attribute hiding a method (``forward``...).
- ``.skops``: every type named in the file's schema must be in :data:`SKOPS_TRUSTED_TYPES`
  (MLPs, pipelines, the affine scalers, their optimizers and NumPy arrays); anything else
  is refused, and only those types are passed to ``skops.io.load(trusted=...)``.
- ``.joblib``/``.pkl``/``.pickle``: arbitrary pickle, which runs code by design: refused
  unless ``trust_pickle=True`` (``--trust-pickle`` on the command line); ``trust_pickle``
  also lets a torch file naming other classes load with ``weights_only=False``.

Every failure is a ``ValueError`` (``FileNotFoundError`` for a missing file) with one
line naming the file.
"""

from __future__ import annotations

import json
import os
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from glassnet._csv import format_columns, one_line

__all__ = ["MODEL_FILE_SUFFIXES", "SKOPS_TRUSTED_TYPES", "TORCH_SAFE_GLOBALS", "classes_of",
           "load_model_file"]

TORCH_SAFE_GLOBALS = (
    "torch.nn.modules.container.Sequential",
    "torch.nn.modules.linear.Linear",
    "torch.nn.modules.linear.Identity",
    "torch.nn.modules.activation.ReLU",
    "torch.nn.modules.activation.Sigmoid",
    "torch.nn.modules.activation.Softmax",
    "torch.nn.modules.dropout.Dropout",
    "torch.nn.modules.flatten.Flatten",
    "torch.nn.modules.batchnorm.BatchNorm1d",
)
"""Module classes a torch file may name (besides the tensors torch itself allows)."""

SKOPS_TRUSTED_TYPES = frozenset({
    "builtins.dict", "builtins.list", "builtins.str", "builtins.tuple", "builtins.int",
    "builtins.float", "builtins.bool", "builtins.NoneType",
    "numpy.ndarray", "numpy.dtype", "numpy.float64", "numpy.float32", "numpy.int64",
    "numpy.int32", "numpy.bool_", "numpy.random.mtrand.RandomState",
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.neural_network._multilayer_perceptron.MLPRegressor",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.MinMaxScaler",
    "sklearn.preprocessing._data.MaxAbsScaler",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._label.LabelBinarizer",
})
"""Every type a ``.skops`` file may name (qualified ``module.class``)."""

_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_PICKLE = (b"\x80",)
# joblib writes a pickle, or one compressed with zlib, gzip, bz2, xz, lzma or lz4
_JOBLIB = (*_PICKLE, b"x", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"]\x00\x00", b"\x04\"M\x18",
           b"ZF")
_PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_TORCH_SUFFIXES = (".pt", ".pth", ".torch")
MODEL_FILE_SUFFIXES = (".onnx", *_TORCH_SUFFIXES, ".skops", *_PICKLE_SUFFIXES)
"""File name endings :func:`load_model_file` reads (any case)."""
_MAX_SCHEMA_BYTES = 64 * 2**20


def _warn(msg: str) -> None:
    warnings.warn(msg, UserWarning, stacklevel=3)


def load_model_file(path: str | os.PathLike[str], *, trust_pickle: bool = False,
                    warn: Callable[[str], None] | None = None) -> tuple[Any, Any, str]:
    """Load a model file of another library, without running code stored in the file.

    The format comes from the file name (``glassnet.io.MODEL_FILE_SUFFIXES``): ONNX, torch
    (``.pt``/``.pth``), skops, or joblib/pickle (refused unless ``trust_pickle``). What each
    format may hold, and why, is the threat model of docs/persistence.md ("Loading model
    files"). For glassnet's own files use :func:`glassnet.persist.load_model`, which reads
    every format.

    Parameters
    ----------
    path : path-like
        The model file.
    trust_pickle : bool
        Allow pickle-based files that can run code when loaded (``.joblib``/``.pkl``, and
        torch files naming classes outside ``TORCH_SAFE_GLOBALS``). Only for files
        from a source you trust.
    warn : callable, optional
        Receives the warning printed when a pickle is trusted (default:
        :func:`warnings.warn`).

    Returns
    -------
    tuple
        ``(model, network, description)``; ``model`` is the loaded object (a glassnet
        estimator, scikit-learn model, torch module or, for ONNX, the network itself),
        ``network`` its :class:`~glassnet.ReluNetwork` and ``description`` one line for
        reports.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not of the format its name says, is damaged, names a class outside
        the lists above, or is a pickle without ``trust_pickle`` (one line naming the file).
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file not found: {p}")
    try:
        return _load(p, trust_pickle, _warn if warn is None else warn)
    except (ValueError, TypeError) as exc:  # name the file in every message
        if p.name in str(exc):
            raise
        cls = TypeError if isinstance(exc, TypeError) else ValueError
        raise cls(f"{p.name}: {one_line(exc)}") from exc


def _load(p: Path, trust_pickle: bool, warn: Callable[[str], None]) -> tuple[Any, Any, str]:
    from glassnet.io import as_network

    suffix = p.suffix.lower()
    if suffix == ".onnx":
        from glassnet.io import from_onnx

        _check_not_text(p, "ONNX")
        net = from_onnx(str(p))
        return net, net, f"ONNX file {p.name}"
    if suffix in _TORCH_SUFFIXES:
        obj = _load_torch(p, trust_pickle, warn)
        return obj, as_network(obj), f"torch module {p.name}"
    if suffix == ".skops":
        obj = _load_skops(p)
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name} (skops)"
    if suffix in _PICKLE_SUFFIXES:
        obj = _load_pickle(p, trust_pickle, warn)
        return obj, as_network(obj), f"{type(obj).__name__} from {p.name}"
    if suffix == ".glassnet":
        raise ValueError(f"{p.name} is a glassnet file: load it with "
                         "glassnet.persist.load_model (any model file) or glassnet.load.")
    raise ValueError(
        f"cannot tell the format of {p.name}; use .glassnet, .onnx, .pt/.pth (torch), "
        ".skops or .joblib/.pkl (scikit-learn)."
    )


def _head(p: Path, n: int = 4096) -> bytes:
    with open(p, "rb") as fh:
        return fh.read(n)


def _looks_like_text(head: bytes) -> bool:
    """Printable UTF-8 text (a CSV, JSON or source file), not a binary model format."""
    if not head:
        return True
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multi-byte character cut at the end is still text
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    return all(c.isprintable() or c in "\t\r\n" for c in text)


def _not_a(p: Path, kind: str, head: bytes) -> ValueError:
    what = ("an empty file" if not head else
            "a text file (a CSV?)" if _looks_like_text(head) else
            "a zip archive" if head.startswith(_ZIP) else f"bytes starting {head[:8]!r}")
    article = "an" if kind[0] in "AEIOUaeiou" else "a"
    return ValueError(f"{p.name} is not {article} {kind} file: it is {what}.")


def _check_magic(p: Path, kind: str, magics: tuple[bytes, ...]) -> bytes:
    head = _head(p)
    if not head or not head.startswith(magics):
        raise _not_a(p, kind, head)
    return head


def _check_not_text(p: Path, kind: str) -> None:
    head = _head(p)
    if not head or _looks_like_text(head):
        raise _not_a(p, kind, head)


# ---------------------------------------------------------------------- torch
def _torch_classes() -> dict[str, type]:
    import importlib

    out = {}
    for name in TORCH_SAFE_GLOBALS:
        module, _, cls = name.rpartition(".")
        out[name] = getattr(importlib.import_module(module), cls)
    return out


def _load_torch(p: Path, trust_pickle: bool, warn: Callable[[str], None]) -> Any:
    head = _check_magic(p, "torch", (*_ZIP, *_PICKLE))
    import torch
    from torch import serialization

    safe = _torch_classes()
    if not trust_pickle:
        if head.startswith(_ZIP):
            try:
                named = serialization.get_unsafe_globals_in_checkpoint(p)
            except Exception as exc:  # a damaged archive: any parser error
                raise ValueError(f"cannot read {p.name} as a torch file: {one_line(exc)}") from exc
            foreign = sorted(set(named) - set(safe))
            if foreign:
                raise ValueError(
                    f"{p.name} names {format_columns(foreign, 4)}, outside the classes glassnet "
                    "loads without running code (nn.Sequential of Linear, ReLU, BatchNorm1d, "
                    "Dropout, Flatten, Identity, Sigmoid, Softmax); export the model to ONNX, "
                    "or pass --trust-pickle if you trust the file's source."
                )
    try:
        if trust_pickle:
            warn(f"{p.name}: --trust-pickle loads it with pickle, which runs any code stored "
                 "in the file. Only do this for files from a source you trust.")
            obj = torch.load(p, map_location="cpu", weights_only=False)
        else:
            with serialization.safe_globals(list(safe.values())):
                obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError... from a bad file
        if "Weights only load failed" in str(exc):  # torch's long advice: keep the reason
            raise ValueError(
                f"cannot load {p.name} without running code stored in it "
                f"({_weights_only_reason(str(exc))}); re-save the module with torch.save in a "
                "recent torch, export it to ONNX, or pass --trust-pickle if you trust the "
                "file's source."
            ) from exc
        raise ValueError(f"cannot read {p.name} as a torch file: {one_line(exc)[:300]}") from exc
    if isinstance(obj, dict):
        raise ValueError(
            f"{p.name} holds a state_dict (weights only); save the whole module with "
            "torch.save(model, path) or export it to ONNX."
        )
    if not trust_pickle:
        _check_torch_modules(p, obj, tuple(safe.values()))
    return obj


def _weights_only_reason(text: str) -> str:
    """The one sentence of torch's weights-only refusal that says what was refused."""
    import re

    for pattern in (r"WeightsUnpickler error:\s*(.+?)\s*(?:\n\n|Check the doc|$)",
                    r"((?:Trying to load )?[Uu]nsupported (?:global|GLOBAL)[^\n]*)"):
        found = re.search(pattern, text, flags=re.S)
        if found:
            return " ".join(found.group(1).split())[:200]
    return "torch's weights-only loader refused it"


def _check_torch_modules(p: Path, obj: Any, safe: tuple[type, ...]) -> None:
    """Exactly the safe classes, with no instance attribute hiding one of their methods."""
    import torch

    if not isinstance(obj, torch.nn.Module):
        raise ValueError(f"{p.name} holds a {type(obj).__name__}, not a torch module.")
    for name, module in obj.named_modules():
        cls = type(module)
        if cls not in safe:
            raise ValueError(f"{p.name}: module {name or '(root)'} is a {cls.__name__}, "
                             "outside the classes glassnet loads.")
        hidden = [k for k in vars(module) if callable(getattr(cls, k, None))]
        hooks = [k for k, v in vars(module).items() if "hook" in k and v]
        if hidden or hooks:
            raise ValueError(
                f"{p.name}: module {name or '(root)'} ({cls.__name__}) carries attributes "
                f"{format_columns(hidden + hooks, 4)} that would change its computation; the "
                "file was altered."
            )


# ---------------------------------------------------------------------- skops / pickle
def _skops_types(p: Path) -> set[str]:
    """Every ``module.class`` named in the schema of a skops file."""
    try:
        with zipfile.ZipFile(p) as zf:
            info = zf.getinfo("schema.json")
            if info.file_size > _MAX_SCHEMA_BYTES:
                raise ValueError(f"its schema declares {info.file_size} bytes")
            with zf.open(info) as fh:
                schema = json.loads(fh.read(_MAX_SCHEMA_BYTES + 1))
    except (KeyError, ValueError, zipfile.BadZipFile, RecursionError, OSError) as exc:
        raise ValueError(f"{p.name} is not a readable skops file: {one_line(exc)}") from exc
    found: set[str] = set()
    stack = [schema]
    while stack:  # iterative: a deeply nested schema cannot exhaust the recursion limit
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node:
                found.add(f"{node.get('__module__')}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _load_skops(p: Path) -> Any:
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ValueError(
            f"Reading {p.name} needs the skops package: pip install skops "
            "(or pip install 'glassnet[skops]')."
        ) from exc
    _check_magic(p, "skops", _ZIP)
    foreign = sorted(_skops_types(p) - SKOPS_TRUSTED_TYPES)
    if foreign:
        raise ValueError(
            f"{p.name} holds types outside the scikit-learn MLPs, pipelines and scalers "
            f"glassnet loads ({format_columns(foreign, 4)}); inspect it with "
            "skops.io.get_untrusted_types and load it in Python if you trust it."
        )
    try:
        untrusted = sio.get_untrusted_types(file=p)
        return sio.load(p, trusted=[t for t in untrusted if t in SKOPS_TRUSTED_TYPES])
    except Exception as exc:  # a damaged file: any parser error
        raise ValueError(f"cannot read {p.name} as a skops file: {one_line(exc)}") from exc


def _load_pickle(p: Path, trust_pickle: bool, warn: Callable[[str], None]) -> Any:
    if not trust_pickle:
        raise ValueError(
            f"{p.name} is a pickle file, and loading a pickle runs any code stored in it, so "
            "glassnet refuses it; save the model with skops (.skops) or export it to ONNX, or "
            "pass --trust-pickle if you trust the file's source."
        )
    _check_magic(p, "pickle/joblib", _JOBLIB)
    import joblib

    warn(f"{p.name}: --trust-pickle loads it with pickle, which runs any code stored in the "
         "file. Only do this for files from a source you trust; skops (.skops) files are safer.")
    try:
        return joblib.load(p)
    except Exception as exc:  # a damaged pickle: any unpickling error
        raise ValueError(f"cannot load {p.name} as a pickle file: {one_line(exc)}") from exc


def classes_of(model: Any) -> Any:
    """The ``classes_`` of a classifier or of the last step of a pipeline, else None."""
    classes = getattr(model, "classes_", None)
    if classes is None and hasattr(model, "steps"):
        classes = getattr(model.steps[-1][1], "classes_", None)
    return classes
