"""CI check of the whole report build: every notebook in notebooks/ runs with profile smoke through the
same orchestrator as ./run_all.sh, into a temporary reports folder (the repo's reports/ is not touched),
and each notebook's typed result reads back from its metrics JSON (hatespeech.publish.check_metrics).

Every expected notebook must be there: a missing one fails this test (it would otherwise pass on a build
that never ran it), and so does a present one that fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from hatespeech import paths, publish

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED_NOTEBOOKS = ("01", "02", "03", "04", "05", "06", "07", "08")


@pytest.mark.slow
@pytest.mark.data
def test_smoke_build_runs_every_notebook_and_writes_expected_metrics(tmp_path):
    if not (paths.data_dir() / "stormfront_degibert2018").exists():
        pytest.skip(
            f"the corpora are not in {paths.data_dir()} (set HATESPEECH_DATA_DIR): the build reads them"
        )
    present = publish.discover_notebooks(NOTEBOOKS)
    numbers = [publish.notebook_number(p) for p in present]
    missing = [n for n in EXPECTED_NOTEBOOKS if n not in numbers]
    assert not missing, f"notebooks missing from notebooks/: {', '.join(missing)}"
    reports = tmp_path / "reports"
    log: list[str] = []

    try:
        result = publish.build(
            "smoke", notebooks_dir=NOTEBOOKS, reports_dir=reports, pdf="auto", log=log.append
        )
    except publish.BuildError as error:
        pytest.fail(f"smoke build failed:\n{error}\n--- log ---\n" + "\n".join(log))

    assert [r.name for r in result.runs] == [p.name for p in present]
    for notebook in present:
        executed = nbformat.read(reports / "executed" / notebook.name, as_version=4)
        code_cells = [c for c in executed.cells if c.cell_type == "code"]
        assert code_cells and all(c.get("execution_count") for c in code_cells), (
            f"{notebook.name} not fully executed"
        )
        assert not any(o.get("output_type") == "error" for c in code_cells for o in c.get("outputs", []))
        page = reports / (
            "report.html" if notebook == publish.report_notebook(present) else f"html/{notebook.stem}.html"
        )
        assert page.exists(), page
    assert publish.check_metrics(reports / "metrics", ran=numbers, report_ran=True) == []
    for result in (*publish.NOTEBOOK_RESULTS, *publish.BENCHMARK_RESULTS):
        path = reports / "metrics" / result.FILE
        if path.exists():
            assert json.loads(path.read_text())["stamp"]["profile"] == "smoke", result.FILE
    # No machine path in anything published: the repo (and the artifacts and venv inside it), the data dir
    # and the temporary reports folder must not appear in the pages, the executed notebooks or the metrics.
    machine = {str(paths.REPO_ROOT), str(paths.data_dir()), str(tmp_path)}
    published = [
        *reports.glob("*.html"),
        *reports.glob("html/*.html"),
        *reports.glob("executed/*.ipynb"),
        *reports.glob("metrics/*.json"),
    ]
    leaks = {f"{p.relative_to(reports)}: {m}" for p in published for m in machine if m in p.read_text()}
    pdf = reports / "report.pdf"
    if pdf.exists():  # link targets stand in the PDF as plain text
        leaks |= {f"report.pdf: {m}" for m in machine if m.encode() in pdf.read_bytes()}
    assert not leaks, f"machine paths in the published report: {sorted(leaks)}"
    # Every classifier of the study reaches HateCheck, the seed's single-task toxicity model included.
    functional = json.loads((reports / "metrics" / "functional.json").read_text())
    kinds = {(info["kind"], info["variant"]) for info in functional["systems"].values()}
    assert {("dualhead", "joint"), ("dualhead", "separate_n")} <= kinds
    timings = json.loads((reports / "metrics" / "run_timings.json").read_text())
    assert set(timings) == {p.name for p in present}
    if publish.report_notebook(present) is not None:
        assert (reports / "report.html").stat().st_size > 0
        if publish.find_chromium() is not None:
            assert (reports / "report.pdf").read_bytes()[:5] == b"%PDF-"
