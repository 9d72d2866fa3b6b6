"""Shared by the anticipation tests: sentences, tiny random prefix classifiers, a tiny profile (the
``isolated`` pipeline fixture is in conftest.py).

Tiny random backbones (``tiny_prefix_classifier``: BERT / Llama, 2 layers, hidden 32) keep the real offline
tokenizers and every code path of the real variants, and run in milliseconds.
"""

from __future__ import annotations

from pathlib import Path

from hatespeech.config import get_profile
from hatespeech.models.prefix import parse_variant, tiny_prefix_classifier

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
        "anticipation.phase1_max_train_samples": None,
        "anticipation.phase1_max_eval_samples": None,
        "anticipation.phase1_prefix_eval_sentences": None,
        "anticipation.phase1_batch_size": 4,
        "anticipation.phase2_batch_size": 4,
        "anticipation.phase2_max_train_sentences": 6,
        "anticipation.phase2_ablation_variants": ("encoder",),
        "anticipation.phase1_encoder_lr_candidates": (5e-5, 1e-4),
        "anticipation.bootstrap_resamples": 50,
        "device": "cpu",
    }
    base.update(overrides)
    return get_profile("smoke", **base)
