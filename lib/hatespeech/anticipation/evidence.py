"""What the anticipation numbers can claim: baselines on the same examples, bootstrap intervals, verdicts.

Phase 1 (:func:`phase1_baselines`, :func:`phase1_evidence`)
    * majority class and TF-IDF (word 1-2 + char 2-5 grams) + logistic regression, fitted on random prefixes
      of the *same* train sentences as the encoders (one fresh draw per epoch, ``w_len`` as sample weight),
      its C and threshold chosen on every prefix of the selection sentences, scored on the *same* evaluation
      prefixes: every word-prefix of every evaluation sentence, each sentence weighing 1;
    * 95% intervals of accuracy, F1, precision and recall at each system's reported threshold (accuracy and
      F1 at 0.5 too), resampling evaluation sentences grouped by Stormfront post with their per-sentence
      confusion counts (never prefixes);
    * paired bootstrap differences for every comparison the text states; the primary one is the best
      variant's F1 minus TF-IDF's.

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
from ..baselines import MajorityClassifier, TfidfLogistic, TfidfRidge
from ..losses import phase2_weights
from ..metrics.bootstrap import PairedDifference, multi_bootstrap, paired_bootstrap
from ..metrics.classification import roc_auc
from ..metrics.regression import mse
from ..names import stage_and_variant
from .evaluation import (
    evaluation_prefixes,
    phase1_scores,
    phase2_scores,
    selection_sentences,
    with_prefix_text,
)
from .every_prefix import count_metric, every_prefix_metrics, prefix_rows, sentence_counts, tuned_threshold
from .evidence_types import comparison_key
from .examples import random_prefix_draw
from .history import RELEASE1_TEST_IDS
from .results import PHASE1_F1_MARGIN, PHASE2_MSE_TARGET
from .training import phase1_sentence_limit, phase1_train_sentences

TFIDF_C_GRID = (0.25, 1.0, 4.0, 16.0)
RIDGE_ALPHA_GRID = (0.1, 0.3, 1.0, 3.0, 10.0)


# ============================================================================================ phase 1
def _prefix_draws(sentences: pd.DataFrame, epochs: int, seed: int) -> pd.DataFrame:
    draws = [random_prefix_draw(sentences, None, seed, [seed, 7_000 + e]) for e in range(max(1, epochs))]
    return pd.concat(draws, ignore_index=True)


def text_prefix_rows(sentences: pd.DataFrame) -> pd.DataFrame:
    """Every word-prefix of ``sentences`` (text, label[, source, group]) as the rows a model's scores fill
    (:func:`hatespeech.anticipation.every_prefix.prefix_rows`), with the prefix text, for text baselines."""
    blank = [np.zeros(len(str(text).split())) for text in sentences["text"]]
    return with_prefix_text(
        prefix_rows(sentences.reset_index(drop=True), blank), sentences.reset_index(drop=True)
    )


def phase1_baselines(run, data) -> None:
    """Fit the majority and TF-IDF baselines and score them on every evaluation prefix (into ``run``).

    TF-IDF fits on random prefixes of the best variant's train sentences (one draw per epoch of the
    encoders' schedule, w_len as sample weight); its C and threshold are chosen on every prefix of the
    selection sentences by sentence-weighted F1, as the models' thresholds are. Both are then scored on the
    very rows the models were."""
    profile = run.profile
    settings = profile.anticipation
    best = run.best_variant()
    sentences = phase1_train_sentences(data, phase1_sentence_limit(profile, best), profile.seed)
    fit = _prefix_draws(sentences, int(settings.phase1.epochs), profile.seed)
    selection = text_prefix_rows(selection_sentences(data.selection, profile))
    evaluation = evaluation_prefixes(data.val, profile)
    reference = next(iter(run.predictions.values()))  # every model's rows: the same sentences and prefixes
    rows = reference.drop(columns=["p_hate"])

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
        scored = selection.assign(p_hate=model.predict_proba(selection["prefix"]))
        threshold = tuned_threshold(scored)
        scores[c] = (every_prefix_metrics(scored, threshold)["f1"], threshold, model)
    best_c = max(scores, key=lambda c: scores[c][0])
    _, threshold, tfidf = scores[best_c]
    systems["tfidf_logistic"] = (
        tfidf,
        threshold,
        {
            "description": "TF-IDF (word 1-2 + char 2-5 grams) + logistic regression on random prefixes "
            f"of the best variant's ({best}) train sentences, w_len as sample weight; C and threshold chosen "
            "on every prefix of the selection sentences (sentence-weighted F1)",
            "C": best_c,
            "C_grid": list(TFIDF_C_GRID),
            "selection_f1": {str(c): v[0] for c, v in scores.items()},
            "train_sentences": len(sentences),
            "train_prefixes": len(fit),
        },
    )
    save_tfidf_baseline(profile, tfidf, threshold, systems["tfidf_logistic"][2])
    for name, (model, threshold, info) in systems.items():
        frame = rows.assign(p_hate=model.predict_proba(rows["prefix"]))
        scored = phase1_scores(frame, evaluation, threshold)
        run.predictions[name] = frame
        run.by_length_fraction[name] = scored["by_length_fraction"]  # beside the models in the figure
        run.baselines[name] = {
            **scored["metrics"],
            **info,
            "threshold": float(threshold),
            "by_source": _by(scored["by_source"], "source"),
            "by_length_fraction": _by(scored["by_length_fraction"], "length_fraction"),
        }


def _by(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(r[key]): {k: v for k, v in r.items() if k != key} for r in frame.to_dict("records")}


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


def phase1_threshold(run, name: str) -> float:
    """The threshold a system is reported at (chosen on the selection set; 0.5 for the majority class)."""
    return run.stats[name]["threshold"] if name in run.stats else run.baselines[name]["threshold"]


def phase1_evidence(run) -> None:  # noqa: C901 - one flat list of the comparisons the text states
    """Intervals for every system and the paired comparisons the text states (into ``run.evidence``), on
    every evaluation prefix with each sentence weighing 1: the bootstrap resamples evaluation sentences
    (Stormfront: posts) with their per-sentence confusion counts, at each system's selection threshold and
    at 0.5."""
    profile = run.profile
    n = int(profile.anticipation.bootstrap_resamples)
    reference = next(iter(run.predictions.values()))
    for name, frame in run.predictions.items():  # every system must be scored on the very same prefixes
        if not (
            np.array_equal(frame["sentence"].to_numpy(), reference["sentence"].to_numpy())
            and np.array_equal(frame["k"].to_numpy(), reference["k"].to_numpy())
            and np.array_equal(frame["label"].to_numpy(), reference["label"].to_numpy())
        ):
            raise ValueError(f"phase-1 system {name!r} was not scored on the same evaluation prefixes")
    first = reference.drop_duplicates("sentence").sort_values("sentence")
    groups = first["group"].to_numpy()
    dummy = np.zeros(len(first))
    at_threshold = {
        name: sentence_counts(f, phase1_threshold(run, name)) for name, f in run.predictions.items()
    }
    at_half = {name: sentence_counts(f, 0.5) for name, f in run.predictions.items()}
    unit = "evaluation sentence (Stormfront: post)"
    kw = {"groups": groups, "n_resamples": n, "seed": profile.seed, "unit": unit}
    intervals: dict[str, dict[str, Any]] = {name: {} for name in run.predictions}
    for metric in ("accuracy", "f1", "precision", "recall"):
        for name, iv in multi_bootstrap(count_metric(metric), dummy, at_threshold, **kw).items():
            intervals[name][metric] = iv.to_json()
    for metric in ("accuracy", "f1"):
        for name, iv in multi_bootstrap(count_metric(metric), dummy, at_half, **kw).items():
            intervals[name][f"{metric}_at_0.5"] = iv.to_json()
    best = run.best_variant()
    variants = list(run.metrics)
    comparisons: dict[str, PairedDifference] = {}

    def paired(metric, a, b, counts=at_threshold, label=None):
        comparisons[comparison_key(label or metric, a, b)] = paired_bootstrap(
            count_metric(metric), dummy, counts[a], counts[b], name_a=a, name_b=b, **kw
        )

    primary = comparison_key("f1", best, "tfidf_logistic")
    paired("f1", best, "tfidf_logistic")
    for variant in variants:
        paired("accuracy", variant, "majority")
    for variant in variants:
        paired("accuracy", variant, "majority", counts=at_half, label="accuracy_at_0.5")
    for variant in variants:
        if variant != best:
            paired("f1", best, variant)
    # The seed's ranking: GPT-2 above BERT+biLSTM above BERT (F1).
    for a, b in (("decoder", "encoder"), ("encoder+bilstm", "encoder"), ("decoder", "encoder+bilstm")):
        drawn = {comparison_key("f1", a, b), comparison_key("f1", b, a)} & set(comparisons)
        if a in at_threshold and b in at_threshold and not drawn:
            paired("f1", a, b)
    diff = comparisons[primary].difference
    tfidf_f1 = intervals["tfidf_logistic"]["f1"]["estimate"]
    decoders = [v for v in variants if v.startswith("decoder")]
    majority_accuracy = run.baselines["majority"]["accuracy"]
    run.evidence = {
        "unit": unit,
        "n_units": len(set(groups.tolist())),
        "n_sentences": len(first),
        "n_prefixes": len(reference),
        "weighting": "each evaluation sentence weighs 1, split evenly over its prefixes",
        "n_resamples": n,
        "seed": int(profile.seed),
        "seeds_run": 1,
        "best_variant": best,
        "best_variant_chosen_by": "selection-set F1 over every selection prefix (the evaluation split "
        "chooses nothing)",
        "primary_comparison": primary,
        "intervals": intervals,
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
            "decoders_at_least_tfidf": {
                "target": "each decoder variant's F1 >= TF-IDF F1 (a floor)",
                "by_variant": {v: bool(intervals[v]["f1"]["estimate"] >= tfidf_f1) for v in decoders},
                "met": all(intervals[v]["f1"]["estimate"] >= tfidf_f1 for v in decoders),
            },
            "accuracy_above_majority": {
                "target": "every variant's accuracy at its reported threshold above the majority rate",
                "by_variant": {v: bool(run.metrics[v]["accuracy"] > majority_accuracy) for v in variants},
                "by_variant_at_0.5": {
                    v: bool(run.metrics[v]["at_0.5"]["accuracy"] > majority_accuracy) for v in variants
                },
                "met": all(run.metrics[v]["accuracy"] > majority_accuracy for v in variants),
            },
        },
    }


def paired_every_prefix(
    profile, a: tuple[pd.DataFrame, float], b: tuple[pd.DataFrame, float], name_a, name_b
):
    """Paired bootstrap of the sentence-weighted F1 of two every-prefix score frames (each with its own
    threshold) on the same evaluation sentences, resampling sentences (Stormfront: posts)."""
    (rows_a, threshold_a), (rows_b, threshold_b) = a, b
    if not np.array_equal(rows_a[["sentence", "k"]].to_numpy(), rows_b[["sentence", "k"]].to_numpy()):
        raise ValueError(f"{name_a} and {name_b} were not scored on the same evaluation prefixes")
    groups = rows_a.drop_duplicates("sentence").sort_values("sentence")["group"].to_numpy()
    return paired_bootstrap(
        count_metric("f1"),
        np.zeros(len(groups)),
        sentence_counts(rows_a, threshold_a),
        sentence_counts(rows_b, threshold_b),
        groups=groups,
        n_resamples=int(profile.anticipation.bootstrap_resamples),
        seed=int(profile.seed),
        unit="evaluation sentence (Stormfront: post)",
        name_a=name_a,
        name_b=name_b,
    )


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
    data, C = run.data, run.profile.anticipation.phase2.C
    fit, held_out = _prefix_rows(data.train), _prefix_rows(data.val)
    weights = phase2_weights(*(np.asarray(fit[c], np.float32) for c in ("label", "w_len")), C)
    weights = np.asarray(weights, dtype=float)
    test_text = _prefix_rows(data.test)["prefix"]
    scores = {}
    for alpha in RIDGE_ALPHA_GRID:
        model = TfidfRidge(alpha=alpha).fit(fit["prefix"], fit["label"], sample_weight=weights)
        scores[alpha] = (mse(held_out["label"], model.predict(held_out["prefix"])), model)
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
        variant = stage_and_variant(key)[1]
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


def held_out_difference(profile, predictions_a, predictions_b, name_a: str, name_b: str) -> PairedDifference:
    """Paired bootstrap of the plain MSE of two models' predictions (:func:`predict_phase2` frames) on the
    held-out train sentences, resampling sentences: what a held-out choice may call a tie."""
    if not np.array_equal(predictions_a["sentence_id"], predictions_b["sentence_id"]):
        raise ValueError("held-out predictions are not aligned")
    return paired_bootstrap(
        mse,
        predictions_a["label"].to_numpy(float),
        predictions_a["p_hate"].to_numpy(float),
        predictions_b["p_hate"].to_numpy(float),
        groups=predictions_a["sentence_id"].to_numpy(),
        n_resamples=int(profile.anticipation.bootstrap_resamples),
        seed=int(profile.seed),
        unit="held-out train sentence",
        higher_is_better=False,
        name_a=name_a,
        name_b=name_b,
    )


def prior_corrected(probabilities, pos_weight: float) -> np.ndarray:
    """sigmoid(logit(p) - log pos_weight): a BCE trained with ``pos_weight`` shifts every logit by about
    log pos_weight; removing it gives the probability under the train prior (what phase 2's targets
    measure)."""
    p = np.clip(np.asarray(probabilities, dtype=float), 1e-7, 1 - 1e-7)
    return 1.0 / (1.0 + np.exp(-(np.log(p / (1 - p)) - math.log(pos_weight))))


def phase2_evidence(run) -> dict[str, Any]:  # noqa: C901 - one flat list of the comparisons the text states
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
    intervals = multi_bootstrap(mse, y, preds, **kw)
    best = run.best_variant()
    best_key = run.best_model() if hasattr(run, "best_model") else f"phase2:{best}"
    comparisons: dict[str, PairedDifference] = {}

    def paired(a, b):
        comparisons[comparison_key("mse", a, b)] = paired_bootstrap(
            mse, y, preds[a], preds[b], higher_is_better=False, name_a=a, name_b=b, **kw
        )

    for baseline in ("constant:train_mean", "baseline:tfidf_ridge"):
        paired(best_key, baseline)
    if f"rehearsal:{best}" in preds:  # the forgetting remedy against the same variant without it
        paired(f"rehearsal:{best}", f"phase2:{best}")
    if f"loss_weight:{best}" in preds:  # the chosen label weight against the seed's default
        paired(f"loss_weight:{best}", f"phase2:{best}")
    if "phase2:encoder" in preds:  # the seed's claim: plain BERT lowest
        for key in preds:
            if key.startswith("phase2:") and key != "phase2:encoder":
                paired("phase2:encoder", key)
    for key in list(preds):
        if key.startswith("phase2:"):
            variant = stage_and_variant(key)[1]
            for other in (f"phase1_only_corrected:{variant}", f"no_phase1:{variant}"):
                if other in preds:
                    paired(key, other)
    first_release = np.isin(groups, sorted(RELEASE1_TEST_IDS))
    release1_subset = (
        {key: mse(y[first_release], p[first_release]) for key, p in preds.items()}
        if first_release.any()
        else {}
    )
    best_interval = intervals[best_key]
    pool_variant = stage_and_variant(best_key)[1]
    adds = comparisons.get(comparison_key("mse", f"phase2:{pool_variant}", f"no_phase1:{pool_variant}"))
    primary = comparison_key("mse", best_key, "baseline:tfidf_ridge")
    evidence = {
        "unit": unit,
        "n_units": best_interval.n_units,
        "n_resamples": n,
        "seed": int(profile.seed),
        "seeds_run": 1,
        "best_variant": best,
        "best_variant_chosen_by": "MSE on the held-out phase-2 train sentences",
        "best_model": best_key,
        "best_model_chosen_by": "MSE on the held-out phase-2 train sentences, among the phase-2 variants "
        "and the models trained without phase 1",
        "primary_comparison": primary,
        "phase1_adds": adds.to_json() if adds is not None else None,
        "intervals": {key: value.to_json() for key, value in intervals.items()},
        "comparisons": {key: value.to_json() for key, value in comparisons.items()},
        "n_comparisons": len(comparisons),
        # test MSE on release 1's 50 test sentences alone: only for comparing with earlier reports
        "release1_subset": release1_subset,
        "targets": {
            "best_mse": {
                "target": f"test MSE of the best model <= {PHASE2_MSE_TARGET}",
                "interval": best_interval.to_json(),
                "met": bool(best_interval.estimate <= PHASE2_MSE_TARGET),
            },
            "better_than_tfidf_ridge": {
                "target": "the best model's test MSE below the TF-IDF ridge's, the paired interval of the "
                "difference below 0",
                "difference": comparisons[primary].to_json(),
                "met": bool(comparisons[primary].difference.high < 0),
            },
        },
        "note": f"{best_interval.n_units} test sentences: the intervals are wide, and they are not narrowed "
        "by resampling prefixes (a sentence's prefixes are not independent).",
    }
    evidence["human_labels"] = human_label_check(run.predictions, y, kw)
    run.evidence = evidence
    return evidence


#: The corpus's own human class of a test tweet (implicit-hate corpus): hateful unless ``not_hate``.
HUMAN_NOT_HATEFUL = "not_hate"


def human_label_check(predictions: dict[str, pd.DataFrame], labels, bootstrap: dict[str, Any]) -> dict:
    """The phase-2 labels come from one language model: every system's full-sentence (k = n) score against
    the corpus's *human* class (``corpus_class``), ROC AUC with intervals over test sentences, beside the
    labels' own AUC (how far the LLM labels agree with the people who annotated the corpus)."""
    reference = next(iter(predictions.values()))
    full = (reference["k"] == reference["n_words"]).to_numpy()
    human = (reference.loc[full, "corpus_class"] != HUMAN_NOT_HATEFUL).to_numpy(int)
    scores = {"labels:mean of passes": np.asarray(labels, float)[full]}
    scores.update(
        {
            key: frame.loc[full, "p_hate"].to_numpy(float)
            for key, frame in predictions.items()
            if not key.startswith("constant:")  # a constant ranks nothing
        }
    )
    kw = {**bootstrap, "groups": reference.loc[full, "sentence_id"].to_numpy()}
    intervals = multi_bootstrap(roc_auc, human, scores, **kw)
    return {
        "definition": "ROC AUC of the score at the whole tweet (k = n) against the corpus's human class "
        f"(hateful: corpus_class other than {HUMAN_NOT_HATEFUL!r}), over the test tweets",
        "n_sentences": int(full.sum()),
        "n_human_hateful": int(human.sum()),
        "auc": {key: value.to_json() for key, value in intervals.items()},
    }
