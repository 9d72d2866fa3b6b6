"""The report's method table (the seeds' choices beside this study's, read from the profile) and the seeds'
claims, both seeds, each with what this build found and whether the two compare."""

from __future__ import annotations

import html as _html
from dataclasses import dataclass
from pathlib import Path

from ..anticipation.results import Phase1Result, Phase2Result
from ..config import describe_model
from ..dualhead.results import DualHeadResult, GridResult
from ..names import display_name, readable
from ..references import SEED_PHASE1
from ..result_registry import read_results


def method_html(profile) -> str:
    """One row per model and loss: the seed's choice beside ours (ours read from the profile)."""
    a, d, m, t = profile.anticipation, profile.dualhead, profile.models, profile.detector
    layers = {None: "all"}
    lambdas = ", ".join(f"{x:g}" for x in (d.focal_lambda_candidates or (d.focal_lambda,)))
    swept = any(len(c or ()) > 1 for c in (a.phase1.encoder_lr_candidates, a.phase1.decoder_lr_candidates))
    rows = [
        (
            "Anticipation backbones",
            "bert-base-uncased, gpt2; every layer trained",
            (
                f"{describe_model(m.encoder)} (encoders); {describe_model(m.decoder)} (decoders); encoder "
                "layers trained: "
                f"{layers.get(a.encoder_trainable_layers, a.encoder_trainable_layers)}, decoder: "
                f"{layers.get(a.decoder_trainable_layers, a.decoder_trainable_layers)} (top)"
            ),
        ),
        (
            "Phase 1 loss",
            "BCE on random prefixes, scaled by w_len = len(prefix) / len(sentence)",
            (
                "the same, with positives weighted by the class ratio; the decoders score every prefix of a "
                f"sentence in one pass; train sentences: "
                f"{'all' if a.phase1.max_train_samples is None else f'{a.phase1.max_train_samples:,}'} "
                f"(encoders, up to {a.phase1.epochs} epoch(s)), "
                + (
                    f"{a.phase1.decoder_max_train_samples:,}"
                    if a.phase1.decoder_max_train_samples is not None
                    else "the same"
                )
                + f" (decoders, up to {a.phase1.decoder_epochs or a.phase1.epochs} epoch(s)); epoch, "
                + (
                    "learning rate and threshold chosen on every prefix of a selection set"
                    if swept
                    else "threshold chosen on every prefix of a selection set; learning rate from "
                    f"{a.phase1.lr_source}"
                    if a.phase1.lr_source
                    else "threshold chosen on every prefix of a selection set; one configured learning rate"
                )
                + ("; the best variant also trained without w_len" if a.phase1.wlen_ablation else "")
            ),
        ),
        (
            "Phase 2 loss",
            "weighted MSE, w = 0.8·C·y + 0.2·w_len",
            (
                f"the same (C = {a.phase2.C:g}), divided by a fixed normaliser so every variant optimises "
                f"one objective; top {layers.get(a.phase2.trainable_layers, a.phase2.trainable_layers)} "
                f"layer(s) trained, up to {a.phase2.epochs} epochs, epoch chosen on held-out sentences; "
                f"rehearsal shares {', '.join(f'{x:g}' for x in a.phase2.rehearsal_shares) or 'none'} tried; "
                "C among "
                + ", ".join("unweighted" if c is None else f"{c:g}" for c in a.phase2.C_candidates)
                + " on the best variant, chosen on held-out sentences"
            ),
        ),
        (
            "Dual head",
            "BERT, head_n pos-weighted BCE, head_i focal loss; Jigsaw data",
            (
                f"{describe_model(m.encoder)}; the same losses, joint loss BCE + lambda · focal with lambda "
                "chosen on "
                f"validation among {lambdas}; "
                "ToxiGen + OLID offline; unannotated labels masked"
            ),
        ),
        (
            "Focal grid",
            "gamma x alpha swapped at test time only",
            _grid_method(d) + "; the pick made on validation",
        ),
        (
            "Whole-sentence detector (HateCheck)",
            "none",
            (
                f"{describe_model(m.encoder)} fine-tuned on whole sentences of "
                f"{', '.join(t.sources)} ("
                + ("every row" if t.max_rows_per_source is None else f"{t.max_rows_per_source:,} per corpus")
                + f"), pos-weighted BCE, {t.epochs:g} epoch(s), settings fixed before it was first scored; "
                f"threshold for F1 on its own {t.selection_fraction:.0%} selection split"
            ),
        ),
    ]
    body = "".join(
        f"<tr><th>{_html.escape(k)}</th><td>{_html.escape(seed)}</td><td>{_html.escape(ours)}</td></tr>"
        for k, seed, ours in rows
    )
    return (
        f"<table class='hs-card'><tr><th></th><th>seed</th><th>this study (profile {profile.name})</th></tr>"
        f"{body}</table>"
    )


