"""Anticipator, the one scoring path: trajectory / trajectories / score / stream agree with the naive
per-prefix scores; truncation at max_length (counted, trajectories padded with the last fitting p_hate);
float64; the model's training mode survives; clear errors.

Tiny random saved models (real offline tokenizers) keep these fast; one slow test streams the real SmolLM2.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from anticipation_support import save_tiny_models
from hatespeech.anticipation.examples import encode_sentences
from hatespeech.anticipation.inference import Anticipator, NotAModelDirError, check_model_dir
from hatespeech.models.prefix import VARIANTS, parse_variant

TOLERANCE = 1e-4
# Shared causal passes vs each prefix its own sequence: exact up to float32 rounding. Measured max |dp| on
# these tiny models (5 seeds, 4 sentences, every prefix): decoder 4.8e-6, decoder+bilstm 3.2e-7 (vs the old
# evaluation path, padded per-prefix forward: 2.1e-7 / 6.9e-8).
SHARED_PASS_TOLERANCE = 1e-5
TEXT = "I am not sexist, but women don't belong in the 2024 workplace!! #truth"
SENTENCES = [
    TEXT,
    "Immigrants bring new ideas and energy",
    "they should all go back where they came from #truth",
    "You people",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, offline_tokenizer):
    """One saved tiny random model folder per variant."""
    return save_tiny_models(tmp_path_factory, offline_tokenizer)


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
        [*list(table["prefix"])[::-1], "Immigrants bring"], batch_size=4, progress=False
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
    anticipator.score([*prefixes, "Immigrants bring new ideas"], progress=False)
    assert calls == [(2, len(anticipator.tokenizer(TEXT)["input_ids"]))]  # two carriers, one batch


@pytest.mark.parametrize("variant", ["encoder", "encoder+bilstm"])
def test_encoders_score_a_shared_prefix_once(variant, saved_models, monkeypatch):
    """Templated texts share their openings ("I hate women." / "I hate Muslims."): each distinct prefix text
    is scored once, and every text still gets its own full trajectory."""
    anticipator = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    scored = []
    original = anticipator._score_each

    def counting(texts, *args, **kwargs):
        scored.extend(texts)
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(anticipator, "_score_each", counting)
    texts = ["I hate women.", "I hate Muslims.", "I hate women."]
    trajectories = anticipator.trajectories(texts)
    assert sorted(scored) == sorted(["I", "I hate", "I hate women.", "I hate Muslims."])
    assert [len(t) for t in trajectories] == [3, 3, 3]
    np.testing.assert_array_equal(trajectories[0], trajectories[2])
    assert trajectories[0][:2].tolist() == trajectories[1][:2].tolist()
    monkeypatch.undo()
    alone = Anticipator.from_pretrained(saved_models[variant], device="cpu").trajectory("I hate Muslims.")
    np.testing.assert_allclose(trajectories[1], alone["p_hate"], atol=SHARED_PASS_TOLERANCE)


def _per_prefix_forward(model, tokenizer, prefixes):
    """The old evaluation path: each prefix its own sequence, padded in one batch, the model's forward."""
    batch = tokenizer(prefixes, padding=True, return_tensors="pt")
    with torch.no_grad():
        return torch.sigmoid(model(batch["input_ids"], batch["attention_mask"]).logits.double()).numpy()


@pytest.mark.parametrize("variant", VARIANTS)
def test_trajectories_agree_with_trajectory_score_and_are_float64(variant, saved_models):
    anticipator = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    batch = anticipator.trajectories(SENTENCES, batch_size=3)
    assert [len(t) for t in batch] == [len(s.split()) for s in SENTENCES]
    assert all(t.dtype == np.float64 for t in batch)
    for sentence, trajectory in zip(SENTENCES, batch):
        table = anticipator.trajectory(sentence)
        assert table["p_hate"].dtype == np.float64
        assert np.abs(table["p_hate"].to_numpy() - trajectory).max() <= SHARED_PASS_TOLERANCE
    last_words = anticipator.score(SENTENCES, batch_size=2)
    assert last_words.dtype == np.float64
    assert np.abs(last_words - [t[-1] for t in batch]).max() <= SHARED_PASS_TOLERANCE
    assert anticipator.last_truncated == 0 and anticipator.trajectories([]) == []
    assert anticipator.score([]).shape == (0,)


@pytest.mark.parametrize("variant", ["decoder", "decoder+bilstm"])
def test_shared_passes_equal_per_prefix_scoring(variant, saved_models):
    """Decoders share passes in score() and trajectories(): the same p as every prefix scored alone."""
    anticipator = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    prefixes = [" ".join(s.split()[:k]) for s in SENTENCES for k in range(1, len(s.split()) + 1)]
    alone = _naive(anticipator, prefixes)  # one sequence per call: no sharing, no padding
    old_path = _per_prefix_forward(anticipator.model, anticipator.tokenizer, prefixes)
    shared = anticipator.score(prefixes[::-1], batch_size=4)[::-1]
    every = np.concatenate(anticipator.trajectories(SENTENCES, batch_size=2))
    worst = max(np.abs(p - reference).max() for p in (shared, every) for reference in (alone, old_path))
    print(f"{variant}: shared passes vs per-prefix scoring, max |dp| = {worst:.1e}")
    assert worst <= SHARED_PASS_TOLERANCE
    assert alone.std() > 0.05  # the tiny model does tell prefixes apart


