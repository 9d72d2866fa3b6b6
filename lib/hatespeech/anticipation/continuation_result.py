"""``continuations.json`` (notebook 07) as a typed result: what :mod:`.continuation_study` measured, read back
by the report without torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..metrics.bootstrap import Interval, PairedDifference
from ..names import stage_and_variant
from ..results import Result, fmt_number
from .evidence_types import CalibrationBin, EarlinessRow, comparison_key

CONTENT_WARNING = (
    "Model-generated text: the endings are what a small pretrained language model wrote after real prefixes, "
    "unfiltered, and may be offensive."
)


LABELS = {
    "continuation": "imagined endings, calibrated (continuation estimator)",
    "continuation_raw": "imagined endings, raw scores",
    "phase1_prefix": "the same classifier on the prefix as it stands",
    "phase1_prefix_calibrated": "the same classifier on the prefix, calibrated",
    "phase2": "best phase-2 model",
    "constant": "constant (phase-2 train mean)",
}


def label(key: str) -> str:
    kind, _, variant = key.partition(":")
    return LABELS.get(kind, kind) + (f" ({variant})" if variant and kind != "constant" else "")


@dataclass(frozen=True)
class EstimatorInfo:
    """How the endings were made and scored (continuation_study.continuation_result)."""

    n_samples: int
    max_new_tokens: int
    top_p: float
    generator: str
    scorer_variant: str
    scorer: str
    calibration: dict[str, Any] | None  # calibration.PlattMap.to_json: slope, intercept, what it was fit on
    stops: str
    content_warning: str


@dataclass(frozen=True)
class Coverage:
    """Which test sentences and prefixes the study scored."""

    sentences: int
    prefixes: int
    prefixes_continued: int
    all_test_sentences: bool


@dataclass(frozen=True)
class SystemScores:
    """One system on every test prefix: MSE, MAE, Pearson, ECE and how early it flags hateful sentences."""

    mse: float
    mae: float
    pearson: float | None
    n: int
    ece: float | None
    earliness: EarlinessRow


@dataclass(frozen=True)
class MonteCarloNoise:
    mean_stderr_squared: float
    share_of_mse: float | None
    note: str


@dataclass(frozen=True)
class Cost:
    estimator_seconds: float
    seconds_per_prefix: float
    seconds_per_ending: float
    other_seconds: float
    endings: int


@dataclass(frozen=True)
class Ending:
    ending: str
    p_hate: float


@dataclass(frozen=True)
class EndingExample:
    """A test prefix with a few of its sampled endings (model-generated, may offend)."""

    prefix: str
    estimate: float
    stderr: float | None
    endings: list[Ending]


@dataclass(frozen=True)
class EndingsTarget:
    """Issue 26's target: calibrated imagined endings below the constant (the paired interval below 0)."""

    target: str
    difference: PairedDifference  # endings minus the constant, test MSE
    met: bool


