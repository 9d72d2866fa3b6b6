"""The whole-sentence hate detector: the study's plain full-text classifier, scored on HateCheck beside the
prefix models and the dual head (notebook 06).

Why it exists: HateCheck asks whether a *finished* statement is hateful. Every other system of the study
answers a neighbouring question: the prefix models learned from random prefixes of four corpora, the dual
head learned toxicity types of ToxiGen and OLID. This one is trained on the question itself: whole sentences,
one binary label, every hate-labelled corpus here (``profile.detector.sources``: phase 1's four, HateXplain's
hatespeech vs normal, ToxiGen's human toxicity rating). It says how far the offline encoder gets on HateCheck
when nothing else stands in the way.

What keeps it honest: the corpus goes through the phase-1 filters (:func:`~..data.phase1.build_phase1_corpus`:
no phase-2 sentence, no HateCheck case, no duplicate); its settings are fixed in the profile and were sized on
cost before it was first scored; the only thing chosen is its threshold, for F1 on its own selection split
(grouped as phase 1: a Stormfront post stays whole), like every other system's. HateCheck chooses nothing.

A standard ``AutoModelForSequenceClassification`` (one logit) trained through the study's one Trainer loop
(:func:`hatespeech.train.train`) with phase 1's loss, pos-weighted BCE; the model and its ``detector.json``
(threshold, selection scores, corpus counts) are saved under ``artifacts_dir()/<profile>/functional/detector``
and reused while the settings and the corpus are unchanged.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import f1_score
from tqdm.auto import tqdm
from transformers import AutoModelForSequenceClassification, DataCollatorWithPadding
from transformers.utils import logging as hf_logging

from ..baselines import best_f1_threshold
from ..config import Profile
from ..data.phase1 import build_phase1_corpus, grouped_stratified_split, phase1_groups, phase1_keys
from ..data.splits import fingerprint
from ..losses import pos_weight_from_labels
from ..metrics.classification import roc_auc
from ..models.backbones import load_tokenizer, resolve_model_dir
from ..models.dualhead import EncoderWeightsNotLoadedError
from ..runtime import seed_everything
from ..train import TrainSettings, mixed_precision, train

STATS_FILE = "detector.json"


def detector_dir(profile: Profile) -> Path:
    return profile.artifacts_dir / "functional" / "detector"


@dataclass
class DetectorData:
    """The detector's corpus split in two: ``train`` and ``selection`` (chooses the threshold only)."""

    train: pd.DataFrame
    selection: pd.DataFrame
    report: dict[str, Any]  # per corpus: rows, what each filter removed, the HateCheck and phase-2 checks
    fingerprint: str  # of every row's key and label: a changed corpus retrains the saved model


def load_detector_data(profile: Profile) -> DetectorData:
    settings = profile.detector
    corpus, report = build_phase1_corpus(
        profile, sources=settings.sources, max_rows_per_source=settings.max_rows_per_source
    )
    fractions = {"train": 1.0 - settings.selection_fraction, "selection": settings.selection_fraction}
    parts = grouped_stratified_split(corpus, phase1_groups(corpus), fractions, int(profile.seed))
    frames = {name: corpus.loc[index].reset_index(drop=True) for name, index in parts.items()}
    return DetectorData(
        frames["train"], frames["selection"], report, fingerprint(phase1_keys(corpus), corpus["label"])
    )


def encode(tokenizer, texts: list[str], labels: np.ndarray | None, max_length: int) -> list[dict[str, Any]]:
    """Rows for the Trainer (and for :func:`predict`): token ids, unpadded; the collator pads per batch."""
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    rows = [
        {"input_ids": ids, "attention_mask": mask}
        for ids, mask in zip(encoded["input_ids"], encoded["attention_mask"], strict=True)
    ]
    if labels is not None:
        for row, label in zip(rows, labels, strict=True):
            row["labels"] = float(label)
    return rows


def loss_fn(pos_weight: float):
    """Phase 1's loss on whole sentences: BCE with the positives up-weighted by negatives / positives."""

    def compute(model, inputs):
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
        logits = outputs.logits.squeeze(-1)
        weight = torch.tensor(pos_weight, device=logits.device, dtype=logits.dtype)
        target = inputs["labels"].to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, target, pos_weight=weight), outputs

    return compute


@torch.no_grad()
def predict(model, tokenizer, texts: list[str], max_length: int, batch_size: int = 64) -> np.ndarray:
    """P(hateful) of each whole text (sigmoid of the one logit), in order."""
    model.eval()
    collate = DataCollatorWithPadding(tokenizer)
    device = next(model.parameters()).device
    rows = encode(tokenizer, texts, None, max_length)
    out = []
    for start in tqdm(range(0, len(rows), batch_size), desc="detector", leave=False):
        batch = {k: v.to(device) for k, v in collate(rows[start : start + batch_size]).items()}
        out.append(torch.sigmoid(model(**batch).logits.squeeze(-1)).float().cpu().numpy())
    return np.concatenate(out) if out else np.empty(0)


