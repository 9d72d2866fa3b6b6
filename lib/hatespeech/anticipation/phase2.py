"""Phase 2 end to end: prefix_probability as sentences (:class:`Phase2Data`), :func:`run_phase2` (phase-1
models without phase 2, phase 2 from each phase-1 checkpoint, the no-phase-1 ablation, then the baselines and
the bootstrap evidence) and what it returns (:class:`Phase2Run`). Over the ~500-line guide (~575 lines):
the rehearsal, loss-weight and extra-seed runs are here too: each reads and extends one Phase2Run."""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..config import Profile
from ..data import load_prefix_probability
from ..data.hatecheck import evaluation_only_check
from ..data.registry import load_cases
from ..metrics.regression import regression_metrics
from ..names import stage_and_variant, system_id
from . import evidence
from .evaluation import (
    THRESHOLD,
    earliness_of,
    phase2_scores,
    predict_phase2,
    prefix_frame,
)
from .examples import sample_sentences
from .inference import Anticipator
from .phase1 import load_phase1_data
from .results import Phase2Result
from .shared_layers import MemoPool
from .training import (
    Rehearsal,
    brier_at_full_length,
    checkpoint_dir,
    load_checkpoint,
    save_checkpoint,
    train_phase2,
)

# The seed's own illustrative inputs; the second is completed to a full sentence by us (illustrative only).
EXAMPLE_SENTENCES = (
    "Immigrants bring new ideas and energy",
    "I am not sexist, but women should not be allowed to vote",
)
PHASE2_VAL_FRACTION = 0.1  # train sentences held out for phase-2 curves and the demo-model choice
POOL_KINDS = ("phase2", "no_phase1")  # the best-model pool: with and without phase 1


# ===================================================================================================== data
@dataclass
class Phase2Data:
    """prefix_probability as one row per sentence: ``labels`` / ``label_a`` / ``label_b`` arrays by k."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame
    train_prefixes: pd.DataFrame  # prefix rows of the train sentences (for the constant baseline)
    test_prefixes: pd.DataFrame

    def counts(self) -> dict[str, int]:
        return {
            "train_sentences": len(self.train),
            "val_sentences": len(self.val),
            "test_sentences": len(self.test),
            "train_prefixes": int(self.train["n_words"].sum()),
            "val_prefixes": int(self.val["n_words"].sum()),
            "test_prefixes": int(self.test["n_words"].sum()),
        }


def sentence_rows(prefixes: pd.DataFrame) -> pd.DataFrame:
    """Group prefix rows into sentences; ValueError names a sentence whose prefixes are incomplete."""
    rows = []
    for sentence_id, part in prefixes.sort_values(["sentence_id", "k"]).groupby("sentence_id", sort=True):
        n = int(part["n_words"].iloc[0])
        if part["k"].tolist() != list(range(1, n + 1)):
            raise ValueError(
                f"prefix_probability sentence {sentence_id!r}: prefixes k={part['k'].tolist()} do not "
                f"cover 1..{n}"
            )
        rows.append(
            {
                "sentence_id": sentence_id,
                "tweet_id": part["tweet_id"].iloc[0],
                "corpus_class": part["corpus_class"].iloc[0],
                "sentence": part["sentence"].iloc[0],
                "n_words": n,
                "labels": part["label"].to_numpy(float),
                "label_a": part["label_a"].to_numpy(float),
                "label_b": part["label_b"].to_numpy(float),
            }
        )
    return pd.DataFrame(rows)


def full_sentence_labels(sentences: pd.DataFrame) -> np.ndarray:
    """Each sentence's full-sentence label (the mean of both passes at k = n), in row order."""
    return np.array([float(labels[-1]) for labels in sentences["labels"]])


