"""One CSV reader for whole files and for chunks: same files accepted, same messages.

:func:`read_header` reads the column names; :func:`iter_chunks` yields validated chunks
(``chunk_size=None``: the whole file as one chunk). Every value that is not the target is
a feature: it must be a finite number, except in the columns the caller names as text
(categorical features, read as written; only a missing value is refused there). A file is
refused, with one ``ValueError`` naming the
file, for: no header (empty file), duplicated column names, no data rows, a row with more
fields than the header, a non-numeric, missing or infinite feature value, a missing target
value, or bytes that are not UTF-8. Row problems name the column and the first data row at
fault (rows numbered from 1 after the header).

Why the results do not depend on the chunk size: every check is a per-row property, and
the reported problem is always the first row (in file order) that has one. The fast path
parses with pandas (features as float64, the target as text); when pandas refuses a chunk
(a non-numeric cell, a bad row length), :func:`_first_problem` rescans the file from the
start with Python's ``csv`` module and names the first bad row, the one pandas would have
reached first in any chunking. A file with an encoding error and another problem may be
refused with either message, depending on where pandas decodes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["iter_chunks", "iter_frames", "read_header", "text_as_codes"]

# pandas' default missing-value markers (pandas.read_csv ``na_values``), so the rescan
# reads a cell as missing exactly when pandas does
NA_VALUES = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
_MAX_FIELD = 1 << 24  # csv's default field limit is 128 KiB; pandas has none


def _sep(p: Path) -> str:
    return "\t" if p.name.lower().endswith((".tsv", ".tsv.gz")) else ","


def _not_utf8(p: Path, exc: UnicodeDecodeError) -> ValueError:
    bad = exc.object[exc.start:exc.start + 1].hex() if exc.object else "?"
    return ValueError(f"cannot read {p.name}: it is not UTF-8 text (byte 0x{bad}); save it "
                      "as UTF-8 first.")


# A compressed file may expand at most this many times its size on disk (past the floor
# below): real CSV text compresses 3-30x, while a decompression bomb (zeros under deflate)
# expands about 1,000x and would fill the memory long before any row is refused.
_MAX_RATIO = 200
_RATIO_FLOOR = 64 << 20


class _Bomb(ValueError):
    """A compressed file expanding past its allowance (refused as it is, never rescanned)."""


class _Capped(io.RawIOBase):
    """The decompressed bytes of ``raw``, refused past ``limit`` bytes."""

    def __init__(self, raw: Any, limit: int, p: Path) -> None:
        self.raw, self.limit, self.p, self.n = raw, limit, p, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        data = self.raw.read(len(buf))
        self.n += len(data)
        if self.n > self.limit:
            size = self.p.stat().st_size
            raise _Bomb(
                f"cannot read {self.p.name}: it decompresses to more than {_MAX_RATIO} times "
                f"its {size:,} bytes (a decompression bomb?); decompress it yourself if you "
                "trust it, and pass the plain CSV.")
        buf[: len(data)] = data
        return len(data)


class _Text:
    """``with _Text(...) as h: h.handle`` as pandas' handles are used, closing both."""

    def __init__(self, handle: Any, inner: Any) -> None:
        self.handle, self._inner = handle, inner

    def __enter__(self) -> _Text:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.handle.close()
        self._inner.close()


def _compressed(p: Path) -> bool:
    """Whether pandas decompresses ``p`` (by its extension)."""
    from pandas.io.common import infer_compression

    return infer_compression(p, "infer") is not None


def _open_text(p: Path) -> Any:
    """A text handle on ``p`` (decompressed by extension, as pandas does), a compressed
    file refused once it expands more than ``_MAX_RATIO`` times its size."""
    from pandas.io.common import get_handle

    if not _compressed(p):
        return get_handle(p, "r", encoding="utf-8", compression="infer", errors="strict")
    inner = get_handle(p, "rb", compression="infer", is_text=False)
    limit = max(_RATIO_FLOOR, _MAX_RATIO * p.stat().st_size)
    raw = io.BufferedReader(_Capped(inner.handle, limit, p), buffer_size=1 << 16)
    return _Text(io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline=""), inner)


