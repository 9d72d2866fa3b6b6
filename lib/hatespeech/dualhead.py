"""The dual-head experiment: train DualHeadBert (and the seed's two single-head models), predict, evaluate,
bias metrics, and the focal gamma x alpha grid. Notebooks 04 and 05 call these functions.

Typical use (what notebook 04 does)::

    profile = get_profile("cpu")
    splits = load_or_make_splits(profile)                 # hatespeech.data.dualhead
    tokenizer = load_tokenizer(profile.models.encoder)
    datasets = tokenize_splits(splits, tokenizer, profile)
    joint = fit(profile, splits, datasets, heads="both")  # one encoder, both heads, joint masked loss
    preds = {s: predict(joint.model, datasets[s], tokenizer, profile) for s in ("val", "test")}
    reports = evaluate(splits, preds)                     # thresholds tuned on val, test at 0.5 and tuned
    bias = bias_of(splits, preds["test"], profile)

Training rows: the joint model trains on every train row (a row contributes to each head only through the
labels its source annotates). A single-head model trains on the rows that annotate at least one of its
labels (the others would contribute exactly zero loss), so the two separate models together see the same
labels as the joint one.
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
from torch import nn

from . import paths
from .config import resolve_device
from .data.dualhead import SPLITS, DualHeadSplits
from .data.dualhead_labels import BIAS_TOXICITY
from .losses import focal_loss_with_logits, labels_and_mask, pos_weight_from_labels
from .metrics import bias as bias_metrics
from .metrics import classification as cls
from .models.dualhead import DualHeadBert, from_encoder

TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids")
LABEL_KEYS = ("labels_n", "mask_n", "labels_i", "mask_i")
EPOCH_EVAL_ROWS = 500  # validation rows behind the Trainer's per-epoch eval loss


def experiment_dir(profile) -> Path:
    path = paths.artifacts_dir() / profile.name / "dualhead"
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------------- data
def tokenized_dataset(
    frame: pd.DataFrame, tokenizer, names_n: Sequence[str], names_i: Sequence[str], max_length: int
):
    """A ``datasets.Dataset`` with token ids and, per head, 0/1 targets and a 0/1 annotation mask."""
    from datasets import Dataset

    targets_n, mask_n = labels_and_mask(frame[list(names_n)].to_numpy(dtype=np.float32))
    targets_i, mask_i = labels_and_mask(frame[list(names_i)].to_numpy(dtype=np.float32))
    encoded = tokenizer(list(frame["text"]), truncation=True, max_length=max_length)
    columns = {k: encoded[k] for k in TOKEN_KEYS if k in encoded}
    columns.update(
        uid=list(frame["uid"]),
        labels_n=targets_n.tolist(),
        mask_n=mask_n.tolist(),
        labels_i=targets_i.tolist(),
        mask_i=mask_i.tolist(),
    )
    return Dataset.from_dict(columns)


def tokenize_splits(splits: DualHeadSplits, tokenizer, profile) -> dict[str, Any]:
    """Tokenized train / val / test (the rows this profile uses)."""
    return {
        split: tokenized_dataset(
            splits.frame(split),
            tokenizer,
            splits.label_names_n,
            splits.label_names_i,
            profile.dualhead.max_length,
        )
        for split in SPLITS
    }


class DualHeadCollator:
    """Pads token ids with the tokenizer; stacks label / mask vectors as float tensors; drops other
    columns."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        tokens = [{k: f[k] for k in TOKEN_KEYS if k in f} for f in features]
        batch = dict(self.tokenizer.pad(tokens, return_tensors="pt"))
        for key in LABEL_KEYS:
            if key in features[0]:
                batch[key] = torch.tensor([f[key] for f in features], dtype=torch.float32)
        return batch


