"""The unified schema every loader returns, the validation helpers, and the filter log.

Unified schema
--------------
Every ``load_source(...).df`` has, in this order:

* ``id``     (str)  unique within its source (the corpus's own id where it has one, else ``<file>:<row>``);
* ``source`` (str)  the registry name (``"stormfront"``, ``"olid"``, ...);
* ``text``   (str)  the cleaned text, never empty;

then the source's label columns (listed in ``LoadedSource.label_columns``) and any metadata columns (e.g.
``split`` for corpora with an official split). A label the source does not annotate for a row is NaN, never 0
(e.g. OLID's level B for a NOT tweet, Jigsaw identity columns for unannotated comments).

Validation policy (house rule): bad input raises :class:`DataValidationError` naming the file, the column and
the row / value; rows that are dropped *on purpose* (a label outside the binary task, a text that is empty
only after our cleaning) are counted per reason in a :class:`FilterLog` and reported, never dropped silently.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

BASE_COLUMNS = ("id", "source", "text")


class DataValidationError(ValueError):
    """Bad input data. The message names the file, the column and the offending row(s) / value(s)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        column: str | None = None,
        rows: Iterable[Any] | None = None,
        values: Iterable[Any] | None = None,
    ):
        self.file = str(file) if file is not None else None
        self.column = column
        self.rows = list(rows) if rows is not None else []
        self.values = list(values) if values is not None else []
        parts = []
        if self.file is not None:
            parts.append(f"file {self.file}")
        if column is not None:
            parts.append(f"column {column!r}")
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:5])
            more = f" (+{len(self.rows) - 5} more)" if len(self.rows) > 5 else ""
            parts.append(f"row {shown}{more}")
        where = ", ".join(parts)
        super().__init__(f"{where}: {message}" if where else message)


class DataLeakageError(DataValidationError):
    """Phase-2 (prefix_probability) sentences found in phase-1 data."""


class FilterLog(Counter):
    """Counts rows filtered on purpose, per reason: ``{"empty_text": 3, "label_relation": 168}``.

    A ``collections.Counter`` so logs add up (``log_a + log_b``); :meth:`as_dict` gives plain ints for JSON.
    """

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            self[reason] += int(n)

    def drop(self, df: pd.DataFrame, mask, reason: str) -> pd.DataFrame:
        """Return ``df[~mask]`` and count ``mask.sum()`` rows under ``reason``."""
        mask = np.asarray(mask, dtype=bool)
        self.add(reason, int(mask.sum()))
        return df.loc[~mask]

    def __add__(self, other):
        return FilterLog(Counter(self) + Counter(other))

    def as_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in sorted(self.items()) if v}


# --------------------------------------------------------------------------------------------------- reading
def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """Read a whole file as text, strictly.

    Raises :class:`DataValidationError` for a missing file, binary content (NUL bytes) or an undecodable byte,
    naming the file and the line of the bad byte (pandas' own UnicodeDecodeError gives a chunk offset, not a
    line).
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError(
            "file not found (set HATESPEECH_DATA_DIR or pass data_dir=... to the folder holding the corpora; "
            "see SOURCES.md)",
            file=path,
        )
    if not path.is_file():
        raise DataValidationError("not a regular file", file=path)
    raw = path.read_bytes()
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise DataValidationError(
            f"unreadable: binary content (NUL byte at byte {nul}, line {line}); expected a text file",
            file=path,
        )
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.end]
        raise DataValidationError(
            f"unreadable encoding: byte {bad!r} at byte {exc.start} (line {line}) is not valid {encoding}",
            file=path,
        ) from exc


# Files above this size are parsed by pandas straight from disk instead of being decoded in memory first
# (Jigsaw's train.csv is ~800 MB); an encoding error then names the file but not the line.
STREAM_ABOVE_BYTES = 64 * 1024 * 1024


def read_table(
    path: str | Path, *, sep: str = ",", quoting: int = csv.QUOTE_MINIMAL, encoding: str = "utf-8", **kwargs
) -> pd.DataFrame:
    """``pd.read_csv`` on a strictly decoded file; parser and decoding errors are re-raised naming the
    file."""
    path = Path(path)
    kind = "TSV" if sep == "\t" else "CSV"
    if path.is_file() and path.stat().st_size > STREAM_ABOVE_BYTES:
        try:
            return pd.read_csv(
                path, sep=sep, quoting=quoting, encoding=encoding, encoding_errors="strict", **kwargs
            )
        except UnicodeDecodeError as exc:
            raise DataValidationError(
                f"unreadable encoding: not valid {encoding} ({exc.reason})", file=path
            ) from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
            raise DataValidationError(f"cannot parse as {kind} ({exc})", file=path) from exc
    text = read_text(path, encoding=encoding)
    if not text.strip():
        raise DataValidationError("file is empty", file=path)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, quoting=quoting, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
        raise DataValidationError(f"cannot parse as {kind} ({exc})", file=path) from exc


# ------------------------------------------------------------------------------------------------ validation
def require_columns(df: pd.DataFrame, columns: Iterable[str], file: str | Path) -> None:
    """Raise naming the file and every missing column (and the columns that are there)."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"missing required column(s) {missing}; found {list(map(str, df.columns))}",
            file=file,
            column=missing[0],
        )


