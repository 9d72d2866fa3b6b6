"""The one list of the study's typed results (:mod:`hatespeech.results`): what each notebook and benchmark
writes, used by the build to check that every notebook that ran left its result (:mod:`hatespeech.publish`)
and by the report to read them back (:mod:`hatespeech.report`). Importing it needs no torch."""

from __future__ import annotations

from pathlib import Path

from .anticipation.continuation_result import ContinuationResult
from .anticipation.results import Phase1Result, Phase2Result
from .dualhead.results import DualHeadResult, GridResult
from .functional.results import FunctionalResult
from .results import BenchmarkResult, DataResult, DecoderCapacityResult, Result, ResultShapeError

# What each experiment notebook writes (its number is the first two characters of Result.NOTEBOOK's name).
NOTEBOOK_RESULTS: tuple[type[Result], ...] = (
    DataResult,
    Phase1Result,
    Phase2Result,
    DualHeadResult,
    GridResult,
    FunctionalResult,
    ContinuationResult,
)
# Written by the scripts in benchmarks/, not by a notebook: read when present.
BENCHMARK_RESULTS: tuple[type[Result], ...] = (BenchmarkResult, DecoderCapacityResult)
ALL_RESULTS: tuple[type[Result], ...] = NOTEBOOK_RESULTS + BENCHMARK_RESULTS


def writer(result: type[Result]) -> str:
    """The number of the notebook that writes ``result`` ("02" for notebooks/02_phase1.ipynb)."""
    return Path(result.NOTEBOOK).name[:2]


def read_results(reports: Path | None = None) -> dict[type[Result], Result]:
    """Every result of a build that reads back (absent or ill-shaped ones left out: the build's check names
    those, :func:`hatespeech.publish.checks.check_metrics`)."""
    out = {}
    for cls in ALL_RESULTS:
        try:
            result = cls.read(reports)
        except ResultShapeError:
            result = None
        if result is not None:
            out[cls] = result
    return out
