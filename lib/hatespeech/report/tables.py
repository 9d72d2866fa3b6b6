"""Metrics JSON as tables: nested payloads flattened into DataFrames, fitted to an A4 page, rendered as HTML.

Nothing here knows a section: :func:`payload_tables` turns any payload into (title, DataFrame) pairs (records
lists and row-like dicts become tables, the rest recurses), :func:`fit_table` cuts, transposes or splits a
table so that it fits the page, and :func:`table_html` renders it with our own cell formatting.
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..names import readable


def is_scalar(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


_SEP = "\x1f"  # joins nested keys while tables are built (keys such as "(0.0, 0.2]" hold dots); shown as "."


def flatten(obj: dict, prefix: str = "") -> dict[str, Any]:
    """Nested keys -> scalars. Short lists of scalars become one cell; long lists (curves) are for figures."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + _SEP))
        elif isinstance(value, (list, tuple)):
            if len(value) <= 6 and all(is_scalar(v) for v in value):
                out[name] = ", ".join(fmt_value(v) for v in value)
        else:
            out[name] = value
    return out


def _records_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _is_row(value: dict) -> bool:
    """A dict that reads as one table row: at least half of its entries are scalars (metric -> number)."""
    if not value:
        return False
    scalars = sum(1 for v in value.values() if is_scalar(v) or isinstance(v, (list, tuple)))
    return scalars >= len(value) / 2


MAX_MERGED_COLUMNS = 8  # a nested group stays in its rows' table when the table is no wider than this


def _record_tables(title: str, records: dict[str, dict]):
    """{row: {metric: value, group: {...}}} -> a table rows x metrics (+ one table per wide nested group).

    Small nested groups (e.g. filtered.{reason}) stay as dotted columns; a wide one becomes its own table,
    stacked into rows (record, inner key) x metric when it is a group of rows (per_source.{source}.{metric}).
    """

    flat = {str(k): flatten(v) for k, v in records.items()}
    frame = pd.DataFrame.from_dict(flat, orient="index")
    if len(frame.columns) <= MAX_MERGED_COLUMNS:
        return [(title, frame)]
    tables = []
    main = [c for c in frame.columns if _SEP not in c]
    if main:
        tables.append((title, frame[main]))
    groups = list(dict.fromkeys(c.split(_SEP, 1)[0] for c in frame.columns if _SEP in c))
    for group in groups:
        cols = [c for c in frame.columns if c.startswith(group + _SEP)]
        sub = frame[cols].copy()
        sub.columns = [c[len(group) + 1 :] for c in cols]
        if all(_SEP in c for c in sub.columns):
            rows: dict[tuple, dict] = {}
            for record, series in sub.iterrows():
                for col, value in series.items():
                    inner, metric = col.split(_SEP, 1)
                    rows.setdefault((record, inner), {})[metric] = value
            sub = pd.DataFrame.from_dict(rows, orient="index")
        sub = sub.dropna(how="all")
        if not sub.empty:
            tables.append((f"{title}: {group}", sub))
    return tables


def _shared_columns(rows: dict[str, dict]) -> bool:
    """Whether row dicts share most of their keys (then they make one table)."""
    keys = [set(r) for r in rows.values()]
    union = set().union(*keys)
    return sum(len(k) for k in keys) / len(keys) >= 0.6 * len(union)


def _value_tables(title: str, value):
    """Tables for one payload value: records lists and row-like dicts become tables, the rest recurses."""

    if _records_list(value):
        return [(title, pd.DataFrame([flatten(v) for v in value]))]
    if not isinstance(value, dict) or not value:
        return []
    scalars = {
        k: v
        for k, v in value.items()
        if is_scalar(v) or (isinstance(v, (list, tuple)) and not _records_list(v))
    }
    rows = {k: v for k, v in value.items() if isinstance(v, dict) and _is_row(v)}
    nested = {k: v for k, v in value.items() if isinstance(v, dict) and not _is_row(v)}
    if len(rows) > 1 and not _shared_columns(rows):
        # rows with (almost) no key in common are separate things, not one table: one table each
        nested.update(rows)
        rows = {}
    lists = {k: v for k, v in value.items() if _records_list(v)}
    tables = []
    flat_scalars = flatten(scalars)
    if flat_scalars:
        tables.append((title, pd.Series(flat_scalars, name="value").to_frame()))
    if rows:
        tables.extend(_record_tables(title, rows))
    for key, sub in nested.items():
        tables.extend(_value_tables(f"{title}: {key}", sub))
    for key, sub in lists.items():
        tables.append((f"{title}: {key}", pd.DataFrame([flatten(v) for v in sub])))
    return tables


def payload_tables(payload: dict[str, Any], keys: Iterable[str] | None = None):
    """(title, DataFrame) pairs for the given payload keys (all but the stamp when ``keys`` is None)."""

    # profile and stamp are shown in each section's source line
    keys = [
        k for k in (keys if keys is not None else payload) if k in payload and k not in ("stamp", "profile")
    ]
    tables, loose = [], {}
    for key in keys:
        value = payload[key]
        if is_scalar(value):
            loose[key] = value
        else:
            tables.extend(_value_tables(key, value))
    if loose:
        tables.insert(0, ("settings", pd.Series(loose, name="value").to_frame()))
    return [(title, show_separators(frame)) for title, frame in tables]


