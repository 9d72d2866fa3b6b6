"""Training: the prefix losses of both phases, batch sizing, one variant's phase-1 or phase-2 fit through
:func:`hatespeech.train.train` (epoch kept by :class:`hatespeech.selection.EpochSelection`), and checkpoint
I/O. Over the ~500-line guide (~620 lines): both phases' fits share the losses, batch sizing, the model
builder and checkpoint I/O, which a split by phase would have to import back and forth."""

from __future__ import annotations

import json
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
import torch
from transformers import AutoTokenizer

from .. import paths
from ..config import Profile
from ..losses import phase2_weights, pos_weight_from_labels, weighted_bce_with_logits, weighted_mse
from ..metrics.regression import regression_metrics
from ..models.prefix import PrefixClassifier, build_prefix_classifier, parse_variant
from ..runtime import seed_everything
from ..selection import EpochSelection
from ..stamp import json_default
from ..train import TrainSettings, mixed_precision, train
from .evaluation import EVAL_SEED_OFFSET, predict_phase2, selection_score_fn, selection_sentences
from .examples import (
    ExampleDataset,
    PrefixCollator,
    RandomPrefixDataset,
    WordPrefixCollator,
    encode_sentences,
    random_prefix_examples,
    sample_sentences,
    truncation_counts,
    word_prefix_examples,
)
from .inference import Anticipator
from .shared_layers import MemoPool


class Phase1Data(Protocol):
    """What training reads of :class:`.phase1.Phase1Data` (stated here: phase1 imports this module)."""

    train: pd.DataFrame
    selection: pd.DataFrame


class Phase2Data(Protocol):
    """What training reads of :class:`.phase2.Phase2Data` (stated here: phase2 imports this module)."""

    train: pd.DataFrame
    val: pd.DataFrame
    train_prefixes: pd.DataFrame


CURVE_EVAL_SENTENCES = 128  # validation sentences behind the loss curves (4 evaluations per run)
PHASE1_MIN_ROWS_PER_BATCH = 4  # see rows_per_batch: mixed-label batches keep the one-pass BCE stable


# =================================================================================================== losses
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


def phase1_loss_fn(pos_weight: float | torch.Tensor | None, use_w_len: bool = True):
    """Weighted BCE: each prefix weighted by its w_len (the seed's; ``use_w_len=False``: every prefix 1, the
    ablation), positives by ``pos_weight`` (class imbalance)."""

    def loss_fn(model, inputs):
        logits, labels, w_len = prefix_logits(model, inputs)
        weights = w_len if use_w_len else torch.ones_like(w_len)
        return weighted_bce_with_logits(logits, labels, weights, pos_weight), logits

    return loss_fn


def phase2_loss_fn(C: float | None, normaliser: float):
    """The seed's phase-2 loss: squared error of sigmoid(logit) against the probability target, weighted by
    ``w = 0.8·C·y + 0.2·w_len`` (``C=None``: unweighted, w = 1, the loss-weight ablation) and divided by a
    fixed ``normaliser`` (:func:`phase2_normaliser`: the mean w of the train prefixes x the nominal prefixes
    per batch) instead of the batch's own sum of w. Each prefix then pulls with the same force whatever else
    is in its batch, so the encoders' batches of 16 mixed prefixes and the decoders' batches of one whole
    sentence optimise the same objective."""

    def loss_fn(model, inputs):
        logits, labels, w_len = prefix_logits(model, inputs)
        predictions = torch.sigmoid(logits)
        weights = torch.ones_like(labels) if C is None else phase2_weights(labels, w_len, C)
        return weighted_mse(predictions, labels, weights, normaliser=normaliser), predictions

    return loss_fn


