"""The typed shape of the bootstrap evidence that :class:`~.results.Phase1Result` and
:class:`~.results.Phase2Result` carry (``phase1_evidence`` / ``phase2_evidence`` in ``anticipation.json``):
made as JSON by :mod:`.evidence`, read back through :mod:`hatespeech.nested`, so the report reads
``evidence.comparison("f1", best, "tfidf_logistic")`` instead of a hand-built string key. No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..metrics.bootstrap import Interval, PairedDifference
from ..nested import json_field


def comparison_key(metric: str, a: str, b: str) -> str:
    """The one place the comparisons' keys are spelled: ``"<metric>:<a>-<b>"`` (a minus b)."""
    return f"{metric}:{a}-{b}"


def metric_of(key: str) -> str:
    """The metric part of a :func:`comparison_key`."""
    return key.split(":", 1)[0]


@dataclass(frozen=True)
class TrainingRecord:
    """One trained model's training record (:mod:`.training`: what it saw, for how long, which epoch and lr
    it kept). Its keys differ by phase, backbone and profile (a decoder's frozen-layer memo, a sweep's
    seconds), so the record is kept whole, in its JSON order, and the report's tables read it through the
    properties below, the one place its keys are spelled."""

    record: dict[str, Any]

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> TrainingRecord:
        return cls(dict(payload))

    def to_json(self) -> dict[str, Any]:
        return self.record

    @property
    def epochs(self) -> int | None:  # the epoch kept
        return self.record.get("epochs")

    @property
    def trainable_layers(self) -> int | None:  # None: every layer
        return self.record.get("trainable_layers")

    @property
    def lr(self) -> float | None:  # the learning rate kept (phase 1, chosen on the selection set)
        return self.record.get("lr")

    @property
    def train_sentences(self) -> int | None:
        return self.record.get("train_sentences")

    @property
    def selection_score(self) -> float | None:  # the kept epoch's selection F1 (phase 1)
        return ((self.record.get("selection") or {}).get("kept") or {}).get("score")

    @property
    def sweep_minutes(self) -> float | None:  # the lr sweep's training time, where there was one
        seconds = self.record.get("sweep_train_seconds")
        return seconds / 60 if seconds else None


@dataclass(frozen=True)
class _Evidence:
    """What both phases' evidence share: the resampling, the best system and the paired comparisons."""

    unit: str  # what the bootstrap resamples
    n_units: int
    n_resamples: int
    seed: int
    seeds_run: int
    best_variant: str
    best_variant_chosen_by: str
    comparisons: dict[str, PairedDifference]  # comparison_key(metric, a, b) -> a minus b
    n_comparisons: int
    primary_comparison: str = ""  # the comparison_key of the one primary question

    def comparison(self, metric: str, a: str, b: str) -> PairedDifference | None:
        """``a`` minus ``b`` on ``metric``, as drawn (None when the build drew no such comparison)."""
        return self.comparisons.get(comparison_key(metric, a, b))

    def unique_comparisons(self) -> dict[str, PairedDifference]:
        """The comparisons without a reversed repeat ("f1:a-b" after "f1:b-a" says the same thing)."""
        out: dict[str, PairedDifference] = {}
        for key, value in self.comparisons.items():
            if comparison_key(metric_of(key), value.name_b, value.name_a) not in out:
                out[key] = value
        return out

    def comparisons_of(self, metric: str, name: str) -> list[PairedDifference]:
        """Every comparison drawn on ``metric`` with ``name`` on either side, in the order drawn."""
        return [
            c
            for key, c in self.comparisons.items()
            if metric_of(key) == metric and name in (c.name_a, c.name_b)
        ]


# ========================================================================================= phase-2 rows
@dataclass(frozen=True)
class CalibrationBin:
    """One bin of a reliability table (metrics.regression.calibration_table); None where the bin is empty."""

    bin_low: float
    bin_high: float
    n: int
    mean_pred: float | None
    mean_true: float | None


@dataclass(frozen=True)
class RegressionRow:
    """Test MSE / MAE / Pearson / ECE of one phase-2 system (a model or a baseline) on the test prefixes,
    with what that kind of system carries beside (None: not that kind; left out of the JSON)."""

    mse: float
    mae: float
    pearson: float | None
    n: int
    ece: float | None
    model_id: str | None = json_field(omit_none=True, default=None)  # models
    value: float | None = json_field(omit_none=True, default=None)  # the constant's prediction
    calibration: list[CalibrationBin] | None = json_field(omit_none=True, default=None)
    description: str | None = json_field(omit_none=True, default=None)  # baselines
    alpha: float | None = json_field(omit_none=True, default=None)  # TF-IDF ridge: its held-out choice
    held_out_mse: dict[str, float] | None = json_field(omit_none=True, default=None)  # ridge: per alpha
    training: TrainingRecord | None = json_field(omit_none=True, default=None)  # trained models
    val_mse: float | None = json_field(omit_none=True, default=None)  # trained models: held-out MSE


