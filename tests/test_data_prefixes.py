"""Word-end token positions of whitespace words, for WordPiece and byte-level BPE tokenizers."""

from __future__ import annotations

import re

import pytest
from hatespeech.data.prefixes import (
    word_end_token_positions,
    word_ends_from_offsets,
)


def test_word_ends_from_offsets_wordpiece_style():
    text = "jaitley wanted modi; ok"
    # [CLS] ja ##itley wanted modi ; ok [SEP]
    offsets = [(0, 0), (0, 2), (2, 7), (8, 14), (15, 19), (19, 20), (21, 23), (0, 0)]
    assert word_ends_from_offsets(text, offsets) == [2, 3, 5, 6]


def test_word_ends_from_offsets_byte_level_leading_space():
    text = "hello big world"
    offsets = [(0, 5), (5, 9), (9, 15)]  # byte-level BPE: tokens carry the leading space
    assert word_ends_from_offsets(text, offsets) == [0, 1, 2]


def test_word_ends_from_offsets_dropped_word_and_truncation():
    text = "a \u200b b c"
    offsets = [(0, 1), (4, 5)]  # the zero-width word has no token; "c" was truncated away
    assert word_ends_from_offsets(text, offsets) == [0, 0, 1]
    text = "alpha betagamma"
    assert word_ends_from_offsets(text, [(0, 5), (6, 10)], truncated=True) == [0]  # "betagamma" cut mid-word
    assert word_ends_from_offsets(text, [(0, 5), (6, 10)], truncated=False) == [0, 1]
    assert word_ends_from_offsets("", []) == []


@pytest.mark.slow
@pytest.mark.parametrize("model_id", ["offline:minilm-l6", "offline:smollm2-135m"])
def test_word_end_token_positions_real_tokenizers(model_id, offline_tokenizer):
    tokenizer = offline_tokenizer(model_id)
    text = "jaitley wanted bjp nomination; outwitted by modi, pro-sonia earlier. \U0001f602 caf\u00e9"
    words = text.split()
    positions = word_end_token_positions(tokenizer, text)
    assert len(positions) == len(words)
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    encoding = tokenizer(text, return_offsets_mapping=True)
    offsets, n_tokens = encoding["offset_mapping"], len(encoding["input_ids"])
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    for word_end, pos in zip(ends, positions):
        assert offsets[pos][1] == word_end  # the token at pos ends exactly where the word ends
        later = [e for s, e in offsets[pos + 1 :] if e > s]
        assert all(e > word_end for e in later)  # and no later token still belongs to that word
    assert positions[-1] <= n_tokens - 1
    truncated = word_end_token_positions(tokenizer, text, max_length=8)
    assert 0 < len(truncated) < len(words) and truncated == positions[: len(truncated)]
    assert max(truncated) < 8
