"""What a counterfactual may change: immutable, one-directional, bounded, integer, one-hot
and linearly related features.

A :class:`Constraints` is built from a plain mapping (the same keys in a JSON or YAML file
for the command line)::

    {
      "immutable": ["AGE", "SEX"],
      "increase_only": ["EDUCATION_years"],
      "decrease_only": ["PAY_1"],
      "bounds": {"PAY_AMT1": [0, 1.0]},
      "integer": ["PAY_1", "PAY_2"],
      "one_hot": {"EDUCATION": ["EDU_1", "EDU_2", "EDU_3"]},
      "linear": [{"coef": {"BILL_AMT1": 1, "PAY_AMT1": -1}, "lower": 0}]
    }

Names are the network's input names (or integer indices). A name in ``immutable`` may also
be a one-hot group's name, which fixes every member. One-hot groups default to the network's
``feature_groups``; each member is then a 0/1 variable and exactly one member is 1.

``integer`` left out means *automatic*: with reference data (``counterfactual(data=...)``),
every feature whose values there are whole numbers taking at most 20 distinct values
(codes and small counts: on raw TaiwanCredit ``SEX``, ``EDUCATION``, ``MARRIAGE`` and the
six ``PAY_*`` statuses) takes whole values only, so a counterfactual never asks for
``PAY_1 = 1.255``. Amounts (many distinct whole values) stay continuous. ``"integer": []``
turns this off; a list names the integer features exactly. Without reference data no
feature is integer unless listed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from glassnet.decisions._base import input_names
from glassnet.network import ReluNetwork

__all__ = ["Constraints", "load_constraints"]

_KEYS = ("immutable", "increase_only", "decrease_only", "bounds", "integer", "one_hot", "linear")


@dataclass
class Constraints:
    """Constraints on counterfactual inputs (see the module docstring for the format).

    Attributes
    ----------
    immutable, increase_only, decrease_only : list of str or int
    integer : list of str or int, or None
        None (the default): found in the reference data (see the module docstring).
    bounds : dict of name -> (lower, upper); None for an open side
    one_hot : dict of group name -> list of member names, or None for the network's groups
    linear : list of dict with ``coef`` (name -> float) and ``lower`` and/or ``upper``
    """

    immutable: list = field(default_factory=list)
    increase_only: list = field(default_factory=list)
    decrease_only: list = field(default_factory=list)
    bounds: dict = field(default_factory=dict)
    integer: list | None = None
    one_hot: dict | None = None
    linear: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any] | None) -> Constraints:
        if spec is None:
            return cls()
        if isinstance(spec, Constraints):
            return spec
        if not isinstance(spec, Mapping):
            raise TypeError(f"constraints must be a mapping or Constraints; got "
                            f"{type(spec).__name__}.")
        unknown = sorted(set(spec) - set(_KEYS))
        if unknown:
            raise ValueError(f"Unknown constraint keys {unknown}; allowed: {list(_KEYS)}.")
        out = cls(**{k: spec[k] for k in _KEYS if k in spec})
        for k in ("immutable", "increase_only", "decrease_only", "integer"):
            v = getattr(out, k)
            if k == "integer" and v is None:
                continue
            if isinstance(v, (str, int)) or not hasattr(v, "__iter__"):
                raise TypeError(f"constraints[{k!r}] must be a list of feature names.")
            setattr(out, k, list(v))
        if not isinstance(out.bounds, Mapping):
            raise TypeError("constraints['bounds'] must map feature -> [lower, upper].")
        if out.one_hot is not None and not isinstance(out.one_hot, Mapping):
            raise TypeError("constraints['one_hot'] must map group -> list of member names.")
        if not isinstance(out.linear, list):
            raise TypeError("constraints['linear'] must be a list of {coef, lower, upper}.")
        return out


# A constraints file lists a few features: kilobytes. Files from others are read only up
# to this size, and only when they are regular files (not /dev/zero behind a link).
_MAX_CONSTRAINTS_BYTES = 1 << 20


def load_constraints(path: str | Path) -> Constraints:
    """Read constraints from a JSON file, or YAML (``.yaml``/``.yml``, needs PyYAML).

    Refused with a ValueError: anything but a regular file, a file over 1 MiB, text that is
    not UTF-8, and JSON or YAML that does not parse (including nesting too deep to parse).
    """
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"constraints file {p} is not a regular file.")
    with open(p, "rb") as fh:
        raw = fh.read(_MAX_CONSTRAINTS_BYTES + 1)
    if len(raw) > _MAX_CONSTRAINTS_BYTES:
        raise ValueError(f"constraints file {p} is over {_MAX_CONSTRAINTS_BYTES:,} bytes; a "
                         "constraints file lists a few features (kilobytes).")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"constraints file {p} is not UTF-8 text.") from exc
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - PyYAML is optional
            raise ValueError(f"{p} is YAML but PyYAML is not installed; use JSON.") from exc
        try:
            spec = yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as exc:
            raise ValueError(f"{p} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    else:
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p} is not valid JSON: {exc}") from exc
        except RecursionError as exc:
            raise ValueError(f"{p} nests its JSON too deeply to be constraints.") from exc
    return Constraints.from_dict(spec)


@dataclass
class Resolved:
    """Constraints turned into indices for one network."""

    fixed: np.ndarray  # bool (d,)
    up_only: np.ndarray
    down_only: np.ndarray
    lower: np.ndarray  # absolute bounds (d,), -inf/inf where none
    upper: np.ndarray
    integer: np.ndarray  # bool (d,)
    groups: list[np.ndarray]  # one-hot member indices
    linear: list[tuple[np.ndarray, np.ndarray, float, float]]


AUTO_INTEGER_LEVELS = 20  # whole-number columns with at most this many values: codes, counts


def whole_number_columns(data: np.ndarray) -> np.ndarray:
    """Columns of ``data`` (rows, d) whose values are whole numbers taking at most
    ``AUTO_INTEGER_LEVELS`` distinct values (bool (d,))."""
    if data.shape[0] == 0:
        return np.zeros(data.shape[1], bool)
    whole = np.all(np.isfinite(data) & (data == np.round(data)), axis=0)
    return whole & np.array([np.unique(col).size <= AUTO_INTEGER_LEVELS for col in data.T])


def resolve(net: ReluNetwork, c: Constraints, data: np.ndarray | None = None) -> Resolved:
    """Constraints as indices; ``data`` (validated rows) decides ``integer=None``."""
    names = input_names(net)
    d = len(names)
    pos = {n: i for i, n in enumerate(names)}
    groups_spec = c.one_hot if c.one_hot is not None else (
        getattr(net, "feature_groups", None) or {})

    def idx(name: Any, key: str) -> int:
        if isinstance(name, (int, np.integer)) and not isinstance(name, bool) and 0 <= name < d:
            return int(name)
        if str(name) in pos:
            return pos[str(name)]
        raise ValueError(f"constraints[{key!r}]: unknown feature {name!r}; the network's "
                         f"inputs are {names[:10]}{'...' if d > 10 else ''}.")

    groups = {str(g): np.array([idx(m, "one_hot") for m in members], dtype=np.intp)
              for g, members in groups_spec.items()}
    fixed = np.zeros(d, bool)
    for name in c.immutable:
        if str(name) in groups and str(name) not in pos:
            fixed[groups[str(name)]] = True
        else:
            fixed[idx(name, "immutable")] = True
    up, down = np.zeros(d, bool), np.zeros(d, bool)
    for name in c.increase_only:
        up[idx(name, "increase_only")] = True
    for name in c.decrease_only:
        down[idx(name, "decrease_only")] = True
    lower, upper = np.full(d, -np.inf), np.full(d, np.inf)
    for name, b in c.bounds.items():
        j = idx(name, "bounds")
        try:
            lo_, hi_ = b
            lower[j] = -np.inf if lo_ is None else float(lo_)
            upper[j] = np.inf if hi_ is None else float(hi_)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"constraints['bounds'][{name!r}] must be [lower, upper]; "
                             f"got {b!r}.") from exc
        if lower[j] > upper[j]:
            raise ValueError(f"constraints['bounds'][{name!r}]: lower {lower[j]} > upper "
                             f"{upper[j]}.")
    integer = np.zeros(d, bool)
    if c.integer is None:
        if data is not None:
            integer = whole_number_columns(data)
    else:
        for name in c.integer:
            integer[idx(name, "integer")] = True
    lin = []
    for k, row in enumerate(c.linear):
        if not isinstance(row, Mapping) or "coef" not in row:
            raise ValueError(f"constraints['linear'][{k}] needs 'coef' (feature -> number) and "
                             "'lower' and/or 'upper'.")
        cols = np.array([idx(n, "linear") for n in row["coef"]], dtype=np.intp)
        vals = np.array([float(v) for v in row["coef"].values()])
        lo_ = row.get("lower")
        hi_ = row.get("upper")
        if lo_ is None and hi_ is None:
            raise ValueError(f"constraints['linear'][{k}] needs 'lower' and/or 'upper'.")
        lin.append((cols, vals, -np.inf if lo_ is None else float(lo_),
                    np.inf if hi_ is None else float(hi_)))
    return Resolved(fixed, up, down, lower, upper, integer, list(groups.values()), lin)
