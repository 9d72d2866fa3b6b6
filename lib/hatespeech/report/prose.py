"""The report's fixed prose, read from ``prose.toml`` beside this module: section titles and intros, the
questions the study answers, figure notes, limitations and the model card's fixed rows. Words live in the
file, so that rewriting the text needs no code change; the numbers beside them come from the results."""

from __future__ import annotations

import functools
import tomllib
from importlib import resources
from typing import Any


@functools.cache
def prose() -> dict[str, Any]:
    """The parsed ``prose.toml`` (once per process)."""
    return tomllib.loads(resources.files(__package__).joinpath("prose.toml").read_text(encoding="utf-8"))


def section_text(key: str) -> dict[str, str]:
    """``title`` and ``intro`` of one report section."""
    return prose()["sections"][key]


def question(key: str) -> str:
    return prose()["questions"][key]


def figure_notes() -> dict[str, str]:
    return prose()["figure_notes"]


def limitations() -> list[str]:
    return prose()["limitations"]


def model_card(row: str) -> str:
    return prose()["model_card"][row]


def answer(question_key: str, part: str, **fields) -> str:
    """One sentence of a question's answer, its ``{names}`` filled from ``fields`` (format specs apply)."""
    return prose()["answers"][question_key][part].format(**fields)


def model_card_row(row: str, **fields) -> str:
    """A model card row, its ``{names}`` filled from ``fields``."""
    return model_card(row).format(**fields)
