"""HateCheck end to end (notebook 06): every classifier of the study scored on every case at full length,
accuracy per functionality and target group with template-level intervals, the alarm view of the phase-2
models, what phase 2 forgets and what rehearsal gives back.

Which score stands for "hateful" is each system's own; its threshold is chosen the same way for every system,
for F1 on held-out data from its own training, never on HateCheck (0.5 is shown as a second column):

* phase-1 models and the TF-IDF baseline of notebook 02: p_hate, threshold tuned on the phase-1 selection set;
* phase-2 models (and the rehearsal model): p_hate of the whole case, threshold tuned on the held-out phase-2
  train sentences at full length (hateful: the full-sentence label >= 0.5); those are few (48 in the cpu
  profile), so the threshold carries its own bootstrap interval;
* the dual-head model and the seed's single-task head_n model: head_n's ``toxic`` label (``toxicity`` with
  Jigsaw) at its validation-tuned threshold (notebook 04): the closest of their labels to "hateful";
* the whole-sentence hate detector (:mod:`.detector`, trained here): its P(hateful), threshold tuned on its
  own selection split.

Two reference rows on the same cases choose nothing and are never "the study's" system: answering every case
"hateful" (HateCheck is 69% hateful, so accuracy rewards it), and ``alt-profanity-check`` (a linear model
that ships its weights, the off-the-shelf filter a user would reach for) through its own ``predict_prob``.

Forgetting and the rehearsal remedy are measured where no threshold confounds them, by ROC AUC and balanced
accuracy with paired intervals; every interval resamples template families (``family_id``).

A little over the ~500-line guide: scoring and the comparisons share :class:`FunctionalRun`, and splitting
them would pass it across modules for no reader's gain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..anticipation.evaluation import THRESHOLD as HATEFUL  # a full-sentence label >= 0.5 is hateful
from ..anticipation.evidence import load_tfidf_baseline
from ..anticipation.inference import Anticipator
from ..anticipation.phase2 import full_sentence_labels, load_phase2_data, rehearsal_dir
from ..anticipation.results import Phase2Result
from ..anticipation.shared_layers import score_family
from ..anticipation.training import checkpoint_dir, load_checkpoint
from ..baselines import best_f1_threshold
from ..config import Profile
from ..data.registry import load_cases
from ..dualhead.results import DualHeadResult
from ..dualhead.run import JOINT_MODEL, SEPARATE_N_MODEL
from ..dualhead.scorer import DualHeadScorer
from ..dualhead.training import experiment_dir
from ..metrics.bootstrap import Interval, PairedDifference, bootstrap_interval, paired_bootstrap
from ..metrics.classification import balanced_accuracy, roc_auc
from .accuracy import UNIT, alarm_profile, discrimination, functional_accuracy
from .detector import load_or_train_detector
from .results import (
    AUC_TARGET,
    BALANCED_ACCURACY_TARGET,
    DETECTOR_SYSTEM,
    FunctionalResult,
    HateCheckTarget,
    PairedMeasures,
    Remedy,
    RemedyTarget,
    SystemInfo,
)

#: head_n labels that stand for "hateful", first present wins (offline label map, then Jigsaw's).
DUALHEAD_HATE_LABELS = ("toxic", "toxicity")
#: Systems that are yardsticks, not the study's own (never "best", never meet a target).
REFERENCE_KINDS = ("reference",)


@dataclass
class SystemScores:
    """One classifier's P(hateful) on every case (case order) and how it decides."""

    kind: str  # phase1 | phase2 | rehearsal | dualhead | detector | baseline | reference
    variant: str
    description: str
    threshold: float
    threshold_source: str
    scores: np.ndarray
    trajectories: list[np.ndarray] | None = None  # per word (phase-2 kinds)
    seconds: float = 0.0
    threshold_interval: Interval | None = None  # where the held-out set that chose it is small
    about: dict[str, Any] | None = None  # what the system reports of its own training (the detector's)

    def info(self) -> SystemInfo:
        return SystemInfo(
            self.kind,
            self.variant,
            self.description,
            float(self.threshold),
            self.threshold_source,
            self.threshold_interval,
            float(self.seconds),
        )


