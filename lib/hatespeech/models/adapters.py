"""LoRA adapters on a PrefixClassifier's backbone (``peft``), for the decoder-capacity comparison.

``peft.inject_adapter_in_model`` adds low-rank adapters to the backbone's linear layers in place (no PeftModel
wrapper, so the Trainer, the one-pass scoring and the losses see the same PrefixClassifier); the backbone's
own weights are frozen, the adapters, the biLSTM and the head train. The adapters start as a zero update
(peft initialises B = 0), so an adapted model scores exactly as before its first step.
"""

from __future__ import annotations

#: Every linear layer of a Llama-style block (SmolLM2) / GPT-2's fused ones.
LORA_TARGETS = {
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "bert": ["query", "key", "value", "dense"],
}


def apply_lora(model, rank: int = 8, alpha: int = 16, dropout: float = 0.05) -> int:
    """Inject LoRA adapters into ``model.backbone`` and freeze the backbone's own weights.

    Returns the number of trainable parameters. Raises ValueError for a backbone family without targets.
    """
    from peft import LoraConfig, inject_adapter_in_model  # inside: only the LoRA benchmark needs peft

    family = getattr(model.backbone.config, "model_type", "")
    if family not in LORA_TARGETS:
        raise ValueError(f"no LoRA targets for backbone type {family!r}; known: {sorted(LORA_TARGETS)}")
    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=dropout, target_modules=LORA_TARGETS[family])
    inject_adapter_in_model(config, model.backbone)
    for name, param in model.backbone.named_parameters():
        param.requires_grad = "lora_" in name
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
