"""The report's building blocks (hatespeech.report): stamp table, sections rendered from typed results, the
appendix's generic tables, figures.

The stamp itself and the metrics files are tested in test_stamp.py."""

from __future__ import annotations

import json
from pathlib import Path

import make_fake_metrics
import pytest
from hatespeech import report
from hatespeech.anticipation import Phase1Result
from hatespeech.report import prose, sections, study


@pytest.fixture
def fake_reports(tmp_path) -> Path:
    make_fake_metrics.write(tmp_path, with_figures=True)
    return tmp_path


def test_stamp_html_shows_commit_dirty_profile_hardware_timings_and_checksums():
    st = dict(
        make_fake_metrics.STAMP,
        git_dirty=True,
        notebook_wall_s={
            "01_data.ipynb": {"seconds": 75.0, "profile": "smoke"},
            "02_phase1.ipynb": {"seconds": 30.0, "profile": "cpu"},
        },
    )
    html = report.stamp_html(st)
    assert "0123456789" in html and "dirty" in html
    assert "<b>smoke</b> / 42" in html
    assert "test cpu (2 cores" in html and "GPU: none" in html
    assert "01_data 1m15s" in html and "02_phase1 30.0s (cpu)" in html and "total 1m45s" in html
    # per-file checksums fold away on screen and stay out of print (the HTML and report.json keep them)
    assert "<details class='hs-screen-only'>" in html and "1 files, combined sha256" in html


def test_payload_tables_shapes():
    """The appendix's generic tables: rows x metrics, nested groups stacked, long lists left to figures."""
    payload = make_fake_metrics.payloads()
    tables = dict(report.payload_tables(payload["anticipation.json"], ["phase1", "baselines"]))
    phase1 = tables["phase1"]
    assert list(phase1.index) == list(make_fake_metrics.VARIANTS)
    assert {"accuracy", "f1", "threshold"} <= set(phase1.columns)
    by_source = tables["phase1: by_source"]  # stacked: (variant, source) x metric
    assert by_source.shape[0] == 16 and ("decoder", "olid") in by_source.index
    by_len = tables["phase1: by_w_len"]  # bin names hold '%' and '-': still one row per (variant, bin)
    assert by_len.shape[0] == 12 and ("decoder", "90-100%") in by_len.index  # 1-, 2- and 3-word sentences
    assert list(tables["baselines"].index) == ["constant", "tfidf_ridge"]
    assert list(tables["baselines: phase1_only"].index) == ["encoder"]
    curve = dict(report.payload_tables({"m": {"mse": 0.1, "curve": list(range(20))}}))["m"]
    assert "curve" not in curve.index  # long lists are for figures
    data = dict(report.payload_tables(payload["data.json"]))
    assert "filtered.empty_text" in data["sources"].columns  # a small nested group stays in the row


def _render(reports: Path) -> dict[str, str]:
    run_stamp = dict(make_fake_metrics.STAMP, profile="cpu")
    return {s.key: report.section_html(s, reports=reports, report_stamp=run_stamp) for s in report.SECTIONS}


def test_sections_render_from_results(fake_reports):
    html = _render(fake_reports)
    for key, text in html.items():
        assert "Not run in this build" not in text and "not shown" not in text.lower(), key
        assert "data:image/png;base64" in text, f"{key}: figure with prefix not embedded"
        assert "made with profile smoke, not this report" in text
    payloads = make_fake_metrics.payloads()
    phase2 = html["phase2"]
    assert (
        "Best model on the held-out train sentences" in phase2 and ": encoder (phase 2); test MSE" in phase2
    )
    assert "encoder (phase 2) better than constant (train mean)" in phase2 and "test MSE [95% CI]" in phase2
    agreement = payloads["anticipation.json"]["annotator_agreement"]["test"]["mse"]
    assert f"The two annotation passes differ by MSE {agreement:.3f} on the test prefixes" in phase2
    phase1 = html["phase1"]
    assert "Best variant on the selection set: encoder." in phase1 and "context only" in phase1
    assert "F1 [95% CI]" in phase1 and "paired comparisons" in phase1
    assert "All other numbers of this section" in phase1 and "by_w_len" in phase1  # the appendix
    bench = html["benchmarks"]
    assert "44.2x the throughput (target &gt;= 8x: met)" in bench
    assert "last word 0.288" in bench and "target &lt;= 0.2: MISSED" in bench
    assert "41 ms against 193 ms" in bench and "ratio 0.212" in bench and "max |difference| 8.6e-07" in bench
    assert "4 sources, 4,006 rows read, 3,966 kept; filtered on purpose: empty_text: 40." in html["data"]


