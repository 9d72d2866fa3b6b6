"""Anticipation experiments: P(finished sentence is hateful | first k words), in two phases.

Phase 1 (``notebooks/02_phase1.ipynb``)
    Binary hate / not-hate on word-prefixes of the phase-1 corpus
    (:func:`hatespeech.data.build_phase1_corpus`, its seeded 85/15 split). Each prefix carries the label of
    its finished sentence and the weight ``w_len = k / n_words`` (a prefix of 2 words out of 20 says little,
    so it counts little), and the positive class is up-weighted by ``pos_weight = negatives / positives`` of
    the train sentences.

    * ``encoder``, ``encoder+bilstm``: one random word-prefix per sentence per epoch (seeded), each prefix its
      own sequence, so no later word can reach it (an encoder attends both ways);
    * ``decoder`` (causal, no biLSTM): the whole sentence in one pass with a loss at *every* word end, each
      weighted by its w_len -- the same number of sentences yields every prefix at the cost of one sequence;
    * ``decoder+bilstm``: the same shared causal backbone pass, with the biLSTM run once per prefix over that
      prefix's token states only (``PrefixClassifier.all_prefix_logits``), so its backward direction never
      reads a later word; a loss at every word end, as for ``decoder``.

    Evaluation on the validation split: one random prefix per sentence (the same draw for every variant) for
    accuracy / F1 overall, per source and per w_len bin; and every prefix of a subset of sentences, binned by
    the fraction of the sentence seen.

Phase 2 (``notebooks/03_phase2.ipynb``)
    From each phase-1 checkpoint, fine-tune on the prefix_probability train split (target: the mean of two
    annotation passes) with the weighted MSE of the seed, ``w = 0.8·C·y + 0.2·w_len``, on ``sigmoid(logit)``.
    Causal decoders train on every prefix of a sentence from one shared backbone pass (exact: the state at a
    word's last token sees only the words up to it); the encoders see each prefix as its own sequence.
    Scored on the test split (MSE, MAE, Pearson r, calibration) beside a constant predictor (train mean), the
    phase-1 model without phase 2, and phase 2 from the bare pretrained backbone (no phase 1). A tenth of the
    train sentences is held out (seeded) for the loss curves and for picking the demo model, so the test split
    chooses nothing.

Everything trains through :func:`hatespeech.train.train` (one HF Trainer loop for all experiments) with the
losses of :mod:`hatespeech.losses`. Checkpoints go to ``artifacts_dir()/<profile>/anticipation/phase{1,2}/
<variant>/`` and load with :class:`hatespeech.anticipate.Anticipator`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from tqdm.auto import tqdm

from . import paths
from .config import Profile, resolve_device, seed_everything
from .losses import phase2_weights, pos_weight_from_labels, weighted_bce_with_logits, weighted_mse
from .metrics.regression import calibration_table, earliness, expected_calibration_error, regression_metrics
from .models.prefix import VARIANTS, PrefixClassifier, build_prefix_classifier, parse_variant
from .references import SEED_PHASE1, SEED_PHASE2_CLAIM

# The seed's own illustrative inputs; the second is completed to a full sentence by us (illustrative only).
EXAMPLE_SENTENCES = (
    "Immigrants bring new ideas and energy",
    "I am not sexist, but women should not be allowed to vote",
)
LENGTH_FRACTION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
CURVE_EVAL_SENTENCES = 128  # validation sentences behind the loss curves (4 evaluations per run)
PHASE2_VAL_FRACTION = 0.1  # train sentences held out for phase-2 curves and the demo-model choice
EVAL_SEED_OFFSET = 1_000  # the evaluation prefix draw must not repeat the training draw
THRESHOLD = 0.5
PHASE1_MIN_ROWS_PER_BATCH = 4  # see rows_per_batch: mixed-label batches keep the one-pass BCE stable


# ====================================================================================== sentences & prefixes
@dataclass
class EncodedSentence:
    """A sentence tokenized once: its token ids, and the token index of the last token of each word that fits.

    ``word_ends`` holds only the first ``n_fit`` words (those whose prefix fits ``max_length`` tokens with the
    tokenizer's special tokens); ``n_words`` counts all whitespace words, so ``w_len = k / n_words``.
    """

    words: list[str]
    input_ids: list[int]
    word_ends: list[int]

    @property
    def n_words(self) -> int:
        return len(self.words)

    @property
    def n_fit(self) -> int:
        return len(self.word_ends)

    def prefix(self, k: int) -> str:
        return " ".join(self.words[:k])


def encode_sentences(tokenizer, texts, max_length: int, desc: str = "tokenizing") -> list[EncodedSentence]:
    """Tokenize each sentence once and find its word ends
    (:func:`hatespeech.data.word_end_token_positions`).

    A prefix of k words is the sentence's first tokens up to word k's last token (plus the tokenizer's
    trailing special tokens, e.g. BERT's [SEP]); words whose prefix would exceed ``max_length`` are left out
    of ``word_ends`` (counted by :func:`truncation_counts`). Raises ValueError naming the row of an
    empty text.
    """
    from .data import word_end_token_positions

    trailing = _trailing_special_tokens(tokenizer)
    out = []
    for row, text in enumerate(tqdm(list(texts), desc=desc, leave=False, disable=len(texts) < 2000)):
        if not isinstance(text, str) or not text.split():
            raise ValueError(f"sentence {row} is empty or not text: {text!r}")
        words = text.split()
        ids, ends = _word_ends(word_end_token_positions, tokenizer, " ".join(words))
        fit = []
        for end in ends:
            if end < 0 or end + 1 + trailing > max_length:
                break
            fit.append(int(end))
        content = ids[: fit[-1] + 1] if fit else []
        out.append(EncodedSentence(words=words, input_ids=list(content), word_ends=fit))
    return out


def _word_ends(fn, tokenizer, text: str) -> tuple[list[int], list[int]]:
    result = fn(tokenizer, text)
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], (list, tuple)):
        ids, ends = result
        return list(ids), [int(e) for e in ends]
    # A data-layer variant returning only the ends: tokenize here for the ids.
    return list(tokenizer(text)["input_ids"]), [int(e) for e in result]


def _trailing_special_tokens(tokenizer) -> int:
    """Special tokens the tokenizer appends after the text ([SEP] for BERT, none for GPT-2 / SmolLM2)."""
    enc = tokenizer("a", add_special_tokens=True, return_special_tokens_mask=True)
    mask = enc["special_tokens_mask"]
    count = 0
    for flag in reversed(mask):
        if not flag:
            break
        count += 1
    return count


def truncation_counts(encoded: list[EncodedSentence]) -> dict[str, int]:
    """Sentences whose last words do not fit max_length, and sentences with no word that fits at all."""
    return {
        "sentences": len(encoded),
        "sentences_truncated": int(sum(e.n_fit < e.n_words for e in encoded)),
        "sentences_no_word_fits": int(sum(e.n_fit == 0 for e in encoded)),
        "prefixes_beyond_max_length": int(sum(e.n_words - e.n_fit for e in encoded)),
    }


def random_prefix_examples(
    encoded: list[EncodedSentence], labels, epochs: float, seed: int, extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One random word-prefix per sentence per epoch (k uniform in 1..n_fit), seeded per epoch.

    ``epochs`` may be fractional: ``ceil(epochs)`` draws are made and the list is cut to ``round(epochs·N)``
    examples, so the Trainer runs one pass over it. Sentences with no word that fits are skipped (see
    :func:`truncation_counts`). Each example: ``text`` (the prefix), ``label``, ``w_len``, ``k``, ``n_words``,
    ``sentence`` (row index) and the ``extra`` columns (e.g. source) of that row.
    """
    labels = np.asarray(labels, dtype=np.float32)
    usable = [i for i, e in enumerate(encoded) if e.n_fit > 0]
    examples: list[dict[str, Any]] = []
    for epoch in range(max(1, math.ceil(epochs))):
        rng = np.random.default_rng([seed, epoch])
        for i in usable:
            e = encoded[i]
            k = int(rng.integers(1, e.n_fit + 1))
            example = {
                "text": e.prefix(k),
                "label": float(labels[i]),
                "w_len": k / e.n_words,
                "k": k,
                "n_words": e.n_words,
                "sentence": i,
            }
            if extra:
                example.update({name: values[i] for name, values in extra.items()})
            examples.append(example)
    n_keep = max(1, round(epochs * len(usable))) if usable else 0
    if n_keep < len(examples):
        order = np.random.default_rng([seed, 10_000]).permutation(len(examples))[:n_keep]
        examples = [examples[j] for j in sorted(order)]
    return examples


def word_prefix_examples(encoded: list[EncodedSentence], word_labels) -> list[dict[str, Any]]:
    """One example per sentence holding every word-prefix that fits: ``input_ids``, ``word_end_positions``,
    ``labels`` and ``w_len`` per word.

    ``word_labels[i]`` is a scalar (phase 1: the sentence label for every prefix) or a sequence with one
    target per word (phase 2).
    """
    examples = []
    for i, e in enumerate(encoded):
        if e.n_fit == 0:
            continue
        target = word_labels[i]
        if np.ndim(target) == 0:
            labels = [float(target)] * e.n_fit
        else:
            target = np.asarray(target, dtype=np.float32)
            if len(target) != e.n_words:
                raise ValueError(f"sentence {i} has {e.n_words} words but {len(target)} per-word labels")
            labels = target[: e.n_fit].tolist()
        examples.append(
            {
                "input_ids": e.input_ids,
                "word_end_positions": e.word_ends,
                "labels": labels,
                "w_len": [(k + 1) / e.n_words for k in range(e.n_fit)],
                "sentence": i,
            }
        )
    return examples


class ExampleDataset(torch.utils.data.Dataset):
    """A list of example dicts as a map-style dataset (the Trainer shuffles and batches it)."""

    def __init__(self, examples: list[dict[str, Any]]):
        if not examples:
            raise ValueError("no training examples (every sentence empty or longer than max_length?)")
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.examples[index]

    @property
    def n_prefixes(self) -> int:
        """Word-prefixes (loss terms) in one pass over the dataset."""
        return int(
            sum(len(e["word_end_positions"]) if "word_end_positions" in e else 1 for e in self.examples)
        )


class RandomPrefixDataset(torch.utils.data.Dataset):
    """One random word-prefix per sentence, drawn afresh every epoch: k uniform in 1..n_fit, seeded by
    ``(seed, epoch, sentence)`` so a rerun repeats every draw. :class:`hatespeech.selection.EpochSelection`
    calls :meth:`set_epoch` at the start of each epoch. Sentences with no word that fits are skipped
    (counted by :func:`truncation_counts`)."""

    def __init__(self, encoded: list[EncodedSentence], labels, seed: int):
        self.encoded = encoded
        self.labels = np.asarray(labels, dtype=np.float32)
        self.usable = [i for i, e in enumerate(encoded) if e.n_fit > 0]
        if not self.usable:
            raise ValueError("no training examples (every sentence empty or longer than max_length?)")
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.usable)

    def __getitem__(self, index: int) -> dict[str, Any]:
        i = self.usable[index]
        e = self.encoded[i]
        k = int(np.random.default_rng([self.seed, self.epoch, i]).integers(1, e.n_fit + 1))
        return {"text": e.prefix(k), "label": float(self.labels[i]), "w_len": k / e.n_words}

    @property
    def n_prefixes(self) -> int:
        return len(self.usable)


@dataclass
class PrefixCollator:
    """Batches of prefix texts, each its own sequence (dynamic padding, truncation at ``max_length``)."""

    tokenizer: Any
    max_length: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(
            [f["text"] for f in features],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.float32),
            "w_len": torch.tensor([f["w_len"] for f in features], dtype=torch.float32),
        }