def load_phase2_data(profile: Profile) -> Phase2Data:
    """Train / held-out validation / test sentences of prefix_probability.

    Raises :class:`hatespeech.data.DataLeakageError` if a train sentence is a HateCheck case. A tenth of the
    train sentences (seeded, stratified by corpus class) is held out: it picks the epoch kept
    and the best variant, and draws the loss curves (``phase2.max_val_sentences`` caps it for smoke runs);
    ``phase2.max_train_sentences`` samples the rest.
    """
    train_prefixes = load_prefix_probability("train")
    test_prefixes = load_prefix_probability("test")
    sentences = sentence_rows(train_prefixes)
    # HateCheck is evaluation only (none of its cases is a prefix_probability sentence in the shared data)
    evaluation_only_check(sentences.rename(columns={"sentence": "text"}), load_cases(), "prefix_probability")
    fit, val = train_test_split(
        sentences,
        test_size=PHASE2_VAL_FRACTION,
        random_state=profile.seed,
        stratify=sentences["corpus_class"],
    )
    limit = profile.anticipation.phase2.max_train_sentences
    fit = sample_sentences(fit, limit, profile.seed, strata=("corpus_class",))
    val = sample_sentences(
        val, profile.anticipation.phase2.max_val_sentences, profile.seed, strata=("corpus_class",)
    )
    train_ids = set(fit["sentence_id"])
    test = sentence_rows(test_prefixes)
    if profile.anticipation.phase2.max_test_sentences is not None:  # smoke runs only: a seeded subset
        test = sample_sentences(
            test, profile.anticipation.phase2.max_test_sentences, profile.seed, strata=("corpus_class",)
        )
        test_prefixes = test_prefixes[test_prefixes["sentence_id"].isin(set(test["sentence_id"]))]
    return Phase2Data(
        train=fit.reset_index(drop=True),
        val=val.reset_index(drop=True),
        test=test.reset_index(drop=True),
        train_prefixes=train_prefixes[train_prefixes["sentence_id"].isin(train_ids)],
        test_prefixes=test_prefixes,
    )


# ================================================================================================== results
def annotator_agreement(data: Phase2Data) -> dict[str, Any]:
    """How far the two annotation passes agree (MSE, MAE, Pearson) on train and test prefixes."""
    out: dict[str, Any] = {
        "note": (
            "Both passes were made by one large language model (see prefix_probability/README.md): this is "
            "the agreement of two LLM readings, much higher than two people would reach, and not a human "
            "ceiling."
        ),
    }
    for name, frame in (("train", _all_train_prefixes(data)), ("test", data.test_prefixes)):
        metrics = regression_metrics(frame["label_a"], frame["label_b"])
        metrics["mse_pass_vs_target"] = float(np.mean((frame["label_a"] - frame["label"]) ** 2))
        out[name] = metrics
    return out


def _all_train_prefixes(data: Phase2Data) -> pd.DataFrame:
    return load_prefix_probability("train")


