"""Figures of the report (seaborn), one function per figure, grouped by experiment in submodules."""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib.text import Text

from .. import paths
from ..names import readable

DPI = 150
#: A saved figure carries its dpi, and the report shows it at its natural size (the figure's inches, as
#: :func:`hatespeech.report.html.figure_html` sets them), shrunk only to fit the page: the size its text
#: was made for. (Shown at the browser's 96 px per inch instead, a 150-dpi figure printed 1.6x its size,
#: so few fitted a page.)
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
    """How much the printed report shrinks ``fig`` (1: not at all): its natural size, scaled down to fit
    :data:`PRINT_WIDTH_IN` x :data:`PRINT_HEIGHT_IN`."""
    box = fig.get_tightbbox(fig.canvas.get_renderer())
    return min(1.0, PRINT_WIDTH_IN / box.width, PRINT_HEIGHT_IN / box.height)


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


def save_figure(fig, name: str, caption: str | None = None, show: bool = True) -> Path:
    """Save ``fig`` as reports/figures/<name>.png (tight, 150 dpi or less, :func:`save_dpi`) and return the
    path.

    ``caption`` (e.g. the profile / data / hardware line from :func:`hatespeech.stamp.caption`) is written
    under the axes so the figure says what produced it even when it travels alone. Every system id in the
    figure's text reads as the report names it (:func:`display_labels`); text too small for the printed
    report is enlarged (:func:`fit_text_for_print`) and overlapping tick labels untangled.
    """
    drop_empty_axes(fig)
    display_labels(fig)
    # wrapped to the figure's width, so that a long footer never widens the figure (which would shrink it on
    # the page, enlarge its text, and so on)
    footer = fig.text(0.01, 0.0, caption, fontsize=7, color="0.35", va="top", wrap=True) if caption else None
    for _ in range(3):  # fitting text for print can re-create overlaps that untangling removed, and back
        fit_text_for_print(fig)
        untangle_ticks(fig)
        if footer is not None:
            _place_footer(fig, footer)
        if not tick_overlaps(fig):
            break
    overlaps = tick_overlaps(fig)
    if overlaps:
        raise FigureLayoutError(f"figure {name}: tick labels overlap after untangling: {overlaps[:3]}")
    path = paths.figures_dir() / f"{name}.png"
    buffer, dpi = io.BytesIO(), save_dpi(fig)
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    buffer.seek(0)
    _write_compact_png(buffer, path, dpi)
    if show:  # off for a figure its caller places itself (the report's Figure 1)
        _show_in_notebook(fig, path, dpi)
    return path


def display_labels(fig) -> None:
    """Replace every system id in ``fig``'s text (tick labels, legend entries, titles, annotations) by its
    display name (:func:`hatespeech.names.readable`), so that a figure names a system as the report's text
    does, whichever plotting function drew it."""
    fig.canvas.draw()  # a category axis makes its tick labels at draw time
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels()]
            names = [readable(label) for label in labels]
            if names != labels:  # fixed from now on: a redraw would bring the ids back
                axis.set_ticks(axis.get_ticklocs(), labels=names)
    for text in fig.findobj(Text):
        label = text.get_text()
        shown = readable(label)
        if shown != label:
            text.set_text(shown)


def _place_footer(fig, footer: Text) -> None:
    """Put ``footer`` under everything else drawn, so it never covers a tick label. The print fit enlarges
    text, which moves the lowest labels down, so placing and fitting repeat until the fit changes nothing."""
    for _ in range(6):
        footer.set_visible(False)
        fig.canvas.draw()
        bottom = fig.get_tightbbox(fig.canvas.get_renderer()).y0
        footer.set_visible(True)
        footer.set_y((bottom - 0.05) / fig.get_figheight())
        sizes = [t.get_fontsize() for t in _texts(fig)]
        fit_text_for_print(fig)
        if sizes == [t.get_fontsize() for t in _texts(fig)]:
            break


class FigureLayoutError(ValueError):
    """A figure that would print with overlapping tick labels (checked by :func:`save_figure`)."""


def drop_empty_axes(fig) -> None:
    """Remove axes that show nothing (the spare cells of a subplot grid), which print as empty frames."""
    for ax in list(fig.axes):
        if not ax.has_data() and not ax.texts and ax.get_legend() is None and not ax.get_title():
            fig.delaxes(ax)


def _boxes(labels, renderer) -> list:
    return [
        (t.get_text(), t.get_window_extent(renderer))
        for t in labels
        if t.get_visible() and t.get_text().strip()
    ]


