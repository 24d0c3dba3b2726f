"""The favourable class: one default for the whole library, and one way to state it.

A credit model scores the risk of an *event*: class 1 is the default (TaiwanCredit's
``FlagDefault = 1``), the positive class of every score (AUC, KS, Brier, the outcomes
section). The favourable decision is the absence of the event, class 0: the applicant who
is expected to repay is approved. So every part of glassnet that needs to know which
decision is good for the applicant uses ``favorable=0`` unless told otherwise:

* :mod:`glassnet.decisions` (``reason_codes``, ``path_attributions``, ``recourse_audit``,
  the ``approved_*`` references), and ``ReasonCodeDisplay``;
* :func:`glassnet.diagnose.fairness` (the favourable-decision rate behind the adverse
  impact ratio and the equal-opportunity gap);
* the reports' per-decision appendix and fairness table, and the CLI (``--favorable``).

A model whose class 1 is the good outcome (1 = approved) passes ``favorable=1``
everywhere; the value given is honoured by every function, never overridden. Each
report or table that uses the favourable class says which one it used
(:func:`favorable_note`), so a validator never has to guess.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEFAULT_FAVORABLE", "class_label", "favorable_note"]

#: The favourable class index used when none is given: 0, the absence of the modelled
#: event (class 1 = default in credit data). See the module docstring.
DEFAULT_FAVORABLE = 0


def class_label(value: Any) -> str:
    """A class label printed one way everywhere: integral floats as integers (1, not 1.0)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def favorable_note(favorable: Any = DEFAULT_FAVORABLE, *, target: str | None = None,
                   classes: Any = None) -> str:
    """The sentence every report and table carries: which class it treats as favourable.

    Parameters
    ----------
    favorable : int, default=DEFAULT_FAVORABLE
        The favourable class index (its position in ``classes``).
    target : str, optional
        Name of the target column (``FlagDefault``), shown as ``target = label``.
    classes : sequence, optional
        The class labels in the model's order (``classes_``); without them the label is
        the index itself (a 0/1 target).

    Returns
    -------
    str
        For example ``"favourable class: 0 (FlagDefault = 0)"``.

    Examples
    --------
    >>> favorable_note(0, target="FlagDefault")
    'favourable class: 0 (FlagDefault = 0)'
    >>> favorable_note(1, target="decision", classes=["declined", "approved"])
    'favourable class: 1 (decision = approved)'
    """
    label = favorable
    if classes is not None:
        seq = list(classes)
        if isinstance(favorable, (int, np.integer)) and not isinstance(favorable, bool) \
                and 0 <= int(favorable) < len(seq):
            label = seq[int(favorable)]
    text = f"favourable class: {class_label(favorable)}"
    if target:
        text += f" ({target} = {class_label(label)})"
    return text
