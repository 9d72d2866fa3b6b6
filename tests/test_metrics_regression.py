"""hatespeech.metrics.regression on hand-computable cases: MSE, MAE, Pearson, calibration, earliness."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hatespeech.metrics.regression import (
    calibration_table,
    earliness,
    expected_calibration_error,
    first_crossing,
    pearson,
    regression_metrics,
)


def test_regression_metrics_by_hand():
    m = regression_metrics([0.0, 1.0, 0.5], [0.0, 0.5, 0.5])
    assert m["mse"] == pytest.approx(0.25 / 3)
    assert m["mae"] == pytest.approx(0.5 / 3)
    # x = [0, 1, .5] (mean .5), y = [0, .5, .5] (mean 1/3): cov = 1/4, var_x = 1/2, var_y = 1/6 (sums)
    assert m["pearson"] == pytest.approx(0.25 / math.sqrt(0.5 * 1 / 6))
    assert m["n"] == 3


def test_pearson_undefined_for_a_constant_prediction():
    assert pearson([0.1, 0.5, 0.9], [0.3, 0.3, 0.3]) is None
    assert regression_metrics([0.1, 0.5], [0.3, 0.3])["pearson"] is None
    assert pearson([0, 1, 2], [2, 4, 6]) == pytest.approx(1.0)


def test_regression_metrics_reject_bad_input():
    with pytest.raises(ValueError, match="3 values but y_pred has 2"):
        regression_metrics([0, 1, 0], [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        regression_metrics([0, np.nan], [0, 1])
    with pytest.raises(ValueError, match="no values"):
        regression_metrics([], [])


def test_calibration_table_and_ece_by_hand():
    y_true = [0.0, 0.2, 1.0, 0.6]
    y_pred = [0.05, 0.15, 0.95, 1.0]  # bins: [0, .5) gets the first two, [.5, 1] the last two (1.0 included)
    table = calibration_table(y_true, y_pred, n_bins=2)
    assert table["n"].tolist() == [2, 2]
    assert table["mean_pred"].tolist() == pytest.approx([0.1, 0.975])
    assert table["mean_true"].tolist() == pytest.approx([0.1, 0.8])
    assert expected_calibration_error(table) == pytest.approx((2 * 0.0 + 2 * 0.175) / 4)
    ten = calibration_table(y_true, y_pred)
    assert len(ten) == 10 and ten["n"].sum() == 4 and ten["mean_pred"].isna().sum() == 7


def test_first_crossing():
    assert first_crossing([0.1, 0.4, 0.5, 0.9]) == 3  # 0.5 counts as reached
    assert first_crossing([0.1, 0.2]) is None
    assert first_crossing([0.7]) == 1
    assert first_crossing([0.1, 0.35], threshold=0.3) == 2


def test_earliness_by_hand():
    trajectories = [
        [0.1, 0.6, 0.7, 0.8],  # hateful, crosses at word 2 of 4 -> 0.5
        [0.1, 0.2, 0.3, 0.4, 0.9],  # hateful, word 5 of 5 -> 1.0
        [0.1, 0.1],  # hateful, never: missed
        [0.2, 0.55, 0.1],  # not hateful, crosses: false alarm
        [0.1, 0.2, 0.3],  # not hateful, quiet
    ]
    result = earliness(trajectories, [True, True, True, False, False])
    assert result["n_hateful"] == 3 and result["n_not_hateful"] == 2
    assert result["detection_rate"] == pytest.approx(2 / 3)
    assert result["share_seen_mean"] == pytest.approx(0.75)
    assert result["share_seen_median"] == pytest.approx(0.75)
    assert result["false_alarm_rate"] == pytest.approx(0.5)
    # Wilson intervals (2 of 3: 0.208-0.939 by the textbook formula)
    low, high = result["detection_rate_ci"]
    assert low == pytest.approx(0.2077, abs=1e-3) and high == pytest.approx(0.9385, abs=1e-3)
    assert result["false_alarm_rate_ci"][0] < 0.5 < result["false_alarm_rate_ci"][1]


def test_earliness_edge_cases():
    none_found = earliness([[0.1, 0.2]], [True])
    assert none_found["detection_rate"] == 0 and none_found["share_seen_mean"] is None
    assert none_found["false_alarm_rate"] is None and none_found["false_alarm_rate_ci"] is None
    with pytest.raises(ValueError, match="2 trajectories but 1"):
        earliness([[0.1], [0.2]], [True])
    with pytest.raises(ValueError, match="empty trajectory"):
        earliness([[]], [False])
