"""Every loader on tiny fixtures that mimic the real files (tests/fixtures/data), and every bad-input
error."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hatespeech.data import SHARED_SOURCES, SOURCES, DataValidationError, load_prefix_probability, load_source
from hatespeech.data.schema import BASE_COLUMNS
from hatespeech.data.text import clean_implicit_hate, normalise_for_matching, strip_twitter_markup
from hatespeech.data.toxigen import unwrap_bytes_literal

FIXTURES = Path(__file__).parent / "fixtures" / "data"


@pytest.fixture
def data(tmp_path) -> Path:
    """A writable copy of the fixture corpora, for the tests that corrupt a file."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES, target)
    return target


def load(name, data_dir=FIXTURES, **kwargs):
    return load_source(name, data_dir, **kwargs)


# ------------------------------------------------------------------------------------------ every source
@pytest.mark.parametrize("name", SOURCES)
def test_every_source_follows_the_schema(name):
    loaded = load(name)
    df = loaded.df
    assert list(df.columns[:3]) == list(BASE_COLUMNS)
    assert df["id"].is_unique and (df["source"] == name).all()
    assert df["text"].str.strip().ne("").all()
    assert df["text"].map(lambda t: t == " ".join(t.split())).all(), "whitespace must be collapsed"
    assert loaded.label_columns and all(c in df.columns for c in loaded.label_columns)
    assert loaded.rows_raw == loaded.rows_kept + sum(loaded.filtered.values())
    assert loaded.licence and loaded.description
    assert set(loaded.summary()) >= {"rows_raw", "rows_kept", "filtered"}


def test_registry_lists_sources_and_rejects_unknown():
    assert set(SHARED_SOURCES) | {"jigsaw"} == set(SOURCES)
    with pytest.raises(ValueError, match="unknown source 'nope'"):
        load_source("nope", FIXTURES)


# ------------------------------------------------------------------------------------------- per source
def test_stormfront_filters_relation_and_idk_and_counts_them():
    loaded = load("stormfront")
    assert loaded.rows_raw == 8 and loaded.filtered == {"label_relation": 1, "label_idk_skip": 1}
    assert set(loaded.df["hate"]) == {0.0, 1.0}
    assert loaded.df.set_index("id").loc["1003_1", "text"] == "Those people are subhuman animals ."


def test_implicit_hate_joins_ids_and_cleans_quotes():
    df = load("implicit_hate").df.set_index("id")
    assert df.loc["1001", "text"] == ": jewish harvard professor wants to abolish the white race via #wr"
    assert df.loc["1006", "text"] == "we need more funding for local schools and libraries."
    assert df.loc["SAP_1", "class"] == "not_hate"
    assert df.loc["1003", ["hate", "implicit"]].tolist() == [1.0, 0.0]
    assert df.loc["1005", ["hate", "implicit"]].tolist() == [1.0, 1.0]
    assert not df["text"].str.contains('"').any()


def test_implicit_hate_stages_2_and_3():
    stg2 = load("implicit_hate_stg2").df.set_index("id")
    assert stg2.loc["1005", "extra_implicit_class"] == "inferiority"
    assert math.isnan(stg2.loc["1001", "extra_implicit_class"])  # absent -> NaN, never a class
    stg3 = load("implicit_hate_stg3").df.set_index("id")
    assert stg3.loc["1007", "target"] == "Immigrants"


def test_clean_implicit_hate_rule():
    assert clean_implicit_hate(' "" a , b  ( c ) ?! "') == "a, b ( c )?!"


def test_davidson_strips_handles_rt_urls_entities():
    loaded = load("davidson")
    df = loaded.df.set_index("id")
    assert df.loc["0", "text"].startswith("!!! As a woman") and "&" in df.loc["0", "text"]
    assert "&amp;" not in " ".join(df["text"]) and "@" not in " ".join(df["text"])
    assert "http" not in " ".join(df["text"]) and " RT " not in f" {' '.join(df['text'])} "
    assert df.loc["3", "text"] == "Good morning world \u201cquoted\u201d"
    assert df.loc["5", "text"] == "go back to where you came from \U0001f602"
    assert loaded.filtered == {"empty_after_cleaning": 1}  # tweet "@only_a_handle http://..."
    assert df["class"].dtype.kind == "i" and set(df["class"]) == {0, 1, 2}


def test_strip_twitter_markup_keeps_words_named_rt():
    assert strip_twitter_markup("RT @a: art start rt @b hi &amp;amp; www.x.org/y") == "art start hi &"


