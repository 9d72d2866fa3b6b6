"""``continuations.json`` (notebook 07) as a typed result: what :mod:`.continuation_study` measured, read back
by the report without torch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..metrics.bootstrap import Interval, PairedDifference
from ..results import Result, fmt_number
from .evidence_types import comparison_key

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

    estimator: dict[str, Any]  # settings, generator, scorer, what it is
    test: dict[str, Any]  # sentences, prefixes, prefixes continued, whether every test sentence is in
    metrics: dict[str, dict[str, Any]]  # system -> mse, mae, pearson, ece, n, earliness
    intervals: dict[str, Interval]  # system -> test MSE, resampling test sentences
    comparisons: dict[str, PairedDifference]  # "mse:<endings>-<other>" -> endings minus the other
    mc_noise: dict[str, Any]
    cost: dict[str, Any]  # seconds: estimator, per prefix, per ending; the other systems
    examples: list[dict[str, Any]]  # a few prefixes with sampled endings (model-generated, may offend)
    notebook03: dict[str, Interval] = field(default_factory=dict)  # its test-MSE intervals, same set
    calibration: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # system -> reliability bins
    target: EndingsTarget | None = None

    @property
    def key(self) -> str:
        return next(k for k in self.metrics if k.startswith("continuation:"))

    def findings(self) -> list[str]:
        est = self.intervals[self.key]
        e = self.estimator
        m = self.metrics[self.key]
        lines = [
            (
                f"Imagined endings ({e['n_samples']} per prefix from {e['generator']}, each scored at full "
                f"length by the phase-1 {e['scorer_variant']} model"
                + (
                    ", calibrated on the phase-2 train sentences at full length"
                    if e.get("calibration")
                    else ""
                )
                + f") reach a test MSE of {est.fmt(4)} (Pearson {m['pearson']:.3f}, ECE {m['ece']:.3f}) on "
                f"{self.test['prefixes']:,} prefixes of {self.test['sentences']} test sentences, with no "
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
            f"{len(self.comparisons)} paired comparisons on the same {self.test['sentences']} test "
            "sentences, no correction for multiplicity: one primary (against the constant, the target), "
            "the rest exploratory."
        )
        noise = self.mc_noise
        lines.append(
            f"Monte-Carlo noise adds about {noise['mean_stderr_squared']:.4f} to the estimator's MSE "
            f"({fmt_number(100 * (noise['share_of_mse'] or 0), 1)}% of it): more endings per prefix would "
            "lower it by at most that much."
        )
        lines.append(
            "Not tried in this build: endings as a label source (phase 2 trained on continuation estimates "
            "of phase-1 train sentences instead of annotated labels), the optional part of the plan; at the "
            "measured cost per prefix it would add more than the cpu budget for this notebook."
        )
        c = self.cost
        lines.append(
            f"Cost: {c['estimator_seconds']:.0f} s for the estimator ({1e3 * c['seconds_per_prefix']:.0f} ms "
            f"per prefix, {1e3 * c['seconds_per_ending']:.0f} ms per ending) against "
            f"{c['other_seconds']:.0f} s for re-scoring the other systems on every prefix."
        )
        return lines

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        rows = {}
        for key, iv in self.intervals.items():
            m = self.metrics[key]
            early = m.get("earliness") or {}
            rows[label(key)] = {
                "test MSE [95% CI]": iv.fmt(4),
                "Pearson": m.get("pearson"),
                "ECE": m.get("ece"),
                "detection rate": early.get("detection_rate"),
                "false-alarm rate": early.get("false_alarm_rate"),
                "computed in": "notebook 07",
            }
        for key, iv in self.notebook03.items():
            rows.setdefault(
                f"{key} (notebook 03)",
                {"test MSE [95% CI]": iv.fmt(4), "computed in": "notebook 03"},
            )
        examples = pd.DataFrame(
            [
                {"prefix": e["prefix"], "ending (model-generated)": x["ending"], "p_hate": x["p_hate"]}
                for e in self.examples
                for x in e["endings"]
            ]
        )
        return [
            ("test MSE of every system on the same prefixes", pd.DataFrame.from_dict(rows, orient="index")),
            (f"example endings ({CONTENT_WARNING})", examples),
        ]
