"""Build and publish the report: run the notebooks with papermill into a staging folder, export HTML and PDF,
then swap the staging folder into ``reports/`` -- only when every step succeeded.

``./run_all.sh`` is a thin wrapper around ``python -m hatespeech.publish``::

    python -m hatespeech.publish [--profile smoke|cpu|gpu] [--only 01,03] [--from 02] [--no-report]
                                 [--pdf auto|require|skip] [--notebooks-dir DIR] [--reports-dir DIR]

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
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as _dt
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from . import paths

NOTEBOOKS_DIR = paths.REPO_ROOT / "notebooks"
NOTEBOOK_NAME = re.compile(r"^(\d\d)_[^/]+\.ipynb$")
REPORT_NOTEBOOK_SUFFIX = "_report.ipynb"  # the last notebook, assembling report.html from the others' outputs
STAGING_PREFIX = ".staging-"  # reports/.staging*/ is git-ignored
FAILED_DIR_NAME = ".staging-failed"
LOCK_DIR_NAME = ".staging-lock"
TIMINGS_FILE = "run_timings.json"
# Kept from the previous report even by a full rebuild: results copied in from another machine
# (the gpu profile's metrics live next to the cpu ones) and the speed benchmark, which a script
# (benchmarks/anticipation_speed.py) writes rather than a notebook; each carries its own stamp.
PRESERVED_PATHS = ("metrics/gpu", "figures/gpu", "metrics/benchmarks.json", "figures/bench_latency.png")
REPORT_SIZE_BUDGET_MB = 20.0
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ENV = "HATESPEECH_CHROMIUM"


@dataclasses.dataclass(frozen=True)
class MetricsSpec:
    """What a metrics JSON must hold: ``keys`` once every notebook in ``written_by`` has run."""

    keys: tuple[str, ...]
    written_by: tuple[str, ...]  # notebook numbers ("01", ...); empty = optional file, checked when present
    optional: bool = False


# The contract between the experiment notebooks and the report. ``stamp`` is added by
# hatespeech.stamp.write_metrics.
EXPECTED_METRICS: dict[str, MetricsSpec] = {
    "data.json": MetricsSpec(("sources", "splits", "stamp"), ("01",)),
    "anticipation.json": MetricsSpec(
        ("phase1", "phase2", "baselines", "annotator_agreement", "earliness", "profile", "models", "stamp"),
        ("02", "03"),
    ),
    "dualhead.json": MetricsSpec(
        ("head_n", "head_i", "separate_models", "grid", "bias", "profile", "data", "stamp"), ("04", "05")
    ),
    "benchmarks.json": MetricsSpec(("stamp",), (), optional=True),
    "report.json": MetricsSpec(("sections", "stamp"), ("06",)),
}


class BuildError(RuntimeError):
    """The build stopped; the message says where and that the previous report was left as it was."""


class NotebookFailed(BuildError):
    def __init__(
        self,
        notebook: Path,
        message: str,
        executed: Path | None,
        cell_index: int | None = None,
        cell_first_line: str | None = None,
        error: str | None = None,
    ):
        super().__init__(message)
        self.notebook = notebook
        self.executed = executed
        self.cell_index = cell_index  # 0-based index in the committed notebook (markdown cells counted)
        self.cell_first_line = cell_first_line
        self.error = error


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


# --------------------------------------------------------------------------------------------- selection
def discover_notebooks(notebooks_dir: Path) -> list[Path]:
    """``NN_*.ipynb`` in ``notebooks_dir``, in order (checkpoints and other files ignored)."""
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise BuildError(f"notebooks folder {notebooks_dir} does not exist")
    return sorted(p for p in notebooks_dir.iterdir() if p.is_file() and NOTEBOOK_NAME.match(p.name))


def notebook_number(path: Path | str) -> str:
    return Path(path).name[:2]


def _parse_numbers(text: str | Iterable[str] | None) -> list[str]:
    if text is None:
        return []
    items = text.split(",") if isinstance(text, str) else list(text)
    out = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if not item.isdigit():
            raise BuildError(f"notebook number {item!r} is not a number (use e.g. --only 01,03)")
        out.append(f"{int(item):02d}")
    return out


def select_notebooks(notebooks: list[Path], only=None, start=None, include_report: bool = True) -> list[Path]:
    """Which notebooks to run: all, ``only`` these numbers, or ``start`` and the ones after it.

    With ``include_report`` the report notebook (``NN_report.ipynb``) is always run last, so that
    report.html reflects what this build changed.
    """
    if only and start:
        raise BuildError("use either --only or --from, not both")
    numbers = {notebook_number(p): p for p in notebooks}
    if only:
        wanted = _parse_numbers(only)
        missing = [n for n in wanted if n not in numbers]
        if missing:
            raise BuildError(
                f"--only {','.join(missing)}: no notebook NN_*.ipynb with that number "
                f"(have: {', '.join(p.name for p in notebooks) or 'none'})"
            )
        chosen = [p for p in notebooks if notebook_number(p) in wanted]
    elif start:
        firsts = _parse_numbers(start)
        first = firsts[0] if len(firsts) == 1 else None
        if first not in numbers:
            raise BuildError(
                f"--from {start}: no notebook with that number "
                f"(have: {', '.join(p.name for p in notebooks) or 'none'})"
            )
        chosen = [p for p in notebooks if notebook_number(p) >= first]
    else:
        chosen = list(notebooks)
    report = report_notebook(notebooks)
    if include_report and report is not None and report not in chosen:
        chosen.append(report)
    return chosen


def report_notebook(notebooks: list[Path]) -> Path | None:
    candidates = [p for p in notebooks if p.name.endswith(REPORT_NOTEBOOK_SUFFIX)]
    return candidates[-1] if candidates else None


# --------------------------------------------------------------------------------------------- kernel
def pick_kernel() -> str:
    """A kernel spec that starts *this* interpreter (the venv's python), so notebooks see the same packages.

    ``python3`` qualifies when its argv[0] is a bare ``python``/``python3`` (jupyter_client then substitutes
    sys.executable) or this interpreter's path; otherwise any spec pointing here (scripts/setup_venv.sh
    installs one named ``hatespeech`` into the venv).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    here = Path(sys.executable)
    bare = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}

    def runs_here(name: str) -> bool:
        try:
            argv0 = manager.get_kernel_spec(name).argv[0]
        except (NoSuchKernel, IndexError, KeyError):
            return False
        if argv0 in bare:
            return True
        return Path(argv0) == here or Path(argv0).resolve() == here.resolve()

    for name in ("python3", "hatespeech", *sorted(manager.find_kernel_specs())):
        if runs_here(name):
            return name
    raise BuildError(
        f"no Jupyter kernel starts {sys.executable}; run: {sys.executable} -m ipykernel install --sys-prefix "
        "--name hatespeech"
    )