def _drawn_ticklabels(axis) -> list[Text]:
    """The tick labels matplotlib draws: ``get_ticklabels`` also returns those of ticks outside the view."""
    if not (axis.axes.axison and axis.get_visible()):  # ax.set_axis_off(): no tick is drawn
        return []
    low, high = sorted(axis.get_view_interval())
    slack = (high - low) * 1e-9
    index = 0 if axis.axis_name == "x" else 1
    return [
        t
        for t in axis.get_ticklabels()
        if t.get_visible() and t.get_text().strip() and low - slack <= t.get_position()[index] <= high + slack
    ]


#: The least gap, in pixels, between two labels side by side: "1.0" touching "0.0" reads as "1.00.0".
MIN_GAP_PX = 3.0


def _overlapping(boxes) -> list[tuple[str, str]]:
    """Pairs of labels whose boxes overlap or stand closer than :data:`MIN_GAP_PX` side by side (stacked
    labels may touch: a line of text has its own leading)."""
    pairs = []
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1 :]:
            side = a.x0 < b.x1 + MIN_GAP_PX and b.x0 < a.x1 + MIN_GAP_PX
            if side and a.y0 < b.y1 - 1 and b.y0 < a.y1 - 1:
                pairs.append((text_a, text_b))
    return pairs


def tick_overlaps(fig) -> list[tuple[str, str, str]]:
    """(axis, label, label) for every pair of tick labels of one axis that overlap in the drawn figure, and
    every tick label the figure's footer text covers."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    found = []
    for ax in fig.axes:
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            boxes = _boxes(_drawn_ticklabels(axis), renderer)
            found.extend((f"{which} of {ax.get_title() or 'axes'}", a, b) for a, b in _overlapping(boxes))
    for a, b in _across_axes(fig, renderer):
        found.append(("neighbouring axes", a.get_text(), b.get_text()))
    footers = _boxes(fig.texts, renderer)
    for ax in fig.axes:
        ticks = _boxes([*_drawn_ticklabels(ax.xaxis), *_drawn_ticklabels(ax.yaxis)], renderer)
        for footer in footers:
            found.extend(("footer", a, b) for a, b in _overlapping([footer, *ticks]) if a == footer[0])
    return found


def _across_axes(fig, renderer) -> list[tuple[Text, Text]]:
    """Pairs of drawn tick labels of two different axes that overlap (side-by-side panels: the last x label
    of one runs into the first of the next, "1.00.0")."""
    labels = [(ax, t) for ax in fig.axes for axis in (ax.xaxis, ax.yaxis) for t in _drawn_ticklabels(axis)]
    boxes = [(ax, t, t.get_window_extent(renderer)) for ax, t in labels]
    pairs = []
    for i, (ax_a, a, box_a) in enumerate(boxes):
        for ax_b, b, box_b in boxes[i + 1 :]:
            if ax_a is not ax_b and _overlapping([("a", box_a), ("b", box_b)]):
                pairs.append((a, b))
    return pairs


def untangle_ticks(fig) -> None:
    """Make overlapping tick labels readable: x labels are turned upright first, then either axis shows
    every k-th label until none overlap, then labels of neighbouring panels that collide lose the earlier
    panel's one.

    Why by hand: matplotlib lays ticks out per axis without checking the text it puts there, and
    ``fig.autofmt_xdate`` rotates only dates; a category axis with long names overlaps at print size."""
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    for ax in fig.axes:
        for which, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = _drawn_ticklabels(axis)  # boxes of the last draw: redrawn below only after a change
            if not _overlapping(_boxes(labels, renderer)):
                continue
            if which == "x":
                for label in labels:  # upright text: its box is the text, so the check stays exact
                    label.set_rotation(90)
                    label.set_horizontalalignment("center")
                fig.canvas.draw()
                if not _overlapping(_boxes(labels, renderer)):
                    continue
            for step in range(2, len(labels) + 1):
                for i, label in enumerate(labels):
                    label.set_visible(i % step == 0)
                fig.canvas.draw()
                if not _overlapping(_boxes(labels, renderer)):
                    break
    for _ in range(100):  # across panels: hide the earlier panel's label of each pair
        fig.canvas.draw()
        pairs = _across_axes(fig, renderer)
        if not pairs:
            break
        pairs[0][0].set_visible(False)


def save_dpi(fig) -> float:
    """:data:`DPI`, lowered for a figure the page shrinks so that it prints at :data:`MAX_PRINT_PPI` at most.
    Its printed size does not change: the PNG records this dpi, so its natural size stays the figure's."""
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


def _write_compact_png(buffer, path: Path, dpi: float) -> None:
    """Save as a 256-colour palette PNG: about 2.5x smaller for seaborn/matplotlib plots, looks the same.

    Each figure is stored several times in the published report (PNG, report.html, report.pdf), which must
    stay within its size budget.
    """
    from PIL import Image  # inside: only this check reads images back

    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        palette.save(path, format="PNG", optimize=True, dpi=(dpi, dpi))  # its natural size, in inches
