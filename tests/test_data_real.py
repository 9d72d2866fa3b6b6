"""Integration tests on the real corpora in data_dir() (skipped with a reason when they are absent).

Every expected number below is copied from ../shared/data/SOURCES.md and prefix_probability/README.md.
"""

from __future__ import annotations

import re
import time

import pytest
from hatespeech import paths
from hatespeech.config import get_profile
from hatespeech.data import (
    build_phase1_corpus,
    leakage_check,
    load_prefix_probability,
    load_source,
    reserved_tweet_ids,
)
from hatespeech.data.text import clean_implicit_hate

pytestmark = pytest.mark.data

FILES = {
    "stormfront": "stormfront_degibert2018/stormfront_sentences.csv",
    "implicit_hate": "implicit_hate_elsherief2021/implicit_hate_v1_stg1_posts.tsv",
    "implicit_hate_stg2": "implicit_hate_elsherief2021/implicit_hate_v1_stg2_posts.tsv",
    "implicit_hate_stg3": "implicit_hate_elsherief2021/implicit_hate_v1_stg3_posts.tsv",
    "davidson": "davidson2017_hate_offensive/labeled_data.csv",
    "olid": "olid_offenseval2019/olid-training-v1.0.tsv",
    "toxigen": "toxigen_annotated/toxigen.csv",
    "ethos_binary": "ethos/Ethos_Dataset_Binary.csv",
    "ethos_multilabel": "ethos/Ethos_Dataset_Multi_Label.csv",
    "hatexplain": "hatexplain_text_labels/train.json",
    "prefix_probability": "prefix_probability/train.csv",
    "hatecheck": "hatecheck_rottger2021/test_suite_cases.csv",
}
RAW_ROWS = {  # SOURCES.md
    "stormfront": 10944,
    "implicit_hate": 21480,
    "implicit_hate_stg2": 6346,
    "implicit_hate_stg3": 6358,
    "davidson": 24783,
    "olid": 13240 + 860,
    "toxigen": 8960,
    "ethos_binary": 998,
    "ethos_multilabel": 433,
    "hatexplain": 15383 + 1922 + 1924,
    "prefix_probability": 7610 + 3959,  # release 2: 250 test sentences
    "hatecheck": 3728,
}


def need(*names):
    missing = [FILES[n] for n in names if not (paths.data_dir() / FILES[n]).exists()]
    if missing:
        pytest.skip(
            f"real corpora not found in data_dir()={paths.data_dir()} (missing {missing}); "
            "set HATESPEECH_DATA_DIR to the shared data folder"
        )


@pytest.fixture(scope="module")
def loaded():
    need(*FILES)
    start = time.perf_counter()
    sources = {name: load_source(name) for name in FILES}
    return sources, time.perf_counter() - start


@pytest.mark.parametrize("name", list(RAW_ROWS))
def test_raw_row_counts_match_sources_md(loaded, name):
    sources, _ = loaded
    assert sources[name].rows_raw == RAW_ROWS[name]
    assert sources[name].rows_kept + sum(sources[name].filtered.values()) == RAW_ROWS[name]


def test_loading_everything_takes_seconds(loaded):
    _, seconds = loaded
    assert seconds < 30, f"loading all sources took {seconds:.1f}s"


