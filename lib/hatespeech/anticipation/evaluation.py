"""The fixed prefix draws (selection set, evaluation split), binary metrics (overall and grouped), the phase-1
evaluation, and the phase-2 predictions, scores and earliness. Every p_hate comes from
:class:`hatespeech.anticipation.inference.Anticipator` (the one scoring path) at the profile's
``anticipation.max_length``."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from ..baselines import best_f1_threshold
from ..config import Profile
from ..metrics.regression import calibration_table, earliness, expected_calibration_error, regression_metrics
from .examples import random_prefix_draw, sample_sentences
from .inference import Anticipator

LENGTH_FRACTION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
EVAL_SEED_OFFSET = 1_000  # the evaluation prefix draw must not repeat the training draw
THRESHOLD = 0.5


# =================================================================================== phase 1: selection set
def selection_prefixes(selection: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The fixed draw scored after every epoch: one random prefix per selection sentence (same for all)."""
    n = profile.anticipation.phase1_max_selection_samples
    return random_prefix_draw(
        selection, n, seed=profile.seed + 4, draw_seed=[profile.seed, 2 * EVAL_SEED_OFFSET]
    )


def score_draw(model, tokenizer, draw: pd.DataFrame, max_length: int, desc: str) -> np.ndarray:
    """p_hate of each row's prefix (``draw`` from :func:`random_prefix_draw`), scored as a text by
    :meth:`Anticipator.score` (causal decoders share one pass among prefixes of one sentence)."""
    return Anticipator(model, tokenizer, max_length=max_length).score(draw["prefix"].tolist(), progress=desc)


def selection_score_fn(tokenizer, draw: pd.DataFrame, max_length: int):
    """``score_fn(model) -> (F1 at the selection-tuned threshold, details)`` for :class:`EpochSelection`."""
    labels = draw["label"].to_numpy(int)

    def score(model):
        probs = score_draw(model, tokenizer, draw, max_length, desc="selection set")
        if not labels.any():  # only on toy data: no F1 to tune, so keep 0.5 and rank epochs by accuracy
            return binary_metrics(labels, probs)["accuracy"], {
                "threshold": THRESHOLD,
                "f1_at_0.5": 0.0,
                "note": "no hateful selection sentence",
            }
        threshold = best_f1_threshold(labels, probs)
        tuned = binary_metrics(labels, probs, threshold)
        return tuned["f1"], {
            "threshold": threshold,
            "f1_at_0.5": binary_metrics(labels, probs)["f1"],
            "accuracy": tuned["accuracy"],
        }

    return score


