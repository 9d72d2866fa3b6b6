"""hatespeech.anticipation.history: earlier builds' headline numbers beside this build's, on shared
measures."""

from __future__ import annotations

import json

from hatespeech.anticipation.history import RELEASE1_TEST_IDS, headline, moved_lines


def _payload(commit, f1_top_level=True):
    best = {"f1": 0.5} if f1_top_level else {"f1": 0.6, "random_prefix": {"f1": 0.55}}
    return {
        "stamp": {"git_commit": commit},
        "phase1": {"encoder": {**best, "training": {"train_sentences": 2500}}},
        "phase1_baselines": {"tfidf_logistic": {"f1": 0.45}},
        "phase1_evidence": {"best_variant": "encoder"},
        "phase2_evidence": {
            "best_variant": "encoder",
            "n_units": 50,
            "intervals": {"phase2:encoder": {"estimate": 0.03}},
        },
    }


def test_headline_reads_old_and_new_layouts():
    old = headline(_payload("aaaaaaaaa"))
    assert old["phase1_best_f1_random_prefix"] == 0.5 and old["phase2_best"] == "phase2:encoder"
    new = _payload("bbbbbbbbb", f1_top_level=False)
    new["phase2_evidence"].update(
        {"best_model": "no_phase1:encoder", "release1_subset": {"no_phase1:encoder": 0.02}}
    )
    new["phase2_evidence"]["intervals"]["no_phase1:encoder"] = {"estimate": 0.025}
    h = headline(new)
    assert h["phase1_best_f1_random_prefix"] == 0.55  # the one-random-prefix view, not the headline F1
    assert h["phase2_best_mse"] == 0.025 and h["phase2_best_mse_release1_sentences"] == 0.02
    assert len(RELEASE1_TEST_IDS) == 50 and "s480" in RELEASE1_TEST_IDS and "s600" not in RELEASE1_TEST_IDS


def test_moved_lines_need_snapshots(tmp_path):
    assert moved_lines(_payload("c"), tmp_path) == []
    history = tmp_path / "metrics" / "history"
    history.mkdir(parents=True)
    (history / "anticipation_release1.json").write_text(json.dumps(_payload("1234567890")))
    lines = moved_lines(_payload("abcdef0123", f1_top_level=False), tmp_path)
    assert (
        len(lines) == 2 and "build 1234567" in lines[0] and "this build's methods (build abcdef0)" in lines[1]
    )
    assert "F1 on one random prefix per evaluation sentence 0.550" in lines[1]
