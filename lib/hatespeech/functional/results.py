"""``functional.json`` (notebook 06): HateCheck for every classifier: ROC AUC and balanced accuracy (no
threshold confound), accuracy per functionality and target group, all with template-family intervals, two
reference rows, the alarm view, forgetting and the rehearsal remedy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..metrics.bootstrap import Interval, PairedDifference, bounds_text
from ..nested import json_field
from ..references import (
    HATECHECK_PUBLISHED,
    HATECHECK_PUBLISHED_OVERALL,
    HATECHECK_PUBLISHED_SOURCE,
    HATECHECK_PUBLISHED_SYSTEMS,
)
from ..results import Result, fmt_number

AUC_TARGET = 0.80  # issue 26: one of the study's own systems reaches this AUC on HateCheck ...
BALANCED_ACCURACY_TARGET = 0.70  # ... and this balanced accuracy at its held-out threshold
#: The whole-sentence hate detector's system name (:mod:`.detector`; scored and compared in :mod:`.run`).
DETECTOR_SYSTEM = "detector:encoder"
BUDGET_TARGET_SECONDS = 300  # the notebook adds <= 5 minutes to the cpu report
#: Non-hateful functionalities where an early alarm does most harm (counter-speech, negation, identity).
WATCHED_NON_HATEFUL = {
    "counter-speech": ("counter_quote_nh", "counter_ref_nh"),
    "negation": ("negate_neg_nh",),
    "identity mentions": ("ident_neutral_nh", "ident_pos_nh"),
}


def _iv(record: dict[str, Any]) -> str:
    """An accuracy record of a table (a frame row) as text."""
    return bounds_text(record["accuracy"], record["low"], record["high"], 2)


# ========================================================================== the typed rows of the file


@dataclass(frozen=True)
class CaseCounts:
    """What the HateCheck run scored (``FunctionalRun.result``)."""

    n_cases: int
    n_templates: int
    n_hateful: int
    n_non_hateful: int
    functionalities: int
    target_groups: list[str]
    use: str
    sampled: bool
    n_families: int | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class AccuracyRow:
    """One system's accuracy on one group of cases, with its template-family interval
    (accuracy.functional_accuracy)."""

    system: str
    grouping: str  # all | label_gold | functionality | target_ident
    value: str
    n_cases: int
    n_templates: int
    n_families: int
    accuracy: float
    low: float
    high: float

    def text(self) -> str:
        return bounds_text(self.accuracy, self.low, self.high, 2)


@dataclass(frozen=True)
class AlarmRow:
    """When one phase-2 system's alarm fires on one functionality's cases, word by word
    (accuracy.alarm_profile)."""

    system: str
    functionality: str
    label_gold: str
    n_cases: int
    fires: float
    fires_at_end: float
    share_seen_mean: float | None


@dataclass(frozen=True)
class SystemInfo:
    """One classifier on HateCheck: what it is and how it decides (``FunctionalRun.systems``' JSON)."""

    kind: str  # phase1 | phase2 | rehearsal | dualhead | detector | baseline | reference
    variant: str
    description: str
    threshold: float
    threshold_source: str  # where the threshold was chosen (never HateCheck)
    threshold_interval: Interval | None = None  # its bootstrap interval where the held-out set is small
    seconds: float = 0.0

    def threshold_text(self) -> str:
        """The threshold, with its interval where the held-out set that chose it is small."""
        iv = self.threshold_interval
        return f"{self.threshold:.3f}" + (f" [{iv.low:.2f}, {iv.high:.2f}]" if iv else "")


@dataclass(frozen=True)
class Discrimination:
    """One system on every case (:func:`.accuracy.discrimination`): ROC AUC (no threshold) and balanced
    accuracy with 95% template-family intervals, the one-sided accuracies, at its threshold and at 0.5."""

    system: str
    threshold: float
    n_cases: int
    n_families: int
    auc: float | None
    auc_low: float | None
    auc_high: float | None
    balanced_accuracy: float
    balanced_accuracy_low: float
    balanced_accuracy_high: float
    hateful_accuracy: float | None
    non_hateful_accuracy: float | None
    balanced_accuracy_at_half: float = json_field("balanced_accuracy_at_0.5")
    balanced_accuracy_at_half_low: float = json_field("balanced_accuracy_at_0.5_low")
    balanced_accuracy_at_half_high: float = json_field("balanced_accuracy_at_0.5_high")
    hateful_accuracy_at_half: float | None = json_field("hateful_accuracy_at_0.5")
    non_hateful_accuracy_at_half: float | None = json_field("non_hateful_accuracy_at_0.5")

    def text(self, measure: str) -> str:
        """``"0.61 [0.57, 0.65]"`` for ``auc``, ``balanced_accuracy`` or ``balanced_accuracy_at_half``."""
        value, low, high = (getattr(self, measure + end) for end in ("", "_low", "_high"))
        return bounds_text(value, low, high, 2)


@dataclass(frozen=True)
class PairedMeasures:
    """System a minus system b on the same family resamples: AUC and balanced accuracy (the measures of a
    change), the hateful / non-hateful accuracy (the trade a threshold makes)."""

    auc: PairedDifference
    balanced_accuracy: PairedDifference
    hateful: PairedDifference
    non_hateful: PairedDifference

    def text(self) -> str:
        parts = [
            f"{name} {diff.difference.fmt(2)} ({diff.verdict()})"
            for name, diff in (
                ("AUC", self.auc),
                ("balanced accuracy", self.balanced_accuracy),
                ("hateful-case accuracy", self.hateful),
                ("non-hateful", self.non_hateful),
            )
        ]
        return ", ".join(parts)


@dataclass(frozen=True)
class RemedyTarget:
    target: str
    auc_up: bool
    balanced_accuracy_up: bool
    met: bool


@dataclass(frozen=True)
class Remedy(PairedMeasures):
    """The rehearsal model minus the same variant without it (the four paired measures), how its share was
    chosen, the phase-2 test MSE of both (reported, not a criterion) and the target."""

    variant: str
    share: float
    chosen_by: str
    phase2_test_mse: dict[str, Interval]  # "with" / "without"
    target: RemedyTarget
    shares_tried: list[float] = field(default_factory=list)
    criterion: dict[str, float] = field(default_factory=dict)  # held-out criterion "with" / "without"


@dataclass(frozen=True)
class HateCheckTarget:
    """Issue 26's HateCheck target on the study's own systems (``FunctionalRun.target``)."""

    target: str
    systems: list[str]
    met_by: list[str]
    met: bool
    stretch_met_by: list[str]
    highest_auc: str | None


@dataclass(kw_only=True)
class FunctionalResult(Result):
    """HateCheck (Röttger et al. 2021), evaluation only: every classifier of the study on 3,728 cases."""

    FILE: ClassVar[str] = "functional.json"
    NOTEBOOK: ClassVar[str] = "notebooks/06_functional.ipynb"
    MARKER: ClassVar[str] = "accuracy"
    CURATED: ClassVar[tuple[str, ...]] = ("accuracy", "alarms", "forgetting", "remedy")

    cases: CaseCounts  # counts, groups, "evaluation only"
    systems: dict[str, SystemInfo]
    accuracy: list[AccuracyRow]  # per system and group of cases
    alarms: list[AlarmRow]  # per phase-2 system and functionality
    forgetting: dict[str, PairedMeasures]  # per variant, phase 2 minus phase 1
    remedy: Remedy | None  # rehearsal minus without (None: notebook 03 trained no rehearsal model)
    best_system: str  # the best phase-2 variant (chosen on held-out phase-2 data in notebook 03)
    discrimination: list[Discrimination] = field(default_factory=list)
    detector_vs: dict[str, PairedMeasures] = field(default_factory=dict)  # detector minus each (run.py)
    target: HateCheckTarget | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    scoring_seconds: float | None = None

    # ------------------------------------------------------------------------------------------ reading
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.accuracy)

    def row(self, system: str, grouping: str, value: str) -> AccuracyRow:
        for r in self.accuracy:
            if r.system == system and r.grouping == grouping and r.value == value:
                return r
        raise KeyError(f"no accuracy row for {system} / {grouping} / {value}")

    def weakest(self, system: str, n: int = 3) -> list[AccuracyRow]:
        rows = [r for r in self.accuracy if r.system == system and r.grouping == "functionality"]
        return sorted(rows, key=lambda r: (r.accuracy, r.value))[:n]

    def discriminating(self, system: str) -> Discrimination:
        for r in self.discrimination:
            if r.system == system:
                return r
        raise KeyError(f"no discrimination row for {system}")

    # ----------------------------------------------------------------------------------------- findings
    def findings(self) -> list[str]:
        c = self.cases
        published = ", ".join(f"{k} {v:.2f}" for k, v in HATECHECK_PUBLISHED_OVERALL.items())
        ranked = sorted(self.discrimination, key=lambda r: -r.auc)
        lines = [
            f"HateCheck, evaluation only: {fmt_number(c.n_cases)} cases from "
            f"{fmt_number(c.n_templates)} templates in "
            f"{fmt_number(c.n_families or c.n_templates)} template families "
            f"({fmt_number(c.n_hateful)} hateful) "
            f"and {c.functionalities} functionalities; intervals resample families. ROC AUC, which no "
            "threshold moves: " + "; ".join(f"{r.system} {r.text('auc')}" for r in ranked) + ".",
            "Balanced accuracy (mean of the hateful and the non-hateful accuracy) at each system's held-out "
            "threshold: "
            + "; ".join(f"{r.system} {r.text('balanced_accuracy')}" for r in ranked)
            + ". Plain accuracy rewards answering 'hateful': "
            + (
                "the all-hateful constant scores "
                f"{self.row('reference:all_hateful', 'all', 'all').accuracy:.2f}"
                if "reference:all_hateful" in self.systems
                else "no constant row in this build"
            )
            + f". Published overall accuracy, other training data (context only): {published}.",
        ]
        if self.target:
            t = self.target
            lines.append(
                f"Target ({t.target}): {'met by ' + ', '.join(t.met_by) if t.met else 'missed'}"
                + (f"; stretch met by {', '.join(t.stretch_met_by)}" if t.stretch_met_by else "")
                + (f"; highest AUC among them: {t.highest_auc}" if t.highest_auc else "")
                + "."
            )
        lines.extend(self.detector_lines())
        best = self.best_system
        if best in self.systems:
            hateful, other = (
                self.row(best, "label_gold", "hateful"),
                self.row(best, "label_gold", "non-hateful"),
            )
            weakest = "; ".join(f"{r.value} {r.text()}" for r in self.weakest(best))
            lines.append(
                f"The study's anticipation scorer ({best}, chosen on held-out phase-2 data): hateful cases "
                f"{hateful.text()}, non-hateful {other.text()} at its held-out threshold "
                f"{self.systems[best].threshold:.2f}. Its three weakest functionalities: {weakest}."
            )
        if self.remedy:
            lines.append("Primary comparison. " + self.remedy_line())
        for variant, d in self.forgetting.items():
            lines.append(f"Exploratory: forgetting, {variant} (phase 2 minus phase 1): {d.text()}.")
        for other, d in self.detector_vs.items():
            lines.append(f"Exploratory: the whole-sentence detector minus {other}: {d.text()}.")
        n_paired = 4 * (len(self.forgetting) + bool(self.remedy) + len(self.detector_vs))
        lines.append(
            f"{n_paired} paired comparisons on the same {fmt_number(c.n_families or c.n_templates)} "
            "template families, no correction for multiplicity: the rehearsal's balanced accuracy and AUC "
            "are the primary question (its target), the rest exploratory."
        )
        lines.extend(self.alarm_lines())
        return lines

    def detector_lines(self) -> list[str]:
        """The whole-sentence hate detector: what it was trained on, and how it ranks HateCheck."""
        about = self.settings.get("detector")
        if not about or DETECTOR_SYSTEM not in self.systems:
            return []
        row, info = self.discriminating(DETECTOR_SYSTEM), self.systems[DETECTOR_SYSTEM]
        hateful, other = (
            self.row(DETECTOR_SYSTEM, "label_gold", "hateful"),
            self.row(DETECTOR_SYSTEM, "label_gold", "non-hateful"),
        )
        corpora = len(about["train_sentences_by_source"])
        line = (
            f"Whole-sentence hate detector ({DETECTOR_SYSTEM}: the encoder fine-tuned on "
            f"{fmt_number(about['train_sentences'])} whole sentences of {corpora} hate-labelled corpora, "
            f"settings fixed before it was first scored; AUC {about['selection_auc']:.3f} on its own "
            f"{fmt_number(about['selection_sentences'])}-sentence selection split): HateCheck AUC "
            f"{row.text('auc')}, balanced accuracy {row.text('balanced_accuracy')} at its selection "
            f"threshold {info.threshold:.2f} (hateful cases {hateful.text()}, non-hateful {other.text()}): "
            "what the offline encoder reaches when it is trained on whole statements of every corpus here "
            "rather than on prefixes or toxicity types."
        )
        return [line]

    def remedy_line(self) -> str:
        r = self.remedy
        mse, target, shares = r.phase2_test_mse, r.target, r.shares_tried or [r.share]
        how = (
            f"share {r.share:g} chosen on held-out data among {', '.join(f'{x:g}' for x in shares)}"
            if len(shares) > 1
            else f"share {r.share:g}, the one share this profile tries"
        )
        criterion = r.criterion
        if criterion and criterion["without"] < criterion["with"]:
            how += (
                f"; the held-out criterion is lower without rehearsal ({criterion['without']:.4f} vs "
                f"{criterion['with']:.4f}), so held-out data alone would not ask for it"
            )
        return (
            f"Rehearsal ({r.variant}, {how}), with minus without on HateCheck: {r.text()}; "
            f"phase-2 test MSE {mse['with'].estimate:.4f} with vs {mse['without'].fmt(4)} without. Target "
            f"({target.target}): {'met' if target.met else 'missed'}."
        )

    def alarm_lines(self) -> list[str]:
        if not self.alarms:
            return []
        frame = pd.DataFrame(self.alarms)
        lines = []
        for system, part in frame.groupby("system", sort=False):
            hateful = part[part["label_gold"] == "hateful"]
            fired = (hateful["fires"] * hateful["n_cases"]).sum() / hateful["n_cases"].sum()
            seen = (hateful["share_seen_mean"].fillna(0) * hateful["fires"] * hateful["n_cases"]).sum() / max(
                (hateful["fires"] * hateful["n_cases"]).sum(), 1e-12
            )
            watched = ", ".join(f"{name} {rate:.2f}" for name, rate in self.false_alarms(system).items())
            lines.append(
                f"Alarm, {system}: fires on {fired:.2f} of hateful cases, after {seen:.2f} of the case on "
                f"average; false alarm at any word on {watched}."
            )
        return lines

    def false_alarms(self, system: str) -> dict[str, float]:
        """Share of the cases of each :data:`WATCHED_NON_HATEFUL` group where ``system``'s alarm fires at
        some word (case-weighted over the group's functionalities)."""
        out = {}
        for name, functionalities in WATCHED_NON_HATEFUL.items():
            rows = [a for a in self.alarms if a.system == system and a.functionality in functionalities]
            if rows:
                out[name] = sum(a.fires * a.n_cases for a in rows) / sum(a.n_cases for a in rows)
        return out

    # ------------------------------------------------------------------------------------------- tables
    def discrimination_table(self) -> pd.DataFrame:
        """Per system: AUC and balanced accuracy [95% CI], the one-sided accuracies, at its held-out
        threshold and at 0.5."""
        rows = {}
        for r in sorted(self.discrimination, key=lambda r: -r.auc):
            info = self.systems[r.system]
            rows[r.system] = {
                "ROC AUC [95% CI]": r.text("auc"),
                "balanced accuracy [95% CI]": r.text("balanced_accuracy"),
                "hateful acc.": round(r.hateful_accuracy, 3),
                "non-hateful acc.": round(r.non_hateful_accuracy, 3),
                "threshold": info.threshold_text(),
                "balanced acc. at 0.5": r.text("balanced_accuracy_at_half"),
                "hateful / non-hateful at 0.5": (
                    f"{r.hateful_accuracy_at_half:.2f} / {r.non_hateful_accuracy_at_half:.2f}"
                ),
                "threshold chosen on": info.threshold_source,
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def functionality_table(self) -> pd.DataFrame:
        """Accuracy [95% CI] per functionality and system, beside the published systems' accuracy."""
        frame = self.frame()
        part = frame[frame["grouping"] == "functionality"]
        table = part.assign(cell=[_iv(r) for r in part.to_dict("records")]).pivot(
            index="value", columns="system", values="cell"
        )[list(self.systems)]
        for i, name in enumerate(HATECHECK_PUBLISHED_SYSTEMS):
            table[f"published {name}"] = [
                HATECHECK_PUBLISHED[f][i] / 100 if f in HATECHECK_PUBLISHED else None for f in table.index
            ]
        table.index.name = "functionality"
        return table

    def group_table(self) -> pd.DataFrame:
        frame = self.frame()
        part = frame[frame["grouping"].isin(["label_gold", "target_ident"])]
        table = part.assign(cell=[_iv(r) for r in part.to_dict("records")]).pivot(
            index="value", columns="system", values="cell"
        )[list(self.systems)]
        table.index.name = "cases"
        return table

    def forgetting_table(self) -> pd.DataFrame:
        """Per variant: AUC, balanced accuracy and the hateful / non-hateful accuracy in phase 1, phase 2
        and with rehearsal."""
        rows = {}
        for system, info in self.systems.items():
            if info.kind not in ("phase1", "phase2", "rehearsal"):
                continue
            measures = self.discriminating(system) if self.discrimination else None
            rows[system] = {
                **(
                    {
                        "ROC AUC": measures.text("auc"),
                        "balanced accuracy": measures.text("balanced_accuracy"),
                    }
                    if measures
                    else {}
                ),
                "hateful cases": self.row(system, "label_gold", "hateful").text(),
                "non-hateful cases": self.row(system, "label_gold", "non-hateful").text(),
                "threshold": info.threshold,
            }
        if self.remedy:
            mse, variant = self.remedy.phase2_test_mse, self.remedy.variant
            for key, side in ((f"phase2:{variant}", "without"), (f"rehearsal:{variant}", "with")):
                rows[key]["phase-2 test MSE [95% CI]"] = mse[side].fmt(4)
        return pd.DataFrame.from_dict(rows, orient="index")

    def alarm_table(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.alarms)
        if frame.empty:
            return frame
        return frame.pivot(index="functionality", columns="system", values="fires")

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        n = self.settings.get("n_resamples", "")
        return [
            (
                (
                    "HateCheck per system: ROC AUC and balanced accuracy (95% intervals, "
                    f"{n} template-family resamples), at the held-out threshold and at 0.5"
                ),
                self.discrimination_table(),
            ),
            (
                (
                    "HateCheck: phase 1 -> phase 2 -> rehearsal, AUC, balanced accuracy and the hateful / "
                    f"non-hateful accuracy (95% intervals, {n} template-family resamples)"
                ),
                self.forgetting_table(),
            ),
            (
                (
                    "HateCheck accuracy per functionality [95% CI]; published columns: "
                    f"{HATECHECK_PUBLISHED_SOURCE} (other training data, context only)"
                ),
                self.functionality_table(),
            ),
            ("HateCheck accuracy per gold label and target group [95% CI]", self.group_table()),
            (
                (
                    "Alarm rate per functionality (share of cases where p >= threshold at some word; "
                    "hateful functionalities: detection, non-hateful: false alarm)"
                ),
                self.alarm_table(),
            ),
        ]

    def context(self, reports=None) -> list[str]:
        seconds = (self.wall_seconds or {}).get("06_functional", self.scoring_seconds)
        if seconds is None:
            return []
        training = float((self.settings.get("detector") or {}).get("train_seconds") or 0.0)
        scoring = seconds - training
        verdict = "met" if scoring <= BUDGET_TARGET_SECONDS else "missed"
        trained = (
            f", of which {training / 60:.1f} min trained the whole-sentence detector (a model of its own, "
            f"like the rehearsal model that notebook 03 trains and counts) and {scoring / 60:.1f} min scored "
            "and compared"
            if training
            else ""
        )
        return [
            (
                f"Notebook 06 took {seconds / 60:.1f} min on this hardware{trained} (target: scoring adds <= "
                f"{BUDGET_TARGET_SECONDS / 60:.0f} min to the cpu report: {verdict}); the rehearsal model is "
                "trained in notebook 03 and counted there."
            )
        ]
