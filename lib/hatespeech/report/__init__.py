"""The report: ``notebooks/06_report.ipynb`` assembled from what notebooks 01-05 (and the benchmarks) wrote.

One :class:`Section` per experiment (its metrics file, the keys shown, its figure prefixes in
:data:`FIGURE_PREFIXES`), rendered by :func:`section_html` as a source line, a short summary, tables
(:func:`report_tables`) and figures inlined as base64. A section whose metrics are absent says "not run in
this build". Publishing (papermill, HTML, PDF) lives in :mod:`hatespeech.publish`.

Modules: :mod:`.sections` (what each section reads), :mod:`.tables` (metrics JSON as page-sized tables),
:mod:`.curated` (each section's key tables), :mod:`.summaries` (each section's sentences and verdicts),
:mod:`.html` (the HTML and ``show*``). The stamp and the metrics files themselves are
:mod:`hatespeech.stamp`'s; they are re-exported here because notebooks and benchmarks call
``report.write_metrics`` / ``report.caption``.
"""

from __future__ import annotations

from ..references import PUBLISHED_BIAS
from ..stamp import (
    _json_default,
    caption,
    cpu_model,
    data_checksums,
    hardware,
    read_metrics,
    stamp,
    versions,
    write_metrics,
)
from .curated import grid_tables, report_tables
from .html import (
    figure_html,
    notebooks_html,
    other_metrics_html,
    section_html,
    show,
    show_section,
    stamp_html,
    title_html,
)
from .sections import FIGURE_PREFIXES, SECTIONS, Section, section_figures, section_status
from .tables import fit_table, payload_tables, table_html

__all__ = [
    "FIGURE_PREFIXES",
    "PUBLISHED_BIAS",
    "SECTIONS",
    "Section",
    "_json_default",
    "caption",
    "cpu_model",
    "data_checksums",
    "figure_html",
    "fit_table",
    "grid_tables",
    "hardware",
    "notebooks_html",
    "other_metrics_html",
    "payload_tables",
    "read_metrics",
    "report_tables",
    "section_figures",
    "section_html",
    "section_status",
    "show",
    "show_section",
    "stamp",
    "stamp_html",
    "table_html",
    "title_html",
    "versions",
    "write_metrics",
]
