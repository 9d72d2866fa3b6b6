"""The typed rows of ``dualhead.json`` that the findings, the report and notebook 06 read: each head's test
metrics (:class:`HeadMetrics`, made as JSON by :func:`hatespeech.metrics.classification.head_json`), the
TF-IDF yardstick (:class:`Baselines`, :mod:`.baseline`), the focal weight chosen (:class:`LambdaChoiceRecord`,
:class:`.training.LambdaChoice`) and the focal grid's cells (:class:`GridCell`, :class:`GridPick`,
:class:`.grid.GridRun`); read back through :mod:`hatespeech.nested`. No torch here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..metrics.bootstrap import Interval, PairedDifference
from ..nested import encode, json_field


@dataclass(frozen=True)
class LabelMetrics:
    """One label on test at one threshold (None where the label could not be scored)."""

    precision: float | None
    recall: float | None
    f1: float | None
    auc: float | None
    ap: float | None
    threshold: float | None
    n_positive: int
    n_annotated: int


@dataclass(frozen=True)
class HeadMetrics:
    """One head on test: macro-F1 at the validation-tuned thresholds (its interval where computed) and at
    0.5, validation macro-F1, and every label at both."""

    macro_f1: float | None
    val_macro_f1: float | None
    per_label: dict[str, LabelMetrics]  # at the validation-tuned thresholds
    macro_f1_at_half: float | None = json_field("macro_f1_at_0.5", default=None)
    per_label_at_half: dict[str, LabelMetrics] = json_field("per_label_at_0.5", default_factory=dict)
    unscored_labels: list[str] = field(default_factory=list)
    macro_f1_interval: Interval | None = json_field(omit_none=True, default=None)

    def label_table(self) -> pd.DataFrame:
        """One row per label at its tuned threshold, with the F1 at 0.5 beside it."""
        table = pd.DataFrame.from_dict({k: encode(v) for k, v in self.per_label.items()}, orient="index")
        table["f1 at 0.5"] = [self.per_label_at_half[label].f1 for label in table.index]
        return table


@dataclass(frozen=True)
class GridCell:
    """One (gamma, alpha) cell of the focal grid: identity macro-F1 on validation and test, head_n's too."""

    gamma: float
    alpha: float
    val_macro_f1: float | None
    test_macro_f1: float | None
    test_macro_f1_at_half: float | None = json_field("test_macro_f1_at_0.5", omit_none=True, default=None)
    val_macro_f1_n: float | None = json_field(omit_none=True, default=None)
    test_macro_f1_n: float | None = json_field(omit_none=True, default=None)
    train_seconds: float | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class GridPick:
    """The cell chosen on validation and its test score."""

    gamma: float
    alpha: float
    val_macro_f1: float | None
    test_macro_f1: float | None
    selected_on: str = ""


@dataclass(frozen=True)
class HeadBaseline:
    """TF-IDF + one-vs-rest logistic regression on one head: its macro-F1s and the model minus it."""

    model_minus_baseline: PairedDifference  # test macro-F1, same resamples
    macro_f1: float | None = None
    val_macro_f1: float | None = None
    macro_f1_at_half: float | None = json_field("macro_f1_at_0.5", omit_none=True, default=None)


@dataclass(frozen=True)
class Baselines:
    name: str
    description: str
    heads: dict[str, HeadBaseline]  # "head_n" / "head_i"


@dataclass(frozen=True)
class LambdaChoiceRecord:
    """The focal weight lambda: one joint model per candidate, the one kept on validation."""

    candidates: list[float]
    picked: float
    selected_on: str
    table: list[dict[str, Any]]  # per candidate: lambda, validation / test macro-F1 per head, seconds

    def table_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.table).set_index("lambda")


@dataclass(frozen=True)
class SeparateModels:
    """The seed's two single-head models against the shared encoder (results.separate_json): both heads'
    test metrics, what each setup cost, the paired differences and a verdict; or only why they were not
    trained (``skipped``)."""

    skipped: str | None = json_field(omit_none=True, default=None)
    head_n: HeadMetrics | None = json_field(omit_none=True, default=None)
    head_i: HeadMetrics | None = json_field(omit_none=True, default=None)
    macro_f1_delta_separate_minus_shared: dict[str, float | None] | None = json_field(
        omit_none=True, default=None
    )
    # shared, shared_with_lambda_search, separate_n, separate_i, separate_total
    train_seconds: dict[str, float] | None = json_field(omit_none=True, default=None)
    shared_candidates: int | None = json_field(omit_none=True, default=None)
    n_train_rows: dict[str, int] | None = json_field(omit_none=True, default=None)  # joint, separate_n, ...
    verdict: str | None = json_field(omit_none=True, default=None)
    paired_shared_minus_separate: dict[str, PairedDifference] | None = json_field(
        omit_none=True, default=None
    )


@dataclass(frozen=True)
class SubgroupBias:
    """One identity subgroup of the Jigsaw bias metric on test (metrics.bias)."""

    subgroup_size: int
    subgroup_toxic: int
    subgroup_auc: float | None
    bpsn_auc: float | None
    bnsp_auc: float | None


@dataclass(frozen=True)
class BiasInterval:
    """The bias score's bootstrap interval and how its test texts were resampled (dualhead.intervals)."""

    estimate: float
    low: float
    high: float
    level: float
    n_units: int
    n_resamples: int
    unit: str
    resampling: str


@dataclass(frozen=True)
class BiasScore:
    """The Jigsaw Unintended Bias metric of the dual-head model (metrics.bias.bias_json), with its score's
    label and source rows; ``final`` / ``final_x100`` are None when no subgroup could be scored."""

    final: float | None
    final_x100: float | None
    overall_auc: float | None
    power_means: dict[str, float | None]  # subgroup_auc, bpsn_auc, bnsp_auc
    per_subgroup: dict[str, SubgroupBias]
    skipped_subgroups: dict[str, str]  # subgroup -> why
    n_rows: int
    power: float
    min_subgroup_size: int
    reference: dict[str, float]  # the published scores, for scale
    comparable_with_reference: bool
    data: str
    note: str
    toxicity_label: str
    source: str
    final_interval: BiasInterval | None = json_field(omit_none=True, default=None)

    def subgroup_table(self) -> pd.DataFrame:
        return pd.DataFrame.from_dict({k: encode(v) for k, v in self.per_subgroup.items()}, orient="index")
