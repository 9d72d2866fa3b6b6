"""Page 1 (shortfalls, forest plot), display names, and the checks the build runs on what it publishes."""

from __future__ import annotations

import json
from pathlib import Path

import make_fake_metrics
import pytest
from hatespeech import names, report
from hatespeech.config import get_profile
from hatespeech.publish import checks
from hatespeech.report import headline

REPO_REPORTS = Path(__file__).resolve().parents[1] / "reports"


@pytest.fixture
def fake_reports(tmp_path) -> Path:
    make_fake_metrics.write(tmp_path, with_figures=True)
    return tmp_path


def _system_ids(payload) -> set[str]:
    """Every system id a metrics payload carries: both sides of each paired comparison, the keys of
    per-system interval tables and HateCheck's system list."""
    found: set[str] = set()

    def walk(value, key=""):
        if isinstance(value, dict):
            if {"name_a", "name_b"} <= value.keys():
                found.update((value["name_a"], value["name_b"]))
            if key == "intervals":
                found.update(k for k in value if isinstance(k, str))
            for inner_key, inner in value.items():
                walk(inner, inner_key)
        elif isinstance(value, list):
            if key == "systems":
                found.update(v for v in value if isinstance(v, str))
            for inner in value:
                walk(inner)

    walk(payload)
    return found


@pytest.mark.parametrize("source", ["fake", "committed"])
def test_display_names_cover_every_system_id_the_results_carry(source, fake_reports):
    folder = (fake_reports if source == "fake" else REPO_REPORTS) / "metrics"
    if not folder.exists():
        pytest.skip("no committed report in this checkout")
    ids = set()
    for path in folder.glob("*.json"):
        ids |= _system_ids(json.loads(path.read_text()))
    assert ids, "the walk found no system id"
    unnamed = sorted(i for i in ids if not names.known(i))
    assert not unnamed, f"ids without a display name: {unnamed}"


def test_readable_replaces_ids_but_not_plain_words():
    text = "phase2:encoder+bilstm better than constant:train_mean; the majority rate; encoder; head_i"
    assert names.readable(text) == (
        "encoder + biLSTM (phase 2) better than constant (train mean); the majority rate; encoder; "
        "identity head"
    )
    assert names.display_name("no_phase1:decoder") == "decoder (phase 2 without phase 1)"
    assert names.display_name("something new") == "something new"  # unknown ids come back unchanged


def test_report_tables_show_display_names_in_title_header_index_and_cells():
    import pandas as pd

    frame = pd.DataFrame(
        {"A": ["phase2:encoder+bilstm"], "B": ["tfidf_logistic"], "head_i": [0.5]}, index=["head_n"]
    )
    html = report.table_html("head_n: paired comparisons", frame)
    for shown in (
        "toxicity-type head: paired",
        "encoder + biLSTM (phase 2)",
        "TF-IDF logistic",
        "identity head",
    ):
        assert shown in html
    assert not any(raw in html for raw in ("phase2:", "tfidf_logistic", "head_i", "head_n"))


def test_shortfalls_name_every_missed_target_and_every_baseline_win(fake_reports):
    results = report.read_results(fake_reports)
    declared = headline.targets(results)
    missed = [text for text, met in declared if not met]
    lines = report.shortfalls(results)
    assert len(lines) >= len(missed) and all(f"{text}: missed." in lines for text in missed)
    # a baseline that wins is listed; flip one paired comparison so that the baseline wins and check it shows
    anticipation = json.loads((fake_reports / "metrics" / "anticipation.json").read_text())
    comparison = next(
        c for c in anticipation["phase1_evidence"]["comparisons"].values() if c["name_b"] == "tfidf_logistic"
    )
    comparison["difference"].update(estimate=-0.2, low=-0.3, high=-0.1)
    (fake_reports / "metrics" / "anticipation.json").write_text(json.dumps(anticipation))
    lines = report.shortfalls(report.read_results(fake_reports))
    assert any(line.startswith("TF-IDF logistic beats") for line in lines), lines


def test_forest_plot_draws_each_headline_comparison_signed_and_coloured(fake_reports, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(fake_reports))
    results = report.read_results(fake_reports)
    rows = report.headline_comparisons(results)
    assert len(rows) >= 5 and {h.metric for h in rows} >= {"F1", "MSE"}
    for h in rows:
        estimate, low, high = h.oriented
        assert low <= estimate <= high
        # "right = first better": a lower MSE for A is a positive signed difference
        if not h.comparison.higher_is_better:
            assert estimate == pytest.approx(-h.comparison.difference.estimate)
    path = report.forest_figure(results, caption="profile=smoke")
    assert path.exists() and path.read_bytes()[:4] == b"\x89PNG"
    page = report.page_one_html(get_profile("smoke"), reports=fake_reports)
    assert "Figure 1." in page and "What fell short" in page and "Models:" in page
    # every term page 1 uses is defined on page 1, before the method section lists them all
    used = [term for term in names.TERMS if term in page.split("Terms used above")[0]]
    assert used, "the fake results' answers use at least one defined term"
    defined = page.split("Terms used above")[1]
    assert all(f"<b>{term}</b>" in defined for term in used)


