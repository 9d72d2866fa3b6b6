"""The report's HTML: the stamp table, the title line, each section (source line, summary, tables,
figures inlined as base64), the metrics no section knows, the notebooks appendix, and ``show*`` for the
report notebook (``notebooks/08_report.ipynb``), which stays thin: it calls these functions.

A section whose metrics are absent says "not run in this build", so the report builds while experiments
are missing. Publishing (papermill, HTML, PDF) lives in :mod:`hatespeech.publish`.
"""

from __future__ import annotations

import base64 as _base64
import hashlib
import html as _html
import io
import json
from pathlib import Path
from typing import Any

from .. import paths
from ..names import readable
from ..results import Result, ResultShapeError, metrics_folder
from .sections import (
    FIGURE_NOTES,
    KNOWN_METRICS,
    SECTIONS,
    Section,
    get_section,
    read_result,
    section_figures,
)
from .tables import payload_tables, show_separators, table_html


def figure_html(path: Path, caption_text: str | None = None) -> str:
    """<figure> with the PNG inlined as base64 (the HTML and its PDF need no other file), as wide as the
    figure was made (the dpi its PNG records, :func:`hatespeech.plots.save_figure`), or the page if less."""
    raw = Path(path).read_bytes()
    data = _base64.b64encode(raw).decode("ascii")
    cap = _html.escape(caption_text or Path(path).name)
    return (
        f"<figure class='hs-figure'><img src='data:image/png;base64,{data}' alt='{cap}' "
        f"style='{_natural_width(raw)}max-width:100%;height:auto'/><figcaption>{cap}</figcaption></figure>"
    )


def _natural_width(png: bytes) -> str:
    """CSS width of a PNG at the dpi it records, narrowed so that its height fits the printed page's frame
    (a max-height alone would squash it); "" when it records none (the browser's 96 px/in)."""
    from PIL import Image  # inside: only figures need it

    from ..plots import PRINT_HEIGHT_IN

    with Image.open(io.BytesIO(png)) as image:
        dpi = image.info.get("dpi")
        width, height = image.size
    if not dpi or float(dpi[0]) <= 1:
        return ""
    return f"width:{min(width / float(dpi[0]), PRINT_HEIGHT_IN * width / height):.2f}in;"


# -------------------------------------------------------------------------------------------- stamp
def _short(commit: str | None) -> str:
    return commit[:10] if commit else "unknown (not a git checkout)"


def _seconds(value: float) -> str:
    minutes, sec = divmod(round(value), 60)
    return f"{minutes}m{sec:02d}s" if minutes else f"{value:.1f}s"


def stamp_html(st: dict[str, Any]) -> str:
    """The report's first section: what produced it, in one short table (checksums collapsed)."""
    esc = _html.escape
    dirty = st.get("git_dirty")
    dirty_text = {True: "<b>dirty</b> (uncommitted changes)", False: "clean", None: "unknown"}[dirty]
    hw = st.get("hardware") or {}
    hardware_text = f"{hw.get('cpu', '?')} ({hw.get('cpu_count', '?')} cores"
    if hw.get("torch_threads"):
        hardware_text += f", torch threads {hw['torch_threads']}"
    hardware_text += f"); GPU: {hw.get('gpu') or 'none'}"
    versions_text = " · ".join(f"{k} {v}" for k, v in (st.get("versions") or {}).items())
    sums = st.get("data_sha256") or {}
    combined = hashlib.sha256("\n".join(f"{v}  {k}" for k, v in sorted(sums.items())).encode()).hexdigest()
    rows_sums = "".join(
        f"<tr><td><code>{esc(v[:16])}</code></td><td>{esc(k)}</td></tr>" for k, v in sorted(sums.items())
    )
    data_text = (
        (
            f"{esc(str(st.get('data_dir')))}: {len(sums)} files, combined sha256 <code>{combined[:16]}</code>"
            # a page of hashes no printed copy needs: the HTML and metrics/report.json keep them
            f"<details class='hs-screen-only'><summary>per-file sha256 (first 16 hex digits)</summary>"
            f"<table>{rows_sums}</table></details>"
            "<span class='hs-print-only'> (per-file sha256: in report.html and metrics/report.json)</span>"
        )
        if sums
        else f"{esc(str(st.get('data_dir')))}: no data files found"
    )
    timings = st.get("notebook_wall_s") or {}
    parts, total = [], 0.0
    for name, value in timings.items():
        seconds = value.get("seconds") if isinstance(value, dict) else value
        prof = value.get("profile") if isinstance(value, dict) else None
        if isinstance(seconds, (int, float)):
            total += seconds
            parts.append(
                f"{esc(name.removesuffix('.ipynb'))} {_seconds(seconds)}"
                + (f" ({esc(prof)})" if prof and prof != st.get("profile") else "")
            )
    timing_text = (
        (" · ".join(parts) + f" · <b>total {_seconds(total)}</b>")
        if parts
        else "not recorded (run through ./run_all.sh to record them)"
    )
    rows = [
        ("Commit", f"<code>{esc(_short(st.get('git_commit')))}</code>, working tree {dirty_text}"),
        ("Profile / seed", f"<b>{esc(str(st.get('profile')))}</b> / {esc(str(st.get('seed')))}"),
        ("Built", esc(str(st.get("created")))),
        ("Hardware", esc(hardware_text)),
        ("Versions", esc(versions_text)),
        ("Data", data_text),
        ("Wall time per notebook", timing_text),
    ]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f"<table class='hs-stamp'>{body}</table><p class='hs-note'>Each metrics JSON under "
        "<code>reports/metrics/</code> carries the same stamp for the run that wrote it; a section below "
        "says when its numbers came from another commit or profile.</p>"
    )


