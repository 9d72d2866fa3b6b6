"""What moved the anticipation numbers: the data, or the methods.

``reports/metrics/history/`` keeps the ``anticipation.json`` of earlier cpu builds, each stamped with the
commit that made it: release 1 of the phase-2 set with the earlier methods, and release 2 with the same
methods (notebooks 01-03 rebuilt with no method change). :func:`moved_lines` puts their headline numbers
beside the current build's, each on the measure those builds share (phase 1: F1 on one random prefix per
evaluation sentence, the draw every build makes; phase 2: test MSE on release 1's 50 test sentences and on
all test sentences). Reads JSON only (no torch).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..results import metrics_folder

#: Snapshot file -> what it is (in build order).
SNAPSHOTS = {
    "anticipation_release1.json": "release 1 (50 test sentences), earlier methods",
    "anticipation_release2_data_only.json": "release 2 (250 test sentences), the same earlier methods",
}
#: Release 1's test sentences: the first 50 of release 2's test set (prefix_probability/README.md).
RELEASE1_TEST_IDS = frozenset(f"s{i}" for i in range(480, 530))


def _random_prefix_f1(payload: dict[str, Any], name: str) -> float | None:
    """F1 on one random prefix per evaluation sentence: the top level in earlier builds, ``random_prefix``
    now."""
    entry = payload.get("phase1", {}).get(name) or payload.get("phase1_baselines", {}).get(name)
    if not entry:
        return None
    return (entry.get("random_prefix") or entry).get("f1")


def headline(payload: dict[str, Any]) -> dict[str, Any]:
    """The numbers every build shares, from one ``anticipation.json`` payload."""
    ev1 = payload.get("phase1_evidence", {})
    ev2 = payload.get("phase2_evidence", {})
    best1 = ev1.get("best_variant")
    best2 = ev2.get("best_model") or (f"phase2:{ev2['best_variant']}" if ev2.get("best_variant") else None)
    interval = ev2.get("intervals", {}).get(best2, {})
    release1 = ev2.get("release1_subset", {})
    return {
        "commit": str(payload.get("stamp", {}).get("git_commit", "?"))[:7],
        "phase1_best": best1,
        "phase1_best_f1_random_prefix": _random_prefix_f1(payload, best1) if best1 else None,
        "phase1_tfidf_f1_random_prefix": _random_prefix_f1(payload, "tfidf_logistic"),
        "phase1_train_sentences": (payload.get("phase1", {}).get(best1, {}).get("training") or {}).get(
            "train_sentences"
        )
        if best1
        else None,
        "phase2_best": best2,
        "phase2_best_mse": interval.get("estimate"),
        "phase2_test_sentences": ev2.get("n_units"),
        "phase2_best_mse_release1_sentences": release1.get(best2) if release1 else None,
    }


def moved_lines(current: dict[str, Any], reports: Path | None = None) -> list[str]:
    """One sentence per earlier build found in ``<reports>/metrics/history/`` and one for ``current`` (an
    ``anticipation.json`` payload), on the shared measures; [] without snapshots."""
    folder = metrics_folder(reports) / "history"
    rows = []
    for name, what in SNAPSHOTS.items():
        path = folder / name
        if path.exists():
            rows.append((what, headline(json.loads(path.read_text()))))
    if not rows:
        return []
    rows.append(("release 2, this build's methods", headline(current)))
    lines = []
    for what, h in rows:
        f1 = h["phase1_best_f1_random_prefix"]
        tfidf = h["phase1_tfidf_f1_random_prefix"]
        mse = h["phase2_best_mse"]
        subset = h["phase2_best_mse_release1_sentences"]
        lines.append(
            f"What moved the numbers, {what} (build {h['commit']}): phase-1 best {h['phase1_best']} on "
            f"{h['phase1_train_sentences']} train sentences, F1 on one random prefix per evaluation sentence "
            + (f"{f1:.3f}" if f1 is not None else "–")
            + " (TF-IDF "
            + (f"{tfidf:.3f}" if tfidf is not None else "–")
            + f"); phase-2 best {h['phase2_best']}, test MSE "
            + (f"{mse:.4f}" if mse is not None else "–")
            + f" on {h['phase2_test_sentences']} test sentences"
            + (f" ({subset:.4f} on release 1's 50)" if subset is not None else "")
            + "."
        )
    return lines