def read_header(path: str | os.PathLike[str]) -> list[str]:
    """The column names of a CSV, refused when missing or duplicated.

    Empty names become ``Unnamed: i`` as pandas names them.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"data file not found: {p}")
    try:
        with _open_text(p) as handle:
            rows = (row for row in _rows(handle.handle, p) if row)
            first, second = next(rows, None), next(rows, None)
    except UnicodeDecodeError as exc:
        raise _not_utf8(p, exc) from exc
    if first is None:
        raise ValueError(f"{p.name} is empty: it has no header line with column names.")
    if second is not None and len(second) > len(first):
        # pandas would take the extra field as an index (or drop it, with index_col=False,
        # when it is empty) on the first data row only: refuse it here, as on any other row
        raise ValueError(msg_extra(p.name, 1, len(second), len(first)))
    names = [name if name != "" else f"Unnamed: {i}" for i, name in enumerate(first)]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{p.name} has duplicated column name(s) "
                         f"{', '.join(repr(d) for d in dup[:5])}; give every column its own "
                         "name.")
    return names


def _rows(handle: Any, p: Path) -> Iterator[list[str]]:
    csv.field_size_limit(_MAX_FIELD)
    try:
        yield from csv.reader(handle, delimiter=_sep(p))
    except csv.Error as exc:
        raise ValueError(f"cannot read {p.name} as CSV: {exc}.") from exc


# ---------------------------------------------------------------------- messages
def _cell(value: str) -> str:
    return repr(value if len(value) <= 30 else value[:27] + "...")


def msg_extra(name: str, row: int, n_fields: int, n_names: int) -> str:
    return (f"data row {row} of {name} has {n_fields} fields but the header has {n_names} "
            "columns; fix or remove that row.")


def msg_target(name: str, target: str, row: int) -> str:
    return (f"target column {target!r} of {name} has a missing value in data row {row}; "
            "drop or fill those rows first.")


def msg_not_numeric(name: str, col: str, row: int, value: str) -> str:
    return (f"column {col!r} of {name} is not numeric: data row {row} holds {_cell(value)}; "
            "encode it as numbers (for example one-hot) before using the file.")


def msg_missing(name: str, col: str, row: int) -> str:
    return (f"column {col!r} of {name} has a missing value in data row {row}; impute or drop "
            "those rows first.")


def msg_infinite(name: str, col: str, row: int) -> str:
    return (f"column {col!r} of {name} holds an infinite value in data row {row}; remove it "
            "first.")


# ---------------------------------------------------------------------- reading
def iter_chunks(path: str | os.PathLike[str], names: list[str], target: str | None,
                chunk_size: int | None,
                text_columns: Any = ()) -> Iterator[tuple[Any, Any]]:
    """Yield ``(X, y)``: X a DataFrame of every column but ``target``, y the target as a
    Series of numbers (or labels, when not every value is a number), or None.

    ``names`` is :func:`read_header`'s result; ``chunk_size=None`` reads the whole file as
    one chunk. The index continues across chunks (data row = index + 1). Columns named in
    ``text_columns`` (categorical features) are read as text, exactly as written, and only
    a missing value is refused there; every other feature column is float64 and must hold
    finite numbers.
    """
    p = Path(path)
    features = [c for c in names if c != target]
    text = frozenset(c for c in text_columns if c in features)
    done = 0  # data rows already yielded
    for slow in (False, True):
        try:
            for df in _parsed(p, names, features, target, chunk_size, slow, skip=done,
                              text=text):
                problem = _chunk_problem(p.name, df, features, target, text)
                if problem:
                    raise ValueError(problem)
                if chunk_size is None and len(df) == 0:
                    break
                done += len(df)
                yield df[features], None if target is None else text_as_codes(df[target])
                if chunk_size is None:
                    return
            break
        except _Refused as exc:  # pandas refused a chunk: find the first bad row ourselves
            problem = _first_problem(p, names, target, text)
            if problem or slow:
                raise ValueError(problem or f"cannot read {p.name} as CSV: {exc}") from exc
            # no bad row: a chunk mixing True/False with numbers; read the rest as text
    if done == 0:
        raise ValueError(f"{p.name} has no data rows.")


class _Refused(Exception):
    """pandas could not parse a chunk as requested (a bad row length or cell)."""


_BOOL = {"True": "1", "TRUE": "1", "true": "1", "False": "0", "FALSE": "0", "false": "0"}


def _parsed(p: Path, names: list[str], features: list[str], target: str | None,
            chunk_size: int | None, slow: bool, skip: int,
            text: frozenset[str] = frozenset()) -> Iterator[Any]:
    """DataFrame chunks with float64 features: parsed by pandas (fast), or read as text and
    converted cell by cell (slow: True/False read as 1/0, as pandas reads an all-boolean
    chunk), skipping the first ``skip`` data rows."""
    # fast: pandas infers the feature types (asking it for float64 is 1.6x slower); a
    # column it cannot read as numbers sends the chunk to the row-by-row rescan
    dtype: dict[str, Any] = {c: str for c in features} if slow else {c: str for c in text}
    if target is not None:
        dtype[target] = str
    numeric = [c for c in features if c not in text]
    for df in _frames(p, names, chunk_size, dtype=dtype):
        if len(df) and int(df.index[-1]) < skip:
            continue
        yield _as_numbers(p.name, df[df.index >= skip], numeric) if slow else _numeric(df,
                                                                                     numeric)


def _numeric(df: Any, features: list[str]) -> Any:
    """The chunk with float64 features (booleans as 1/0), or :class:`_Refused`."""
    import pandas as pd

    kinds = {c: df[c].dtype for c in features}
    if not all(pd.api.types.is_numeric_dtype(k) for k in kinds.values()):
        raise _Refused("a column pandas cannot read as numbers")
    if any(k != np.float64 for k in kinds.values()):
        df = df.astype({c: np.float64 for c, k in kinds.items() if k != np.float64})
    return df


def _frames(p: Path, names: list[str], chunk_size: int | None, **kwargs: Any) -> Iterator[Any]:
    """pandas chunks (the whole file when ``chunk_size`` is None) under ``names``; a row
    longer than the header, or a cell pandas cannot parse, raises :class:`_Refused`."""
    import pandas as pd

    def call(fn: Any) -> Any:
        # warnings filters changed only around pandas' own work, never across a yield
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)  # fields dropped
                return fn()
        except _Bomb:
            raise
        except UnicodeDecodeError as exc:
            raise _not_utf8(p, exc) from exc
        except (ValueError, pd.errors.ParserWarning) as exc:  # ParserError is a ValueError
            raise _Refused(_short(exc)) from exc

    # a compressed file through the capped handle, so that a bomb is stopped while read
    with _open_text(p) if _compressed(p) else contextlib.nullcontext() as src:
        reader = call(lambda: pd.read_csv(
            p if src is None else src.handle, sep=_sep(p), header=0, names=names,
            index_col=False, encoding="utf-8", chunksize=chunk_size or None,
            iterator=chunk_size is None, **kwargs))
        with reader:
            while True:
                try:
                    df = call(reader.get_chunk if chunk_size is None else reader.__next__)
                except StopIteration:
                    return
                yield df
                if chunk_size is None:
                    return


def iter_frames(path: str | os.PathLike[str], chunk_size: int,
                columns: list[str] | None = None) -> Iterator[Any]:
    """Raw pandas chunks of a CSV (types as pandas infers them) for
    :func:`glassnet.streaming.iter_file`, with the structural checks of
    :func:`iter_chunks`: header present and without duplicates, no row longer than it."""
    p = Path(path)
    names = read_header(p)
    try:
        yield from _frames(p, names, chunk_size, usecols=columns)
    except _Refused as exc:
        raise ValueError(_first_bad_length(p, len(names)) or
                         f"cannot read {p.name} as CSV: {exc}") from exc


def _first_bad_length(p: Path, n: int) -> str | None:
    with _open_text(p) as handle:
        rows = _rows(handle.handle, p)
        next(rows, None)
        row = 0
        for fields in rows:
            if fields:
                row += 1
                if len(fields) > n:
                    return msg_extra(p.name, row, len(fields), n)
    return None


def _as_numbers(name: str, df: Any, features: list[str]) -> Any:
    import pandas as pd

    df = df.copy()
    for c in features:
        text = df[c].replace(_BOOL)
        num = pd.to_numeric(text, errors="coerce")
        bad = num.isna() & text.notna()
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise ValueError(msg_not_numeric(name, c, int(df.index[i]) + 1,
                                             str(text.iloc[i])))
        df[c] = num.astype(np.float64)
    return df


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _chunk_problem(name: str, df: Any, features: list[str], target: str | None,
                   text: frozenset[str] = frozenset()) -> str | None:
    """The first problem, in file order, of a parsed chunk (None when it is clean)."""
    import pandas as pd

    first_t = t_inf = None
    if target is not None:
        missing = df[target].isna().to_numpy()
        infinite = np.isinf(pd.to_numeric(df[target], errors="coerce").to_numpy(np.float64))
        bad_t = missing | infinite
        if bad_t.any():
            first_t = int(np.argmax(bad_t))
            t_inf = bool(infinite[first_t])
    # text columns: only a missing value is a problem (read as NaN, like a missing number)
    X = np.column_stack([
        np.where(df[c].isna().to_numpy(), np.nan, 0.0) if c in text
        else df[c].to_numpy(dtype=np.float64) for c in features
    ]) if features else np.zeros((len(df), 0))
    bad = ~np.isfinite(X)
    rows = bad.any(axis=1)
    first_x = int(np.argmax(rows)) if rows.any() else None
    if first_t is None and first_x is None:
        return None
    if first_x is None or (first_t is not None and first_t <= first_x):
        row = int(df.index[first_t]) + 1
        return msg_infinite(name, target, row) if t_inf else msg_target(name, target, row)
    j = int(np.argmax(bad[first_x]))
    row = int(df.index[first_x]) + 1
    if np.isnan(X[first_x, j]):
        return msg_missing(name, features[j], row)
    return msg_infinite(name, features[j], row)


def text_as_codes(col: Any) -> Any:
    """A column read as text, typed: numbers where every value parses as one (int64 codes
    when all are whole, so categories are named ``1``, not ``'1'``; float64 otherwise), else
    the text itself. Each value is parsed on its own, so the result does not depend on how
    a file is cut into chunks. Used for streamed targets and for training's text columns."""
    import pandas as pd

    num = pd.to_numeric(col, errors="coerce")
    if num.notna().all():
        vals = num.to_numpy(dtype=np.float64)
        if np.all(np.abs(vals) < 2**53) and np.all(vals == np.round(vals)):
            return pd.Series(vals.astype(np.int64), index=col.index, name=col.name)
        return pd.Series(vals, index=col.index, name=col.name)
    return col