def test_olid_train_test_with_gold_labels_and_nulls():
    loaded = load("olid")
    df = loaded.df.set_index("id")
    assert loaded.rows_raw_by_split == {"train": 8, "test": 4}
    assert loaded.filtered == {"empty_after_cleaning": 1}  # "@USER URL"
    assert df.loc["16820", "text"] == "Amazon is investigating Chinese employees #Amazon"
    assert df.loc["62688", "text"] == "Someone should'veTaken\" this piece of trash to a volcano. \U0001f602"
    assert df.loc["77444", "text"] == "Have a great day & enjoy"
    # NULL levels are NaN (never 0 / a class), gold test labels are joined
    assert pd.isna(df.loc["16820", "subtask_b"]) and pd.isna(df.loc["16820", "targeted"])
    assert df.loc["15923", ["subtask_a", "subtask_b", "subtask_c", "split"]].tolist() == [
        "OFF",
        "TIN",
        "GRP",
        "test",
    ]
    assert df.loc["13876", "subtask_b"] == "UNT" and pd.isna(df.loc["13876", "subtask_c"])
    assert pd.isna(df.loc["30530", "subtask_b"]) and df.loc["30530", "offensive"] == 0.0
    assert df.loc["43605", "group_target"] == 1.0 and df.loc["97670", "group_target"] == 0.0
    assert not df["text"].str.contains("\r").any() and not df["text"].str.contains("@USER").any()


def test_toxigen_unwraps_bytes_literals():
    loaded = load("toxigen")
    texts = loaded.df["text"].tolist()
    assert texts[0] == "asians are trying to take over the world with their karate skills"
    assert texts[2] == "it\u2019s common for girls to be catty with one another"
    assert texts[3] == "caf\u00e9 owners from the middle east make great coffee"
    assert texts[4] == "they don\u2019t belong here"
    assert loaded.repaired == {"bytes_not_utf8": 1, "escaped_twice": 1}
    assert loaded.filtered == {}
    assert loaded.df["prompt_hate"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
    assert loaded.df["toxicity_human"].between(1, 5).all()


@pytest.mark.parametrize(
    "literal, expected, note",
    [
        ("b'plain'", "plain", None),
        ('b"it\'s"', "it's", None),
        ("b'tab\\there'", "tab here", None),
        ("b'\\x00nul'", "nul", None),
        ("not wrapped", "not wrapped", "not_bytes_literal"),
        ("b'broken \\x9'", "broken \\x9", "bytes_literal_unparsable"),
        ("b'win \\x93quote\\x94'", "win \u201cquote\u201d", "bytes_not_utf8"),
    ],
)
def test_unwrap_bytes_literal_fallbacks(literal, expected, note):
    assert unwrap_bytes_literal(literal) == (expected, note)


def test_ethos_binary_and_multilabel():
    binary = load("ethos_binary").df
    assert binary["hate"].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]  # isHate >= 0.5
    multi = load("ethos_multilabel")
    assert multi.df.shape[0] == 3 and multi.label_columns[0] == "violence"
    assert multi.df[multi.label_columns].apply(lambda c: c.between(0, 1)).all().all()


def test_hatexplain_splits():
    loaded = load("hatexplain")
    assert loaded.rows_raw_by_split == {"train": 4, "val": 2, "test": 2}
    assert loaded.df["id"].tolist()[:2] == ["train:0", "train:1"]
    assert set(loaded.df["label"]) == {"normal", "offensive", "hatespeech"}


def test_prefix_probability_frame_and_weights():
    train = load_prefix_probability("train", FIXTURES)
    assert list(train.columns) == [
        "sentence_id",
        "tweet_id",
        "corpus_class",
        "k",
        "n_words",
        "w_len",
        "prefix",
        "label_a",
        "label_b",
        "label",
        "sentence",
    ]
    assert train["tweet_id"].dtype.kind in "OUT" or str(train["tweet_id"].dtype).startswith("str")
    assert "999999999999999999" in set(train["tweet_id"])  # 18-digit ids survive (no float parsing)
    assert (train["k"] <= train["n_words"]).all() and train["label"].between(0, 1).all()
    assert np.allclose(train["w_len"], train["k"] / train["n_words"], atol=1e-3)
    both = load_prefix_probability("all", FIXTURES)
    assert set(both["split"]) == {"train", "test"} and len(both) == load("prefix_probability").rows_raw
    with pytest.raises(ValueError, match="unknown prefix_probability split 'dev'"):
        load_prefix_probability("dev", FIXTURES)


