"""The dual-head label map (hatespeech.data.dualhead_labels), applied by build_table to hand-made fixtures in
the unified schema (tests/fixtures/dualhead)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hatespeech.data.dualhead import build_table
from hatespeech.data.dualhead_labels import JIGSAW_IDENTITIES, OFFLINE_RULES, TOXIGEN_GROUPS, label_map_table
from hatespeech.data.schema import DataValidationError

NAN = float("nan")


@pytest.fixture
def frames(fixtures_dir):
    folder = fixtures_dir / "dualhead"
    return {
        "toxigen": pd.read_csv(folder / "toxigen_unified.csv", dtype={"id": str}),
        "olid": pd.read_csv(folder / "olid_unified.csv", dtype={"id": str}),
    }


def _row(table, uid):
    return table.df.set_index("uid").loc[uid]


def _same(value, expected):
    return (math.isnan(value) and math.isnan(expected)) if math.isnan(expected) else value == expected


def test_offline_label_sets():
    table = label_map_table("offline")
    assert list(table.loc[table["head"] == "head_n", "label"]) == [
        "toxic",
        "lewd",
        "offensive",
        "targeted_insult",
        "untargeted_profanity",
        "targets_individual",
        "targets_group",
        "targets_other",
    ]
    assert list(table.loc[table["head"] == "head_i", "label"]) == list(TOXIGEN_GROUPS)
    assert (table["otherwise"] == "NaN (masked)").all()
    assert len(OFFLINE_RULES) == 8 + 13


def test_jigsaw_label_sets():
    table = label_map_table("jigsaw")
    assert list(table.loc[table["head"] == "head_n", "label"]) == [
        "toxicity",
        "severe_toxicity",
        "obscene",
        "identity_attack",
        "insult",
        "threat",
    ]
    assert list(table.loc[table["head"] == "head_i", "label"]) == list(JIGSAW_IDENTITIES)
    assert len(JIGSAW_IDENTITIES) == 17


@pytest.mark.parametrize(
    "uid, expected",
    [
        # ToxiGen: toxic = toxicity_human >= 4; lewd masked for 'might contain' / 'disagreement'
        ("toxigen:0", {"toxic": 1.0, "lewd": 0.0, "asian": 1.0, "women": 0.0, "offensive": NAN}),
        ("toxigen:1", {"toxic": 0.0, "lewd": 0.0, "asian": 1.0, "jewish": 0.0}),
        ("toxigen:2", {"toxic": 1.0, "lewd": 1.0, "women": 1.0, "asian": 0.0}),
        ("toxigen:3", {"toxic": 0.0, "lewd": NAN, "women": 1.0}),
        ("toxigen:4", {"toxic": 0.0, "lewd": NAN, "jewish": 1.0, "targeted_insult": NAN}),
        # OLID: NOT implies 0 for levels B and C; UNT implies 0 for level C; identities masked
        (
            "olid:101",
            {
                "offensive": 0.0,
                "targeted_insult": 0.0,
                "untargeted_profanity": 0.0,
                "targets_individual": 0.0,
                "targets_group": 0.0,
                "targets_other": 0.0,
                "toxic": NAN,
                "lewd": NAN,
                "asian": NAN,
            },
        ),
        (
            "olid:102",
            {
                "offensive": 1.0,
                "targeted_insult": 1.0,
                "untargeted_profanity": 0.0,
                "targets_individual": 1.0,
                "targets_group": 0.0,
                "targets_other": 0.0,
            },
        ),
        ("olid:103", {"targets_individual": 0.0, "targets_group": 1.0, "targets_other": 0.0}),
        (
            "olid:104",
            {
                "offensive": 1.0,
                "targeted_insult": 0.0,
                "untargeted_profanity": 1.0,
                "targets_individual": 0.0,
                "targets_group": 0.0,
                "targets_other": 0.0,
            },
        ),
        ("olid:105", {"targets_other": 1.0, "targets_group": 0.0}),
    ],
)
def test_offline_mapping(frames, uid, expected):
    table = build_table(frames, "offline")
    row = _row(table, uid)
    for label, value in expected.items():
        assert _same(row[label], value), (uid, label, row[label], value)


def test_identity_one_hot_and_masks(frames):
    table = build_table(frames, "offline")
    identities = table.df[table.label_names_i]
    toxigen = table.df["source"] == "toxigen"
    assert (identities[toxigen].sum(axis=1) == 1).all()  # exactly one group per ToxiGen row
    assert identities[~toxigen].isna().all().all()  # OLID rows masked, not zero-filled
    assert len(table.df) == 11  # no row dropped for a missing label


def test_duplicates_counted_not_silent(frames):
    table = build_table(frames, "offline")
    assert table.filtered == {"duplicate_text": 1}
    assert "olid:106" not in set(table.df["uid"])


def test_unknown_category_raises(frames):
    frames["olid"].loc[1, "subtask_c"] = "XYZ"
    with pytest.raises(DataValidationError, match=r"subtask_c.*XYZ"):
        build_table(frames, "offline")


def test_missing_column_raises(frames):
    frames["toxigen"] = frames["toxigen"].drop(columns=["toxicity_human"])
    with pytest.raises(DataValidationError, match="toxicity_human"):
        build_table(frames, "offline")


def test_jigsaw_mapping_keeps_missing_identities_masked():
    frame = pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "source": "jigsaw",
            "text": ["x", "y", "z"],
            "toxicity": [0.7, 0.2, 0.5],
            "severe_toxicity": [0.0, 0.0, 0.1],
            "obscene": [0.6, 0.0, 0.0],
            "identity_attack": [0.0, 0.5, 0.0],
            "insult": [0.9, 0.1, 0.4],
            "threat": [0.0, 0.0, 0.0],
            **{name: [np.nan, 0.8, 0.0] for name in JIGSAW_IDENTITIES},
        }
    )
    table = build_table({"jigsaw": frame}, "jigsaw")
    df = table.df.set_index("id")
    assert (
        df.loc["a", "toxicity"] == 1.0 and df.loc["b", "toxicity"] == 0.0 and df.loc["c", "toxicity"] == 1.0
    )
    assert df.loc["a", "obscene"] == 1.0 and df.loc["b", "identity_attack"] == 1.0
    assert df.loc["a", table.label_names_i].isna().all()  # empty identity cells stay NaN
    assert (df.loc["b", table.label_names_i] == 1.0).all() and (df.loc["c", table.label_names_i] == 0.0).all()