# --------------------------------------------------------------------------------------------- execution
def _first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:120]
    return "(empty cell)"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failing_line(traceback: list[str]) -> str | None:
    """The ``---->`` line of IPython's traceback that sits in the notebook cell (the first such frame)."""
    for block in traceback or []:
        text = _ANSI.sub("", block)
        if not text.lstrip().startswith("Cell In"):
            continue
        for line in text.splitlines():
            if line.startswith("---->"):
                return re.sub(r"^---->\s*\d+\s*", "", line).strip()[:160]
    return None


def _has_parameters_cell(nb) -> bool:
    return any("parameters" in cell.get("metadata", {}).get("tags", []) for cell in nb.cells)


def _locate_failed_cell(source_nb, error) -> int | None:
    """Index of the failing cell in the committed notebook (papermill's index counts its injected cell)."""
    matches = [
        i
        for i, cell in enumerate(source_nb.cells)
        if cell.cell_type == "code" and cell.source == error.source
    ]
    if not matches:
        return None
    # papermill's cell_index is in the notebook with the injected-parameters cell: at most one off.
    return min(matches, key=lambda i: abs(i - (error.cell_index - 1)))


def run_notebook(notebook: Path, output: Path, profile: str, kernel: str, progress: bool = False) -> float:
    """Execute ``notebook`` with papermill (``profile`` injected) into ``output``; return its wall seconds.

    Raises :class:`NotebookFailed` naming the notebook, the failing cell and the error.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source_nb = nbformat.read(notebook, as_version=4)
    if not _has_parameters_cell(source_nb):
        raise NotebookFailed(
            notebook,
            f"{notebook.name} has no cell tagged 'parameters' (papermill needs one "
            'holding `profile = "cpu"`)',
            None,
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters={"profile": profile},
            kernel_name=kernel,
            cwd=str(notebook.parent),
            progress_bar=progress,
            log_output=False,
        )
    except PapermillExecutionError as error:
        seconds = time.perf_counter() - started
        index = _locate_failed_cell(source_nb, error)
        first = _first_line(error.source)
        where = (
            f"cell {index + 1} of {len(source_nb.cells)} (1-based, markdown cells counted)"
            if index is not None
            else "the injected-parameters cell"
        )
        err = f"{error.ename}: {error.evalue}"
        line = _failing_line(error.traceback)
        raise NotebookFailed(
            notebook,
            f"{notebook.name} failed after {seconds:.1f}s in {where}, which begins `{first}`:\n"
            + (f"  failing line: {line}\n" if line else "")
            + f"  {err}",
            output if output.exists() else None,
            index,
            first,
            err,
        ) from None
    except Exception as error:  # kernel died, kernel missing, unreadable notebook, ...
        raise NotebookFailed(
            notebook,
            f"{notebook.name} failed: {type(error).__name__}: {error}",
            output if output.exists() else None,
            error=f"{type(error).__name__}: {error}",
        ) from error
    _drop_machine_paths(output)
    return time.perf_counter() - started


def _drop_machine_paths(executed: Path) -> None:
    """papermill records the absolute input and output paths in the notebook's metadata; the published
    notebook names itself by file name instead (the builder's file system is nobody's business)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if meta.get(key):
            meta[key] = Path(meta[key]).name
    nbformat.write(nb, executed)


