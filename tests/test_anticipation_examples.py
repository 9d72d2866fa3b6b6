"""hatespeech.anticipation.examples: sentences tokenized once with their word ends, random and word prefix
examples, datasets and collators (real offline tokenizers, no model)."""

from __future__ import annotations

import pytest
from anticipation_support import SENTENCES
from hatespeech import anticipation as ant

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tokenizers / one_torch_thread: tests/conftest.py


def test_encode_sentences_word_ends_and_truncation(tokenizers):
    tok = tokenizers["encoder"]
    full = ant.encode_sentences(tok, SENTENCES, max_length=64)
    assert [e.n_words for e in full] == [len(s.split()) for s in SENTENCES]
    assert all(e.n_fit == e.n_words for e in full)
    for e in full:
        # BERT: [CLS] first; prefix k's tokens = the sentence's tokens up to word k's end, + [SEP]
        for k in range(1, e.n_words + 1):
            alone = tok(e.prefix(k))["input_ids"]
            assert alone[:-1] == e.input_ids[: e.word_ends[k - 1] + 1]
    short = ant.encode_sentences(tok, SENTENCES[:1], max_length=8)[0]
    assert 0 < short.n_fit < short.n_words
    assert short.word_ends[-1] + 1 + 1 <= 8  # + [SEP]
    counts = ant.truncation_counts([short, full[1]])
    assert counts == {
        "sentences": 2,
        "sentences_truncated": 1,
        "sentences_no_word_fits": 0,
        "prefixes_beyond_max_length": short.n_words - short.n_fit,
    }
    with pytest.raises(ValueError, match="sentence 1 is empty"):
        ant.encode_sentences(tok, ["fine", "   "], max_length=16)


def test_random_prefix_examples_one_per_sentence_per_epoch_seeded(tokenizers):
    encoded = ant.encode_sentences(tokenizers["encoder"], SENTENCES, max_length=64)
    labels = [1, 0, 1]
    two = ant.random_prefix_examples(encoded, labels, epochs=2, seed=7, extra={"source": ["a", "b", "c"]})
    assert len(two) == 6
    assert [e["sentence"] for e in two] == [0, 1, 2, 0, 1, 2]
    for example in two:
        e = encoded[example["sentence"]]
        assert 1 <= example["k"] <= e.n_fit
        assert example["text"] == " ".join(e.words[: example["k"]])
        assert example["w_len"] == pytest.approx(example["k"] / e.n_words)
        assert example["label"] == labels[example["sentence"]]
        assert example["source"] == "abc"[example["sentence"]]
    assert two == ant.random_prefix_examples(
        encoded, labels, epochs=2, seed=7, extra={"source": ["a", "b", "c"]}
    )
    many = ant.random_prefix_examples(encoded * 10, labels * 10, epochs=2, seed=7)
    first, second = [e["k"] for e in many[:30]], [e["k"] for e in many[30:]]
    assert first != second  # a fresh prefix per epoch
    assert len(ant.random_prefix_examples(encoded, labels, epochs=1.5, seed=7)) == round(1.5 * 3)


def test_random_prefixes_respect_max_length(tokenizers):
    encoded = ant.encode_sentences(tokenizers["decoder"], SENTENCES * 20, max_length=6)
    examples = ant.random_prefix_examples(encoded, [1] * 60, epochs=1, seed=0)
    for example in examples:
        assert example["k"] <= encoded[example["sentence"]].n_fit
        assert len(tokenizers["decoder"](example["text"])["input_ids"]) <= 6


def test_word_prefix_examples_and_collator(tokenizers):
    tok = tokenizers["decoder"]
    encoded = ant.encode_sentences(tok, SENTENCES[:2], max_length=64)
    examples = ant.word_prefix_examples(encoded, [1.0, [0.1 * i for i in range(6)]])
    assert examples[0]["labels"] == [1.0] * encoded[0].n_words
    assert examples[1]["labels"] == pytest.approx([0.1 * i for i in range(6)])
    assert examples[0]["w_len"] == pytest.approx(
        [(k + 1) / encoded[0].n_words for k in range(encoded[0].n_words)]
    )
    batch = ant.WordPrefixCollator(tok.pad_token_id)(examples)
    n0, n1 = encoded[0].n_words, encoded[1].n_words
    assert batch["word_end_positions"].shape == (2, max(n0, n1))
    assert (batch["word_end_positions"][1, n1:] == -1).all() and (batch["w_len"][1, n1:] == 0).all()
    assert batch["attention_mask"][1].sum() == len(encoded[1].input_ids)
    with pytest.raises(ValueError, match="6 words but 2 per-word labels"):
        ant.word_prefix_examples(encoded[1:], [[0.1, 0.2]])


def test_random_prefix_dataset_draws_fresh_seeded_prefixes_each_epoch(tokenizers):
    encoded = ant.encode_sentences(tokenizers["encoder"], SENTENCES * 20, 64)
    dataset = ant.RandomPrefixDataset(encoded, [1, 0, 1] * 20, seed=5)
    first = [dataset[i]["text"] for i in range(len(dataset))]
    assert first == [ant.RandomPrefixDataset(encoded, [1, 0, 1] * 20, seed=5)[i]["text"] for i in range(60)]
    dataset.set_epoch(1)
    second = [dataset[i]["text"] for i in range(len(dataset))]
    assert first != second  # a fresh draw per epoch
    assert all(SENTENCES[i % 3].startswith(t) for i, t in enumerate(second))
    item = dataset[0]
    assert item["label"] == 1.0 and item["w_len"] == len(item["text"].split()) / len(SENTENCES[0].split())