def test_split_sizes_and_label_distributions(loaded):
    s, _ = loaded
    assert s["olid"].rows_raw_by_split == {"train": 13240, "test": 860}
    assert s["hatexplain"].rows_raw_by_split == {"train": 15383, "val": 1922, "test": 1924}
    assert s["prefix_probability"].rows_raw_by_split == {"train": 7610, "test": 3959}
    assert s["stormfront"].filtered == {"label_relation": 168, "label_idk_skip": 73}
    assert s["stormfront"].df["label"].value_counts().to_dict() == {"noHate": 9507, "hate": 1196}
    assert s["implicit_hate"].df["class"].value_counts().to_dict() == {
        "not_hate": 13291,
        "implicit_hate": 7100,
        "explicit_hate": 1089,
    }
    assert s["davidson"].df["class"].value_counts().to_dict() == {1: 19190, 2: 4163, 0: 1430}
    olid = s["olid"].df
    train, test = olid[olid["split"] == "train"], olid[olid["split"] == "test"]
    assert train["subtask_a"].value_counts().to_dict() == {"NOT": 8840, "OFF": 4400}
    assert train["subtask_c"].value_counts().to_dict() == {"IND": 2407, "GRP": 1074, "OTH": 395}
    assert train["subtask_b"].isna().sum() == 8840  # NULL -> NaN, never a class
    assert test["subtask_a"].value_counts().to_dict() == {"NOT": 620, "OFF": 240}
    assert test["subtask_b"].value_counts().to_dict() == {"TIN": 213, "UNT": 27}
    assert test["subtask_c"].value_counts().to_dict() == {"IND": 100, "GRP": 78, "OTH": 35}
    tox = s["toxigen"].df
    # one neutral statement is only escaped tabs (b'\\t \\t ...'): empty after cleaning, filtered and counted
    assert s["toxigen"].filtered == {"empty_after_cleaning": 1}
    assert tox["label"].value_counts().to_dict() == {"neutral": 4498 - 1, "hate": 4462}
    assert (tox["toxicity_human"] >= 4).sum() == 2307
    assert not tox["text"].str.startswith(("b'", 'b"')).any()
    assert s["ethos_binary"].df["hate"].sum() == 433
    assert (s["ethos_multilabel"].df["violence"] >= 0.5).sum() == 142
    assert s["hatexplain"].df["label"].value_counts().to_dict() == {
        "normal": 6251 + 781 + 782,
        "hatespeech": 4748 + 593 + 594,
        "offensive": 4384 + 548 + 548,
    }
    assert s["prefix_probability"].df["sentence_id"].nunique() == 730


def test_davidson_and_olid_cleaning_on_real_text(loaded):
    s, _ = loaded
    davidson = " ".join(s["davidson"].df["text"])
    assert "&amp;" not in davidson and "http" not in davidson
    assert not re.search(r"(?<![\w@])@\w", davidson)  # no @handle left (a lone "@" meaning "at" stays)
    olid = s["olid"].df["text"]
    assert not olid.str.contains("@USER|\r").any()


def test_every_phase2_sentence_is_a_cleaned_stage1_post(loaded):
    s, _ = loaded
    stage1 = s["implicit_hate"].df.set_index("id")
    phase2 = load_prefix_probability("all").drop_duplicates("sentence_id")
    assert phase2["tweet_id"].isin(stage1.index).all()
    assert (stage1.loc[phase2["tweet_id"], "text"].to_numpy() == phase2["sentence"].to_numpy()).all()
    assert (stage1.loc[phase2["tweet_id"], "class"].to_numpy() == phase2["corpus_class"].to_numpy()).all()
    assert (
        clean_implicit_hate("white guy  or ( ( ( white ) ) ) guy ?") == "white guy or ( ( ( white ) ) ) guy?"
    )


@pytest.mark.parametrize("profile_name", ["smoke", "gpu"])
def test_phase1_corpus_has_no_phase2_overlap(profile_name):
    need("stormfront", "implicit_hate", "davidson", "olid", "prefix_probability")
    df, report = build_phase1_corpus(get_profile(profile_name))
    phase2 = load_prefix_probability("all")
    checked = leakage_check(df, phase2)
    assert checked["rows_checked"] == len(df) and checked["phase2_sentences"] == 730
    removed = report["sources"]["implicit_hate"]["removed"]
    assert removed.get("phase2_tweet_id", 0) + removed.get("phase2_text", 0) >= 730
    if profile_name == "smoke":
        assert df.groupby("source").size().max() <= get_profile("smoke").data.phase1_max_rows_per_source
    else:  # full data: every source's labelled rows minus exclusions, phase-2 rows and duplicates
        assert report["sources"]["davidson"]["removed"]["label_excluded:class=1"] == 19190
        assert report["sources"]["implicit_hate"]["rows"] + sum(removed.values()) == 21480
        assert removed["phase2_tweet_id"] == 730 and removed.get("phase2_near_duplicate", 0) > 0
        # release 2: implicit-hate tweets reserved for an external check are in no split
        assert removed["reserved_tweet_id"] == len(reserved_tweet_ids()) > 0
        assert not df["id"].astype(str).isin(reserved_tweet_ids()).any()
        # HateCheck is evaluation only: "i hate black people" is both an implicit-hate post and a case
        assert removed["hatecheck_case"] == 1 and report["hatecheck_check"]["hatecheck_cases"] == 3728


def test_hatecheck_templates_come_from_278_families():
    """The bootstrap unit of every HateCheck interval: 845 templates, 278 families (ref_templ_id chains)."""
    need("hatecheck")
    cases = load_source("hatecheck").df
    assert cases["templ_id"].nunique() == 845 and cases["family_id"].nunique() == 278
    assert (cases.groupby("templ_id")["family_id"].nunique() == 1).all()
