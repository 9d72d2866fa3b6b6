"""Tables and the ``data.json`` result of the data notebook (01_data), computed from loaded sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from .. import paths
from ..results import DataResult
from .base import LoadedSource
from .text import n_words

#: The label column shown per source in the corpus table and the label-distribution figure.
DISPLAY_LABEL = {
    "stormfront": "label",
    "implicit_hate": "class",
    "implicit_hate_stg2": "implicit_class",
    "implicit_hate_stg3": None,
    "davidson": "class",
    "olid": "subtask_a",
    "toxigen": "target_group",
    "ethos_binary": "hate",
    "ethos_multilabel": None,
    "hatexplain": "label",
    "prefix_probability": None,
    "hatecheck": "label_gold",
    "jigsaw": None,
}
_DAVIDSON = {0: "0 hate_speech", 1: "1 offensive", 2: "2 neither"}


def _display_labels(name: str, loaded: LoadedSource) -> pd.Series | None:
    column = DISPLAY_LABEL.get(name)
    if column is None:
        return None
    values = loaded.df[column]
    if name == "davidson":
        values = values.map(_DAVIDSON)
    if name == "ethos_binary":
        values = values.map({1.0: "hate (isHate>=0.5)", 0.0: "not hate"})
    return values.astype(str)


def corpus_table(sources: Mapping[str, LoadedSource]) -> pd.DataFrame:
    """One row per source: rows raw / kept, rows filtered per reason, label columns, licence, description."""
    rows = []
    for name, loaded in sources.items():
        labels = _display_labels(name, loaded)
        rows.append(
            {
                "source": name,
                "rows_raw": loaded.rows_raw,
                "rows_kept": loaded.rows_kept,
                "filtered": ", ".join(f"{k}: {v}" for k, v in loaded.filtered.items()) or "-",
                "repaired": ", ".join(f"{k}: {v}" for k, v in loaded.repaired.items()) or "-",
                "splits": ", ".join(f"{k} {v}" for k, v in loaded.rows_raw_by_split.items()) or "-",
                "labels": ", ".join(loaded.label_columns),
                "label_counts": (
                    "; ".join(f"{k} {v}" for k, v in labels.value_counts().items())
                    if labels is not None
                    else "-"
                ),
                "licence": loaded.licence,
                "description": loaded.description,
            }
        )
    return pd.DataFrame(rows)


def label_distribution(sources: Mapping[str, LoadedSource]) -> pd.DataFrame:
    """Long table ``source, label, count, share`` of each source's main label (see :data:`DISPLAY_LABEL`);
    ETHOS multi-label gives positives (fraction >= 0.5) per category."""
    parts = []
    for name, loaded in sources.items():
        labels = _display_labels(name, loaded)
        if labels is not None:
            counts = labels.value_counts().rename_axis("label").reset_index(name="count")
        elif name == "ethos_multilabel":
            df = loaded.df[loaded.label_columns]
            counts = (df >= 0.5).sum().rename_axis("label").reset_index(name="count")
        else:
            continue
        counts.insert(0, "source", name)
        counts["share"] = counts["count"] / len(loaded.df)
        parts.append(counts)
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["source", "label", "count", "share"])
    )


def text_lengths(sources: Mapping[str, LoadedSource]) -> pd.DataFrame:
    """``source, n_words`` for every kept text (whitespace words), prefix_probability by sentence."""
    parts = []
    for name, loaded in sources.items():
        if name == "prefix_probability":
            texts = loaded.df.drop_duplicates("sentence_id")["sentence"]
        else:
            texts = loaded.df["text"]
        parts.append(pd.DataFrame({"source": name, "n_words": texts.map(n_words).to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def prefix_summary(prefix_df: pd.DataFrame) -> dict[str, Any]:
    """Counts of the phase-2 set per split: sentences, prefixes, sentences per corpus class, mean label."""
    out: dict[str, Any] = {}
    for split, part in prefix_df.groupby("split", sort=False):
        sentences = part.drop_duplicates("sentence_id")
        out[str(split)] = {
            "sentences": len(sentences),
            "prefixes": len(part),
            "sentences_per_class": {
                str(k): int(v) for k, v in sentences["corpus_class"].value_counts().items()
            },
            "words_per_sentence": {
                "min": int(sentences["n_words"].min()),
                "median": float(sentences["n_words"].median()),
                "max": int(sentences["n_words"].max()),
            },
            "mean_label": float(part["label"].mean()),
            "share_label_zero": float((part["label"] == 0).mean()),
            "mse_between_passes": float(((part["label_a"] - part["label_b"]) ** 2).mean()),
        }
    return out


def split_table(frames: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows per split x source x label (phase-1 splits)."""
    parts = [frame.assign(split=name) for name, frame in frames.items()]
    df = pd.concat(parts, ignore_index=True)
    table = df.pivot_table(
        index=["source", "label"], columns="split", values="id", aggfunc="count", fill_value=0
    )
    return table[list(frames)].reset_index()


def data_result(
    profile,
    sources: Mapping[str, LoadedSource],
    phase1_report: Mapping[str, Any] | None = None,
    phase1_splits=None,
    prefix_df: pd.DataFrame | None = None,
    load_seconds: float | None = None,
) -> DataResult:
    """What notebook 01 writes into ``reports/metrics/data.json`` (:class:`hatespeech.results.DataResult`):
    every source's summary, the phase-1 corpus report and split, and the prefix_probability summary."""
    result = DataResult(
        profile=profile.name,
        sources={name: {**s.summary(), "description": s.description} for name, s in sources.items()},
        load_seconds=load_seconds,
    )
    if phase1_report is not None:
        result.phase1 = dict(phase1_report)
    if phase1_splits is not None:
        table = split_table(phase1_splits.frames)
        result.splits = {
            "phase1": {
                "sizes": phase1_splits.sizes(),
                "fractions": phase1_splits.manifest.get("fractions"),
                "seed": phase1_splits.manifest.get("seed"),
                "stratify": phase1_splits.manifest.get("stratify"),
                "manifest": paths.shown(phase1_splits.path) if phase1_splits.path else None,
                "manifest_reused": bool(phase1_splits.reused),
                "by_source_label": {
                    f"{r.source}|{r.label}": {s: int(getattr(r, s)) for s in phase1_splits.frames}
                    for r in table.itertuples(index=False)
                },
            }
        }
    if prefix_df is not None:
        result.prefix_probability = prefix_summary(prefix_df)
    return result
