"""A calibration map for a classifier's raw probability, fit on data the test never touches.

The phase-1 classifiers are trained with a positive-class weight (the class ratio), so their raw probability
is inflated: read as P(hateful), it is miscalibrated before anything else is wrong with it. Imagined endings
(:mod:`.continuations`) average such scores, so they inherit the bias. :class:`PlattMap` fixes the scale the
standard way (Platt 1999): a logistic regression on the logit of the raw score, here fit on the phase-2
*train* sentences at full length (k = n), whose labels are full-sentence judgements, never on a prefix label
(that would teach the scorer the very thing the endings are meant to estimate) and never on a test sentence
(:meth:`PlattMap.fit` refuses one by id).

Labels are probabilities, not 0/1: each sentence enters twice, as a positive with weight y and a negative
with weight 1 - y, which is the logistic likelihood of a soft label. scikit-learn does the fitting; this
module only shapes the data and guards what it may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression

EPS = 1e-6  # raw scores are clipped into [EPS, 1 - EPS] before the logit


class CalibrationLeakError(ValueError):
    """A calibration map was offered sentences of a split it must never see."""


@dataclass(frozen=True)
class PlattMap:
    """p -> expit(slope * logit(p) + intercept), fit by :meth:`fit`; ``fitted_on`` says on what."""

    slope: float
    intercept: float
    n_sentences: int
    fitted_on: str

    @classmethod
    def fit(cls, scores, labels, sentence_ids: Iterable, forbidden_ids: Iterable, fitted_on: str) -> PlattMap:
        """Fit on raw ``scores`` and soft ``labels`` in [0, 1] of the sentences ``sentence_ids``; raises
        :class:`CalibrationLeakError` naming them if any is in ``forbidden_ids`` (the test sentences)."""
        ids = list(sentence_ids)
        leaked = sorted(set(map(str, ids)) & set(map(str, forbidden_ids)))
        if leaked:
            raise CalibrationLeakError(
                f"{len(leaked)} calibration sentence(s) are test sentences, e.g. {leaked[:3]}: the map must "
                "be fit on data the test never touches"
            )
        scores, labels = np.asarray(scores, float), np.asarray(labels, float)
        if not (len(scores) == len(labels) == len(ids)) or len(ids) == 0:
            raise ValueError(f"{len(scores)} scores, {len(labels)} labels, {len(ids)} ids: need equal, > 0")
        if ((labels < 0) | (labels > 1) | np.isnan(labels)).any():
            raise ValueError("calibration labels must be probabilities in [0, 1]")
        x = logit(np.clip(scores, EPS, 1 - EPS)).reshape(-1, 1)
        model = LogisticRegression(C=1e4)  # next to no penalty: two parameters, hundreds of sentences
        model.fit(
            np.vstack([x, x]),
            np.r_[np.ones(len(x)), np.zeros(len(x))],
            sample_weight=np.r_[labels, 1 - labels],
        )
        return cls(float(model.coef_[0, 0]), float(model.intercept_[0]), len(ids), fitted_on)

    def __call__(self, scores) -> np.ndarray:
        x = logit(np.clip(np.asarray(scores, float), EPS, 1 - EPS))
        return expit(self.slope * x + self.intercept)

    def to_json(self) -> dict:
        return asdict(self)
