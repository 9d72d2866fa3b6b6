"""The report's sections: which metrics file and keys feed each, which figures belong to it, and loading them.

Figures are found by name prefix (:data:`FIGURE_PREFIXES`), so a new figure shows up without a change here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths

# Figure file-name prefixes per section: notebooks save figures as reports/figures/<prefix><what>.png.
FIGURE_PREFIXES = {
    "data": ("data_",),
    "phase1": ("phase1_",),
    "phase2": ("phase2_",),
    "dualhead": ("dualhead_",),
    "grid": ("grid_",),
    "benchmarks": ("bench_",),
}


@dataclass(frozen=True)
class Section:
    """One part of the report: which metrics file and keys feed it, and which figures belong to it.

    Its tables are the curated ones of :data:`hatespeech.report.curated.CURATED` (key results in a fixed
    layout) followed by a generic rendering of ``keys`` (all payload keys when None), leaving out ``skip``.
    """

    key: str
    title: str
    notebook: str  # what produces it, e.g. "01_data.ipynb"
    metrics: str  # file under metrics/
    keys: tuple[str, ...] | None  # payload keys shown as generic tables (None = all but stamp/profile)
    required: str | None  # the key whose presence means "this section ran" (None = the file's presence)
    intro: str = ""
    skip: tuple[str, ...] = ()  # keys left to a curated table or to the notebook's own page


SECTIONS: tuple[Section, ...] = (
    Section(
        "data",
        "Data",
        "01_data.ipynb",
        "data.json",
        None,
        "sources",
        "Corpora as loaded and validated by hatespeech.data: raw and kept rows, rows filtered per reason, "
        "and the seeded splits every later notebook reuses.",
        skip=("sources",),
    ),
    Section(
        "phase1",
        "Anticipation, phase 1: hate / not-hate from prefixes",
        "02_phase1.ipynb",
        "anticipation.json",
        ("phase1", "models"),
        "phase1",
        "Binary classifiers trained on random word-prefixes (loss weighted by the share of the sentence "
        "seen). Learning rate, epoch and threshold are chosen on a selection set carved from the train part; "
        "every number is measured on the evaluation split beside a majority and a TF-IDF baseline scored on "
        "the same prefixes, with 95% bootstrap intervals over evaluation sentences (Stormfront: posts).",
    ),
    Section(
        "phase2",
        "Anticipation, phase 2: P(hateful | first words)",
        "03_phase2.ipynb",
        "anticipation.json",
        ("phase2", "baselines", "annotator_agreement", "earliness"),
        "phase2",
        "Phase-1 models fine-tuned on the prefix-probability set with a weighted MSE (one objective for "
        "every variant); test MSE with 95% intervals over test sentences beside a constant, a TF-IDF ridge "
        "and the phase-1 model alone (raw and prior-corrected); the epoch and the best variant are chosen on "
        "held-out train sentences; how early hateful sentences are flagged.",
    ),
    Section(
        "dualhead",
        "DualHeadBERT: toxicity types and identity groups",
        "04_dualhead.ipynb",
        "dualhead.json",
        ("focal_lambda_choice", "bias", "rare_label_confusion", "training", "model", "data"),
        "head_n",
        "One shared encoder with two heads (pos-weighted BCE for toxicity types, focal loss for identity "
        "groups), labels masked where a source does not annotate them; thresholds tuned on validation.",
    ),
    Section(
        "grid",
        "Focal-loss grid (gamma x alpha)",
        "05_focal_grid.ipynb",
        "dualhead.json",
        ("grid_pick", "grid_info"),
        "grid",
        "Each (gamma, alpha) cell trained with its own focal loss; the pick is made on validation identity "
        "macro-F1 and reported on test.",
    ),
    Section(
        "benchmarks",
        "Anticipation at typing speed (benchmarks)",
        "benchmarks/anticipation_speed.py",
        "benchmarks.json",
        None,
        None,
        "Scoring every word-prefix four ways in one run: naive per-prefix batches, sorted dynamic padding, "
        "decoder one pass, and decoder streaming with cached keys/values.",
    ),
)
KNOWN_METRICS = {s.metrics for s in SECTIONS} | {"run_timings.json", "report.json"}
# What reading a payload of another shape than expected raises: shown in the report as such, not hidden.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def get_section(section: Section | str) -> Section:
    """The :class:`Section` itself, or the one with this key."""
    if isinstance(section, Section):
        return section
    for candidate in SECTIONS:
        if candidate.key == section:
            return candidate
    raise KeyError(f"no report section {section!r}; sections: {[s.key for s in SECTIONS]}")


def metrics_folder(reports: Path | None = None) -> Path:
    """``<reports>/metrics`` for a given reports folder, else the build's metrics dir."""
    return (Path(reports) / "metrics") if reports else paths.metrics_dir()


def load_metrics(name: str, reports: Path | None = None) -> dict[str, Any] | None:
    """A metrics JSON of the report being built (None when absent; a clear error when it is not JSON)."""
    path = metrics_folder(reports) / name
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error


def section_payload(section: Section, reports: Path | None = None) -> dict[str, Any] | None:
    """The section's metrics when it ran in this build (its file and its required key are present)."""
    payload = load_metrics(section.metrics, reports)
    if payload is None or (section.required and section.required not in payload):
        return None
    return payload


def section_status(reports: Path | None = None) -> dict[str, str]:
    """Which sections had their metrics in this build: {key: "shown" | "not run"}."""
    return {s.key: "shown" if section_payload(s, reports) is not None else "not run" for s in SECTIONS}


def section_figures(section: Section | str, reports: Path | None = None) -> list[Path]:
    section = get_section(section)
    folder = (Path(reports) / "figures") if reports else paths.figures_dir()
    found: list[Path] = []
    for prefix in FIGURE_PREFIXES.get(section.key, ()):
        found.extend(sorted(folder.glob(f"{prefix}*.png")))
    return found
