"""hatespeech.dualhead.grid: focal-grid cells really train differently, in every mode (the cpu mode's cells
change the encoder's top layers); the grid's typed result."""

from __future__ import annotations

import numpy as np
import pytest
from hatespeech import dualhead as dh
from hatespeech.config import get_profile, overridden
from hatespeech.dualhead import grid as grid_module
from synthetic import synthetic_splits, tiny_bert


@pytest.fixture
def profile(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path))
    return get_profile("smoke", **{"dualhead.grid.epochs": 15.0, "dualhead.grid.batch_size": 16})


def test_feature_head_cells_train_differently(profile):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 8)).astype(np.float32)
    labels = (rng.random((60, 3)) < 0.3).astype(float)
    labels[:10] = np.nan  # rows with no identity annotation are left out of training
    probs = {}
    for gamma, alpha in ((0.5, 0.25), (3.0, 0.25), (0.5, 1.0)):
        head, _ = dh.train_feature_head(profile, features, labels, gamma, alpha, f"g{gamma}_a{alpha}")
        probs[(gamma, alpha)] = dh.head_probs(head, features)
    keys = list(probs)
    for i, first in enumerate(keys):
        for second in keys[i + 1 :]:
            assert np.abs(probs[first] - probs[second]).max() > 1e-3, (first, second)
    # same cell twice = same predictions (the loss is the only thing that differs between cells)
    head, _ = dh.train_feature_head(profile, features, labels, 0.5, 0.25, "again")
    np.testing.assert_allclose(dh.head_probs(head, features), probs[(0.5, 0.25)], atol=1e-6)


def test_focal_grid_trains_every_cell(profile, monkeypatch):
    splits = synthetic_splits()
    rng = np.random.default_rng(1)
    features = {
        s: rng.normal(size=(len(splits.frame(s)), 12)).astype(np.float32) for s in ("train", "val", "test")
    }
    # make the features informative about the identity labels so heads learn something
    for split, values in features.items():
        y = np.nan_to_num(splits.labels(split, "i"))
        values[:, : y.shape[1]] += 2 * y[:, :12]
    monkeypatch.setattr(
        grid_module, "cached_features", lambda *args, **kwargs: (features, "synthetic features", 0.0)
    )
    grid = dh.run_focal_grid(
        profile,
        splits,
        datasets=None,
        tokenizer=None,
        gammas=(0.5, 2.0),
        alphas=(0.25, 1.0),
        mode="cached_features",
    )
    assert len(grid.table) == 4 and grid.mode == "cached_features"
    assert set(map(tuple, grid.table[["gamma", "alpha"]].to_numpy())) == {
        (0.5, 0.25),
        (0.5, 1.0),
        (2.0, 0.25),
        (2.0, 1.0),
    }
    differences = grid.differences()
    assert differences["all_cells_differ"] and differences["min_pairwise_max_abs_prob_diff"] > 1e-4
    pick = grid.pick()
    assert pick["val_macro_f1"] == grid.table["val_macro_f1"].max()
    records = grid.to_json()
    assert set(records[0]) >= {"gamma", "alpha", "val_macro_f1", "test_macro_f1"}
    # the typed result notebook 05 writes, with its findings and tables
    result = grid.result(profile, splits, notebook_seconds=1.5)
    assert result.to_json()["grid"] == records and result.wall_seconds == {"05_focal_grid": 1.5}
    assert result.grid[0].gamma == records[0]["gamma"]  # typed cells (dualhead.result_types.GridCell)
    assert result.grid_pick.gamma == float(pick["gamma"]) and result.grid_pick.alpha == float(pick["alpha"])
    toxigen_train = int((splits.frame("train")["source"] == "toxigen").sum())
    assert result.grid_info["n_train_rows_identity"] == toxigen_train
    assert result.grid_info["cells_differ"] == differences and result.grid_info["mode"] == "cached_features"
    picked, differ, trained, no_bce, spread = result.findings()
    assert no_bce.startswith("No gamma = 0") and spread.startswith("Spread of identity macro-F1 over")
    assert trained.startswith("Each cell trained a fresh head_i only (a linear probe")
    assert picked.startswith(f"4 cells trained. Picked on validation: gamma {pick['gamma']:g}, alpha ")
    assert f"validation identity macro-F1 {pick['val_macro_f1']:.3f}" in picked
    assert differ.startswith("Every cell made different predictions: yes (")
    (val_title, val), (test_title, test) = result.tables()
    assert "val_macro_f1" in val_title and "test_macro_f1" in test_title and val.shape == test.shape == (2, 2)
    cell = grid.table.set_index(["gamma", "alpha"]).loc[(2.0, 0.25)]
    assert val.loc["gamma=2", "alpha=0.25"] == pytest.approx(cell["val_macro_f1"])
    assert test.loc["gamma=2", "alpha=0.25"] == pytest.approx(cell["test_macro_f1"])


