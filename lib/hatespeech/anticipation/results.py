"""The anticipation experiments' typed results (:class:`hatespeech.results.Result`): what notebooks 02 and 03
write into ``anticipation.json`` and the report reads back, with their findings (verdicts generated from
the bootstrap evidence, worded here once) and their key tables.

:class:`Phase1Result` is made by :meth:`hatespeech.anticipation.phase1.Phase1Run.result`,
:class:`Phase2Result` by :meth:`hatespeech.anticipation.phase2.Phase2Run.result`; the evidence they carry is
made by :mod:`hatespeech.anticipation.evidence`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..metrics.bootstrap import interval_text as _iv
from ..names import stage_and_variant
from ..references import SEED_PHASE1, SEED_PHASE2_CLAIM
from ..results import DecoderCapacityResult, Result, metrics_folder
from .evidence_types import (
    ClassificationScores,
    Earliness,
    LossWeights,
    Phase1Evidence,
    Phase1Row,
    Phase2Baselines,
    Phase2Evidence,
    RegressionRow,
    Rehearsal,
    SeedRuns,
    TrainingRecord,
    WlenAblation,
    metric_of,
)
from .history import moved_lines

SEED_CONTEXT_NOTE = (
    "The seed's accuracy and F1 come from other data with another class balance; neither transfers to this "
    "evaluation split, so they are context only. The yardstick is the in-project baselines on the same "
    "prefixes (majority class, TF-IDF + logistic regression)."
)


def comparison_table(evidence: Phase1Evidence | Phase2Evidence, digits: int = 3) -> pd.DataFrame:
    """One row per paired comparison: what minus what, the difference with its interval, the verdict."""
    rows = []
    for key, c in evidence.unique_comparisons().items():
        rows.append(
            {
                "metric": metric_of(key),
                "A": c.name_a,
                "B": c.name_b,
                "A - B [95% CI]": c.difference.fmt(digits),
                "verdict": c.verdict(),
            }
        )
    return pd.DataFrame(rows)


#: The issues' targets, with the results that state them met or missed (evidence.py computes the verdicts).
PHASE1_F1_MARGIN = 0.05
PHASE2_MSE_TARGET = 0.025


def _f1(scores: ClassificationScores | None) -> float | None:
    return None if scores is None else scores.f1


def _seed_line(evidence: Phase1Evidence | Phase2Evidence, seeds: dict[str, SeedRuns] | None = None) -> str:
    if seeds:
        return (
            f"Each reported number comes from the run at seed {evidence.seed}: the intervals cover the "
            f"sampling of test sentences; the retrained runs of {', '.join(seeds)} above show the training "
            "noise beside them."
        )
    return (
        f"Every number comes from one training run (seed {evidence.seed}): the intervals cover the "
        "sampling of evaluation sentences, not training noise."
    )


# =================================================================================================== phase 1
@dataclass(kw_only=True)
class Phase1Result(Result):
    """Phase 1 (notebook 02): binary hate / not-hate from prefixes, every variant beside the baselines."""

    FILE: ClassVar[str] = "anticipation.json"
    NOTEBOOK: ClassVar[str] = "notebooks/02_phase1.ipynb"
    MARKER: ClassVar[str] = "phase1"
    CURATED: ClassVar[tuple[str, ...]] = (
        "phase1_baselines",
        "phase1_evidence",
        "phase1_sweep",
        "seed_reference",
    )
    HIDDEN: ClassVar[tuple[str, ...]] = ("phase1_data", "settings")  # shown by data.json / the notebook

    phase1: dict[str, Phase1Row]  # variant -> its scores on the evaluation prefixes (Phase1Run.payload)
    phase1_baselines: dict[str, Phase1Row]  # majority, tfidf_logistic (evidence.phase1_baselines)
    phase1_evidence: Phase1Evidence | None  # made by evidence.phase1_evidence
    phase1_sweep: list[dict[str, Any]]  # one row per (variant, lr, epoch) on the selection set
    phase1_data: dict[str, Any]  # corpus report and counts (load_phase1_data)
    models: dict[str, str]  # variant -> backbone (phase1.models_section)
    settings: dict[str, Any]  # the profile's anticipation settings (phase1.settings_section)
    seed_reference: dict[str, Any] = field(
        default_factory=lambda: {"phase1": SEED_PHASE1, "phase2": SEED_PHASE2_CLAIM}
    )
    # The seed's w_len loss weight tested on the best variant (phase1.run_wlen_ablation); None when not run.
    wlen_ablation: WlenAblation | None = None

    @property
    def best_variant(self) -> str:
        """The variant chosen on the selection set (the evaluation split chooses nothing)."""
        return self.phase1_evidence.best_variant

    def findings(self) -> list[str]:
        """Plain sentences for notebook 02 and the report, generated from the bootstrap evidence."""
        ev = self.phase1_evidence
        best, iv, comp = ev.best_variant, ev.intervals, ev.unique_comparisons()
        tf = ev.comparison("f1", best, "tfidf_logistic")
        where = (
            f"every prefix of {ev.n_sentences} evaluation sentences ({ev.n_prefixes} prefixes, each "
            "sentence weighing 1)"
            if ev.n_sentences is not None
            else "the evaluation split"
        )
        lines = [
            (
                f"Best variant on the selection set: {best}. On {where} it reaches F1 "
                f"{iv[best]['f1'].fmt()} and accuracy {iv[best]['accuracy'].fmt()} at its selection-set "
                f"threshold; TF-IDF + logistic regression on the same prefixes: F1 "
                f"{iv['tfidf_logistic']['f1'].fmt()}; always 'not hateful': accuracy "
                f"{iv['majority']['accuracy'].fmt()}."
            ),
            (
                f"Primary comparison, {best} minus TF-IDF, F1: {tf.difference.fmt()} -> {tf.verdict()}. "
                f"Target (+{PHASE1_F1_MARGIN} with the interval above 0): "
                f"{'met' if ev.targets.f1_margin_over_tfidf.met else 'missed'}."
            ),
        ]
        floor = ev.targets.decoders_at_least_tfidf
        if floor and floor.by_variant:
            below = [v for v, ok in floor.by_variant.items() if not ok]
            lines.append(
                "Floor (each decoder variant's F1 at least TF-IDF's): "
                + ("met." if not below else f"missed by {', '.join(below)}.")
            )
        for key, c in comp.items():
            if key.startswith("accuracy:"):
                lines.append(
                    f"{c.name_a} accuracy minus majority, at its selection threshold: {c.difference.fmt()} "
                    f"-> {c.verdict()}."
                )
            elif key.startswith("accuracy_at_0.5:"):
                lines.append(
                    f"{c.name_a} accuracy minus majority, at 0.5: {c.difference.fmt()} -> {c.verdict()}."
                )
        for key, c in comp.items():
            if key.startswith("f1:") and not key.endswith("tfidf_logistic"):
                lines.append(f"F1, {c.name_a} minus {c.name_b}: {c.difference.fmt()} -> {c.verdict()}.")
        lines.append(
            f"{len(comp)} paired comparisons are drawn on the same {ev.n_units} evaluation units "
            f"({ev.n_resamples} resamples each, 95% percentile intervals, no correction for "
            "multiplicity): the first is the primary comparison, the others are exploratory."
        )
        if self.wlen_ablation:
            lines.append(self.wlen_line())
        lines.append(_seed_line(ev))
        return lines

    def wlen_line(self) -> str:
        """What the seed's length weight did on the best variant (selection F1 chose, evaluation F1 shown)."""
        w = self.wlen_ablation
        arms = w.arms
        c = w.unweighted_minus_w_len_f1
        return (
            f"The seed's length weight on {w.variant} ({arms['w_len'].train_sentences} train sentences "
            f"per arm): selection F1 {arms['w_len'].selection_f1:.3f} with w_len, "
            f"{arms['unweighted'].selection_f1:.3f} without; the selection set would keep "
            f"{w.kept_by_selection} (the reported models keep the seed's w_len: retraining every variant "
            f"did not fit the budget). Evaluation F1, without minus with: {c.difference.fmt()} -> "
            f"{c.verdict()}."
        )

    def context(self, reports: Path | None = None) -> list[str]:
        """The seed's numbers as context, and why the decoders train what they train."""
        lines = [SEED_CONTEXT_NOTE]
        capacity = DecoderCapacityResult.read(reports)
        if capacity is not None and "decoder" in self.phase1:
            lines.append(capacity.line(self.phase1["decoder"].training.trainable_layers))
        return lines

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Models and baselines on the same evaluation prefixes with intervals, the paired comparisons, the
        accuracy per source, the selection sweep, and the seed's numbers as context."""
        phase1, baselines, ev = self.phase1, self.phase1_baselines, self.phase1_evidence
        intervals = ev.intervals
        rows = {}
        for name, m in {**phase1, **baselines}.items():
            training = m.training or TrainingRecord({})  # baselines have no training record
            iv = intervals.get(name, {})
            rows[name] = {
                "kind": "model" if name in phase1 else "baseline",
                "accuracy [95% CI]": _iv(iv.get("accuracy")),
                "F1 [95% CI]": _iv(iv.get("f1")),
                "precision [95% CI]": _iv(iv.get("precision")),
                "recall [95% CI]": _iv(iv.get("recall")),
                "threshold (selection)": m.threshold,
                "accuracy at 0.5 [95% CI]": _iv(iv.get("accuracy_at_0.5")),
                "F1 at 0.5 [95% CI]": _iv(iv.get("f1_at_0.5")),
                "F1, unweighted": _f1(m.unweighted),
                "F1, one random prefix": _f1(m.random_prefix),
                "full-sentence F1": _f1(m.full_sentence),
                "selection F1": training.selection_score,
                "lr": training.lr,
                "epochs kept": training.epochs,
                "train sentences": m.train_sentences
                if training.train_sentences is None
                else training.train_sentences,
                "train min (sweep)": training.sweep_minutes,
            }
        tables = [
            (
                (
                    "phase 1: every variant and baseline on every prefix of the same evaluation sentences, "
                    f"each sentence weighing 1 (95% bootstrap intervals over {ev.n_units} {ev.unit})"
                ),
                pd.DataFrame.from_dict(rows, orient="index"),
            ),
            ("phase 1: paired comparisons (F1 / accuracy differences)", comparison_table(ev)),
        ]
        per_source = {
            name: {src: row.accuracy for src, row in (m.by_source or {}).items()}
            for name, m in {**phase1, **baselines}.items()
        }
        if any(per_source.values()):
            tables.append(
                (
                    (
                        "phase 1: accuracy per source at each system's reported threshold (the majority "
                        "row is each source's majority rate)"
                    ),
                    pd.DataFrame(per_source),
                )
            )
        if self.phase1_sweep:
            tables.append(
                (
                    (
                        "phase 1: learning rate x epoch on the selection set (F1 at the selection-tuned "
                        "threshold)"
                    ),
                    pd.DataFrame(self.phase1_sweep),
                )
            )
        tables.append(
            (
                "context only: the seed's published phase-1 numbers (other data, other class balance)",
                self.seed_table(),
            )
        )
        return tables

    def seed_table(self) -> pd.DataFrame:
        """Our accuracy / F1 per variant beside the seed's published numbers: context only (see
        :data:`SEED_CONTEXT_NOTE`), no verdict is drawn from it."""
        phase1 = self.phase1
        context = {
            v: {
                "ours: accuracy": phase1[v].accuracy if v in phase1 else None,
                "ours: F1": phase1[v].f1 if v in phase1 else None,
                "seed model": s["seed_model"],
                "seed: accuracy": s["accuracy"],
                "seed: F1": s["f1"],
            }
            for v, s in SEED_PHASE1.items()
        }
        return pd.DataFrame.from_dict(context, orient="index")

    def baselines_by_source(self) -> pd.DataFrame:
        """Per source: the majority baseline's accuracy and TF-IDF's accuracy / F1 (beside the models')."""
        majority = self.phase1_baselines["majority"].by_source
        tfidf = self.phase1_baselines["tfidf_logistic"].by_source
        return pd.DataFrame(
            {
                "majority accuracy": {src: row.accuracy for src, row in majority.items()},
                "tfidf accuracy": {src: row.accuracy for src, row in tfidf.items()},
                "tfidf F1": {src: row.f1 for src, row in tfidf.items()},
            }
        )


