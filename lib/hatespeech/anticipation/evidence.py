"""What the anticipation numbers can claim: baselines on the same examples, bootstrap intervals, verdicts.

Phase 1 (:func:`phase1_baselines`, :func:`phase1_evidence`)
    * majority class and TF-IDF (word 1-2 + char 2-5 grams) + logistic regression, fitted on random prefixes
      of the *same* train sentences as the encoders (one fresh draw per epoch, ``w_len`` as sample weight),
      its C and threshold chosen on the selection set, scored on the *same* evaluation prefixes;
    * 95% intervals of accuracy and F1 at each system's reported threshold, resampling evaluation sentences
      grouped by Stormfront post (never prefixes: there is one prefix per sentence anyway);
    * paired bootstrap differences for every comparison the text states.

Phase 2 (:func:`phase2_baselines`, :func:`phase2_evidence`)
    * the constant (train mean), a TF-IDF ridge regression on the phase-2 train prefixes with the phase-2
      weights (alpha chosen on the held-out train sentences), and the phase-1 model without phase 2, raw and
      prior-corrected (``logit - log pos_weight``: undoes the class weight of phase-1 training);
    * 95% intervals of the test MSE resampling test *sentences* (their prefixes move together);
    * paired differences for the best variant (chosen on held-out train sentences) against every baseline,
      the seed's claim (plain encoder lowest) and what phase 1 adds.

Verdicts say "no clear difference" whenever the interval of a difference holds 0.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .. import paths
from ..baselines import MajorityClassifier, TfidfLogistic, TfidfRidge, best_f1_threshold
from ..losses import phase2_weights
from ..metrics.bootstrap import PairedDifference, multi_bootstrap, paired_bootstrap
from .evaluation import (
    binary_metrics,
    evaluation_prefixes,
    grouped_binary_metrics,
    phase2_scores,
    selection_prefixes,
)
from .examples import random_prefix_draw
from .training import phase1_train_sentences

TFIDF_C_GRID = (0.25, 1.0, 4.0, 16.0)
RIDGE_ALPHA_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)
#: The issue's targets, stated where the verdicts are computed.
PHASE1_F1_MARGIN = 0.05
PHASE2_MSE_TARGET = 0.025


def _accuracy(y, pred) -> float:
    """Accuracy of 0/1 decisions (numpy: the bootstrap calls it ~10^4 times, sklearn's costs ~4 ms a call)."""
    return float(np.mean(np.asarray(y) == np.asarray(pred))) if len(y) else float("nan")


def _f1(y, pred) -> float:
    """F1 of the positive class, 0 when there is no positive label or prediction (sklearn's
    ``zero_division=0``), in numpy for the same reason as :func:`_accuracy`; tested equal to sklearn's."""
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    tp = np.count_nonzero(y & pred)
    denominator = 2 * tp + np.count_nonzero(~y & pred) + np.count_nonzero(y & ~pred)
    return float(2 * tp / denominator) if denominator else 0.0


def _mse(y, p) -> float:
    return float(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2))


# ============================================================================================ phase 1
def _prefix_draws(sentences: pd.DataFrame, epochs: int, seed: int) -> pd.DataFrame:
    draws = [random_prefix_draw(sentences, None, seed, [seed, 7_000 + e]) for e in range(max(1, epochs))]
    return pd.concat(draws, ignore_index=True)