def _grid_method(d) -> str:
    """What every focal-grid cell trains in this profile, in words."""
    rows = f"{d.grid.max_train_rows:,} train rows" if d.grid.max_train_rows else "every train row"
    if d.grid.mode == "top_layers":
        return (
            f"every cell trains the top {d.grid.trainable_layers} encoder layer(s) and both heads from the "
            f"pretrained weights ({d.grid.epochs:g} epoch(s), {rows}) at notebook 04's lambda"
        )
    if d.grid.mode == "finetune":
        return (
            f"every cell fine-tunes every layer and both heads ({d.grid.epochs:g} epoch(s)) at notebook 04's "
            "lambda"
        )
    return (
        "every cell trains a fresh identity head on frozen features (a linear probe, "
        f"{d.grid.epochs:g} epochs)"
    )


@dataclass(frozen=True)
class SeedClaim:
    """One claim of a seed project: what the seed said, what this build found, and whether they compare."""

    seed: str
    claim: str
    found: str
    verdict: str  # "reproduced" | "not reproduced" | "no clear difference" | "not measured"
    comparable: str


ANTICIPATION = "Anticipation"
DUALHEAD = "DualHeadBERT"


def _phase1_ranking(phase1: Phase1Result) -> SeedClaim:
    ev = phase1.phase1_evidence
    intervals = ev.intervals
    found = [
        f"{display_name(v)} F1 {intervals[v]['f1'].fmt(2)} (seed {s['f1']:.2f})"
        for v, s in SEED_PHASE1.items()
        if v in intervals
    ]
    c = ev.comparison("f1", "decoder", "encoder")
    verdict = "not measured"
    if c is not None:
        found.append(f"decoder minus encoder {c.difference.fmt(3)}")
        verdict = {"decoder better": "reproduced", "encoder better": "not reproduced"}.get(
            c.verdict().split(" than")[0], "no clear difference"
        )
    return SeedClaim(
        ANTICIPATION,
        "Phase 1: GPT-2 classifies prefixes best (F1 0.74), then BERT + biLSTM (0.62), then BERT (0.58).",
        "; ".join(found) + ".",
        verdict,
        "No: other data and class balance, smaller offline models, the decoders' lower layers frozen.",
    )


def _phase2_ranking(phase2: Phase2Result) -> SeedClaim:
    comparisons = phase2.phase2_evidence.comparisons.values()
    against = [c for c in comparisons if c.name_a == "phase2:encoder" and c.name_b.startswith("phase2:")]
    wins = [c for c in against if c.verdict().startswith("phase2:encoder better")]
    losses = [c for c in against if c.verdict().endswith("better than phase2:encoder")]
    verdict = (
        "reproduced"
        if against and len(wins) == len(against)
        else "not reproduced"
        if losses
        else ("no clear difference" if against else "not measured")
    )
    found = "; ".join(f"encoder minus {display_name(c.name_b)} {c.difference.fmt(4)}" for c in against)
    return SeedClaim(
        ANTICIPATION,
        "Phase 2: plain BERT reaches the lowest test MSE.",
        (found or "not measured") + ".",
        verdict,
        "Partly: the same loss and kind of labels, but LLM-made labels on other tweets.",
    )


