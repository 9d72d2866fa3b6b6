"""Which notebooks a build runs: ``NN_*.ipynb`` in order, narrowed by ``--only``/``--from``, report last."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .. import paths
from .errors import BuildError

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
