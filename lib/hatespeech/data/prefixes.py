"""The mapping of word ends to token positions.

Words are the whitespace tokens of the text (``text.split()``), the definition ``prefix_probability`` uses, so
a prefix of ``k`` words is ``" ".join(words[:k])`` and ``w_len = k / n_words`` (the length weight of phase 1);
the pipelines cut prefixes where they batch them (:mod:`hatespeech.anticipation.examples`).

:func:`word_end_token_positions` is hand-written because tokenizers only expose *their own* word notion
(``word_ids()`` follows the pre-tokenizer, which splits punctuation for BERT and is absent for byte-level
BPE); we need our whitespace words, so we map each token's character span (``return_offsets_mapping``,
available on every HF fast tokenizer) onto the character spans of the whitespace words.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

_WORD = re.compile(r"\S+")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character ``(start, end)`` of each whitespace word."""
    return [m.span() for m in _WORD.finditer(text)]


def word_ends_from_offsets(
    text: str, offsets: Sequence[Sequence[int]], truncated: bool | None = None
) -> list[int]:
    """Index of the last token of each whitespace word, from a fast tokenizer's ``offset_mapping`` for
    ``text``.

    A token belongs to the word containing its last character (byte-level BPE offsets may include the leading
    space, so the first character is not reliable). Special tokens (empty spans) and whitespace-only tokens
    are skipped. A word with no token of its own (characters the tokenizer drops) gets the previous word's
    position (or the first content token for the first word). If the encoding was truncated, the list stops at
    the last word whose final token survived, so it can be shorter than the number of words. ``truncated``:
    whether the encoding was cut (``None``: assume so when some words have no token at all); a cut word is
    left out.
    """
    spans = word_spans(text)
    if not spans:
        return []
    starts = [s for s, _ in spans]
    last: dict[int, int] = {}
    first_content = None
    for index, (start, end) in enumerate(offsets):
        if end <= start:
            continue
        w = bisect.bisect_right(starts, end - 1) - 1
        if w < 0 or end - 1 >= spans[w][1]:
            continue  # token ends in whitespace
        if first_content is None:
            first_content = index
        last[w] = index
    if not last:
        return []
    n_present = max(last) + 1
    positions: list[int] = []
    for w in range(n_present):
        if w in last:
            positions.append(last[w])
        else:
            positions.append(positions[-1] if positions else first_content)
    if truncated is None:
        truncated = n_present < len(spans)
    if truncated:
        # The last present word may itself be cut (its remaining tokens dropped); keep it only if the encoding
        # covered its final character.
        covered_to = max(end for start, end in offsets if end > start)
        if covered_to < spans[n_present - 1][1]:
            positions.pop()
    return positions


def word_end_token_positions(
    tokenizer, text: str, add_special_tokens: bool = True, max_length: int | None = None
) -> list[int]:
    """For each whitespace word of ``text``, the index (in ``tokenizer(text)["input_ids"]``) of its last
    token.

    Works for any HF *fast* tokenizer (BERT WordPiece, GPT-2 / SmolLM2 byte-level BPE, SentencePiece-based
    fast tokenizers). ``add_special_tokens`` and ``max_length`` (truncation) must match how the model input is
    encoded; with truncation the list covers only the words that fit. See :func:`word_ends_from_offsets`.
    """
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError(
            f"{type(tokenizer).__name__} is not a fast tokenizer: offsets are needed "
            "(load it with use_fast=True / hatespeech.models.backbones.load_tokenizer)"
        )
    encoding = tokenizer(
        text,
        add_special_tokens=add_special_tokens,
        return_offsets_mapping=True,
        truncation=max_length is not None,
        max_length=max_length,
    )
    truncated = False
    if max_length is not None and len(encoding["input_ids"]) >= max_length:
        truncated = len(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"]) > max_length
    return word_ends_from_offsets(text, encoding["offset_mapping"], truncated=truncated)
