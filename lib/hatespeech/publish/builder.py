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
from .checks import check_metrics, pdf_problems, training_log_lines, unresolved_references
from .export import CHROMIUM_ENV, export_html, find_chromium, html_to_pdf, pdf_pages
from .notebooks import (
    NOTEBOOKS_DIR,
    BuildError,
    NotebookFailed,
    discover_notebooks,
    notebook_number,
    pick_kernel,
    report_notebook,
    run_notebook,
    select_notebooks,
)
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


@dataclasses.dataclass
class _Plan:
    """What one build will do, settled before any notebook runs (:func:`_plan`)."""

    profile: str
    notebooks_dir: Path
    reports_dir: Path
    notebooks: list[Path]  # every notebook of the folder
    chosen: list[Path]  # the ones this build runs, in order
    partial: bool  # --only / --from: the rest of the current report is kept
    kernel: str
    pdf: str
    chromium: str | None


def _plan(profile, notebooks_dir, reports_dir, only, start, include_report, pdf) -> _Plan:
    """Check what can be checked up front (profile, notebooks, chromium, models), so a build fails before
    hours of training, not after."""
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
    kernel = pick_kernel()
    chromium = find_chromium() if pdf != "skip" else None
    if pdf_required and chromium is None:
        raise BuildError(
            "cannot make report.pdf: chromium not found (run scripts/setup_pdf.sh, i.e. "
            f"apt-get install chromium, or set {CHROMIUM_ENV}); or pass --pdf skip"
        )

    problems = check_models(dataclasses.asdict(get_profile(profile).models))
    if problems:  # one line per model
        overrides = " / ".join(MODEL_OVERRIDE_ENV.values())
        raise BuildError(
            f"profile {profile!r} cannot load its models:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nPoint {overrides} at local model folders (see README, Models), or use profile 'full' "
            "(the gpu scale on the offline models)."
        )
    return _Plan(
        profile, notebooks_dir, reports_dir, notebooks, chosen, bool(only or start), kernel, pdf, chromium
    )


def _open_staging(plan: _Plan, log: Callable[[str], None]) -> Path:
    """A fresh staging folder (a partial build starts from the current report, less removed notebooks)."""
    clean_stale_staging(plan.reports_dir)
    staging = new_staging(plan.reports_dir, copy_previous=plan.partial)
    log(
        f"report build: profile {plan.profile}, {len(plan.chosen)} notebook(s) from {plan.notebooks_dir}, "
        f"kernel {plan.kernel} ({sys.executable})"
    )
    log(f"staging folder {staging}" + (" (started from the current report)" if plan.partial else ""))
    if plan.partial:
        dropped = prune_removed_notebooks(staging, {p.name for p in plan.notebooks})
        if dropped:
            log(f"dropped the outputs of notebooks that no longer exist: {', '.join(dropped)}")
        others = other_profiles(staging, plan.profile, {p.name for p in plan.chosen})
        if others:
            log(
                f"WARNING: the current report keeps results of profile(s) {', '.join(others)} "
                "from notebooks not re-run now; the report marks each section's profile"
            )
    return staging


def _run_notebooks(
    plan: _Plan, staging: Path, progress: bool, log: Callable[[str], None]
) -> list[NotebookRun]:
    runs: list[NotebookRun] = []
    with _env(**{paths.REPORTS_DIR_ENV: str(staging)}):
        for i, notebook in enumerate(plan.chosen, 1):
            log(f"[{i}/{len(plan.chosen)}] {notebook.name} (profile {plan.profile}) ...")
            seconds = run_notebook(
                notebook, staging / "executed" / notebook.name, plan.profile, plan.kernel, progress
            )
            runs.append(NotebookRun(notebook.name, seconds))
            record_timing(staging, notebook, seconds, plan.profile)
            log(f"[{i}/{len(plan.chosen)}] {notebook.name} done in {_fmt_seconds(seconds)}")
    return runs


def _check_results(plan: _Plan, staging: Path, check: bool, log: Callable[[str], None]) -> list[str]:
    """Every notebook that ran left its typed result (:func:`check_metrics`); fails the build unless
    ``check`` is off."""
    problems = check_metrics(
        staging / "metrics",
        [notebook_number(p) for p in plan.chosen],
        report_ran=report_notebook(plan.chosen) is not None,
    )
    for problem in problems:
        log(f"metrics check: {problem}")
    if problems and check:
        raise BuildError("metrics check failed (see above); pass --no-check to publish anyway")
    return problems


