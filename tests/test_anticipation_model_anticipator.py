"""Anticipator: trajectory / score / stream agree with the naive per-prefix scores; clear errors.

Tiny random saved models (real offline tokenizers) keep these fast; one slow test streams the real SmolLM2.
"""

from __future__ import annotations

import numpy as np
import pytest
from hatespeech.anticipation.inference import Anticipator, NotAModelDirError, check_model_dir
from hatespeech.models.prefix import VARIANTS, parse_variant, tiny_prefix_classifier

TOLERANCE = 1e-4
TEXT = "I am not sexist, but women don't belong in the 2024 workplace!! #truth"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, offline_tokenizer):
    """One saved tiny random model folder per variant."""
    folders = {}
    tokenizers = {
        "encoder": offline_tokenizer("offline:minilm-l6"),
        "decoder": offline_tokenizer("offline:smollm2-135m"),
    }
    for variant in VARIANTS:
        tokenizer = tokenizers[parse_variant(variant)[0]]
        folder = tmp_path_factory.mktemp(variant.replace("+", "_"))
        tiny_prefix_classifier(variant, tokenizer).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[variant] = folder
    return folders


def _naive(anticipator, prefixes):
    """The reference: each prefix scored alone, one at a time."""
    return np.array([anticipator.score([p], progress=False)[0] for p in prefixes])


@pytest.mark.parametrize("variant", VARIANTS)
def test_trajectory_score_and_stream_equal_naive(variant, saved_models):
    anticipator = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    table = anticipator.trajectory(TEXT)
    words = TEXT.split()
    assert list(table.columns) == ["k", "word", "prefix", "p_hate"]
    assert table["k"].tolist() == list(range(1, len(words) + 1)) and table["word"].tolist() == words
    assert table["prefix"].iloc[-1] == TEXT
    naive = _naive(anticipator, table["prefix"])
    assert naive.std() > 1e-3
    assert np.abs(table["p_hate"].to_numpy() - naive).max() <= TOLERANCE
    batch = anticipator.score(
        list(table["prefix"])[::-1] + ["Immigrants bring"], batch_size=4, progress=False
    )
    assert np.abs(batch[:-1][::-1] - naive).max() <= TOLERANCE
    stream = anticipator.stream()
    streamed = np.array([stream.add_word(word) for word in words])
    assert np.abs(streamed - naive).max() <= TOLERANCE
    assert stream.text == TEXT and stream.probabilities == pytest.approx(streamed.tolist())
    if parse_variant(variant)[0] == "decoder":
        # a KV cache pays only for the new tokens: each token computed once
        assert stream.tokens_fed == len(anticipator.tokenizer(TEXT)["input_ids"])
        config = anticipator.model.backbone.config
        head_dim = config.hidden_size // config.num_attention_heads
        kv = (
            2 * config.num_hidden_layers * config.num_key_value_heads * head_dim * 4
        )  # keys + values, float32
        assert stream.state_bytes == stream.tokens_fed * (kv + 4 * config.hidden_size)
    stream.reset()
    assert stream.add_word("I am") == pytest.approx(naive[1], abs=TOLERANCE) and stream.words == ["I", "am"]


def test_stream_recovers_when_retokenization_changes_earlier_tokens(saved_models):
    """Words glued without a space change the tokens before them: the cache is cropped, results stay exact."""
    anticipator = Anticipator.from_pretrained(saved_models["decoder"], device="cpu")
    stream = anticipator.stream()
    stream.add_word("sex")
    stream._ids[-1] += 1  # pretend the cached last token no longer matches the re-tokenized text
    got = stream.add_word("ist")
    assert got == pytest.approx(anticipator.score(["sex ist"], progress=False)[0], abs=TOLERANCE)


def test_score_shares_passes_between_prefixes_of_one_sentence(saved_models, monkeypatch):
    anticipator = Anticipator.from_pretrained(saved_models["decoder"], device="cpu")
    calls = []
    original = anticipator.model.all_prefix_logits

    def counting(input_ids, *args, **kwargs):
        calls.append(tuple(input_ids.shape))
        return original(input_ids, *args, **kwargs)

    monkeypatch.setattr(anticipator.model, "all_prefix_logits", counting)
    words = TEXT.split()
    prefixes = [" ".join(words[:k]) for k in range(1, len(words) + 1)]
    anticipator.score(prefixes + ["Immigrants bring new ideas"], progress=False)
    assert calls == [(2, len(anticipator.tokenizer(TEXT)["input_ids"]))]  # two carriers, one batch


def test_errors_are_clear(saved_models, tmp_path):
    anticipator = Anticipator.from_pretrained(saved_models["encoder"], device="cpu")
    with pytest.raises(ValueError, match="empty text"):
        anticipator.trajectory("   ")
    with pytest.raises(ValueError, match="prefix 1 is empty"):
        anticipator.score(["fine", ""], progress=False)
    with pytest.raises(ValueError, match="empty text"):
        anticipator.stream().add_word(" ")
    with pytest.raises(ValueError, match="at most 128"):
        anticipator.trajectory("word " * 200)
    missing = tmp_path / "nowhere"
    with pytest.raises(NotAModelDirError, match="nowhere.*does not exist"):
        Anticipator.from_pretrained(missing)
    with pytest.raises(NotAModelDirError, match="no config.json"):
        check_model_dir(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(NotAModelDirError, match="'bert' model, not a prefix classifier"):
        check_model_dir(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "prefix_classifier"}')
    with pytest.raises(NotAModelDirError, match="no weights"):
        check_model_dir(tmp_path)


@pytest.mark.slow
def test_real_smollm2_stream_and_trajectory_equal_naive(tmp_path):
    from hatespeech.config import get_profile
    from hatespeech.models.prefix import build_prefix_classifier

    model, tokenizer = build_prefix_classifier("decoder", get_profile("smoke"))
    anticipator = Anticipator(model, tokenizer, device="cpu")
    text = "Immigrants bring new ideas and energy"
    naive = _naive(anticipator, [" ".join(text.split()[:k]) for k in range(1, 7)])
    stream = anticipator.stream()
    streamed = np.array([stream.add_word(w) for w in text.split()])
    trajectory = anticipator.trajectory(text)["p_hate"].to_numpy()
    worst = max(np.abs(streamed - naive).max(), np.abs(trajectory - naive).max())
    print(f"real SmolLM2 stream/one-pass vs naive: max abs probability diff {worst:.2e}")
    assert worst <= TOLERANCE
