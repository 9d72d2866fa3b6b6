"""hatespeech.anticipation.evaluation: the selection score (through the Anticipator) and binary metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from anticipation_support import SENTENCES, tiny
from hatespeech import anticipation as ant
from hatespeech.anticipation import evaluation
from hatespeech.anticipation.every_prefix import every_prefix_metrics
from hatespeech.anticipation.inference import Anticipator
from hatespeech.baselines import best_f1_threshold
from hatespeech.models.prefix import parse_variant

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tokenizers / one_torch_thread: tests/conftest.py


@pytest.mark.parametrize("variant", ["encoder", "decoder+bilstm"])
def test_selection_scoring_goes_through_the_anticipator_and_keeps_train_mode(variant, tokenizers):
    """The per-epoch selection score (a training callback) scores through Anticipator at the profile's
    max_length, in eval mode, and hands the model back in train mode."""
    tok = tokenizers[parse_variant(variant)[0]]
    model = tiny(variant, tokenizers)
    frame = pd.DataFrame({"text": SENTENCES * 4, "label": [1, 0, 1] * 4, "source": ["a", "b"] * 6})
    anticipator = Anticipator(model, tok, max_length=8)
    expected = anticipator.trajectories(frame["text"].tolist())
    assert anticipator.last_truncated > 0  # some prefixes exceed 8 tokens: scored on the words that fit
    model.train()
    rows = evaluation.score_every_prefix(model, tok, frame, max_length=8, desc="selection")
    assert model.training and rows["p_hate"].dtype == np.float64
    assert np.abs(rows["p_hate"].to_numpy() - np.concatenate(expected)).max() <= 1e-5
    assert len(rows) == frame["text"].str.split().str.len().sum()  # every prefix of every sentence
    f1, details = ant.selection_score_fn(tok, frame, max_length=8)(model)
    assert model.training
    # the threshold maximises the sentence-weighted F1 over every selection prefix
    assert details["threshold"] == best_f1_threshold(rows["label"], rows["p_hate"], rows["weight"])
    assert f1 == pytest.approx(every_prefix_metrics(rows, details["threshold"])["f1"])


def test_binary_metrics_and_grouping():
    m = ant.binary_metrics([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1])
    assert m["accuracy"] == 0.5 and m["f1"] == 0.5 and m["n"] == 4
    frame = pd.DataFrame(
        {"source": ["a", "a", "b", "b"], "label": [1, 0, 1, 0], "p_hate": [0.9, 0.6, 0.4, 0.1]}
    )
    by = ant.grouped_binary_metrics(frame, "source").set_index("source")
    assert (
        by.loc["a", "accuracy"] == 0.5
        and by.loc["b", "accuracy"] == 0.5
        and by.loc["a", "f1"] == pytest.approx(2 / 3)
    )
