"""Baselines of :mod:`hatespeech.baselines` on tiny made-up fixtures (neutral stand-in words)."""

from __future__ import annotations

import numpy as np
import pytest
from hatespeech.baselines import (
    ConstantRegressor,
    MajorityClassifier,
    TfidfLogistic,
    TfidfRidge,
    best_f1_threshold,
    select_alpha,
    tfidf_features,
)
from sklearn.metrics import f1_score

SUBJECTS = [
    "apples",
    "pears",
    "the movie",
    "this song",
    "the weather",
    "our team",
    "the food",
    "that book",
    "the show",
    "my phone",
    "the game",
    "this city",
]
# "bad" stands in for hateful (1), "good" for not hateful (0): separable by one word.
TEXTS = [f"{s} are bad" for s in SUBJECTS] + [f"{s} are good" for s in SUBJECTS]
LABELS = [1] * len(SUBJECTS) + [0] * len(SUBJECTS)
TARGETS = [0.9] * len(SUBJECTS) + [0.1] * len(SUBJECTS)


def weighted_mse(y_true, y_pred, weight):
    return float(np.average((np.asarray(y_true) - np.asarray(y_pred)) ** 2, weights=weight))


# --- features ---------------------------------------------------------------------------------------------


def test_tfidf_features_union_of_word_and_char_ngrams():
    union = tfidf_features(max_features=None)
    x = union.fit_transform(TEXTS)
    assert x.shape[0] == len(TEXTS)
    word, char = (dict(union.transformer_list)[k] for k in ("word", "char"))
    assert word.ngram_range == (1, 2) and word.analyzer == "word" and word.min_df == 2 and word.sublinear_tf
    assert char.ngram_range == (2, 5) and char.analyzer == "char_wb"
    assert char.min_df == 2 and char.sublinear_tf and char.lowercase and word.lowercase
    assert "are bad" in word.vocabulary_ and "bad" in word.vocabulary_
    assert tfidf_features(max_features=5).fit_transform(TEXTS).shape[1] <= 10


# --- phase 1 ----------------------------------------------------------------------------------------------


def test_majority_classifier_predicts_majority_class():
    model = MajorityClassifier().fit(["a b", "c d", "e f"], [1, 1, 0])
    assert model.majority == 1
    assert model.predict_proba(["x", "y"]).tolist() == [1.0, 1.0]
    model = MajorityClassifier().fit(["a b", "c d", "e f"], [0, 0, 1])
    assert model.majority == 0
    assert model.predict_proba(["x"]).tolist() == [0.0]


def test_majority_classifier_respects_sample_weight():
    model = MajorityClassifier().fit(["a b", "c d", "e f"], [1, 1, 0], sample_weight=[0.1, 0.1, 5.0])
    assert model.majority == 0
    assert model.predict_proba(["x"]).tolist() == [0.0]


def test_tfidf_logistic_separates_separable_fixture():
    model = TfidfLogistic().fit(TEXTS, LABELS)
    proba = model.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS),)
    assert np.all((proba >= 0.0) & (proba <= 1.0))
    assert np.mean((proba >= 0.5).astype(int) == np.array(LABELS)) == 1.0
    unseen = model.predict_proba(["the bus are bad", "the bus are good"])
    assert unseen.shape == (2,) and unseen[0] > unseen[1]


def test_tfidf_logistic_sample_weight_changes_fit():
    weights = np.where(np.arange(len(TEXTS)) % 3 == 0, 5.0, 0.2)
    plain = TfidfLogistic().fit(TEXTS, LABELS).predict_proba(TEXTS)
    weighted = TfidfLogistic().fit(TEXTS, LABELS, sample_weight=weights).predict_proba(TEXTS)
    assert not np.allclose(plain, weighted)


def test_tfidf_logistic_is_deterministic():
    a = TfidfLogistic(seed=3).fit(TEXTS, LABELS).predict_proba(TEXTS)
    b = TfidfLogistic(seed=3).fit(TEXTS, LABELS).predict_proba(TEXTS)
    assert np.array_equal(a, b)


def test_tfidf_logistic_needs_both_classes():
    with pytest.raises(ValueError, match="only class 1"):
        TfidfLogistic().fit(TEXTS[:4], [1, 1, 1, 1])


# --- phase 2 ----------------------------------------------------------------------------------------------


