"""Figures of the data notebook (``data_*``): seaborn, one function per figure; each saves the figure with
:func:`hatespeech.plots.save_figure` and returns it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from . import save_figure


def label_distribution(dist: pd.DataFrame, caption: str | None = None, name: str = "data_label_distribution"):
    """One horizontal bar panel per source: rows per label
    (``hatespeech.data.summary.label_distribution``)."""
    sources = list(dict.fromkeys(dist["source"]))
    ncols = 3
    nrows = int(np.ceil(len(sources) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(13, 2.6 * nrows), squeeze=False)
    for ax, source in zip(axes.flat, sources):
        part = dist[dist["source"] == source].sort_values("count", ascending=False)
        sns.barplot(data=part, y="label", x="count", ax=ax, color=sns.color_palette()[0], orient="h")
        ax.set(title=source, xlabel="rows", ylabel="")
        ax.tick_params(axis="y", labelsize=7)
        for patch, share in zip(ax.patches, part["share"]):
            ax.text(
                patch.get_width(),
                patch.get_y() + patch.get_height() / 2,
                f" {share:.0%}",
                va="center",
                fontsize=7,
            )
    for ax in list(axes.flat)[len(sources) :]:
        ax.axis("off")
    fig.suptitle("Label distribution per corpus (rows kept after validation)")
    fig.tight_layout()
    save_figure(fig, name, caption)
    return fig


def length_histograms(
    lengths: pd.DataFrame, caption: str | None = None, name: str = "data_length_hist", clip: int = 80
):
    """Words per text (whitespace tokens) per source, clipped at ``clip`` words."""
    df = lengths.assign(n_words=lengths["n_words"].clip(upper=clip))
    grid = sns.displot(
        data=df,
        x="n_words",
        col="source",
        col_wrap=4,
        binwidth=2,
        height=2.2,
        aspect=1.4,
        facet_kws={"sharey": False},
    )
    grid.set_titles("{col_name}")
    grid.set_axis_labels(f"words per text (clipped at {clip})", "texts")
    grid.figure.suptitle("Text lengths", y=1.02)
    save_figure(grid.figure, name, caption)
    return grid.figure


def prefix_label_by_length(
    prefix_df: pd.DataFrame, caption: str | None = None, name: str = "data_prefix_counts"
):
    """Phase-2 set: left, sentences per length and class (every sentence gives ``n_words`` prefixes); right,
    mean prefix label by share of the sentence seen (w_len) per corpus class."""
    sentences = prefix_df.drop_duplicates(["split", "sentence_id"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    sns.histplot(data=sentences, x="n_words", hue="corpus_class", multiple="stack", binwidth=1, ax=left)
    left.set(
        title=f"{len(sentences)} sentences, {len(prefix_df)} prefixes",
        xlabel="words per sentence",
        ylabel="sentences",
    )
    binned = prefix_df.assign(w_len_bin=(np.ceil(prefix_df["w_len"] * 10) / 10).clip(0.1, 1.0))
    sns.lineplot(
        data=binned, x="w_len_bin", y="label", hue="corpus_class", marker="o", errorbar=("ci", 95), ax=right
    )
    right.set(
        title="P(hateful | prefix) label vs share seen",
        xlabel="w_len (binned to 0.1)",
        ylabel="mean label",
        ylim=(0, 1),
    )
    fig.tight_layout()
    save_figure(fig, name, caption)
    return fig


def split_sizes(table: pd.DataFrame, caption: str | None = None, name: str = "data_phase1_splits"):
    """Phase-1 rows per source, label and split (``hatespeech.data.summary.split_table``)."""
    long = table.melt(id_vars=["source", "label"], var_name="split", value_name="rows")
    long["group"] = long["source"] + " / " + long["label"].map({0: "not hate", 1: "hate"})
    fig, ax = plt.subplots(figsize=(9, 0.35 * long["group"].nunique() + 1.5))
    sns.barplot(data=long, y="group", x="rows", hue="split", orient="h", ax=ax)
    ax.set(title="Phase-1 split (stratified by source x label)", xlabel="rows", ylabel="")
    fig.tight_layout()
    save_figure(fig, name, caption)
    return fig