@dataclass
class Detector:
    """A trained (or reloaded) detector: the model, its tokenizer and what ``detector.json`` holds."""

    model: Any
    tokenizer: Any
    stats: dict[str, Any]

    @property
    def threshold(self) -> float:
        return float(self.stats["threshold"])

    def score(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        return predict(self.model, self.tokenizer, texts, int(self.stats["max_length"]), batch_size)


def new_detector_model(model_id: str):
    """The encoder with a new one-logit head. Raises when the checkpoint left any encoder weight random."""
    # transformers logs a load report naming the folder's absolute path for the new head; the check below
    # says the same and raises, so the report is silenced rather than published (as for the dual head).
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            resolve_model_dir(model_id), num_labels=1, output_loading_info=True
        )
    finally:
        hf_logging.set_verbosity(verbosity)
    not_loaded = [k for k in info["missing_keys"] if not k.startswith("classifier.")]
    if not_loaded:
        raise EncoderWeightsNotLoadedError(
            f"{model_id}: the checkpoint does not provide the encoder weights {not_loaded[:5]}"
        )
    return model


def train_detector(profile: Profile, data: DetectorData) -> Detector:
    """Fine-tune the profile's encoder on ``data.train`` (whole sentences) and tune the threshold on
    ``data.selection``; save both to :func:`detector_dir`."""
    settings = profile.detector
    for name, frame in (("train", data.train), ("selection", data.selection)):
        if frame["label"].nunique() < 2:
            raise ValueError(
                f"the detector's {name} split holds {len(frame)} sentences of one class only: no model or "
                "threshold can be fitted; raise detector.max_rows_per_source or detector.selection_fraction"
            )
    start = time.perf_counter()
    seed_everything(profile.seed)
    tokenizer = load_tokenizer(profile.models.encoder)
    model = new_detector_model(profile.models.encoder)
    model.to(profile.torch_device)
    labels = data.train["label"].to_numpy(dtype=np.float32)
    pos_weight = float(pos_weight_from_labels(labels.reshape(-1, 1))[0])
    rows = encode(tokenizer, data.train["text"].tolist(), labels, settings.max_length)
    on_cpu = profile.torch_device.type == "cpu"
    steps = int(np.ceil(len(rows) / settings.batch_size) * np.ceil(settings.epochs))
    folder = detector_dir(profile)
    train_settings = TrainSettings(
        output_dir=folder.parent / "_trainer",
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.lr,
        head_lr=settings.head_lr,
        seed=profile.seed,
        logging_steps=max(1, steps // 25),
        use_cpu=on_cpu,
        precision=mixed_precision(on_cpu),
    )
    collator = DataCollatorWithPadding(tokenizer)
    model, history = train(model, rows, loss_fn(pos_weight), train_settings, None, collator)
    train_seconds = time.perf_counter() - start
    selection_labels = data.selection["label"].to_numpy(dtype=int)
    selection_scores = predict(model, tokenizer, data.selection["text"].tolist(), settings.max_length)
    threshold = best_f1_threshold(selection_labels, selection_scores)
    stats = {
        "model_id": profile.models.encoder,
        "settings": asdict(settings),
        "fingerprint": data.fingerprint,
        "threshold": float(threshold),
        "threshold_source": f"tuned for F1 on its own selection split ({len(selection_labels):,} sentences)",
        "max_length": settings.max_length,
        "pos_weight": pos_weight,
        "train_sentences": len(data.train),
        "train_sentences_by_source": {k: int(v) for k, v in data.train["source"].value_counts().items()},
        "train_positive_share": float(labels.mean()),
        "selection_sentences": len(selection_labels),
        "selection_auc": roc_auc(selection_labels, selection_scores),
        "selection_f1": float(f1_score(selection_labels, selection_scores >= threshold)),
        "selection_auc_by_source": {
            source: roc_auc(selection_labels[part.index], selection_scores[part.index])
            for source, part in data.selection.groupby("source")  # sorted by source; index is 0..n-1
        },
        "final_train_loss": float(history["loss"].dropna().iloc[-1]) if "loss" in history else None,
        "corpus": data.report,
        "train_seconds": train_seconds,
        "seconds": time.perf_counter() - start,
    }
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / STATS_FILE).write_text(json.dumps(stats, indent=1, default=str))
    return Detector(model, tokenizer, stats)


def load_or_train_detector(profile: Profile) -> Detector:
    """The saved detector when its settings, encoder and corpus are the profile's; else a new one."""
    data = load_detector_data(profile)
    folder = detector_dir(profile)
    stats_path = folder / STATS_FILE
    if stats_path.exists():
        stats = json.loads(stats_path.read_text())
        same = (
            stats.get("settings") == json.loads(json.dumps(asdict(profile.detector)))
            and stats.get("model_id") == profile.models.encoder
            and stats.get("fingerprint") == data.fingerprint
        )
        if same:
            model = AutoModelForSequenceClassification.from_pretrained(folder).to(profile.torch_device)
            return Detector(model, load_tokenizer(str(folder)), stats)
    return train_detector(profile, data)


__all__ = [
    "Detector",
    "DetectorData",
    "detector_dir",
    "load_detector_data",
    "load_or_train_detector",
    "predict",
]
