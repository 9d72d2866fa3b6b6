"""Training DualHeadBert with the shared Trainer loop: a new model on the profile's encoder, one fit (joint or
one head), the joint model once per focal weight lambda keeping the best on validation, and saving it.

Training rows: the joint model trains on every train row (a row contributes to each head only through the
labels its source annotates). A single-head model trains on the rows that annotate at least one of its
labels (the others would contribute exactly zero loss), so the two separate models together see the same
labels as the joint one.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .. import paths
from ..data.dualhead import DualHeadSplits
from ..losses import pos_weight_from_labels
from ..models.backbones import resolve_model_dir
from ..models.dualhead import DualHeadBert, from_encoder
from ..runtime import seed_everything
from ..train import TrainSettings, mixed_precision, train
from .batches import DualHeadCollator
from .evaluation import Predictions, evaluate, predict

EPOCH_EVAL_ROWS = 500  # validation rows behind the Trainer's per-epoch eval loss


def experiment_dir(profile) -> Path:
    """``artifacts_dir()/<profile>/dualhead``: Trainer outputs, the joint model, the grid's feature cache."""
    path = paths.artifacts_dir() / profile.name / "dualhead"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class TrainedModel:
    model: DualHeadBert
    history: pd.DataFrame
    heads: str
    train_seconds: float
    n_train: int
    epochs: float
    # process CPU time (all threads): less sensitive to a shared machine
    train_cpu_seconds: float = float("nan")

    @property
    def examples_per_minute(self) -> float:
        return 60.0 * self.n_train * self.epochs / max(self.train_seconds, 1e-9)


def new_model(
    profile,
    splits: DualHeadSplits,
    heads: str = "both",
    gamma: float | None = None,
    alpha: float | None = None,
    focal_lambda: float | None = None,
) -> DualHeadBert:
    """A DualHeadBert on the profile's pretrained encoder; BCE pos_weight from the train split's counts."""
    cfg = profile.dualhead
    train_n = splits.labels("train", "n")
    return from_encoder(
        resolve_model_dir(profile.models.encoder),
        label_names_n=splits.label_names_n if heads in ("both", "n") else [],
        label_names_i=splits.label_names_i if heads in ("both", "i") else [],
        heads=heads,
        pos_weight_n=pos_weight_from_labels(train_n).tolist() if heads in ("both", "n") else None,
        focal_gamma=cfg.focal_gamma if gamma is None else gamma,
        focal_alpha=cfg.focal_alpha if alpha is None else alpha,
        focal_lambda=cfg.focal_lambda if focal_lambda is None else focal_lambda,
    )


def rows_for_heads(dataset, heads: str):
    """The rows that carry at least one annotated label of the trained head(s)."""
    if heads == "both":
        return dataset
    key = "mask_n" if heads == "n" else "mask_i"
    keep = [i for i, m in enumerate(dataset[key]) if any(m)]
    return dataset.select(keep)


