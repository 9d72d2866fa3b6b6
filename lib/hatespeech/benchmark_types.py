"""The typed rows of the two benchmark results (:class:`~hatespeech.results.BenchmarkResult`,
:class:`~hatespeech.results.DecoderCapacityResult`): the speed targets as measured, the one-token forward
floor, one decoder-capacity run. Made as JSON by ``benchmarks/``, read back through
:mod:`hatespeech.nested`. The int8 / bf16 part (``quantized``) stays plain JSON: its rows are tables the
report shows as they are."""

from __future__ import annotations

from dataclasses import dataclass

from .nested import json_field


@dataclass(frozen=True, kw_only=True)  # keyword-only: the fields keep the JSON's order, ratios first
class SpeedTarget:
    """One speed target at one sentence length: the ratio measured (of medians) against the target, and
    the per-sentence ratios' spread where measured."""

    words: int
    ratio: float | None = json_field(omit_none=True, default=None)  # throughput ratio (one pass)
    median_ratio: float | None = json_field(omit_none=True, default=None)  # latency ratios (streaming)
    last_word_ratio: float | None = json_field(omit_none=True, default=None)
    target: float
    met: bool
    sentence_ratio_median: float | None = json_field(omit_none=True, default=None)
    sentence_ratio_p25: float | None = json_field(omit_none=True, default=None)
    sentence_ratio_p75: float | None = json_field(omit_none=True, default=None)
    sentences: int | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class SpeedTargets:
    """``anticipation_speed.targets``: one pass vs naive batches, streaming vs re-scoring, and whether every
    fast path gives the naive path's probabilities."""

    one_pass_vs_naive_throughput: SpeedTarget | None = json_field(omit_none=True, default=None)
    stream_vs_rescore_latency: SpeedTarget | None = json_field(omit_none=True, default=None)
    equivalence_max_abs_diff: dict[str, float | None] | None = json_field(omit_none=True, default=None)
    equivalence_met: bool | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class ForwardFloor:
    """One decoder forward over a single new token against all tokens: the floor of a streaming update."""

    tokens: int
    one_token_ms: float
    all_tokens_ms: float
    ratio: float | None
    weights_mb: float
    stream_state_mb_at_longest: float | None = json_field(omit_none=True, default=None)


@dataclass(frozen=True)
class CapacityRun:
    """One decoder training mode under one budget (``benchmarks/decoder_capacity.py``)."""

    mode: str
    budget: str  # "equal sentences" | "equal time"
    train_sentences: int
    train_seconds: float
    selection_f1: float
    epochs: int | None = json_field(omit_none=True, default=None)
    memo: bool | None = json_field(omit_none=True, default=None)
    trainable_layers: int | None = None
    lora: bool | None = json_field(omit_none=True, default=None)
    lr: float | None = json_field(omit_none=True, default=None)
    train_prefixes: int | None = json_field(omit_none=True, default=None)
    trainable_parameters: int | None = json_field(omit_none=True, default=None)
    selection_threshold: float | None = json_field(omit_none=True, default=None)
    selection_f1_at_half: float | None = json_field("selection_f1_at_0.5", omit_none=True, default=None)
    selection_sentences: int | None = json_field(omit_none=True, default=None)
    f1_per_minute: float | None = json_field(omit_none=True, default=None)
