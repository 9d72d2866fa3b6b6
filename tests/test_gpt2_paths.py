"""The gpu profile's decoder is GPT-2: learned absolute positions, Conv1D layers, no pad token of its own.
Its code paths on a tiny random GPT-2 (the SmolLM2 vocabulary), on CPU: one-pass scoring equals each prefix
alone, padded batches and streaming; the one-pass logits train only the trainable blocks; imagined endings
do not depend on the batch (left-padded prompts); int8 streams like its one pass. The phase-1 and phase-2
pipelines with GPT-2 decoders: tests/test_anticipation_phases.py (the gpu code paths test)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from anticipation_support import tiny_causal_lm
from hatespeech.anticipation.continuations import ContinuationEstimator, ContinuationSettings
from hatespeech.anticipation.examples import encode_sentences
from hatespeech.anticipation.inference import Anticipator
from hatespeech.models.prefix import tiny_prefix_classifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

TOLERANCE = 1e-4  # as tests/test_anticipation_inference.py: shared passes vs each prefix alone
TEXT = "I am not sexist, but women don't belong in the 2024 workplace!! #truth"
PREFIX = "I am not sexist, but"
VARIANTS = ("decoder", "decoder+bilstm")


@pytest.fixture(scope="module")
def gpt2_models(tmp_path_factory, offline_tokenizer):
    """(tokenizer, {variant: saved folder}) of tiny random GPT-2 prefix classifiers."""
    tokenizer = offline_tokenizer("offline:smollm2-135m")
    folders = {}
    for variant in VARIANTS:
        folder = tmp_path_factory.mktemp(f"gpt2_{variant.replace('+', '_')}")
        tiny_prefix_classifier(variant, tokenizer, architecture="gpt2").save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[variant] = folder
    return tokenizer, folders


@pytest.mark.parametrize("variant", VARIANTS)
def test_gpt2_one_pass_batches_and_stream_equal_each_prefix_alone(variant, gpt2_models):
    _, folders = gpt2_models
    anticipator = Anticipator.from_pretrained(folders[variant], device="cpu")
    assert type(anticipator.model.backbone).__name__ == "GPT2Model"  # saved and reloaded as GPT-2
    table = anticipator.trajectory(TEXT)
    naive = np.array([anticipator.score([p], progress=False)[0] for p in table["prefix"]])
    assert naive.std() > 1e-3  # the tiny model tells prefixes apart, so the comparisons mean something
    assert np.abs(table["p_hate"].to_numpy() - naive).max() <= TOLERANCE
    # padded batches mixing lengths: absolute positions must not shift with the padding
    batch = anticipator.score([*list(table["prefix"])[::-1], "You people"], batch_size=4, progress=False)
    assert np.abs(batch[:-1][::-1] - naive).max() <= TOLERANCE
    stream = anticipator.stream()
    streamed = np.array([stream.add_word(word) for word in TEXT.split()])
    assert np.abs(streamed - naive).max() <= TOLERANCE
    assert stream.tokens_fed == len(anticipator.tokenizer(TEXT)["input_ids"])  # the cache: each token once


def test_gpt2_one_pass_logits_train_only_the_trainable_blocks(gpt2_models):
    tokenizer, _ = gpt2_models
    model = tiny_prefix_classifier("decoder+bilstm", tokenizer, architecture="gpt2", trainable_layers=1)
    (encoded,) = encode_sentences(tokenizer, [TEXT], 128)
    ids = torch.tensor([encoded.input_ids])
    logits = model.train().all_prefix_logits(ids, torch.ones_like(ids), torch.tensor([encoded.word_ends]))
    logits.sum().backward()
    assert model.head.weight.grad.abs().sum() > 0
    assert model.lstm.weight_hh_l0_reverse.grad.abs().sum() > 0
    assert model.backbone.h[-1].mlp.c_proj.weight.grad.abs().sum() > 0  # Conv1D blocks: GPT2Model.h
    assert model.backbone.h[0].mlp.c_proj.weight.grad is None  # frozen


def test_gpt2_endings_do_not_depend_on_the_batch(gpt2_models):
    """Prompts are left-padded in a batch; GPT-2's positions then come from the attention mask, so a
    prefix's endings are the same alone and beside a shorter one."""
    tokenizer, folders = gpt2_models
    generator = tiny_causal_lm(tokenizer, architecture="gpt2")
    scorer = Anticipator.from_pretrained(folders["decoder"], device="cpu")
    settings = ContinuationSettings(n_samples=4, max_new_tokens=6)
    estimator = ContinuationEstimator(generator, tokenizer, scorer, settings)
    alone = estimator.estimate(PREFIX)
    batch = estimator.estimate_many(["You people", PREFIX])
    assert batch[1].endings == alone.endings and batch[1].mean == pytest.approx(alone.mean)
    assert len(set(alone.endings)) > 1  # sampled, not one repeated ending


def test_gpt2_int8_streams_like_its_one_pass(gpt2_models):
    _, folders = gpt2_models
    fp32 = Anticipator.from_pretrained(folders["decoder+bilstm"], device="cpu")
    int8 = Anticipator.from_pretrained(folders["decoder+bilstm"], device="cpu", quantize="int8")
    assert int8.quantization["layers"] > 0
    table = int8.trajectory(TEXT)
    stream = int8.stream()
    streamed = np.array([stream.add_word(word) for word in TEXT.split()])
    assert np.abs(streamed - table["p_hate"].to_numpy()).max() <= TOLERANCE
    change = np.abs(table["p_hate"].to_numpy() - fp32.trajectory(TEXT)["p_hate"].to_numpy()).max()
    assert 0 < change < 0.1  # int8, not a copy of fp32, and close to it
