"""Reduced-precision scoring (``Anticipator.from_pretrained(quantize=...)``, CLI ``--quantize``): int8 and
bf16 agree with fp32 within a stated tolerance on tiny random models; under int8 streaming equals one pass and
batch make-up does not move a text's score; clear errors for what cannot be converted."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from anticipation_support import save_tiny_models
from hatespeech.__main__ import EXIT_BAD_INPUT, main
from hatespeech.anticipation.inference import Anticipator
from hatespeech.anticipation.quantize import (
    QuantizationError,
    RowScaledInt8Linear,
    full_range_is_exact,
    quantize_int8,
    quantize_model,
    smooth_activations,
)
from hatespeech.models.prefix import VARIANTS

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

TEXT = "I am not sexist, but women don't belong in the 2024 workplace!! #truth"
OTHERS = ["Immigrants bring new ideas and energy", "You people"]
# int8 / bf16 vs fp32 on the tiny random models (2 layers, hidden 32, logits spread over 3-17 units), every
# prefix of three texts: the largest logit change as a share of the fp32 logits' range, measured int8
# 0.013-0.074 (7-bit activations; 8-bit ones do better), bf16 0.008-0.022 over the four variants. Random tiny
# weights quantize worse than trained ones; what the real models lose is measured on the phase-2 test set
# (benchmarks/anticipation_speed.py), not here.
RELATIVE_LOGIT_TOLERANCE = {"int8": 0.1, "bf16": 0.04}
STREAM_TOLERANCE = 1e-4  # streaming vs one pass, the same as fp32's


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory, offline_tokenizer):
    """One saved tiny random model folder per variant."""
    return save_tiny_models(tmp_path_factory, offline_tokenizer)


def test_row_scaled_linear_is_close_and_each_row_independent_of_the_batch():
    torch.manual_seed(0)
    linear = torch.nn.Linear(48, 24)
    quantized = RowScaledInt8Linear.from_module(linear)
    x = torch.randn(7, 48) * torch.logspace(-2, 2, 7)[:, None]  # rows four orders of magnitude apart
    with torch.inference_mode():
        exact, approx = linear(x), quantized(x)
        alone = torch.cat([quantized(x[i : i + 1]) for i in range(len(x))])
    relative = (approx - exact).norm(dim=1) / exact.norm(dim=1)
    assert relative.max() < 0.03  # every row on its own scale, even the small ones
    assert torch.equal(alone, approx)  # a row's result does not depend on the other rows
    assert quantized(x.reshape(7, 1, 48)).shape == (7, 1, 24)


def test_full_range_activations_are_used_only_where_the_kernel_adds_them_exactly(monkeypatch):
    torch.manual_seed(0)
    linear = torch.nn.Linear(256, 64)
    x = torch.randn(32, 256)
    with torch.inference_mode():
        exact = linear(x)
        error = {
            bits: (RowScaledInt8Linear.from_module(linear, reduce_range=bits == 7)(x) - exact).norm().item()
            for bits in (7, 8)
        }
    if full_range_is_exact():
        assert error[8] < 0.75 * error[7]  # one more bit: about half the activation rounding error
        assert quantize_model(torch.nn.Sequential(torch.nn.Linear(8, 4)), "int8")["activation_bits"] == 8
    # a kernel that saturates pairwise int16 sums (CPUs without VNNI) is caught and 7 bits are kept
    saturating = lambda self, rows: torch.full((len(rows), self.out_features), 2.0 * 32767 / 127)
    monkeypatch.setattr(RowScaledInt8Linear, "forward", saturating)
    full_range_is_exact.cache_clear()
    try:
        assert full_range_is_exact() is False
        converted = quantize_model(torch.nn.Sequential(torch.nn.Linear(8, 4)), "int8")
        assert converted["activation_bits"] == 7 and converted["layers"] == 1
    finally:
        full_range_is_exact.cache_clear()


def test_smoothing_keeps_the_fp32_function_and_tames_an_outlier_channel(saved_models):
    anticipator = Anticipator.from_pretrained(saved_models["decoder"], device="cpu")
    backbone, tokenizer = anticipator.model.backbone, anticipator.tokenizer
    with torch.no_grad():  # one input channel of every block 40x louder, as trained LLMs have
        for block in backbone.layers:
            block.input_layernorm.weight[3] *= 40.0
            block.post_attention_layernorm.weight[5] *= 40.0
    ids = tokenizer([TEXT], return_tensors="pt")
    smoothed = copy.deepcopy(backbone)
    assert smooth_activations(smoothed, tokenizer) == len(backbone.layers)
    with torch.inference_mode():
        reference = backbone(**ids).last_hidden_state
        assert torch.allclose(smoothed(**ids).last_hidden_state, reference, rtol=1e-4, atol=1e-5)
        errors = []
        for model in (copy.deepcopy(backbone), smoothed):
            quantize_int8(model, reduce_range=not full_range_is_exact())
            errors.append((model(**ids).last_hidden_state - reference).norm().item())
    assert errors[1] < 0.7 * errors[0]  # measured 0.44 of the unsmoothed error (fbgemm, 8-bit activations)
    encoder = Anticipator.from_pretrained(saved_models["encoder"], device="cpu")
    assert smooth_activations(encoder.model.backbone, encoder.tokenizer) == 0  # post-norm: left alone


@pytest.mark.parametrize("mode", ["int8", "bf16"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_reduced_precision_agrees_with_fp32(variant, mode, saved_models):
    fp32 = Anticipator.from_pretrained(saved_models[variant], device="cpu")
    reduced = Anticipator.from_pretrained(saved_models[variant], quantize=mode)
    reference = np.concatenate(fp32.trajectories([TEXT, *OTHERS]))
    got = np.concatenate(reduced.trajectories([TEXT, *OTHERS]))
    logit = lambda p: np.log(p / (1 - p))
    gap = np.abs(logit(got) - logit(reference)).max() / np.ptp(logit(reference))
    assert 0 < gap <= RELATIVE_LOGIT_TOLERANCE[mode]  # > 0: the conversion did happen
    assert reduced.quantization["mode"] == mode
    assert reduced.quantization["weights_mb"] < reduced.quantization["weights_mb_fp32"]
    if mode == "int8":
        assert reduced.quantization["layers"] > 0
        blocks = len(reduced.model.backbone.layers) if variant.startswith("decoder") else 0
        assert reduced.quantization["smoothed_blocks"] == blocks  # post-norm encoders: not smoothed
        assert any(isinstance(m, RowScaledInt8Linear) for m in reduced.model.backbone.modules())


@pytest.mark.parametrize("variant", VARIANTS)
def test_int8_streaming_equals_one_pass_and_batches_do_not_matter(variant, saved_models):
    anticipator = Anticipator.from_pretrained(saved_models[variant], quantize="int8")
    (one_pass,) = anticipator.trajectories([TEXT])
    stream = anticipator.stream()
    streamed = np.array([stream.add_word(word) for word in TEXT.split()])
    assert np.abs(streamed - one_pass).max() <= STREAM_TOLERANCE
    together = anticipator.trajectories([*OTHERS, TEXT], batch_size=3)[-1]
    assert np.abs(together - one_pass).max() <= STREAM_TOLERANCE


def test_what_cannot_be_converted_says_why(saved_models):
    with pytest.raises(QuantizationError, match="no nn.Linear or Conv1D layer"):
        quantize_model(torch.nn.Sequential(torch.nn.Embedding(10, 4)), "int8")
    with pytest.raises(QuantizationError, match="unknown quantization 'int4'"):
        quantize_model(torch.nn.Linear(2, 2), "int4")
    with pytest.raises(QuantizationError, match="for the CPU"):
        Anticipator.from_pretrained(saved_models["decoder"], device="meta", quantize="int8")


def test_cli_quantize_flag(saved_models, capsys):
    folder = str(saved_models["decoder"])
    assert main(["anticipate", "--model", folder, "--quantize", "int8", "I am not sexist, but"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines() if line[:4].strip().isdigit()]
    expected = Anticipator.from_pretrained(folder, quantize="int8").trajectory("I am not sexist, but")
    assert np.allclose([float(r[2]) for r in rows], expected["p_hate"], atol=1e-3)
    with pytest.raises(SystemExit):  # argparse: not one of the choices
        main(["anticipate", "--model", folder, "--quantize", "int4", "I am"])
    assert "invalid choice" in capsys.readouterr().err
    code = main(["anticipate", "--model", folder, "--quantize", "int8", "--device", "meta", "I am"])
    assert code == EXIT_BAD_INPUT and "cannot score with --quantize int8" in capsys.readouterr().err
