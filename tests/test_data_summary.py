"""The data notebook's tables, metrics payload and figures, on the fixture corpora."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from hatespeech import paths
from hatespeech.config import get_profile
from hatespeech.data import (
    SHARED_SOURCES,
    build_phase1_corpus,
    load_prefix_probability,
    load_sources,
    phase1_splits,
    summary,
)
from hatespeech.plots import data as plots

FIXTURES = Path(__file__).parent / "fixtures" / "data"


def test_tables_payload_and_figures(tmp_path):
    sources = load_sources(SHARED_SOURCES, FIXTURES)
    table = summary.corpus_table(sources)
    assert table["source"].tolist() == list(SHARED_SOURCES)
    row = table.set_index("source").loc["stormfront"]
    assert (row["rows_raw"], row["rows_kept"]) == (8, 6)
    assert row["filtered"] == "label_idk_skip: 1, label_relation: 1" and row["licence"] == "CC BY-SA 3.0 ES"
    dist = summary.label_distribution(sources)
    davidson = dist[dist["source"] == "davidson"].set_index("label")["count"].to_dict()
    assert davidson == {"2 neither": 3, "0 hate_speech": 2, "1 offensive": 2}
    prefixes = load_prefix_probability("all", FIXTURES)
    stats = summary.prefix_summary(prefixes)
    assert stats["train"]["sentences"] == 2 and stats["test"]["sentences"] == 1
    assert stats["train"]["prefixes"] + stats["test"]["prefixes"] == len(prefixes)

    profile = get_profile("smoke", **{"data.phase1_max_rows_per_source": None})
    corpus, report = build_phase1_corpus(profile, data_dir=FIXTURES, prefix_df=prefixes)
    splits = phase1_splits(profile, corpus, report, path=tmp_path / "phase1.json")
    payload = summary.data_result(profile, sources, report, splits, prefixes).to_json()
    json.dumps(payload, allow_nan=False)  # JSON-serialisable as is
    assert payload["sources"]["olid"]["rows_raw"] == 12 and payload["sources"]["olid"]["filtered"] == {
        "empty_after_cleaning": 1
    }
    assert sum(payload["splits"]["phase1"]["sizes"].values()) == len(corpus)
    by = payload["splits"]["phase1"]["by_source_label"]
    assert sum(v["train"] + v.get("selection", 0) + v["val"] for v in by.values()) == len(corpus)

    lengths = summary.text_lengths(sources)
    figures = [
        plots.label_distribution(dist, "cap"),
        plots.length_histograms(lengths),
        plots.prefix_label_by_length(prefixes),
        plots.split_sizes(summary.split_table(splits.frames)),
    ]
    assert len(figures) == 4
    for name in ("data_label_distribution", "data_length_hist", "data_prefix_counts", "data_phase1_splits"):
        assert (paths.figures_dir() / f"{name}.png").stat().st_size > 1000
