"""The notebooks of a build: which run (``NN_*.ipynb`` in order, narrowed by ``--only``/``--from``, report
last), executing one (the kernel that runs this interpreter, papermill with the profile injected) and the
build's two errors, whose message names the notebook, the cell and the error
(:func:`hatespeech.publish.cli.main` prints either as one ``FAILED:`` message)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from .. import paths


# ============================================================================ errors
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


# ============================================================================ which notebooks
NOTEBOOKS_DIR = paths.REPO_ROOT / "notebooks"
NOTEBOOK_NAME = re.compile(r"^(\d\d)_[^/]+\.ipynb$")
REPORT_NOTEBOOK_SUFFIX = "_report.ipynb"  # the last notebook, assembling report.html from the others' outputs


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


# ============================================================================ running one
def pick_kernel() -> str:
    """A kernel spec that starts *this* interpreter (the venv's python), so notebooks see the same packages.

    ``python3`` qualifies when its argv[0] is a bare ``python``/``python3`` (jupyter_client then substitutes
    sys.executable) or this interpreter's path; otherwise any spec pointing here (scripts/setup_venv.sh
    installs one named ``hatespeech`` into the venv).
    """
    # lazy: the Jupyter stack takes seconds to import and only a build needs it
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
    # lazy: the Jupyter stack takes seconds to import and only a build needs it
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
    _tidy_executed(output)
    return time.perf_counter() - started


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _tidy_executed(executed: Path) -> None:
    """What the published notebook keeps of the run:

    - papermill records the absolute input and output paths in the metadata; the published notebook names
      itself by file name (the builder's file system is nobody's business);
    - tqdm's progress bars are Jupyter widgets whose state (every bar's last frame, about a megabyte per
      training notebook) is stored in the metadata and again in each HTML page: a reader of the published
      pages needs neither, so the widget outputs and their state are dropped (the report's size budget)."""
    # lazy: the Jupyter stack takes seconds to import and only a build needs it
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if meta.get(key):
            meta[key] = Path(meta[key]).name
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if WIDGET_VIEW not in o.get("data", {})]
    nbformat.write(nb, executed)
