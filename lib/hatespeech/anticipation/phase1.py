"""Phase 1 end to end: the corpus on its split (:class:`Phase1Data`), :func:`run_phase1` (learning-rate sweep,
training, selection, evaluation, checkpoints, then the baselines and the bootstrap evidence) and what it
returns (:class:`Phase1Run`, whose :meth:`~Phase1Run.result` is what notebook 02 writes), the seed's numbers
as context, and the helpers notebook 03 uses to read phase 1 back."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from ..config import Profile
from ..data import build_phase1_corpus, leakage_check, load_prefix_probability, phase1_splits
from ..models.prefix import parse_variant
from ..results import require
from . import evidence
from .evaluation import evaluate_phase1
from .results import Phase1Result
from .shared_layers import MemoPool
from .training import checkpoint_dir, phase1_lr_candidates, save_checkpoint, train_phase1


# ===================================================================================================== data
@dataclass
class Phase1Data:
    """The phase-1 corpus on its grouped split: ``train`` (fits), ``selection`` (chooses learning rate, epoch
    and threshold), ``val`` (the seed's 15%: reported, chooses nothing); each with ``text, label, source,
    group``. ``report`` holds the corpus report, the manifest name and both leakage checks."""

    train: pd.DataFrame
    selection: pd.DataFrame
    val: pd.DataFrame
    report: dict[str, Any]


def load_phase1_data(profile: Profile) -> Phase1Data:
    """The phase-1 corpus on its seeded, grouped, manifest-backed split (see
    :func:`hatespeech.data.phase1_splits`).

    Every part is checked against prefix_probability with the data layer's :func:`leakage_check` (raises
    :class:`hatespeech.data.DataLeakageError` naming the rows if a phase-2 sentence is in them).
    """
    corpus, report = build_phase1_corpus(profile)
    splits = phase1_splits(profile, corpus=corpus, report=report)
    phase2 = load_prefix_probability("all")
    report = dict(report)
    report["split_manifest"] = f"{profile.name}/splits/{splits.path.name}"  # relative to the artifacts dir
    report["split_sizes"] = splits.sizes()
    for name in ("train", "selection", "val"):
        report[f"leakage_check_{name}"] = leakage_check(splits[name], phase2)
    parts = {name: splits[name].reset_index(drop=True) for name in ("train", "selection", "val")}
    return Phase1Data(**parts, report=report)


# ================================================================================================== results
@dataclass
class Phase1Run:
    """Everything the phase-1 notebook shows: per variant metrics, tables, histories and training stats,
    the learning-rate sweep on the selection set, the baselines and the bootstrap evidence."""

    profile: Profile
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    histories: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_source: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_w_len: dict[str, pd.DataFrame] = field(default_factory=dict)
    by_length_fraction: dict[str, pd.DataFrame] = field(default_factory=dict)
    predictions: dict[str, pd.DataFrame] = field(default_factory=dict)  # variant / baseline -> eval draw
    sweep: list[dict[str, Any]] = field(default_factory=list)  # one row per (variant, lr, epoch)
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)  # intervals and paired comparisons
    data_report: dict[str, Any] = field(default_factory=dict)
    data_counts: dict[str, Any] = field(default_factory=dict)
    wlen_ablation: dict[str, Any] = field(default_factory=dict)  # run_wlen_ablation

    def table(self, name: str) -> pd.DataFrame:
        """One long frame (with ``variant``) of ``by_source`` / ``by_w_len`` / ``by_length_fraction``."""
        parts = getattr(self, name)
        return pd.concat([df.assign(variant=v) for v, df in parts.items()], ignore_index=True)

    def history(self) -> pd.DataFrame:
        return pd.concat([h.assign(variant=v) for v, h in self.histories.items()], ignore_index=True)

    def sweep_table(self) -> pd.DataFrame:
        return pd.DataFrame(self.sweep)

    def best_variant(self) -> str:
        """The variant with the best *selection-set* F1 (the evaluation split chooses nothing)."""
        return max(self.stats, key=lambda v: self.stats[v]["selection"]["kept"]["score"])

    def result(self) -> Phase1Result:
        """What notebook 02 writes and the report reads (:class:`Phase1Result`)."""
        phase1 = {}
        for variant, metrics in self.metrics.items():
            phase1[variant] = {
                **metrics,
                "by_source": _records(self.by_source[variant], "source"),
                "by_w_len": _records(self.by_w_len[variant], "w_len_bin"),
                "by_length_fraction": _records(self.by_length_fraction[variant], "length_fraction"),
                "training": self.stats[variant],
            }
        return Phase1Result(
            profile=self.profile.name,
            phase1=phase1,
            phase1_baselines=self.baselines,
            phase1_evidence=self.evidence,
            phase1_sweep=self.sweep,
            phase1_data={"report": self.data_report, "counts": self.data_counts},
            models=models_section(self.profile),
            settings=settings_section(self.profile),
            wlen_ablation=self.wlen_ablation,
        )


def _records(frame: pd.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {str(row[key]): {k: v for k, v in row.items() if k != key} for row in frame.to_dict("records")}


# ====================================================================================================== run
def run_phase1(profile: Profile, variants=None) -> Phase1Run:
    """Train, select, evaluate and save every variant (``profile.anticipation.variants`` by default), then
    the baselines and the bootstrap evidence on the same evaluation prefixes.

    Learning rates: the plain variant of each backbone tries :func:`phase1_lr_candidates` and keeps the one
    whose best epoch scores highest on the selection set; its +biLSTM sibling reuses that rate (the sweep is
    paid once per backbone). A +biLSTM variant whose plain sibling is not run sweeps itself.
    """
    variants = tuple(variants or profile.anticipation.variants)
    for variant in variants:
        parse_variant(variant)
    data = load_phase1_data(profile)
    run = Phase1Run(
        profile=profile,
        data_report=data.report,
        data_counts={
            "train_sentences_available": len(data.train),
            "selection_sentences_available": len(data.selection),
            "val_sentences_available": len(data.val),
            "train_by_source_label": _counts(data.train),
            "selection_by_source_label": _counts(data.selection),
            "val_by_source_label": _counts(data.val),
        },
    )
    chosen_lr: dict[str, float] = {}
    memos = (
        MemoPool(profile.anticipation.frozen_layer_memo_mb)
        if profile.anticipation.frozen_layer_memo_mb
        else None
    )
    for variant in variants:
        kind, _ = parse_variant(variant)
        candidates = (chosen_lr[kind],) if kind in chosen_lr else phase1_lr_candidates(profile, variant)
        best = None
        sweep_seconds = 0.0
        for lr in candidates:
            print(f"[phase 1] {variant}: training at lr {lr:g}")
            model, tokenizer, history, stats = train_phase1(variant, profile, data, lr=lr, memos=memos)
            sweep_seconds += stats["train_seconds"]
            run.sweep.extend({"variant": variant, "lr": lr, **row} for row in stats["selection"]["epochs"])
            if best is None or stats["selection"]["kept"]["score"] > best[3]["selection"]["kept"]["score"]:
                best = (model, tokenizer, history, stats)
            else:
                del model
        model, tokenizer, history, stats = best
        stats["lr_candidates"] = list(candidates)
        stats["lr_chosen_by"] = (
            "selection-set F1 of this variant"
            if len(candidates) > 1
            else "the sweep of the plain variant"
            if kind in chosen_lr
            else f"the profile (one rate: {profile.anticipation.phase1.lr_source})"
            if profile.anticipation.phase1.lr_source
            else "the profile (one rate)"
        )
        chosen_lr.setdefault(kind, stats["lr"])
        stats["sweep_train_seconds"] = sweep_seconds
        for row in run.sweep:
            if row["variant"] == variant:
                row["kept"] = bool(row["lr"] == stats["lr"] and row["epoch"] == stats["epochs"])
        print(
            f"[phase 1] {variant}: evaluating (lr {stats['lr']:g}, epoch {stats['epochs']}, "
            f"threshold {stats['threshold']:.3f})"
        )
        with memos.context(model) if memos is not None else nullcontext():
            result = evaluate_phase1(model, tokenizer, profile, data.val, threshold=stats["threshold"])
        stats["eval_seconds"] = result["seconds"]
        save_checkpoint(model, tokenizer, checkpoint_dir(profile, 1, variant), stats)
        run.metrics[variant] = {"model_id": stats["model_id"], **result["metrics"]}
        run.stats[variant] = stats
        run.histories[variant] = history
        run.predictions[variant] = result["predictions"]
        for name in ("by_source", "by_w_len", "by_length_fraction"):
            getattr(run, name)[variant] = result[name]
        del model, best
    print("[phase 1] baselines and bootstrap intervals")
    evidence.phase1_baselines(run, data)
    evidence.phase1_evidence(run)
    if profile.anticipation.phase1.wlen_ablation:
        run_wlen_ablation(run, data, memos)
    return run


def run_wlen_ablation(run: Phase1Run, data: Phase1Data, memos: MemoPool | None = None) -> dict[str, Any]:
    """The seed's length weight w_len tested on the best variant: trained again with every prefix weighing 1
    (and with w_len, on ``phase1.wlen_ablation_sentences`` sentences when that is set; else the main run is
    that arm), at the variant's kept learning rate. The selection set says which weighting it would keep
    (higher F1; a tie keeps w_len); both arms are reported on every evaluation prefix with the paired interval
    of their F1 difference (at each arm's selection threshold)."""
    profile = run.profile
    variant = run.best_variant()
    limit = profile.anticipation.phase1.wlen_ablation_sentences
    arms: dict[str, dict[str, Any]] = {}
    for name, use_w_len in (("w_len", True), ("unweighted", False)):
        if use_w_len and limit is None:
            stats, rows = run.stats[variant], run.predictions[variant]
        else:
            print(f"[phase 1] {variant}: loss-weight ablation, {name}")
            model, tokenizer, _, stats = train_phase1(
                variant,
                profile,
                data,
                lr=run.stats[variant]["lr"],
                memos=memos,
                use_w_len=use_w_len,
                max_sentences=limit if limit is not None else "profile",
                curves=False,
            )
            with memos.context(model) if memos is not None else nullcontext():
                rows = evaluate_phase1(model, tokenizer, profile, data.val, stats["threshold"])["predictions"]
            del model
        arms[name] = {
            "selection_f1": float(stats["selection"]["kept"]["score"]),
            "threshold": float(stats["threshold"]),
            "epochs": int(stats["epochs"]),
            "train_sentences": int(stats["train_sentences"]),
            "train_seconds": float(stats["train_seconds"]),
            "rows": rows,
        }
    keep = "unweighted" if arms["unweighted"]["selection_f1"] > arms["w_len"]["selection_f1"] else "w_len"
    difference = evidence.paired_every_prefix(
        profile,
        (arms["unweighted"]["rows"], arms["unweighted"]["threshold"]),
        (arms["w_len"]["rows"], arms["w_len"]["threshold"]),
        f"{variant} unweighted",
        f"{variant} with w_len",
    )
    run.wlen_ablation = {
        "variant": variant,
        "description": "phase 1 of the best variant with the seed's w_len loss weight and with every prefix "
        "weighing 1, same sentences, learning rate and epochs",
        "arms": {name: {k: v for k, v in arm.items() if k != "rows"} for name, arm in arms.items()},
        "kept_by_selection": keep,
        "chosen_by": "selection-set F1 (a tie keeps w_len)",
        "unweighted_minus_w_len_f1": difference.to_json(),
    }
    return run.wlen_ablation


def _counts(frame: pd.DataFrame) -> dict[str, int]:
    return {
        f"{s}/{int(label)}": int(n) for (s, label), n in frame.groupby(["source", "label"]).size().items()
    }


# ======================================================================================== anticipation.json
def load_phase1_result(profile: Profile) -> Phase1Result:
    """The phase-1 result notebook 02 wrote for this profile; else
    :class:`hatespeech.results.UpstreamMissingError` saying to run notebook 02 first."""
    return require(profile, Phase1Result, by="notebook 03")[0]


def models_section(profile: Profile) -> dict[str, Any]:
    """Which backbone each variant used (tables name the model id, not only the variant)."""
    out = {"encoder_backbone": profile.models.encoder, "decoder_backbone": profile.models.decoder}
    for variant in profile.anticipation.variants:
        kind, _ = parse_variant(variant)
        out[variant] = profile.models.encoder if kind == "encoder" else profile.models.decoder
    return out


def settings_section(profile: Profile) -> dict[str, Any]:
    return {
        "anticipation": asdict(profile.anticipation),
        "phase1_sources": list(profile.data.phase1_sources),
        "phase1_max_rows_per_source": profile.data.phase1_max_rows_per_source,
    }
