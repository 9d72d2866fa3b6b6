"""HateCheck accuracy and alarms from given scores (no model here).

* :func:`functional_accuracy`: accuracy of every system's decisions on every case, overall, per gold label,
  per functionality and per target group, with 95% bootstrap intervals that resample template *families*
  (``family_id``: the cases of one template differ by one identity word, and a negated or counter-quoted
  template is written from another: they are not independent evidence), all systems on the same resamples;
* :func:`discrimination`: per system, what no threshold confounds: ROC AUC, and balanced accuracy (the mean
  of the hateful and the non-hateful accuracy) at the system's own threshold and at 0.5, each with its
  family interval; the one-sided accuracies beside them show the trade a threshold makes;
* :func:`alarm_profile`: the anticipation view, from per-word trajectories: on hateful cases, the share of the
  case read when the alarm first fires (and how often it never does); on non-hateful ones, how often it fires
  at any word (an early warning that fires on counter-speech is worse than none).

Everything here takes scores as given: which model, which head and which threshold stand for "hateful" is the
caller's choice, stated beside the numbers. HateCheck chooses nothing (thresholds come from each model's own
validation data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..metrics.bootstrap import multi_bootstrap
from ..metrics.classification import balanced_accuracy, roc_auc
from ..metrics.regression import first_crossing

GROUPINGS = ("all", "label_gold", "functionality", "target_ident")
CASE_COLUMNS = ("text", "label", "label_gold", "functionality", "target_ident", "templ_id", "family_id")
#: The bootstrap unit of every HateCheck interval.
UNIT = "template family"
SECONDARY_THRESHOLD = 0.5


def _accuracy(y: np.ndarray, decided: np.ndarray) -> float:
    return float(np.mean(y == decided)) if len(y) else float("nan")


def _threshold_of(thresholds: Mapping[str, float] | float, name: str) -> float:
    return float(thresholds[name] if isinstance(thresholds, Mapping) else thresholds)


def _check(cases: pd.DataFrame, systems: Mapping[str, Sequence]) -> None:
    missing = [c for c in CASE_COLUMNS if c not in cases.columns]
    if missing:
        raise ValueError(
            f"HateCheck cases lack column(s) {missing} (load them with load_source('hatecheck'))"
        )
    if not systems:
        raise ValueError("no system to score: pass at least one")
    for name, values in systems.items():
        if len(values) != len(cases):
            raise ValueError(f"system {name!r} has {len(values)} scores for {len(cases)} cases")


def functional_accuracy(
    cases: pd.DataFrame,
    scores: Mapping[str, Sequence[float]],
    thresholds: Mapping[str, float] | float = 0.5,
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Accuracy of each system (``scores``: P(hateful) per case, in case order; ``thresholds``: one per system
    or one for all) on every grouping of :data:`GROUPINGS`, with template-level intervals.

    Returns one row per (system, grouping, value): ``n_cases``, ``n_templates``, ``n_families``,
    ``accuracy``, ``low``, ``high``. Target group rows cover the cases that name a group.
    """
    _check(cases, scores)
    cases = cases.reset_index(drop=True)
    y = cases["label"].to_numpy(dtype=int)
    decided = {
        name: (np.asarray(p, dtype=float) >= _threshold_of(thresholds, name)).astype(int)
        for name, p in scores.items()
    }
    rows = []
    for grouping in GROUPINGS:
        if grouping == "all":
            parts = [("all", np.ones(len(cases), dtype=bool))]
        else:
            column = cases[grouping]
            parts = [(str(v), (column == v).to_numpy()) for v in column.dropna().unique()]
        for value, mask in parts:
            part = cases.loc[mask]
            intervals = multi_bootstrap(
                _accuracy,
                y[mask],
                {name: d[mask] for name, d in decided.items()},
                groups=part["family_id"].to_numpy(),
                n_resamples=n_resamples,
                seed=seed,
                unit=UNIT,
            )
            for name, interval in intervals.items():
                rows.append(
                    {
                        "system": name,
                        "grouping": grouping,
                        "value": value,
                        "n_cases": int(mask.sum()),
                        "n_templates": int(part["templ_id"].nunique()),
                        "n_families": int(part["family_id"].nunique()),
                        "accuracy": interval.estimate,
                        "low": interval.low,
                        "high": interval.high,
                    }
                )
    return pd.DataFrame(rows)


