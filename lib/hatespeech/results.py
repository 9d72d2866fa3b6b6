"""Typed results: the one contract between the notebooks, which write ``reports/metrics/*.json``, and the
report, which reads them.

Each experiment returns a result dataclass (a :class:`Result`): its fields are the top-level keys of its
metrics file; it owns ``to_json`` / ``from_json`` (a missing field is an error naming the file, the class and
the field, never a guess), its summary lines and verdicts (:meth:`Result.findings`) and its key tables
(:meth:`Result.tables`). Notebooks build one and :meth:`~Result.write` it; :mod:`hatespeech.report` reads it
back with :meth:`~Result.read` and renders its findings and tables; the report tests build every result from
the same classes, so a renamed field breaks a test instead of yielding a report on a format no notebook
writes.

Two files hold two results each (notebooks 02 + 03 write ``anticipation.json``, 04 + 05 ``dualhead.json``):
each result owns its fields of the file and :meth:`~Result.write` merges them in (a file written under another
profile is replaced, not merged). Every value a finding, an answer or a curated table reads is a typed
dataclass (:mod:`hatespeech.nested` reads them back by their type hints, from a file or from the JSON-shaped
values a run hands over): notebook 06's ``FunctionalResult``, notebook 07's ``ContinuationResult``, the
phase-1 / phase-2 evidence, rehearsal and loss weights (:mod:`hatespeech.anticipation.evidence_types`), the
dual head's metrics, baselines and grid (:mod:`hatespeech.dualhead.result_types`) and the benchmarks' targets,
floors and int8 / bf16 rows (:mod:`hatespeech.benchmark_types`). The anticipation models' training records,
whose keys differ by phase, backbone and profile, are kept whole behind
:class:`~hatespeech.anticipation.evidence_types.TrainingRecord`. What stays plain JSON is descriptive (the
settings, data summaries, label maps, the dual head's and the benchmark's training stats): the report prints
it as it is (the appendix), and each is made by one function named beside its field.

The results of this module need no torch: data (notebook 01), the speed benchmark and the decoder-capacity
benchmark. The experiments' own live with them: :mod:`hatespeech.anticipation.results` (phase 1, phase 2) and
:mod:`hatespeech.dualhead.results` (dual head, focal grid).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from . import paths
from .benchmark_types import (
    CapacityRun,
    ForwardFloor,
    QuantizedScoring,
    RuntimeSplit,
    SpeedTarget,
    SpeedTargets,
    StreamSplit,
)
from .nested import ResultShapeError, decode, encode, json_field, type_hints
from .stamp import json_default, write_metrics


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    """A result class's fields and their type hints (its ClassVars left out), once per class."""
    hints = type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def metrics_folder(reports: Path | None = None) -> Path:
    """``<reports>/metrics`` for a given reports folder, else the build's metrics dir."""
    return (Path(reports) / "metrics") if reports else paths.metrics_dir()


