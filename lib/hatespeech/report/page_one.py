"""The report's first page: what the models are and where the labels come from, the answers, what fell
short, and the forest plot of the headline comparisons, all from this build's results and profile."""

from __future__ import annotations

import html as _html
from pathlib import Path

from ..anticipation.results import Phase2Result
from ..config import describe_model
from ..names import terms_html
from ..result_registry import read_results
from . import headline
from .html import figure_html
from .study import answers_html

#: The seeds' own backbones: a profile that uses others says so on page 1.
SEED_MODELS = {"encoder": "bert-base-uncased", "decoder": "gpt2"}


def models_line(profile, results) -> str:
    """One paragraph: the models used (and whom they stand in for) and who made the phase-2 labels."""
    m = profile.models
    used = {"encoder": m.encoder, "decoder": m.decoder}
    parts = []
    for role, model_id in used.items():
        text = f"the {role} variants use {describe_model(model_id)}"
        if model_id != SEED_MODELS[role]:
            text += f", standing in for the seed's {SEED_MODELS[role]} (not reachable offline)"
        parts.append(text)
    line = "Models: " + "; ".join(parts) + "."
    line += (
        " Labels: phase 1 learns from human-labelled hate / not-hate corpora; the phase-2 probabilities were "
        "made by two passes of one large language model, not by people."
    )
    phase2 = results.get(Phase2Result)
    human = phase2.phase2_evidence.human_labels if phase2 is not None else None
    auc = human.auc.get("labels:mean of passes") if human is not None else None
    if auc is not None:
        line += (
            f" Checked against the corpus's human classes on {human.n_sentences} test tweets, those "
            f"labels reach ROC AUC {auc.fmt(2)}: a useful but imperfect target."
        )
    return f"<p class='hs-note'>{_html.escape(line)}</p>"


def shortfalls_html(results) -> str:
    lines = headline.shortfalls(results)
    if not lines:
        return "<p>Every target of this build was met and no baseline beat a model of the study.</p>"
    return (
        "<p><b>What fell short</b> (every target missed and every comparison a baseline wins in this build, "
        "found in the results):</p><ul class='hs-short'>"
        + "".join(f"<li>{_html.escape(line)}</li>" for line in lines)
        + "</ul>"
    )


def page_one_html(profile, caption: str | None = None, reports: Path | None = None) -> str:
    """Models and labels, the answers, the shortfalls and the forest plot (saved as a report figure)."""
    results = read_results(reports)
    parts = [models_line(profile, results), answers_html(reports, results), shortfalls_html(results)]
    terms = terms_html(used_in=_html.unescape("".join(parts)))
    if terms:  # defined here, at first use; the method section lists them all
        parts.append(f"<p class='hs-note'>Terms used above:</p>{terms}")
    figure = headline.forest_figure(results, caption) if results else None
    if figure is not None:
        parts.append(
            figure_html(
                figure,
                "Figure 1. The headline comparisons: each paired difference with its 95% interval, signed so "
                "that right of the line means the first-named system is better; blue: first better, red: "
                "second better, grey: no clear difference. [n] is the question it answers.",
            )
        )
    return "".join(parts)


def conclusion_html(reports: Path | None = None) -> str:
    """The conclusion's counts (:func:`headline.conclusion`) and where the shortfalls are listed."""
    text = headline.conclusion(read_results(reports))
    return f"<p>{_html.escape(text)} Page 1 lists every shortfall; the sections above hold the evidence.</p>"