@pytest.mark.parametrize("variant", VARIANTS)
def test_truncation_scores_the_words_that_fit_and_counts_them(variant, saved_models):
    unlimited = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    anticipator = Anticipator(unlimited.model, unlimited.tokenizer, max_length=8)
    (encoded,) = encode_sentences(anticipator.tokenizer, [TEXT], 8)
    n_fit, n_words = encoded.n_fit, encoded.n_words
    assert 1 < n_fit < n_words
    trajectory, short = anticipator.trajectories([TEXT, "You people"])
    assert anticipator.last_truncation == {
        "sentences": 2,
        "sentences_truncated": 1,
        "sentences_no_word_fits": 0,
        "prefixes_beyond_max_length": n_words - n_fit,
    }
    assert anticipator.last_truncated == 1
    assert len(trajectory) == n_words and np.all(trajectory[n_fit:] == trajectory[n_fit - 1])
    reference = unlimited.trajectory(TEXT)["p_hate"].to_numpy()
    assert np.abs(trajectory[:n_fit] - reference[:n_fit]).max() <= SHARED_PASS_TOLERANCE
    assert np.abs(short - unlimited.trajectory("You people")["p_hate"]).max() <= SHARED_PASS_TOLERANCE
    # score(): a long text is its longest fitting word-prefix
    (p,) = anticipator.score([TEXT])
    assert anticipator.last_truncated == 1 and abs(p - reference[n_fit - 1]) <= SHARED_PASS_TOLERANCE
    assert np.abs(anticipator.trajectory(TEXT)["p_hate"] - trajectory).max() <= SHARED_PASS_TOLERANCE
    stream = anticipator.stream()
    streamed = [stream.add_word(word) for word in TEXT.split()]
    assert stream.truncated_words == n_words - n_fit
    assert np.abs(np.array(streamed) - trajectory).max() <= SHARED_PASS_TOLERANCE


@pytest.mark.parametrize("variant", ["encoder+bilstm", "decoder"])
def test_scoring_restores_training_mode_and_keeps_the_device(variant, saved_models):
    """A training callback scores with the model in train mode: scores are eval-mode ones (no dropout) and
    the model is back in train mode after."""
    reference = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    expected = reference.trajectories(SENTENCES)
    model = reference.model.train()
    anticipator = Anticipator(model, reference.tokenizer)  # device=None: the model stays where it is
    assert anticipator.device == torch.device("cpu") and anticipator.max_length == reference.max_length
    for _ in range(2):  # dropout would make two calls differ
        got = anticipator.trajectories(SENTENCES)
        assert model.training
        assert max(np.abs(g - e).max() for g, e in zip(got, expected)) <= SHARED_PASS_TOLERANCE
    anticipator.stream().add_word("I am")
    assert model.training
    model.eval()


def test_errors_are_clear(saved_models, tmp_path):
    anticipator = Anticipator.from_pretrained(saved_models["encoder"], device="cpu")
    with pytest.raises(ValueError, match="empty text"):
        anticipator.trajectory("   ")
    with pytest.raises(ValueError, match="text 1 is empty"):
        anticipator.score(["fine", ""], progress=False)
    with pytest.raises(ValueError, match="text 0 is empty or not text"):
        anticipator.trajectories([None])
    with pytest.raises(ValueError, match="empty text"):
        anticipator.stream().add_word(" ")
    with pytest.raises(ValueError, match="text 1: its first word alone has more than max_length=3"):
        Anticipator(anticipator.model, anticipator.tokenizer, max_length=3).score(["I", "sexist"])
    missing = tmp_path / "nowhere"
    with pytest.raises(NotAModelDirError, match=r"nowhere.*does not exist"):
        Anticipator.from_pretrained(missing)
    with pytest.raises(NotAModelDirError, match=r"no config.json"):
        check_model_dir(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(NotAModelDirError, match="'bert' model, not a prefix classifier"):
        check_model_dir(tmp_path)
    (tmp_path / "config.json").write_text('{"model_type": "prefix_classifier"}')
    with pytest.raises(NotAModelDirError, match="no weights"):
        check_model_dir(tmp_path)


@pytest.mark.slow
def test_real_smollm2_stream_and_trajectory_equal_naive(tmp_path):
    from hatespeech.anticipation.training import new_prefix_classifier
    from hatespeech.config import get_profile

    model, tokenizer = new_prefix_classifier("decoder", get_profile("smoke"))
    anticipator = Anticipator(model, tokenizer, device="cpu")
    text = "Immigrants bring new ideas and energy"
    naive = _naive(anticipator, [" ".join(text.split()[:k]) for k in range(1, 7)])
    stream = anticipator.stream()
    streamed = np.array([stream.add_word(w) for w in text.split()])
    trajectory = anticipator.trajectory(text)["p_hate"].to_numpy()
    worst = max(np.abs(streamed - naive).max(), np.abs(trajectory - naive).max())
    print(f"real SmolLM2 stream/one-pass vs naive: max abs probability diff {worst:.2e}")
    assert worst <= TOLERANCE
