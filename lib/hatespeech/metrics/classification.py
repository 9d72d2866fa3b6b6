"""Multi-label classification metrics with masked (unannotated) entries, and per-label threshold tuning.

Every function takes ``y_true`` (n, k) holding 0/1 where a label is annotated and NaN where the source does
not say; NaN entries are left out of that label's metrics (they are neither negatives nor positives). The
metric values themselves come from scikit-learn (``precision_recall_fscore_support``, ``roc_auc_score``,
``average_precision_score``, ``precision_recall_curve``, ``confusion_matrix``); this module only does the
masking, the threshold search and the bookkeeping of labels that cannot be scored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """scikit-learn's binary ROC AUC; NaN where ``y`` holds one class (a bootstrap resample can), which
    :mod:`.bootstrap` leaves out of the interval."""
    y = np.asarray(y)
    return float(roc_auc_score(y, scores)) if len(np.unique(y)) == 2 else float("nan")


def balanced_accuracy(y: np.ndarray, decided: np.ndarray) -> float:
    """scikit-learn's balanced accuracy (mean recall of the two classes); NaN on a one-class ``y``."""
    y = np.asarray(y)
    return float(balanced_accuracy_score(y, decided)) if len(np.unique(y)) == 2 else float("nan")


# The seed's threshold search: 0.10, 0.12, ..., 0.88.
SEED_THRESHOLD_GRID = np.round(np.arange(0.10, 0.88 + 1e-9, 0.02), 2)


def _check_shapes(
    y_true: np.ndarray, y_prob: np.ndarray, names: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64)
    y_prob = np.asarray(y_prob, dtype=np.float64)
    if y_true.ndim == 1:
        y_true, y_prob = y_true[:, None], y_prob.reshape(-1, 1)
    if y_true.shape != y_prob.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_prob has shape {y_prob.shape}")
    if names is not None and len(names) != y_true.shape[1]:
        raise ValueError(f"{len(names)} label names for {y_true.shape[1]} label columns")
    known = y_true[~np.isnan(y_true)]
    bad = known[(known != 0) & (known != 1)]
    if bad.size:
        raise ValueError(f"y_true must hold 0, 1 or NaN; found {sorted(set(bad.tolist()))[:5]}")
    if np.isnan(y_prob).any():
        raise ValueError("y_prob holds NaN scores")
    return y_true, y_prob


def annotated(y_true_col: np.ndarray) -> np.ndarray:
    """Boolean mask of the annotated (non-NaN) entries of one label column."""
    return ~np.isnan(np.asarray(y_true_col, dtype=np.float64))


def tune_thresholds(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    grid: Sequence[float] | None = SEED_THRESHOLD_GRID,
    default: float = 0.5,
) -> np.ndarray:
    """Per-label threshold maximising F1 on (validation) data, masked entries left out.

    ``grid`` = the candidate thresholds (default: the seed's 0.10-0.88 step 0.02; ties go to the lowest).
    ``grid=None`` uses the optimum of sklearn's ``precision_recall_curve`` instead (every distinct score is a
    candidate). A label with no annotated positive (F1 undefined) keeps ``default``.
    """
    y_true, y_prob = _check_shapes(y_true, y_prob, None)
    thresholds = np.full(y_true.shape[1], float(default))
    for j in range(y_true.shape[1]):
        keep = annotated(y_true[:, j])
        truth, score = y_true[keep, j].astype(int), y_prob[keep, j]
        if truth.sum() == 0:
            continue
        if grid is None:
            precision, recall, cut = precision_recall_curve(truth, score)
            f1 = np.divide(
                2 * precision * recall,
                precision + recall,
                out=np.zeros_like(precision),
                where=(precision + recall) > 0,
            )
            thresholds[j] = float(cut[int(np.argmax(f1[:-1]))])  # the last PR point has no threshold
        else:
            f1 = [f1_score(truth, (score >= t).astype(int), zero_division=0) for t in grid]
            thresholds[j] = float(np.asarray(grid)[int(np.argmax(f1))])
    return thresholds


def per_label_metrics(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    names: Sequence[str],
    thresholds: float | Sequence[float] = 0.5,
) -> pd.DataFrame:
    """One row per label: precision, recall, F1 at its threshold, ROC-AUC, AP, support (masked entries out).

    ``auc`` / ``ap`` are NaN when the annotated entries hold a single class; ``f1`` etc. are NaN when the
    label has no annotated positive (so it cannot enter a macro average as a fake 0).
    """
    y_true, y_prob = _check_shapes(y_true, y_prob, names)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (y_true.shape[1],))
    rows = []
    for j, name in enumerate(names):
        keep = annotated(y_true[:, j])
        truth, score = y_true[keep, j].astype(int), y_prob[keep, j]
        n_pos = int(truth.sum())
        row = {
            "label": name,
            "threshold": float(thresholds[j]),
            "n_annotated": int(keep.sum()),
            "n_positive": n_pos,
            "precision": np.nan,
            "recall": np.nan,
            "f1": np.nan,
            "auc": np.nan,
            "ap": np.nan,
        }
        if n_pos > 0:
            pred = (score >= thresholds[j]).astype(int)
            p, r, f, _ = precision_recall_fscore_support(truth, pred, average="binary", zero_division=0)
            row.update(precision=float(p), recall=float(r), f1=float(f))
        if 0 < n_pos < len(truth):
            row.update(
                auc=float(roc_auc_score(truth, score)), ap=float(average_precision_score(truth, score))
            )
        rows.append(row)
    return pd.DataFrame(rows).set_index("label")