def show_values(values: Iterable[Any], limit: int = 5) -> str:
    """The distinct offending values, repr'd, for a message: ``'maybe', 7``."""
    shown = sorted({repr(v) for v in values})
    return ", ".join(shown[:limit]) + (f" (+{len(shown) - limit} more)" if len(shown) > limit else "")


def _row_labels(df: pd.DataFrame, mask) -> list[Any]:
    return list(df.index[np.asarray(mask, dtype=bool)])


def check_nonempty_text(df: pd.DataFrame, column: str, file: str | Path) -> None:
    """Raise if any text is missing or only whitespace; rows are the data-row numbers (0 = first data row)."""
    values = df[column]
    empty = values.isna() | values.astype(str).str.strip().eq("")
    if empty.any():
        raise DataValidationError(
            f"empty text in {int(empty.sum())} row(s)", file=file, column=column, rows=_row_labels(df, empty)
        )


def check_allowed(
    df: pd.DataFrame, column: str, allowed: Iterable[Any], file: str | Path, allow_missing: bool = False
) -> None:
    """Raise naming the rows and values of ``column`` outside ``allowed``."""
    allowed = set(allowed)
    values = df[column]
    missing = values.isna()
    bad = ~values.isin(allowed) & ~missing
    if not allow_missing:
        bad |= missing
    if bad.any():
        raise DataValidationError(
            f"label value(s) {show_values(values[bad])} not in the allowed set {sorted(map(repr, allowed))}",
            file=file,
            column=column,
            rows=_row_labels(df, bad),
            values=list(values[bad]),
        )


def check_range(
    df: pd.DataFrame, column: str, low: float, high: float, file: str | Path, allow_missing: bool = False
) -> pd.Series:
    """Coerce ``column`` to float and raise naming the rows/values that are non-numeric or outside
    [low, high]."""
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    non_numeric = values.isna() & raw.notna()
    if non_numeric.any():
        raise DataValidationError(
            f"non-numeric label value(s) {show_values(raw[non_numeric])}",
            file=file,
            column=column,
            rows=_row_labels(df, non_numeric),
            values=list(raw[non_numeric]),
        )
    bad = (values < low) | (values > high)
    if not allow_missing:
        bad |= values.isna()
    if bad.any():
        raise DataValidationError(
            f"label value(s) {show_values(values[bad])} outside the range [{low}, {high}]",
            file=file,
            column=column,
            rows=_row_labels(df, bad),
            values=list(values[bad]),
        )
    return values.astype(float)


def check_unique(df: pd.DataFrame, column: str, file: str | Path) -> None:
    dup = df[column].duplicated(keep=False)
    if dup.any():
        raise DataValidationError(
            f"duplicate id value(s) {sorted(map(str, df.loc[dup, column]))[:5]}",
            file=file,
            column=column,
            rows=_row_labels(df, dup),
        )


def finalize(
    df: pd.DataFrame, source: str, label_columns: Iterable[str], file: str | Path, log: FilterLog
) -> pd.DataFrame:
    """Put the frame in schema order, drop texts that our cleaning emptied (counted as
    ``empty_after_cleaning``), check id uniqueness and reset the index."""
    df = df.copy()
    df["source"] = source
    df["id"] = df["id"].astype(str)
    df["text"] = df["text"].astype(str)
    df = log.drop(df, df["text"].str.strip().eq(""), "empty_after_cleaning")
    check_unique(df, "id", file)
    label_columns = [c for c in label_columns]
    rest = [c for c in df.columns if c not in (*BASE_COLUMNS, *label_columns)]
    return df[[*BASE_COLUMNS, *label_columns, *rest]].reset_index(drop=True)


def validate_schema(df: pd.DataFrame, name: str = "frame") -> None:
    """Check a frame follows the unified schema (used by tests and by ``load_source``)."""
    require_columns(df, BASE_COLUMNS, name)
    check_nonempty_text(df, "text", name)
    check_unique(df, "id", name)
