"""Exporting executed notebooks: offline HTML pages (nbconvert), and report.pdf printed by headless
chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from .notebooks import BuildError

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ENV = "HATESPEECH_CHROMIUM"

_OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{#- Offline page: no require.js, MathJax or mermaid from a CDN (the PDF is printed without network). -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
__CSS__
</style>
{%- endblock html_head_css -%}
"""

# Screen and print rules: nothing wider than the page, small tables, no figure split across pages.
REPORT_CSS = """
.jp-Notebook, body { max-width: 1100px; margin: 0 auto; }
.jp-RenderedImage img, .jp-OutputArea-output img, figure img { max-width: 100% !important; height: auto; }
.jp-RenderedHTMLCommon table { font-size: 11px; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { padding: 0.2em 0.5em; }
.jp-RenderedHTMLCommon tbody th { text-align: left !important; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon tbody th { white-space: nowrap; }
.jp-RenderedHTMLCommon thead th { word-break: normal; overflow-wrap: normal; }
.hs-wrap { white-space: normal; display: inline-block; min-width: 8em; max-width: 15em; text-align: left; }
.hs-stamp td, .hs-stamp th { text-align: left !important; vertical-align: top; }
.jp-RenderedHTMLCommon .hs-stamp td { white-space: normal; }
/* prose tables (model card, method, seed claims): every cell wraps inside the page, none is cut off */
table.hs-card { table-layout: fixed; width: 100%; }
.jp-RenderedHTMLCommon table.hs-card td, .jp-RenderedHTMLCommon table.hs-card th {
  white-space: normal !important; overflow-wrap: anywhere; vertical-align: top; text-align: left !important; }
.hs-note { color: #555; font-size: 0.9em; }
.hs-missing { color: #8a4b00; font-style: italic; }
ol.hs-answers li { margin-bottom: 0.3em; }
figure.hs-figure { margin: 0.5em 0 1em 0; }
figure.hs-figure figcaption { font-size: 0.8em; color: #555; }
.hs-print-only { display: none; }
@media print {
  .hs-screen-only { display: none !important; }
  .hs-print-only { display: inline; }
  @page { size: A4; margin: 12mm 11mm 14mm 11mm; }
  body, .jp-Notebook { max-width: none; font-size: 10pt; }
  .jp-Notebook { padding: 0 !important; }
  .jp-Cell { padding: 0 !important; }
  .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; }
  /* JupyterLab keeps each output whole on a page, which pushes a long section to the next page and leaves
     a blank one; let outputs flow and keep only tables, figures and headings together. */
  .jp-OutputArea-child { break-inside: auto !important; page-break-inside: auto !important; }
  .hs-keep { break-inside: avoid; page-break-inside: avoid; }
  .jp-RenderedHTMLCommon table { font-size: 7.5pt; max-width: 100%; table-layout: auto; }
  .jp-RenderedHTMLCommon tr, figure, img { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  pre { white-space: pre-wrap !important; word-break: break-all; }
  details > summary { list-style: none; }
  ol.hs-answers, ul.hs-short { font-size: 8.2pt; line-height: 1.25; }
  ul.hs-short li { margin-bottom: 0; }
  figure.hs-figure img { min-width: 55%; }  /* a small figure still prints legibly wide */
  /* each figure prints at its natural size (its width is set from its dpi, narrowed so that it is at most
     235 mm tall: hatespeech.report.html.figure_html); this only catches one made without a dpi */
  figure.hs-figure img { max-height: 235mm; }
}
"""


def export_html(executed: Path, target: Path, hide_code: bool) -> Path:
    """nbconvert HTML (JupyterLab look, images inlined as base64, no CDN scripts) with print CSS."""
    # lazy: the Jupyter stack takes seconds to import and only a build needs it
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        raw_template=_OFFLINE_TEMPLATE.replace("__CSS__", REPORT_CSS),
        exclude_input=hide_code,
        exclude_input_prompt=hide_code,
        exclude_output_prompt=hide_code,
        embed_images=True,
    )
    nb = nbformat.read(executed, as_version=4)
    if hide_code:  # papermill's banner/parameters cells say nothing to a reader of the report
        nb.cells = [
            c
            for c in nb.cells
            if not {"injected-parameters", "papermill-error-cell-tag"}
            & set(c.get("metadata", {}).get("tags", []))
        ]
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": executed.stem}})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def find_chromium() -> str | None:
    explicit = os.environ.get(CHROMIUM_ENV)
    if explicit:
        return explicit if shutil.which(explicit) or Path(explicit).is_file() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


# Links to other files of the report (the notebook pages): chromium would print them as file:// URIs of the
# building machine's folder, which are both broken for a PDF reader and a leak of the builder's file system.
_RELATIVE_LINK = re.compile(r"""\shref=(["'])(?![a-z][a-z0-9+.-]*:|#)[^"']*\1""", re.IGNORECASE)


_DETAILS = re.compile(r"<details(?![^>]*\bopen\b)", re.IGNORECASE)


def printable_html(text: str) -> str:
    """``text`` with its links to local files removed (the linked words stay; web links and anchors stay)
    and every collapsible ``<details>`` open, so the printed appendix holds the numbers the HTML folds."""
    return _DETAILS.sub("<details open", _RELATIVE_LINK.sub("", text))


def html_to_pdf(html: Path, pdf: Path, chromium: str, timeout: float = 300.0) -> Path:
    """Print ``html`` to ``pdf`` with headless chromium, offline (no network, fresh profile); links to local
    files are dropped from the printed copy (see :func:`printable_html`)."""
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="hs-chromium-") as profile_dir:
        printed = Path(profile_dir) / html.name
        printed.write_text(printable_html(html.read_text()))
        cmd = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile_dir}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            printed.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as error:
            raise BuildError(f"chromium did not print {html} to PDF within {timeout:.0f}s") from error
    if not pdf.exists() or pdf.stat().st_size == 0 or pdf.read_bytes()[:5] != b"%PDF-":
        tail = "\n".join((done.stderr or "").strip().splitlines()[-10:])
        raise BuildError(f"chromium did not write a PDF for {html} (exit {done.returncode}):\n{tail}")
    return pdf


def pdf_pages(pdf: Path) -> int | None:
    if not shutil.which("pdfinfo"):
        return None
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=False)
    match = re.search(r"^Pages:\s+(\d+)", out.stdout, re.MULTILINE)
    return int(match.group(1)) if match else None
