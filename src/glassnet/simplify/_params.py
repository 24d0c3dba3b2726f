"""Declarative parameter constraints of the simplifiers, checked by one helper.

An estimator lists what each parameter may be in ``_parameter_constraints`` (as
scikit-learn estimators do) and calls :func:`validate_params` at the start of ``fit``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Integer", "Options", "validate_params"]


class Options:
    """Parameter constraint: a string among ``values``."""

    kind = str

    def __init__(self, *values: str) -> None:
        self.values = values

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.values

    def __str__(self) -> str:
        return " or ".join(repr(v) for v in self.values)


class Integer:
    """Parameter constraint: an integer (not a bool) ``>= minimum``."""

    kind = (int, np.integer)

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def accepts(self, value: Any) -> bool:
        return (not isinstance(value, bool) and isinstance(value, self.kind)
                and value >= self.minimum)

    def __str__(self) -> str:
        return f"an integer >= {self.minimum}"


def validate_params(estimator: Any) -> None:
    """Check the parameters named in ``type(estimator)._parameter_constraints``.

    The constraints map a parameter name to the list of what it may be: ``None``,
    :class:`Options` or :class:`Integer` (as scikit-learn's ``_parameter_constraints``).
    One helper, so every simplifier words its errors alike.

    Raises
    ------
    TypeError
        When the value's type fits none of the constraints (a float for an integer).
    ValueError
        When its type fits but its value does not (an unknown option, an integer too small).
    """
    for name, allowed in type(estimator)._parameter_constraints.items():
        value = getattr(estimator, name)
        if any(value is None if c is None else c.accepts(value) for c in allowed):
            continue
        what = " or ".join("None" if c is None else str(c) for c in allowed)
        msg = f"{name} must be {what}; got {value!r}."
        kinds = [c.kind for c in allowed if c is not None]
        if any(isinstance(value, k) and not isinstance(value, bool) for k in kinds):
            raise ValueError(msg)
        raise TypeError(msg)