def test_the_fixture_holds_every_field_of_every_result():
    """The fake build is made of the result classes themselves: no field a renderer may read is absent."""
    payloads = make_fake_metrics.payloads()
    for section in report.SECTIONS:
        missing = set(section.result.field_names()) - {"stamp"} - set(payloads[section.metrics])
        assert not missing, f"{section.result.__name__}: the fixture lacks {missing}"


@pytest.mark.parametrize("section", report.SECTIONS, ids=lambda s: s.key)
def test_a_missing_field_is_named_not_guessed(tmp_path, section):
    """Remove each required field of a section's result in turn: the section names it (and builds)."""
    make_fake_metrics.write(tmp_path, with_figures=False)
    path = tmp_path / "metrics" / section.metrics
    whole = json.loads(path.read_text())
    required = [f for f in section.result.required_fields() if f != section.result.MARKER]
    assert required, section.key
    for name in required:
        path.write_text(json.dumps({k: v for k, v in whole.items() if k != name}))
        html = report.section_html(section, reports=tmp_path)
        assert f"lacks &#x27;{name}&#x27;" in html, (section.key, name)
        assert report.section_status(tmp_path)[section.key] == "wrong shape"


def test_a_missing_nested_key_is_named(tmp_path):
    make_fake_metrics.write(tmp_path, with_figures=False)
    path = tmp_path / "metrics" / "anticipation.json"
    body = json.loads(path.read_text())
    del body["phase1_evidence"]["intervals"]
    path.write_text(json.dumps(body))
    html = report.section_html("phase1", reports=tmp_path)
    assert "Findings and key tables not shown" in html and "intervals" in html
    assert "Best model on the held-out" in report.section_html("phase2", reports=tmp_path)  # the other result


def test_missing_results_say_not_run(tmp_path):
    make_fake_metrics.write(tmp_path, with_figures=False)
    metrics = tmp_path / "metrics"
    (metrics / "data.json").unlink()
    body = json.loads((metrics / "anticipation.json").read_text())
    phase1_only = {k: v for k, v in body.items() if k in Phase1Result.field_names() or k == "stamp"}
    (metrics / "anticipation.json").write_text(json.dumps(phase1_only))
    assert "Not run in this build (no DataResult in metrics/data.json" in report.section_html(
        "data", reports=tmp_path
    )
    assert "Not run in this build (no Phase2Result" in report.section_html("phase2", reports=tmp_path)
    status = report.section_status(tmp_path)
    assert status["phase1"] == "shown" and status["phase2"] == "not run" and status["data"] == "not run"


def test_other_metrics_are_listed(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "extra.json").write_text(json.dumps({"speed": {"a": {"x": 1.0}}}))
    html = report.other_metrics_html(tmp_path)
    assert "extra.json" in html and "<table" in html


def test_figures_found_by_prefix(fake_reports):
    names = [p.name for p in report.section_figures("phase2", fake_reports)]
    assert names == ["phase2_example.png"]
    assert report.section_figures("benchmarks", fake_reports)[0].name.startswith("bench_")


def test_report_still_exposes_the_stamp_and_metrics_io():
    """Notebooks, benchmarks and other modules call these through ``hatespeech.report``; they live in
    ``hatespeech.stamp``."""
    from hatespeech import stamp

    for name in ("stamp", "caption", "write_metrics", "read_metrics", "data_checksums", "json_default"):
        assert getattr(report, name) is getattr(stamp, name), name


def test_the_prose_file_has_the_words_of_every_section_question_and_figure_note():
    text = prose.prose()
    assert set(text["sections"]) == {s.key for s in sections.SECTIONS}
    assert all(s.title and s.intro for s in sections.SECTIONS)
    assert set(text["questions"]) == {q.key for q in study.QUESTIONS}
    assert all(isinstance(note, str) and note for note in sections.FIGURE_NOTES.values())
    assert set(text["answers"]) == {q.key for q in study.QUESTIONS}  # every answer's sentences
    card = {"model", "trained_on", "fails", "intended_use", "not_for", "known_limits"}
    assert study.LIMITATIONS and set(text["model_card"]) == card
