"""scripts/compare_metrics.py: which numbers moved between two metrics files (timings and stamps left out)."""

from __future__ import annotations

import json

import compare_metrics


def test_moved_lists_changed_added_and_removed_numbers_only(tmp_path, capsys):
    old = {"a": {"f1": 0.5, "n": 10, "train_seconds": 3.0}, "b": [1, 2], "stamp": {"x": 1}, "gone": 1.0}
    new = {"a": {"f1": 0.52, "n": 10, "train_seconds": 9.0}, "b": [1, 3], "stamp": {"x": 2}, "new": 2.0}
    rows = compare_metrics.moved(old, new, None, 1e-9)
    assert rows == [("a.f1", 0.5, 0.52), ("b[1]", 2.0, 3.0), ("gone", 1.0, None), ("new", None, 2.0)]
    assert compare_metrics.moved(old, new, ["b"], 1e-9) == [("b[1]", 2.0, 3.0)]
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    compare_metrics.main([str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--keys", "a"])
    out = capsys.readouterr()
    assert "a.f1: 0.5 -> 0.52  (+0.02)" in out.out and "1 number(s) moved" in out.err


def test_renames_map_old_keys_to_new_before_comparing(tmp_path, capsys):
    old = {"settings": {"anticipation": {"phase1_epochs": 2, "lr": 1e-4}}}
    new = {"settings": {"anticipation": {"phase1": {"epochs": 2}, "lr": 1e-4}}}
    assert [r[0] for r in compare_metrics.moved(old, new, None, 1e-9)] == [
        "settings.anticipation.phase1.epochs",
        "settings.anticipation.phase1_epochs",
    ]
    assert compare_metrics.moved(old, new, None, 1e-9, [(r"\.phase1_", ".phase1.")]) == []
    (tmp_path / "old.json").write_text(json.dumps(old))
    (tmp_path / "new.json").write_text(json.dumps(new))
    compare_metrics.main(
        [str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--rename", r"\.phase1_=.phase1."]
    )
    assert "0 number(s) moved" in capsys.readouterr().err