def phase2_normaliser(targets, w_len, C: float | None, prefixes_per_batch: int) -> float:
    """Mean phase-2 weight of the train prefixes x the nominal prefixes per batch: with it, a batch of
    ``prefixes_per_batch`` typical prefixes has the scale of the seed's weighted mean, for every variant
    (``C=None``, unweighted: the plain mean)."""
    if C is None:
        return float(prefixes_per_batch)
    weights = phase2_weights(
        torch.as_tensor(np.asarray(targets, dtype=np.float32)),
        torch.as_tensor(np.asarray(w_len, dtype=np.float32)),
        C,
    )
    return float(weights.mean()) * int(prefixes_per_batch)


# ===================================================================================== batches and settings
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
    profile: Profile,
    output: Path,
    epochs: float,
    batch_size: int,
    lr: float,
    dataset,
    min_rows: int = 1,
    group_by_length: bool = False,
    seed: int | None = None,
):
    batch_size = min(len(dataset), rows_per_batch(dataset, batch_size, min_rows))
    steps = max(1, math.ceil(len(dataset) / batch_size) * max(1, math.ceil(epochs)))
    return TrainSettings(
        output_dir=output,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        head_lr=profile.anticipation.head_lr,
        seed=profile.seed if seed is None else seed,
        logging_steps=max(1, steps // 25),
        eval_steps=max(1, math.ceil(steps / 4)),
        use_cpu=profile.torch_device.type == "cpu",
        precision=mixed_precision(profile.torch_device.type == "cpu"),
        group_by_length=group_by_length,
    )


def _trainable(model) -> tuple[int, int]:
    return (
        sum(p.numel() for p in model.parameters() if p.requires_grad),
        sum(p.numel() for p in model.parameters()),
    )


def new_prefix_classifier(variant: str, profile: Profile, pretrained: bool = True):
    """``(model, tokenizer)`` for ``variant`` with the profile's backbone, trainable layers and LSTM size
    (:func:`~hatespeech.models.prefix.build_prefix_classifier`, which takes them as arguments)."""
    settings, is_encoder = profile.anticipation, parse_variant(variant)[0] == "encoder"
    if is_encoder:
        model_id, trainable = profile.models.encoder, settings.encoder_trainable_layers
    else:
        model_id, trainable = profile.models.decoder, settings.decoder_trainable_layers
    return build_prefix_classifier(
        variant, model_id, lstm_hidden=settings.lstm_hidden, trainable_layers=trainable, pretrained=pretrained
    )


def phase1_epochs(profile: Profile, variant: str) -> int:
    """The most epochs a variant trains (the selection set picks the best of them)."""
    settings = profile.anticipation
    is_decoder = parse_variant(variant)[0] == "decoder"
    if is_decoder and settings.phase1.decoder_epochs is not None:
        return int(settings.phase1.decoder_epochs)
    return int(settings.phase1.epochs)


def phase1_sentence_limit(profile: Profile, variant: str) -> int | None:
    """How many phase-1 train sentences a variant fits on (None = all): the decoders have their own limit
    (a 135M decoder costs ~6x MiniLM per sequence)."""
    settings = profile.anticipation
    is_decoder = parse_variant(variant)[0] == "decoder"
    if is_decoder and settings.phase1.decoder_max_train_samples is not None:
        return settings.phase1.decoder_max_train_samples
    return settings.phase1.max_train_samples


def phase1_lr_candidates(profile: Profile, variant: str) -> tuple[float, ...]:
    """Learning rates tried for a variant's backbone (the profile's list, else its single ``phase1.lr``)."""
    settings = profile.anticipation
    is_decoder = parse_variant(variant)[0] == "decoder"
    listed = settings.phase1.decoder_lr_candidates if is_decoder else settings.phase1.encoder_lr_candidates
    return tuple(listed) if listed else (settings.phase1.lr,)


# ================================================================================================== phase 1
def train_phase1(
    variant: str,
    profile: Profile,
    data: Phase1Data,
    lr: float | None = None,
    memos: MemoPool | None = None,
    use_w_len: bool = True,
    max_sentences: int | str | None = "profile",
    curves: bool = True,
):
    """Train one variant on phase-1 prefixes at one learning rate for up to :func:`phase1_epochs` epochs,
    keeping the epoch with the best selection-set F1 (threshold tuned on the selection set too).

    Returns ``(model, tokenizer, history, stats)``; ``stats["selection"]`` holds the per-epoch selection
    scores, the kept epoch and its threshold. The train frame is sampled to ``phase1.max_train_samples``
    sentences (``phase1.decoder_max_train_samples`` for decoders; stratified by source x label).
    """
    settings = profile.anticipation
    lr = settings.phase1.lr if lr is None else float(lr)
    epochs = phase1_epochs(profile, variant)
    seed_everything(profile.seed)
    model, tokenizer = new_prefix_classifier(variant, profile)
    model.to(profile.torch_device)
    limit = phase1_sentence_limit(profile, variant) if max_sentences == "profile" else max_sentences
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
        profile, output, epochs, settings.phase1.batch_size, lr, train_set, min_rows=PHASE1_MIN_ROWS_PER_BATCH
    )
    selector = EpochSelection(
        selection_score_fn(tokenizer, selection_sentences(data.selection, profile), settings.max_length),
        higher_is_better=True,
        dataset=train_set,
        max_epochs=epochs,
    )
    model, history, kept, run_stats = _fit(
        model,
        train_set,
        phase1_loss_fn(pos_weight, use_w_len),
        train_settings,
        eval_set if curves else None,
        collator,
        selector,
        memos,
    )
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
        "train_sentences": len(sentences),
        "train_sentences_by_source": {k: int(v) for k, v in sentences["source"].value_counts().items()},
        "train_sequences_seen": int(len(train_set) * epochs),
        **run_stats,
        "selection": {
            "epochs": selector.epochs,
            "kept": kept,
            "sentences": int(
                min(len(data.selection), settings.phase1.max_selection_samples or len(data.selection))
            ),
        },
        "threshold": float(kept["threshold"]),
        "pos_weight": pos_weight,
        "loss_weighting": "w_len = k / n_words" if use_w_len else "none (every prefix 1)",
        "train_positive_share": float(labels.mean()),
        "max_length": settings.max_length,
        "batch_size_prefixes": settings.phase1.batch_size,
        "lr": lr,
        "truncation": truncation_counts(encoded),
        "curve_eval_sentences": len(curve_frame),
    }
    return model, tokenizer, history, stats