@dataclass
class Phase2Run:
    """Everything the phase-2 notebook shows."""

    profile: Profile
    data: Phase2Data
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)  # model key -> test predictions
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # model key -> test metrics
    calibration: dict[str, pd.DataFrame] = field(default_factory=dict)
    histories: dict[str, pd.DataFrame] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    val_mse: dict[str, float] = field(default_factory=dict)
    example_trajectories: dict[str, list[np.ndarray]] = field(default_factory=dict)
    constant: float = float("nan")
    baseline_info: dict[str, dict[str, Any]] = field(default_factory=dict)  # how each baseline was made
    phase1_pos_weight: dict[str, float] = field(default_factory=dict)  # variant -> phase-1 class weight
    evidence: dict[str, Any] = field(default_factory=dict)  # intervals and paired comparisons
    rehearsal: dict[str, Any] = field(default_factory=dict)  # the forgetting remedy (run_rehearsal)
    loss_weights: dict[str, Any] = field(default_factory=dict)  # run_loss_weight_ablation
    seeds: dict[str, Any] = field(default_factory=dict)  # run_extra_seeds
    memos: MemoPool | None = None  # the decoders' frozen-layer memos, shared by every run of this phase

    @staticmethod
    def key(kind: str, variant: str) -> str:
        return system_id(kind, variant)

    def best_variant(self) -> str:
        """The phase-2 variant (from its phase-1 checkpoint) with the lowest held-out validation MSE (the
        test split chooses nothing): the one rehearsal, the loss-weight ablation and the demo use."""
        candidates = {stage_and_variant(k)[1]: v for k, v in self.val_mse.items() if k.startswith("phase2:")}
        return min(candidates, key=candidates.get)

    def best_model(self) -> str:
        """The key (``phase2:<variant>`` or ``no_phase1:<variant>``) with the lowest held-out MSE among every
        candidate: the four phase-2 variants and the models trained without phase 1."""
        pool = {k: v for k, v in self.val_mse.items() if stage_and_variant(k)[0] in POOL_KINDS}
        return min(pool, key=pool.get)

    def mse_table(self) -> pd.DataFrame:
        """Test MSE / MAE / Pearson / ECE of every model and baseline (``kind``, ``variant`` columns)."""
        rows = []
        for key, metrics in self.metrics.items():
            kind, variant = stage_and_variant(key)
            rows.append(
                {
                    "kind": kind,
                    "variant": variant,
                    **{k: metrics.get(k) for k in ("mse", "mae", "pearson", "ece", "n")},
                }
            )
        return pd.DataFrame(rows)

    def earliness_table(self) -> pd.DataFrame:
        reference = self.predictions["constant:train_mean"]  # any predictions frame carries the targets
        rows = [{"kind": "annotators", "variant": "mean of passes", **earliness_of(reference, "label")}]
        for key, predictions in self.predictions.items():
            kind, variant = stage_and_variant(key)
            if kind == "constant":
                continue
            rows.append({"kind": kind, "variant": variant, **earliness_of(predictions)})
        return pd.DataFrame(rows)

    def result(self) -> Phase2Result:
        """What notebook 03 writes and the report reads (:class:`Phase2Result`)."""
        phase2, ablation, phase1_only, corrected, other, rehearsal, weighted = {}, {}, {}, {}, {}, {}, {}
        for key, metrics in self.metrics.items():
            kind, variant = stage_and_variant(key)
            calibration = self.calibration[key].astype(object)
            calibration = calibration.where(calibration.notna(), None)  # empty bins: null, not NaN, in JSON
            body = {
                **metrics,
                "calibration": calibration.to_dict("records"),
                **self.baseline_info.get(key, {}),
            }
            if key in self.stats:
                body["training"] = self.stats[key]
            if key in self.val_mse:
                body["val_mse"] = self.val_mse[key]
            target = {
                "phase2": phase2,
                "no_phase1": ablation,
                "phase1_only": phase1_only,
                "phase1_only_corrected": corrected,
                "baseline": other,
                "rehearsal": rehearsal,
                "loss_weight": weighted,
            }.get(kind)
            if target is not None:
                target[variant] = body
        earl = self.earliness_table()
        return Phase2Result(
            profile=self.profile.name,
            phase2=phase2,
            baselines={
                "constant": {
                    **self.metrics["constant:train_mean"],
                    "value": self.constant,
                    "description": "predicts the mean target of the phase-2 train prefixes",
                },
                **other,
                "phase1_only": phase1_only,
                "phase1_only_prior_corrected": corrected,
                "phase2_without_phase1": ablation,
            },
            phase2_evidence=self.evidence,
            earliness={
                "definition": (
                    "test sentences whose full-sentence target (mean of both passes) is >= 0.5 are "
                    "hateful; share_seen = words read at the first p >= 0.5 / n_words; "
                    "false_alarm_rate = share of the other sentences where p ever reaches 0.5"
                ),
                "by_model": {
                    f"{r['kind']}:{r['variant']}": {
                        k: (None if isinstance(v, float) and math.isnan(v) else v)  # undefined: null in JSON
                        for k, v in r.items()
                        if k not in ("kind", "variant")
                    }
                    for r in earl.to_dict("records")
                },
            },
            annotator_agreement=annotator_agreement(self.data),
            best_phase2_variant=self.best_variant(),
            phase2_C=self.profile.anticipation.phase2.C,
            data=self.data.counts(),
            rehearsal={**self.rehearsal, "model": rehearsal.get(self.rehearsal["variant"])}
            if self.rehearsal
            else {},
            best_model=self.best_model(),
            best_pool={k: v for k, v in self.val_mse.items() if stage_and_variant(k)[0] in POOL_KINDS},
            loss_weights={**self.loss_weights, "model": weighted.get(self.loss_weights["variant"])}
            if self.loss_weights
            else {},
            seeds=self.seeds,
        )


