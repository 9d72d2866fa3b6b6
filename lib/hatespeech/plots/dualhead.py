"""Figures of the dual-head experiment (``dualhead_*``) and the focal grid (``grid_*``); seaborn / matplotlib,
one function per figure, each returning the Figure after saving it with
:func:`hatespeech.plots.save_figure`."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..metrics.classification import pr_curve
from . import save_figure


def _save(fig, name: str, caption: str | None):
    """Lay out with room at the bottom for the caption line (rotated tick labels would run into it)."""
    fig.tight_layout(rect=(0, 0.06 if caption else 0, 1, 1))
    save_figure(fig, name, caption)


def pr_curves(
    y_true: np.ndarray,
    y_prob: np.ndarray,
    names: Sequence[str],
    head: str,
    caption: str | None = None,
    name: str | None = None,
):
    """Precision-recall curve per label of one head (test split, masked entries left out), AP in the
    legend."""
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    palette = sns.color_palette("tab20", len(names))
    skipped = []
    for j, label in enumerate(names):
        curve = pr_curve(y_true[:, j], y_prob[:, j])
        if curve is None:
            skipped.append(label)
            continue
        precision, recall, ap = curve
        ax.step(recall, precision, where="post", color=palette[j], lw=1.4, label=f"{label} (AP {ap:.2f})")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"Precision-recall per label, {head} (test)",
    )
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    if skipped:
        ax.text(
            0.01,
            0.01,
            f"no curve (single class in test): {', '.join(skipped)}",
            transform=ax.transAxes,
            fontsize=7,
            color="0.4",
        )
    _save(fig, name or f"dualhead_pr_{head}", caption)
    return fig


def per_label_f1(reports: dict[str, dict], caption: str | None = None, name: str = "dualhead_per_label_f1"):
    """Test F1 per label at threshold 0.5 and at the validation-tuned thresholds, both heads."""
    rows = []
    for head, report in reports.items():
        for setting, key in (("0.5", "test_at_0.5"), ("tuned on val", "test_tuned")):
            table = report[key]
            rows += [
                {"head": f"head_{head}", "label": label, "threshold": setting, "F1": f1}
                for label, f1 in table["f1"].items()
            ]
    frame = pd.DataFrame(rows)
    heads = list(reports)
    widths = [max(1, len(reports[h]["test_tuned"])) for h in heads]
    fig, axes = plt.subplots(
        1,
        len(heads),
        figsize=(4 + 0.45 * sum(widths), 4.2),
        gridspec_kw={"width_ratios": widths},
        squeeze=False,
    )
    for ax, head in zip(axes[0], heads):
        sns.barplot(frame[frame["head"] == f"head_{head}"], x="label", y="F1", hue="threshold", ax=ax)
        ax.set(title=f"head_{head}: test F1 per label", xlabel="", ylim=(0, 1))
        ax.tick_params(axis="x", rotation=60, labelsize=8)
        for tick in ax.get_xticklabels():
            tick.set_ha("right")
    _save(fig, name, caption)
    return fig


def rare_confusion(summary: pd.DataFrame, head: str, caption: str | None = None, name: str | None = None):
    """2x2 confusion matrices (test, tuned thresholds) of the rarest labels of one head."""
    n = len(summary)
    fig, axes = plt.subplots(1, max(n, 1), figsize=(2.8 * max(n, 1), 2.9), squeeze=False)
    for ax, (label, row) in zip(axes[0], summary.iterrows()):
        matrix = np.array([[row["tn"], row["fp"]], [row["fn"], row["tp"]]], dtype=int)
        sns.heatmap(
            matrix,
            annot=True,
            fmt="d",
            cbar=False,
            cmap="Blues",
            ax=ax,
            xticklabels=["pred 0", "pred 1"],
            yticklabels=["true 0", "true 1"],
        )
        extra = f", {int(row['train_positives'])} train pos" if pd.notna(row.get("train_positives")) else ""
        ax.set_title(f"{label}\n(t={row['threshold']:.2f}{extra})", fontsize=9)
    fig.suptitle(f"Rarest labels of head_{head}: test confusion at tuned thresholds", fontsize=10, y=1.04)
    _save(fig, name or f"dualhead_rare_confusion_{head}", caption)
    return fig


def bias_subgroups(
    per_subgroup: pd.DataFrame,
    final: float,
    caption: str | None = None,
    name: str = "dualhead_bias_subgroups",
):
    """Subgroup / BPSN / BNSP AUC per identity subgroup, with the final bias-metric value in the title."""
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(per_subgroup) + 3), 4.2))
    if per_subgroup.empty:
        ax.text(0.5, 0.5, "no subgroup had enough test examples of both classes", ha="center", va="center")
        ax.set_axis_off()
    else:
        frame = (
            per_subgroup[["subgroup_auc", "bpsn_auc", "bnsp_auc"]]
            .reset_index()
            .melt(id_vars="subgroup", var_name="AUC", value_name="value")
        )
        sns.barplot(frame, x="subgroup", y="value", hue="AUC", ax=ax)
        ax.axhline(0.5, color="0.5", lw=0.8, ls="--")
        ax.set(ylim=(0, 1), ylabel="AUC", xlabel="")
        ax.tick_params(axis="x", rotation=45)
        ax.legend(title="AUC", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    score = "n/a" if math.isnan(final) else f"{100 * final:.2f}"
    ax.set_title(f"Bias AUCs per subgroup (final metric x100 = {score})")
    _save(fig, name, caption)
    return fig


def shared_vs_separate(
    comparison: pd.DataFrame, caption: str | None = None, name: str = "dualhead_shared_vs_separate"
):
    """Macro-F1 per head and training time: one shared encoder vs two separate models."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2, 1]})
    cols = [c for c in comparison.columns if c.startswith("head_")]
    frame = comparison[cols].reset_index().melt(id_vars="setup", var_name="metric", value_name="macro-F1")
    sns.barplot(frame, x="metric", y="macro-F1", hue="setup", ax=left)
    left.set(ylim=(0, 1), xlabel="", title="Test macro-F1")
    left.tick_params(axis="x", rotation=15, labelsize=8)
    left.legend(fontsize=8)
    # the shared route's cost counts every joint model of its lambda search when the table has it
    seconds = (
        "train seconds incl. selection" if "train seconds incl. selection" in comparison else "train seconds"
    )
    sns.barplot(comparison.reset_index(), x="setup", y=seconds, ax=right)
    right.set(
        xlabel="",
        ylabel="seconds",
        title="Training time incl. the lambda search" if seconds != "train seconds" else "Training time (s)",
    )
    right.tick_params(axis="x", rotation=15, labelsize=8)
    _save(fig, name, caption)
    return fig


