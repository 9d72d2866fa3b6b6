"""hatespeech.dualhead.intervals: macro-F1 and bias intervals of the dual-head study, the paired
shared-vs-separate verdict, and the stratified resampling that keeps every subgroup AUC defined."""

from __future__ import annotations

import numpy as np
import pytest
from hatespeech.config import get_profile
from hatespeech.dualhead import evaluate, intervals, separate_json
from hatespeech.metrics import bias as bias_metrics
from hatespeech.metrics import classification as cls
from synthetic import predictions, synthetic_splits


@pytest.fixture(scope="module")
def splits():
    return synthetic_splits(n=400, fractions=(0.5, 0.25, 0.25))


def test_vectorised_macro_f1_equals_the_per_label_table():
    rng = np.random.default_rng(0)
    y = (rng.random((50, 4)) < 0.3).astype(float)
    y[rng.random((50, 4)) < 0.2] = np.nan  # unannotated entries
    y[:, 3] = np.where(np.isnan(y[:, 3]), np.nan, 0.0)  # a label without positives: left out of the mean
    probs = rng.random((50, 4))
    thresholds = {"a": 0.3, "b": 0.5, "c": 0.7, "d": 0.5}
    table = cls.per_label_metrics(y, probs, list(thresholds), list(thresholds.values()))
    decided = intervals.decisions(probs, thresholds, list(thresholds))
    assert intervals.macro_f1_decisions(y, decided) == pytest.approx(cls.macro_f1(table))
    assert np.isnan(intervals.macro_f1_decisions(np.zeros((3, 2)), np.ones((3, 2))))


def test_stratified_resamples_keep_every_stratum_size():
    strata = ["a", "a", "b", "c", "c", "c"]
    for idx in intervals.stratified_resamples(strata, 20, seed=1):
        drawn = [strata[i] for i in idx]
        assert drawn.count("a") == 2 and drawn.count("b") == 1 and drawn.count("c") == 3
    first = list(intervals.stratified_resamples(strata, 3, seed=1))
    assert all((x == y).all() for x, y in zip(first, intervals.stratified_resamples(strata, 3, seed=1)))


def test_head_and_bias_intervals_hold_their_estimates(splits):
    preds = {s: predictions(splits, s, noise=0.4, seed=3) for s in ("val", "test")}
    reports = evaluate(splits, preds)
    test = {h: getattr(preds["test"], f"probs_{h}") for h in ("n", "i")}
    out = intervals.head_intervals(splits, test, reports, n_resamples=200, seed=0)
    for head in ("n", "i"):
        interval = out[f"head_{head}"]
        assert interval["estimate"] == pytest.approx(reports[head]["macro_f1"])  # the reported number
        assert interval["low"] <= interval["estimate"] <= interval["high"] and interval["unit"] == "text"
    bias = intervals.bias_interval(splits, test["n"], min_subgroup_size=2, n_resamples=100, seed=0)
    toxicity, score, identities = intervals.bias_inputs(splits, test["n"])
    assert bias["estimate"] == pytest.approx(
        bias_metrics.bias_report(toxicity, score, identities, min_subgroup_size=2)["final"]
    )
    assert bias["low"] <= bias["estimate"] <= bias["high"] and bias["low"] < bias["high"]
    assert "within each stratum" in bias["resampling"]


def test_paired_verdict_says_no_clear_difference_for_a_model_against_itself(splits):
    preds = {s: predictions(splits, s, noise=0.4, seed=3) for s in ("val", "test")}
    reports = evaluate(splits, preds)
    test = {h: getattr(preds["test"], f"probs_{h}") for h in ("n", "i")}
    paired = intervals.shared_vs_separate(splits, test, reports, test, reports, n_resamples=100, seed=0)
    assert paired["head_n"]["verdict"] == "no clear difference"
    times = {"joint": 100.0, "joint_search": 210.0, "separate_n": 90.0, "separate_i": 80.0}
    entry = separate_json(reports, reports, times, {"joint": 10}, paired=paired, n_candidates=2)
    assert "shared minus separate 0.000 [0.000, 0.000]: no clear difference" in entry["verdict"]
    assert "210 s for the shared route (2 joint model(s); the kept one 100 s) vs 170 s" in entry["verdict"]
    assert "picked on validation among 2 joint models" in entry["verdict"]
    assert entry["train_seconds"]["shared_with_lambda_search"] == 210.0
    unpaired = separate_json(reports, reports, times, {"joint": 10})
    assert "no interval" in unpaired["verdict"] and "paired_shared_minus_separate" not in unpaired


def test_all_intervals_for_a_profile(splits):
    preds = {s: predictions(splits, s, noise=0.4, seed=3) for s in ("val", "test")}
    reports = evaluate(splits, preds)
    test = {h: getattr(preds["test"], f"probs_{h}") for h in ("n", "i")}
    profile = get_profile(
        "smoke", **{"dualhead.bootstrap_resamples": 50, "dualhead.bias_min_subgroup_size": 2}
    )
    out = intervals.all_intervals(profile, splits, test, reports)
    assert set(out) == {"head_n", "head_i", "bias"} and out["head_n"]["n_resamples"] == 50
    out = intervals.all_intervals(profile, splits, test, reports, test, reports)
    assert "shared_minus_separate" in out


def test_tfidf_baseline_uses_the_models_threshold_search_and_a_paired_interval(splits):
    """Issue 26: every dual-head number beside a yardstick. The baseline is fit on train only, tuned on
    validation like the model, and compared on the same test resamples; a model that copies the labels beats
    it with an interval above 0."""
    from hatespeech.dualhead import tfidf_baseline
    from hatespeech.dualhead.baseline import tfidf_probabilities
    from hatespeech.metrics.bootstrap import PairedDifference

    probs = tfidf_probabilities(splits, "i")
    assert probs["test"].shape == splits.labels("test", "i").shape and 0 <= probs["test"].min() <= 1
    preds = {s: predictions(splits, s, noise=0.1, seed=3) for s in ("val", "test")}
    reports = evaluate(splits, preds)
    test = {h: getattr(preds["test"], f"probs_{h}") for h in ("n", "i")}
    out = tfidf_baseline(splits, test, reports, n_resamples=200, seed=0)
    for head in ("head_n", "head_i"):
        d = PairedDifference.from_json(out["heads"][head]["model_minus_baseline"])
        assert d.a.estimate == pytest.approx(reports[head[-1]]["macro_f1"])  # the model's reported number
        assert d.b.estimate == pytest.approx(out["heads"][head]["macro_f1"])
        assert d.difference.low > 0  # labels plus a little noise beat any text model on synthetic text
