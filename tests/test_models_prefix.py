"""PrefixClassifier: shapes, padding, one-pass equivalence, future-leak refusal, freezing, round trip.

Fast tests use tiny random backbones (BERT / Llama architecture, 2 layers, hidden 32) with the real offline
tokenizers, so they exercise the same code paths as the real models in milliseconds. The ``slow`` tests use
the real offline MiniLM-L6 / SmolLM2-135M.
"""

from __future__ import annotations

import pytest
import torch
from hatespeech.anticipation.examples import encode_sentences
from hatespeech.anticipation.training import new_prefix_classifier
from hatespeech.models.backbones import load_backbone
from hatespeech.models.prefix import (
    VARIANTS,
    PrefixClassifier,
    PrefixClassifierConfig,
    parse_variant,
    tiny_prefix_classifier,
)
from transformers import AutoModel

SENTENCES = [
    "I am not sexist, but women don't belong in the 2024 workplace!!",
    "Immigrants bring new ideas and energy",
    "they should all go back where they came from #truth",
]
TOLERANCE = 1e-4


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tokenizers / one_torch_thread: tests/conftest.py


def _tiny(variant, tokenizers, **kwargs):
    return tiny_prefix_classifier(variant, tokenizers[parse_variant(variant)[0]], **kwargs)


def _encode(tokenizer, sentence, max_length=10**6):
    """``(input_ids, word_ends)`` of a sentence as training and scoring tokenize it
    (:func:`hatespeech.anticipation.examples.encode_sentences`): ids up to the last fitting word's end."""
    (encoded,) = encode_sentences(tokenizer, [sentence], max_length)
    return encoded.input_ids, encoded.word_ends


def _pad(sequences, pad_id):
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return ids, mask


def _each_prefix_alone(model, tokenizer, sentence):
    """Reference: every word-prefix as its own right-padded sequence (token slices at word ends)."""
    ids, ends = _encode(tokenizer, sentence)
    batch_ids, mask = _pad([ids[: end + 1] for end in ends], tokenizer.pad_token_id)
    with torch.no_grad():
        return model(batch_ids, mask).logits


def test_variant_keys():
    assert VARIANTS == ("encoder", "encoder+bilstm", "decoder", "decoder+bilstm")
    assert parse_variant("decoder+bilstm") == ("decoder", True)
    assert parse_variant("encoder") == ("encoder", False)
    with pytest.raises(ValueError, match="unknown prefix-classifier variant"):
        parse_variant("gpt2")
    with pytest.raises(ValueError, match="contradicts"):
        PrefixClassifierConfig(backbone_type="decoder", use_bilstm=False, variant="encoder")


@pytest.mark.parametrize("variant", VARIANTS)
def test_forward_shape_and_padding_invariance(variant, tokenizers):
    model = _tiny(variant, tokenizers)
    tokenizer = tokenizers[parse_variant(variant)[0]]
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(batch["input_ids"], batch["attention_mask"]).logits
        alone = torch.stack(
            [
                model(
                    **{
                        k: v
                        for k, v in tokenizer(s, return_tensors="pt").items()
                        if k in ("input_ids", "attention_mask")
                    }
                ).logits[0]
                for s in SENTENCES
            ]
        )
    assert logits.shape == (len(SENTENCES),)
    assert torch.isfinite(logits).all()
    assert (logits - alone).abs().max() <= TOLERANCE  # padding changes nothing
    assert logits.std() > 1e-3  # the tiny model does tell sentences apart, so the comparison means something


@pytest.mark.parametrize("variant", ["decoder", "decoder+bilstm"])
def test_one_pass_equals_each_prefix_alone_tiny(variant, tokenizers):
    model = _tiny(variant, tokenizers)
    tokenizer = tokenizers["decoder"]
    encoded = [_encode(tokenizer, s) for s in SENTENCES]
    input_ids, mask = _pad([ids for ids, _ in encoded], tokenizer.pad_token_id)
    width = max(len(ends) for _, ends in encoded)
    ends = torch.full((len(SENTENCES), width), -1, dtype=torch.long)
    for row, (_, e) in enumerate(encoded):
        ends[row, : len(e)] = torch.tensor(e)
    with torch.no_grad():
        one_pass = model.all_prefix_logits(input_ids, mask, ends)
        if model.supports_one_pass:
            assert torch.equal(one_pass, model(input_ids, mask, word_end_positions=ends).logits)
    assert one_pass.shape == (len(SENTENCES), width)
    for row, sentence in enumerate(SENTENCES):
        reference = _each_prefix_alone(model, tokenizer, sentence)
        n_words = len(sentence.split())
        assert (one_pass[row, :n_words] - reference).abs().max() <= TOLERANCE
        assert (
            one_pass[row, n_words:] == 0
        ).all()  # padded word slots are 0 and must be masked by the caller