@dataclass
class WordPrefixCollator:
    """Batches of whole sentences with every word end: ``word_end_positions``, ``labels`` and ``w_len`` are
    ``[B, W]``, padded with -1 / 0 / 0 (the losses mask ``word_end_positions < 0``). Right padding keeps every
    row's positions starting at 0, so a causal state equals that of the prefix alone."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = len(features)
        width = max(len(f["input_ids"]) for f in features)
        words = max(len(f["word_end_positions"]) for f in features)
        input_ids = torch.full((batch, width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((batch, width), dtype=torch.long)
        ends = torch.full((batch, words), -1, dtype=torch.long)
        labels = torch.zeros((batch, words), dtype=torch.float32)
        w_len = torch.zeros((batch, words), dtype=torch.float32)
        for row, f in enumerate(features):
            n, w = len(f["input_ids"]), len(f["word_end_positions"])
            input_ids[row, :n] = torch.tensor(f["input_ids"], dtype=torch.long)
            attention_mask[row, :n] = 1
            ends[row, :w] = torch.tensor(f["word_end_positions"], dtype=torch.long)
            labels[row, :w] = torch.tensor(f["labels"], dtype=torch.float32)
            w_len[row, :w] = torch.tensor(f["w_len"], dtype=torch.float32)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "word_end_positions": ends,
            "labels": labels,
            "w_len": w_len,
        }


# ============================================================================================ losses
def prefix_logits(model, inputs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(logits, labels, w_len)`` flattened over every real prefix of the batch.

    Rows with ``word_end_positions`` give one logit per word end (one pass for ``decoder``; a shared
    backbone pass with the biLSTM per prefix for ``decoder+bilstm``; encoders raise, as they would see later
    words); padded word slots are dropped. Plain rows give one logit each.
    """
    if "word_end_positions" in inputs:
        ends = inputs["word_end_positions"]
        if model.supports_one_pass:
            logits = model(inputs["input_ids"], inputs["attention_mask"], word_end_positions=ends).logits
        else:
            logits = model.all_prefix_logits(inputs["input_ids"], inputs["attention_mask"], ends)
        mask = ends >= 0
        return logits[mask], inputs["labels"][mask], inputs["w_len"][mask]
    logits = model(inputs["input_ids"], inputs["attention_mask"]).logits
    return logits, inputs["labels"], inputs["w_len"]


def phase1_loss_fn(pos_weight: float | torch.Tensor | None):
    """Weighted BCE: each prefix weighted by its w_len, positives by ``pos_weight`` (class imbalance)."""

    def loss_fn(model, inputs):
        logits, labels, w_len = prefix_logits(model, inputs)
        return weighted_bce_with_logits(logits, labels, w_len, pos_weight), logits

    return loss_fn