def fit(
    profile,
    splits: DualHeadSplits,
    datasets: dict[str, Any],
    tokenizer,
    heads: str = "both",
    gamma: float | None = None,
    alpha: float | None = None,
    epochs: float | None = None,
    run_name: str | None = None,
    focal_lambda: float | None = None,
) -> TrainedModel:
    """Fine-tune a new model (encoder + the requested heads) with the Trainer; time it."""
    seed_everything(profile.seed)
    cfg = profile.dualhead
    model = new_model(profile, splits, heads, gamma, alpha, focal_lambda)
    train_rows = rows_for_heads(datasets["train"], heads)
    eval_rows = rows_for_heads(datasets["val"], heads)
    # the per-epoch eval loss is only logged (thresholds and metrics come from predict on all of val)
    eval_rows = eval_rows.select(range(min(len(eval_rows), EPOCH_EVAL_ROWS)))
    epochs = cfg.epochs if epochs is None else epochs
    settings = TrainSettings(
        output_dir=experiment_dir(profile) / "trainer" / (run_name or heads),
        epochs=epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        head_lr=cfg.head_lr,
        seed=profile.seed,
        logging_steps=max(1, len(train_rows) // cfg.batch_size // 10),
        use_cpu=profile.torch_device.type == "cpu",
        precision=mixed_precision(profile.torch_device.type == "cpu"),
        # Texts of similar length per batch: random batches of the cpu profile's train rows carry 2.1x the
        # real tokens as padding, grouped ones 1.02x. Both sources span the same lengths (median 24 tokens
        # each), so grouped batches still mix ToxiGen and OLID.
        group_by_length=cfg.group_by_length,
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    model, history = train(
        model,
        train_rows,
        model_loss,
        settings,
        eval_dataset=eval_rows,
        data_collator=DualHeadCollator(tokenizer),
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    model.eval()
    return TrainedModel(model, history, heads, seconds, len(train_rows), epochs, cpu_seconds)


@dataclass
class LambdaChoice:
    """The joint models of notebook 04, one per focal weight lambda, and the one kept."""

    focal_lambda: float
    trained: TrainedModel
    preds: dict[str, Predictions]
    reports: dict[str, dict]
    table: pd.DataFrame  # one row per lambda: validation and test macro-F1 per head, training seconds
    predict_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "candidates": self.table["lambda"].tolist(),
            "picked": self.focal_lambda,
            "selected_on": "validation macro-F1 averaged over head_n and head_i (val-tuned thresholds)",
            "table": self.table.to_dict(orient="records"),
        }


def fit_joint_choosing_lambda(
    profile,
    splits: DualHeadSplits,
    datasets: dict[str, Any],
    tokenizer,
    candidates: Sequence[float] | None = None,
) -> LambdaChoice:
    """Train the joint model once per lambda (``profile.dualhead.focal_lambda_candidates``) and keep the one
    with the best validation macro-F1 averaged over both heads; ties keep the first candidate.

    Why a choice at all: at alpha = 0.25 and gamma = 2 the focal term is far smaller than the pos-weighted
    BCE, and the shared encoder's optimiser step follows their sum, so at lambda = 1 it barely serves head_i.
    """
    cfg = profile.dualhead
    candidates = tuple(candidates or cfg.focal_lambda_candidates or (cfg.focal_lambda,))
    rows, best, predict_seconds = [], None, 0.0
    for lam in candidates:
        trained = fit(
            profile,
            splits,
            datasets,
            tokenizer,
            heads="both",
            focal_lambda=lam,
            run_name=f"joint_lambda{lam:g}",
        )
        start = time.perf_counter()
        preds = {
            s: predict(trained.model, datasets[s], tokenizer, profile, desc=f"predict {s} (lambda {lam:g})")
            for s in ("val", "test")
        }
        predict_seconds += time.perf_counter() - start
        reports = evaluate(splits, preds)
        val_mean = (reports["n"]["val_macro_f1"] + reports["i"]["val_macro_f1"]) / 2
        rows.append(
            {
                "lambda": float(lam),
                "val_macro_f1_n": reports["n"]["val_macro_f1"],
                "val_macro_f1_i": reports["i"]["val_macro_f1"],
                "val_macro_f1_mean": val_mean,
                "test_macro_f1_n": reports["n"]["macro_f1"],
                "test_macro_f1_i": reports["i"]["macro_f1"],
                "train_seconds": trained.train_seconds,
            }
        )
        if best is None or val_mean > best[0]:
            best = (val_mean, float(lam), trained, preds, reports)
    _, lam, trained, preds, reports = best
    return LambdaChoice(lam, trained, preds, reports, pd.DataFrame(rows), predict_seconds)


def model_loss(model, inputs):
    """The loss :func:`hatespeech.train.train` minimises: the model's own (both heads', lambda-weighted)."""
    outputs = model(**inputs)
    return outputs.loss, outputs


def save_model(
    trained: TrainedModel, tokenizer, folder: Path, splits: DualHeadSplits, max_length: int | None = None
) -> Path:
    """save_pretrained + tokenizer + which split manifest it was trained on (notebook 05 checks it) and the
    ``max_length`` its texts were cut to (the scorer cuts the same way)."""
    folder.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "dualhead_run.json").write_text(
        json.dumps(
            {
                "manifest": paths.shown(splits.path) if splits.path else None,
                "train_uids_sha": uids_digest(splits.frame("train")["uid"]),
                "heads": trained.heads,
                "train_seconds": trained.train_seconds,
                "n_train": trained.n_train,
                "max_length": max_length,
            },
            indent=2,
        )
    )
    return folder


def uids_digest(uids: Sequence[str]) -> str:
    """A short digest of a list of row ids (which rows a model was trained on)."""
    return hashlib.sha256("\n".join(uids).encode()).hexdigest()[:16]
