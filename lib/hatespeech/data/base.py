"""What every source loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import paths


@dataclass
class LoadedSource:
    """One corpus in the unified schema (see :mod:`hatespeech.data.schema`).

    ``rows_raw`` counts the data rows of the file(s) as published (SOURCES.md's numbers);
    ``len(df)`` is what is kept; ``filtered`` says, per reason, where the difference went
    (``rows_raw == len(df) + sum(filtered.values())`` always holds, and is checked by the registry);
    ``repaired`` counts rows that were kept but needed a cleaning fallback.
    """

    name: str
    df: pd.DataFrame
    rows_raw: int
    filtered: dict[str, int]
    path: Path | list[Path]
    licence: str
    description: str
    label_columns: list[str] = field(default_factory=list)
    rows_raw_by_split: dict[str, int] = field(default_factory=dict)
    # Rows kept but repaired by a fallback in the cleaning (e.g. ToxiGen bytes that are not UTF-8), per
    # reason.
    repaired: dict[str, int] = field(default_factory=dict)

    @property
    def rows_kept(self) -> int:
        return len(self.df)

    def summary(self) -> dict:
        """The per-source entry of ``reports/metrics/data.json``."""
        return {
            "rows_raw": int(self.rows_raw),
            "rows_kept": int(self.rows_kept),
            "filtered": dict(self.filtered),
            "rows_raw_by_split": dict(self.rows_raw_by_split),
            "repaired": dict(self.repaired),
            "label_columns": list(self.label_columns),
            "licence": self.licence,
            # relative to the data dir: the published metrics must not carry the builder's file system
            "path": [paths.shown(p) for p in self.path]
            if isinstance(self.path, list)
            else paths.shown(self.path),
        }