# ====================================================================================================== run
def run_phase2(profile: Profile, variants=None, ablation_variants=None) -> Phase2Run:
    """Phase 2 for every variant (from its phase-1 checkpoint), the baselines and the ablation; saves the
    phase-2 checkpoints. Raises FileNotFoundError (run notebook 02) when a phase-1 checkpoint is missing."""
    settings = profile.anticipation
    variants = tuple(variants or settings.variants)
    if ablation_variants is None:
        ablation_variants = settings.phase2.ablation_variants or variants
    missing = [v for v in variants if not (checkpoint_dir(profile, 1, v) / "config.json").exists()]
    if missing:
        raise FileNotFoundError(
            f"phase-1 checkpoints missing for {missing} under "
            f"{checkpoint_dir(profile, 1, missing[0]).parent}: run "
            f"notebooks/02_phase1.ipynb with profile={profile.name!r} first"
        )
    data = load_phase2_data(profile)
    run = Phase2Run(profile=profile, data=data)
    if settings.frozen_layer_memo_mb:
        run.memos = MemoPool(settings.frozen_layer_memo_mb)
    run.constant = float(data.train_prefixes["label"].mean())
    constant = _constant_predictions(data, run.constant)
    run.predictions["constant:train_mean"] = constant
    run.metrics["constant:train_mean"], run.calibration["constant:train_mean"] = phase2_scores(constant)
    for variant in variants:
        print(f"[phase 2] {variant}: phase-1 model without phase 2")
        model, tokenizer, phase1_stats = load_checkpoint(profile, 1, variant)
        run.phase1_pos_weight[variant] = phase1_stats.get("pos_weight")
        _score_into(run, "phase1_only", variant, model, tokenizer)
        del model
        print(f"[phase 2] {variant}: fine-tuning from the phase-1 checkpoint")
        model, tokenizer, history, stats = train_phase2(
            variant, profile, data, init="phase1", memos=run.memos
        )
        key = run.key("phase2", variant)
        run.histories[key], run.stats[key] = history, stats
        _score_into(run, "phase2", variant, model, tokenizer)
        run.example_trajectories[variant] = Anticipator(
            model, tokenizer, max_length=settings.max_length
        ).trajectories(list(EXAMPLE_SENTENCES))
        save_checkpoint(model, tokenizer, checkpoint_dir(profile, 2, variant), stats)
        del model
    for variant in ablation_variants:
        print(f"[phase 2] {variant}: ablation, phase 2 from the pretrained backbone (no phase 1)")
        model, tokenizer, history, stats = train_phase2(
            variant, profile, data, init="pretrained", memos=run.memos
        )
        key = run.key("no_phase1", variant)
        run.histories[key], run.stats[key] = history, stats
        _score_into(run, "no_phase1", variant, model, tokenizer)
        del model
    if settings.phase2.rehearsal_shares:
        run_rehearsal(run)
    if len(settings.phase2.C_candidates) > 1:
        run_loss_weight_ablation(run)
    if settings.phase2.extra_seeds:
        run_extra_seeds(run)
    print("[phase 2] baselines and bootstrap intervals")
    evidence.phase2_baselines(run)
    evidence.phase2_evidence(run)
    return run


def rehearsal_dir(profile: Profile, variant: str):
    """``artifacts_dir()/<profile>/anticipation/phase2_rehearsal/<variant>/``: the remedy's checkpoint."""
    return checkpoint_dir(profile, 2, variant).parent.parent / "phase2_rehearsal" / variant


