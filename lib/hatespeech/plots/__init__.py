"""Figures of the report (seaborn), one function per figure, grouped by experiment in submodules."""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.text import Text

from .. import paths

DPI = 150
CSS_DPI = 96  # a browser (and the PDF printer) shows an image at 96 pixels per inch before scaling it down
#: The printed report's frame for a figure: A4 minus the page margins (hatespeech.publish.export's @page),
#: and the tallest a figure may be (its max-height there).
PRINT_WIDTH_IN = (210 - 22) / 25.4
PRINT_HEIGHT_IN = 235 / 25.4
#: The smallest text a figure may print at, in points (the report's tables print at 7.5 pt).
MIN_PRINT_PT = 7.0
#: The most pixels per printed inch a figure keeps: a wide figure shrunk onto the page would otherwise print
#: at 300+ ppi, bytes that every copy of it (PNG, notebook, HTML, PDF) carries and no reader sees.
MAX_PRINT_PPI = 200


def print_scale(fig) -> float:
    """How much the printed report shrinks (< 1) or grows ``fig``: its natural size at :data:`DPI` shown at
    96 px per inch, scaled down to fit :data:`PRINT_WIDTH_IN` x :data:`PRINT_HEIGHT_IN`."""
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    return min(DPI / CSS_DPI, PRINT_WIDTH_IN / box.width, PRINT_HEIGHT_IN / box.height)


def _texts(fig) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def fit_text_for_print(fig) -> float:
    """Enlarge every text of ``fig`` (titles, labels, ticks, legends, annotations) that would print below
    :data:`MIN_PRINT_PT` on an A4 page, and return the smallest printed size that remains.

    Why by hand: matplotlib sizes text in points of the figure, not of the page it lands on; a 10-inch figure
    printed 7.4 inches wide shrinks its 8-pt ticks to 6 pt. Enlarging text can widen the figure (a legend
    outside the axes), which shrinks it on the page again, so this repeats until it holds."""
    for _ in range(4):
        fig.canvas.draw()
        scale = print_scale(fig)
        small = [t for t in _texts(fig) if t.get_fontsize() * scale < MIN_PRINT_PT - 1e-6]
        if not small:
            break
        for text in small:
            text.set_fontsize(MIN_PRINT_PT / scale * 1.02)  # a margin for the next pass's wider box
    fig.canvas.draw()
    return min((t.get_fontsize() for t in _texts(fig)), default=MIN_PRINT_PT) * print_scale(fig)


def save_figure(fig, name: str, caption: str | None = None) -> Path:
    """Save ``fig`` as reports/figures/<name>.png (tight, 150 dpi or less, :func:`save_dpi`) and return the
    path.

    ``caption`` (e.g. the profile / data / hardware line from :func:`hatespeech.stamp.caption`) is written
    under the axes so the figure says what produced it even when it travels alone. Text too small for the
    printed report is enlarged first (:func:`fit_text_for_print`).
    """
    if caption:
        fig.text(0.01, 0.005, caption, fontsize=7, color="0.35", ha="left", va="bottom")
    fit_text_for_print(fig)
    path = paths.figures_dir() / f"{name}.png"
    buffer, dpi = io.BytesIO(), save_dpi(fig)
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    buffer.seek(0)
    _write_compact_png(buffer, path)
    _show_in_notebook(fig, path, dpi)
    return path


def save_dpi(fig) -> float:
    """:data:`DPI`, lowered for a figure the page shrinks so that it prints at :data:`MAX_PRINT_PPI` at most.
    Its printed size does not change: the image stays wider (or taller) than the page frame at 96 px/in."""
    return min(DPI, MAX_PRINT_PPI * print_scale(fig))


def _show_in_notebook(fig, path: Path, dpi: float) -> None:
    """In a notebook (inline backend), show the saved palette PNG and close ``fig``, instead of letting the
    backend render it again as a full-colour PNG at cell end: the executed notebooks and their HTML pages,
    part of the published report, then carry each figure at about a third of the bytes. Elsewhere (scripts,
    tests) nothing happens and ``fig`` stays open for the caller."""
    import matplotlib

    if "inline" not in matplotlib.get_backend():
        return
    from IPython.display import Image, display  # inside: only a notebook displays
    from matplotlib import pyplot as plt
    from PIL import Image as PILImage

    with PILImage.open(path) as png:
        width = png.width
    display(Image(filename=str(path), width=round(width * 100 / dpi)))  # the size the inline backend shows
    plt.close(fig)


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
