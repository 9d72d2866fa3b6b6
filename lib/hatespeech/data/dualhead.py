"""Dual-head data: the label mapping (one table), the merged labelled table, masked labels, and split
manifests.

Two heads: ``head_n`` (toxicity types) and ``head_i`` (identity groups). Every label of every row is 1, 0 or
NaN; NaN means "this row's source does not annotate this label" and is masked out of the loss and the
metrics, never zero-filled and never a reason to drop the row.

The mapping is the table :data:`LABEL_MAPS` (``label_map_table(mode)`` shows it). Each rule turns one source's
columns into one label: its conditions are tried in order, the first that matches gives the value, and a row
that matches none gets NaN (masked).

Modes
-----
``jigsaw`` (a Kaggle Jigsaw Unintended Bias CSV is configured in ``profile.data.jigsaw_csv``):
  head_n = ``toxicity`` (the ``target`` column; needed as the score of the bias metric) plus the five
  toxicity types ``severe_toxicity, obscene, identity_attack, insult, threat``; head_i = the 17 identities.
  All are annotator fractions binarised at ``>= profile.dualhead.label_threshold`` (0.5); an empty identity
  cell stays NaN.

``offline`` (default; no Jigsaw here): ToxiGen annotated + OLID (train and test files pooled; we make our own
  splits). The head_n label set for this data (8 labels) is:

  * ``toxic`` - ToxiGen: mean human toxicity rating ``toxicity_human >= 4`` (2,307 of 8,960 rows); OLID rows
    masked. ``>= 4`` (the upper part of the 1-5 harm scale) is the stricter of the two cut-offs SOURCES.md
    reports (``> 3`` gives 3,015); the prompt ``label`` column is not used (it is not a human judgement).
  * ``lewd`` - ToxiGen's human ``lewd`` annotation: "contains lewd content" = 1, "doesn't ..." = 0; the
    "might contain" and "disagreement" answers are masked (the raters did not agree). The closest thing to
    Jigsaw's ``obscene`` in the offline data (100 positives: the rarest label).
  * ``offensive`` - OLID level A: OFF = 1, NOT = 0; ToxiGen rows masked.
  * ``targeted_insult`` / ``untargeted_profanity`` - OLID level B (TIN / UNT). A level-A NOT tweet is 0 for
    both: OLID's annotation is hierarchical, so "not offensive" *is* the annotators' answer that the tweet
    is no insult (the data layer leaves level B NaN there because the question was not asked).
  * ``targets_individual`` / ``targets_group`` / ``targets_other`` - OLID level C (IND / GRP / OTH); 0 for
    NOT tweets and for untargeted (UNT) tweets, by the same hierarchy argument.

  head_i = ToxiGen's 13 ``target_group`` values, one-hot on ToxiGen rows (each ToxiGen statement was
  generated about exactly one group); OLID rows are masked (OLID has no identity labels).

Splits
------
80/15/5 train/val/test by iterative multi-label stratification (scikit-multilearn's
``IterativeStratification``) over the labels' positives plus one indicator column per source, so every split
keeps each source's share and each label's positives (:func:`iterative_folds`, the project's one multi-label
stratifier; its matrix, :func:`stratification_matrix`, counts NaN (masked) as "not a positive"). Labels with
fewer than ``min_positives`` (2) positives in the sampled pool are dropped before splitting and named in the
manifest. The train split can then be capped (``max_train_samples``; again by iterative stratification, so
rare labels keep their share) and val / test capped at ``max_eval_samples``. The manifest
(``artifacts_dir()/<profile>/splits/dualhead_split.csv`` + a ``.json`` with the settings, label counts and
dropped labels) is written once and reused by notebooks 04 and 05.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import paths
from .jigsaw import IDENTITY_COLUMNS, SUBTYPES
from .registry import load_source
from .schema import DataValidationError
from .splits import seeded_numpy_global

SPLITS = ("train", "val", "test")
TOXIGEN_GROUPS = (
    "asian",
    "black",
    "chinese",
    "jewish",
    "latino",
    "lgbtq",
    "mental_dis",
    "mexican",
    "middle_east",
    "muslim",
    "native_american",
    "physical_dis",
    "women",
)
JIGSAW_TYPES = tuple(SUBTYPES)  # the Jigsaw columns the two heads read, as the loader requires them
JIGSAW_IDENTITIES = tuple(IDENTITY_COLUMNS)


# ------------------------------------------------------------------------------------------------ the mapping
@dataclass(frozen=True)
class Condition:
    """``column <op> value -> outcome``; op is ``in`` (value = tuple), ``>=`` / ``<`` (number) or ``known``
    (any non-missing value)."""

    column: str
    op: str
    value: Any
    outcome: float

    def matches(self, series: pd.Series) -> np.ndarray:
        if self.op == "in":
            return series.isin(self.value).to_numpy()
        if self.op == "known":
            return series.notna().to_numpy()
        numbers = pd.to_numeric(series, errors="coerce")
        if self.op == ">=":
            return (numbers >= self.value).fillna(False).to_numpy(dtype=bool)
        if self.op == "<":
            return (numbers < self.value).fillna(False).to_numpy(dtype=bool)
        raise ValueError(f"unknown condition op {self.op!r}")

    def describe(self) -> str:
        if self.op == "in":
            values = " / ".join(str(v) for v in self.value)
            return f"{self.column} = {values}"
        if self.op == "known":
            return f"{self.column} is another known value"
        return f"{self.column} {self.op} {self.value:g}"


@dataclass(frozen=True)
class LabelRule:
    head: str  # "n" (toxicity types) or "i" (identities)
    label: str
    source: str
    conditions: tuple[Condition, ...]
    note: str = ""


def _ones_zeros(
    column: str,
    positive: Sequence[str],
    negative: Sequence[str],
    implied_zero: Sequence[tuple[str, Sequence[str]]] = (),
) -> tuple[Condition, ...]:
    out = [Condition(column, "in", tuple(positive), 1.0), Condition(column, "in", tuple(negative), 0.0)]
    out += [Condition(c, "in", tuple(v), 0.0) for c, v in implied_zero]
    return tuple(out)


def _threshold(column: str, cut: float) -> tuple[Condition, ...]:
    return (Condition(column, ">=", cut, 1.0), Condition(column, "<", cut, 0.0))


_OLID_NOT = ("subtask_a", ("NOT",))
_OLID_UNT = ("subtask_b", ("UNT",))
TOXIGEN_TOXIC_CUT = 4.0

OFFLINE_RULES: tuple[LabelRule, ...] = (
    LabelRule(
        "n",
        "toxic",
        "toxigen",
        _threshold("toxicity_human", TOXIGEN_TOXIC_CUT),
        "mean human rating 1-5; >= 4 = clearly harmful",
    ),
    LabelRule(
        "n",
        "lewd",
        "toxigen",
        _ones_zeros("lewd", ["contains lewd content"], ["doesn't contain lewd content"]),
        "'might contain' / 'disagreement' masked",
    ),
    LabelRule("n", "offensive", "olid", _ones_zeros("subtask_a", ["OFF"], ["NOT"]), "level A"),
    LabelRule(
        "n",
        "targeted_insult",
        "olid",
        _ones_zeros("subtask_b", ["TIN"], ["UNT"], [_OLID_NOT]),
        "level B; NOT implies 0",
    ),
    LabelRule(
        "n",
        "untargeted_profanity",
        "olid",
        _ones_zeros("subtask_b", ["UNT"], ["TIN"], [_OLID_NOT]),
        "level B; NOT implies 0",
    ),
    LabelRule(
        "n",
        "targets_individual",
        "olid",
        _ones_zeros("subtask_c", ["IND"], ["GRP", "OTH"], [_OLID_UNT, _OLID_NOT]),
        "level C; NOT / UNT imply 0",
    ),
    LabelRule(
        "n",
        "targets_group",
        "olid",
        _ones_zeros("subtask_c", ["GRP"], ["IND", "OTH"], [_OLID_UNT, _OLID_NOT]),
        "level C; NOT / UNT imply 0",
    ),
    LabelRule(
        "n",
        "targets_other",
        "olid",
        _ones_zeros("subtask_c", ["OTH"], ["IND", "GRP"], [_OLID_UNT, _OLID_NOT]),
        "level C; NOT / UNT imply 0",
    ),
    *(
        LabelRule(
            "i",
            group,
            "toxigen",
            (Condition("target_group", "in", (group,), 1.0), Condition("target_group", "known", None, 0.0)),
            "one-hot of the generation target group",
        )
        for group in TOXIGEN_GROUPS
    ),
)

# Values that are known but deliberately masked (the rule matches none of its conditions): anything else
# that no rule of a source mentions raises, so a new category in the data cannot silently become NaN.
OFFLINE_MASKED_VALUES = {("toxigen", "lewd"): ("might contain lewd content", "disagreement")}


def jigsaw_rules(threshold: float = 0.5) -> tuple[LabelRule, ...]:
    return (
        LabelRule("n", "toxicity", "jigsaw", _threshold("toxicity", threshold), "'target' column"),
        *(
            LabelRule("n", name, "jigsaw", _threshold(name, threshold), "annotator fraction")
            for name in JIGSAW_TYPES
        ),
        *(
            LabelRule("i", name, "jigsaw", _threshold(name, threshold), "annotator fraction; empty = masked")
            for name in JIGSAW_IDENTITIES
        ),
    )


LABEL_MAPS = {"offline": OFFLINE_RULES, "jigsaw": jigsaw_rules()}
# The toxicity label (head_n) and the source whose rows the bias metric uses, per mode.
BIAS_TOXICITY = {"offline": ("toxic", "toxigen"), "jigsaw": ("toxicity", "jigsaw")}
DATA_DESCRIPTION = {
    "offline": (
        "ToxiGen annotated (8,960 GPT-3 statements, human-rated) + OLID v1.0 train+test (14,100 tweets)"
    ),
    "jigsaw": "Jigsaw Unintended Bias (Civil Comments) CSV",
}


def label_map_table(mode: str = "offline", threshold: float = 0.5) -> pd.DataFrame:
    """The mapping as a table: head, label, source, what gives 1, what gives 0, note (else: masked)."""
    rules = jigsaw_rules(threshold) if mode == "jigsaw" else LABEL_MAPS[mode]
    rows = []
    for rule in rules:
        ones = [c.describe() for c in rule.conditions if c.outcome == 1.0]
        zeros = [c.describe() for c in rule.conditions if c.outcome == 0.0]
        rows.append(
            {
                "head": f"head_{rule.head}",
                "label": rule.label,
                "source": rule.source,
                "1 if": "; ".join(ones),
                "0 if": "; ".join(zeros),
                "otherwise": "NaN (masked)",
                "note": rule.note,
            }
        )
    return pd.DataFrame(rows)


def label_names(rules: Sequence[LabelRule], head: str) -> list[str]:
    """Label names of one head in rule order (a label spanning several sources appears once)."""
    return list(dict.fromkeys(r.label for r in rules if r.head == head))


def apply_label_map(
    frames: dict[str, pd.DataFrame],
    rules: Sequence[LabelRule],
    masked_values: dict[tuple[str, str], Sequence[Any]] | None = None,
) -> pd.DataFrame:
    """Map each source frame (unified schema: ``id, source, text`` + its columns) to the label table.

    Returns ``uid, source, id, text`` + one float column per label (1 / 0 / NaN), head_n labels first.
    Raises ``DataValidationError`` naming the source, column and values when a rule's column is missing or
    holds a category that no rule of that source mentions (and that is not declared masked).
    """
    masked_values = masked_values or {}
    names = label_names(rules, "n") + label_names(rules, "i")
    parts = []
    for source, frame in frames.items():
        source_rules = [r for r in rules if r.source == source]
        if not source_rules:
            raise ValueError(f"no label rule for source {source!r}")
        needed = sorted({c.column for r in source_rules for c in r.conditions})
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise DataValidationError(
                f"the dual-head label map needs column(s) {missing}; found {list(frame.columns)}",
                file=source,
                column=missing[0],
            )
        for column in needed:
            listed = {
                v
                for r in source_rules
                for c in r.conditions
                if c.column == column and c.op == "in"
                for v in c.value
            }
            if not listed or any(
                c.op != "in" for r in source_rules for c in r.conditions if c.column == column
            ):
                continue  # numeric or open-ended column: thresholds / 'known' cover every value
            allowed = listed | set(masked_values.get((source, column), ()))
            values = frame[column]
            bad = values.notna() & ~values.isin(allowed)
            if bad.any():
                raise DataValidationError(
                    f"value(s) {sorted(map(repr, set(values[bad])))[:5]} are not in the dual-head label map "
                    f"(known: {sorted(map(repr, allowed))})",
                    file=source,
                    column=column,
                    rows=list(frame.index[bad.to_numpy()]),
                    values=list(values[bad]),
                )
        out = pd.DataFrame(
            {
                "uid": source + ":" + frame["id"].astype(str),
                "source": source,
                "id": frame["id"].astype(str).to_numpy(),
                "text": frame["text"].to_numpy(),
            }
        )
        for name in names:
            out[name] = np.nan
        for rule in source_rules:
            value = np.full(len(frame), np.nan)
            for condition in reversed(rule.conditions):  # the first matching condition wins
                value[condition.matches(frame[condition.column])] = condition.outcome
            out[rule.label] = value
        parts.append(out)
    table = pd.concat(parts, ignore_index=True)
    if table["uid"].duplicated().any():
        raise DataValidationError(
            f"duplicate ids {list(table.loc[table['uid'].duplicated(), 'uid'][:5])}", column="id"
        )
    return table


def label_counts(table: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Positives, negatives and masked entries per label (and positives per source)."""
    values = table[list(names)]
    out = pd.DataFrame(
        {
            "positive": (values == 1).sum(),
            "negative": (values == 0).sum(),
            "masked": values.isna().sum(),
        }
    )
    for source, part in table.groupby("source"):
        out[f"positive_{source}"] = (part[list(names)] == 1).sum()
    return out