def phase1_baselines(run, data) -> None:
    """Fit the majority and TF-IDF baselines and score them on the evaluation draw (into ``run``)."""
    profile = run.profile
    settings = profile.anticipation
    sentences = phase1_train_sentences(data, settings.phase1_max_train_samples, profile.seed)
    fit = _prefix_draws(sentences, int(settings.phase1_epochs), profile.seed)
    selection = selection_prefixes(data.selection, profile)
    evaluation = evaluation_prefixes(data.val, profile).reset_index(drop=True)
    sel_labels = selection["label"].to_numpy(int)

    majority = MajorityClassifier().fit(fit["prefix"], fit["label"], sample_weight=fit["w_len"])
    systems: dict[str, tuple[Any, float, dict[str, Any]]] = {
        "majority": (
            majority,
            0.5,
            {"description": f"always predicts the train majority ({majority.majority})"},
        )
    }
    scores = {}
    for c in TFIDF_C_GRID:
        model = TfidfLogistic(C=c, seed=profile.seed).fit(
            fit["prefix"], fit["label"], sample_weight=fit["w_len"]
        )
        probs = model.predict_proba(selection["prefix"])
        threshold = best_f1_threshold(sel_labels, probs) if sel_labels.any() else 0.5  # toy data only
        scores[c] = (binary_metrics(sel_labels, probs, threshold)["f1"], threshold, model)
    best_c = max(scores, key=lambda c: scores[c][0])
    _, threshold, tfidf = scores[best_c]
    systems["tfidf_logistic"] = (
        tfidf,
        threshold,
        {
            "description": "TF-IDF (word 1-2 + char 2-5 grams) + logistic regression on random prefixes "
            "of the encoders' train sentences, w_len as sample weight; C and threshold chosen on the "
            "selection set",
            "C": best_c,
            "C_grid": list(TFIDF_C_GRID),
            "selection_f1": {str(c): v[0] for c, v in scores.items()},
            "train_sentences": len(sentences),
            "train_prefixes": len(fit),
        },
    )
    save_tfidf_baseline(profile, tfidf, threshold, systems["tfidf_logistic"][2])
    for name, (model, threshold, info) in systems.items():
        frame = evaluation.assign(p_hate=model.predict_proba(evaluation["prefix"]))
        metrics = binary_metrics(frame["label"], frame["p_hate"], threshold)
        metrics["at_0.5"] = binary_metrics(frame["label"], frame["p_hate"])
        run.predictions[name] = frame
        run.baselines[name] = {
            **metrics,
            **info,
            "threshold": float(threshold),
            "by_source": {
                r["source"]: {k: v for k, v in r.items() if k != "source"}
                for r in grouped_binary_metrics(frame, "source", threshold=threshold).to_dict("records")
            },
        }


def tfidf_baseline_file(profile) -> Path:
    """Where notebook 02 keeps the fitted phase-1 TF-IDF baseline (the functional tests score it too)."""
    return paths.artifacts_dir() / profile.name / "anticipation" / "phase1" / "tfidf_logistic.joblib"


def save_tfidf_baseline(profile, model, threshold: float, info: dict[str, Any]) -> Path:
    path = tfidf_baseline_file(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"model": model, "threshold": float(threshold), "info": info}, path)
    return path


def load_tfidf_baseline(profile) -> dict[str, Any]:
    """``{"model", "threshold", "info"}`` of notebook 02's TF-IDF baseline, or a FileNotFoundError saying
    which notebook makes it. A joblib pickle: load only files this study wrote."""
    path = tfidf_baseline_file(profile)
    if not path.exists():
        raise FileNotFoundError(
            f"no TF-IDF baseline under <artifacts>/{profile.name}/anticipation/phase1/: run "
            f"notebooks/02_phase1.ipynb with profile={profile.name!r} first"
        )
    return joblib.load(path)


def _decisions(run) -> dict[str, np.ndarray]:
    """0/1 decisions of every system on the evaluation draw, at its reported threshold."""
    out = {}
    for name, frame in run.predictions.items():
        threshold = run.stats[name]["threshold"] if name in run.stats else run.baselines[name]["threshold"]
        out[name] = (frame["p_hate"].to_numpy(float) >= threshold).astype(int)
    return out


