"""hatespeech.anticipation.shared_layers: classifiers (decoders, and encoders) that share lower layers are
scored with those layers computed once, and the scores equal plain scoring."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hatespeech.anticipation.inference import Anticipator
from hatespeech.anticipation.shared_layers import score_family, shared_lower_layers
from hatespeech.models.prefix import tiny_prefix_classifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

TEXTS = ["I hate women.", "I hate Muslims.", "Immigrants bring new ideas and energy", "You people"]


@pytest.fixture(scope="module", params=["decoder", "encoder"])
def family(request, tmp_path_factory, offline_tokenizer):
    """Three saved tiny models of one backbone with the same embeddings and lower layer (one with a biLSTM)
    whose top layer and head differ, and one that shares nothing."""
    backbone = request.param
    tokenizer = offline_tokenizer("offline:smollm2-135m" if backbone == "decoder" else "offline:minilm-l6")
    torch.manual_seed(0)
    base = tiny_prefix_classifier(backbone, tokenizer)
    folders = {}
    kinds = ((backbone, "a"), (backbone, "b"), (f"{backbone}+bilstm", "c"), (backbone, "other"))
    for variant, name in kinds:
        torch.manual_seed(len(folders) + 1)
        model = tiny_prefix_classifier(variant, tokenizer)
        with torch.no_grad():
            if name == "other":  # its own embeddings: nothing shared
                embeddings = model.backbone.get_input_embeddings().weight
                embeddings.add_(0.05 * torch.randn_like(embeddings))
            else:
                model.backbone.load_state_dict(base.backbone.state_dict())
                for param in model._transformer_layers()[-1].parameters():
                    param.add_(0.05 * (len(folders) + 1) * torch.randn_like(param))
        folder = tmp_path_factory.mktemp(f"{backbone}-{name}")
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        folders[name] = folder
    return folders


def test_shared_layers_are_counted(family):
    models = [Anticipator.from_pretrained(family[n]).model for n in ("a", "b", "c")]
    assert shared_lower_layers(models) == len(models[0]._transformer_layers()) - 1
    assert shared_lower_layers([*models, Anticipator.from_pretrained(family["other"]).model]) == 0


def test_family_scores_equal_plain_scoring(family):
    folders = {n: family[n] for n in ("a", "b", "c")}
    out, n_shared = score_family(folders, TEXTS, max_length=64, trajectories={"b", "c"})
    assert n_shared >= 1
    for name, (scores, trajectories, seconds) in out.items():
        plain = Anticipator.from_pretrained(folders[name], max_length=64)
        np.testing.assert_allclose(scores, plain.score(TEXTS), atol=1e-5)
        if name == "a":
            assert trajectories is None
        else:
            for got, expected in zip(trajectories, plain.trajectories(TEXTS)):
                np.testing.assert_allclose(got, expected, atol=1e-5)
        assert seconds > 0
    assert not np.allclose(out["a"][0], out["b"][0])  # the differing top layer still counts
    # after scoring, every model is whole again (the stubs are removed)
    again = Anticipator.from_pretrained(folders["b"], max_length=64).score(TEXTS)
    np.testing.assert_allclose(again, out["b"][0], atol=1e-5)


def test_a_family_that_shares_nothing_is_scored_one_by_one(family):
    folders = {n: family[n] for n in ("a", "other")}
    out, n_shared = score_family(folders, TEXTS, max_length=64, trajectories=set())
    assert n_shared == 0
    for name, (scores, _, _) in out.items():
        np.testing.assert_allclose(
            scores, Anticipator.from_pretrained(folders[name], max_length=64).score(TEXTS), atol=1e-5
        )


@pytest.mark.parametrize("variant", ["decoder", "decoder+bilstm"])
def test_frozen_layer_memo_gives_the_plain_logits_and_gradients(variant, tokenizers):
    """Training through the memo (first pass computes and records, later passes replay) gives the same
    logits and the same gradients of the trained top layers and head as the plain model."""
    from hatespeech.anticipation.examples import WordPrefixCollator, encode_sentences, word_prefix_examples
    from hatespeech.anticipation.shared_layers import FrozenLayerMemo
    from hatespeech.anticipation.training import prefix_logits

    tokenizer = tokenizers["decoder"]
    model = tiny_prefix_classifier(variant, tokenizer, layers=3)
    model.freeze_lower_layers(1)
    model.dropout.p = 0.0  # the head's dropout would draw differently in the two passes
    encoded = encode_sentences(tokenizer, TEXTS, 32)
    rows = word_prefix_examples(encoded, [np.ones(e.n_words) for e in encoded])
    batch = WordPrefixCollator(tokenizer.pad_token_id)(rows)

    def logits_and_grads():
        model.zero_grad()
        logits, _, _ = prefix_logits(model, batch)
        logits.sum().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
        return logits.detach(), grads

    model.train()
    plain_logits, plain_grads = logits_and_grads()
    memo = FrozenLayerMemo(FrozenLayerMemo.frozen_layers(model))
    assert memo.n_frozen == 2  # of three layers, the top one trains
    with memo.attach(model):
        first = logits_and_grads()  # computes and records
        assert memo.misses == len(TEXTS) and memo.hits == 0 and len(memo.states) == len(TEXTS)
        second = logits_and_grads()  # replays
        assert memo.hits == len(TEXTS)
    for logits, grads in (first, second):
        torch.testing.assert_close(logits, plain_logits, atol=1e-5, rtol=1e-5)
        assert grads.keys() == plain_grads.keys() and grads
        for name in grads:
            torch.testing.assert_close(grads[name], plain_grads[name], atol=1e-5, rtol=1e-4)
    # the real layers are back, and a model whose frozen layers differ is refused
    assert all(p.requires_grad is False for p in model._transformer_layers()[0].parameters())
    other = tiny_prefix_classifier(variant, tokenizer, layers=3, seed=1)
    other.freeze_lower_layers(1)
    with pytest.raises(ValueError, match="differ"), memo.attach(other):
        pass


def test_frozen_layer_memo_bounds_its_memory(tokenizers):
    from hatespeech.anticipation.shared_layers import FrozenLayerMemo

    tokenizer = tokenizers["decoder"]
    model = tiny_prefix_classifier("decoder", tokenizer, layers=2)
    model.freeze_lower_layers(1)
    memo = FrozenLayerMemo(1, max_bytes=32 * 4 * 6)  # room for 6 token states of width 32
    with memo.attach(model):
        scores = Anticipator(model, tokenizer).score(TEXTS)
        again = Anticipator(model, tokenizer).score(TEXTS)
    assert memo.bytes <= memo.max_bytes and len(memo.states) < len(TEXTS)
    np.testing.assert_allclose(scores, again, atol=1e-6)
    np.testing.assert_allclose(scores, Anticipator(model, tokenizer).score(TEXTS), atol=1e-5)
