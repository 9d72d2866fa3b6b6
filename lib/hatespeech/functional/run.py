"""HateCheck end to end (notebook 06): every classifier of the study scored on every case at full length,
accuracy per functionality and target group with template-level intervals, the alarm view of the phase-2
models, what phase 2 forgets and what rehearsal gives back.

Which score and threshold stand for "hateful" is each system's own, chosen on its own validation data,
never on HateCheck:

* phase-1 models: p_hate at the threshold tuned on the phase-1 selection set (notebook 02);
* phase-2 models (and the rehearsal model): p_hate >= 0.5, the phase-2 definition of a hateful sentence;
* the dual-head model: head_n's ``toxic`` label (``toxicity`` with Jigsaw) at its validation-tuned
  threshold (notebook 04): the closest of its labels to "hateful";
* the TF-IDF baseline of notebook 02 at its selection-set threshold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from datasets import Dataset
from transformers import AutoTokenizer

from ..anticipation.evidence import load_tfidf_baseline
from ..anticipation.phase2 import rehearsal_dir
from ..anticipation.results import Phase2Result
from ..anticipation.shared_layers import score_family
from ..anticipation.training import checkpoint_dir, load_checkpoint
from ..config import Profile
from ..data.hatecheck import load_cases
from ..dualhead.evaluation import predict
from ..dualhead.results import DualHeadResult
from ..dualhead.training import experiment_dir
from ..metrics.bootstrap import PairedDifference, paired_bootstrap
from ..models.dualhead import DualHeadBert
from .accuracy import alarm_profile, functional_accuracy
from .results import REMEDY_GAIN_TARGET, FunctionalResult

#: head_n labels that stand for "hateful", first present wins (offline label map, then Jigsaw's).
DUALHEAD_HATE_LABELS = ("toxic", "toxicity")
PHASE2_THRESHOLD = 0.5


@dataclass
class SystemScores:
    """One classifier's P(hateful) on every case (case order) and how it decides."""

    kind: str  # phase1 | phase2 | rehearsal | dualhead | baseline
    variant: str
    description: str
    threshold: float
    threshold_source: str
    scores: np.ndarray
    trajectories: list[np.ndarray] | None = None  # per word (phase-2 kinds)
    seconds: float = 0.0

    def info(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "variant": self.variant,
            "description": self.description,
            "threshold": float(self.threshold),
            "threshold_source": self.threshold_source,
            "seconds": self.seconds,
        }


@dataclass
class FunctionalRun:
    """Everything notebook 06 shows; :meth:`result` is what it writes."""

    profile: Profile
    cases: pd.DataFrame
    systems: dict[str, SystemScores] = field(default_factory=dict)
    accuracy: pd.DataFrame | None = None
    alarms: pd.DataFrame | None = None
    forgetting: dict[str, Any] = field(default_factory=dict)
    remedy: dict[str, Any] = field(default_factory=dict)
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
                "n_hateful": int(cases["label"].sum()),
                "n_non_hateful": int((cases["label"] == 0).sum()),
                "functionalities": int(cases["functionality"].nunique()),
                "target_groups": sorted(cases["target_ident"].dropna().unique().tolist()),
                "use": "evaluation only: no case is in any train, selection or validation split",
                "sampled": self.profile.data.hatecheck_max_templates is not None,
            },
            systems={name: s.info() for name, s in self.systems.items()},
            accuracy=self.accuracy.to_dict("records"),
            alarms=_records(self.alarms),
            forgetting=self.forgetting,
            remedy=self.remedy,
            best_system=self.best_system,
            settings={
                "max_length": self.profile.anticipation.max_length,
                "n_resamples": int(self.profile.anticipation.bootstrap_resamples),
                "seed": int(self.profile.seed),
                "unit": "template",
                "shared_layers": self.shared_layers,
            },
            scoring_seconds=self.seconds,
        )


def _records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    if frame is None:
        return []
    frame = frame.astype(object)
    return frame.where(frame.notna(), None).to_dict("records")