def test_constant_regressor_returns_weighted_mean():
    model = ConstantRegressor().fit(["a b", "c d", "e f"], [0.0, 0.5, 1.0])
    assert model.value == pytest.approx(0.5)
    model = ConstantRegressor().fit(["a b", "c d", "e f"], [0.0, 0.5, 1.0], sample_weight=[1.0, 1.0, 2.0])
    assert model.value == pytest.approx((0.0 + 0.5 + 2.0) / 4.0)
    assert model.predict(["x", "y", "z"]).tolist() == pytest.approx([0.625] * 3)


def test_tfidf_ridge_in_unit_interval_and_beats_constant():
    targets = [1.0] * len(SUBJECTS) + [0.0] * len(SUBJECTS)  # extreme targets: ridge alone can overshoot
    ridge = TfidfRidge(alpha=0.01).fit(TEXTS, targets)
    for texts in (TEXTS, ["the bus are bad", "the bus are good", "nothing in common here"]):
        predictions = ridge.predict(texts)
        assert predictions.shape == (len(texts),)
        assert np.all((predictions >= 0.0) & (predictions <= 1.0))
    ridge = TfidfRidge().fit(TEXTS, TARGETS)
    constant = ConstantRegressor().fit(TEXTS, TARGETS)
    ridge_mse = weighted_mse(TARGETS, ridge.predict(TEXTS), None)
    assert ridge_mse < weighted_mse(TARGETS, constant.predict(TEXTS), None)


# --- selection --------------------------------------------------------------------------------------------


def test_best_f1_threshold_hand_checked():
    labels = [0, 1, 0, 1, 1, 0]
    probs = [0.2, 0.9, 0.6, 0.4, 0.7, 0.1]
    # By hand, F1 = 2tp / (2tp + fp + fn) with 3 positives:
    #   t=0.9: tp1 fp0 fn2 -> 2/4   t=0.7: tp2 fp0 fn1 -> 4/5   t=0.6: tp2 fp1 fn1 -> 4/6
    #   t=0.4: tp3 fp1 fn0 -> 6/7   t=0.2: tp3 fp2 fn0 -> 6/8   t=0.1: tp3 fp3 fn0 -> 6/9
    t = best_f1_threshold(labels, probs)
    assert t == 0.4
    assert f1_score(labels, np.asarray(probs) >= t) == pytest.approx(6 / 7)


def test_best_f1_threshold_ties_go_to_lowest():
    # t=0.9: tp1 fp0 fn1 -> 2/3; t=0.8 -> 1/2; t=0.7 -> 2/5; t=0.6: tp2 fp2 fn0 -> 4/6 = 2/3 (tie, lower)
    assert best_f1_threshold([1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6]) == 0.6


def test_best_f1_threshold_reproduces_best_f1_exactly():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    probs = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1).astype(np.float32)
    t = best_f1_threshold(labels, probs)
    assert t in set(probs.tolist())
    best = max(f1_score(labels, probs >= c) for c in np.unique(probs))
    assert f1_score(labels, probs >= t) == best


def test_best_f1_threshold_without_positives_raises():
    with pytest.raises(ValueError, match="no positive"):
        best_f1_threshold([0, 0, 0], [0.1, 0.5, 0.9])


class _Fixed:
    """Predicts one value everywhere, via ``predict`` or (``proba=True``) ``predict_proba`` only."""

    def __init__(self, value, proba=False):
        self.value = value
        if proba:
            self.predict_proba = self._predict
        else:
            self.predict = self._predict

    def fit(self, texts, targets, sample_weight=None):
        return self

    def _predict(self, texts):
        return np.full(len(texts), self.value)


@pytest.mark.parametrize("proba", [False, True])
def test_select_alpha_picks_obvious_value(proba):
    targets = [0.3] * 4
    best, scores = select_alpha(
        lambda v: _Fixed(v, proba),
        [0.0, 0.3, 0.9],
        TEXTS[:4],
        targets,
        None,
        TEXTS[:4],
        targets,
        None,
        weighted_mse,
    )
    assert best == 0.3
    assert scores == pytest.approx({0.0: 0.09, 0.3: 0.0, 0.9: 0.36})


def test_select_alpha_with_ridge_prefers_weak_regularisation_when_it_fits():
    weight = [1.0] * len(TEXTS)
    best, scores = select_alpha(
        lambda a: TfidfRidge(alpha=a),
        [1e4, 0.1],
        TEXTS,
        TARGETS,
        weight,
        TEXTS,
        TARGETS,
        weight,
        weighted_mse,
    )
    assert best == 0.1 and scores[0.1] < scores[1e4]


