"""hatespeech.functional: HateCheck accuracy by functionality / group with template-level intervals, and the
alarm profile of trajectories, on known cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hatespeech.data import load_source
from hatespeech.functional import alarm_profile, functional_accuracy

FIXTURES = Path(__file__).parent / "fixtures" / "data"


def _cases(templates):
    n = len(templates)
    return pd.DataFrame(
        {
            "text": [f"case {i}" for i in range(n)],
            "label": [1] * n,
            "label_gold": ["hateful"] * n,
            "functionality": ["derog_neg_emote_h"] * n,
            "target_ident": ["women"] * n,
            "templ_id": templates,
        }
    )


def test_intervals_resample_templates_not_cases():
    """Four cases of one template are one unit: every resample is the same, so the interval is a point; the
    same decisions as four templates give a real interval."""
    scores = {"m": [0.9, 0.9, 0.9, 0.1]}
    one = functional_accuracy(_cases([7, 7, 7, 7]), scores, n_resamples=200, seed=1)
    row = one[one["grouping"] == "all"].iloc[0]
    assert row["accuracy"] == row["low"] == row["high"] == 0.75 and row["n_templates"] == 1
    four = functional_accuracy(_cases([1, 2, 3, 4]), scores, n_resamples=200, seed=1)
    row = four[four["grouping"] == "all"].iloc[0]
    assert row["accuracy"] == 0.75 and row["low"] < 0.75 < row["high"] + 1e-12 and row["n_templates"] == 4
    again = functional_accuracy(_cases([1, 2, 3, 4]), scores, n_resamples=200, seed=1)
    pd.testing.assert_frame_equal(four, again)  # seeded


def test_groupings_thresholds_and_the_fixture():
    cases = load_source("hatecheck", FIXTURES).df
    always = np.ones(len(cases))
    table = functional_accuracy(cases, {"always": always, "never": 0 * always}, n_resamples=50)
    by = table.set_index(["system", "grouping", "value"])["accuracy"]
    assert by["always", "label_gold", "hateful"] == 1.0 and by["always", "label_gold", "non-hateful"] == 0.0
    assert by["never", "functionality", "negate_neg_nh"] == 1.0
    assert by["always", "all", "all"] == pytest.approx(3 / 7)
    assert set(table.loc[table["grouping"] == "target_ident", "value"]) == {"women", "immigrants"}
    own = functional_accuracy(cases, {"a": np.full(len(cases), 0.6)}, thresholds={"a": 0.7}, n_resamples=20)
    assert own.set_index(["grouping", "value"]).loc[("all", "all"), "accuracy"] == pytest.approx(4 / 7)
    with pytest.raises(ValueError, match="has 2 scores for 7 cases"):
        functional_accuracy(cases, {"short": [0.1, 0.2]})


def test_alarm_profile_on_known_trajectories():
    cases = pd.concat(
        [
            _cases([1, 2]),
            _cases([3]).assign(label=0, label_gold="non-hateful", functionality="counter_quote_nh"),
        ]
    )
    trajectories = {"m": [np.array([0.1, 0.6, 0.7, 0.8]), np.array([0.1, 0.2]), np.array([0.2, 0.9, 0.3])]}
    profile = alarm_profile(cases, trajectories).set_index("functionality")
    hateful, counter = profile.loc["derog_neg_emote_h"], profile.loc["counter_quote_nh"]
    assert hateful["fires"] == 0.5 and hateful["share_seen_mean"] == pytest.approx(2 / 4)
    assert counter["fires"] == 1.0 and counter["fires_at_end"] == 0.0  # an alarm mid-way, cleared at the end
