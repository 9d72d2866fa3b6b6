"""Honest non-neural baselines for the anticipation experiments, fit on exactly the neural models' examples.

Why these: a neural prefix model is only interesting if it beats what a bag of n-grams already knows, and
the comparison is only honest if the baseline sees the *same* rows with the *same* weights. So every model
here takes the prefix texts, their targets and the same ``sample_weight`` the neural loss uses:

* phase 1 (binary, label of the finished sentence): :class:`MajorityClassifier` (the floor any classifier
  must clear) and :class:`TfidfLogistic`, with ``sample_weight = w_len = k / n_words``;
* phase 2 (probability target per prefix): :class:`ConstantRegressor` (the weighted mean target, the floor
  for any regression) and :class:`TfidfRidge`, with ``sample_weight = w = 0.8·C·y + 0.2·w_len``.

:func:`best_f1_threshold` and :func:`select_alpha` pick a decision threshold / a hyper-parameter on a
*selection* split; neither may ever look at the split that is reported.

Input is checked, never repaired: an empty text, a label that is not 0/1, a target outside [0, 1] or a
length mismatch raises ValueError naming the row and the value, so no row is dropped silently.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import precision_recall_curve
from sklearn.pipeline import FeatureUnion

# ---------------------------------------------------------------------------------------------------------
# Input checks (shared by every fit / predict)
# ---------------------------------------------------------------------------------------------------------


def _check_texts(texts) -> list[str]:
    """``texts`` as a list of non-empty strings, else ValueError naming the first bad row and its value."""
    if isinstance(texts, (str, bytes)):
        raise ValueError(f"texts must be a sequence of strings, not a single string: {texts!r}")  # noqa: TRY004 -- bad input is a ValueError throughout (the CLI maps it to exit 2)
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty: need at least one text")
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text at row {i} is not a non-empty string: {text!r}")
    return texts


def _check_length(name: str, values, n: int, of: str = "texts") -> list:
    values = list(values)
    if len(values) != n:
        raise ValueError(f"length mismatch: {n} {of} but {len(values)} {name}")
    return values


def _is_real(value) -> bool:
    # numpy's bool_ is not registered as numbers.Real, but a boolean label array is fine.
    return isinstance(value, (numbers.Real, np.bool_)) and not isinstance(value, (str, bytes))


def _check_labels(labels, n: int, of: str = "texts") -> np.ndarray:
    """Labels as an int array; 0/1 (also 0.0, 1.0, bools) only, else ValueError naming the row."""
    labels = _check_length("labels", labels, n, of)
    for i, label in enumerate(labels):
        if not _is_real(label) or label not in (0, 1):
            raise ValueError(f"label at row {i} is not 0 or 1: {label!r}")
    return np.asarray(labels, dtype=np.int64)


def _check_targets(targets, n: int) -> np.ndarray:
    """Regression targets in [0, 1] as a float array, else ValueError naming the row and the value."""
    targets = _check_length("targets", targets, n)
    for i, target in enumerate(targets):
        if not _is_real(target) or not 0.0 <= float(target) <= 1.0:  # NaN fails the comparison too
            raise ValueError(f"target at row {i} is not a number in [0, 1]: {target!r}")
    return np.asarray(targets, dtype=np.float64)


def _check_weight(sample_weight, n: int) -> np.ndarray | None:
    """Finite, non-negative weights with a positive sum (or None), else ValueError naming the row."""
    if sample_weight is None:
        return None
    weights = _check_length("sample weights", sample_weight, n)
    for i, weight in enumerate(weights):
        if not _is_real(weight) or not math.isfinite(float(weight)) or float(weight) < 0.0:
            raise ValueError(f"sample weight at row {i} is not a finite number >= 0: {weight!r}")
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0.0:
        raise ValueError("sample weights are all zero: at least one row must carry weight")
    return weights


def _not_fitted(model: object) -> NotFittedError:
    # NotFittedError is a ValueError (and an AttributeError), so callers catching ValueError still see it.
    return NotFittedError(f"{type(model).__name__} is not fitted yet: call fit() first")


# ---------------------------------------------------------------------------------------------------------
# Features
# ---------------------------------------------------------------------------------------------------------


def tfidf_features(max_features: int | None = 200_000) -> FeatureUnion:
    """Word 1-2 grams + char_wb 2-5 grams, each TF-IDF (lowercase, sublinear tf, min_df=2), side by side.

    Why this union: word n-grams carry the content ("are bad", "not sexist"); character n-grams inside word
    boundaries (``char_wb``) catch what word tokens miss in social-media text: misspellings, obfuscations
    ("h8"), elongations, morphology, and the half-typed last word of a prefix. ``sublinear_tf`` (1 + log tf)
    stops one repeated word from dominating a text; ``min_df=2`` drops n-grams seen in a single training
    text, which cannot generalise and would only bloat the matrix. Single-character words ("I", "u") are
    kept as word tokens, since prefixes are short and every word counts.

    ``max_features`` caps *each* vectorizer (so the union has at most twice that many columns); None keeps
    every n-gram that passes ``min_df``.
    """
    common = {"lowercase": True, "sublinear_tf": True, "min_df": 2, "max_features": max_features}
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", **common)
    return FeatureUnion(
        [
            ("word", words),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), **common)),
        ]
    )


# ---------------------------------------------------------------------------------------------------------
# Phase 1: binary classification of prefixes
# ---------------------------------------------------------------------------------------------------------


@dataclass
class MajorityClassifier:
    """Predicts the (weighted) majority train label everywhere: the floor any prefix classifier must beat.

    The majority is taken by summed ``sample_weight`` (w_len), so it is the class that dominates the same
    weighted loss the neural model minimises. An exact tie goes to 0 (never flag without evidence).
    """

    majority: int | None = None

    def fit(self, texts, labels, sample_weight=None) -> MajorityClassifier:
        texts = _check_texts(texts)
        y = _check_labels(labels, len(texts))
        w = _check_weight(sample_weight, len(texts))
        w = np.ones(len(y)) if w is None else w
        self.majority = int(w[y == 1].sum() > w[y == 0].sum())
        return self

    def predict_proba(self, texts) -> np.ndarray:
        """1-d P(label = 1): 1.0 everywhere if the majority is 1, else 0.0."""
        if self.majority is None:
            raise _not_fitted(self)
        texts = _check_texts(texts)
        return np.full(len(texts), float(self.majority))


class TfidfLogistic:
    """TF-IDF (:func:`tfidf_features`) + logistic regression: the standard strong linear text classifier.

    ``class_weight="balanced"`` plays the role of the neural models' ``pos_weight`` (sklearn computes it
    from the unweighted label counts and multiplies it into ``sample_weight``). The solver is ``lbfgs``: it
    handles sparse input and sample weights, is deterministic, and unlike liblinear does not penalise the
    intercept. ``seed`` is passed as ``random_state`` so that a change of solver stays reproducible.
    """

    def __init__(
        self, C: float = 4.0, class_weight="balanced", seed: int = 0, max_features: int | None = 200_000
    ):
        self.C = C
        self.class_weight = class_weight
        self.seed = seed
        self.max_features = max_features
        self.features: FeatureUnion | None = None
        self.model: LogisticRegression | None = None

    def fit(self, texts, labels, sample_weight=None) -> TfidfLogistic:
        """Fit on prefix texts and 0/1 labels; ``sample_weight`` is the phase-1 ``w_len = k / n_words``."""
        texts = _check_texts(texts)
        y = _check_labels(labels, len(texts))
        w = _check_weight(sample_weight, len(texts))
        if len(np.unique(y)) < 2:
            raise ValueError(f"labels hold only class {int(y[0])}: a classifier needs both 0 and 1")
        features = tfidf_features(self.max_features)
        x = features.fit_transform(texts)
        model = LogisticRegression(
            C=self.C, class_weight=self.class_weight, solver="lbfgs", max_iter=2000, random_state=self.seed
        )
        model.fit(x, y, sample_weight=w)
        self.features, self.model = features, model
        return self

    def predict_proba(self, texts) -> np.ndarray:
        """1-d P(hate) per text."""
        if self.model is None:
            raise _not_fitted(self)
        texts = _check_texts(texts)
        return self.model.predict_proba(self.features.transform(texts))[:, 1]


# ---------------------------------------------------------------------------------------------------------
# Phase 2: regression of a probability target per prefix
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ConstantRegressor:
    """Predicts the (weighted) mean train target everywhere: the weighted-MSE-optimal constant, the floor."""

    value: float | None = None

    def fit(self, texts, targets, sample_weight=None) -> ConstantRegressor:
        texts = _check_texts(texts)
        y = _check_targets(targets, len(texts))
        w = _check_weight(sample_weight, len(texts))
        self.value = float(np.average(y, weights=w))
        return self

    def predict(self, texts) -> np.ndarray:
        if self.value is None:
            raise _not_fitted(self)
        texts = _check_texts(texts)
        return np.full(len(texts), self.value)


class TfidfRidge:
    """TF-IDF (:func:`tfidf_features`) + ridge regression of the per-prefix probability target.

    Ridge minimises the same weighted squared error the phase-2 models train on. It is unbounded, so
    predictions are clipped to [0, 1]: a probability outside that range is never better than its clip.
    """

    def __init__(self, alpha: float = 1.0, max_features: int | None = 200_000):
        self.alpha = alpha
        self.max_features = max_features
        self.features: FeatureUnion | None = None
        self.model: Ridge | None = None

    def fit(self, texts, targets, sample_weight=None) -> TfidfRidge:
        """Fit on prefix texts and targets in [0, 1]; ``sample_weight`` is the phase-2 ``w``."""
        texts = _check_texts(texts)
        y = _check_targets(targets, len(texts))
        w = _check_weight(sample_weight, len(texts))
        features = tfidf_features(self.max_features)
        x = features.fit_transform(texts)
        model = Ridge(alpha=self.alpha)
        model.fit(x, y, sample_weight=w)
        self.features, self.model = features, model
        return self

    def predict(self, texts) -> np.ndarray:
        """1-d predicted probability per text, clipped to [0, 1]."""
        if self.model is None:
            raise _not_fitted(self)
        texts = _check_texts(texts)
        return np.clip(self.model.predict(self.features.transform(texts)), 0.0, 1.0)


# ---------------------------------------------------------------------------------------------------------
# Selection on a held-out selection split
# ---------------------------------------------------------------------------------------------------------


def best_f1_threshold(labels, probabilities, sample_weight=None) -> float:
    """The threshold t maximising F1 of ``probabilities >= t`` against ``labels`` (weighted F1 when
    ``sample_weight`` is given, e.g. 1 / n_words so that each sentence weighs 1 over its prefixes).

    Choose it on a *selection* (validation) split, never on the split whose F1 is reported: a threshold
    tuned on the reported examples inflates their F1. Ties go to the lowest such threshold. The result is
    one of the given probability values, so ``probabilities >= t`` reproduces the best F1 exactly.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 1:
        raise ValueError(f"probabilities must be 1-d, got shape {probabilities.shape}")
    if len(probabilities) == 0:
        raise ValueError("probabilities is empty: need at least one example")
    y = _check_labels(labels, len(probabilities), of="probabilities")
    for i, p in enumerate(probabilities):
        if not _is_real(p) or not 0.0 <= float(p) <= 1.0:
            raise ValueError(f"probability at row {i} is not a number in [0, 1]: {p!r}")
    if not y.any():
        raise ValueError("labels have no positive (1): F1 is undefined, no threshold can be chosen")
    weight = _check_weight(sample_weight, len(probabilities))
    precision, recall, thresholds = precision_recall_curve(y, probabilities, sample_weight=weight)
    # thresholds ascend; precision/recall carry one extra final point (recall 0) with no threshold.
    precision, recall = precision[:-1], recall[:-1]
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    # Equal F1 can differ in the last bit depending on how P and R were rounded: treat those as ties.
    best = int(np.flatnonzero(f1 >= f1.max() - 1e-12)[0])
    return float(thresholds[best])


