"""hatespeech.report.study: the first page's answers, the model card, the seed claims and the appendix,
generated from the typed results (the synthetic metrics of tests/fixtures/report)."""

from __future__ import annotations

from pathlib import Path

import make_fake_metrics
import pytest
from hatespeech import report
from hatespeech.config import get_profile
from hatespeech.publish.export import printable_html


@pytest.fixture
def fake_reports(tmp_path) -> Path:
    make_fake_metrics.write(tmp_path, with_figures=True)
    return tmp_path


def test_every_question_is_answered_from_the_results(fake_reports):
    answered = report.answers(fake_reports)
    assert [q.key for q, _ in answered] == [q.key for q in report.study.QUESTIONS]
    for question, answer in answered:
        assert not answer.startswith("Not answered"), (question.key, answer)
        assert any(ch.isdigit() for ch in answer), question.key  # every answer carries its number
    text = {q.key: a for q, a in answered}
    assert "[" in text["anticipate"] and "TF-IDF" in text["anticipate"]  # interval and baseline
    assert "no clear difference" in text["phase2"] or "better than" in text["phase2"]
    assert "int8" in text["speed"] and "offered for encoder (held-out" in text["speed"]
    # int8's gain split into the runtime's and int8's, and the recommended scorer's per-word latency
    assert "ONNX Runtime alone (fp32 weights) gives 1.4x and int8 1.8x" in text["speed"]
    assert "re-scores a 40-word prefix per typed word in 12 ms in int8 against 20 ms" in text["speed"]
    assert "imagined endings" in text["imagined"] and "ms per prefix" in text["imagined"]
    html = report.answers_html(fake_reports)
    assert html.count("<li>") == len(report.study.QUESTIONS) and "href='#sec-phase1'" in html


def test_answers_and_sections_refer_to_their_figures_by_number(fake_reports):
    figures = fake_reports / "figures"
    (figures / "phase1_with_baselines.png").write_bytes((figures / "phase1_example.png").read_bytes())
    # phase1_example.png sorts first, phase1_with_baselines second: the answer cites the report's number
    html = report.answers_html(fake_reports)
    assert (
        "(evidence: <a href='#sec-phase1'>Anticipation, phase 1: hate / not-hate from prefixes</a>; "
        "Figure phase1-2" in html
    )
    assert "Figure functional-" not in html  # the build has no functional figure: nothing cited
    body = report.section_html("phase1", reports=fake_reports, appendix=False)
    expected = "Figures of this section: Figure phase1-1 (phase1_example, appendix); Figure phase1-2 (phase-1"
    assert expected in body


def test_a_missing_result_says_which_notebook_answers_it(fake_reports):
    (fake_reports / "metrics" / "functional.json").unlink()
    text = {q.key: a for q, a in report.answers(fake_reports)}
    assert text["functional"] == "Not answered in this build: run notebooks/06_functional.ipynb."


def test_model_card_seed_claims_and_method_are_generated(fake_reports):
    card = report.model_card_html(fake_reports)
    assert "Not for" in card and "without a person reviewing it" in card
    assert "Where it fails (HateCheck)" in card and "counter-speech" in card
    claims = {c.claim.split(":")[0]: c for c in report.seed_claims(fake_reports)}
    assert claims["Phase 1"].seed == "Anticipation" and "seed 0.74" in claims["Phase 1"].found
    assert claims["Phase 2"].verdict in {"reproduced", "not reproduced", "no clear difference"}
    method = report.method_html(get_profile("cpu"))
    assert "MiniLM-L6" in method and "rehearsal shares 0.3 tried" in method
    assert "SmolLM2-135M-Instruct, dequantized to fp32 from a 4-bit GGUF file" in method


def test_appendix_folds_in_html_and_prints_open(fake_reports):
    figures = fake_reports / "figures"
    (figures / "phase1_with_baselines.png").write_bytes((figures / "phase1_example.png").read_bytes())
    appendix = report.appendix_html(fake_reports)
    assert appendix.count("<details>") >= 4 and "the other tables and figures" in appendix
    body = report.section_html("phase1", reports=fake_reports, appendix=False)
    assert "All other numbers" not in body and "id='sec-phase1'" in body
    # the body keeps the section's key figure, captioned with what to look at; the others go to the appendix,
    # each keeping its number
    assert "Figure phase1-2. Phase-1 accuracy and F1 with 95% intervals" in body
    assert "Figure phase1-1." not in body and "Figure phase1-1." in appendix
    whole = report.section_html("phase1", reports=fake_reports)  # the notebook view: everything in one place
    assert body.count("<table") < whole.count("<table")  # the other key tables moved to the appendix
    printed = printable_html(appendix)
    assert "<details>" not in printed and printed.count("<details open>") == appendix.count("<details>")
