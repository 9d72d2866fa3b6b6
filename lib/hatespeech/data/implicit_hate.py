"""Latent Hatred / implicit-hate corpus (ElSherief et al. 2021), ``implicit_hate_elsherief2021/``.

Three loaders: stage 1 (``implicit_hate``: not_hate / implicit_hate / explicit_hate, 21,480 posts), stage 2
(``implicit_hate_stg2``: implicit category, 6,346) and stage 3 (``implicit_hate_stg3``: free-text target and
implied statement, 6,358).

Cleaning
--------
* The ``*_posts.tsv`` files hold the text but no ID; the ID files (``implicit_hate_v1_stg{1,2,3}.tsv``) are
  row-aligned with them (SOURCES.md, prefix_probability/README.md). We join by row position and *check* the
  alignment: the label column(s) present in both files must be equal on every row, else
  :class:`DataValidationError` names the first misaligned rows. ``id`` is the tweet ID (or ``SAP_...``).
* Quoting artefacts: the posts are tab-separated with CSV quoting, so pandas' default quote handling undoes
  the outer quoting; what remains are stray ``"`` and doubled quotes from the crawl (``"  "" : jewish ..."``).
  :func:`hatespeech.data.text.clean_implicit_hate` removes every ``"``, collapses whitespace and glues a lone
  punctuation token to the word before it -- the exact rule used to build ``prefix_probability`` (all 530 of
  its sentences equal their cleaned stage-1 post), so phase-2 sentences can be matched by text.
* Text is otherwise left as published (lower-cased, tokenised, ``rt`` kept).

Columns: stage 1 ``class`` (str), ``hate`` (1.0 for implicit or explicit, 0.0 for not_hate),
``implicit`` (1.0 implicit_hate, else 0.0); stage 2 ``implicit_class``, ``extra_implicit_class`` (NaN when
absent); stage 3 ``target`` (free text as annotated), ``implied_statement``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .base import LoadedSource
from .schema import (
    DataValidationError,
    FilterLog,
    check_allowed,
    check_nonempty_text,
    finalize,
    read_table,
    require_columns,
)
from .text import clean_implicit_hate

FOLDER = "implicit_hate_elsherief2021"
LICENCE = "CC BY 4.0 (corpus); MIT (repo)"
STAGE1_CLASSES = ("not_hate", "implicit_hate", "explicit_hate")
STAGE2_CLASSES = (
    "white_grievance",
    "incitement",
    "stereotypical",
    "inferiority",
    "irony",
    "threatening",
    "other",
)


def _read_pair(data_dir: Path, stage: int, aligned_columns: list[str]) -> tuple[pd.DataFrame, Path, Path]:
    posts_path = Path(data_dir) / FOLDER / f"implicit_hate_v1_stg{stage}_posts.tsv"
    ids_path = Path(data_dir) / FOLDER / f"implicit_hate_v1_stg{stage}.tsv"
    posts = read_table(posts_path, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    ids = read_table(ids_path, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    require_columns(posts, ["post", *aligned_columns], posts_path)
    require_columns(ids, ["ID", *aligned_columns], ids_path)
    if len(posts) != len(ids):
        raise DataValidationError(
            f"has {len(posts)} rows but {ids_path.name} has {len(ids)}: the files must be row-aligned",
            file=posts_path,
        )
    for column in aligned_columns:
        a, b = posts[column].fillna(""), ids[column].fillna("")
        bad = a.to_numpy() != b.to_numpy()
        if bad.any():
            raise DataValidationError(
                f"not row-aligned with {ids_path.name}: values differ "
                f"({list(a[bad][:3])} vs {list(b[bad][:3])})",
                file=posts_path,
                column=column,
                rows=list(np.flatnonzero(bad)),
            )
    check_nonempty_text(posts, "post", posts_path)
    check_nonempty_text(ids, "ID", ids_path)
    posts = posts.assign(id=ids["ID"].str.strip(), text=posts["post"].map(clean_implicit_hate))
    return posts, posts_path, ids_path


def load_stage1(data_dir: Path) -> LoadedSource:
    df, posts_path, ids_path = _read_pair(data_dir, 1, ["class"])
    check_allowed(df, "class", STAGE1_CLASSES, posts_path)
    log = FilterLog()
    df = df.assign(
        hate=(df["class"] != "not_hate").astype(float),
        implicit=(df["class"] == "implicit_hate").astype(float),
    )
    labels = ["class", "hate", "implicit"]
    out = finalize(df[["id", "text", *labels]], "implicit_hate", labels, posts_path, log)
    return LoadedSource(
        "implicit_hate",
        out,
        len(df),
        log.as_dict(),
        [posts_path, ids_path],
        LICENCE,
        "Implicit-hate corpus stage 1: not_hate / implicit_hate / explicit_hate (ElSherief et al. 2021)",
        labels,
    )


def load_stage2(data_dir: Path) -> LoadedSource:
    df, posts_path, ids_path = _read_pair(data_dir, 2, ["implicit_class", "extra_implicit_class"])
    check_allowed(df, "implicit_class", STAGE2_CLASSES, posts_path)
    check_allowed(df, "extra_implicit_class", STAGE2_CLASSES, posts_path, allow_missing=True)
    log = FilterLog()
    labels = ["implicit_class", "extra_implicit_class"]
    out = finalize(df[["id", "text", *labels]], "implicit_hate_stg2", labels, posts_path, log)
    return LoadedSource(
        "implicit_hate_stg2",
        out,
        len(df),
        log.as_dict(),
        [posts_path, ids_path],
        LICENCE,
        "Implicit-hate corpus stage 2: implicit-hate category",
        labels,
    )


def load_stage3(data_dir: Path) -> LoadedSource:
    df, posts_path, ids_path = _read_pair(data_dir, 3, ["target", "implied_statement"])
    check_nonempty_text(df, "target", posts_path)
    log = FilterLog()
    labels = ["target", "implied_statement"]
    df = df.assign(target=df["target"].str.strip(), implied_statement=df["implied_statement"].str.strip())
    out = finalize(df[["id", "text", *labels]], "implicit_hate_stg3", labels, posts_path, log)
    return LoadedSource(
        "implicit_hate_stg3",
        out,
        len(df),
        log.as_dict(),
        [posts_path, ids_path],
        LICENCE,
        "Implicit-hate corpus stage 3: target group (free text) and implied statement",
        labels,
    )