def one_pass_train_set(tokenizer, sentences: pd.DataFrame, max_length: int) -> tuple[ExampleDataset, float]:
    """Every word-prefix of phase-1 ``sentences`` as one-pass rows (a causal decoder's training set) and the
    pos_weight of their labels: what the decoder benchmarks train on."""
    labels = sentences["label"].to_numpy(dtype=np.float32)
    encoded = encode_sentences(tokenizer, sentences["text"].tolist(), max_length)
    pos_weight = float(pos_weight_from_labels(labels.reshape(-1, 1))[0])
    return ExampleDataset(word_prefix_examples(encoded, labels)), pos_weight


def phase1_train_sentences(data: Phase1Data, limit: int | None, seed: int) -> pd.DataFrame:
    """The train sentences a variant (and the TF-IDF baseline beside it) fits on: a seeded stratified
    sample."""
    return sample_sentences(data.train, limit, seed)


# ================================================================================================== phase 2
def phase2_datasets(model, tokenizer, frame: pd.DataFrame, max_length: int) -> ExampleDataset:
    """Every prefix of every sentence: word-prefix rows for causal decoders, prefix texts for encoders."""
    encoded = encode_sentences(tokenizer, frame["sentence"].tolist(), max_length)
    if model.shares_backbone_pass:
        return ExampleDataset(word_prefix_examples(encoded, frame["labels"].tolist()))
    examples = []
    for e, labels in zip(encoded, frame["labels"]):
        for k in range(1, e.n_fit + 1):
            examples.append(
                {
                    "text": e.prefix(k),
                    "label": float(labels[k - 1]),
                    "w_len": k / e.n_words,
                    "length": e.word_ends[k - 1] + 1,  # tokens up to word k (for length-grouped batches)
                }
            )
    return ExampleDataset(examples)