# ------------------------------------------------------------------------------------------------ the table
@dataclass
class DualHeadTable:
    """The labelled pool before splitting."""

    mode: str
    df: pd.DataFrame
    label_names_n: list[str]
    label_names_i: list[str]
    filtered: dict[str, int]
    rows_raw: dict[str, int]
    data: str

    @property
    def label_names(self) -> list[str]:
        return [*self.label_names_n, *self.label_names_i]


def build_table(
    frames: dict[str, pd.DataFrame],
    mode: str = "offline",
    threshold: float = 0.5,
    rows_raw: dict[str, int] | None = None,
    filtered: dict[str, int] | None = None,
) -> DualHeadTable:
    """Label-map source frames and drop exact duplicate texts (counted as ``duplicate_text``: a text in both
    train and test would leak)."""
    rules = jigsaw_rules(threshold) if mode == "jigsaw" else LABEL_MAPS[mode]
    masked = OFFLINE_MASKED_VALUES if mode == "offline" else {}
    table = apply_label_map(frames, rules, masked)
    filtered = dict(filtered or {})
    key = table["text"].str.lower().str.strip()
    duplicated = key.duplicated(keep="first").to_numpy()
    if duplicated.any():
        filtered["duplicate_text"] = filtered.get("duplicate_text", 0) + int(duplicated.sum())
        table = table.loc[~duplicated].reset_index(drop=True)
    return DualHeadTable(
        mode,
        table,
        label_names(rules, "n"),
        label_names(rules, "i"),
        filtered,
        dict(rows_raw or {name: len(f) for name, f in frames.items()}),
        DATA_DESCRIPTION[mode],
    )


