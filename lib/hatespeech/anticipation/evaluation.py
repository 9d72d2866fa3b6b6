"""Scoring and metrics: p_hate of prefix texts and of every prefix of a sentence, the fixed prefix draws
(selection set, evaluation split), binary metrics (overall and grouped), the phase-1 evaluation, and the
phase-2 predictions, scores and earliness."""

from __future__ import annotations

import itertools
import time
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from tqdm.auto import tqdm

from ..baselines import best_f1_threshold
from ..config import Profile
from ..metrics.regression import calibration_table, earliness, expected_calibration_error, regression_metrics
from .examples import (
    WordPrefixCollator,
    encode_sentences,
    random_prefix_draw,
    sample_sentences,
    word_prefix_examples,
)

LENGTH_FRACTION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
EVAL_SEED_OFFSET = 1_000  # the evaluation prefix draw must not repeat the training draw
THRESHOLD = 0.5


# ================================================================================================== scoring
def _device_of(model) -> torch.device:
    return next(model.parameters()).device


@torch.inference_mode()
def score_prefix_texts(
    model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64, desc: str = "scoring prefixes"
) -> np.ndarray:
    """p_hate of each text scored as its own sequence; length-sorted batches keep padding small."""
    model.eval()
    device = _device_of(model)
    texts = list(texts)
    out = np.zeros(len(texts), dtype=np.float64)
    order = np.argsort([len(t) for t in texts], kind="stable")
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc=desc, leave=False):
        enc = tokenizer(
            [texts[i] for i in batch],
            padding=True,
            truncation=True,
            max_length=max_length,
            return_tensors="pt",
        )
        logits = model(enc["input_ids"].to(device), enc["attention_mask"].to(device)).logits
        out[batch] = torch.sigmoid(logits.float()).cpu().numpy()
    return out


@torch.inference_mode()
def score_trajectories(
    model, tokenizer, texts, max_length: int, batch_size: int = 32, desc: str = "scoring trajectories"
) -> list[np.ndarray]:
    """Per-word probabilities of every word-prefix of each text (``len == n_words``).

    Causal decoders read all prefixes off one backbone pass per sentence; encoders score each prefix alone.
    Words beyond ``max_length`` tokens get the probability of the last prefix that fits (the model never sees
    more than ``max_length`` tokens), counted by :func:`truncation_counts`.
    """
    model.eval()
    encoded = encode_sentences(tokenizer, list(texts), max_length)
    fitted: list[np.ndarray] = [np.zeros(0)] * len(encoded)
    if model.shares_backbone_pass:
        device = _device_of(model)
        collate = WordPrefixCollator(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        usable = [i for i, e in enumerate(encoded) if e.n_fit > 0]
        usable.sort(key=lambda i: len(encoded[i].input_ids))
        batches = [usable[i : i + batch_size] for i in range(0, len(usable), batch_size)]
        for batch in tqdm(batches, desc=desc, leave=False):
            feats = word_prefix_examples([encoded[i] for i in batch], [0.0] * len(batch))
            inputs = {k: v.to(device) for k, v in collate(feats).items()}
            logits = model.all_prefix_logits(
                inputs["input_ids"], inputs["attention_mask"], inputs["word_end_positions"]
            )
            probs = torch.sigmoid(logits.float()).cpu().numpy()
            for row, i in enumerate(batch):
                fitted[i] = probs[row, : encoded[i].n_fit].astype(np.float64)
    else:
        flat = [(i, k) for i, e in enumerate(encoded) for k in range(1, e.n_fit + 1)]
        probs = score_prefix_texts(
            model,
            tokenizer,
            [encoded[i].prefix(k) for i, k in flat],
            max_length,
            batch_size=max(batch_size, 64),
            desc=desc,
        )
        for (i, k), p in zip(flat, probs):
            if len(fitted[i]) == 0:
                fitted[i] = np.zeros(encoded[i].n_fit)
            fitted[i][k - 1] = p
    out = []
    for e, probs in zip(encoded, fitted):
        if e.n_fit == 0:
            raise ValueError(f"no word of {e.prefix(e.n_words)[:60]!r} fits max_length={max_length} tokens")
        out.append(np.concatenate([probs, np.full(e.n_words - e.n_fit, probs[-1])]))
    return out


# =================================================================================== phase 1: selection set
def selection_prefixes(selection: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The fixed draw scored after every epoch: one random prefix per selection sentence (same for all)."""
    n = profile.anticipation.phase1_max_selection_samples
    return random_prefix_draw(
        selection, n, seed=profile.seed + 4, draw_seed=[profile.seed, 2 * EVAL_SEED_OFFSET]
    )


def score_draw(model, tokenizer, draw: pd.DataFrame, max_length: int, desc: str) -> np.ndarray:
    """p_hate of each row's prefix (``draw`` from :func:`random_prefix_draw`): causal decoders read it off one
    pass over the whole sentence (exact: the state at word k sees only words <= k); encoders score the prefix
    text as its own sequence."""
    if model.shares_backbone_pass:
        every = score_trajectories(model, tokenizer, draw["text"].tolist(), max_length, desc=desc)
        return np.array([t[k - 1] for t, k in zip(every, draw["k"])], dtype=np.float64)
    return score_prefix_texts(model, tokenizer, draw["prefix"].tolist(), max_length, desc=desc)


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
    all_frame = sample_sentences(
        random_eval.assign(row=np.arange(len(random_eval))),
        settings.phase1_prefix_eval_sentences,
        profile.seed + 3,
    )
    if model.shares_backbone_pass:
        # One causal pass per sentence gives every prefix: score all sentences once, read both views off it.
        every_row = score_trajectories(
            model,
            tokenizer,
            random_eval["text"].tolist(),
            max_length,
            desc="phase-1 eval: every prefix (shared passes)",
        )
        random_eval["p_hate"] = [t[k - 1] for t, k in zip(every_row, random_eval["k"])]
        trajectories = [every_row[i] for i in all_frame["row"]]
    else:
        random_eval["p_hate"] = score_prefix_texts(
            model, tokenizer, random_eval["prefix"].tolist(), max_length, desc="phase-1 eval: random prefixes"
        )
        trajectories = score_trajectories(
            model, tokenizer, all_frame["text"].tolist(), max_length, desc="phase-1 eval: every prefix"
        )
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
    trajectories = score_trajectories(
        model,
        tokenizer,
        sentences["sentence"].tolist(),
        profile.anticipation.max_length,
        desc="phase-2 scoring",
    )
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
