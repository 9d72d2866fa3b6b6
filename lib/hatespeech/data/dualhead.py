"""Dual-head data: the merged labelled table (masked labels) and its split manifests.

The labels come from the label map of :mod:`hatespeech.data.dualhead_labels` (one table of rules; the offline
and Jigsaw label sets are described there): every label of every row is 1, 0 or NaN (masked: the row's
source does not annotate it). :func:`load_table` / :func:`build_table` apply it to the sources and drop
duplicate texts; :func:`make_splits` / :func:`load_or_make_splits` split the result.

Splits
------
80/15/5 train/val/test by iterative multi-label stratification (scikit-multilearn's
``IterativeStratification``) over the labels' positives plus one indicator column per source, so every split
keeps each source's share and each label's positives (:func:`iterative_folds`, the project's one multi-label
stratifier; its matrix, :func:`stratification_matrix`, counts NaN (masked) as "not a positive"). Labels with
fewer than ``min_positives`` (2) positives in the sampled pool are dropped before splitting and named in the
manifest. The train split can then be capped (``max_train_samples``; again by iterative stratification, so
rare labels keep their share) and val / test capped at ``max_eval_samples``. The manifest
(``artifacts_dir()/<profile>/splits/dualhead_split.csv`` + a ``.json`` with the settings, label counts and
dropped labels) is written once and reused by notebooks 04 and 05.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from skmultilearn.model_selection import IterativeStratification

from .. import paths
from .dualhead_labels import (
    DATA_DESCRIPTION,
    LABEL_MAPS,
    OFFLINE_MASKED_VALUES,
    apply_label_map,
    jigsaw_rules,
    label_names,
)
from .hatecheck import hatecheck_overlap
from .registry import load_cases, load_source
from .splits import seeded_numpy_global

SPLITS = ("train", "val", "test")


# ------------------------------------------------------------------------------------------------ the table
@dataclass
class DualHeadTable:
    """The labelled pool before splitting."""

    mode: str
    df: pd.DataFrame
    label_names_n: list[str]
    label_names_i: list[str]
    filtered: dict[str, int]
    rows_raw: dict[str, int]
    data: str

    @property
    def label_names(self) -> list[str]:
        return [*self.label_names_n, *self.label_names_i]


def build_table(
    frames: dict[str, pd.DataFrame],
    mode: str = "offline",
    threshold: float = 0.5,
    rows_raw: dict[str, int] | None = None,
    filtered: dict[str, int] | None = None,
) -> DualHeadTable:
    """Label-map source frames and drop exact duplicate texts (counted as ``duplicate_text``: a text in both
    train and test would leak)."""
    rules = jigsaw_rules(threshold) if mode == "jigsaw" else LABEL_MAPS[mode]
    masked = OFFLINE_MASKED_VALUES if mode == "offline" else {}
    table = apply_label_map(frames, rules, masked)
    filtered = dict(filtered or {})
    key = table["text"].str.lower().str.strip()
    duplicated = key.duplicated(keep="first").to_numpy()
    if duplicated.any():
        filtered["duplicate_text"] = filtered.get("duplicate_text", 0) + int(duplicated.sum())
        table = table.loc[~duplicated].reset_index(drop=True)
    return DualHeadTable(
        mode,
        table,
        label_names(rules, "n"),
        label_names(rules, "i"),
        filtered,
        dict(rows_raw or {name: len(f) for name, f in frames.items()}),
        DATA_DESCRIPTION[mode],
    )


def load_table(profile) -> DualHeadTable:
    """The dual-head table for a profile: Jigsaw when ``profile.data.jigsaw_csv`` is set, else offline."""
    threshold = profile.dualhead.label_threshold
    if profile.data.jigsaw_csv:
        loaded = {"jigsaw": load_source("jigsaw", path=profile.data.jigsaw_csv)}
        mode = "jigsaw"
    else:
        loaded = {name: load_source(name) for name in ("toxigen", "olid")}
        mode = "offline"
    filtered: dict[str, int] = {}
    frames = {}
    cases = load_cases()  # HateCheck is evaluation only: its cases never train
    for name, source in loaded.items():
        for reason, n in source.filtered.items():
            filtered[f"{name}:{reason}"] = int(n)
        overlap = hatecheck_overlap(source.df, cases).to_numpy()
        filtered[f"{name}:hatecheck_case"] = int(overlap.sum())
        frames[name] = source.df.loc[~overlap].reset_index(drop=True)
    return build_table(
        frames,
        mode,
        threshold,
        rows_raw={n: int(s.rows_raw) for n, s in loaded.items()},
        filtered=filtered,
    )


# ------------------------------------------------------------------------------------------------ splitting
def stratification_matrix(table: pd.DataFrame, names: Sequence[str]) -> np.ndarray:
    """Positives (NaN counts as not positive) plus one indicator column per source."""
    positives = (table[list(names)].to_numpy(dtype=np.float64) == 1).astype(int)
    sources = pd.get_dummies(table["source"]).to_numpy(dtype=int)
    return np.hstack([positives, sources])


def iterative_folds(y: np.ndarray, fractions: Sequence[float], seed: int) -> np.ndarray:
    """Fold number per row (0..len(fractions)-1), fold k holding about ``fractions[k]`` of the rows.

    scikit-multilearn's ``IterativeStratification`` draws from numpy's global RNG (its ``random_state`` is
    refused by current sklearn), so the rows are permuted with a seeded generator and the global RNG is
    seeded (and restored) around the call (:func:`hatespeech.data.splits.seeded_numpy_global`).
    """
    fractions = [float(f) for f in fractions]
    if abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"split fractions {fractions} must sum to 1")
    n = len(y)
    order = np.random.default_rng(seed).permutation(n)
    with seeded_numpy_global(seed):
        stratifier = IterativeStratification(
            n_splits=len(fractions), order=1, sample_distribution_per_fold=fractions
        )
        fold_of = np.full(n, -1)
        for k, (_, held) in enumerate(stratifier.split(np.zeros((n, 1)), y[order])):
            fold_of[order[held]] = k
    assert (fold_of >= 0).all()
    return fold_of


def _take(y: np.ndarray, n_take: int | None, seed: int) -> np.ndarray:
    """Boolean mask keeping about ``n_take`` rows, stratified like the splits."""
    n = len(y)
    if n_take is None or n_take >= n:
        return np.ones(n, dtype=bool)
    if n_take <= 0:
        raise ValueError(f"cannot keep {n_take} rows")
    return iterative_folds(y, [n_take / n, 1 - n_take / n], seed) == 0


@dataclass
class DualHeadSplits:
    """Split manifest + the labelled rows of each split (only the rows used by this profile)."""

    table: DualHeadTable
    manifest: pd.DataFrame  # uid, source, split, in_sample
    label_names_n: list[str]
    label_names_i: list[str]
    dropped_labels: dict[str, str]
    info: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def frame(self, split: str, source: str | None = None) -> pd.DataFrame:
        rows = self.manifest[(self.manifest["split"] == split) & self.manifest["in_sample"]]
        out = self.table.df.set_index("uid").loc[rows["uid"]].reset_index()
        return out if source is None else out[out["source"] == source].reset_index(drop=True)

    def labels(self, split: str, head: str) -> np.ndarray:
        names = self.label_names_n if head == "n" else self.label_names_i
        return self.frame(split)[names].to_numpy(dtype=np.float64)

    @property
    def label_names(self) -> list[str]:
        return [*self.label_names_n, *self.label_names_i]

    def counts(self) -> pd.DataFrame:
        """Positives / annotated per label and split (used rows only)."""
        parts = {}
        for split in SPLITS:
            frame = self.frame(split)
            values = frame[self.label_names]
            parts[(split, "pos")] = (values == 1).sum()
            parts[(split, "annotated")] = values.notna().sum()
        return pd.DataFrame(parts)

    def summary(self) -> dict[str, Any]:
        """The ``data`` entry of ``dualhead.json``."""
        used = self.manifest[self.manifest["in_sample"]]
        return {
            "mode": self.table.mode,
            "description": self.table.data,
            "rows_raw": self.table.rows_raw,
            "filtered": self.table.filtered,
            "rows_in_pool": len(self.manifest),
            "rows_used": {s: int((used["split"] == s).sum()) for s in SPLITS},
            "rows_used_by_source": {
                f"{s}:{src}": int(n) for (s, src), n in used.groupby(["split", "source"]).size().items()
            },
            "label_names_n": self.label_names_n,
            "label_names_i": self.label_names_i,
            "dropped_labels": self.dropped_labels,
            "split_fractions": self.info.get("fractions"),
            "manifest": paths.shown(self.path) if self.path else None,
            "label_counts": {
                name: {f"{split}_{kind}": int(v) for (split, kind), v in row.items()}
                for name, row in self.counts().iterrows()
            },
        }


def make_splits(
    table: DualHeadTable,
    fractions: Sequence[float] = (0.8, 0.15, 0.05),
    seed: int = 42,
    max_rows: int | None = None,
    max_train: int | None = None,
    max_eval: int | None = None,
    min_positives: int = 2,
) -> DualHeadSplits:
    """Sample the pool (``max_rows``), drop rare labels, split 80/15/5 iteratively, cap train / eval."""
    df = table.df
    pool = np.ones(len(df), dtype=bool)
    if max_rows is not None and max_rows < len(df):
        pool = _take(stratification_matrix(df, table.label_names), max_rows, seed)
    pooled = df.loc[pool].reset_index(drop=True)
    positives = (pooled[table.label_names] == 1).sum()
    dropped = {
        name: f"{int(positives[name])} positive(s) in the pool < min_positives={min_positives}"
        for name in table.label_names
        if positives[name] < min_positives
    }
    keep_n = [n for n in table.label_names_n if n not in dropped]
    keep_i = [n for n in table.label_names_i if n not in dropped]
    y = stratification_matrix(pooled, [*keep_n, *keep_i])
    fold = iterative_folds(y, fractions, seed)
    split = np.asarray(SPLITS)[fold]
    in_sample = np.ones(len(pooled), dtype=bool)
    for name, cap in (("train", max_train), ("val", max_eval), ("test", max_eval)):
        rows = np.flatnonzero(split == name)
        in_sample[rows] = _take(y[rows], cap, seed + 1)
    manifest = pd.DataFrame(
        {"uid": pooled["uid"], "source": pooled["source"], "split": split, "in_sample": in_sample}
    )
    info = {
        "fractions": list(map(float, fractions)),
        "seed": seed,
        "max_rows": max_rows,
        "max_train": max_train,
        "max_eval": max_eval,
        "min_positives": min_positives,
    }
    return DualHeadSplits(table, manifest, keep_n, keep_i, dropped, info)


def _fingerprint(table: DualHeadTable, settings: dict[str, Any]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update("\n".join(table.df["uid"]).encode())
    digest.update(
        pd.util.hash_pandas_object(table.df[table.label_names].fillna(-1), index=False).values.tobytes()
    )
    return digest.hexdigest()[:16]


def manifest_dir(profile) -> Path:
    path = paths.artifacts_dir() / profile.name / "splits"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_or_make_splits(profile, table: DualHeadTable | None = None, rebuild: bool = False) -> DualHeadSplits:
    """The profile's split manifest: read it when it matches the data and settings, else make and save it."""
    table = table or load_table(profile)
    settings = {
        "mode": table.mode,
        "fractions": list(profile.data.dualhead_split),
        "seed": profile.seed,
        "max_rows": profile.data.dualhead_max_rows,
        "max_train": profile.dualhead.max_train_samples,
        "max_eval": profile.dualhead.max_eval_samples,
        "min_positives": 2,
        "threshold": profile.dualhead.label_threshold,
    }
    fingerprint = _fingerprint(table, settings)
    folder = manifest_dir(profile)
    csv_path, json_path = folder / "dualhead_split.csv", folder / "dualhead_split.json"
    if not rebuild and csv_path.exists() and json_path.exists():
        info = json.loads(json_path.read_text())
        if info.get("fingerprint") == fingerprint:
            manifest = pd.read_csv(csv_path, dtype={"uid": str, "source": str, "split": str})
            manifest["in_sample"] = manifest["in_sample"].astype(bool)
            return DualHeadSplits(
                table,
                manifest,
                info["label_names_n"],
                info["label_names_i"],
                info["dropped_labels"],
                info["settings"] | {"fractions": settings["fractions"]},
                csv_path,
            )
    splits = make_splits(
        table,
        settings["fractions"],
        settings["seed"],
        settings["max_rows"],
        settings["max_train"],
        settings["max_eval"],
        settings["min_positives"],
    )
    splits.path = csv_path
    splits.manifest.to_csv(csv_path, index=False)
    json_path.write_text(
        json.dumps(
            {
                "fingerprint": fingerprint,
                "settings": settings,
                "label_names_n": splits.label_names_n,
                "label_names_i": splits.label_names_i,
                "dropped_labels": splits.dropped_labels,
                "summary": splits.summary(),
            },
            indent=2,
        )
    )
    return splits