# ================================================================================================ scoring
def dualhead_scores(profile: Profile, texts: list[str]) -> tuple[np.ndarray, str, float, float]:
    """P(label) of notebook 04's joint model for the first of :data:`DUALHEAD_HATE_LABELS` it has; returns
    ``(scores, label, threshold, seconds)``, the threshold tuned on validation in notebook 04."""
    start = time.perf_counter()
    folder = experiment_dir(profile) / "joint_model"
    result = DualHeadResult.read()
    if not (folder / "config.json").exists() or result is None:
        raise FileNotFoundError(
            f"no dual-head model or result for profile {profile.name!r}: run notebooks/04_dualhead.ipynb "
            "first"
        )
    model = DualHeadBert.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    names = list(model.config.label_names_n)
    label = next((name for name in DUALHEAD_HATE_LABELS if name in names), None)
    if label is None:
        raise ValueError(f"the dual-head model has none of {DUALHEAD_HATE_LABELS} among its labels {names}")
    encoded = tokenizer(texts, truncation=True, max_length=profile.dualhead.max_length)
    dataset = Dataset.from_dict({**dict(encoded), "uid": [str(i) for i in range(len(texts))]})
    probs = predict(model, dataset, tokenizer, profile, desc="dual head on HateCheck").probs_n
    threshold = float(result.head_n["per_label"][label]["threshold"])
    return probs[:, names.index(label)], label, threshold, time.perf_counter() - start


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
    for variant in settings.variants:
        folder = checkpoint_dir(profile, 2, variant)
        if not (folder / "config.json").exists():
            raise FileNotFoundError(
                f"no phase-2 checkpoint for {variant!r}: run notebooks/03_phase2.ipynb first"
            )
        folders[f"phase2:{variant}"] = folder
        systems[f"phase2:{variant}"] = SystemScores(
            "phase2",
            variant,
            "phase-1 + phase-2 model (k = n: the whole case)",
            PHASE2_THRESHOLD,
            "p >= 0.5, the phase-2 definition of a hateful sentence",
            np.empty(0),
        )
    phase2 = Phase2Result.read()
    if phase2 is not None and phase2.rehearsal:
        variant = phase2.rehearsal["variant"]
        folders[f"rehearsal:{variant}"] = rehearsal_dir(profile, variant)
        systems[f"rehearsal:{variant}"] = SystemScores(
            "rehearsal",
            variant,
            f"phase 2 with rehearsal (share {phase2.rehearsal['chosen_share']} of phase-1 sentences)",
            PHASE2_THRESHOLD,
            "p >= 0.5, as the phase-2 models",
            np.empty(0),
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
    scores, label, threshold, seconds = dualhead_scores(profile, texts)
    systems[f"dualhead:{label}"] = SystemScores(
        "dualhead",
        "joint",
        f"dual-head model (notebook 04), head_n label {label!r}",
        threshold,
        "tuned for F1 on the dual-head validation split (notebook 04)",
        scores,
        None,
        seconds,
    )
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
    return systems, shared_layers


# ========================================================================================= the comparisons
def _accuracy(y, decided) -> float:
    return float(np.mean(np.asarray(y) == np.asarray(decided))) if len(y) else float("nan")


def paired_accuracy(run: FunctionalRun, a: str, b: str, label: int) -> PairedDifference:
    """Accuracy of system ``a`` minus ``b`` on the cases of gold ``label``, same template resamples."""
    mask = (run.cases["label"] == label).to_numpy()
    return paired_bootstrap(
        _accuracy,
        run.cases.loc[mask, "label"].to_numpy(),
        run.decisions(a)[mask],
        run.decisions(b)[mask],
        groups=run.cases.loc[mask, "templ_id"].to_numpy(),
        n_resamples=int(run.profile.anticipation.bootstrap_resamples),
        seed=run.profile.seed,
        unit="template",
        name_a=a,
        name_b=b,
    )


def forgetting(run: FunctionalRun) -> dict[str, Any]:
    """Per variant: phase-2 minus phase-1 accuracy on hateful and on non-hateful cases (paired)."""
    out = {}
    for variant in run.profile.anticipation.variants:
        a, b = f"phase2:{variant}", f"phase1:{variant}"
        out[variant] = {
            "hateful": paired_accuracy(run, a, b, 1).to_json(),
            "non_hateful": paired_accuracy(run, a, b, 0).to_json(),
        }
    return out


def remedy(run: FunctionalRun, phase2: Phase2Result | None) -> dict[str, Any]:
    """The rehearsal model against the same variant without it: HateCheck (paired, templates) and the
    phase-2 test MSE (notebook 03's intervals), with the issue's target."""
    if phase2 is None or not phase2.rehearsal:
        return {}
    variant = phase2.rehearsal["variant"]
    with_key, without_key = f"rehearsal:{variant}", f"phase2:{variant}"
    hateful = paired_accuracy(run, with_key, without_key, 1)
    non_hateful = paired_accuracy(run, with_key, without_key, 0)
    intervals = phase2.phase2_evidence["intervals"]
    mse_with, mse_without = intervals[with_key], intervals[without_key]
    gain = hateful.difference.estimate
    mse_within = bool(mse_without["low"] <= mse_with["estimate"] <= mse_without["high"])
    return {
        "variant": variant,
        "share": phase2.rehearsal["chosen_share"],
        "chosen_by": phase2.rehearsal["chosen_by"],
        "shares_tried": phase2.rehearsal.get("shares", [phase2.rehearsal["chosen_share"]]),
        "criterion": {
            "with": phase2.rehearsal["candidates"][str(phase2.rehearsal["chosen_share"])]["criterion"],
            "without": phase2.rehearsal["without"]["criterion"],
        },
        "hateful": hateful.to_json(),
        "non_hateful": non_hateful.to_json(),
        "phase2_test_mse": {"with": mse_with, "without": mse_without},
        "target": {
            "target": f"HateCheck hateful-case accuracy +>= {REMEDY_GAIN_TARGET} with the phase-2 test MSE "
            "inside the interval of the variant without rehearsal",
            "gain": gain,
            "gain_met": bool(gain >= REMEDY_GAIN_TARGET),
            "mse_within_interval": mse_within,
            "met": bool(gain >= REMEDY_GAIN_TARGET and mse_within),
        },
    }


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
    run.accuracy = functional_accuracy(
        cases,
        {name: s.scores for name, s in run.systems.items()},
        {name: s.threshold for name, s in run.systems.items()},
        n_resamples=n,
        seed=profile.seed,
    )
    with_trajectories = {name: s for name, s in run.systems.items() if s.trajectories is not None}
    run.alarms = alarm_profile(
        cases,
        {name: s.trajectories for name, s in with_trajectories.items()},
        {name: s.threshold for name, s in with_trajectories.items()},
    )
    phase2 = Phase2Result.read()
    run.forgetting = forgetting(run)
    run.remedy = remedy(run, phase2)
    # "The best model" is the anticipation scorer the study would ship: the best phase-2 variant, chosen on
    # held-out phase-2 data in notebook 03 (HateCheck chooses nothing).
    best = phase2.best_phase2_variant if phase2 is not None else profile.anticipation.variants[0]
    run.best_system = f"phase2:{best}"
    run.seconds = time.perf_counter() - start
    return run
