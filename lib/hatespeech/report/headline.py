"""Page 1's evidence at a glance: the headline paired comparisons (:func:`headline_comparisons`), drawn as one
forest plot (:func:`forest_figure`), and every shortfall of the build (:func:`shortfalls`): each target not
met and each comparison a baseline wins, found by walking the results rather than listed by hand, so a new
target or a new baseline row shows up without a change here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..anticipation.continuation_result import ContinuationResult
from ..anticipation.results import Phase1Result, Phase2Result
from ..dualhead.results import DualHeadResult
from ..functional.results import FunctionalResult
from ..metrics.bootstrap import PairedDifference
from ..names import display_name
from ..results import Result

#: Ids of systems that are yardsticks, not the study's models: a comparison they win is a shortfall.
BASELINE_PREFIXES = ("baseline:", "constant:", "majority", "tfidf", "reference:")


def is_baseline(system_id: str) -> bool:
    return system_id.startswith(BASELINE_PREFIXES)


@dataclass(frozen=True)
class Headline:
    """One headline comparison: which question it answers, on which metric, and the paired difference."""

    question: str
    metric: str
    comparison: PairedDifference

    @property
    def label(self) -> str:
        return f"{display_name(self.comparison.name_a)} − {display_name(self.comparison.name_b)}"

    @property
    def oriented(self) -> tuple[float, float, float]:
        """(estimate, low, high) signed so that > 0 means the first-named system is better."""
        d = self.comparison.difference
        sign = 1.0 if self.comparison.higher_is_better else -1.0
        low, high = sorted((sign * d.low, sign * d.high))
        return sign * d.estimate, low, high

    @property
    def verdict(self) -> str:
        """ "first better", "second better" or "no clear difference"."""
        _, low, high = self.oriented
        return "first better" if low > 0 else "second better" if high < 0 else "no clear difference"


def headline_comparisons(results: dict[type[Result], Result]) -> list[Headline]:
    """The comparisons page 1's answers rest on, one per (question, metric), from whichever results ran."""
    out: list[tuple[str, str, PairedDifference | None]] = []
    phase1 = results.get(Phase1Result)
    if phase1 is not None:
        ev = phase1.phase1_evidence
        out.append(("1 anticipation", "F1", ev.comparison("f1", ev.best_variant, "tfidf_logistic")))
        out.append(("2 seed's ranking", "F1", ev.comparison("f1", "decoder", "encoder")))
    phase2 = results.get(Phase2Result)
    if phase2 is not None:
        ev = phase2.phase2_evidence
        best = ev.best_model or f"phase2:{phase2.best_phase2_variant}"
        out.append(("3 phase 2", "MSE", ev.comparison("mse", best, "baseline:tfidf_ridge")))
        out.append(("3 phase 2", "MSE", ev.comparison("mse", best, "constant:train_mean")))
        out.append(("3 phase 2", "MSE", ev.phase1_adds))
    endings = results.get(ContinuationResult)
    if endings is not None:
        for cmp in endings.comparisons.values():
            if cmp.name_b.startswith(("constant:", "phase2:")):
                out.append(("4 imagined endings", "MSE", cmp))
    dualhead = results.get(DualHeadResult)
    if dualhead is not None:
        for head, baseline in (dualhead.baselines.heads if dualhead.baselines else {}).items():
            out.append((f"5 dual head ({display_name(head)})", "macro-F1", baseline.model_minus_baseline))
        for head, paired in (dualhead.separate_models.paired_shared_minus_separate or {}).items():
            out.append((f"5 dual head ({display_name(head)})", "macro-F1", paired))
    functional = results.get(FunctionalResult)
    if functional is not None and functional.remedy is not None:
        out.append(("8 HateCheck", "AUC", functional.remedy.auc))
        forgetting = functional.forgetting.get(functional.remedy.variant)
        if forgetting is not None:
            out.append(("8 HateCheck", "AUC", forgetting.auc))
    return [Headline(q, m, c) for q, m, c in out if c is not None]


# ============================================================================================ shortfalls
def _walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict]]:
    if isinstance(value, dict):
        yield path, value
        for key, inner in value.items():
            yield from _walk(inner, (*path, str(key)))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _walk(inner, (*path, str(i)))


def _payload(result: Result) -> dict[str, Any]:
    return {name: value for name, value in result.to_json().items() if name != "profile"}


def _is_paired(d: dict) -> bool:
    return {"a", "b", "difference", "name_a", "name_b", "higher_is_better"} <= d.keys()


