"""The few plain sentences at the top of each section: what the numbers say, with their verdicts.

HTML fragments (one per bullet); the numbers come from the section's metrics JSON, read under the exact key
its writer uses. The anticipation findings are not written here: they come from
:func:`hatespeech.anticipation.evidence.phase1_findings` and
:func:`~hatespeech.anticipation.evidence.phase2_findings`, the functions notebooks 02 and 03 show, so a
verdict is worded in one place.
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable
from typing import Any

from ..references import PUBLISHED_BIAS
from .sections import load_metrics
from .tables import fmt_number, value_at


def _summary_data(payload) -> list[str]:
    sources = payload.get("sources") or {}
    raw = sum(value_at(s, "rows_raw", default=0) or 0 for s in sources.values())
    kept = sum(value_at(s, "rows_kept", default=0) or 0 for s in sources.values())
    reasons: dict[str, int] = {}
    for s in sources.values():
        for reason, n in (value_at(s, "filtered", default={}) or {}).items():
            reasons[reason] = reasons.get(reason, 0) + (n or 0)
    filtered = ", ".join(
        f"{r}: {fmt_number(n)}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]) if n
    )
    return [
        f"{len(sources)} sources, {fmt_number(raw)} rows read, {fmt_number(kept)} kept"
        + (f"; filtered on purpose: {filtered}." if filtered else "; no row filtered.")
    ]


def _findings(
    payload: dict[str, Any],
    evidence_key: str,
    findings: Callable[[dict], list[str]],
    missing: str,
    context: tuple[str, ...] = (),
) -> list[str]:
    """The generated findings of an anticipation notebook and their ``context`` (escaped), or only ``missing``
    when the payload has no ``evidence_key`` (an older build)."""
    if evidence_key not in payload:
        return [missing]
    return [_html.escape(line) for line in [*findings(payload), *context]]


def _summary_phase1(payload) -> list[str]:
    """The generated findings of notebook 02 (baselines, intervals, verdicts), and the seed as context."""
    # inside: hatespeech.anticipation imports torch, which rendering a report without anticipation never needs
    from ..anticipation.evidence import phase1_findings
    from ..anticipation.phase1 import SEED_CONTEXT_NOTE

    capacity = decoder_capacity_line(load_metrics("decoder_capacity.json"), payload)
    return _findings(
        payload,
        "phase1_evidence",
        phase1_findings,
        "This build's phase-1 results carry no baselines or intervals: re-run notebook 02.",
        context=(SEED_CONTEXT_NOTE, *([capacity] if capacity else [])),
    )


def decoder_capacity_line(capacity: dict[str, Any] | None, phase1_payload: dict[str, Any]) -> str | None:
    """How the decoders train, and why: the equal-time comparison of ``benchmarks/decoder_capacity.py``
    (every layer vs LoRA vs the top two blocks), beside what this build's decoder actually trained."""
    if not capacity:
        return None
    reference = capacity["equal_time_seconds"]
    rows = [r for r in capacity["rows"] if r["budget"] == "equal time" or r["train_seconds"] == reference]
    rows.sort(key=lambda r: -r["selection_f1"])
    shown = "; ".join(
        f"{r['mode']} {r['selection_f1']:.3f} on {r['train_sentences']} sentences" for r in rows
    )
    trained = (phase1_payload.get("phase1") or {}).get("decoder", {}).get("training", {})
    layers = trained.get("trainable_layers", "?")
    layers_text = "every layer" if layers is None else f"the top {layers} blocks"
    return (
        f"Decoder capacity (benchmarks/decoder_capacity.py, one seed, every mode given the same "
        f"{reference:.0f} s of training): selection F1 {shown}. Best at equal time: "
        f"{capacity['best_at_equal_time']} (+{capacity['margin_at_equal_time']:.3f} over the runner-up; "
        f"with one seed, differences of a few hundredths are within noise). This build's decoders trained "
        f"{layers_text}."
    )


def _summary_phase2(payload) -> list[str]:
    """The generated findings of notebook 03 and the annotators' agreement (two LLM passes, no ceiling)."""
    from ..anticipation.evidence import phase2_findings  # inside: see _summary_phase1

    lines = _findings(
        payload,
        "phase2_evidence",
        phase2_findings,
        "This build's phase-2 results carry no intervals: re-run notebook 03.",
    )
    agreement = (payload.get("annotator_agreement") or {}).get("test") or {}
    if value_at(agreement, "mse") is not None:
        # The same caveat as the "note" that hatespeech.anticipation.annotator_agreement writes, shortened.
        lines.append(
            f"The two annotation passes differ by MSE {fmt_number(agreement['mse'])} on the test prefixes; "
            "both are readings by one large language model, so this is not a human ceiling."
        )
    return lines


def _bias_line(bias: dict[str, Any]) -> str:
    """The Jigsaw bias score beside the published numbers, from :func:`hatespeech.metrics.bias.bias_json`
    (``final_x100`` is null when no subgroup could be scored)."""
    final = bias["final_x100"]
    if final is not None:
        published = ", ".join(f"{k} {v}" for k, v in PUBLISHED_BIAS.items())
        return (
            f"Jigsaw bias score (0.25 overall AUC + 0.75 mean of subgroup/BPSN/BNSP power means), "
            f"as a percentage: <b>{fmt_number(final)}</b>. Published: {published}. "
            + (
                "Same data family as the published numbers."
                if bias["comparable_with_reference"]
                else "<b>Not comparable</b>: this run's data is not the Jigsaw Unintended Bias set."
            )
        )
    names = list(bias["skipped_subgroups"])
    shown = ", ".join(map(str, names[:8])) + (", …" if len(names) > 8 else "")
    skipped = (
        f": {len(names)} subgroups skipped (too few members or a single class; reasons in "
        f"the metrics JSON): {_html.escape(shown)}"
        if names
        else ""
    )
    return "Jigsaw bias score <b>not computed</b> in this run" + skipped + "."


