"""Notebook 07's logic (hatespeech.anticipation.continuation_study) on tiny random models and a fake test set:
every system on the same prefixes, the calibration map fit on train sentences only, endings to a tweet length,
the intervals and paired comparisons, the Monte-Carlo noise term, the typed result's round trip, findings and
tables."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from anticipation_support import tiny_causal_lm
from hatespeech.anticipation import continuation_study as cs
from hatespeech.anticipation.continuations import ContinuationEstimator, ContinuationSettings
from hatespeech.anticipation.inference import Anticipator
from hatespeech.config import get_profile, overridden
from hatespeech.models.prefix import tiny_prefix_classifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

SENTENCES = [
    "I am not sexist, but women should not vote",
    "Immigrants bring new ideas and energy",
    "they should all go back where they came from",
    "You people are all the same",
]


TRAIN = [
    "women are wonderful colleagues",
    "send them all back now before it is too late",
    "we need better schools for every child",
    "those people ruin everything they touch",
]


def _test_rows(sentences=SENTENCES, prefix="t") -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = [len(s.split()) for s in sentences]
    return pd.DataFrame(
        {
            "sentence_id": [f"{prefix}{i}" for i in range(len(sentences))],
            "corpus_class": ["hate", "nohate", "hate", "hate"],
            "sentence": sentences,
            "n_words": n,
            "labels": [np.linspace(0.1, 0.9 if i != 1 else 0.1, k) for i, k in enumerate(n)],
            "label_a": [rng.random(k) for k in n],
            "label_b": [rng.random(k) for k in n],
        }
    )


@pytest.fixture
def run(offline_tokenizer, monkeypatch):
    tokenizer = offline_tokenizer("offline:smollm2-135m")
    generator = tiny_causal_lm(tokenizer)
    scorer = Anticipator(tiny_prefix_classifier("decoder", tokenizer), tokenizer, device="cpu")
    phase2_model = tiny_prefix_classifier("decoder+bilstm", tokenizer)
    profile = get_profile(
        "smoke", **{"anticipation.bootstrap_resamples": 50, "anticipation.continuation.max_sentences": None}
    )

    def build(profile, variant, ending_lengths=None):
        settings = ContinuationSettings(
            n_samples=3, max_new_tokens=4, seed=profile.seed, ending_lengths=ending_lengths
        )
        return ContinuationEstimator(generator, tokenizer, scorer, settings), "tiny random generator"

    data = type("D", (), {"test": _test_rows(), "train": _test_rows(TRAIN, prefix="tr")})()
    monkeypatch.setattr(cs, "build_estimator", build)
    monkeypatch.setattr(cs, "load_phase2_data", lambda profile: data)
    monkeypatch.setattr(cs, "load_checkpoint", lambda profile, phase, variant: (phase2_model, tokenizer, {}))
    return cs.run_continuations(profile, phase1_best="decoder", phase2_best="decoder+bilstm", constant=0.3)


def test_every_system_scores_the_same_prefixes(run):
    n_prefixes = sum(len(s.split()) for s in SENTENCES)
    assert len(run.estimates) == n_prefixes
    keys = {
        "continuation:decoder",
        "continuation_raw:decoder",
        "phase1_prefix:decoder",
        "phase1_prefix_calibrated:decoder",
        "phase2:decoder+bilstm",
        "constant:train_mean",
    }
    assert set(run.predictions) == keys
    frames = list(run.predictions.values())
    for frame in frames:
        assert frame[["sentence_id", "k"]].equals(frames[0][["sentence_id", "k"]])
    # k = n: the estimate is the classifier's score of the sentence, the same as the prefix system's, raw and
    # calibrated alike; the calibrated one is the raw one through the map fit on the train sentences
    full = frames[0]["k"] == frames[0]["n_words"]
    for estimate, prefix in (
        ("continuation", "phase1_prefix_calibrated"),
        ("continuation_raw", "phase1_prefix"),
    ):
        assert np.allclose(
            run.predictions[f"{estimate}:decoder"].loc[full, "p_hate"],
            run.predictions[f"{prefix}:decoder"].loc[full, "p_hate"],
            atol=1e-6,
        )
    raw = run.predictions["phase1_prefix:decoder"]["p_hate"]
    assert np.allclose(run.calibration(raw), run.predictions["phase1_prefix_calibrated:decoder"]["p_hate"])
    assert run.calibration.n_sentences == len(TRAIN)
    assert (run.predictions["constant:train_mean"]["p_hate"] == 0.3).all()


def test_result_holds_intervals_comparisons_noise_and_reads_back(run, tmp_path, monkeypatch):
    result = cs.continuation_result(
        run, {"baseline:tfidf_ridge": {"estimate": 0.05, "low": 0.04, "high": 0.06}}
    )
    key = "continuation:decoder"
    assert result.key == key
    assert set(result.intervals) == set(run.predictions)
    assert {c.name_b for c in result.comparisons.values()} == set(run.predictions) - {key}
    continued = [e for e in run.estimates if len(e.scores) > 1]
    assert result.mc_noise.mean_stderr_squared == pytest.approx(np.mean([e.stderr**2 for e in continued]))
    assert result.cost.endings == 3 * len(continued)
    assert 0 < len(result.examples) <= 4 and all(len(e.endings) <= 3 for e in result.examples)
    text = " ".join(result.findings())
    assert "imagined endings" in text.lower() and "Monte-Carlo noise adds about" in text
    assert "no clear difference" in text or "better than" in text
    titles = [title for title, _ in result.tables()]
    assert titles[0] == "test MSE of every system on the same prefixes" and "may be offensive" in titles[1]
    table = result.tables()[0][1]
    assert "baseline:tfidf_ridge (notebook 03)" in table.index  # quoted: the same test set

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    result.write(run.profile)
    back = cs.ContinuationResult.read(tmp_path)
    assert back.intervals == result.intervals and back.findings() == result.findings()
    assert back.target == result.target and isinstance(back.target.difference.difference.low, float)


def test_a_sampled_test_set_does_not_quote_notebook_03(run):
    run = dataclasses.replace(
        run, profile=overridden(run.profile, {"anticipation.continuation.max_sentences": 2})
    )
    result = cs.continuation_result(
        run, {"baseline:tfidf_ridge": {"estimate": 0.05, "low": 0.04, "high": 0.06}}
    )
    assert result.notebook03 == {} and result.test.all_test_sentences is False


def test_the_calibration_map_refuses_a_test_sentence():
    """Issue 26: the map is fit on data the test never touches; a test id reaching it is an error."""
    from hatespeech.anticipation.calibration import CalibrationLeakError, PlattMap

    train, test = _test_rows(TRAIN, prefix="tr"), _test_rows()
    labels = [float(x[-1]) for x in train["labels"]]
    fitted = PlattMap.fit([0.2, 0.9, 0.3, 0.8], labels, train["sentence_id"], test["sentence_id"], "train")
    assert 0 < fitted(np.array([0.5]))[0] < 1 and fitted.n_sentences == 4
    leaking = pd.concat([train, test.head(1)])
    with pytest.raises(CalibrationLeakError, match="t0"):
        PlattMap.fit(
            [0.2, 0.9, 0.3, 0.8, 0.5], [*labels, 0.5], leaking["sentence_id"], test["sentence_id"], "x"
        )


def test_platt_map_recovers_a_known_miscalibration():
    """Scores inflated as a class weight inflates them (odds x 4) map back to the true probabilities."""
    from hatespeech.anticipation.calibration import PlattMap
    from scipy.special import expit, logit

    true = np.linspace(0.05, 0.95, 200)
    inflated = expit(logit(true) + np.log(4))
    fitted = PlattMap.fit(inflated, true, range(200), [], "synthetic")
    assert fitted.slope == pytest.approx(1.0, abs=0.02) and fitted.intercept == pytest.approx(
        -np.log(4), abs=0.05
    )
    assert np.allclose(fitted(inflated), true, atol=0.01)


def test_notebook_03_rows_quoted_are_the_phase_2_variants_baselines_and_prior_corrected_models():
    intervals = {
        key: {"estimate": 0.05, "low": 0.04, "high": 0.06}
        for key in (
            "phase2:encoder",
            "baseline:tfidf_ridge",
            "phase1_only_corrected:decoder",
            "phase1_only:decoder",
            "constant:train_mean",
            "no_phase1:encoder",
        )
    }
    phase2 = SimpleNamespace(phase2_evidence=SimpleNamespace(intervals=intervals))
    assert list(cs.notebook03_rows(phase2)) == [
        "phase2:encoder",
        "baseline:tfidf_ridge",
        "phase1_only_corrected:decoder",
    ]