def phase2_loss_fn(C: float, normaliser: float):
    """The seed's phase-2 loss: squared error of sigmoid(logit) against the probability target, weighted by
    ``w = 0.8·C·y + 0.2·w_len`` and divided by a fixed ``normaliser`` (:func:`phase2_normaliser`: the mean w
    of the train prefixes x the nominal prefixes per batch) instead of the batch's own sum of w. Each prefix
    then pulls with the same force whatever else is in its batch, so the encoders' batches of 16 mixed prefixes
    and the decoders' batches of one whole sentence optimise the same objective."""

    def loss_fn(model, inputs):
        logits, labels, w_len = prefix_logits(model, inputs)
        predictions = torch.sigmoid(logits)
        weights = phase2_weights(labels, w_len, C)
        return weighted_mse(predictions, labels, weights, normaliser=normaliser), predictions

    return loss_fn


def phase2_normaliser(targets, w_len, C: float, prefixes_per_batch: int) -> float:
    """Mean phase-2 weight of the train prefixes x the nominal prefixes per batch: with it, a batch of
    ``prefixes_per_batch`` typical prefixes has the scale of the seed's weighted mean, for every variant."""
    weights = phase2_weights(torch.as_tensor(np.asarray(targets, dtype=np.float32)),
                             torch.as_tensor(np.asarray(w_len, dtype=np.float32)), C)
    return float(weights.mean()) * int(prefixes_per_batch)


# =========================================================================================== scoring
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


# ====================================================================================== phase-1 data
@dataclass
class Phase1Data:
    """The phase-1 corpus on its grouped split: ``train`` (fits), ``selection`` (chooses learning rate, epoch
    and threshold), ``val`` (the seed's 15%: reported, chooses nothing); each with ``text, label, source,
    group``. ``report`` holds the corpus report, the manifest name and both leakage checks."""

    train: pd.DataFrame
    selection: pd.DataFrame
    val: pd.DataFrame
    report: dict[str, Any]


def load_phase1_data(profile: Profile) -> Phase1Data:
    """The phase-1 corpus on its seeded, grouped, manifest-backed split (see :func:`hatespeech.data.phase1_splits`).

    Every part is checked against prefix_probability with the data layer's :func:`leakage_check` (raises
    :class:`hatespeech.data.DataLeakageError` naming the rows if a phase-2 sentence is in them).
    """
    from . import data

    corpus, report = data.build_phase1_corpus(profile)
    splits = data.phase1_splits(profile, corpus=corpus, report=report)
    phase2 = data.load_prefix_probability("all")
    report = dict(report)
    report["split_manifest"] = f"{profile.name}/splits/{splits.path.name}"  # relative to the artifacts dir
    report["split_sizes"] = splits.sizes()
    for name in ("train", "selection", "val"):
        report[f"leakage_check_{name}"] = data.leakage_check(splits[name], phase2)
    parts = {name: splits[name].reset_index(drop=True) for name in ("train", "selection", "val")}
    return Phase1Data(**parts, report=report)


def sample_sentences(
    frame: pd.DataFrame, n: int | None, seed: int, strata=("source", "label")
) -> pd.DataFrame:
    """A seeded sample of about ``n`` rows keeping each stratum's share (all when ``n`` is None or larger)."""
    if n is None or n >= len(frame):
        return frame.reset_index(drop=True)
    keys = [c for c in strata if c in frame]
    if not keys:
        return frame.sample(n=n, random_state=seed).reset_index(drop=True)
    sampled = frame.groupby(keys, group_keys=False).sample(frac=n / len(frame), random_state=seed)
    return sampled.sort_index().reset_index(drop=True)


# ============================================================================================ phase 1
def checkpoint_dir(profile: Profile, phase: int, variant: str) -> Path:
    """``artifacts_dir()/<profile>/anticipation/phase<phase>/<variant>/``."""
    parse_variant(variant)
    return paths.artifacts_dir() / profile.name / "anticipation" / f"phase{phase}" / variant


def rows_per_batch(dataset, batch_size: int, min_rows: int = 1) -> int:
    """Rows per batch such that a batch carries about ``batch_size`` prefixes (loss terms), >= ``min_rows``.

    A prefix row is one prefix; a word-prefix row (the causal decoders) carries every prefix of a sentence
    (~15). Packing ``batch_size`` such rows would give the decoders ~15x fewer optimiser steps than the
    encoders on the same sentences, too few to move a frozen-backbone model (measured: phase 2 of the decoder
    at 16 sentences per batch stayed far above the constant baseline); so ``batch_size`` counts prefixes.
    Phase 1 asks for ``min_rows=4``: with one sentence per batch every batch is all-hate or all-not-hate, and
    the decoder's BCE training collapsed to "never hate" (measured); four sentences per batch trained stably.
    """
    per_row = dataset.n_prefixes / len(dataset)
    return max(1, min_rows, round(batch_size / per_row))


