"""LoRA on a tiny random PrefixClassifier: only adapters, biLSTM and head train; scores unchanged at start."""

from __future__ import annotations

import pytest
import torch
from hatespeech.models.adapters import apply_lora
from hatespeech.models.prefix import tiny_prefix_classifier

pytest.importorskip("peft")


@pytest.fixture(scope="module")
def tokenizer(offline_tokenizer):
    return offline_tokenizer("offline:smollm2-135m", "right")


@pytest.mark.parametrize("variant", ["decoder", "decoder+bilstm"])
def test_lora_trains_only_adapters_and_head_and_starts_as_the_same_model(tokenizer, variant):
    model = tiny_prefix_classifier(variant, tokenizer, seed=1).eval()
    enc = tokenizer(["I am not sexist , but", "hello there"], padding=True, return_tensors="pt")
    before = model(enc["input_ids"], enc["attention_mask"]).logits
    trainable = apply_lora(model, rank=4)
    after = model.eval()(enc["input_ids"], enc["attention_mask"]).logits
    assert torch.allclose(before, after, atol=1e-6)  # B = 0: the adapters start as a zero update
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n or n.startswith(("head", "lstm")) for n in names)
    assert any("lora_" in n for n in names) and trainable == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )


def test_unknown_backbone_family_is_a_clear_error(tokenizer):
    model = tiny_prefix_classifier("decoder", tokenizer)
    model.backbone.config.model_type = "mystery"
    with pytest.raises(ValueError, match="no LoRA targets for backbone type 'mystery'"):
        apply_lora(model)
