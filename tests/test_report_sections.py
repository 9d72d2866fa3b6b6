"""The report's building blocks (hatespeech.report): stamp table, tables from metrics JSON, sections, figures.

The stamp itself and the metrics files are tested in test_stamp.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from hatespeech import report

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "report"))
import make_fake_metrics


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
    assert "<details>" in html and "1 files, combined sha256" in html


def test_payload_tables_shapes():
    payload = make_fake_metrics.payloads()
    tables = dict(report.payload_tables(payload["anticipation.json"], ["phase1", "baselines"]))
    phase1 = tables["phase1"]
    assert list(phase1.index) == list(make_fake_metrics.VARIANTS)
    assert {"accuracy", "f1", "train_examples"} <= set(phase1.columns)
    per_source = tables["phase1: per_source"]  # stacked: (variant, source) x metric
    assert per_source.shape == (16, 2) and ("decoder", "olid") in per_source.index
    assert "curve" not in phase1.columns  # long lists are for figures
    by_len = tables["phase1: by_w_len"]  # bin names hold dots and commas: still one row per (variant, bin)
    assert by_len.shape == (20, 2) and by_len.loc[("decoder", "(0.8, 1.0]"), "accuracy"] == pytest.approx(0.7)
    assert list(tables["baselines"].index) == ["constant"]
    assert list(tables["baselines: phase1_only"].index) == list(make_fake_metrics.VARIANTS)

    dualhead = payload["dualhead.json"]
    dual = dict(report.payload_tables(dualhead, ["head_n", "bias", "grid"]))
    assert dual["head_n"].loc["macro_f1", "value"] == dualhead["head_n"]["macro_f1"]
    per_label = dual["head_n: per_label"]  # labels x (precision, recall, f1, auc, ap, threshold, ...)
    assert list(per_label.index) == list(make_fake_metrics.LABELS_N) and "f1" in per_label.columns
    assert list(dual["bias: per_subgroup"].index) == list(make_fake_metrics.LABELS_I)
    assert len(dual["grid"]) == 16

    data = dict(report.payload_tables(payload["data.json"]))
    assert "filtered.empty_text" in data["sources"].columns  # a small nested group stays in the row
    assert data["splits"].loc["dualhead", "test"] == 50


def test_grid_tables_are_gamma_by_alpha():
    grid = make_fake_metrics.payloads()["dualhead.json"]["grid"]
    (val_title, val), (test_title, _test) = report.grid_tables(grid)
    assert val.shape == (4, 4) and "val_macro_f1" in val_title and "test_macro_f1" in test_title
    assert val.loc["gamma=3", "alpha=1"] == pytest.approx(0.45)


def test_sections_render_from_metrics(fake_reports):
    run_stamp = dict(make_fake_metrics.STAMP, profile="cpu")
    for section in report.SECTIONS:
        html = report.section_html(section, reports=fake_reports, report_stamp=run_stamp)
        assert "Not run in this build" not in html, section.key
        assert "data:image/png;base64" in html, f"{section.key}: figure with prefix not embedded"
        assert "made with profile smoke, not this report" in html
    payloads = make_fake_metrics.payloads()
    phase2 = report.section_html("phase2", reports=fake_reports)
    assert "Best phase-2 variant on the held-out train sentences: encoder" in phase2
    assert "phase2:encoder better than constant:train_mean" in phase2 and "test MSE [95% CI]" in phase2
    agreement = payloads["anticipation.json"]["annotator_agreement"]["test"]["mse"]
    assert f"The two annotation passes differ by MSE {agreement:.3f} on the test prefixes" in phase2
    dual = report.section_html("dualhead", reports=fake_reports)
    dualhead = payloads["dualhead.json"]
    assert f"as a percentage: <b>{dualhead['bias']['final_x100']:.3f}</b>" in dual
    assert "<b>Not comparable</b>" in dual and "Detoxify unbiased (published) 93.74" in dual
    assert "Summary unavailable" not in dual and "key table unavailable" not in dual
    shared, alone = dualhead["head_n"]["macro_f1"], dualhead["separate_models"]["head_n"]["macro_f1"]
    assert f"toxicity-type head {shared:.3f}" in dual and f"<td>{alone:.3f}</td>" in dual
    assert (
        "picked on validation: <b>lambda 10</b> (mean validation macro-F1 of the two heads 0.490; "
        "lambda 1: 0.370)" in dual
    )
    grid = report.section_html("grid", reports=fake_reports)
    assert "gamma 3, alpha 1" in grid and "16 cells trained" in grid
    phase1 = report.section_html("phase1", reports=fake_reports)
    assert "Best variant on the selection set: encoder." in phase1 and "context only" in phase1
    assert "F1 [95% CI]" in phase1 and "paired comparisons" in phase1
    bench = report.section_html("benchmarks", reports=fake_reports)
    assert "<b>44.2x</b> the throughput (target ≥ 8x: met)" in bench
    assert "last word <b>0.288</b>" in bench and "target ≤ 0.2: <b>missed</b>" in bench
    assert "41 ms against 193 ms" in bench and "ratio 0.212" in bench and "max |difference| 8.6e-07" in bench


def test_missing_metrics_say_not_run(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "anticipation.json").write_text(json.dumps({"phase1": {}, "stamp": {}}))
    assert "Not run in this build (metrics/data.json absent" in report.section_html("data", reports=tmp_path)
    phase2 = report.section_html("phase2", reports=tmp_path)
    assert "Not run in this build" in phase2 and "anticipation.json key" in phase2
    assert report.section_status(tmp_path)["phase1"] == "shown"
    assert report.section_status(tmp_path)["phase2"] == "not run"


def test_unexpected_shape_is_reported_not_hidden(tmp_path):
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "dualhead.json").write_text(
        json.dumps({"grid": [{"gamma": 1, "val_macro_f1": "x"}]})
    )
    html = report.section_html("grid", reports=tmp_path)
    assert "16 cells" not in html
    assert "Summary unavailable" in html or "1 cells trained" in html


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

    for name in ("stamp", "caption", "write_metrics", "read_metrics", "data_checksums", "_json_default"):
        assert getattr(report, name) is getattr(stamp, name), name
