"""Figures of the anticipation experiment (phase 1: ``phase1_*``, phase 2: ``phase2_*``), and the live demo.

One function per figure: each draws with seaborn / matplotlib, saves through
:func:`hatespeech.plots.save_figure`
(with the caption naming profile, data and hardware) and returns the Figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..names import display_name
from . import save_figure


def _history_long(history: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for column, label in (("loss", "train"), ("eval_loss", "validation")):
        if column in history:
            part = history[["variant", "step", column]].dropna(subset=[column])
            parts.append(part.rename(columns={column: "loss"}).assign(split=label))
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=["variant", "step", "loss", "split"])
    )


def training_curves(history: pd.DataFrame, name: str, title: str, caption: str | None = None):
    """Train and validation loss against the optimisation step, one panel per variant (or model)."""
    data = _history_long(history)
    variants = list(dict.fromkeys(history["variant"]))
    fig, axes = plt.subplots(1, len(variants), figsize=(3.6 * len(variants), 3.2), squeeze=False)
    for ax, variant in zip(axes[0], variants):
        part = data[data["variant"] == variant]
        sns.lineplot(
            data=part,
            x="step",
            y="loss",
            hue="split",
            style="split",
            markers=True,
            ax=ax,
            hue_order=["train", "validation"],
            style_order=["train", "validation"],
        )
        ax.set_title(variant, fontsize=10)
        ax.set_xlabel("optimisation step")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(fig, name, caption)
    return fig


def phase1_training_curves(history: pd.DataFrame, caption: str | None = None):
    """Phase-1 loss curves (weighted BCE) per variant."""
    return training_curves(
        history,
        "phase1_training_curves",
        "Phase 1: weighted BCE (w_len, pos_weight) on train and validation prefixes",
        caption,
    )


def phase1_by_length_fraction(table: pd.DataFrame, caption: str | None = None):
    """F1 and accuracy by decile of the share of the sentence seen (every prefix of every evaluation
    sentence, each sentence weighing 1), for every variant and baseline at its reported threshold."""
    data = table.copy()
    data["length_fraction"] = data["length_fraction"].astype(str)
    order = list(dict.fromkeys(data["length_fraction"]))
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True)
    for ax, metric in zip(axes, ("f1", "accuracy")):
        sns.pointplot(data=data, x="length_fraction", y=metric, hue="variant", order=order, ax=ax, dodge=0.3)
        ax.set_ylim(0, 1)
        ax.set_ylabel(metric)
        ax.legend(fontsize=8, ncol=3, loc="lower right")
    axes[-1].set_xlabel("share of the sentence seen (k / n_words), deciles")
    fig.suptitle("Phase 1: F1 and accuracy by prefix-length decile (evaluation split)", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(fig, "phase1_by_length_fraction", caption)
    return fig


def phase1_by_source(table: pd.DataFrame, caption: str | None = None):
    """Accuracy and F1 on random validation prefixes, per source corpus and variant."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in zip(axes, ("accuracy", "f1")):
        sns.barplot(data=table, x="source", y=metric, hue="variant", ax=ax)
        ax.set_ylim(0, 1)
        ax.set_title(metric)
        ax.legend(fontsize=7)
    fig.suptitle("Phase 1: random validation prefixes, per source", fontsize=11)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(fig, "phase1_by_source", caption)
    return fig


def _interval_panel(ax, intervals: Mapping[str, Mapping[str, float]], colors: Mapping[str, str], xlabel: str):
    """Point estimates with 95% interval bars, one row per system (top to bottom in the given order)."""
    names = list(intervals)
    for row, name in enumerate(names):
        iv = intervals[name]
        ax.errorbar(
            iv["estimate"],
            row,
            xerr=[[iv["estimate"] - iv["low"]], [iv["high"] - iv["estimate"]]],
            fmt="o",
            color=colors.get(name, "C0"),
            capsize=3,
        )
        ax.annotate(
            f"{iv['estimate']:.3f}",
            (iv["estimate"], row),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)


