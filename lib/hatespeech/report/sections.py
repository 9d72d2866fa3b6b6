"""The report's sections: which typed result feeds each (:mod:`hatespeech.results`), which figures belong to
it, and reading them.

Figures are found by name prefix (:data:`FIGURE_PREFIXES`), so a new figure shows up without a change here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..anticipation.continuation_result import ContinuationResult
from ..anticipation.results import Phase1Result, Phase2Result
from ..dualhead.results import DualHeadResult, GridResult
from ..functional.results import FunctionalResult
from ..results import (
    BenchmarkResult,
    DataResult,
    DecoderCapacityResult,
    Result,
    ResultShapeError,
)
from .prose import figure_notes, section_text

# Figure file-name prefixes per section: notebooks save figures as reports/figures/<prefix><what>.png.
FIGURE_PREFIXES = {
    "data": ("data_",),
    "phase1": ("phase1_",),
    "phase2": ("phase2_",),
    "continuations": ("continuation_",),
    "dualhead": ("dualhead_",),
    "grid": ("grid_",),
    "functional": ("functional_",),
    "benchmarks": ("bench_",),
}

# What to look at in each figure (by file stem; in prose.toml); the image itself carries profile, data
# and hardware.
FIGURE_NOTES = figure_notes()


@dataclass(frozen=True)
class Section:
    """One part of the report: the typed result that feeds it and its figures (by :data:`FIGURE_PREFIXES`).

    It renders the result's findings, its key tables, and then every other field (``Result.appendix``).
    """

    key: str
    title: str
    result: type[Result]
    intro: str = ""
    # What the report's body shows (the first ``body_tables`` of Result.tables() and these figure stems);
    # the rest goes to the appendix, so the body stays short enough to read.
    body_tables: int = 1
    body_figures: tuple[str, ...] = ()
    # The first ``body_findings`` findings print in the body, the rest in the appendix; of the tables the
    # body leaves, the appendix prints ``appendix_tables`` (None: all); ``notebook_figures`` and the other
    # tables are only on the notebook's own page, so that the printed report stays readable in length.
    body_findings: int = 99
    appendix_tables: int | None = None
    notebook_figures: tuple[str, ...] = ()

    @property
    def metrics(self) -> str:
        return self.result.FILE

    @property
    def notebook(self) -> str:
        return self.result.NOTEBOOK


SECTIONS: tuple[Section, ...] = (
    Section(
        "data",
        section_text("data")["title"],
        DataResult,
        section_text("data")["intro"],
        body_tables=0,  # the corpora table is wide (two print pages): the appendix holds it
        body_figures=(),
        notebook_figures=("data_phase1_splits", "data_prefix_counts"),
    ),
    Section(
        "phase1",
        section_text("phase1")["title"],
        Phase1Result,
        section_text("phase1")["intro"],
        body_figures=("phase1_with_baselines", "phase1_by_length_fraction"),
        body_findings=3,
        appendix_tables=2,
        notebook_figures=("phase1_training_curves",),
    ),
    Section(
        "phase2",
        section_text("phase2")["title"],
        Phase2Result,
        section_text("phase2")["intro"],
        body_figures=("phase2_example_trajectories", "phase2_earliness"),
        body_findings=3,
        # phase2_calibration: the continuations section's reliability figure shows the best phase-2 model
        # beside the other anticipation systems on the same prefixes
        notebook_figures=(
            "phase2_demo_static",
            "phase2_training_curves",
            "phase2_test_trajectories",
            "phase2_calibration",
        ),
    ),
    Section(
        "continuations",
        section_text("continuations")["title"],
        ContinuationResult,
        section_text("continuations")["intro"],
        body_figures=("continuation_trajectories",),
        body_findings=3,
    ),
    Section(
        "dualhead",
        section_text("dualhead")["title"],
        DualHeadResult,
        section_text("dualhead")["intro"],
        body_figures=("dualhead_shared_vs_separate",),
        body_findings=4,
        appendix_tables=4,
        notebook_figures=("dualhead_training_loss", "dualhead_rare_confusion_n", "dualhead_rare_confusion_i"),
    ),
    Section(
        "grid",
        section_text("grid")["title"],
        GridResult,
        section_text("grid")["intro"],
        body_figures=(),
        notebook_figures=("grid_focal_heatmap_test",),  # test F1 of every cell: its table is in the appendix
    ),
    Section(
        "functional",
        section_text("functional")["title"],
        FunctionalResult,
        section_text("functional")["intro"],
        body_tables=0,  # its per-system table is the figure below, in numbers: the appendix holds it
        body_figures=("functional_discrimination",),
        body_findings=5,
        appendix_tables=2,
    ),
    Section(
        "benchmarks",
        section_text("benchmarks")["title"],
        BenchmarkResult,
        section_text("benchmarks")["intro"],
        body_figures=(),
        body_findings=5,
        appendix_tables=0,
    ),
)
# Files a section (or the build) reads; any other metrics file is listed under "Other metrics".
KNOWN_METRICS = {s.metrics for s in SECTIONS} | {
    DecoderCapacityResult.FILE,  # read by the phase-1 section's context
    "run_timings.json",
    "report.json",
}


def get_section(section: Section | str) -> Section:
    """The :class:`Section` itself, or the one with this key."""
    if isinstance(section, Section):
        return section
    for candidate in SECTIONS:
        if candidate.key == section:
            return candidate
    raise KeyError(f"no report section {section!r}; sections: {[s.key for s in SECTIONS]}")


def read_result(section: Section | str, reports: Path | None = None) -> Result | None:
    """The section's result when it ran in this build (None when not); :class:`ResultShapeError` when its
    file lacks a field the result declares."""
    return get_section(section).result.read(reports)


def section_status(reports: Path | None = None) -> dict[str, str]:
    """Which sections had their results in this build: {key: "shown" | "not run" | "wrong shape"}."""
    status = {}
    for section in SECTIONS:
        try:
            status[section.key] = "shown" if read_result(section, reports) is not None else "not run"
        except ResultShapeError:
            status[section.key] = "wrong shape"
    return status


def section_figures(section: Section | str, reports: Path | None = None) -> list[Path]:
    section = get_section(section)
    folder = (Path(reports) / "figures") if reports else paths.figures_dir()
    found: list[Path] = []
    for prefix in FIGURE_PREFIXES.get(section.key, ()):
        found.extend(sorted(folder.glob(f"{prefix}*.png")))
    return [f for f in found if f.stem not in section.notebook_figures]
