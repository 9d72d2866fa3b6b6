"""Figures of the report (seaborn), one function per figure, grouped by experiment in submodules."""

from __future__ import annotations

import io
from pathlib import Path

from .. import paths


def save_figure(fig, name: str, caption: str | None = None) -> Path:
    """Save ``fig`` as reports/figures/<name>.png (tight, 150 dpi) and return the path.

    ``caption`` (e.g. the profile / data / hardware line from :func:`hatespeech.stamp.caption`) is written
    under the axes so the figure says what produced it even when it travels alone.
    """
    if caption:
        fig.text(0.01, 0.005, caption, fontsize=7, color="0.35", ha="left", va="bottom")
    path = paths.figures_dir() / f"{name}.png"
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    buffer.seek(0)
    _write_compact_png(buffer, path)
    return path


def _write_compact_png(buffer, path: Path) -> None:
    """Save as a 256-colour palette PNG: about 2.5x smaller for seaborn/matplotlib plots, looks the same.

    Each figure is stored several times in the published report (PNG, report.html, report.pdf), which must
    stay within its size budget.
    """
    from PIL import Image  # inside: only this check reads images back

    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        palette.save(path, format="PNG", optimize=True)
