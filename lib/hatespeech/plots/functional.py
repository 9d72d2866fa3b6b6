"""Figures of the functional tests (``functional_*``): HateCheck AUC and balanced accuracy per system,
accuracy per functionality and system, and the phase 1 -> phase 2 -> rehearsal comparison;
seaborn / matplotlib, each saved with
:func:`hatespeech.plots.save_figure`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from . import save_figure


def functional_heatmap(
    accuracy: pd.DataFrame, systems, caption: str | None = None, name: str = "functional_heatmap"
):
    """Functionality x system accuracy (hateful functionalities first, then non-hateful), annotated."""
    part = accuracy[accuracy["grouping"] == "functionality"]
    table = part.pivot(index="value", columns="system", values="accuracy")[list(systems)]
    hateful = sorted(f for f in table.index if not f.endswith("_nh"))
    table = table.loc[hateful + sorted(f for f in table.index if f.endswith("_nh"))]
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(table.columns), 0.32 * len(table) + 2.4))
    sns.heatmap(
        table,
        annot=True,
        fmt=".2f",
        cmap="RdYlGn",
        vmin=0,
        vmax=1,
        ax=ax,
        annot_kws={"fontsize": 7},
        cbar_kws={"label": "accuracy"},
    )
    ax.axhline(len(hateful), color="black", lw=1.5)
    ax.set(
        title="HateCheck accuracy per functionality (above the line: hateful; below: non-hateful)",
        xlabel="",
        ylabel="",
    )
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    plt.setp(ax.get_xticklabels(), ha="right")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout(rect=(0, 0.04 if caption else 0, 1, 1))
    save_figure(fig, name, caption)
    return fig


def forgetting_bars(
    accuracy: pd.DataFrame, systems, caption: str | None = None, name: str = "functional_forgetting"
):
    """Accuracy on hateful and on non-hateful cases with 95% template intervals, per system."""
    part = accuracy[(accuracy["grouping"] == "label_gold") & accuracy["system"].isin(list(systems))]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(systems) + 1.8), sharey=True)
    for ax, label in zip(axes, ("hateful", "non-hateful")):
        rows = part[part["value"] == label].set_index("system").loc[list(systems)]
        y = range(len(rows))
        ax.errorbar(
            rows["accuracy"],
            y,
            xerr=[rows["accuracy"] - rows["low"], rows["high"] - rows["accuracy"]],
            fmt="o",
            capsize=3,
        )
        ax.set(
            yticks=list(y),
            yticklabels=list(rows.index),
            xlim=(0, 1),
            xlabel="accuracy",
            title=f"{label} cases",
        )
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    fig.tight_layout(rect=(0, 0.06 if caption else 0, 1, 1))
    save_figure(fig, name, caption)
    return fig


def discrimination_bars(
    discrimination: pd.DataFrame, caption: str | None = None, name: str = "functional_discrimination"
):
    """Per system, ROC AUC and balanced accuracy (at its held-out threshold) with 95% family intervals; the
    0.5 line is what a constant (or a coin) scores on both."""
    rows = discrimination.sort_values("auc", ascending=False).reset_index(drop=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(rows) + 1.8), sharey=True)
    for ax, (measure, label) in zip(
        axes, (("auc", "ROC AUC (no threshold)"), ("balanced_accuracy", "balanced accuracy"))
    ):
        reference = rows["system"].str.startswith("reference:")
        for part, color in ((rows[~reference], "C0"), (rows[reference], "0.55")):
            ax.errorbar(
                part[measure],
                part.index,
                xerr=[part[measure] - part[f"{measure}_low"], part[f"{measure}_high"] - part[measure]],
                fmt="o",
                color=color,
                capsize=3,
            )
        y = range(len(rows))
        ax.axvline(0.5, color="black", linewidth=0.8, linestyle=":")
        ax.set(yticks=list(y), yticklabels=list(rows["system"]), xlim=(0.3, 1), xlabel=label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    axes[0].tick_params(axis="y", labelsize=8)
    fig.tight_layout(rect=(0, 0.06 if caption else 0, 1, 1))
    save_figure(fig, name, caption)
    return fig