def test_jigsaw_keeps_identity_nan_and_counts_empty_text():
    loaded = load("jigsaw")
    df = loaded.df.set_index("id")
    assert loaded.filtered == {"empty_text": 1}
    assert df.loc["239579", "muslim"] == 1.0 and df.loc["239579", "white"] == 0.0
    assert math.isnan(df.loc["59848", "muslim"])  # not annotated -> NaN, never 0
    assert df["toxicity"].tolist() == pytest.approx([0.0, 0.893617, 0.7, 0.0])
    assert {"severe_toxicity", "obscene", "identity_attack", "insult", "threat"} <= set(loaded.label_columns)


def test_jigsaw_all_data_schema_and_explicit_path(tmp_path):
    df = pd.read_csv(FIXTURES / "jigsaw" / "train.csv").rename(columns={"target": "toxicity"})
    df.insert(2, "split", "train")
    path = tmp_path / "all_data.csv"
    df.to_csv(path, index=False)
    loaded = load_source("jigsaw", tmp_path / "elsewhere", path=path)
    assert "split" in loaded.df.columns and loaded.rows_kept == 4


def test_normalise_for_matching():
    assert normalise_for_matching("Modi ; was  PRO-sonia.") == normalise_for_matching("modi; was pro sonia")


# --------------------------------------------------------------------------------------- bad inputs
def _edit_csv(path: Path, edit, sep=",", **read_kwargs):
    df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, **read_kwargs)
    df = edit(df)
    df.to_csv(path, sep=sep, index=False)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(DataValidationError, match=r"stormfront_sentences\.csv: file not found"):
        load_source("stormfront", tmp_path)


STORMFRONT = "stormfront_degibert2018/stormfront_sentences.csv"
DAVIDSON = "davidson2017_hate_offensive/labeled_data.csv"


def _loader(name: str):
    """``load(data_dir)`` for a source name; ``prefix_probability:<split>`` reads that split."""
    if name.startswith("prefix_probability:"):
        return lambda data_dir: load_prefix_probability(name.split(":", 1)[1], data_dir)
    return lambda data_dir: load_source(name, data_dir)


@pytest.mark.parametrize(
    ("source", "file", "row", "column", "value", "message"),
    [
        (
            "stormfront",
            STORMFRONT,
            2,
            "text",
            "   ",
            r"stormfront_sentences\.csv, column 'text', row 2: empty text",
        ),
        (
            "stormfront",
            STORMFRONT,
            4,
            "label",
            "HATE!!",
            r"column 'label', row 4: label value\(s\) 'HATE!!' not in",
        ),
        (
            "davidson",
            DAVIDSON,
            1,
            "class",
            "3",
            r"labeled_data\.csv, column 'class', row 1: label value\(s\) 3 outside the range \[0, 2\]",
        ),
        ("davidson", DAVIDSON, 0, "neither", "9", r"column 'neither', row 0: coder votes exceed"),
        (
            "toxigen",
            "toxigen_annotated/toxigen.csv",
            3,
            "toxicity_human",
            "7",
            r"toxigen\.csv, column 'toxicity_human', row 3: .*outside",
        ),
        (
            "prefix_probability:train",
            "prefix_probability/train.csv",
            3,
            "label",
            "1.2",
            r"train\.csv, column 'label', row 3: .*outside the range",
        ),
        (
            "prefix_probability:test",
            "prefix_probability/test.csv",
            0,
            "k",
            "40",
            r"test\.csv, column 'k', row 0: k \(words in the prefix\) exceeds",
        ),
    ],
    ids=[
        "empty-text",
        "label-not-allowed",
        "class-range",
        "votes-exceed-coders",
        "rating-range",
        "probability-range",
        "k-exceeds-words",
    ],
)
def test_a_bad_cell_names_file_column_row_and_value(data, source, file, row, column, value, message):
    def bad(frame):
        frame.loc[row, column] = value
        return frame

    _edit_csv(data / file, bad)
    with pytest.raises(DataValidationError, match=message):
        _loader(source)(data)


@pytest.mark.parametrize(
    ("source", "file", "column", "message"),
    [
        ("stormfront", STORMFRONT, "label", r"stormfront_sentences\.csv, column 'label': missing required"),
        ("jigsaw", "jigsaw/train.csv", "muslim", r"train\.csv, column 'muslim': missing required column"),
    ],
)
def test_a_missing_column_names_file_and_column(data, source, file, column, message):
    _edit_csv(data / file, lambda frame: frame.drop(columns=[column]))
    with pytest.raises(DataValidationError, match=message):
        _loader(source)(data)


