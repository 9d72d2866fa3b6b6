"""Anticipation experiments (hatespeech.anticipation): prefix datasets, w_len and phase-2 weights, one-pass
loss, scoring through the Anticipator, the phase-1 / phase-2 pipelines on tiny random backbones, and the
phase-2 leakage guard.

Tiny random backbones (``tiny_prefix_classifier``: BERT / Llama, 2 layers, hidden 32) keep the real
offline tokenizers and every code path of the real variants, and run in milliseconds. The pipelines read the
hand-made mini corpora in ``tests/fixtures/data`` (which deliberately contain phase-2 sentences).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from hatespeech import anticipation as ant
from hatespeech.anticipation import Phase1Result, evaluation, phase1, training
from hatespeech.anticipation.examples import random_prefix_draw
from hatespeech.anticipation.inference import Anticipator
from hatespeech.baselines import best_f1_threshold
from hatespeech.config import get_profile
from hatespeech.models.prefix import parse_variant, tiny_prefix_classifier

FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
SENTENCES = [
    "I am not sexist, but women should not be allowed to vote",
    "Immigrants bring new ideas and energy",
    "they should all go back where they came from #truth",
]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tokenizers / one_torch_thread: tests/conftest.py


def _tiny(variant, tokenizers, **kwargs):
    return tiny_prefix_classifier(variant, tokenizers[parse_variant(variant)[0]], **kwargs).eval()


@pytest.fixture
def isolated(monkeypatch, tmp_path, tokenizers):
    """Fixture corpora as data dir, a temp artifacts dir, tiny models instead of the real backbones."""
    monkeypatch.setenv("HATESPEECH_DATA_DIR", str(FIXTURE_DATA))
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))

    def tiny_build(variant, profile, pretrained=True):
        model = tiny_prefix_classifier(
            variant, tokenizers[parse_variant(variant)[0]], seed=3, trainable_layers=1
        )
        return model, tokenizers[parse_variant(variant)[0]]

    monkeypatch.setattr(training, "build_prefix_classifier", tiny_build)  # where train_phase1/2 look it up
    return tmp_path


def tiny_profile(**overrides):
    base = {
        "data.phase1_max_rows_per_source": None,
        "anticipation.max_length": 32,
        "anticipation.phase1_max_train_samples": None,
        "anticipation.phase1_max_eval_samples": None,
        "anticipation.phase1_prefix_eval_sentences": None,
        "anticipation.phase1_batch_size": 4,
        "anticipation.phase2_batch_size": 4,
        "anticipation.phase2_max_train_sentences": 6,
        "anticipation.phase2_ablation_variants": ("encoder",),
        "anticipation.phase1_encoder_lr_candidates": (5e-5, 1e-4),
        "anticipation.bootstrap_resamples": 50,
        "device": "cpu",
    }
    base.update(overrides)
    return get_profile("smoke", **base)


# ------------------------------------------------------------------------------------------ datasets
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


# --------------------------------------------------------------------------------------------- losses
def _each_prefix_logits(model, tok, sentence):
    words = sentence.split()
    out = []
    for k in range(1, len(words) + 1):
        enc = tok(" ".join(words[:k]), return_tensors="pt")
        out.append(model(enc["input_ids"], enc["attention_mask"]).logits[0])
    return torch.stack(out)


def test_one_pass_phase1_loss_uses_every_word_end_weighted_by_w_len(tokenizers):
    tok = tokenizers["decoder"]
    model = _tiny("decoder", tokenizers)
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
    model = _tiny("decoder+bilstm", tokenizers)
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
    model = _tiny("encoder", tokenizers)
    encoded = ant.encode_sentences(tok, SENTENCES[:1], max_length=64)
    batch = ant.WordPrefixCollator(tok.pad_token_id)(ant.word_prefix_examples(encoded, [1.0]))
    with pytest.raises(ValueError, match="later words"):
        ant.phase1_loss_fn(1.0)(model, batch)


def test_prefix_phase1_loss_weights_by_w_len(tokenizers):
    tok = tokenizers["encoder"]
    model = _tiny("encoder+bilstm", tokenizers)
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


# -------------------------------------------------------------------------------------------- scoring
@pytest.mark.parametrize("variant", ["encoder", "decoder+bilstm"])
def test_selection_scoring_goes_through_the_anticipator_and_keeps_train_mode(variant, tokenizers):
    """The per-epoch selection score (a training callback) scores through Anticipator at the profile's
    max_length, in eval mode, and hands the model back in train mode."""
    tok = tokenizers[parse_variant(variant)[0]]
    model = _tiny(variant, tokenizers)
    frame = pd.DataFrame({"text": SENTENCES * 4, "label": [1, 0, 1] * 4, "source": ["a", "b"] * 6})
    draw = random_prefix_draw(frame, None, seed=0, draw_seed=1)
    anticipator = Anticipator(model, tok, max_length=8)
    expected = anticipator.score(draw["prefix"].tolist())
    assert anticipator.last_truncated > 0  # some prefixes exceed 8 tokens: scored on the words that fit
    model.train()
    got = evaluation.score_draw(model, tok, draw, max_length=8, desc="selection")
    assert model.training and got.dtype == np.float64
    assert np.abs(got - expected).max() <= 1e-5
    f1, details = ant.selection_score_fn(tok, draw, max_length=8)(model)
    assert model.training
    assert details["threshold"] == best_f1_threshold(draw["label"].to_numpy(int), got)
    assert f1 == ant.binary_metrics(draw["label"], got, details["threshold"])["f1"]


# -------------------------------------------------------------------------------------------- metrics
def test_binary_metrics_and_grouping():
    m = ant.binary_metrics([1, 0, 1, 0], [0.9, 0.6, 0.4, 0.1])
    assert m["accuracy"] == 0.5 and m["f1"] == 0.5 and m["n"] == 4
    frame = pd.DataFrame(
        {"source": ["a", "a", "b", "b"], "label": [1, 0, 1, 0], "p_hate": [0.9, 0.6, 0.4, 0.1]}
    )
    by = ant.grouped_binary_metrics(frame, "source").set_index("source")
    assert (
        by.loc["a", "accuracy"] == 0.5
        and by.loc["b", "accuracy"] == 0.5
        and by.loc["a", "f1"] == pytest.approx(2 / 3)
    )


def test_seed_table_is_context_without_verdicts():
    result = Phase1Result(
        profile="smoke",
        phase1={"decoder": {"accuracy": 0.70, "f1": 0.80}},
        phase1_baselines={},
        phase1_evidence={},
        phase1_sweep=[],
        phase1_data={},
        models={},
        settings={},
    )
    table = result.seed_table()
    assert table.loc["decoder", "seed: accuracy"] == 0.78 and table.loc["decoder", "seed: F1"] == 0.74
    assert table.loc["decoder", "ours: F1"] == 0.80 and "verdict" not in table
    assert pd.isna(table.loc["encoder+bilstm", "ours: F1"])  # not run here: no number of ours
    assert "context only" in ant.SEED_CONTEXT_NOTE and "baselines" in ant.SEED_CONTEXT_NOTE


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


# ------------------------------------------------------------------------------------ data & leakage
def test_phase1_training_data_has_no_phase2_sentence(isolated, tokenizers):
    """The corpus built by our pipeline (fixtures hold three phase-2 tweets) and every training prefix it
    yields are free of prefix_probability sentences, checked with the data layer's leakage_check."""
    from hatespeech.data import leakage_check, load_prefix_probability
    from hatespeech.data.text import normalise_for_matching

    profile = tiny_profile()
    data = ant.load_phase1_data(profile)
    train, report = data.train, data.report
    assert set(report["split_sizes"]) == {"train", "selection", "val"}
    assert report["split_manifest"] == f"{profile.name}/splits/phase1.json"  # relative: no machine path
    phase2 = load_prefix_probability("all")
    assert report["sources"]["implicit_hate"]["removed"].get("phase2_tweet_id", 0) > 0  # the fixture did leak
    leakage_check(train, phase2)
    encoded = ant.encode_sentences(tokenizers["encoder"], train["text"].tolist(), 64)
    examples = ant.random_prefix_examples(encoded, train["label"], epochs=3, seed=0)
    sentences = {normalise_for_matching(s) for s in phase2["sentence"]}
    full = [e for e in examples if e["k"] == e["n_words"]]
    assert full  # some prefixes are whole sentences, so the check below is not vacuous
    assert not {normalise_for_matching(e["text"]) for e in examples} & sentences
    assert not set(train["id"]) & set(phase2["tweet_id"])