def grid_heatmap(
    grid: pd.DataFrame,
    value: str = "val_macro_f1",
    caption: str | None = None,
    name: str = "grid_focal_heatmap",
    pick: tuple[float, float] | None = None,
):
    """gamma x alpha heatmap of an identity-head macro-F1 column of the grid table; the pick is outlined."""
    table = grid.pivot(index="gamma", columns="alpha", values=value)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    sns.heatmap(table, annot=True, fmt=".3f", cmap="viridis", ax=ax, cbar_kws={"label": value})
    if pick is not None:
        row = list(table.index).index(pick[0])
        col = list(table.columns).index(pick[1])
        ax.add_patch(plt.Rectangle((col, row), 1, 1, fill=False, edgecolor="red", lw=2.5))
    ax.set(title=f"Focal grid: identity-head {value.replace('_', ' ')}", xlabel="alpha", ylabel="gamma")
    _save(fig, name, caption)
    return fig


def training_curves(
    histories: dict[str, pd.DataFrame], caption: str | None = None, name: str = "dualhead_training_loss"
):
    """Training loss per logged step for each trained model (joint loss for the dual head)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for label, history in histories.items():
        rows = history.dropna(subset=["loss"]) if "loss" in history else history.iloc[0:0]
        if len(rows):
            ax.plot(rows["step"], rows["loss"], marker="o", ms=3, label=label)
    ax.set(xlabel="step", ylabel="training loss", title="Training loss")
    ax.legend(fontsize=8)
    _save(fig, name, caption)
    return fig
