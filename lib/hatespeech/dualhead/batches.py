"""Tokenized datasets of the dual-head splits and the collator that batches them (token ids padded, label and
mask vectors stacked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from datasets import Dataset

from ..data.dualhead import SPLITS, DualHeadSplits
from ..losses import labels_and_mask

TOKEN_KEYS = ("input_ids", "attention_mask", "token_type_ids")
LABEL_KEYS = ("labels_n", "mask_n", "labels_i", "mask_i")


def tokenized_dataset(
    frame: pd.DataFrame, tokenizer, names_n: Sequence[str], names_i: Sequence[str], max_length: int
):
    """A ``datasets.Dataset`` with token ids and, per head, 0/1 targets and a 0/1 annotation mask."""
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
