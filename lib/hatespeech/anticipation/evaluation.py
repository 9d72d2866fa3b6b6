"""The fixed prefix draws (selection set, evaluation split), binary metrics (overall and grouped), the phase-1
evaluation, and the phase-2 predictions, scores and earliness. Every p_hate comes from
:class:`hatespeech.anticipation.inference.Anticipator` (the one scoring path) at the profile's
``anticipation.max_length``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from ..config import Profile
from ..metrics.regression import calibration_table, earliness, expected_calibration_error, regression_metrics
from .every_prefix import (
    decile_bin,
    every_prefix_metrics,
    grouped_every_prefix,
    prefix_rows,
    tuned_threshold,
)
from .examples import random_prefix_draw, sample_sentences
from .inference import Anticipator

EVAL_SEED_OFFSET = 1_000  # the evaluation prefix draw must not repeat the training draw
THRESHOLD = 0.5


# =================================================================================== phase 1: selection set
def selection_sentences(selection: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The fixed sample of selection sentences scored at every prefix after every epoch (same for all)."""
    return sample_sentences(selection, profile.anticipation.phase1.max_selection_samples, profile.seed + 4)


def score_every_prefix(model, tokenizer, sentences: pd.DataFrame, max_length: int, desc: str) -> pd.DataFrame:
    """Every word-prefix of ``sentences`` scored (:func:`hatespeech.anticipation.every_prefix.prefix_rows`):
    decoders in one causal pass per sentence, encoders with every prefix its own sequence, in batches."""
    anticipator = Anticipator(model, tokenizer, max_length=max_length)
    return prefix_rows(sentences, anticipator.trajectories(sentences["text"].tolist(), progress=desc))


def selection_score_fn(tokenizer, sentences: pd.DataFrame, max_length: int):
    """``score_fn(model) -> (sentence-weighted F1 over every selection prefix at the threshold tuned on
    them, details)`` for :class:`EpochSelection`: the epoch, the learning rate and the threshold are all
    chosen the way the evaluation split is measured."""

    def score(model):
        rows = score_every_prefix(model, tokenizer, sentences, max_length, desc="selection set")
        if not rows["label"].any():  # only on toy data: no F1 to tune, so keep 0.5 and rank by accuracy
            metrics = every_prefix_metrics(rows, THRESHOLD)
            return metrics["accuracy"], {
                "threshold": THRESHOLD,
                "f1_at_0.5": 0.0,
                "note": "no hateful selection sentence",
            }
        threshold = tuned_threshold(rows)
        metrics = every_prefix_metrics(rows, threshold)
        return metrics["f1"], {
            "threshold": threshold,
            "f1_at_0.5": metrics["at_0.5"]["f1"],
            "accuracy": metrics["accuracy"],
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


# ====================================================================================== phase 1: evaluation
def evaluation_prefixes(val_frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The evaluation sentences (``phase1.max_eval_samples`` of them, seeded; all when None) with one random
    prefix each (``k``, ``prefix``: the secondary one-random-prefix view): the same for every system."""
    return random_prefix_draw(
        val_frame,
        profile.anticipation.phase1.max_eval_samples,
        profile.seed + 2,
        [profile.seed, EVAL_SEED_OFFSET],
    ).reset_index(drop=True)


def with_prefix_text(rows: pd.DataFrame, sentences: pd.DataFrame) -> pd.DataFrame:
    """``rows`` (:func:`prefix_rows`) with the ``prefix`` text of each row (its first k words), for the
    text baselines."""
    words = sentences["text"].str.split().tolist()
    prefix = [" ".join(words[s][:k]) for s, k in zip(rows["sentence"], rows["k"])]
    return rows.assign(prefix=prefix)


def phase1_scores(rows: pd.DataFrame, sentences: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """Everything reported of one system from its every-prefix scores ``rows`` of the evaluation
    ``sentences`` (:func:`evaluation_prefixes`), at ``threshold`` (chosen on the selection set):

    * the headline: sentence-weighted accuracy / F1 / precision / recall over every prefix, at the threshold
      and at 0.5, the unweighted figures beside them (:func:`every_prefix_metrics`);
    * ``random_prefix``: the one-random-prefix draw (secondary; read off the same scores);
    * ``full_sentence`` (k = n_words), ``by_source`` and ``by_length_fraction`` (deciles of the share seen),
      both sentence-weighted; ``by_w_len``: the random draw per decile.
    """
    metrics = every_prefix_metrics(rows, threshold)
    drawn = rows.merge(sentences[["k"]].rename_axis("sentence").reset_index(), on=["sentence", "k"])
    drawn = drawn.sort_values("sentence").reset_index(drop=True)
    full = rows[rows["k"] == rows["n_words"]]
    metrics.update(
        {
            "evaluation": (
                "every word-prefix of every evaluation sentence, each sentence weighing 1 split evenly "
                "over its prefixes"
            ),
            "eval_sentences": len(sentences),
            "random_prefix": {
                **binary_metrics(drawn["label"], drawn["p_hate"], threshold),
                "at_0.5": binary_metrics(drawn["label"], drawn["p_hate"]),
                "evaluation": "one random word-prefix per evaluation sentence (same draw for every system)",
            },
            "full_sentence": binary_metrics(full["label"], full["p_hate"], threshold),
        }
    )
    drawn["w_len_bin"] = decile_bin(drawn["w_len"])
    return {
        "metrics": metrics,
        "by_source": grouped_every_prefix(rows, "source", threshold) if "source" in rows else pd.DataFrame(),
        "by_w_len": grouped_binary_metrics(drawn, "w_len_bin", threshold=threshold),
        "by_length_fraction": grouped_every_prefix(
            rows.assign(length_fraction=decile_bin(rows["w_len"])), "length_fraction", threshold
        ),
    }


def evaluate_phase1(
    model, tokenizer, profile: Profile, val_frame: pd.DataFrame, threshold: float = THRESHOLD
) -> dict[str, Any]:
    """Every prefix of the evaluation sentences scored by one phase-1 model (:func:`phase1_scores`).
    Returns ``{"metrics", "by_source", "by_w_len", "by_length_fraction", "predictions", "seconds"}``;
    ``predictions`` (one row per prefix, with ``sentence``, ``group`` and ``p_hate``) feed the intervals."""
    start = time.perf_counter()
    sentences = evaluation_prefixes(val_frame, profile)
    rows = score_every_prefix(
        model, tokenizer, sentences, profile.anticipation.max_length, desc="phase-1 eval: every prefix"
    )
    rows = with_prefix_text(rows, sentences)
    return {
        **phase1_scores(rows, sentences, threshold),
        "predictions": rows,
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
