"""The dual-head table and its splits (hatespeech.data.dualhead): fractions, sources and dropped labels per
split, repeatable capped splits, the manifest saved and reused; the real offline table's label counts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hatespeech.config import get_profile
from hatespeech.data.dualhead import build_table, load_or_make_splits, make_splits
from hatespeech.data.dualhead_labels import TOXIGEN_GROUPS


def _synthetic_table(n=200, seed=0):
    """A table shaped like the offline one, with random labels (for split tests)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    toxigen = pd.DataFrame(
        {
            "id": [str(i) for i in range(half)],
            "source": "toxigen",
            "text": [f"toxigen text {i}" for i in range(half)],
            "target_group": rng.choice(TOXIGEN_GROUPS, half),
            "toxicity_human": rng.uniform(1, 5, half),
            "lewd": rng.choice(["contains lewd content", "doesn't contain lewd content"], half, p=[0.1, 0.9]),
        }
    )
    a = rng.choice(["OFF", "NOT"], n - half)
    b = np.where(a == "OFF", rng.choice(["TIN", "UNT"], n - half), None)
    c = np.where(b == "TIN", rng.choice(["IND", "GRP"], n - half), None)  # no OTH at all
    olid = pd.DataFrame(
        {
            "id": [str(i) for i in range(n - half)],
            "source": "olid",
            "text": [f"olid text {i}" for i in range(n - half)],
            "subtask_a": a,
            "subtask_b": b,
            "subtask_c": c,
        }
    )
    return build_table({"toxigen": toxigen, "olid": olid}, "offline")


def test_splits_fractions_sources_and_dropped_labels():
    table = _synthetic_table()
    splits = make_splits(table, (0.8, 0.15, 0.05), seed=3)
    sizes = splits.manifest["split"].value_counts()
    assert abs(sizes["train"] - 160) <= 3 and abs(sizes["val"] - 30) <= 3 and abs(sizes["test"] - 10) <= 3
    assert splits.dropped_labels.keys() == {"targets_other"}  # no OTH positive: dropped and named
    assert "targets_other" not in splits.label_names_n
    # each split keeps both sources
    for split in ("train", "val", "test"):
        assert set(splits.frame(split)["source"]) == {"toxigen", "olid"}
    # every row in exactly one split
    assert splits.manifest["uid"].is_unique and len(splits.manifest) == len(table.df)


def test_splits_repeatable_and_capped():
    table = _synthetic_table()
    one = make_splits(table, seed=5, max_train=50, max_eval=12)
    two = make_splits(table, seed=5, max_train=50, max_eval=12)
    pd.testing.assert_frame_equal(one.manifest, two.manifest)
    used = one.manifest[one.manifest["in_sample"]]["split"].value_counts()
    assert abs(used["train"] - 50) <= 3 and used["val"] <= 13 and used["test"] <= 13


def test_manifest_saved_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path))
    profile = get_profile("smoke")
    table = _synthetic_table()
    first = load_or_make_splits(profile, table)
    assert first.path.exists() and first.path.parent == tmp_path / "smoke" / "splits"
    info = json.loads(first.path.with_suffix(".json").read_text())
    assert info["dropped_labels"] == first.dropped_labels
    # corrupt the saved manifest's split column: a reuse must read it back as saved, not recompute
    saved = pd.read_csv(first.path)
    saved.loc[0, "split"] = "test" if saved.loc[0, "split"] != "test" else "val"
    saved.to_csv(first.path, index=False)
    again = load_or_make_splits(profile, table)
    assert again.manifest.loc[0, "split"] == saved.loc[0, "split"]
    # a different table (different fingerprint) rebuilds
    rebuilt = load_or_make_splits(profile, _synthetic_table(seed=1))
    assert set(rebuilt.manifest["uid"]) == set(_synthetic_table(seed=1).df["uid"])


@pytest.mark.data
def test_real_offline_table_counts():
    from hatespeech import paths

    if not (paths.data_dir() / "toxigen_annotated" / "toxigen.csv").exists():
        pytest.skip(f"ToxiGen not found under {paths.data_dir()}")
    from hatespeech.data.dualhead import load_table
    from hatespeech.data.dualhead_labels import label_counts

    table = load_table(get_profile("smoke"))
    counts = label_counts(table.df, table.label_names)
    # SOURCES.md: toxicity_human >= 4 for 2,307 rows, less the one that is a HateCheck case ("gay people are
    # disgusting", evaluation only); 100 lewd; 13 groups of 554-717 rows
    assert table.filtered["toxigen:hatecheck_case"] == 1
    assert counts.loc["toxic", "positive"] == 2307 - 1
    assert counts.loc["lewd", "positive"] == 100
    assert counts.loc[list(TOXIGEN_GROUPS), "positive"].between(550, 720).all()
    assert (
        counts.loc["offensive", "positive"] + counts.loc["offensive", "negative"]
        == (table.df["source"] == "olid").sum()
    )
    assert counts.loc["toxic", "masked"] == (table.df["source"] == "olid").sum()
