"""The typed results of the dual-head experiment: what notebooks 04 and 05 write into ``dualhead.json``.

:class:`DualHeadResult` (notebook 04: both heads, the seed's two separate models, the bias metric, the focal
weight chosen) and :class:`GridResult` (notebook 05: the focal gamma x alpha grid) share the file, each owning
its fields (:meth:`hatespeech.results.Result.write` merges them in). :func:`dualhead_result` builds the first
from the experiment's objects, :meth:`hatespeech.dualhead.grid.GridRun.result` the second. Both say what
their numbers show (:meth:`~hatespeech.results.Result.findings`, plain text) and give their key tables
(:meth:`~hatespeech.results.Result.tables`), for the notebooks and the report alike.

The module imports no torch (the experiment's objects appear in annotations only), and the package's
re-exports load lazily (:mod:`hatespeech.lazy`), so reading a result needs none. Over the ~500-line guide
(~520 lines): two results, each with its findings and tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import pandas as pd

from ..data.dualhead_labels import label_map_table
from ..metrics import bias as bias_metrics
from ..metrics import classification as cls
from ..metrics.bootstrap import PairedDifference
from ..nested import encode
from ..references import PUBLISHED_BIAS
from ..results import Result, fmt_number
from .result_types import (
    Baselines,
    BiasScore,
    GridCell,
    GridPick,
    HeadMetrics,
    LambdaChoiceRecord,
    SeparateModels,
)

if TYPE_CHECKING:
    from ..data.dualhead import DualHeadSplits
    from .training import LambdaChoice, TrainedModel

THRESHOLD_SEARCH = "per label on validation, F1-maximising over 0.10-0.88 step 0.02 (the seed's grid)"
HEADS = ("head_n", "head_i")


def _score(value: float | None) -> str:
    """A macro-F1 as the findings show it ('–' when no label could be scored)."""
    return "–" if value is None else fmt_number(value)


# ======================================================================= notebook 04: the dual-head model
@dataclass(kw_only=True)
class DualHeadResult(Result):
    """``dualhead.json``, notebook 04's part: the joint model's two heads on test, the seed's separate models,
    the Jigsaw bias metric, the rarest labels, training, the label map and the focal weight chosen."""

    FILE: ClassVar[str] = "dualhead.json"
    NOTEBOOK: ClassVar[str] = "notebooks/04_dualhead.ipynb"
    MARKER: ClassVar[str] = "head_n"
    CURATED: ClassVar[tuple[str, ...]] = (
        "head_n",
        "head_i",
        "separate_models",
        "bias",
        "focal_lambda_choice",
        "baselines",
    )

    head_n: HeadMetrics  # the joint model on test (metrics.classification.head_json of evaluate(...)["n"])
    head_i: HeadMetrics  # ... and of evaluate(...)["i"]
    separate_models: SeparateModels  # separate_json, or only why not (train_separate_models=False)
    bias: BiasScore  # metrics.bias.bias_json of evaluation.bias_of, plus toxicity_label and source
    rare_label_confusion: dict[str, Any]  # rare_json of evaluation.rare_label_confusion per head
    training: dict[str, Any]  # training_json per trained model ("joint", "separate_n", "separate_i")
    timings_seconds: dict[str, float]  # the notebook's timings (data, training, prediction, total)
    threshold_search: str  # THRESHOLD_SEARCH
    label_map: list[dict[str, Any]]  # data.dualhead_labels.label_map_table, as records
    model: dict[str, Any]  # model_json: encoder, pooling and training settings, the lambda used
    focal_lambda_choice: LambdaChoiceRecord | None  # training.LambdaChoice.to_json; None without a choice
    data: dict[str, Any]  # data.dualhead.DualHeadSplits.summary
    baselines: Baselines | None = None  # baseline.tfidf_baseline: the yardstick

    def baseline_lines(self) -> list[str]:
        """Each head beside the TF-IDF + logistic yardstick on the same split and thresholds procedure."""
        heads = self.baselines.heads if self.baselines else {}
        lines = []
        for head, name in (("head_n", "toxicity-type head"), ("head_i", "identity head")):
            if head in heads:
                d = heads[head].model_minus_baseline
                lines.append(
                    f"Against TF-IDF + logistic regression per label ({name}, same split and threshold "
                    f"search): baseline macro-F1 {d.b.fmt(3)}; model minus baseline {d.difference.fmt(3)} "
                    f"-> {d.verdict()}."
                )
        return lines

    def findings(self) -> list[str]:
        """Both heads' test macro-F1, shared vs separate models, the lambda picked, the bias score."""
        lines = []
        n, i = self.head_n.macro_f1, self.head_i.macro_f1
        if n is not None or i is not None:
            shown = []
            for name, head in (("toxicity-type head", self.head_n), ("identity head", self.head_i)):
                interval = head.macro_f1_interval
                shown.append(f"{name} {interval.fmt(3)}" if interval else f"{name} {_score(head.macro_f1)}")
            note = " (95% intervals over resampled test texts)" if self.head_n.macro_f1_interval else ""
            lines.append(f"Macro-F1 on test{note}: {', '.join(shown)}.")
        lines.extend(self.baseline_lines())
        if self.separate_models.skipped:
            lines.append(f"The seed's two separate models were not trained: {self.separate_models.skipped}.")
        else:
            verdict = self.separate_models.verdict
            lines.append(verdict[:1].upper() + verdict[1:])
        choice = self.focal_lambda_choice
        if choice is not None:
            rows = choice.table
            picked = next(r for r in rows if r["lambda"] == choice.picked)
            others = "; ".join(
                f"lambda {fmt_number(r['lambda'])}: {fmt_number(r['val_macro_f1_mean'])}"
                for r in rows
                if r["lambda"] != choice.picked
            )
            lines.append(
                f"Focal weight picked on validation: lambda {fmt_number(choice.picked)} (mean validation "
                f"macro-F1 of the two heads {fmt_number(picked['val_macro_f1_mean'])}"
                + (f"; {others}" if others else "")
                + ")."
            )
        lines.append(self.bias_line())
        return lines

    def bias_line(self) -> str:
        """The Jigsaw bias score beside the published numbers (:data:`hatespeech.references.PUBLISHED_BIAS`),
        and whether they compare; or why it was not computed (``final_x100`` null: no subgroup scored)."""
        final = self.bias.final_x100
        if final is not None:
            published = ", ".join(f"{name} {value}" for name, value in PUBLISHED_BIAS.items())
            interval = self.bias.final_interval
            shown = fmt_number(final)
            if interval:
                shown += (
                    f" [{100 * interval.low:.2f}, {100 * interval.high:.2f}] (95% interval, "
                    f"{interval.resampling})"
                )
            return (
                "Jigsaw bias score (0.25 overall AUC + 0.75 mean of subgroup/BPSN/BNSP power means), as a "
                f"percentage: {shown}. Published: {published}. "
                + (
                    "Same data family as the published numbers."
                    if self.bias.comparable_with_reference
                    else "NOT comparable: this run's data is not the Jigsaw Unintended Bias set."
                )
            )
        names = list(self.bias.skipped_subgroups)
        shown = ", ".join(map(str, names[:8])) + (", …" if len(names) > 8 else "")
        skipped = (
            f": {len(names)} subgroups skipped (too few members or a single class; reasons in the metrics "
            f"JSON): {shown}"
            if names
            else ""
        )
        return "Jigsaw bias score not computed in this run" + skipped + "."

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Macro-F1 per head (shared encoder vs separate models), training of each setup, the lambda
        candidates, each head's per-label test metrics and the bias metric per subgroup."""
        separate = None if self.separate_models.skipped else self.separate_models
        heads = {}
        for head in HEADS:
            shared = getattr(self, head)
            heads[head] = {
                "test macro-F1 (tuned thresholds)": shared.macro_f1,
                "test macro-F1 (0.5)": shared.macro_f1_at_half,
                "validation macro-F1": shared.val_macro_f1,
            }
            if shared.macro_f1_interval:
                heads[head]["95% interval (test texts)"] = shared.macro_f1_interval.fmt(3)
            if separate is not None:
                heads[head]["separate model: test macro-F1"] = getattr(separate, head).macro_f1
                diff = (separate.paired_shared_minus_separate or {}).get(head)
                if diff:
                    heads[head]["shared minus separate"] = diff.difference.fmt(3)
                    heads[head]["verdict"] = diff.verdict()
        tables = [
            (
                "macro-F1 per head: one shared encoder vs the seed's two separate models",
                pd.DataFrame.from_dict(heads, orient="index"),
            )
        ]
        if separate is not None:
            seconds, rows = separate.train_seconds, separate.n_train_rows
            setups = {
                "shared encoder (both heads)": ("shared", "joint"),
                "separate model: head_n": ("separate_n", "separate_n"),
                "separate model: head_i": ("separate_i", "separate_i"),
            }
            frame = pd.DataFrame(
                {
                    "train seconds": [seconds[s] for s, _ in setups.values()],
                    "train rows": [rows[r] for _, r in setups.values()],
                },
                index=list(setups),
            )
            if "shared_with_lambda_search" in seconds:
                candidates = separate.shared_candidates or 1
                frame.loc[f"shared encoder incl. the lambda search ({candidates} joint models)"] = [
                    seconds["shared_with_lambda_search"],
                    rows["joint"],
                ]
            tables.append(("training: shared encoder vs separate models", frame))
        if self.focal_lambda_choice is not None:
            frame = self.focal_lambda_choice.table_frame()
            picked = self.focal_lambda_choice.picked
            title = f"focal weight lambda: one joint model per candidate ({picked:g} kept, on validation)"
            tables.append((title, frame))
        for head in HEADS:
            entry = getattr(self, head)
            if entry.per_label:
                tables.append((f"{head}: test metrics per label (tuned threshold)", entry.label_table()))
        bias = self.bias
        summary = {
            "final x100": bias.final_x100,
            "overall AUC": bias.overall_auc,
            **{f"power mean: {name}": value for name, value in bias.power_means.items()},
            "score": f"P({bias.toxicity_label}) on the {bias.source} test rows",
            "rows scored": bias.n_rows,
            "min subgroup size": bias.min_subgroup_size,
            "subgroups skipped": ", ".join(map(str, bias.skipped_subgroups)) or "none",
        }
        tables.append(
            ("bias metric (Jigsaw Unintended Bias definition)", pd.Series(summary, name="value").to_frame())
        )
        if bias.per_subgroup:
            tables.append(("bias metric per identity subgroup", bias.subgroup_table()))
        return tables


