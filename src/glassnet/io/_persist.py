"""Save and load glassnet objects without pickle.

File format (version 1)
-----------------------
A glassnet file is a ZIP archive (conventional suffix ``.glassnet``) holding:

``manifest.json``
    ``{"format": "glassnet", "format_version": 1, "glassnet_version": ...,
    "object": <encoded tree>, "arrays": {name: {"sha256": ..., "dtype": ..., "shape": ...}}}``.
``arrays/<name>.npy``
    One NumPy ``.npy`` file per array, read back with ``allow_pickle=False``.

The ``object`` tree is plain JSON. Scalars, strings, lists and ``None`` are stored as is;
everything else is a small tagged dictionary, for example ``{"__array__": "a0"}`` (an
array stored as ``arrays/a0.npy``), ``{"__tuple__": [...]}``, ``{"__float__": "nan"}`` or
``{"__object__": "glassnet.network:ReluNetwork", "state": {...}}``.

Objects
-------
:class:`~glassnet.ReluNetwork` and :class:`~glassnet.Regions` have explicit encoders.
Other objects are saved by their state (``__getstate__``, i.e. the constructor
parameters and the learned ``*_`` attributes of an estimator), restored without calling
``__init__``. Only classes defined in ``glassnet`` or ``scikit-learn`` (estimators) and
classes registered with :func:`register` are accepted, on saving and on loading, so
loading a file never imports or runs code outside those packages. Callables (a custom
scoring function, say) cannot be saved: pass such options by name. Matplotlib figures and
axes held by an object (after ``.plot()``) are left out; call ``.plot()`` again.

Integrity
---------
Every array's SHA-256 is recorded in the manifest and checked on loading; a truncated or
altered file raises :class:`GlassnetFormatError` saying the file is damaged. A file
written by a newer format version raises :class:`GlassnetFormatError` asking for an
upgrade.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import io
import json
import math
import os
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.network import ReluNetwork
from glassnet.regions import Regions

FORMAT_NAME = "glassnet"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

__all__ = ["FORMAT_VERSION", "GlassnetFormatError", "load", "register", "save"]


class GlassnetFormatError(ValueError):
    """A file is not a glassnet file, is damaged, or was written by a newer format."""


# class path -> (to_state, from_state); the class is reached by its "module:qualname" path
_CUSTOM: dict[str, tuple[Callable[[Any], dict], Callable[[dict], Any]]] = {}
# class paths accepted by the generic state encoder in addition to the built-in rules
_ALLOWED: set[str] = set()
_ALLOWED_PACKAGES = ("glassnet", "sklearn")


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def register(
    cls: type,
    to_state: Callable[[Any], dict] | None = None,
    from_state: Callable[[dict], Any] | None = None,
) -> type:
    """Allow instances of ``cls`` in glassnet files.

    Parameters
    ----------
    cls : type
        The class.
    to_state, from_state : callable, optional
        A pair turning an instance into a dictionary (of anything :func:`save` can
        encode) and back. Without them the instance's ``__getstate__`` is stored and
        restored with ``__setstate__`` (or into ``__dict__``) without calling ``__init__``.

    Returns
    -------
    type
        ``cls``, so ``register`` can be used as a class decorator.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register expects a class; got {cls!r}.")
    if (to_state is None) != (from_state is None):
        raise ValueError("Pass both to_state and from_state, or neither.")
    path = _class_path(cls)
    if to_state is not None:
        _CUSTOM[path] = (to_state, from_state)  # type: ignore[assignment]
    _ALLOWED.add(path)
    return cls


# ---------------------------------------------------------------------- built-in encoders
def _network_state(net: ReluNetwork) -> dict:
    return {
        "weights": list(net.weights),
        "biases": list(net.biases),
        "output": net.output,
        "feature_names": None if net.feature_names is None else list(net.feature_names),
    }


def _network_from_state(s: dict) -> ReluNetwork:
    return ReluNetwork(s["weights"], s["biases"], s["output"], s["feature_names"])


_REGION_FIELDS = (
    "labels",
    "counts",
    "packed_patterns",
    "coef",
    "intercept",
    "max_abs_error",
    "representatives",
    "pred_sum",
    "pred_sumsq",
    "y_sum",
    "y_sumsq",
)


def _regions_state(r: Regions) -> dict:
    state = {"network": r.network, "feature_names": list(r.feature_names)}
    for name in _REGION_FIELDS:
        value = getattr(r, name)
        if name == "labels" and value is not None and not isinstance(value, np.ndarray):
            value = np.asarray(value)  # a lazy (dask) array is computed
        state[name] = value
    return state