# --------------------------------------------------------------------------------------------- export
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
.hs-note { color: #555; font-size: 0.9em; }
.hs-missing { color: #8a4b00; font-style: italic; }
figure.hs-figure { margin: 0.5em 0 1em 0; }
figure.hs-figure figcaption { font-size: 0.8em; color: #555; }
@media print {
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
}
"""


def export_html(executed: Path, target: Path, hide_code: bool) -> Path:
    """nbconvert HTML (JupyterLab look, images inlined as base64, no CDN scripts) with print CSS."""
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


def printable_html(text: str) -> str:
    """``text`` with its links to local files removed (the linked words stay); web links and anchors stay."""
    return _RELATIVE_LINK.sub("", text)


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


# --------------------------------------------------------------------------------------------- metrics check
def check_metrics(metrics_dir: Path, ran: Iterable[str], present: Iterable[str] | None = None) -> list[str]:
    """Problems with the metrics JSON files, by :data:`EXPECTED_METRICS`.

    ``ran``: notebook numbers executed in this build; ``present``: numbers of the notebooks that exist.
    A file whose writers all ran must exist with every key; one whose writers ran only in part must exist.
    """
    ran = set(ran)
    present = set(present) if present is not None else ran
    problems = []
    for name, spec in EXPECTED_METRICS.items():
        path = Path(metrics_dir) / name
        writers = set(spec.written_by)
        if spec.optional or not writers:
            if not path.exists():
                continue
            required = spec.keys
        elif writers <= ran:
            required = spec.keys
        elif writers & ran:
            required = ()
        else:
            continue
        if not path.exists():
            problems.append(f"{name} missing (written by notebook {', '.join(sorted(writers & ran))})")
            continue
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            problems.append(f"{name} unreadable: {error}")
            continue
        missing = [k for k in required if k not in body]
        if missing:
            problems.append(f"{name} lacks keys {missing} (has {sorted(body)})")
    return problems


# --------------------------------------------------------------------------------------------- staging
@contextlib.contextmanager
def _build_lock(reports_dir: Path) -> Iterator[None]:
    lock_dir = reports_dir / LOCK_DIR_NAME
    lock_dir.mkdir(parents=True, exist_ok=True)
    handle = open(lock_dir / "lock", "a+")  # noqa: SIM115 -- held open for the whole build (the lock)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        raise BuildError(
            f"another report build is running into {reports_dir} ({handle.read().strip()}); "
            "wait for it or pass --reports-dir"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _report_entries(folder: Path) -> list[Path]:
    """A report folder's content, leaving out the build's own hidden folders."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith(STAGING_PREFIX))


def _copy_entry(src: Path, dst: Path) -> None:
    if src.is_dir() and not src.is_symlink():
        shutil.copytree(src, dst, symlinks=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


def _new_staging(reports_dir: Path, copy_previous: bool) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    staging = reports_dir / f"{STAGING_PREFIX}{stamp}-{os.getpid()}"
    staging.mkdir(parents=True)
    if copy_previous:
        for entry in _report_entries(reports_dir):
            _copy_entry(entry, staging / entry.name)
    else:
        for rel in PRESERVED_PATHS:
            if (reports_dir / rel).exists():
                _copy_entry(reports_dir / rel, staging / rel)
    for sub in ("executed", "html", "figures", "metrics"):
        (staging / sub).mkdir(exist_ok=True)
    return staging


def _clean_stale_staging(reports_dir: Path) -> None:
    """Staging folders left by runs killed hard (under the lock, so none of them is in use)."""
    for entry in reports_dir.iterdir():
        if (
            entry.is_dir()
            and entry.name.startswith(STAGING_PREFIX)
            and entry.name not in (FAILED_DIR_NAME, LOCK_DIR_NAME)
            and not entry.name.startswith(".staging-old")
        ):
            shutil.rmtree(entry, ignore_errors=True)


def _keep_failed(staging: Path, reports_dir: Path) -> Path:
    failed = reports_dir / FAILED_DIR_NAME
    if failed.exists():
        shutil.rmtree(failed, ignore_errors=True)
    staging.rename(failed)
    return failed


def swap_in(staging: Path, reports_dir: Path) -> None:
    """Replace the content of ``reports_dir`` with that of ``staging``.

    Each step is a rename within one filesystem: move the old content aside, move the new in, delete the
    old. If a move fails half-way, the old content is put back before the error propagates.
    """
    old = reports_dir / f"{STAGING_PREFIX}old-{os.getpid()}"
    old.mkdir()
    moved_old: list[Path] = []
    moved_new: list[Path] = []
    try:
        for entry in _report_entries(reports_dir):
            entry.rename(old / entry.name)
            moved_old.append(entry)
        for entry in _report_entries(staging):
            entry.rename(reports_dir / entry.name)
            moved_new.append(entry)
    except BaseException:
        for entry in moved_new:
            (reports_dir / entry.name).rename(staging / entry.name)
        for entry in moved_old:
            (old / entry.name).rename(entry)
        old.rmdir()
        raise
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def folder_size_mb(folder: Path) -> float:
    total = sum(
        p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(STAGING_PREFIX) for part in p.relative_to(folder).parts)
    )
    return total / 2**20


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
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


def _record_timing(staging: Path, notebook: Path, seconds: float, profile: str) -> None:
    path = staging / "metrics" / TIMINGS_FILE
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[notebook.name] = {
        "seconds": round(seconds, 2),
        "profile": profile,
        "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(dict(sorted(timings.items())), indent=2))


def _other_profiles(staging: Path, profile: str, rerun: set[str]) -> list[str]:
    path = staging / "metrics" / TIMINGS_FILE
    try:
        timings = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        return []
    return sorted(
        {
            v.get("profile")
            for k, v in timings.items()
            if isinstance(v, dict) and k not in rerun and v.get("profile") not in (None, profile)
        }
    )


# --------------------------------------------------------------------------------------------- the build
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
    from .config import PROFILES

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

    with _build_lock(reports_dir):
        _clean_stale_staging(reports_dir)
        staging = _new_staging(reports_dir, copy_previous=partial)
        log(
            f"report build: profile {profile}, {len(chosen)} notebook(s) from {notebooks_dir}, "
            f"kernel {kernel} "
            f"({sys.executable})"
        )
        log(f"staging folder {staging}" + (" (started from the current report)" if partial else ""))
        if partial:
            others = _other_profiles(staging, profile, {p.name for p in chosen})
            if others:
                log(
                    f"WARNING: the current report keeps results of profile(s) {', '.join(others)} "
                    "from notebooks "
                    f"not re-run now; the report marks each section's profile"
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
                    _record_timing(staging, notebook, seconds, profile)
                    log(f"[{i}/{len(chosen)}] {notebook.name} done in {_fmt_seconds(seconds)}")

            problems = check_metrics(
                staging / "metrics",
                [notebook_number(p) for p in chosen],
                [notebook_number(p) for p in notebooks],
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
                    pdf_note = (
                        f"report.pdf: {pages if pages is not None else '?'} pages, "
                        f"printed in {_fmt_seconds(time.perf_counter() - started)}"
                    )
                if report_pdf is None:
                    (staging / "report.pdf").unlink(missing_ok=True)  # never keep a PDF of an older report
            else:
                pdf_note = "no report notebook (NN_report.ipynb) ran: report.html and report.pdf not rebuilt"
            log(pdf_note)
        except BaseException as error:
            failed = _keep_failed(staging, reports_dir)
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
        failed = reports_dir / FAILED_DIR_NAME
        if failed.exists():
            shutil.rmtree(failed, ignore_errors=True)

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


# --------------------------------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_all.sh",
        description="Run notebooks/NN_*.ipynb in order with papermill and publish reports/ "
        "(HTML per notebook, report.html, report.pdf, figures, metrics) only when every step succeeded.",
    )
    parser.add_argument(
        "--profile",
        choices=("smoke", "cpu", "gpu"),
        default=None,
        help="default: gpu when CUDA is available, else cpu",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--only",
        metavar="NN,NN",
        help="run only these notebooks (e.g. 01,03); the report "
        "notebook still runs last; the rest of the current report is kept",
    )
    group.add_argument("--from", dest="start", metavar="NN", help="run this notebook and the ones after it")
    parser.add_argument(
        "--no-report",
        dest="include_report",
        action="store_false",
        help="do not add the report notebook to an --only/--from run",
    )
    parser.add_argument(
        "--pdf",
        choices=("auto", "require", "skip"),
        default="auto",
        help="auto (default): the PDF is required for cpu/gpu, optional for smoke",
    )
    parser.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="publish even when a metrics JSON lacks its expected keys",
    )
    parser.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    parser.add_argument(
        "--reports-dir", type=Path, default=None, help=f"default: ${paths.REPORTS_DIR_ENV} or ./reports"
    )
    return parser.parse_args(argv)


def _raise_interrupt(signum, frame):  # SIGTERM: unwind like Ctrl-C so the staging folder is set aside
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from .config import default_profile_name

    profile = args.profile or default_profile_name()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        build(
            profile,
            notebooks_dir=args.notebooks_dir,
            reports_dir=args.reports_dir,
            only=args.only,
            start=args.start,
            include_report=args.include_report,
            pdf=args.pdf,
            check=args.check,
            progress=sys.stderr.isatty(),
            log=lambda msg: print(msg, flush=True),
        )
    except NotebookFailed as error:
        print(f"\nFAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except BuildError as error:
        print(f"\nFAILED: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print(
            "\nINTERRUPTED: the previous report was left as it was; the partial build is in "
            f"{FAILED_DIR_NAME}/ of the reports folder",
            file=sys.stderr,
            flush=True,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
