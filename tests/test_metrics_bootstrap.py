"""Cluster percentile bootstrap: determinism, known intervals, grouping, paired verdicts, JSON, bad input."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hatespeech.metrics.bootstrap import (
    Interval,
    PairedDifference,
    bootstrap_interval,
    multi_bootstrap,
    paired_bootstrap,
    resample_rows,
    unit_index,
)


def accuracy(y_true, y_pred) -> float:
    return float(np.mean(y_true == y_pred))


def mse(y_true, y_pred) -> float:
    return float(np.mean((y_true - y_pred) ** 2))


# --- building blocks ---------------------------------------------------------------------------------------


def test_unit_index_groups_rows_in_order_of_first_appearance():
    units = unit_index(["b", "a", "b", "c", "a"])
    assert [u.tolist() for u in units] == [[0, 2], [1, 4], [3]]


def test_unit_index_accepts_tuple_ids():
    units = unit_index([("s1", 0), ("s2", 0), ("s1", 0)])
    assert [u.tolist() for u in units] == [[0, 2], [1]]


def test_resample_rows_keeps_units_whole_and_multiplicity():
    units = unit_index([0, 0, 0, 1, 2, 2])
    sizes = {0: 3, 1: 1, 2: 2}
    for idx in resample_rows(units, n_resamples=50, seed=3):
        # rows come in whole units: each unit's rows appear equally often (its draw count)
        counts = np.bincount(idx, minlength=6)
        assert counts[0] == counts[1] == counts[2]
        assert counts[4] == counts[5]
        drawn = counts[0] + counts[3] + counts[4]
        assert drawn == len(units)
        assert len(idx) == sum(sizes[u] * c for u, c in zip((0, 1, 2), (counts[0], counts[3], counts[4])))


def test_resample_rows_is_seeded():
    units = unit_index(np.repeat(np.arange(20), 3))
    first = list(resample_rows(units, 10, seed=1))
    again = list(resample_rows(units, 10, seed=1))
    other = list(resample_rows(units, 10, seed=2))
    assert all(np.array_equal(x, y) for x, y in zip(first, again))
    assert not all(np.array_equal(x, y) for x, y in zip(first, other))


# --- determinism and known intervals -----------------------------------------------------------------------


def test_fixed_seed_gives_same_interval_and_other_seed_differs():
    rng = np.random.default_rng(0)
    values = rng.normal(size=300)
    first = bootstrap_interval(np.mean, values, seed=7)
    again = bootstrap_interval(np.mean, values, seed=7)
    other = bootstrap_interval(np.mean, values, seed=8)
    assert first == again
    assert (other.low, other.high) != (first.low, first.high)
    assert first.estimate == other.estimate == pytest.approx(values.mean())


def test_two_units_zero_and_one_give_the_full_unit_interval():
    # Resampled means are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and 97.5% points are 0 and 1.
    interval = bootstrap_interval(np.mean, np.array([0.0, 1.0]), n_resamples=2000, seed=0, level=0.95)
    assert (interval.low, interval.high) == (0.0, 1.0)
    assert interval.estimate == 0.5
    assert interval.n_units == 2 and interval.n_resamples == 2000 and interval.level == 0.95


def test_constant_data_gives_zero_width_interval():
    interval = bootstrap_interval(np.mean, np.full(50, 0.25), n_resamples=200, seed=1)
    assert interval.low == interval.high == interval.estimate == 0.25
    assert interval.contains(0.25)
    assert not interval.contains(0.26)


# --- grouping ----------------------------------------------------------------------------------------------


def test_grouped_duplicates_equal_deduplicated_rows():
    rng = np.random.default_rng(42)
    per_group = rng.normal(size=40)
    groups = np.repeat(np.arange(40), 10)
    clustered = per_group[groups]  # each unit: its value duplicated 10x, rows of a unit adjacent
    grouped = bootstrap_interval(np.mean, clustered, groups=groups, n_resamples=500, seed=5, unit="sentence")
    dedup = bootstrap_interval(np.mean, per_group, n_resamples=500, seed=5)
    assert grouped.n_units == dedup.n_units == 40
    assert grouped.estimate == pytest.approx(dedup.estimate)
    assert grouped.low == pytest.approx(dedup.low)
    assert grouped.high == pytest.approx(dedup.high)


def test_grouped_interval_is_wider_than_ungrouped_on_clustered_data():
    rng = np.random.default_rng(1)
    per_group = rng.normal(size=30)
    groups = np.repeat([f"s{i}" for i in range(30)], 10)
    clustered = np.repeat(per_group, 10) + rng.normal(scale=0.01, size=300)
    grouped = bootstrap_interval(np.mean, clustered, groups=groups, n_resamples=500, seed=0)
    rows = bootstrap_interval(np.mean, clustered, n_resamples=500, seed=0)
    assert grouped.n_units == 30 and rows.n_units == 300
    assert (grouped.high - grouped.low) > 2 * (rows.high - rows.low)


def test_groups_need_not_be_contiguous():
    values = np.array([0.0, 1.0, 0.0, 1.0])
    groups = ["x", "y", "x", "y"]
    interval = bootstrap_interval(np.mean, values, groups=groups, n_resamples=2000, seed=0)
    assert (interval.low, interval.high) == (0.0, 1.0)


# --- paired comparisons ------------------------------------------------------------------------------------


def test_identical_predictions_give_exact_zero_difference():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)
    pred = rng.integers(0, 2, size=200)
    result = paired_bootstrap(accuracy, y, pred, pred.copy(), n_resamples=300, seed=0)
    assert (result.difference.low, result.difference.high) == (0.0, 0.0)
    assert result.difference.estimate == 0.0
    assert result.verdict() == "no clear difference"


def test_clearly_better_system_wins_and_order_matters():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=200)
    random_pred = rng.integers(0, 2, size=200)
    result = paired_bootstrap(
        accuracy, y, y.copy(), random_pred, n_resamples=500, seed=0, name_a="perfect", name_b="random"
    )
    assert result.difference.low > 0
    assert result.a.estimate == 1.0
    assert result.verdict() == "perfect better than random"
    swapped = paired_bootstrap(
        accuracy, y, random_pred, y.copy(), n_resamples=500, seed=0, name_a="random", name_b="perfect"
    )
    assert swapped.difference.high < 0
    assert swapped.verdict() == "perfect better than random"


def test_lower_is_better_flips_direction():
    rng = np.random.default_rng(3)
    y = rng.random(200)
    good = y + rng.normal(scale=0.01, size=200)
    bad = rng.random(200)
    result = paired_bootstrap(
        mse, y, good, bad, n_resamples=500, seed=0, higher_is_better=False, name_a="good", name_b="bad"
    )
    assert result.difference.high < 0  # A has the lower MSE
    assert result.verdict() == "good better than bad"
    as_if_higher = paired_bootstrap(
        mse, y, good, bad, n_resamples=500, seed=0, higher_is_better=True, name_a="good", name_b="bad"
    )
    assert as_if_higher.verdict() == "bad better than good"


def test_paired_and_multi_share_resamples():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, size=120)
    preds = {"a": rng.integers(0, 2, size=120), "b": rng.integers(0, 2, size=120)}
    groups = np.repeat(np.arange(40), 3)
    multi = multi_bootstrap(accuracy, y, preds, groups=groups, n_resamples=200, seed=9, unit="doc")
    paired = paired_bootstrap(
        accuracy, y, preds["a"], preds["b"], groups=groups, n_resamples=200, seed=9, unit="doc"
    )
    assert multi["a"] == paired.a
    assert multi["b"] == paired.b
    assert multi["a"] == bootstrap_interval(
        accuracy, y, preds["a"], groups=groups, n_resamples=200, seed=9, unit="doc"
    )
    assert multi["a"].unit == "doc" and multi["a"].n_units == 40


def test_thousand_resamples_of_thousand_rows_add_little_overhead():
    # The resampling machinery itself (index generation, gathering rows) must be cheap ...
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=1000)
    preds = {name: rng.integers(0, 2, size=1000) for name in ("a", "b")}
    start = time.perf_counter()
    multi_bootstrap(accuracy, y, preds, n_resamples=1000, seed=0)
    assert time.perf_counter() - start < 2.0


def test_sklearn_f1_cost_is_dominated_by_the_metric():
    # ... so with sklearn's f1_score (milliseconds per call) the total is about n_resamples metric calls.
    f1_score = pytest.importorskip("sklearn.metrics").f1_score
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=1000)
    pred = rng.integers(0, 2, size=1000)
    f1_score(y, pred)  # warm up
    start = time.perf_counter()
    for idx in resample_rows(unit_index(np.arange(1000)), 200, seed=1):
        f1_score(y[idx], pred[idx])
    direct = time.perf_counter() - start
    start = time.perf_counter()
    bootstrap_interval(f1_score, y, pred, n_resamples=200, seed=1)
    through_bootstrap = time.perf_counter() - start
    assert through_bootstrap < 1.5 * direct + 0.5


# --- JSON --------------------------------------------------------------------------------------------------


def test_interval_json_round_trip_and_fmt():
    interval = Interval(
        estimate=0.5612, low=0.52, high=0.6021, level=0.9, n_units=12, n_resamples=100, unit="thread"
    )
    data = interval.to_json()
    assert data == {
        "estimate": 0.5612,
        "low": 0.52,
        "high": 0.6021,
        "level": 0.9,
        "n_units": 12,
        "n_resamples": 100,
        "unit": "thread",
    }
    assert Interval.from_json(data) == interval
    assert interval.fmt() == "0.561 [0.520, 0.602]"
    assert interval.fmt(1) == "0.6 [0.5, 0.6]"


def test_interval_json_values_are_plain_python_types():
    interval = bootstrap_interval(np.mean, np.arange(10.0), n_resamples=50, seed=0)
    data = interval.to_json()
    assert all(type(data[k]) is float for k in ("estimate", "low", "high", "level"))
    assert all(type(data[k]) is int for k in ("n_units", "n_resamples"))


def test_nan_serialises_to_none_and_back():
    interval = Interval(estimate=math.nan, low=math.nan, high=math.nan, n_resamples=10)
    data = interval.to_json()
    assert data["estimate"] is None and data["low"] is None and data["high"] is None
    back = Interval.from_json(data)
    assert math.isnan(back.estimate) and math.isnan(back.low) and math.isnan(back.high)
    assert not back.contains(0.0)


def test_nan_metric_on_every_resample_gives_nan_bounds():
    interval = bootstrap_interval(lambda x: math.nan, np.arange(5.0), n_resamples=20, seed=0)
    assert math.isnan(interval.estimate) and math.isnan(interval.low) and math.isnan(interval.high)


def test_paired_difference_json_round_trip():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=100)
    result = paired_bootstrap(
        accuracy,
        y,
        y.copy(),
        rng.integers(0, 2, size=100),
        n_resamples=100,
        seed=0,
        name_a="model",
        name_b="baseline",
    )
    data = result.to_json()
    assert set(data) == {"a", "b", "difference", "higher_is_better", "name_a", "name_b", "verdict"}
    assert data["verdict"] == "model better than baseline"
    assert PairedDifference.from_json(data) == result


# --- input errors ------------------------------------------------------------------------------------------


def test_length_mismatch_raises():
    with pytest.raises(ValueError, match="same number of rows"):
        bootstrap_interval(accuracy, np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="same number of rows"):
        paired_bootstrap(accuracy, np.zeros(5), np.zeros(5), np.zeros(6))
    with pytest.raises(ValueError, match="same number of rows"):
        multi_bootstrap(accuracy, np.zeros(5), {"a": np.zeros(3)})


def test_groups_length_mismatch_raises():
    with pytest.raises(ValueError, match="one unit id per row"):
        bootstrap_interval(np.mean, np.zeros(5), groups=[0, 0, 1])


def test_empty_input_raises():
    with pytest.raises(ValueError, match="empty"):
        bootstrap_interval(np.mean, np.array([]))
    with pytest.raises(ValueError, match="empty"):
        paired_bootstrap(accuracy, [], [], [])


def test_bad_n_resamples_and_level_raise():
    with pytest.raises(ValueError, match="n_resamples"):
        bootstrap_interval(np.mean, np.zeros(3), n_resamples=0)
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval(np.mean, np.zeros(3), level=1.5)
