"""The report as a study: the first page answering the study's questions, the scorer's model card, the
limitations and how to reproduce, every number read from the typed results of the same build.

Each answer names its evidence (the comparison and interval it rests on) and the section where the tables
are; a question whose result did not run in this build says so instead of guessing. Over the ~500-line
guide (~530 lines), mostly the answers' wording: prose that belongs in template files (issue 27, not done).
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..anticipation.continuation_result import ContinuationResult
from ..anticipation.results import Phase1Result, Phase2Result
from ..dualhead.results import DualHeadResult, GridResult
from ..functional.results import FunctionalResult
from ..names import readable, stage_and_variant
from ..result_registry import read_results
from ..results import BenchmarkResult, Result
from .html import figure_label
from .prose import limitations, model_card
from .prose import question as question_text
from .sections import get_section


# ================================================================================================ answers
def anticipate(phase1: Phase1Result, phase2: Phase2Result | None) -> str:
    ev = phase1.phase1_evidence
    best = ev.best_variant
    margin = ev.comparison("f1", best, "tfidf_logistic")
    opening = (
        "Yes, beyond a TF-IDF baseline."
        if margin.difference.low > 0
        else "Not beyond what a TF-IDF baseline already does."
    )
    text = (
        f"{opening} The best phase-1 model ({best}, chosen on the selection set) reaches F1 "
        f"{ev.intervals[best]['f1'].fmt()} on every prefix of the evaluation sentences (each sentence "
        f"weighing 1) against {margin.b.fmt(3)} for TF-IDF on the same prefixes: difference "
        f"{margin.difference.fmt(3)}, {margin.verdict()}."
    )
    if phase2 is not None:
        key = f"phase2:{phase2.best_phase2_variant}"
        e = phase2.earliness.by_model.get(key)
        if e is not None and e.detection_rate is not None:

            def ci(bounds):
                return f" [{bounds[0]:.0%}, {bounds[1]:.0%}]" if bounds else ""

            text += (
                " How early: on the phase-2 test sentences the best phase-2 model "
                f"({phase2.best_phase2_variant}) flags {e.detection_rate:.0%}{ci(e.detection_rate_ci)} of "
                f"the hateful ones, after reading {e.share_seen_mean or 0:.0%} of the sentence on "
                f"average, and raises a false alarm on {e.false_alarm_rate:.0%}"
                f"{ci(e.false_alarm_rate_ci)} of the others ({e.n_hateful} and {e.n_not_hateful} "
                "sentences; 95% Wilson intervals)."
            )
    return text


def best_variant(phase1: Phase1Result) -> str:
    ev = phase1.phase1_evidence
    best = ev.best_variant
    others = []
    for c in ev.comparisons_of("f1", best):
        other = c.name_b if c.name_a == best else c.name_a
        if "tfidf" not in other:  # the variants only; the baseline has its own line
            others.append(f"vs {other} {c.difference.fmt(3)}, {c.verdict()}")
    return (
        f"{best} had the highest selection-set F1; against it on evaluation F1: " + "; ".join(others) + ". "
        "The seed ranked GPT-2 first and BERT last; our decoders train fewer layers on fewer sentences, so "
        "this is not a like-for-like test of that ranking."
    )


def phase2_adds(phase2: Phase2Result) -> str:
    ev = phase2.phase2_evidence
    best = ev.best_model or f"phase2:{phase2.best_phase2_variant}"
    variant = stage_and_variant(best)[1]
    parts = [
        (
            f"Best model on the held-out train sentences, among {len(phase2.best_pool) or 1} candidates "
            f"(with and without phase 1): {best}, test MSE {ev.intervals[best].fmt(4)} on "
            f"{ev.n_units} test sentences."
        )
    ]
    if ev.phase1_adds is not None:
        c = ev.phase1_adds
        parts.append(
            f"Phase 1 first, against the same variant without it: {c.difference.fmt(4)}, {c.verdict()}."
        )
    for a, b, label in (
        (f"phase2:{variant}", f"phase1_only_corrected:{variant}", "phase-1 model alone (prior-corrected)"),
        (best, "constant:train_mean", "constant"),
        (best, "baseline:tfidf_ridge", "TF-IDF ridge"),
    ):
        c = ev.comparison("mse", a, b)
        if c is not None:
            parts.append(f"Against the {label}: {c.difference.fmt(4)}, {c.verdict()}.")
    return " ".join(parts)


def imagined(result: ContinuationResult) -> str:
    """The continuation estimator against the best phase-2 model and against its own scorer on the prefix."""
    key = result.key
    e = result.estimator
    calibrated = " and calibrating each score" if e.calibration else ""
    parts = [
        (
            f"Sampling {e.n_samples} endings per prefix, scoring them with the phase-1 "
            f"{e.scorer_variant} model{calibrated} gives test MSE {result.intervals[key].fmt(4)} with no "
            "prefix label."
        )
    ]
    for name, what in (
        ("constant:", "the constant"),
        ("phase2:", "the best phase-2 model"),
        ("phase1_prefix_calibrated:", "the same classifier on the prefix alone, calibrated"),
        ("phase1_prefix:", "the same classifier on the prefix alone, raw"),
    ):
        for c in result.comparisons.values():
            if c.name_b.startswith(name):
                verdict = c.verdict().replace(key, "imagined endings").replace(c.name_b, what)
                parts.append(f"Against {what} ({c.b.fmt(4)}): {c.difference.fmt(4)}, {verdict}.")
    parts.append(f"It costs {1e3 * result.cost.seconds_per_prefix:.0f} ms per prefix on this machine.")
    return " ".join(parts)


def shared_vs_separate(dualhead: DualHeadResult) -> str:
    separate = dualhead.separate_models
    if separate.skipped:
        return f"Not measured: {separate.skipped}."
    verdict = separate.verdict  # macro-F1 per head (paired intervals when measured) and the cost of each
    return verdict[:1].upper() + verdict[1:] + ("" if verdict.endswith(".") else ".")


def focal(grid: GridResult) -> str:
    pick = grid.grid_pick
    vals = [c.val_macro_f1 for c in grid.grid if c.val_macro_f1 is not None]
    spread = (
        f" Validation macro-F1 across the {len(vals)} cells spans {min(vals):.3f}-{max(vals):.3f}."
        if vals
        else ""
    )
    return (
        f"gamma {pick.gamma:g}, alpha {pick.alpha:g}, picked on validation identity macro-F1 "
        f"({pick.val_macro_f1:.3f}; test {pick.test_macro_f1:.3f}; one training run per cell, so no "
        "interval: read the spread, not the pick's third decimal)."
        + spread
        + (
            f" Each cell trained {grid.grid_info['each_cell_trained']}."
            if grid.grid_info.get("each_cell_trained")
            else f" Mode: {grid.grid_info.get('mode', '?')}."
        )
    )


def speed(bench: BenchmarkResult) -> str:
    t = bench.targets
    parts = []
    one = t.one_pass_vs_naive_throughput
    if one:
        parts.append(
            f"One pass scores every prefix of a {one.words}-word sentence {one.ratio:.0f}x faster than "
            f"per-prefix batches (target {one.target:g}x: {'met' if one.met else 'missed'})."
        )
    stream = t.stream_vs_rescore_latency
    if stream:
        parts.append(
            f"Streaming a typed word costs {stream.median_ratio:.2f} of re-scoring the prefix at "
            f"{stream.words} words (target <= {stream.target:g}: "
            f"{'met' if stream.met else 'missed'})."
        )
    q = bench.quantized.get("targets", {})
    int8 = q.get("int8_stream_vs_fp32_one_pass")
    if int8:
        verdict = "met" if int8["met"] else "missed"
        text = (
            f"With the int8 scorer (ONNX Runtime) a streamed word costs {int8['ratio']:.2f} of fp32 "
            f"re-scoring (target <= "
            f"{int8['target']:g}: {verdict})"
        )
        against_stream = q.get("int8_stream_vs_fp32_stream")
        if against_stream:
            text += (
                f" and {against_stream['ratio']:.2f} of fp32 streaming (target <= "
                f"{against_stream['target']:g}: {'met' if against_stream['met'] else 'missed'})"
            )
        split = bench.quantized.get("stream_split")
        if split:  # int8 runs in ONNX Runtime: say how much of the gain is the runtime's
            total, runtime, weights = (split[k]["median"] for k in ("total", "runtime", "int8"))
            text += (
                f"; of its {total:.1f}x over PyTorch fp32 streaming, ONNX Runtime alone (fp32 weights) "
                f"gives {runtime:.1f}x and int8 {weights:.1f}x"
            )
        typing = bench.quantized.get("encoder_speed") or []
        longest = max((r["words"] for r in typing), default=None)
        by_mode = {r["mode"]: r for r in typing if r["variant"] == "encoder+bilstm" and r["words"] == longest}
        if {"fp32", "int8"} <= set(by_mode):
            text += (
                f"; the recommended encoder+bilstm scorer cannot stream and re-scores a {longest}-word "
                f"prefix per typed word in {by_mode['int8']['per_word_median_ms']:.0f} ms in int8 against "
                f"{by_mode['fp32']['per_word_median_ms']:.0f} ms in fp32"
            )
        offered = q.get("int8_offered_for")
        if offered is None:
            text += "; its accuracy cost was not measured."
        else:
            text += (
                f"; offered for {', '.join(offered) if offered else 'no variant'} (held-out phase-2 MSE "
                f"change within 0.001, the test set choosing nothing; on test it moves the MSE by up to "
                f"{q['int8_largest_mse_change']:.4f})."
            )
        parts.append(text)
    if parts:
        sentences = t.stream_vs_rescore_latency.sentences if t.stream_vs_rescore_latency else None
        parts.append(
            f"(One benchmark run on this machine, {sentences} sentences per length: ratios of medians; the "
            "findings give each ratio's 25th-75th percentiles over sentences, a spread, not an interval.)"
            if sentences
            else "(Ratios of medians from one benchmark run on this machine: no interval.)"
        )
    return " ".join(parts) or "No speed target measured."


def functional(result: FunctionalResult) -> str:
    best = result.best_system
    if best not in result.systems:
        return "The functional tests ran without the study's best phase-2 model."
    hateful = result.row(best, "label_gold", "hateful")
    other = result.row(best, "label_gold", "non-hateful")
    weakest = ", ".join(r.value for r in result.weakest(best))
    text = f"The anticipation scorer ({best}) "
    if result.discrimination:
        measures = result.discriminating(best)
        text += (
            f"ranks HateCheck's cases with ROC AUC {measures.text('auc')} and reaches "
            f"balanced accuracy {measures.text('balanced_accuracy')} at its held-out "
            "threshold: "
        )
    text += (
        f"{hateful.accuracy:.2f} of the hateful cases and {other.accuracy:.2f} of the non-hateful ones "
        f"right; weakest: {weakest}."
    )
    if result.target:
        t = result.target
        text += (
            f" Target (one own system with AUC >= 0.80 and balanced accuracy >= 0.70): "
            f"{'met by ' + ', '.join(t.met_by) if t.met else 'missed'}."
        )
    if result.remedy:
        r = result.remedy
        auc, balanced = r.auc, r.balanced_accuracy
        text += (
            f" Rehearsal, with minus without: AUC {auc.difference.fmt(2)} ({auc.verdict()}), balanced "
            f"accuracy {balanced.difference.fmt(2)} ({balanced.verdict()}) (target: both up, "
            f"{'met' if r.target.met else 'missed'})."
        )
    return text


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    needs: tuple[type[Result], ...]
    answer: Callable[..., str]
    section: str  # where the evidence is
    figures: tuple[tuple[str, str], ...] = ()  # (section, figure stem) that carry the answer


QUESTIONS: tuple[Question, ...] = (
    Question(
        "anticipate",
        question_text("anticipate"),
        (Phase1Result,),
        lambda r: anticipate(r[Phase1Result], r.get(Phase2Result)),
        "phase1",
        (
            ("phase1", "phase1_with_baselines"),
            ("phase1", "phase1_by_length_fraction"),
            ("phase2", "phase2_earliness"),
        ),
    ),
    Question(
        "variant",
        question_text("variant"),
        (Phase1Result,),
        lambda r: best_variant(r[Phase1Result]),
        "phase1",
        (("phase1", "phase1_with_baselines"),),
    ),
    Question(
        "phase2",
        question_text("phase2"),
        (Phase2Result,),
        lambda r: phase2_adds(r[Phase2Result]),
        "phase2",
        (("phase2", "phase2_mse"), ("phase2", "phase2_example_trajectories")),
    ),
    Question(
        "imagined",
        question_text("imagined"),
        (ContinuationResult,),
        lambda r: imagined(r[ContinuationResult]),
        "continuations",
        (("continuations", "continuation_trajectories"),),
    ),
    Question(
        "shared",
        question_text("shared"),
        (DualHeadResult,),
        lambda r: shared_vs_separate(r[DualHeadResult]),
        "dualhead",
        (("dualhead", "dualhead_shared_vs_separate"),),
    ),
    Question(
        "focal",
        question_text("focal"),
        (GridResult,),
        lambda r: focal(r[GridResult]),
        "grid",
        (("grid", "grid_focal_heatmap_val"),),
    ),
    Question(
        "speed",
        question_text("speed"),
        (BenchmarkResult,),
        lambda r: speed(r[BenchmarkResult]),
        "benchmarks",
        (("benchmarks", "bench_latency"),),
    ),
    Question(
        "functional",
        question_text("functional"),
        (FunctionalResult,),
        lambda r: functional(r[FunctionalResult]),
        "functional",
        (("functional", "functional_heatmap"), ("functional", "functional_forgetting")),
    ),
)


def answers(
    reports: Path | None = None, results: dict[type[Result], Result] | None = None
) -> list[tuple[Question, str]]:
    """(question, answer) pairs; an answer whose result is missing says which notebook would give it.
    ``results``: this build's results when the caller has read them already (:func:`read_results`)."""
    results = read_results(reports) if results is None else results
    out = []
    for question in QUESTIONS:
        missing = [cls for cls in question.needs if cls not in results]
        if missing:
            out.append((question, f"Not answered in this build: run {missing[0].NOTEBOOK}."))
            continue
        try:
            out.append((question, question.answer(results)))
        except (KeyError, TypeError, ValueError) as error:  # a file of an older shape
            out.append((question, f"Not answered: its result lacks what the answer reads ({error})."))
    return out


