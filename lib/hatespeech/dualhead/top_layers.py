"""The focal grid's cpu mode (``grid.mode="top_layers"``): every gamma x alpha cell trains the top encoder
layers and both heads, from the pretrained weights, with its own focal loss, on lower-layer states computed
once.

Why by hand: transformers cannot start a BertModel's forward at layer k. The lower layers stay pretrained
and frozen, so they compute the same states in every cell: :func:`lower_states` runs them once per split
(the encoder's layer list cut to its lower part for that pass). Each cell then builds a DualHeadBert whose
encoder keeps only the top layers and whose embedding module hands the cached states through
(:class:`StatesIn`), so BERT's attention masks, the pooling, both heads and the joint loss all run through the
model's own forward and the shared Trainer loop. Exact: a test checks that lower states fed to the top model
give the pretrained model's pooled features.

So a cell changes the encoder (its top layers) the way the joint model of notebook 04 does, at a cpu cost of
about ``n_top / n_layers`` of full fine-tuning; the lower layers and the row count are what it gives up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data.dualhead import DualHeadSplits
from ..models.dualhead import DualHeadBert
from ..runtime import seed_everything
from ..train import TrainSettings, mixed_precision, train
from .batches import LABEL_KEYS, TOKEN_KEYS, DualHeadCollator
from .training import experiment_dir, model_loss, new_model


class StatesIn(nn.Module):
    """Stands in for BertEmbeddings in a top-layer cell: the cached lower-layer states arrive as
    ``inputs_embeds`` and go on unchanged."""

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, **unused):
        return inputs_embeds


def cell_rates(cfg) -> tuple[float, float]:
    """(encoder-layer lr, head lr) of a grid cell: the grid's own rates, else the joint model's."""
    return cfg.grid.encoder_lr or cfg.lr, cfg.grid.head_lr or cfg.head_lr or cfg.lr


def n_layers(model: DualHeadBert) -> int:
    return len(model.bert.encoder.layer)


@torch.no_grad()
def lower_states(
    model: DualHeadBert, dataset, tokenizer, n_lower: int, batch_size: int = 64, desc: str = "lower layers"
) -> list[torch.Tensor]:
    """Per row of ``dataset`` (in order), the output of the embeddings and the first ``n_lower`` encoder
    layers at the row's own length (``[tokens, hidden]``)."""
    model.eval()
    layers = model.bert.encoder.layer
    model.bert.encoder.layer = layers[:n_lower]
    out: list[torch.Tensor] = []
    try:
        loader = DataLoader(
            dataset, batch_size=batch_size, shuffle=False, collate_fn=DualHeadCollator(tokenizer)
        )
        for batch in tqdm(loader, desc=desc, leave=False):
            hidden = model.bert(**{k: batch[k] for k in TOKEN_KEYS if k in batch}).last_hidden_state
            for row, mask in zip(hidden, batch["attention_mask"]):
                out.append(row[: int(mask.sum())].clone())  # right-padded rows
    finally:
        model.bert.encoder.layer = layers
    return out


def top_model(model: DualHeadBert, n_top: int) -> DualHeadBert:
    """``model`` (in place) reduced to its top ``n_top`` encoder layers, pooling and heads, reading cached
    lower-layer states as ``inputs_embeds``."""
    if not 1 <= n_top <= n_layers(model):
        raise ValueError(f"n_top must be between 1 and {n_layers(model)} (the encoder's layers), not {n_top}")
    model.bert.encoder.layer = model.bert.encoder.layer[-n_top:]
    model.bert.embeddings = StatesIn()
    model.config.num_hidden_layers = n_top
    return model


class StatesCollator:
    """Pads cached states (right) into ``inputs_embeds`` with their attention mask; stacks labels / masks."""

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        states = [f["inputs_embeds"] for f in features]
        lengths = torch.tensor([s.shape[0] for s in states])
        batch = {
            "inputs_embeds": pad_sequence(states, batch_first=True),
            "attention_mask": (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).long(),
        }
        for key in LABEL_KEYS:
            if key in features[0]:
                batch[key] = torch.tensor([f[key] for f in features], dtype=torch.float32)
        return batch


