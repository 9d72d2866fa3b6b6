"""The phase-2 set ``prefix_probability/{train,test}.csv`` (made for this project; see its README.md).

Every word-prefix of 730 implicit-hate tweets (release 2: 480 train / 250 test sentences, 7,610 / 3,959
prefixes; the first 716 test rows are release 1's 50 test sentences), labelled with P(finished sentence is
hateful | prefix) by two annotation passes (``label_a``, ``label_b``; both by a large language model) and
their mean ``label`` (the target). ``reserved_tweet_ids.txt`` beside them lists further implicit-hate tweets
kept for an external check (:func:`reserved_tweet_ids`): no split of this study may hold them.

Validation (no cleaning: the file is already clean)
---------------------------------------------------
* Columns
  ``sentence_id, tweet_id, corpus_class, k, n_words, w_len, prefix, label_a, label_b, label, sentence``.
* ``label``, ``label_a``, ``label_b`` in [0, 1]; ``corpus_class`` one of the stage-1 classes;
  ``1 <= k <= n_words``; ``w_len == k / n_words`` (to 1e-3, the file rounds to 4 decimals);
  ``n_words`` equals the whitespace words of ``sentence``; ``prefix`` equals its first ``k`` words;
  ``(sentence_id, k)`` unique. ``tweet_id`` is read as a string (18-digit ids do not survive float parsing).

As a source (``load_source("prefix_probability")``): ``id`` = ``<sentence_id>:<k>``, ``text`` = the prefix,
``split`` = train/test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
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

NAME = "prefix_probability"
FOLDER = "prefix_probability"
SPLITS = ("train", "test")
COLUMNS = [
    "sentence_id",
    "tweet_id",
    "corpus_class",
    "k",
    "n_words",
    "w_len",
    "prefix",
    "label_a",
    "label_b",
    "label",
    "sentence",
]
LICENCE = "CC BY 4.0 (text: implicit-hate corpus; labels: this project)"
DESCRIPTION = "Phase-2 prefixes of implicit-hate tweets with P(hateful | prefix), two LLM annotation passes"
CORPUS_CLASSES = ("not_hate", "implicit_hate", "explicit_hate")


def read_split(data_dir: Path, split: str) -> tuple[pd.DataFrame, Path]:
    """One split, validated, with exactly :data:`COLUMNS`."""
    if split not in SPLITS:
        raise ValueError(f"unknown prefix_probability split {split!r}; choose one of {SPLITS} (or 'all')")
    path = Path(data_dir) / FOLDER / f"{split}.csv"
    df = read_table(
        path,
        dtype={"sentence_id": str, "tweet_id": str, "corpus_class": str, "prefix": str, "sentence": str},
        keep_default_na=False,
        na_values=[""],
    )
    require_columns(df, COLUMNS, path)
    for column in ("prefix", "sentence", "sentence_id", "tweet_id"):
        check_nonempty_text(df, column, path)
    check_allowed(df, "corpus_class", CORPUS_CLASSES, path)
    for column in ("label", "label_a", "label_b"):
        df[column] = check_range(df, column, 0.0, 1.0, path)
    n = check_range(df, "n_words", 1, 10_000, path)
    df["n_words"] = n.astype(int)
    df["k"] = check_range(df, "k", 1, 10_000, path).astype(int)
    df["w_len"] = check_range(df, "w_len", 0.0, 1.0, path)
    too_long = df["k"] > df["n_words"]
    if too_long.any():
        raise DataValidationError(
            "k (words in the prefix) exceeds n_words",
            file=path,
            column="k",
            rows=list(df.index[too_long]),
            values=list(df.loc[too_long, "k"]),
        )
    bad = ~np.isclose(df["w_len"], df["k"] / df["n_words"], atol=1e-3)
    if bad.any():
        raise DataValidationError(
            "w_len differs from k / n_words",
            file=path,
            column="w_len",
            rows=list(df.index[bad]),
            values=list(df.loc[bad, "w_len"]),
        )
    words = df["sentence"].str.split()
    bad = words.str.len().to_numpy() != df["n_words"].to_numpy()
    if bad.any():
        raise DataValidationError(
            "n_words differs from the number of whitespace words in 'sentence'",
            file=path,
            column="n_words",
            rows=list(df.index[bad]),
            values=list(df.loc[bad, "n_words"]),
        )
    expected = [" ".join(w[:k]) for w, k in zip(words, df["k"])]
    bad = df["prefix"].str.split().str.join(" ").to_numpy() != np.asarray(expected, dtype=object)
    if bad.any():
        raise DataValidationError(
            "prefix is not the first k words of sentence",
            file=path,
            column="prefix",
            rows=list(df.index[bad]),
            values=list(df.loc[bad, "prefix"]),
        )
    dup = df.duplicated(["sentence_id", "k"], keep=False)
    if dup.any():
        raise DataValidationError(
            "duplicate (sentence_id, k)", file=path, column="sentence_id", rows=list(df.index[dup])
        )
    return df[COLUMNS].reset_index(drop=True), path


def load_prefix_probability(split: str = "train", data_dir: str | Path | None = None) -> pd.DataFrame:
    """The phase-2 frame for ``split`` in {"train", "test", "all"} with columns :data:`COLUMNS`
    (``"all"`` adds a ``split`` column). Validated as described in the module docstring."""
    data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
    if split == "all":
        return pd.concat([read_split(data_dir, s)[0].assign(split=s) for s in SPLITS], ignore_index=True)
    return read_split(data_dir, split)[0]


RESERVED_FILE = "reserved_tweet_ids.txt"


def reserved_tweet_ids(data_dir: str | Path | None = None) -> set[str]:
    """Implicit-hate tweet ids reserved for an external check (``prefix_probability/reserved_tweet_ids.txt``,
    one id a line, ``#`` comments): every phase-1 split drops them (counted as ``reserved_tweet_id``).

    A data dir without the file (release 1) reserves nothing; a line holding more than one token raises
    :class:`DataValidationError` naming the file, line and value.
    """
    data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
    path = data_dir / FOLDER / RESERVED_FILE
    if not path.exists():
        return set()
    ids = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        if len(value.split()) != 1:  # ids are the corpus's ID column: digits or SAP_<n>, never spaced
            raise DataValidationError(
                "a reserved tweet id must be one token (row = line number)",
                file=path,
                column="tweet id",
                rows=[number],
                values=[value],
            )
        ids.add(value)
    return ids


def load(data_dir: Path) -> LoadedSource:
    parts = {split: read_split(data_dir, split) for split in SPLITS}
    raw = pd.concat([df.assign(split=split) for split, (df, _) in parts.items()], ignore_index=True)
    overlap = set(parts["train"][0]["sentence_id"]) & set(parts["test"][0]["sentence_id"])
    if overlap:
        raise DataValidationError(
            f"sentence ids in both train and test: {sorted(overlap)[:5]}",
            file=parts["test"][1],
            column="sentence_id",
        )
    log = FilterLog()
    df = raw.assign(id=raw["sentence_id"] + ":" + raw["k"].astype(str), text=raw["prefix"])
    labels = ["label", "label_a", "label_b"]
    rest = [c for c in COLUMNS if c not in labels]
    out = finalize(df[["id", "text", *labels, *rest, "split"]], NAME, labels, parts["train"][1], log)
    return LoadedSource(
        NAME,
        out,
        len(raw),
        log.as_dict(),
        [p for _, p in parts.values()],
        LICENCE,
        DESCRIPTION,
        labels,
        rows_raw_by_split={s: len(d) for s, (d, _) in parts.items()},
    )