def training_json(trained: TrainedModel) -> dict[str, Any]:
    """One entry of the ``training`` field: heads, wall and CPU seconds, rows, epochs, throughput."""
    return {
        "heads": trained.heads,
        "train_seconds": trained.train_seconds,
        "train_cpu_seconds": trained.train_cpu_seconds,
        "n_train_rows": trained.n_train,
        "epochs": trained.epochs,
        "examples_per_minute": trained.examples_per_minute,
    }


def separate_json(
    joint: dict[str, dict],
    separate: dict[str, dict],
    times: dict[str, float],
    n_train: dict[str, int],
    paired: dict[str, dict] | None = None,
    n_candidates: int = 1,
) -> dict:
    """The ``separate_models`` field: both setups' macro-F1s, what each cost, and a verdict.

    ``times``: "joint" (the kept joint model), "joint_search" (every joint model the lambda search trained;
    default: the kept one), "separate_n", "separate_i". ``paired``: shared minus separate test macro-F1 per
    head on the same resampled texts (:func:`hatespeech.dualhead.intervals.shared_vs_separate`); without it
    the verdict says the difference has no interval. ``n_candidates``: joint models the kept one was picked
    from on validation (the separate models are not selected)."""
    delta_n = separate["n"]["macro_f1"] - joint["n"]["macro_f1"]
    delta_i = separate["i"]["macro_f1"] - joint["i"]["macro_f1"]
    t_search = times.get("joint_search", times["joint"])
    t_sep = times["separate_n"] + times["separate_i"]
    heads = []
    for head in ("n", "i"):
        shown = f"head_{head} {joint[head]['macro_f1']:.3f} vs {separate[head]['macro_f1']:.3f}"
        if paired is not None:
            diff = PairedDifference.from_json(paired[f"head_{head}"])
            shown += f", shared minus separate {diff.difference.fmt(3)}: {diff.verdict()}"
        heads.append(shown)
    noise = (
        "95% intervals over resampled test texts"
        if paired is not None
        else "one seed and one split, no interval: differences of a few points are within run-to-run noise"
    )
    selection = (
        f"the shared model was picked on validation among {n_candidates} joint models (lambda search), the "
        "separate models were not selected"
        if n_candidates > 1
        else "neither setup was selected among candidates"
    )
    verdict = (
        f"shared encoder vs separate models, test macro-F1 ({noise}): {'; '.join(heads)}. Training cost: "
        f"{t_search:.0f} s for the shared route ({n_candidates} joint model(s); the kept one "
        f"{times['joint']:.0f} s) vs {t_sep:.0f} s for the two separate models; {selection}."
    )
    out = {
        "head_n": cls.head_json(separate["n"]),
        "head_i": cls.head_json(separate["i"]),
        "macro_f1_delta_separate_minus_shared": {"head_n": delta_n, "head_i": delta_i},
        "train_seconds": {
            "shared": times["joint"],
            "shared_with_lambda_search": t_search,
            "separate_n": times["separate_n"],
            "separate_i": times["separate_i"],
            "separate_total": t_sep,
        },
        "shared_candidates": n_candidates,
        "n_train_rows": n_train,
        "verdict": verdict,
    }
    if paired is not None:
        out["paired_shared_minus_separate"] = paired
    return out