@dataclass
class FunctionalRun:
    """Everything notebook 06 shows; :meth:`result` is what it writes."""

    profile: Profile
    cases: pd.DataFrame
    systems: dict[str, SystemScores] = field(default_factory=dict)
    accuracy: pd.DataFrame | None = None
    discrimination: pd.DataFrame | None = None
    alarms: pd.DataFrame | None = None
    forgetting: dict[str, PairedMeasures] = field(default_factory=dict)
    remedy: Remedy | None = None
    detector_vs: dict[str, PairedMeasures] = field(default_factory=dict)  # the detector minus each
    best_system: str = ""
    seconds: float = 0.0
    shared_layers: dict[str, int] = field(default_factory=dict)  # per model family: layers computed once

    def decisions(self, name: str) -> np.ndarray:
        system = self.systems[name]
        return (system.scores >= system.threshold).astype(int)

    def result(self) -> FunctionalResult:
        cases = self.cases
        return FunctionalResult(
            profile=self.profile.name,
            cases={
                "n_cases": len(cases),
                "n_templates": int(cases["templ_id"].nunique()),
                "n_families": int(cases["family_id"].nunique()),
                "n_hateful": int(cases["label"].sum()),
                "n_non_hateful": int((cases["label"] == 0).sum()),
                "functionalities": int(cases["functionality"].nunique()),
                "target_groups": sorted(cases["target_ident"].dropna().unique().tolist()),
                "use": "evaluation only: no case is in any train, selection or validation split",
                "sampled": self.profile.data.hatecheck_max_templates is not None,
            },
            systems={name: s.info() for name, s in self.systems.items()},
            accuracy=self.accuracy.to_dict("records"),
            discrimination=_records(self.discrimination),  # typed on construction (Result.__post_init__)
            target=self.target(),
            alarms=_records(self.alarms),
            forgetting=self.forgetting,
            remedy=self.remedy,
            detector_vs=self.detector_vs,
            best_system=self.best_system,
            settings={
                "max_length": self.profile.anticipation.max_length,
                "n_resamples": int(self.profile.anticipation.bootstrap_resamples),
                "seed": int(self.profile.seed),
                "unit": UNIT,
                "shared_layers": self.shared_layers,
                "detector": self.systems[DETECTOR_SYSTEM].about if DETECTOR_SYSTEM in self.systems else None,
            },
            scoring_seconds=self.seconds,
        )

    def target(self) -> HateCheckTarget:
        """Issue 26's HateCheck target on the study's own systems (references and the TF-IDF baseline
        excluded): AUC >= :data:`AUC_TARGET` and balanced accuracy >= :data:`BALANCED_ACCURACY_TARGET` at
        the system's held-out threshold; the stretch also asks each one-sided accuracy >= 0.70."""
        frame = self.discrimination
        own = [n for n, s in self.systems.items() if s.kind not in (*REFERENCE_KINDS, "baseline")]
        rows = frame[frame["system"].isin(own)].to_dict("records") if frame is not None else []
        met = [
            r["system"]
            for r in rows
            if r["auc"] >= AUC_TARGET and r["balanced_accuracy"] >= BALANCED_ACCURACY_TARGET
        ]
        stretch = [
            r["system"]
            for r in rows
            if r["system"] in met
            and min(r["hateful_accuracy"], r["non_hateful_accuracy"]) >= BALANCED_ACCURACY_TARGET
        ]
        best = max(rows, key=lambda r: (r["auc"], r["system"]), default=None)
        return HateCheckTarget(
            target=f"one of the study's own systems with AUC >= {AUC_TARGET} and balanced accuracy >= "
            f"{BALANCED_ACCURACY_TARGET} at its held-out threshold (stretch: hateful and non-hateful "
            f"accuracy each >= {BALANCED_ACCURACY_TARGET})",
            systems=own,
            met_by=met,
            met=bool(met),
            stretch_met_by=stretch,
            highest_auc=best["system"] if best else None,
        )


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    frame = frame.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


