"""The whole-sentence hate detector of notebook 06: its corpus (ToxiGen's label rule, the phase-1 filters, a
grouped selection split), its loss, and training, saving and reuse end to end on a tiny random BERT."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hatespeech.config import get_profile
from hatespeech.data.phase1 import TOXIGEN_TOXIC_RATING, map_phase1_labels
from hatespeech.data.registry import load_cases
from hatespeech.data.schema import FilterLog
from hatespeech.functional import detector as detector_module
from synthetic import tiny_bert

FIXTURES = Path(__file__).parent / "fixtures" / "data"


def test_toxigen_is_toxic_from_the_dual_heads_rating_on():
    frame = pd.DataFrame(
        {"id": ["a", "b", "c"], "text": ["x y", "y z", "z w"], "toxicity_human": [3.99, 4.0, 5.0]}
    )
    mapped = map_phase1_labels("toxigen", frame, FilterLog())
    assert TOXIGEN_TOXIC_RATING == 4.0 and mapped["label"].tolist() == [0, 1, 1]


@pytest.fixture
def profile(monkeypatch, tmp_path, offline_tokenizer):
    monkeypatch.setenv("HATESPEECH_DATA_DIR", str(FIXTURES))
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    encoder = str(tiny_bert(tmp_path / "tiny_bert", offline_tokenizer("offline:minilm-l6")))
    return get_profile(
        "smoke",
        **{
            "models.encoder": encoder,
            "detector.max_rows_per_source": 40,
            "detector.batch_size": 8,
            "detector.selection_fraction": 0.4,  # the fixture corpora are a few rows each
        },
    )


def test_corpus_takes_every_source_through_the_phase1_filters_and_splits_groups_whole(profile):
    data = detector_module.load_detector_data(profile)
    both = pd.concat([data.train, data.selection])
    assert set(both["source"]) == set(profile.detector.sources)
    assert both.groupby("source").size().max() <= 40
    # no HateCheck case trains or selects; the report counts what every filter removed, per corpus
    cases = set(load_cases()["text"].str.lower().str.strip())
    assert not set(both["text"].str.lower().str.strip()) & cases
    assert data.report["hatecheck_check"]["rows_checked"] == len(both)
    assert set(data.report["sources"]) == set(profile.detector.sources)
    # a Stormfront post (and every other row's own unit) sits on one side only
    groups = (
        both["source"]
        + ":"
        + both["id"].str.rsplit("_", n=1).str[0].where(both["source"] == "stormfront", both["id"])
    )
    train_groups = set(groups.iloc[: len(data.train)])
    assert not train_groups & set(groups.iloc[len(data.train) :])
    assert 0 < len(data.selection) < len(data.train)


def test_a_one_class_split_fails_naming_the_setting(profile):
    data = detector_module.load_detector_data(profile)
    data.selection = data.selection.assign(label=0)
    with pytest.raises(ValueError, match=r"selection split .* one class only.*selection_fraction"):
        detector_module.train_detector(profile, data)


def test_loss_is_pos_weighted_bce_on_the_one_logit():
    class Out:
        def __init__(self, logits):
            self.logits = logits

    class Model:
        def __call__(self, input_ids, attention_mask):
            return Out(torch.tensor([[0.5], [-1.0]]))

    inputs = {"input_ids": None, "attention_mask": None, "labels": torch.tensor([1.0, 0.0])}
    loss, _ = detector_module.loss_fn(3.0)(Model(), inputs)
    expected = (3.0 * np.log1p(np.exp(-0.5)) + np.log1p(np.exp(-1.0))) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_trains_saves_and_is_reused_until_its_settings_change(profile, monkeypatch):
    detector = detector_module.load_or_train_detector(profile)
    folder = detector_module.detector_dir(profile)
    stats = json.loads((folder / detector_module.STATS_FILE).read_text())
    assert 0 <= detector.threshold <= 1 and stats["threshold"] == detector.threshold
    assert (
        stats["selection_sentences"] > 0
        and "tuned for F1 on its own selection split" in stats["threshold_source"]
    )
    scores = detector.score(["a statement", "another one"])
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()

    def must_not_train(*args, **kwargs):
        raise AssertionError("retrained although nothing changed")

    monkeypatch.setattr(detector_module, "train_detector", must_not_train)
    again = detector_module.load_or_train_detector(profile)
    np.testing.assert_allclose(again.score(["a statement", "another one"]), scores, atol=1e-6)
    changed = get_profile(
        "smoke",
        **{
            "models.encoder": profile.models.encoder,
            **{f"detector.{k}": v for k, v in vars(profile.detector).items()},
            "detector.lr": 1e-4,
        },
    )
    with pytest.raises(AssertionError, match="retrained"):
        detector_module.load_or_train_detector(changed)


def test_a_checkpoint_without_every_encoder_weight_is_refused(tmp_path, offline_tokenizer):
    from hatespeech.models.dualhead import EncoderWeightsNotLoadedError
    from safetensors.torch import load_file, save_file

    folder = tiny_bert(tmp_path / "tiny_bert", offline_tokenizer("offline:minilm-l6"))
    weights = load_file(folder / "model.safetensors")
    assert detector_module.new_detector_model(str(folder)).num_labels == 1  # whole: loads
    save_file({k: v for k, v in weights.items() if "word_embeddings" not in k}, folder / "model.safetensors")
    with pytest.raises(EncoderWeightsNotLoadedError, match="word_embeddings"):
        detector_module.new_detector_model(str(folder))
