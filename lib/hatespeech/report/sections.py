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

# What to look at in each figure (by file stem); the image itself carries profile, data and hardware.
FIGURE_NOTES = {
    "data_label_distribution": "Share of hateful rows per corpus: the class balance every baseline faces.",
    "data_length_hist": "Sentence lengths in words: most prefixes are short, which bounds how early a "
    "model can know.",
    "data_phase1_splits": "Phase-1 split sizes per source: evaluation rows never choose anything.",
    "data_prefix_counts": "Phase-2 prefixes per sentence length: long sentences contribute many prefixes.",
    "phase1_training_curves": "Train and selection-set loss per variant: the kept epoch is the best on "
    "selection F1.",
    "phase1_with_baselines": "Phase-1 accuracy and F1 with 95% intervals beside the majority and TF-IDF "
    "baselines: overlapping intervals mean no clear difference.",
    "phase1_by_length_fraction": "F1 and accuracy by decile of the share of the sentence seen, every "
    "evaluation prefix (each sentence weighing 1), models beside the baselines at their reported thresholds.",
    "phase1_by_source": "Accuracy per source corpus: where each model's errors come from.",
    "continuation_trajectories": "Test sentences word by word: imagined endings, the same classifier on the "
    "prefix alone and the best phase-2 model, beside both annotation passes.",
    "phase2_mse": "Phase-2 test MSE with 95% intervals for every model and baseline: lower is better; "
    "compare each model with the constant and TF-IDF rows.",
    "phase2_training_curves": "Phase-2 loss per epoch on train and held-out train sentences.",
    "phase2_calibration": "Mean target against mean prediction in ten bins: points on the diagonal are "
    "calibrated.",
    "phase2_example_trajectories": "P(hateful) word by word for the seed's two examples: watch where "
    "'but' moves the curve.",
    "phase2_test_trajectories": "Test sentences word by word, models against the two annotation passes.",
    "phase2_earliness": "Share of a hateful sentence read before the first alarm, and false alarms on the "
    "others: earlier is better only if false alarms stay low.",
    "phase2_demo_static": "The demo model on the seed's example, one bar per word.",
    "dualhead_per_label_f1": "Test F1 per label of both heads at validation-tuned thresholds: rare labels "
    "are the weak ones.",
    "dualhead_pr_head_n": "Precision-recall curves of the toxicity-type head, one per label.",
    "dualhead_pr_head_i": "Precision-recall curves of the identity head, one per label.",
    "dualhead_rare_confusion_n": "Confusion counts of the rarest toxicity-type labels.",
    "dualhead_rare_confusion_i": "Confusion counts of the rarest identity labels.",
    "dualhead_bias_subgroups": "Subgroup, BPSN and BNSP AUC per identity: low BPSN means non-toxic mentions "
    "of the group are scored as toxic.",
    "dualhead_shared_vs_separate": "Macro-F1 of the shared model against the two separate models, per head.",
    "dualhead_training_loss": "Training loss of the joint model.",
    "grid_focal_heatmap_val": "Validation identity macro-F1 per (gamma, alpha) cell; the outlined cell is "
    "the pick.",
    "grid_focal_heatmap_test": "Test identity macro-F1 of the same cells, for reading only: the pick was "
    "made on validation.",
    "continuation_calibration": "Reliability of the anticipation systems on the same test prefixes: mean "
    "target against mean prediction per bin; the dotted diagonal is perfect calibration.",
    "functional_heatmap": "HateCheck accuracy per functionality and model: red rows above the line are "
    "missed hate, red rows below are false alarms on counter-speech, negation or identity mentions.",
    "functional_forgetting": "Accuracy on hateful and non-hateful HateCheck cases with 95% template-family "
    "intervals: phase 1, after phase 2, and with rehearsal. A threshold trades one side for the other: read "
    "it beside the AUC and balanced accuracy.",
    "functional_discrimination": "HateCheck ROC AUC (no threshold) and balanced accuracy (at each system's "
    "held-out threshold) with 95% template-family intervals; grey rows are references (a constant, "
    "alt-profanity-check); the dotted line is what a constant scores.",
    "bench_latency": "Milliseconds per prefix for the four scoring paths at 10, 20 and 40 words (log scale).",
}


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
        "Data",
        DataResult,
        "Corpora as loaded and validated by hatespeech.data: raw and kept rows, rows filtered per reason, "
        "and the seeded splits every later notebook reuses.",
        body_tables=0,  # the corpora table is wide (two print pages): the appendix holds it
        body_figures=(),
        notebook_figures=("data_phase1_splits", "data_prefix_counts"),
    ),
    Section(
        "phase1",
        "Anticipation, phase 1: hate / not-hate from prefixes",
        Phase1Result,
        "Binary classifiers trained on word-prefixes (loss weighted by the share of the sentence seen). "
        "Learning rate, epoch and threshold are chosen on every prefix of a selection set carved from the "
        "train part; every number is measured on every prefix of the evaluation sentences, each sentence "
        "weighing 1, beside a majority and a TF-IDF baseline scored on the same prefixes, with 95% bootstrap "
        "intervals over evaluation sentences (Stormfront: posts).",
        body_figures=("phase1_with_baselines", "phase1_by_length_fraction"),
        body_findings=3,
        appendix_tables=2,
        notebook_figures=("phase1_training_curves",),
    ),
    Section(
        "phase2",
        "Anticipation, phase 2: P(hateful | first words)",
        Phase2Result,
        "Phase-1 models fine-tuned on the prefix-probability set with a weighted MSE (one objective for "
        "every variant); test MSE with 95% intervals over test sentences beside a constant, a TF-IDF ridge "
        "and the phase-1 model alone (raw and prior-corrected); the epoch, the best model (among the phase-2 "
        "variants and the models trained without phase 1) and the loss weight are chosen on held-out train "
        "sentences; training noise over seeds; how early hateful sentences are flagged.",
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
        "Anticipation by imagined endings",
        ContinuationResult,
        "A third method that needs no prefix labels: the pretrained decoder samples how each test prefix "
        "might end, the best phase-1 model scores every ending at full length, and the mean is the estimate; "
        "test MSE with 95% intervals over test sentences, paired against the best phase-2 model, the same "
        "classifier on the prefix alone and the constant.",
        body_figures=("continuation_trajectories",),
        body_findings=3,
    ),
    Section(
        "dualhead",
        "DualHeadBERT: toxicity types and identity groups",
        DualHeadResult,
        "One shared encoder with two heads (pos-weighted BCE for toxicity types, focal loss for identity "
        "groups), labels masked where a source does not annotate them; thresholds tuned on validation.",
        body_figures=("dualhead_shared_vs_separate",),
        body_findings=4,
        appendix_tables=4,
        notebook_figures=("dualhead_training_loss", "dualhead_rare_confusion_n", "dualhead_rare_confusion_i"),
    ),
    Section(
        "grid",
        "Focal-loss grid (gamma x alpha)",
        GridResult,
        "Each (gamma, alpha) cell trained with its own focal loss; the pick is made on validation identity "
        "macro-F1 and reported on test.",
        body_figures=(),
        notebook_figures=("grid_focal_heatmap_test",),  # test F1 of every cell: its table is in the appendix
    ),
    Section(
        "functional",
        "Functional tests: every classifier on HateCheck",
        FunctionalResult,
        "HateCheck's hand-checked functional test cases (evaluation only, nothing chosen on them), scored "
        "at full length by every model of the study at its own validation-chosen "
        "threshold; accuracy per functionality and group with 95% intervals resampling templates; what "
        "phase 2 forgets and what rehearsal gives back; when the phase-2 alarm fires.",
        body_tables=0,  # its per-system table is the figure below, in numbers: the appendix holds it
        body_figures=("functional_discrimination",),
        body_findings=5,
        appendix_tables=2,
    ),
    Section(
        "benchmarks",
        "Anticipation at typing speed (benchmarks)",
        BenchmarkResult,
        "Scoring every word-prefix four ways in one run: naive per-prefix batches, sorted dynamic padding, "
        "decoder one pass, and decoder streaming with cached keys/values.",
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