@pytest.mark.parametrize(
    ("source", "file", "old", "new", "message"),
    [
        (
            "ethos_binary",
            "ethos/Ethos_Dataset_Binary.csv",
            b"referee's",
            b"r\xe9f\xe9ree's",
            r"Ethos_Dataset_Binary\.csv: unreadable encoding: byte b'\\xe9' .*\(line 5\)",
        ),
        (
            "ethos_multilabel",
            "ethos/Ethos_Dataset_Multi_Label.csv",
            b";0.333333333;",
            b";1.333333333;",
            r"column 'violence', row 1: .*outside the range \[0.0, 1.0\]",
        ),
        (
            "olid",
            "olid_offenseval2019/olid-training-v1.0.tsv",
            b"Chinese employees URL #Amazon\tNOT\tNULL",
            b"Chinese employees URL #Amazon\tNOT\tTIN",
            (
                r"olid-training-v1\.0\.tsv, column 'subtask_b', row 2: subtask_b must be set exactly when "
                r"subtask_a == 'OFF'"
            ),
        ),
        (
            "olid",
            "olid_offenseval2019/labels-levela.csv",
            b"30530,NOT\r\n",
            b"",
            (
                r"labels-levela\.csv, column 'label', row 2: test tweets without a level-A gold label: "
                r"\['30530'\]"
            ),
        ),
        (
            "olid",
            "olid_offenseval2019/labels-levelb.csv",
            b"13876,UNT",
            b"13876,XXX",
            r"labels-levelb\.csv, column 'label', row 1: label value\(s\) 'XXX'",
        ),
    ],
    ids=["encoding", "fraction-range", "olid-hierarchy", "olid-missing-gold", "olid-unknown-label"],
)
def test_a_bad_byte_sequence_names_where_it_is(data, source, file, old, new, message):
    path = data / file
    original = path.read_bytes()
    assert old in original, "the fixture changed: the edit finds nothing to replace"
    path.write_bytes(original.replace(old, new))
    with pytest.raises(DataValidationError, match=message):
        load_source(source, data)


def test_binary_garbage_file(data):
    (data / DAVIDSON).write_bytes(bytes(range(256)) * 4)
    with pytest.raises(DataValidationError, match=r"labeled_data\.csv: unreadable: binary content"):
        load_source("davidson", data)


def test_implicit_hate_misaligned_id_file(data):
    path = data / "implicit_hate_elsherief2021/implicit_hate_v1_stg1.tsv"
    _edit_csv(path, lambda d: d.iloc[[1, 0, *range(2, len(d))]], sep="\t")
    with pytest.raises(
        DataValidationError,
        match=r"implicit_hate_v1_stg1_posts\.tsv, column 'class', row 0, 1: "
        r"not row-aligned",
    ):
        load_source("implicit_hate", data)


def test_implicit_hate_row_count_mismatch(data):
    path = data / "implicit_hate_elsherief2021/implicit_hate_v1_stg1.tsv"
    _edit_csv(path, lambda d: d.iloc[:-1], sep="\t")
    with pytest.raises(DataValidationError, match=r"has 8 rows but implicit_hate_v1_stg1\.tsv has 7"):
        load_source("implicit_hate", data)


def test_hatexplain_invalid_json_and_bad_item(data):
    path = data / "hatexplain_text_labels/val.json"
    path.write_text('[["ok", "normal"], ["missing label"]]')
    with pytest.raises(DataValidationError, match=r"val\.json, row 1: item is not a \[text, label\] pair"):
        load_source("hatexplain", data)
    path.write_text('[["ok", "normal"],')
    with pytest.raises(DataValidationError, match=r"val\.json: invalid JSON at line 1"):
        load_source("hatexplain", data)


def test_jigsaw_missing_toxicity_and_missing_file(data, tmp_path):
    _edit_csv(data / "jigsaw/train.csv", lambda d: d.drop(columns=["target"]))
    with pytest.raises(DataValidationError, match=r"column 'target': missing the toxicity column"):
        load_source("jigsaw", data)
    with pytest.raises(DataValidationError, match=r"no Jigsaw Unintended Bias CSV found"):
        load_source("jigsaw", tmp_path / "empty")
