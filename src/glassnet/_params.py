"""Declarative parameter constraints, checked by one helper for every estimator (private).

An estimator lists what each constructor parameter may be in a class attribute
``_parameter_constraints`` (as scikit-learn's estimators do) and calls
:func:`validate_params` at the start of ``fit``, so a bad value is refused by name before any
work is done, and every estimator words the refusal alike::

    n_epics must be 'auto' or an integer >= 1; got 0.

Each parameter maps to a list of alternatives; the value must satisfy one of them. An
alternative is ``None`` (the value ``None`` itself) or a :class:`Constraint`:
:class:`Options` (strings), :class:`Interval` (integers or finite reals between bounds,
open or closed; :class:`Integer` for the common ``>= minimum``), :class:`Boolean`,
:class:`SequenceOf` (a non-empty list, tuple, range or 1-D array whose items satisfy
constraints), :class:`InstanceOf`, :class:`RandomState`, :class:`HasMethods` (duck-typed
objects such as CV splitters) and :class:`Callable`. Booleans are never numbers here
(``True`` is not an integer of 1), and a callable satisfies only :class:`Callable`: a
function passed for a number or an option is refused, not called.

The error's type follows scikit-learn's convention: ``ValueError`` when the value has a type
some alternative takes but the value itself is out of range or not among the options,
``TypeError`` when no alternative takes its type at all (a string for an integer, a float for
an integer, a function for a number).

This module imports nothing from glassnet (layer 0): every layer's estimators use it.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from typing import Any

import numpy as np

__all__ = [
    "Boolean",
    "Callable",
    "Constraint",
    "HasMethods",
    "InstanceOf",
    "Integer",
    "Interval",
    "Options",
    "RandomState",
    "SequenceOf",
    "is_int",
    "is_real",
    "validate_params",
]


def is_int(v: Any) -> bool:
    """An integer (Python or NumPy) that is not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def is_real(v: Any) -> bool:
    """A finite real number (Python or NumPy, integers included) that is not a bool."""
    return (isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))
            and math.isfinite(v))


