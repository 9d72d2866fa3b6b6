"""OLID v1.0 / OffensEval 2019 (Zampieri et al. 2019), ``olid_offenseval2019/``: train (13,240) + test (860).

Cleaning
--------
* ``.tsv`` files have CRLF line endings and must be read with ``quoting=csv.QUOTE_NONE`` (quote characters are
  part of the text); ``NULL`` marks a level that does not apply and becomes NaN (never a class).
* Test gold labels come from ``labels-level{a,b,c}.csv`` read with ``header=0`` (this copy starts with an
  ``id,label`` line) and are joined on ``id`` to ``testset-levela.tsv`` (all 860 test tweets): level B exists
  only for the 240 OFF tweets, level C only for the 213 TIN tweets, else NaN. Every test id must have a
  level-A label, and every level-B/C id must be a test tweet, else :class:`DataValidationError`.
* Hierarchy checked on train and test: B is set iff A = OFF; C is set iff B = TIN.
* Text: 1,057 train tweets carry CSV-escaping artefacts from the original export (a leading ``"``, ``""``
  for ``"``, a run of ``"`` at the end):
  a tweet that starts with ``"`` loses its outer quotes and ``""`` becomes ``"``. HTML entities (``&amp;``)
  are decoded; the anonymisation placeholders ``@USER`` and ``URL`` are removed (they carry no content and
  would dominate short prefixes); whitespace collapsed. A tweet left empty is counted
  (``empty_after_cleaning``).

Columns: ``subtask_a`` (NOT/OFF), ``subtask_b`` (TIN/UNT/NaN), ``subtask_c`` (IND/GRP/OTH/NaN), binary views
``offensive`` (A: OFF=1), ``targeted`` (B: TIN=1, UNT=0, NaN when A=NOT), ``group_target`` (C: GRP=1,
IND/OTH=0, NaN when not TIN); ``split`` (train/test). ``id`` is OLID's id (unique across train and test).
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pandas as pd

from .base import LoadedSource
from .schema import (
    DataValidationError,
    FilterLog,
    check_allowed,
    check_nonempty_text,
    check_unique,
    finalize,
    read_table,
    require_columns,
)
from .text import collapse_whitespace

NAME = "olid"
FOLDER = "olid_offenseval2019"
TRAIN_FILE = f"{FOLDER}/olid-training-v1.0.tsv"
TEST_FILE = f"{FOLDER}/testset-levela.tsv"
LABEL_FILES = {level: f"{FOLDER}/labels-level{level}.csv" for level in "abc"}
LICENCE = "none stated in the OLID release; mirror repo CC BY 4.0"
DESCRIPTION = "OLID / OffensEval 2019 tweets: A NOT/OFF, B TIN/UNT, C IND/GRP/OTH"
ALLOWED = {"subtask_a": ("NOT", "OFF"), "subtask_b": ("TIN", "UNT"), "subtask_c": ("IND", "GRP", "OTH")}
LABEL_COLUMNS = ["subtask_a", "subtask_b", "subtask_c", "offensive", "targeted", "group_target"]
_PLACEHOLDER = re.compile(r"@USER\b|(?<!\w)URL(?!\w)")


def clean_olid(text: str) -> str:
    if text.startswith('"'):
        text = text[1:].rstrip('"').replace('""', '"')
    text = html.unescape(text)
    return collapse_whitespace(_PLACEHOLDER.sub(" ", text))


def _read_tsv(path: Path) -> pd.DataFrame:
    # keep_default_na=False: only the literal NULL is missing (a tweet "NA" stays text).
    return read_table(
        path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False, na_values=["NULL"]
    )


def _check_hierarchy(df: pd.DataFrame, path: Path) -> None:
    for parent, value, child in (("subtask_a", "OFF", "subtask_b"), ("subtask_b", "TIN", "subtask_c")):
        bad = (df[parent] == value).to_numpy() != df[child].notna().to_numpy()
        if bad.any():
            raise DataValidationError(
                f"{child} must be set exactly when {parent} == {value!r}",
                file=path,
                column=child,
                rows=list(df.index[bad]),
                values=list(df.loc[bad, child]),
            )


def load_train(data_dir: Path) -> tuple[pd.DataFrame, Path]:
    path = Path(data_dir) / TRAIN_FILE
    df = _read_tsv(path)
    require_columns(df, ["id", "tweet", *ALLOWED], path)
    check_nonempty_text(df, "tweet", path)
    for column, allowed in ALLOWED.items():
        check_allowed(df, column, allowed, path, allow_missing=column != "subtask_a")
    _check_hierarchy(df, path)
    return df.assign(split="train"), path


def load_test(data_dir: Path) -> tuple[pd.DataFrame, list[Path]]:
    path = Path(data_dir) / TEST_FILE
    df = _read_tsv(path)
    require_columns(df, ["id", "tweet"], path)
    check_nonempty_text(df, "tweet", path)
    check_unique(df, "id", path)
    paths = [path]
    for level in "abc":
        label_path = Path(data_dir) / LABEL_FILES[level]
        labels = read_table(label_path, header=0, dtype=str, keep_default_na=False, na_values=["NULL"])
        require_columns(labels, ["id", "label"], label_path)
        labels = labels.assign(id=labels["id"].str.strip(), label=labels["label"].str.strip())
        column = f"subtask_{level}"
        check_allowed(labels, "label", ALLOWED[column], label_path)
        check_unique(labels, "id", label_path)
        unknown = ~labels["id"].isin(df["id"])
        if unknown.any():
            raise DataValidationError(
                f"label ids not in {TEST_FILE}: {list(labels.loc[unknown, 'id'][:5])}",
                file=label_path,
                column="id",
                rows=list(labels.index[unknown]),
            )
        df[column] = df["id"].map(labels.set_index("id")["label"])
        if level == "a" and df[column].isna().any():
            missing = df[column].isna()
            raise DataValidationError(
                f"test tweets without a level-A gold label: {list(df.loc[missing, 'id'][:5])}",
                file=label_path,
                column="label",
                rows=list(df.index[missing]),
            )
        paths.append(label_path)
    _check_hierarchy(df, paths[2])
    return df.assign(split="test"), paths


def load(data_dir: Path) -> LoadedSource:
    train, train_path = load_train(data_dir)
    test, test_paths = load_test(data_dir)
    raw = pd.concat([train, test], ignore_index=True)
    log = FilterLog()
    df = raw.assign(
        id=raw["id"].str.strip(),
        text=raw["tweet"].map(clean_olid),
        offensive=raw["subtask_a"].map({"OFF": 1.0, "NOT": 0.0}),
        targeted=raw["subtask_b"].map({"TIN": 1.0, "UNT": 0.0}),
        group_target=raw["subtask_c"].map({"GRP": 1.0, "IND": 0.0, "OTH": 0.0}),
    )
    for column in ("targeted", "group_target"):
        df[column] = df[column].astype(float)  # all-NaN stays float, never object
    out = finalize(df[["id", "text", *LABEL_COLUMNS, "split"]], NAME, LABEL_COLUMNS, train_path, log)
    return LoadedSource(
        NAME,
        out,
        len(raw),
        log.as_dict(),
        [train_path, *test_paths],
        LICENCE,
        DESCRIPTION,
        LABEL_COLUMNS,
        rows_raw_by_split={"train": len(train), "test": len(test)},
    )
