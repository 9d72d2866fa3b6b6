"""Executing one notebook: the kernel that runs this interpreter, papermill with the profile injected, and a
failure message that names the notebook, the cell and the error."""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from .errors import BuildError, NotebookFailed


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