@dataclass(frozen=True)
class Phase2Baselines:
    """Notebook 03's yardsticks on the same test prefixes (Phase2Run.result)."""

    constant: RegressionRow
    tfidf_ridge: RegressionRow
    phase1_only: dict[str, RegressionRow]  # variant -> the phase-1 model alone, raw
    phase1_only_prior_corrected: dict[str, RegressionRow]  # variant -> the same, prior-corrected
    phase2_without_phase1: dict[str, RegressionRow]  # variant -> phase 2 from the pretrained weights


# ========================================================================================= phase-1 rows
@dataclass(frozen=True)
class ClassificationScores:
    """Accuracy, F1, precision, recall and the shares of one system on some prefixes (metrics.classification),
    with what the place it stands in adds (None: left out of the JSON)."""

    accuracy: float
    f1: float
    precision: float
    recall: float
    positive_share: float
    predicted_positive_share: float
    source: str | None = json_field(omit_none=True, default=None)
    threshold: float | None = json_field(omit_none=True, default=None)
    weight: float | None = json_field(omit_none=True, default=None)  # summed sentence weight (by source)
    n: int | None = json_field(omit_none=True, default=None)
    at_half: ClassificationScores | None = json_field("at_0.5", omit_none=True, default=None)
    evaluation: str | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class Phase1Row:
    """One phase-1 system (a variant or a baseline) on every evaluation prefix, each sentence weighing 1
    (Phase1Run.payload, evidence.phase1_baselines), with the same system on other views of the split."""

    accuracy: float
    f1: float
    precision: float
    recall: float
    positive_share: float
    predicted_positive_share: float
    threshold: float
    weighting: str
    n_sentences: int | None
    n_prefixes: int | None
    at_half: ClassificationScores = json_field("at_0.5")
    unweighted: ClassificationScores | None = json_field(omit_none=True, default=None)  # each prefix 1
    evaluation: str | None = json_field(omit_none=True, default=None)
    eval_sentences: int | None = json_field(omit_none=True, default=None)
    random_prefix: ClassificationScores | None = json_field(omit_none=True, default=None)
    full_sentence: ClassificationScores | None = json_field(omit_none=True, default=None)
    model_id: str | None = json_field(omit_none=True, default=None)  # variants
    description: str | None = json_field(omit_none=True, default=None)  # baselines
    C: float | None = json_field(omit_none=True, default=None)  # TF-IDF: chosen on the selection set
    C_grid: list[float] | None = json_field(omit_none=True, default=None)
    selection_f1: float | None = json_field(omit_none=True, default=None)
    train_sentences: int | None = json_field(omit_none=True, default=None)
    train_prefixes: int | None = json_field(omit_none=True, default=None)
    by_source: dict[str, ClassificationScores] | None = json_field(omit_none=True, default=None)
    by_w_len: dict[str, ClassificationScores] | None = json_field(omit_none=True, default=None)
    by_length_fraction: dict[str, ClassificationScores] | None = json_field(omit_none=True, default=None)
    training: TrainingRecord | None = json_field(omit_none=True, default=None)  # variants


# ================================================================================================ phase 1
@dataclass(frozen=True)
class MarginTarget:
    target: str
    difference: Interval  # best variant minus TF-IDF, F1
    met: bool
    stretch_met: bool = False


@dataclass(frozen=True)
class FloorTarget:
    target: str
    by_variant: dict[str, bool]
    met: bool


@dataclass(frozen=True)
class MajorityTarget:
    target: str
    by_variant: dict[str, bool]  # at each variant's selection threshold
    met: bool
    by_variant_at_half: dict[str, bool] = json_field("by_variant_at_0.5", default_factory=dict)


@dataclass(frozen=True)
class Phase1Targets:
    f1_margin_over_tfidf: MarginTarget
    decoders_at_least_tfidf: FloorTarget | None = None
    accuracy_above_majority: MajorityTarget | None = None


@dataclass(frozen=True)
class Phase1Evidence(_Evidence):
    """Every variant and baseline on every evaluation prefix (each sentence weighing 1): per system and
    metric its interval, the paired comparisons, the targets."""

    # system -> metric (accuracy, f1, precision, recall, accuracy_at_0.5, f1_at_0.5) -> interval
    intervals: dict[str, dict[str, Interval]] = field(default_factory=dict)
    targets: Phase1Targets | None = None
    n_sentences: int | None = None
    n_prefixes: int | None = None
    weighting: str = ""


# ================================================================================================ phase 2
@dataclass(frozen=True)
class MseTarget:
    target: str
    interval: Interval
    met: bool


@dataclass(frozen=True)
class BeatTarget:
    target: str
    difference: PairedDifference
    met: bool