def load_table(profile) -> DualHeadTable:
    """The dual-head table for a profile: Jigsaw when ``profile.data.jigsaw_csv`` is set, else offline."""
    threshold = profile.dualhead.label_threshold
    if profile.data.jigsaw_csv:
        loaded = {"jigsaw": load_source("jigsaw", path=profile.data.jigsaw_csv)}
        mode = "jigsaw"
    else:
        loaded = {name: load_source(name) for name in ("toxigen", "olid")}
        mode = "offline"
    filtered: dict[str, int] = {}
    for name, source in loaded.items():
        for reason, n in source.filtered.items():
            filtered[f"{name}:{reason}"] = int(n)
    return build_table(
        {n: s.df for n, s in loaded.items()},
        mode,
        threshold,
        rows_raw={n: int(s.rows_raw) for n, s in loaded.items()},
        filtered=filtered,
    )


# ------------------------------------------------------------------------------------------------ splitting
def stratification_matrix(table: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """Positives (NaN counts as not positive) plus one indicator column per source."""
    positives = (table[list(names)].to_numpy(dtype=np.float64) == 1).astype(int)
    sources = pd.get_dummies(table["source"]).to_numpy(dtype=int)
    return np.hstack([positives, sources])


def iterative_folds(y: np.ndarray, fractions: Sequence[float], seed: int) -> np.ndarray:
    """Fold number per row (0..len(fractions)-1), fold k holding about ``fractions[k]`` of the rows.

    scikit-multilearn's ``IterativeStratification`` draws from numpy's global RNG (its ``random_state`` is
    refused by current sklearn), so the rows are permuted with a seeded generator and the global RNG is
    seeded (and restored) around the call (:func:`hatespeech.data.splits.seeded_numpy_global`).
    """
    from skmultilearn.model_selection import IterativeStratification

    fractions = [float(f) for f in fractions]
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions {fractions} must sum to 1")
    n = len(y)
    order = np.random.default_rng(seed).permutation(n)
    with seeded_numpy_global(seed):
        stratifier = IterativeStratification(
            n_splits=len(fractions), order=1, sample_distribution_per_fold=fractions
        )
        fold_of = np.full(n, -1)
        for k, (_, held) in enumerate(stratifier.split(np.zeros((n, 1)), y[order])):
            fold_of[order[held]] = k
    assert (fold_of >= 0).all()
    return fold_of


def _take(y: np.ndarray, n_take: int | None, seed: int) -> np.ndarray:
    """Boolean mask keeping about ``n_take`` rows, stratified like the splits."""
    n = len(y)
    if n_take is None or n_take >= n:
        return np.ones(n, dtype=bool)
    if n_take <= 0:
        raise ValueError(f"cannot keep {n_take} rows")
    return iterative_folds(y, [n_take / n, 1 - n_take / n], seed) == 0


@dataclass
class DualHeadSplits:
    """Split manifest + the labelled rows of each split (only the rows used by this profile)."""

    table: DualHeadTable
    manifest: pd.DataFrame  # uid, source, split, in_sample
    label_names_n: list[str]
    label_names_i: list[str]
    dropped_labels: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def frame(self, split: str, source: str | None = None) -> pd.DataFrame:
        rows = self.manifest[(self.manifest["split"] == split) & self.manifest["in_sample"]]
        out = self.table.df.set_index("uid").loc[rows["uid"]].reset_index()
        return out if source is None else out[out["source"] == source].reset_index(drop=True)

    def labels(self, split: str, head: str) -> np.ndarray:
        names = self.label_names_n if head == "n" else self.label_names_i
        return self.frame(split)[names].to_numpy(dtype=np.float64)

    @property
    def label_names(self) -> list[str]:
        return [*self.label_names_n, *self.label_names_i]

    def counts(self) -> pd.DataFrame:
        """Positives / annotated per label and split (used rows only)."""
        parts = {}
        for split in SPLITS:
            frame = self.frame(split)
            values = frame[self.label_names]
            parts[(split, "pos")] = (values == 1).sum()
            parts[(split, "annotated")] = values.notna().sum()
        return pd.DataFrame(parts)

    def summary(self) -> dict[str, Any]:
        """The ``data`` entry of ``dualhead.json``."""
        used = self.manifest[self.manifest["in_sample"]]
        return {
            "mode": self.table.mode,
            "description": self.table.data,
            "rows_raw": self.table.rows_raw,
            "filtered": self.table.filtered,
            "rows_in_pool": len(self.manifest),
            "rows_used": {s: int((used["split"] == s).sum()) for s in SPLITS},
            "rows_used_by_source": {
                f"{s}:{src}": int(n) for (s, src), n in used.groupby(["split", "source"]).size().items()
            },
            "label_names_n": self.label_names_n,
            "label_names_i": self.label_names_i,
            "dropped_labels": self.dropped_labels,
            "split_fractions": self.info.get("fractions"),
            "manifest": paths.shown(self.path) if self.path else None,
            "label_counts": {
                name: {f"{split}_{kind}": int(v) for (split, kind), v in row.items()}
                for name, row in self.counts().iterrows()
            },
        }


def make_splits(
    table: DualHeadTable,
    fractions: Sequence[float] = (0.8, 0.15, 0.05),
    seed: int = 42,
    max_rows: int | None = None,
    max_train: int | None = None,
    max_eval: int | None = None,
    min_positives: int = 2,
) -> DualHeadSplits:
    """Sample the pool (``max_rows``), drop rare labels, split 80/15/5 iteratively, cap train / eval."""
    df = table.df
    pool = np.ones(len(df), dtype=bool)
    if max_rows is not None and max_rows < len(df):
        pool = _take(stratification_matrix(df, table.label_names), max_rows, seed)
    pooled = df.loc[pool].reset_index(drop=True)
    positives = (pooled[table.label_names] == 1).sum()
    dropped = {
        name: f"{int(positives[name])} positive(s) in the pool < min_positives={min_positives}"
        for name in table.label_names
        if positives[name] < min_positives
    }
    keep_n = [n for n in table.label_names_n if n not in dropped]
    keep_i = [n for n in table.label_names_i if n not in dropped]
    y = stratification_matrix(pooled, [*keep_n, *keep_i])
    fold = iterative_folds(y, fractions, seed)
    split = np.asarray(SPLITS)[fold]
    in_sample = np.ones(len(pooled), dtype=bool)
    for name, cap in (("train", max_train), ("val", max_eval), ("test", max_eval)):
        rows = np.flatnonzero(split == name)
        in_sample[rows] = _take(y[rows], cap, seed + 1)
    manifest = pd.DataFrame(
        {"uid": pooled["uid"], "source": pooled["source"], "split": split, "in_sample": in_sample}
    )
    info = {
        "fractions": list(map(float, fractions)),
        "seed": seed,
        "max_rows": max_rows,
        "max_train": max_train,
        "max_eval": max_eval,
        "min_positives": min_positives,
    }
    return DualHeadSplits(table, manifest, keep_n, keep_i, dropped, info)


def _fingerprint(table: DualHeadTable, settings: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update("\n".join(table.df["uid"]).encode())
    digest.update(
        pd.util.hash_pandas_object(table.df[table.label_names].fillna(-1), index=False).values.tobytes()
    )
    return digest.hexdigest()[:16]


def manifest_dir(profile) -> Path:
    path = paths.artifacts_dir() / profile.name / "splits"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_or_make_splits(profile, table: DualHeadTable | None = None, rebuild: bool = False) -> DualHeadSplits:
    """The profile's split manifest: read it when it matches the data and settings, else make and save it."""
    table = table or load_table(profile)
    settings = {
        "mode": table.mode,
        "fractions": list(profile.data.dualhead_split),
        "seed": profile.seed,
        "max_rows": profile.data.dualhead_max_rows,
        "max_train": profile.dualhead.max_train_samples,
        "max_eval": profile.dualhead.max_eval_samples,
        "min_positives": 2,
        "threshold": profile.dualhead.label_threshold,
    }
    fingerprint = _fingerprint(table, settings)
    folder = manifest_dir(profile)
    csv_path, json_path = folder / "dualhead_split.csv", folder / "dualhead_split.json"
    if not rebuild and csv_path.exists() and json_path.exists():
        info = json.loads(json_path.read_text())
        if info.get("fingerprint") == fingerprint:
            manifest = pd.read_csv(csv_path, dtype={"uid": str, "source": str, "split": str})
            manifest["in_sample"] = manifest["in_sample"].astype(bool)
            return DualHeadSplits(
                table,
                manifest,
                info["label_names_n"],
                info["label_names_i"],
                info["dropped_labels"],
                info["settings"] | {"fractions": settings["fractions"]},
                csv_path,
            )
    splits = make_splits(
        table,
        settings["fractions"],
        settings["seed"],
        settings["max_rows"],
        settings["max_train"],
        settings["max_eval"],
        settings["min_positives"],
    )
    splits.path = csv_path
    splits.manifest.to_csv(csv_path, index=False)
    json_path.write_text(
        json.dumps(
            {
                "fingerprint": fingerprint,
                "settings": settings,
                "label_names_n": splits.label_names_n,
                "label_names_i": splits.label_names_i,
                "dropped_labels": splits.dropped_labels,
                "summary": splits.summary(),
            },
            indent=2,
        )
    )
    return splits
