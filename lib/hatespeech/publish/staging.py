"""The staging folder: a build writes there under a lock, and :func:`swap_in` replaces the published report
with it only when every step succeeded; a failed build is set aside as ``.staging-failed/``."""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from .notebooks import BuildError

STAGING_PREFIX = ".staging-"  # reports/.staging*/ is git-ignored
FAILED_DIR_NAME = ".staging-failed"
LOCK_DIR_NAME = ".staging-lock"
TIMINGS_FILE = "run_timings.json"
# Kept from the previous report even by a full rebuild: results copied in from another machine (the gpu
# profile's metrics live next to the cpu ones), and what the scripts in benchmarks/ write rather than a
# notebook (the speed benchmark, the decoder-capacity comparison); each carries its own stamp.
PRESERVED_PATHS = (
    "metrics/gpu",
    "figures/gpu",
    "metrics/benchmarks.json",
    "figures/bench_latency.png",
    "metrics/decoder_capacity.json",
    "metrics/history",  # earlier builds' anticipation numbers, kept to say what the data and methods moved
)


@contextlib.contextmanager
def build_lock(reports_dir: Path) -> Iterator[None]:
    """One build at a time per reports folder; the lock file names the holder's pid."""
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


def new_staging(reports_dir: Path, copy_previous: bool) -> Path:
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


def prune_removed_notebooks(staging: Path, notebook_names: set[str]) -> list[str]:
    """A partial build starts from the current report: drop what it holds of notebooks that no longer exist
    (renamed or removed: their executed copy, HTML page and timing), so the report does not show them.
    Returns the names dropped."""
    dropped = set()
    for sub, suffix in (("executed", ".ipynb"), ("html", ".html")):
        for path in (staging / sub).glob(f"*{suffix}"):
            if path.stem + ".ipynb" not in notebook_names:
                path.unlink()
                dropped.add(path.stem + ".ipynb")
    timings_path = staging / "metrics" / TIMINGS_FILE
    if timings_path.exists():
        timings = json.loads(timings_path.read_text())
        gone = [name for name in timings if name not in notebook_names]
        if gone:
            dropped.update(gone)
            timings_path.write_text(json.dumps({k: v for k, v in timings.items() if k not in gone}, indent=2))
    return sorted(dropped)


def clean_stale_staging(reports_dir: Path) -> None:
    """Staging folders left by runs killed hard (under the lock, so none of them is in use)."""
    for entry in reports_dir.iterdir():
        if (
            entry.is_dir()
            and entry.name.startswith(STAGING_PREFIX)
            and entry.name not in (FAILED_DIR_NAME, LOCK_DIR_NAME)
            and not entry.name.startswith(f"{STAGING_PREFIX}old")
        ):
            shutil.rmtree(entry, ignore_errors=True)


def discard_failed(reports_dir: Path) -> Path:
    """Remove the folder an earlier failed build left for inspection; return its path."""
    failed = reports_dir / FAILED_DIR_NAME
    if failed.exists():
        shutil.rmtree(failed, ignore_errors=True)
    return failed


def keep_failed(staging: Path, reports_dir: Path) -> Path:
    """Set ``staging`` aside as ``.staging-failed/`` (replacing an older one) for inspection."""
    failed = discard_failed(reports_dir)
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


def record_timing(staging: Path, notebook: Path, seconds: float, profile: str) -> None:
    """Add ``notebook``'s wall time to metrics/run_timings.json (read by hatespeech.stamp.stamp)."""
    path = staging / "metrics" / TIMINGS_FILE
    timings = json.loads(path.read_text()) if path.exists() else {}
    timings[notebook.name] = {
        "seconds": round(seconds, 2),
        "profile": profile,
        "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    path.write_text(json.dumps(dict(sorted(timings.items())), indent=2))


def other_profiles(staging: Path, profile: str, rerun: set[str]) -> list[str]:
    """Profiles, other than ``profile``, of the timed notebooks a partial build does not re-run."""
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
