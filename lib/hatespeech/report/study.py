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
from ..benchmark_types import QuantizedScoring, SpeedTarget
from ..dualhead.results import DualHeadResult, GridResult
from ..functional.results import FunctionalResult
from ..names import readable, stage_and_variant
from ..result_registry import read_results
from ..results import BenchmarkResult, Result
from .html import figure_label
from .prose import answer, limitations, model_card, model_card_row
from .prose import question as question_text
from .sections import get_section


# ================================================================================================ answers
def anticipate(phase1: Phase1Result, phase2: Phase2Result | None) -> str:
    ev = phase1.phase1_evidence
    best = ev.best_variant
    margin = ev.comparison("f1", best, "tfidf_logistic")
    text = answer(
        "anticipate",
        "main",
        opening=answer("anticipate", "yes" if margin.difference.low > 0 else "no"),
        best=best,
        f1=ev.intervals[best]["f1"].fmt(),
        tfidf=margin.b.fmt(3),
        difference=margin.difference.fmt(3),
        verdict=margin.verdict(),
    )
    if phase2 is not None:
        e = phase2.earliness.by_model.get(f"phase2:{phase2.best_phase2_variant}")
        if e is not None and e.detection_rate is not None:

            def ci(bounds):
                return f" [{bounds[0]:.0%}, {bounds[1]:.0%}]" if bounds else ""

            text += answer(
                "anticipate",
                "early",
                variant=phase2.best_phase2_variant,
                detection_rate=e.detection_rate,
                detection_ci=ci(e.detection_rate_ci),
                share_seen=e.share_seen_mean or 0,
                false_alarm_rate=e.false_alarm_rate,
                false_alarm_ci=ci(e.false_alarm_rate_ci),
                n_hateful=e.n_hateful,
                n_not_hateful=e.n_not_hateful,
            )
    return text


def best_variant(phase1: Phase1Result) -> str:
    ev = phase1.phase1_evidence
    best = ev.best_variant
    others = []
    for c in ev.comparisons_of("f1", best):
        other = c.name_b if c.name_a == best else c.name_a
        if "tfidf" not in other:  # the variants only; the baseline has its own line
            others.append(
                answer("variant", "other", other=other, difference=c.difference.fmt(3), verdict=c.verdict())
            )
    return answer("variant", "main", best=best, others="; ".join(others))


def phase2_adds(phase2: Phase2Result) -> str:
    ev = phase2.phase2_evidence
    best = ev.best_model or f"phase2:{phase2.best_phase2_variant}"
    variant = stage_and_variant(best)[1]
    parts = [
        answer(
            "phase2",
            "best",
            n_candidates=len(phase2.best_pool) or 1,
            best=best,
            mse=ev.intervals[best].fmt(4),
            n_units=ev.n_units,
        )
    ]
    if ev.phase1_adds is not None:
        c = ev.phase1_adds
        parts.append(answer("phase2", "phase1_adds", difference=c.difference.fmt(4), verdict=c.verdict()))
    for a, b, label in (
        (f"phase2:{variant}", f"phase1_only_corrected:{variant}", "phase-1 model alone (prior-corrected)"),
        (best, "constant:train_mean", "constant"),
        (best, "baseline:tfidf_ridge", "TF-IDF ridge"),
    ):
        c = ev.comparison("mse", a, b)
        if c is not None:
            parts.append(
                answer("phase2", "against", label=label, difference=c.difference.fmt(4), verdict=c.verdict())
            )
    return " ".join(parts)


