"""Predicting with a trained DualHeadBert and scoring it: per-head metrics with thresholds tuned on
validation, the rarest labels' confusion counts, the Jigsaw bias metric, the shared-vs-separate table."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ..data.dualhead import DualHeadSplits
from ..data.dualhead_labels import BIAS_TOXICITY
from ..metrics import bias as bias_metrics
from ..metrics import classification as cls
from ..models.dualhead import DualHeadBert
from ..runtime import resolve_device
from .batches import TOKEN_KEYS, DualHeadCollator


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
    progress: bool = True,
) -> Predictions:
    """Sigmoid probabilities of both heads (and optionally the pooled features) for every row of a dataset.
    ``profile``: a profile (its device and batch size) or a device spec (None: cuda when present), then
    with ``batch_size``."""
    device = resolve_device(profile)  # a profile's own (resolved once), or the scorer's device spec
    model.to(device).eval()
    loader = DataLoader(
        dataset,
        batch_size=batch_size or profile.dualhead.batch_size * 2,
        shuffle=False,
        collate_fn=DualHeadCollator(tokenizer),
    )
    probs_n, probs_i, features = [], [], []
    start = time.perf_counter()
    for batch in tqdm(loader, desc=desc, leave=False, disable=not progress):
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


def bias_inputs(
    splits: DualHeadSplits, test_probs_n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """(toxicity label, toxicity score, identity columns) of the test rows the bias metric reads: the bias
    source's rows with a toxicity label (offline: ToxiGen, score = ``toxic`` probability, subgroups = the 13
    target groups; Jigsaw: ``toxicity`` vs the 17 identities)."""
    toxicity_label, source = BIAS_TOXICITY[splits.table.mode]
    if toxicity_label not in splits.label_names_n:
        raise ValueError(
            f"the bias metric needs head_n label {toxicity_label!r}, which was dropped "
            f"({splits.dropped_labels.get(toxicity_label)})"
        )
    test = splits.frame("test")
    rows = ((test["source"] == source) & test[toxicity_label].notna()).to_numpy()
    j = splits.label_names_n.index(toxicity_label)
    identities = test.loc[rows, splits.label_names_i].reset_index(drop=True)
    return test.loc[rows, toxicity_label].to_numpy(dtype=np.float64), test_probs_n[rows, j], identities


def bias_of(splits: DualHeadSplits, preds: Predictions, min_subgroup_size: int = 10) -> dict:
    """The Jigsaw bias metric on the test rows of the bias source (:func:`bias_inputs`)."""
    report = bias_metrics.bias_report(
        *bias_inputs(splits, preds.probs_n), min_subgroup_size=min_subgroup_size
    )
    report["toxicity_label"], report["source"] = BIAS_TOXICITY[splits.table.mode]
    return report


def comparison_table(
    joint: dict[str, dict], separate: dict[str, dict], times: dict[str, float]
) -> pd.DataFrame:
    """Shared encoder vs two separate models: macro-F1 per head (tuned and at 0.5) and training time, the
    shared route's with its lambda search (``times["joint_search"]``, default the kept model alone)."""
    rows = []
    separate_seconds = times["separate_n"] + times["separate_i"]
    for setup, reports, seconds, with_search in (
        ("shared encoder (DualHeadBert)", joint, times["joint"], times.get("joint_search", times["joint"])),
        ("two separate models", separate, separate_seconds, separate_seconds),
    ):
        rows.append(
            {
                "setup": setup,
                "head_n macro-F1 (tuned)": reports["n"]["macro_f1"],
                "head_i macro-F1 (tuned)": reports["i"]["macro_f1"],
                "head_n macro-F1 @0.5": reports["n"]["macro_f1_at_0.5"],
                "head_i macro-F1 @0.5": reports["i"]["macro_f1_at_0.5"],
                "train seconds": seconds,
                "train seconds incl. selection": with_search,
            }
        )
    return pd.DataFrame(rows).set_index("setup")