def targets(results: dict[type[Result], Result]) -> list[tuple[str, bool]]:
    """(what, met) for every target a result declares: a dict with ``target`` and a boolean ``met``."""
    found = {}
    for result in results.values():
        for path, d in _walk(_payload(result)):
            if not isinstance(d.get("met"), bool) or "target" not in d:
                continue
            target = d["target"]
            if isinstance(target, str):
                text = target
            else:  # a numeric target beside its measured ratio (the benchmarks)
                measured = d.get("ratio", d.get("median_ratio"))
                name = path[-1].replace("_", " ") if path else "target"
                text = f"{name}: {measured:.2f} against {target:g}" if measured is not None else name
            found.setdefault(text[:1].upper() + text[1:], d["met"])
    return list(found.items())


def missed_targets(results: dict[type[Result], Result]) -> list[str]:
    """Every declared target this build did not meet."""
    return [f"{text}: missed." for text, met in targets(results) if not met]


def baseline_wins(results: dict[type[Result], Result]) -> list[str]:
    """Every paired comparison of a study system with a baseline that the baseline wins."""
    lines = []
    for result in results.values():
        for path, d in _walk(_payload(result)):
            if not _is_paired(d):
                continue
            c = PairedDifference.from_json(d)
            system, other = c.name_a, c.name_b
            if is_baseline(system) == is_baseline(other):
                continue
            if is_baseline(system):
                system, other = other, system
            verdict = c.verdict()
            if verdict.startswith(other + " better"):
                metric = path[-1] if path[-1] not in ("model_minus_baseline", "difference") else path[-2]
                metric = metric.split(":")[0].replace("_", " ")
                lines.append(
                    f"{display_name(other)} beats {display_name(system)} ({metric}: "
                    f"difference {c.difference.fmt(3)})."
                )
    return list(dict.fromkeys(lines))


def shortfalls(results: dict[type[Result], Result]) -> list[str]:
    """What went wrong in this build: every target missed, then every comparison a baseline wins."""
    return missed_targets(results) + baseline_wins(results)


def conclusion(results: dict[type[Result], Result]) -> str:
    """Counts a reader can check against page 1: targets met, and which way the headline comparisons went."""
    declared = targets(results)
    rows = headline_comparisons(results)
    if not declared and not rows:
        return "No result of this build can be summarised."
    met = sum(m for _, m in declared)
    by_verdict = {v: sum(h.verdict == v for h in rows) for v in VERDICT_COLOURS}
    return (
        f"This build met {met} of its {len(declared)} declared targets. Of its {len(rows)} headline "
        f"comparisons, {by_verdict['first better']} favour the first-named system (in most rows the "
        f"study's model), {by_verdict['second better']} the second, and {by_verdict['no clear difference']} "
        "show no clear difference at 95%."
    )


# ============================================================================================ the figure
VERDICT_COLOURS = {"first better": "#1f6fb4", "second better": "#c0392b", "no clear difference": "0.55"}


def forest_figure(
    results: dict[type[Result], Result], caption: str | None = None, name: str = "report_forest"
):
    """One row per headline comparison: the paired difference (signed so that right means the first-named
    system is better) with its 95% interval, the zero line, and the verdict as the colour; one panel per
    metric, since F1, MSE and AUC differences do not share a scale. Saved as ``reports/figures/<name>.png``.
    """
    import matplotlib.pyplot as plt  # inside: reading results needs no plotting stack

    from ..plots import save_figure

    rows = headline_comparisons(results)
    if not rows:
        return None
    metrics = list(dict.fromkeys(h.metric for h in rows))
    counts = [sum(h.metric == m for h in rows) for m in metrics]
    fig, axes = plt.subplots(
        len(metrics),
        1,
        figsize=(7.4, 0.8 + 0.3 * len(rows) + 0.3 * len(metrics)),
        gridspec_kw={"height_ratios": counts},
        squeeze=False,
    )
    for ax, metric in zip(axes[:, 0], metrics):
        chosen = [h for h in rows if h.metric == metric]
        for y, h in enumerate(reversed(chosen)):
            estimate, low, high = h.oriented
            colour = VERDICT_COLOURS[h.verdict]
            ax.errorbar(
                estimate, y, xerr=[[estimate - low], [high - estimate]], fmt="o", color=colour, capsize=3
            )
        ax.axvline(0, color="0.2", lw=0.8)
        ax.set_yticks(range(len(chosen)))
        ax.set_yticklabels([f"{h.label}  [{h.question}]" for h in reversed(chosen)], fontsize=8)
        ax.set_ylim(-0.6, len(chosen) - 0.4)
        ax.set_xlabel(f"{metric} difference, signed: right = the first-named system better", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=v) for v, c in VERDICT_COLOURS.items()]
    axes[0, 0].legend(
        handles=handles, fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=3, frameon=False
    )
    fig.tight_layout()
    path = save_figure(fig, name, caption, show=False)
    plt.close(fig)
    return path
