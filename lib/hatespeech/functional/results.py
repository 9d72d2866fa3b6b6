"""``functional.json`` (notebook 06): HateCheck accuracy of every classifier per functionality and target
group with template-level intervals, the alarm view, forgetting and the rehearsal remedy."""

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
from ..results import Result, _fmt

REMEDY_GAIN_TARGET = 0.2  # the target: hateful-case accuracy up by >= 0.2 with rehearsal
BUDGET_TARGET_SECONDS = 300  # the notebook adds <= 5 minutes to the cpu report
#: Non-hateful functionalities where an early alarm does most harm (counter-speech, negation, identity).
WATCHED_NON_HATEFUL = {
    "counter-speech": ("counter_quote_nh", "counter_ref_nh"),
    "negation": ("negate_neg_nh",),
    "identity mentions": ("ident_neutral_nh", "ident_pos_nh"),
}


def _iv(row: dict[str, Any]) -> str:
    return f"{row['accuracy']:.2f} [{row['low']:.2f}, {row['high']:.2f}]"


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
    forgetting: dict[str, Any]  # variant -> {hateful, non_hateful}: PairedDifference json, phase 2 - phase 1
    remedy: dict[str, Any]  # run.remedy: rehearsal vs without on HateCheck and phase-2 MSE, target
    best_system: str  # the best phase-2 variant (chosen on held-out phase-2 data in notebook 03)
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

    # ----------------------------------------------------------------------------------------- findings
    def findings(self) -> list[str]:
        c = self.cases
        overall = {s: self.row(s, "all", "all") for s in self.systems}
        ranked = sorted(overall, key=lambda s: -overall[s]["accuracy"])
        published = ", ".join(f"{k} {v:.2f}" for k, v in HATECHECK_PUBLISHED_OVERALL.items())
        lines = [
            f"HateCheck, evaluation only: {_fmt(c['n_cases'])} cases from {_fmt(c['n_templates'])} templates "
            f"({_fmt(c['n_hateful'])} hateful) in {c['functionalities']} functionalities; intervals resample "
            "templates. Overall accuracy: "
            + "; ".join(f"{s} {_iv(overall[s])}" for s in ranked)
            + f". Published, other training data (context only): {published}.",
        ]
        best = self.best_system
        if best in self.systems:
            hateful, other = (
                self.row(best, "label_gold", "hateful"),
                self.row(best, "label_gold", "non-hateful"),
            )
            weakest = "; ".join(f"{r['value']} {_iv(r)}" for r in self.weakest(best))
            lines.append(
                f"The study's anticipation scorer ({best}, chosen on held-out phase-2 data): hateful cases "
                f"{_iv(hateful)}, non-hateful {_iv(other)}. Its three weakest functionalities: {weakest}."
            )
        for variant, d in self.forgetting.items():
            h, nh = PairedDifference.from_json(d["hateful"]), PairedDifference.from_json(d["non_hateful"])
            lines.append(
                f"Forgetting, {variant}: phase 2 minus phase 1 accuracy on hateful cases "
                f"{h.difference.fmt(2)} ({h.verdict()}), on non-hateful cases {nh.difference.fmt(2)} "
                f"({nh.verdict()})."
            )
        if self.remedy:
            lines.append(self.remedy_line())
        lines.extend(self.alarm_lines())
        return lines

    def remedy_line(self) -> str:
        r = self.remedy
        h, nh = PairedDifference.from_json(r["hateful"]), PairedDifference.from_json(r["non_hateful"])
        mse = r["phase2_test_mse"]
        target = r["target"]
        verdict = "met" if target["met"] else "missed"
        why = []
        if not target["gain_met"]:
            why.append(f"the hateful-case gain {target['gain']:+.2f} is below +{REMEDY_GAIN_TARGET}")
        if not target["mse_within_interval"]:
            why.append("the phase-2 test MSE left the interval of the model without rehearsal")
        shares = r.get("shares_tried", [r["share"]])
        how = (
            f"share {r['share']:g} chosen on validation among {', '.join(f'{x:g}' for x in shares)}"
            if len(shares) > 1
            else f"share {r['share']:g}, the one share this profile tries"
        )
        criterion = r.get("criterion")
        if criterion and criterion["without"] < criterion["with"]:
            how += (
                f"; the held-out criterion is lower without rehearsal ({criterion['without']:.4f} vs "
                f"{criterion['with']:.4f}), so validation alone would not ask for it"
            )
        return (
            f"Rehearsal ({r['variant']}, {how}): HateCheck accuracy with "
            f"minus without, hateful {h.difference.fmt(2)} ({h.verdict()}), non-hateful "
            f"{nh.difference.fmt(2)} ({nh.verdict()}); phase-2 test MSE {mse['with']['estimate']:.4f} "
            f"with vs {mse['without']['estimate']:.4f} "
            f"[{mse['without']['low']:.4f}, {mse['without']['high']:.4f}] "
            f"without. Target (+{REMEDY_GAIN_TARGET} on hateful cases, MSE inside that interval): {verdict}"
            + (f" ({'; '.join(why)})." if why else ".")
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
        """Per phase-2 variant: hateful / non-hateful accuracy in phase 1, phase 2 and with rehearsal."""
        rows = {}
        for system, info in self.systems.items():
            if info["kind"] not in ("phase1", "phase2", "rehearsal"):
                continue
            rows[system] = {
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
                    "HateCheck: hateful vs non-hateful accuracy, phase 1 -> phase 2 -> rehearsal "
                    f"(95% intervals, {n} template resamples)"
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
