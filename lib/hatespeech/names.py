"""Display names: the one map from the ids results carry (``phase2:encoder+bilstm``, ``constant:train_mean``,
``head_i``) to what a reader sees. The report's text and tables and every saved figure's labels
(:func:`hatespeech.plots.save_figure`) go through :func:`display_name`.

An id is a stage prefix and a variant (``<stage>:<variant>``) or one whole name; both parts come from the
maps below, so a new stage or variant needs one line here, and ``test_display_names_cover_every_system``
fails on an id the map does not know.
"""

from __future__ import annotations

import html as _html
import re


def system_id(stage: str, variant: str) -> str:
    """The id of a system: ``<stage>:<variant>`` (``phase2:encoder+bilstm``)."""
    return f"{stage}:{variant}"


def stage_and_variant(system: str) -> tuple[str, str]:
    """The two parts of a :func:`system_id`."""
    stage, variant = system.split(":", 1)
    return stage, variant


#: The four anticipation variants (the seeds' BERT and GPT-2 roles; the models used are in the method).
VARIANTS = {
    "encoder": "encoder",
    "encoder+bilstm": "encoder + biLSTM",
    "decoder": "decoder",
    "decoder+bilstm": "decoder + biLSTM",
}

#: What a stage prefix says about how a model was trained or scored.
STAGES = {
    "phase1": "phase 1",
    "phase1_only": "phase 1 only, raw",  # read inside parentheses: "encoder (phase 1 only, raw)"
    "phase1_only_corrected": "phase 1 only, prior-corrected",
    "phase2": "phase 2",
    "no_phase1": "phase 2 without phase 1",
    "rehearsal": "phase 2 + rehearsal",
    "loss_weight": "phase 2, chosen loss weight",
    "continuation": "imagined endings, calibrated",
    "continuation_raw": "imagined endings, raw",
    "phase1_prefix": "phase 1 on the prefix, raw",
    "phase1_prefix_calibrated": "phase 1 on the prefix, calibrated",
}

#: Whole names: baselines, references, heads and the dual-head systems.
WHOLE = {
    "constant:train_mean": "constant (train mean)",
    "baseline:tfidf_ridge": "TF-IDF ridge",
    "baseline:tfidf_logistic": "TF-IDF logistic",
    "tfidf_logistic": "TF-IDF logistic",
    "majority": "majority class",
    "unweighted": "unweighted",
    "default": "the seed's default",
    "reference:all_hateful": "always 'hateful'",
    "reference:profanity_check": "profanity-check",
    "dualhead:toxic": "dual-head (toxic)",
    "single_head:toxic": "single-task head_n (toxic)",
    "detector:encoder": "whole-sentence detector",
    "head_n": "toxicity-type head",
    "head_i": "identity head",
    "dual-head model": "dual-head model",
    "shared encoder": "shared encoder",
    "separate models": "separate models",
    "top2": "top 2 blocks",
    "top2/lora": "top 2 blocks, LoRA",
    "MatMulNBits": "4-bit weights",
    "annotators:mean of passes": "labels (mean of both passes)",
    "labels:mean of passes": "labels (mean of both passes)",
}

#: Terms the report defines at first use (page 1 and the method), one sentence each.
TERMS = {
    "prior-corrected": "a phase-1 score mapped back to the phase-2 class balance (its positive weight "
    "undone), so that it reads as a probability",
    "held-out train sentences": "48 phase-2 train sentences kept out of training; every phase-2 choice is "
    "made on them",
    "selection set": "phase-1 sentences carved from the train part; every phase-1 choice is made on them",
    "MSE": "mean squared error between the predicted and the labelled P(hateful | prefix), each sentence "
    "weighing 1",
}


def display_name(system_id: object) -> str:
    """The reader's name of a system, stage or head id; an id the maps do not know comes back unchanged."""
    if not isinstance(system_id, str):
        return str(system_id)
    if system_id in WHOLE:
        return WHOLE[system_id]
    if system_id in VARIANTS:
        return VARIANTS[system_id]
    stage, sep, variant = system_id.partition(":")
    if sep and stage in STAGES and variant in VARIANTS:
        return f"{VARIANTS[variant]} ({STAGES[stage]})"
    first, space, rest = system_id.partition(" ")  # "encoder+bilstm with w_len"
    if space and first in VARIANTS:
        return f"{VARIANTS[first]} {rest}"
    return system_id


def _ids() -> list[str]:
    """Every id :func:`display_name` knows that reads as an identifier (holds ':', '+' or '_'), longest
    first, so that "phase2:encoder+bilstm" is replaced before "encoder+bilstm"."""
    ids = set(WHOLE) | set(VARIANTS)
    ids |= {f"{stage}:{variant}" for stage in STAGES for variant in VARIANTS}
    return sorted((i for i in ids if any(c in i for c in ":+_")), key=len, reverse=True)


_ID_PATTERN = re.compile("|".join(rf"(?<![\w:+/-]){re.escape(i)}(?![\w+]|:\w)" for i in _ids()))


def readable(text: str) -> str:
    """``text`` with every identifier-looking system id (``phase2:encoder+bilstm``, ``tfidf_logistic``,
    ``head_i``) replaced by its display name; plain words ("encoder", "majority") stay as written."""
    return _ID_PATTERN.sub(lambda m: display_name(m.group(0)), text)


def known(system_id: str) -> bool:
    """Whether :func:`display_name` has a name for ``system_id`` (not just echoing it)."""
    return system_id in WHOLE or system_id in VARIANTS or display_name(system_id) != system_id


def terms_html(used_in: str | None = None) -> str:
    """The report's terms (:data:`TERMS`), defined once; with ``used_in``, only those that text uses (page 1
    defines the terms its answers use before the method section defines them all)."""
    terms = {k: v for k, v in TERMS.items() if used_in is None or k in used_in}
    if not terms:
        return ""
    items = "".join(f"<li><b>{_html.escape(k)}</b>: {_html.escape(v)}.</li>" for k, v in terms.items())
    return f"<ul class='hs-terms'>{items}</ul>"