def _source_line(section: Section, result: Result, report_stamp: dict[str, Any] | None) -> str:
    st = result.stamp or {}
    text = (
        f"From <code>metrics/{section.metrics}</code>: profile <b>{_html.escape(str(result.profile))}</b>, "
        f"commit <code>{_html.escape(_short(st.get('git_commit')))}</code>"
        f"{' (dirty)' if st.get('git_dirty') else ''}, written {_html.escape(str(st.get('created', '?')))}."
    )
    warn = []
    if report_stamp:
        wanted = report_stamp.get("profile")
        if wanted and result.profile != wanted:
            warn.append(f"made with profile {result.profile}, not this report's {wanted}")
        if (
            st.get("git_commit")
            and report_stamp.get("git_commit")
            and st["git_commit"] != report_stamp["git_commit"]
        ):
            warn.append("made at another commit than this report")
    if warn:
        text += f" <span class='hs-missing'>Note: {_html.escape('; '.join(warn))}.</span>"
    return f"<p class='hs-note'>{text}</p>"


def section_html(
    section: Section | str,
    reports: Path | None = None,
    report_stamp: dict[str, Any] | None = None,
    heading: bool = False,
    appendix: bool = True,
) -> str:
    """HTML of one section from its typed result: where its numbers come from, the findings, the key
    tables, the figures (each with the sentence that says what to see), then, with ``appendix``, every
    other field of the result (nothing measured is dropped; the report puts them in its appendix instead,
    :func:`appendix_html`).

    When the result is absent: a line saying it was not run in this build; when its file lacks a field the
    result declares: a line naming it (the report still builds).
    """
    section = get_section(section)
    parts = [f"<a id='sec-{section.key}'></a>"]
    # the heading travels with the section's first paragraph (hs-keep), so no page ends on a bare heading
    head = f"<h3 class='hs-section'>{_html.escape(section.title)}</h3>" if heading else ""
    figures = section_figures(section, reports)
    try:
        result = read_result(section, reports)
    except ResultShapeError as error:
        parts.append(f"{head}<p class='hs-missing'>Not shown: {_html.escape(str(error))}.</p>")
        return "".join(parts)
    if result is None:
        parts.append(head)
        parts.append(
            f"<p class='hs-missing'>Not run in this build (no {_html.escape(section.result.__name__)} in "
            f"metrics/{_html.escape(section.metrics)}; it comes from {_html.escape(section.notebook)}).</p>"
        )
        if figures:
            parts.append(
                f"<p class='hs-note'>{len(figures)} figure(s) with this section's prefix exist but "
                "have no metrics beside them; not shown.</p>"
            )
        return "".join(parts)
    parts.append(
        f"<div class='hs-keep'>{head}<p>{_html.escape(section.intro)}</p>"
        f"{_source_line(section, result, report_stamp)}</div>"
    )
    try:
        lines, tables = [*result.findings(), *result.context(reports)], result.tables()
    except (KeyError, TypeError, ValueError) as error:  # e.g. a file written by an older version
        reads = f"{type(result).__name__} reads ({type(error).__name__}: {error})"
        parts.append(
            "<p class='hs-missing'>Findings and key tables not shown: "
            + _html.escape(f"metrics/{section.metrics} lacks what {reads}; re-run {section.notebook}.")
            + "</p>"
        )
        lines, tables = [], []
    shown = lines if appendix else lines[: section.body_findings]
    if shown:
        parts.append(_findings_html(shown))
    parts.append(
        figures_line(section, figures, tuple(f.stem for f in figures) if appendix else section.body_figures)
    )
    if appendix:  # everything here, in order
        parts.append(_tables_and_figures(section, tables, figures))
        parts.append(_appendix_tables(result))
    else:  # the body: the key table(s) and figures; the rest goes to appendix_html
        body_tables, _ = _split_tables(section, tables)
        body_figures, _ = _split_figures(section, figures)
        parts.append(_tables_and_figures(section, body_tables, body_figures, figures))
    return "".join(parts)


