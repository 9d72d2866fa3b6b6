"""Figures of the report (seaborn), one function per figure, grouped by experiment in submodules."""

from __future__ import annotations

from pathlib import Path

from .. import paths


def save_figure(fig, name: str, caption: str | None = None) -> Path:
    """Save ``fig`` as reports/figures/<name>.png (tight, 150 dpi) and return the path.

    ``caption`` (e.g. the profile / data / hardware line from :func:`hatespeech.report.caption`) is written
    under the axes so the figure says what produced it even when it travels alone.
    """
    if caption:
        fig.text(0.01, 0.005, caption, fontsize=7, color="0.35", ha="left", va="bottom")
    path = paths.figures_dir() / f"{name}.png"
    fig.savefig(path, dpi=150, bbox_inches="tight")
    return path
