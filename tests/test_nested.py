"""Typed nested results (hatespeech.nested): JSON in, dataclasses out, the same JSON back; a renamed or
missing nested key fails on reading with the path to it."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest
from hatespeech.anticipation.evidence_types import (
    CalibrationBin,
    ClassificationScores,
    EarlinessRow,
    Phase1Row,
    RegressionRow,
)
from hatespeech.functional.results import Discrimination, FunctionalResult, PairedMeasures, SystemInfo
from hatespeech.metrics.bootstrap import Interval, PairedDifference
from hatespeech.nested import ResultShapeError, decode, encode, json_field


@dataclass(frozen=True)
class Row:
    name: str
    at_half: float = json_field("at_0.5")
    spread: Interval | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = json_field(omit_none=True, default=None)  # older files lack the key: none is left out


def test_decode_reads_dataclasses_lists_dicts_and_json_keys():
    payload = {
        "a": {"name": "a", "at_0.5": 0.5, "spread": Interval(0.5, 0.4, 0.6).to_json(), "tags": ["x"]},
        "b": {"name": "b", "at_0.5": 0.7, "spread": {}},
    }
    rows = decode(dict[str, Row], payload, "rows")
    assert rows["a"] == Row("a", 0.5, Interval(0.5, 0.4, 0.6, n_units=0, n_resamples=0), ["x"])
    assert rows["b"].spread is None  # under "X | None" an empty object stands for none
    assert encode(rows["a"]) == payload["a"]  # no "note": a None it may omit is left out
    assert encode(Row("c", 1.0, note="n"))["note"] == "n"
    assert decode(list[Row], [payload["a"]], "rows")[0].at_half == 0.5
    assert decode(dict[str, float], {"x": 1.0}, "plain") == {"x": 1.0}  # no dataclass: as it is


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "a"}, r"rows\[0\] lacks 'at_0.5' \(fields of Row\)"),
        ({"name": "a", "at_0.5": 1, "spread": {"low": 0, "high": 1}}, r"rows\[0\]\.spread lacks 'estimate'"),
        ("a", r"rows\[0\]: expected a JSON dict, got str"),
    ],
)
def test_decode_names_the_path_of_a_missing_or_wrong_value(payload, message):
    with pytest.raises(ResultShapeError, match=message):
        decode(list[Row], [payload], "rows")


def _paired(a: float, b: float) -> PairedDifference:
    return PairedDifference(
        Interval(a, a - 0.1, a + 0.1),
        Interval(b, b - 0.1, b + 0.1),
        Interval(a - b, -0.05, 0.2),
        True,
        "x",
        "y",
    )


def _renamed(payload: dict, path: tuple, old: str, new: str) -> dict:
    """``payload`` with the key ``old`` of the object at ``path`` renamed ``new`` (in place)."""
    place = payload
    for key in path:
        place = place[key]
    place[new] = place.pop(old)
    return payload


CASES = {
    "n_cases": 10, "n_templates": 4, "n_hateful": 6, "n_non_hateful": 4, "functionalities": 2,
    "target_groups": ["women"], "use": "evaluation only", "sampled": True, "n_families": 3,
}  # fmt: skip


def _functional_payload() -> dict:
    row = {
        "system": "phase2:encoder", "threshold": 0.4, "n_cases": 10, "n_families": 3,
        "auc": 0.7, "auc_low": 0.6, "auc_high": 0.8,
        "balanced_accuracy": 0.65, "balanced_accuracy_low": 0.6, "balanced_accuracy_high": 0.7,
        "hateful_accuracy": 0.7, "non_hateful_accuracy": 0.6,
        "balanced_accuracy_at_0.5": 0.6, "balanced_accuracy_at_0.5_low": 0.5,
        "balanced_accuracy_at_0.5_high": 0.7,
        "hateful_accuracy_at_0.5": 0.5, "non_hateful_accuracy_at_0.5": 0.7,
    }  # fmt: skip
    system = SystemInfo("phase2", "encoder", "d", 0.4, "held-out", Interval(0.4, 0.3, 0.5, 0.95, 48, 100))
    measures = PairedMeasures(_paired(0.7, 0.6), _paired(0.65, 0.6), _paired(0.7, 0.8), _paired(0.6, 0.5))
    return {
        "profile": "smoke",
        "wall_seconds": {},
        "cases": dict(CASES),
        "systems": {"phase2:encoder": encode(system)},
        "accuracy": [],
        "alarms": [],
        "forgetting": {"encoder": encode(measures)},
        "remedy": {},
        "best_system": "phase2:encoder",
        "discrimination": [row],
        "detector_vs": {"phase2:encoder": encode(measures)},
        "target": None,
        "settings": {},
        "scoring_seconds": None,
    }


def test_functional_result_is_typed_all_the_way_down_and_writes_the_same_json():
    payload = _functional_payload()
    result = FunctionalResult.from_json(copy.deepcopy(payload))
    assert isinstance(result.systems["phase2:encoder"], SystemInfo)
    assert isinstance(result.systems["phase2:encoder"].threshold_interval, Interval)
    assert isinstance(result.discrimination[0], Discrimination)
    assert result.discrimination[0].balanced_accuracy_at_half == 0.6
    assert isinstance(result.forgetting["encoder"].auc, PairedDifference)
    assert isinstance(result.detector_vs["phase2:encoder"].balanced_accuracy, PairedDifference)
    assert result.remedy is None
    assert result.to_json() == {**payload, "remedy": None}  # {} meant "no rehearsal"; it is written as null
    assert result.discriminating("phase2:encoder").text("auc") == "0.70 [0.60, 0.80]"


@pytest.mark.parametrize(
    ("path", "old", "new", "message"),
    [
        (("discrimination", 0), "auc_low", "auc_lo", r"functional.json: discrimination\[0\] lacks 'auc_low'"),
        (("systems", "phase2:encoder"), "threshold_source", "source", r"systems\.phase2:encoder lacks"),
        (("forgetting", "encoder"), "auc", "roc_auc", r"forgetting\.encoder lacks 'auc'"),
        (("forgetting", "encoder", "hateful"), "difference", "diff", r"forgetting\.encoder\.hateful lacks"),
    ],
)
def test_a_renamed_nested_field_fails_on_reading(path, old, new, message):
    payload = _renamed(_functional_payload(), path, old, new)
    with pytest.raises(ResultShapeError, match=message):
        FunctionalResult.from_json(payload)


def test_a_field_set_in_code_is_typed_like_one_read_from_a_file():
    payload = _functional_payload()
    result = FunctionalResult.from_json(copy.deepcopy(payload))
    result.forgetting = copy.deepcopy(payload["forgetting"])  # JSON-shaped, as a notebook may assign it
    assert isinstance(result.forgetting["encoder"].hateful, PairedDifference)
    settings = {"n_resamples": 10}
    result.settings = settings  # plain JSON fields are kept as they are, the same object
    assert result.settings is settings
    with pytest.raises(ResultShapeError, match=r"FunctionalResult.forgetting\.encoder lacks 'auc'"):
        result.forgetting = {"encoder": {"hateful": payload["forgetting"]["encoder"]["hateful"]}}


def _scores(**extra) -> dict:
    base = {"accuracy": 0.8, "f1": 0.5, "precision": 0.4, "recall": 0.6, "positive_share": 0.2}
    return {**base, "predicted_positive_share": 0.3, **extra}


def _anticipation_rows() -> dict:
    """One phase-1 row, one phase-2 row and one earliness row, shaped as anticipation.json holds them."""
    phase1 = _scores(
        threshold=0.4,
        weighting="each sentence weighs 1",
        n_sentences=10,
        n_prefixes=80,
        **{"at_0.5": _scores()},
        by_source={"olid": _scores(threshold=0.4, weight=5.0, n=40)},
        training={"epochs": 1},
    )
    calibration = [{"bin_low": 0.0, "bin_high": 0.1, "n": 5, "mean_pred": 0.05, "mean_true": None}]
    phase2 = {"mse": 0.03, "mae": 0.1, "pearson": 0.7, "n": 80, "ece": 0.04, "calibration": calibration}
    early = {
        "threshold": 0.5, "n_hateful": 4, "n_not_hateful": 6, "detection_rate": 0.75,
        "share_seen_mean": 0.5, "share_seen_median": 0.5, "false_alarm_rate": None,
        "detection_rate_ci": [0.3, 0.95], "false_alarm_rate_ci": None,
    }  # fmt: skip
    return {"phase1": {"encoder": phase1}, "phase2": {"encoder": phase2}, "early": {"phase2:encoder": early}}


ANTICIPATION_HINTS = {
    "phase1": dict[str, Phase1Row],
    "phase2": dict[str, RegressionRow],
    "early": dict[str, EarlinessRow],
}


def test_anticipation_rows_are_typed_and_write_the_same_json():
    payload = _anticipation_rows()
    rows = {k: decode(ANTICIPATION_HINTS[k], copy.deepcopy(v), k) for k, v in payload.items()}
    encoder = rows["phase1"]["encoder"]
    assert isinstance(encoder.at_half, ClassificationScores) and encoder.by_source["olid"].weight == 5.0
    assert isinstance(rows["phase2"]["encoder"].calibration[0], CalibrationBin)
    assert rows["early"]["phase2:encoder"].false_alarm_rate is None
    assert {k: encode(v) for k, v in rows.items()} == payload


@pytest.mark.parametrize(
    ("path", "old", "new", "message"),
    [
        (("phase1", "encoder", "by_source", "olid"), "f1", "F1", r"by_source\.olid lacks 'f1'"),
        (("phase1", "encoder", "at_0.5"), "recall", "rec", r"phase1\.encoder\.at_0\.5 lacks 'recall'"),
        (("phase2", "encoder"), "mse", "MSE", r"phase2\.encoder lacks 'mse'"),
        (("phase2", "encoder", "calibration", 0), "mean_true", "true", r"calibration\[0\] lacks 'mean_true'"),
        (("early", "phase2:encoder"), "n_hateful", "hateful", r"early\.phase2:encoder lacks 'n_hateful'"),
    ],
)
def test_a_renamed_anticipation_field_fails_on_reading(path, old, new, message):
    payload = _renamed(_anticipation_rows(), path, old, new)
    with pytest.raises(ResultShapeError, match=message):
        decode(ANTICIPATION_HINTS[path[0]], payload[path[0]], path[0])