def _first_problem(p: Path, names: list[str], target: str | None,
                   text: frozenset[str] = frozenset()) -> str | None:
    """Rescan the file row by row for the first problem pandas refused in bulk."""
    n = len(names)
    t = names.index(target) if target is not None else -1
    try:
        with _open_text(p) as handle:
            rows = _rows(handle.handle, p)
            next(rows, None)  # the header
            row = 0
            for fields in rows:
                if not fields:  # a blank line: pandas skips it too
                    continue
                row += 1
                if len(fields) > n:
                    return msg_extra(p.name, row, len(fields), n)
                fields = fields + [""] * (n - len(fields))
                if t >= 0 and fields[t] in NA_VALUES:
                    return msg_target(p.name, names[t], row)
                if t >= 0 and _is_inf(fields[t]):
                    return msg_infinite(p.name, names[t], row)
                for j, cell in enumerate(fields):
                    if j == t:
                        continue
                    if names[j] in text:
                        if cell in NA_VALUES:
                            return msg_missing(p.name, names[j], row)
                        continue
                    problem = _cell_problem(p.name, names[j], row, cell)
                    if problem:
                        return problem
    except UnicodeDecodeError as exc:
        raise _not_utf8(p, exc) from exc
    return None


def _is_inf(cell: str) -> bool:
    try:
        return math.isinf(float(cell))
    except ValueError:
        return False


def _cell_problem(name: str, col: str, row: int, cell: str) -> str | None:
    if cell in NA_VALUES:
        return msg_missing(name, col, row)
    if cell in _BOOL:
        return None
    try:
        value = float(cell)
    except ValueError:
        return msg_not_numeric(name, col, row, cell)
    if math.isnan(value):
        return msg_missing(name, col, row)
    if math.isinf(value):
        return msg_infinite(name, col, row)
    return None