def phase1_evidence(run) -> None:
    """Intervals for every system and the paired comparisons the text states (into ``run.evidence``)."""
    profile = run.profile
    n = int(profile.anticipation.bootstrap_resamples)
    reference = next(iter(run.predictions.values()))
    y = reference["label"].to_numpy(int)
    groups = reference["group"].to_numpy() if "group" in reference else None
    for frame in run.predictions.values():  # every system must be scored on the very same prefixes
        if not (
            np.array_equal(frame["label"].to_numpy(int), y)
            and frame["prefix"].tolist() == reference["prefix"].tolist()
        ):
            raise ValueError("phase-1 systems were not scored on the same evaluation prefixes")
    decisions = _decisions(run)
    unit = "evaluation sentence (Stormfront: post)"
    kw = {"groups": groups, "n_resamples": n, "seed": profile.seed, "unit": unit}
    accuracy = multi_bootstrap(_accuracy, y, decisions, **kw)
    f1 = multi_bootstrap(_f1, y, decisions, **kw)
    best = run.best_variant()
    variants = list(run.metrics)
    comparisons: dict[str, PairedDifference] = {}

    def paired(metric, a, b, key):
        comparisons[key] = paired_bootstrap(metric, y, decisions[a], decisions[b], name_a=a, name_b=b, **kw)

    paired(_f1, best, "tfidf_logistic", f"f1:{best}-tfidf_logistic")
    for variant in variants:
        paired(_accuracy, variant, "majority", f"accuracy:{variant}-majority")
    for variant in variants:
        if variant != best:
            paired(_f1, best, variant, f"f1:{best}-{variant}")
    # The seed's ranking: GPT-2 above BERT+biLSTM above BERT (F1).
    for a, b in (("decoder", "encoder"), ("encoder+bilstm", "encoder"), ("decoder", "encoder+bilstm")):
        if a in decisions and b in decisions and not {f"f1:{a}-{b}", f"f1:{b}-{a}"} & set(comparisons):
            paired(_f1, a, b, f"f1:{a}-{b}")
    diff = comparisons[f"f1:{best}-tfidf_logistic"].difference
    run.evidence = {
        "unit": unit,
        "n_units": accuracy[best].n_units,
        "n_resamples": n,
        "seed": int(profile.seed),
        "seeds_run": 1,
        "best_variant": best,
        "best_variant_chosen_by": "selection-set F1 (the evaluation split chooses nothing)",
        "intervals": {
            name: {"accuracy": accuracy[name].to_json(), "f1": f1[name].to_json()} for name in decisions
        },
        "comparisons": {key: value.to_json() for key, value in comparisons.items()},
        "n_comparisons": len(comparisons),
        "targets": {
            "f1_margin_over_tfidf": {
                "target": f"F1 of the best variant >= TF-IDF F1 + {PHASE1_F1_MARGIN} with the paired "
                "interval of the difference above 0",
                "difference": diff.to_json(),
                "met": bool(diff.estimate >= PHASE1_F1_MARGIN and diff.low > 0),
                "stretch_met": bool(diff.estimate >= 2 * PHASE1_F1_MARGIN and diff.low > 0),
            },
            "accuracy_above_majority": {
                "target": "every variant's accuracy at its reported threshold above the majority rate",
                "by_variant": {
                    v: bool(run.metrics[v]["accuracy"] > run.baselines["majority"]["accuracy"])
                    for v in variants
                },
                "met": all(
                    run.metrics[v]["accuracy"] > run.baselines["majority"]["accuracy"] for v in variants
                ),
            },
        },
    }


# ============================================================================================ phase 2
def _prefix_rows(sentences: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"prefix": " ".join(str(s).split()[:k]), "label": float(labels[k - 1]), "w_len": k / n}
        for s, labels, n in zip(sentences["sentence"], sentences["labels"], sentences["n_words"])
        for k in range(1, n + 1)
    ]
    return pd.DataFrame(rows)


def phase2_baselines(run) -> None:
    """Describes the constant (the run's plain train mean: the test metric is plain MSE) and fits TF-IDF
    ridge on the phase-2 train prefixes (alpha chosen on the held-out train sentences); prior-corrected
    phase-1-only predictions. Adds predictions and metrics to ``run`` under ``baseline:*`` /
    ``phase1_only_corrected:*``."""
    data, C = run.data, run.profile.anticipation.phase2_C
    fit, held_out = _prefix_rows(data.train), _prefix_rows(data.val)
    weights = phase2_weights(*(np.asarray(fit[c], np.float32) for c in ("label", "w_len")), C)
    weights = np.asarray(weights, dtype=float)
    test_text = _prefix_rows(data.test)["prefix"]
    scores = {}
    for alpha in RIDGE_ALPHA_GRID:
        model = TfidfRidge(alpha=alpha).fit(fit["prefix"], fit["label"], sample_weight=weights)
        scores[alpha] = (_mse(held_out["label"], model.predict(held_out["prefix"])), model)
    alpha = min(scores, key=lambda a: scores[a][0])
    key = "baseline:tfidf_ridge"
    frame = run.predictions["constant:train_mean"].assign(
        p_hate=scores[alpha][1].predict(test_text).astype(float)
    )
    run.predictions[key] = frame
    run.metrics[key], run.calibration[key] = phase2_scores(frame)
    run.baseline_info[key] = {
        "description": "TF-IDF (word 1-2 + char 2-5 grams) + ridge regression on the phase-2 train prefixes, "
        "phase-2 weights as sample weights; alpha chosen on the held-out train sentences",
        "alpha": alpha,
        "held_out_mse": {str(a): v[0] for a, v in scores.items()},
    }
    run.baseline_info["constant:train_mean"] = {
        "description": "predicts the mean target of the phase-2 train prefixes",
        "value": float(run.constant),
    }
    for key in [k for k in run.predictions if k.startswith("phase1_only:")]:
        variant = key.split(":", 1)[1]
        pos_weight = run.phase1_pos_weight.get(variant)
        if not pos_weight:
            continue
        corrected = prior_corrected(run.predictions[key]["p_hate"].to_numpy(float), pos_weight)
        new_key = f"phase1_only_corrected:{variant}"
        run.predictions[new_key] = run.predictions[key].assign(p_hate=corrected)
        run.metrics[new_key], run.calibration[new_key] = phase2_scores(run.predictions[new_key])
        run.baseline_info[new_key] = {
            "description": "phase-1 model without phase 2, prior-corrected: "
            f"sigmoid(logit - log pos_weight), pos_weight {pos_weight:.2f}"
        }


