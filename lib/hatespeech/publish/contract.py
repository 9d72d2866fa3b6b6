"""The contract between the experiment notebooks and the report, checked after a build: each notebook that ran
must have left its typed result (:mod:`hatespeech.results`) readable in the staging metrics folder."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ..result_registry import BENCHMARK_RESULTS, NOTEBOOK_RESULTS, writer
from ..results import ResultShapeError

REPORT_METRICS = "report.json"  # written by the report notebook: {"sections": {key: status}, "stamp": ...}


def check_metrics(metrics_dir: Path, ran: Iterable[str], report_ran: bool = False) -> list[str]:
    """Problems with the typed results a build left in ``metrics_dir``.

    ``ran``: numbers of the notebooks executed in this build; each one's result must read back
    (:meth:`Result.read`) with every field; ``report_ran``: the report notebook ran (``report.json``).
    """
    ran = set(ran)
    reports = Path(metrics_dir).parent
    problems = []
    for result in (*NOTEBOOK_RESULTS, *BENCHMARK_RESULTS):
        required = result in NOTEBOOK_RESULTS and writer(result) in ran
        optional_present = result in BENCHMARK_RESULTS and (Path(metrics_dir) / result.FILE).exists()
        if not (required or optional_present):  # earlier builds' results were checked when they were made
            continue
        try:
            if result.read(reports) is None:
                problems.append(f"{result.FILE} holds no {result.__name__} (written by {result.NOTEBOOK})")
        except ResultShapeError as error:
            problems.append(str(error))
    if report_ran:
        path = Path(metrics_dir) / REPORT_METRICS
        try:
            body = json.loads(path.read_text())
            if not isinstance(body, dict) or "sections" not in body:
                problems.append(f"{REPORT_METRICS} lacks 'sections'")
        except (OSError, ValueError) as error:
            problems.append(f"{REPORT_METRICS} missing or unreadable: {error}")
    return problems