def phase1_with_baselines(
    intervals: Mapping[str, Mapping[str, Mapping[str, float]]],
    baselines: Sequence[str],
    caption: str | None = None,
):
    """F1 and accuracy of every variant and baseline on every prefix of the same evaluation sentences (each
    sentence weighing 1, at each system's selection threshold), with 95% bootstrap intervals (baselines in
    grey)."""
    colors = {name: ("0.45" if name in baselines else "C0") for name in intervals}
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * len(intervals) + 1.8), sharey=True)
    _interval_panel(axes[0], {k: v["f1"] for k, v in intervals.items()}, colors, "F1 (hateful class)")
    _interval_panel(axes[1], {k: v["accuracy"] for k, v in intervals.items()}, colors, "accuracy")
    fig.suptitle(
        "Phase 1 on every prefix of the evaluation sentences: models (blue) and baselines (grey)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(fig, "phase1_with_baselines", caption)
    return fig


def phase2_training_curves(history: pd.DataFrame, caption: str | None = None):
    """Phase-2 loss curves (weighted MSE) per model; validation = held-out train sentences."""
    return training_curves(
        history,
        "phase2_training_curves",
        "Phase 2: weighted MSE on train and held-out validation prefixes",
        caption,
    )


def phase2_mse(intervals: Mapping[str, Mapping[str, float]], caption: str | None = None):
    """Test MSE of every model and baseline with its 95% interval (resampling test sentences), lowest first;
    baselines in grey."""
    order = sorted(intervals, key=lambda k: intervals[k]["estimate"])
    colors = {
        k: ("C0" if k.startswith("phase2:") else "C1" if k.startswith("no_phase1:") else "0.45")
        for k in order
    }
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(order) + 1.6))
    _interval_panel(ax, {k: intervals[k] for k in order}, colors, "test MSE (lower is better)")
    ax.set_title(
        "Phase 2 on the prefix_probability test split: phase 1 + 2 (blue), phase 2 only (orange), "
        "baselines (grey)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    save_figure(fig, "phase2_mse", caption)
    return fig


def phase2_calibration(
    tables: Mapping[str, pd.DataFrame],
    caption: str | None = None,
    name: str = "phase2_calibration",
    title: str = "Phase 2 calibration on the test split",
):
    """Reliability: mean target against mean prediction in 10 bins of the prediction, per model."""
    fig, ax = plt.subplots(figsize=(5, 4.6))
    ax.plot([0, 1], [0, 1], color="0.6", ls=":", lw=1, label="calibrated")
    for system, table in tables.items():
        filled = table[table["n"] > 0]
        ax.plot(filled["mean_pred"], filled["mean_true"], marker="o", ms=3, label=system)
    ax.set_xlabel("mean predicted probability (bin)")
    ax.set_ylabel("mean target (mean of both passes)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, name, caption)
    return fig


def _word_axis(ax, words: Sequence[str]) -> None:
    ax.set_xticks(range(1, len(words) + 1))
    ax.set_xticklabels(words, rotation=60, ha="right", fontsize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.axhline(0.5, color="0.7", lw=0.8, ls=":")


def phase2_example_trajectories(
    texts: Sequence[str],
    trajectories: Mapping[str, Sequence[np.ndarray]],
    note: str = "",
    caption: str | None = None,
):
    """P(hateful | first k words) word by word for the seed's example sentences, one line per variant."""
    fig, axes = plt.subplots(1, len(texts), figsize=(5.2 * len(texts), 3.8), squeeze=False)
    for index, (ax, text) in enumerate(zip(axes[0], texts)):
        words = text.split()
        for variant, curves in trajectories.items():
            ax.plot(range(1, len(words) + 1), curves[index], marker="o", ms=3, label=variant)
        _word_axis(ax, words)
        ax.set_ylabel("P(hateful | prefix)")
        ax.set_title(text if len(text) < 60 else text[:57] + "...", fontsize=9)
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Phase 2 trajectories on the seed's examples" + (f" ({note})" if note else ""), fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, "phase2_example_trajectories", caption)
    return fig


def phase2_test_trajectories(
    predictions: Mapping[str, pd.DataFrame],
    sentences: pd.DataFrame,
    caption: str | None = None,
    name: str = "phase2_test_trajectories",
    title: str = "Phase 2 trajectories on test sentences, beside both annotation passes",
):
    """Test sentences: each model's trajectory beside the two annotation passes (A, B). Notebook 07 draws
    its three methods with it (``name="continuation_trajectories"``)."""
    n = len(sentences)
    fig, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.8), squeeze=False)
    for ax, row in zip(axes[0], sentences.to_dict("records")):
        words = row["sentence"].split()
        x = range(1, len(words) + 1)
        ax.plot(x, row["label_a"], color="k", ls="--", lw=1, label="annotation pass A")
        ax.plot(x, row["label_b"], color="0.5", ls=":", lw=1.2, label="annotation pass B")
        for system, frame in predictions.items():
            part = frame[frame["sentence_id"] == row["sentence_id"]].sort_values("k")
            ax.plot(part["k"], part["p_hate"], marker="o", ms=2.5, label=system)
        _word_axis(ax, words)
        ax.set_title(f"{row['sentence_id']} ({row['corpus_class']})", fontsize=9)
    axes[0][0].set_ylabel("P(hateful | prefix)")
    axes[0][0].legend(fontsize=6)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, name, caption)
    return fig


