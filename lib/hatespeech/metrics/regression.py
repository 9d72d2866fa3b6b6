"""Metrics of the anticipation experiment: regression on probability labels, calibration, earliness.

MSE / MAE come from scikit-learn and Pearson's r from SciPy. Two things are hand-written because no installed
library does them for *probability* targets:

* :func:`calibration_table` -- ``sklearn.calibration.calibration_curve`` takes only binary ``y_true``; phase-2
  targets are probabilities (the mean of two annotation passes), so the reliability table bins predictions
  and compares the mean prediction with the mean *target* in each bin.
* :func:`first_crossing` / :func:`earliness` -- "how much of the sentence had to be read before the model
  first said hateful" is specific to the anticipation task.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import binomtest, pearsonr
from sklearn.metrics import mean_absolute_error, mean_squared_error


def _as_float_array(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if np.isnan(array).any():
        raise ValueError(f"{name} holds NaN at position(s) {np.flatnonzero(np.isnan(array))[:5].tolist()}")
    return array


def mse(y_true, y_pred) -> float:
    """Mean squared error in one numpy pass (the bootstrap calls it thousands of times; no input checks)."""
    return float(np.mean((np.asarray(y_true, float) - np.asarray(y_pred, float)) ** 2))


def pearson(y_true, y_pred) -> float | None:
    """Pearson's r, or None when either side is constant (r is undefined there, not 0)."""

    y_true = _as_float_array(y_true, "y_true")
    y_pred = _as_float_array(y_pred, "y_pred")
    if len(y_true) < 2 or np.ptp(y_true) == 0 or np.ptp(y_pred) == 0:
        return None
    return float(pearsonr(y_true, y_pred).statistic)


def regression_metrics(y_true, y_pred) -> dict[str, float | int | None]:
    """``{"mse", "mae", "pearson", "n"}`` of predictions against probability targets."""
    y_true = _as_float_array(y_true, "y_true")
    y_pred = _as_float_array(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise ValueError("no values to score")
    return {
        "mse": float(mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "pearson": pearson(y_true, y_pred),
        "n": len(y_true),
    }


def calibration_table(y_true, y_pred, n_bins: int = 10) -> pd.DataFrame:
    """Reliability table: predictions binned on ``[0, 1]`` in ``n_bins`` equal-width bins.

    Columns ``bin_low, bin_high, n, mean_pred, mean_true`` (empty bins kept with n = 0 and NaN means), so a
    plot of mean_true against mean_pred lies on the diagonal for a calibrated model. The last bin is closed.
    """
    y_true = _as_float_array(y_true, "y_true")
    y_pred = _as_float_array(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(y_pred, edges[1:-1], right=False), 0, n_bins - 1)
    rows = []
    for b in range(n_bins):
        in_bin = index == b
        n = int(in_bin.sum())
        rows.append(
            {
                "bin_low": float(edges[b]),
                "bin_high": float(edges[b + 1]),
                "n": n,
                "mean_pred": float(y_pred[in_bin].mean()) if n else np.nan,
                "mean_true": float(y_true[in_bin].mean()) if n else np.nan,
            }
        )
    return pd.DataFrame(rows)


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Count-weighted mean of |mean_pred - mean_true| over the non-empty bins of :func:`calibration_table`."""
    filled = table[table["n"] > 0]
    if filled.empty:
        raise ValueError("calibration table has no filled bin")
    gaps = (filled["mean_pred"] - filled["mean_true"]).abs()
    return float((gaps * filled["n"]).sum() / filled["n"].sum())


def first_crossing(probabilities: Sequence[float], threshold: float = 0.5) -> int | None:
    """1-based number of words read when the probability first reaches ``threshold`` (None: never)."""
    probs = _as_float_array(probabilities, "probabilities")
    hits = np.flatnonzero(probs >= threshold)
    return int(hits[0]) + 1 if len(hits) else None


def earliness(
    trajectories: Sequence[Sequence[float]], hateful: Sequence[bool], threshold: float = 0.5
) -> dict:
    """Earliness on hateful sentences and false alarms on the others, from per-word probability trajectories.

    * ``share_seen_mean`` / ``share_seen_median``: over hateful sentences whose trajectory crosses
      ``threshold``, the share of the sentence's words read at the first crossing (k / n_words);
    * ``detection_rate``: share of hateful sentences that cross at all (by the last word at the latest);
    * ``false_alarm_rate``: share of non-hateful sentences whose trajectory crosses at any word;
    * ``n_hateful``, ``n_not_hateful``, ``threshold``;
    * ``detection_rate_ci`` / ``false_alarm_rate_ci``: 95% Wilson intervals of the two rates ([low, high]):
      they are shares of a few dozen sentences, so they come with their uncertainty.
    """
    hateful = np.asarray(hateful, dtype=bool)
    if len(trajectories) != len(hateful):
        raise ValueError(f"{len(trajectories)} trajectories but {len(hateful)} hateful flags")
    shares, detected, false_alarms = [], 0, 0
    for trajectory, is_hateful in zip(trajectories, hateful):
        if len(trajectory) == 0:
            raise ValueError("empty trajectory (a sentence with no words)")
        k = first_crossing(trajectory, threshold)
        if is_hateful:
            if k is not None:
                detected += 1
                shares.append(k / len(trajectory))
        elif k is not None:
            false_alarms += 1
    n_hateful = int(hateful.sum())
    n_not = int((~hateful).sum())
    return {
        "threshold": float(threshold),
        "n_hateful": n_hateful,
        "n_not_hateful": n_not,
        "detection_rate": detected / n_hateful if n_hateful else None,
        "share_seen_mean": float(np.mean(shares)) if shares else None,
        "share_seen_median": float(np.median(shares)) if shares else None,
        "false_alarm_rate": false_alarms / n_not if n_not else None,
        "detection_rate_ci": wilson_interval(detected, n_hateful),
        "false_alarm_rate_ci": wilson_interval(false_alarms, n_not),
    }


def wilson_interval(successes: int, n: int, level: float = 0.95) -> list[float] | None:
    """The Wilson score interval of a proportion (scipy's ``binomtest``), [low, high]; None when n = 0."""
    if n == 0:
        return None
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return [float(ci.low), float(ci.high)]
