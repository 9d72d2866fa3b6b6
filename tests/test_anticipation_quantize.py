"""Reduced-precision scoring (``Anticipator.from_pretrained(quantize=...)``, CLI ``--quantize``): int8 (ONNX
Runtime) and bf16 agree with fp32 within a stated tolerance on tiny random models; under int8 streaming equals
one pass and batch make-up does not move a text's score; the exported model is cached and rebuilt when the
weights change; clear errors for what cannot be converted. Also PyTorch's eager int8 layer, which the
continuation sampler uses."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from anticipation_support import save_tiny_models
from hatespeech.__main__ import EXIT_BAD_INPUT, main
from hatespeech.anticipation import onnx_int8
from hatespeech.anticipation.inference import Anticipator
from hatespeech.anticipation.quantize import QuantizationError, RowScaledInt8Linear, quantize_model
from hatespeech.models.prefix import VARIANTS

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py

TEXT = "I am not sexist, but women don't belong in the 2024 workplace!! #truth"
OTHERS = ["Immigrants bring new ideas and energy", "You people"]
# int8 / bf16 vs fp32 on the tiny random models (2 layers, hidden 32, logits spread over 3-17 units), every
# prefix of three texts: the largest logit change as a share of the fp32 logits' range, measured int8
# 0.016-0.049 (ONNX Runtime int8), bf16 0.008-0.022 over the four variants. Random tiny
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
    if mode == "bf16":
        assert reduced.quantization["weights_mb"] < reduced.quantization["weights_mb_fp32"]
    else:  # the tiny models' bytes are their embedding table and graph; the benchmark sizes SmolLM2's
        assert reduced.quantization["layers"] >= 2 * 4  # two blocks of q/k/v/o-or-dense and the MLP at least
        assert isinstance(reduced.model.backbone, onnx_int8.OnnxBackbone)


@pytest.mark.parametrize("variant", VARIANTS)
def test_int8_streaming_equals_one_pass_and_batches_do_not_matter(variant, saved_models):
    anticipator = Anticipator.from_pretrained(saved_models[variant], quantize="int8")
    (one_pass,) = anticipator.trajectories([TEXT])
    stream = anticipator.stream()
    streamed = np.array([stream.add_word(word) for word in TEXT.split()])
    assert np.abs(streamed - one_pass).max() <= STREAM_TOLERANCE
    together = anticipator.trajectories([*OTHERS, TEXT], batch_size=3)[-1]
    assert np.abs(together - one_pass).max() <= STREAM_TOLERANCE


def test_the_exported_model_is_cached_and_rebuilt_for_other_weights(saved_models, tmp_path, monkeypatch):
    folder = tmp_path / "decoder"
    shutil.copytree(saved_models["decoder"], folder, ignore=shutil.ignore_patterns("onnx-int8"))
    first = Anticipator.from_pretrained(folder, quantize="int8")
    again = Anticipator.from_pretrained(folder, quantize="int8")
    assert not first.quantization["cached"] and again.quantization["cached"]
    assert (folder / "onnx-int8" / "int8.onnx").exists()
    assert not list((folder / "onnx-int8").glob("backbone.onnx*"))  # the fp32 export is not kept
    assert np.array_equal(first.trajectories([TEXT])[0], again.trajectories([TEXT])[0])
    changed = Anticipator.from_pretrained(folder, device="cpu")
    with torch.no_grad():
        next(changed.model.backbone.parameters()).add_(0.5)
    assert not quantize_model(changed.model, "int8", folder / "onnx-int8")["cached"]
    # a rebuild that stops half-way leaves no metadata behind that would pass for the previous build
    stopped = Anticipator.from_pretrained(folder, device="cpu")
    monkeypatch.setattr(onnx_int8, "quantize_weights", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        quantize_model(stopped.model, "int8", folder / "onnx-int8")
    assert not (folder / "onnx-int8" / "meta.json").exists()
    with pytest.raises(ValueError, match="exported without token_type_ids"):
        again.model.backbone(torch.ones(1, 3, dtype=torch.long), token_type_ids=torch.ones(1, 3))


def test_what_cannot_be_converted_says_why(saved_models, monkeypatch):
    with pytest.raises(QuantizationError, match="has none"):
        quantize_model(torch.nn.Sequential(torch.nn.Linear(4, 4)), "int8")
    with pytest.raises(QuantizationError, match="unknown quantization 'int4'"):
        quantize_model(torch.nn.Linear(2, 2), "int4")
    with pytest.raises(QuantizationError, match="for the CPU"):
        Anticipator.from_pretrained(saved_models["decoder"], device="meta", quantize="int8")
    monkeypatch.setattr(onnx_int8, "onnxruntime_version", lambda: None)
    with pytest.raises(QuantizationError, match="ONNX Runtime, which is not installed"):
        Anticipator.from_pretrained(saved_models["decoder"], quantize="int8")


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


def test_gpt2_conv1d_layers_are_quantized_and_its_stream_equals_one_pass(tmp_path):
    from transformers import GPT2Config, GPT2Model

    torch.manual_seed(0)
    config = GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=500, n_positions=64, eos_token_id=0)
    backbone = GPT2Model(config).eval()
    stand_in, built = onnx_int8.int8_backbone(backbone, decoder=True, cache_dir=tmp_path)
    assert (
        built["int8_layers"] == 2 * 4
    )  # c_attn, c_proj, c_fc, mlp.c_proj per block: Conv1D exported as MatMul
    ids = torch.randint(0, 500, (1, 9))
    with torch.inference_mode():
        one_pass = stand_in(ids).last_hidden_state
        cache, steps = None, []
        for t in range(ids.shape[1]):
            out = stand_in(ids[:, t : t + 1], past_key_values=cache, use_cache=True)
            cache, steps = out.past_key_values, [*steps, out.last_hidden_state]
        assert torch.allclose(torch.cat(steps, dim=1), one_pass, atol=1e-5)
        relative = (one_pass - backbone(input_ids=ids).last_hidden_state).norm() / one_pass.norm()
    assert 0 < relative < 0.05  # int8, not a copy of fp32
    assert cache.get_seq_length() == ids.shape[1]
