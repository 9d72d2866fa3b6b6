"""hatespeech.dualhead.scorer: text -> P(label) from a saved dual-head model, the same numbers as the
notebooks' predict path, thresholds saved beside the model, named errors, and the ``classify`` command."""

from __future__ import annotations

import numpy as np
import pytest
from datasets import Dataset
from hatespeech import __main__ as cli
from hatespeech.dualhead import DualHeadScorer, predict, save_thresholds
from hatespeech.dualhead.scorer import NotADualHeadModelError
from hatespeech.models.dualhead import from_encoder
from synthetic import tiny_bert

TEXTS = ["you people are all the same", "what a lovely day in the park", "go back where you came from"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, offline_tokenizer):
    tokenizer = offline_tokenizer("offline:minilm-l6")
    encoder = tiny_bert(tmp_path_factory.mktemp("encoder"), tokenizer)
    model = from_encoder(str(encoder), label_names_n=["toxic", "insult"], label_names_i=["women", "muslim"])
    folder = tmp_path_factory.mktemp("dualhead")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_predict_matches_the_notebooks_path_and_names_every_label(model_dir):
    scorer = DualHeadScorer.from_pretrained(model_dir, device="cpu", max_length=16)
    table = scorer.predict(TEXTS, batch_size=2)
    assert list(table.columns) == ["toxic", "insult", "women", "muslim"] == scorer.labels
    assert len(table) == 3 and ((table >= 0) & (table <= 1)).all().all()
    encoded = scorer.tokenizer(TEXTS, truncation=True, max_length=16)
    dataset = Dataset.from_dict({**dict(encoded), "uid": ["0", "1", "2"]})
    direct = predict(scorer.model, dataset, scorer.tokenizer, "cpu", batch_size=3)
    assert np.allclose(table[["toxic", "insult"]].to_numpy(), direct.probs_n, atol=1e-6)
    assert np.allclose(table[["women", "muslim"]].to_numpy(), direct.probs_i, atol=1e-6)
    with pytest.raises(ValueError, match="text 1 is empty"):
        scorer.predict(["fine", "  "])


def test_thresholds_travel_with_the_model(model_dir, tmp_path):
    scorer = DualHeadScorer.from_pretrained(model_dir, device="cpu")
    with pytest.raises(ValueError, match=r"without thresholds.json"):
        scorer.decide(scorer.predict(TEXTS))
    reports = {
        "n": {"thresholds": {"toxic": 0.0, "insult": 1.0}},
        "i": {"thresholds": {"women": 0.0, "muslim": 1.0}},
    }
    assert list(scorer.classify(TEXTS).columns) == [f"p_{x}" for x in scorer.labels]  # no thresholds: no is_
    path = save_thresholds(model_dir, reports)
    try:
        tuned = DualHeadScorer.from_pretrained(model_dir, device="cpu")
        decided = tuned.decide(scorer.predict(TEXTS))
        assert decided["toxic"].tolist() == [1, 1, 1] and decided["insult"].tolist() == [0, 0, 0]
        table = tuned.classify(TEXTS)  # probabilities and decisions in one table
        assert table["is_toxic"].tolist() == [1, 1, 1] and table["is_muslim"].tolist() == [0, 0, 0]
        assert table["p_toxic"].tolist() == scorer.predict(TEXTS)["toxic"].tolist()
    finally:
        path.unlink()
    with pytest.raises(NotADualHeadModelError, match="not a saved dual-head model"):
        DualHeadScorer.from_pretrained(tmp_path)


def test_classify_command_prints_every_label(model_dir, capsys):
    assert cli.main(["classify", "--model", str(model_dir), "--device", "cpu", *TEXTS[0].split()]) == 0
    out = capsys.readouterr().out
    assert all(label in out for label in ("toxic", "insult", "women", "muslim"))


def test_classify_a_csv_adds_a_probability_and_a_decision_per_label(model_dir, tmp_path, capsys):
    import pandas as pd

    source = tmp_path / "in.csv"
    pd.DataFrame({"id": [1, 2, 3], "text": TEXTS}).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    tuned = {
        "n": {"thresholds": {"toxic": 0.0, "insult": 1.0}},
        "i": {"thresholds": {"women": 0.0, "muslim": 1.0}},
    }
    path = save_thresholds(model_dir, tuned)
    try:
        args = ["classify", "--model", str(model_dir), "--device", "cpu", "--quiet"]
        assert cli.main([*args, "--input", str(source), "--output", str(out)]) == 0
    finally:
        path.unlink()
    table = pd.read_csv(out)
    labels = ["toxic", "insult", "women", "muslim"]
    assert list(table.columns) == ["id", "text", *(f"p_{x}" for x in labels), *(f"is_{x}" for x in labels)]
    expected = DualHeadScorer.from_pretrained(model_dir, device="cpu").predict(TEXTS)
    assert np.allclose(table[[f"p_{x}" for x in labels]].to_numpy(), expected.to_numpy(), atol=1e-6)
    assert table["is_toxic"].tolist() == [1, 1, 1] and table["is_insult"].tolist() == [0, 0, 0]
    assert "classified 3 rows (with tuned thresholds)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--input", "{csv}", "--output", "{out}", "--text-column", "body"], "has no column 'body'"),
        (["--input", "{csv}", "--output", "{out}", "some", "text"], "either TEXT or --input/--output"),
        (["--input", "{csv}"], "--input and --output go together"),
        (["--input", "{missing}", "--output", "{out}"], "does not exist"),
        (["--input", "{blank}", "--output", "{out}"], "column 'text' is empty in 1 row(s)"),
        (["--input", "{csv}", "--output", "{out}", "--batch-size", "0"], "--batch-size must be >= 1"),
    ],
)
def test_classify_fails_clearly_on_bad_input(model_dir, tmp_path, capsys, extra, message):
    (tmp_path / "in.csv").write_text("text\nyou people are all the same\n")
    (tmp_path / "blank.csv").write_text('text\nfine\n""\n')
    names = {"csv": "in.csv", "out": "out.csv", "missing": "nope.csv", "blank": "blank.csv"}
    extra = [x.format(**{k: str(tmp_path / v) for k, v in names.items()}) for x in extra]
    assert cli.main(["classify", "--model", str(model_dir), "--device", "cpu", *extra]) == cli.EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()
