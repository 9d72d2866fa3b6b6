"""The phase-1 corpus (binary hate / not-hate sentences for prefix training) and its 85/15 split.

Label mapping (:data:`PHASE1_MAPPINGS`; a value mapped to ``None`` is excluded and counted as
``label_excluded:<column>=<value>``; a value the mapping does not know raises):

* stormfront: ``hate`` -> 1, ``noHate`` -> 0 (``relation``, ``idk/skip`` are already filtered by the loader).
* implicit_hate (stage 1): ``implicit_hate`` and ``explicit_hate`` -> 1, ``not_hate`` -> 0.
* davidson: class 0 (hate speech) -> 1, class 2 (neither) -> 0, class 1 (offensive language only) is
  **excluded**. Davidson et al.'s point is that offensive language is not hate speech; mapping it to 0 would
  teach the model that slurs and profanity are benign, mapping it to 1 would make "hate" mean "rude".
* olid: OLID has no hate label. Its closest hate-like category -- an offensive (A=OFF), targeted (B=TIN) post
  aimed at a *group* (C=GRP) -- -> 1; NOT -> 0. The other offensive posts (untargeted profanity UNT, insults
  at an individual IND or other target OTH) are **excluded**, by the same reasoning as Davidson's class 1.
  Train and test tweets are both used (phase 1 makes its own split).
* hatexplain (optional, not in the default ``phase1_sources``): ``hatespeech`` -> 1, ``normal`` -> 0,
  ``offensive`` excluded.
* ethos_binary (optional): ``hate`` (isHate >= 0.5) as is.
* toxigen (optional; the whole-sentence hate detector of notebook 06 reads it, phase 1 does not): the mean
  human toxicity rating ``toxicity_human >= 4`` -> 1, else 0 (the dual head's ``toxic`` label, one definition
  for both).

Then, in this order, each counted per source and reason in the report:

1. ``phase2_tweet_id`` / ``phase2_text``: rows whose ``id`` is a phase-2 ``tweet_id`` or whose normalised text
   (:func:`hatespeech.data.text.normalise_for_matching`) equals a phase-2 sentence are removed (phase 2 is
   evaluated on them, so they must not be seen in phase 1); ``phase2_near_duplicate``: rows whose normalised
   text contains a phase-2 sentence, or is contained in one and has at least :data:`NEAR_DUPLICATE_MIN_WORDS`
   words (on the real data: the same headline tweeted again with a few words more or less, ~20 rows);
   ``reserved_tweet_id``: implicit-hate tweets reserved for an external check
   (:func:`hatespeech.data.prefix_probability.reserved_tweet_ids`), kept out of every split;
2. ``duplicate_text``: exact duplicates of the normalised text (within and across sources; the first
   occurrence in source order is kept) so that a sentence cannot sit in both train and val;
3. ``not_sampled``: rows beyond ``profile.data.phase1_max_rows_per_source`` (seeded, stratified by label).

:func:`leakage_check` then proves the result shares no tweet id and no normalised text with phase 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import paths
from .hatecheck import evaluation_only_check, hatecheck_overlap
from .prefix_probability import load_prefix_probability, reserved_tweet_ids
from .registry import load_cases, load_source
from .schema import DataLeakageError, DataValidationError, FilterLog, show_values
from .splits import apply_manifest, fingerprint, load_or_create_manifest, stratified_split
from .text import n_words, normalise_for_matching

PHASE1_COLUMNS = ["id", "source", "text", "label", "n_words"]
#: A phase-1 text inside a phase-2 sentence counts as a near duplicate from this many words on.
NEAR_DUPLICATE_MIN_WORDS = 6

#: source -> (column of the loaded frame, {value: 1 | 0 | None (excluded)})
PHASE1_MAPPINGS: dict[str, tuple[str, dict[Any, int | None]]] = {
    "stormfront": ("label", {"hate": 1, "noHate": 0}),
    "implicit_hate": ("class", {"implicit_hate": 1, "explicit_hate": 1, "not_hate": 0}),
    "davidson": ("class", {0: 1, 2: 0, 1: None}),
    "olid": (
        "olid_path",
        {"OFF/TIN/GRP": 1, "NOT": 0, "OFF/TIN/IND": None, "OFF/TIN/OTH": None, "OFF/UNT": None},
    ),
    "hatexplain": ("label", {"hatespeech": 1, "normal": 0, "offensive": None}),
    "ethos_binary": ("hate", {1.0: 1, 0.0: 0}),
    "toxigen": ("toxigen_rating", {"toxic": 1, "not_toxic": 0}),
}
#: Mean human toxicity rating (1-5) from which a ToxiGen statement is toxic (the dual head's ``toxic``).
TOXIGEN_TOXIC_RATING = 4.0

#: One line per source for reports (what 1 and 0 mean).
PHASE1_MAPPING_TEXT = {
    "stormfront": "hate=1, noHate=0 (relation, idk/skip filtered by the loader)",
    "implicit_hate": "implicit_hate + explicit_hate = 1, not_hate = 0",
    "davidson": "class 0 hate speech = 1, class 2 neither = 0, class 1 offensive-only excluded",
    "olid": (
        "OFF+TIN+GRP (offence targeted at a group) = 1, NOT = 0, other OFF (UNT, TIN/IND, TIN/OTH) excluded"
    ),
    "hatexplain": "hatespeech = 1, normal = 0, offensive excluded",
    "ethos_binary": "isHate >= 0.5 = 1, else 0",
    "toxigen": "mean human toxicity rating >= 4 (of 1-5) = 1, else 0",
}


def _olid_path(df: pd.DataFrame) -> pd.Series:
    return (
        df["subtask_a"].astype(str) + ("/" + df["subtask_b"]).fillna("") + ("/" + df["subtask_c"]).fillna("")
    )


def _toxigen_rating(df: pd.DataFrame) -> pd.Series:
    return df["toxicity_human"].ge(TOXIGEN_TOXIC_RATING).map({True: "toxic", False: "not_toxic"})


#: Columns made from others before mapping (their rule is one string per row): (columns read, rule).
DERIVED_COLUMNS = {
    "olid_path": (("subtask_a", "subtask_b", "subtask_c"), _olid_path),
    "toxigen_rating": (("toxicity_human",), _toxigen_rating),
}


def map_phase1_labels(name: str, df: pd.DataFrame, log: FilterLog) -> pd.DataFrame:
    """Rows of a loaded source with a binary ``label``; excluded values counted in ``log``."""
    if name not in PHASE1_MAPPINGS:
        raise ValueError(f"no phase-1 label mapping for source {name!r}; known: {sorted(PHASE1_MAPPINGS)}")
    column, mapping = PHASE1_MAPPINGS[name]
    if column in DERIVED_COLUMNS:
        inputs, rule = DERIVED_COLUMNS[column]
        missing = [c for c in inputs if c not in df.columns]
        if missing:
            raise DataValidationError(
                f"missing, needed for the phase-1 label {column!r}", file=name, column=missing[0]
            )
        df = df.assign(**{column: rule(df)})
    values = df[column]
    unknown = ~values.isin(list(mapping))
    if unknown.any():
        raise DataValidationError(
            f"value(s) {show_values(values[unknown])} have no phase-1 mapping",
            file=name,
            column=column,
            rows=list(df.index[unknown]),
        )
    for value, target in mapping.items():
        if target is None:
            df = log.drop(df, df[column].eq(value), f"label_excluded:{column}={value}")
    label = df[column].map({k: v for k, v in mapping.items() if v is not None}).astype(int)
    return pd.DataFrame(
        {
            "id": df["id"].astype(str),
            "source": name,
            "text": df["text"],
            "label": label,
            "n_words": df["text"].map(n_words).astype(int),
        }
    )


def _prefix_frame(prefix_df: pd.DataFrame | None, data_dir) -> pd.DataFrame:
    if prefix_df is None:
        prefix_df = load_prefix_probability("all", data_dir=data_dir)
    return prefix_df


def phase2_keys(prefix_df: pd.DataFrame) -> tuple[set[str], set[str]]:
    """(tweet ids, normalised sentences) of the phase-2 set (prefix-level or sentence-level frame)."""
    ids = set(prefix_df["tweet_id"].astype(str).str.strip())
    texts = {normalise_for_matching(t) for t in prefix_df["sentence"].drop_duplicates()}
    texts.discard("")
    return ids, texts


def near_duplicate_mask(
    keys: pd.Series, sentences: set[str] | list[str], min_words: int = NEAR_DUPLICATE_MIN_WORDS
) -> np.ndarray:
    """True where a normalised text contains one of the normalised ``sentences`` or (with >= ``min_words``
    words) is contained in one, on word boundaries.

    Hand-written because the candidate pairs are found through shared ``min_words``-grams (an index of the
    phase-2 n-grams), which keeps this linear in the corpus instead of comparing every pair.
    """
    grams: dict[tuple[str, ...], list[str]] = {}
    for sentence in sentences:
        words = sentence.split()
        for i in range(max(0, len(words) - min_words + 1)):
            grams.setdefault(tuple(words[i : i + min_words]), []).append(sentence)
    out = np.zeros(len(keys), dtype=bool)
    for row, key in enumerate(keys):
        words = key.split()
        if len(words) < min_words:
            continue
        padded = f" {key} "
        for i in range(len(words) - min_words + 1):
            for sentence in grams.get(tuple(words[i : i + min_words]), ()):
                if f" {sentence} " in padded or padded in f" {sentence} ":
                    out[row] = True
                    break
            if out[row]:
                break
    return out


def leakage_check(phase1_df: pd.DataFrame, prefix_prob_df: pd.DataFrame) -> dict[str, int]:
    """Raise :class:`DataLeakageError` if any phase-1 row has a phase-2 tweet id (as its ``id``), a phase-2
    sentence as its normalised text, or is a near duplicate of one (:func:`near_duplicate_mask`).
    Returns what was checked when clean."""
    ids, texts = phase2_keys(prefix_prob_df)
    keys = phase1_df["text"].map(normalise_for_matching)
    by_id = phase1_df["id"].astype(str).isin(ids).to_numpy()
    by_text = keys.isin(texts).to_numpy()
    near = near_duplicate_mask(keys, texts) & ~by_text
    bad = by_id | by_text | near
    if bad.any():
        rows = phase1_df.loc[bad]
        shown = [f"{s}:{i}" for s, i in zip(rows.get("source", ["?"] * len(rows)), rows["id"])][:5]
        raise DataLeakageError(
            f"{int(by_id.sum())} row(s) share a tweet id, {int(by_text.sum())} a sentence and "
            f"{int(near.sum())} are near duplicates of a sentence of prefix_probability, "
            f"e.g. {shown}",
            file="phase-1 corpus",
            column="id/text",
            rows=list(rows.index),
        )
    return {"rows_checked": len(phase1_df), "phase2_tweet_ids": len(ids), "phase2_sentences": len(texts)}


def _sample(df: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    if max_rows is None or len(df) <= max_rows:
        return df

    stratify = df["label"] if df["label"].value_counts().min() >= 2 else None
    try:
        keep, _ = train_test_split(df.index, train_size=int(max_rows), random_state=seed, stratify=stratify)
    except ValueError:  # too few rows per label for a stratified cut of this size (tiny data): seeded random
        keep, _ = train_test_split(df.index, train_size=int(max_rows), random_state=seed)
    return df.loc[df.index.isin(keep)]  # keep the original row order


def build_phase1_corpus(
    profile,
    data_dir: str | Path | None = None,
    prefix_df: pd.DataFrame | None = None,
    sources: tuple[str, ...] | None = None,
    max_rows_per_source: int | str | None = "profile",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The phase-1 binary corpus for ``profile`` (see the module docstring for every step); ``sources`` and
    ``max_rows_per_source`` default to the profile's phase-1 ones (the whole-sentence hate detector passes
    its own, through the same filters).

    Returns ``(df, report)``: ``df`` has columns ``id, source, text, label (0/1 int), n_words`` in source
    order (index 0..n-1); ``report`` = ``{"sources": {name: {"rows_raw", "rows_loaded", "loader_filtered",
    "removed": {reason: n}, "rows": n, "positives", "negatives"}}, "mapping": {...}, "seed",
    "max_rows_per_source", "leakage_check": {...}}``.
    """
    sources = list(profile.data.phase1_sources if sources is None else sources)
    max_rows = (
        profile.data.phase1_max_rows_per_source if max_rows_per_source == "profile" else max_rows_per_source
    )
    seed = int(profile.seed)
    prefix_df = _prefix_frame(prefix_df, data_dir)
    ids, texts = phase2_keys(prefix_df)
    reserved = reserved_tweet_ids(data_dir)
    cases = load_cases(data_dir)  # HateCheck is evaluation only: its cases never train
    seen: set[str] = set()
    frames, report_sources = [], {}
    for i, name in enumerate(sources):
        loaded = load_source(name, data_dir)
        log = FilterLog()
        df = map_phase1_labels(name, loaded.df, log)
        df = log.drop(df, df["id"].isin(ids), "phase2_tweet_id")
        df = log.drop(df, df["id"].astype(str).isin(reserved).to_numpy(), "reserved_tweet_id")
        df = log.drop(df, hatecheck_overlap(df, cases).to_numpy(), "hatecheck_case")
        keys = df["text"].map(normalise_for_matching)
        df = log.drop(df, keys.isin(texts).to_numpy(), "phase2_text")
        keys = keys.loc[df.index]
        near = near_duplicate_mask(keys, texts)
        df, keys = log.drop(df, near, "phase2_near_duplicate"), keys.loc[~near]
        duplicate = (keys.ne("") & (keys.duplicated() | keys.isin(seen))).to_numpy()
        df = log.drop(df, duplicate, "duplicate_text")
        seen.update(keys[~duplicate])
        before = len(df)
        df = _sample(df, max_rows, seed + i)
        log.add("not_sampled", before - len(df))
        frames.append(df)
        report_sources[name] = {
            "rows_raw": loaded.rows_raw,
            "rows_loaded": loaded.rows_kept,
            "loader_filtered": loaded.filtered,
            "removed": log.as_dict(),
            "rows": len(df),
            "positives": int(df["label"].sum()),
            "negatives": int((df["label"] == 0).sum()),
            "licence": loaded.licence,
        }
    corpus = (
        pd.concat(frames, ignore_index=True)[PHASE1_COLUMNS]
        if frames
        else pd.DataFrame(columns=PHASE1_COLUMNS)
    )
    check = leakage_check(corpus, prefix_df)
    report = {
        "sources": report_sources,
        "mapping": {s: PHASE1_MAPPING_TEXT.get(s, "") for s in sources},
        "seed": seed,
        "max_rows_per_source": max_rows,
        "rows": len(corpus),
        "positives": int(corpus["label"].sum()),
        "leakage_check": check,
        "reserved_tweet_ids": len(reserved),
        "hatecheck_check": evaluation_only_check(corpus, cases, "phase-1 corpus"),
    }
    return corpus, report