@dataclass(frozen=True)
class Phase2Targets:
    best_mse: MseTarget
    better_than_tfidf_ridge: BeatTarget | None = None


@dataclass(frozen=True)
class HumanLabels:
    """Whole-tweet ROC AUC against the corpus's human class, the LLM labels themselves beside the models."""

    definition: str
    n_sentences: int
    n_human_hateful: int
    auc: dict[str, Interval]  # "labels:mean of passes" and every system


@dataclass(frozen=True)
class Phase2Evidence(_Evidence):
    """Test MSE of every model and baseline (resampling test sentences), the paired comparisons, what
    phase 1 adds, the targets, and the check against human labels."""

    intervals: dict[str, Interval] = field(default_factory=dict)  # system -> test MSE
    targets: Phase2Targets | None = None
    note: str = ""
    best_model: str = ""  # among the phase-2 variants and the models without phase 1, by held-out MSE
    best_model_chosen_by: str = ""
    phase1_adds: PairedDifference | None = None  # the best pool variant with phase 1 minus without
    release1_subset: dict[str, float] = field(default_factory=dict)  # test MSE on release 1's 50 only
    human_labels: HumanLabels | None = None


# ============================================================================================== rehearsal
@dataclass(frozen=True)
class RehearsalCriterion:
    """The held-out criterion of one rehearsal share (or of the model without rehearsal): phase-2 MSE on
    the held-out train sentences plus the Brier score on the phase-1 selection sentences."""

    val_mse: float
    phase1_selection_brier: float
    criterion: float
    epochs: int | None = json_field(omit_none=True, default=None)
    rehearsal_sentences: int | None = json_field(omit_none=True, default=None)
    train_seconds: float | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class Rehearsal:
    """The forgetting remedy (phase2.run_rehearsal): the shares tried, the one kept on held-out data, the
    model without rehearsal on the same criterion, and the kept model's test metrics (a phase-2 entry)."""

    variant: str
    description: str
    chosen_by: str
    shares: list[float]
    chosen_share: float
    candidates: dict[str, RehearsalCriterion]  # str(share) -> its criterion
    without: RehearsalCriterion
    checkpoint: str = ""
    model: RegressionRow | None = json_field(omit_none=True, default=None)  # Phase2Run.result adds it

    def chosen(self) -> RehearsalCriterion:
        return self.candidates[str(self.chosen_share)]


# ========================================================================================== loss weights
@dataclass(frozen=True)
class LossWeights:
    """The seed's phase-2 label weight C tried on the best variant (phase2.run_loss_weight_ablation): each
    candidate's held-out MSE, the lowest minus the default on the same held-out sentences, the one kept."""

    variant: str
    description: str
    default: str
    candidates: dict[str, dict[str, Any]]  # name -> C, val_mse
    lowest_held_out: str
    lowest_minus_default_held_out: PairedDifference
    chosen: str
    chosen_by: str
    model: RegressionRow | None = json_field(omit_none=True, default=None)  # Phase2Run.result adds it


# ====================================================================================== w_len ablation
@dataclass(frozen=True)
class WlenArm:
    """One arm of the w_len ablation: how phase 1 of the best variant trained and what selection saw."""

    selection_f1: float
    threshold: float
    epochs: int
    train_sentences: int
    train_seconds: float


@dataclass(frozen=True)
class WlenAblation:
    """The seed's w_len loss weight tested on the best phase-1 variant (phase1.run_wlen_ablation)."""

    variant: str
    description: str
    arms: dict[str, WlenArm]  # "w_len", "unweighted"
    kept_by_selection: str
    chosen_by: str
    unweighted_minus_w_len_f1: PairedDifference


# =============================================================================================== seeds
@dataclass(frozen=True)
class SeedRun:
    seed: int
    val_mse: float
    test_mse: float


@dataclass(frozen=True)
class SeedRuns:
    """One phase-2 model retrained at other seeds (phase2.run_extra_seeds): the training noise."""

    runs: list[SeedRun]
    test_mse_mean: float
    test_mse_sd: float
    test_mse_min: float
    test_mse_max: float


# =========================================================================================== earliness
@dataclass(frozen=True)
class EarlinessRow:
    """How early one model flags hateful test sentences and how often it alarms on the others
    (metrics.regression.earliness); None where undefined (no sentence flagged)."""

    threshold: float
    n_hateful: int
    n_not_hateful: int
    detection_rate: float | None
    share_seen_mean: float | None
    share_seen_median: float | None
    false_alarm_rate: float | None
    detection_rate_ci: list[float] | None  # 95% Wilson interval [low, high]; None without sentences
    false_alarm_rate_ci: list[float] | None


@dataclass(frozen=True)
class Earliness:
    definition: str
    by_model: dict[str, EarlinessRow]  # system id (annotators:mean of passes, phase2:<variant>, ...)