def _regions_from_state(s: dict) -> Regions:
    return Regions(s["network"], **{k: s[k] for k in (*_REGION_FIELDS, "feature_names")})


register(ReluNetwork, _network_state, _network_from_state)
register(Regions, _regions_state, _regions_from_state)


# ---------------------------------------------------------------------- encoding
class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._seen: set[int] = set()

    def add_array(self, a: np.ndarray) -> dict:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = a
        return {"__array__": name}

    def encode(self, v: Any, where: str) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and type(v) is int:
            return v
        if type(v) is float:
            return v if math.isfinite(v) else {"__float__": repr(v)}
        if isinstance(v, np.generic):
            return {"__scalar__": self.encode(np.asarray(v), where)}
        if isinstance(v, np.ndarray):
            return self._encode_array(v, where)
        if type(v) is list:
            return [self.encode(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if type(v) is tuple:
            return {"__tuple__": [self.encode(x, f"{where}[{i}]") for i, x in enumerate(v)]}
        if type(v) in (set, frozenset):
            items = sorted(v, key=repr)
            encoded = [self.encode(x, where) for x in items]
            return {"__set__": encoded, "frozen": type(v) is frozenset}
        if type(v) is dict:
            return {
                "__dict__": [
                    [self.encode(k, f"{where} key"), self.encode(x, f"{where}[{k!r}]")]
                    for k, x in v.items()
                ]
            }
        if isinstance(v, bytes):
            return {"__bytes__": base64.b64encode(v).decode("ascii")}
        if isinstance(v, complex):
            return {"__complex__": [self.encode(v.real, where), self.encode(v.imag, where)]}
        if isinstance(v, np.dtype):
            if v.fields is not None or v.kind == "O":
                raise TypeError(f"Cannot save {where}: dtype {v} is not supported.")
            return {"__dtype__": v.str}
        if isinstance(v, type):
            return {"__type__": self._type_path(v, where)}
        if isinstance(v, np.random.RandomState):
            return {"__randomstate__": self.encode(v.get_state(legacy=False), where)}
        if isinstance(v, np.random.Generator):
            bg = v.bit_generator
            return {
                "__generator__": _class_path(type(bg)),
                "state": self.encode(bg.state, where),
            }
        mod = type(v).__module__
        if mod.startswith("pandas"):
            return self._encode_pandas(v, where)
        if mod.startswith("torch") and type(v).__name__ in ("Tensor", "Parameter"):
            return {"__tensor__": self.encode(v.detach().cpu().numpy(), where)}
        return self._encode_object(v, where)

    def _encode_array(self, a: np.ndarray, where: str) -> Any:
        if a.dtype.kind == "O":
            flat = a.ravel().tolist()
            if all(x is None or type(x) in (str, int, float, bool) for x in flat):
                return {
                    "__objarray__": [self.encode(x, where) for x in flat],
                    "shape": list(a.shape),
                }
            raise TypeError(
                f"Cannot save {where}: an object array holding "
                f"{sorted({type(x).__name__ for x in flat})}; only numbers and strings are "
                "supported."
            )
        if a.dtype.fields is not None or a.dtype.kind == "V":
            raise TypeError(f"Cannot save {where}: structured arrays are not supported.")
        return self.add_array(np.array(a, copy=True))

    def _encode_pandas(self, v: Any, where: str) -> Any:
        import pandas as pd

        if isinstance(v, pd.DataFrame):
            return {
                "__dataframe__": [
                    [self.encode(c, where), self._column(v[c] if v.columns.is_unique else
                                                          v.iloc[:, i], f"{where}[{c!r}]")]
                    for i, c in enumerate(v.columns)
                ],
                "index": self._index(v.index, where),
            }
        if isinstance(v, pd.Series):
            return {
                "__series__": self._column(v, where),
                "name": self.encode(v.name, where),
                "index": self._index(v.index, where),
            }
        if isinstance(v, pd.Index):
            return self._index(v, where)
        raise TypeError(f"Cannot save {where}: pandas {type(v).__name__} is not supported.")

    def _column(self, s: Any, where: str) -> Any:
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biufcmMUS?":
            return {"values": self.encode(s.to_numpy(), where), "dtype": s.dtype.str}
        values = s.astype(object).where(s.notna(), None).to_numpy()
        return {"values": self.encode(values, where), "dtype": str(s.dtype)}

    def _index(self, idx: Any, where: str) -> Any:
        import pandas as pd

        if isinstance(idx, pd.RangeIndex):
            return {"range": [idx.start, idx.stop, idx.step], "name": self.encode(idx.name, where)}
        if isinstance(idx, pd.MultiIndex):
            raise TypeError(f"Cannot save {where}: MultiIndex is not supported.")
        return {"values": self._column(pd.Series(idx), where), "name": self.encode(idx.name, where)}

    def _type_path(self, t: type, where: str) -> str:
        path = _class_path(t)
        if t.__module__ in ("builtins", "numpy") or _allowed(path, t):
            return path
        raise TypeError(f"Cannot save {where}: the type {path} is not allowed in glassnet files.")

    def _encode_object(self, v: Any, where: str) -> Any:
        cls = type(v)
        path = _class_path(cls)
        if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                          functools.partial)):
            raise TypeError(
                f"Cannot save {where}: it is a function ({v!r}); glassnet files never store "
                "code. Pass such options by name (for example scoring='roc_auc')."
            )
        if not _allowed(path, cls):
            raise TypeError(
                f"Cannot save {where}: objects of type {path} are not supported in glassnet "
                "files (only glassnet and scikit-learn objects; see glassnet.io.register)."
            )
        if id(v) in self._seen:
            raise TypeError(f"Cannot save {where}: the object refers to itself.")
        self._seen.add(id(v))
        try:
            if path in _CUSTOM:
                state = _CUSTOM[path][0](v)
                return {"__object__": path, "state": self.encode(state, where)}
            state = v.__getstate__() if hasattr(v, "__getstate__") else v.__dict__
            if isinstance(state, dict) and any(_is_plot(x) for x in state.values()):
                # figures and axes kept by Display-style objects are redrawn by .plot()
                state = {k: x for k, x in state.items() if not _is_plot(x)}
            if isinstance(v, dict):
                return {
                    "__object__": path,
                    "items": self.encode(dict(v), where),
                    "state": self.encode(state, where),
                }
            return {"__object__": path, "state": self.encode(state, f"{where}.{cls.__name__}")}
        finally:
            self._seen.discard(id(v))


