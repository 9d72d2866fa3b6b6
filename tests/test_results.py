"""The typed-result base (hatespeech.results): JSON round trip, named missing fields, merge on write, reading
back what is (not) there. The experiments' results are tested with their experiments and in test_report.py."""

from __future__ import annotations

import json

import pytest
from hatespeech import paths
from hatespeech.results import BenchmarkResult, DataResult, ResultShapeError


@pytest.fixture
def metrics_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "metrics_dir", lambda: tmp_path / "metrics")
    (tmp_path / "metrics").mkdir()
    return tmp_path / "metrics"


def _data(profile: str = "smoke") -> DataResult:
    return DataResult(
        profile=profile,
        sources={"olid": {"rows_raw": 10, "rows_kept": 9, "filtered": {"empty_text": 1}}},
        load_seconds=1.5,
    )


def test_round_trip_and_required_fields():
    result = _data()
    assert DataResult.from_json(result.to_json()) == result
    assert DataResult.required_fields() == ["profile", "sources"]
    with pytest.raises(ResultShapeError, match=r"data.json lacks 'sources' \(fields of DataResult\)"):
        DataResult.from_json({"profile": "smoke"})
    with pytest.raises(ResultShapeError, match="expected a JSON object"):
        DataResult.from_json([1, 2])


def test_write_merges_results_of_one_file_and_their_wall_times(metrics_dir):
    _data().write("smoke")
    first = json.loads((metrics_dir / "data.json").read_text())
    assert first["stamp"]["profile"] == "smoke" and first["sources"]["olid"]["rows_kept"] == 9
    later = _data()
    later.wall_seconds = {"01_data": 3.0}
    later.sources = {"davidson": {"rows_raw": 5, "rows_kept": 5, "filtered": {}}}
    later.write("smoke")
    body = json.loads((metrics_dir / "data.json").read_text())
    assert list(body["sources"]) == ["davidson"]  # a field is replaced whole, never merged key by key
    assert body["wall_seconds"] == {"01_data": 3.0}
    (metrics_dir / "data.json").write_text(json.dumps({**body, "extra": 1, "wall_seconds": {"x": 1.0}}))
    _data().write("smoke")
    body = json.loads((metrics_dir / "data.json").read_text())
    assert body["extra"] == 1 and body["wall_seconds"] == {"x": 1.0}  # another writer's fields are kept
    _data(profile="cpu").write("cpu")  # another profile's file is replaced, not merged
    assert "extra" not in json.loads((metrics_dir / "data.json").read_text())


def test_read_is_none_when_absent_or_not_run(metrics_dir):
    reports = metrics_dir.parent
    assert DataResult.read(reports) is None
    (metrics_dir / "benchmarks.json").write_text(json.dumps({"profile": "cpu", "rows": []}))
    assert BenchmarkResult.read(reports) is None  # no "targets": the benchmark did not run
    (metrics_dir / "data.json").write_text("{not json")
    with pytest.raises(ResultShapeError, match=r"data.json is not valid JSON"):
        DataResult.read(reports)
    _data().write("smoke")
    read = DataResult.read(reports)
    assert read.sources == _data().sources and read.stamp["profile"] == "smoke"
    assert read.findings() == ["1 sources, 10 rows read, 9 kept; filtered on purpose: empty_text: 1."]
    assert read.tables()[0][1].loc["olid", "filtered"] == 1
    assert set(read.appendix()) == {"load_seconds"}  # what the findings and tables do not show


def test_require_names_the_notebook_to_run_first(metrics_dir):
    from hatespeech.results import UpstreamMissingError, require

    with pytest.raises(
        UpstreamMissingError, match=r"needs what notebooks/01_data.ipynb writes under profile 'cpu'"
    ):
        require("cpu", DataResult, by="notebook 02")
    _data("smoke").write("smoke")
    with pytest.raises(UpstreamMissingError, match=r"the one there was made with profile 'smoke'.*--only 01"):
        require("cpu", DataResult, by="notebook 02")
    assert require("smoke", DataResult)[0].sources == _data().sources
