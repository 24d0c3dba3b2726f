"""Report sections a validator files: provenance, outcomes, surrogate fidelity, caveats,
per-decision appendix and monitoring.

A mixin of :class:`glassnet.report.Report`. Every figure is computed elsewhere
(:mod:`glassnet.outcomes`, :mod:`glassnet.monitor`, :func:`glassnet.local_contributions`)
and drawn by a Display; these methods only lay them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from glassnet.report._html import esc as _esc
from glassnet.report._html import fmt as _fmt

if TYPE_CHECKING:
    from glassnet.report import Report


class ValidationSections:
    """Sections for a model-risk file (SR 11-7: soundness, outcomes, monitoring)."""

    # ------------------------------------------------------------------ provenance
    def add_provenance(self, provenance: Mapping[str, Any], *,
                       title: str = "Provenance") -> Report:
        """Where the model came from: data file and hash, rows, split, seeds,
        preprocessing, training settings, metrics on training and test rows, versions.

        Parameters
        ----------
        provenance : mapping
            As written by ``glassnet train`` into the model folder (``provenance.json``;
            see :func:`glassnet.provenance.read_provenance`): nested mappings become
            sub-tables, a ``metrics`` mapping of ``{split: {metric: value}}`` becomes one
            table with a column per split. A top-level entry whose value is None (not
            applicable, such as the classes of a regression) is left out.
        """
        if not isinstance(provenance, Mapping):
            raise TypeError(f"provenance must be a mapping; got {type(provenance).__name__}.")
        parts, flat = [], []
        for key, value in provenance.items():
            if key == "metrics" and isinstance(value, Mapping):
                frame = pd.DataFrame({str(s): pd.Series(m, dtype=object)
                                      for s, m in value.items()})
                frame.index.name = "metric"
                parts.append("<h3>Performance by split</h3>" + self._table(
                    frame, "Each figure on the rows of its own split: the test rows were "
                    "never used to fit or to choose the model."))
            elif isinstance(value, Mapping):
                frame = pd.DataFrame([(str(k), _text(v)) for k, v in value.items()],
                                     columns=["item", "value"])
                parts.append(f"<h3>{_esc(str(key).replace('_', ' ').capitalize())}</h3>"
                             + self._table(frame))
            elif value is not None:  # None: not applicable (a regression's classes)
                flat.append((str(key).replace("_", " "), _text(value)))
        head = [self._table(pd.DataFrame(flat, columns=["item", "value"]))] if flat else []
        return self._add("provenance", title, head + parts)

    # ------------------------------------------------------------------ outcomes
    def add_outcomes(self, result: Any, *, title: str = "Outcomes analysis",
                     rows_note: str | None = None, key: str = "outcomes") -> Report:
        """ROC curve, Gini, KS, calibration with the Brier score and the gains table (or
        residuals for a regressor) from a :class:`glassnet.outcomes.OutcomesResult`.

        ``rows_note`` says which rows were scored (say "test rows, never used in training").
        """
        from glassnet.plotting.outcomes import OutcomesDisplay

        parts = []
        if rows_note:
            parts.append(f'<p class="note">{_esc(rows_note)}</p>')
        parts.append(self._table(result.metrics))
        disp = OutcomesDisplay.from_result(result)
        parts.append(self._figure(disp, alt="outcomes"))
        if result.gains is not None:
            gains = result.gains.rename(columns=lambda c: str(c).replace("_", " "))
            parts.append("<h3>Gains table</h3>" + self._table(
                gains, "Score bands from the highest scores down; capture rate: share of all "
                "events in the bands so far; ks: capture rate minus the share of non-events."))
        if result.calibration is not None:
            cal = result.calibration.rename(columns=lambda c: str(c).replace("_", " "))
            parts.append("<h3>Calibration</h3>" + self._table(
                cal, "Equal-count bins of the predicted probability: mean prediction against "
                "the observed event rate."))
        return self._add(key, title, parts)

    def add_fidelity(self, table: Any, *, figure: Any = None,
                     title: str = "Surrogate fidelity to the network",
                     rows_note: str | None = None) -> Report:
        """Fidelity of each simplified model to the network (from
        :func:`glassnet.outcomes.fidelity_table`), with an optional FidelityDisplay."""
        caption = (
            "How closely each simplified model reproduces the network's own scores on the "
            "same rows. score RMSE / network score std puts the error on the scale of the "
            "network's spread (0: identical, 1: no better than the mean score); decision "
            "agreement: share of rows on the same side of the cut-off.")
        parts = []
        if rows_note:
            parts.append(f'<p class="note">{_esc(rows_note)}</p>')
        parts.append(self._table(table, caption))
        if figure is not None:
            parts.append(self._figure(figure, alt="fidelity"))
        return self._add("fidelity", title, parts)

    # ------------------------------------------------------------------ caveats
    def add_caveats(self, caveats: Sequence[str], *, title: str = "Caveats") -> Report:
        """A list of what the reader must know: fragmentation, unseen regions, small regions,
        failed inference, warnings raised during the run, sampling applied to bound time.

        The bounds the report itself applied (``bounds_applied``) are appended."""
        items = [str(c) for c in caveats] + list(getattr(self, "bounds_applied", []))
        if not items:
            items = ["Nothing to report: no warnings were raised and no section was bounded."]
        body = "".join(f"<li>{_esc(c)}</li>" for c in dict.fromkeys(items))
        return self._add("caveats", title, [f'<ul class="caveats">{body}</ul>'])

    # ------------------------------------------------------------------ decisions
    def add_explanations(self, model: Any, X: Any, rows: Sequence[Any], *,
                         output: int = 0, max_features: int = 12,
                         reasons: Any = None, favorable_note: str | None = None) -> Report:
        """Per-decision appendix: for each chosen row, its exact contributions
        ``coef_j * x_j`` (they add up to the network's raw output) as a table and a
        ContributionDisplay titled with the row's own index.

        Parameters
        ----------
        model : Regions, ReluNetwork or an importable model
        X : DataFrame or array
            The rows; ``rows`` are labels of ``X.index`` for a DataFrame, positions
            otherwise.
        rows : sequence
        output : int, default 0
        max_features : int, default 12
            Largest contributions shown; the rest are folded into one "other" bar.
        reasons : DataFrame, optional
            Reason codes computed elsewhere (one row per explained row), shown as a table.
        favorable_note : str, optional
            Which class the reason codes treat as favourable (see
            :func:`glassnet.decisions.favorable_note`); default: the library-wide default
            class 0.
        """
        from glassnet.decisions.favorable import favorable_note as _note
        from glassnet.plotting import ContributionDisplay
        from glassnet.summary import local_contributions

        rows = list(rows)
        if not rows:
            raise ValueError("Pass at least one row to explain.")
        if hasattr(X, "index"):
            missing = [r for r in rows if r not in X.index]
            if missing:
                raise ValueError(f"Rows {missing[:5]} are not in the data's index.")
            pos = [int(X.index.get_loc(r)) for r in rows]
            Xs = X.iloc[pos]
        else:
            arr = np.asarray(X)
            bad = [r for r in rows if not (isinstance(r, (int, np.integer))
                                           and 0 <= r < arr.shape[0])]
            if bad:
                raise ValueError(f"Rows {bad[:5]} are not positions in 0..{arr.shape[0] - 1}.")
            Xs = arr[[int(r) for r in rows]]
        contrib = local_contributions(model, Xs, output=output)
        contrib.index = pd.Index([str(r) for r in rows], name="row")
        parts = [self._table(contrib.T.reset_index().rename(columns={"index": "term"}),
                             "Exact contributions coef_j · x_j of each chosen row (columns); "
                             "base + contributions = the network's raw output (for a binary "
                             "classifier the log-odds of class 1).", max_rows=200)]
        if reasons is not None:
            note = favorable_note or _note()
            note = note[:1].upper() + note[1:]  # not capitalize(): it lowers "FlagDefault"
            parts.append("<h3>Reason codes</h3>" + self._table(
                reasons, f"{note}. glassnet.decisions.reason_codes: the features "
                "that lowered the favourable class's score most against the reference profile "
                "(exact path attributions, log-odds units)."))
        positions = pos if hasattr(X, "index") else [int(r) for r in rows]
        for r, at in zip(rows, positions, strict=True):
            disp = ContributionDisplay.from_model(model, X, row=at, output=output,
                                                  max_features=max_features)
            parts.append(f"<h3>Row {_esc(r)}</h3>" + self._figure(disp, alt=f"row {r}"))
        return self._add("explanations", "Per-decision appendix", parts)

    # ------------------------------------------------------------------ monitoring
    def add_stability(self, result: Any, *, title: str = "Population and region stability",
                      max_features: int = 30) -> Report:
        """Monitoring section from :func:`glassnet.region_stability`: summary with status,
        PSI per feature and per region with the thresholds, score distribution shift and
        the back-test per region."""
        lo, hi = result.thresholds
        verdict = {"stable": "ok", "watch": "watch", "act": "bad"}.get(result.status, "")
        st = result.settings
        parts = [
            f'<p class="{verdict}">Overall: {_esc(result.status.upper())}</p>',
            f'<p class="note">PSI thresholds: below {lo:g} stable, {lo:g} to {hi:g} watch, '
            f"above {hi:g} act. Reference: {_fmt(st['reference rows'])} rows in "
            f"{_fmt(st['reference regions'])} activation regions; new: "
            f"{_fmt(st['new rows'])} rows. Bin edges from {_fmt(st['edge sample rows'])} "
            f"reference rows (seed {st['random_state']}).</p>",
            self._table(result.summary),
        ]
        from glassnet.plotting.monitor import ScoreShiftDisplay, StabilityDisplay

        parts.append(self._figure(StabilityDisplay.from_result(result, max_features=max_features),
                                  alt="PSI by feature and region"))
        parts.append("<h3>Score distribution</h3>" + self._figure(
            ScoreShiftDisplay.from_result(result), alt="score distribution"))
        parts.append("<h3>Features</h3>" + self._table(result.features, max_rows=max_features))
        parts.append("<h3>Activation regions</h3>" + self._table(
            result.regions, f"The {st['regions shown']} largest reference regions, the other "
            "reference regions together, and the rare regions: activation patterns holding "
            "at most one reference row, or never seen in the reference."))
        if result.merged is not None:
            parts.append("<h3>Merged regions</h3>" + self._table(result.merged))
        return self._add("stability", title, parts)


def _text(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return ", ".join(_text(x) for x in v)
    if isinstance(v, Mapping):
        return "; ".join(f"{k}: {_text(x)}" for k, x in v.items())
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return _fmt(v)
    return "" if v is None else str(v)
