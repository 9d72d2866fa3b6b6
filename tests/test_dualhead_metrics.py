"""Classification metrics with masks, threshold tuning, and the Jigsaw bias metric on hand-computable
cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hatespeech.metrics import bias
from hatespeech.metrics import classification as cls

NAN = np.nan


def test_seed_threshold_grid():
    grid = cls.SEED_THRESHOLD_GRID
    assert grid[0] == 0.10 and grid[-1] == 0.88 and len(grid) == 40
    assert np.allclose(np.diff(grid), 0.02)


def test_tune_thresholds_grid_and_pr_curve():
    # positives at 0.35 and 0.8, negatives at 0.1 and 0.3: F1 = 1 for 0.30 < t <= 0.35
    y = np.array([[0], [0], [1], [1]], dtype=float)
    p = np.array([[0.1], [0.3], [0.35], [0.8]])
    assert cls.tune_thresholds(y, p)[0] == pytest.approx(0.32)  # first grid point with F1 = 1
    assert cls.tune_thresholds(y, p, grid=None)[0] == pytest.approx(0.35)  # PR-curve optimum


def test_tune_thresholds_ignores_masked_and_keeps_default():
    y = np.array([[0, 0], [0, 0], [1, 0], [1, NAN], [NAN, 0]], dtype=float)
    p = np.array([[0.1, 0.2], [0.3, 0.3], [0.35, 0.1], [0.8, 0.9], [0.99, 0.4]])
    thresholds = cls.tune_thresholds(y, p)
    # the masked row with score 0.99 would be a false positive at any threshold if it were counted as 0
    assert thresholds[0] == pytest.approx(0.32)
    assert thresholds[1] == 0.5  # no annotated positive: default


def test_per_label_metrics_masks_entries():
    y = np.array([[1], [0], [1], [NAN], [0]], dtype=float)
    p = np.array([[0.9], [0.2], [0.4], [0.95], [0.6]])
    table = cls.per_label_metrics(y, p, ["a"], 0.5)
    row = table.loc["a"]
    assert row["n_annotated"] == 4 and row["n_positive"] == 2
    assert row["precision"] == pytest.approx(0.5)  # TP 0.9, FP 0.6; the masked 0.95 is not a FP
    assert row["recall"] == pytest.approx(0.5)
    assert row["auc"] == pytest.approx(0.75)  # pairs: (0.9>0.2, 0.9>0.6, 0.4>0.2, 0.4<0.6)
    # a masked entry's score can change without changing anything
    p2 = p.copy()
    p2[3, 0] = 0.0
    pd.testing.assert_frame_equal(table, cls.per_label_metrics(y, p2, ["a"], 0.5))


def test_macro_f1_skips_labels_without_positives():
    y = np.array([[1, 0], [0, 0], [1, NAN]], dtype=float)
    p = np.array([[0.9, 0.9], [0.1, 0.1], [0.8, 0.5]])
    table = cls.per_label_metrics(y, p, ["a", "b"])
    assert table.loc["a", "f1"] == 1.0 and np.isnan(table.loc["b", "f1"])
    assert cls.macro_f1(table) == 1.0 and cls.unscored_labels(table) == ["b"]


def test_bad_labels_raise():
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        cls.per_label_metrics(np.array([[2.0]]), np.array([[0.5]]), ["a"])
    with pytest.raises(ValueError, match="shape"):
        cls.per_label_metrics(np.zeros((3, 2)), np.zeros((3, 1)), ["a", "b"])


def test_confusion_summary_rarest_first():
    y = np.array([[1, 1], [0, 1], [1, 0], [0, 0]], dtype=float)
    p = np.array([[0.9, 0.2], [0.6, 0.7], [0.4, 0.1], [0.1, 0.8]])
    summary = cls.confusion_summary(y, p, ["common", "rare"], [0.5, 0.5], train_positives=[10, 2], k=1)
    assert list(summary.index) == ["rare"]
    assert summary.loc["rare", ["tn", "fp", "fn", "tp"]].tolist() == [1, 1, 1, 1]


def test_head_report_tunes_on_val_scores_test():
    y_val = np.array([[0], [0], [1], [1]], dtype=float)
    p_val = np.array([[0.1], [0.3], [0.35], [0.8]])
    y_test = np.array([[0], [1], [1]], dtype=float)
    p_test = np.array([[0.31], [0.33], [0.45]])
    report = cls.head_report(y_val, p_val, y_test, p_test, ["a"])
    assert report["thresholds"]["a"] == pytest.approx(0.32)
    assert report["test_at_0.5"].loc["a", "f1"] == 0.0  # nothing above 0.5
    assert report["macro_f1"] == pytest.approx(1.0)  # at 0.32: 0.31 -> 0, 0.33 and 0.45 -> 1
    out = cls.head_json(report)
    assert set(out["per_label"]["a"]) >= {"precision", "recall", "f1", "auc", "threshold"}


# --------------------------------------------------------------------------------------------- bias metric
# Rows 0-3 mention subgroup A, rows 4-7 subgroup B (each row exactly one subgroup, like ToxiGen).
TOXIC = np.array([1, 1, 0, 0, 1, 1, 0, 0], dtype=float)
SCORE = np.array([0.9, 0.4, 0.6, 0.1, 0.8, 0.7, 0.3, 0.2])
IDENT = pd.DataFrame({"A": [1, 1, 1, 1, 0, 0, 0, 0], "B": [0, 0, 0, 0, 1, 1, 1, 1]}, dtype=float)


def test_rank_auc_equals_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    truth = rng.random(300) < 0.3
    score = np.round(rng.random(300), 1)  # ten distinct values: many ties across the classes
    assert bias._auc(truth, score) == pytest.approx(roc_auc_score(truth, score), abs=1e-12)
    assert np.isnan(bias._auc(np.zeros(5, dtype=bool), score[:5]))


def test_power_mean_hand_values():
    assert bias.power_mean([0.5, 0.5]) == pytest.approx(0.5)
    assert bias.power_mean([0.75, 1.0]) == pytest.approx(((0.75**-5 + 1) / 2) ** (-1 / 5))
    assert bias.power_mean([1.0, 2.0], p=1) == pytest.approx(1.5)


def test_bias_metric_hand_case():
    report = bias.bias_report(TOXIC, SCORE, IDENT, min_subgroup_size=2)
    table = report["per_subgroup"]
    # A: positives {.9, .4} vs negatives {.6, .1} -> 3 of 4 pairs ordered
    assert table.loc["A", "subgroup_auc"] == pytest.approx(0.75)
    # BPSN A: background positives {.8, .7} vs A negatives {.6, .1}; BNSP A: A positives {.9, .4} vs {.3, .2}
    assert table.loc["A", "bpsn_auc"] == pytest.approx(1.0)
    assert table.loc["A", "bnsp_auc"] == pytest.approx(1.0)
    assert table.loc["B"].drop(["subgroup_size", "subgroup_toxic"]).tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert report["overall_auc"] == pytest.approx(15 / 16)
    m_sub = ((0.75**-5 + 1.0**-5) / 2) ** (-1 / 5)
    expected = 0.25 * 15 / 16 + 0.75 * (m_sub + 1.0 + 1.0) / 3
    assert report["final"] == pytest.approx(expected)
    assert report["final"] == pytest.approx(0.9408, abs=1e-4)


def test_bias_metric_skips_and_names_small_or_single_class_subgroups():
    ident = IDENT.assign(C=[0, 0, 0, 0, 0, 0, 0, 1], D=[0, 0, 1, 1, 0, 0, 0, 0])
    report = bias.bias_report(TOXIC, SCORE, ident, min_subgroup_size=2)
    assert "members < min_subgroup_size" in report["skipped"]["C"]
    assert "subgroup_auc, bnsp_auc undefined" in report["skipped"]["D"]  # D's two members are both non-toxic
    assert list(report["per_subgroup"].index) == ["A", "B"]


def test_bias_metric_unannotated_identities():
    ident = IDENT.copy()
    ident.loc[[4, 5], "A"] = np.nan  # unknown whether rows 4, 5 mention A
    background = bias.bias_report(TOXIC, SCORE, ident, min_subgroup_size=2)
    excluded = bias.bias_report(TOXIC, SCORE, ident, min_subgroup_size=2, unannotated="exclude")
    # Kaggle's convention (NaN >= 0.5 is False): rows 4, 5 stay in A's background (BPSN A uses them)
    assert background["per_subgroup"].loc["A", "bpsn_auc"] == pytest.approx(1.0)
    # excluded: no background positive left for A's BPSN -> A skipped as undefined
    assert excluded["skipped"]["A"].startswith("bpsn_auc undefined")


def test_bias_json_says_not_comparable():
    report = bias.bias_report(TOXIC, SCORE, IDENT, min_subgroup_size=2)
    out = bias.bias_json(report, comparable=False, data="ToxiGen")
    assert out["reference"] == {"detoxify_unbiased_final_x100": 93.74, "competition_best_final_x100": 94.73}
    assert "NOT on the Jigsaw" in out["note"] and out["comparable_with_reference"] is False
    assert out["final_x100"] == pytest.approx(100 * report["final"])