def _train_settings(
    profile: Profile, output: Path, epochs: float, batch_size: int, lr: float, dataset, min_rows: int = 1
):
    from .train import TrainSettings

    batch_size = min(len(dataset), rows_per_batch(dataset, batch_size, min_rows))
    steps = max(1, math.ceil(len(dataset) / batch_size) * max(1, math.ceil(epochs)))
    return TrainSettings(
        output_dir=output,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        head_lr=profile.anticipation.head_lr,
        seed=profile.seed,
        logging_steps=max(1, steps // 25),
        eval_steps=max(1, math.ceil(steps / 4)),
        use_cpu=resolve_device(profile).type == "cpu",
    )


def _trainable(model) -> tuple[int, int]:
    return (
        sum(p.numel() for p in model.parameters() if p.requires_grad),
        sum(p.numel() for p in model.parameters()),
    )


def phase1_epochs(profile: Profile, variant: str) -> int:
    """The most epochs a variant trains (the selection set picks the best of them)."""
    settings = profile.anticipation
    is_decoder = parse_variant(variant)[0] == "decoder"
    if is_decoder and settings.phase1_decoder_epochs is not None:
        return int(settings.phase1_decoder_epochs)
    return int(settings.phase1_epochs)


def phase1_lr_candidates(profile: Profile, variant: str) -> tuple[float, ...]:
    """Learning rates tried for a variant's backbone (the profile's list, else its single ``phase1_lr``)."""
    settings = profile.anticipation
    is_decoder = parse_variant(variant)[0] == "decoder"
    listed = settings.phase1_decoder_lr_candidates if is_decoder else settings.phase1_encoder_lr_candidates
    return tuple(listed) if listed else (settings.phase1_lr,)


def selection_prefixes(selection: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The fixed draw scored after every epoch: one random prefix per selection sentence (same for all)."""
    n = profile.anticipation.phase1_max_selection_samples
    return random_prefix_draw(selection, n, seed=profile.seed + 4, draw_seed=[profile.seed, 2 * EVAL_SEED_OFFSET])


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
    from .baselines import best_f1_threshold

    labels = draw["label"].to_numpy(int)

    def score(model):
        probs = score_draw(model, tokenizer, draw, max_length, desc="selection set")
        if not labels.any():  # only on toy data: no F1 to tune, so keep 0.5 and rank epochs by accuracy
            return binary_metrics(labels, probs)["accuracy"], {"threshold": THRESHOLD, "f1_at_0.5": 0.0,
                                                               "note": "no hateful selection sentence"}
        threshold = best_f1_threshold(labels, probs)
        tuned = binary_metrics(labels, probs, threshold)
        return tuned["f1"], {"threshold": threshold, "f1_at_0.5": binary_metrics(labels, probs)["f1"],
                             "accuracy": tuned["accuracy"]}

    return score


def train_phase1(variant: str, profile: Profile, data: Phase1Data, lr: float | None = None):
    """Train one variant on phase-1 prefixes at one learning rate for up to :func:`phase1_epochs` epochs,
    keeping the epoch with the best selection-set F1 (threshold tuned on the selection set too).

    Returns ``(model, tokenizer, history, stats)``; ``stats["selection"]`` holds the per-epoch selection scores,
    the kept epoch and its threshold. The train frame is sampled to ``phase1_max_train_samples`` sentences
    (``phase1_decoder_max_train_samples`` for decoders; stratified by source x label).
    """
    from .selection import EpochSelection
    from .train import train

    settings = profile.anticipation
    lr = settings.phase1_lr if lr is None else float(lr)
    epochs = phase1_epochs(profile, variant)
    seed_everything(profile.seed)
    model, tokenizer = build_prefix_classifier(variant, profile)
    model.to(resolve_device(profile))
    limit = settings.phase1_max_train_samples
    if model.is_decoder and settings.phase1_decoder_max_train_samples is not None:
        limit = settings.phase1_decoder_max_train_samples  # a 135M decoder costs ~6x MiniLM per sequence
    sentences = phase1_train_sentences(data, limit, profile.seed)
    # The curves need a steady estimate, not the whole selection split: a quarter of the train size, capped.
    n_curve = min(CURVE_EVAL_SENTENCES, max(16, len(sentences) // 4), len(data.selection))
    curve_frame = sample_sentences(data.selection, n_curve, profile.seed + 1)
    labels = sentences["label"].to_numpy(dtype=np.float32)
    pos_weight = float(pos_weight_from_labels(labels.reshape(-1, 1))[0])
    encoded = encode_sentences(tokenizer, sentences["text"].tolist(), settings.max_length)
    curve_encoded = encode_sentences(tokenizer, curve_frame["text"].tolist(), settings.max_length)
    # Causal decoders (with or without biLSTM) read every word-prefix off one backbone pass per sentence
    # (exact: a causal state at word k sees only words <= k; the biLSTM runs once per prefix over its states).
    one_pass = model.shares_backbone_pass
    if one_pass:
        train_set = ExampleDataset(word_prefix_examples(encoded, labels))
        eval_set = ExampleDataset(
            word_prefix_examples(curve_encoded, curve_frame["label"].to_numpy(np.float32))
        )
        collator = WordPrefixCollator(tokenizer.pad_token_id)
    else:
        train_set = RandomPrefixDataset(encoded, labels, profile.seed)  # a fresh prefix every epoch
        eval_set = ExampleDataset(
            random_prefix_examples(curve_encoded, curve_frame["label"], 1.0, profile.seed + EVAL_SEED_OFFSET)
        )
        collator = PrefixCollator(tokenizer, settings.max_length)
    output = checkpoint_dir(profile, 1, variant).parent / "_trainer"
    train_settings = _train_settings(
        profile, output, epochs, settings.phase1_batch_size, lr, train_set, min_rows=PHASE1_MIN_ROWS_PER_BATCH
    )
    selector = EpochSelection(
        selection_score_fn(tokenizer, selection_prefixes(data.selection, profile), settings.max_length),
        higher_is_better=True, dataset=train_set, max_epochs=epochs,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    model, history = train(
        model, train_set, phase1_loss_fn(pos_weight), train_settings,
        eval_dataset=eval_set, data_collator=collator, callbacks=[selector],
    )
    kept = selector.restore(model)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    prefixes_seen = int(round(train_set.n_prefixes * epochs))
    trainable, total = _trainable(model)
    stats = {
        "variant": variant,
        "model_id": model.config.backbone_name,
        "training": (
            "one pass per sentence, loss at every word end"
            if model.supports_one_pass
            else "one shared backbone pass per sentence, biLSTM per prefix, loss at every word end"
            if one_pass
            else "one random word-prefix per sentence per epoch"
        ),
        "train_sentences": int(len(sentences)),
        "train_sentences_by_source": {k: int(v) for k, v in sentences["source"].value_counts().items()},
        "train_sequences_seen": int(len(train_set) * epochs),
        "train_prefixes_seen": prefixes_seen,
        "max_epochs": epochs,
        "epochs": int(kept["epoch"]),
        "selection": {"epochs": selector.epochs, "kept": kept, "sentences": int(min(
            len(data.selection), settings.phase1_max_selection_samples or len(data.selection)))},
        "threshold": float(kept["threshold"]),
        "pos_weight": pos_weight,
        "train_positive_share": float(labels.mean()),
        "trainable_parameters": trainable,
        "total_parameters": total,
        "trainable_layers": model.config.trainable_layers,
        "max_length": settings.max_length,
        "batch_size_prefixes": settings.phase1_batch_size,
        "batch_size_rows": train_settings.batch_size,
        "optimizer_steps": int(math.ceil(len(train_set) / train_settings.batch_size) * epochs),
        "lr": lr,
        "head_lr": train_settings.head_lr,
        "truncation": truncation_counts(encoded),
        "train_seconds": seconds,
        "train_cpu_seconds": cpu_seconds,
        "train_prefixes_per_second": prefixes_seen / seconds if seconds else None,
        "curve_eval_sentences": int(len(curve_frame)),
    }
    return model, tokenizer, history, stats


def phase1_train_sentences(data: Phase1Data, limit: int | None, seed: int) -> pd.DataFrame:
    """The train sentences a variant (and the TF-IDF baseline beside it) fits on: a seeded stratified sample."""
    return sample_sentences(data.train, limit, seed)


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
        "n": int(len(y)),
    }


def grouped_binary_metrics(frame: pd.DataFrame, by: str, prob: str = "p_hate",
                           threshold: float = THRESHOLD) -> pd.DataFrame:
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
    labels = [f"{round(100 * lo)}-{round(100 * hi)}%" for lo, hi in zip(edges[:-1], edges[1:])]
    return pd.cut(np.asarray(w_len, dtype=float), edges, labels=labels, include_lowest=True)


def random_prefix_draw(frame: pd.DataFrame, n: int | None, seed: int, draw_seed) -> pd.DataFrame:
    """A seeded sample of ``n`` sentences and one random prefix of each (k uniform in 1..n_words, independent
    of any tokenizer): columns ``k, n_words, w_len, prefix`` added."""
    sample = sample_sentences(frame, n, seed)
    rng = np.random.default_rng(draw_seed)
    words = sample["text"].str.split()
    n_words = words.str.len().to_numpy()
    if (n_words == 0).any():
        raise ValueError(f"empty text in phase-1 rows {sample.index[n_words == 0][:5].tolist()}")
    k = np.array([int(rng.integers(1, n + 1)) for n in n_words])
    return sample.assign(
        k=k, n_words=n_words, w_len=k / n_words, prefix=[" ".join(w[:kk]) for w, kk in zip(words, k)]
    )


def evaluation_prefixes(val_frame: pd.DataFrame, profile: Profile) -> pd.DataFrame:
    """The evaluation sample and its one random prefix per sentence: the same draw for every variant and
    baseline (seeded by the profile)."""
    return random_prefix_draw(val_frame, profile.anticipation.phase1_max_eval_samples, profile.seed + 2,
                              [profile.seed, EVAL_SEED_OFFSET])


def evaluate_phase1(model, tokenizer, profile: Profile, val_frame: pd.DataFrame,
                    threshold: float = THRESHOLD) -> dict[str, Any]:
    """Evaluation-split metrics of one phase-1 model, at ``threshold`` (chosen on the selection set) and at 0.5.

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
    all_frame = sample_sentences(random_eval.assign(row=np.arange(len(random_eval))),
                                 settings.phase1_prefix_eval_sentences, profile.seed + 3)
    if model.shares_backbone_pass:
        # One causal pass per sentence gives every prefix: score all sentences once, read both views off it.
        every_row = score_trajectories(model, tokenizer, random_eval["text"].tolist(), max_length,
                                       desc="phase-1 eval: every prefix (shared passes)")
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
            rows.append({"source": row["source"], "label": row["label"], "k": k, "n_words": n, "w_len": k / n,
                         "p_hate": float(probs[k - 1])})
    every = pd.DataFrame(rows)
    every["length_fraction"] = length_fraction_bin(every["w_len"])
    full = every[every["k"] == every["n_words"]]
    metrics = binary_metrics(random_eval["label"], random_eval["p_hate"], threshold)
    metrics.update(
        {
            "evaluation": "one random word-prefix per evaluation sentence (same draw for every variant)",
            "at_0.5": binary_metrics(random_eval["label"], random_eval["p_hate"]),
            "eval_sentences": int(len(random_eval)),
            "full_sentence": binary_metrics(full["label"], full["p_hate"], threshold),
            "every_prefix": binary_metrics(every["label"], every["p_hate"], threshold),
            "every_prefix_sentences": int(len(all_frame)),
            "every_prefix_prefixes": int(len(every)),
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


def save_checkpoint(model, tokenizer, folder: Path, stats: dict[str, Any]) -> Path:
    """``save_pretrained`` of model and tokenizer, plus ``training_stats.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "training_stats.json").write_text(json.dumps(stats, indent=2, default=_json_default))
    return folder


def load_checkpoint(profile: Profile, phase: int, variant: str):
    """``(model, tokenizer, stats)`` of a saved checkpoint, on the profile's device (or a clear error)."""
    from transformers import AutoTokenizer

    folder = checkpoint_dir(profile, phase, variant)
    notebook = "notebooks/02_phase1.ipynb" if phase == 1 else "notebooks/03_phase2.ipynb"
    if not (folder / "config.json").exists():
        raise FileNotFoundError(
            f"no phase-{phase} checkpoint for variant {variant!r} under "
            f"<artifacts>/{profile.name}/anticipation/phase{phase}/{variant}: run {notebook} with "
            f"profile={profile.name!r} first (e.g. papermill {notebook} out.ipynb -p profile {profile.name})"
        )
    model = PrefixClassifier.from_pretrained(str(folder)).to(resolve_device(profile))
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    tokenizer.padding_side = "right"
    stats_file = folder / "training_stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return model, tokenizer, stats


@dataclass
class Phase1Run:
    """Everything the phase-1 notebook shows: per variant metrics, tables, histories and training stats,
    the learning-rate sweep on the selection set, the baselines and the bootstrap evidence."""

    profile: Profile
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    histories: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_source: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_w_len: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_length_fraction: dict[str, pd.DataFrame] = field(default_factory=dict)
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)  # variant / baseline -> eval draw
    sweep: list[dict[str, Any]] = field(default_factory=list)  # one row per (variant, lr, epoch)
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # intervals and paired comparisons
    data_report: dict[str, Any] = field(default_factory=dict)
    data_counts: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """One long frame (with ``variant``) of ``by_source`` / ``by_w_len`` / ``by_length_fraction``."""
        parts = getattr(self, name)
        return pd.concat([df.assign(variant=v) for v, df in parts.items()], ignore_index=True)

    def history(self) -> pd.DataFrame:
        return pd.concat([h.assign(variant=v) for v, h in self.histories.items()], ignore_index=True)

    def sweep_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.sweep)

    def comparison_with_seed(self) -> pd.DataFrame:
        return phase1_seed_table(self.metrics)

    def best_variant(self) -> str:
        """The variant with the best *selection-set* F1 (the evaluation split chooses nothing)."""
        return max(self.stats, key=lambda v: self.stats[v]["selection"]["kept"]["score"])

    def evidence_payload(self) -> dict[str, Any]:
        """The ``phase1_baselines``, ``phase1_evidence`` and ``phase1_sweep`` sections of anticipation.json."""
        baselines = {name: {k: v for k, v in m.items()} for name, m in self.baselines.items()}
        return {"phase1_baselines": baselines, "phase1_evidence": self.evidence, "phase1_sweep": self.sweep}

    def payload(self) -> dict[str, Any]:
        """The ``phase1`` section of anticipation.json."""
        out = {}
        for variant, metrics in self.metrics.items():
            out[variant] = {
                **metrics,
                "by_source": _records(self.by_source[variant], "source"),
                "by_w_len": _records(self.by_w_len[variant], "w_len_bin"),
                "by_length_fraction": _records(self.by_length_fraction[variant], "length_fraction"),
                "training": self.stats[variant],
            }
        return out


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): {k: v for k, v in row.items() if k != key} for row in frame.to_dict("records")}


