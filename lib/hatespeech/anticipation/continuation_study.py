"""Notebook 07: anticipation by imagined endings (:mod:`.continuations`) on the phase-2 test set, beside the
trained models, with the same intervals as notebook 03.

Systems, all on the same test prefixes (one row per word-prefix of every test sentence):

* ``continuation:<v>`` - the estimator: the profile's pretrained decoder samples endings that run to a
  tweet's length (drawn from the phase-2 train tweets' word counts), the best phase-1 model ``v`` (chosen on
  the selection set in notebook 02) scores each finished text at full length, and its score is calibrated
  (:class:`~.calibration.PlattMap`, fit on the phase-2 train sentences at full length, never a test one)
  before the endings are averaged; at k = n the sentence itself;
* ``continuation_raw:<v>`` - the same endings averaged on the raw scale (what calibration changes);
* ``phase1_prefix:<v>`` / ``phase1_prefix_calibrated:<v>`` - the same classifier on the prefix as it stands,
  raw and through the same calibration map: what imagining endings adds beyond the prefix;
* ``phase2:<best>`` - the best phase-2 model (chosen on held-out phase-2 data in notebook 03), re-scored
  from its checkpoint so that the comparison is paired on the very same prefixes;
* ``constant:train_mean`` - notebook 03's constant baseline.

Notebook 03's other rows (every phase-2 variant, TF-IDF ridge, the prior-corrected phase-1 models) are
quoted beside, from its metrics file, when the test set is the same (the profile scores every test
sentence). Intervals resample test sentences with notebook 03's seed and resample count.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Profile
from ..metrics.bootstrap import multi_bootstrap, paired_bootstrap
from ..metrics.regression import mse
from ..names import stage_and_variant
from ..results import require
from .calibration import PlattMap
from .continuation_result import CONTENT_WARNING, ContinuationResult, EndingsTarget
from .continuations import ContinuationEstimator, ContinuationSettings, Estimate
from .evaluation import earliness_of, phase2_scores, predict_phase2, prefix_frame
from .evidence_types import comparison_key
from .phase2 import full_sentence_labels, load_phase2_data, pick_test_sentences
from .quantize import quantize_int8
from .results import Phase1Result, Phase2Result
from .training import checkpoint_dir, load_checkpoint

#: Notebook 03's rows quoted beside this study's table (same test set): every phase-2 variant, the baselines
#: and the prior-corrected phase-1 models.
NOTEBOOK03_KINDS = ("phase2", "baseline", "phase1_only_corrected")


@dataclass
class ContinuationRun:
    """Everything notebook 07 computes; :meth:`result` is what it writes."""

    profile: Profile
    test: pd.DataFrame  # phase-2 test sentence rows scored here
    scorer_variant: str  # best phase-1 variant (the scorer of the endings)
    phase2_variant: str  # best phase-2 variant
    estimates: list[Estimate]
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    generator: str = ""
    calibration: PlattMap | None = None
    notebook03: dict[str, Any] = field(default_factory=dict)  # notebook 03's intervals quoted beside

    def result(self) -> ContinuationResult:
        """What notebook 07 writes (:func:`continuation_result`)."""
        return continuation_result(self, self.notebook03)

    @property
    def key(self) -> str:
        return f"continuation:{self.scorer_variant}"

    @property
    def continued(self) -> list[Estimate]:
        """The estimates of prefixes that were continued (k < n)."""
        return [e for e in self.estimates if not e.complete]


def build_estimator(
    profile: Profile, scorer_variant: str, ending_lengths=None
) -> tuple[ContinuationEstimator, str]:
    """The estimator of the profile: its pretrained decoder (int8 linear layers when
    ``continuation.int8_generator``) and the phase-1 checkpoint of ``scorer_variant``; endings run to
    ``ending_lengths`` words (train tweets' word counts) when given."""
    a = profile.anticipation
    settings = ContinuationSettings(
        n_samples=a.continuation.samples,
        max_new_tokens=a.continuation.max_new_tokens,
        top_p=a.continuation.top_p,
        seed=profile.seed,
        ending_lengths=ending_lengths,
    )
    estimator = ContinuationEstimator.from_profile(
        profile, checkpoint_dir(profile, 1, scorer_variant), settings
    )
    generator = f"{profile.models.decoder} (pretrained, fp32)"
    if a.continuation.int8_generator and next(estimator.generator.parameters()).device.type == "cpu":
        layers = quantize_int8(estimator.generator)
        generator = f"{profile.models.decoder} (pretrained, int8 linear layers: {layers})"
    return estimator, generator


def run_continuations(
    profile: Profile,
    phase1_best: str | None = None,
    phase2_best: str | None = None,
    constant: float | None = None,
) -> ContinuationRun:
    """Estimate every test prefix, re-score the best phase-2 model and the scorer on the same prefixes.

    The scorer (best phase-1 variant), the phase-2 model to beat and the constant default to what notebooks
    02 and 03 wrote under this profile (a clear error names the notebook to run first); notebook 03's rows
    (:data:`NOTEBOOK03_KINDS`) are then quoted beside."""
    notebook03 = {}
    if phase1_best is None or phase2_best is None or constant is None:
        phase1, phase2 = require(profile, Phase1Result, Phase2Result, by="the continuation study")
        phase1_best = phase1_best or phase1.best_variant
        phase2_best = phase2_best or phase2.best_phase2_variant
        constant = phase2.baselines.constant.value if constant is None else constant
        notebook03 = notebook03_rows(phase2)
    a = profile.anticipation
    data = load_phase2_data(profile)
    test = data.test
    if a.continuation.max_sentences is not None and a.continuation.max_sentences < len(test):
        test = test.sample(n=a.continuation.max_sentences, random_state=profile.seed).sort_index()
    test = test.reset_index(drop=True)
    estimator, generator = build_estimator(profile, phase1_best, tuple(data.train["n_words"]))
    estimator.calibration = fit_calibration(estimator, data.train, data.test)
    prefixes, complete = [], []
    for sentence, n in zip(test["sentence"], test["n_words"]):
        words = str(sentence).split()
        prefixes += [" ".join(words[:k]) for k in range(1, n + 1)]
        complete += [k == n for k in range(1, n + 1)]
    start = time.perf_counter()
    estimates = estimator.estimate_many(
        prefixes, complete, progress="continuations", batch_prefixes=a.continuation.batch_prefixes
    )
    run = ContinuationRun(
        profile, test, phase1_best, phase2_best, estimates, generator=generator, notebook03=notebook03
    )
    run.calibration = estimator.calibration
    run.seconds["estimator"] = time.perf_counter() - start
    bounds = np.cumsum([0, *test["n_words"]])

    def per_sentence(values):
        return [np.asarray(values)[bounds[i] : bounds[i + 1]] for i in range(len(test))]

    run.predictions[run.key] = prefix_frame(test, per_sentence([e.mean for e in estimates]))
    run.predictions[f"continuation_raw:{phase1_best}"] = prefix_frame(
        test, per_sentence([e.raw_mean for e in estimates])
    )
    start = time.perf_counter()
    prefix_scores = estimator.scorer.trajectories(test["sentence"].tolist())
    run.predictions[f"phase1_prefix:{phase1_best}"] = prefix_frame(test, prefix_scores)
    run.predictions[f"phase1_prefix_calibrated:{phase1_best}"] = prefix_frame(
        test, [estimator.calibration(t) for t in prefix_scores]
    )
    model, tokenizer, _ = load_checkpoint(profile, 2, phase2_best)
    run.predictions[f"phase2:{phase2_best}"] = predict_phase2(model, tokenizer, profile, test)
    run.seconds["other_systems"] = time.perf_counter() - start
    run.predictions["constant:train_mean"] = run.predictions[run.key].assign(p_hate=float(constant))
    return run


def notebook03_rows(phase2: Phase2Result) -> dict[str, Any]:
    """Notebook 03's test-MSE intervals of :data:`NOTEBOOK03_KINDS`."""
    return {
        key: interval
        for key, interval in phase2.phase2_evidence.intervals.items()
        if stage_and_variant(key)[0] in NOTEBOOK03_KINDS
    }


def fit_calibration(estimator: ContinuationEstimator, train: pd.DataFrame, test: pd.DataFrame) -> PlattMap:
    """The scorer's calibration map, fit on the phase-2 train sentences at full length against their
    full-sentence label (the mean of both passes at k = n); every test sentence id is forbidden to it."""
    scores = estimator.scorer.score(train["sentence"].tolist())
    labels = full_sentence_labels(train)
    return PlattMap.fit(
        scores,
        labels,
        train["sentence_id"],
        forbidden_ids=test["sentence_id"],
        fitted_on=f"{len(train)} phase-2 train sentences at full length (k = n), full-sentence labels",
    )


def evidence(run: ContinuationRun) -> dict[str, Any]:
    """Per system: MSE / Pearson / ECE / earliness, MSE intervals over test sentences, the paired
    comparisons the text states, and the Monte-Carlo noise term of the estimator."""
    a = run.profile.anticipation
    reference = run.predictions[run.key]
    y = reference["label"].to_numpy(float)
    kw = {
        "groups": reference["sentence_id"].to_numpy(),
        "n_resamples": int(a.bootstrap_resamples),
        "seed": int(run.profile.seed),
        "unit": "test sentence",
    }
    preds = {key: frame["p_hate"].to_numpy(float) for key, frame in run.predictions.items()}
    intervals = multi_bootstrap(mse, y, preds, **kw)
    metrics, calibration = {}, {}
    for key, frame in run.predictions.items():
        scores, table = phase2_scores(frame)
        metrics[key] = {**scores, "earliness": earliness_of(frame)}
        table = table.astype(object)
        calibration[key] = table.where(table.notna(), None).to_dict("records")
    comparisons = {
        comparison_key("mse", run.key, other): paired_bootstrap(
            mse, y, preds[run.key], preds[other], higher_is_better=False, name_a=run.key, name_b=other, **kw
        )
        for other in preds
        if other != run.key
    }
    continued = run.continued
    noise = float(np.mean([e.stderr**2 for e in continued])) if continued else 0.0
    against_constant = comparisons[comparison_key("mse", run.key, "constant:train_mean")]
    return {
        "metrics": metrics,
        "calibration": calibration,
        "target": EndingsTarget(
            target="calibrated imagined endings below the constant: the paired interval of "
            "(endings - constant) test MSE entirely below 0",
            difference=against_constant,
            met=bool(against_constant.difference.high < 0),
        ),
        "intervals": intervals,
        "comparisons": comparisons,
        "mc_noise": {
            "mean_stderr_squared": noise,
            "share_of_mse": noise / metrics[run.key]["mse"] if metrics[run.key]["mse"] else None,
            "note": "sampling noise adds about mean(stderr^2) = variance / N to the estimator's MSE; "
            "N endings per prefix",
        },
    }


def example_endings(run: ContinuationRun, n_prefixes: int = 4, n_endings: int = 3) -> list[dict[str, Any]]:
    """A handful of prefixes (seeded pick) with a few of their sampled endings and scores."""
    continued = run.continued
    rng = np.random.default_rng(run.profile.seed)
    picked = sorted(rng.choice(len(continued), size=min(n_prefixes, len(continued)), replace=False))
    return [
        {
            "prefix": continued[i].prefix,
            "estimate": continued[i].mean,
            "stderr": continued[i].stderr,
            "endings": [
                {"ending": ending, "p_hate": float(score)}
                for ending, score in list(zip(continued[i].endings, continued[i].scores))[:n_endings]
            ],
        }
        for i in picked
    ]


def trajectory_sentences(run: ContinuationRun, n: int = 4) -> pd.DataFrame:
    """A few test sentences for the trajectories figure (notebook 03's seeded pick)."""
    return pick_test_sentences(run.test, n=n, seed=run.profile.seed)


def continuation_result(run: ContinuationRun, notebook03_intervals: dict[str, Any] | None = None):
    """The typed result of a run (its evidence computed here)."""
    ev = evidence(run)
    continued = run.continued
    n_endings = sum(len(e.scores) for e in continued)
    s = run.profile.anticipation
    all_sentences = s.continuation.max_sentences is None
    return ContinuationResult(
        profile=run.profile.name,
        estimator={
            "n_samples": s.continuation.samples,
            "max_new_tokens": s.continuation.max_new_tokens,
            "top_p": s.continuation.top_p,
            "generator": run.generator,
            "scorer_variant": run.scorer_variant,
            "scorer": "best phase-1 model (selection set, notebook 02), its probability at full length "
            "through the calibration map",
            "calibration": run.calibration.to_json() if run.calibration is not None else None,
            "stops": "at a whole-tweet length drawn per ending from the phase-2 train tweets' word counts "
            "(longer than the prefix), the end-of-text token, or max_new_tokens",
            "content_warning": CONTENT_WARNING,
        },
        test={
            "sentences": len(run.test),
            "prefixes": len(run.estimates),
            "prefixes_continued": len(continued),
            "all_test_sentences": all_sentences,
        },
        metrics=ev["metrics"],
        intervals=ev["intervals"],
        comparisons=ev["comparisons"],
        mc_noise=ev["mc_noise"],
        cost={
            "estimator_seconds": run.seconds["estimator"],
            "seconds_per_prefix": run.seconds["estimator"] / max(1, len(continued)),
            "seconds_per_ending": run.seconds["estimator"] / max(1, n_endings),
            "other_seconds": run.seconds["other_systems"],
            "endings": n_endings,
        },
        examples=example_endings(run),
        calibration=ev["calibration"],
        target=ev["target"],
        notebook03=dict(notebook03_intervals or {}) if all_sentences else {},
    )
