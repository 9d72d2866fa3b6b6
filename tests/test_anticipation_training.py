"""hatespeech.anticipation.training: the phase-1 losses (one pass and per prefix, weighted by w_len), the
phase-2 weights and batch sizing, on tiny random backbones."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from anticipation_support import SENTENCES, tiny
from hatespeech import anticipation as ant

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tokenizers / one_torch_thread: tests/conftest.py


def _each_prefix_logits(model, tok, sentence):
    words = sentence.split()
    out = []
    for k in range(1, len(words) + 1):
        enc = tok(" ".join(words[:k]), return_tensors="pt")
        out.append(model(enc["input_ids"], enc["attention_mask"]).logits[0])
    return torch.stack(out)


def test_one_pass_phase1_loss_uses_every_word_end_weighted_by_w_len(tokenizers):
    tok = tokenizers["decoder"]
    model = tiny("decoder", tokenizers)
    encoded = ant.encode_sentences(tok, SENTENCES, max_length=64)
    labels = [1.0, 0.0, 1.0]
    batch = ant.WordPrefixCollator(tok.pad_token_id)(ant.word_prefix_examples(encoded, labels))
    with torch.no_grad():
        loss, _ = ant.phase1_loss_fn(2.5)(model, batch)
        terms, weights = [], []
        for sentence, label in zip(SENTENCES, labels):
            logits = _each_prefix_logits(model, tok, sentence)
            n = len(logits)
            target = torch.full((n,), label)
            terms.append(
                F.binary_cross_entropy_with_logits(
                    logits, target, pos_weight=torch.tensor(2.5), reduction="none"
                )
            )
            weights.append(torch.arange(1, n + 1) / n)
        terms, weights = torch.cat(terms), torch.cat(weights)
        expected = (terms * weights).sum() / weights.sum()
    assert len(terms) == sum(len(s.split()) for s in SENTENCES)  # every word end is a loss term
    assert float(loss) == pytest.approx(float(expected), abs=1e-5)


def test_decoder_bilstm_word_prefix_loss_equals_prefixes_alone(tokenizers):
    tok = tokenizers["decoder"]
    model = tiny("decoder+bilstm", tokenizers)
    encoded = ant.encode_sentences(tok, SENTENCES[:2], max_length=64)
    targets = [np.linspace(0, 1, e.n_words) for e in encoded]
    batch = ant.WordPrefixCollator(tok.pad_token_id)(ant.word_prefix_examples(encoded, targets))
    with torch.no_grad():
        loss, _ = ant.phase2_loss_fn(C=2.0, normaliser=3.0)(model, batch)
        preds, ys, wl = [], [], []
        for sentence, target in zip(SENTENCES[:2], targets):
            preds.append(torch.sigmoid(_each_prefix_logits(model, tok, sentence)))
            ys.append(torch.tensor(target, dtype=torch.float32))
            wl.append(torch.arange(1, len(target) + 1) / len(target))
        p, y, w_len = torch.cat(preds), torch.cat(ys), torch.cat(wl)
        w = 0.8 * 2.0 * y + 0.2 * w_len
        expected = (w * (p - y) ** 2).sum() / 3.0  # the fixed normaliser, not this batch's sum of w
    assert float(loss) == pytest.approx(float(expected), abs=1e-5)


def test_encoder_rows_refuse_word_end_batches(tokenizers):
    tok = tokenizers["encoder"]
    model = tiny("encoder", tokenizers)
    encoded = ant.encode_sentences(tok, SENTENCES[:1], max_length=64)
    batch = ant.WordPrefixCollator(tok.pad_token_id)(ant.word_prefix_examples(encoded, [1.0]))
    with pytest.raises(ValueError, match="later words"):
        ant.phase1_loss_fn(1.0)(model, batch)


def test_prefix_phase1_loss_weights_by_w_len(tokenizers):
    tok = tokenizers["encoder"]
    model = tiny("encoder+bilstm", tokenizers)
    examples = [
        {"text": "I am", "label": 1.0, "w_len": 0.2},
        {"text": "Immigrants bring new", "label": 0.0, "w_len": 0.9},
    ]
    batch = ant.PrefixCollator(tok, 32)(examples)
    with torch.no_grad():
        loss, logits = ant.phase1_loss_fn(None)(model, batch)
        bce = F.binary_cross_entropy_with_logits(logits, torch.tensor([1.0, 0.0]), reduction="none")
    assert float(loss) == pytest.approx(float((0.2 * bce[0] + 0.9 * bce[1]) / 1.1), abs=1e-6)


def test_phase2_loss_weights_hand_computed():
    class Fixed(torch.nn.Module):
        def forward(self, input_ids, attention_mask):
            return type("Out", (), {"logits": torch.tensor([0.0, math.log(3.0)])})()  # p = 0.5, 0.75

    batch = {
        "input_ids": torch.zeros(2, 1, dtype=torch.long),
        "attention_mask": torch.ones(2, 1),
        "labels": torch.tensor([0.0, 1.0]),
        "w_len": torch.tensor([0.5, 1.0]),
    }
    loss, predictions = ant.phase2_loss_fn(C=1.0, normaliser=2.0)(Fixed(), batch)
    # w = 0.8*C*y + 0.2*w_len = [0.1, 1.0]; squared errors [0.25, 0.0625]; divided by the fixed normaliser
    assert predictions.tolist() == pytest.approx([0.5, 0.75])
    assert float(loss) == pytest.approx((0.1 * 0.25 + 1.0 * 0.0625) / 2.0)
    # the normaliser: mean train weight x nominal prefixes per batch
    assert ant.phase2_normaliser([0.0, 1.0], [0.5, 1.0], 1.0, 4) == pytest.approx((0.1 + 1.0) / 2 * 4)


def test_batches_hold_about_batch_size_prefixes(tokenizers):
    encoded = ant.encode_sentences(tokenizers["decoder"], SENTENCES, max_length=64)  # 12, 6, 10 words
    rows = ant.ExampleDataset(ant.word_prefix_examples(encoded, [1.0, 0.0, 1.0]))
    assert rows.n_prefixes == 28
    assert ant.rows_per_batch(rows, 16) == round(16 / (28 / 3)) == 2
    assert ant.rows_per_batch(rows, 4) == 1  # never zero
    prefixes = ant.ExampleDataset(ant.random_prefix_examples(encoded, [1, 0, 1], epochs=1, seed=0))
    assert ant.rows_per_batch(prefixes, 16) == 16


def test_rehearsal_rows_are_full_sentences_in_the_models_row_format(tokenizers):
    import pandas as pd

    sentences = pd.DataFrame({"text": SENTENCES, "label": [1, 0, 1]})
    decoder = tiny("decoder", tokenizers)
    rows = ant.rehearsal_examples(decoder, tokenizers["decoder"], sentences, max_length=64)
    encoded = ant.encode_sentences(tokenizers["decoder"], SENTENCES, 64)
    for row, e, label in zip(rows, encoded, [1, 0, 1]):
        # one loss term, at the last word's last token: the full sentence at its 0/1 label
        assert row["word_end_positions"] == [e.word_ends[-1]] and row["labels"] == [label]
        assert row["input_ids"] == e.input_ids[: e.word_ends[-1] + 1] and row["w_len"] == [1.0]
    encoder = tiny("encoder", tokenizers)
    rows = ant.rehearsal_examples(encoder, tokenizers["encoder"], sentences, max_length=64)
    assert [r["text"] for r in rows] == [" ".join(t.split()) for t in SENTENCES]
    assert [r["label"] for r in rows] == [1.0, 0.0, 1.0] and all(r["w_len"] == 1.0 for r in rows)


def test_rehearsal_refuses_bad_settings():
    import pandas as pd

    good = pd.DataFrame({"text": ["a b"], "label": [1]})
    with pytest.raises(ValueError, match="share"):
        ant.Rehearsal(0.0, good, good)
    with pytest.raises(ValueError, match=r"selection: label must be 0 or 1, got 2"):
        ant.Rehearsal(0.1, good, good.assign(label=2))
    with pytest.raises(ValueError, match=r"sentences lack column\(s\) \['label'\]"):
        ant.Rehearsal(0.1, good[["text"]], good)