def test_phase1_pipeline_refuses_a_leaking_corpus(isolated, monkeypatch):
    from hatespeech import data
    from hatespeech.data import DataLeakageError

    real = data.build_phase1_corpus

    def leaking(profile):
        corpus, report = real(profile)
        leaked = data.load_prefix_probability("train")["sentence"].iloc[0]
        extra = pd.DataFrame(
            [{"id": "x1", "source": "stormfront", "text": leaked, "label": 1, "n_words": len(leaked.split())}]
        )
        return pd.concat([corpus, extra], ignore_index=True), report

    monkeypatch.setattr(phase1, "build_phase1_corpus", leaking)  # where load_phase1_data looks it up
    with pytest.raises(DataLeakageError):
        ant.load_phase1_data(tiny_profile())


# ------------------------------------------------------------------------------------------ pipelines
def test_phase1_and_phase2_pipelines_on_tiny_models(isolated):
    profile = tiny_profile(**{"anticipation.variants": ("encoder", "decoder", "decoder+bilstm")})
    run1 = ant.run_phase1(profile)
    for variant in ("encoder", "decoder", "decoder+bilstm"):
        metrics, stats = run1.metrics[variant], run1.stats[variant]
        assert 0 <= metrics["accuracy"] <= 1 and metrics["eval_sentences"] > 0
        assert stats["train_sentences"] == run1.data_counts["train_sentences_available"]
        assert (ant.checkpoint_dir(profile, 1, variant) / "config.json").exists()
    # the decoders see every word end (shared causal pass); the encoder one prefix per sentence
    for variant in ("decoder", "decoder+bilstm"):
        assert run1.stats[variant]["train_prefixes_seen"] > run1.stats[variant]["train_sentences"]
        assert run1.stats[variant]["batch_size_rows"] >= ant.PHASE1_MIN_ROWS_PER_BATCH
    assert run1.stats["encoder"]["train_prefixes_seen"] == run1.stats["encoder"]["train_sentences"]
    assert (
        pytest.approx(run1.stats["encoder"]["pos_weight"])
        == (1 - run1.stats["encoder"]["train_positive_share"]) / run1.stats["encoder"]["train_positive_share"]
    )
    assert set(run1.table("by_length_fraction")["variant"]) == {"encoder", "decoder", "decoder+bilstm"}
    assert {"loss", "eval_loss"} <= set(run1.history().columns)
    result1 = run1.result()
    assert {"accuracy", "f1", "by_source", "by_length_fraction", "training"} <= set(result1.phase1["decoder"])
    # chosen on the selection set: lr (encoder swept over its candidates), epoch and threshold
    lrs = ant.phase1_lr_candidates(profile, "encoder")
    assert {row["lr"] for row in run1.sweep if row["variant"] == "encoder"} == set(lrs) and len(lrs) == 2
    assert sum(row["kept"] for row in run1.sweep if row["variant"] == "encoder") == 1
    assert run1.metrics["encoder"]["threshold"] == run1.stats["encoder"]["threshold"]
    assert run1.best_variant() in {"encoder", "decoder", "decoder+bilstm"}
    # baselines scored on the very same prefixes, and the evidence behind every verdict
    assert set(run1.baselines) == {"majority", "tfidf_logistic"}
    for name in ("majority", "tfidf_logistic"):
        assert run1.predictions[name]["prefix"].tolist() == run1.predictions["encoder"]["prefix"].tolist()
    evidence = result1.phase1_evidence
    assert Phase1Result.from_json(result1.to_json()).to_json() == result1.to_json()  # the JSON round-trips
    assert result1.findings() and result1.tables()
    assert set(evidence["intervals"]) == {
        "encoder",
        "decoder",
        "decoder+bilstm",
        "majority",
        "tfidf_logistic",
    }
    assert f"f1:{run1.best_variant()}-tfidf_logistic" in evidence["comparisons"]
    assert evidence["n_comparisons"] == len(evidence["comparisons"])
    assert {"f1_margin_over_tfidf", "accuracy_above_majority"} == set(evidence["targets"])

    run2 = ant.run_phase2(profile)
    table = run2.mse_table()
    assert set(table["kind"]) == {
        "constant",
        "phase1_only",
        "phase2",
        "no_phase1",
        "baseline",
        "phase1_only_corrected",
    }
    assert set(table.loc[table["kind"] == "phase2", "variant"]) == {"encoder", "decoder", "decoder+bilstm"}
    assert table["n"].unique().tolist() == [int(run2.data.test["n_words"].sum())]
    result2 = run2.result()
    out = result2.to_json()
    assert result2.findings() and result2.tables()
    assert set(out["phase2"]) == {"encoder", "decoder", "decoder+bilstm"}
    assert set(out["baselines"]["phase2_without_phase1"]) == {"encoder"}
    assert out["baselines"]["constant"]["value"] == pytest.approx(run2.data.train_prefixes["label"].mean())
    assert "not a human ceiling" in out["annotator_agreement"]["note"]
    assert out["best_phase2_variant"] in {"encoder", "decoder", "decoder+bilstm"}
    assert {"tfidf_ridge", "phase1_only_prior_corrected"} <= set(out["baselines"])
    assert set(out["baselines"]["phase1_only_prior_corrected"]) == {"encoder", "decoder", "decoder+bilstm"}
    evidence = out["phase2_evidence"]
    assert evidence["best_variant"] == out["best_phase2_variant"] and evidence["unit"] == "test sentence"
    assert evidence["n_units"] == len(run2.data.test)
    best = f"phase2:{out['best_phase2_variant']}"
    assert {f"mse:{best}-constant:train_mean", f"mse:{best}-baseline:tfidf_ridge"} <= set(
        evidence["comparisons"]
    )
    for variant in ("encoder", "decoder", "decoder+bilstm"):  # the held-out sentences chose the epoch kept
        stats = out["phase2"][variant]["training"]
        assert (
            stats["epochs"] <= stats["max_epochs"] and stats["selection"]["kept"]["epoch"] == stats["epochs"]
        )
    assert "annotators:mean of passes" in out["earliness"]["by_model"]
    assert (ant.checkpoint_dir(profile, 2, "decoder") / "config.json").exists()
    assert len(run2.example_trajectories["encoder"][1]) == len(ant.EXAMPLE_SENTENCES[1].split())