# ================================================================================================ scoring
#: The dual-head experiment's models scored on HateCheck: the joint model, and (where notebook 04 trains the
#: seed's separate models) the single-task toxicity-type model, folder under ``experiment_dir``.
DUALHEAD_MODELS = {"joint": JOINT_MODEL, "separate_n": SEPARATE_N_MODEL}


def dualhead_systems(profile: Profile, texts: list[str]) -> dict[str, SystemScores]:
    """P(label) of notebook 04's models for the first of :data:`DUALHEAD_HATE_LABELS` each has, at the
    threshold tuned for that label on the dual-head validation split (``thresholds.json`` by the model)."""
    if DualHeadResult.read() is None:
        raise FileNotFoundError(
            f"no dual-head result for profile {profile.name!r}: run notebooks/04_dualhead.ipynb first"
        )
    models = dict(DUALHEAD_MODELS)
    if not profile.dualhead.train_separate_models:
        models.pop("separate_n")
    systems = {}
    for variant, folder_name in models.items():
        start = time.perf_counter()
        folder = experiment_dir(profile) / folder_name
        if not (folder / "config.json").exists():
            raise FileNotFoundError(
                f"no dual-head model {folder_name!r} for profile {profile.name!r}: run "
                "notebooks/04_dualhead.ipynb first"
            )
        scorer = DualHeadScorer.from_pretrained(
            folder, device=profile.torch_device, max_length=profile.dualhead.max_length
        )
        label = next((name for name in DUALHEAD_HATE_LABELS if name in scorer.labels), None)
        if label is None or not scorer.thresholds or label not in scorer.thresholds:
            raise ValueError(
                f"{folder_name}: needs one of {DUALHEAD_HATE_LABELS} among its labels {scorer.labels}, "
                "with a validation-tuned threshold in its thresholds.json"
            )
        probs = scorer.predict(texts, batch_size=profile.dualhead.batch_size * 2)[label].to_numpy()
        joint = variant == "joint"
        systems[f"{'dualhead' if joint else 'single_head'}:{label}"] = SystemScores(
            "dualhead",
            variant,
            f"dual-head model (notebook 04), head_n label {label!r}"
            if joint
            else f"the seed's single-task head_n model (notebook 04), label {label!r}",
            float(scorer.thresholds[label]),
            "tuned for F1 on the dual-head validation split (notebook 04)",
            probs,
            None,
            time.perf_counter() - start,
        )
    return systems


def detector_system(profile: Profile, texts: list[str]) -> SystemScores:
    """The whole-sentence hate detector (:mod:`.detector`), trained here unless saved with these settings."""
    start = time.perf_counter()
    detector = load_or_train_detector(profile)
    stats = detector.stats
    return SystemScores(
        "detector",
        "encoder",
        f"whole-sentence hate detector: the encoder fine-tuned on {stats['train_sentences']:,} whole "
        f"sentences of {len(stats['train_sentences_by_source'])} hate-labelled corpora (selection AUC "
        f"{stats['selection_auc']:.3f})",
        detector.threshold,
        stats["threshold_source"],
        detector.score(texts, batch_size=profile.detector.batch_size * 2),
        None,
        time.perf_counter() - start,
        about={k: v for k, v in stats.items() if k not in ("settings", "fingerprint")},
    )