def run_rehearsal(run: Phase2Run, phase1_data=None) -> dict[str, Any]:
    """The forgetting remedy for the best phase-2 variant (chosen on held-out MSE before this runs): phase 2
    again from its phase-1 checkpoint with phase-1 full sentences mixed in (:class:`Rehearsal`), once per
    ``phase2.rehearsal_shares``; the share with the lowest held-out phase-2 MSE + phase-1 selection Brier is
    kept, scored on the test prefixes as ``rehearsal:<variant>`` and saved under :func:`rehearsal_dir`.
    Neither HateCheck nor any test split chooses anything here."""
    profile = run.profile
    settings = profile.anticipation
    variant = run.best_variant()
    phase1_data = phase1_data if phase1_data is not None else load_phase1_data(profile)
    selection = sample_sentences(phase1_data.selection, settings.phase1.max_selection_samples, profile.seed)
    n_phase2_prefixes = int(run.data.train["n_words"].sum())
    candidates: dict[str, dict[str, Any]] = {}
    kept = None
    for share in settings.phase2.rehearsal_shares:
        sentences = sample_sentences(
            phase1_data.train, max(1, round(share * n_phase2_prefixes)), profile.seed
        )
        print(f"[phase 2] {variant}: rehearsal, {len(sentences)} phase-1 sentences (share {share})")
        model, tokenizer, history, stats = train_phase2(
            variant,
            profile,
            run.data,
            init="phase1",
            rehearsal=Rehearsal(share, sentences, selection),
            memos=run.memos,
        )
        best_epoch = stats["selection"]["kept"]
        candidates[str(share)] = {
            "criterion": best_epoch["score"],
            "val_mse": best_epoch["val_mse"],
            "phase1_selection_brier": best_epoch["phase1_selection_brier"],
            "epochs": int(best_epoch["epoch"]),
            "rehearsal_sentences": stats["rehearsal"]["sentences"],
            "train_seconds": stats["train_seconds"],
        }
        if kept is None or best_epoch["score"] < kept[0]:
            kept = (best_epoch["score"], share, model, tokenizer, history, stats)
        del model
    _, share, model, tokenizer, history, stats = kept
    key = run.key("rehearsal", variant)
    run.histories[key], run.stats[key] = history, stats
    _score_into(run, "rehearsal", variant, model, tokenizer)
    run.val_mse[key] = stats["selection"]["kept"]["val_mse"]  # the phase-2 part of the criterion
    save_checkpoint(model, tokenizer, rehearsal_dir(profile, variant), stats)
    without, tokenizer_without, _ = load_checkpoint(profile, 2, variant)
    val_mse_without = run.val_mse[run.key("phase2", variant)]
    brier_without = brier_at_full_length(without, tokenizer_without, selection, settings.max_length)
    run.rehearsal = {
        "variant": variant,
        "description": "phase 2 again from the phase-1 checkpoint of the best phase-2 variant, with "
        "phase-1 train sentences (full length, 0/1 labels, the phase-2 loss with w_len = 1) mixed into the "
        "phase-2 train prefixes; share = rehearsal sentences / phase-2 train prefixes",
        "chosen_by": "lowest held-out phase-2 MSE + Brier score on the phase-1 selection sentences "
        f"({len(selection)} sentences, full length); the epoch within a run by the same criterion",
        "shares": [float(s) for s in settings.phase2.rehearsal_shares],
        "chosen_share": float(share),
        "candidates": candidates,
        "without": {
            "val_mse": val_mse_without,
            "phase1_selection_brier": brier_without,
            "criterion": val_mse_without + brier_without,
        },
        "checkpoint": f"{profile.name}/anticipation/phase2_rehearsal/{variant}",  # relative to artifacts
    }
    return run.rehearsal


def _weight_name(C: float | None) -> str:
    return "unweighted" if C is None else f"C={C:g}"


def run_loss_weight_ablation(run: Phase2Run) -> dict[str, Any]:
    """The seed's label weight tested on the best phase-2 variant: phase 2 again from its phase-1 checkpoint
    with each ``phase2.C_candidates`` (``None``: unweighted MSE). Each run's kept epoch has a plain MSE on the
    held-out train sentences; the lowest wins unless its paired bootstrap difference to the default C (over
    held-out sentences) holds 0, in which case the default is kept (48 sentences are few). The test split
    scores only the chosen setting (``loss_weight:<variant>``) beside the default ``phase2:<variant>``."""
    profile, settings = run.profile, run.profile.anticipation
    variant = run.best_variant()
    default = settings.phase2.C
    default_model, tokenizer, _ = load_checkpoint(profile, 2, variant)
    held_out = {_weight_name(default): predict_phase2(default_model, tokenizer, profile, run.data.val)}
    del default_model
    candidates = {_weight_name(default): {"C": default, "val_mse": run.val_mse[run.key("phase2", variant)]}}
    models = {}
    for C in settings.phase2.C_candidates:
        name = _weight_name(C)
        if name in candidates:
            continue
        print(f"[phase 2] {variant}: loss-weight ablation, {name}")
        model, tokenizer, history, stats = train_phase2(
            variant, profile, run.data, init="phase1", C=C, memos=run.memos, curves=False
        )
        held_out[name] = predict_phase2(model, tokenizer, profile, run.data.val)
        candidates[name] = {
            "C": C,
            "val_mse": float(stats["selection"]["kept"]["score"]),
            "epochs": int(stats["selection"]["kept"]["epoch"]),
            "train_seconds": stats["train_seconds"],
        }
        models[name] = (model, tokenizer, history, stats)
    lowest = min(candidates, key=lambda name: candidates[name]["val_mse"])
    reference = held_out[_weight_name(default)]
    difference = evidence.held_out_difference(run.profile, held_out[lowest], reference, lowest, "default")
    tie = difference.difference.contains(0.0)
    chosen = _weight_name(default) if tie else lowest
    run.loss_weights = {
        "variant": variant,
        "description": "phase 2 from the phase-1 checkpoint of the best phase-2 variant with each label "
        "weight C of w = 0.8·C·y + 0.2·w_len, and with the unweighted MSE",
        "default": _weight_name(default),
        "candidates": candidates,
        "lowest_held_out": lowest,
        "lowest_minus_default_held_out": difference.to_json(),
        "chosen": chosen,
        "chosen_by": "plain MSE on the held-out train sentences; when the paired interval of the lowest "
        "minus the default holds 0, the default is kept",
    }
    if chosen != _weight_name(default):
        model, tokenizer, _, stats = models[chosen]
        key = run.key("loss_weight", variant)
        run.stats[key] = stats  # no loss curve: ablation runs draw none
        _score_into(run, "loss_weight", variant, model, tokenizer)
    return run.loss_weights