def discrimination(
    cases: pd.DataFrame,
    scores: Mapping[str, Sequence[float]],
    thresholds: Mapping[str, float] | float,
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per system: ``auc`` (threshold-free), ``balanced_accuracy`` at its own threshold and
    ``balanced_accuracy_at_0.5``, each with ``_low`` / ``_high`` from one family bootstrap shared by every
    system (same seed as :func:`functional_accuracy`), and the ``hateful_accuracy`` /
    ``non_hateful_accuracy`` at each threshold. A constant scorer has AUC 0.5 and balanced accuracy 0.5."""
    _check(cases, scores)
    cases = cases.reset_index(drop=True)
    y = cases["label"].to_numpy(dtype=int)
    if len(np.unique(y)) < 2:
        raise ValueError("discrimination needs hateful and non-hateful cases: these cases hold one label")
    probs = {name: np.asarray(p, dtype=float) for name, p in scores.items()}
    common = {"groups": cases["family_id"].to_numpy(), "n_resamples": n_resamples, "seed": seed, "unit": UNIT}
    n_families = int(cases["family_id"].nunique())
    rows = {
        name: {
            "system": name,
            "threshold": _threshold_of(thresholds, name),
            "n_cases": len(cases),
            "n_families": n_families,
        }
        for name in probs
    }

    def put(measure: str, intervals) -> None:
        for name, iv in intervals.items():
            rows[name].update({measure: iv.estimate, f"{measure}_low": iv.low, f"{measure}_high": iv.high})

    put("auc", multi_bootstrap(roc_auc, y, probs, **common))
    for suffix, threshold_of in (
        ("", lambda name: _threshold_of(thresholds, name)),
        ("_at_0.5", lambda name: SECONDARY_THRESHOLD),
    ):
        decided = {name: (p >= threshold_of(name)).astype(int) for name, p in probs.items()}
        put(f"balanced_accuracy{suffix}", multi_bootstrap(balanced_accuracy, y, decided, **common))
        for name, d in decided.items():
            rows[name][f"hateful_accuracy{suffix}"] = _accuracy(y[y == 1], d[y == 1])
            rows[name][f"non_hateful_accuracy{suffix}"] = _accuracy(y[y == 0], d[y == 0])
    return pd.DataFrame(list(rows.values()))


def alarm_profile(
    cases: pd.DataFrame,
    trajectories: Mapping[str, Sequence[Sequence[float]]],
    thresholds: Mapping[str, float] | float = 0.5,
) -> pd.DataFrame:
    """Per system and functionality, from per-word trajectories (one array per case, ``len == n_words``):

    * hateful functionalities: ``fires`` (share of cases where p reaches the threshold at some word: the
      detection rate), ``share_seen_mean`` (over those, words read at the first alarm / words in the case);
    * non-hateful functionalities: ``fires`` is the false-alarm rate at any word, ``fires_at_end`` the share
      still flagged after the last word (the full-sentence error).
    """
    _check(cases, trajectories)
    cases = cases.reset_index(drop=True)
    rows = []
    for name, per_case in trajectories.items():
        threshold = thresholds[name] if isinstance(thresholds, Mapping) else float(thresholds)
        first = [first_crossing(t, threshold) for t in per_case]
        frame = cases.assign(
            first=first,
            n_words=[len(t) for t in per_case],
            end=[float(t[-1]) >= threshold for t in per_case],
        )
        for functionality, part in frame.groupby("functionality", sort=True):
            fired = part["first"].notna()
            shares = (part.loc[fired, "first"] / part.loc[fired, "n_words"]).astype(float)
            rows.append(
                {
                    "system": name,
                    "functionality": functionality,
                    "label_gold": part["label_gold"].iloc[0],
                    "n_cases": len(part),
                    "fires": float(fired.mean()),
                    "fires_at_end": float(part["end"].mean()),
                    "share_seen_mean": float(shares.mean()) if len(shares) else None,
                }
            )
    return pd.DataFrame(rows)