def _summary_dualhead(payload) -> list[str]:
    lines = []
    n, i = payload.get("head_n") or {}, payload.get("head_i") or {}
    if value_at(n, "macro_f1") is not None or value_at(i, "macro_f1") is not None:
        lines.append(
            f"Macro-F1 on test: toxicity-type head {fmt_number(value_at(n, 'macro_f1', default='–'))}, "
            f"identity head {fmt_number(value_at(i, 'macro_f1', default='–'))}."
        )
    choice = payload.get("focal_lambda_choice") or {}
    rows = [r for r in choice.get("table") or [] if isinstance(r, dict) and "val_macro_f1_mean" in r]
    if rows and value_at(choice, "picked") is not None:
        others = "; ".join(
            f"lambda {fmt_number(r['lambda'])}: {fmt_number(r['val_macro_f1_mean'])}"
            for r in rows
            if r["lambda"] != choice["picked"]
        )
        picked = next((r for r in rows if r["lambda"] == choice["picked"]), rows[0])
        lines.append(
            f"Focal weight picked on validation: <b>lambda {fmt_number(choice['picked'])}</b> (mean "
            f"validation macro-F1 of the two heads {fmt_number(picked['val_macro_f1_mean'])}"
            + (f"; {others}" if others else "")
            + ")."
        )
    bias = payload.get("bias") or {}
    if bias:
        lines.append(_bias_line(bias))
    return lines


def _summary_grid(payload) -> list[str]:
    grid = [c for c in payload.get("grid") or [] if isinstance(c, dict)]
    scored = [c for c in grid if value_at(c, "val_macro_f1") is not None]
    if not scored:
        return []
    best = max(scored, key=lambda c: c["val_macro_f1"])
    tests = {round(float(c["test_macro_f1"]), 6) for c in grid if value_at(c, "test_macro_f1") is not None}
    return [
        (
            f"{len(grid)} cells trained. Picked on validation: gamma {fmt_number(best.get('gamma'))}, alpha "
            f"{fmt_number(best.get('alpha'))} (validation identity macro-F1 "
            f"{fmt_number(best['val_macro_f1'])}, "
            f"test {fmt_number(value_at(best, 'test_macro_f1', default='–'))}); {len(tests)} distinct test "
            "scores across cells."
        )
    ]


def _summary_benchmarks(payload) -> list[str]:
    """Each speed target with its measured ratio and a plain met / missed, and the floor that explains a
    miss."""
    targets = payload.get("targets") or {}
    lines = []

    def verdict(target) -> str:
        return ": met)." if target.get("met") else ": <b>missed</b>)."

    one = targets.get("one_pass_vs_naive_throughput") or {}
    if value_at(one, "ratio") is not None:
        lines.append(
            f"Decoder one pass vs naive per-prefix batches at {one.get('words')} words: "
            f"<b>{one['ratio']:.1f}x</b> the throughput (target ≥ {one.get('target', 8.0):g}x" + verdict(one)
        )
    stream = targets.get("stream_vs_rescore_latency") or {}
    if value_at(stream, "last_word_ratio") is not None:
        lines.append(
            "Streaming (cached keys/values) vs re-scoring the whole prefix, per word at "
            f"{stream.get('words')} words: last word <b>{stream['last_word_ratio']:.3f}</b>, median over the "
            f"sentence {fmt_number(value_at(stream, 'median_ratio', default='–'))} "
            f"(target ≤ {stream.get('target', 0.2):g}" + verdict(stream)
        )
    floor, nan = payload.get("decoder_forward_floor") or {}, float("nan")
    if value_at(floor, "ratio") is not None:
        lines.append(
            f"Why streaming has a floor on this CPU: one decoder forward over a single new token takes "
            f"{floor.get('one_token_ms', nan):.0f} ms against {floor.get('all_tokens_ms', nan):.0f} ms for "
            f"all {floor.get('tokens')} tokens (ratio {floor['ratio']:.3f}), because every forward reads all "
            f"{floor.get('weights_mb', nan):.0f} MB of fp32 weights whatever the number of new tokens; a "
            "streaming update cannot be cheaper than that one-token forward."
        )
    if "equivalence_met" in targets:
        diffs = targets.get("equivalence_max_abs_diff") or {}
        worst = max((v for v in diffs.values() if isinstance(v, (int, float))), default=None)
        lines.append(
            "Every fast path gives the naive path's probabilities"
            + (f" (max |difference| {worst:.1e}, bound 1e-4)" if worst is not None else "")
            + (": yes." if targets["equivalence_met"] else ": <b>no</b>.")
        )
    return lines


SUMMARIES = {
    "benchmarks": _summary_benchmarks,
    "data": _summary_data,
    "phase1": _summary_phase1,
    "phase2": _summary_phase2,
    "dualhead": _summary_dualhead,
    "grid": _summary_grid,
}