def score_systems(profile: Profile, cases: pd.DataFrame) -> tuple[dict[str, SystemScores], dict[str, int]]:
    """Every classifier of the study on every case (see the module docstring for thresholds), and per family
    of models how many lower layers they shared (computed once, :mod:`..anticipation.shared_layers`)."""
    settings = profile.anticipation
    texts = cases["text"].tolist()
    systems: dict[str, SystemScores] = {}
    folders: dict[str, Any] = {}
    for variant in settings.variants:
        _, _, stats = load_checkpoint(profile, 1, variant)  # a clear error when notebook 02 has not run
        folders[f"phase1:{variant}"] = checkpoint_dir(profile, 1, variant)
        systems[f"phase1:{variant}"] = SystemScores(
            "phase1",
            variant,
            "phase-1 prefix classifier at full length",
            float(stats["threshold"]),
            "tuned for F1 on the phase-1 selection set (notebook 02)",
            np.empty(0),
        )
    held_out = load_phase2_data(profile).val
    for variant in settings.variants:
        folder = checkpoint_dir(profile, 2, variant)
        if not (folder / "config.json").exists():
            raise FileNotFoundError(
                f"no phase-2 checkpoint for {variant!r}: run notebooks/03_phase2.ipynb first"
            )
        folders[f"phase2:{variant}"] = folder
        systems[f"phase2:{variant}"] = phase2_system(
            profile, "phase2", variant, "phase-1 + phase-2 model (k = n: the whole case)", folder, held_out
        )
    phase2 = Phase2Result.read()
    if phase2 is not None and phase2.rehearsal:
        variant = phase2.rehearsal.variant
        folders[f"rehearsal:{variant}"] = rehearsal_dir(profile, variant)
        systems[f"rehearsal:{variant}"] = phase2_system(
            profile,
            "rehearsal",
            variant,
            f"phase 2 with rehearsal (share {phase2.rehearsal.chosen_share} of phase-1 sentences)",
            folders[f"rehearsal:{variant}"],
            held_out,
        )
    per_word = {name for name, system in systems.items() if system.kind != "phase1"}  # the alarm view
    # Families whose lower layers may be equal (computed once, :mod:`..anticipation.shared_layers`): the
    # cpu profile's decoders all train only their top blocks; an encoder trains every layer in phase 1 and
    # the top ones in phase 2, so each encoder variant's phase-1, phase-2 and rehearsal models are one family.
    families: dict[str, dict[str, Any]] = {}
    for name, system in systems.items():
        key = "decoder" if system.variant.startswith("decoder") else system.variant
        families.setdefault(key, {})[name] = folders[name]
    shared_layers = {}
    for key, members in families.items():
        family, shared_layers[key] = score_family(
            members, texts, settings.max_length, per_word & set(members)
        )
        for name, (scores, trajectories, seconds) in family.items():
            systems[name].scores, systems[name].trajectories, systems[name].seconds = (
                scores,
                trajectories,
                seconds,
            )
    systems.update(dualhead_systems(profile, texts))
    systems[DETECTOR_SYSTEM] = detector_system(profile, texts)
    start = time.perf_counter()
    tfidf = load_tfidf_baseline(profile)
    systems["baseline:tfidf_logistic"] = SystemScores(
        "baseline",
        "tfidf_logistic",
        "TF-IDF + logistic regression of notebook 02 (phase-1 prefixes)",
        float(tfidf["threshold"]),
        "tuned for F1 on the phase-1 selection set (notebook 02)",
        tfidf["model"].predict_proba(texts),
        None,
        time.perf_counter() - start,
    )
    systems.update(reference_systems(texts))
    return systems, shared_layers


def held_out_threshold(
    labels: np.ndarray, scores: np.ndarray, n_resamples: int, seed: int
) -> tuple[float, Interval]:
    """The F1-best threshold on a held-out set (``labels`` 0/1) and its bootstrap interval over the held-out
    sentences (the threshold re-tuned on each resample): how far a small set pins it down."""

    def tuned(y, p) -> float:
        return best_f1_threshold(y, p) if y.any() else float("nan")

    interval = bootstrap_interval(tuned, labels, scores, n_resamples=n_resamples, seed=seed)
    return float(interval.estimate), interval


def phase2_system(
    profile: Profile, kind: str, variant: str, description: str, folder, held_out
) -> SystemScores:
    """A phase-2 (or rehearsal) model whose threshold is tuned for F1 on the held-out phase-2 train sentences
    at full length: the same rule as every other system, on data from its own training."""
    scorer = Anticipator.from_pretrained(folder, max_length=profile.anticipation.max_length)
    scores = scorer.score(held_out["sentence"].tolist())
    labels = (full_sentence_labels(held_out) >= HATEFUL).astype(int)
    if not labels.any() or labels.all():
        raise ValueError(
            f"the held-out phase-2 sentences hold one class only ({len(labels)} sentences): no threshold "
            "can be tuned for HateCheck; enlarge anticipation.phase2.max_val_sentences"
        )
    threshold, interval = held_out_threshold(
        labels, scores, int(profile.anticipation.bootstrap_resamples), profile.seed
    )
    return SystemScores(
        kind,
        variant,
        description,
        threshold,
        f"tuned for F1 on the {len(labels)} held-out phase-2 train sentences at full length (notebook 03's "
        f"held-out split; hateful: full-sentence label >= {HATEFUL})",
        np.empty(0),
        threshold_interval=interval,
    )