def _loss_weights(phase1: Phase1Result | None, phase2: Phase2Result | None) -> SeedClaim | None:
    found, verdicts = [], []
    if phase1 is not None and phase1.wlen_ablation is not None:
        c = phase1.wlen_ablation.unweighted_minus_w_len_f1
        found.append(f"phase 1 without w_len minus with it, F1 {c.difference.fmt(3)} ({c.verdict()})")
        verdicts.append(
            "not reproduced" if c.difference.low > 0 else "reproduced" if c.difference.high < 0 else ""
        )
    weights = phase2.loss_weights if phase2 is not None else None
    if weights is not None:
        c = weights.lowest_minus_default_held_out
        found.append(
            f"phase 2, {c.name_a} minus the default C = 1 on held-out MSE {c.difference.fmt(4)} "
            f"(kept: {weights.chosen})"
        )
        verdicts.append("not reproduced" if c.verdict().startswith(c.name_a + " better") else "")
    if not found:
        return None
    verdict = (
        "not reproduced"
        if "not reproduced" in verdicts
        else (
            "reproduced" if verdicts and all(v == "reproduced" for v in verdicts) else "no clear difference"
        )
    )
    return SeedClaim(
        ANTICIPATION,
        "The loss weights help: w_len in phase 1, w = 0.8·C·y + 0.2·w_len in phase 2.",
        readable("; ".join(found)) + ".",
        verdict,
        "Yes in kind: the same weights on our data, chosen on held-out sentences.",
    )


def _threshold_tuning(dualhead: DualHeadResult) -> SeedClaim:
    found, better = [], []
    for head in ("head_n", "head_i"):
        metrics = getattr(dualhead, head)
        interval, at_half = metrics.macro_f1_interval, metrics.macro_f1_at_half
        if interval and at_half is not None:
            found.append(f"{display_name(head)} test macro-F1 {interval.fmt(3)} tuned, {at_half:.3f} at 0.5")
            better.append(at_half < interval.low)
    verdict = "reproduced" if better and all(better) else "no clear difference" if better else "not measured"
    return SeedClaim(
        DUALHEAD,
        "Per-class thresholds tuned on validation beat the fixed 0.5.",
        "; ".join(found) + " (the 0.5 value outside the tuned interval counts as reproduced).",
        verdict,
        "Yes in kind: the seed's threshold grid, on ToxiGen + OLID instead of Jigsaw.",
    )


def _focal(grid: GridResult) -> SeedClaim:
    pair = grid.best_bce_and_focal()
    if pair is None:
        return SeedClaim(
            DUALHEAD, "Focal loss helps the rare identity labels.", "no gamma = 0 cell.", "not measured", ""
        )
    best_bce, best_focal = pair
    ahead = best_focal.val_macro_f1 > best_bce.val_macro_f1
    return SeedClaim(
        DUALHEAD,
        "Focal loss helps the rare identity labels.",
        (
            f"best focal cell (gamma {best_focal.gamma:g}, alpha {best_focal.alpha:g}) validation "
            f"macro-F1 {best_focal.val_macro_f1:.3f} (test {best_focal.test_macro_f1:.3f}) against the "
            f"best plain-BCE cell (gamma 0, alpha {best_bce.alpha:g}) "
            f"{best_bce.val_macro_f1:.3f} (test "
            f"{best_bce.test_macro_f1:.3f}); one run per cell, no interval."
        ),
        "ahead on validation, not tested" if ahead else "not reproduced",
        "Partly: a cpu-sized grid (one layer trained, 1,500 rows per cell), ToxiGen + OLID labels.",
    )


def seed_claims(reports: Path | None = None) -> list[SeedClaim]:
    """Every claim of both seeds this build can check, in the order of the report."""
    results = read_results(reports)
    phase1, phase2 = results.get(Phase1Result), results.get(Phase2Result)
    claims: list[SeedClaim | None] = []
    if phase1 is not None:
        claims.append(_phase1_ranking(phase1))
    if phase2 is not None:
        claims.append(_phase2_ranking(phase2))
    claims.append(_loss_weights(phase1, phase2))
    if DualHeadResult in results:
        claims.append(_threshold_tuning(results[DualHeadResult]))
    if GridResult in results:
        claims.append(_focal(results[GridResult]))
    return [c for c in claims if c is not None]


def seed_claims_html(reports: Path | None = None) -> str:
    claims = seed_claims(reports)
    if not claims:
        return "<p class='hs-missing'>No seed claim could be checked in this build.</p>"
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{_html.escape(x)}</td>" for x in (c.seed, c.claim, c.found, c.verdict, c.comparable))
        + "</tr>"
        for c in claims
    )
    return (
        "<table class='hs-card'><tr><th>seed</th><th>claim</th><th>this build</th><th>verdict</th>"
        f"<th>comparable?</th></tr>{rows}</table>"
    )