#: Share of the train part carved out (grouped the same way) as the selection set: learning rates, epochs and
#: thresholds are chosen on it, so the reported evaluation split ("val", the seed's 15%) chooses nothing.
SELECTION_FRACTION_OF_TRAIN = 0.10


@dataclass
class Phase1Splits:
    """``frames`` = ``{"train": df, "selection": df, "val": df}`` (columns as the corpus, plus ``group``);
    ``manifest`` as saved at ``path``; ``reused`` tells whether an existing manifest was loaded.

    ``val`` is the seed's 15% evaluation split (reported); ``selection`` is 10% of the seed's 85% (chooses
    learning rate, epochs and thresholds); ``train`` is the rest.
    """

    frames: dict[str, pd.DataFrame]
    manifest: dict[str, Any]
    path: Path
    reused: bool
    report: dict[str, Any] | None = None

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def sizes(self) -> dict[str, int]:
        return {name: len(df) for name, df in self.frames.items()}


def phase1_keys(df: pd.DataFrame) -> pd.Series:
    """The manifest key of each phase-1 row: ``<source>:<id>`` (ids are unique only within a source)."""
    return df["source"].astype(str) + ":" + df["id"].astype(str)


def phase1_groups(df: pd.DataFrame) -> pd.Series:
    """The unit that must not straddle a split: a Stormfront *post* (ids are ``<postID>_<sentenceNo>``, and
    sentences of one post share author, topic and often wording); every other source's row is its own unit
    (tweets without a parent id in these corpora). Bootstrap intervals resample these units too."""
    post = df["id"].astype(str).str.rsplit("_", n=1).str[0]
    own = df["id"].astype(str)
    return df["source"].astype(str) + ":" + post.where(df["source"].eq("stormfront"), own)


