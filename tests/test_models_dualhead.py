"""DualHeadBert: joint masked loss (hand values), masking, single-head variants, save/load round trip."""

from __future__ import annotations

import math

import pytest
import torch
from hatespeech.models.dualhead import (
    DualHeadBert,
    EncoderWeightsNotLoadedError,
    configure,
    from_encoder,
)
from transformers import BertConfig, BertModel

NAMES_N = ["toxic", "insult"]
NAMES_I = ["asian", "women", "jewish"]


def tiny_config(**settings) -> BertConfig:
    config = BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    defaults = {
        "label_names_n": NAMES_N,
        "label_names_i": NAMES_I,
        "pos_weight_n": [3.0, 1.0],
        "focal_gamma": 2.0,
        "focal_alpha": 0.25,
        "focal_lambda": 1.0,
    }
    return configure(config, **(defaults | settings))


def tiny_model(**settings) -> DualHeadBert:
    torch.manual_seed(0)
    return DualHeadBert(tiny_config(**settings)).eval()


def batch(n=4, length=6):
    generator = torch.Generator().manual_seed(1)
    return {
        "input_ids": torch.randint(5, 64, (n, length), generator=generator),
        "attention_mask": torch.ones(n, length, dtype=torch.long),
    }


def zero_heads(model):
    """Heads with zero weights and bias: every logit is 0, every probability 0.5 (hand-computable losses)."""
    with torch.no_grad():
        for head in (model.head_n, model.head_i):
            if head is not None:
                head.weight.zero_()
                head.bias.zero_()


def test_forward_gives_both_heads_from_one_pass():
    model = tiny_model()
    out = model(**batch(), return_features=True)
    assert out.logits_n.shape == (4, 2) and out.logits_i.shape == (4, 3) and out.features.shape == (4, 16)
    assert out.loss is None


def test_joint_loss_hand_values():
    """logits 0: BCE = ln 2 (x pos_weight for positives); focal(2, .25) = alpha_t * 0.25 * ln 2."""
    model = tiny_model()
    zero_heads(model)
    ln2 = math.log(2)
    labels_n = torch.tensor([[1.0, 0.0]])  # toxic positive (pos_weight 3), insult negative
    labels_i = torch.tensor([[1.0, 0.0, 0.0]])  # one positive (alpha .25), two negatives (alpha .75)
    out = model(
        **batch(n=1), labels_n=labels_n, mask_n=torch.ones(1, 2), labels_i=labels_i, mask_i=torch.ones(1, 3)
    )
    bce = (3 * ln2 + ln2) / 2
    focal = (0.25 * 0.25 * ln2 + 2 * 0.75 * 0.25 * ln2) / 3
    assert out.loss_n.item() == pytest.approx(bce, rel=1e-5)
    assert out.loss_i.item() == pytest.approx(focal, rel=1e-5)
    assert out.loss.item() == pytest.approx(bce + focal, rel=1e-5)

    model.config.focal_lambda = 0.5
    out = model(
        **batch(n=1), labels_n=labels_n, mask_n=torch.ones(1, 2), labels_i=labels_i, mask_i=torch.ones(1, 3)
    )
    assert out.loss.item() == pytest.approx(bce + 0.5 * focal, rel=1e-5)


def test_masked_labels_change_nothing():
    """Flipping a masked target changes neither the loss nor any gradient."""
    model = tiny_model()
    model.train(False)
    inputs = batch()
    mask_n = torch.tensor([[1, 0], [1, 1], [0, 0], [1, 0]], dtype=torch.float32)
    mask_i = torch.tensor([[0, 0, 0], [1, 1, 1], [1, 0, 1], [0, 0, 0]], dtype=torch.float32)
    labels_n = torch.tensor([[1, 0], [0, 1], [0, 0], [1, 0]], dtype=torch.float32)
    labels_i = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 0]], dtype=torch.float32)

    def loss_and_grads(ln, li):
        model.zero_grad()
        out = model(**inputs, labels_n=ln, mask_n=mask_n, labels_i=li, mask_i=mask_i)
        out.loss.backward()
        return out.loss.item(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    base_loss, base_grads = loss_and_grads(labels_n, labels_i)
    flipped_n = torch.where(mask_n.bool(), labels_n, 1 - labels_n)
    flipped_i = torch.where(mask_i.bool(), labels_i, 1 - labels_i)
    loss, grads = loss_and_grads(flipped_n, flipped_i)
    assert loss == pytest.approx(base_loss, abs=1e-7)
    assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(base_grads, grads))
    # ... while flipping an annotated target does change the loss
    changed = labels_n.clone()
    changed[1, 1] = 0.0
    assert loss_and_grads(changed, labels_i)[0] != pytest.approx(base_loss, abs=1e-6)


