"""Build and publish the report: run the notebooks with papermill into a staging folder, export HTML and PDF,
then swap the staging folder into ``reports/`` -- only when every step succeeded.

``./run_all.sh`` is a thin wrapper around ``python -m hatespeech.publish``::

    python -m hatespeech.publish [--profile smoke|cpu|gpu] [--only 01,03] [--from 02] [--no-report]
                                 [--pdf auto|require|skip] [--no-check] [--notebooks-dir DIR]
                                 [--reports-dir DIR]

Why hand-written: papermill executes one notebook and nbconvert exports one; the ordering, the stop at the
first failure, the staging folder and the swap (a failed or interrupted run must leave the previous report
whole) are this project's own rules, and no library does them.

Layout of a published report::

    reports/report.html, report.pdf      from the last notebook NN_report.ipynb (code hidden)
    reports/html/NN_*.html               one page per executed notebook (with code), but the report
                                         notebook, whose page is report.html
    reports/executed/NN_*.ipynb          the executed notebooks, outputs included
    reports/figures/*.png, metrics/*.json
    reports/metrics/run_timings.json     wall time per notebook (read by hatespeech.stamp.stamp)

A failed run keeps its staging folder as ``reports/.staging-failed/`` (git-ignored) for inspection.

Modules, in the order a build uses them: :mod:`.notebooks` (which notebooks, papermill on one, the build's
errors), :mod:`.staging` (lock, staging folder, swap, timings), :mod:`.checks` (the metrics JSON each notebook
must leave, the report's references, the PDF), :mod:`.export` (HTML pages, PDF), :mod:`.builder` (the build in
order, one step per function), :mod:`.cli` (``python -m hatespeech.publish``). The names below are the
package's API.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "..result_registry": (
            "BENCHMARK_RESULTS",
            "NOTEBOOK_RESULTS",
        ),
        ".builder": (
            "REPORT_SIZE_BUDGET_MB",
            "BuildResult",
            "NotebookRun",
            "build",
        ),
        ".cli": (
            "main",
            "parse_args",
        ),
        ".checks": ("check_metrics",),
        ".export": (
            "CHROMIUM_CANDIDATES",
            "CHROMIUM_ENV",
            "REPORT_CSS",
            "export_html",
            "find_chromium",
            "html_to_pdf",
            "pdf_pages",
            "printable_html",
        ),
        ".notebooks": (
            "NOTEBOOK_NAME",
            "NOTEBOOKS_DIR",
            "REPORT_NOTEBOOK_SUFFIX",
            "BuildError",
            "NotebookFailed",
            "discover_notebooks",
            "notebook_number",
            "pick_kernel",
            "report_notebook",
            "run_notebook",
            "select_notebooks",
        ),
        ".staging": (
            "FAILED_DIR_NAME",
            "LOCK_DIR_NAME",
            "PRESERVED_PATHS",
            "STAGING_PREFIX",
            "TIMINGS_FILE",
            "folder_size_mb",
            "swap_in",
        ),
    },
)