def test_select_alpha_empty_grid_raises():
    with pytest.raises(ValueError, match="grid is empty"):
        select_alpha(lambda v: _Fixed(v), [], TEXTS, TARGETS, None, TEXTS, TARGETS, None, weighted_mse)


# --- validation -------------------------------------------------------------------------------------------

CLASSIFIERS = [MajorityClassifier, TfidfLogistic]
REGRESSORS = [ConstantRegressor, TfidfRidge]
ALL = CLASSIFIERS + REGRESSORS


def _ok_targets(make, n):
    return [1, 0] * (n // 2) + [1] * (n % 2) if make in CLASSIFIERS else [0.5] * n


@pytest.mark.parametrize("make", ALL)
def test_fit_rejects_empty_texts(make):
    with pytest.raises(ValueError, match="texts is empty"):
        make().fit([], [])


@pytest.mark.parametrize("make", ALL)
def test_fit_rejects_single_string(make):
    with pytest.raises(ValueError, match="not a single string"):
        make().fit("apples are bad", [1])


@pytest.mark.parametrize("make", ALL)
def test_fit_rejects_length_mismatch(make):
    with pytest.raises(ValueError, match="3 texts but 2"):
        make().fit(["a b", "c d", "e f"], _ok_targets(make, 2))
    with pytest.raises(ValueError, match="3 texts but 4 sample weights"):
        make().fit(["a b", "c d", "e f"], _ok_targets(make, 3), sample_weight=[1.0] * 4)


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("bad", ["", "   ", None, 7])
def test_fit_rejects_bad_text(make, bad):
    with pytest.raises(ValueError, match=rf"row 1 is not a non-empty string: {bad!r}"):
        make().fit(["a b", bad, "e f"], _ok_targets(make, 3))


@pytest.mark.parametrize("make", CLASSIFIERS)
@pytest.mark.parametrize("bad", [2, 0.5, -1, float("nan"), "1"])
def test_fit_rejects_non_binary_label(make, bad):
    with pytest.raises(ValueError, match=rf"label at row 2 is not 0 or 1: {bad!r}"):
        make().fit(["a b", "c d", "e f"], [1, 0, bad])


def test_binary_labels_accept_floats_and_bools():
    assert MajorityClassifier().fit(["a", "b", "c"], [1.0, np.True_, False]).majority == 1


@pytest.mark.parametrize("make", REGRESSORS)
@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "0.5"])
def test_fit_rejects_target_out_of_range(make, bad):
    with pytest.raises(ValueError, match=rf"target at row 1 is not a number in \[0, 1\]: {bad!r}"):
        make().fit(["a b", "c d", "e f"], [0.1, bad, 0.2])


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("bad", [-1.0, float("inf")])
def test_fit_rejects_bad_weight(make, bad):
    with pytest.raises(ValueError, match=rf"sample weight at row 0 is not a finite number >= 0: {bad!r}"):
        make().fit(["a b", "c d", "e f"], _ok_targets(make, 3), sample_weight=[bad, 1.0, 1.0])
    with pytest.raises(ValueError, match="all zero"):
        make().fit(["a b", "c d", "e f"], _ok_targets(make, 3), sample_weight=[0.0, 0.0, 0.0])


@pytest.mark.parametrize("make", ALL)
def test_predict_validates_texts_and_fitting(make):
    predict = "predict_proba" if make in CLASSIFIERS else "predict"
    with pytest.raises(ValueError, match="not fitted"):
        getattr(make(), predict)(["a b"])
    model = make().fit(TEXTS, LABELS if make in CLASSIFIERS else TARGETS)
    with pytest.raises(ValueError, match="texts is empty"):
        getattr(model, predict)([])
    with pytest.raises(ValueError, match="row 1 is not a non-empty string: ''"):
        getattr(model, predict)(["a b", ""])


def test_best_f1_threshold_validates_input():
    with pytest.raises(ValueError, match="empty"):
        best_f1_threshold([], [])
    with pytest.raises(ValueError, match="3 probabilities but 2 labels"):
        best_f1_threshold([1, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="label at row 1 is not 0 or 1: 3"):
        best_f1_threshold([1, 3], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"probability at row 0 is not a number in \[0, 1\]"):
        best_f1_threshold([1, 0], [1.5, 0.2])