@dataclass
class Rehearsal:
    """The forgetting remedy: phase-1 *full* sentences at their 0/1 labels mixed into phase-2 training.

    Phase 2 fine-tunes on implicit-hate tweets only, and a phase-2 model forgets the explicit hate phase 1
    learnt (HateCheck shows it). ``sentences`` (phase-1 train rows: ``text``, ``label``) join the phase-2
    prefixes as one full-length example each, under the same phase-2 loss (target y in {0, 1}, w_len = 1,
    so w = 0.8·C·y + 0.2); ``share`` is their number over the phase-2 train prefixes. ``selection``
    (phase-1 selection rows) makes the validation criterion two-sided: held-out phase-2 MSE + the Brier
    score on the selection sentences at full length, so the kept epoch (and the share) must keep both tasks.
    """

    share: float
    sentences: pd.DataFrame
    selection: pd.DataFrame

    def __post_init__(self):
        if not 0 < self.share <= 1:
            raise ValueError(f"rehearsal share must be in (0, 1], got {self.share}")
        for name in ("sentences", "selection"):
            frame = getattr(self, name)
            missing = [c for c in ("text", "label") if c not in frame]
            if missing:
                raise ValueError(f"rehearsal {name} lack column(s) {missing}")
            bad = ~frame["label"].isin([0, 1])
            if bad.any():
                raise ValueError(
                    f"rehearsal {name}: label must be 0 or 1, got {frame.loc[bad, 'label'].tolist()[0]!r} "
                    f"at row {frame.index[bad][0]}"
                )


def rehearsal_examples(model, tokenizer, sentences: pd.DataFrame, max_length: int) -> list[dict[str, Any]]:
    """One full-length example per sentence (the longest word-prefix that fits), in the row format of the
    phase-2 examples of this model: a word-prefix row with one word end for causal decoders, a text row
    for encoders."""
    encoded = encode_sentences(tokenizer, sentences["text"].tolist(), max_length, what="rehearsal sentence")
    examples = []
    for e, label in zip(encoded, sentences["label"].to_numpy(float)):
        if e.n_fit == 0:
            continue
        w_len = e.n_fit / e.n_words
        if model.shares_backbone_pass:
            end = e.word_ends[-1]
            examples.append(
                {
                    "input_ids": e.input_ids[: end + 1],
                    "word_end_positions": [end],
                    "labels": [label],
                    "w_len": [w_len],
                    "sentence": -1,
                }
            )
        else:
            examples.append(
                {"text": e.prefix(e.n_fit), "label": label, "w_len": w_len, "length": e.word_ends[-1] + 1}
            )
    return examples


def brier_at_full_length(model, tokenizer, sentences: pd.DataFrame, max_length: int) -> float:
    """Mean (p - y)^2 of the model's p_hate of whole sentences against their 0/1 labels."""
    p = Anticipator(model, tokenizer, max_length=max_length).score(sentences["text"].tolist())
    return float(np.mean((p - sentences["label"].to_numpy(float)) ** 2))