@dataclass
class CachedSplits:
    """Lower-layer states with their label columns, per split (a list of rows: what the Trainer batches)."""

    rows: dict[str, list[dict[str, Any]]]
    n_lower: int
    n_top: int
    seconds: float

    def n_train(self) -> int:
        return len(self.rows["train"])


def cache_splits(
    profile, splits: DualHeadSplits, datasets: dict[str, Any], tokenizer, n_top: int, max_train_rows=None
) -> CachedSplits:
    """Run the pretrained lower layers once over train (the first ``max_train_rows`` of a seeded shuffle, or
    all) / val / test."""
    start = time.perf_counter()
    model = new_model(profile, splits, "both")
    n_lower = n_layers(model) - n_top
    if n_lower < 0:
        raise ValueError(
            f"dualhead.grid.trainable_layers={n_top} exceeds the encoder's {n_layers(model)} layers"
        )
    rows = {}
    for split in ("train", "val", "test"):
        data = datasets[split]
        if split == "train" and max_train_rows is not None and max_train_rows < len(data):
            data = data.shuffle(seed=profile.seed).select(range(max_train_rows))
        states = lower_states(model, data, tokenizer, n_lower, desc=f"lower layers, {split}")
        labels = {key: data[key] for key in LABEL_KEYS}
        rows[split] = [
            {"inputs_embeds": s, **{key: labels[key][i] for key in LABEL_KEYS}} for i, s in enumerate(states)
        ]
    return CachedSplits(rows, n_lower, n_top, time.perf_counter() - start)


@torch.no_grad()
def predict_states(model: DualHeadBert, rows, device, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Sigmoid probabilities of head_n and head_i for cached rows (in order). Rows are batched by length
    (less padding), then put back in order."""
    model.to(device).eval()
    order = np.argsort([row["inputs_embeds"].shape[0] for row in rows], kind="stable")
    loader = DataLoader(
        [rows[i] for i in order], batch_size=batch_size, shuffle=False, collate_fn=StatesCollator()
    )
    probs_n, probs_i = [], []
    for batch in loader:
        out = model(
            inputs_embeds=batch["inputs_embeds"].to(device), attention_mask=batch["attention_mask"].to(device)
        )
        probs_n.append(torch.sigmoid(out.logits_n).cpu().numpy())
        probs_i.append(torch.sigmoid(out.logits_i).cpu().numpy())
    back = np.argsort(order, kind="stable")
    return np.concatenate(probs_n)[back], np.concatenate(probs_i)[back]


def train_cell(
    profile,
    splits: DualHeadSplits,
    cached: CachedSplits,
    gamma: float,
    alpha: float,
    focal_lambda: float,
    run_name: str,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], float]:
    """One cell: the pretrained top layers + fresh heads (same seed in every cell, so the loss is the only
    difference) trained jointly with focal(gamma, alpha) at ``focal_lambda``; returns val / test
    probabilities of both heads and the training seconds."""
    cfg = profile.dualhead
    seed_everything(profile.seed)
    model = top_model(new_model(profile, splits, "both", gamma, alpha, focal_lambda), cached.n_top)
    device = profile.torch_device
    layer_lr, head_lr = cell_rates(cfg)
    settings = TrainSettings(
        output_dir=experiment_dir(profile) / "trainer" / run_name,
        epochs=cfg.grid.epochs,
        batch_size=cfg.batch_size,
        lr=layer_lr,
        head_lr=head_lr,
        seed=profile.seed,
        logging_steps=10**6,  # 16 cells: no per-step logs
        use_cpu=device.type == "cpu",
        disable_tqdm=True,
        precision=mixed_precision(device.type == "cpu"),
    )
    start = time.perf_counter()
    model, _ = train(model, cached.rows["train"], model_loss, settings, data_collator=StatesCollator())
    seconds = time.perf_counter() - start
    return {split: predict_states(model, cached.rows[split], device) for split in ("val", "test")}, seconds
