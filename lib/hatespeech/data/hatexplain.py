"""HateXplain text + majority label (Mathew et al. 2021), ``hatexplain_text_labels/{train,val,test}.json``.

Cleaning
--------
* Each file is a JSON list of ``[text, label]`` pairs (15,383 / 1,922 / 1,924). A file that is not valid JSON,
  or an item that is not a two-element ``[str, str]`` pair, raises :class:`DataValidationError` naming the
  file and the item (row) index.
* ``label`` must be ``normal``, ``offensive`` or ``hatespeech``. Text is lower-cased and tokenised as
  published (``<user>``, ``<number>`` placeholders kept); whitespace collapsed.
* A derived copy without post ids: ``id`` is ``<split>:<item index>``; ``split`` is train/val/test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .base import LoadedSource
from .schema import DataValidationError, FilterLog, check_allowed, check_nonempty_text, finalize, read_text
from .text import collapse_whitespace

NAME = "hatexplain"
FOLDER = "hatexplain_text_labels"
SPLITS = ("train", "val", "test")
LABELS = ("normal", "offensive", "hatespeech")
LICENCE = "MIT (HateXplain repo); Rule-By-Example copy states none"
DESCRIPTION = "HateXplain posts (Twitter/Gab), majority label normal / offensive / hatespeech"


def _read_split(path: Path, split: str) -> pd.DataFrame:
    try:
        items = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataValidationError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", file=path
        ) from exc
    if not isinstance(items, list):
        raise DataValidationError(
            f"expected a JSON list of [text, label] pairs, got {type(items).__name__}", file=path
        )
    for i, item in enumerate(items):
        if not (isinstance(item, list) and len(item) == 2 and all(isinstance(v, str) for v in item)):
            raise DataValidationError(
                f"item is not a [text, label] pair of strings: {str(item)[:80]!r}", file=path, rows=[i]
            )
    df = pd.DataFrame(items, columns=["text", "label"])
    df["split"] = split
    df["id"] = [f"{split}:{i}" for i in range(len(df))]
    check_nonempty_text(df, "text", path)
    check_allowed(df, "label", LABELS, path)
    return df


def load(data_dir: Path) -> LoadedSource:
    paths = [Path(data_dir) / FOLDER / f"{split}.json" for split in SPLITS]
    parts = [_read_split(path, split) for path, split in zip(paths, SPLITS)]
    raw = pd.concat(parts, ignore_index=True)
    log = FilterLog()
    df = raw.assign(text=raw["text"].map(collapse_whitespace))
    out = finalize(df[["id", "text", "label", "split"]], NAME, ["label"], paths[0], log)
    return LoadedSource(
        NAME,
        out,
        len(raw),
        log.as_dict(),
        paths,
        LICENCE,
        DESCRIPTION,
        ["label"],
        rows_raw_by_split={s: len(p) for s, p in zip(SPLITS, parts)},
    )
