"""``functional.json`` (notebook 06): HateCheck for every classifier: ROC AUC and balanced accuracy (no
threshold confound), accuracy per functionality and target group, all with template-family intervals, two
reference rows, the alarm view, forgetting and the rehearsal remedy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from ..metrics.bootstrap import PairedDifference
from ..references import (
    HATECHECK_PUBLISHED,
    HATECHECK_PUBLISHED_OVERALL,
    HATECHECK_PUBLISHED_SOURCE,
    HATECHECK_PUBLISHED_SYSTEMS,
)
from ..results import Result, fmt_number

AUC_TARGET = 0.80  # issue 26: one of the study's own systems reaches this AUC on HateCheck ...
BALANCED_ACCURACY_TARGET = 0.70  # ... and this balanced accuracy at its held-out threshold
BUDGET_TARGET_SECONDS = 300  # the notebook adds <= 5 minutes to the cpu report
#: Non-hateful functionalities where an early alarm does most harm (counter-speech, negation, identity).
WATCHED_NON_HATEFUL = {
    "counter-speech": ("counter_quote_nh", "counter_ref_nh"),
    "negation": ("negate_neg_nh",),
    "identity mentions": ("ident_neutral_nh", "ident_pos_nh"),
}


def _iv(row: dict[str, Any]) -> str:
    return f"{row['accuracy']:.2f} [{row['low']:.2f}, {row['high']:.2f}]"


def _threshold_text(info: dict[str, Any]) -> str:
    """A system's threshold, with its bootstrap interval where the held-out set that chose it is small."""
    iv = info.get("threshold_interval")
    text = f"{info['threshold']:.3f}"
    return text + (f" [{iv['low']:.2f}, {iv['high']:.2f}]" if iv else "")


def measure_text(row: dict[str, Any], measure: str) -> str:
    return f"{row[measure]:.2f} [{row[measure + '_low']:.2f}, {row[measure + '_high']:.2f}]"


