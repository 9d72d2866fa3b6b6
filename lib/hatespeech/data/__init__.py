"""The data layer: validated loaders for every corpus in one schema, the phase-1 corpus, splits, prefixes.

Public API (see each module's docstring for the cleaning of each source):

* :func:`load_source(name, data_dir=None) <hatespeech.data.registry.load_source>` -> :class:`LoadedSource`
  (``df`` with ``id, source, text`` + label columns, ``rows_raw``, ``filtered``, ``path``, ``licence``,
  ``description``, ``label_columns``); :data:`SOURCES` lists the names.
* :func:`load_prefix_probability(split)` -> the phase-2 frame.
* :func:`build_phase1_corpus(profile)` -> ``(DataFrame[id, source, text, label, n_words], report)``;
  :func:`leakage_check`; :func:`phase1_splits(profile)` (manifest-backed 85/15 split).
* :func:`stratified_split`, split manifests (:mod:`hatespeech.data.splits`); the dual-head label map
  (:mod:`hatespeech.data.dualhead_labels`), the labelled table and its multi-label splits
  (:mod:`hatespeech.data.dualhead`).
* HateCheck (:mod:`hatespeech.data.hatecheck`): evaluation only; its cases are dropped from every training
  corpus (``hatecheck_case``) and guarded against.
* :func:`word_end_token_positions`.
* :class:`DataValidationError`, :class:`DataLeakageError`, :class:`FilterLog`.
"""

from .base import LoadedSource
from .phase1 import PHASE1_MAPPINGS, build_phase1_corpus, leakage_check, phase1_splits
from .prefix_probability import load_prefix_probability, reserved_tweet_ids
from .prefixes import word_end_token_positions
from .registry import SHARED_SOURCES, SOURCES, load_source, load_sources
from .schema import DataLeakageError, DataValidationError, FilterLog
from .splits import apply_manifest, load_or_create_manifest, save_manifest, stratified_split

__all__ = [
    "PHASE1_MAPPINGS",
    "SHARED_SOURCES",
    "SOURCES",
    "DataLeakageError",
    "DataValidationError",
    "FilterLog",
    "LoadedSource",
    "apply_manifest",
    "build_phase1_corpus",
    "leakage_check",
    "load_or_create_manifest",
    "load_prefix_probability",
    "load_source",
    "load_sources",
    "phase1_splits",
    "reserved_tweet_ids",
    "save_manifest",
    "stratified_split",
    "word_end_token_positions",
]
