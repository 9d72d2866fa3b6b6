"""Sentences as the models see them: tokenized once with their word ends (:class:`EncodedSentence`), turned
into prefix examples, datasets and collators; plus the tokenizer-free sentence samples and random prefix draws
that training, evaluation and the baselines share.

A prefix of k words is a sentence's first k whitespace words, weighted by ``w_len = k / n_words``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..data import word_end_token_positions


# ===================================================================================== sentences & prefixes
@dataclass
class EncodedSentence:
    """A sentence tokenized once: its token ids, and the token index of the last token of each word that fits.

    ``word_ends`` holds only the first ``n_fit`` words (those whose prefix fits ``max_length`` tokens with the
    tokenizer's special tokens); ``n_words`` counts all whitespace words, so ``w_len = k / n_words``.
    """

    words: list[str]
    input_ids: list[int]
    word_ends: list[int]

    @property
    def n_words(self) -> int:
        return len(self.words)

    @property
    def n_fit(self) -> int:
        return len(self.word_ends)

    def prefix(self, k: int) -> str:
        return " ".join(self.words[:k])


def encode_sentences(
    tokenizer, texts, max_length: int, desc: str = "tokenizing", what: str = "sentence"
) -> list[EncodedSentence]:
    """Tokenize each sentence once and find its word ends
    (:func:`hatespeech.data.word_end_token_positions`). Training and scoring
    (:class:`hatespeech.anticipation.inference.Anticipator`) both tokenize through here.

    A prefix of k words is the sentence's first tokens up to word k's last token (plus the tokenizer's
    trailing special tokens, e.g. BERT's [SEP]); words whose prefix would exceed ``max_length`` are left out
    of ``word_ends`` (counted by :func:`truncation_counts`). Raises ValueError naming the row (``what`` and
    its index) of an empty or non-text entry.
    """
    trailing = _trailing_special_tokens(tokenizer)
    texts = list(texts)
    out = []
    for row, text in enumerate(tqdm(texts, desc=desc, leave=False, disable=len(texts) < 2000)):
        if not isinstance(text, str) or not text.split():
            raise ValueError(f"{what} {row} is empty or not text: {text!r}")
        words = text.split()
        sentence = " ".join(words)
        ids = tokenizer(sentence)["input_ids"]
        ends = word_end_token_positions(tokenizer, sentence)
        fit = []
        for end in ends:
            if end < 0 or end + 1 + trailing > max_length:
                break
            fit.append(int(end))
        content = ids[: fit[-1] + 1] if fit else []
        out.append(EncodedSentence(words=words, input_ids=list(content), word_ends=fit))
    return out


def _trailing_special_tokens(tokenizer) -> int:
    """Special tokens the tokenizer appends after the text ([SEP] for BERT, none for GPT-2 / SmolLM2)."""
    enc = tokenizer("a", add_special_tokens=True, return_special_tokens_mask=True)
    mask = enc["special_tokens_mask"]
    count = 0
    for flag in reversed(mask):
        if not flag:
            break
        count += 1
    return count


def truncation_counts(encoded: list[EncodedSentence]) -> dict[str, int]:
    """Sentences whose last words do not fit max_length, and sentences with no word that fits at all."""
    return {
        "sentences": len(encoded),
        "sentences_truncated": int(sum(e.n_fit < e.n_words for e in encoded)),
        "sentences_no_word_fits": int(sum(e.n_fit == 0 for e in encoded)),
        "prefixes_beyond_max_length": int(sum(e.n_words - e.n_fit for e in encoded)),
    }


def random_prefix_examples(
    encoded: list[EncodedSentence], labels, epochs: float, seed: int, extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """One random word-prefix per sentence per epoch (k uniform in 1..n_fit), seeded per epoch.

    ``epochs`` may be fractional: ``ceil(epochs)`` draws are made and the list is cut to ``round(epochs·N)``
    examples, so the Trainer runs one pass over it. Sentences with no word that fits are skipped (see
    :func:`truncation_counts`). Each example: ``text`` (the prefix), ``label``, ``w_len``, ``k``, ``n_words``,
    ``sentence`` (row index) and the ``extra`` columns (e.g. source) of that row.
    """
    labels = np.asarray(labels, dtype=np.float32)
    usable = [i for i, e in enumerate(encoded) if e.n_fit > 0]
    examples: list[dict[str, Any]] = []
    for epoch in range(max(1, math.ceil(epochs))):
        rng = np.random.default_rng([seed, epoch])
        for i in usable:
            e = encoded[i]
            k = int(rng.integers(1, e.n_fit + 1))
            example = {
                "text": e.prefix(k),
                "label": float(labels[i]),
                "w_len": k / e.n_words,
                "k": k,
                "n_words": e.n_words,
                "sentence": i,
            }
            if extra:
                example.update({name: values[i] for name, values in extra.items()})
            examples.append(example)
    n_keep = max(1, round(epochs * len(usable))) if usable else 0
    if n_keep < len(examples):
        order = np.random.default_rng([seed, 10_000]).permutation(len(examples))[:n_keep]
        examples = [examples[j] for j in sorted(order)]
    return examples


def word_prefix_examples(encoded: list[EncodedSentence], word_labels) -> list[dict[str, Any]]:
    """One example per sentence holding every word-prefix that fits: ``input_ids``, ``word_end_positions``,
    ``labels`` and ``w_len`` per word.

    ``word_labels[i]`` is a scalar (phase 1: the sentence label for every prefix) or a sequence with one
    target per word (phase 2).
    """
    examples = []
    for i, e in enumerate(encoded):
        if e.n_fit == 0:
            continue
        target = word_labels[i]
        if np.ndim(target) == 0:
            labels = [float(target)] * e.n_fit
        else:
            target = np.asarray(target, dtype=np.float32)
            if len(target) != e.n_words:
                raise ValueError(f"sentence {i} has {e.n_words} words but {len(target)} per-word labels")
            labels = target[: e.n_fit].tolist()
        examples.append(
            {
                "input_ids": e.input_ids,
                "word_end_positions": e.word_ends,
                "labels": labels,
                "w_len": [(k + 1) / e.n_words for k in range(e.n_fit)],
                "sentence": i,
            }
        )
    return examples


class ExampleDataset(torch.utils.data.Dataset):
    """A list of example dicts as a map-style dataset (the Trainer shuffles and batches it)."""

    def __init__(self, examples: list[dict[str, Any]]):
        if not examples:
            raise ValueError("no training examples (every sentence empty or longer than max_length?)")
        self.examples = examples

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self.examples[index]

    @property
    def lengths(self) -> list[int] | None:
        """Tokens per example (``length``, else ``input_ids``) for length-grouped batches, or None."""
        lengths = [e.get("length", len(e["input_ids"]) if "input_ids" in e else None) for e in self.examples]
        return None if any(n is None for n in lengths) else lengths

    @property
    def n_prefixes(self) -> int:
        """Word-prefixes (loss terms) in one pass over the dataset."""
        return int(
            sum(len(e["word_end_positions"]) if "word_end_positions" in e else 1 for e in self.examples)
        )


class RandomPrefixDataset(torch.utils.data.Dataset):
    """One random word-prefix per sentence, drawn afresh every epoch: k uniform in 1..n_fit, seeded by
    ``(seed, epoch, sentence)`` so a rerun repeats every draw. :class:`hatespeech.selection.EpochSelection`
    calls :meth:`set_epoch` at the start of each epoch. Sentences with no word that fits are skipped
    (counted by :func:`truncation_counts`)."""

    def __init__(self, encoded: list[EncodedSentence], labels, seed: int):
        self.encoded = encoded
        self.labels = np.asarray(labels, dtype=np.float32)
        self.usable = [i for i, e in enumerate(encoded) if e.n_fit > 0]
        if not self.usable:
            raise ValueError("no training examples (every sentence empty or longer than max_length?)")
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.usable)

    def __getitem__(self, index: int) -> dict[str, Any]:
        i = self.usable[index]
        e = self.encoded[i]
        k = int(np.random.default_rng([self.seed, self.epoch, i]).integers(1, e.n_fit + 1))
        return {"text": e.prefix(k), "label": float(self.labels[i]), "w_len": k / e.n_words}

    @property
    def n_prefixes(self) -> int:
        return len(self.usable)


@dataclass
class PrefixCollator:
    """Batches of prefix texts, each its own sequence (dynamic padding, truncation at ``max_length``)."""

    tokenizer: Any
    max_length: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer(
            [f["text"] for f in features],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            "input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"],
            "labels": torch.tensor([f["label"] for f in features], dtype=torch.float32),
            "w_len": torch.tensor([f["w_len"] for f in features], dtype=torch.float32),
        }


@dataclass
class WordPrefixCollator:
    """Batches of whole sentences with every word end: ``word_end_positions``, ``labels`` and ``w_len`` are
    ``[B, W]``, padded with -1 / 0 / 0 (the losses mask ``word_end_positions < 0``). Right padding keeps every
    row's positions starting at 0, so a causal state equals that of the prefix alone."""

    pad_token_id: int

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = len(features)
        width = max(len(f["input_ids"]) for f in features)
        words = max(len(f["word_end_positions"]) for f in features)
        input_ids = torch.full((batch, width), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((batch, width), dtype=torch.long)
        ends = torch.full((batch, words), -1, dtype=torch.long)
        labels = torch.zeros((batch, words), dtype=torch.float32)
        w_len = torch.zeros((batch, words), dtype=torch.float32)
        for row, f in enumerate(features):
            n, w = len(f["input_ids"]), len(f["word_end_positions"])
            input_ids[row, :n] = torch.tensor(f["input_ids"], dtype=torch.long)
            attention_mask[row, :n] = 1
            ends[row, :w] = torch.tensor(f["word_end_positions"], dtype=torch.long)
            labels[row, :w] = torch.tensor(f["labels"], dtype=torch.float32)
            w_len[row, :w] = torch.tensor(f["w_len"], dtype=torch.float32)
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "word_end_positions": ends,
            "labels": labels,
            "w_len": w_len,
        }


# ========================================================================================== samples & draws
def sample_sentences(
    frame: pd.DataFrame, n: int | None, seed: int, strata=("source", "label")
) -> pd.DataFrame:
    """A seeded sample of about ``n`` rows keeping each stratum's share (all when ``n`` is None or larger)."""
    if n is None or n >= len(frame):
        return frame.reset_index(drop=True)
    keys = [c for c in strata if c in frame]
    if not keys:
        return frame.sample(n=n, random_state=seed).reset_index(drop=True)
    sampled = frame.groupby(keys, group_keys=False).sample(frac=n / len(frame), random_state=seed)
    return sampled.sort_index().reset_index(drop=True)


def random_prefix_draw(frame: pd.DataFrame, n: int | None, seed: int, draw_seed) -> pd.DataFrame:
    """A seeded sample of ``n`` sentences and one random prefix of each (k uniform in 1..n_words, independent
    of any tokenizer): columns ``k, n_words, w_len, prefix`` added."""
    sample = sample_sentences(frame, n, seed)
    rng = np.random.default_rng(draw_seed)
    words = sample["text"].str.split()
    n_words = words.str.len().to_numpy()
    if (n_words == 0).any():
        raise ValueError(f"empty text in phase-1 rows {sample.index[n_words == 0][:5].tolist()}")
    k = np.array([int(rng.integers(1, n + 1)) for n in n_words])
    return sample.assign(
        k=k, n_words=n_words, w_len=k / n_words, prefix=[" ".join(w[:kk]) for w, kk in zip(words, k)]
    )