@pytest.mark.parametrize("variant", ["decoder", "decoder+bilstm"])
def test_all_prefix_logits_trains(variant, tokenizers):
    """The one-pass / shared-pass logits carry gradients to the head, the biLSTM and the trainable layers."""
    model = _tiny(variant, tokenizers, trainable_layers=1).train()
    ids, ends = _encode(tokenizers["decoder"], SENTENCES[1])
    logits = model.all_prefix_logits(
        torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long), torch.tensor([ends])
    )
    logits.sum().backward()
    assert model.head.weight.grad.abs().sum() > 0
    assert model.backbone.layers[-1].mlp.down_proj.weight.grad.abs().sum() > 0
    assert model.backbone.layers[0].mlp.down_proj.weight.grad is None  # frozen
    if model.lstm is not None:
        assert model.lstm.weight_hh_l0_reverse.grad.abs().sum() > 0


@pytest.mark.parametrize("variant", ["decoder", "decoder+bilstm"])
def test_shared_pass_gradients_repeat_bit_for_bit(variant, tokenizers):
    """Seeded training repeats: the backbone's gradients from every prefix of several sentences are the same
    bits on every backward, with more threads than this machine may have cores. (decoder+bilstm gathered a
    sentence's states once per prefix with advanced indexing, whose backward adds the repeats with parallel
    atomic float adds on CPU: its numbers moved by ~1e-8 between builds of one commit.)"""
    model = _tiny(variant, tokenizers, hidden=64, trainable_layers=None).eval()  # eval: no dropout draws
    encoded = [_encode(tokenizers["decoder"], s) for s in SENTENCES * 4]
    width = max(len(ids) for ids, _ in encoded)
    ids = torch.tensor([ids + [0] * (width - len(ids)) for ids, _ in encoded])
    mask = torch.tensor([[1] * len(i) + [0] * (width - len(i)) for i, _ in encoded])
    words = max(len(e) for _, e in encoded)
    ends = torch.tensor([e + [-1] * (words - len(e)) for _, e in encoded])
    threads = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        digests = set()
        for _ in range(5):
            model.zero_grad()
            # several chunks of 64 prefixes, each large enough for the parallel backward (where it varied)
            model.all_prefix_logits(ids, mask, ends, lstm_batch_size=64).sum().backward()
            grads = [p.grad.flatten() for p in model.backbone.parameters() if p.grad is not None]
            digests.add(torch.cat(grads).numpy().tobytes())
    finally:
        torch.set_num_threads(threads)
    assert len(digests) == 1


def test_decoder_one_pass_does_not_see_later_words(tokenizers):
    """Leakage: the first k prefix scores stay the same whatever follows word k."""
    model = _tiny("decoder", tokenizers)
    tokenizer = tokenizers["decoder"]
    first = "Immigrants bring new ideas and energy"
    second = "Immigrants bring new crime and drugs to our streets"
    scores = []
    for sentence in (first, second):
        ids, ends = _encode(tokenizer, sentence)
        with torch.no_grad():
            scores.append(
                model(
                    torch.tensor([ids]),
                    torch.ones(1, len(ids), dtype=torch.long),
                    word_end_positions=torch.tensor([ends]),
                ).logits[0]
            )
    assert (scores[0][:3] - scores[1][:3]).abs().max() <= 1e-6
    assert (scores[0][3:6] - scores[1][3:6]).abs().max() > 1e-4  # and it does react to the words it sees