def fmt_number(value: Any, digits: int = 3) -> str:
    """A number as the findings show it (thousands separators, ``digits`` decimals); anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


@dataclass(kw_only=True)
class Result:
    """Base of every typed result: one metrics file's fields, with JSON I/O, findings and tables.

    Subclasses set :attr:`FILE` (the metrics file), :attr:`NOTEBOOK` (what writes it) and :attr:`MARKER` (the
    field whose presence says "this ran": the section of a two-result file), and declare their fields; a
    field without a default is required in the JSON.
    """

    FILE: ClassVar[str] = ""
    NOTEBOOK: ClassVar[str] = ""
    MARKER: ClassVar[str] = ""
    # Fields the report shows as its curated tables or findings; the others go to the appendix as-is.
    CURATED: ClassVar[tuple[str, ...]] = ()
    # Fields kept in the JSON but shown elsewhere (say where beside the subclass's HIDDEN).
    HIDDEN: ClassVar[tuple[str, ...]] = ()

    profile: str
    # Wall seconds per notebook that wrote this file ({"02_phase1": 812.3}); merged across writers.
    wall_seconds: dict[str, float] = field(default_factory=dict)
    # Provenance of the last write (:func:`hatespeech.stamp.stamp`); set by write, read back by from_json.
    stamp: dict[str, Any] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        # A field set in code (the dataclass __init__, or ``result.baselines = ...`` in a notebook) may hold
        # nested values as JSON, which the evidence functions make: typed here, by the rules a file is read
        # by (hatespeech.nested), so every result holds its fields one way however they were set.
        hint = _field_hints(type(self)).get(name)
        if hint is not None:
            value = decode(hint, value, f"{type(self).__name__}.{name}")
        super().__setattr__(name, value)

    # ------------------------------------------------------------------------------------------------ JSON
    @classmethod
    def field_names(cls, own: bool = False) -> list[str]:
        """The JSON keys of this result (``own``: without the base's profile / wall_seconds / stamp)."""
        base = {f.name for f in dataclasses.fields(Result)}
        return [f.name for f in dataclasses.fields(cls) if not (own and f.name in base)]

    @classmethod
    def required_fields(cls) -> list[str]:
        return [
            f.name
            for f in dataclasses.fields(cls)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        ]

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values (the stamp is added by :meth:`write`)."""
        body = {name: encode(getattr(self, name)) for name in self.field_names() if name != "stamp"}
        return json.loads(json.dumps(body, default=json_default, allow_nan=True))

    @classmethod
    def from_json(cls, payload: Any, source: str | None = None):
        """The result held by ``payload`` (a parsed metrics file); keys of other results are ignored.

        Raises :class:`ResultShapeError` naming the file, the class and every missing field.
        """
        where = source or cls.FILE
        if not isinstance(payload, dict):
            raise ResultShapeError(f"{where}: expected a JSON object, got {type(payload).__name__}")
        missing = [name for name in cls.required_fields() if name not in payload]
        if missing:
            raise ResultShapeError(
                f"{where} lacks {', '.join(map(repr, missing))} (fields of {cls.__name__}): re-run "
                f"{cls.NOTEBOOK} with this version of the code"
            )
        hints = _field_hints(cls)  # nested dataclasses are read by their type (hatespeech.nested)
        return cls(
            **{
                name: decode(hints[name], payload[name], f"{where}: {name}")
                for name in cls.field_names()
                if name in payload
            }
        )

    def write(self, profile=None) -> Path:
        """Write (or merge into) ``reports/metrics/<FILE>`` with a fresh stamp; returns the file."""
        path = paths.metrics_dir() / self.FILE
        body: dict[str, Any] = {}
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except ValueError:
                old = {}
            if isinstance(old, dict) and old.get("profile") == self.profile:
                body = {k: v for k, v in old.items() if k != "stamp"}
        new = self.to_json()
        new["wall_seconds"] = {**(body.get("wall_seconds") or {}), **new["wall_seconds"]}
        body.update(new)
        return write_metrics(Path(self.FILE).stem, body, profile if profile is not None else self.profile)

    @classmethod
    def read(cls, reports: Path | None = None):
        """The result in ``<reports>/metrics/<FILE>`` (the build's metrics dir by default); None when the
        file is absent or does not hold this result (its :attr:`MARKER` field is missing: not run)."""
        path = metrics_folder(reports) / cls.FILE
        if not path.exists():
            return None
        try:
            payload = json.loads(path.read_text())
        except ValueError as error:
            raise ResultShapeError(f"{path.name} is not valid JSON: {error}") from error
        if cls.MARKER and isinstance(payload, dict) and cls.MARKER not in payload:
            return None
        return cls.from_json(payload, source=path.name)

    # -------------------------------------------------------------------------------------------- content
    def findings(self) -> list[str]:
        """Plain-text sentences saying what the numbers show, each with its verdict (report and notebook)."""
        return []

    def context(self, reports: Path | None = None) -> list[str]:
        """Sentences that put the findings in context, from reference numbers or other metrics files (the
        report folder ``reports``, the build's by default)."""
        return []

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The key tables: (title, frame) pairs built from this result's fields."""
        return []

    def appendix(self) -> dict[str, Any]:
        """The fields the findings and key tables do not show, for the report's appendix (nothing dropped)."""
        skip = {"profile", "stamp", "wall_seconds", *self.CURATED, *self.HIDDEN}
        return {k: v for k, v in self.to_json().items() if k not in skip and v not in (None, {}, [])}


# ====================================================================================== notebook 01: data
@dataclass(kw_only=True)
class DataResult(Result):
    """``data.json`` (notebook 01): every corpus as loaded and validated, the phase-1 split, phase 2's set."""

    FILE: ClassVar[str] = "data.json"
    NOTEBOOK: ClassVar[str] = "notebooks/01_data.ipynb"
    MARKER: ClassVar[str] = "sources"
    CURATED: ClassVar[tuple[str, ...]] = ("sources",)

    # {name: LoadedSource.summary() + description}: rows_raw, rows_kept, filtered{reason: n}, licence, ...
    sources: dict[str, dict[str, Any]]
    phase1: dict[str, Any] = field(default_factory=dict)  # hatespeech.data.build_phase1_corpus's report
    splits: dict[str, Any] = field(default_factory=dict)  # {"phase1": sizes, fractions, manifest, ...}
    prefix_probability: dict[str, Any] = field(default_factory=dict)  # hatespeech.data.summary.prefix_summary
    load_seconds: float | None = None

    def findings(self) -> list[str]:
        raw = sum(s["rows_raw"] for s in self.sources.values())
        kept = sum(s["rows_kept"] for s in self.sources.values())
        reasons: dict[str, int] = {}
        for s in self.sources.values():
            for reason, n in (s.get("filtered") or {}).items():
                reasons[reason] = reasons.get(reason, 0) + (n or 0)
        filtered = ", ".join(
            f"{r}: {fmt_number(n)}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1]) if n
        )
        return [
            f"{len(self.sources)} sources, {fmt_number(raw)} rows read, {fmt_number(kept)} kept"
            + (f"; filtered on purpose: {filtered}." if filtered else "; no row filtered.")
        ]

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """Corpora: one row per source with raw/kept rows, filtered rows per reason, labels and licence."""
        rows = {}
        for name, src in self.sources.items():
            filtered = src.get("filtered") or {}
            labels = src.get("label_columns") or ""
            rows[name] = {
                "rows raw": src["rows_raw"],
                "rows kept": src["rows_kept"],
                "filtered": sum(filtered.values()),
                "filtered per reason": "; ".join(f"{r}: {fmt_number(n)}" for r, n in filtered.items() if n)
                or "–",
                "label columns": ", ".join(labels) if isinstance(labels, (list, tuple)) else labels,
                "licence": src.get("licence", ""),
            }
        return [("corpora", pd.DataFrame.from_dict(rows, orient="index"))] if rows else []


# ============================================================================ benchmarks: decoder capacity
@dataclass(kw_only=True)
class DecoderCapacityResult(Result):
    """``decoder_capacity.json`` (``benchmarks/decoder_capacity.py``): every decoder layer vs LoRA vs the top
    two blocks, each given the same training time; why the cpu profile trains what it trains."""

    FILE: ClassVar[str] = "decoder_capacity.json"
    NOTEBOOK: ClassVar[str] = "benchmarks/decoder_capacity.py"
    MARKER: ClassVar[str] = "rows"

    rows: list[CapacityRun]  # mode, budget, train_seconds, train_sentences, selection_f1, ...
    criterion: str
    equal_time_seconds: float
    best_at_equal_time: str
    margin_at_equal_time: float | None
    best_by_f1_per_minute: str
    best_by_f1_at_equal_sentences: str
    margin_f1_per_minute: float | None
    threads: int
    note: str = ""

    def line(self, trained_layers: int | str | None = "?") -> str:
        """One sentence: the equal-time comparison, and what this build's decoders trained."""
        reference = self.equal_time_seconds
        rows = [r for r in self.rows if r.budget == "equal time" or r.train_seconds == reference]
        rows.sort(key=lambda r: -r.selection_f1)
        shown = "; ".join(f"{r.mode} {r.selection_f1:.3f} on {r.train_sentences} sentences" for r in rows)
        layers_text = "every layer" if trained_layers is None else f"the top {trained_layers} blocks"
        return (
            f"Decoder capacity (benchmarks/decoder_capacity.py, one seed, every mode given the same "
            f"{reference:.0f} s of training): selection F1 {shown}. Best at equal time: "
            f"{self.best_at_equal_time} (+{self.margin_at_equal_time or 0:.3f} over the runner-up; "
            f"with one seed, differences of a few hundredths are within noise). This build's decoders "
            f"trained {layers_text}."
        )


# ============================================================================ benchmarks: anticipation speed
@dataclass(kw_only=True)
class BenchmarkResult(Result):
    """``benchmarks.json`` (``benchmarks/anticipation_speed.py``): scoring every word-prefix four ways in one
    run, the speed targets as measured ratios, and the one-token forward floor that explains a miss."""

    FILE: ClassVar[str] = "benchmarks.json"
    NOTEBOOK: ClassVar[str] = "benchmarks/anticipation_speed.py"
    MARKER: ClassVar[str] = "targets"
    CURATED: ClassVar[tuple[str, ...]] = ("targets", "decoder_forward_floor", "quantized")

    settings: dict[str, Any]
    models: dict[str, str]  # {"encoder": backbone, "decoder": backbone}
    sentences: dict[str, list[str]]  # words -> the sentences timed
    table: list[dict[str, Any]]  # one row per (words, method): latency, throughput, max |diff|
    targets: SpeedTargets  # anticipation_speed.targets(table)
    decoder_forward_floor: ForwardFloor | None  # one-token vs all-token forward, weights MB
    training: dict[str, Any] = field(default_factory=dict)
    # int8 / bf16 beside fp32 (benchmarks/quantized_scoring.py): speed rows, floors, accuracy, targets
    quantized: QuantizedScoring | None = json_field(omit_none=True, default=None)
    padded_width_naive: int | None = None
    rss_follows_live_memory: bool | None = None
    torch_threads: int | None = None
    load_average_before_after: list[list[float]] = field(default_factory=list)
    process_peak_rss_mb: float | None = None
    note: str = ""
    wall_s: float | None = None
    figure_path: str | None = None

    def findings(self) -> list[str]:
        """Each speed target with its measured ratio and a plain met / missed, and the floor behind a miss."""
        targets, lines = self.targets, []

        def verdict(target: SpeedTarget) -> str:
            return ": met)." if target.met else ": MISSED)."

        one = targets.one_pass_vs_naive_throughput
        if one:
            lines.append(
                f"Decoder one pass vs naive per-prefix batches at {one.words} words: {one.ratio:.1f}x "
                f"the throughput (target >= {one.target:g}x" + verdict(one)
            )
        stream = targets.stream_vs_rescore_latency
        if stream:
            lines.append(
                "Streaming (cached keys/values) vs re-scoring the whole prefix, per word at "
                f"{stream.words} words: last word {stream.last_word_ratio:.3f}, median over the "
                f"sentence {fmt_number(stream.median_ratio)} (target <= {stream.target:g}" + verdict(stream)
            )
        floor = self.decoder_forward_floor
        if floor is not None and floor.ratio is not None:
            lines.append(
                f"Why streaming has a floor on this CPU: one decoder forward over a single new token takes "
                f"{floor.one_token_ms:.0f} ms against {floor.all_tokens_ms:.0f} ms for all "
                f"{floor.tokens} tokens (ratio {floor.ratio:.3f}), because every forward reads all "
                f"{floor.weights_mb:.0f} MB of fp32 weights whatever the number of new tokens; a "
                "streaming update cannot be cheaper than that one-token forward."
            )
        if targets.equivalence_met is not None:
            diffs = [v for v in (targets.equivalence_max_abs_diff or {}).values() if v is not None]
            lines.append(
                "Every fast path gives the naive path's probabilities"
                + (f" (max |difference| {max(diffs):.1e}, bound 1e-4)" if diffs else "")
                + (": yes." if targets.equivalence_met else ": NO.")
            )
        return lines + self._quantized_findings()

    def _quantized_findings(self) -> list[str]:
        """int8 / bf16: each speed target as met / missed, and for which variants the MSE change allows it."""
        q = self.quantized
        if q is None:
            return []
        lines = []
        for mode in [m for m in q.modes if m != "fp32"]:
            one, stream = q.targets.against_fp32(mode)
            if one and stream:
                lines.append(
                    f"{mode} streaming per word at {one.words} words: {one.ratio:.3f} x fp32 one-pass "
                    f"re-scoring (target <= {one.target:g}: {'met' if one.met else 'MISSED'}) and "
                    f"{stream.ratio:.3f} x fp32 streaming (target <= {stream.target:g}: "
                    f"{'met' if stream.met else 'MISSED'})."
                )
            mine, fp32 = q.forward_floor.get(mode), q.forward_floor.get("fp32")
            if mine and fp32:
                lines.append(
                    f"{mode} one-token decoder forward: {mine.one_token_ms:.0f} ms against "
                    f"{fp32.one_token_ms:.0f} ms in fp32, reading {mine.weights_mb:.0f} MB of "
                    f"weights instead of {fp32.weights_mb:.0f} MB."
                )
            if mode == "int8" and q.int8_runtime_split and mine and fp32:
                lines.append(_runtime_finding(q.int8_runtime_split, mine, fp32))
            if mode == "int8" and q.stream_split:
                lines.append(_stream_split_finding(q.stream_split))
            if mode == "int8" and q.encoder_speed:
                lines += _encoder_speed_findings(q)
            if q.accuracy.skipped:
                lines.append(f"{mode} accuracy not measured: {q.accuracy.skipped}.")
                continue
            rows = q.accuracy.of(mode)
            if rows:
                offered = [r.variant for r in rows if r.offered]
                held_out = ", ".join(f"{r.variant} {r.held_out_abs_mse_change:.4f}" for r in rows)
                test = ", ".join(f"{r.variant} {r.test_abs_mse_change:.4f}" for r in rows)
                lines.append(
                    f"{mode} moves the MSE on the held-out phase-2 train sentences by {held_out}; offered "
                    f"(held-out change <= {q.accuracy.tolerance:g}) for: "
                    f"{', '.join(offered) if offered else 'no variant'}. On the test set (chooses nothing) "
                    f"it moves by {test} (max |p change| {max(r.max_abs_p_change for r in rows):.3f}); "
                    "every reported number stays fp32."
                )
        return lines

    def tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The targets as one table: what was measured against what, the target and met / missed."""
        rows = {
            name: {k: v for k, v in target.items() if not isinstance(v, (dict, list))}
            for name, target in encode(self.targets).items()
            if isinstance(target, dict)
        }
        tables = [
            ("speed targets (ratios measured in one run)", pd.DataFrame.from_dict(rows, orient="index"))
        ]
        q = self.quantized
        if q is None:
            return tables
        if q.speed:
            floors = pd.DataFrame.from_dict(encode(q.forward_floor), orient="index")[
                ["one_token_ms", "weights_mb"]
            ]
            speed = pd.DataFrame(encode(q.speed)).join(floors, on="mode")
            tables.append(("decoder per-word latency by precision (ms, one run, 1 thread)", speed))
        if q.encoder_speed:
            tables.append(
                (
                    (
                        "encoder variants typing: per-word latency of re-scoring the prefix, fp32 and "
                        "int8 (ms; int8 / fp32 per sentence, median and 25th-75th percentiles)"
                    ),
                    pd.DataFrame(encode(q.encoder_speed)),
                )
            )
        if q.accuracy.rows:
            tables.append(
                ("phase-2 test MSE by precision, every variant", pd.DataFrame(encode(q.accuracy.rows)))
            )
        return tables


def _stream_split_finding(split: StreamSplit) -> str:
    """A streamed word's speed-up from PyTorch fp32 to int8, split into the runtime's and int8's part."""
    return (
        f"A streamed decoder word at {split.words} words is {split.total.text()} faster in int8 "
        f"than in PyTorch fp32: ONNX Runtime with the same fp32 graph gives {split.runtime.text()} "
        f"of it, int8 weights a further {split.int8.text()} (per-sentence ratios, median and "
        "25th-75th percentiles)."
    )


def _encoder_speed_findings(q: QuantizedScoring) -> list[str]:
    """Per encoder variant at the longest length: the per-word latency of typing (re-scoring the prefix)."""
    lines = []
    for variant in dict.fromkeys(row.variant for row in q.encoder_speed):  # in the rows' order
        by_mode = q.typing_at_longest(variant)
        if not {"fp32", "int8"} <= set(by_mode):
            continue
        lines.append(
            f"Typing into {variant} (no cache to stream with: each word re-scores the prefix): at "
            f"{by_mode['int8'].words} words {by_mode['fp32'].per_word_median_ms:.0f} ms per word in fp32 and "
            f"{by_mode['int8'].per_word_median_ms:.0f} ms in int8 (int8 / fp32 "
            f"{by_mode['int8'].int8_spread().text(2)})."
        )
    return lines


def _runtime_finding(split: RuntimeSplit, int8: ForwardFloor, fp32: ForwardFloor) -> str:
    """int8 runs in ONNX Runtime: how much of its one-token speed-up over PyTorch fp32 is the runtime's (the
    same exported graph with fp32 weights) and how much int8's."""
    graph, torch_ms, int8_ms = split.fp32_graph_one_token_ms, fp32.one_token_ms, int8.one_token_ms
    return (
        f"int8 runs the exported backbone in {split.runtime}, so not all of its gain is int8's: the same "
        f"graph with its fp32 weights runs a one-token forward in {graph:.0f} ms against {torch_ms:.0f} ms "
        f"in PyTorch (the runtime: {torch_ms / graph:.1f}x), and in {int8_ms:.0f} ms with int8 weights "
        f"(int8: a further {graph / int8_ms:.1f}x)."
    )


class UpstreamMissingError(RuntimeError):
    """A notebook was run before the one whose result it reads (or under another profile)."""


def require(profile, *needed: type[Result], by: str = "this notebook") -> list[Result]:
    """The results ``by`` reads, written under ``profile``; else :class:`UpstreamMissingError` naming the
    notebook to run first (notebooks call this in their first code cell, so an out-of-order run stops there
    with this message rather than deep inside)."""
    name = getattr(profile, "name", profile)
    found = []
    for cls in needed:
        try:
            result = cls.read()
        except ResultShapeError as error:
            raise UpstreamMissingError(f"{by} reads {cls.__name__}, but {error}") from None
        if result is None or result.profile != name:
            was = "" if result is None else f" (the one there was made with profile {result.profile!r})"
            raise UpstreamMissingError(
                f"{by} needs what {cls.NOTEBOOK} writes under profile {name!r}{was}: run that notebook "
                f"first, e.g. ./run_all.sh --profile {name} --only {Path(cls.NOTEBOOK).name[:2]}"
            )
        found.append(result)
    return found