def phase2_earliness(table: pd.DataFrame, caption: str | None = None):
    """Share of words read before the first p >= 0.5 on hateful test sentences; false alarms on the rest."""
    data = table.copy()
    data["model"] = [display_name(f"{k}:{v}") for k, v in zip(data["kind"], data["variant"])]
    fig, axes = plt.subplots(1, 3, figsize=(14, 0.45 * len(data) + 1.8), sharey=True)
    for ax, (metric, label) in zip(
        axes,
        (
            ("share_seen_mean", "share of words seen at first p >= 0.5\n(hateful)"),
            ("detection_rate", "hateful sentences detected\n(by the last word)"),
            ("false_alarm_rate", "false-alarm rate\n(non-hateful)"),
        ),
    ):
        sns.barplot(
            data=data, y="model", x=metric, ax=ax, color="C0" if metric != "false_alarm_rate" else "C3"
        )
        ax.set_xlim(0, 1)
        ax.set_xlabel(label)
        ax.set_ylabel("")
    fig.suptitle("Earliness on the prefix_probability test split", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    save_figure(fig, "phase2_earliness", caption)
    return fig


def trajectory_bars(trajectory: pd.DataFrame, ax=None, title: str | None = None):
    """Per-word bars of p_hate (a trajectory frame with ``word`` and ``p_hate``), red above 0.5."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4, 0.55 * len(trajectory) + 1), 3))
    else:
        fig = ax.figure
    colors = ["C3" if p >= 0.5 else "C0" for p in trajectory["p_hate"]]
    ax.bar(range(len(trajectory)), trajectory["p_hate"], color=colors)
    ax.set_xticks(range(len(trajectory)))
    ax.set_xticklabels(trajectory["word"], rotation=45, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    ax.set_ylabel("P(hateful | words so far)")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def phase2_demo_static(trajectory: pd.DataFrame, variant: str, caption: str | None = None):
    """The static stand-in for the live demo (exported HTML / PDF): per-word bars for one text."""
    fig = trajectory_bars(trajectory, title=f"Live-demo stand-in: best phase-2 model ({variant})")
    fig.subplots_adjust(bottom=0.3)
    save_figure(fig, "phase2_demo_static", caption)
    return fig


def live_trajectory_widget(anticipator, initial_text: str = "I am not sexist, but"):
    """An ipywidgets text box whose per-word probability bars update as you type (JupyterLab).

    Scores with ``anticipator.trajectory(text)`` on every change; an empty box shows a hint. Returns the
    widget (display it as the last expression of a cell).
    """
    import ipywidgets as widgets  # inside: the live widget is for JupyterLab only
    from IPython.display import display

    box = widgets.Text(
        value=initial_text, description="Text:", continuous_update=True, layout=widgets.Layout(width="95%")
    )
    out = widgets.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            text = box.value
            if not text.split():
                print(
                    "Type a sentence: each word's bar is P(the finished sentence is hateful | words so far)."
                )
                return
            trajectory = anticipator.trajectory(text)
            fig = trajectory_bars(trajectory, title=f"{anticipator.variant}")
            display(fig)
            plt.close(fig)

    box.observe(redraw, names="value")
    redraw()
    return widgets.VBox([box, out])