def _findings_html(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_html.escape(readable(line))}</li>" for line in lines) + "</ul>"


def _split_tables(section: Section, tables: list) -> tuple[list, list]:
    """(the body's tables, the appendix's): the rest of the section's tables live on its notebook page."""
    rest = tables[section.body_tables :]
    if section.appendix_tables is not None:
        rest = rest[: section.appendix_tables]
    return tables[: section.body_tables], rest


def _split_figures(section: Section, figures: list[Path]) -> tuple[list[Path], list[Path]]:
    body = [f for f in figures if f.stem in section.body_figures]
    return body, [f for f in figures if f not in body]


def figure_label(section: Section | str, stem: str, reports: Path | None = None) -> str | None:
    """ "Figure <section>-<n>" of a figure stem as the report numbers it (None when the build lacks it)."""
    section = get_section(section)
    stems = [f.stem for f in section_figures(section, reports)]
    return f"Figure {section.key}-{stems.index(stem) + 1}" if stem in stems else None


def figures_line(section: Section, figures: list[Path], body: tuple[str, ...]) -> str:
    """One sentence that points at every figure of the section (body or appendix) and what it shows, so no
    figure goes unreferenced."""
    if not figures:
        return ""
    refs = []
    for number, figure in enumerate(figures, 1):
        where = "" if figure.stem in body else ", appendix"
        what = (FIGURE_NOTES.get(figure.stem) or figure.stem).split(":")[0].rstrip(".")
        refs.append(f"Figure {section.key}-{number} ({what[:1].lower() + what[1:]}{where})")
    return "<p class='hs-note'>Figures of this section: " + _html.escape("; ".join(refs)) + ".</p>"


def _tables_and_figures(section: Section, tables, figures, numbering: list[Path] | None = None) -> str:
    """Tables, then figures captioned "Figure <section>-<n>." (numbered in ``numbering``, the section's
    full list, so a figure keeps its number in the body and the appendix) with what to look at."""
    numbering = numbering or figures
    parts = [table_html(title, show_separators(frame)) for title, frame in tables]
    for figure in figures:
        note = FIGURE_NOTES.get(figure.stem)
        label = f"Figure {section.key}-{numbering.index(figure) + 1}. "
        parts.append(figure_html(figure, label + (note or "")))
    return "".join(parts)


def _appendix_tables(result: Result) -> str:
    tables = payload_tables(result.appendix())
    if not tables:
        return ""
    return "<h3>All other numbers of this section</h3>" + "".join(
        table_html(title, frame) for title, frame in tables
    )


def appendix_html(reports: Path | None = None) -> str:
    """Per section, what the body leaves out: its other key tables and figures, and a link to the notebook
    page that shows every other field of its result (the raw numbers stay out of the report, which a reader
    prints), behind a collapsible ``<details>`` in the HTML (the PDF prints them open,
    :func:`hatespeech.publish.export.printable_html`)."""
    parts = []
    for section in SECTIONS:
        try:
            result = read_result(section, reports)
            tables = result.tables() if result is not None else []
            lines = [*result.findings(), *result.context(reports)] if result is not None else []
        except (ResultShapeError, KeyError, TypeError, ValueError):
            continue  # the body already says what is missing
        if result is None:
            continue
        figures = section_figures(section, reports)
        _, rest_tables = _split_tables(section, tables)
        _, rest_figures = _split_figures(section, figures)
        further = lines[section.body_findings :]
        body = (
            (f"<h4>Further findings</h4>{_findings_html(further)}" if further else "")
            + _tables_and_figures(section, rest_tables, rest_figures, figures)
            + notebook_link(section)
        )
        parts.append(
            f"<details><summary>{_html.escape(section.title)}: the other tables and figures"
            f"</summary>{body}</details>"
        )
    return "".join(parts)


