"""The typed rows of the two benchmark results (:class:`~hatespeech.results.BenchmarkResult`,
:class:`~hatespeech.results.DecoderCapacityResult`): the speed targets as measured, the one-token forward
floor, one decoder-capacity run, and the int8 / bf16 scoring beside fp32 (:class:`QuantizedScoring`). Made as
JSON by ``benchmarks/``, read back through :mod:`hatespeech.nested`."""

from __future__ import annotations

from dataclasses import dataclass, field

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


# ============================================================================ int8 / bf16 beside fp32
@dataclass(frozen=True)
class Spread:
    """A per-sentence ratio's median and 25th-75th percentiles (``quantized_scoring.ratio_spread``)."""

    median: float
    p25: float
    p75: float
    sentences: int

    def text(self, digits: int = 1) -> str:
        """ "2.3x (2.1-2.6 over 10 sentences)"."""
        return (
            f"{self.median:.{digits}f}x ({self.p25:.{digits}f}-{self.p75:.{digits}f} over "
            f"{self.sentences} sentences)"
        )


@dataclass(frozen=True)
class RuntimeSplit:
    """int8 runs the exported backbone in ONNX Runtime: the same graph with fp32 weights, timed by that
    runtime, separates the runtime's share of int8's one-token gain from int8's own."""

    runtime: str
    fp32_graph_one_token_ms: float
    fp32_graph_all_tokens_ms: float
    int8_layers: int


@dataclass(frozen=True)
class StreamSplit:
    """A streamed decoder word's speed-up from PyTorch fp32 to int8 (``total``), split into the runtime's
    (ONNX fp32 over PyTorch fp32) and int8's (int8 over ONNX fp32), per sentence."""

    words: int
    runtime: Spread
    int8: Spread
    total: Spread


@dataclass(frozen=True)
class PrecisionSpeed:
    """The decoder at one length in one precision: one-pass re-scoring and streaming, per word."""

    words: int
    mode: str
    one_pass_median_ms: float
    stream_median_ms: float
    stream_p95_ms: float
    stream_last_word_ms: float
    peak_rss_mb: float
    sentences: int


@dataclass(frozen=True)
class EncoderSpeed:
    """An encoder variant typed into, at one length in one precision: each word re-scores the prefix."""

    variant: str
    words: int
    mode: str
    per_word_median_ms: float
    per_word_p95_ms: float
    sentences: int
    int8_vs_fp32_median: float
    int8_vs_fp32_p25: float
    int8_vs_fp32_p75: float

    def int8_spread(self) -> Spread:
        return Spread(self.int8_vs_fp32_median, self.int8_vs_fp32_p25, self.int8_vs_fp32_p75, self.sentences)


@dataclass(frozen=True)
class PrecisionAccuracy:
    """One phase-2 variant scored in one precision: MSE on the held-out phase-2 train sentences (which
    decides the offer) and on the test set (which decides nothing), and the change from fp32."""

    variant: str
    mode: str
    held_out_prefixes: int
    held_out_mse: float
    test_prefixes: int
    test_mse: float
    score_seconds: float
    held_out_abs_mse_change: float
    test_abs_mse_change: float
    max_abs_p_change: float
    offered: bool


@dataclass(frozen=True)
class PrecisionAccuracies:
    """``quantized_scoring.bench_accuracy``: every variant in every precision, or why none was scored."""

    rows: list[PrecisionAccuracy] = field(default_factory=list)
    tolerance: float | None = json_field(omit_none=True, default=None)
    held_out_sentences: int | None = json_field(omit_none=True, default=None)
    test_sentences: int | None = json_field(omit_none=True, default=None)
    offered_by: str | None = json_field(omit_none=True, default=None)
    skipped: str | None = json_field(omit_none=True, default=None)

    def of(self, mode: str) -> list[PrecisionAccuracy]:
        return [row for row in self.rows if row.mode == mode]


@dataclass(frozen=True)
class PrecisionTargets:
    """``quantized_scoring.targets``: per reduced precision, streaming against fp32 one-pass re-scoring and
    against fp32 streaming, and the variants whose held-out MSE change allows it."""

    int8_stream_vs_fp32_one_pass: SpeedTarget | None = json_field(omit_none=True, default=None)
    int8_stream_vs_fp32_stream: SpeedTarget | None = json_field(omit_none=True, default=None)
    bf16_stream_vs_fp32_one_pass: SpeedTarget | None = json_field(omit_none=True, default=None)
    bf16_stream_vs_fp32_stream: SpeedTarget | None = json_field(omit_none=True, default=None)
    int8_offered_for: list[str] | None = json_field(omit_none=True, default=None)
    int8_largest_mse_change: float | None = json_field(omit_none=True, default=None)
    int8_largest_held_out_mse_change: float | None = json_field(omit_none=True, default=None)
    bf16_offered_for: list[str] | None = json_field(omit_none=True, default=None)
    bf16_largest_mse_change: float | None = json_field(omit_none=True, default=None)
    bf16_largest_held_out_mse_change: float | None = json_field(omit_none=True, default=None)

    def against_fp32(self, mode: str) -> tuple[SpeedTarget | None, SpeedTarget | None]:
        """``mode`` streaming against fp32 one-pass re-scoring and against fp32 streaming."""
        return getattr(self, f"{mode}_stream_vs_fp32_one_pass"), getattr(
            self, f"{mode}_stream_vs_fp32_stream"
        )


@dataclass(frozen=True, kw_only=True)  # keyword-only: the fields keep the JSON's order
class QuantizedScoring:
    """``benchmarks/quantized_scoring.py``, kept under ``quantized`` in ``benchmarks.json``: speed rows,
    one-token floors per precision (``fp32``, ``onnx_fp32``, ``int8``, ``bf16``), accuracy and targets."""

    modes: list[str]
    speed_modes: list[str]
    int8_method: str
    int8_runtime_split: RuntimeSplit | None = None
    speed: list[PrecisionSpeed]
    stream_split: StreamSplit | None = None
    encoder_speed: list[EncoderSpeed] = field(default_factory=list)
    forward_floor: dict[str, ForwardFloor]
    accuracy: PrecisionAccuracies
    targets: PrecisionTargets
    torch_threads: int | None = None
    wall_s: float | None = None

    def typing_at_longest(self, variant: str) -> dict[str, EncoderSpeed]:
        """``variant``'s typing rows at the longest length timed, by precision (``fp32``, ``int8``)."""
        longest = max((row.words for row in self.encoder_speed), default=None)
        return {
            row.mode: row for row in self.encoder_speed if row.variant == variant and row.words == longest
        }
