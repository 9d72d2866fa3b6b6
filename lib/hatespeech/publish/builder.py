"""The build: run the chosen notebooks in order into a staging folder, check the metrics, export the pages and
the PDF, and swap the result into the reports folder; any failure leaves the previous report as it was."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .. import paths
from ..config import MODEL_OVERRIDE_ENV, PROFILES, get_profile
from ..models.backbones import check_models
from .checks import pdf_problems, training_log_lines, unresolved_references
from .contract import check_metrics
from .errors import BuildError, NotebookFailed
from .execute import pick_kernel, run_notebook
from .export import CHROMIUM_ENV, export_html, find_chromium, html_to_pdf, pdf_pages
from .selection import NOTEBOOKS_DIR, discover_notebooks, notebook_number, report_notebook, select_notebooks
from .staging import (
    build_lock,
    clean_stale_staging,
    discard_failed,
    folder_size_mb,
    keep_failed,
    new_staging,
    other_profiles,
    prune_removed_notebooks,
    record_timing,
    swap_in,
)

REPORT_SIZE_BUDGET_MB = 20.0
PDF_PAGE_BUDGET = 35  # the printed report's length a reader is asked to take (issue 28)


@dataclasses.dataclass
class NotebookRun:
    name: str
    seconds: float


@dataclasses.dataclass
class BuildResult:
    profile: str
    reports_dir: Path
    runs: list[NotebookRun]
    html: list[Path]
    report_html: Path | None
    report_pdf: Path | None
    pdf_note: str
    metrics_problems: list[str]
    size_mb: float


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    """Set environment variables for the block (the notebooks' kernels inherit them), then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _fmt_seconds(seconds: float) -> str:
    minutes, sec = divmod(round(seconds), 60)
    return f"{minutes}m{sec:02d}s" if minutes else f"{seconds:.1f}s"


def _check_pages(report_html: Path, pages: list[Path]) -> None:
    """Fail the build when a reference of the report does not resolve or a page prints Trainer logs."""
    problems = [f"report.html: unresolved {ref}" for ref in unresolved_references(report_html.read_text())]
    for page in [report_html, *pages]:
        problems += [f"{page.name}: training log {line!r}" for line in training_log_lines(page.read_text())]
    if problems:
        raise BuildError("published pages fail their checks:\n  " + "\n  ".join(problems[:20]))


def build(
    profile: str,
    notebooks_dir: Path | str = NOTEBOOKS_DIR,
    reports_dir: Path | str | None = None,
    only=None,
    start=None,
    include_report: bool = True,
    pdf: str = "auto",
    check: bool = True,
    progress: bool = False,
    log: Callable[[str], None] = print,
) -> BuildResult:
    """Run the notebooks into a staging folder and publish it to ``reports_dir`` when all went well.

    ``pdf``: ``require`` (fail when no PDF can be made), ``skip``, or ``auto`` = require unless the profile
    is ``smoke``. ``check``: fail when a notebook that ran left its metrics JSON without the expected keys.
    Raises :class:`BuildError` (or :class:`NotebookFailed`) and leaves ``reports_dir`` as it was.
    """
    if profile not in PROFILES:
        raise BuildError(f"unknown profile {profile!r}; choose one of {sorted(PROFILES)}")
    if pdf not in ("auto", "require", "skip"):
        raise BuildError(f"--pdf must be auto, require or skip, not {pdf!r}")
    pdf_required = pdf == "require" or (pdf == "auto" and profile != "smoke")
    notebooks_dir = Path(notebooks_dir).resolve()
    reports_dir = Path(
        reports_dir or os.environ.get(paths.REPORTS_DIR_ENV) or paths.REPO_ROOT / "reports"
    ).resolve()
    reports_dir.mkdir(parents=True, exist_ok=True)

    notebooks = discover_notebooks(notebooks_dir)
    if not notebooks:
        raise BuildError(f"no notebooks NN_*.ipynb in {notebooks_dir}")
    chosen = select_notebooks(notebooks, only=only, start=start, include_report=include_report)
    partial = bool(only or start)
    kernel = pick_kernel()
    chromium = find_chromium() if pdf != "skip" else None
    if pdf_required and chromium is None:  # fail before hours of training, not after
        raise BuildError(
            "cannot make report.pdf: chromium not found (run scripts/setup_pdf.sh, i.e. "
            f"apt-get install chromium, or set {CHROMIUM_ENV}); or pass --pdf skip"
        )

    problems = check_models(dataclasses.asdict(get_profile(profile).models))
    if problems:  # fail before any notebook runs, one line per model
        overrides = " / ".join(MODEL_OVERRIDE_ENV.values())
        raise BuildError(
            f"profile {profile!r} cannot load its models:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nPoint {overrides} at local model folders (see README, Models), or use profile 'full' "
            "(the gpu scale on the offline models)."
        )

    with build_lock(reports_dir):
        clean_stale_staging(reports_dir)
        staging = new_staging(reports_dir, copy_previous=partial)
        log(
            f"report build: profile {profile}, {len(chosen)} notebook(s) from {notebooks_dir}, "
            f"kernel {kernel} ({sys.executable})"
        )
        log(f"staging folder {staging}" + (" (started from the current report)" if partial else ""))
        if partial:
            dropped = prune_removed_notebooks(staging, {p.name for p in notebooks})
            if dropped:
                log(f"dropped the outputs of notebooks that no longer exist: {', '.join(dropped)}")
            others = other_profiles(staging, profile, {p.name for p in chosen})
            if others:
                log(
                    f"WARNING: the current report keeps results of profile(s) {', '.join(others)} "
                    "from notebooks not re-run now; the report marks each section's profile"
                )
        runs: list[NotebookRun] = []
        try:
            with _env(**{paths.REPORTS_DIR_ENV: str(staging)}):
                for i, notebook in enumerate(chosen, 1):
                    log(f"[{i}/{len(chosen)}] {notebook.name} (profile {profile}) ...")
                    seconds = run_notebook(
                        notebook, staging / "executed" / notebook.name, profile, kernel, progress
                    )
                    runs.append(NotebookRun(notebook.name, seconds))
                    record_timing(staging, notebook, seconds, profile)
                    log(f"[{i}/{len(chosen)}] {notebook.name} done in {_fmt_seconds(seconds)}")

            problems = check_metrics(
                staging / "metrics",
                [notebook_number(p) for p in chosen],
                report_ran=report_notebook(chosen) is not None,
            )
            for problem in problems:
                log(f"metrics check: {problem}")
            if problems and check:
                raise BuildError("metrics check failed (see above); pass --no-check to publish anyway")

            html_pages = []
            report = report_notebook(chosen)
            for notebook in chosen:
                if notebook == report:  # its page is report.html (code hidden); no second copy of it
                    continue
                executed = staging / "executed" / notebook.name
                html_pages.append(
                    export_html(executed, staging / "html" / f"{notebook.stem}.html", hide_code=False)
                )
            report_html = report_pdf = None
            pdf_note = ""
            if report is not None:
                report_html = export_html(
                    staging / "executed" / report.name, staging / "report.html", hide_code=True
                )
                log(f"exported {len(html_pages)} notebook page(s) and report.html")
                _check_pages(report_html, html_pages)
                if pdf == "skip":
                    pdf_note = "PDF skipped (--pdf skip)"
                elif chromium is None:
                    pdf_note = (
                        "WARNING: report.pdf NOT made: chromium not found (scripts/setup_pdf.sh installs it)"
                        f"; allowed for profile {profile}"
                    )
                else:
                    started = time.perf_counter()
                    report_pdf = html_to_pdf(report_html, staging / "report.pdf", chromium)
                    pages = pdf_pages(report_pdf)
                    printed, checked = pdf_problems(report_html.read_text(encoding="utf-8"), report_pdf)
                    log(checked)
                    if printed:
                        raise BuildError(
                            "the PDF does not print the report whole:\n  " + "\n  ".join(printed)
                        )
                    pdf_note = (
                        f"report.pdf: {pages if pages is not None else '?'} pages, "
                        f"printed in {_fmt_seconds(time.perf_counter() - started)}"
                    )
                    if pages is not None and pages > PDF_PAGE_BUDGET:
                        pdf_note += f"\nWARNING: report.pdf is over its budget of {PDF_PAGE_BUDGET} pages"
                if report_pdf is None:
                    (staging / "report.pdf").unlink(missing_ok=True)  # never keep a PDF of an older report
            else:
                pdf_note = "no report notebook (NN_report.ipynb) ran: report.html and report.pdf not rebuilt"
            log(pdf_note)
        except BaseException as error:
            failed = keep_failed(staging, reports_dir)
            if isinstance(error, NotebookFailed):
                kept = failed / error.executed.relative_to(staging) if error.executed is not None else None
                where = (
                    f"executed notebook kept for inspection: {kept}" if kept else f"staging folder: {failed}"
                )
                raise NotebookFailed(
                    error.notebook,
                    f"{error}\n{where}\nthe previous report in {reports_dir} was left as it was",
                    kept,
                    error.cell_index,
                    error.cell_first_line,
                    error.error,
                ) from None
            if isinstance(error, BuildError):
                raise BuildError(
                    f"{error}\nstaging folder kept for inspection: {failed}\n"
                    f"the previous report in {reports_dir} was left as it was"
                ) from None
            raise

        swap_in(staging, reports_dir)
        discard_failed(reports_dir)

    size = folder_size_mb(reports_dir)
    result = BuildResult(
        profile=profile,
        reports_dir=reports_dir,
        runs=runs,
        html=[reports_dir / "html" / p.name for p in html_pages],
        report_html=reports_dir / "report.html" if report_html else None,
        report_pdf=reports_dir / "report.pdf" if report_pdf else None,
        pdf_note=pdf_note,
        metrics_problems=problems,
        size_mb=size,
    )
    log(f"published to {reports_dir} ({size:.1f} MB)")
    for run in runs:
        log(f"  {run.name:<28} {_fmt_seconds(run.seconds):>9}")
    log(f"  {'total':<28} {_fmt_seconds(sum(r.seconds for r in runs)):>9}")
    if size > REPORT_SIZE_BUDGET_MB:
        log(
            f"WARNING: the report is {size:.1f} MB, "
            f"over the {REPORT_SIZE_BUDGET_MB:.0f} MB budget for reports/"
        )
    return result
