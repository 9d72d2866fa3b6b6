"""run_dualhead and run_grid end to end on the gpu and full profiles' code paths at tiny scale: a tiny random
BERT, synthetic splits, and the profiles' own settings (the lambda search over four candidates, the seed's two
separate models, the grid fine-tuning a whole model per cell), only sizes shrunk. Also the saved models:
notebook 06 reads both through DualHeadScorer."""

from __future__ import annotations

import json

import pytest
from hatespeech import dualhead as dh
from hatespeech.config import get_profile
from hatespeech.dualhead import grid as grid_module
from hatespeech.dualhead import run as run_module
from synthetic import synthetic_splits, tiny_bert

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["gpu", "full"])
def test_dualhead_and_grid_run_on_the_gpu_profiles_code_paths(name, tmp_path, monkeypatch, offline_tokenizer):
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    tokenizer = offline_tokenizer("offline:minilm-l6")
    encoder = str(tiny_bert(tmp_path / "tiny_bert", tokenizer))
    gpu = get_profile(name)
    profile = get_profile(
        name,
        **{
            "models.encoder": encoder,
            "dualhead.max_length": 16,
            "dualhead.epochs": 1.0,
            "dualhead.batch_size": 16,
            "dualhead.bootstrap_resamples": 20,
            "dualhead.bias_min_subgroup_size": 2,
            "dualhead.grid.gammas": (0.0, 2.0),
            "dualhead.grid.alphas": (0.25,),
        },
    )
    # the code paths under test are the profile's own, not the sizes
    assert profile.dualhead.focal_lambda_candidates == gpu.dualhead.focal_lambda_candidates
    assert profile.dualhead.grid.mode == "finetune" and profile.dualhead.train_separate_models
    splits = synthetic_splits(n=120)
    monkeypatch.setattr(run_module, "load_or_make_splits", lambda p: splits)
    monkeypatch.setattr(grid_module, "load_or_make_splits", lambda p: splits)

    run = dh.run_dualhead(profile)
    result = run.result()
    assert len(run.choice.table) == len(gpu.dualhead.focal_lambda_candidates)
    assert set(run.separate_models) == {"n", "i"} and run.comparison() is not None
    assert {"head_n", "head_i"} <= set(run.intervals) and run.baselines["heads"]
    assert result.to_json()["separate_models"]["head_n"] and result.focal_lambda_choice
    for folder in ("joint_model", "separate_n_model"):  # what notebook 06 scores on HateCheck
        saved = dh.experiment_dir(profile) / folder
        thresholds = json.loads((saved / "thresholds.json").read_text())
        scorer = dh.DualHeadScorer.from_pretrained(saved)
        assert "toxic" in thresholds and scorer.classify(["a statement"])["p_toxic"].between(0, 1).all()

    grid = dh.run_grid(profile)
    assert grid.mode == "finetune" and len(grid.table) == 2 and grid.splits is splits
    assert [c.gamma for c in grid.result().grid] == [0.0, 2.0]
