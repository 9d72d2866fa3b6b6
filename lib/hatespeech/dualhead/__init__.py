"""The dual-head experiment: train DualHeadBert (and the seed's two single-head models), predict, evaluate,
bias metrics, and the focal gamma x alpha grid. Notebooks 04 and 05 call these functions.

Notebook 04 calls ``run = run_dualhead(settings)`` and writes ``run.result()``; its stages by hand::

    settings = get_profile("cpu")
    splits = load_or_make_splits(settings)                # hatespeech.data.dualhead
    tokenizer = load_tokenizer(settings.models.encoder)
    datasets = tokenize_splits(splits, tokenizer, settings)
    choice = fit_joint_choosing_lambda(settings, splits, datasets, tokenizer)  # one model per lambda
    preds, reports = choice.preds, choice.reports         # thresholds tuned on val, test at 0.5 and tuned
    bias = bias_of(splits, preds["test"], settings.dualhead.bias_min_subgroup_size)
    result = dualhead_result(settings, splits, reports, ...)  # a DualHeadResult
    result.write(settings)                                # reports/metrics/dualhead.json

Training rows: the joint model trains on every train row (a row contributes to each head only through the
labels its source annotates). A single-head model trains on the rows that annotate at least one of its
labels (the others would contribute exactly zero loss), so the two separate models together see the same
labels as the joint one.

Modules, each importing only those above it (type annotations aside):

* :mod:`.batches`: tokenized datasets of the splits and the collator;
* :mod:`.evaluation`: :func:`predict`, per-head metrics (:func:`evaluate`), the rarest labels, the bias
  metric, the shared-vs-separate table;
* :mod:`.training`: a new model, :func:`fit`, the focal weight lambda chosen on validation, saving;
* :mod:`.results`: the typed results written to ``dualhead.json`` (:class:`DualHeadResult`,
  :class:`GridResult`), their findings and tables, and :func:`dualhead_result`;
* :mod:`.intervals`: bootstrap intervals of both heads' macro-F1, the bias score, shared minus separate;
* :mod:`.top_layers`: the cpu grid's cells (top encoder layers + both heads on cached lower-layer states);
* :mod:`.run`: the experiment end to end (:func:`run_dualhead` -> :class:`DualHeadRun` ->
  :meth:`DualHeadRun.result`), what notebook 04 calls;
* :mod:`.grid`: the focal grid (:func:`run_grid` -> :class:`GridRun` -> :meth:`GridRun.result`).

The names below are re-exported for the notebooks and tests (``from hatespeech import dualhead as dh``), each
loaded on first use (:mod:`hatespeech.lazy`), so reading a result imports no training code; code in ``lib/``
imports from the submodules.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        ".baseline": ("tfidf_baseline",),
        ".batches": (
            "DualHeadCollator",
            "tokenize_splits",
            "tokenized_dataset",
        ),
        ".evaluation": (
            "Predictions",
            "bias_of",
            "comparison_table",
            "evaluate",
            "predict",
            "rare_label_confusion",
        ),
        ".grid": (
            "FeatureHead",
            "GridRun",
            "cached_features",
            "encoder_for_grid",
            "head_probs",
            "run_focal_grid",
            "run_grid",
            "train_feature_head",
        ),
        ".intervals": ("all_intervals",),
        ".run": ("DualHeadRun", "run_dualhead"),
        ".scorer": (
            "DualHeadScorer",
            "save_thresholds",
        ),
        ".results": (
            "DualHeadResult",
            "GridResult",
            "dualhead_result",
            "separate_json",
            "training_json",
        ),
        ".training": (
            "LambdaChoice",
            "TrainedModel",
            "experiment_dir",
            "fit",
            "fit_joint_choosing_lambda",
            "new_model",
            "save_model",
        ),
    },
)