SEED_CONTEXT_NOTE = (
    "The seed's accuracy and F1 come from other data with another class balance; neither transfers to this "
    "evaluation split, so they are context only. The yardstick is the in-project baselines on the same "
    "prefixes (majority class, TF-IDF + logistic regression)."
)


def phase1_seed_table(metrics: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Our phase-1 accuracy / F1 per variant beside the seed's published numbers, as context (see
    :data:`SEED_CONTEXT_NOTE`): no verdict is drawn from this table."""
    rows = []
    for variant, m in metrics.items():
        seed = SEED_PHASE1.get(variant, {})
        rows.append({
            "variant": variant,
            "model": m.get("model_id"),
            "accuracy": m["accuracy"],
            "f1": m["f1"],
            "seed_model": seed.get("seed_model"),
            "seed_accuracy": seed.get("accuracy"),
            "seed_f1": seed.get("f1"),
        })
    return pd.DataFrame(rows)


def run_phase1(profile: Profile, variants=None) -> Phase1Run:
    """Train, select, evaluate and save every variant (``profile.anticipation.variants`` by default), then
    the baselines and the bootstrap evidence on the same evaluation prefixes.

    Learning rates: the plain variant of each backbone tries :func:`phase1_lr_candidates` and keeps the one
    whose best epoch scores highest on the selection set; its +biLSTM sibling reuses that rate (the sweep is
    paid once per backbone). A +biLSTM variant whose plain sibling is not run sweeps itself.
    """
    from . import anticipation_evidence as evidence

    variants = tuple(variants or profile.anticipation.variants)
    for variant in variants:
        parse_variant(variant)
    data = load_phase1_data(profile)
    run = Phase1Run(
        profile=profile,
        data_report=data.report,
        data_counts={
            "train_sentences_available": int(len(data.train)),
            "selection_sentences_available": int(len(data.selection)),
            "val_sentences_available": int(len(data.val)),
            "train_by_source_label": _counts(data.train),
            "selection_by_source_label": _counts(data.selection),
            "val_by_source_label": _counts(data.val),
        },
    )
    chosen_lr: dict[str, float] = {}
    for variant in variants:
        kind, _ = parse_variant(variant)
        candidates = (chosen_lr[kind],) if kind in chosen_lr else phase1_lr_candidates(profile, variant)
        best = None
        sweep_seconds = 0.0
        for lr in candidates:
            print(f"[phase 1] {variant}: training at lr {lr:g}")
            model, tokenizer, history, stats = train_phase1(variant, profile, data, lr=lr)
            sweep_seconds += stats["train_seconds"]
            run.sweep.extend({"variant": variant, "lr": lr, **row} for row in stats["selection"]["epochs"])
            if best is None or stats["selection"]["kept"]["score"] > best[3]["selection"]["kept"]["score"]:
                best = (model, tokenizer, history, stats)
            else:
                del model
        model, tokenizer, history, stats = best
        stats["lr_candidates"] = list(candidates)
        stats["lr_chosen_by"] = ("selection-set F1 of this variant" if len(candidates) > 1
                                 else "the sweep of the plain variant" if kind in chosen_lr
                                 else "the profile (one rate)")
        chosen_lr.setdefault(kind, stats["lr"])
        stats["sweep_train_seconds"] = sweep_seconds
        for row in run.sweep:
            if row["variant"] == variant:
                row["kept"] = bool(row["lr"] == stats["lr"] and row["epoch"] == stats["epochs"])
        print(f"[phase 1] {variant}: evaluating (lr {stats['lr']:g}, epoch {stats['epochs']}, "
              f"threshold {stats['threshold']:.3f})")
        result = evaluate_phase1(model, tokenizer, profile, data.val, threshold=stats["threshold"])
        stats["eval_seconds"] = result["seconds"]
        save_checkpoint(model, tokenizer, checkpoint_dir(profile, 1, variant), stats)
        run.metrics[variant] = {"model_id": stats["model_id"], **result["metrics"]}
        run.stats[variant] = stats
        run.histories[variant] = history
        run.predictions[variant] = result["predictions"]
        for name in ("by_source", "by_w_len", "by_length_fraction"):
            getattr(run, name)[variant] = result[name]
        del model, best
    print("[phase 1] baselines and bootstrap intervals")
    evidence.phase1_baselines(run, data)
    evidence.phase1_evidence(run)
    return run


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    return {
        f"{s}/{int(label)}": int(n) for (s, label), n in frame.groupby(["source", "label"]).size().items()
    }


# ====================================================================================== phase-2 data
@dataclass
class Phase2Data:
    """prefix_probability as one row per sentence: ``labels`` / ``label_a`` / ``label_b`` arrays by k."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    train_prefixes: pd.DataFrame  # prefix rows of the train sentences (for the constant baseline)
    test_prefixes: pd.DataFrame

    def counts(self) -> dict[str, int]:
        return {
            "train_sentences": len(self.train),
            "val_sentences": len(self.val),
            "test_sentences": len(self.test),
            "train_prefixes": int(self.train["n_words"].sum()),
            "val_prefixes": int(self.val["n_words"].sum()),
            "test_prefixes": int(self.test["n_words"].sum()),
        }


