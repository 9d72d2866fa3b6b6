"""ETHOS (Mollas et al. 2022), ``ethos/``: binary (998 comments) and multi-label (433 hateful comments).

Cleaning
--------
* Both files are separated by ``;`` (``sep=";"``), UTF-8; whitespace in comments collapsed.
* ``Ethos_Dataset_Binary.csv``: ``isHate`` is the fraction of annotators who said hate, checked in [0, 1];
  ``hate`` = 1.0 when ``isHate >= 0.5`` (433), else 0.0 (565), as in SOURCES.md.
* ``Ethos_Dataset_Multi_Label.csv``: every label column is an annotator fraction, checked in [0, 1] and kept
  as published (binarise with the consumer's threshold, e.g. ``profile.dualhead.label_threshold``).
* No ids in the files: ``id`` is the 0-based data-row number. (410 of the 433 multi-label comments also occur
  verbatim in the binary file; the files are kept as two sources, not joined.)
"""

from __future__ import annotations

from pathlib import Path

from .base import LoadedSource
from .schema import FilterLog, check_nonempty_text, check_range, finalize, read_table, require_columns
from .text import collapse_whitespace

FOLDER = "ethos"
BINARY_FILE = f"{FOLDER}/Ethos_Dataset_Binary.csv"
MULTI_FILE = f"{FOLDER}/Ethos_Dataset_Multi_Label.csv"
LICENCE = "GPL-3.0"
MULTI_LABELS = [
    "violence",
    "directed_vs_generalized",
    "gender",
    "race",
    "national_origin",
    "disability",
    "religion",
    "sexual_orientation",
]


def _read(path: Path, label_columns: list[str]):
    raw = read_table(path, sep=";", dtype={"comment": str})
    require_columns(raw, ["comment", *label_columns], path)
    check_nonempty_text(raw, "comment", path)
    values = {column: check_range(raw, column, 0.0, 1.0, path) for column in label_columns}
    df = raw.assign(
        id=[str(i) for i in range(len(raw))], text=raw["comment"].map(collapse_whitespace), **values
    )
    return raw, df


def load_binary(data_dir: Path) -> LoadedSource:
    path = Path(data_dir) / BINARY_FILE
    raw, df = _read(path, ["isHate"])
    df["hate"] = (df["isHate"] >= 0.5).astype(float)
    log = FilterLog()
    out = finalize(df[["id", "text", "hate", "isHate"]], "ethos_binary", ["hate", "isHate"], path, log)
    return LoadedSource(
        "ethos_binary",
        out,
        len(raw),
        log.as_dict(),
        path,
        LICENCE,
        "ETHOS binary: YouTube/Reddit comments, isHate = fraction of annotators",
        ["hate", "isHate"],
    )


def load_multilabel(data_dir: Path) -> LoadedSource:
    path = Path(data_dir) / MULTI_FILE
    raw, df = _read(path, MULTI_LABELS)
    log = FilterLog()
    out = finalize(df[["id", "text", *MULTI_LABELS]], "ethos_multilabel", MULTI_LABELS, path, log)
    return LoadedSource(
        "ethos_multilabel",
        out,
        len(raw),
        log.as_dict(),
        path,
        LICENCE,
        "ETHOS multi-label: 433 hateful comments, violence / directed / 6 identity categories "
        "(annotator fractions)",
        MULTI_LABELS,
    )