@dataclass(kw_only=True)
class FunctionalResult(Result):
    """HateCheck (Röttger et al. 2021), evaluation only: every classifier of the study on 3,728 cases."""

    FILE: ClassVar[str] = "functional.json"
    NOTEBOOK: ClassVar[str] = "notebooks/06_functional.ipynb"
    MARKER: ClassVar[str] = "accuracy"
    CURATED: ClassVar[tuple[str, ...]] = ("accuracy", "alarms", "forgetting", "remedy")

    cases: dict[str, Any]  # counts, groups, "evaluation only"
    systems: dict[str, dict[str, Any]]  # name -> kind, variant, description, threshold, its source, seconds
    accuracy: list[
        dict[str, Any]
    ]  # functional_accuracy records: system, grouping, value, accuracy, low, high
    alarms: list[dict[str, Any]]  # alarm_profile records (phase-2 kinds)
    # variant -> {auc, balanced_accuracy, hateful, non_hateful}: PairedDifference json, phase 2 - phase 1
    forgetting: dict[str, Any]
    remedy: dict[str, Any]  # run.remedy: rehearsal vs without (same measures), phase-2 MSE, target
    best_system: str  # the best phase-2 variant (chosen on held-out phase-2 data in notebook 03)
    # accuracy.discrimination records: system, auc, balanced_accuracy (own threshold, at 0.5), one-sided
    discrimination: list[dict[str, Any]] = field(default_factory=list)
    target: dict[str, Any] = field(default_factory=dict)  # FunctionalRun.target()
    settings: dict[str, Any] = field(default_factory=dict)
    scoring_seconds: float | None = None

    # ------------------------------------------------------------------------------------------ reading
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.accuracy)

    def row(self, system: str, grouping: str, value: str) -> dict[str, Any]:
        for r in self.accuracy:
            if r["system"] == system and r["grouping"] == grouping and r["value"] == value:
                return r
        raise KeyError(f"no accuracy row for {system} / {grouping} / {value}")

    def weakest(self, system: str, n: int = 3) -> list[dict[str, Any]]:
        rows = [r for r in self.accuracy if r["system"] == system and r["grouping"] == "functionality"]
        return sorted(rows, key=lambda r: (r["accuracy"], r["value"]))[:n]

    def discriminating(self, system: str) -> dict[str, Any]:
        for r in self.discrimination:
            if r["system"] == system:
                return r
        raise KeyError(f"no discrimination row for {system}")

    # ----------------------------------------------------------------------------------------- findings
    def findings(self) -> list[str]:
        c = self.cases
        published = ", ".join(f"{k} {v:.2f}" for k, v in HATECHECK_PUBLISHED_OVERALL.items())
        ranked = sorted(self.discrimination, key=lambda r: -r["auc"])
        lines = [
            f"HateCheck, evaluation only: {fmt_number(c['n_cases'])} cases from "
            f"{fmt_number(c['n_templates'])} templates in "
            f"{fmt_number(c.get('n_families', c['n_templates']))} template families "
            f"({fmt_number(c['n_hateful'])} hateful) "
            f"and {c['functionalities']} functionalities; intervals resample families. ROC AUC, which no "
            "threshold moves: " + "; ".join(f"{r['system']} {measure_text(r, 'auc')}" for r in ranked) + ".",
            "Balanced accuracy (mean of the hateful and the non-hateful accuracy) at each system's held-out "
            "threshold: "
            + "; ".join(f"{r['system']} {measure_text(r, 'balanced_accuracy')}" for r in ranked)
            + ". Plain accuracy rewards answering 'hateful': "
            + (
                "the all-hateful constant scores "
                f"{self.row('reference:all_hateful', 'all', 'all')['accuracy']:.2f}"
                if "reference:all_hateful" in self.systems
                else "no constant row in this build"
            )
            + f". Published overall accuracy, other training data (context only): {published}.",
        ]
        if self.target:
            t = self.target
            lines.append(
                f"Target ({t['target']}): {'met by ' + ', '.join(t['met_by']) if t['met'] else 'missed'}"
                + (f"; stretch met by {', '.join(t['stretch_met_by'])}" if t["stretch_met_by"] else "")
                + (f"; highest AUC among them: {t['highest_auc']}" if t.get("highest_auc") else "")
                + "."
            )
        best = self.best_system
        if best in self.systems:
            hateful, other = (
                self.row(best, "label_gold", "hateful"),
                self.row(best, "label_gold", "non-hateful"),
            )
            weakest = "; ".join(f"{r['value']} {_iv(r)}" for r in self.weakest(best))
            lines.append(
                f"The study's anticipation scorer ({best}, chosen on held-out phase-2 data): hateful cases "
                f"{_iv(hateful)}, non-hateful {_iv(other)} at its held-out threshold "
                f"{self.systems[best]['threshold']:.2f}. Its three weakest functionalities: {weakest}."
            )
        if self.remedy:
            lines.append("Primary comparison. " + self.remedy_line())
        for variant, d in self.forgetting.items():
            lines.append(
                f"Exploratory: forgetting, {variant} (phase 2 minus phase 1): " + self._paired_text(d) + "."
            )
        n_paired = 4 * (len(self.forgetting) + bool(self.remedy))
        lines.append(
            f"{n_paired} paired comparisons on the same {fmt_number(c.get('n_families', c['n_templates']))} "
            "template families, no correction for multiplicity: the rehearsal's balanced accuracy and AUC "
            "are the primary question (its target), the rest exploratory."
        )
        lines.extend(self.alarm_lines())
        return lines

    @staticmethod
    def _paired_text(d: dict[str, Any]) -> str:
        """AUC and balanced accuracy differences (the measures), then the one-sided trade."""
        parts = []
        for key, name in (
            ("auc", "AUC"),
            ("balanced_accuracy", "balanced accuracy"),
            ("hateful", "hateful-case accuracy"),
            ("non_hateful", "non-hateful"),
        ):
            if key in d:
                diff = PairedDifference.from_json(d[key])
                parts.append(f"{name} {diff.difference.fmt(2)} ({diff.verdict()})")
        return ", ".join(parts)

    def remedy_line(self) -> str:
        r = self.remedy
        mse = r["phase2_test_mse"]
        target = r["target"]
        shares = r.get("shares_tried", [r["share"]])
        how = (
            f"share {r['share']:g} chosen on held-out data among {', '.join(f'{x:g}' for x in shares)}"
            if len(shares) > 1
            else f"share {r['share']:g}, the one share this profile tries"
        )
        criterion = r.get("criterion")
        if criterion and criterion["without"] < criterion["with"]:
            how += (
                f"; the held-out criterion is lower without rehearsal ({criterion['without']:.4f} vs "
                f"{criterion['with']:.4f}), so held-out data alone would not ask for it"
            )
        return (
            f"Rehearsal ({r['variant']}, {how}), with minus without on HateCheck: {self._paired_text(r)}; "
            f"phase-2 test MSE {mse['with']['estimate']:.4f} with vs {mse['without']['estimate']:.4f} "
            f"[{mse['without']['low']:.4f}, {mse['without']['high']:.4f}] without. Target "
            f"({target['target']}): {'met' if target['met'] else 'missed'}."
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
            rows = [a for a in self.alarms if a["system"] == system and a["functionality"] in functionalities]
            if rows:
                out[name] = sum(a["fires"] * a["n_cases"] for a in rows) / sum(a["n_cases"] for a in rows)
        return out

    # ------------------------------------------------------------------------------------------- tables
    def discrimination_table(self) -> pd.DataFrame:
        """Per system: AUC and balanced accuracy [95% CI], the one-sided accuracies, at its held-out
        threshold and at 0.5."""
        rows = {}
        for r in sorted(self.discrimination, key=lambda r: -r["auc"]):
            info = self.systems[r["system"]]
            rows[r["system"]] = {
                "ROC AUC [95% CI]": measure_text(r, "auc"),
                "balanced accuracy [95% CI]": measure_text(r, "balanced_accuracy"),
                "hateful acc.": round(r["hateful_accuracy"], 3),
                "non-hateful acc.": round(r["non_hateful_accuracy"], 3),
                "threshold": _threshold_text(info),
                "balanced acc. at 0.5": measure_text(r, "balanced_accuracy_at_0.5"),
                "hateful / non-hateful at 0.5": (
                    f"{r['hateful_accuracy_at_0.5']:.2f} / {r['non_hateful_accuracy_at_0.5']:.2f}"
                ),
                "threshold chosen on": info["threshold_source"],
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
            if info["kind"] not in ("phase1", "phase2", "rehearsal"):
                continue
            measures = self.discriminating(system) if self.discrimination else None
            rows[system] = {
                **(
                    {
                        "ROC AUC": measure_text(measures, "auc"),
                        "balanced accuracy": measure_text(measures, "balanced_accuracy"),
                    }
                    if measures
                    else {}
                ),
                "hateful cases": _iv(self.row(system, "label_gold", "hateful")),
                "non-hateful cases": _iv(self.row(system, "label_gold", "non-hateful")),
                "threshold": info["threshold"],
            }
        if self.remedy:
            mse = self.remedy["phase2_test_mse"]
            for key, side in (
                (f"phase2:{self.remedy['variant']}", "without"),
                (f"rehearsal:{self.remedy['variant']}", "with"),
            ):
                m = mse[side]
                rows[key]["phase-2 test MSE [95% CI]"] = (
                    f"{m['estimate']:.4f} [{m['low']:.4f}, {m['high']:.4f}]"
                )
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
        verdict = "met" if seconds <= BUDGET_TARGET_SECONDS else "missed"
        return [
            (
                f"Notebook 06 took {seconds / 60:.1f} min on this hardware (target <= "
                f"{BUDGET_TARGET_SECONDS / 60:.0f} min added to the cpu report: {verdict}); the rehearsal "
                "model is trained in notebook 03 and counted there."
            )
        ]
