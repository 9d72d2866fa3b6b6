"""Baselines, intervals and verdicts of the anticipation study (hatespeech.anticipation.evidence), on
synthetic predictions whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hatespeech.anticipation import Phase1Result, Phase1Run, Phase2Result, Phase2Run
from hatespeech.anticipation import evidence as ev
from hatespeech.anticipation.every_prefix import every_prefix_metrics, prefix_rows
from hatespeech.anticipation.evidence_types import Earliness, Phase1Evidence, Phase2Baselines, RegressionRow
from hatespeech.anticipation.results import comparison_table
from hatespeech.config import get_profile
from hatespeech.nested import decode


def test_prior_correction_undoes_the_class_weight():
    assert ev.prior_corrected([0.5], 3.0)[0] == pytest.approx(0.25)  # logit 0 - log 3 -> 1 / (1 + 3)
    assert ev.prior_corrected([0.75], 3.0)[0] == pytest.approx(0.5)
    assert ev.prior_corrected([0.3], 1.0)[0] == pytest.approx(0.3)


def _phase1_run(n=300, seed=0):
    """``n`` evaluation sentences of 1-3 words (every prefix a row, each sentence weighing 1), in posts of
    three sentences; the encoder is perfect, the decoder random, TF-IDF right on 85% of the sentences."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    sentences = pd.DataFrame(
        {"text": [" ".join(["w"] * (1 + i % 3)) for i in range(n)], "label": y, "group": np.arange(n) // 3}
    )
    rows = prefix_rows(sentences.assign(source="olid"), [np.zeros(1 + i % 3) for i in range(n)])
    noisy = np.where(rng.random(n) < 0.15, 1 - y, y)[rows["sentence"]]
    y_rows = rows["label"].to_numpy()
    probs = {
        "encoder": y_rows.astype(float),
        "decoder": rng.random(n)[rows["sentence"]],
        "majority": np.zeros(len(rows)),
        "tfidf_logistic": noisy.astype(float),
    }
    run = Phase1Run(profile=get_profile("smoke", **{"anticipation.bootstrap_resamples": 300}))
    for name, p in probs.items():
        frame = rows.assign(p_hate=p)
        run.predictions[name] = frame
        metrics = every_prefix_metrics(frame, 0.5)
        if name in ("encoder", "decoder"):
            run.metrics[name] = metrics
            run.stats[name] = {
                "threshold": 0.5,
                "selection": {"kept": {"score": 0.9 if name == "encoder" else 0.2}},
            }
        else:
            run.baselines[name] = {**metrics, "threshold": 0.5}
    return run


def _phase1_result(evidence) -> Phase1Result:
    """A phase-1 result holding only ``evidence`` (what the findings read)."""
    return Phase1Result(
        profile="smoke",
        phase1={},
        phase1_baselines={},
        phase1_evidence=evidence,
        phase1_sweep=[],
        phase1_data={},
        models={},
        settings={},
    )


def test_phase1_evidence_verdicts_and_targets_on_a_known_case():
    run = _phase1_run()
    ev.phase1_evidence(run)
    e = run.evidence
    assert e["best_variant"] == "encoder" and e["n_units"] == 100  # groups of 3 sentences resampled together
    comparisons = e["comparisons"]
    assert comparisons["f1:encoder-tfidf_logistic"]["verdict"] == "encoder better than tfidf_logistic"
    assert comparisons["accuracy:encoder-majority"]["verdict"] == "encoder better than majority"
    assert comparisons["accuracy:decoder-majority"]["verdict"] == "majority better than decoder"
    assert comparisons["accuracy_at_0.5:encoder-majority"]["verdict"] == "encoder better than majority"
    # best vs TF-IDF, two variants vs majority (at the threshold and at 0.5), best vs the other variant
    # (which is also the seed's ranking)
    assert e["n_comparisons"] == len(comparisons) == 6
    assert e["n_sentences"] == 300 and e["n_prefixes"] == 600 and e["primary_comparison"].startswith("f1:")
    assert set(e["intervals"]["encoder"]) >= {"accuracy", "f1", "precision", "recall", "f1_at_0.5"}
    assert e["targets"]["decoders_at_least_tfidf"]["by_variant"] == {"decoder": False}
    assert e["targets"]["f1_margin_over_tfidf"]["met"] is True
    assert e["targets"]["accuracy_above_majority"]["by_variant"] == {"encoder": True, "decoder": False}
    assert e["targets"]["accuracy_above_majority"]["met"] is False
    lines = _phase1_result(e).findings()
    assert any("Target (+0.05 with the interval above 0): met" in line for line in lines)
    assert any("6 paired comparisons" in line for line in lines)
    again = _phase1_run()
    ev.phase1_evidence(again)
    assert again.evidence == e  # seeded: a rerun gives the same intervals