def train_phase2(
    variant: str,
    profile: Profile,
    data: Phase2Data,
    init: str = "phase1",
    rehearsal: Rehearsal | None = None,
    C: float | str | None = "profile",
    seed: int | None = None,
    memos: MemoPool | None = None,
    curves: bool = True,
):
    """Fine-tune on prefix_probability from the phase-1 checkpoint (``init="phase1"``) or from the bare
    pretrained backbone (``init="pretrained"``, the ablation), for up to ``phase2.epochs`` epochs, keeping the
    epoch with the lowest MSE on the held-out train sentences (the test split chooses nothing); with
    ``rehearsal`` (:class:`Rehearsal`), phase-1 sentences join the train set and the kept epoch minimises
    held-out MSE + phase-1 selection Brier. ``C``: the label weight of the loss (``"profile"``: the
    profile's ``phase2.C``; ``None``: unweighted MSE); ``seed``: the training seed (default the profile's);
    ``curves=False`` skips the loss-curve evaluations (they choose nothing; the ablation and seed runs draw
    no curve). Returns ``(model, tokenizer, history, stats)``."""
    settings = profile.anticipation
    C = settings.phase2.C if C == "profile" else C
    seed = profile.seed if seed is None else int(seed)
    seed_everything(seed)
    if init == "phase1":
        model, tokenizer, _ = load_checkpoint(profile, 1, variant)
    elif init == "pretrained":
        model, tokenizer = new_prefix_classifier(variant, profile)
        model.to(profile.torch_device)
    else:
        raise ValueError(f"init must be 'phase1' or 'pretrained', got {init!r}")
    model.freeze_lower_layers(settings.phase2.trainable_layers)
    train_set = phase2_datasets(model, tokenizer, data.train, settings.max_length)
    n_phase2_prefixes, n_phase2_rows = train_set.n_prefixes, len(train_set)
    if rehearsal is not None:
        train_set = ExampleDataset(
            train_set.examples
            + rehearsal_examples(model, tokenizer, rehearsal.sentences, settings.max_length)
        )
    # Curves need a steady estimate, not every held-out prefix: an eighth of the train sentences (>= 8). At
    # a quarter, the four curve points per epoch cost about a quarter of the training time on 2 cores.
    curve = sample_sentences(
        data.val, min(len(data.val), max(8, len(data.train) // 8)), profile.seed + 1, strata=("corpus_class",)
    )
    eval_set = phase2_datasets(model, tokenizer, curve, settings.max_length) if curves else None
    collator = (
        WordPrefixCollator(tokenizer.pad_token_id)
        if model.shares_backbone_pass
        else PrefixCollator(tokenizer, settings.max_length)
    )
    output = checkpoint_dir(profile, 2, variant).parent / "_trainer"
    epochs = int(settings.phase2.epochs)
    # Phase 2 batches prefixes of similar length (half the padded tokens of random batches). Phase 1 keeps
    # random batches: its corpora differ in length and in hate share, so length-sorted batches would be
    # nearly one-corpus, one-label batches, which collapsed the decoder's training (rows_per_batch). A
    # rehearsal run does too, for the same reason: its phase-1 sentences are whole sentences, longer than
    # most prefixes, and would gather in batches of their own, one label and one task per batch. (An
    # earlier build argued this from test MSE; that number no longer justifies it: the reason is the
    # batch make-up, as for phase 1.)
    train_settings = _train_settings(
        profile,
        output,
        epochs,
        settings.phase2.batch_size,
        settings.phase2.lr,
        train_set,
        group_by_length=rehearsal is None,
        seed=seed,
    )
    train_prefixes = data.train_prefixes
    normaliser = phase2_normaliser(
        train_prefixes["label"], train_prefixes["w_len"], C, settings.phase2.batch_size
    )

    def held_out_mse(candidate):
        predictions = predict_phase2(candidate, tokenizer, profile, data.val)
        mse = regression_metrics(predictions["label"], predictions["p_hate"])["mse"]
        if rehearsal is None:
            return mse, {}
        brier = brier_at_full_length(candidate, tokenizer, rehearsal.selection, settings.max_length)
        return mse + brier, {"val_mse": mse, "phase1_selection_brier": brier}

    selector = EpochSelection(held_out_mse, higher_is_better=False, max_epochs=epochs)
    model, history, kept, run_stats = _fit(
        model,
        train_set,
        phase2_loss_fn(C, normaliser),
        train_settings,
        eval_set,
        collator,
        selector,
        memos,
    )
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
        "train_sentences": len(data.train),
        "train_prefixes_per_epoch": train_set.n_prefixes,
        **run_stats,
        "selection": {
            "epochs": selector.epochs,
            "kept": kept,
            "criterion": "MSE on held-out train sentences"
            if rehearsal is None
            else "MSE on held-out train sentences + Brier score on the phase-1 selection sentences",
        },
        "C": C,
        "loss_weighting": "unweighted MSE" if C is None else "w = 0.8·C·y + 0.2·w_len",
        "seed": seed,
        "lr": settings.phase2.lr,
        "batch_size_prefixes": settings.phase2.batch_size,
    }
    if rehearsal is not None:
        stats["rehearsal"] = {
            "share": rehearsal.share,
            "sentences": len(train_set) - n_phase2_rows,
            "phase2_prefixes": n_phase2_prefixes,
            "hateful_share": float(rehearsal.sentences["label"].mean()),
            "selection_sentences": len(rehearsal.selection),
        }
    return model, tokenizer, history, stats


def _fit(model, train_set, loss_fn, train_settings, eval_set, collator, selector: EpochSelection, memos=None):
    """The run both phases share: train with the epoch selector, restore the kept epoch, and the stats
    both phases report. Returns ``(model, history, kept, stats)``. With ``memos`` (:class:`MemoPool`), a
    decoder's frozen lower layers run once per token sequence."""
    start, cpu_start = time.perf_counter(), time.process_time()
    with memos.context(model) if memos is not None else nullcontext(None) as memo:
        model, history = train(
            model,
            train_set,
            loss_fn,
            train_settings,
            eval_dataset=eval_set,
            data_collator=collator,
            callbacks=[selector],
        )
        kept = selector.restore(model)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    epochs = selector.max_epochs
    prefixes_seen = round(train_set.n_prefixes * epochs)
    trainable, total = _trainable(model)
    return (
        model,
        history,
        kept,
        {
            "train_prefixes_seen": prefixes_seen,
            "max_epochs": epochs,
            "epochs": int(kept["epoch"]),
            "trainable_parameters": trainable,
            "total_parameters": total,
            "trainable_layers": model.config.trainable_layers,
            "batch_size_rows": train_settings.batch_size,
            "optimizer_steps": int(math.ceil(len(train_set) / train_settings.batch_size) * epochs),
            "head_lr": train_settings.head_lr,
            "train_seconds": seconds,
            "train_cpu_seconds": cpu_seconds,
            "frozen_layer_memo": memo.stats() if memo is not None else None,
            "train_prefixes_per_second": prefixes_seen / seconds if seconds else None,
        },
    )


# ============================================================================================== checkpoints
def checkpoint_dir(profile: Profile, phase: int, variant: str) -> Path:
    """``artifacts_dir()/<profile>/anticipation/phase<phase>/<variant>/``."""
    parse_variant(variant)
    return paths.artifacts_dir() / profile.name / "anticipation" / f"phase{phase}" / variant


def save_checkpoint(model, tokenizer, folder: Path, stats: dict[str, Any]) -> Path:
    """``save_pretrained`` of model and tokenizer, plus ``training_stats.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "training_stats.json").write_text(json.dumps(stats, indent=2, default=json_default))
    return folder


def load_checkpoint(profile: Profile, phase: int, variant: str):
    """``(model, tokenizer, stats)`` of a saved checkpoint, on the profile's device (or a clear error)."""
    folder = checkpoint_dir(profile, phase, variant)
    notebook = "notebooks/02_phase1.ipynb" if phase == 1 else "notebooks/03_phase2.ipynb"
    if not (folder / "config.json").exists():
        raise FileNotFoundError(
            f"no phase-{phase} checkpoint for variant {variant!r} under "
            f"<artifacts>/{profile.name}/anticipation/phase{phase}/{variant}: run {notebook} with "
            f"profile={profile.name!r} first (e.g. papermill {notebook} out.ipynb -p profile {profile.name})"
        )
    model = PrefixClassifier.from_pretrained(str(folder)).to(profile.torch_device)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    tokenizer.padding_side = "right"
    stats_file = folder / "training_stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return model, tokenizer, stats
