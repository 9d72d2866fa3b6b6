"""HateCheck (hatespeech.data.hatecheck): the loader on a fixture in the real schema, named errors for bad
rows, and the evaluation-only rule: its cases are dropped from every training corpus and guarded against."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from hatespeech.config import get_profile
from hatespeech.data import DataLeakageError, DataValidationError, build_phase1_corpus, hatecheck, load_source
from hatespeech.data.dualhead import load_table

FIXTURES = Path(__file__).parent / "fixtures" / "data"
CASES = FIXTURES / hatecheck.FILE


def test_loader_on_the_fixture():
    loaded = load_source("hatecheck", FIXTURES)
    df = loaded.df
    assert loaded.rows_raw == loaded.rows_kept == 7 and loaded.filtered == {}
    assert df["text"].iloc[0] == "I hate women."  # the trailing space is gone
    assert df["label"].tolist() == [1, 1, 1, 0, 0, 0, 0]
    assert df["templ_id"].tolist() == [1, 1, 2, 3, 3, 4, 5] and df["templ_id"].dtype.kind == "i"
    # template 3 (the negations) was written from template 1: one family, the bootstrap's unit
    assert df["family_id"].tolist() == [1, 1, 2, 1, 1, 4, 5]
    assert df["target_ident"].isna().sum() == 1 and df["id"].tolist() == [str(i) for i in range(1, 8)]
    assert loaded.label_columns[:3] == ["label", "label_gold", "functionality"]
    assert "hatecheck" in hatecheck.EVALUATION_ONLY


def _bad_copy(tmp_path, edit) -> Path:
    shutil.copytree(FIXTURES / "hatecheck_rottger2021", tmp_path / "hatecheck_rottger2021")
    path = tmp_path / hatecheck.FILE
    frame = pd.read_csv(path, index_col=0, keep_default_na=False)
    edit(frame).to_csv(path)
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "column", "message"),
    [
        (
            lambda f: f.assign(label_gold=f["label_gold"].where(f.index != 2, "maybe")),
            "label_gold",
            "'maybe'",
        ),
        (lambda f: f.assign(test_case=f["test_case"].where(f.index != 1, " ")), "test_case", "empty text"),
        (lambda f: f.assign(templ_id=f["templ_id"].astype(str).where(f.index != 0, "x")), "templ_id", "'x'"),
        (
            lambda f: f.assign(target_ident=f["target_ident"].where(f.index != 0, "men")),
            "target_ident",
            "'men'",
        ),
        (
            lambda f: f.assign(label_gold=f["label_gold"].where(f.index != 3, "hateful")),
            "label_gold",
            "functionality 'negate_neg_nh' holds label_gold ['hateful'], but its name says 'non-hateful'",
        ),
        (lambda f: f.drop(columns="templ_id"), "templ_id", "missing required column"),
        (
            lambda f: f.assign(ref_templ_id=f["ref_templ_id"].where(f.index != 3, 99)),
            "ref_templ_id",
            "[99] name no template of the file",
        ),
        (
            lambda f: f.assign(ref_templ_id=f["ref_templ_id"].where(f.index != 0, 3)),
            "ref_templ_id",
            "chain loops",
        ),
    ],
    ids=["label", "empty-text", "template", "group", "functionality", "column", "unknown-ref", "ref-loop"],
)
def test_bad_rows_give_named_errors(tmp_path, edit, column, message):
    data_dir = _bad_copy(tmp_path, edit)
    with pytest.raises(DataValidationError) as error:
        load_source("hatecheck", data_dir)
    text = str(error.value)
    assert hatecheck.FILE in text and repr(column) in text and message in text


def test_no_hatecheck_case_reaches_the_phase1_corpus():
    """The implicit-hate fixture holds one HateCheck case (normalised): dropped and counted, then guarded."""
    profile = get_profile("smoke", **{"data.phase1_max_rows_per_source": None})
    corpus, report = build_phase1_corpus(profile, data_dir=FIXTURES)
    assert report["sources"]["implicit_hate"]["removed"]["hatecheck_case"] == 1
    assert report["hatecheck_check"] == {"rows_checked": len(corpus), "hatecheck_cases": 7}
    assert not hatecheck.hatecheck_overlap(corpus, load_source("hatecheck", FIXTURES).df).any()


def test_no_hatecheck_case_reaches_the_dualhead_table(monkeypatch):
    monkeypatch.setenv("HATESPEECH_DATA_DIR", str(FIXTURES))
    table = load_table(get_profile("smoke"))
    assert table.filtered["toxigen:hatecheck_case"] == 1 and table.filtered["olid:hatecheck_case"] == 0
    assert not hatecheck.hatecheck_overlap(table.df, load_source("hatecheck", FIXTURES).df).any()


def test_the_guard_names_the_rows():
    cases = load_source("hatecheck", FIXTURES).df
    frame = pd.DataFrame({"id": ["a", "b"], "text": ["fine text", "i hate WOMEN!"]})
    with pytest.raises(DataLeakageError, match=r"1 row\(s\) are HateCheck cases.*i hate WOMEN"):
        hatecheck.evaluation_only_check(frame, cases, "train split")
    assert hatecheck.evaluation_only_check(frame.iloc[:1], cases, "train split")["rows_checked"] == 1


def test_a_phase2_sentence_that_is_a_hatecheck_case_is_refused(tmp_path, monkeypatch):
    from hatespeech.anticipation.phase2 import load_phase2_data

    data_dir = tmp_path / "data"
    shutil.copytree(FIXTURES, data_dir)
    path = data_dir / hatecheck.FILE
    frame = pd.read_csv(path, index_col=0, keep_default_na=False)
    sentence = "the weather today is lovely, going for a walk with the dog."  # a prefix_probability sentence
    extra = frame.iloc[[3]].assign(case_id=99, test_case=sentence)
    pd.concat([frame, extra], ignore_index=True).to_csv(path)
    monkeypatch.setenv("HATESPEECH_DATA_DIR", str(data_dir))
    with pytest.raises(DataLeakageError, match=r"prefix_probability.*HateCheck cases"):
        load_phase2_data(get_profile("smoke"))
