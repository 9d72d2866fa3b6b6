"""The contract between the experiment notebooks and the report: which metrics JSON files a build must leave,
with which keys, once their notebooks have run."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class MetricsSpec:
    """What a metrics JSON must hold: ``keys`` once every notebook in ``written_by`` has run."""

    keys: tuple[str, ...]
    written_by: tuple[str, ...]  # notebook numbers ("01", ...); empty = optional file, checked when present
    optional: bool = False


# ``stamp`` is added by hatespeech.stamp.write_metrics.
EXPECTED_METRICS: dict[str, MetricsSpec] = {
    "data.json": MetricsSpec(("sources", "splits", "stamp"), ("01",)),
    "anticipation.json": MetricsSpec(
        ("phase1", "phase2", "baselines", "annotator_agreement", "earliness", "profile", "models", "stamp"),
        ("02", "03"),
    ),
    "dualhead.json": MetricsSpec(
        ("head_n", "head_i", "separate_models", "grid", "bias", "profile", "data", "stamp"), ("04", "05")
    ),
    "benchmarks.json": MetricsSpec(("stamp",), (), optional=True),
    "report.json": MetricsSpec(("sections", "stamp"), ("06",)),
}


def check_metrics(metrics_dir: Path, ran: Iterable[str], present: Iterable[str] | None = None) -> list[str]:
    """Problems with the metrics JSON files, by :data:`EXPECTED_METRICS`.

    ``ran``: notebook numbers executed in this build; ``present``: numbers of the notebooks that exist.
    A file whose writers all ran must exist with every key; one whose writers ran only in part must exist.
    """
    ran = set(ran)
    present = set(present) if present is not None else ran
    problems = []
    for name, spec in EXPECTED_METRICS.items():
        path = Path(metrics_dir) / name
        writers = set(spec.written_by)
        if spec.optional or not writers:
            if not path.exists():
                continue
            required = spec.keys
        elif writers <= ran:
            required = spec.keys
        elif writers & ran:
            required = ()
        else:
            continue
        if not path.exists():
            problems.append(f"{name} missing (written by notebook {', '.join(sorted(writers & ran))})")
            continue
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            problems.append(f"{name} unreadable: {error}")
            continue
        missing = [k for k in required if k not in body]
        if missing:
            problems.append(f"{name} lacks keys {missing} (has {sorted(body)})")
    return problems