def prior_corrected(probabilities, pos_weight: float) -> np.ndarray:
    """sigmoid(logit(p) - log pos_weight): a BCE trained with ``pos_weight`` shifts every logit by about
    log pos_weight; removing it gives the probability under the train prior (what phase 2's targets
    measure)."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) - math.log(pos_weight))))


def phase2_evidence(run) -> dict[str, Any]:
    """Test-MSE intervals (resampling test sentences) and the paired comparisons the text states."""
    profile = run.profile
    n = int(profile.anticipation.bootstrap_resamples)
    reference = run.predictions["constant:train_mean"]
    y = reference["label"].to_numpy(float)
    groups = reference["sentence_id"].to_numpy()
    preds = {}
    for key, frame in run.predictions.items():
        if not np.array_equal(frame["sentence_id"].to_numpy(), groups) or not np.array_equal(
            frame["k"].to_numpy(), reference["k"].to_numpy()
        ):
            raise ValueError(f"phase-2 predictions {key!r} are not aligned with the test prefixes")
        preds[key] = frame["p_hate"].to_numpy(float)
    unit = "test sentence"
    kw = {"groups": groups, "n_resamples": n, "seed": profile.seed, "unit": unit}
    intervals = multi_bootstrap(_mse, y, preds, **kw)
    best = run.best_variant()
    best_key = f"phase2:{best}"
    comparisons: dict[str, PairedDifference] = {}

    def paired(a, b):
        comparisons[f"mse:{a}-{b}"] = paired_bootstrap(
            _mse, y, preds[a], preds[b], higher_is_better=False, name_a=a, name_b=b, **kw
        )

    for baseline in ("constant:train_mean", "baseline:tfidf_ridge"):
        paired(best_key, baseline)
    if f"rehearsal:{best}" in preds:  # the forgetting remedy against the same variant without it
        paired(f"rehearsal:{best}", best_key)
    if "phase2:encoder" in preds:  # the seed's claim: plain BERT lowest
        for key in preds:
            if key.startswith("phase2:") and key != "phase2:encoder":
                paired("phase2:encoder", key)
    for key in list(preds):
        if key.startswith("phase2:"):
            variant = key.split(":", 1)[1]
            for other in (f"phase1_only_corrected:{variant}", f"no_phase1:{variant}"):
                if other in preds:
                    paired(key, other)
    best_interval = intervals[best_key]
    evidence = {
        "unit": unit,
        "n_units": best_interval.n_units,
        "n_resamples": n,
        "seed": int(profile.seed),
        "seeds_run": 1,
        "best_variant": best,
        "best_variant_chosen_by": "MSE on the held-out phase-2 train sentences",
        "intervals": {key: value.to_json() for key, value in intervals.items()},
        "comparisons": {key: value.to_json() for key, value in comparisons.items()},
        "n_comparisons": len(comparisons),
        "targets": {
            "best_mse": {
                "target": f"test MSE of the best variant <= {PHASE2_MSE_TARGET}",
                "interval": best_interval.to_json(),
                "met": bool(best_interval.estimate <= PHASE2_MSE_TARGET),
            }
        },
        "note": f"{best_interval.n_units} test sentences: the intervals are wide, and they are not narrowed "
        "by resampling prefixes (a sentence's prefixes are not independent).",
    }
    run.evidence = evidence
    return evidence
