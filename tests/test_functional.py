"""hatespeech.functional: HateCheck accuracy by functionality / group and AUC / balanced accuracy with
template-family intervals, the forgetting and remedy comparisons, the reference rows, and the alarm profile of
trajectories, on known cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hatespeech.data import load_source
from hatespeech.functional import alarm_profile, functional_accuracy

FIXTURES = Path(__file__).parent / "fixtures" / "data"


def _cases(templates, families=None):
    n = len(templates)
    return pd.DataFrame(
        {
            "text": [f"case {i}" for i in range(n)],
            "label": [1] * n,
            "label_gold": ["hateful"] * n,
            "functionality": ["derog_neg_emote_h"] * n,
            "target_ident": ["women"] * n,
            "templ_id": templates,
            "family_id": templates if families is None else families,
        }
    )


def test_intervals_resample_template_families_not_cases_or_templates():
    """Four templates of one family are one unit (every resample is the same, so the interval is a point);
    the same decisions in four families give a real interval."""
    scores = {"m": [0.9, 0.9, 0.9, 0.1]}
    one = functional_accuracy(_cases([1, 2, 3, 4], families=[1, 1, 1, 1]), scores, n_resamples=200, seed=1)
    row = one[one["grouping"] == "all"].iloc[0]
    assert row["accuracy"] == row["low"] == row["high"] == 0.75
    assert row["n_templates"] == 4 and row["n_families"] == 1


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


def _run_with(decisions_by_system, cases, variants=("encoder",)):
    """A FunctionalRun whose systems decide as given (scores 0/1 at threshold 0.5)."""
    from hatespeech.config import get_profile
    from hatespeech.functional import FunctionalRun, SystemScores

    profile = get_profile(
        "smoke", **{"anticipation.bootstrap_resamples": 200, "anticipation.variants": tuple(variants)}
    )
    run = FunctionalRun(profile=profile, cases=cases)
    for name, decided in decisions_by_system.items():
        kind, variant = name.split(":", 1)
        run.systems[name] = SystemScores(kind, variant, "test", 0.5, "test", np.asarray(decided, float))
    return run


def _labelled_cases(n_templates=10, per_template=3):
    rows = []
    for t in range(n_templates):
        label = int(t < n_templates // 2)
        for _ in range(per_template):
            rows.append(
                {
                    "text": f"case {len(rows)}",
                    "label": label,
                    "label_gold": "hateful" if label else "non-hateful",
                    "functionality": "derog_neg_emote_h" if label else "counter_quote_nh",
                    "target_ident": "women",
                    "templ_id": t + 1,
                    "family_id": t + 1,
                }
            )
    return pd.DataFrame(rows)


def test_forgetting_is_phase2_minus_phase1_on_each_gold_label():
    from hatespeech.functional.run import forgetting

    cases = _labelled_cases()
    hateful = cases["label"].to_numpy() == 1
    phase1 = np.where(hateful, 1, 0)  # all right
    phase2 = np.zeros(len(cases))  # forgets every hateful case, keeps the non-hateful ones right
    run = _run_with({"phase1:encoder": phase1, "phase2:encoder": phase2}, cases)
    out = forgetting(run)["encoder"]
    h, nh = out.hateful, out.non_hateful
    assert (
        h.difference.estimate == -1.0 and h.difference.high == -1.0 and h.verdict() != "no clear difference"
    )
    assert nh.difference.estimate == 0.0 and nh.verdict() == "no clear difference"
    assert h.difference.n_units == 5  # families, not cases


def _phase2_with_rehearsal(mse_with=0.031):
    from types import SimpleNamespace

    from hatespeech.anticipation.evidence_types import Rehearsal
    from hatespeech.metrics.bootstrap import Interval
    from hatespeech.nested import decode

    interval = {"estimate": 0.030, "low": 0.025, "high": 0.035, "n_units": 50, "n_resamples": 10}

    def criterion(value):
        return {"val_mse": value - 0.1, "phase1_selection_brier": 0.1, "criterion": value}

    rehearsal = {
        "variant": "encoder",
        "description": "test",
        "chosen_share": 0.1,
        "chosen_by": "held-out",
        "shares": [0.1],
        "candidates": {"0.1": criterion(0.17)},
        "without": criterion(0.16),
    }
    return SimpleNamespace(
        rehearsal=decode(Rehearsal, rehearsal, "rehearsal"),
        phase2_evidence=SimpleNamespace(
            intervals={
                "phase2:encoder": Interval.from_json(interval),
                "rehearsal:encoder": Interval.from_json({**interval, "estimate": mse_with}),
            }
        ),
    )


def test_remedy_target_is_auc_and_balanced_accuracy_up_not_one_sided_accuracy():
    from types import SimpleNamespace

    from hatespeech.functional.results import FunctionalResult
    from hatespeech.functional.run import remedy

    cases = _labelled_cases()
    hateful = cases["label"].to_numpy() == 1
    # Rehearsal that only shifts the scale: every case now "hateful" -> hateful accuracy +1, non-hateful
    # -1, the ranking (and so the AUC) unchanged, balanced accuracy unchanged: the target is missed.
    ranks = np.where(hateful, 0.4, 0.3)
    shifted = _run_with({"phase2:encoder": ranks, "rehearsal:encoder": ranks + 0.2}, cases)
    out = remedy(shifted, _phase2_with_rehearsal())
    assert out.hateful.difference.estimate == 1.0
    assert out.non_hateful.difference.estimate == -1.0
    assert out.auc.difference.estimate == 0.0
    assert out.balanced_accuracy.difference.estimate == 0.0
    assert not out.target.met
    # Rehearsal that separates the classes the model without it confused: both measures up -> met.
    confused = np.full(len(cases), 0.4)
    separated = _run_with(
        {"phase2:encoder": confused, "rehearsal:encoder": np.where(hateful, 0.9, 0.1)}, cases
    )
    met = remedy(separated, _phase2_with_rehearsal())
    assert met.target.auc_up and met.target.balanced_accuracy_up and met.target.met
    assert remedy(separated, None) is None
    line = FunctionalResult.remedy_line(SimpleNamespace(remedy=met))
    assert "the one share this profile tries" in line and "lower without rehearsal (0.1600 vs 0.1700)" in line
    assert "AUC 0.50 [0.50, 0.50] (rehearsal:encoder better" in line and line.endswith("met.")


def test_discrimination_auc_equals_sklearn_and_balanced_accuracy_is_threshold_aware():
    from hatespeech.functional import discrimination
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score

    cases = _labelled_cases(n_templates=12)
    rng = np.random.default_rng(3)
    y = cases["label"].to_numpy()
    scores = {"m": np.clip(0.3 * y + rng.random(len(y)) * 0.7, 0, 1), "all_hateful": np.ones(len(y))}
    table = discrimination(cases, scores, {"m": 0.6, "all_hateful": 0.5}, n_resamples=200, seed=0)
    m = table.set_index("system").loc["m"]
    assert m["auc"] == pytest.approx(roc_auc_score(y, scores["m"]))
    assert m["auc_low"] <= m["auc"] <= m["auc_high"]
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, scores["m"] >= 0.6))
    assert m["balanced_accuracy_at_0.5"] == pytest.approx(balanced_accuracy_score(y, scores["m"] >= 0.5))
    assert m["n_families"] == 12
    constant = table.set_index("system").loc["all_hateful"]  # answering "hateful" everywhere decides nothing
    assert (
        constant["auc"] == 0.5
        and constant["balanced_accuracy"] == 0.5
        and constant["hateful_accuracy"] == 1.0
    )
    with pytest.raises(ValueError, match="hold one label"):
        discrimination(cases[cases["label"] == 1], {"m": scores["m"][y == 1]}, 0.5)


def test_held_out_threshold_carries_its_interval():
    from hatespeech.functional.run import held_out_threshold

    y = np.array([0, 0, 0, 1, 1, 0, 1, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.4, 0.6, 0.65, 0.9, 0.35])
    threshold, interval = held_out_threshold(y, p, n_resamples=100, seed=0)
    assert threshold == 0.35  # F1 5/6 (all five hateful caught, two false alarms) beats 0.6 (F1 0.8)
    assert interval.low <= threshold <= interval.high and interval.n_units == 10


def test_reference_rows_are_a_constant_and_profanity_check():
    from hatespeech.functional.run import reference_systems

    refs = reference_systems(["I hate you, you fucking idiot", "Have a lovely day"])
    assert set(refs) == {"reference:all_hateful", "reference:profanity_check"}
    assert refs["reference:all_hateful"].scores.tolist() == [1.0, 1.0]
    profane = refs["reference:profanity_check"].scores
    assert profane[0] > 0.5 > profane[1]
    assert all(r.kind == "reference" for r in refs.values())


def test_template_sample_keeps_whole_templates_in_every_functionality():
    from hatespeech.functional.run import sample_templates

    cases = load_source("hatecheck", FIXTURES).df
    full = sample_templates(cases, None, seed=0)
    assert len(full) == len(cases)
    few = sample_templates(cases, 2, seed=0)
    assert set(few["functionality"]) == set(cases["functionality"])  # at least one template each
    for templ_id, part in few.groupby("templ_id"):
        assert len(part) == (cases["templ_id"] == templ_id).sum()  # whole templates only
    assert sample_templates(cases, 2, seed=0).equals(few)  # seeded


def test_the_detector_is_compared_with_systems_named_before_it_was_scored():
    from hatespeech.functional import SystemScores
    from hatespeech.functional.run import detector_comparisons

    cases = _labelled_cases()
    hateful = cases["label"].to_numpy() == 1
    run = _run_with(
        {
            "phase2:encoder": np.full(len(cases), 0.4),  # ranks nothing
            "detector:encoder": np.where(hateful, 0.9, 0.1),  # ranks every case
            "phase1:decoder": np.where(hateful, 0.8, 0.2),  # as good on HateCheck, yet never a comparator
        },
        cases,
    )
    for name, variant in (("single_head:toxic", "separate_n"), ("dualhead:toxic", "joint")):
        run.systems[name] = SystemScores("dualhead", variant, "test", 0.5, "test", np.full(len(cases), 0.6))
    run.best_system = "phase2:encoder"  # chosen on held-out phase-2 data, before HateCheck
    out = detector_comparisons(run)
    assert list(out) == ["phase2:encoder", "single_head:toxic"]
    assert out["phase2:encoder"].auc.difference.estimate == pytest.approx(0.5)
    assert out["phase2:encoder"].auc.difference.n_units == 10  # families
    run.systems.pop("detector:encoder")
    assert detector_comparisons(run) == {}


def test_the_findings_say_what_the_detector_was_trained_on_and_time_its_training_apart(tmp_path):
    import json

    import make_fake_metrics
    from hatespeech.functional.results import FunctionalResult

    make_fake_metrics.write(tmp_path)
    result = FunctionalResult.from_json(json.loads((tmp_path / "metrics" / "functional.json").read_text()))
    text = "\n".join(result.findings())
    assert "Whole-sentence hate detector (detector:encoder" in text
    assert "900 whole sentences of 2 hate-labelled corpora" in text and "AUC 0.810 on its own" in text
    assert "Exploratory: the whole-sentence detector minus phase2:encoder: AUC" in text
    assert "12 paired comparisons" in text  # forgetting (1 variant), the remedy, the detector: 3 x 4 measures
    result.wall_seconds = {"06_functional": 420.0}
    (context,) = result.context()
    assert "took 7.0 min" in context and "of which 2.0 min trained the whole-sentence detector" in context
    assert "5.0 min scored and compared" in context and "scoring adds <= 5 min" in context
    assert context.count("met") == 1