def sentence_rows(prefixes: pd.DataFrame) -> pd.DataFrame:
    """Group prefix rows into sentences; ValueError names a sentence whose prefixes are incomplete."""
    rows = []
    for sentence_id, part in prefixes.sort_values(["sentence_id", "k"]).groupby("sentence_id", sort=True):
        n = int(part["n_words"].iloc[0])
        if part["k"].tolist() != list(range(1, n + 1)):
            raise ValueError(
                f"prefix_probability sentence {sentence_id!r}: prefixes k={part['k'].tolist()} do not "
                f"cover 1..{n}"
            )
        rows.append(
            {
                "sentence_id": sentence_id,
                "tweet_id": part["tweet_id"].iloc[0],
                "corpus_class": part["corpus_class"].iloc[0],
                "sentence": part["sentence"].iloc[0],
                "n_words": n,
                "labels": part["label"].to_numpy(float),
                "label_a": part["label_a"].to_numpy(float),
                "label_b": part["label_b"].to_numpy(float),
            }
        )
    return pd.DataFrame(rows)


def load_phase2_data(profile: Profile) -> Phase2Data:
    """Train / held-out validation / test sentences of prefix_probability.

    A tenth of the train sentences (seeded, stratified by corpus class) is held out: it picks the epoch kept
    and the best variant, and draws the loss curves (``phase2_max_val_sentences`` caps it for smoke runs);
    ``phase2_max_train_sentences`` samples the rest.
    """
    from sklearn.model_selection import train_test_split

    from .data import load_prefix_probability

    train_prefixes = load_prefix_probability("train")
    test_prefixes = load_prefix_probability("test")
    sentences = sentence_rows(train_prefixes)
    fit, val = train_test_split(
        sentences,
        test_size=PHASE2_VAL_FRACTION,
        random_state=profile.seed,
        stratify=sentences["corpus_class"],
    )
    limit = profile.anticipation.phase2_max_train_sentences
    fit = sample_sentences(fit, limit, profile.seed, strata=("corpus_class",))
    val = sample_sentences(val, profile.anticipation.phase2_max_val_sentences, profile.seed,
                           strata=("corpus_class",))
    train_ids = set(fit["sentence_id"])
    return Phase2Data(
        train=fit.reset_index(drop=True),
        val=val.reset_index(drop=True),
        test=sentence_rows(test_prefixes),
        train_prefixes=train_prefixes[train_prefixes["sentence_id"].isin(train_ids)],
        test_prefixes=test_prefixes,
    )


def phase2_datasets(model, tokenizer, frame: pd.DataFrame, max_length: int) -> ExampleDataset:
    """Every prefix of every sentence: word-prefix rows for causal decoders, prefix texts for encoders."""
    encoded = encode_sentences(tokenizer, frame["sentence"].tolist(), max_length)
    if model.shares_backbone_pass:
        return ExampleDataset(word_prefix_examples(encoded, frame["labels"].tolist()))
    examples = []
    for e, labels in zip(encoded, frame["labels"]):
        for k in range(1, e.n_fit + 1):
            examples.append({"text": e.prefix(k), "label": float(labels[k - 1]), "w_len": k / e.n_words})
    return ExampleDataset(examples)


