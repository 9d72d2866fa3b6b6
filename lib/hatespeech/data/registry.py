"""The source registry: ``load_source(name)`` for every corpus, by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .. import paths
from . import (
    davidson,
    ethos,
    hatecheck,
    hatexplain,
    implicit_hate,
    jigsaw,
    olid,
    prefix_probability,
    stormfront,
    toxigen,
)
from .base import LoadedSource
from .schema import DataValidationError, validate_schema

_LOADERS: dict[str, Callable[..., LoadedSource]] = {
    "stormfront": stormfront.load,
    "implicit_hate": implicit_hate.load_stage1,
    "implicit_hate_stg2": implicit_hate.load_stage2,
    "implicit_hate_stg3": implicit_hate.load_stage3,
    "davidson": davidson.load,
    "olid": olid.load,
    "toxigen": toxigen.load,
    "ethos_binary": ethos.load_binary,
    "ethos_multilabel": ethos.load_multilabel,
    "hatexplain": hatexplain.load,
    "prefix_probability": prefix_probability.load,
    "hatecheck": hatecheck.load,  # evaluation only (hatecheck.EVALUATION_ONLY)
    "jigsaw": jigsaw.load,
}
#: Every source name ``load_source`` accepts.
SOURCES: tuple[str, ...] = tuple(_LOADERS)
#: The sources that ship in the shared data folder (Jigsaw is user-supplied).
SHARED_SOURCES: tuple[str, ...] = tuple(name for name in _LOADERS if name != "jigsaw")


def load_source(name: str, data_dir: str | Path | None = None, **kwargs) -> LoadedSource:
    """Load one corpus in the unified schema (:mod:`hatespeech.data.schema`).

    ``data_dir`` defaults to :func:`hatespeech.paths.data_dir`. ``kwargs`` go to the loader (only ``jigsaw``
    takes any: ``path=`` a CSV, ``nrows=``). Raises :class:`DataValidationError` for bad input.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown source {name!r}; choose one of {list(SOURCES)}")
    data_dir = Path(data_dir) if data_dir is not None else paths.data_dir()
    loaded = _LOADERS[name](data_dir, **kwargs)
    validate_schema(loaded.df, name)
    accounted = loaded.rows_kept + sum(loaded.filtered.values())
    if accounted != loaded.rows_raw:  # a bug in a loader, not bad data: never lose rows unaccounted
        raise DataValidationError(
            f"{loaded.rows_raw} raw rows but {loaded.rows_kept} kept + "
            f"{sum(loaded.filtered.values())} filtered",
            file=str(loaded.path),
        )
    return loaded


def load_sources(names=SHARED_SOURCES, data_dir: str | Path | None = None) -> dict[str, LoadedSource]:
    """Several sources at once, by name (default: all shipped ones)."""
    return {name: load_source(name, data_dir) for name in names}


def load_cases(data_dir: str | Path | None = None):
    """The HateCheck cases (the loader's frame), for the exclusions and guards of the training data."""
    return load_source(hatecheck.NAME, data_dir).df