def reference_systems(texts: list[str]) -> dict[str, SystemScores]:
    """The two yardsticks on the same cases (see the module docstring); they choose nothing."""
    start = time.perf_counter()
    from profanity_check import predict_prob  # loads its pickled model at import: only here

    profanity = np.asarray(predict_prob(texts), dtype=float)
    return {
        "reference:all_hateful": SystemScores(
            "reference",
            "all_hateful",
            "every case answered 'hateful' (a constant)",
            0.5,
            "none: the constant 1.0",
            np.ones(len(texts)),
        ),
        "reference:profanity_check": SystemScores(
            "reference",
            "profanity_check",
            "alt-profanity-check (PyPI; linear SVM on profanity, weights shipped), its predict_prob",
            0.5,
            "its own: predict() decides at 0.5",
            profanity,
            None,
            time.perf_counter() - start,
        ),
    }


# ========================================================================================= the comparisons
def _accuracy(y, decided) -> float:
    return float(np.mean(np.asarray(y) == np.asarray(decided))) if len(y) else float("nan")


def _paired(run: FunctionalRun, metric, a, b, mask, name_a: str, name_b: str) -> PairedDifference:
    return paired_bootstrap(
        metric,
        run.cases.loc[mask, "label"].to_numpy(),
        a[mask],
        b[mask],
        groups=run.cases.loc[mask, "family_id"].to_numpy(),
        n_resamples=int(run.profile.anticipation.bootstrap_resamples),
        seed=run.profile.seed,
        unit=UNIT,
        name_a=name_a,
        name_b=name_b,
    )


def paired_accuracy(run: FunctionalRun, a: str, b: str, label: int) -> PairedDifference:
    """Accuracy of system ``a`` minus ``b`` on the cases of gold ``label``, same family resamples."""
    mask = (run.cases["label"] == label).to_numpy()
    return _paired(run, _accuracy, run.decisions(a), run.decisions(b), mask, a, b)


def paired_discrimination(run: FunctionalRun, a: str, b: str) -> PairedMeasures:
    """``a`` minus ``b`` on every case: ROC AUC (threshold-free) and balanced accuracy (each at its own
    held-out threshold), same family resamples; the one-sided accuracies beside them show the trade."""
    every = np.ones(len(run.cases), dtype=bool)
    return PairedMeasures(
        auc=_paired(run, roc_auc, run.systems[a].scores, run.systems[b].scores, every, a, b),
        balanced_accuracy=_paired(run, balanced_accuracy, run.decisions(a), run.decisions(b), every, a, b),
        hateful=paired_accuracy(run, a, b, 1),
        non_hateful=paired_accuracy(run, a, b, 0),
    )


def forgetting(run: FunctionalRun) -> dict[str, PairedMeasures]:
    """Per variant, phase 2 minus phase 1: AUC and balanced accuracy (the measures of forgetting), and the
    hateful / non-hateful accuracy trade (paired, family resamples)."""
    return {
        variant: paired_discrimination(run, f"phase2:{variant}", f"phase1:{variant}")
        for variant in run.profile.anticipation.variants
    }


def detector_comparisons(run: FunctionalRun) -> dict[str, PairedMeasures]:
    """The detector minus each system named before it was scored (never the best on HateCheck): the study's
    anticipation scorer (``run.best_system``, chosen on held-out phase-2 data) and the seed's single-task
    toxicity model (the same encoder trained on toxicity types), where present; paired, family resamples."""
    if DETECTOR_SYSTEM not in run.systems:
        return {}
    toxicity = [name for name, s in run.systems.items() if s.kind == "dualhead" and s.variant == "separate_n"]
    return {
        other: paired_discrimination(run, DETECTOR_SYSTEM, other)
        for other in (run.best_system, *toxicity)
        if other in run.systems
    }