# ============================================================================================ phase 2
def train_phase2(variant: str, profile: Profile, data: Phase2Data, init: str = "phase1"):
    """Fine-tune on prefix_probability from the phase-1 checkpoint (``init="phase1"``) or from the bare
    pretrained backbone (``init="pretrained"``, the ablation), for up to ``phase2_epochs`` epochs, keeping the
    epoch with the lowest MSE on the held-out train sentences (the test split chooses nothing).
    Returns ``(model, tokenizer, history, stats)``."""
    from .selection import EpochSelection
    from .train import train

    settings = profile.anticipation
    seed_everything(profile.seed)
    if init == "phase1":
        model, tokenizer, _ = load_checkpoint(profile, 1, variant)
    elif init == "pretrained":
        model, tokenizer = build_prefix_classifier(variant, profile)
        model.to(resolve_device(profile))
    else:
        raise ValueError(f"init must be 'phase1' or 'pretrained', got {init!r}")
    model.freeze_lower_layers(settings.phase2_trainable_layers)
    train_set = phase2_datasets(model, tokenizer, data.train, settings.max_length)
    # Curves need a steady estimate, not every held-out prefix: a quarter of the train sentences (>= 8).
    curve = sample_sentences(
        data.val, min(len(data.val), max(8, len(data.train) // 4)), profile.seed + 1, strata=("corpus_class",)
    )
    eval_set = phase2_datasets(model, tokenizer, curve, settings.max_length)
    collator = (
        WordPrefixCollator(tokenizer.pad_token_id)
        if model.shares_backbone_pass
        else PrefixCollator(tokenizer, settings.max_length)
    )
    output = checkpoint_dir(profile, 2, variant).parent / "_trainer"
    epochs = int(settings.phase2_epochs)
    train_settings = _train_settings(
        profile, output, epochs, settings.phase2_batch_size, settings.phase2_lr, train_set
    )
    train_prefixes = data.train_prefixes
    normaliser = phase2_normaliser(train_prefixes["label"], train_prefixes["w_len"], settings.phase2_C,
                                   settings.phase2_batch_size)

    def held_out_mse(candidate):
        predictions = predict_phase2(candidate, tokenizer, profile, data.val)
        return regression_metrics(predictions["label"], predictions["p_hate"])["mse"], {}

    selector = EpochSelection(held_out_mse, higher_is_better=False, max_epochs=epochs)
    start, cpu_start = time.perf_counter(), time.process_time()
    model, history = train(
        model, train_set, phase2_loss_fn(settings.phase2_C, normaliser), train_settings,
        eval_dataset=eval_set, data_collator=collator, callbacks=[selector],
    )
    kept = selector.restore(model)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    prefixes_seen = int(round(train_set.n_prefixes * epochs))
    trainable, total = _trainable(model)
    stats = {
        "variant": variant,
        "init": init,
        "model_id": model.config.backbone_name,
        "training": "every prefix from one shared causal backbone pass per sentence"
        if model.shares_backbone_pass
        else "every prefix as its own sequence",
        "objective": "sum of w·(p - y)^2 over the batch / (mean train w x nominal prefixes per batch); "
                     "w = 0.8·C·y + 0.2·w_len; the same for every variant, whatever its batch make-up",
        "loss_normaliser": normaliser,
        "train_sentences": int(len(data.train)),
        "train_prefixes_per_epoch": train_set.n_prefixes,
        "train_prefixes_seen": prefixes_seen,
        "max_epochs": epochs,
        "epochs": int(kept["epoch"]),
        "selection": {"epochs": selector.epochs, "kept": kept, "criterion": "MSE on held-out train sentences"},
        "C": settings.phase2_C,
        "lr": settings.phase2_lr,
        "head_lr": train_settings.head_lr,
        "trainable_layers": model.config.trainable_layers,
        "batch_size_prefixes": settings.phase2_batch_size,
        "batch_size_rows": train_settings.batch_size,
        "optimizer_steps": int(math.ceil(len(train_set) / train_settings.batch_size) * epochs),
        "trainable_parameters": trainable,
        "total_parameters": total,
        "train_seconds": seconds,
        "train_cpu_seconds": cpu_seconds,
        "train_prefixes_per_second": prefixes_seen / seconds if seconds else None,
    }
    return model, tokenizer, history, stats


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


def annotator_agreement(data: Phase2Data) -> dict[str, Any]:
    """How far the two annotation passes agree (MSE, MAE, Pearson) on train and test prefixes."""
    out: dict[str, Any] = {
        "note": (
            "Both passes were made by one large language model (see prefix_probability/README.md): this is "
            "the agreement of two LLM readings, much higher than two people would reach, and not a human "
            "ceiling."
        ),
    }
    for name, frame in (("train", _all_train_prefixes(data)), ("test", data.test_prefixes)):
        metrics = regression_metrics(frame["label_a"], frame["label_b"])
        metrics["mse_pass_vs_target"] = float(np.mean((frame["label_a"] - frame["label"]) ** 2))
        out[name] = metrics
    return out


def _all_train_prefixes(data: Phase2Data) -> pd.DataFrame:
    from .data import load_prefix_probability

    return load_prefix_probability("train")


@dataclass
class Phase2Run:
    """Everything the phase-2 notebook shows."""

    profile: Profile
    data: Phase2Data
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)  # model key -> test predictions
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # model key -> test metrics
    calibration: dict[str, pd.DataFrame] = field(default_factory=dict)
    histories: dict[str, pd.DataFrame] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    val_mse: dict[str, float] = field(default_factory=dict)
    example_trajectories: dict[str, list[np.ndarray]] = field(default_factory=dict)
    constant: float = float("nan")
    baseline_info: dict[str, dict[str, Any]] = field(default_factory=dict)  # how each baseline was made
    phase1_pos_weight: dict[str, float] = field(default_factory=dict)  # variant -> phase-1 class weight
    evidence: dict[str, Any] = field(default_factory=dict)  # intervals and paired comparisons

    @staticmethod
    def key(kind: str, variant: str) -> str:
        return f"{kind}:{variant}"

    def best_variant(self) -> str:
        """The phase-2 variant with the lowest held-out validation MSE (the test split chooses nothing)."""
        candidates = {k.split(":", 1)[1]: v for k, v in self.val_mse.items() if k.startswith("phase2:")}
        return min(candidates, key=candidates.get)

    def mse_table(self) -> pd.DataFrame:
        """Test MSE / MAE / Pearson / ECE of every model and baseline (``kind``, ``variant`` columns)."""
        rows = []
        for key, metrics in self.metrics.items():
            kind, variant = key.split(":", 1)
            rows.append(
                {
                    "kind": kind,
                    "variant": variant,
                    **{k: metrics.get(k) for k in ("mse", "mae", "pearson", "ece", "n")},
                }
            )
        return pd.DataFrame(rows)

    def earliness_table(self) -> pd.DataFrame:
        reference = self.predictions["constant:train_mean"]  # any predictions frame carries the targets
        rows = [{"kind": "annotators", "variant": "mean of passes", **earliness_of(reference, "label")}]
        for key, predictions in self.predictions.items():
            kind, variant = key.split(":", 1)
            if kind == "constant":
                continue
            rows.append({"kind": kind, "variant": variant, **earliness_of(predictions)})
        return pd.DataFrame(rows)

    def payload(self) -> dict[str, Any]:
        """The ``phase2``, ``baselines``, ``evidence``, ``earliness``, ``annotator_agreement`` parts of the JSON."""
        phase2, ablation, phase1_only, corrected, other = {}, {}, {}, {}, {}
        for key, metrics in self.metrics.items():
            kind, variant = key.split(":", 1)
            calibration = self.calibration[key].astype(object)
            calibration = calibration.where(calibration.notna(), None)  # empty bins: null, not NaN, in JSON
            body = {**metrics, "calibration": calibration.to_dict("records"), **self.baseline_info.get(key, {})}
            if key in self.stats:
                body["training"] = self.stats[key]
            if key in self.val_mse:
                body["val_mse"] = self.val_mse[key]
            target = {"phase2": phase2, "no_phase1": ablation, "phase1_only": phase1_only,
                      "phase1_only_corrected": corrected, "baseline": other}.get(kind)
            if target is not None:
                target[variant] = body
        earl = self.earliness_table()
        return {
            "phase2": phase2,
            "baselines": {
                "constant": {
                    **self.metrics["constant:train_mean"],
                    "value": self.constant,
                    "description": "predicts the mean target of the phase-2 train prefixes",
                },
                **other,
                "phase1_only": phase1_only,
                "phase1_only_prior_corrected": corrected,
                "phase2_without_phase1": ablation,
            },
            "phase2_evidence": self.evidence,
            "earliness": {
                "definition": (
                    "test sentences whose full-sentence target (mean of both passes) is >= 0.5 are "
                    "hateful; share_seen = words read at the first p >= 0.5 / n_words; "
                    "false_alarm_rate = share of the other sentences where p ever reaches 0.5"
                ),
                "by_model": {
                    f"{r['kind']}:{r['variant']}": {
                        k: (None if isinstance(v, float) and math.isnan(v) else v)  # undefined: null in JSON
                        for k, v in r.items()
                        if k not in ("kind", "variant")
                    }
                    for r in earl.to_dict("records")
                },
            },
            "annotator_agreement": annotator_agreement(self.data),
            "best_phase2_variant": self.best_variant(),
            "phase2_C": self.profile.anticipation.phase2_C,
            "data": self.data.counts(),
            "seed_claim": SEED_PHASE2_CLAIM,
        }


def run_phase2(profile: Profile, variants=None, ablation_variants=None) -> Phase2Run:
    """Phase 2 for every variant (from its phase-1 checkpoint), the baselines and the ablation; saves the
    phase-2 checkpoints. Raises FileNotFoundError (run notebook 02) when a phase-1 checkpoint is missing."""
    settings = profile.anticipation
    variants = tuple(variants or settings.variants)
    if ablation_variants is None:
        ablation_variants = getattr(settings, "phase2_ablation_variants", None) or variants
    missing = [v for v in variants if not (checkpoint_dir(profile, 1, v) / "config.json").exists()]
    if missing:
        raise FileNotFoundError(
            f"phase-1 checkpoints missing for {missing} under "
            f"{checkpoint_dir(profile, 1, missing[0]).parent}: run "
            f"notebooks/02_phase1.ipynb with profile={profile.name!r} first"
        )
    data = load_phase2_data(profile)
    run = Phase2Run(profile=profile, data=data)
    run.constant = float(data.train_prefixes["label"].mean())
    constant = _constant_predictions(data, run.constant)
    run.predictions["constant:train_mean"] = constant
    run.metrics["constant:train_mean"], run.calibration["constant:train_mean"] = phase2_scores(constant)
    for variant in variants:
        print(f"[phase 2] {variant}: phase-1 model without phase 2")
        model, tokenizer, phase1_stats = load_checkpoint(profile, 1, variant)
        run.phase1_pos_weight[variant] = phase1_stats.get("pos_weight")
        _score_into(run, "phase1_only", variant, model, tokenizer)
        del model
        print(f"[phase 2] {variant}: fine-tuning from the phase-1 checkpoint")
        model, tokenizer, history, stats = train_phase2(variant, profile, data, init="phase1")
        key = run.key("phase2", variant)
        run.histories[key], run.stats[key] = history, stats
        _score_into(run, "phase2", variant, model, tokenizer)
        run.example_trajectories[variant] = score_trajectories(
            model, tokenizer, list(EXAMPLE_SENTENCES), settings.max_length, desc="examples"
        )
        save_checkpoint(model, tokenizer, checkpoint_dir(profile, 2, variant), stats)
        del model
    for variant in ablation_variants:
        print(f"[phase 2] {variant}: ablation, phase 2 from the pretrained backbone (no phase 1)")
        model, tokenizer, history, stats = train_phase2(variant, profile, data, init="pretrained")
        key = run.key("no_phase1", variant)
        run.histories[key], run.stats[key] = history, stats
        _score_into(run, "no_phase1", variant, model, tokenizer)
        del model
    from . import anticipation_evidence as evidence

    print("[phase 2] baselines and bootstrap intervals")
    evidence.phase2_baselines(run)
    evidence.phase2_evidence(run)
    return run


def _constant_predictions(data: Phase2Data, value: float) -> pd.DataFrame:
    trajectories = [np.full(n, value) for n in data.test["n_words"]]
    return prefix_frame(data.test, trajectories)


def _score_into(run: Phase2Run, kind: str, variant: str, model, tokenizer) -> None:
    key = run.key(kind, variant)
    predictions = predict_phase2(model, tokenizer, run.profile, run.data.test)
    run.predictions[key] = predictions
    run.metrics[key], run.calibration[key] = phase2_scores(predictions)
    run.metrics[key]["model_id"] = model.config.backbone_name
    if key in run.stats:  # the held-out train sentences pick the epoch and the best variant
        run.val_mse[key] = run.stats[key]["selection"]["kept"]["score"]


def pick_test_sentences(test: pd.DataFrame, n: int = 4, seed: int = 0) -> pd.DataFrame:
    """``n`` test sentences for the trajectory figure: half hateful by the full-sentence target, half not
    (seeded), short enough to read (<= 20 words) when possible."""
    full = test.assign(full_label=test["labels"].map(lambda a: float(a[-1])))
    readable = full[full["n_words"] <= 20]
    pool = readable if len(readable) >= n else full
    hateful = pool[pool["full_label"] >= THRESHOLD]
    other = pool[pool["full_label"] < THRESHOLD]
    n_hateful = min(len(hateful), (n + 1) // 2)
    picked = pd.concat(
        [
            hateful.sample(n=n_hateful, random_state=seed),
            other.sample(n=min(len(other), n - n_hateful), random_state=seed),
        ]
    )
    return picked.drop(columns="full_label").reset_index(drop=True)


def load_phase1_metrics(profile: Profile) -> dict[str, Any]:
    """The phase-1 part of anticipation.json written by notebook 02 for this profile (or a clear error)."""
    from .report import read_metrics

    try:
        payload = read_metrics("anticipation")
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{exc}. Run notebooks/02_phase1.ipynb with profile={profile.name!r} first."
        ) from exc
    if "phase1" not in payload:
        raise KeyError("anticipation.json has no 'phase1' section: run notebooks/02_phase1.ipynb first")
    if payload.get("profile") != profile.name:
        raise ValueError(
            f"anticipation.json holds phase-1 results of profile {payload.get('profile')!r}, not "
            f"{profile.name!r}: run notebooks/02_phase1.ipynb with profile={profile.name!r} first"
        )
    return payload


def models_section(profile: Profile) -> dict[str, Any]:
    """Which backbone each variant used (tables name the model id, not only the variant)."""
    out = {"encoder_backbone": profile.models.encoder, "decoder_backbone": profile.models.decoder}
    for variant in profile.anticipation.variants:
        kind, _ = parse_variant(variant)
        out[variant] = profile.models.encoder if kind == "encoder" else profile.models.decoder
    return out


def settings_section(profile: Profile) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "anticipation": asdict(profile.anticipation),
        "phase1_sources": list(profile.data.phase1_sources),
        "phase1_max_rows_per_source": profile.data.phase1_max_rows_per_source,
    }


def _json_default(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


__all__ = [
    "VARIANTS",
    "SEED_PHASE1",
    "SEED_PHASE2_CLAIM",
    "EXAMPLE_SENTENCES",
    "EncodedSentence",
    "encode_sentences",
    "random_prefix_examples",
    "word_prefix_examples",
    "ExampleDataset",
    "PrefixCollator",
    "WordPrefixCollator",
    "prefix_logits",
    "phase1_loss_fn",
    "phase2_loss_fn",
    "score_prefix_texts",
    "score_trajectories",
    "load_phase1_data",
    "sample_sentences",
    "train_phase1",
    "evaluate_phase1",
    "binary_metrics",
    "run_phase1",
    "Phase1Run",
    "phase1_seed_table",
    "checkpoint_dir",
    "save_checkpoint",
    "load_checkpoint",
    "Phase2Data",
    "load_phase2_data",
    "train_phase2",
    "predict_phase2",
    "phase2_scores",
    "earliness_of",
    "annotator_agreement",
    "Phase2Run",
    "run_phase2",
    "models_section",
    "settings_section",
]
