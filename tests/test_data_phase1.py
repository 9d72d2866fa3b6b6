"""The phase-1 corpus: label mapping, phase-2 removal (leakage guard), dedup, sampling, the split manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hatespeech.config import get_profile
from hatespeech.data import (
    DataLeakageError,
    DataValidationError,
    build_phase1_corpus,
    leakage_check,
    load_prefix_probability,
    phase1_splits,
)
from hatespeech.data.phase1 import map_phase1_labels, near_duplicate_mask, phase1_groups, phase1_keys
from hatespeech.data.schema import FilterLog

FIXTURES = Path(__file__).parent / "fixtures" / "data"


def profile(**overrides):
    return get_profile("smoke", **{"data.phase1_max_rows_per_source": None, **overrides})


@pytest.fixture(scope="module")
def corpus():
    return build_phase1_corpus(profile(), data_dir=FIXTURES)


def test_corpus_columns_and_labels(corpus):
    df, report = corpus
    assert list(df.columns) == ["id", "source", "text", "label", "n_words"]
    assert set(df["label"]) == {0, 1} and df["label"].dtype.kind == "i"
    assert (df["n_words"] == df["text"].str.split().str.len()).all()
    assert list(df["source"].unique()) == ["stormfront", "implicit_hate", "davidson", "olid"]
    assert report["rows"] == len(df) and report["leakage_check"]["rows_checked"] == len(df)


def test_phase2_sentences_removed_by_id_and_by_text(corpus):
    df, report = corpus
    implicit = report["sources"]["implicit_hate"]
    # 1004, 1001 by id; 1006 by text; one post is a HateCheck case (tests/test_data_hatecheck.py)
    assert implicit["removed"] == {"phase2_tweet_id": 2, "phase2_text": 1, "hatecheck_case": 1}
    assert not {"1001", "1004", "1006"} & set(df.loc[df["source"] == "implicit_hate", "id"])


def test_label_mapping_exclusions_are_counted(corpus):
    df, report = corpus
    davidson = report["sources"]["davidson"]
    assert davidson["removed"] == {"label_excluded:class=1": 2}
    assert df.loc[df["source"] == "davidson"].set_index("id")["label"].to_dict() == {
        "0": 0,
        "2": 1,
        "3": 0,
        "5": 1,
        "6": 0,
    }
    olid = report["sources"]["olid"]
    assert olid["removed"] == {
        "label_excluded:olid_path=OFF/UNT": 3,
        "label_excluded:olid_path=OFF/TIN/IND": 1,
        "label_excluded:olid_path=OFF/TIN/OTH": 1,
    }
    assert df.loc[df["source"] == "olid"].set_index("id")["label"].to_dict() == {
        "16820": 0,
        "43605": 1,
        "77444": 0,
        "15923": 1,
        "27014": 0,
        "30530": 0,
    }
    assert report["sources"]["stormfront"]["removed"] == {"duplicate_text": 1}
    for name, entry in report["sources"].items():
        assert entry["rows_loaded"] == entry["rows"] + sum(entry["removed"].values()), name


def test_unknown_label_value_raises():
    frame = pd.DataFrame({"id": ["1"], "text": ["x"], "class": [7]})
    with pytest.raises(
        DataValidationError, match=r"column 'class', row 0: value\(s\) 7 have no phase-1 mapping"
    ):
        map_phase1_labels("davidson", frame, FilterLog())
    with pytest.raises(ValueError, match="no phase-1 label mapping for source 'hatecheck'"):
        map_phase1_labels("hatecheck", frame, FilterLog())
    with pytest.raises(DataValidationError, match=r"toxigen.*column 'toxicity_human'.*missing"):
        map_phase1_labels("toxigen", frame, FilterLog())


def test_leakage_check_passes_on_clean_and_raises_on_overlap(corpus):
    df, _ = corpus
    phase2 = load_prefix_probability("all", FIXTURES)
    assert leakage_check(df, phase2)["phase2_sentences"] == 3
    by_id = pd.concat(
        [
            df,
            pd.DataFrame(
                [
                    {
                        "id": "1004",
                        "source": "implicit_hate",
                        "text": "unrelated words",
                        "label": 0,
                        "n_words": 2,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    with pytest.raises(
        DataLeakageError,
        match=r"1 row\(s\) share a tweet id, 0 a sentence and 0 are near "
        r"duplicates .*implicit_hate:1004",
    ):
        leakage_check(by_id, phase2)
    sentence = phase2["sentence"].iloc[0]
    by_text = pd.concat(
        [
            df,
            pd.DataFrame(
                [
                    {
                        "id": "x9",
                        "source": "davidson",
                        "text": sentence.upper() + " !!",
                        "label": 0,
                        "n_words": 3,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    with pytest.raises(DataLeakageError, match=r"0 row\(s\) share a tweet id, 1 a sentence and 0 are near"):
        leakage_check(by_text, phase2)
    near = pd.concat(
        [
            df,
            pd.DataFrame(
                [
                    {
                        "id": "x8",
                        "source": "davidson",
                        "text": f"RT so true: {sentence}",
                        "label": 0,
                        "n_words": 3,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    with pytest.raises(DataLeakageError, match=r"0 a sentence and 1 are near duplicates .*davidson:x8"):
        leakage_check(near, phase2)


def test_near_duplicates_of_phase2_sentences_are_removed():
    phase2 = load_prefix_probability("all", FIXTURES)
    # a phase-2 sentence that contains a fixture phase-1 text (Davidson id 2, 9 words) plus a few words
    extra = phase2.iloc[[0]].assign(
        sentence_id="s999",
        tweet_id="123",
        sentence="omg those people are vermin and should be wiped out today",
    )
    df, report = build_phase1_corpus(profile(), data_dir=FIXTURES, prefix_df=pd.concat([phase2, extra]))
    assert report["sources"]["davidson"]["removed"]["phase2_near_duplicate"] == 1
    assert "2" not in set(df.loc[df["source"] == "davidson", "id"])


def test_near_duplicate_mask_rule():
    keys = pd.Series(["a b c d e f g h", "x a b c d e f g h y", "b c d e f g", "b c d e f", "c d e f g h z"])
    mask = near_duplicate_mask(keys, {"a b c d e f g h"}, min_words=6)
    # equal, contains, contained with 6 words; too short (5 words); overlapping but not contained
    assert mask.tolist() == [True, True, True, False, False]


def test_sampling_is_seeded_stratified_and_counted():
    small = profile(**{"data.phase1_max_rows_per_source": 4})
    a, report = build_phase1_corpus(small, data_dir=FIXTURES)
    b, _ = build_phase1_corpus(small, data_dir=FIXTURES)
    pd.testing.assert_frame_equal(a, b)
    assert a.groupby("source").size().max() <= 4
    olid = report["sources"]["olid"]
    assert olid["removed"]["not_sampled"] == 2 and olid["positives"] >= 1  # 6 rows -> 4, both labels kept


def test_phase1_sources_from_profile():
    _df, report = build_phase1_corpus(
        profile(**{"data.phase1_sources": ("hatexplain", "ethos_binary")}), data_dir=FIXTURES
    )
    assert set(report["sources"]) == {"hatexplain", "ethos_binary"}
    assert report["sources"]["hatexplain"]["removed"] == {"label_excluded:label=offensive": 2}


def test_split_manifest_is_deterministic_reused_and_rebuilt(tmp_path):
    prof = profile()
    df, report = build_phase1_corpus(prof, data_dir=FIXTURES)
    path = tmp_path / "phase1.json"
    first = phase1_splits(prof, df, report, path=path)
    assert not first.reused and path.exists()
    assert sum(first.sizes().values()) == len(df) and first.sizes()["val"] >= 1
    parts = {name: set(phase1_keys(first[name])) for name in ("train", "selection", "val")}
    assert set.union(*parts.values()) == set(phase1_keys(df))
    assert not (
        parts["train"] & parts["val"]
        or parts["train"] & parts["selection"]
        or parts["selection"] & parts["val"]
    )
    again = phase1_splits(prof, df, report, path=path)
    assert again.reused and again.manifest["splits"] == first.manifest["splits"]
    other = tmp_path / "fresh.json"
    fresh = phase1_splits(prof, df, report, path=other)  # same seed + inputs -> identical manifest, new file
    assert json.loads(other.read_text())["splits"] == first.manifest["splits"] and not fresh.reused
    changed = phase1_splits(prof, df.iloc[:-1], report, path=path)
    assert not changed.reused and sum(changed.sizes().values()) == len(df) - 1


def _posts(n_posts: int, sentences_per_post: int, seed: int = 0) -> pd.DataFrame:
    """A Stormfront-like corpus: ids ``<post>_<n>``, mixed labels within a post, plus single tweets."""
    rng = np.random.default_rng(seed)
    rows = [
        {
            "id": f"{post}_{i}",
            "source": "stormfront",
            "text": f"post {post} sentence {i}",
            "label": int(rng.random() < 0.3),
            "n_words": 4,
        }
        for post in range(1000, 1000 + n_posts)
        for i in range(1, sentences_per_post + 1)
    ]
    rows += [
        {"id": str(j), "source": "olid", "text": f"tweet {j}", "label": int(j % 4 == 0), "n_words": 2}
        for j in range(200)
    ]
    return pd.DataFrame(rows)


def test_split_keeps_every_stormfront_post_in_one_part(tmp_path):
    df = _posts(n_posts=120, sentences_per_post=5)
    splits = phase1_splits(profile(), df, {}, path=tmp_path / "grouped.json")
    where = {}
    for name in ("train", "selection", "val"):
        part = splits[name]
        assert "group" in part
        for group in part.loc[part["source"] == "stormfront", "group"]:
            where.setdefault(group, set()).add(name)
    assert len(where) == 120 and all(len(parts) == 1 for parts in where.values())
    # the seed's 85/15 holds (in posts, so roughly in rows), and the selection set is ~10% of the 85
    sizes = splits.sizes()
    assert abs(sizes["val"] / len(df) - 0.15) < 0.04
    assert abs(sizes["selection"] / (sizes["train"] + sizes["selection"]) - 0.10) < 0.04
    assert phase1_groups(df.iloc[:2]).tolist() == ["stormfront:1000", "stormfront:1000"]
    assert phase1_groups(df.tail(1)).tolist() == ["olid:199"]


def test_split_default_path_under_artifacts(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path))
    prof = profile()
    result = phase1_splits(prof, data_dir=FIXTURES)
    assert result.path == tmp_path / "smoke" / "splits" / "phase1.json" and result.path.exists()
    assert result.report["sources"]["implicit_hate"]["removed"]["phase2_tweet_id"] == 2


def test_reserved_tweet_ids_are_dropped_counted_and_validated(tmp_path):
    import shutil

    from hatespeech.data import reserved_tweet_ids

    data = tmp_path / "data"
    shutil.copytree(FIXTURES, data)
    assert reserved_tweet_ids(data) == set()  # release 1 has no file: nothing reserved
    reserved = data / "prefix_probability" / "reserved_tweet_ids.txt"
    kept = set(build_phase1_corpus(profile(), data_dir=data)[0]["id"])
    implicit_id = next(i for i in ("1002", "1003", "1005") if i in kept)
    assert "SAP_1" in kept
    reserved.write_text(f"# reserved for an external check\n{implicit_id}\n\nSAP_1  # a SAP id\n")
    assert reserved_tweet_ids(data) == {implicit_id, "SAP_1"}
    df, report = build_phase1_corpus(profile(), data_dir=data)
    assert not {implicit_id, "SAP_1"} & set(df["id"])
    assert report["sources"]["implicit_hate"]["removed"]["reserved_tweet_id"] == 2
    assert report["reserved_tweet_ids"] == 2
    reserved.write_text("123 456\n")
    with pytest.raises(DataValidationError, match=r"reserved_tweet_ids.txt.*row 1"):
        reserved_tweet_ids(data)
