"""Rebuild the object tree of a glassnet manifest (private to ``glassnet.persist``).

Before anything is built, every class, type and bit-generator name in the tree is checked
against the exact allowlist (:mod:`glassnet.persist._allow`); one unknown name refuses
the whole file. Then the tree is decoded with plain data only: arrays from the bounded
reader, JSON scalars, containers, and objects of the listed classes restored from their
state and checked (:mod:`glassnet.persist._check`).
"""

from __future__ import annotations

import base64
import math
import re
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.persist._allow import (
    BIT_GENERATORS,
    VALUE_TYPES,
    is_allowed_name,
    resolve_class,
)
from glassnet.persist._check import check_object
from glassnet.persist._zip import ArraySpec, GlassnetFormatError, native_dtype, read_array

# pandas extension dtypes a column may name (numpy dtypes go through native_dtype)
PANDAS_DTYPES = frozenset({
    "object", "category", "string", "boolean", "Int8", "Int16", "Int32", "Int64", "UInt8",
    "UInt16", "UInt32", "UInt64", "Float32", "Float64", "str",
})
_NAME_TAGS = ("__object__", "__type__", "__generator__")


def check_names(tree: Any, where: str) -> None:
    """Refuse the file if any class, type or generator name in it is not allowlisted.

    Runs over the whole tree before anything is decoded, so a refused file builds nothing.
    """
    stack = [tree]
    while stack:
        v = stack.pop()
        if isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            for tag in _NAME_TAGS:
                if tag in v:
                    name = v[tag]
                    ok = (is_allowed_name(name) if tag == "__object__" else
                          name in (VALUE_TYPES if tag == "__type__" else BIT_GENERATORS)
                          if isinstance(name, str) else False)
                    if not ok:
                        raise GlassnetFormatError(
                            f"{where} asks for {str(name)[:120]!r}, which is not on the list of "
                            "classes glassnet files may contain; refusing to load it."
                        )
            stack.extend(v.values())