def macro_f1(table: pd.DataFrame) -> float:
    """Mean F1 over the labels that have an annotated positive (the others are NaN in ``table``)."""
    values = table["f1"].dropna()
    return float(values.mean()) if len(values) else float("nan")


def unscored_labels(table: pd.DataFrame) -> list[str]:
    """Labels left out of the macro average because the evaluated split has no annotated positive."""
    return [str(name) for name in table.index[table["f1"].isna()]]


def confusion_summary(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    names: Sequence[str],
    thresholds: float | Sequence[float],
    train_positives: Sequence[int] | None = None,
    k: int = 4,
) -> pd.DataFrame:
    """TN/FP/FN/TP of the ``k`` rarest labels (fewest train positives, else fewest evaluated positives)."""
    y_true, y_prob = _check_shapes(y_true, y_prob, names)
    thresholds = np.broadcast_to(np.asarray(thresholds, dtype=np.float64), (y_true.shape[1],))
    eval_pos = np.nansum(y_true, axis=0)
    rarity = np.asarray(train_positives if train_positives is not None else eval_pos, dtype=np.float64)
    order = np.argsort(rarity, kind="stable")[:k]
    rows = []
    for j in order:
        keep = annotated(y_true[:, j])
        truth = y_true[keep, j].astype(int)
        pred = (y_prob[keep, j] >= thresholds[j]).astype(int)
        tn, fp, fn, tp = confusion_matrix(truth, pred, labels=[0, 1]).ravel()
        rows.append(
            {
                "label": names[j],
                "train_positives": None if train_positives is None else int(rarity[j]),
                "threshold": float(thresholds[j]),
                "tn": int(tn),
                "fp": int(fp),
                "fn": int(fn),
                "tp": int(tp),
            }
        )
    return pd.DataFrame(rows).set_index("label")


def pr_curve(y_true_col: np.ndarray, y_prob_col: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
    """(precision, recall, AP) of one label over its annotated entries; None when it has a single class."""
    keep = annotated(y_true_col)
    truth = np.asarray(y_true_col)[keep].astype(int)
    if truth.sum() == 0 or truth.sum() == len(truth):
        return None
    score = np.asarray(y_prob_col)[keep]
    precision, recall, _ = precision_recall_curve(truth, score)
    return precision, recall, float(average_precision_score(truth, score))


def head_report(
    y_true_val: np.ndarray,
    y_prob_val: np.ndarray,
    y_true_test: np.ndarray,
    y_prob_test: np.ndarray,
    names: Sequence[str],
    grid: Sequence[float] | None = SEED_THRESHOLD_GRID,
) -> dict:
    """Tune thresholds on validation; score test at 0.5 and at the tuned thresholds.

    Returns ``{"thresholds", "test_at_0.5" (DataFrame), "test_tuned" (DataFrame), "macro_f1_at_0.5",
    "macro_f1" (tuned), "val_macro_f1" (tuned, on validation), "unscored"}``.
    """
    thresholds = tune_thresholds(y_true_val, y_prob_val, grid=grid)
    at_half = per_label_metrics(y_true_test, y_prob_test, names, 0.5)
    tuned = per_label_metrics(y_true_test, y_prob_test, names, thresholds)
    val_tuned = per_label_metrics(y_true_val, y_prob_val, names, thresholds)
    return {
        "thresholds": dict(zip(names, thresholds.tolist())),
        "test_at_0.5": at_half,
        "test_tuned": tuned,
        "macro_f1_at_0.5": macro_f1(at_half),
        "macro_f1": macro_f1(tuned),
        "val_macro_f1": macro_f1(val_tuned),
        "unscored": unscored_labels(tuned),
    }


def head_json(report: dict) -> dict:
    """The ``dualhead.json`` form of :func:`head_report`: macro_f1 + per_label {precision, recall, f1, auc,
    threshold} at the tuned thresholds, plus the same at 0.5."""

    def clean(value):
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else value

    def per_label(table: pd.DataFrame) -> dict:
        keys = ("precision", "recall", "f1", "auc", "ap", "threshold", "n_positive", "n_annotated")
        return {
            str(name): {
                k: clean(float(row[k]) if k not in ("n_positive", "n_annotated") else int(row[k]))
                for k in keys
            }
            for name, row in table.iterrows()
        }

    return {
        "macro_f1": clean(report["macro_f1"]),
        "macro_f1_at_0.5": clean(report["macro_f1_at_0.5"]),
        "val_macro_f1": clean(report["val_macro_f1"]),
        "per_label": per_label(report["test_tuned"]),
        "per_label_at_0.5": per_label(report["test_at_0.5"]),
        "unscored_labels": report["unscored"],
    }
