"""The dual-head experiment end to end (notebook 04), in the shape of the other experiments:
``run_dualhead(profile) -> DualHeadRun``, whose :meth:`DualHeadRun.result` is what the notebook writes.

The stages, in the order they draw random numbers (the order is part of the result: the same seed gives the
same numbers only in the same order):

1. the split manifest (:func:`hatespeech.data.dualhead.load_or_make_splits`, reused by notebook 05);
2. one joint model per focal weight lambda, the best on validation kept, saved with its validation-tuned
   thresholds (:func:`.training.fit_joint_choosing_lambda`);
3. the rarest labels' confusion and the bias metric on test;
4. the seed's two single-head models (``profile.dualhead.train_separate_models``); the toxicity-type one is
   saved too, since notebook 06 scores every classifier of the study on HateCheck;
5. the intervals over resampled test texts and the TF-IDF yardstick on the same split.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import Profile
from ..data.dualhead import DualHeadSplits, load_or_make_splits
from ..models.backbones import load_tokenizer
from .baseline import tfidf_baseline
from .batches import tokenize_splits
from .evaluation import Predictions, bias_of, comparison_table, evaluate, predict, rare_label_confusion
from .intervals import all_intervals
from .results import DualHeadResult, dualhead_result
from .scorer import save_thresholds
from .training import LambdaChoice, TrainedModel, experiment_dir, fit, fit_joint_choosing_lambda, save_model

HEADS = ("n", "i")
#: Where :func:`run_dualhead` saves its models, under ``experiment_dir(profile)``.
JOINT_MODEL, SEPARATE_N_MODEL = "joint_model", "separate_n_model"


@dataclass
class DualHeadRun:
    """Everything notebook 04 shows; :meth:`result` is what it writes."""

    profile: Profile
    splits: DualHeadSplits
    choice: LambdaChoice  # the joint models of the lambda search, the kept one's predictions and reports
    rare: dict[str, pd.DataFrame]  # head -> confusion counts of its rarest labels on test
    bias: dict[str, Any]  # evaluation.bias_of
    separate_models: dict[str, TrainedModel] = field(default_factory=dict)  # head -> single-head model
    separate_preds: dict[str, dict[str, Predictions]] = field(default_factory=dict)  # head -> split -> preds
    separate: dict[str, dict] | None = None  # head -> evaluate(...) report; None when not trained
    intervals: dict[str, Any] = field(default_factory=dict)
    baselines: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def joint(self) -> TrainedModel:
        return self.choice.trained

    @property
    def preds(self) -> dict[str, Predictions]:
        return self.choice.preds

    @property
    def reports(self) -> dict[str, dict]:
        return self.choice.reports

    def test_probs(self) -> dict[str, np.ndarray]:
        return {h: getattr(self.preds["test"], f"probs_{h}") for h in HEADS}

    def comparison(self) -> pd.DataFrame | None:
        """Shared encoder vs the seed's separate models (None when they were not trained)."""
        if self.separate is None:
            return None
        times = {
            "joint": self.joint.train_seconds,
            "joint_search": self.timings["joint_train"],
            **{f"separate_{h}": m.train_seconds for h, m in self.separate_models.items()},
        }
        return comparison_table(self.reports, self.separate, times)

    def histories(self) -> dict[str, Any]:
        """Training curves of every model kept: the joint one and the separate ones."""
        return {
            "joint": self.joint.history,
            **{f"separate head_{h}": m.history for h, m in self.separate_models.items()},
        }

    def result(self) -> DualHeadResult:
        trained = {"joint": self.joint, **{f"separate_{h}": m for h, m in self.separate_models.items()}}
        result = dualhead_result(
            self.profile,
            self.splits,
            self.reports,
            self.separate,
            trained,
            self.bias,
            self.rare,
            self.timings,
            self.choice,
            self.intervals,
        )
        result.baselines = self.baselines
        return result


def run_dualhead(profile: Profile) -> DualHeadRun:
    """Train, evaluate and save the dual-head model and the seed's separate models (module docstring)."""
    start = time.perf_counter()
    settings = profile.dualhead
    timings: dict[str, float] = {}
    # 1. splits
    splits = load_or_make_splits(profile)
    timings["data_and_splits"] = time.perf_counter() - start
    # 2. the joint model, lambda chosen on validation
    tokenizer = load_tokenizer(profile.models.encoder)
    datasets = tokenize_splits(splits, tokenizer, profile)
    choice = fit_joint_choosing_lambda(profile, splits, datasets, tokenizer)
    folder = save_model(
        choice.trained, tokenizer, experiment_dir(profile) / JOINT_MODEL, splits, settings.max_length
    )
    save_thresholds(folder, choice.reports)  # the validation-tuned thresholds travel with the model
    timings["joint_train"] = float(choice.table["train_seconds"].sum())
    timings["joint_predict"] = choice.predict_seconds
    # 3. rarest labels and the bias metric, on test
    rare = {h: rare_label_confusion(splits, choice.preds["test"], choice.reports[h], h) for h in HEADS}
    bias = bias_of(splits, choice.preds["test"], settings.bias_min_subgroup_size)
    run = DualHeadRun(profile, splits, choice, rare, bias, timings=timings)
    # 4. the seed's setup: one single-head model per head
    if settings.train_separate_models:
        for head in HEADS:
            model = fit(profile, splits, datasets, tokenizer, heads=head, run_name=f"separate_{head}")
            run.separate_models[head] = model
            run.separate_preds[head] = {
                s: predict(model.model, datasets[s], tokenizer, profile, desc=f"predict {s} ({head})")
                for s in ("val", "test")
            }
        run.separate = {h: evaluate(splits, run.separate_preds[h], heads=h)[h] for h in HEADS}
        folder = save_model(
            run.separate_models["n"],
            tokenizer,
            experiment_dir(profile) / SEPARATE_N_MODEL,
            splits,
            settings.max_length,
        )
        save_thresholds(folder, {"n": run.separate["n"]})
        timings.update({f"separate_{h}_train": m.train_seconds for h, m in run.separate_models.items()})
    # 5. intervals over resampled test texts (both heads' macro-F1, the bias score within identity x label
    # strata, shared minus separate on the same resamples) and the TF-IDF yardstick
    separate_test = (
        {h: getattr(run.separate_preds[h]["test"], f"probs_{h}") for h in HEADS} if run.separate else None
    )
    run.intervals = all_intervals(profile, splits, run.test_probs(), run.reports, separate_test, run.separate)
    run.baselines = tfidf_baseline(
        splits, run.test_probs(), run.reports, int(settings.bootstrap_resamples), profile.seed
    )
    timings["notebook_total"] = time.perf_counter() - start
    return run