def show_separators(frame):
    """Nested-key labels as dotted text."""

    def show(label):
        if isinstance(label, tuple):
            return tuple(show(x) for x in label)
        return label.replace(_SEP, ".") if isinstance(label, str) else label

    frame = frame.copy()
    frame.columns = [show(c) for c in frame.columns]
    if isinstance(frame.index, pd.MultiIndex):
        frame.index = pd.MultiIndex.from_tuples([show(i) for i in frame.index])
    elif not isinstance(frame.index, pd.RangeIndex):
        frame.index = [show(i) for i in frame.index]
    return frame


def fmt_value(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value.is_integer() and abs(value) < 1e12:
            return f"{int(value):,}"
        return f"{value:.3f}" if abs(value) >= 1e-3 else f"{value:.2e}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


MAX_COLUMNS = 9  # wider tables are transposed or split so that they fit an A4 page
MAX_CELL_CHARS = 90  # longer strings (paths, descriptions) are cut; the metrics JSON has them whole
WRAP_FROM_CHARS = 24  # text cells longer than this may wrap (CSS .hs-wrap); numbers and short labels never do
WRAP_WIDTH = 26  # about how many characters wide a wrapped text cell is (CSS .hs-wrap max-width)


def _cut(value):
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        return value[: MAX_CELL_CHARS - 1] + "…"
    return value


PAGE_CHARS = 125  # about what fits across an A4 page at the print font size of tables


def _text_width(value) -> int:
    """Characters a cell takes across: long text wraps (see .hs-wrap) at about WRAP_WIDTH characters."""
    if isinstance(value, str):
        return min(len(value), WRAP_WIDTH)
    if isinstance(value, float):
        return len(fmt_value(value))
    return len(str(value))


def _table_width(frame, columns) -> int:
    index = max((_text_width(str(i)) for i in frame.index), default=0)
    total = index + 2
    for column in columns:
        cells = max((_text_width(v) for v in frame[column]), default=0)
        header = max((len(word) for word in str(column).split()), default=0)
        total += max(cells, header, 1) + 2
    return total


def fit_table(frame) -> list:
    """Shape a table for the page: long strings cut, wide-and-short transposed, still-wide split by columns.

    Widths are estimated in characters (:data:`PAGE_CHARS` across a page), so no table runs off the page.
    """
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(_cut)
    too_wide = len(frame.columns) > MAX_COLUMNS or _table_width(frame, frame.columns) > PAGE_CHARS
    if too_wide and len(frame) < len(frame.columns):
        transposed = frame.T
        if _table_width(transposed, transposed.columns) < _table_width(frame, frame.columns):
            frame = transposed
    pieces, current = [], []
    for column in frame.columns:
        if current and (len(current) >= MAX_COLUMNS or _table_width(frame, [*current, column]) > PAGE_CHARS):
            pieces.append(current)
            current = []
        current.append(column)
    if current:
        pieces.append(current)
    return [frame[cols] for cols in pieces] if len(pieces) > 1 else [frame]


def _cell_html(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):  # a system id in a cell ("A", "B" of a comparison) reads as in the text
        value = readable(value)
        text = _html.escape(value)
        return f"<span class='hs-wrap'>{text}</span>" if len(value) > WRAP_FROM_CHARS else text
    if isinstance(value, np.generic):
        value = value.item()
    return _html.escape(fmt_value(value))


def _frame_html(frame, index: bool) -> str:
    """HTML of a table with our own cell formatting (numbers never wrap, long text may)."""
    shown = frame.copy()
    shown = shown.astype(object).apply(lambda column: column.map(_cell_html))
    shown.columns = [_html.escape(readable(str(c))) for c in shown.columns]
    shown.index = [
        _html.escape(readable(" / ".join(map(str, i)) if isinstance(i, tuple) else str(i)))
        for i in shown.index
    ]
    return shown.to_html(border=0, escape=False, index=index)


def table_html(title: str, frame, max_rows: int = 60) -> str:
    """A titled table fitted to the page (:func:`fit_table`); short ones stay on one page with their title."""

    parts = []
    pieces = fit_table(frame.head(max_rows))
    for i, shown in enumerate(pieces):
        plain_index = isinstance(shown.index, pd.RangeIndex)
        body = _frame_html(shown, index=not plain_index)
        label = readable(title) if len(pieces) == 1 else f"{readable(title)} ({i + 1}/{len(pieces)})"
        keep = " hs-keep" if len(shown) <= 30 else ""
        parts.append(f"<div class='hs-table{keep}'><h4>{_html.escape(label)}</h4>{body}</div>")
    if len(frame) > max_rows:
        parts.append(f"<p class='hs-note'>first {max_rows} of {len(frame)} rows; all in the metrics JSON</p>")
    return "".join(parts)