@dataclass(kw_only=True)
class ContinuationResult(Result):
    """``continuations.json`` (notebook 07): P(hateful | prefix) from sampled endings, against the trained
    models on the same phase-2 test prefixes."""

    FILE: ClassVar[str] = "continuations.json"
    NOTEBOOK: ClassVar[str] = "notebooks/07_continuations.ipynb"
    MARKER: ClassVar[str] = "mc_noise"
    CURATED: ClassVar[tuple[str, ...]] = ("intervals", "comparisons", "mc_noise", "cost", "examples")

    estimator: EstimatorInfo  # settings, generator, scorer, what it is
    test: Coverage  # sentences, prefixes, prefixes continued, whether every test sentence is in
    metrics: dict[str, SystemScores]  # system -> mse, mae, pearson, ece, n, earliness
    intervals: dict[str, Interval]  # system -> test MSE, resampling test sentences
    comparisons: dict[str, PairedDifference]  # "mse:<endings>-<other>" -> endings minus the other
    mc_noise: MonteCarloNoise
    cost: Cost  # seconds: estimator, per prefix, per ending; the other systems
    examples: list[EndingExample]  # a few prefixes with sampled endings (model-generated, may offend)
    notebook03: dict[str, Interval] = field(default_factory=dict)  # its test-MSE intervals, same set
    calibration: dict[str, list[CalibrationBin]] = field(default_factory=dict)  # system -> reliability bins
    target: EndingsTarget | None = None

    @property
    def key(self) -> str:
        return next(k for k in self.metrics if stage_and_variant(k)[0] == "continuation")

    def findings(self) -> list[str]:
        est = self.intervals[self.key]
        e = self.estimator
        m = self.metrics[self.key]
        lines = [
            (
                f"Imagined endings ({e.n_samples} per prefix from {e.generator}, each scored at full "
                f"length by the phase-1 {e.scorer_variant} model"
                + (", calibrated on the phase-2 train sentences at full length" if e.calibration else "")
                + f") reach a test MSE of {est.fmt(4)} (Pearson {m.pearson:.3f}, ECE {m.ece:.3f}) on "
                f"{self.test.prefixes:,} prefixes of {self.test.sentences} test sentences, with no "
                "prefix label used."
            )
        ]
        if self.target:
            lines.append(
                f"Target ({self.target.target}): {'met' if self.target.met else 'missed'}, "
                f"{self.target.difference.difference.fmt(4)}."
            )
        primary = comparison_key("mse", self.key, "constant:train_mean")
        for key, d in sorted(self.comparisons.items(), key=lambda kv: kv[0] != primary):
            other = d.name_b
            tag = "Primary comparison" if key == primary else "Exploratory"
            lines.append(
                f"{tag}, against {label(other)}: MSE {d.b.fmt(4)}; difference {d.difference.fmt(4)} - "
                f"{d.verdict().replace(self.key, 'imagined endings').replace(other, label(other))}."
            )
        lines.append(
            f"{len(self.comparisons)} paired comparisons on the same {self.test.sentences} test "
            "sentences, no correction for multiplicity: one primary (against the constant, the target), "
            "the rest exploratory."
        )
        noise = self.mc_noise
        lines.append(
            f"Monte-Carlo noise adds about {noise.mean_stderr_squared:.4f} to the estimator's MSE "
            f"({fmt_number(100 * (noise.share_of_mse or 0), 1)}% of it): more endings per prefix would "
            "lower it by at most that much."
        )
        lines.append(
            "Not tried in this build: endings as a label source (phase 2 trained on continuation estimates "
            "of phase-1 train sentences instead of annotated labels), the optional part of the plan; at the "
            "measured cost per prefix it would add more than the cpu budget for this notebook."
        )
        c = self.cost
        lines.append(
            f"Cost: {c.estimator_seconds:.0f} s for the estimator ({1e3 * c.seconds_per_prefix:.0f} ms "
            f"per prefix, {1e3 * c.seconds_per_ending:.0f} ms per ending) against "
            f"{c.other_seconds:.0f} s for re-scoring the other systems on every prefix."
        )
        return lines

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        rows = {}
        for key, iv in self.intervals.items():
            m = self.metrics[key]
            rows[label(key)] = {
                "test MSE [95% CI]": iv.fmt(4),
                "Pearson": m.pearson,
                "ECE": m.ece,
                "detection rate": m.earliness.detection_rate,
                "false-alarm rate": m.earliness.false_alarm_rate,
                "computed in": "notebook 07",
            }
        for key, iv in self.notebook03.items():
            rows.setdefault(
                f"{key} (notebook 03)",
                {"test MSE [95% CI]": iv.fmt(4), "computed in": "notebook 03"},
            )
        examples = pd.DataFrame(
            [
                {"prefix": e.prefix, "ending (model-generated)": x.ending, "p_hate": x.p_hate}
                for e in self.examples
                for x in e.endings
            ]
        )
        return [
            ("test MSE of every system on the same prefixes", pd.DataFrame.from_dict(rows, orient="index")),
            (f"example endings ({CONTENT_WARNING})", examples),
        ]
