"""The focal gamma x alpha grid of the identity head (notebook 05): every cell trained with its own focal
loss, in one of three modes (``profile.dualhead.grid.mode``):

* ``top_layers`` (smoke / cpu): the top encoder layers and both heads from the pretrained weights, on
  lower-layer states computed once (:mod:`.top_layers`), at notebook 04's lambda;
* ``finetune`` (gpu / full): a whole DualHeadBert fine-tuned per cell, at notebook 04's lambda;
* ``cached_features``: a linear probe, a fresh head_i on pooled features of a frozen encoder (cheapest; the
  cells cannot change the encoder).

:func:`run_focal_grid` returns a :class:`GridRun` (the cells in memory: per-cell scores and test
probabilities); :meth:`GridRun.result` makes the :class:`~hatespeech.dualhead.results.GridResult` that
notebook 05 writes into ``dualhead.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import Dataset
from torch import nn
from tqdm.auto import tqdm

from .. import paths
from ..config import GRID_MODES
from ..data.dualhead import SPLITS, DualHeadSplits, load_or_make_splits
from ..losses import focal_loss_with_logits, labels_and_mask
from ..metrics import classification as cls
from ..models.backbones import load_tokenizer, resolve_model_dir
from ..models.dualhead import DualHeadBert, from_encoder
from ..results import ResultShapeError
from ..runtime import seed_everything
from ..train import TrainSettings, train
from .batches import tokenize_splits
from .evaluation import predict
from .results import DualHeadResult, GridResult
from .top_layers import cache_splits, cell_rates, train_cell
from .training import experiment_dir, fit, uids_digest

GRID_SELECTED_ON = "validation identity macro-F1 (val-tuned thresholds)"


class FeatureHead(nn.Module):
    """head_i alone (dropout + linear), trained on cached pooled features in the grid's cheap mode."""

    def __init__(self, hidden: int, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.head_i = nn.Linear(hidden, num_labels)

    def forward(self, features, **unused):
        return self.head_i(self.dropout(features))


def notebook04_lambda(profile) -> tuple[float, str]:
    """The focal weight lambda notebook 04 picked on validation for this profile, else the profile's
    ``focal_lambda``; and a phrase that says which."""
    try:
        result = DualHeadResult.read()
    except ResultShapeError:  # an older file: fall back, and say so
        result = None
    choice = result.focal_lambda_choice if result is not None else None
    if choice is not None and result.profile == profile.name and choice.picked is not None:
        return float(choice.picked), "picked on validation in notebook 04"
    return float(profile.dualhead.focal_lambda), "the profile's focal_lambda (no notebook-04 choice found)"


def _grid_checkpoint(profile, splits: DualHeadSplits) -> Path | None:
    """Notebook 04's saved joint model when it was trained on this split manifest's train rows."""
    folder = experiment_dir(profile) / "joint_model"
    run_file = folder / "dualhead_run.json"
    if run_file.exists():
        run = json.loads(run_file.read_text())
        if run.get("train_uids_sha") == uids_digest(splits.frame("train")["uid"]):
            return folder
    return None


def encoder_for_grid(profile, splits: DualHeadSplits) -> tuple[DualHeadBert, str]:
    """The fine-tuned joint model of notebook 04 when it was trained on this manifest, else the pretrained
    encoder (heads untouched); the string says which."""
    folder = _grid_checkpoint(profile, splits)
    if folder is not None:
        return DualHeadBert.from_pretrained(
            folder
        ), f"fine-tuned joint encoder of notebook 04 ({paths.shown(folder)})"
    model = from_encoder(
        resolve_model_dir(profile.models.encoder),
        label_names_n=splits.label_names_n,
        label_names_i=splits.label_names_i,
    )
    return model, f"pretrained {profile.models.encoder} (no matching notebook-04 checkpoint)"


def cached_features(
    profile, splits: DualHeadSplits, datasets: dict[str, Any], tokenizer, rebuild: bool = False
) -> tuple[dict[str, np.ndarray], str, float]:
    """Pooled features of train/val/test from the frozen encoder, cached under artifacts; returns
    (features per split, encoder description, seconds spent encoding (0 when read from the cache))."""
    model, source = encoder_for_grid(profile, splits)
    checkpoint = _grid_checkpoint(profile, splits)
    # a re-run of notebook 04 rewrites the checkpoint: its file times are part of the cache key
    stamps = (
        [str(f.stat().st_mtime_ns) for f in sorted(checkpoint.glob("*.safetensors"))] if checkpoint else []
    )
    key = uids_digest([source, *stamps] + [u for s in SPLITS for u in datasets[s]["uid"]])
    cache = experiment_dir(profile) / f"grid_features_{key}.npz"
    if cache.exists() and not rebuild:
        with np.load(cache) as stored:
            return {s: stored[s] for s in SPLITS}, source, 0.0
    start = time.perf_counter()
    features = {
        s: predict(model, datasets[s], tokenizer, profile, return_features=True, desc=f"encode {s}").features
        for s in SPLITS
    }
    for stale in cache.parent.glob("grid_features_*.npz"):  # caches of older checkpoints / splits
        stale.unlink()
    np.savez(cache, **features)
    return features, source, time.perf_counter() - start


def _feature_dataset(features: np.ndarray, labels_i: np.ndarray):
    annotated = ~np.isnan(labels_i).all(axis=1)  # rows with no identity label contribute nothing
    targets, mask = labels_and_mask(labels_i[annotated])
    return Dataset.from_dict(
        {"features": features[annotated].tolist(), "labels_i": targets.tolist(), "mask_i": mask.tolist()}
    ).with_format("torch")


def train_feature_head(
    profile,
    features: np.ndarray,
    labels_i: np.ndarray,
    gamma: float,
    alpha: float,
    run_name: str,
    val_features: np.ndarray | None = None,
    val_labels_i: np.ndarray | None = None,
) -> tuple[FeatureHead, float]:
    """Train a fresh head_i on cached features with focal(gamma, alpha) (masked), same seed for every cell.

    No evaluation runs during training (the cells are compared afterwards on validation F1); the validation
    features, when given, only feed the Trainer's eval loss in its log.
    """
    cfg = profile.dualhead
    data = _feature_dataset(features, labels_i)
    eval_data = None if val_features is None else _feature_dataset(val_features, val_labels_i)
    seed_everything(profile.seed)
    head = FeatureHead(features.shape[1], labels_i.shape[1])

    def loss_fn(model, inputs):
        logits = model(inputs["features"])
        return focal_loss_with_logits(logits, inputs["labels_i"], gamma, alpha, inputs["mask_i"]), logits

    settings = TrainSettings(
        output_dir=experiment_dir(profile) / "trainer" / run_name,
        epochs=cfg.grid.epochs,
        batch_size=cfg.grid.batch_size,
        lr=cfg.grid.lr,
        weight_decay=0.0,
        seed=profile.seed,
        # 16 cells: keep the notebook quiet (no per-step logs, no per-epoch evaluation)
        logging_steps=10**6,
        eval_steps=10**6,
        use_cpu=True,
        disable_tqdm=True,
    )
    start = time.perf_counter()
    head, _ = train(head, data, loss_fn, settings, eval_dataset=eval_data)
    head.eval()
    return head, time.perf_counter() - start


@torch.no_grad()
def head_probs(head: FeatureHead, features: np.ndarray) -> np.ndarray:
    head.eval().cpu()
    return torch.sigmoid(head(torch.as_tensor(features, dtype=torch.float32))).numpy()


@dataclass
class GridRun:
    """The grid as run, in memory (its JSON form is :meth:`result`)."""

    table: pd.DataFrame  # one row per cell: gamma, alpha, val_macro_f1, test_macro_f1, ... seconds
    test_probs: dict[tuple[float, float], np.ndarray]
    mode: str
    encoder: str
    encode_seconds: float
    trained: str = ""  # what each cell trained, in words (layers, rows, epochs, rates, loss)
    settings: dict[str, Any] | None = None  # the same as numbers
    # Set by :func:`run_grid`: what :meth:`result` needs when called without arguments.
    profile: Any = None
    splits: DualHeadSplits | None = None
    seconds: float = 0.0

    def pick(self) -> pd.Series:
        """The cell with the best validation identity macro-F1 (ties: first in grid order)."""
        return self.table.loc[self.table["val_macro_f1"].idxmax()]

    def differences(self) -> dict[str, Any]:
        """Do the cells make different predictions? Smallest pairwise max |p - q| over cells' test
        probabilities, and how many distinct sets of 0.5-thresholded test predictions there are."""
        keys = list(self.test_probs)
        diffs = [
            float(np.abs(self.test_probs[a] - self.test_probs[b]).max())
            for i, a in enumerate(keys)
            for b in keys[i + 1 :]
        ]
        distinct = {(self.test_probs[k] >= 0.5).tobytes() for k in keys}
        return {
            "n_cells": len(keys),
            "min_pairwise_max_abs_prob_diff": min(diffs) if diffs else None,
            "n_distinct_prediction_sets_at_0.5": len(distinct),
            "all_cells_differ": bool(diffs) and min(diffs) > 0,
        }

    def to_json(self) -> list[dict[str, Any]]:
        """The ``grid`` field: one dict per cell (the table's columns; NaN as None)."""
        return [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in self.table.to_dict(orient="records")
        ]

    def pick_json(self) -> dict[str, Any]:
        """The ``grid_pick`` field: the cell of :meth:`pick`, its two scores and what it was picked on."""
        pick = self.pick()
        return {
            "gamma": float(pick["gamma"]),
            "alpha": float(pick["alpha"]),
            "val_macro_f1": float(pick["val_macro_f1"]),
            "test_macro_f1": float(pick["test_macro_f1"]),
            "selected_on": GRID_SELECTED_ON,
        }

    def result(
        self, profile=None, splits: DualHeadSplits | None = None, notebook_seconds: float | None = None
    ) -> GridResult:
        """What notebook 05 writes: the cells, the pick, and how the grid ran (``grid_info``); the profile,
        splits and seconds default to those :func:`run_grid` kept."""
        profile = profile or self.profile
        splits = splits or self.splits
        notebook_seconds = self.seconds if notebook_seconds is None else notebook_seconds
        cfg = profile.dualhead
        return GridResult(
            profile=profile.name,
            wall_seconds={"05_focal_grid": notebook_seconds},
            grid=self.to_json(),
            grid_pick=self.pick_json(),
            grid_info={
                "mode": self.mode,
                "encoder": self.encoder,
                "each_cell_trained": self.trained,
                "cell_settings": self.settings or {},
                "encode_seconds": self.encode_seconds,
                "head_epochs": cfg.grid.epochs,
                "head_lr": (self.settings or {}).get("head_lr", cfg.grid.lr),
                "n_train_rows_identity": int((~pd.isna(splits.labels("train", "i"))).any(axis=1).sum()),
                "cells_differ": self.differences(),
                "notebook_seconds": notebook_seconds,
            },
        )


def run_grid(profile) -> GridRun:
    """Notebook 05 end to end: notebook 04's split manifest, the profile's encoder and tokenizer, and
    :func:`run_focal_grid` over every (gamma, alpha) cell of ``profile.dualhead.grid``."""
    start = time.perf_counter()
    splits = load_or_make_splits(profile)  # the same manifest as notebook 04
    tokenizer = load_tokenizer(profile.models.encoder)
    grid = run_focal_grid(profile, splits, tokenize_splits(splits, tokenizer, profile), tokenizer)
    grid.profile, grid.splits, grid.seconds = profile, splits, time.perf_counter() - start
    return grid


def run_focal_grid(
    profile,
    splits: DualHeadSplits,
    datasets: dict[str, Any],
    tokenizer,
    gammas: Sequence[float] | None = None,
    alphas: Sequence[float] | None = None,
    mode: str | None = None,
) -> GridRun:
    """Train every (gamma, alpha) cell with its own focal loss and score identity macro-F1 (val-tuned
    thresholds) on val and test (and head_n's macro-F1 where the cell trains head_n too).

    ``mode`` (default ``profile.dualhead.grid.mode``): see the module docstring. Every cell starts from the
    same weights and seed, so its focal loss is the only difference.
    """
    cfg = profile.dualhead
    gammas = list(cfg.grid.gammas if gammas is None else gammas)
    alphas = list(cfg.grid.alphas if alphas is None else alphas)
    mode = mode or cfg.grid.mode
    if mode not in GRID_MODES:
        raise ValueError(f"dualhead.grid.mode must be one of {GRID_MODES}, not {mode!r}")
    names = splits.label_names_i
    y = {s: splits.labels(s, "i") for s in SPLITS}
    y_n = {s: splits.labels(s, "n") for s in SPLITS}
    encode_seconds, encoder = 0.0, f"pretrained {profile.models.encoder}"
    focal_lambda, lambda_source = notebook04_lambda(profile)
    n_train_rows = len(splits.frame("train"))
    if mode == "cached_features":
        features, encoder, encode_seconds = cached_features(profile, splits, datasets, tokenizer)
        settings = {
            "trainable": "head_i",
            "epochs": cfg.grid.epochs,
            "head_lr": cfg.grid.lr,
            "rows": n_train_rows,
        }
        trained = (
            f"a fresh head_i only (a linear probe on frozen pooled features of the {encoder}), "
            f"{cfg.grid.epochs:g} epochs at lr {cfg.grid.lr:g} on the {n_train_rows} train rows; the encoder "
            "and head_n do not change between cells"
        )
    else:
        if mode == "top_layers":
            cached = cache_splits(
                profile, splits, datasets, tokenizer, cfg.grid.trainable_layers, cfg.grid.max_train_rows
            )
            encode_seconds, n_total = cached.seconds, cached.n_lower + cached.n_top
            layers = f"top {cached.n_top} of {n_total} encoder layers"
            named = f"the {layers}"
            frozen = f" (the lower {cached.n_lower} pretrained and frozen, their states computed once)"
            layer_lr, head_lr, rows = *cell_rates(cfg), cached.n_train()
        else:  # finetune: the joint model's own training per cell
            layers = named = "every encoder layer"
            frozen = ""
            layer_lr, head_lr, rows = cfg.lr, cfg.head_lr or cfg.lr, n_train_rows
        settings = {
            "trainable": f"{layers} + head_n + head_i",
            "epochs": cfg.grid.epochs,
            "lr": layer_lr,
            "head_lr": head_lr,
            "rows": rows,
            "focal_lambda": focal_lambda,
        }
        trained = (
            f"{named} and both heads, from the pretrained weights{frozen}, {cfg.grid.epochs:g} epoch(s) on "
            f"{rows} train rows, lr {layer_lr:g} (heads {head_lr:g}), loss BCE(head_n) + lambda "
            f"{focal_lambda:g} x focal(head_i; gamma, alpha) with lambda {lambda_source}"
        )
    rows, test_probs = [], {}
    cells = [(g, a) for g in gammas for a in alphas]
    for gamma, alpha in tqdm(cells, desc="focal grid"):
        name = f"grid_g{gamma:g}_a{alpha:g}"
        probs_n = None
        if mode == "cached_features":
            head, seconds = train_feature_head(
                profile, features["train"], y["train"], gamma, alpha, name, features["val"], y["val"]
            )
            probs = {s: head_probs(head, features[s]) for s in ("val", "test")}
        elif mode == "top_layers":
            both, seconds = train_cell(profile, splits, cached, gamma, alpha, focal_lambda, name)
            probs = {s: both[s][1] for s in ("val", "test")}
            probs_n = {s: both[s][0] for s in ("val", "test")}
        else:
            trained_model = fit(
                profile,
                splits,
                datasets,
                tokenizer,
                heads="both",
                gamma=gamma,
                alpha=alpha,
                epochs=cfg.grid.epochs,
                run_name=name,
                focal_lambda=focal_lambda,
            )
            seconds = trained_model.train_seconds
            preds = {
                s: predict(trained_model.model, datasets[s], tokenizer, profile) for s in ("val", "test")
            }
            probs = {s: preds[s].probs_i for s in ("val", "test")}
            probs_n = {s: preds[s].probs_n for s in ("val", "test")}
        report = cls.head_report(y["val"], probs["val"], y["test"], probs["test"], names)
        row = {
            "gamma": gamma,
            "alpha": alpha,
            "val_macro_f1": report["val_macro_f1"],
            "test_macro_f1": report["macro_f1"],
            "test_macro_f1_at_0.5": report["macro_f1_at_0.5"],
        }
        if probs_n is not None:
            report_n = cls.head_report(
                y_n["val"], probs_n["val"], y_n["test"], probs_n["test"], splits.label_names_n
            )
            row.update(val_macro_f1_n=report_n["val_macro_f1"], test_macro_f1_n=report_n["macro_f1"])
        rows.append({**row, "train_seconds": seconds})
        test_probs[(gamma, alpha)] = probs["test"]
    return GridRun(pd.DataFrame(rows), test_probs, mode, encoder, encode_seconds, trained, settings)