def _is_plot(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "matplotlib"


def _allowed(path: str, cls: type) -> bool:
    if path in _ALLOWED:
        return True
    top = cls.__module__.split(".")[0]
    if top == "glassnet":
        return True
    if top == "sklearn":
        from sklearn.base import BaseEstimator
        from sklearn.utils import Bunch

        if issubclass(cls, (BaseEstimator, Bunch)):
            return True
        # plain Python helpers estimators keep (an optimizer, say); extension types such as
        # a tree's C structure define their own reduction and are refused
        return (
            cls.__reduce__ is object.__reduce__
            and cls.__reduce_ex__ is object.__reduce_ex__
            and "__dict__" in dir(cls)
        )
    return False


# ---------------------------------------------------------------------- decoding
class _Reader:
    def __init__(self, zf: zipfile.ZipFile, index: dict, where: str) -> None:
        self.zf = zf
        self.index = index
        self.where = where
        self._cache: dict[str, np.ndarray] = {}

    def damaged(self, msg: str) -> GlassnetFormatError:
        return GlassnetFormatError(f"{self.where} is damaged: {msg}")

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.index:
            raise self.damaged(f"array {name!r} is not listed in the manifest.")
        if name in self._cache:
            return self._cache[name]
        try:
            raw = self.zf.read(f"arrays/{name}.npy")
        except KeyError:
            raise self.damaged(f"array {name!r} is missing.") from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise self.damaged(f"array {name!r} cannot be read ({exc}).") from None
        meta = self.index[name]
        if not isinstance(meta, dict) or hashlib.sha256(raw).hexdigest() != meta.get("sha256"):
            raise self.damaged(f"array {name!r} does not match its checksum.")
        try:
            a = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as exc:
            raise self.damaged(f"array {name!r} is not a valid .npy file ({exc}).") from None
        self._cache[name] = a
        return a

    def decode(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict) or not v:
            raise self.damaged(f"unexpected entry {str(v)[:60]!r} in the manifest.")
        tag = next(iter(v))
        try:
            return self._decode_tagged(tag, v)
        except GlassnetFormatError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise self.damaged(f"cannot rebuild a {tag.strip('_')} entry ({exc}).") from None

    def _decode_tagged(self, tag: str, v: dict) -> Any:
        d = self.decode
        if tag == "__array__":
            return self.array(v["__array__"]).copy()
        if tag == "__float__":
            if v["__float__"] not in ("nan", "inf", "-inf"):
                raise ValueError("bad float")
            return float(v["__float__"])
        if tag == "__scalar__":
            return d(v["__scalar__"])[()]
        if tag == "__tuple__":
            return tuple(d(x) for x in v["__tuple__"])
        if tag == "__set__":
            items = [d(x) for x in v["__set__"]]
            return frozenset(items) if v.get("frozen") else set(items)
        if tag == "__dict__":
            return {_hashable(d(k)): d(x) for k, x in v["__dict__"]}
        if tag == "__bytes__":
            return base64.b64decode(v["__bytes__"].encode("ascii"), validate=True)
        if tag == "__complex__":
            re_, im = v["__complex__"]
            return complex(d(re_), d(im))
        if tag == "__dtype__":
            return np.dtype(v["__dtype__"])
        if tag == "__type__":
            return _resolve(v["__type__"], self, types_only=True)
        if tag == "__objarray__":
            flat = [d(x) for x in v["__objarray__"]]
            a = np.empty(len(flat), dtype=object)
            a[:] = flat
            return a.reshape([int(s) for s in v["shape"]])
        if tag == "__randomstate__":
            rs = np.random.RandomState()
            rs.set_state(d(v["__randomstate__"]))
            return rs
        if tag == "__generator__":
            bg_cls = _resolve(v["__generator__"], self, types_only=True)
            if not (isinstance(bg_cls, type) and issubclass(bg_cls, np.random.BitGenerator)):
                raise self.damaged(f"{v['__generator__']} is not a NumPy bit generator.")
            bg = bg_cls()
            bg.state = d(v["state"])
            return np.random.Generator(bg)
        if tag == "__tensor__":
            import torch

            return torch.from_numpy(np.ascontiguousarray(d(v["__tensor__"])))
        if tag in ("__dataframe__", "__series__"):
            return self._decode_pandas(tag, v)
        if tag == "__object__":
            return self._decode_object(v)
        raise self.damaged(f"unknown entry type {tag!r}.")

    def _column(self, c: dict) -> Any:
        import pandas as pd

        values = self.decode(c["values"])
        dtype = c["dtype"]
        try:
            return pd.array(values, dtype=np.dtype(dtype) if dtype[:1] in "<>|" else dtype)
        except TypeError:
            return pd.array(values, dtype=object)

    def _index(self, c: dict) -> Any:
        import pandas as pd

        name = self.decode(c["name"])
        if "range" in c:
            return pd.RangeIndex(*[int(x) for x in c["range"]], name=name)
        return pd.Index(self._column(c["values"]), name=name)

    def _decode_pandas(self, tag: str, v: dict) -> Any:
        import pandas as pd

        index = self._index(v["index"])
        if tag == "__series__":
            name = self.decode(v["name"])
            return pd.Series(self._column(v["__series__"]), index=index, name=name)
        cols = [self.decode(k) for k, _ in v["__dataframe__"]]
        data = [self._column(c) for _, c in v["__dataframe__"]]
        df = pd.DataFrame({i: col for i, col in enumerate(data)}, index=index)
        df.columns = cols
        return df

    def _decode_object(self, v: dict) -> Any:
        path = v["__object__"]
        cls = _resolve(path, self)
        if path in _CUSTOM:
            return _CUSTOM[path][1](self.decode(v["state"]))
        obj = cls.__new__(cls)
        if "items" in v:
            obj.update(self.decode(v["items"]))
        state = self.decode(v["state"])
        if hasattr(obj, "__setstate__"):
            obj.__setstate__(state)
            return obj
        slots = None
        if isinstance(state, tuple) and len(state) == 2:  # (__dict__, __slots__ values)
            state, slots = state
        if state is not None and not isinstance(state, dict):
            raise self.damaged(f"the state of a {path} object is not a dictionary.")
        if state:
            obj.__dict__.update(state)
        for k, x in (slots or {}).items():
            object.__setattr__(obj, k, x)
        return obj


def _hashable(k: Any) -> Any:
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    return k


def _resolve(path: Any, reader: _Reader, types_only: bool = False) -> Any:
    """Import the class named by ``path`` if it is allowed in glassnet files."""
    if not isinstance(path, str) or path.count(":") != 1:
        raise reader.damaged(f"bad class name {path!r}.")
    module, qualname = path.split(":")
    top = module.split(".")[0]
    allowed_modules = (*_ALLOWED_PACKAGES, "builtins", "numpy") if types_only else _ALLOWED_PACKAGES
    if top not in allowed_modules and path not in _ALLOWED:
        raise GlassnetFormatError(
            f"{reader.where} asks for the class {path}, which glassnet files may not contain; "
            "refusing to load it."
        )
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        raise GlassnetFormatError(
            f"{reader.where} holds a {path} object, which this installation does not have "
            "(was it written by a newer glassnet or scikit-learn?)."
        ) from None
    if not isinstance(obj, type):
        raise reader.damaged(f"{path} is not a class.")
    if not types_only and not _allowed(path, obj):
        raise GlassnetFormatError(
            f"{reader.where} asks for the class {path}, which glassnet files may not contain; "
            "refusing to load it."
        )
    return obj


# ---------------------------------------------------------------------- public API
def save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """Save a glassnet object (network, regions, fitted estimator, ...) to a file.

    Parameters
    ----------
    obj : object
        A :class:`~glassnet.ReluNetwork`, :class:`~glassnet.Regions`, a fitted glassnet
        estimator (classifier, regressor, region merger, mixture of linear models), a
        scikit-learn estimator, or lists/tuples/dicts of these. See the module docstring
        for the format.
    path : str or path-like
        The file to write (conventionally with the suffix ``.glassnet``). It is written to
        a temporary file first and then renamed, so a failed save leaves no partial file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``obj`` holds something that cannot be stored without pickle (a function, an
        object of an unknown class).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from glassnet import ReluNetwork
    >>> from glassnet.io import save, load
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> path = os.path.join(tempfile.mkdtemp(), "net.glassnet")
    >>> load(save(net, path)) == net
    True
    """
    path = Path(os.fspath(path))
    if path.is_dir():
        raise ValueError(
            f"{path} is a directory; give a file name such as {path / 'model.glassnet'}."
        )
    writer = _Writer()
    tree = writer.encode(obj, type(obj).__name__)
    from glassnet import __version__

    arrays_meta = {}
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, a in writer.arrays.items():
                buf = io.BytesIO()
                np.save(buf, a, allow_pickle=False)
                raw = buf.getvalue()
                arrays_meta[name] = {
                    "sha256": hashlib.sha256(raw).hexdigest(),
                    "dtype": a.dtype.str,
                    "shape": list(a.shape),
                }
                zf.writestr(f"arrays/{name}.npy", raw)
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "glassnet_version": __version__,
                "type": _class_path(type(obj)),
                "object": tree,
                "arrays": arrays_meta,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1, allow_nan=False))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_manifest(path: str | os.PathLike[str]) -> dict:
    """Read and check the manifest of a glassnet file without loading its arrays.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    GlassnetFormatError
        If the file is not a glassnet file, is damaged, or has a newer format version.
    """
    path = Path(os.fspath(path))
    with _open(path) as zf:
        return _manifest(zf, path)