def remedy(run: FunctionalRun, phase2: Phase2Result | None) -> Remedy | None:
    """The rehearsal model against the same variant without it: HateCheck AUC and balanced accuracy (the
    target: both up, each interval above 0), the one-sided trade beside them, and the phase-2 test MSE
    (notebook 03's intervals, reported, not a criterion)."""
    if phase2 is None or not phase2.rehearsal:
        return None
    rehearsal = phase2.rehearsal
    variant = rehearsal.variant
    with_key, without_key = f"rehearsal:{variant}", f"phase2:{variant}"
    paired = paired_discrimination(run, with_key, without_key)
    intervals = phase2.phase2_evidence.intervals
    auc_up, balanced_up = paired.auc.difference.low > 0, paired.balanced_accuracy.difference.low > 0
    return Remedy(
        **vars(paired),
        variant=variant,
        share=rehearsal.chosen_share,
        chosen_by=rehearsal.chosen_by,
        phase2_test_mse={
            "with": intervals[with_key],
            "without": intervals[without_key],
        },
        target=RemedyTarget(
            target="HateCheck AUC and balanced accuracy both higher with rehearsal, each paired interval "
            "above 0",
            auc_up=auc_up,
            balanced_accuracy_up=balanced_up,
            met=bool(auc_up and balanced_up),
        ),
        shares_tried=rehearsal.shares or [rehearsal.chosen_share],
        criterion={"with": rehearsal.chosen().criterion, "without": rehearsal.without.criterion},
    )


def sample_templates(cases: pd.DataFrame, n_templates: int | None, seed: int) -> pd.DataFrame:
    """All cases of ``n_templates`` templates drawn (seeded) in proportion to each functionality's templates,
    at least one per functionality; every case when ``n_templates`` is None or covers them all."""
    templates = cases.drop_duplicates("templ_id")[["templ_id", "functionality"]]
    if n_templates is None or n_templates >= len(templates):
        return cases.reset_index(drop=True)
    share = n_templates / len(templates)
    picked = [
        part.sample(n=max(1, round(share * len(part))), random_state=seed)["templ_id"]
        for _, part in templates.groupby("functionality", sort=True)
    ]
    keep = set(pd.concat(picked))
    return cases[cases["templ_id"].isin(keep)].reset_index(drop=True)


def run_functional_tests(profile: Profile) -> FunctionalRun:
    """Score every system on HateCheck (all cases, or ``profile.data.hatecheck_max_templates`` whole
    templates) and build every comparison of the notebook."""
    start = time.perf_counter()
    cases = sample_templates(load_cases(), profile.data.hatecheck_max_templates, profile.seed)
    run = FunctionalRun(profile=profile, cases=cases)
    run.systems, run.shared_layers = score_systems(profile, cases)
    n = int(profile.anticipation.bootstrap_resamples)
    scores = {name: s.scores for name, s in run.systems.items()}
    thresholds = {name: s.threshold for name, s in run.systems.items()}
    run.accuracy = functional_accuracy(cases, scores, thresholds, n_resamples=n, seed=profile.seed)
    run.discrimination = discrimination(cases, scores, thresholds, n_resamples=n, seed=profile.seed)
    with_trajectories = {name: s for name, s in run.systems.items() if s.trajectories is not None}
    run.alarms = alarm_profile(
        cases,
        {name: s.trajectories for name, s in with_trajectories.items()},
        {name: s.threshold for name, s in with_trajectories.items()},
    )
    phase2 = Phase2Result.read()
    # "The best model" is the anticipation scorer the study would ship: the best phase-2 variant, chosen on
    # held-out phase-2 data in notebook 03 (HateCheck chooses nothing).
    best = phase2.best_phase2_variant if phase2 is not None else profile.anticipation.variants[0]
    run.best_system = f"phase2:{best}"
    run.forgetting = forgetting(run)
    run.remedy = remedy(run, phase2)
    run.detector_vs = detector_comparisons(run)
    run.seconds = time.perf_counter() - start
    return run