def test_phase1_evidence_says_no_clear_difference_for_equal_systems():
    run = _phase1_run()
    run.predictions["tfidf_logistic"] = run.predictions["encoder"].copy()
    ev.phase1_evidence(run)
    diff = run.evidence["comparisons"]["f1:encoder-tfidf_logistic"]
    assert (
        diff["verdict"] == "no clear difference"
        and diff["difference"]["low"] == diff["difference"]["high"] == 0
    )
    assert run.evidence["targets"]["f1_margin_over_tfidf"]["met"] is False


def test_phase1_evidence_refuses_systems_scored_on_other_prefixes():
    run = _phase1_run()
    run.predictions["decoder"] = run.predictions["decoder"].assign(k=1)
    with pytest.raises(ValueError, match="same evaluation prefixes"):
        ev.phase1_evidence(run)


def test_phase2_evidence_resamples_sentences_and_checks_the_target():
    rng = np.random.default_rng(1)
    rows = [
        {"sentence_id": f"s{s}", "k": k, "n_words": 12, "corpus_class": ("not_hate", "implicit_hate")[s % 2]}
        for s in range(40)
        for k in range(1, 13)
    ]
    frame = pd.DataFrame(rows)
    y = np.clip(rng.normal(0.3, 0.2, len(frame)), 0, 1)
    y[(frame["k"] == 12) & (frame["corpus_class"] != "not_hate")] += 0.5  # the labels agree with people
    y = np.clip(y, 0, 1)
    frame["label"] = y
    run = Phase2Run(profile=get_profile("smoke", **{"anticipation.bootstrap_resamples": 300}), data=None)
    for key, p in {
        "constant:train_mean": np.full(len(y), y.mean()),
        "phase2:encoder": np.clip(y + rng.normal(0, 0.05, len(y)), 0, 1),
        "phase2:decoder": np.clip(y + rng.normal(0, 0.3, len(y)), 0, 1),
        "baseline:tfidf_ridge": np.clip(y + rng.normal(0, 0.15, len(y)), 0, 1),
        "no_phase1:encoder": np.clip(y + rng.normal(0, 0.05, len(y)), 0, 1),
    }.items():
        run.predictions[key] = frame.assign(p_hate=p)
    run.val_mse = {"phase2:encoder": 0.01, "phase2:decoder": 0.09}
    e = ev.phase2_evidence(run)
    assert e["best_variant"] == "encoder" and e["n_units"] == 40 and e["unit"] == "test sentence"
    c = e["comparisons"]
    assert (
        c["mse:phase2:encoder-constant:train_mean"]["verdict"]
        == "phase2:encoder better than constant:train_mean"
    )
    assert c["mse:phase2:encoder-baseline:tfidf_ridge"]["verdict"].startswith("phase2:encoder better")
    assert c["mse:phase2:encoder-no_phase1:encoder"]["verdict"] == "no clear difference"
    assert e["targets"]["best_mse"]["met"] is True
    # the check against the corpus's human class: whole tweets only, the labels themselves beside the models
    human = e["human_labels"]
    assert human["n_sentences"] == 40 and human["n_human_hateful"] == 20
    assert (
        human["auc"]["labels:mean of passes"]["estimate"] > 0.9 and "constant:train_mean" not in human["auc"]
    )
    assert set(human["auc"]) == {"labels:mean of passes", *run.predictions} - {"constant:train_mean"}
    row = RegressionRow(mse=0.05, mae=0.2, pearson=None, n=80, ece=0.01)
    result = Phase2Result(
        profile="smoke",
        phase2={},
        baselines=Phase2Baselines(
            row, row, phase1_only={}, phase1_only_prior_corrected={}, phase2_without_phase1={}
        ),
        phase2_evidence=e,
        earliness=Earliness("test sentences whose target is >= 0.5 are hateful", {}),
        annotator_agreement={"test": {"mse": 0.004}},
        best_phase2_variant="encoder",
        phase2_C=1.0,
        data={},
    )
    assert any("no clear difference" in line for line in result.findings())
    run.predictions["phase2:decoder"] = run.predictions["phase2:decoder"].iloc[::-1]
    with pytest.raises(ValueError, match="not aligned"):
        ev.phase2_evidence(run)


def test_reversed_repeats_of_a_comparison_are_shown_once():
    run = _phase1_run()
    ev.phase1_evidence(run)
    comparisons = dict(run.evidence["comparisons"])
    first = comparisons["f1:encoder-decoder"]
    comparisons["f1:decoder-encoder"] = {**first, "name_a": "decoder", "name_b": "encoder"}
    evidence = decode(Phase1Evidence, {**run.evidence, "comparisons": comparisons}, "phase1_evidence")
    assert list(evidence.unique_comparisons()) == list(run.evidence["comparisons"])
    assert len(comparison_table(evidence)) == len(run.evidence["comparisons"])
    assert evidence.comparison("f1", "encoder", "decoder") == evidence.comparisons["f1:encoder-decoder"]
    assert evidence.comparison("f1", "encoder", "nobody") is None
