"""The Jigsaw Unintended Bias in Toxicity Classification metric (Borkan et al. 2019; Kaggle 2019).

For a toxicity score and identity subgroups (labels and identities binarised at >= 0.5):

* **subgroup AUC** - ROC-AUC on the comments that mention the subgroup;
* **BPSN AUC** (background positive, subgroup negative) - toxic comments *not* mentioning the subgroup vs
  non-toxic comments mentioning it; low when the model scores innocuous identity mentions as toxic;
* **BNSP AUC** (background negative, subgroup positive) - the reverse; low when toxic comments about the
  subgroup get low scores;
* each of the three averaged over subgroups with the generalized power mean ``M_p = (mean(m^p))^(1/p)`` with
  ``p = -5`` (so the worst subgroups dominate);
* **final** = ``0.25 * overall AUC + 0.75 * mean(M_p(subgroup), M_p(BPSN), M_p(BNSP))``.

Hand-written because no installed library ships it: it follows the competition's published benchmark kernel
(``compute_subgroup_auc``, ``compute_bpsn_auc``, ``compute_bnsp_auc``, ``power_mean``, ``get_final_metric``),
with the AUCs of ``sklearn.metrics.roc_auc_score`` (computed from ranks, see :func:`_auc`).

Unannotated identities: the kernel binarises ``identity >= 0.5``, so a NaN identity counts as "not in the
subgroup" (background). That is the default here (``unannotated="background"``); ``"exclude"`` leaves such
rows out of that subgroup's three AUCs instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

# Published reference points (final metric x 100, Jigsaw Unintended Bias test set), with their sources there.
from ..references import COMPETITION_BEST_FINAL_X100, DETOXIFY_UNBIASED_FINAL_X100

POWER = -5.0
OVERALL_MODEL_WEIGHT = 0.25


def _auc(truth: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic from average ranks: the same number as
    ``sklearn.metrics.roc_auc_score`` (ties count one half; tested against it), without its input checks,
    which cost more than the AUC itself here: a bootstrap of the bias score computes ~30 AUCs per resample."""
    truth = np.asarray(truth, dtype=bool)
    n_pos = int(truth.sum())
    n_neg = truth.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def power_mean(values: Sequence[float], p: float = POWER) -> float:
    """Generalized mean ``(mean(v^p))^(1/p)``; p = -5 leans towards the smallest values."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    if (values <= 0).any():
        return 0.0  # the limit for p < 0 when any value is 0
    return float(np.power(np.mean(np.power(values, p)), 1.0 / p))


def subgroup_aucs(is_toxic: np.ndarray, score: np.ndarray, in_subgroup: np.ndarray) -> dict[str, float]:
    """Subgroup, BPSN and BNSP AUC of one subgroup (boolean arrays over the same rows)."""
    is_toxic = np.asarray(is_toxic, dtype=bool)
    in_subgroup = np.asarray(in_subgroup, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    sub = in_subgroup
    bpsn = (sub & ~is_toxic) | (~sub & is_toxic)
    bnsp = (sub & is_toxic) | (~sub & ~is_toxic)
    return {
        "subgroup_auc": _auc(is_toxic[sub], score[sub]),
        "bpsn_auc": _auc(is_toxic[bpsn], score[bpsn]),
        "bnsp_auc": _auc(is_toxic[bnsp], score[bnsp]),
    }


def bias_report(
    toxicity: np.ndarray,
    score: np.ndarray,
    identities: pd.DataFrame | np.ndarray,
    identity_names: Sequence[str] | None = None,
    threshold: float = 0.5,
    min_subgroup_size: int = 10,
    unannotated: str = "background",
) -> dict:
    """The full metric. ``toxicity`` = label or annotator fraction per row (>= ``threshold`` = toxic),
    ``score`` = model toxicity score, ``identities`` = one column per subgroup (fraction, 0/1 or NaN).

    A subgroup is skipped (and named with the reason in ``skipped``) when it has fewer than
    ``min_subgroup_size`` members, or when one of its three AUCs is undefined (a single class, e.g. members
    all non-toxic).
    Returns ``{"final", "overall_auc", "power_means": {...}, "per_subgroup": DataFrame, "skipped": {...},
    "n_rows", "n_subgroups_scored"}``; ``final`` is on the 0-1 scale (x 100 for the leaderboard's numbers).
    """
    if unannotated not in ("background", "exclude"):
        raise ValueError(f"unannotated must be 'background' or 'exclude', not {unannotated!r}")
    toxicity = np.asarray(toxicity, dtype=np.float64)
    score = np.asarray(score, dtype=np.float64)
    if isinstance(identities, pd.DataFrame):
        identity_names = list(identities.columns) if identity_names is None else list(identity_names)
        identity_values = identities.to_numpy(dtype=np.float64)
    else:
        identity_values = np.asarray(identities, dtype=np.float64)
        if identity_names is None:
            raise ValueError("identity_names is required when identities is an array")
    if not (len(toxicity) == len(score) == len(identity_values)):
        raise ValueError(
            f"toxicity ({len(toxicity)}), score ({len(score)}) and identities "
            f"({len(identity_values)}) must have the same number of rows"
        )
    if np.isnan(toxicity).any() or np.isnan(score).any():
        raise ValueError("toxicity labels and scores must not hold NaN: pass only rows with a toxicity label")
    is_toxic = toxicity >= threshold
    rows, skipped = [], {}
    for j, name in enumerate(identity_names):
        column = identity_values[:, j]
        keep = np.ones(len(column), dtype=bool) if unannotated == "background" else ~np.isnan(column)
        member = np.nan_to_num(column, nan=0.0) >= threshold
        size = int(member[keep].sum())
        if size < min_subgroup_size:
            skipped[name] = f"{size} members < min_subgroup_size={min_subgroup_size}"
            continue
        aucs = subgroup_aucs(is_toxic[keep], score[keep], member[keep])
        undefined = [k for k, v in aucs.items() if np.isnan(v)]
        if undefined:
            n_toxic = int((member[keep] & is_toxic[keep]).sum())
            n_back_toxic = int((~member[keep] & is_toxic[keep]).sum())
            skipped[name] = (
                f"{', '.join(undefined)} undefined (a single class): members {n_toxic} toxic of "
                f"{size}, background {n_back_toxic} toxic of {int((~member[keep]).sum())}"
            )
            continue
        rows.append(
            {
                "subgroup": name,
                "subgroup_size": size,
                "subgroup_toxic": int((member[keep] & is_toxic[keep]).sum()),
                **aucs,
            }
        )
    per_subgroup = pd.DataFrame(
        rows, columns=["subgroup", "subgroup_size", "subgroup_toxic", "subgroup_auc", "bpsn_auc", "bnsp_auc"]
    ).set_index("subgroup")
    overall = _auc(is_toxic, score)
    means = {
        key: power_mean(per_subgroup[key].to_numpy()) for key in ("subgroup_auc", "bpsn_auc", "bnsp_auc")
    }
    if per_subgroup.empty or np.isnan(overall):
        final = float("nan")
    else:
        final = OVERALL_MODEL_WEIGHT * overall + (1 - OVERALL_MODEL_WEIGHT) * float(
            np.mean(list(means.values()))
        )
    return {
        "final": final,
        "overall_auc": overall,
        "power_means": means,
        "per_subgroup": per_subgroup,
        "skipped": skipped,
        "n_rows": len(score),
        "n_subgroups_scored": len(per_subgroup),
        "power": POWER,
        "min_subgroup_size": min_subgroup_size,
    }


def bias_json(report: dict, comparable: bool, data: str) -> dict:
    """JSON form, with the published reference points and a plain comparability statement."""

    def clean(value):
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)

    final = report["final"]
    note = (
        "Jigsaw Unintended Bias data: comparable in kind to the published numbers (test sets may differ)."
        if comparable
        else f"Computed on {data}, NOT on the Jigsaw Unintended Bias test set: it is not comparable with "
        f"Detoxify's {DETOXIFY_UNBIASED_FINAL_X100} or the competition's {COMPETITION_BEST_FINAL_X100}; "
        "those are shown for scale only."
    )
    return {
        "final": clean(final),
        "final_x100": clean(final * 100 if not math.isnan(final) else final),
        "overall_auc": clean(report["overall_auc"]),
        "power_means": {k: clean(v) for k, v in report["power_means"].items()},
        "per_subgroup": {
            str(name): {
                k: (int(v) if k.startswith("subgroup_size") or k == "subgroup_toxic" else clean(v))
                for k, v in row.items()
            }
            for name, row in report["per_subgroup"].iterrows()
        },
        "skipped_subgroups": report["skipped"],
        "n_rows": report["n_rows"],
        "power": report["power"],
        "min_subgroup_size": report["min_subgroup_size"],
        "reference": {
            "detoxify_unbiased_final_x100": DETOXIFY_UNBIASED_FINAL_X100,
            "competition_best_final_x100": COMPETITION_BEST_FINAL_X100,
        },
        "comparable_with_reference": bool(comparable),
        "data": data,
        "note": note,
    }
