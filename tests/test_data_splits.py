"""Seeded splits: determinism, proportions, dropped labels, manifests."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from hatespeech.data.splits import (apply_manifest, fingerprint, iterative_split, load_or_create_manifest,
                                    stratified_split)


@pytest.fixture
def multilabel() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame({
        "common": (rng.random(n) < 0.4).astype(float),
        "rarer": (rng.random(n) < 0.08).astype(float),
        "masked": np.where(rng.random(n) < 0.5, np.nan, (rng.random(n) < 0.3).astype(float)),
        "single": 0.0,
        "none": 0.0,
    }, index=[f"r{i}" for i in range(n)])
    df.loc["r7", "single"] = 1.0
    return df


def test_iterative_split_is_deterministic_and_partitions(multilabel):
    cols = ["common", "rarer", "masked", "single", "none"]
    a = iterative_split(multilabel, cols, seed=3)
    b = iterative_split(multilabel, cols, seed=3)
    c = iterative_split(multilabel, cols, seed=4)
    assert all(np.array_equal(a.indices[k], b.indices[k]) for k in a.indices)
    assert any(not np.array_equal(a.indices[k], c.indices[k]) for k in a.indices)
    together = np.concatenate(list(a.indices.values()))
    assert len(together) == len(multilabel) and set(together) == set(multilabel.index)


def test_iterative_split_proportions_and_stratification(multilabel):
    result = iterative_split(multilabel, ["common", "rarer", "masked"], fractions=(0.8, 0.15, 0.05), seed=1)
    sizes = result.sizes()
    assert sizes["train"] == pytest.approx(320, abs=4)
    assert sizes["val"] == pytest.approx(60, abs=4)
    assert sizes["test"] == pytest.approx(20, abs=4)
    total = multilabel["common"].sum()
    for split, fraction in result.fractions.items():
        assert result.positives[split]["common"] == pytest.approx(total * fraction, abs=2)
    assert all(result.positives[s]["rarer"] >= 1 for s in result.indices)


def test_iterative_split_drops_and_names_rare_labels(multilabel):
    result = iterative_split(multilabel, ["common", "single", "none"], seed=0, min_positives=2)
    assert result.dropped_labels == {"single": 1, "none": 0}
    assert result.used_labels == ["common"]


def test_iterative_split_nan_is_negative_only_for_stratification(multilabel):
    before = multilabel.copy()
    result = iterative_split(multilabel, ["masked"], seed=0)
    pd.testing.assert_frame_equal(multilabel, before)  # labels untouched
    positives = int((multilabel["masked"] >= 0.5).sum())
    assert sum(p["masked"] for p in result.positives.values()) == positives


def test_iterative_split_restores_global_numpy_rng(multilabel):
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    iterative_split(multilabel, ["common"], seed=9)
    assert np.random.random() == expected


def test_iterative_split_without_usable_labels_is_seeded_random(multilabel):
    a = iterative_split(multilabel, ["none"], fractions={"a": 0.5, "b": 0.5}, seed=2)
    b = iterative_split(multilabel, ["none"], fractions={"a": 0.5, "b": 0.5}, seed=2)
    assert a.sizes() == {"a": 200, "b": 200} and np.array_equal(a.indices["a"], b.indices["a"])


def test_iterative_split_validates_inputs(multilabel):
    with pytest.raises(ValueError, match="sum to 1"):
        iterative_split(multilabel, ["common"], fractions=(0.8, 0.3))
    with pytest.raises(KeyError, match="missing"):
        iterative_split(multilabel, ["missing"])


def test_stratified_split_proportions_per_stratum():
    df = pd.DataFrame({"source": ["a"] * 200 + ["b"] * 100, "label": ([0] * 150 + [1] * 50) + ([0] * 60 + [1] * 40)})
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
