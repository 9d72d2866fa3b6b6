"""The dual-head model's yardstick: TF-IDF + one logistic regression per label (one-vs-rest), on the same
split, with the same thresholds procedure (tuned per label on validation over the seed's grid) and the same
test-text bootstrap, so that its macro-F1 stands beside the model's with a paired interval.

Why not scikit-learn's ``OneVsRestClassifier``: the labels are *masked* (a source that does not annotate a
label leaves it NaN), and each label must be fit only on the rows that annotate it; one
``LogisticRegression`` per label on its own rows is exactly that, on one shared TF-IDF vocabulary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..baselines import tfidf_features
from ..data.dualhead import DualHeadSplits
from ..metrics import classification as cls
from ..metrics.bootstrap import paired_bootstrap
from .intervals import decisions, macro_f1_decisions

NAME = "tfidf_logistic"
DESCRIPTION = (
    "TF-IDF (word and character n-grams) + one class-balanced logistic regression per label, each fit on the "
    "train rows that annotate it; thresholds tuned per label on validation as for the model"
)


def tfidf_matrices(splits: DualHeadSplits) -> dict[str, Any]:
    """TF-IDF of every split's texts, the vocabulary fit on train only (both heads share it)."""
    features = tfidf_features()
    x = {"train": features.fit_transform(splits.frame("train")["text"].tolist())}
    x.update({s: features.transform(splits.frame(s)["text"].tolist()) for s in ("val", "test")})
    return x


def tfidf_probabilities(
    splits: DualHeadSplits, head: str, seed: int = 0, matrices: dict[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """``{"val": (n, k), "test": (n, k)}`` probabilities of one head's labels; a label whose annotated train
    rows hold one class only gets that class's rate (nothing to learn). ``matrices``: :func:`tfidf_matrices`
    when the caller has them (made here otherwise)."""
    names = splits.label_names_n if head == "n" else splits.label_names_i
    matrices = matrices if matrices is not None else tfidf_matrices(splits)
    x_train = matrices["train"]
    x = {s: matrices[s] for s in ("val", "test")}
    y_train = splits.labels("train", head)
    out = {s: np.zeros((x[s].shape[0], len(names))) for s in x}
    for j in range(len(names)):
        annotated = ~np.isnan(y_train[:, j])
        y = y_train[annotated, j].astype(int)
        if len(np.unique(y)) < 2:
            for probs in out.values():
                probs[:, j] = float(y.mean()) if len(y) else 0.0
            continue
        model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=seed)
        model.fit(x_train[annotated], y)
        for split, probs in out.items():
            probs[:, j] = model.predict_proba(x[split])[:, 1]
    return out


def tfidf_baseline(
    splits: DualHeadSplits,
    model_test_probs: dict[str, np.ndarray],
    model_reports: dict[str, dict],
    n_resamples: int,
    seed: int,
) -> dict[str, Any]:
    """Per head: the baseline's tuned test macro-F1 (and at 0.5), and model minus baseline macro-F1 on the
    same test-text resamples (each at its own validation-tuned thresholds)."""
    out: dict[str, Any] = {"name": NAME, "description": DESCRIPTION, "heads": {}}
    matrices = tfidf_matrices(splits)  # one vocabulary, fit once, for both heads
    for head in ("n", "i"):
        names = splits.label_names_n if head == "n" else splits.label_names_i
        probs = tfidf_probabilities(splits, head, seed, matrices)
        y_test = splits.labels("test", head)
        report = cls.head_report(splits.labels("val", head), probs["val"], y_test, probs["test"], names)
        paired = paired_bootstrap(
            macro_f1_decisions,
            y_test,
            decisions(model_test_probs[head], model_reports[head]["thresholds"], names),
            decisions(probs["test"], report["thresholds"], names),
            n_resamples=n_resamples,
            seed=seed,
            unit="text",
            name_a="dual-head model",
            name_b=NAME,
        )
        out["heads"][f"head_{head}"] = {
            "macro_f1": report["macro_f1"],
            "macro_f1_at_0.5": report["macro_f1_at_0.5"],
            "val_macro_f1": report["val_macro_f1"],
            "model_minus_baseline": paired.to_json(),
        }
    return out
