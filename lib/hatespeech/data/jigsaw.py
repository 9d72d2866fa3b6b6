"""Jigsaw Unintended Bias in Toxicity Classification (Civil Comments), for users who have the Kaggle CSV.

Not in the shared data folder (the competition rules forbid redistribution; see SOURCES.md). Accepted files:
Kaggle ``train.csv`` (toxicity column ``target``) or ``all_data.csv`` (column ``toxicity``, plus ``split``).
The file is found, in this order, from the ``path`` argument, ``profile.data.jigsaw_csv`` (pass it as
``path``), or ``<data_dir>/`` + one of :data:`CANDIDATES`.

Cleaning
--------
* Only the needed columns are parsed (the real file is ~800 MB): ``id``, ``comment_text``, ``target`` /
  ``toxicity``, the subtype columns :data:`SUBTYPES`, the identity columns, and ``split`` when present.
* Required: ``comment_text``, a toxicity column, :data:`SUBTYPES` and the 17 identity columns in
  :data:`IDENTITY_COLUMNS` (a missing one raises naming it); the other Kaggle identity columns
  (:data:`OPTIONAL_IDENTITY_COLUMNS`) are kept when present. ``id`` is optional (row number otherwise).
* Every label is an annotator fraction, checked in [0, 1]. ``toxicity`` is ``target`` renamed.
* Identity columns are empty for most rows (only ~25% of comments were shown to identity annotators):
  they stay NaN (never 0), so a masked loss can skip them.
* Real Civil Comments contain a few empty comments; unlike the small corpora (where an empty text raises),
  they are filtered and counted as ``empty_text``. Whitespace collapsed.
"""

from __future__ import annotations

from pathlib import Path

from .base import LoadedSource
from .schema import DataValidationError, FilterLog, check_range, finalize, read_table, require_columns
from .text import collapse_whitespace

NAME = "jigsaw"
CANDIDATES = (
    "jigsaw/train.csv",
    "jigsaw/all_data.csv",
    "jigsaw_unintended_bias/train.csv",
    "jigsaw_unintended_bias/all_data.csv",
    "train.csv",
    "all_data.csv",
)
LICENCE = "CC0 (Civil Comments text and labels); Kaggle competition rules apply to the competition files"
DESCRIPTION = "Jigsaw Unintended Bias / Civil Comments: toxicity and subtypes, identity mentions (fractions)"
SUBTYPES = ["severe_toxicity", "obscene", "identity_attack", "insult", "threat"]
IDENTITY_COLUMNS = [
    "asian",
    "atheist",
    "bisexual",
    "black",
    "buddhist",
    "christian",
    "female",
    "heterosexual",
    "hindu",
    "homosexual_gay_or_lesbian",
    "jewish",
    "latino",
    "male",
    "muslim",
    "psychiatric_or_mental_illness",
    "transgender",
    "white",
]
OPTIONAL_IDENTITY_COLUMNS = [
    "intellectual_or_learning_disability",
    "other_disability",
    "other_gender",
    "other_race_or_ethnicity",
    "other_religion",
    "other_sexual_orientation",
    "physical_disability",
]
OPTIONAL_COLUMNS = ["sexual_explicit", "identity_annotator_count", "toxicity_annotator_count", "split"]


def find_csv(data_dir: Path, path: str | Path | None = None) -> Path:
    if path is not None:
        return Path(path).expanduser()
    tried = [Path(data_dir) / c for c in CANDIDATES]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise DataValidationError(
        "no Jigsaw Unintended Bias CSV found; download train.csv (or all_data.csv) from Kaggle and pass its "
        "path (profile.data.jigsaw_csv / load_source('jigsaw', path=...)) or place it at one of "
        f"{[str(t) for t in tried]}",
        file=tried[0],
    )


def load(data_dir: Path, path: str | Path | None = None, nrows: int | None = None) -> LoadedSource:
    path = find_csv(data_dir, path)
    wanted = {
        "id",
        "comment_text",
        "target",
        "toxicity",
        *SUBTYPES,
        *IDENTITY_COLUMNS,
        *OPTIONAL_IDENTITY_COLUMNS,
        *OPTIONAL_COLUMNS,
    }
    raw = read_table(
        path,
        usecols=lambda c: c in wanted,
        dtype={"id": str, "comment_text": str, "split": str},
        keep_default_na=False,
        na_values=[""],
        nrows=nrows,
    )
    if "target" in raw.columns and "toxicity" not in raw.columns:
        raw = raw.rename(columns={"target": "toxicity"})
    if "toxicity" not in raw.columns:
        raise DataValidationError(
            "missing the toxicity column: expected 'target' (Kaggle train.csv) or "
            f"'toxicity' (all_data.csv); found {list(raw.columns)}",
            file=path,
            column="target",
        )
    require_columns(raw, ["comment_text", "toxicity", *SUBTYPES, *IDENTITY_COLUMNS], path)
    log = FilterLog()
    empty = raw["comment_text"].isna() | raw["comment_text"].astype(str).str.strip().eq("")
    df = log.drop(raw, empty, "empty_text")
    # Required targets must be present on every row; identity columns may be missing (NaN) by design.
    values = {c: check_range(df, c, 0.0, 1.0, path) for c in ["toxicity", *SUBTYPES]}
    identities = [c for c in [*IDENTITY_COLUMNS, *OPTIONAL_IDENTITY_COLUMNS] if c in df.columns]
    extra = [c for c in ("sexual_explicit",) if c in df.columns]
    values.update({c: check_range(df, c, 0.0, 1.0, path, allow_missing=True) for c in [*identities, *extra]})
    ids = df["id"].astype(str).str.strip() if "id" in df.columns else df.index.astype(str)
    df = df.assign(id=ids, text=df["comment_text"].map(collapse_whitespace), **values)
    labels = ["toxicity", *SUBTYPES, *extra, *identities]
    rest = [c for c in ("identity_annotator_count", "toxicity_annotator_count", "split") if c in df.columns]
    out = finalize(df[["id", "text", *labels, *rest]], NAME, labels, path, log)
    return LoadedSource(NAME, out, len(raw), log.as_dict(), path, LICENCE, DESCRIPTION, labels)
