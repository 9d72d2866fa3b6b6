"""Shared by the anticipation tests: sentences, tiny random prefix classifiers, a tiny profile (the
``isolated`` pipeline fixture is in conftest.py).

Tiny random backbones (``tiny_prefix_classifier``: BERT / Llama, 2 layers, hidden 32) keep the real offline
tokenizers and every code path of the real variants, and run in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from hatespeech.config import get_profile
from hatespeech.models.prefix import VARIANTS, parse_variant, tiny_prefix_classifier

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
SENTENCES = [
    "I am not sexist, but women should not be allowed to vote",
    "Immigrants bring new ideas and energy",
    "they should all go back where they came from #truth",
]


def tiny(variant, tokenizers, **kwargs):
    return tiny_prefix_classifier(variant, tokenizers[parse_variant(variant)[0]], **kwargs).eval()


def tiny_profile(**overrides):
    base = {
        "data.phase1_max_rows_per_source": None,
        "anticipation.max_length": 32,
        "anticipation.phase1.max_train_samples": None,
        "anticipation.phase1.max_eval_samples": None,
        "anticipation.phase1.batch_size": 4,
        "anticipation.phase2.batch_size": 4,
        "anticipation.phase2.max_train_sentences": 6,
        "anticipation.phase2.ablation_variants": ("encoder",),
        "anticipation.phase1.encoder_lr_candidates": (5e-5, 1e-4),
        "anticipation.bootstrap_resamples": 50,
        "device": "cpu",
    }
    base.update(overrides)
    return get_profile("smoke", **base)


def tiny_causal_lm(tokenizer, seed: int = 0, architecture: str = "llama"):
    """A tiny random causal LM on a real tokenizer's vocabulary (stands in for the generator): Llama as
    SmolLM2, or ``architecture="gpt2"`` (absolute positions) as the gpu profile's GPT-2."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    if architecture == "gpt2":
        return GPT2LMHeadModel(
            GPT2Config(
                vocab_size=len(tokenizer),
                n_embd=16,
                n_inner=32,
                n_layer=1,
                n_head=2,
                n_positions=256,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        )
    return LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=16,
            intermediate_size=32,
            num_hidden_layers=1,
            num_attention_heads=2,
            num_key_value_heads=1,
            max_position_embeddings=256,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    )


def save_tiny_models(tmp_path_factory, offline_tokenizer) -> dict:
    """One saved tiny random prefix classifier (with its tokenizer) per variant: variant -> folder."""
    tokenizers = {
        "encoder": offline_tokenizer("offline:minilm-l6"),
        "decoder": offline_tokenizer("offline:smollm2-135m"),
    }
    folders = {}
    for variant in VARIANTS:
        tokenizer = tokenizers[parse_variant(variant)[0]]
        folder = tmp_path_factory.mktemp(variant.replace("+", "_"))
        tiny_prefix_classifier(variant, tokenizer).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[variant] = folder
    return folders