# =================================================================================================== phase 2
# Which baselines entry holds each kind of phase2_evidence's interval keys ("<kind>:<variant>").
_PHASE2_BASELINE_ENTRY = {
    "phase1_only": "phase1_only",
    "phase1_only_corrected": "phase1_only_prior_corrected",
    "no_phase1": "phase2_without_phase1",
}


@dataclass(kw_only=True)
class Phase2Result(Result):
    """Phase 2 (notebook 03): P(hateful | first words) against the annotators' probabilities, every variant
    beside the constant, the TF-IDF ridge and the phase-1 model alone."""

    FILE: ClassVar[str] = "anticipation.json"
    NOTEBOOK: ClassVar[str] = "notebooks/03_phase2.ipynb"
    MARKER: ClassVar[str] = "phase2"
    CURATED: ClassVar[tuple[str, ...]] = ("phase2_evidence",)

    phase2: dict[str, RegressionRow]  # variant -> test mse, mae, pearson, ece, calibration, training, val_mse
    baselines: Phase2Baselines  # constant, TF-IDF ridge, phase 1 alone (raw, prior-corrected), no phase 1
    phase2_evidence: Phase2Evidence | None  # made by evidence.phase2_evidence
    earliness: Earliness  # definition, by_model (Phase2Run.earliness_table)
    annotator_agreement: dict[str, Any]  # phase2.annotator_agreement
    best_phase2_variant: str  # lowest MSE on the held-out train sentences
    phase2_C: float
    data: dict[str, int]  # sentence and prefix counts per split (Phase2Data.counts)
    seed_claim: str = SEED_PHASE2_CLAIM
    # The forgetting remedy (phase2.run_rehearsal); None when the profile runs none.
    rehearsal: Rehearsal | None = None
    # The best model among every candidate (phase-2 variants and no-phase-1 models) by held-out MSE, and
    # that pool: key -> held-out MSE. "" / {} in results written before the pool existed.
    best_model: str = ""
    best_pool: dict[str, float] = field(default_factory=dict)
    # The label-weight ablation (phase2.run_loss_weight_ablation) and the extra training seeds
    # (phase2.run_extra_seeds); {} when the profile runs none.
    loss_weights: LossWeights | None = None
    seeds: dict[str, SeedRuns] = field(default_factory=dict)

    def findings(self) -> list[str]:
        """Plain sentences for notebook 03 and the report, generated from the bootstrap evidence."""
        ev = self.phase2_evidence
        iv, comp, best = ev.intervals, ev.unique_comparisons(), ev.best_variant
        best_model = ev.best_model or f"phase2:{best}"
        pool = ", ".join(f"{k} {v:.4f}" for k, v in sorted(self.best_pool.items(), key=lambda kv: kv[1]))
        lines = [
            (
                f"Best model on the held-out train sentences, among {len(self.best_pool) or 1} candidates "
                f"({pool or best_model}): {best_model}; test MSE {iv[best_model].fmt(4)} over "
                f"{ev.n_units} test sentences. Target (<= {PHASE2_MSE_TARGET}): "
                f"{'met' if ev.targets.best_mse.met else 'missed'}."
            )
        ]
        c = ev.phase1_adds
        if c is not None:
            says = (
                "phase 1 adds nothing to phase-2 MSE here"
                if best_model.startswith("no_phase1:")
                else "phase 1 is kept"
            )
            lines.append(
                f"What phase 1 adds ({c.name_a} minus {c.name_b}, test MSE): {c.difference.fmt(4)} -> "
                f"{c.verdict()}; the held-out choice says {says}."
            )
        primary = ev.primary_comparison
        for key, c in sorted(comp.items(), key=lambda kv: kv[0] != primary):
            tag = "Primary comparison" if key == primary else "Exploratory"
            lines.append(f"{tag}: MSE, {c.name_a} minus {c.name_b}: {c.difference.fmt(4)} -> {c.verdict()}.")
        if self.rehearsal:
            lines.append(self.rehearsal_line())
        if self.loss_weights:
            lines.append(self.loss_weight_line())
        for key, s in self.seeds.items():
            lines.append(
                f"Training noise, {key} over {len(s.runs)} seeds: test MSE {s.test_mse_mean:.4f} "
                f"(sd {s.test_mse_sd:.4f}, range {s.test_mse_min:.4f}-{s.test_mse_max:.4f})."
            )
        lines.append(
            f"{len(comp)} paired comparisons on the same {ev.n_units} test sentences ({ev.n_resamples} "
            "resamples each, no correction for multiplicity): one primary, named above, the others "
            "exploratory. " + ev.note
        )
        lines.append(_seed_line(ev, self.seeds))
        agreement = self.annotator_agreement["test"]
        lines.append(
            f"The two annotation passes differ by MSE {agreement['mse']:.3f} on the test prefixes; both are "
            "readings by one large language model, so this is not a human ceiling."
        )
        human = self.human_label_line()
        if human:
            lines.append(human)
        return lines

    def human_label_line(self) -> str:
        """The check against people: whole-tweet AUC against the corpus's human class, labels first."""
        human = self.phase2_evidence.human_labels
        if not human:
            return ""
        auc = dict(human.auc)
        labels = auc.pop("labels:mean of passes")
        ranked = sorted(auc, key=lambda k: -auc[k].estimate)
        best = self.phase2_evidence.best_model
        return (
            f"Against the corpus's human labels ({human.n_sentences} test tweets, "
            f"{human.n_human_hateful} hateful to its annotators), whole-tweet ROC AUC: the LLM labels "
            f"themselves {labels.fmt(2)}"
            + (f"; the best model ({best}) {auc[best].fmt(2)}" if best in auc else "")
            + "; every system: "
            + ", ".join(f"{k} {auc[k].estimate:.2f}" for k in ranked)
            + ". Phase 1 learned from human-labelled corpora, so a model may agree with people more closely "
            "than the labels it was tuned to in phase 2."
        )

    def rehearsal_line(self) -> str:
        """How the forgetting remedy was set and what it did to the phase-2 MSE (its HateCheck effect is
        the functional-test section's)."""
        r = self.rehearsal
        candidates = ", ".join(f"{share}: {c.criterion:.4f}" for share, c in r.candidates.items())
        return (
            f"Rehearsal for {r.variant}: share {r.chosen_share} of phase-1 full sentences kept "
            f"(criterion = held-out MSE + phase-1 selection Brier; {candidates}; without rehearsal "
            f"{r.without.criterion:.4f})."
        )

    def context(self, reports: Path | None = None) -> list[str]:
        """What the data (release 2 of the phase-2 set) and the methods moved, from the earlier builds'
        snapshots in ``metrics/history/`` beside this build's ``anticipation.json``."""
        path = metrics_folder(reports) / self.FILE
        if not path.exists():
            return []
        return moved_lines(json.loads(path.read_text()), reports)

    def loss_weight_line(self) -> str:
        """What the seed's label weight C did on the held-out sentences, and on test for the chosen one."""
        lw = self.loss_weights
        held = ", ".join(f"{name} {c['val_mse']:.4f}" for name, c in lw.candidates.items())
        diff = lw.lowest_minus_default_held_out
        line = (
            f"Loss weights on {lw.variant} (held-out MSE: {held}): lowest {lw.lowest_held_out}, "
            f"minus the default {diff.difference.fmt(4)} on held-out sentences; kept: {lw.chosen}."
        )
        c = self.phase2_evidence.comparison("mse", f"loss_weight:{lw.variant}", f"phase2:{lw.variant}")
        if c is not None:
            line += f" On test, {lw.chosen} minus the default: {c.difference.fmt(4)} -> {c.verdict()}."
        return line

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Test MSE of every model and baseline with its interval, and the paired comparisons."""
        ev = self.phase2_evidence
        rows = {}
        for key, value in ev.intervals.items():
            kind, variant = stage_and_variant(key)
            if kind == "phase2":
                m = self.phase2[variant]
            elif kind == "constant":
                m = self.baselines.constant
            elif kind == "baseline":
                m = getattr(self.baselines, variant)
            elif kind == "rehearsal":
                m = self.rehearsal.model
            elif kind == "loss_weight":
                m = self.loss_weights.model
            else:
                m = getattr(self.baselines, _PHASE2_BASELINE_ENTRY[kind])[variant]
            training = m.training or TrainingRecord({})  # baselines have no training record
            rows[key] = {
                "test MSE [95% CI]": _iv(value, 4),
                "MAE": m.mae,
                "Pearson r": m.pearson,
                "ECE": m.ece,
                "held-out MSE": m.val_mse,
                "epochs kept": training.epochs,
                "trainable layers": training.trainable_layers,
            }
        return [
            (
                f"phase 2: test MSE with 95% intervals over {ev.n_units} test sentences",
                pd.DataFrame.from_dict(rows, orient="index"),
            ),
            (
                "phase 2: paired comparisons (MSE differences; negative = A lower)",
                comparison_table(ev, 4),
            ),
        ]
