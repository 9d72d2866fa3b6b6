"""The report's building blocks (hatespeech.report): stamp, tables from metrics JSON, sections, figures."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hatespeech import report

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "report"))
import make_fake_metrics  # noqa: E402


@pytest.fixture
def fake_reports(tmp_path) -> Path:
    make_fake_metrics.write(tmp_path, with_figures=True)
    return tmp_path


def test_write_metrics_adds_stamp_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "run_timings.json").write_text(json.dumps({"01_data.ipynb": {"seconds": 3.0}}))
    path = report.write_metrics("toy", {"value": 1.5}, "smoke")
    body = report.read_metrics("toy")
    assert path == tmp_path / "metrics" / "toy.json"
    assert body["value"] == 1.5 and body["profile"] == "smoke"
    stamp = body["stamp"]
    for key in (
        "git_commit",
        "git_dirty",
        "profile",
        "seed",
        "hardware",
        "versions",
        "data_sha256",
        "notebook_wall_s",
        "created",
    ):
        assert key in stamp
    assert stamp["notebook_wall_s"] == {"01_data.ipynb": {"seconds": 3.0}}
    assert stamp["versions"]["python"].count(".") == 2
    with pytest.raises(FileNotFoundError, match="absent.json is missing"):
        report.read_metrics("absent")


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

    dual = dict(report.payload_tables(payload["dualhead.json"], ["head_n", "bias", "grid"]))
    assert dual["head_n"].loc["macro_f1", "value"] == 0.41
    assert dual["head_n: per_label"].shape == (5, 5)
    assert dual["bias: subgroups"].shape[0] == 5
    assert len(dual["grid"]) == 16

    data = dict(report.payload_tables(payload["data.json"]))
    assert "filtered.empty_text" in data["sources"].columns  # a small nested group stays in the row
    assert data["splits"].loc["dualhead", "test"] == 50


def test_grid_tables_are_gamma_by_alpha():
    grid = make_fake_metrics.payloads()["dualhead.json"]["grid"]
    (val_title, val), (test_title, test) = report.grid_tables(grid)
    assert val.shape == (4, 4) and "val_macro_f1" in val_title and "test_macro_f1" in test_title
    assert val.loc["gamma=3", "alpha=1"] == pytest.approx(0.45)


def test_sections_render_from_metrics(fake_reports):
    run_stamp = dict(make_fake_metrics.STAMP, profile="cpu")
    for section in report.SECTIONS:
        html = report.section_html(section, reports=fake_reports, report_stamp=run_stamp)
        assert "Not run in this build" not in html, section.key
        assert "data:image/png;base64" in html, f"{section.key}: figure with prefix not embedded"
        assert "made with profile smoke, not this report" in html
    phase2 = report.section_html("phase2", reports=fake_reports)
    assert "Best phase-2 variant on the held-out train sentences: encoder" in phase2
    assert "phase2:encoder better than constant:train_mean" in phase2 and "test MSE [95% CI]" in phase2
    dual = report.section_html("dualhead", reports=fake_reports)
    assert "<b>83" in dual and "<b>Not comparable</b>" in dual and "93.74" in dual
    assert (
        "picked on validation: <b>lambda 10</b> (mean validation macro-F1 of the two heads 0.490; lambda 1: 0.370)"
        in dual
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


def test_save_figure_writes_png_with_caption(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hatespeech.plots import save_figure

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = save_figure(fig, "data_test", caption=report.caption("smoke", "toy"))
    plt.close(fig)
    assert path == tmp_path / "figures" / "data_test.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert "profile=smoke" in report.caption("smoke", "toy")


def test_stamp_dirty_counts_code_changes_not_regenerated_reports(tmp_path, monkeypatch):
    import subprocess

    from hatespeech import paths

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "figure.png").write_text("old")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(report, "data_checksums", lambda *a, **k: {})
    assert report.stamp("smoke")["git_dirty"] is False
    (tmp_path / "reports" / "figure.png").write_text("regenerated by the run")
    assert report.stamp("smoke")["git_dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert report.stamp("smoke")["git_dirty"] is True
