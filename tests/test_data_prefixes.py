"""Word prefixes, their w_len weights, and word-end token positions."""

from __future__ import annotations

import random
import re

import numpy as np
import pytest
from hatespeech.data.prefixes import (
    Prefix,
    prefix_of,
    random_prefix,
    word_end_token_positions,
    word_ends_from_offsets,
    word_prefixes,
)


def test_word_prefixes_and_weights():
    prefixes = word_prefixes("  they are   animals ,  all ")
    assert [p.text for p in prefixes] == [
        "they",
        "they are",
        "they are animals",
        "they are animals ,",
        "they are animals , all",
    ]
    assert [p.k for p in prefixes] == [1, 2, 3, 4, 5] and {p.n_words for p in prefixes} == {5}
    assert [p.w_len for p in prefixes] == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0])
    assert prefixes[-1] == Prefix("they are animals , all", 5, 5, 1.0)


def test_prefix_errors():
    with pytest.raises(ValueError, match="empty text"):
        word_prefixes("   ")
    with pytest.raises(ValueError, match="k=4 outside 1..3"):
        prefix_of("a b c", 4)


def test_random_prefix_is_seeded_and_uniform():
    text = "one two three four five"
    a = [random_prefix(text, np.random.default_rng(7)).k for _ in range(3)]
    assert len(set(a)) == 1  # same seed, same cut
    rng = np.random.default_rng(0)
    ks = [random_prefix(text, rng).k for _ in range(2000)]
    assert set(ks) == {1, 2, 3, 4, 5}
    assert np.bincount(ks)[1:].min() > 330  # ~400 each
    assert random_prefix(text, 3) == random_prefix(text, 3)
    assert 1 <= random_prefix(text, random.Random(1)).k <= 5
    p = random_prefix(text, 5)
    assert p.text == " ".join(text.split()[: p.k]) and p.w_len == p.k / 5


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