# ----------------------------------------------------------------------------------------------- training
@dataclass
class TrainedModel:
    model: DualHeadBert
    history: pd.DataFrame
    heads: str
    train_seconds: float
    n_train: int
    epochs: float
    train_cpu_seconds: float = float(
        "nan"
    )  # process CPU time (all threads): less sensitive to a shared machine

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
    from .models.backbones import resolve_model_dir

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
    from .config import seed_everything
    from .train import TrainSettings, train

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
        use_cpu=resolve_device(profile).type == "cpu",
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    model, history = train(
        model,
        train_rows,
        _model_loss,
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


def _model_loss(model, inputs):
    outputs = model(**inputs)
    return outputs.loss, outputs


def save_model(trained: TrainedModel, tokenizer, folder: Path, splits: DualHeadSplits) -> Path:
    """save_pretrained + tokenizer + which split manifest it was trained on (notebook 05 checks it)."""
    folder.mkdir(parents=True, exist_ok=True)
    trained.model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "dualhead_run.json").write_text(
        json.dumps(
            {
                "manifest": paths.shown(splits.path) if splits.path else None,
                "train_uids_sha": _uids_digest(splits.frame("train")["uid"]),
                "heads": trained.heads,
                "train_seconds": trained.train_seconds,
                "n_train": trained.n_train,
            },
            indent=2,
        )
    )
    return folder