def test_fully_masked_batch_gives_zero_loss_not_nan():
    model = tiny_model()
    out = model(
        **batch(),
        labels_n=torch.ones(4, 2),
        mask_n=torch.zeros(4, 2),
        labels_i=torch.ones(4, 3),
        mask_i=torch.zeros(4, 3),
    )
    assert out.loss.item() == 0.0


def test_single_head_variants():
    only_n = tiny_model(heads="n", label_names_i=[])
    out = only_n(**batch(), labels_n=torch.zeros(4, 2), mask_n=torch.ones(4, 2))
    assert only_n.head_i is None and out.logits_i is None and out.loss is not None
    only_i = tiny_model(heads="i", label_names_n=[], pos_weight_n=None)
    out = only_i(**batch(), labels_i=torch.zeros(4, 3), mask_i=torch.ones(4, 3))
    assert only_i.head_n is None and out.logits_n is None and out.loss is not None
    with pytest.raises(ValueError, match="head_n needs"):
        tiny_config(label_names_n=[], pos_weight_n=None)


def test_save_pretrained_round_trip(tmp_path):
    model = tiny_model(focal_gamma=3.0, focal_alpha=0.75, focal_lambda=0.5)
    inputs = batch()
    model.save_pretrained(tmp_path)
    loaded = DualHeadBert.from_pretrained(tmp_path).eval()
    assert loaded.config.label_names_n == NAMES_N and loaded.config.label_names_i == NAMES_I
    assert (loaded.config.focal_gamma, loaded.config.focal_alpha, loaded.config.focal_lambda) == (
        3.0,
        0.75,
        0.5,
    )
    assert loaded.pos_weight_n().tolist() == [3.0, 1.0]
    with torch.no_grad():
        a, b = model(**inputs), loaded(**inputs)
    assert torch.allclose(a.logits_n, b.logits_n) and torch.allclose(a.logits_i, b.logits_i)
    labels = {
        "labels_n": torch.ones(4, 2),
        "mask_n": torch.ones(4, 2),
        "labels_i": torch.zeros(4, 3),
        "mask_i": torch.ones(4, 3),
    }
    with torch.no_grad():
        assert model(**inputs, **labels).loss.item() == pytest.approx(loaded(**inputs, **labels).loss.item())


def test_from_encoder_loads_plain_bert_checkpoint_and_checks_it(tmp_path):
    encoder_config = BertConfig(
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    torch.manual_seed(3)
    encoder = BertModel(encoder_config)
    encoder.save_pretrained(tmp_path / "encoder")  # weights without the 'bert.' prefix, like MiniLM
    model = from_encoder(str(tmp_path / "encoder"), label_names_n=NAMES_N, label_names_i=NAMES_I)
    for name, weight in encoder.state_dict().items():
        if not name.startswith("pooler."):
            assert torch.equal(model.state_dict()[f"bert.{name}"], weight), name
    # a checkpoint missing encoder layers must be refused, not silently left random
    (tmp_path / "short").mkdir()
    BertModel(BertConfig(**(encoder_config.to_dict() | {"num_hidden_layers": 1}))).save_pretrained(
        tmp_path / "short"
    )
    config_path = tmp_path / "short" / "config.json"
    config_path.write_text(
        config_path.read_text().replace('"num_hidden_layers": 1', '"num_hidden_layers": 2')
    )
    with pytest.raises(EncoderWeightsNotLoadedError, match=r"encoder.layer.1"):
        from_encoder(str(tmp_path / "short"), label_names_n=NAMES_N, label_names_i=NAMES_I)


@pytest.mark.slow
def test_offline_minilm_loads_into_dualhead(tmp_path):
    from hatespeech.models.backbones import ModelNotAvailableError, resolve_model_dir

    try:
        folder = resolve_model_dir("offline:minilm-l6")
    except ModelNotAvailableError as exc:
        pytest.skip(str(exc))
    model = from_encoder(
        folder, label_names_n=NAMES_N, label_names_i=NAMES_I
    )  # raises if any weight is random
    reference = BertModel.from_pretrained(folder)
    state = model.state_dict()
    for name, weight in reference.state_dict().items():
        if not name.startswith("pooler."):
            assert torch.equal(state[f"bert.{name}"], weight), name
    model.save_pretrained(tmp_path)
    loaded = DualHeadBert.from_pretrained(tmp_path)
    assert torch.equal(loaded.head_i.weight, model.head_i.weight)
