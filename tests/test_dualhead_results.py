"""hatespeech.dualhead.results: the two typed results of dualhead.json, built by the production functions from
synthetic splits and predictions (no model is trained): JSON round trips, missing fields named, the merge of
both results into one file, and their findings and tables."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pandas as pd
import pytest
from hatespeech.config import get_profile
from hatespeech.dualhead import (
    DualHeadResult,
    GridResult,
    GridRun,
    TrainedModel,
    bias_of,
    dualhead_result,
    evaluate,
    rare_label_confusion,
    training,
)
from hatespeech.references import PUBLISHED_BIAS
from hatespeech.results import ResultShapeError
from synthetic import predictions, synthetic_splits

NOISE = {1.0: 0.7, 10.0: 0.55}  # focal weight lambda -> prediction noise: lambda 10 wins on validation
TIMINGS = {"data_and_splits": 0.5, "joint_train": 15.0, "joint_predict": 0.2, "notebook_total": 9.0}
DUALHEAD_KEYS = {
    "head_n",
    "head_i",
    "separate_models",
    "bias",
    "rare_label_confusion",
    "training",
    "timings_seconds",
    "threshold_search",
    "label_map",
    "model",
    "focal_lambda_choice",
    "data",
    "baselines",
}


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))
    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path / "reports"))
    return get_profile("smoke")


@pytest.fixture(scope="module")
def splits():
    return synthetic_splits(n=400, fractions=(0.5, 0.25, 0.25))


def trained_model(heads: str, n_train: int, seconds: float, model=None) -> TrainedModel:
    return TrainedModel(model, pd.DataFrame(), heads, seconds, n_train, 1.0, train_cpu_seconds=seconds * 1.5)


@pytest.fixture(scope="module")
def run(splits):
    """Notebook 04's objects: the lambda choice (its fits and predictions faked, its evaluation real), the
    two separate models' reports, the bias metric and the rarest labels (once: evaluation takes seconds)."""

    def fake_fit(profile, splits, datasets, tokenizer, heads="both", focal_lambda=None, **kw):
        return trained_model(heads, len(splits.frame("train")), 2.0 + focal_lambda, model=focal_lambda)

    def fake_predict(model, split, *args, **kwargs):  # the fake model is its lambda, the "dataset" a split
        return predictions(splits, split, NOISE[model], int(model))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "fit", fake_fit)
        patch.setattr(training, "predict", fake_predict)
        choice = training.fit_joint_choosing_lambda(
            get_profile("smoke"), splits, {"val": "val", "test": "test"}, None, (1.0, 10.0)
        )
    separate = {}
    for head in ("n", "i"):
        preds = {s: predictions(splits, s, 0.6, 7, heads=head) for s in ("val", "test")}
        separate[head] = evaluate(splits, preds, heads=head)[head]
    n_train = len(splits.frame("train"))
    trained = {
        "joint": choice.trained,
        "separate_n": trained_model("n", n_train // 2, 4.0),
        "separate_i": trained_model("i", n_train // 2, 3.0),
    }
    return {
        "choice": choice,
        "separate": separate,
        "trained": trained,
        "bias": bias_of(splits, choice.preds["test"], min_subgroup_size=2),
        "rare": {
            h: rare_label_confusion(splits, choice.preds["test"], choice.reports[h], h) for h in ("n", "i")
        },
    }


@pytest.fixture(scope="module")
def result(splits, run) -> DualHeadResult:
    return dualhead_result(
        get_profile("smoke"),
        splits,
        run["choice"].reports,
        run["separate"],
        run["trained"],
        run["bias"],
        run["rare"],
        dict(TIMINGS),
        run["choice"],
    )


def grid_run() -> GridRun:
    rng = np.random.default_rng(0)
    cells = [(g, a) for g in (0.5, 2.0) for a in (0.25, 1.0)]
    table = pd.DataFrame(
        [
            {
                "gamma": g,
                "alpha": a,
                "val_macro_f1": 0.4 + 0.05 * g + 0.02 * a,
                "test_macro_f1": 0.38 + 0.04 * g,
                "test_macro_f1_at_0.5": 0.3,
                "train_seconds": 1.0,
            }
            for g, a in cells
        ]
    )
    return GridRun(table, {cell: rng.random((6, 3)) for cell in cells}, "cached_features", "synthetic", 0.0)


def test_dualhead_result_has_one_field_per_key_and_round_trips(result):
    payload = result.to_json()
    assert set(payload) == DUALHEAD_KEYS | {"profile", "wall_seconds"}
    assert payload["wall_seconds"] == {"04_dualhead": 9.0} and payload["profile"] == "smoke"
    assert DualHeadResult.from_json(payload) == result
    assert DualHeadResult.from_json(json.loads(json.dumps(payload))).to_json() == payload
    assert result.focal_lambda_choice.picked == 10.0 and result.model["focal_lambda"] == 10.0
    assert result.training["joint"]["train_seconds"] == 12.0  # the kept lambda's model


def test_grid_result_round_trips(settings, splits):
    result = grid_run().result(settings, splits, notebook_seconds=2.5)
    payload = result.to_json()
    assert set(payload) == {"grid", "grid_pick", "grid_info", "profile", "wall_seconds"}
    assert GridResult.from_json(json.loads(json.dumps(payload))) == result
    assert payload["grid_pick"] == {
        "gamma": 2.0,
        "alpha": 1.0,
        "val_macro_f1": pytest.approx(0.52),
        "test_macro_f1": pytest.approx(0.46),
        "selected_on": "validation identity macro-F1 (val-tuned thresholds)",
    }
    assert result.grid_pick.val_macro_f1 == pytest.approx(0.52)


@pytest.mark.parametrize("missing", ["bias", "focal_lambda_choice", "head_i"])
def test_missing_dualhead_field_is_named(result, missing):
    payload = result.to_json()
    del payload[missing]
    with pytest.raises(
        ResultShapeError, match=rf"dualhead.json lacks '{missing}' \(fields of DualHeadResult\)"
    ):
        DualHeadResult.from_json(payload)


def test_missing_grid_field_is_named(settings, splits):
    payload = grid_run().result(settings, splits, 1.0).to_json()
    del payload["grid_pick"], payload["grid_info"]
    with pytest.raises(ResultShapeError, match=r"lacks 'grid_pick', 'grid_info' \(fields of GridResult\)"):
        GridResult.from_json(payload)


def test_both_results_merge_into_one_file(result, settings, splits):
    path = result.write(settings)
    body = json.loads(path.read_text())
    assert path.name == "dualhead.json" and "grid" not in body  # notebook 04 alone: no grid, no placeholder
    assert GridResult.read() is None and DualHeadResult.read().to_json() == result.to_json()
    grid = grid_run().result(settings, splits, notebook_seconds=2.5)
    grid.write(settings)
    body = json.loads(path.read_text())
    assert DUALHEAD_KEYS | {"grid", "grid_pick", "grid_info", "stamp"} <= set(body)
    assert body["wall_seconds"] == {"04_dualhead": 9.0, "05_focal_grid": 2.5}
    assert GridResult.read().grid == grid.grid and DualHeadResult.read().bias == result.bias


def test_findings_carry_the_intervals_when_measured(splits, run):
    from hatespeech.dualhead.intervals import all_intervals

    profile = get_profile(
        "smoke", **{"dualhead.bootstrap_resamples": 50, "dualhead.bias_min_subgroup_size": 2}
    )
    choice = run["choice"]
    test = {h: getattr(choice.preds["test"], f"probs_{h}") for h in ("n", "i")}
    separate_test = {h: predictions(splits, "test", 0.6, 7, heads=h) for h in ("n", "i")}
    separate_probs = {h: getattr(separate_test[h], f"probs_{h}") for h in ("n", "i")}
    intervals = all_intervals(profile, splits, test, choice.reports, separate_probs, run["separate"])
    result = dualhead_result(
        profile,
        splits,
        choice.reports,
        run["separate"],
        run["trained"],
        run["bias"],
        run["rare"],
        dict(TIMINGS),
        choice,
        intervals,
    )
    heads, separate, _, bias_line = result.findings()
    assert heads.startswith("Macro-F1 on test (95% intervals over resampled test texts): toxicity-type head ")
    assert heads.count("[") == 2
    assert "shared minus separate" in separate and separate.count("[") == 2
    assert "(95% interval, test texts resampled within each stratum" in bias_line
    assert result.separate_models.paired_shared_minus_separate["head_n"].difference.n_resamples == 50
    _, heads_table = result.tables()[0]
    assert {"95% interval (test texts)", "shared minus separate", "verdict"} <= set(heads_table.columns)
    _, training_table = result.tables()[1]
    assert "shared encoder incl. the lambda search (2 joint models)" in training_table.index


def test_dualhead_findings_are_plain_text_with_verdicts(result, run):
    reports, bias = run["choice"].reports, result.bias
    heads, separate, lam, bias_line = result.findings()
    assert heads == (
        f"Macro-F1 on test: toxicity-type head {reports['n']['macro_f1']:.3f}, identity head "
        f"{reports['i']['macro_f1']:.3f}."
    )
    assert separate.startswith(
        "Shared encoder vs separate models, test macro-F1 (one seed and one split, no interval: "
    )
    assert f"head_n {reports['n']['macro_f1']:.3f} vs" in separate
    assert "picked on validation among 2 joint models" in separate
    rows = {r["lambda"]: r["val_macro_f1_mean"] for r in result.focal_lambda_choice.table}
    assert lam == (
        f"Focal weight picked on validation: lambda 10 (mean validation macro-F1 of the two heads "
        f"{rows[10.0]:.3f}; lambda 1: {rows[1.0]:.3f})."
    )
    assert bias.final_x100 is not None and f"as a percentage: {bias.final_x100:.3f}." in bias_line
    assert all(f"{name} {value}" in bias_line for name, value in PUBLISHED_BIAS.items())
    assert bias_line.endswith("NOT comparable: this run's data is not the Jigsaw Unintended Bias set.")
    assert not any(re.search(r"</?[a-z]+>", line) for line in result.findings())
    skipped = {"asian": "1 members", "black": "x"}
    not_computed = dataclasses.replace(
        result, bias=dataclasses.replace(bias, final_x100=None, skipped_subgroups=skipped)
    )
    assert not_computed.findings()[-1] == (
        "Jigsaw bias score not computed in this run: 2 subgroups skipped (too few members or a single class; "
        "reasons in the metrics JSON): asian, black."
    )


def test_dualhead_tables(result, run, splits):
    tables = dict(result.tables())
    heads = tables["macro-F1 per head: one shared encoder vs the seed's two separate models"]
    assert list(heads.index) == ["head_n", "head_i"]
    assert heads.loc["head_i", "separate model: test macro-F1"] == pytest.approx(
        run["separate"]["i"]["macro_f1"]
    )
    assert heads.loc["head_n", "test macro-F1 (0.5)"] == result.head_n.macro_f1_at_half
    training_table = tables["training: shared encoder vs separate models"]
    assert training_table["train seconds"].tolist() == [12.0, 4.0, 3.0, 15.0]  # + the lambda search (3 + 12)
    lambdas = tables["focal weight lambda: one joint model per candidate (10 kept, on validation)"]
    assert lambdas.index.tolist() == [1.0, 10.0] and "val_macro_f1_mean" in lambdas.columns
    per_label = tables["head_n: test metrics per label (tuned threshold)"]
    assert list(per_label.index) == splits.label_names_n and {"f1", "f1 at 0.5", "threshold"} <= set(
        per_label
    )
    assert list(tables["head_i: test metrics per label (tuned threshold)"].index) == splits.label_names_i
    summary = tables["bias metric (Jigsaw Unintended Bias definition)"]["value"]
    assert (
        summary["final x100"] == result.bias.final_x100
        and summary["score"] == "P(toxic) on the toxigen test rows"
    )
    per_subgroup = tables["bias metric per identity subgroup"]
    assert set(per_subgroup.index) == set(result.bias.per_subgroup) and "subgroup_auc" in per_subgroup
    # what the findings and tables show is curated; the rest goes to the appendix as it is
    assert set(result.appendix()) == DUALHEAD_KEYS - set(DualHeadResult.CURATED)


def test_without_separate_models_or_lambda_choice(settings, splits, run):
    result = dualhead_result(
        settings,
        splits,
        run["choice"].reports,
        None,
        {"joint": run["choice"].trained},
        run["bias"],
        run["rare"],
        {"joint_train": 1.0},
        None,
    )
    skipped = {"skipped": "profile.dualhead.train_separate_models is False"}
    assert result.to_json()["separate_models"] == skipped
    assert (
        result.focal_lambda_choice is None and result.model["focal_lambda"] == settings.dualhead.focal_lambda
    )
    assert result.wall_seconds == {}
    findings = result.findings()
    assert len(findings) == 3 and findings[1] == (
        "The seed's two separate models were not trained: profile.dualhead.train_separate_models is False."
    )
    titles = [title for title, _ in result.tables()]
    assert not any(t.startswith(("training:", "focal weight lambda")) for t in titles)
    heads = dict(result.tables())["macro-F1 per head: one shared encoder vs the seed's two separate models"]
    assert "separate model: test macro-F1" not in heads.columns


def test_grid_findings_and_tables(settings, splits):
    result = grid_run().result(settings, splits, 1.0)
    picked, differ, no_baseline, spread = result.findings()
    assert no_baseline.startswith("No gamma = 0 (plain BCE) cell in this grid")
    # with and without the degenerate alpha = 1 column (no weight on negatives)
    assert "every cell (4 cells)" in spread and "without alpha = 1 (2 cells)" in spread
    assert picked == (
        "4 cells trained. Picked on validation: gamma 2, alpha 1 (validation identity macro-F1 0.520, test "
        "0.460); 2 distinct test scores across cells."
    )
    assert differ.startswith("Every cell made different predictions: yes (smallest, over pairs of cells")
    assert differ.endswith("over 4 cells). Mode cached_features; encoder: synthetic.")
    (val_title, val), (_, test) = result.tables()
    assert val_title == "grid: val_macro_f1 (rows gamma, columns alpha)"
    assert list(val.index) == ["gamma=0.5", "gamma=2"] and list(val.columns) == ["alpha=0.25", "alpha=1"]
    assert val.loc["gamma=2", "alpha=1"] == pytest.approx(0.52) and test.loc[
        "gamma=0.5", "alpha=1"
    ] == pytest.approx(0.4)
    assert set(result.appendix()) == {"grid_info"}


def test_grid_tests_focal_loss_against_plain_bce():
    """A gamma = 0 row (alpha-balanced BCE) is the focal claim's baseline: each side's best validation
    cell."""
    cells = [
        {"gamma": 0.0, "alpha": 0.25, "val_macro_f1": 0.50, "test_macro_f1": 0.45},
        {"gamma": 0.0, "alpha": 1.0, "val_macro_f1": 0.30, "test_macro_f1": 0.20},
        {"gamma": 2.0, "alpha": 0.25, "val_macro_f1": 0.55, "test_macro_f1": 0.47},
        {"gamma": 2.0, "alpha": 1.0, "val_macro_f1": 0.31, "test_macro_f1": 0.21},
    ]
    result = GridResult(profile="smoke", grid=cells, grid_pick={}, grid_info={})
    focal, spread = result.focal_vs_bce_lines()
    assert "focal gamma 2, alpha 0.25: validation 0.550, test 0.470" in focal
    assert "BCE alpha 0.25: validation 0.500, test 0.450 (test difference +0.020" in focal
    assert "every cell (4 cells): validation 0.300-0.550, test 0.200-0.470" in spread
    assert "without alpha = 1 (2 cells): validation 0.500-0.550, test 0.450-0.470" in spread


def test_report_fixture_holds_both_results():
    """The report tests' fake dualhead.json (tests/fixtures/report) is read back by both classes."""
    import make_fake_metrics

    payload = make_fake_metrics.dualhead_results()
    dual, grid = DualHeadResult.from_json(payload), GridResult.from_json(payload)
    assert dual.findings()[2].startswith("Focal weight picked on validation: lambda 10 (")
    assert grid.findings()[0].startswith("16 cells trained. Picked on validation: gamma 3, alpha 1 (")
    assert len(dual.tables()) >= 5 and len(grid.tables()) == 2