class Constraint:
    """What one alternative of a parameter accepts.

    Subclasses define :meth:`accepts`, ``__str__`` (the words after "must be") and
    :meth:`right_type`, which says whether a refused value at least has a type this
    alternative takes (then the refusal is a ``ValueError``, else a ``TypeError``).
    """

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` satisfies this alternative."""
        raise NotImplementedError

    def right_type(self, value: Any) -> bool:
        """Whether ``value`` has a type this alternative takes (whatever its value)."""
        return False


class Options(Constraint):
    """A string among ``values``."""

    def __init__(self, *values: str) -> None:
        self.values = values

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def right_type(self, value: Any) -> bool:
        return isinstance(value, str)

    def __str__(self) -> str:
        return " or ".join(repr(v) for v in self.values)


class Interval(Constraint):
    """An integer (``kind="integer"``) or a finite real number (``kind="real"``) in bounds.

    Parameters
    ----------
    kind : {"integer", "real"}
        Integers are Python or NumPy integers (not bools); reals are any finite real
        numbers, integers included (NaN and infinity are refused).
    low, high : float or None
        Bounds; ``None`` leaves that side unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.
    """

    def __init__(self, kind: str, low: float | None = None, high: float | None = None,
                 closed: str = "both") -> None:
        if kind not in ("integer", "real"):
            raise ValueError(f"kind must be 'integer' or 'real'; got {kind!r}.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(
                f"closed must be 'both', 'left', 'right' or 'neither'; got {closed!r}.")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def right_type(self, value: Any) -> bool:
        if self.kind == "integer":
            return is_int(value)
        return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))

    def accepts(self, value: Any) -> bool:
        # (an integer is always finite; math.isfinite would overflow on a huge one)
        if not self.right_type(value) or not (is_int(value) or math.isfinite(value)):
            return False
        low_in = self.closed in ("both", "left")
        high_in = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not low_in)):
            return False
        return not (self.high is not None
                    and (value > self.high or (value == self.high and not high_in)))

    def __str__(self) -> str:
        what = "an integer" if self.kind == "integer" else "a real number"
        lo, hi = self.low, self.high
        if lo is None and hi is None:
            return what + ("" if self.kind == "integer" else " (finite)")
        if hi is None:
            return f"{what} {'>=' if self.closed in ('both', 'left') else '>'} {lo}"
        if lo is None:
            return f"{what} {'<=' if self.closed in ('both', 'right') else '<'} {hi}"
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        return f"{what} in {left}{lo}, {hi}{right}"


class Integer(Interval):
    """An integer (not a bool) ``>= minimum``: ``Interval("integer", minimum, None)``."""

    def __init__(self, minimum: int = 1) -> None:
        super().__init__("integer", minimum, None)
        self.minimum = minimum


class Boolean(Constraint):
    """``True`` or ``False`` (Python or NumPy bool)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def right_type(self, value: Any) -> bool:
        return self.accepts(value)

    def __str__(self) -> str:
        return "True or False"


class SequenceOf(Constraint):
    """A list, tuple, range or 1-D array whose every item satisfies one of ``items``.

    Parameters
    ----------
    *items : Constraint
        What each item may be (a string is not a sequence of characters here).
    min_length : int, default=1
        The fewest items allowed (0 lets an empty sequence through).
    """

    # (a range is what a grid of counts is often written as: candidates=range(1, 9))
    _KINDS = (list, tuple, range, np.ndarray)

    def __init__(self, *items: Constraint, min_length: int = 1) -> None:
        self.items = items
        self.min_length = min_length

    def right_type(self, value: Any) -> bool:
        return isinstance(value, self._KINDS)

    def accepts(self, value: Any) -> bool:
        if not self.right_type(value) or len(value) < self.min_length:
            return False
        if isinstance(value, np.ndarray) and value.ndim != 1:
            return False
        return all(any(c.accepts(v) for c in self.items) for v in value)

    def __str__(self) -> str:
        what = "a non-empty sequence of " if self.min_length == 1 else (
            "a sequence of " if self.min_length == 0 else
            f"a sequence of at least {self.min_length} ")
        return what + " or ".join(_plural(str(c)) for c in self.items)


class InstanceOf(Constraint):
    """An instance of one of ``types`` (a bool only when ``bool`` is listed)."""

    def __init__(self, *types: type) -> None:
        self.types = types

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (bool, np.bool_)) and bool not in self.types:
            return False
        return isinstance(value, self.types)

    def right_type(self, value: Any) -> bool:
        return self.accepts(value)

    def __str__(self) -> str:
        names = {str: "a string", float: "a float", int: "an integer", dict: "a dict"}
        return " or ".join(names.get(t, f"a {t.__name__}") for t in self.types)


def _plural(words: str) -> str:
    """"an integer >= 1" -> "integers >= 1", for the items of a sequence."""
    for one, many in (("an integer", "integers"), ("a real number", "real numbers"),
                      ("a string", "strings"), ("a float", "floats")):
        words = words.replace(one, many)
    return words


class RandomState(Constraint):
    """A seed for :func:`sklearn.utils.check_random_state`: an int in [0, 2**32 - 1] or a
    ``numpy.random.RandomState`` (list ``None`` too where it is allowed)."""

    def right_type(self, value: Any) -> bool:
        return is_int(value) or isinstance(value, np.random.RandomState)

    def accepts(self, value: Any) -> bool:
        if isinstance(value, np.random.RandomState):
            return True
        return is_int(value) and 0 <= value <= 2**32 - 1

    def __str__(self) -> str:
        return "an integer in [0, 2**32 - 1] or a numpy.random.RandomState"


class HasMethods(Constraint):
    """An object (not a class, a string or bytes) with every one of ``methods`` as a callable
    attribute (a string has ``split``, but ``cv="5"`` is a typo, not a splitter)."""

    def __init__(self, *methods: str) -> None:
        self.methods = methods

    def accepts(self, value: Any) -> bool:
        return not isinstance(value, (type, str, bytes)) and all(
            callable(getattr(value, m, None)) for m in self.methods)

    def __str__(self) -> str:
        names = " and ".join(self.methods)
        return f"an object with {'a method' if len(self.methods) == 1 else 'methods'} {names}"


class Callable(Constraint):
    """A function (or any callable object that is not a class)."""

    def accepts(self, value: Any) -> bool:
        return callable(value) and not isinstance(value, type)

    def __str__(self) -> str:
        return "a callable"


def _describe(allowed: list[Any]) -> str:
    return " or ".join("None" if c is None else str(c) for c in allowed)


def check_param(name: str, value: Any, allowed: list[Any]) -> None:
    """Refuse ``value`` of the parameter ``name`` unless one of ``allowed`` accepts it.

    Parameters
    ----------
    name : str
        The parameter's name, quoted in the message.
    value : object
        Its value.
    allowed : list of Constraint or None
        The alternatives (``None`` accepts the value ``None``).

    Raises
    ------
    ValueError
        When some alternative takes the value's type but not the value.
    TypeError
        When no alternative takes its type.
    """
    if any(value is None if c is None else c.accepts(value) for c in allowed):
        return
    msg = f"{name} must be {_describe(allowed)}; got {reprlib.repr(value)}."
    if any(c is not None and c.right_type(value) for c in allowed):
        raise ValueError(msg)
    raise TypeError(msg)


def validate_params(estimator: Any) -> None:
    """Check every parameter named in ``type(estimator)._parameter_constraints``.

    The constraints map a parameter name to the list of what it may be (see the module
    docstring); the value is read with ``getattr``, as ``get_params`` would. One helper, so
    every estimator words its errors alike and a test can read what each one allows.

    Parameters
    ----------
    estimator : object
        An estimator whose class defines ``_parameter_constraints``.

    Raises
    ------
    ValueError, TypeError
        For the first parameter whose value no alternative accepts (see :func:`check_param`).
    """
    for name, allowed in type(estimator)._parameter_constraints.items():
        check_param(name, getattr(estimator, name), allowed)
