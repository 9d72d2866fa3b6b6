"""Losses of both experiments, all mask- and weight-aware.

Hand-written because no installed library covers them as needed here: torch has plain BCE with ``pos_weight``
but no focal loss (torchvision's ``sigmoid_focal_loss`` would pull in torchvision, which does not import
beside the CPU torch wheel used here) and no *masked* multi-label reduction; the anticipation losses are the
seed's own weightings (w_len for phase 1, w = 0.8·C·y + 0.2·w_len for phase 2).

Masks: ``mask[i, j] = 1`` where label j of row i is annotated, 0 where the source does not say (NaN in the
data). Masked entries contribute nothing to the loss and nothing to its normaliser.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def labels_and_mask(labels: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a label matrix holding NaN for 'not annotated' into (targets with NaN->0, mask of annotated)."""
    tensor = torch.as_tensor(np.asarray(labels, dtype=np.float32))
    mask = ~torch.isnan(tensor)
    return torch.nan_to_num(tensor, nan=0.0), mask.float()


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    # Clamp keeps a batch with no annotated entry at loss 0 (and gradient 0) instead of NaN.
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def pos_weight_from_labels(labels: np.ndarray, max_weight: float = 100.0) -> torch.Tensor:
    """BCE ``pos_weight`` per column = negatives / positives among *annotated* train rows (NaN ignored).

    Clipped to ``max_weight`` so a label with a handful of positives cannot dominate the loss.
    """
    labels = np.asarray(labels, dtype=np.float64)
    pos = np.nansum(labels >= 0.5, axis=0).astype(np.float64)
    annotated = (~np.isnan(labels)).sum(axis=0).astype(np.float64)
    neg = annotated - pos
    weight = np.where(pos > 0, neg / np.maximum(pos, 1.0), 1.0)
    return torch.tensor(np.clip(weight, 1.0 / max_weight, max_weight), dtype=torch.float32)


def masked_bce_with_logits(
    logits: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor | None = None,
    pos_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Multi-label BCE (optionally pos-weighted), averaged over annotated entries only."""
    loss = F.binary_cross_entropy_with_logits(
        logits,
        targets.to(logits.dtype),
        pos_weight=None if pos_weight is None else pos_weight.to(logits),
        reduction="none",
    )
    return _masked_mean(loss, mask)


def focal_loss_with_logits(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float = 2.0,
    alpha: float = 0.25,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sigmoid focal loss (Lin et al. 2017): alpha_t · (1 - p_t)^gamma · BCE, averaged over annotated entries.

    ``alpha`` weights positives and ``1 - alpha`` negatives (alpha = 1.0 ignores negatives entirely, as in
    the seed's grid); ``gamma = 0`` and ``alpha = 0.5`` give half the plain BCE.
    """
    targets = targets.to(logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    prob = torch.sigmoid(logits)
    p_t = prob * targets + (1 - prob) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    loss = alpha_t * (1 - p_t).pow(gamma) * bce
    return _masked_mean(loss, mask)


def weighted_bce_with_logits(
    logits: torch.Tensor,
    targets: torch.Tensor,
    weights: torch.Tensor,
    pos_weight: torch.Tensor | float | None = None,
) -> torch.Tensor:
    """Binary BCE with a weight per example (phase 1: w_len), as the weighted mean sum(w·l) / sum(w).

    The seed multiplied the loss by w_len and took the plain mean; the weighted mean ranks examples the same
    way but keeps the loss scale (and so the learning rate's meaning) independent of the prefix mix.
    ``pos_weight`` handles class imbalance (negatives / positives of the train split).
    """
    if pos_weight is not None and not torch.is_tensor(pos_weight):
        pos_weight = torch.tensor(float(pos_weight))
    loss = F.binary_cross_entropy_with_logits(
        logits,
        targets.to(logits.dtype),
        reduction="none",
        pos_weight=None if pos_weight is None else pos_weight.to(logits),
    )
    weights = weights.to(loss.dtype)
    return (loss * weights).sum() / weights.sum().clamp_min(1e-8)


def phase2_weights(labels: torch.Tensor, w_len: torch.Tensor, C: float = 1.0) -> torch.Tensor:
    """The seed's phase-2 weight w = 0.8·C·y + 0.2·w_len: hateful-leaning and longer prefixes count more."""
    return 0.8 * C * labels + 0.2 * w_len


def weighted_mse(
    predictions: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor, normaliser: float | None = None
) -> torch.Tensor:
    """Weighted squared error.

    Without ``normaliser``: the weighted mean sum(w·(p - y)^2) / sum(w), whose scale depends on the batch's
    own weights (a batch of low-target prefixes gets its errors blown up). With a fixed ``normaliser``
    (phase 2: the train set's mean weight x the nominal prefixes per batch): sum(w·(p - y)^2) / normaliser, so
    each prefix pulls with the same force whatever else is in its batch, and the losses of any partition of
    the same prefixes into batches add up to the same total.
    """
    weights = weights.to(predictions.dtype)
    squared = weights * (predictions - targets.to(predictions.dtype)) ** 2
    if normaliser is not None:
        if normaliser <= 0:
            raise ValueError(f"normaliser must be > 0, got {normaliser}")
        return squared.sum() / normaliser
    return squared.sum() / weights.sum().clamp_min(1e-8)