def rare_json(rare: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The ``rare_label_confusion`` field: per head, ``{label: {column: value}}`` (NaN as None)."""
    return {
        f"head_{head}": {
            str(label): {column: (None if pd.isna(value) else value) for column, value in row.items()}
            for label, row in table.iterrows()
        }
        for head, table in rare.items()
    }


def model_json(profile, focal_lambda: float) -> dict[str, Any]:
    """The ``model`` field: the encoder, its pooling and the training settings, with the lambda used."""
    cfg = profile.dualhead
    return {
        "encoder": profile.models.encoder,
        "pooling": "mean",
        "max_length": cfg.max_length,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "focal_gamma": cfg.focal_gamma,
        "focal_alpha": cfg.focal_alpha,
        "focal_lambda": focal_lambda,
    }


def _with(key: str, value) -> dict[str, Any]:
    return {} if value is None else {key: value}


def dualhead_result(
    profile,
    splits: DualHeadSplits,
    reports: dict[str, dict],
    separate: dict[str, dict] | None,
    trained: dict[str, TrainedModel],
    bias: dict,
    rare: dict[str, pd.DataFrame],
    timings: dict[str, float],
    lambda_choice: LambdaChoice | None = None,
    intervals: dict[str, Any] | None = None,
) -> DualHeadResult:
    """The dual-head experiment's result (the grid is :class:`GridResult`): ``reports`` of
    :func:`~hatespeech.dualhead.evaluation.evaluate` for the joint model, ``separate`` the same for the two
    single-head models (None when the profile skips them: ``train_separate_models=False``), ``trained`` the
    :class:`~hatespeech.dualhead.training.TrainedModel` of each ("joint", "separate_n", "separate_i"),
    ``bias`` of :func:`~hatespeech.dualhead.evaluation.bias_of`, ``rare`` of
    :func:`~hatespeech.dualhead.evaluation.rare_label_confusion` per head, ``timings`` in seconds (its
    ``notebook_total`` is also the notebook's wall time; its ``joint_train`` the seconds of every joint model
    of the lambda search), ``intervals`` of :func:`hatespeech.dualhead.intervals.all_intervals`."""
    mode = splits.table.mode
    if separate is None:
        separate_entry: dict[str, Any] = {"skipped": "profile.dualhead.train_separate_models is False"}
    else:
        times = {
            "joint": trained["joint"].train_seconds,
            "joint_search": timings.get("joint_train", trained["joint"].train_seconds),
            "separate_n": trained["separate_n"].train_seconds,
            "separate_i": trained["separate_i"].train_seconds,
        }
        separate_entry = separate_json(
            reports,
            separate,
            times,
            {k: v.n_train for k, v in trained.items()},
            paired=(intervals or {}).get("shared_minus_separate"),
            n_candidates=len(lambda_choice.table) if lambda_choice is not None else 1,
        )
    intervals = intervals or {}
    focal_lambda = profile.dualhead.focal_lambda if lambda_choice is None else lambda_choice.focal_lambda
    return DualHeadResult(
        profile=profile.name,
        wall_seconds={"04_dualhead": timings["notebook_total"]} if "notebook_total" in timings else {},
        head_n=cls.head_json(reports["n"]) | _with("macro_f1_interval", intervals.get("head_n")),
        head_i=cls.head_json(reports["i"]) | _with("macro_f1_interval", intervals.get("head_i")),
        separate_models=separate_entry,
        bias=bias_metrics.bias_json(
            bias,
            comparable=mode == "jigsaw",
            data=f"{splits.table.data}, test split, {bias['source']} rows only; "
            f"score = P({bias['toxicity_label']})",
        )
        | {"toxicity_label": bias["toxicity_label"], "source": bias["source"]}
        | _with("final_interval", intervals.get("bias")),
        rare_label_confusion=rare_json(rare),
        training={k: training_json(v) for k, v in trained.items()},
        timings_seconds=timings,
        threshold_search=THRESHOLD_SEARCH,
        label_map=label_map_table(mode, profile.dualhead.label_threshold).to_dict(orient="records"),
        model=model_json(profile, focal_lambda),
        focal_lambda_choice=None if lambda_choice is None else lambda_choice.to_json(),
        data=splits.summary(),
    )


# ============================================================================== notebook 05: the focal grid
@dataclass(kw_only=True)
class GridResult(Result):
    """``dualhead.json``, notebook 05's part: every (gamma, alpha) cell of the focal grid of the identity
    head, the cell picked on validation and how the grid ran."""

    FILE: ClassVar[str] = "dualhead.json"
    NOTEBOOK: ClassVar[str] = "notebooks/05_focal_grid.ipynb"
    MARKER: ClassVar[str] = "grid"
    CURATED: ClassVar[tuple[str, ...]] = ("grid", "grid_pick")

    grid: list[GridCell]  # grid.GridRun.to_json: one per (gamma, alpha)
    grid_pick: GridPick | None  # grid.GridRun.pick_json: the best cell on validation, its test macro-F1
    grid_info: dict[str, Any]  # grid.GridRun.result: mode, encoder, head settings, cells_differ, seconds

    def grid_frame(self) -> pd.DataFrame:
        """One row per cell, one column per field (the JSON's names)."""
        return pd.DataFrame([encode(cell) for cell in self.grid])

    def findings(self) -> list[str]:
        """The cell picked on validation with its test score, and whether the cells trained differently."""
        if not self.grid:
            return []
        pick = self.grid_pick
        tests = {round(float(c.test_macro_f1), 6) for c in self.grid if c.test_macro_f1 is not None}
        lines = [
            (
                f"{len(self.grid)} cells trained. Picked on validation: gamma {fmt_number(pick.gamma)}, "
                f"alpha {fmt_number(pick.alpha)} (validation identity macro-F1 "
                f"{fmt_number(pick.val_macro_f1)}, test {_score(pick.test_macro_f1)}); {len(tests)} "
                "distinct test scores across cells."
            )
        ]
        differ, info = self.grid_info["cells_differ"], self.grid_info
        details = [
            (
                f"{differ['n_distinct_prediction_sets_at_0.5']} distinct sets of 0.5-thresholded test "
                f"predictions over {differ['n_cells']} cells"
            )
        ]
        if differ["min_pairwise_max_abs_prob_diff"] is not None:
            details.insert(
                0,
                "smallest, over pairs of cells, largest difference of test probabilities "
                f"{differ['min_pairwise_max_abs_prob_diff']:.3g}",
            )
        lines.append(
            f"Every cell made different predictions: {'yes' if differ['all_cells_differ'] else 'NO'} "
            f"({'; '.join(details)}). Mode {info['mode']}; encoder: {info['encoder']}."
        )
        if info.get("each_cell_trained"):
            lines.append(f"Each cell trained {info['each_cell_trained']}.")
        lines.extend(self.focal_vs_bce_lines())
        return lines

    def scored_cells(self) -> list[GridCell]:
        """The cells with both a validation and a test identity macro-F1."""
        return [c for c in self.grid if _is_number(c.val_macro_f1) and _is_number(c.test_macro_f1)]

    def best_bce_and_focal(self) -> tuple[GridCell, GridCell] | None:
        """The seed's focal-loss claim and its baseline: the best plain-BCE cell (gamma = 0, alpha-balanced)
        and the best focal cell (gamma > 0), each chosen on validation (the first of equals); None without
        both sides."""
        cells = self.scored_cells()
        bce = [c for c in cells if c.gamma == 0]
        focal = [c for c in cells if c.gamma > 0]
        if not (bce and focal):
            return None
        return max(bce, key=_validation), max(focal, key=_validation)

    def focal_vs_bce_lines(self) -> list[str]:
        """The seed's focal-loss claim against its baseline (:meth:`best_bce_and_focal`); and the grid's
        spread with and without the degenerate alpha = 1 column (no weight on negatives)."""
        cells = self.scored_cells()
        if not cells:
            return []
        lines = []
        pair = self.best_bce_and_focal()
        if pair is not None:
            b, f = pair
            lines.append(
                "Focal loss against plain BCE (gamma = 0, alpha-balanced), each side's best cell on "
                f"validation: focal gamma {f.gamma:g}, alpha {f.alpha:g}: validation "
                f"{fmt_number(f.val_macro_f1)}, test {fmt_number(f.test_macro_f1)}; BCE alpha "
                f"{b.alpha:g}: validation "
                f"{fmt_number(b.val_macro_f1)}, test {fmt_number(b.test_macro_f1)} (test difference "
                f"{f.test_macro_f1 - b.test_macro_f1:+.3f}, one seed, no interval)."
            )
        else:
            lines.append(
                "No gamma = 0 (plain BCE) cell in this grid: the focal-loss claim has no baseline here."
            )
        spreads = []
        for name, part in (("every cell", cells), ("without alpha = 1", [c for c in cells if c.alpha < 1])):
            if part:
                val = [c.val_macro_f1 for c in part]
                test = [c.test_macro_f1 for c in part]
                spreads.append(
                    f"{name} ({len(part)} cells): validation {min(val):.3f}-{max(val):.3f}, test "
                    f"{min(test):.3f}-{max(test):.3f}"
                )
        lines.append(
            "Spread of identity macro-F1 over the grid, "
            + "; ".join(spreads)
            + " (alpha = 1 puts no weight on negatives; the spread without those cells shows how much of the "
            "range they make)."
        )
        return lines

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The grid as gamma x alpha matrices (validation and test identity macro-F1)."""
        frame = self.grid_frame()
        if frame.empty:
            return []
        tables = []
        for metric in ("val_macro_f1", "test_macro_f1"):
            pivot = frame.pivot_table(index="gamma", columns="alpha", values=metric, aggfunc="first")
            pivot.index = [f"gamma={g:g}" for g in pivot.index]
            pivot.columns = [f"alpha={a:g}" for a in pivot.columns]
            tables.append((f"grid: {metric} (rows gamma, columns alpha)", pivot))
        return tables


def _is_number(x: float | None) -> bool:
    return x is not None and not math.isnan(x)


def _validation(cell: GridCell) -> float:
    return cell.val_macro_f1