def evidence_figures(question: Question, reports: Path | None = None) -> list[str]:
    """The report's labels ("Figure phase1-2") of the figures an answer rests on that this build has."""
    labels = (figure_label(section, stem, reports) for section, stem in question.figures)
    return [label for label in labels if label]


def answers_html(reports: Path | None = None, results: dict[type[Result], Result] | None = None) -> str:
    items = []
    for q, a in answers(reports, results):
        figures = evidence_figures(q, reports)
        see = f"; {', '.join(figures)}" if figures else ""
        title = get_section(q.section).title
        items.append(
            f"<li><b>{_html.escape(q.text)}</b> {_html.escape(readable(a))} "
            f"<span class='hs-note'>(evidence: <a href='#sec-{q.section}'>"
            f"{_html.escape(title)}</a>{_html.escape(see)})</span></li>"
        )
    return f"<ol class='hs-answers'>{''.join(items)}</ol>"


# ============================================================================================ model card
def model_card_html(reports: Path | None = None) -> str:
    """Intended use and limits of the anticipation scorer, model-card style, from this build's results."""
    results = read_results(reports)
    phase1, phase2, func = results.get(Phase1Result), results.get(Phase2Result), results.get(FunctionalResult)
    rows = []
    if phase2 is not None:
        model = phase2.phase2.get(phase2.best_phase2_variant)
        model_id = model.model_id if model is not None and model.model_id else "?"
        rows.append(
            (
                "Model",
                (
                    f"{phase2.best_phase2_variant} ({model_id}), the phase-2 variant "
                    "with the lowest held-out MSE."
                ),
            )
        )
    if phase1 is not None:
        sources = ((phase1.phase1_data or {}).get("report") or {}).get("sources") or {}
        train = ", ".join(
            f"{name} {s['rows']:,} ({s['positives']:,} hateful)" for name, s in sources.items() if "rows" in s
        )
        rows.append(
            (
                "Trained on",
                (
                    f"phase 1: hate / not-hate sentences ({train or 'see the data section'}); "
                    "phase 2: every word-prefix of implicit-hate tweets with P(hateful | prefix) "
                    "labels from two passes of one large language model (not human annotators)."
                ),
            )
        )
    rows.append(("Intended use", model_card("intended_use")))
    rows.append(("Not for", model_card("not_for")))
    if func is not None and func.best_system in func.systems:
        best = func.best_system
        weakest = "; ".join(f"{r.value} ({r.accuracy:.2f})" for r in func.weakest(best))
        watched = [f"{name} {rate:.0%}" for name, rate in func.false_alarms(best).items()]
        rows.append(
            (
                "Where it fails (HateCheck)",
                (
                    f"weakest functionalities: {weakest}. Its alarm fires at "
                    f"some word on non-hateful {', '.join(watched)} of cases."
                ),
            )
        )
    rows.append(("Known limits", model_card("known_limits")))
    body = "".join(f"<tr><th>{_html.escape(k)}</th><td>{_html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table class='hs-card'>{body}</table>"


LIMITATIONS = tuple(limitations())  # prose.toml


def limitations_html() -> str:
    return "<ul>" + "".join(f"<li>{_html.escape(line)}</li>" for line in LIMITATIONS) + "</ul>"


def reproduce_html(report_stamp: dict | None = None) -> str:
    """The two commands, the data dir and how to fill it, the profiles, and this build's time (from the
    stamp)."""
    st = report_stamp or {}
    commit = st.get("git_commit") or "?"
    timings = st.get("notebook_wall_s") or {}
    seconds = [v.get("seconds") if isinstance(v, dict) else v for v in timings.values()]
    total = sum(x for x in seconds if isinstance(x, (int, float)))
    hw = st.get("hardware") or {}
    took = (
        f" This build (profile {st.get('profile', '?')}) took {total / 60:.0f} min for {len(seconds)} "
        "notebooks "
        f"on {hw.get('cpu', '?')} ({hw.get('cpu_count', '?')} cores, GPU: {hw.get('gpu') or 'none'})."
        if total
        else ""
    )
    return (
        "<ol><li><b>Get the code</b> at commit <code>" + _html.escape(str(commit)[:12]) + "</code>.</li>"
        "<li><b>Fill the data dir</b>: the corpora are read from <code>$HATESPEECH_DATA_DIR</code>, else "
        "<code>../shared/data</code> beside the repository; it holds one folder per corpus with the "
        "original files, as listed (with source commits and licences) in its <code>SOURCES.md</code>. "
        "Nothing of it is committed.</li>"
        "<li><b>Build</b>: <code>./run_all.sh --profile cpu</code> rebuilds every notebook, metric, figure "
        "and this report (<code>--profile gpu</code> runs the seeds' bert-base-uncased and gpt2 where a "
        "model hub "
        "or a filled cache is reachable; <code>--profile smoke</code> checks the pipeline in minutes); "
        "<code>./run_tests.sh</code> runs the tests.</li></ol><p>"
        + _html.escape(took)
        + " The stamp at the end of the appendix names the hardware, package versions and the checksum of "
        "every data file used.</p>"
    )
