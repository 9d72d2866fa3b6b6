"""The report: ``notebooks/08_report.ipynb`` assembled from what notebooks 01-07 (and the benchmarks) wrote.

One :class:`Section` per experiment: the typed result it renders (:mod:`hatespeech.results`) and its figure
prefixes (:data:`FIGURE_PREFIXES`). :func:`section_html` renders a source line, the result's findings and key
tables, its figures inlined as base64, and every other field of the result as generic tables. A section whose
result is absent says "not run in this build". Publishing (papermill, HTML, PDF) lives in
:mod:`hatespeech.publish`.

Modules: :mod:`.sections` (which result feeds each section), :mod:`.tables` (any JSON value as page-sized
tables), :mod:`.html` (the HTML and ``show*``). The stamp and the metrics files themselves are
:mod:`hatespeech.stamp`'s; they are re-exported here because notebooks and benchmarks call
``report.write_metrics`` / ``report.caption``.
"""

from __future__ import annotations

from ..names import display_name, readable, terms_html
from ..result_registry import read_results
from ..stamp import (
    caption,
    cpu_model,
    data_checksums,
    hardware,
    json_default,
    read_metrics,
    stamp,
    versions,
    write_metrics,
)
from .claims import SeedClaim, method_html, seed_claims, seed_claims_html
from .headline import conclusion, forest_figure, headline_comparisons, shortfalls
from .html import (
    appendix_html,
    figure_html,
    notebooks_html,
    other_metrics_html,
    section_html,
    show,
    show_section,
    stamp_html,
    title_html,
)
from .page_one import conclusion_html, page_one_html
from .sections import FIGURE_PREFIXES, SECTIONS, Section, read_result, section_figures, section_status
from .study import (
    answers,
    answers_html,
    limitations_html,
    model_card_html,
    reproduce_html,
)
from .tables import fit_table, payload_tables, table_html

__all__ = [
    "FIGURE_PREFIXES",
    "SECTIONS",
    "Section",
    "SeedClaim",
    "answers",
    "answers_html",
    "appendix_html",
    "caption",
    "conclusion",
    "conclusion_html",
    "cpu_model",
    "data_checksums",
    "display_name",
    "figure_html",
    "fit_table",
    "forest_figure",
    "hardware",
    "headline_comparisons",
    "json_default",
    "limitations_html",
    "method_html",
    "model_card_html",
    "notebooks_html",
    "other_metrics_html",
    "page_one_html",
    "payload_tables",
    "read_metrics",
    "read_result",
    "read_results",
    "readable",
    "reproduce_html",
    "section_figures",
    "section_html",
    "section_status",
    "seed_claims",
    "seed_claims_html",
    "shortfalls",
    "show",
    "show_section",
    "stamp",
    "stamp_html",
    "table_html",
    "terms_html",
    "title_html",
    "versions",
    "write_metrics",
]
