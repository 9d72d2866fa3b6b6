"""Where things live: data dir, artifacts (checkpoints, caches) and reports.

Each can be moved with an environment variable, so a run can write its report into a staging folder
(run_all.sh does) and a user can keep the corpora anywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

DATA_DIR_ENV = "HATESPEECH_DATA_DIR"
ARTIFACTS_DIR_ENV = "HATESPEECH_ARTIFACTS_DIR"
REPORTS_DIR_ENV = "HATESPEECH_REPORTS_DIR"


def data_dir() -> Path:
    """The corpora folder: $HATESPEECH_DATA_DIR, else ../shared/data beside the repo, else ./data."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return REPO_ROOT / "data"


def artifacts_dir() -> Path:
    """Checkpoints, feature caches, converted models: $HATESPEECH_ARTIFACTS_DIR or ./artifacts
    (git-ignored)."""
    path = Path(os.environ.get(ARTIFACTS_DIR_ENV) or REPO_ROOT / "artifacts").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def reports_dir() -> Path:
    """Where figures, metrics and executed notebooks go: $HATESPEECH_REPORTS_DIR or ./reports."""
    path = Path(os.environ.get(REPORTS_DIR_ENV) or REPO_ROOT / "reports").expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir() -> Path:
    path = reports_dir() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def metrics_dir() -> Path:
    path = reports_dir() / "metrics"
    path.mkdir(parents=True, exist_ok=True)
    return path


def shown(path: str | Path) -> str:
    """``path`` as a reader of the report should see it: under ``reports/``, ``artifacts/`` (the artifacts
    dir, wherever $HATESPEECH_ARTIFACTS_DIR put it), the data dir's name, or relative to the repo; else its
    name.

    Printed paths end up in the published notebooks and metrics; a machine's absolute paths (home folders,
    staging folders) say nothing to a reader and leak where the report was built.
    """
    path = Path(path).expanduser().resolve()
    roots = (
        ("reports", reports_dir()),
        ("artifacts", artifacts_dir()),
        (data_dir().name, data_dir()),
        (".", REPO_ROOT),
    )
    for label, root in roots:
        try:
            return str(Path(label) / path.relative_to(root.resolve()))
        except ValueError:
            continue
    return path.name