def imagined(result: ContinuationResult) -> str:
    """The continuation estimator against the best phase-2 model and against its own scorer on the prefix."""
    key = result.key
    e = result.estimator
    parts = [
        answer(
            "imagined",
            "main",
            n_samples=e.n_samples,
            scorer=e.scorer_variant,
            calibrated=answer("imagined", "calibrated") if e.calibration else "",
            mse=result.intervals[key].fmt(4),
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
                parts.append(
                    answer(
                        "imagined",
                        "against",
                        what=what,
                        mse=c.b.fmt(4),
                        difference=c.difference.fmt(4),
                        verdict=verdict,
                    )
                )
    parts.append(answer("imagined", "cost", ms_per_prefix=1e3 * result.cost.seconds_per_prefix))
    return " ".join(parts)


def shared_vs_separate(dualhead: DualHeadResult) -> str:
    separate = dualhead.separate_models
    if separate.skipped:
        return answer("shared", "skipped", why=separate.skipped)
    verdict = separate.verdict  # macro-F1 per head (paired intervals when measured) and the cost of each
    return verdict[:1].upper() + verdict[1:] + ("" if verdict.endswith(".") else ".")


def focal(grid: GridResult) -> str:
    pick = grid.grid_pick
    vals = [c.val_macro_f1 for c in grid.grid if c.val_macro_f1 is not None]
    info = grid.grid_info
    return (
        answer(
            "focal",
            "main",
            gamma=pick.gamma,
            alpha=pick.alpha,
            val=pick.val_macro_f1,
            test=pick.test_macro_f1,
        )
        + (answer("focal", "spread", n=len(vals), low=min(vals), high=max(vals)) if vals else "")
        + (
            answer("focal", "trained", trained=info["each_cell_trained"])
            if info.get("each_cell_trained")
            else answer("focal", "mode", mode=info.get("mode", "?"))
        )
    )


def speed(bench: BenchmarkResult) -> str:
    t = bench.targets
    parts = []
    one = t.one_pass_vs_naive_throughput
    if one:
        parts.append(
            answer(
                "speed", "one_pass", words=one.words, ratio=one.ratio, target=one.target, verdict=_met(one)
            )
        )
    stream = t.stream_vs_rescore_latency
    if stream:
        parts.append(
            answer(
                "speed",
                "stream",
                ratio=stream.median_ratio,
                words=stream.words,
                target=stream.target,
                verdict=_met(stream),
            )
        )
    q = bench.quantized
    if q is not None and q.targets.int8_stream_vs_fp32_one_pass:
        parts.append(_int8_speed(q))
    if parts:
        sentences = t.stream_vs_rescore_latency.sentences if t.stream_vs_rescore_latency else None
        parts.append(
            answer("speed", "spread", sentences=sentences) if sentences else answer("speed", "no_spread")
        )
    return " ".join(parts) or answer("speed", "none")


def _met(target: SpeedTarget) -> str:
    return "met" if target.met else "missed"


def _int8_speed(q: QuantizedScoring) -> str:
    """The int8 scorer's sentence of the speed answer: against fp32 re-scoring and streaming, how much of
    the gain is the runtime's, what typing costs the recommended scorer, and for which variants it is
    offered."""
    int8, against_stream = q.targets.against_fp32("int8")
    text = answer("speed", "int8", ratio=int8.ratio, target=int8.target, verdict=_met(int8))
    if against_stream:
        text += answer(
            "speed",
            "int8_vs_stream",
            ratio=against_stream.ratio,
            target=against_stream.target,
            verdict=_met(against_stream),
        )
    split = q.stream_split
    if split:  # int8 runs in ONNX Runtime: say how much of the gain is the runtime's
        text += answer(
            "speed",
            "split",
            total=split.total.median,
            runtime=split.runtime.median,
            weights=split.int8.median,
        )
    by_mode = q.typing_at_longest("encoder+bilstm")
    if {"fp32", "int8"} <= set(by_mode):
        text += answer(
            "speed",
            "typing",
            words=by_mode["int8"].words,
            int8=by_mode["int8"].per_word_median_ms,
            fp32=by_mode["fp32"].per_word_median_ms,
        )
    offered = q.targets.int8_offered_for
    if offered is None:
        return text + answer("speed", "not_measured")
    variants = ", ".join(offered) if offered else "no variant"
    return text + answer("speed", "offered", variants=variants, largest=q.targets.int8_largest_mse_change)


def functional(result: FunctionalResult) -> str:
    best = result.best_system
    if best not in result.systems:
        return answer("functional", "missing")
    hateful = result.row(best, "label_gold", "hateful")
    other = result.row(best, "label_gold", "non-hateful")
    weakest = ", ".join(r.value for r in result.weakest(best))
    text = answer("functional", "scorer", best=best)
    if result.discrimination:
        measures = result.discriminating(best)
        text += answer(
            "functional",
            "ranks",
            auc=measures.text("auc"),
            balanced=measures.text("balanced_accuracy"),
        )
    text += answer("functional", "accuracy", hateful=hateful.accuracy, other=other.accuracy, weakest=weakest)
    if result.target:
        t = result.target
        verdict = "met by " + ", ".join(t.met_by) if t.met else "missed"
        text += answer("functional", "target", verdict=verdict)
        if t.highest_auc and t.highest_auc != best:
            strongest = result.discriminating(t.highest_auc)
            text += answer(
                "functional",
                "strongest",
                system=t.highest_auc,
                auc=strongest.text("auc"),
                balanced=strongest.text("balanced_accuracy"),
            )
    if result.remedy:
        r = result.remedy
        auc, balanced = r.auc, r.balanced_accuracy
        text += answer(
            "functional",
            "remedy",
            auc=auc.difference.fmt(2),
            auc_verdict=auc.verdict(),
            balanced=balanced.difference.fmt(2),
            balanced_verdict=balanced.verdict(),
            verdict="met" if r.target.met else "missed",
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
        # No catch here: a file of an older shape fails when it is read (ResultShapeError naming the file and
        # the field), so an error in an answer is a bug to see, not a sentence to print.
        out.append((question, question.answer(results)))
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
        rows.append(("Model", model_card_row("model", variant=phase2.best_phase2_variant, model_id=model_id)))
    if phase1 is not None:
        sources = ((phase1.phase1_data or {}).get("report") or {}).get("sources") or {}
        train = ", ".join(
            f"{name} {s['rows']:,} ({s['positives']:,} hateful)" for name, s in sources.items() if "rows" in s
        )
        rows.append(("Trained on", model_card_row("trained_on", train=train or "see the data section")))
    rows.append(("Intended use", model_card("intended_use")))
    rows.append(("Not for", model_card("not_for")))
    if func is not None and func.best_system in func.systems:
        best = func.best_system
        weakest = "; ".join(f"{r.value} ({r.accuracy:.2f})" for r in func.weakest(best))
        watched = [f"{name} {rate:.0%}" for name, rate in func.false_alarms(best).items()]
        fails = model_card_row("fails", weakest=weakest, watched=", ".join(watched))
        rows.append(("Where it fails (HateCheck)", fails))
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
