"""Checks on what a build publishes, run by :func:`hatespeech.publish.builder.build` before anything replaces
``reports/``: every reference of the report resolves, no page prints training logs, and the PDF holds every
cell of the prose tables (the model card, the method, the seed claims) and ends no page on a bare heading;
and the contract between the experiment notebooks and the report (:func:`check_metrics`): each notebook that
ran must have left its typed result (:mod:`hatespeech.results`) readable in the staging metrics folder.

Each check returns what is wrong (empty when nothing is); the builder decides whether that fails the build.
"""

from __future__ import annotations

import html as _html
import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from ..result_registry import BENCHMARK_RESULTS, NOTEBOOK_RESULTS, writer
from ..results import ResultShapeError

_ANCHOR_HREF = re.compile(r"""href=(["'])#([^"']+)\1""")
_ID = re.compile(r"""\bid=(["'])([^"']+)\1""")
_FIGURE_REF = re.compile(r"\bFigure ([a-z0-9]+-\d+|\d+)\b")
_FIGURE_CAPTION = re.compile(r"<figcaption>\s*Figure ([a-z0-9]+-\d+|\d+)\.")
_TAG = re.compile(r"<[^>]+>")
#: What a printed Trainer log looks like: a dict of its logged keys.
_TRAINER_LOG = re.compile(r"\{'(loss|train_runtime|train_loss|eval_loss|grad_norm|learning_rate)':")
_CARD_TABLE = re.compile(r"<table class=(['\"])hs-card\1>(.*?)</table>", re.DOTALL)
_CELL = re.compile(r"<t[dh][^>]*>(.*?)</t[dh]>", re.DOTALL)
_HEADING = re.compile(r"<h([1-4])[^>]*>(.*?)</h\1>", re.DOTALL)


def _text(fragment: str) -> str:
    return " ".join(_html.unescape(_TAG.sub(" ", fragment)).split())


def unresolved_references(report_html: str) -> list[str]:
    """Links to ``#anchor`` with no element of that id, and "Figure x-n" mentions with no figure captioned
    so."""
    ids = {m.group(2) for m in _ID.finditer(report_html)}
    problems = [f"link to #{m.group(2)}" for m in _ANCHOR_HREF.finditer(report_html) if m.group(2) not in ids]
    captions = {m.group(1) for m in _FIGURE_CAPTION.finditer(report_html)}
    text = _text(report_html)
    problems += [
        f"Figure {ref}" for ref in sorted({m.group(1) for m in _FIGURE_REF.finditer(text)} - captions)
    ]
    return list(dict.fromkeys(problems))


def training_log_lines(page_html: str) -> list[str]:
    """Printed Trainer log dicts in a published page (the first 80 characters of each)."""
    text = _html.unescape(page_html)
    return [text[m.start() : m.start() + 80] for m in _TRAINER_LOG.finditer(text)]


def card_cells(report_html: str) -> list[str]:
    """The text of every cell of the report's prose tables (``table.hs-card``)."""
    cells = []
    for table in _CARD_TABLE.finditer(report_html):
        cells += [t for t in (_text(c) for c in _CELL.findall(table.group(2))) if t]
    return cells


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def missing_from_pdf(cells: list[str], pdf_text: str) -> list[str]:
    """The cells whose text the PDF does not hold (compared without white space, which wrapping moves)."""
    printed = _squeezed(pdf_text)
    return [cell for cell in cells if _squeezed(cell) not in printed]


def orphaned_headings(report_html: str, pages: list[str]) -> list[str]:
    """Headings that are the last text of a page (their section starts on the next one)."""
    headings = {_text(m.group(2)) for m in _HEADING.finditer(report_html)} - {""}
    orphans = []
    for number, page in enumerate(pages[:-1], 1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        if lines and lines[-1] in headings:
            orphans.append(f"page {number}: {lines[-1]}")
    return orphans


def pdf_text_pages(pdf: Path) -> list[str] | None:
    """The PDF's text, page by page (``pdftotext`` from poppler-utils); None when it is not installed."""
    if not shutil.which("pdftotext"):
        return None
    done = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=False)
    return done.stdout.split("\f") if done.returncode == 0 else None


def pdf_problems(report_html: str, pdf: Path) -> tuple[list[str], str]:
    """(what is wrong with the printed report, a note): model-card and method cells missing from the PDF
    and headings left at a page foot; the note says when the PDF could not be read."""
    pages = pdf_text_pages(pdf)
    if pages is None:
        return [], "PDF text not checked (pdftotext from poppler-utils not installed)"
    missing = missing_from_pdf(card_cells(report_html), "\n".join(pages))
    problems = [f"cell not printed: {cell[:60]}" for cell in missing]
    problems += [f"heading at a page foot, {orphan}" for orphan in orphaned_headings(report_html, pages)]
    return problems, f"PDF text checked: {len(pages) - 1} pages"


# ============================================================================ the metrics contract
REPORT_METRICS = "report.json"  # written by the report notebook: {"sections": {key: status}, "stamp": ...}


def check_metrics(metrics_dir: Path, ran: Iterable[str], report_ran: bool = False) -> list[str]:
    """Problems with the typed results a build left in ``metrics_dir``.

    ``ran``: numbers of the notebooks executed in this build; each one's result must read back
    (:meth:`Result.read`) with every field; ``report_ran``: the report notebook ran (``report.json``).
    """
    ran = set(ran)
    reports = Path(metrics_dir).parent
    problems = []
    for result in (*NOTEBOOK_RESULTS, *BENCHMARK_RESULTS):
        required = result in NOTEBOOK_RESULTS and writer(result) in ran
        optional_present = result in BENCHMARK_RESULTS and (Path(metrics_dir) / result.FILE).exists()
        if not (required or optional_present):  # earlier builds' results were checked when they were made
            continue
        try:
            if result.read(reports) is None:
                problems.append(f"{result.FILE} holds no {result.__name__} (written by {result.NOTEBOOK})")
        except ResultShapeError as error:
            problems.append(str(error))
    if report_ran:
        path = Path(metrics_dir) / REPORT_METRICS
        try:
            body = json.loads(path.read_text())
            if not isinstance(body, dict) or "sections" not in body:
                problems.append(f"{REPORT_METRICS} lacks 'sections'")
        except (OSError, ValueError) as error:
            problems.append(f"{REPORT_METRICS} missing or unreadable: {error}")
    return problems
