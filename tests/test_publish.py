"""The report build (hatespeech.publish, behind ./run_all.sh): ordering, stop at the first failure, safe
publishing (a failed or interrupted run leaves the previous report whole), partial runs, metrics contract.

Tests that execute notebooks start a real Jupyter kernel (papermill), a few seconds each.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from hatespeech import paths, publish
from hatespeech.publish import builder, checks
from hatespeech.publish.staging import build_lock

FIXTURES = Path(__file__).parent / "fixtures" / "report"
REPO_NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def make_notebook(path: Path, *sources: str, markdown_first: bool = True) -> Path:
    """A notebook with a `parameters` cell (profile = "cpu") followed by code cells ``sources``."""
    params = nbformat.v4.new_code_cell('profile = "cpu"')
    params.metadata["tags"] = ["parameters"]
    cells = ([nbformat.v4.new_markdown_cell(f"# {path.stem}")] if markdown_first else []) + [params]
    cells += [nbformat.v4.new_code_cell(src) for src in sources]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file of a report, leaving out the build's hidden .staging* folders."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not any(part.startswith(".staging") for part in p.relative_to(folder).parts)
    }


@pytest.fixture
def previous_report(tmp_path) -> Path:
    reports = tmp_path / "reports"
    (reports / "metrics").mkdir(parents=True)
    (reports / "figures").mkdir()
    (reports / "metrics" / "data.json").write_text(json.dumps({"sources": {"old": {}}, "splits": {}}))
    (reports / "figures" / "data_old.png").write_bytes(b"\x89PNG old figure")
    (reports / "report.html").write_text("<html>previous report</html>")
    (reports / "report.pdf").write_bytes(b"%PDF-1.4 previous")
    return reports


WRITE_DATA = (
    "from hatespeech import report\n"
    "import sys\n"
    "report.write_metrics('data', {'sources': {'toy': {'rows_raw': 3, 'rows_kept': 3, 'filtered': {}}},"
    " 'splits': {'toy': {'train': 2, 'val': 1}}, 'python': sys.executable}, profile)"
)


def test_failing_notebook_leaves_previous_report_untouched(tmp_path, previous_report, capsys):
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks / "01_ok.ipynb", WRITE_DATA)
    make_notebook(
        notebooks / "02_fails.ipynb",
        "x = 1",
        "# a comment first\nraise ValueError('on purpose')",
        "print('never reached')",
    )
    before = snapshot(previous_report)

    code = publish.main(
        [
            "--profile",
            "smoke",
            "--notebooks-dir",
            str(notebooks),
            "--reports-dir",
            str(previous_report),
            "--pdf",
            "skip",
        ]
    )

    err = capsys.readouterr().err
    assert code != 0
    assert "02_fails.ipynb" in err
    # cell 4 of 5: markdown, parameters, `x = 1`, the failing cell, the unreached one (1-based)
    assert "cell 4 of 5" in err
    assert "# a comment first" in err
    assert "raise ValueError('on purpose')" in err  # the failing line, from the traceback
    assert "ValueError: on purpose" in err
    assert "left as it was" in err
    assert snapshot(previous_report) == before
    kept = previous_report / publish.FAILED_DIR_NAME / "executed" / "02_fails.ipynb"
    assert str(kept) in err
    executed = nbformat.read(kept, as_version=4)
    assert any(
        o.get("ename") == "ValueError"
        for c in executed.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )


def test_success_replaces_report_and_runs_the_venv_python(tmp_path, previous_report):
    notebooks = tmp_path / "notebooks"
    make_notebook(
        notebooks / "01_data.ipynb",
        WRITE_DATA,
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "from hatespeech.plots import save_figure\n"
        "fig, ax = plt.subplots(); ax.plot([0, 1]); save_figure(fig, 'data_toy', caption='toy')",
    )
    (previous_report / "stale.txt").write_text("from an older build")
    logs: list[str] = []

    result = publish.build(
        "smoke", notebooks_dir=notebooks, reports_dir=previous_report, pdf="skip", log=logs.append
    )

    assert [r.name for r in result.runs] == ["01_data.ipynb"]
    assert not (previous_report / "stale.txt").exists(), "a full build starts from an empty staging folder"
    assert not (previous_report / "figures" / "data_old.png").exists()
    assert (previous_report / "figures" / "data_toy.png").stat().st_size > 0
    data = json.loads((previous_report / "metrics" / "data.json").read_text())
    assert data["python"] == sys.executable, "papermill must start the same (venv) interpreter"
    assert data["stamp"]["profile"] == "smoke"
    assert data["stamp"]["notebook_wall_s"] is None  # 01 ran first: no timing yet when it wrote
    timings = json.loads((previous_report / "metrics" / "run_timings.json").read_text())
    assert timings["01_data.ipynb"]["profile"] == "smoke" and timings["01_data.ipynb"]["seconds"] > 0
    assert (previous_report / "executed" / "01_data.ipynb").exists()
    assert (previous_report / "html" / "01_data.html").read_text().count("<html") == 1
    # no report notebook in this folder: no report.html/pdf rebuilt, and the old ones are not kept
    assert not (previous_report / "report.pdf").exists()
    assert not any(p.name.startswith(".staging-2") for p in previous_report.iterdir())
    assert any("01_data.ipynb done in" in line for line in logs)


def test_partial_run_keeps_earlier_outputs_and_reads_them(tmp_path, previous_report):
    notebooks = tmp_path / "notebooks"
    # numbers outside 01-07 so the metrics contract of the real notebooks does not apply
    make_notebook(notebooks / "09_first.ipynb", "raise RuntimeError('09 must not run with --only 10')")
    make_notebook(
        notebooks / "10_next.ipynb",
        "from hatespeech import report\n"
        "earlier = report.read_metrics('data')\n"
        "report.write_metrics('next', {'sources_seen': sorted(earlier['sources'])}, profile)",
    )
    before = snapshot(previous_report)

    publish.build(
        "smoke",
        notebooks_dir=notebooks,
        reports_dir=previous_report,
        only="10",
        pdf="skip",
        log=lambda _: None,
    )

    after = snapshot(previous_report)
    assert json.loads((previous_report / "metrics" / "next.json").read_text())["sources_seen"] == ["old"]
    # no report notebook ran, so report.html and its PDF stay as they were, together
    for kept in ("metrics/data.json", "figures/data_old.png", "report.html", "report.pdf"):
        assert after[kept] == before[kept]


def test_interrupted_run_leaves_previous_report(tmp_path, previous_report, monkeypatch):
    notebooks = tmp_path / "notebooks"
    for name in ("01_a.ipynb", "02_b.ipynb"):
        make_notebook(notebooks / name, "pass")
    calls = []

    def fake_run(notebook, output, profile, kernel, progress=False):
        calls.append(notebook.name)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("{}")
        (Path(os.environ[paths.REPORTS_DIR_ENV]) / "metrics" / "data.json").write_text("{}")
        if notebook.name.startswith("02"):
            raise KeyboardInterrupt
        return 0.1

    monkeypatch.setattr(builder, "run_notebook", fake_run)
    before = snapshot(previous_report)
    with pytest.raises(KeyboardInterrupt):
        publish.build(
            "smoke", notebooks_dir=notebooks, reports_dir=previous_report, pdf="skip", log=lambda _: None
        )
    assert calls == ["01_a.ipynb", "02_b.ipynb"]
    assert snapshot(previous_report) == before
    assert (previous_report / publish.FAILED_DIR_NAME / "executed" / "01_a.ipynb").exists()


def test_metrics_check_blocks_publishing(tmp_path, previous_report, monkeypatch):
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks / "01_data.ipynb", "pass")

    def fake_run(notebook, output, profile, kernel, progress=False):
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(nbformat.writes(nbformat.read(notebook, as_version=4)))
        staging = Path(os.environ[paths.REPORTS_DIR_ENV])
        (staging / "metrics" / "data.json").write_text(
            json.dumps({"sources": {}, "stamp": {}})
        )  # no "splits"
        return 0.1

    monkeypatch.setattr(builder, "run_notebook", fake_run)
    before = snapshot(previous_report)
    with pytest.raises(publish.BuildError, match="metrics check failed"):
        publish.build(
            "smoke", notebooks_dir=notebooks, reports_dir=previous_report, pdf="skip", log=lambda _: None
        )
    assert snapshot(previous_report) == before


def test_notebook_without_parameters_cell_is_refused(tmp_path, previous_report):
    notebooks = tmp_path / "notebooks"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('profile = "cpu"')])
    notebooks.mkdir()
    nbformat.write(nb, notebooks / "01_x.ipynb")
    with pytest.raises(publish.NotebookFailed, match="no cell tagged 'parameters'"):
        publish.build(
            "smoke", notebooks_dir=notebooks, reports_dir=previous_report, pdf="skip", log=lambda _: None
        )


def test_second_build_into_the_same_folder_is_refused(tmp_path, previous_report):
    with (
        build_lock(previous_report),
        pytest.raises(publish.BuildError, match="another report build is running"),
        build_lock(previous_report),
    ):
        pass


def test_select_notebooks(tmp_path):
    names = ["01_data.ipynb", "02_phase1.ipynb", "03_phase2.ipynb", "08_report.ipynb"]
    for name in names:
        (tmp_path / name).write_text("{}")
    (tmp_path / "scratch.ipynb").write_text("{}")
    found = publish.discover_notebooks(tmp_path)
    assert [p.name for p in found] == names
    pick = lambda **kw: [p.name for p in publish.select_notebooks(found, **kw)]
    assert pick() == names
    assert pick(only="1,3") == ["01_data.ipynb", "03_phase2.ipynb", "08_report.ipynb"]
    assert pick(only="01", include_report=False) == ["01_data.ipynb"]
    assert pick(start="02") == names[1:]
    assert pick(only="8") == ["08_report.ipynb"]
    with pytest.raises(publish.BuildError, match="--only 05"):
        pick(only="05")
    with pytest.raises(publish.BuildError, match="not a number"):
        pick(only="data")
    with pytest.raises(publish.BuildError, match="either --only or --from"):
        pick(only="1", start="2")


def test_check_metrics_reads_back_each_notebooks_typed_result(tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    assert publish.check_metrics(metrics, ran=["01"]) == [
        "data.json holds no DataResult (written by notebooks/01_data.ipynb)"
    ]
    (metrics / "data.json").write_text(json.dumps({"profile": "smoke", "sources": {}, "stamp": {}}))
    assert publish.check_metrics(metrics, ran=["01"]) == []
    # anticipation.json is written by 02 and 03: each one's result is checked once its notebook ran
    (metrics / "anticipation.json").write_text(json.dumps({"profile": "smoke", "phase1": {}, "stamp": {}}))
    (problem,) = publish.check_metrics(metrics, ran=["02"])
    assert "anticipation.json lacks 'phase1_baselines'" in problem and "Phase1Result" in problem
    (problem,) = publish.check_metrics(metrics, ran=["03"])
    assert problem == "anticipation.json holds no Phase2Result (written by notebooks/03_phase2.ipynb)"
    (metrics / "benchmarks.json").write_text(json.dumps({"rows": []}))  # optional, but checked when present
    assert any("benchmarks.json" in p for p in publish.check_metrics(metrics, ran=[]))
    assert publish.check_metrics(metrics, ran=[], report_ran=True)[-1].startswith("report.json missing")


def test_swap_in_replaces_content_and_keeps_hidden_folders(tmp_path):
    reports = tmp_path / "reports"
    (reports / "metrics").mkdir(parents=True)
    (reports / "metrics" / "old.json").write_text("{}")
    (reports / publish.FAILED_DIR_NAME).mkdir()
    staging = reports / ".staging-test"
    (staging / "metrics").mkdir(parents=True)
    (staging / "metrics" / "new.json").write_text("{}")
    (staging / "report.html").write_text("new")
    publish.swap_in(staging, reports)
    assert sorted(p.name for p in reports.iterdir()) == [publish.FAILED_DIR_NAME, "metrics", "report.html"]
    assert [p.name for p in (reports / "metrics").iterdir()] == ["new.json"]


def test_partial_build_drops_outputs_of_notebooks_that_no_longer_exist(tmp_path, previous_report):
    """A renamed notebook (07_report -> 08_report): its executed copy, page and timing leave the report."""
    (previous_report / "executed").mkdir()
    (previous_report / "html").mkdir()
    (previous_report / "executed" / "09_old.ipynb").write_text("{}")
    (previous_report / "html" / "09_old.html").write_text("<html></html>")
    (previous_report / "metrics" / "run_timings.json").write_text(
        json.dumps({"09_old.ipynb": {"seconds": 1.0, "profile": "smoke"}})
    )
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks / "10_next.ipynb", "pass")
    logs: list[str] = []
    publish.build(
        "smoke", notebooks_dir=notebooks, reports_dir=previous_report, only="10", pdf="skip", log=logs.append
    )
    assert not (previous_report / "executed" / "09_old.ipynb").exists()
    assert not (previous_report / "html" / "09_old.html").exists()
    timings = json.loads((previous_report / "metrics" / "run_timings.json").read_text())
    assert set(timings) == {"10_next.ipynb"}
    assert any("no longer exist: 09_old.ipynb" in line for line in logs)


def test_full_build_preserves_gpu_metrics(tmp_path, previous_report, monkeypatch):
    (previous_report / "metrics" / "gpu").mkdir()
    (previous_report / "metrics" / "gpu" / "dualhead.json").write_text('{"from": "gpu run"}')
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks / "09_x.ipynb", "pass")  # a number no real notebook has

    def fake_run(notebook, output, profile, kernel, progress=False):
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(nbformat.writes(nbformat.read(notebook, as_version=4)))
        return 0.1

    monkeypatch.setattr(builder, "run_notebook", fake_run)
    publish.build(
        "smoke", notebooks_dir=notebooks, reports_dir=previous_report, pdf="skip", log=lambda _: None
    )
    assert json.loads((previous_report / "metrics" / "gpu" / "dualhead.json").read_text()) == {
        "from": "gpu run"
    }
    assert not (previous_report / "metrics" / "data.json").exists()


def test_pdf_required_without_chromium_fails_before_running(tmp_path, previous_report, monkeypatch):
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks / "01_x.ipynb", "pass")
    monkeypatch.setattr(builder, "find_chromium", lambda: None)
    monkeypatch.setattr(builder, "run_notebook", lambda *a, **k: pytest.fail("must not run notebooks"))
    with pytest.raises(publish.BuildError, match="chromium not found"):
        publish.build("cpu", notebooks_dir=notebooks, reports_dir=previous_report, log=lambda _: None)


def test_a_model_that_cannot_load_stops_the_build_before_any_notebook(tmp_path, previous_report, monkeypatch):
    notebooks = tmp_path / "notebooks"
    make_notebook(notebooks / "01_x.ipynb", "pass")
    monkeypatch.setattr(builder, "run_notebook", lambda *a, **k: pytest.fail("must not run notebooks"))
    monkeypatch.setattr(builder, "check_models", lambda ids: [f"encoder model {ids['encoder']!r}: missing"])
    with pytest.raises(
        publish.BuildError, match=r"(?s)cannot load its models:\n  - encoder model 'bert-base-un"
    ):
        publish.build(
            "gpu", notebooks_dir=notebooks, reports_dir=previous_report, pdf="skip", log=lambda _: None
        )
    assert not list(previous_report.glob(".staging*"))  # nothing started
    monkeypatch.setattr(builder, "find_chromium", lambda: None)
    argv = ["--profile", "gpu", "--pdf", "skip", "--notebooks-dir", str(notebooks)]
    assert publish.main([*argv, "--reports-dir", str(previous_report)]) == 1  # the CLI exits non-zero


@pytest.mark.slow
@pytest.mark.skipif(publish.find_chromium() is None, reason="chromium not installed (scripts/setup_pdf.sh)")
def test_report_notebook_builds_html_and_pdf(tmp_path):
    """The real 08_report.ipynb over synthetic metrics: report.html (no code) and a PDF that opens."""
    import make_fake_metrics

    reports = tmp_path / "reports"
    make_fake_metrics.write(reports)
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    (notebooks / "08_report.ipynb").write_bytes((REPO_NOTEBOOKS / "08_report.ipynb").read_bytes())

    # --only 08: the staging folder starts from the current report, which holds the synthetic metrics
    result = publish.build(
        "smoke", notebooks_dir=notebooks, reports_dir=reports, only="8", pdf="require", log=lambda _: None
    )

    html = (reports / "report.html").read_text()
    assert "report.show_section" not in html, "report.html must hide code"
    for part in (
        "The answers",
        "What fell short",
        "Figure 1.",
        "1 Introduction",
        "Related work",
        "2 Data",
        "3 Method",
        "4 Results",
        "5 Discussion",
        "6 Limitations",
        "7 Conclusion",
        "8 How to reproduce",
        "Appendix",
        "claims, reproduced or not",
    ):
        assert part in html, part
    # the build itself refuses unresolved references and unprinted card cells; check that it ran them
    assert checks.unresolved_references(html) == []
    printed = checks.pdf_text_pages(result.report_pdf)
    if printed is not None:
        assert checks.missing_from_pdf(checks.card_cells(html), "\n".join(printed)) == []
        assert any("Intended use" in page for page in printed)
    for title in (
        "Data",
        "phase 1",
        "phase 2",
        "Functional tests",
        "DualHeadBERT",
        "Focal-loss grid",
        "benchmarks",
    ):
        assert title in html
    assert "Not run in this build" not in html
    assert html.count("data:image/png;base64") >= 6, "figures must be inlined"
    assert "<script src=" not in html, "no CDN script: the PDF is printed offline"
    assert result.report_pdf is not None and result.report_pdf.read_bytes()[:5] == b"%PDF-"
    pages = publish.pdf_pages(result.report_pdf)
    assert pages is None or pages >= 3
    assert json.loads((reports / "metrics" / "report.json").read_text())["sections"]["grid"] == "shown"


def test_printed_copy_drops_links_to_local_files():
    page = (
        '<a href="html/01_data.html">01</a> <a href="#top">top</a> <a href="https://example.org/x">web</a> '
        "<a class='k' href='report.html'>r</a>"
    )
    assert publish.printable_html(page) == (
        '<a>01</a> <a href="#top">top</a> <a href="https://example.org/x">web</a> <a class=\'k\'>r</a>'
    )


def test_published_notebook_keeps_no_widget_state_and_no_machine_path(tmp_path):
    """tqdm's widget state (about a megabyte per training notebook, stored twice in the published report)
    and papermill's absolute paths are dropped; every other output stays."""
    from hatespeech.publish.notebooks import WIDGET_VIEW, _tidy_executed

    executed = make_notebook(tmp_path / "01_x.ipynb", "print('kept')")
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["papermill"] = {"input_path": "/home/someone/01_x.ipynb", "output_path": "/tmp/s/01_x.ipynb"}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m": {}}}}
    cell = nb.cells[-1]
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "m"}, "text/plain": "HBox()"}),
        nbformat.v4.new_output("stream", name="stdout", text="kept\n"),
    ]
    nbformat.write(nb, executed)

    _tidy_executed(executed)

    tidy = nbformat.read(executed, as_version=4)
    assert "widgets" not in tidy.metadata
    assert tidy.metadata["papermill"] == {"input_path": "01_x.ipynb", "output_path": "01_x.ipynb"}
    assert [o.get("text") for o in tidy.cells[-1].outputs] == ["kept\n"]