@pytest.mark.slow
def test_tiny_finetune_grid(profile, tmp_path, offline_tokenizer):
    """The gpu profile's grid mode: a whole model fine-tuned per cell (tiny random BERT, two cells)."""
    tokenizer = offline_tokenizer("offline:minilm-l6")
    encoder = str(tiny_bert(tmp_path / "tiny_bert", tokenizer))
    profile = overridden(
        profile, {"models.encoder": encoder, "dualhead.grid.epochs": 1.0, "dualhead.lr": 1e-3}
    )
    splits = synthetic_splits(n=100)
    datasets = dh.tokenize_splits(splits, tokenizer, profile)
    grid = dh.run_focal_grid(
        profile, splits, datasets, tokenizer, gammas=(0.5,), alphas=(0.25, 1.0), mode="finetune"
    )
    assert grid.mode == "finetune" and len(grid.table) == 2 and grid.differences()["all_cells_differ"]


def test_top_layers_on_cached_lower_states_equal_the_whole_encoder(tmp_path, offline_tokenizer):
    """Lower-layer states computed once, fed to a model cut to its top layers, give the whole model's pooled
    features (and its head outputs): the cpu grid's cells start exactly from the pretrained encoder."""
    import torch
    from hatespeech.dualhead import top_layers
    from hatespeech.dualhead.batches import TOKEN_KEYS

    tokenizer = offline_tokenizer("offline:minilm-l6")
    profile = get_profile(
        "smoke", **{"models.encoder": str(tiny_bert(tmp_path / "tiny_bert", tokenizer, layers=3))}
    )
    splits = synthetic_splits(n=100)
    datasets = dh.tokenize_splits(splits, tokenizer, profile)
    torch.manual_seed(0)
    whole = dh.new_model(profile, splits, "both").eval()
    rows = datasets["val"].select(range(min(8, len(datasets["val"]))))
    states = top_layers.lower_states(whole, rows, tokenizer, n_lower=2, batch_size=3)
    assert [s.shape[0] for s in states] == [len(ids) for ids in rows["input_ids"]]  # each row at its length
    batch = dh.DualHeadCollator(tokenizer)(list(rows))
    with torch.no_grad():
        expected = whole(**{k: batch[k] for k in TOKEN_KEYS if k in batch})
        top = top_layers.top_model(whole, 1).eval()
        assert len(top.bert.encoder.layer) == 1
        cached = top_layers.StatesCollator()([{"inputs_embeds": s} for s in states])
        got = top(inputs_embeds=cached["inputs_embeds"], attention_mask=cached["attention_mask"])
    torch.testing.assert_close(got.logits_n, expected.logits_n, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(got.logits_i, expected.logits_i, atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="n_top must be between 1 and"):
        top_layers.top_model(dh.new_model(profile, splits, "both"), 4)


def test_top_layers_grid_cells_change_the_encoder(profile, tmp_path, offline_tokenizer, monkeypatch):
    """The cpu grid: per cell the top layer and both heads train from the pretrained weights. head_n's loss is
    the same in every cell, so head_n predictions that differ between cells show the encoder itself changed
    with the focal settings (the linear-probe grid could not)."""
    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path / "reports"))  # no notebook-04 lambda there
    tokenizer = offline_tokenizer("offline:minilm-l6")
    profile = overridden(
        profile,
        {
            "models.encoder": str(tiny_bert(tmp_path / "tiny_bert", tokenizer, layers=2)),
            "dualhead.grid.epochs": 2.0,
            "dualhead.grid.trainable_layers": 1,
            "dualhead.grid.max_train_rows": 60,
            "dualhead.lr": 1e-3,
        },
    )
    splits = synthetic_splits(n=100)
    datasets = dh.tokenize_splits(splits, tokenizer, profile)
    grid = dh.run_focal_grid(profile, splits, datasets, tokenizer, gammas=(0.5, 3.0), alphas=(0.25,))
    assert grid.mode == "top_layers" and len(grid.table) == 2 and grid.differences()["all_cells_differ"]
    assert "the top 1 of 2 encoder layers and both heads" in grid.trained and "60 train rows" in grid.trained
    assert grid.settings["rows"] == 60 and grid.settings["focal_lambda"] == profile.dualhead.focal_lambda
    assert grid.table["val_macro_f1_n"].notna().all()
    info = grid.result(profile, splits, notebook_seconds=1.0).grid_info
    assert info["head_lr"] == grid.settings["head_lr"] == 1e-3  # the rate the cells' heads trained at
    assert info["each_cell_trained"] == grid.trained and info["cell_settings"]["trainable"].startswith(
        "top 1"
    )
    # head_n, trained with the same BCE in both cells, predicts differently: the top layer moved with the cell
    from hatespeech.dualhead import top_layers

    cached = top_layers.cache_splits(profile, splits, datasets, tokenizer, n_top=1, max_train_rows=60)
    low, _ = top_layers.train_cell(profile, splits, cached, 0.5, 0.25, 1.0, "low")
    high, _ = top_layers.train_cell(profile, splits, cached, 3.0, 0.25, 1.0, "high")
    assert np.abs(low["test"][0] - high["test"][0]).max() > 1e-4
    again, _ = top_layers.train_cell(profile, splits, cached, 0.5, 0.25, 1.0, "again")
    np.testing.assert_allclose(again["test"][1], low["test"][1], atol=1e-5)  # a cell repeats exactly
