"""Every-prefix evaluation (hatespeech.anticipation.every_prefix): rows, sentence weights, per-sentence counts
equal to sklearn's weighted metrics, the weighted threshold, and a bootstrap over sentences / posts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hatespeech.anticipation.every_prefix import (
    count_metric,
    counts_metrics,
    decile_bin,
    every_prefix_metrics,
    grouped_every_prefix,
    prefix_rows,
    sentence_counts,
    tuned_threshold,
)
from hatespeech.metrics.bootstrap import multi_bootstrap
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score


def _rows(seed=0, n=40):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 12, n)
    sentences = pd.DataFrame(
        {
            "text": [" ".join(["w"] * m) for m in lengths],
            "label": rng.integers(0, 2, n),
            "group": np.arange(n) // 2,
            "source": np.where(np.arange(n) % 2, "olid", "stormfront"),
        }
    )
    return prefix_rows(sentences, [rng.random(m) for m in lengths]), sentences


def test_prefix_rows_one_row_per_prefix_and_each_sentence_weighs_one():
    rows, sentences = _rows()
    assert len(rows) == sentences["text"].str.split().str.len().sum()
    assert np.allclose(rows.groupby("sentence")["weight"].sum(), 1.0)
    assert (rows.groupby("sentence")["k"].max() == rows.groupby("sentence")["n_words"].first()).all()
    assert rows["group"].tolist() == [sentences["group"][s] for s in rows["sentence"]]
    with pytest.raises(ValueError, match="3 sentences but 2 trajectories"):
        prefix_rows(sentences.head(3), [np.zeros(1), np.zeros(2)])


@pytest.mark.parametrize("threshold", [0.2, 0.5, 0.8])
def test_counts_metrics_equal_sklearns_weighted_metrics(threshold):
    rows, _ = _rows(seed=int(threshold * 10))
    y, pred, w = rows["label"], rows["p_hate"] >= threshold, rows["weight"]
    got = counts_metrics(sentence_counts(rows, threshold))
    assert got["accuracy"] == pytest.approx(accuracy_score(y, pred, sample_weight=w))
    assert got["f1"] == pytest.approx(f1_score(y, pred, sample_weight=w, zero_division=0))
    assert got["precision"] == pytest.approx(precision_score(y, pred, sample_weight=w, zero_division=0))
    assert got["recall"] == pytest.approx(recall_score(y, pred, sample_weight=w, zero_division=0))
    unweighted = counts_metrics(sentence_counts(rows, threshold, weighted=False))
    assert unweighted["f1"] == pytest.approx(f1_score(y, pred, zero_division=0))
    assert counts_metrics(np.zeros((1, 4)))["f1"] == 0.0


def test_tuned_threshold_maximises_the_weighted_f1():
    rows, _ = _rows(seed=3)
    best = tuned_threshold(rows)
    f1 = every_prefix_metrics(rows, best)["f1"]
    for t in np.linspace(0.01, 0.99, 50):
        assert every_prefix_metrics(rows, t)["f1"] <= f1 + 1e-12
    assert tuned_threshold(rows.assign(label=0)) == 0.5  # toy data without a hateful sentence


def test_every_prefix_metrics_carry_both_thresholds_and_the_unweighted_view():
    rows, _ = _rows()
    m = every_prefix_metrics(rows, 0.3)
    assert m["threshold"] == 0.3 and m["n_sentences"] == 40 and m["n_prefixes"] == len(rows)
    assert m["at_0.5"] == counts_metrics(sentence_counts(rows, 0.5))
    assert m["unweighted"]["accuracy"] == pytest.approx(np.mean((rows["p_hate"] >= 0.3) == rows["label"]))


def test_deciles_and_grouped_metrics():
    assert list(decile_bin([0.05, 0.1, 0.11, 1.0]).astype(str)) == ["0-10%", "0-10%", "10-20%", "90-100%"]
    rows, _ = _rows()
    by_source = grouped_every_prefix(rows, "source", 0.5)
    assert set(by_source["source"]) == {"olid", "stormfront"}
    assert by_source["weight"].sum() == pytest.approx(40.0)  # 40 sentences, each weighing 1


def test_the_bootstrap_resamples_sentences_grouped_by_post():
    rows, sentences = _rows()
    counts = sentence_counts(rows, 0.5)
    groups = sentences["group"].to_numpy()
    (iv,) = multi_bootstrap(
        count_metric("accuracy"), np.zeros(len(counts)), {"a": counts}, groups=groups, n_resamples=200
    ).values()
    assert iv.n_units == 20  # 40 sentences in posts of two: the post is the unit
    assert iv.low <= iv.estimate <= iv.high
    assert iv.estimate == pytest.approx(counts_metrics(counts)["accuracy"])
