import itertools
import math

import numpy as np
import pytest
import torch
from hatespeech import losses


def test_labels_and_mask_split_nan():
    targets, mask = losses.labels_and_mask([[1.0, np.nan], [0.0, 1.0]])
    assert targets.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert mask.tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_masked_bce_ignores_masked_entries():
    logits = torch.tensor([[2.0, -1.0], [0.5, 0.3]])
    mask = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    a = losses.masked_bce_with_logits(logits, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), mask)
    b = losses.masked_bce_with_logits(
        logits, torch.tensor([[1.0, 1.0], [0.0, 1.0]]), mask
    )  # masked target flipped
    assert torch.allclose(a, b)
    expected = np.mean([math.log1p(math.exp(-2.0)), math.log1p(math.exp(0.5)), math.log1p(math.exp(-0.3))])
    assert a.item() == pytest.approx(expected, rel=1e-5)


def test_masked_loss_has_no_gradient_through_masked_logits():
    logits = torch.zeros(1, 2, requires_grad=True)
    losses.focal_loss_with_logits(
        logits, torch.tensor([[1.0, 1.0]]), mask=torch.tensor([[1.0, 0.0]])
    ).backward()
    assert logits.grad[0, 1].item() == 0.0 and logits.grad[0, 0].item() != 0.0


def test_all_masked_batch_gives_zero_not_nan():
    loss = losses.masked_bce_with_logits(torch.zeros(2, 2), torch.ones(2, 2), torch.zeros(2, 2))
    assert loss.item() == 0.0


def test_focal_reduces_to_scaled_bce_at_gamma_zero():
    logits = torch.tensor([[1.5, -0.5, 0.2]])
    targets = torch.tensor([[1.0, 0.0, 1.0]])
    focal = losses.focal_loss_with_logits(logits, targets, gamma=0.0, alpha=0.5)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
    assert focal.item() == pytest.approx(0.5 * bce.item(), rel=1e-6)


def test_focal_hand_value():
    # p = sigmoid(0) = 0.5, y = 1: alpha * (1 - 0.5)^2 * log 2
    value = losses.focal_loss_with_logits(torch.zeros(1, 1), torch.ones(1, 1), gamma=2.0, alpha=0.25)
    assert value.item() == pytest.approx(0.25 * 0.25 * math.log(2), rel=1e-6)


def test_alpha_one_ignores_negatives():
    value = losses.focal_loss_with_logits(torch.tensor([[3.0]]), torch.zeros(1, 1), gamma=1.0, alpha=1.0)
    assert value.item() == 0.0


def test_pos_weight_from_labels_uses_annotated_rows_only():
    labels = np.array([[1, np.nan], [0, 1], [0, np.nan], [0, 0]], dtype=float)
    weight = losses.pos_weight_from_labels(labels)
    assert weight.tolist() == pytest.approx([3.0, 1.0])


def test_weighted_bce_is_weighted_mean():
    logits = torch.tensor([0.0, 0.0])
    targets = torch.tensor([1.0, 0.0])
    loss = losses.weighted_bce_with_logits(logits, targets, torch.tensor([0.25, 1.0]))
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)
    with_pos = losses.weighted_bce_with_logits(logits, targets, torch.tensor([1.0, 1.0]), pos_weight=3.0)
    assert with_pos.item() == pytest.approx((3 * math.log(2) + math.log(2)) / 2, rel=1e-6)


def test_phase2_weights_and_weighted_mse():
    w = losses.phase2_weights(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 1.0]), C=2.0)
    assert w.tolist() == pytest.approx([0.8 * 2 + 0.1, 0.2])
    mse = losses.weighted_mse(torch.tensor([0.5, 0.0]), torch.tensor([1.0, 1.0]), torch.tensor([1.0, 3.0]))
    assert mse.item() == pytest.approx((0.25 + 3.0) / 4)


def test_weighted_mse_with_fixed_normaliser_does_not_depend_on_the_batching():
    """Phase 2's objective: the same prefixes cost the same total loss however they are batched (encoder:
    flat batches of mixed prefixes; decoder: one sentence's prefixes per row, padded) -- unlike the per-batch
    weighted mean, which blows up the errors of a batch of low-weight prefixes."""
    g = torch.Generator().manual_seed(0)
    pred, target = torch.rand(24, generator=g), torch.rand(24, generator=g)
    w_len = torch.rand(24, generator=g)
    weights = losses.phase2_weights(target, w_len, C=1.0)
    normaliser = float(weights.mean()) * 8
    whole = losses.weighted_mse(pred, target, weights, normaliser=normaliser)
    for cuts in ([0, 8, 16, 24], [0, 3, 20, 24], [0, 1, 2, 24]):
        parts = sum(
            losses.weighted_mse(pred[a:b], target[a:b], weights[a:b], normaliser=normaliser)
            for a, b in itertools.pairwise(cuts)
        )
        assert parts.item() == pytest.approx(whole.item(), rel=1e-6)
    # a decoder-style [rows, words] layout with padded slots masked out gives the same number
    padded = torch.zeros(2, 14)
    mask = torch.zeros(2, 14, dtype=torch.bool)
    mask[0, :10], mask[1, :14] = True, True
    layout = lambda v: padded.clone().masked_scatter(mask, v)
    rowwise = losses.weighted_mse(layout(pred)[mask], layout(target)[mask], layout(weights)[mask], normaliser)
    assert rowwise.item() == pytest.approx(whole.item(), rel=1e-6)
    # the per-batch weighted mean (no normaliser) is not batch-independent: two batchings differ
    mean_a = sum(losses.weighted_mse(pred[a:b], target[a:b], weights[a:b]) for a, b in ((0, 12), (12, 24)))
    mean_b = sum(losses.weighted_mse(pred[a:b], target[a:b], weights[a:b]) for a, b in ((0, 2), (2, 24)))
    assert abs(mean_a.item() - mean_b.item()) > 1e-3
    with pytest.raises(ValueError, match="normaliser"):
        losses.weighted_mse(pred, target, weights, normaliser=0.0)