class Reader:
    """Decode one manifest tree; arrays are read (bounded, checksummed) on first use."""

    def __init__(self, zf: zipfile.ZipFile, specs: dict[str, ArraySpec], where: str,
                 custom: dict[str, Callable[[dict], Any]]) -> None:
        self.zf = zf
        self.specs = specs
        self.where = where
        self.custom = custom
        self._cache: dict[str, np.ndarray] = {}

    def damaged(self, msg: str) -> GlassnetFormatError:
        return GlassnetFormatError(f"{self.where} is damaged: {msg}")

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.specs:
            raise self.damaged(f"array {str(name)[:40]!r} is not listed in the manifest.")
        if name not in self._cache:
            self._cache[name] = read_array(self.zf, self.specs[name], self.where)
        return self._cache[name]

    def decode(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            if not any(isinstance(x, (list, dict)) for x in v):
                return list(v)  # a list of JSON scalars (a loss curve, names): as it is
            return [self.decode(x) for x in v]
        if not isinstance(v, dict) or not v:
            raise self.damaged(f"unexpected entry {str(v)[:60]!r} in the manifest.")
        tag = next(iter(v))
        try:
            return self._decode_tagged(tag, v)
        except GlassnetFormatError:
            raise
        except Exception as exc:  # KeyError, TypeError, ValueError, OverflowError, ...
            raise self.damaged(f"cannot rebuild a {str(tag)[:40].strip('_')} entry "
                               f"({type(exc).__name__}: {str(exc)[:200]}).") from exc

    def _decode_tagged(self, tag: str, v: dict) -> Any:
        d = self.decode
        if tag == "__array__":
            return self.array(v["__array__"]).copy()
        if tag == "__float__":
            if v["__float__"] not in ("nan", "inf", "-inf"):
                raise ValueError("bad float")
            return float(v["__float__"])
        if tag == "__scalar__":
            a = d(v["__scalar__"])
            if not isinstance(a, np.ndarray) or a.ndim != 0:
                raise ValueError("a scalar must be a 0-d array")
            return a[()]
        if tag == "__tuple__":
            return tuple(_list(d(v["__tuple__"])))
        if tag == "__set__":
            items = [_hashable(x) for x in _list(d(v["__set__"]))]
            return frozenset(items) if v.get("frozen") is True else set(items)
        if tag == "__dict__":
            pairs = _list(v["__dict__"])
            out = {}
            for pair in pairs:
                k, x = _list(pair)
                out[_hashable(d(k))] = d(x)
            return out
        if tag == "__bytes__":
            return base64.b64decode(_str(v["__bytes__"]).encode("ascii"), validate=True)
        if tag == "__complex__":
            re_, im = _list(v["__complex__"])
            re_, im = d(re_), d(im)
            if not all(type(x) in (int, float) for x in (re_, im)):
                raise TypeError("complex parts must be numbers")
            return complex(re_, im)
        if tag == "__dtype__":
            return native_dtype(v["__dtype__"])
        if tag == "__type__":
            return VALUE_TYPES[v["__type__"]]
        if tag == "__objarray__":
            flat = _list(d(v["__objarray__"]))
            if not all(x is None or type(x) in (str, int, float, bool) for x in flat):
                raise TypeError("an object array may hold only numbers, strings and None")
            shape = _shape(v["shape"])
            if math.prod(shape) != len(flat):
                raise ValueError("object array shape does not match its items")
            a = np.empty(len(flat), dtype=object)
            a[:] = flat
            return a.reshape(shape)
        if tag == "__randomstate__":
            state = d(v["__randomstate__"])
            if not isinstance(state, dict):
                raise TypeError("a RandomState state must be a dictionary")
            rs = np.random.RandomState()
            rs.set_state(state)
            return rs
        if tag == "__generator__":
            bg = BIT_GENERATORS[v["__generator__"]]()
            state = d(v["state"])
            if not isinstance(state, dict):
                raise TypeError("a bit generator state must be a dictionary")
            bg.state = state
            return np.random.Generator(bg)
        if tag == "__tensor__":
            a = d(v["__tensor__"])
            if not isinstance(a, np.ndarray) or a.dtype.kind not in "biufc":
                raise TypeError("a tensor must be a numeric array")
            import torch

            return torch.from_numpy(np.ascontiguousarray(a))
        if tag in ("__dataframe__", "__series__"):
            return self._decode_pandas(tag, v)
        if tag == "__object__":
            return self._decode_object(v)
        raise self.damaged(f"unknown entry type {str(tag)[:40]!r}.")

    # ------------------------------------------------------------------ pandas
    def _column(self, c: Any) -> Any:
        import pandas as pd

        if not isinstance(c, dict):
            raise TypeError("a column must be a mapping")
        values = self.decode(c["values"])
        if not isinstance(values, np.ndarray) or values.ndim != 1:
            raise TypeError("column values must be a 1-D array")
        dtype = _str(c["dtype"])
        if dtype in PANDAS_DTYPES:
            try:
                return pd.array(values, dtype=dtype)
            except (TypeError, ValueError):
                return pd.array(values, dtype=object)
        return pd.array(values, dtype=native_dtype(dtype))

    def _index(self, c: Any) -> Any:
        import pandas as pd

        if not isinstance(c, dict):
            raise TypeError("an index must be a mapping")
        name = self.decode(c["name"])
        if "range" in c:
            start, stop, step = (_int(x) for x in _list(c["range"]))
            idx = pd.RangeIndex(start, stop, step, name=name)
            return idx
        return pd.Index(self._column(c["values"]), name=name)

    def _decode_pandas(self, tag: str, v: dict) -> Any:
        import pandas as pd

        index = self._index(v["index"])
        if tag == "__series__":
            values = self._column(v["__series__"])
            if len(values) != len(index):
                raise ValueError("series length does not match its index")
            return pd.Series(values, index=index, name=_hashable(self.decode(v["name"])))
        pairs = [_list(p) for p in _list(v["__dataframe__"])]
        cols = [_hashable(self.decode(p[0])) for p in pairs]
        data = [self._column(p[1]) for p in pairs]
        if any(len(col) != len(index) for col in data):
            raise ValueError("a column's length does not match the index")
        if not data and len(index) > (1 << 32):
            raise ValueError("an empty frame with an absurd index")
        df = pd.DataFrame(dict(enumerate(data)), index=index)
        df.columns = cols
        return df

    # ------------------------------------------------------------------ objects
    def _decode_object(self, v: dict) -> Any:
        path = v["__object__"]
        if not is_allowed_name(path):  # check_names ran first; kept so this stays safe alone
            raise GlassnetFormatError(f"{self.where} asks for {str(path)[:120]!r}; refusing.")
        try:
            cls = resolve_class(path)
        except LookupError:
            raise GlassnetFormatError(
                f"{self.where} holds a {path} object, which this installation does not have "
                "(was it written by a newer glassnet or scikit-learn?)."
            ) from None
        if path in self.custom:
            state = self.decode(v["state"])
            if not isinstance(state, dict):
                raise TypeError(f"the state of a {path} object is not a dictionary")
            obj = self.custom[path](state)
        else:
            state = self.decode(v["state"])
            if not isinstance(state, dict) or not all(_attribute_name(k) for k in state):
                raise TypeError(f"the state of a {path} object is not a dictionary of "
                                "attribute names")
            obj = cls.__new__(cls)
            if "items" in v:
                items = self.decode(v["items"])
                if not isinstance(obj, dict) or not isinstance(items, dict):
                    raise TypeError(f"a {path} object has no items")
                dict.update(obj, items)
            setstate = getattr(cls, "__setstate__", None)
            if setstate is not None and setstate is not getattr(object, "__setstate__", None):
                obj.__setstate__(state)  # scikit-learn's: checks the version, updates __dict__
            else:
                obj.__dict__.update(state)
        try:
            check_object(path, obj)
        except ValueError as exc:
            raise GlassnetFormatError(
                f"{self.where} holds an inconsistent {path.split(':')[1]}: {exc}."
            ) from None
        return obj


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,200}")


def _attribute_name(k: Any) -> bool:
    """An identifier that is not a dunder (``__class__``, ``__dict__``, ...)."""
    return (isinstance(k, str) and _IDENT.fullmatch(k) is not None
            and not (k.startswith("__") and k.endswith("__")))


def _list(v: Any) -> list:
    if not isinstance(v, list):
        raise TypeError(f"expected a list, got {type(v).__name__}")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError(f"expected a string, got {type(v).__name__}")
    return v


def _int(v: Any) -> int:
    if type(v) is not int or abs(v) > (1 << 62):
        raise TypeError("expected an integer")
    return v


def _shape(v: Any) -> tuple[int, ...]:
    shape = tuple(_int(s) for s in _list(v))
    if len(shape) > 32 or any(s < 0 for s in shape):
        raise ValueError("bad shape")
    return shape


def _hashable(k: Any) -> Any:
    if isinstance(k, list):
        return tuple(_hashable(x) for x in k)
    hash(k)  # TypeError for a dict or set: caught as damage
    return k
