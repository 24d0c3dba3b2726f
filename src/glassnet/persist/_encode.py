"""Encode objects for a glassnet file (private to ``glassnet.persist``; see ``_core``).

Only plain data, arrays of the allowed dtypes, NumPy random states, pandas frames with
allowed dtypes, the listed value types and objects of the listed classes are encoded;
anything else is a ``TypeError`` naming where it sits, so every file written can be read.
"""

from __future__ import annotations

import base64
import functools
import math
import types
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.persist._allow import BIT_GENERATORS, VALUE_TYPES, class_path, is_allowed_class
from glassnet.persist._decode import PANDAS_DTYPES
from glassnet.persist._zip import native_dtype


class Writer:
    """Encode an object tree into JSON-able data plus the arrays to store as ``.npy``."""

    def __init__(self, custom: dict[str, Callable[[Any], dict]]) -> None:
        self.custom = custom
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
            return {"__dtype__": _saveable_dtype(v, where).str}
        if isinstance(v, type):
            return {"__type__": self._type_path(v, where)}
        if isinstance(v, np.random.RandomState):
            return {"__randomstate__": self.encode(v.get_state(legacy=False), where)}
        if isinstance(v, np.random.Generator):
            bg = v.bit_generator
            if class_path(type(bg)) not in BIT_GENERATORS:
                raise TypeError(f"Cannot save {where}: bit generator {type(bg).__name__} is "
                                f"not one of {sorted(BIT_GENERATORS)}.")
            return {
                "__generator__": class_path(type(bg)),
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
        dtype = _saveable_dtype(a.dtype, where)
        return self.add_array(np.array(a, dtype=dtype, copy=True))

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
            dtype = _saveable_dtype(s.dtype, where)
            return {"values": self.encode(s.to_numpy(dtype=dtype), where), "dtype": dtype.str}
        if str(s.dtype) not in PANDAS_DTYPES:
            raise TypeError(f"Cannot save {where}: pandas dtype {s.dtype} is not supported "
                            f"(supported: numeric, {', '.join(sorted(PANDAS_DTYPES))}).")
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
        path = class_path(t)
        if VALUE_TYPES.get(path) is t:
            return path
        raise TypeError(f"Cannot save {where}: the type {path} is not allowed in glassnet "
                        f"files (only {', '.join(sorted(VALUE_TYPES))}).")

    def _encode_object(self, v: Any, where: str) -> Any:
        cls = type(v)
        path = class_path(cls)
        if isinstance(v, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                          functools.partial)):
            raise TypeError(
                f"Cannot save {where}: it is a function ({v!r}); glassnet files never store "
                "code. Pass such options by name (for example scoring='roc_auc')."
            )
        if not is_allowed_class(cls):
            raise TypeError(
                f"Cannot save {where}: objects of type {path} are not on the list of classes "
                "glassnet files may hold (docs/persistence.md; see glassnet.persist.register)."
            )
        if id(v) in self._seen:
            raise TypeError(f"Cannot save {where}: the object refers to itself.")
        self._seen.add(id(v))
        try:
            if path in self.custom:
                state = self.custom[path](v)
                return {"__object__": path, "state": self.encode(state, where)}
            state = v.__getstate__() if hasattr(v, "__getstate__") else v.__dict__
            state = {} if state is None else state
            if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
                raise TypeError(f"Cannot save {where}: the state of a {path} object is not a "
                                "dictionary of attributes.")
            if path == _NEIGHBORS and state.get("_tree") is not None:
                # a KD/ball tree is a C structure: loading rebuilds it from _fit_X
                state = {**state, "_tree": None}
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


_NEIGHBORS = "sklearn.neighbors._unsupervised:NearestNeighbors"


def _is_plot(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "matplotlib"


def _saveable_dtype(dt: np.dtype, where: str) -> np.dtype:
    """The dtype an array is stored with: ``dt`` in native byte order, if it is allowed."""
    if dt.fields is None and dt.kind not in "OV":
        dt = dt.newbyteorder("=")
    try:
        return native_dtype(dt.str)
    except ValueError:
        raise TypeError(f"Cannot save {where}: arrays of dtype {dt} are not supported (object, "
                        "structured and long-double arrays cannot be stored).") from None
