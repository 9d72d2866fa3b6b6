"""benchmarks/quantized_scoring.py on tiny random models: every (length, mode) timed in one run, the targets
as ratios, accuracy per variant and mode against fp32 with the offered verdict, and the report's findings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hatespeech.anticipation.inference import Anticipator
from hatespeech.config import get_profile
from hatespeech.models.prefix import tiny_prefix_classifier
from hatespeech.results import BenchmarkResult

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def quantized():
    spec = importlib.util.spec_from_file_location("quantized_scoring", BENCHMARKS / "quantized_scoring.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _test_rows(sentences: list[str], seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "sentence_id": range(len(sentences)),
            "corpus_class": ["hate"] * len(sentences),
            "sentence": sentences,
            "n_words": [len(s.split()) for s in sentences],
            "labels": [rng.random(len(s.split())) for s in sentences],
            "label_a": [rng.random(len(s.split())) for s in sentences],
            "label_b": [rng.random(len(s.split())) for s in sentences],
        }
    )


def test_every_mode_is_timed_and_judged_against_fp32(quantized, offline_tokenizer, tmp_path):
    tokenizers = {
        "encoder": offline_tokenizer("offline:minilm-l6"),
        "decoder": offline_tokenizer("offline:smollm2-135m"),
    }
    folders = {}
    for variant in ("encoder", "decoder+bilstm"):
        tokenizer = tokenizers[variant.split("+")[0]]
        folders[variant] = tmp_path / variant.replace("+", "_")
        tiny_prefix_classifier(variant, tokenizer).save_pretrained(folders[variant])
        tokenizer.save_pretrained(folders[variant])
    decoder = Anticipator(
        tiny_prefix_classifier("decoder", tokenizers["decoder"]), tokenizers["decoder"], device="cpu"
    )
    sentences = {
        4: ["I am not sexist,", "Immigrants bring new ideas"],
        8: ["they should all go back where they came", "women don't belong in the 2024 workplace today!!"],
    }
    encoder = Anticipator(
        tiny_prefix_classifier("encoder+bilstm", tokenizers["encoder"]), tokenizers["encoder"], device="cpu"
    )
    threads = torch.get_num_threads()
    try:
        payload = quantized.run(
            "smoke",
            sentences=sentences,
            decoder=decoder,
            encoders={"encoder+bilstm": encoder},
            accuracy_inputs={
                "folders": folders,
                "held_out": _test_rows(sentences[8]),
                "test": _test_rows(sentences[4] + sentences[8]),
            },
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)
    speed = pd.DataFrame(payload["speed"])
    # the exported fp32 graph in ONNX Runtime streams beside the others: the runtime's share of int8's gain
    modes = quantized.SPEED_MODES
    assert "onnx_fp32" in modes and set(quantized.MODES) < set(modes)
    assert set(zip(speed["words"], speed["mode"])) == {(n, m) for n in (4, 8) for m in modes}
    assert (speed[["one_pass_median_ms", "stream_median_ms"]] > 0).all().all()
    assert (speed["sentences"] == 2).all()
    assert set(payload["forward_floor"]) == set(modes)
    assert payload["forward_floor"]["int8"]["weights_mb"] > 0  # tiny models: mostly the embedding table
    split = payload["stream_split"]
    assert split["words"] == 8
    for part in ("runtime", "int8", "total"):
        assert split[part]["sentences"] == 2
        assert split[part]["p25"] <= split[part]["median"] <= split[part]["p75"]
    # runtime x int8 = total per sentence, so the medians of two sentences multiply up to rounding
    product = split["runtime"]["median"] * split["int8"]["median"]
    assert product == pytest.approx(split["total"]["median"], rel=0.5)
    typing = pd.DataFrame(payload["encoder_speed"])
    assert set(zip(typing["variant"], typing["words"], typing["mode"])) == {
        ("encoder+bilstm", n, m) for n in (4, 8) for m in ("fp32", "int8")
    }
    assert (typing["per_word_median_ms"] > 0).all() and (typing["int8_vs_fp32_median"] > 0).all()
    targets = payload["targets"]
    assert (
        targets["int8_stream_vs_fp32_one_pass"]["words"] == 8
        and targets["int8_stream_vs_fp32_stream"]["ratio"] > 0
    )
    spread = targets["int8_stream_vs_fp32_stream"]
    assert spread["sentences"] == 2 and spread["sentence_ratio_p25"] <= spread["sentence_ratio_p75"]
    rows = pd.DataFrame(payload["accuracy"]["rows"]).set_index(["variant", "mode"])
    assert set(rows.index) == {(v, m) for v in folders for m in quantized.MODES}
    assert (
        (rows.xs("fp32", level="mode")[["held_out_abs_mse_change", "test_abs_mse_change"]] == 0).all().all()
    )
    assert rows.xs("fp32", level="mode")["offered"].all()
    int8 = rows.xs("int8", level="mode")
    assert (int8["max_abs_p_change"] > 0).all()
    # the offer is made on the held-out sentences, never on the test set
    assert (int8["offered"] == (int8["held_out_abs_mse_change"] <= quantized.MSE_TOLERANCE)).all()
    assert targets["int8_offered_for"] == [v for v in folders if int8.loc[v, "offered"]]

    result = BenchmarkResult(
        profile="smoke",
        settings={},
        models={},
        sentences={},
        table=[],
        targets={},
        decoder_forward_floor={},
        quantized=payload,
    )
    text = " ".join(result.findings())
    assert "int8 streaming per word at 8 words" in text and "offered (held-out change <= 0.001) for" in text
    assert "int8 one-token decoder forward:" in text and " MB of weights instead of " in text
    runtime = payload["int8_runtime_split"]
    assert runtime["runtime"].startswith("onnxruntime ") and runtime["fp32_graph_one_token_ms"] > 0
    assert runtime["int8_layers"] == sum(
        isinstance(m, torch.nn.Linear) for m in decoder.model.backbone.modules()
    )
    assert f"int8 runs the exported backbone in {runtime['runtime']}" in text
    assert (
        "A streamed decoder word at 8 words is " in text and "ONNX Runtime with the same fp32 graph" in text
    )
    assert "Typing into encoder+bilstm (no cache to stream with" in text
    assert "MatMulNBits" in payload["int8_method"]
    assert [title.split(":")[0] for title, _ in result.tables()][1:] == [
        "decoder per-word latency by precision (ms, one run, 1 thread)",
        "encoder variants typing",
        "phase-2 test MSE by precision, every variant",
    ]


def test_accuracy_without_phase2_models_says_so(quantized, tmp_path):
    from hatespeech.config import get_profile

    out = quantized.bench_accuracy(get_profile("smoke"), folders={"decoder": tmp_path / "nothing"})
    assert "no phase-2 model in" in out["skipped"] and "run notebook 03 first" in out["skipped"]


def test_int8_offer_does_not_move_when_the_test_labels_are_noise(quantized, tmp_path, tokenizers):
    """The offer is a choice: replacing every test label by noise changes the test MSEs, not the offer."""
    from hatespeech.models.prefix import tiny_prefix_classifier

    folder = tmp_path / "encoder"
    tiny_prefix_classifier("encoder", tokenizers["encoder"]).save_pretrained(folder)
    tokenizers["encoder"].save_pretrained(folder)
    sentences = ["I am not sexist, but", "they should all go back where they came", "Immigrants bring ideas"]
    common = {"folders": {"encoder": folder}, "held_out": _test_rows(sentences[:2]), "progress": False}
    threads = torch.get_num_threads()
    try:
        clean = quantized.bench_accuracy(get_profile("smoke"), test=_test_rows(sentences, seed=0), **common)
        noisy = quantized.bench_accuracy(get_profile("smoke"), test=_test_rows(sentences, seed=7), **common)
    finally:
        torch.set_num_threads(threads)
    assert [r["test_mse"] for r in clean["rows"]] != [r["test_mse"] for r in noisy["rows"]]
    assert [r["offered"] for r in clean["rows"]] == [r["offered"] for r in noisy["rows"]]
