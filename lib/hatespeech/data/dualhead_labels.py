"""The dual-head label map: one table of rules that turn each source's columns into the two heads' labels.

Two heads: ``head_n`` (toxicity types) and ``head_i`` (identity groups). Every label of every row is 1, 0 or
NaN; NaN means "this row's source does not annotate this label" and is masked out of the loss and the
metrics, never zero-filled and never a reason to drop the row.

The mapping is the table :data:`LABEL_MAPS` (``label_map_table(mode)`` shows it). Each rule turns one source's
columns into one label: its conditions are tried in order, the first that matches gives the value, and a row
that matches none gets NaN (masked). :func:`apply_label_map` applies it (and refuses a category no rule
mentions); :mod:`hatespeech.data.dualhead` builds the labelled table and its splits from it.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .jigsaw import IDENTITY_COLUMNS, SUBTYPES
from .schema import DataValidationError

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
