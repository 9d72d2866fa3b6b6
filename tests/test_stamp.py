"""Provenance and metrics I/O (hatespeech.stamp): the stamp, write_metrics / read_metrics, figure captions."""

from __future__ import annotations

import json

import pytest
from hatespeech import stamp


def test_write_metrics_adds_stamp_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "run_timings.json").write_text(json.dumps({"01_data.ipynb": {"seconds": 3.0}}))
    path = stamp.write_metrics("toy", {"value": 1.5}, "smoke")
    body = stamp.read_metrics("toy")
    assert path == tmp_path / "metrics" / "toy.json"
    assert body["value"] == 1.5 and body["profile"] == "smoke"
    written = body["stamp"]
    for key in (
        "git_commit",
        "git_dirty",
        "profile",
        "seed",
        "hardware",
        "versions",
        "data_sha256",
        "notebook_wall_s",
        "created",
    ):
        assert key in written
    assert written["notebook_wall_s"] == {"01_data.ipynb": {"seconds": 3.0}}
    assert written["versions"]["python"].count(".") == 2
    with pytest.raises(FileNotFoundError, match=r"absent.json is missing"):
        stamp.read_metrics("absent")


def test_save_figure_writes_png_with_caption(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hatespeech.plots import save_figure

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    path = save_figure(fig, "data_test", caption=stamp.caption("smoke", "toy"))
    plt.close(fig)
    assert path == tmp_path / "figures" / "data_test.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert "profile=smoke" in stamp.caption("smoke", "toy")


def test_saved_figures_print_every_text_at_a_readable_size(tmp_path, monkeypatch):
    """A wide figure with small ticks and a legend outside the axes: on the A4 page every text of it prints at
    MIN_PRINT_PT or more; a small figure, which the page does not shrink, keeps its sizes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hatespeech.plots import MIN_PRINT_PT, _texts, print_scale, save_figure

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    fig, ax = plt.subplots(figsize=(14, 4))
    ax.plot([0, 1], label="a long legend entry")
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    ax.tick_params(labelsize=6)
    ax.set_title("title", fontsize=8)
    fig.canvas.draw()
    assert min(t.get_fontsize() for t in _texts(fig)) * print_scale(fig) < MIN_PRINT_PT  # unreadable as made
    save_figure(fig, "data_wide", caption=stamp.caption("smoke", "toy"))
    fig.canvas.draw()
    scale = print_scale(fig)
    assert scale < 0.6  # the page shrinks it
    assert all(t.get_fontsize() * scale >= MIN_PRINT_PT - 1e-6 for t in _texts(fig))
    plt.close(fig)

    small, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("small", fontsize=9)
    save_figure(small, "data_small")
    assert ax.title.get_fontsize() == 9  # printed at >= 9 pt already: untouched
    plt.close(small)


def test_saved_figures_print_at_most_max_ppi_at_the_same_printed_size(tmp_path, monkeypatch):
    """A figure the page shrinks is saved with fewer pixels (<= MAX_PRINT_PPI on paper) and records that
    dpi, so its natural size (and the report's width for it) stays the figure's; a small figure keeps DPI
    and prints at its own size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hatespeech.plots import DPI, MAX_PRINT_PPI, PRINT_HEIGHT_IN, print_scale, save_figure
    from hatespeech.report.html import figure_html
    from PIL import Image

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    wide, ax = plt.subplots(figsize=(16, 4))
    ax.plot([0, 1])
    path = save_figure(wide, "data_wide")
    box = wide.get_tightbbox(wide.canvas.get_renderer())
    printed_width_in = box.width * print_scale(wide)
    with Image.open(path) as png:
        width_px, dpi = png.width, png.info["dpi"][0]
    assert width_px / printed_width_in <= MAX_PRINT_PPI * 1.02
    assert width_px / dpi == pytest.approx(box.width + 0.2, abs=0.05)  # its natural width, in inches
    assert f"width:{width_px / dpi:.2f}in;" in figure_html(path)  # max-width 100% fits it to the page
    plt.close(wide)

    small, ax = plt.subplots(figsize=(3, 2))
    path = save_figure(small, "data_small")
    box = small.get_tightbbox(small.canvas.get_renderer())
    with Image.open(path) as png:
        assert png.width == pytest.approx((box.width + 2 * 0.1) * DPI, abs=3)  # savefig pads 0.1 in a side
        assert png.info["dpi"][0] == pytest.approx(DPI, abs=0.05)  # PNG stores whole pixels per metre
    plt.close(small)
    # a tall figure is narrowed so that it prints at most PRINT_HEIGHT_IN tall, its shape kept
    tall, ax = plt.subplots(figsize=(4, 14))
    ax.plot([0, 1])
    path = save_figure(tall, "data_tall")
    with Image.open(path) as png:
        aspect = png.height / png.width
    width_in = float(figure_html(path).split("width:")[1].split("in;")[0])
    assert width_in * aspect == pytest.approx(PRINT_HEIGHT_IN, abs=0.02)
    plt.close(tall)


def test_save_figure_in_a_notebook_shows_the_saved_png_and_closes_the_figure(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hatespeech import plots

    shown = []
    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    monkeypatch.setattr(matplotlib, "get_backend", lambda: "module://matplotlib_inline.backend_inline")
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1])
    path = plots.save_figure(fig, "data_inline")
    assert len(shown) == 1 and shown[0].data == path.read_bytes()  # the palette PNG, not a new render
    assert not plt.fignum_exists(fig.number)  # closed: the backend does not render it again


def test_stamp_dirty_counts_code_changes_not_regenerated_reports(tmp_path, monkeypatch):
    import subprocess

    from hatespeech import paths

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "figure.png").write_text("old")
    (tmp_path / "code.py").write_text("x = 1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    monkeypatch.setattr(paths, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(stamp, "data_checksums", lambda *a, **k: {})
    assert stamp.stamp("smoke")["git_dirty"] is False
    (tmp_path / "reports" / "figure.png").write_text("regenerated by the run")
    assert stamp.stamp("smoke")["git_dirty"] is False
    (tmp_path / "code.py").write_text("x = 2\n")
    assert stamp.stamp("smoke")["git_dirty"] is True