def run_extra_seeds(run: Phase2Run) -> dict[str, Any]:
    """Training noise beside the sampling intervals: the best phase-2 variant and the best no-phase-1 model
    (the pool's winner when it is one, else the best variant without phase 1, when the profile trains it)
    again at each ``phase2.extra_seeds``; their test MSE spread is reported, nothing is chosen from it."""
    profile, settings = run.profile, run.profile.anticipation
    keys = [run.key("phase2", run.best_variant())]
    best, no_phase1 = run.best_model(), run.key("no_phase1", run.best_variant())
    other = (
        best if best not in keys else no_phase1
    )  # the pool's winner, else the same variant without phase 1
    if other in run.val_mse and other not in keys:
        keys.append(other)
    out = {}
    for key in keys:
        kind, variant = stage_and_variant(key)
        init = "phase1" if kind == "phase2" else "pretrained"
        rows = [
            {
                "seed": profile.seed,
                "val_mse": run.val_mse[key],
                "test_mse": run.metrics[key]["mse"],
            }
        ]
        for seed in settings.phase2.extra_seeds:
            print(f"[phase 2] {key}: training seed {seed}")
            model, tokenizer, _, stats = train_phase2(
                variant, profile, run.data, init=init, seed=seed, memos=run.memos, curves=False
            )
            predictions = predict_phase2(model, tokenizer, profile, run.data.test)
            rows.append(
                {
                    "seed": int(seed),
                    "val_mse": float(stats["selection"]["kept"]["score"]),
                    "test_mse": float(regression_metrics(predictions["label"], predictions["p_hate"])["mse"]),
                }
            )
            del model
        test = np.array([r["test_mse"] for r in rows])
        out[key] = {
            "runs": rows,
            "test_mse_mean": float(test.mean()),
            "test_mse_sd": float(test.std(ddof=1)) if len(test) > 1 else 0.0,
            "test_mse_min": float(test.min()),
            "test_mse_max": float(test.max()),
        }
    run.seeds = out
    return out


def _constant_predictions(data: Phase2Data, value: float) -> pd.DataFrame:
    trajectories = [np.full(n, value) for n in data.test["n_words"]]
    return prefix_frame(data.test, trajectories)


def _score_into(run: Phase2Run, kind: str, variant: str, model, tokenizer) -> None:
    key = run.key(kind, variant)
    with run.memos.context(model) if run.memos is not None else nullcontext():
        predictions = predict_phase2(model, tokenizer, run.profile, run.data.test)
    run.predictions[key] = predictions
    run.metrics[key], run.calibration[key] = phase2_scores(predictions)
    run.metrics[key]["model_id"] = model.config.backbone_name
    if key in run.stats:  # the held-out train sentences pick the epoch and the best variant
        run.val_mse[key] = run.stats[key]["selection"]["kept"]["score"]


def pick_test_sentences(test: pd.DataFrame, n: int = 4, seed: int = 0) -> pd.DataFrame:
    """``n`` test sentences for the trajectory figure: half hateful by the full-sentence target, half not
    (seeded), short enough to read (<= 20 words) when possible."""
    full = test.assign(full_label=full_sentence_labels(test))
    readable = full[full["n_words"] <= 20]
    pool = readable if len(readable) >= n else full
    hateful = pool[pool["full_label"] >= THRESHOLD]
    other = pool[pool["full_label"] < THRESHOLD]
    n_hateful = min(len(hateful), (n + 1) // 2)
    picked = pd.concat(
        [
            hateful.sample(n=n_hateful, random_state=seed),
            other.sample(n=min(len(other), n - n_hateful), random_state=seed),
        ]
    )
    return picked.drop(columns="full_label").reset_index(drop=True)