def _open(path: Path) -> zipfile.ZipFile:
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    if path.is_dir():
        raise GlassnetFormatError(f"{path} is a directory, not a glassnet file.")
    try:
        return zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile:
        raise GlassnetFormatError(
            f"{path} is not a glassnet file or is damaged (not a readable ZIP archive)."
        ) from None


def _manifest(zf: zipfile.ZipFile, path: Path) -> dict:
    try:
        raw = zf.read(MANIFEST)
    except KeyError:
        raise GlassnetFormatError(f"{path} is not a glassnet file (no {MANIFEST}).") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise GlassnetFormatError(f"{path} is damaged: cannot read {MANIFEST} ({exc}).") from None
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GlassnetFormatError(
            f"{path} is damaged: {MANIFEST} is not valid JSON ({exc})."
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise GlassnetFormatError(f"{path} is not a glassnet file (unknown manifest).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GlassnetFormatError(f"{path} is damaged: bad format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise GlassnetFormatError(
            f"{path} was written in glassnet file format {version} (by glassnet "
            f"{manifest.get('glassnet_version', '?')}); this glassnet reads format "
            f"{FORMAT_VERSION} and older. Upgrade glassnet to load it."
        )
    if not isinstance(manifest.get("arrays"), dict) or "object" not in manifest:
        raise GlassnetFormatError(f"{path} is damaged: the manifest is incomplete.")
    return manifest


def load(path: str | os.PathLike[str], *, expected_type: type | None = None) -> Any:
    """Load an object written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
    expected_type : type, optional
        Raise a TypeError unless the loaded object is an instance of this type.

    Returns
    -------
    object
        An object equal to the one saved (arrays round-trip bit for bit).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    GlassnetFormatError
        (a ValueError) If the file is not a glassnet file, is damaged (truncated, altered,
        missing parts), names a class that glassnet files may not contain, or was
        written by a newer format version.
    """
    path = Path(os.fspath(path))
    with _open(path) as zf:
        manifest = _manifest(zf, path)
        reader = _Reader(zf, manifest["arrays"], str(path))
        obj = reader.decode(manifest["object"])
    if expected_type is not None and not isinstance(obj, expected_type):
        raise TypeError(
            f"{path} holds a {type(obj).__name__}, not a {expected_type.__name__}."
        )
    return obj