def select_alpha(
    make: Callable[[float], object],
    grid: Sequence[float],
    fit_texts,
    fit_targets,
    fit_weight,
    sel_texts,
    sel_targets,
    sel_weight,
    score: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float],
) -> tuple[float, dict[float, float]]:
    """Fit ``make(v)`` for each v in ``grid`` on the fit split, score it on the selection split; lowest wins.

    ``make(v)`` returns an unfitted model with ``fit(texts, targets, sample_weight=...)`` and ``predict``
    (used if present) or ``predict_proba``. ``score(y_true, y_pred, weight)`` is lower-is-better (e.g. a
    weighted MSE). Ties go to the value listed first in ``grid``. Returns ``(best value, {value: score})``.
    The selection split must not be the reported one.
    """
    grid = list(grid)
    if not grid:
        raise ValueError("grid is empty: need at least one value to try")
    scores: dict[float, float] = {}
    for value in grid:
        model = make(value).fit(fit_texts, fit_targets, sample_weight=fit_weight)
        predict = model.predict if hasattr(model, "predict") else model.predict_proba
        result = float(score(sel_targets, predict(sel_texts), sel_weight))
        if math.isnan(result):
            raise ValueError(f"score for grid value {value!r} is NaN")
        scores[value] = result
    best = min(grid, key=lambda v: scores[v])  # min returns the first of equal scores
    return best, scores
