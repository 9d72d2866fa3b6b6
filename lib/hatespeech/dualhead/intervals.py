"""Bootstrap intervals for the dual-head study: head_n / head_i macro-F1 on the test texts, the bias score,
and the paired shared-vs-separate comparison, so that a verdict from one split carries its noise.

Thresholds stay fixed (tuned on validation); the resamples draw test texts with replacement (seeded, the
same resamples for every system, :mod:`hatespeech.metrics.bootstrap`).

The bias score needs every scored subgroup's three AUCs defined in every resample, which plain resampling
cannot promise for a subgroup with a few toxic members. So its resamples draw texts *within* each stratum of
(identity memberships x toxic label): every subgroup keeps its counts of toxic and non-toxic members and of
background texts, and only which texts fill them varies. Why by hand: the bootstrap helpers resample units
(clusters), not strata.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from ..data.dualhead import DualHeadSplits
from ..metrics import bias as bias_metrics
from ..metrics.bootstrap import bootstrap_interval, interval_of, paired_bootstrap
from .evaluation import bias_inputs

BIAS_RESAMPLING = "test texts resampled within each stratum of identity memberships x toxic label"


def decisions(probs: np.ndarray, thresholds: dict[str, float], names) -> np.ndarray:
    """0/1 decisions of one head at its per-label thresholds (``p >= t``, as the per-label metrics)."""
    return (np.asarray(probs) >= np.array([thresholds[name] for name in names])[None, :]).astype(np.int8)


def macro_f1_decisions(y_true: np.ndarray, decided: np.ndarray) -> float:
    """Mean F1 over the labels with an annotated positive, NaN entries left out: the same number as
    :func:`hatespeech.metrics.classification.macro_f1` of the per-label table, computed in one numpy pass."""
    y_true = np.asarray(y_true, dtype=np.float64)
    labelled = ~np.isnan(y_true)
    truth = (np.nan_to_num(y_true) == 1) & labelled
    pred = (np.asarray(decided) == 1) & labelled
    tp = (truth & pred).sum(axis=0)
    fp = (~truth & pred).sum(axis=0)
    fn = (truth & ~pred).sum(axis=0)
    scored = truth.sum(axis=0) > 0
    if not scored.any():
        return float("nan")
    f1 = 2 * tp[scored] / np.maximum(2 * tp[scored] + fp[scored] + fn[scored], 1)
    return float(f1.mean())


def _decided(splits: DualHeadSplits, head: str, probs: np.ndarray, report: dict) -> np.ndarray:
    names = splits.label_names_n if head == "n" else splits.label_names_i
    return decisions(probs, report["thresholds"], names)


def head_intervals(
    splits: DualHeadSplits,
    test_probs: dict[str, np.ndarray],
    reports: dict[str, dict],
    n_resamples: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """``{"head_n": Interval JSON, "head_i": ...}``: test macro-F1 at the validation-tuned thresholds."""
    return {
        f"head_{head}": bootstrap_interval(
            macro_f1_decisions,
            splits.labels("test", head),
            _decided(splits, head, probs, reports[head]),
            n_resamples=n_resamples,
            seed=seed,
            unit="text",
        ).to_json()
        for head, probs in test_probs.items()
    }


def shared_vs_separate(
    splits: DualHeadSplits,
    joint_probs: dict[str, np.ndarray],
    joint_reports: dict[str, dict],
    separate_probs: dict[str, np.ndarray],
    separate_reports: dict[str, dict],
    n_resamples: int,
    seed: int,
) -> dict[str, dict[str, Any]]:
    """Per head, shared minus separate test macro-F1 on the same resampled texts (PairedDifference JSON)."""
    return {
        f"head_{head}": paired_bootstrap(
            macro_f1_decisions,
            splits.labels("test", head),
            _decided(splits, head, joint_probs[head], joint_reports[head]),
            _decided(splits, head, separate_probs[head], separate_reports[head]),
            n_resamples=n_resamples,
            seed=seed,
            unit="text",
            name_a="shared encoder",
            name_b="separate models",
        ).to_json()
        for head in ("n", "i")
    }


def stratified_resamples(strata, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Row indices of ``n_resamples`` resamples, each drawing every stratum's rows with replacement, as many
    as it has."""
    codes = pd.factorize(pd.Series(list(strata)))[0]
    members = [np.flatnonzero(codes == c) for c in range(codes.max() + 1)]
    rng = np.random.default_rng(seed)
    for _ in range(n_resamples):
        yield np.concatenate([rng.choice(rows, size=len(rows), replace=True) for rows in members])


def bias_interval(
    splits: DualHeadSplits, test_probs_n: np.ndarray, min_subgroup_size: int, n_resamples: int, seed: int
) -> dict[str, Any]:
    """95% interval of the final bias score (0-1 scale), resampling within identity x label strata."""
    toxicity, score, identities = bias_inputs(splits, test_probs_n)
    # Arrays, not a frame per resample: pandas indexing cost more than the metric itself.
    names, identity_values = list(identities.columns), identities.to_numpy(dtype=np.float64)

    def final(idx: np.ndarray) -> float:
        report = bias_metrics.bias_report(
            toxicity[idx], score[idx], identity_values[idx], names, min_subgroup_size=min_subgroup_size
        )
        return report["final"]

    members = np.nan_to_num(identity_values) >= 0.5
    strata = [row.tobytes() + bytes([int(t >= 0.5)]) for row, t in zip(members, toxicity)]
    values = np.fromiter(
        (final(idx) for idx in stratified_resamples(strata, n_resamples, seed)),
        dtype=np.float64,
        count=n_resamples,
    )
    interval = interval_of(
        final(np.arange(len(score))), values, 0.95, len(score), n_resamples, "text"
    ).to_json()
    return {**interval, "resampling": BIAS_RESAMPLING}


def all_intervals(
    profile,
    splits: DualHeadSplits,
    test_probs: dict[str, np.ndarray],
    reports: dict[str, dict],
    separate_probs: dict[str, np.ndarray] | None = None,
    separate_reports: dict[str, dict] | None = None,
) -> dict[str, Any]:
    """Everything notebook 04 reports with an interval: ``head_n`` / ``head_i`` macro-F1, ``bias`` (when the
    bias metric has a score), ``shared_minus_separate`` (when the separate models ran)."""
    n, seed = int(profile.dualhead.bootstrap_resamples), int(profile.seed)
    out: dict[str, Any] = head_intervals(splits, test_probs, reports, n, seed)
    try:
        out["bias"] = bias_interval(splits, test_probs["n"], profile.dualhead.bias_min_subgroup_size, n, seed)
    except ValueError as error:  # no toxicity label in head_n: the bias metric itself says why
        out["bias_skipped"] = str(error)
    if separate_probs is not None and separate_reports is not None:
        out["shared_minus_separate"] = shared_vs_separate(
            splits, test_probs, reports, separate_probs, separate_reports, n, seed
        )
    return out
