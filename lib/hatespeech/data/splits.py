"""Seeded splits and their manifests.

* :func:`stratified_split` -- single-label stratified split (sklearn ``train_test_split``), any number of
  parts. (The multi-label split of the dual-head table is :func:`hatespeech.data.dualhead.iterative_folds`.)
* :func:`seeded_numpy_global` -- numpy's global RNG seeded inside a block, its state restored after it.
* Manifests: a split is saved as JSON (``{"splits": {"train": [keys...], ...}, "fingerprint": ..., ...}``)
  under ``artifacts_dir()/<profile>/splits/`` and reused when the same seed, fractions and inputs come again
  (:func:`load_or_create_manifest`), so every notebook and every rerun sees the same rows.

Why the seeding wrapper: scikit-multilearn 0.2.0's ``IterativeStratification`` (Sechidis et al. 2011 /
Szymanski & Kajdanowicz 2017) cannot take a ``random_state`` under scikit-learn >= 1.x (its base class rejects
``random_state`` with ``shuffle=False``) and draws its tie breaks from numpy's *global* RNG; we seed that RNG
for the call and restore its previous state afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .. import paths

logger = logging.getLogger(__name__)

DEFAULT_SPLIT_NAMES = ("train", "val", "test")


def _normalise_fractions(fractions: Mapping[str, float] | Sequence[float]) -> dict[str, float]:
    if isinstance(fractions, Mapping):
        out = {str(k): float(v) for k, v in fractions.items()}
    else:
        fractions = list(fractions)
        if len(fractions) > len(DEFAULT_SPLIT_NAMES):
            raise ValueError(f"give fractions as a dict to name more than {len(DEFAULT_SPLIT_NAMES)} splits")
        out = dict(zip(DEFAULT_SPLIT_NAMES, map(float, fractions)))
    if any(v <= 0 for v in out.values()) or not np.isclose(sum(out.values()), 1.0, atol=1e-6):
        raise ValueError(f"split fractions must be positive and sum to 1, got {out}")
    return out


@contextlib.contextmanager
def seeded_numpy_global(seed: int):
    """Seed numpy's global RNG inside the block and restore the previous state after it."""
    state = np.random.get_state()
    np.random.seed(seed % (2**32))
    try:
        yield
    finally:
        np.random.set_state(state)


# ------------------------------------------------------------------------------------------- single label
def stratified_split(
    df: pd.DataFrame,
    strata: str | Sequence[str] | None,
    fractions: Mapping[str, float] | Sequence[float],
    seed: int,
) -> dict[str, pd.Index]:
    """Split ``df`` into parts of the given fractions, stratified by the joint values of the ``strata``
    columns.

    Returns ``{split_name: df.index labels}``. A stratum with fewer members than parts is pooled into one
    "rare" stratum (sklearn needs at least 2 per class); deterministic for a given seed and row order.
    """

    fractions = _normalise_fractions(fractions)
    names = list(fractions)
    if strata is None:
        labels = pd.Series("all", index=df.index)
    else:
        columns = [strata] if isinstance(strata, str) else list(strata)
        labels = df[columns].astype(str).agg("|".join, axis=1)
    out: dict[str, pd.Index] = {}
    remaining = df.index
    remaining_share = 1.0
    for i, name in enumerate(names[:-1]):
        share = fractions[name] / remaining_share
        lab = labels.loc[remaining]
        counts = lab.value_counts()
        rare = lab.isin(counts[counts < 2].index)
        lab = lab.where(~rare, "__rare__")
        if (lab == "__rare__").sum() == 1:  # a lone rare row joins the biggest stratum
            lab = lab.where(lab != "__rare__", counts.index[0])
        stratify = lab if lab.nunique() > 1 else None
        try:
            taken, rest = train_test_split(
                remaining, train_size=share, random_state=seed + i, stratify=stratify
            )
        except ValueError:  # too few rows for a stratified cut of this size: fall back to a seeded random cut
            taken, rest = train_test_split(remaining, train_size=share, random_state=seed + i)
        out[name] = pd.Index(taken)
        remaining = pd.Index(rest)
        remaining_share -= fractions[name]
    out[names[-1]] = remaining
    return out


# ---------------------------------------------------------------------------------------------- manifests
def fingerprint(keys: Iterable[Any], labels: Iterable[Any] | None = None) -> str:
    """sha256 over the sorted (key, label) pairs: changes when rows or their labels change, not with row
    order."""
    keys = list(map(str, keys))
    labels = list(map(str, labels)) if labels is not None else [""] * len(keys)
    h = hashlib.sha256()
    for key, label in sorted(zip(keys, labels)):
        h.update(f"{key}\t{label}\n".encode())
    return h.hexdigest()


def save_manifest(path: str | Path, manifest: dict[str, Any]) -> Path:
    """Write a manifest atomically (write to a temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, path)
    return path


def load_or_create_manifest(
    path: str | Path, make_splits: Callable[[], Mapping[str, Iterable[Any]]], meta: Mapping[str, Any]
) -> tuple[dict[str, Any], bool]:
    """Return ``(manifest, reused)``.

    ``meta`` identifies the inputs (e.g. ``{"name": "phase1", "seed": 42, "fractions": {...},
    "fingerprint": fingerprint(keys, labels)}``). If ``path`` holds a manifest whose entries for every
    ``meta`` key are equal, it is loaded and reused; otherwise ``make_splits()`` (``{split: keys}``) is called
    and the new manifest is written (replacing a stale one, with a log message).
    """
    path = Path(path)
    meta = json.loads(json.dumps(dict(meta)))  # normalise tuples/numpy to JSON types for comparison
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            old = None
        if old is not None and all(old.get(k) == v for k, v in meta.items()) and "splits" in old:
            return old, True
        shown = paths.shown(path)  # the log reaches executed notebooks: no machine path
        logger.warning("split manifest %s does not match the current inputs; rebuilding it", shown)
    splits = {name: [str(k) for k in keys] for name, keys in make_splits().items()}
    manifest = {
        **meta,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sizes": {name: len(keys) for name, keys in splits.items()},
        "splits": splits,
    }
    save_manifest(path, manifest)
    return manifest, False


def apply_manifest(
    df: pd.DataFrame, manifest: Mapping[str, Any], key: str | pd.Series
) -> dict[str, pd.DataFrame]:
    """``{split: rows of df}`` following the manifest; ``key`` is a column name or a Series of keys.

    Raises ``KeyError`` if the manifest names a key that ``df`` lacks (the data changed: rebuild the
    manifest).
    """
    keys = df[key] if isinstance(key, str) else key
    position = pd.Series(np.arange(len(df)), index=keys.astype(str).to_numpy())
    out = {}
    for name, split_keys in manifest["splits"].items():
        missing = [k for k in split_keys if k not in position.index]
        if missing:
            raise KeyError(
                f"manifest split {name!r} names {len(missing)} key(s) not in the data, e.g. "
                f"{missing[:3]}: the inputs changed; delete the manifest to rebuild it"
            )
        out[name] = df.iloc[position.loc[split_keys].to_numpy()]
    return out
