"""Provenance and metrics I/O: the reproducibility stamp every metrics JSON carries, and reading them back.

A stamp says what produced a result: git commit (and whether the tree was dirty), profile, hardware (CPU
model, GPU name), Python / torch / transformers versions, checksums of the data files, the seed, and the
wall time of each notebook when run_all.sh recorded them. :func:`write_metrics` adds it to every payload
written under ``reports/metrics``; :mod:`hatespeech.report` renders it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import paths


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware() -> dict[str, Any]:
    # torch only when a stamp is made (a run, which has loaded it): reading a result must not need it.
    import torch

    info: dict[str, Any] = {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "gpu": None}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    info["torch_threads"] = torch.get_num_threads()
    return info


def versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "datasets", "sklearn", "pandas", "numpy", "onnxruntime"):
        try:
            module = __import__(name)
            out[name] = getattr(module, "__version__", "?")
        except ImportError:
            out[name] = "absent"
    return out


def data_checksums(data_dir: Path | None = None) -> dict[str, str]:
    """sha256 of every file under the data dir (from its SHA256SUMS when present; verified elsewhere)."""
    root = Path(data_dir or paths.data_dir())
    sums = root / "SHA256SUMS"
    if sums.exists():
        out = {}
        for line in sums.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2:
                out[parts[1].lstrip("*")] = parts[0]
        return out
    out = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        out[str(file.relative_to(root))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return out


def stamp(profile=None) -> dict[str, Any]:
    """What produced a result: commit, dirty flag, profile, hardware, versions, data checksums, seed."""
    commit = _git("rev-parse", "HEAD")
    # Dirty means uncommitted changes to what produces results; regenerated outputs under reports/ (a
    # benchmark's figure written before its JSON, say) are not such a change.
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)reports")
    timings_file = paths.metrics_dir() / "run_timings.json"
    return {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
        "git_dirty": bool(dirty) if dirty is not None else None,
        "profile": getattr(profile, "name", profile),
        "seed": getattr(profile, "seed", None),
        "hardware": hardware(),
        "versions": versions(),
        "data_dir": paths.data_dir().name,  # by name: the checksums below identify the data, not the machine
        "data_sha256": data_checksums() if paths.data_dir().exists() else {},
        "notebook_wall_s": json.loads(timings_file.read_text()) if timings_file.exists() else None,
    }


def caption(profile, data: str = "") -> str:
    """One line for under a figure or table: profile, data, hardware, commit."""
    hw = hardware()
    device = hw["gpu"] or f"{hw['cpu']} ({hw['cpu_count']} cores)"
    commit = _git("rev-parse", "--short", "HEAD") or "no-git"
    name = getattr(profile, "name", profile)
    return f"profile={name} | data={data or 'see metrics JSON'} | hardware={device} | commit={commit}"


def write_metrics(name: str, payload: dict[str, Any], profile=None) -> Path:
    """Write reports/metrics/<name>.json = payload + {"profile": ..., "stamp": stamp(profile)}."""
    body = dict(payload)
    body.setdefault("profile", getattr(profile, "name", profile))
    body["stamp"] = stamp(profile)
    path = paths.metrics_dir() / f"{name}.json"
    path.write_text(json.dumps(body, indent=2, default=json_default, allow_nan=True))
    return path


def read_metrics(name: str) -> dict[str, Any]:
    path = paths.metrics_dir() / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run the notebook that writes {name}.json first")
    return json.loads(path.read_text())


def json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