def grouped_stratified_split(
    df: pd.DataFrame, groups: pd.Series, fractions: Mapping[str, float], seed: int
) -> dict[str, pd.Index]:
    """:func:`stratified_split` over *groups*: each group goes whole to one split, stratified by source and by
    whether the group holds any hateful row. Sizes follow the fractions in groups, so in rows only roughly
    (a post has ~1-20 sentences)."""
    table = pd.DataFrame(
        {"group": groups.to_numpy(), "source": df["source"].to_numpy(), "label": df["label"].to_numpy()}
    )
    per_group = (
        table.groupby("group", sort=True)
        .agg(source=("source", "first"), label=("label", "max"))
        .reset_index()
    )
    parts = stratified_split(per_group, ["source", "label"], fractions, seed)
    return {
        name: df.index[groups.isin(per_group.loc[idx, "group"]).to_numpy()] for name, idx in parts.items()
    }


def manifest_path(profile, name: str = "phase1") -> Path:
    return paths.artifacts_dir() / profile.name / "splits" / f"{name}.json"


def phase1_splits(
    profile,
    corpus: pd.DataFrame | None = None,
    report: Mapping[str, Any] | None = None,
    data_dir: str | Path | None = None,
    path: str | Path | None = None,
) -> Phase1Splits:
    """The seeded, grouped phase-1 split: ``val`` (``val_fraction``, the seed's 15%, reported), ``selection``
    (:data:`SELECTION_FRACTION_OF_TRAIN` of the rest, chooses settings) and ``train``; stratified by source x
    label, whole Stormfront posts per split (:func:`phase1_groups`). Saved as a manifest at
    ``artifacts_dir()/<profile>/splits/phase1.json`` and reused whenever the seed, fractions, grouping and
    corpus (keys and labels) are unchanged. Builds the corpus when not given."""
    if corpus is None:
        corpus, report = build_phase1_corpus(profile, data_dir=data_dir)
    val = float(profile.data.phase1_val_fraction)
    selection = (1.0 - val) * SELECTION_FRACTION_OF_TRAIN
    fractions = {"train": 1.0 - val - selection, "selection": selection, "val": val}
    keys = phase1_keys(corpus)
    groups = phase1_groups(corpus)
    meta = {
        "name": "phase1",
        "profile": profile.name,
        "seed": int(profile.seed),
        "fractions": fractions,
        "stratify": ["source", "label"],
        "grouped_by": "stormfront post id; other rows alone",
        "fingerprint": fingerprint(keys, corpus["label"]),
        "n": len(corpus),
    }
    path = Path(path) if path is not None else manifest_path(profile)

    def make():
        index = grouped_stratified_split(corpus, groups, fractions, int(profile.seed))
        return {name: keys.loc[idx].tolist() for name, idx in index.items()}

    manifest, reused = load_or_create_manifest(path, make, meta)
    with_groups = corpus.assign(group=groups)
    frames = {
        name: frame.reset_index(drop=True)
        for name, frame in apply_manifest(with_groups, manifest, keys).items()
    }
    return Phase1Splits(frames, manifest, path, reused, dict(report) if report else None)


__all__ = [
    "PHASE1_MAPPINGS",
    "SELECTION_FRACTION_OF_TRAIN",
    "Phase1Splits",
    "build_phase1_corpus",
    "grouped_stratified_split",
    "leakage_check",
    "manifest_path",
    "map_phase1_labels",
    "near_duplicate_mask",
    "phase1_groups",
    "phase1_keys",
    "phase1_splits",
]