# =========================================================================================== binary metrics
def binary_metrics(labels, probabilities, threshold: float = THRESHOLD) -> dict[str, float | int]:
    """Accuracy, F1, precision, recall (sklearn) of ``probabilities >= threshold`` against 0/1 labels."""
    y = np.asarray(labels).astype(int)
    pred = (np.asarray(probabilities) >= threshold).astype(int)
    return {
        "accuracy": float(accuracy_score(y, pred)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "positive_share": float(y.mean()) if len(y) else float("nan"),
        "predicted_positive_share": float(pred.mean()) if len(pred) else float("nan"),
        "threshold": float(threshold),
        "n": len(y),
    }


def grouped_binary_metrics(
    frame: pd.DataFrame, by: str, prob: str = "p_hate", threshold: float = THRESHOLD
) -> pd.DataFrame:
    """:func:`binary_metrics` per value of column ``by`` (one row each)."""
    rows = []
    for key, part in frame.groupby(by, observed=True, sort=True):
        rows.append(
            {
                by: key if not isinstance(key, pd.Interval) else str(key),
                **binary_metrics(part["label"], part[prob], threshold),
            }
        )
    return pd.DataFrame(rows)


def length_fraction_bin(w_len) -> pd.Categorical:
    """Bins of the share of the sentence seen, labelled "0-20%" (0 < w_len <= .2), "20-40%", ... "80-100%"."""
    edges = LENGTH_FRACTION_BINS
    labels = [f"{round(100 * lo)}-{round(100 * hi)}%" for lo, hi in itertools.pairwise(edges)]
    return pd.cut(np.asarray(w_len, dtype=float), edges, labels=labels, include_lowest=True)


# ====================================================================================== phase 1: evaluation
def evaluation_prefixes(val_frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The evaluation sample and its one random prefix per sentence: the same draw for every variant and
    baseline (seeded by the profile)."""
    return random_prefix_draw(
        val_frame,
        profile.anticipation.phase1_max_eval_samples,
        profile.seed + 2,
        [profile.seed, EVAL_SEED_OFFSET],
    )


def evaluate_phase1(
    model, tokenizer, profile: Profile, val_frame: pd.DataFrame, threshold: float = THRESHOLD
) -> dict[str, Any]:
    """Evaluation-split metrics of one phase-1 model, at ``threshold`` (chosen on the selection set) and at
    0.5.

    * random prefixes (:func:`evaluation_prefixes`): accuracy / F1 overall, ``by_source``, ``by_w_len``;
    * every prefix of ``phase1_prefix_eval_sentences`` evaluation sentences: ``by_length_fraction`` and the
      full-sentence metrics (k = n_words).
    Returns ``{"metrics": {...}, "by_source", "by_w_len", "by_length_fraction": DataFrames, "predictions",
    "seconds"}``; ``predictions`` (one row per evaluation sentence, with ``group`` and ``p_hate``) feed the
    bootstrap intervals.
    """
    settings = profile.anticipation
    start = time.perf_counter()
    random_eval = evaluation_prefixes(val_frame, profile).reset_index(drop=True)
    max_length = settings.max_length
    all_frame = sample_sentences(random_eval, settings.phase1_prefix_eval_sentences, profile.seed + 3)
    anticipator = Anticipator(model, tokenizer, max_length=max_length)
    random_eval["p_hate"] = anticipator.score(
        random_eval["prefix"].tolist(), progress="phase-1 eval: random prefixes"
    )
    trajectories = anticipator.trajectories(all_frame["text"].tolist(), progress="phase-1 eval: every prefix")
    random_eval["w_len_bin"] = length_fraction_bin(random_eval["w_len"])
    rows = []
    for (_, row), probs in zip(all_frame.iterrows(), trajectories):
        n = len(probs)
        for k in range(1, n + 1):
            rows.append(
                {
                    "source": row["source"],
                    "label": row["label"],
                    "k": k,
                    "n_words": n,
                    "w_len": k / n,
                    "p_hate": float(probs[k - 1]),
                }
            )
    every = pd.DataFrame(rows)
    every["length_fraction"] = length_fraction_bin(every["w_len"])
    full = every[every["k"] == every["n_words"]]
    metrics = binary_metrics(random_eval["label"], random_eval["p_hate"], threshold)
    metrics.update(
        {
            "evaluation": "one random word-prefix per evaluation sentence (same draw for every variant)",
            "at_0.5": binary_metrics(random_eval["label"], random_eval["p_hate"]),
            "eval_sentences": len(random_eval),
            "full_sentence": binary_metrics(full["label"], full["p_hate"], threshold),
            "every_prefix": binary_metrics(every["label"], every["p_hate"], threshold),
            "every_prefix_sentences": len(all_frame),
            "every_prefix_prefixes": len(every),
        }
    )
    return {
        "metrics": metrics,
        "by_source": grouped_binary_metrics(random_eval, "source", threshold=threshold),
        "by_w_len": grouped_binary_metrics(random_eval, "w_len_bin", threshold=threshold),
        "by_length_fraction": grouped_binary_metrics(every, "length_fraction", threshold=threshold),
        "predictions": random_eval,
        "seconds": time.perf_counter() - start,
    }


# ================================================================================================== phase 2
def predict_phase2(model, tokenizer, profile: Profile, sentences: pd.DataFrame) -> pd.DataFrame:
    """One row per prefix: ``sentence_id, k, n_words, w_len, label, label_a, label_b, p_hate``."""
    anticipator = Anticipator(model, tokenizer, max_length=profile.anticipation.max_length)
    trajectories = anticipator.trajectories(sentences["sentence"].tolist(), progress="phase-2 scoring")
    return prefix_frame(sentences, trajectories)


def prefix_frame(sentences: pd.DataFrame, trajectories: list[np.ndarray]) -> pd.DataFrame:
    rows = []
    for (_, row), probs in zip(sentences.iterrows(), trajectories):
        n = row["n_words"]
        for k in range(1, n + 1):
            rows.append(
                {
                    "sentence_id": row["sentence_id"],
                    "corpus_class": row["corpus_class"],
                    "k": k,
                    "n_words": n,
                    "w_len": k / n,
                    "label": row["labels"][k - 1],
                    "label_a": row["label_a"][k - 1],
                    "label_b": row["label_b"][k - 1],
                    "p_hate": float(probs[k - 1]),
                }
            )
    return pd.DataFrame(rows)


def phase2_scores(predictions: pd.DataFrame, n_bins: int = 10) -> tuple[dict[str, Any], pd.DataFrame]:
    """(regression metrics + ECE, calibration table) of ``p_hate`` against the target ``label``."""
    metrics = regression_metrics(predictions["label"], predictions["p_hate"])
    table = calibration_table(predictions["label"], predictions["p_hate"], n_bins=n_bins)
    metrics["ece"] = expected_calibration_error(table)
    return metrics, table


def trajectories_by_sentence(predictions: pd.DataFrame, column: str = "p_hate") -> list[np.ndarray]:
    return [
        part.sort_values("k")[column].to_numpy(float)
        for _, part in predictions.groupby("sentence_id", sort=True)
    ]


def sentence_is_hateful(predictions: pd.DataFrame) -> np.ndarray:
    """A test sentence counts as hateful when its full-sentence target (mean of both passes) is >= 0.5."""
    full = predictions[predictions["k"] == predictions["n_words"]].sort_values("sentence_id")
    return full["label"].to_numpy(float) >= THRESHOLD


def earliness_of(predictions: pd.DataFrame, column: str = "p_hate") -> dict[str, Any]:
    """:func:`hatespeech.metrics.regression.earliness` over the test sentences of a predictions frame."""
    return earliness(trajectories_by_sentence(predictions, column), sentence_is_hateful(predictions))
