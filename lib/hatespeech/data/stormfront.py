"""Stormfront forum sentences (de Gibert et al. 2018), ``stormfront_degibert2018/stormfront_sentences.csv``.

Cleaning
--------
* Read the convenience join ``stormfront_sentences.csv`` (10,944 rows; one sentence per row, text already
  stripped; UTF-8/ASCII) instead of the 10,944 ``.txt`` files in the tarball: same content, one file.
* ``label`` must be one of ``hate``, ``noHate``, ``relation``, ``idk/skip`` (anything else raises).
* ``relation`` (hateful only together with neighbouring sentences: 168) and ``idk/skip`` (73) have no binary
  label; they are filtered and counted as ``label_relation`` / ``label_idk_skip``.
* Whitespace collapsed (the text is otherwise untouched: mixed case, spaced punctuation as published).

Columns: ``id`` (= ``file_id``, ``<postID>_<sentenceNo>``), ``hate`` (1.0 hate / 0.0 noHate), ``label`` (the
original string), ``user_id``, ``subforum_id``, ``num_contexts``, ``sampled_split`` (the authors' balanced
``train``/``test`` subset, NaN elsewhere).
"""

from __future__ import annotations

from pathlib import Path

from .base import LoadedSource
from .schema import FilterLog, check_allowed, check_nonempty_text, finalize, read_table, require_columns
from .text import collapse_whitespace

NAME = "stormfront"
FILE = "stormfront_degibert2018/stormfront_sentences.csv"
LICENCE = "CC BY-SA 3.0 ES"
DESCRIPTION = "Stormfront forum sentences, hate / noHate (de Gibert et al. 2018)"
LABELS = {"hate": 1.0, "noHate": 0.0}
FILTERED_LABELS = {"relation": "label_relation", "idk/skip": "label_idk_skip"}


def load(data_dir: Path) -> LoadedSource:
    path = Path(data_dir) / FILE
    raw = read_table(path, dtype={"file_id": str, "label": str, "text": str, "sampled_split": str})
    require_columns(raw, ["file_id", "label", "text"], path)
    check_nonempty_text(raw, "text", path)
    check_allowed(raw, "label", [*LABELS, *FILTERED_LABELS], path)
    log = FilterLog()
    df = raw
    for label, reason in FILTERED_LABELS.items():
        df = log.drop(df, df["label"].eq(label), reason)
    df = df.assign(id=df["file_id"], text=df["text"].map(collapse_whitespace), hate=df["label"].map(LABELS))
    keep = [c for c in ("user_id", "subforum_id", "num_contexts", "sampled_split") if c in df.columns]
    df = finalize(df[["id", "text", "hate", "label", *keep]], NAME, ["hate", "label"], path, log)
    return LoadedSource(NAME, df, len(raw), log.as_dict(), path, LICENCE, DESCRIPTION, ["hate", "label"])
