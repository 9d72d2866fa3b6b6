"""hatespeech.dualhead.training: the focal weight chosen on validation; a tiny end-to-end
fit/predict/evaluate/bias/save."""

from __future__ import annotations

import pandas as pd
import pytest
from hatespeech import dualhead as dh
from hatespeech.config import get_profile, overridden
from hatespeech.dualhead import training
from synthetic import synthetic_splits, tiny_bert


@pytest.fixture
def profile(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path))
    return get_profile("smoke", **{"dualhead.grid.epochs": 15.0, "dualhead.grid.batch_size": 16})


def test_lambda_choice_keeps_best_validation_mean_and_trains_each_lambda(profile, monkeypatch):
    # validation macro-F1 per (lambda, head); test scores are made to disagree so a test-based pick would
    # differ
    val = {1.0: (0.47, 0.28), 10.0: (0.46, 0.50), 30.0: (0.40, 0.50)}
    test = {1.0: (0.50, 0.60), 10.0: (0.42, 0.52), 30.0: (0.41, 0.55)}
    fitted = []

    def fake_fit(profile, splits, datasets, tokenizer, heads="both", focal_lambda=None, run_name=None, **kw):
        fitted.append((heads, focal_lambda, run_name))
        return dh.TrainedModel(
            model=focal_lambda, history=pd.DataFrame(), heads=heads, train_seconds=2.0, n_train=10, epochs=1.0
        )

    monkeypatch.setattr(training, "fit", fake_fit)
    monkeypatch.setattr(training, "predict", lambda model, dataset, *a, **k: (model, dataset))
    monkeypatch.setattr(
        training,
        "evaluate",
        lambda splits, preds: {
            head: {"val_macro_f1": val[preds["val"][0]][k], "macro_f1": test[preds["test"][0]][k]}
            for k, head in enumerate(("n", "i"))
        },
    )
    choice = dh.fit_joint_choosing_lambda(profile, None, {"val": "V", "test": "T"}, None, (1.0, 10.0, 30.0))
    assert [f[1] for f in fitted] == [1.0, 10.0, 30.0] and {f[0] for f in fitted} == {"both"}
    assert (
        choice.focal_lambda == 10.0 and choice.trained.model == 10.0 and choice.preds["test"] == (10.0, "T")
    )
    assert choice.table["val_macro_f1_mean"].tolist() == pytest.approx([0.375, 0.48, 0.45])
    assert choice.to_json()["picked"] == 10.0 and choice.to_json()["candidates"] == [1.0, 10.0, 30.0]
    # a tie keeps the first candidate; no candidates given = the profile's list, else its single lambda
    val[30.0] = val[10.0]
    tie = dh.fit_joint_choosing_lambda(profile, None, {"val": "V", "test": "T"}, None, (10.0, 30.0))
    assert tie.focal_lambda == 10.0
    fitted.clear()
    profile = overridden(profile, {"dualhead.focal_lambda_candidates": None, "dualhead.focal_lambda": 30.0})
    assert dh.fit_joint_choosing_lambda(profile, None, {"val": "V", "test": "T"}, None).focal_lambda == 30.0
    assert [f[1] for f in fitted] == [30.0]


@pytest.mark.slow
def test_tiny_end_to_end(profile, tmp_path, offline_tokenizer):
    """fit -> predict -> evaluate -> bias on a tiny random BERT with the offline tokenizer (seconds)."""
    tokenizer = offline_tokenizer("offline:minilm-l6")
    encoder = str(tiny_bert(tmp_path / "tiny_bert", tokenizer))
    profile = overridden(profile, {"models.encoder": encoder, "dualhead.batch_size": 16})
    splits = synthetic_splits(n=120)
    datasets = dh.tokenize_splits(splits, tokenizer, profile)
    trained = dh.fit(profile, splits, datasets, tokenizer, heads="both", run_name="tiny", focal_lambda=7.0)
    assert trained.model.config.focal_lambda == 7.0  # the lambda asked for is the one in the loss
    assert trained.n_train == len(splits.frame("train")) and trained.train_seconds > 0
    assert trained.history["loss"].notna().any()
    preds = {s: dh.predict(trained.model, datasets[s], tokenizer, profile) for s in ("val", "test")}
    assert preds["test"].probs_n.shape == (len(splits.frame("test")), len(splits.label_names_n))
    reports = dh.evaluate(splits, preds)
    assert set(reports) == {"n", "i"} and 0.0 <= reports["n"]["macro_f1"] <= 1.0
    single = dh.fit(profile, splits, datasets, tokenizer, heads="i", run_name="tiny_i")
    toxigen_train = int((splits.frame("train")["source"] == "toxigen").sum())
    assert single.n_train == toxigen_train  # the identity-only model trains on rows with identity labels
    bias = dh.bias_of(splits, preds["test"], min_subgroup_size=1)
    assert bias["toxicity_label"] == "toxic" and bias["n_rows"] == int(
        (splits.frame("test")["source"] == "toxigen").sum()
    )
    saved = dh.save_model(trained, tokenizer, tmp_path / "saved", splits)
    _model, source = dh.encoder_for_grid(profile, splits)
    assert "pretrained" in source  # the checkpoint sits elsewhere than the profile's joint_model folder
    assert (saved / "config.json").exists()
    dh.save_model(trained, tokenizer, dh.experiment_dir(profile) / "joint_model", splits)
    _model, source = dh.encoder_for_grid(profile, splits)
    assert source.startswith("fine-tuned joint encoder")