def _uids_digest(uids: Sequence[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(uids).encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------- prediction
@dataclass
class Predictions:
    uids: list[str]
    probs_n: np.ndarray | None
    probs_i: np.ndarray | None
    features: np.ndarray | None
    seconds: float


@torch.no_grad()
def predict(
    model: DualHeadBert,
    dataset,
    tokenizer,
    profile,
    return_features: bool = False,
    batch_size: int | None = None,
    desc: str = "predict",
) -> Predictions:
    """Sigmoid probabilities of both heads (and optionally the pooled features) for every row of a dataset."""
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    device = resolve_device(profile)
    model.to(device).eval()
    loader = DataLoader(
        dataset,
        batch_size=batch_size or profile.dualhead.batch_size * 2,
        shuffle=False,
        collate_fn=DualHeadCollator(tokenizer),
    )
    probs_n, probs_i, features = [], [], []
    start = time.perf_counter()
    for batch in tqdm(loader, desc=desc, leave=False):
        inputs = {k: v.to(device) for k, v in batch.items() if k in TOKEN_KEYS}
        out = model(**inputs, return_features=return_features)
        if out.logits_n is not None:
            probs_n.append(torch.sigmoid(out.logits_n).cpu().numpy())
        if out.logits_i is not None:
            probs_i.append(torch.sigmoid(out.logits_i).cpu().numpy())
        if return_features:
            features.append(out.features.cpu().numpy())
    return Predictions(
        list(dataset["uid"]),
        np.concatenate(probs_n) if probs_n else None,
        np.concatenate(probs_i) if probs_i else None,
        np.concatenate(features) if features else None,
        time.perf_counter() - start,
    )


# ---------------------------------------------------------------------------------------------- evaluation
def evaluate(splits: DualHeadSplits, preds: dict[str, Predictions], heads: str = "both") -> dict[str, dict]:
    """Per head: thresholds tuned on val (the seed's 0.10-0.88 grid), test metrics at 0.5 and tuned."""
    out = {}
    for head in ("n", "i"):
        if heads not in ("both", head):
            continue
        names = splits.label_names_n if head == "n" else splits.label_names_i
        probs = {s: getattr(preds[s], f"probs_{head}") for s in ("val", "test")}
        out[head] = cls.head_report(
            splits.labels("val", head), probs["val"], splits.labels("test", head), probs["test"], names
        )
    return out


def rare_label_confusion(
    splits: DualHeadSplits, preds: Predictions, report: dict, head: str, k: int = 4
) -> pd.DataFrame:
    """Confusion counts (test, tuned thresholds) of the ``k`` labels with the fewest train positives."""
    names = splits.label_names_n if head == "n" else splits.label_names_i
    train_pos = (splits.frame("train")[names] == 1).sum().to_numpy()
    thresholds = [report["thresholds"][n] for n in names]
    return cls.confusion_summary(
        splits.labels("test", head),
        getattr(preds, f"probs_{head}"),
        names,
        thresholds,
        train_positives=train_pos,
        k=k,
    )


def bias_of(splits: DualHeadSplits, preds: Predictions, min_subgroup_size: int = 10) -> dict:
    """The Jigsaw bias metric on the test rows of the bias source (offline: ToxiGen, score = ``toxic``
    probability, subgroups = the 13 target groups; Jigsaw: ``toxicity`` vs the 17 identities)."""
    toxicity_label, source = BIAS_TOXICITY[splits.table.mode]
    if toxicity_label not in splits.label_names_n:
        raise ValueError(
            f"the bias metric needs head_n label {toxicity_label!r}, which was dropped "
            f"({splits.dropped_labels.get(toxicity_label)})"
        )
    test = splits.frame("test")
    rows = ((test["source"] == source) & test[toxicity_label].notna()).to_numpy()
    j = splits.label_names_n.index(toxicity_label)
    report = bias_metrics.bias_report(
        test.loc[rows, toxicity_label].to_numpy(),
        preds.probs_n[rows, j],
        test.loc[rows, splits.label_names_i],
        min_subgroup_size=min_subgroup_size,
    )
    report["toxicity_label"] = toxicity_label
    report["source"] = source
    return report


def comparison_table(
    joint: dict[str, dict], separate: dict[str, dict], times: dict[str, float]
) -> pd.DataFrame:
    """Shared encoder vs two separate models: macro-F1 per head (tuned and at 0.5) and training time."""
    rows = []
    for setup, reports, seconds in (
        ("shared encoder (DualHeadBert)", joint, times["joint"]),
        ("two separate models", separate, times["separate_n"] + times["separate_i"]),
    ):
        rows.append(
            {
                "setup": setup,
                "head_n macro-F1 (tuned)": reports["n"]["macro_f1"],
                "head_i macro-F1 (tuned)": reports["i"]["macro_f1"],
                "head_n macro-F1 @0.5": reports["n"]["macro_f1_at_0.5"],
                "head_i macro-F1 @0.5": reports["i"]["macro_f1_at_0.5"],
                "train seconds": seconds,
            }
        )
    return pd.DataFrame(rows).set_index("setup")


def separate_json(
    joint: dict[str, dict], separate: dict[str, dict], times: dict[str, float], n_train: dict[str, int]
) -> dict:
    """``separate_models`` entry: both setups' macro-F1s, times, and a plain verdict."""
    delta_n = separate["n"]["macro_f1"] - joint["n"]["macro_f1"]
    delta_i = separate["i"]["macro_f1"] - joint["i"]["macro_f1"]
    t_joint, t_sep = times["joint"], times["separate_n"] + times["separate_i"]
    verdict = (
        f"shared encoder vs separate models: head_n macro-F1 {joint['n']['macro_f1']:.3f} vs "
        f"{separate['n']['macro_f1']:.3f}, head_i {joint['i']['macro_f1']:.3f} vs "
        f"{separate['i']['macro_f1']:.3f}; training {t_joint:.0f}s vs {t_sep:.0f}s "
        f"({t_sep / max(t_joint, 1e-9):.2f}x). One seed and one split, so differences of a few "
        "points are within run-to-run noise."
    )
    return {
        "head_n": cls.head_json(separate["n"]),
        "head_i": cls.head_json(separate["i"]),
        "macro_f1_delta_separate_minus_shared": {"head_n": delta_n, "head_i": delta_i},
        "train_seconds": {
            "shared": t_joint,
            "separate_n": times["separate_n"],
            "separate_i": times["separate_i"],
            "separate_total": t_sep,
        },
        "n_train_rows": n_train,
        "verdict": verdict,
    }


# --------------------------------------------------------------------------------------------- focal grid
class FeatureHead(nn.Module):
    """head_i alone (dropout + linear), trained on cached pooled features in the grid's cheap mode."""

    def __init__(self, hidden: int, num_labels: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.head_i = nn.Linear(hidden, num_labels)

    def forward(self, features, **unused):
        return self.head_i(self.dropout(features))


def _grid_checkpoint(profile, splits: DualHeadSplits) -> Path | None:
    """Notebook 04's saved joint model when it was trained on this split manifest's train rows."""
    folder = experiment_dir(profile) / "joint_model"
    run_file = folder / "dualhead_run.json"
    if run_file.exists():
        run = json.loads(run_file.read_text())
        if run.get("train_uids_sha") == _uids_digest(splits.frame("train")["uid"]):
            return folder
    return None


def encoder_for_grid(profile, splits: DualHeadSplits) -> tuple[DualHeadBert, str]:
    """The fine-tuned joint model of notebook 04 when it was trained on this manifest, else the pretrained
    encoder (heads untouched); the string says which."""
    from .models.backbones import resolve_model_dir

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
    key = _uids_digest([source, *stamps] + [u for s in SPLITS for u in datasets[s]["uid"]])
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
    from datasets import Dataset

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

    No evaluation runs during training (the cells are compared afterwards on validation F1); an eval set is
    still handed to the Trainer because ``hatespeech.train.train`` builds its arguments with an evaluation
    strategy and the Trainer refuses that without one (the training rows stand in when no val is given).
    """
    from .config import seed_everything
    from .train import TrainSettings, train

    cfg = profile.dualhead
    data = _feature_dataset(features, labels_i)
    eval_data = data if val_features is None else _feature_dataset(val_features, val_labels_i)
    seed_everything(profile.seed)
    head = FeatureHead(features.shape[1], labels_i.shape[1])

    def loss_fn(model, inputs):
        logits = model(inputs["features"])
        return focal_loss_with_logits(logits, inputs["labels_i"], gamma, alpha, inputs["mask_i"]), logits

    settings = TrainSettings(
        output_dir=experiment_dir(profile) / "trainer" / run_name,
        epochs=cfg.grid_epochs,
        batch_size=cfg.grid_batch_size,
        lr=cfg.grid_lr,
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
class GridResult:
    table: pd.DataFrame  # one row per cell: gamma, alpha, val_macro_f1, test_macro_f1, ... seconds
    test_probs: dict[tuple[float, float], np.ndarray]
    mode: str
    encoder: str
    encode_seconds: float

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
        return [
            {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
            for row in self.table.to_dict(orient="records")
        ]


def run_focal_grid(
    profile,
    splits: DualHeadSplits,
    datasets: dict[str, Any],
    tokenizer,
    gammas: Sequence[float] | None = None,
    alphas: Sequence[float] | None = None,
    mode: str | None = None,
) -> GridResult:
    """Train every (gamma, alpha) cell with its own focal loss and score identity macro-F1 (val-tuned
    thresholds) on val and test.

    ``mode="cached_features"``: encode once with the frozen encoder (:func:`encoder_for_grid`), train a fresh
    head_i per cell on the cached features. ``mode="finetune"``: fine-tune a whole DualHeadBert per cell
    (``profile.dualhead.grid_epochs`` epochs), the focal settings being the only difference.
    """
    from tqdm.auto import tqdm

    cfg = profile.dualhead
    gammas = list(cfg.grid_gammas if gammas is None else gammas)
    alphas = list(cfg.grid_alphas if alphas is None else alphas)
    mode = mode or cfg.grid_mode
    if mode not in ("cached_features", "finetune"):
        raise ValueError(f"grid_mode must be 'cached_features' or 'finetune', not {mode!r}")
    names = splits.label_names_i
    y = {s: splits.labels(s, "i") for s in SPLITS}
    encode_seconds, encoder = 0.0, f"{profile.models.encoder} fine-tuned per cell"
    if mode == "cached_features":
        features, encoder, encode_seconds = cached_features(profile, splits, datasets, tokenizer)
    rows, test_probs = [], {}
    cells = [(g, a) for g in gammas for a in alphas]
    for gamma, alpha in tqdm(cells, desc="focal grid"):
        name = f"grid_g{gamma:g}_a{alpha:g}"
        if mode == "cached_features":
            head, seconds = train_feature_head(
                profile, features["train"], y["train"], gamma, alpha, name, features["val"], y["val"]
            )
            probs = {s: head_probs(head, features[s]) for s in ("val", "test")}
        else:
            trained = fit(
                profile,
                splits,
                datasets,
                tokenizer,
                heads="both",
                gamma=gamma,
                alpha=alpha,
                epochs=cfg.grid_epochs,
                run_name=name,
            )
            seconds = trained.train_seconds
            probs = {
                s: predict(trained.model, datasets[s], tokenizer, profile).probs_i for s in ("val", "test")
            }
        report = cls.head_report(y["val"], probs["val"], y["test"], probs["test"], names)
        rows.append(
            {
                "gamma": gamma,
                "alpha": alpha,
                "val_macro_f1": report["val_macro_f1"],
                "test_macro_f1": report["macro_f1"],
                "test_macro_f1_at_0.5": report["macro_f1_at_0.5"],
                "train_seconds": seconds,
            }
        )
        test_probs[(gamma, alpha)] = probs["test"]
    return GridResult(pd.DataFrame(rows), test_probs, mode, encoder, encode_seconds)


# ------------------------------------------------------------------------------------------------- report
def update_metrics(updates: dict[str, Any], profile) -> Path:
    """Merge ``updates`` into ``reports/metrics/dualhead.json`` (both notebooks write parts of it); an
    existing file from another profile is replaced, not merged."""
    from .stamp import write_metrics

    path = paths.metrics_dir() / "dualhead.json"
    body: dict[str, Any] = {}
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except json.JSONDecodeError:
            old = {}
        if old.get("profile") == profile.name:
            body = {k: v for k, v in old.items() if k != "stamp"}
    body.update(updates)
    body.setdefault("grid", [])  # filled by notebook 05
    body["profile"] = profile.name
    return write_metrics("dualhead", body, profile)


def training_json(trained: TrainedModel) -> dict[str, Any]:
    return {
        "heads": trained.heads,
        "train_seconds": trained.train_seconds,
        "train_cpu_seconds": trained.train_cpu_seconds,
        "n_train_rows": trained.n_train,
        "epochs": trained.epochs,
        "examples_per_minute": trained.examples_per_minute,
    }


def dualhead_payload(
    profile,
    splits: DualHeadSplits,
    reports: dict[str, dict],
    separate: dict[str, dict] | None,
    trained: dict[str, TrainedModel],
    bias: dict,
    rare: dict[str, pd.DataFrame],
    timings: dict[str, float],
    lambda_choice: LambdaChoice | None = None,
) -> dict[str, Any]:
    """Everything notebook 04 writes into ``dualhead.json`` (the grid is added by notebook 05).
    ``separate=None`` when the profile skips the two single-head models (``train_separate_models=False``)."""
    from .data.dualhead_labels import label_map_table

    mode = splits.table.mode
    if separate is None:
        separate_entry: dict[str, Any] = {"skipped": "profile.dualhead.train_separate_models is False"}
    else:
        times = {
            "joint": trained["joint"].train_seconds,
            "separate_n": trained["separate_n"].train_seconds,
            "separate_i": trained["separate_i"].train_seconds,
        }
        separate_entry = separate_json(reports, separate, times, {k: v.n_train for k, v in trained.items()})
    return {
        "head_n": cls.head_json(reports["n"]),
        "head_i": cls.head_json(reports["i"]),
        "separate_models": separate_entry,
        "bias": bias_metrics.bias_json(
            bias,
            comparable=mode == "jigsaw",
            data=f"{splits.table.data}, test split, {bias['source']} rows only; "
            f"score = P({bias['toxicity_label']})",
        )
        | {"toxicity_label": bias["toxicity_label"], "source": bias["source"]},
        "rare_label_confusion": {
            f"head_{h}": {
                str(k): {c: (None if pd.isna(v) else v) for c, v in row.items()}
                for k, row in table.iterrows()
            }
            for h, table in rare.items()
        },
        "training": {k: training_json(v) for k, v in trained.items()},
        "timings_seconds": timings,
        "threshold_search": (
            "per label on validation, F1-maximising over 0.10-0.88 step 0.02 (the seed's grid)"
        ),
        "label_map": label_map_table(mode, profile.dualhead.label_threshold).to_dict(orient="records"),
        "model": {
            "encoder": profile.models.encoder,
            "pooling": "mean",
            "max_length": profile.dualhead.max_length,
            "epochs": profile.dualhead.epochs,
            "batch_size": profile.dualhead.batch_size,
            "lr": profile.dualhead.lr,
            "focal_gamma": profile.dualhead.focal_gamma,
            "focal_alpha": profile.dualhead.focal_alpha,
            "focal_lambda": (
                profile.dualhead.focal_lambda if lambda_choice is None else lambda_choice.focal_lambda
            ),
        },
        "focal_lambda_choice": None if lambda_choice is None else lambda_choice.to_json(),
        "data": splits.summary(),
    }
