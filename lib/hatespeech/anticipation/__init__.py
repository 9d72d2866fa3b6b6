"""Anticipation experiments: P(finished sentence is hateful | first k words), in two phases.

Phase 1 (``notebooks/02_phase1.ipynb``)
    Binary hate / not-hate on word-prefixes of the phase-1 corpus
    (:func:`hatespeech.data.build_phase1_corpus`, its seeded 85/15 split). Each prefix carries the label of
    its finished sentence and the weight ``w_len = k / n_words`` (a prefix of 2 words out of 20 says little,
    so it counts little), and the positive class is up-weighted by ``pos_weight = negatives / positives`` of
    the train sentences.

    * ``encoder``, ``encoder+bilstm``: one random word-prefix per sentence per epoch (seeded), each prefix its
      own sequence, so no later word can reach it (an encoder attends both ways);
    * ``decoder`` (causal, no biLSTM): the whole sentence in one pass with a loss at *every* word end, each
      weighted by its w_len -- the same number of sentences yields every prefix at the cost of one sequence;
    * ``decoder+bilstm``: the same shared causal backbone pass, with the biLSTM run once per prefix over that
      prefix's token states only (``PrefixClassifier.all_prefix_logits``), so its backward direction never
      reads a later word; a loss at every word end, as for ``decoder``.

    Evaluation on the validation split: every word-prefix of every evaluation sentence, each sentence
    weighing 1 split over its prefixes (:mod:`.every_prefix`), at the threshold tuned the same way on every
    prefix of the selection sentences and at 0.5; overall, per source and per decile of the share seen, with
    the one-random-prefix draw of earlier reports as a secondary view. The seed's length weight is tested by
    training the best variant again without it.

Phase 2 (``notebooks/03_phase2.ipynb``)
    From each phase-1 checkpoint, fine-tune on the prefix_probability train split (target: the mean of two
    annotation passes) with the weighted MSE of the seed, ``w = 0.8·C·y + 0.2·w_len``, on ``sigmoid(logit)``.
    Causal decoders train on every prefix of a sentence from one shared backbone pass (exact: the state at a
    word's last token sees only the words up to it); the encoders see each prefix as its own sequence.
    Scored on the test split (MSE, MAE, Pearson r, calibration) beside a constant predictor (train mean), the
    phase-1 model without phase 2, and phase 2 from the bare pretrained backbone (no phase 1). A tenth of the
    train sentences is held out (seeded): it picks the epoch, the best model among the phase-2 variants and
    the no-phase-1 models, and the seed's label weight C (tested against C in {0.5, 2} and the unweighted
    MSE), so the test split chooses nothing; the best models are retrained at extra seeds to show training
    noise.

Everything trains through :func:`hatespeech.train.train` (one HF Trainer loop for all experiments) with the
losses of :mod:`hatespeech.losses`. Checkpoints go to ``artifacts_dir()/<profile>/anticipation/phase{1,2}/
<variant>/`` and load with :class:`hatespeech.anticipation.inference.Anticipator`.

Modules, each importing only those above it (type annotations aside):

* :mod:`.examples`: sentences tokenized once with their word ends, prefix examples, datasets, collators,
  seeded sentence samples and random prefix draws;
* :mod:`.inference`: :class:`Anticipator`, the one scoring path (p_hate of prefixes and per-word
  trajectories, truncation at ``max_length``, streaming), used by the evaluation and by a saved model outside
  the notebooks (the ``hatespeech`` CLI);
* :mod:`.every_prefix`: per-sentence weighted confusion counts, the metrics and thresholds on them;
* :mod:`.shared_layers`: lower layers shared by several models computed once (scoring), and the frozen-layer
  memo (training);
* :mod:`.evaluation`: the selection / evaluation sentences, binary metrics, the phase-1 evaluation (scored by
  :class:`Anticipator`), phase-2 predictions, scores and earliness;
* :mod:`.training`: the losses, batch sizing, :func:`train_phase1` / :func:`train_phase2`, checkpoints;
* :mod:`.evidence`: the baselines on the same examples, bootstrap intervals and the targets' verdicts;
* :mod:`.results`: :class:`Phase1Result` / :class:`Phase2Result`, what notebooks 02 / 03 write into
  anticipation.json and the report reads back, with their findings and key tables;
* :mod:`.phase1` / :mod:`.phase2`: each phase's data, ``run_phase*`` and the run objects the notebooks show.

The names below are re-exported for the notebooks and tests (``from hatespeech import anticipation as
ant``), each loaded on first use (:mod:`hatespeech.lazy`), so reading a result imports no training code;
code in ``lib/`` imports from the submodules.
"""

from __future__ import annotations

from ..lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "..models.prefix": ("VARIANTS",),
        "..references": (
            "SEED_PHASE1",
            "SEED_PHASE2_CLAIM",
        ),
        ".evaluation": (
            "binary_metrics",
            "earliness_of",
            "evaluate_phase1",
            "grouped_binary_metrics",
            "phase2_scores",
            "predict_phase2",
            "selection_score_fn",
            "selection_sentences",
        ),
        ".examples": (
            "EncodedSentence",
            "ExampleDataset",
            "PrefixCollator",
            "RandomPrefixDataset",
            "WordPrefixCollator",
            "encode_sentences",
            "random_prefix_examples",
            "sample_sentences",
            "truncation_counts",
            "word_prefix_examples",
        ),
        ".phase1": (
            "Phase1Data",
            "Phase1Run",
            "load_phase1_data",
            "load_phase1_result",
            "models_section",
            "run_phase1",
            "settings_section",
        ),
        ".phase2": (
            "EXAMPLE_SENTENCES",
            "Phase2Data",
            "Phase2Run",
            "annotator_agreement",
            "load_phase2_data",
            "pick_test_sentences",
            "rehearsal_dir",
            "run_phase2",
            "run_rehearsal",
        ),
        ".results": (
            "SEED_CONTEXT_NOTE",
            "Phase1Result",
            "Phase2Result",
        ),
        ".training": (
            "PHASE1_MIN_ROWS_PER_BATCH",
            "Rehearsal",
            "brier_at_full_length",
            "checkpoint_dir",
            "load_checkpoint",
            "phase1_loss_fn",
            "phase1_lr_candidates",
            "phase1_train_sentences",
            "phase2_loss_fn",
            "phase2_normaliser",
            "prefix_logits",
            "rehearsal_examples",
            "rows_per_batch",
            "save_checkpoint",
            "train_phase1",
            "train_phase2",
        ),
    },
)