def notebook_page(section: Section) -> str:
    """The executed notebook's HTML page (beside the report) that shows every number of ``section``."""
    return f"html/{Path(section.notebook).stem}.html"


def notebook_link(section: Section) -> str:
    """Where the numbers the report leaves out are: the notebook's page (every field of the result, as
    tables) and the metrics file itself."""
    if not section.notebook.endswith(".ipynb"):  # a benchmark script: its metrics file is the record
        return (
            f"<p class='hs-note'>Every other number of this section: <code>metrics/"
            f"{_html.escape(section.metrics)}</code>, written by "
            f"<code>{_html.escape(section.notebook)}</code>.</p>"
        )
    page = notebook_page(section)
    return (
        f"<p class='hs-note'>Every other number of this section: the notebook page "
        f"<a href='{_html.escape(page)}'>{_html.escape(Path(section.notebook).stem)}</a> (its last part) and "
        f"<code>metrics/{_html.escape(section.metrics)}</code>.</p>"
    )


def other_metrics_html(reports: Path | None = None) -> str:
    """Metrics files no section knows about, listed so nothing is dropped silently."""
    extra = sorted(p for p in metrics_folder(reports).glob("*.json") if p.name not in KNOWN_METRICS)
    if not extra:
        return ""
    parts = ["<h2 class='hs-section'>Other metrics</h2>"]
    for path in extra:
        payload = json.loads(path.read_text())
        parts.append(f"<h3>{_html.escape(path.name)}</h3>")
        for title, frame in payload_tables(payload if isinstance(payload, dict) else {"value": payload}):
            parts.append(table_html(title, frame))
    return "".join(parts)


def notebooks_html(reports: Path | None = None) -> str:
    """Appendix: the executed notebooks (with code) next to this report, with their wall times."""
    root = Path(reports) if reports else paths.reports_dir()
    timings_file = root / "metrics" / "run_timings.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    rows = []
    for name, value in timings.items():
        stem = name.removesuffix(".ipynb")
        seconds = value.get("seconds") if isinstance(value, dict) else value
        prof = value.get("profile", "") if isinstance(value, dict) else ""
        page = "report.html" if name.endswith("_report.ipynb") else f"html/{stem}.html"
        rows.append(
            f"<tr><td><a href='{_html.escape(page)}'>{_html.escape(stem)}</a></td>"
            f"<td>{_seconds(seconds) if isinstance(seconds, (int, float)) else '?'}</td>"
            f"<td>{_html.escape(str(prof))}</td></tr>"
        )
    if not rows:
        return (
            "<p class='hs-note'>No notebook timings recorded (the report was not built by ./run_all.sh).</p>"
        )
    return (
        "<table><tr><th>notebook (HTML with code)</th><th>wall time</th><th>profile</th></tr>"
        + "".join(rows)
        + (
            "</table><p class='hs-note'>Executed notebooks: <code>reports/executed/</code>; "
            "metrics: <code>reports/metrics/</code>; figures: <code>reports/figures/</code>.</p>"
        )
    )


def title_html(profile, st: dict[str, Any] | None = None) -> str:
    """One line under the notebook's title: profile, commit, build time."""
    name = getattr(profile, "name", profile)
    commit = _short((st or {}).get("git_commit"))
    return (
        f"<p class='hs-note'>profile <b>{_html.escape(str(name))}</b> · "
        f"commit <code>{_html.escape(commit)}</code>"
        f" · built {_html.escape(str((st or {}).get('created', '')))}</p>"
    )


def show(html_text: str) -> None:
    """Display HTML in the notebook (and so in the exported report)."""
    from IPython.display import HTML, display  # inside: only a notebook displays

    display(HTML(html_text))


def show_section(
    key: str, report_stamp: dict[str, Any] | None = None, appendix: bool = True, heading: bool = False
) -> None:
    show(section_html(key, report_stamp=report_stamp, appendix=appendix, heading=heading))
