"""Davidson et al. 2017 tweets, ``davidson2017_hate_offensive/labeled_data.csv`` (24,783 rows).

Cleaning
--------
* The first (unnamed) column is the corpus's row index and becomes ``id``.
* ``class`` must be 0 (hate speech), 1 (offensive language) or 2 (neither); the vote counts
  ``hate_speech, offensive_language, neither`` must lie in [0, count].
* The tweets are raw: :func:`hatespeech.data.text.strip_twitter_markup` decodes HTML entities (twice: the
  corpus holds double-escaped ``&amp;#8220;``), and removes URLs, ``RT`` and ``@handles``; whitespace
  (including newlines inside quoted tweets) is collapsed. Emoji, hashtags and case are kept.
* A tweet that was only handles/URLs is empty after cleaning: filtered and counted (``empty_after_cleaning``).

Columns: ``class`` (0/1/2), ``hate_speech``, ``offensive_language``, ``neither`` (coder votes), ``count``.
The mapping to a binary hate label for phase 1 lives in :mod:`hatespeech.data.phase1`.
"""

from __future__ import annotations

from pathlib import Path

from .base import LoadedSource
from .schema import (
    DataValidationError,
    FilterLog,
    check_allowed,
    check_nonempty_text,
    check_range,
    finalize,
    read_table,
    require_columns,
)
from .text import strip_twitter_markup

NAME = "davidson"
FILE = "davidson2017_hate_offensive/labeled_data.csv"
LICENCE = "MIT"
DESCRIPTION = "Davidson et al. 2017 tweets: 0 hate speech / 1 offensive language / 2 neither"
CLASSES = {0: "hate_speech", 1: "offensive_language", 2: "neither"}
VOTES = ["hate_speech", "offensive_language", "neither"]


def load(data_dir: Path) -> LoadedSource:
    path = Path(data_dir) / FILE
    raw = read_table(path, dtype={"tweet": str})
    first = raw.columns[0]
    raw = raw.rename(columns={first: "row_id"}) if str(first).startswith("Unnamed") or first == "" else raw
    require_columns(raw, ["row_id", "count", *VOTES, "class", "tweet"], path)
    check_nonempty_text(raw, "tweet", path)
    cls = check_range(raw, "class", 0, 2, path)
    check_allowed(raw.assign(**{"class": cls}), "class", list(CLASSES), path)
    count = check_range(raw, "count", 1, 1000, path)
    for column in VOTES:
        votes = check_range(raw, column, 0, 1000, path)
        over = votes > count
        if over.any():
            raise DataValidationError(
                "coder votes exceed the number of coders ('count')",
                file=path,
                column=column,
                rows=list(raw.index[over]),
                values=list(votes[over]),
            )
    log = FilterLog()
    df = raw.assign(
        id=raw["row_id"].astype(str),
        text=raw["tweet"].map(strip_twitter_markup),
        **{"class": cls.astype(int)},
    )
    labels = ["class", *VOTES, "count"]
    out = finalize(df[["id", "text", *labels]], NAME, labels, path, log)
    return LoadedSource(NAME, out, len(raw), log.as_dict(), path, LICENCE, DESCRIPTION, labels)
