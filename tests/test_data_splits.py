"""Seeded splits: determinism, proportions, the multi-label folds of the dual-head table, manifests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hatespeech.data.dualhead import iterative_folds, stratification_matrix
from hatespeech.data.splits import apply_manifest, fingerprint, load_or_create_manifest, stratified_split


@pytest.fixture
def multilabel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame(
        {
            "source": np.where(rng.random(n) < 0.7, "toxigen", "olid"),
            "common": (rng.random(n) < 0.4).astype(float),
            "rarer": (rng.random(n) < 0.08).astype(float),
            "masked": np.where(rng.random(n) < 0.5, np.nan, (rng.random(n) < 0.3).astype(float)),
        }
    )


LABELS = ["common", "rarer", "masked"]


def test_stratification_matrix_counts_nan_as_not_positive_and_adds_sources(multilabel):
    before = multilabel.copy()
    y = stratification_matrix(multilabel, LABELS)
    pd.testing.assert_frame_equal(multilabel, before)  # labels untouched
    assert y.shape == (len(multilabel), len(LABELS) + 2)  # + one indicator per source (olid, toxigen)
    assert y[:, 2].sum() == int((multilabel["masked"] == 1).sum())
    assert (y[:, 3] == (multilabel["source"] == "olid")).all() and (y[:, 3] + y[:, 4] == 1).all()


def test_iterative_folds_are_deterministic_and_partition(multilabel):
    y = stratification_matrix(multilabel, LABELS)
    a = iterative_folds(y, (0.8, 0.15, 0.05), seed=3)
    b = iterative_folds(y, (0.8, 0.15, 0.05), seed=3)
    c = iterative_folds(y, (0.8, 0.15, 0.05), seed=4)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape == (len(multilabel),) and set(a) == {0, 1, 2}  # every row in exactly one fold


def test_iterative_folds_proportions_and_stratification(multilabel):
    y = stratification_matrix(multilabel, LABELS)
    fractions = (0.8, 0.15, 0.05)
    fold = iterative_folds(y, fractions, seed=1)
    sizes = np.bincount(fold)
    assert sizes[0] == pytest.approx(320, abs=4)
    assert sizes[1] == pytest.approx(60, abs=4)
    assert sizes[2] == pytest.approx(20, abs=4)
    total = multilabel["common"].sum()
    for k, fraction in enumerate(fractions):
        assert y[fold == k, 0].sum() == pytest.approx(total * fraction, abs=2)
        assert y[fold == k, 1].sum() >= 1  # the rarer label reaches every fold
        share = (multilabel["source"][fold == k] == "olid").mean()
        assert share == pytest.approx((multilabel["source"] == "olid").mean(), abs=0.05)


def test_iterative_folds_restore_global_numpy_rng(multilabel):
    y = stratification_matrix(multilabel, ["common"])
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    iterative_folds(y, (0.5, 0.5), seed=9)
    assert np.random.random() == expected


def test_iterative_folds_validate_fractions(multilabel):
    with pytest.raises(ValueError, match="sum to 1"):
        iterative_folds(stratification_matrix(multilabel, ["common"]), (0.8, 0.3), seed=0)


def test_stratified_split_proportions_per_stratum():
    df = pd.DataFrame(
        {"source": ["a"] * 200 + ["b"] * 100, "label": ([0] * 150 + [1] * 50) + ([0] * 60 + [1] * 40)}
    )
    parts = stratified_split(df, ["source", "label"], {"train": 0.85, "val": 0.15}, seed=0)
    assert len(parts["train"]) == 255 and len(parts["val"]) == 45
    val = df.loc[parts["val"]]
    per_stratum = val.groupby(["source", "label"]).size()
    expected = df.groupby(["source", "label"]).size() * 0.15
    assert (per_stratum - expected).abs().max() <= 1
    again = stratified_split(df, ["source", "label"], {"train": 0.85, "val": 0.15}, seed=0)
    assert list(again["val"]) == list(parts["val"])


def test_stratified_split_three_way_and_rare_strata():
    df = pd.DataFrame({"y": [0] * 50 + [1] * 9 + [2]})  # class 2 has a single member
    parts = stratified_split(df, "y", (0.8, 0.15, 0.05), seed=1)
    assert sum(len(p) for p in parts.values()) == 60 and len(parts["train"]) == 48
    assert set().union(*map(set, parts.values())) == set(df.index)


def test_fingerprint_ignores_order_but_not_labels():
    assert fingerprint(["a", "b"], [0, 1]) == fingerprint(["b", "a"], [1, 0])
    assert fingerprint(["a", "b"], [0, 1]) != fingerprint(["a", "b"], [1, 1])


def test_manifest_is_created_reused_and_rebuilt(tmp_path):
    path = tmp_path / "splits" / "x.json"
    calls = []

    def make():
        calls.append(1)
        return {"train": ["k1", "k2"], "val": ["k3"]}

    meta = {"name": "x", "seed": 1, "fingerprint": "abc"}
    first, reused = load_or_create_manifest(path, make, meta)
    assert not reused and json.loads(path.read_text())["splits"] == {"train": ["k1", "k2"], "val": ["k3"]}
    second, reused = load_or_create_manifest(path, make, meta)
    assert reused and second == first and len(calls) == 1
    _, reused = load_or_create_manifest(path, make, {**meta, "fingerprint": "changed"})
    assert not reused and len(calls) == 2
    df = pd.DataFrame({"key": ["k3", "k1", "k2"], "v": [3, 1, 2]})
    frames = apply_manifest(df, first, "key")
    assert frames["train"]["v"].tolist() == [1, 2] and frames["val"]["v"].tolist() == [3]
    with pytest.raises(KeyError, match="inputs changed"):
        apply_manifest(df.iloc[:2], first, "key")