def test_phase2_without_phase1_checkpoints_says_run_notebook_02(isolated):
    with pytest.raises(FileNotFoundError, match="02_phase1"):
        ant.run_phase2(tiny_profile())
    with pytest.raises(FileNotFoundError, match="02_phase1"):
        ant.load_checkpoint(tiny_profile(), 1, "encoder")


def test_batches_hold_about_batch_size_prefixes(tokenizers):
    encoded = ant.encode_sentences(tokenizers["decoder"], SENTENCES, max_length=64)  # 12, 6, 10 words
    rows = ant.ExampleDataset(ant.word_prefix_examples(encoded, [1.0, 0.0, 1.0]))
    assert rows.n_prefixes == 28
    assert ant.rows_per_batch(rows, 16) == round(16 / (28 / 3)) == 2
    assert ant.rows_per_batch(rows, 4) == 1  # never zero
    prefixes = ant.ExampleDataset(ant.random_prefix_examples(encoded, [1, 0, 1], epochs=1, seed=0))
    assert ant.rows_per_batch(prefixes, 16) == 16


def test_payload_has_no_nan(isolated):
    """Undefined numbers (no detection -> no earliness, empty calibration bins) are null, not NaN, in the
    JSON."""
    import json

    profile = tiny_profile(**{"anticipation.variants": ("encoder",)})
    ant.run_phase1(profile)
    run = ant.run_phase2(profile)
    text = json.dumps(run.result().to_json(), allow_nan=False)  # raises on NaN
    assert '"calibration"' in text