@pytest.mark.parametrize("variant", ["encoder", "encoder+bilstm", "decoder+bilstm"])
def test_variants_that_would_leak_refuse_word_end_positions(variant, tokenizers):
    model = _tiny(variant, tokenizers)
    tokenizer = tokenizers[parse_variant(variant)[0]]
    ids, ends = _encode(tokenizer, SENTENCES[1])
    assert not model.supports_one_pass
    with pytest.raises(ValueError, match="future would leak"):
        model(
            torch.tensor([ids]),
            torch.ones(1, len(ids), dtype=torch.long),
            word_end_positions=torch.tensor([ends]),
        )
    if variant.startswith("encoder"):
        with pytest.raises(ValueError, match="encoder"):
            model.all_prefix_logits(
                torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long), torch.tensor([ends])
            )


def test_word_end_positions_out_of_range_is_rejected(tokenizers):
    model = _tiny("decoder", tokenizers)
    with pytest.raises(ValueError, match="holds index 9"):
        model(
            torch.tensor([[5, 6, 7]]),
            torch.ones(1, 3, dtype=torch.long),
            word_end_positions=torch.tensor([[0, 9]]),
        )


def test_encode_sentences_ids_and_word_ends(tokenizers):
    decoder, encoder = tokenizers["decoder"], tokenizers["encoder"]
    text = "I am not sexist, but"
    ids, ends = _encode(decoder, text)
    tokens = decoder.convert_ids_to_tokens(ids)
    assert len(ends) == 5 and ends[-1] == len(ids) - 1 and ids == decoder(text)["input_ids"]
    assert decoder.convert_tokens_to_string(tokens[ends[2] + 1 : ends[3] + 1]).strip() == "sexist,"
    ids, ends = _encode(encoder, text)  # [CLS] i am not sex ##ist , but ([SEP] left off)
    assert encoder.convert_ids_to_tokens(ids)[4:6] == ["sex", "##ist"]
    assert (
        ids[0] == encoder.cls_token_id and ends == [1, 2, 3, 6, 7] and ids == encoder(text)["input_ids"][:-1]
    )
    _, ends = _encode(encoder, text, max_length=6)  # [CLS] i am not + [SEP]: "sexist," cut
    assert ends == [1, 2, 3]


def test_text_tokenized_prefixes_match_token_slices(tokenizers):
    """Tokenizer-boundary caveat: scoring a prefix's own text equals slicing the sentence's tokens.

    Holds for byte-level BPE (GPT-2, SmolLM2) and WordPiece when words are separated by single spaces: the
    pre-tokenizer splits before every space, so no token spans a word boundary. (Runs of spaces or a text
    that is cut inside a word would break it; the prefix_probability texts collapse whitespace.)
    """
    for kind, tokenizer in tokenizers.items():
        for sentence in SENTENCES:
            ids, ends = _encode(tokenizer, sentence)
            words = sentence.split()
            for k, end in enumerate(ends, start=1):
                prefix_ids = tokenizer(" ".join(words[:k]))["input_ids"]
                if kind == "encoder":  # [CLS] ... [SEP]: the sentence's slice plus the closing [SEP]
                    assert prefix_ids == [*ids[: end + 1], tokenizer.sep_token_id]
                else:
                    assert prefix_ids == ids[: end + 1]