def _export_pages(plan: _Plan, staging: Path) -> tuple[list[Path], Path | None]:
    """HTML of every notebook that ran (code shown) and report.html (code hidden; no second copy)."""
    report = report_notebook(plan.chosen)
    html_pages = [
        export_html(staging / "executed" / nb.name, staging / "html" / f"{nb.stem}.html", hide_code=False)
        for nb in plan.chosen
        if nb != report
    ]
    report_html = None
    if report is not None:
        report_html = export_html(staging / "executed" / report.name, staging / "report.html", hide_code=True)
        _check_pages(report_html, html_pages)
    return html_pages, report_html


def _print_pdf(
    plan: _Plan, staging: Path, report_html: Path, log: Callable[[str], None]
) -> tuple[Path | None, str]:
    """report.pdf from report.html, checked to print the report whole: (the PDF or None, a note)."""
    report_pdf, note = None, ""
    if plan.pdf == "skip":
        note = "PDF skipped (--pdf skip)"
    elif plan.chromium is None:
        note = (
            "WARNING: report.pdf NOT made: chromium not found (scripts/setup_pdf.sh installs it)"
            f"; allowed for profile {plan.profile}"
        )
    else:
        started = time.perf_counter()
        report_pdf = html_to_pdf(report_html, staging / "report.pdf", plan.chromium)
        pages = pdf_pages(report_pdf)
        printed, checked = pdf_problems(report_html.read_text(encoding="utf-8"), report_pdf)
        log(checked)
        if printed:
            raise BuildError("the PDF does not print the report whole:\n  " + "\n  ".join(printed))
        note = (
            f"report.pdf: {pages if pages is not None else '?'} pages, "
            f"printed in {_fmt_seconds(time.perf_counter() - started)}"
        )
        if pages is not None and pages > PDF_PAGE_BUDGET:
            note += f"\nWARNING: report.pdf is over its budget of {PDF_PAGE_BUDGET} pages"
    if report_pdf is None:
        (staging / "report.pdf").unlink(missing_ok=True)  # never keep a PDF of an older report
    return report_pdf, note


def _failed(error: BaseException, staging: Path, reports_dir: Path) -> BaseException:
    """The error to raise after a failed build: the staging folder is kept for inspection and the message
    says where (and that the previous report was left as it was)."""
    failed = keep_failed(staging, reports_dir)
    if isinstance(error, NotebookFailed):
        kept = failed / error.executed.relative_to(staging) if error.executed is not None else None
        where = f"executed notebook kept for inspection: {kept}" if kept else f"staging folder: {failed}"
        return NotebookFailed(
            error.notebook,
            f"{error}\n{where}\nthe previous report in {reports_dir} was left as it was",
            kept,
            error.cell_index,
            error.cell_first_line,
            error.error,
        )
    if isinstance(error, BuildError):
        return BuildError(
            f"{error}\nstaging folder kept for inspection: {failed}\n"
            f"the previous report in {reports_dir} was left as it was"
        )
    return error


def _log_summary(result: BuildResult, log: Callable[[str], None]) -> None:
    log(f"published to {result.reports_dir} ({result.size_mb:.1f} MB)")
    for run in result.runs:
        log(f"  {run.name:<28} {_fmt_seconds(run.seconds):>9}")
    log(f"  {'total':<28} {_fmt_seconds(sum(r.seconds for r in result.runs)):>9}")
    if result.size_mb > REPORT_SIZE_BUDGET_MB:
        log(
            f"WARNING: the report is {result.size_mb:.1f} MB, "
            f"over the {REPORT_SIZE_BUDGET_MB:.0f} MB budget for reports/"
        )


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
    plan = _plan(profile, notebooks_dir, reports_dir, only, start, include_report, pdf)
    with build_lock(plan.reports_dir):
        staging = _open_staging(plan, log)
        try:
            runs = _run_notebooks(plan, staging, progress, log)
            problems = _check_results(plan, staging, check, log)
            html_pages, report_html = _export_pages(plan, staging)
            report_pdf = None
            if report_html is None:
                pdf_note = "no report notebook (NN_report.ipynb) ran: report.html and report.pdf not rebuilt"
            else:
                log(f"exported {len(html_pages)} notebook page(s) and report.html")
                report_pdf, pdf_note = _print_pdf(plan, staging, report_html, log)
            log(pdf_note)
        except BaseException as error:  # any failure, Ctrl-C too, keeps the staging folder for inspection
            told = _failed(error, staging, plan.reports_dir)
            if told is error:
                raise
            raise told from None
        swap_in(staging, plan.reports_dir)
        discard_failed(plan.reports_dir)

    reports = plan.reports_dir
    result = BuildResult(
        profile=profile,
        reports_dir=reports,
        runs=runs,
        html=[reports / "html" / p.name for p in html_pages],
        report_html=reports / "report.html" if report_html else None,
        report_pdf=reports / "report.pdf" if report_pdf else None,
        pdf_note=pdf_note,
        metrics_problems=problems,
        size_mb=folder_size_mb(reports),
    )
    _log_summary(result, log)
    return result