def test_unresolved_references_are_found():
    good = (
        "<a href='#sec-a'>a</a><a id='sec-a'></a><p>see Figure a-1</p>"
        "<figure><figcaption>Figure a-1. What to see.</figcaption></figure>"
    )
    assert checks.unresolved_references(good) == []
    bad = good + "<a href='#sec-missing'>m</a><p>and Figure b-2</p>"
    assert checks.unresolved_references(bad) == ["link to #sec-missing", "Figure b-2"]


def test_training_logs_and_orphaned_headings_and_unprinted_cells_are_found():
    assert checks.training_log_lines("<pre>{&#x27;loss&#x27;: 0.3, &#x27;epoch&#x27;: 1}</pre>")
    assert checks.training_log_lines("<pre>{'train_runtime': '5.3'}</pre>")
    assert not checks.training_log_lines("<p>the loss fell from 0.3 to 0.2</p>")
    html = (
        "<h2>Results</h2><table class='hs-card'><tr><th>Not for</th><td>deciding about people</td></tr>"
        "</table>"
    )
    assert checks.card_cells(html) == ["Not for", "deciding about people"]
    assert checks.missing_from_pdf(checks.card_cells(html), "Not for deciding about\npeople") == []
    assert checks.missing_from_pdf(checks.card_cells(html), "Not for") == ["deciding about people"]
    pages = ["text\nResults\n", "the section\n", ""]
    assert checks.orphaned_headings(html, pages) == ["page 1: Results"]
    assert checks.orphaned_headings(html, ["Results\ntext\n", ""]) == []


def test_saved_figures_have_no_overlapping_tick_labels_and_no_empty_cells(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hatespeech import plots

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    fig, axes = plt.subplots(2, 2, figsize=(4, 3))
    axes[0, 0].bar([f"a long category name {i}" for i in range(12)], range(12))
    axes[0, 1].plot(range(1000), range(1000))
    axes[0, 1].set_xticks(range(0, 1000, 100))
    axes[1, 0].plot([0, 1], [0, 1])  # axes[1, 1] stays empty
    assert plots.tick_overlaps(fig), "the figure as made overlaps"
    plots.save_figure(fig, "data_crowded", caption="profile=smoke | data=toy | hardware=test | commit=0")
    assert plots.tick_overlaps(fig) == []
    assert len(fig.axes) == 3  # the empty cell is gone
    plt.close(fig)
    # side-by-side panels: the last x label of one runs into the first of the next ("1.00.0")
    panels, axes = plt.subplots(1, 3, figsize=(6, 2), sharey=True, gridspec_kw={"wspace": 0.0})
    for ax in axes:
        ax.barh(["a", "b"], [0.5, 1.0])
        ax.set_xlim(0, 1)
    assert any(where == "neighbouring axes" for where, _, _ in plots.tick_overlaps(panels))
    plots.save_figure(panels, "data_panels", caption="profile=smoke")
    assert plots.tick_overlaps(panels) == []
    plt.close(panels)
    # an axes turned off (a "no data" message) draws no tick, so the footer cannot cover one
    off, ax = plt.subplots(figsize=(6, 3))
    ax.text(0.5, 0.5, "nothing to show", ha="center")
    ax.set_axis_off()
    plots.save_figure(off, "data_off", caption="profile=smoke | " + "a long footer " * 12)
    assert plots.tick_overlaps(off) == []
    plt.close(off)


def test_saved_figures_name_systems_as_the_report_does(tmp_path, monkeypatch):
    """A plotting function that draws result ids gets the display names in ticks, legend and title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from hatespeech import plots

    monkeypatch.setenv("HATESPEECH_REPORTS_DIR", str(tmp_path))
    ids = ["phase2:encoder+bilstm", "constant:train_mean", "phase1_only_corrected:decoder"]
    fig, ax = plt.subplots()
    ax.barh(ids, [0.03, 0.07, 0.08])  # a category axis: its labels are made at draw time
    ax.plot([0.05, 0.05], [0, 2], label="baseline:tfidf_ridge")
    ax.legend()
    ax.set_title("best: phase2:encoder+bilstm")
    plots.save_figure(fig, "phase2_names", caption="profile=smoke")
    fig.canvas.draw()
    shown = [t.get_text() for t in ax.get_yticklabels()]
    assert shown == [names.display_name(i) for i in ids]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["TF-IDF ridge"]
    assert ax.get_title() == "best: encoder + biLSTM (phase 2)"
    plt.close(fig)


def test_the_trainer_prints_no_log_dicts(tmp_path, capsys):
    from test_train import _run

    _run(tmp_path, seed=1)
    printed = capsys.readouterr()
    assert not checks.training_log_lines(printed.out + printed.err)


def test_seed_claims_cover_both_seeds(fake_reports):
    claims = report.seed_claims(fake_reports)
    seeds = {c.seed for c in claims}
    assert seeds == {"Anticipation", "DualHeadBERT"}
    by_claim = {c.claim.split(":")[0].split(" ")[0]: c for c in claims}
    assert "Per-class" in by_claim and "Focal" in by_claim
    for claim in claims:
        assert claim.found and claim.verdict and claim.comparable is not None