def test_freeze_lower_layers(tokenizers):
    model = _tiny("decoder", tokenizers, layers=3, trainable_layers=1)
    layers = model.backbone.layers
    assert not any(p.requires_grad for p in model.backbone.embed_tokens.parameters())
    assert not any(p.requires_grad for layer in layers[:2] for p in layer.parameters())
    assert all(p.requires_grad for p in layers[2].parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    model.freeze_lower_layers(None)
    assert all(p.requires_grad for p in model.parameters())
    encoder = _tiny("encoder+bilstm", tokenizers, layers=3, trainable_layers=0)
    assert not any(p.requires_grad for p in encoder.backbone.embeddings.parameters())
    assert not any(p.requires_grad for p in encoder.backbone.encoder.layer.parameters())
    assert all(p.requires_grad for p in encoder.lstm.parameters())
    with pytest.raises(ValueError, match=">= 0"):
        encoder.freeze_lower_layers(-1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_round_trip_tiny(variant, tokenizers, tmp_path):
    model = _tiny(variant, tokenizers, trainable_layers=1)
    tokenizer = tokenizers[parse_variant(variant)[0]]
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = PrefixClassifier.from_pretrained(tmp_path).eval()
    via_auto = AutoModel.from_pretrained(tmp_path).eval()
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model(batch["input_ids"], batch["attention_mask"]).logits
        assert torch.equal(loaded(batch["input_ids"], batch["attention_mask"]).logits, expected)
        assert torch.equal(via_auto(batch["input_ids"], batch["attention_mask"]).logits, expected)
    assert isinstance(via_auto, PrefixClassifier)
    assert loaded.config.variant == variant and loaded.config.backbone_name == "tiny-random"
    assert loaded.num_trainable_parameters() == model.num_trainable_parameters()  # freezing survives


# ------------------------------------------------------------------------------------ slow: real models
@pytest.fixture(scope="module")
def smoke_profile():
    from hatespeech.config import get_profile

    return get_profile("smoke")


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["encoder", "decoder+bilstm"])
def test_build_loads_pretrained_backbone_and_freezes(variant, smoke_profile):
    model, tokenizer = new_prefix_classifier(variant, smoke_profile)
    backbone_type, use_bilstm = parse_variant(variant)
    model_id = getattr(smoke_profile.models, backbone_type)
    reference = load_backbone(model_id).state_dict()
    for name, value in model.backbone.state_dict().items():
        assert torch.equal(value, reference[name]), name
    assert tokenizer.padding_side == "right" and tokenizer.pad_token_id is not None
    assert model.config.backbone_name == model_id and model.config.variant == variant
    assert (model.lstm is not None) == use_bilstm
    assert model.lstm is None or model.lstm.hidden_size == smoke_profile.anticipation.lstm_hidden
    trainable = getattr(smoke_profile.anticipation, f"{backbone_type}_trainable_layers")
    layers = model._transformer_layers()
    frozen = [not any(p.requires_grad for p in layer.parameters()) for layer in layers]
    assert frozen == [True] * (len(layers) - trainable) + [False] * trainable


@pytest.mark.slow
def test_real_decoder_one_pass_equals_each_prefix_alone(smoke_profile):
    model, tokenizer = new_prefix_classifier("decoder", smoke_profile)
    model.eval()
    sentences = ["I am not sexist, but women should stay home", "Immigrants bring new ideas and energy"]
    encoded = [_encode(tokenizer, s) for s in sentences]
    input_ids, mask = _pad([ids for ids, _ in encoded], tokenizer.pad_token_id)
    width = max(len(e) for _, e in encoded)
    ends = torch.full((2, width), -1, dtype=torch.long)
    for row, (_, e) in enumerate(encoded):
        ends[row, : len(e)] = torch.tensor(e)
    with torch.no_grad():
        one_pass = model(input_ids, mask, word_end_positions=ends).logits
    worst = 0.0
    for row, sentence in enumerate(sentences):
        words = sentence.split()
        reference = _each_prefix_alone(model, tokenizer, sentence)
        # and scored from each prefix's own text (tokenized alone): the same tokens, so the same scores
        texts = tokenizer(
            [" ".join(words[:k]) for k in range(1, len(words) + 1)], padding=True, return_tensors="pt"
        )
        with torch.no_grad():
            from_text = model(texts["input_ids"], texts["attention_mask"]).logits
        worst = max(
            worst,
            float((one_pass[row, : len(words)] - reference).abs().max()),
            float((one_pass[row, : len(words)] - from_text).abs().max()),
        )
        assert reference.std() > 1e-3
    print(f"real SmolLM2 one-pass vs per-prefix: max abs logit diff {worst:.2e}")
    assert worst <= TOLERANCE


@pytest.mark.slow
def test_real_encoder_bilstm_round_trip(smoke_profile, tmp_path):
    model, tokenizer = new_prefix_classifier("encoder+bilstm", smoke_profile)
    model.eval()
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    loaded = PrefixClassifier.from_pretrained(tmp_path).eval()
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    with torch.no_grad():
        assert torch.equal(
            loaded(batch["input_ids"], batch["attention_mask"]).logits,
            model(batch["input_ids"], batch["attention_mask"]).logits,
        )
    assert loaded.config.backbone_config["model_type"] == "bert"
    assert loaded.num_trainable_parameters() == model.num_trainable_parameters()
