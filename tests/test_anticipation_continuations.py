"""hatespeech.anticipation.continuations on a tiny random causal LM and a tiny classifier: seeded sampling
repeats, k = n gives the classifier's score, the standard error shrinks with N, endings stop at a sentence
end or the token cap."""

from __future__ import annotations

import numpy as np
import pytest
from anticipation_support import tiny_causal_lm
from hatespeech.anticipation.continuations import (
    SENTENCE_END,
    ContinuationEstimator,
    ContinuationSettings,
    cut_at_sentence_end,
    cut_at_words,
)
from hatespeech.anticipation.inference import Anticipator
from hatespeech.models.prefix import tiny_prefix_classifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

PREFIX = "I am not sexist, but"


@pytest.fixture(scope="module")
def parts(tmp_path_factory, offline_tokenizer):
    tokenizer = offline_tokenizer("offline:smollm2-135m")
    generator = tiny_causal_lm(tokenizer)
    folder = tmp_path_factory.mktemp("scorer")
    tiny_prefix_classifier("decoder", tokenizer).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return generator, tokenizer, Anticipator.from_pretrained(folder, device="cpu")


def estimator(parts, **settings) -> ContinuationEstimator:
    generator, tokenizer, scorer = parts
    return ContinuationEstimator(generator, tokenizer, scorer, ContinuationSettings(**settings))


def test_seeded_sampling_repeats_and_the_seed_matters(parts):
    first = estimator(parts, n_samples=6, max_new_tokens=8).estimate(PREFIX)
    again = estimator(parts, n_samples=6, max_new_tokens=8).estimate(PREFIX)
    assert first.endings == again.endings and first.mean == again.mean
    other = estimator(parts, n_samples=6, max_new_tokens=8, seed=7).estimate(PREFIX)
    assert other.endings != first.endings
    # per-prefix seeds: a prefix gets the same endings whatever is estimated with it
    batch = estimator(parts, n_samples=6, max_new_tokens=8).estimate_many(["You people", PREFIX])
    assert batch[1].endings == first.endings
    one_by_one = estimator(parts, n_samples=6, max_new_tokens=8).estimate_many(
        ["You people", PREFIX], batch_prefixes=1
    )
    assert [e.endings for e in one_by_one] == [e.endings for e in batch]  # batch size changes nothing


def test_complete_sentence_gets_the_classifier_score(parts):
    _, _, scorer = parts
    text = "I am not sexist, but women should not vote."
    estimate = estimator(parts).estimate(text, complete=True)
    assert estimate.mean == pytest.approx(float(scorer.score([text])[0])) and estimate.stderr == 0.0
    assert estimate.complete and not estimator(parts, n_samples=2, max_new_tokens=2).estimate(PREFIX).complete
    flags = estimator(parts, n_samples=4, max_new_tokens=4).estimate_many([PREFIX, text], [False, True])
    assert flags[1].mean == estimate.mean and len(flags[0].scores) == 4


def test_the_standard_error_shrinks_with_more_samples(parts):
    """Over a few fixed prefixes (one draw's spread is noisy when the scores are skewed), the mean standard
    error at N = 32 is below that at N = 4, by about sqrt(8)."""
    prefixes = [PREFIX, "You people", "Immigrants bring", "they should all"]
    few = estimator(parts, n_samples=4, max_new_tokens=4).estimate_many(prefixes)
    many = estimator(parts, n_samples=32, max_new_tokens=4).estimate_many(prefixes)
    assert all(e.scores.std() > 0 for e in many)  # the endings do move the classifier
    assert np.mean([e.stderr for e in many]) < np.mean([e.stderr for e in few])
    assert many[0].stderr == pytest.approx(many[0].scores.std(ddof=1) / np.sqrt(32))


def test_endings_stop_at_a_sentence_end_or_the_cap(parts, monkeypatch):
    generator, _, _ = parts
    generated = []
    original = generator.generate

    def spy(**kwargs):
        out = original(**kwargs)
        generated.append(out.shape[1] - kwargs["input_ids"].shape[1])
        return out

    monkeypatch.setattr(generator, "generate", spy)
    estimate = estimator(parts, n_samples=16, max_new_tokens=5).estimate(PREFIX)
    assert generated == [5] or generated[0] < 5  # never more new tokens than the cap
    for ending in estimate.endings:
        assert not SENTENCE_END.search(ending[:-1])  # at most one sentence end, at the very end
    assert cut_at_sentence_end(" women should not vote. And then") == " women should not vote."
    assert cut_at_sentence_end(" no end here") == " no end here"


def test_endings_run_to_a_drawn_tweet_length(parts):
    """With the train tweets' word counts, each ending adds (drawn length - prefix words) words, the draw
    seeded per row and taken only among lengths longer than the prefix; the token cap still binds."""
    k = len(PREFIX.split())
    lengths = (3, 9, 12)  # 3 is shorter than the prefix: never drawn
    est = estimator(parts, n_samples=8, max_new_tokens=40, ending_lengths=lengths)
    estimate = est.estimate(PREFIX)
    for i, ending in enumerate(estimate.endings):
        wanted = est.ending_words(PREFIX, est._seed(PREFIX) + i)
        assert wanted in (9 - k, 12 - k)
        assert len(ending.split()) <= wanted
    assert est.ending_words("one two three four five six seven eight nine ten eleven twelve", 0) == 1
    assert cut_at_words(" women should not vote. And then", 5) == " women should not vote. And"
    with pytest.raises(ValueError, match="ending_lengths"):
        ContinuationSettings(ending_lengths=())


def test_calibration_applies_to_each_ending_before_the_mean(parts):
    """Calibrating the mean is not the mean of calibrated scores: the estimator maps every ending."""
    from scipy.special import expit, logit

    def halve_odds(p):
        return expit(logit(np.clip(p, 1e-6, 1 - 1e-6)) - np.log(2))

    plain = estimator(parts, n_samples=6, max_new_tokens=4).estimate(PREFIX)
    generator, tokenizer, scorer = parts
    calibrated = ContinuationEstimator(
        generator, tokenizer, scorer, ContinuationSettings(n_samples=6, max_new_tokens=4), halve_odds
    ).estimate(PREFIX)
    assert calibrated.endings == plain.endings and calibrated.raw_mean == pytest.approx(plain.mean)
    assert calibrated.mean == pytest.approx(float(np.mean(halve_odds(plain.scores))))


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"n_samples": 0}, "n_samples must be >= 1"),
        ({"top_p": 0.0}, "top_p must be in"),
        ({"temperature": 0}, "temperature must be > 0"),
        ({"max_new_tokens": 0}, "max_new_tokens must be >= 1"),
    ],
)
def test_settings_are_validated(settings, message):
    with pytest.raises(ValueError, match=message):
        ContinuationSettings(**settings)
