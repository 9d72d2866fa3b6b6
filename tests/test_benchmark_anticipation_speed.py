"""benchmarks/anticipation_speed.py on tiny random models: the table, the equivalence checks, JSON and figure.

The speed numbers themselves come from running the script (see its docstring); here we check that every way
is measured, that (b), (c), (d) give (a)'s probabilities, and that the outputs are written with the stamp.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path

import pytest
import torch
from hatespeech import paths
from hatespeech.anticipation.inference import Anticipator
from hatespeech.models.prefix import tiny_prefix_classifier

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "anticipation_speed.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("anticipation_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def tiny_anticipators(offline_tokenizer):
    enc_tok, dec_tok = offline_tokenizer("offline:minilm-l6"), offline_tokenizer("offline:smollm2-135m")
    return (
        Anticipator(tiny_prefix_classifier("encoder", enc_tok), enc_tok, device="cpu"),
        Anticipator(tiny_prefix_classifier("decoder", dec_tok, trainable_layers=1), dec_tok, device="cpu"),
    )


def test_benchmark_measures_every_way_and_writes_outputs(bench, tiny_anticipators):
    threads = torch.get_num_threads()
    sentences = {
        4: ["I am not sexist,", "Immigrants bring new ideas"],
        8: ["they should all go back where they came", "women don't belong in the 2024 workplace today!!"],
    }
    try:
        payload = bench.run(
            bench.BenchSettings(profile="smoke", train_steps=1, per_length=2, quantized=False),
            encoder=tiny_anticipators[0],
            decoder=tiny_anticipators[1],
            sentences=sentences,
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)
    rows = payload["table"]
    assert {(r["words"], r["method"]) for r in rows} == {(n, m) for n in (4, 8) for m in bench.METHODS}
    for row in rows:
        assert row["prefixes"] == 2 * row["words"] and row["prefixes_per_s"] > 0
        assert 0 < row["latency_median_ms"] <= row["latency_p95_ms"]
        assert row["max_abs_diff_to_a"] <= 1e-4  # (b), (c), (d) give the naive scores
        if row["method"].startswith("naive"):
            assert row["throughput_ratio_to_a"] == pytest.approx(1.0)
    assert payload["targets"]["equivalence_met"]
    assert (
        payload["training"]["one_pass"]["examples_per_step"]
        > payload["training"]["one_prefix_per_example"]["examples_per_step"]
    )
    written = json.loads((paths.metrics_dir() / "benchmarks.json").read_text())
    assert written["stamp"]["hardware"]["cpu_count"] and written["profile"] == "smoke"
    assert written["targets"]["stream_vs_rescore_latency"]["words"] == 8
    for name in ("stream_vs_rescore_latency", "one_pass_vs_naive_throughput"):  # ratios with their spread
        target = written["targets"][name]
        assert target["sentences"] == 2
        assert target["sentence_ratio_p25"] <= target["sentence_ratio_median"] <= target["sentence_ratio_p75"]
    assert (paths.figures_dir() / "bench_latency.png").stat().st_size > 1000


def test_peak_rss_sees_a_large_allocation(bench):
    # What failed in CI: earlier tests leave hundreds of MB freed but resident in the heap, and a new block
    # reuses them without raising RSS. Recreate that: 80 KB tensors live in the heap (not in mmaps), and a
    # live one allocated after them stops glibc from trimming the heap's top when they are freed.
    scraps = [torch.ones(20_000) for _ in range(3000)]
    pin = torch.ones(20_000)
    del scraps
    with bench.PeakRSS() as mem:
        block = torch.ones(64 * 2**20 // 4)  # 64 MiB
        block += 1
        # Hold it well past the sampling interval: on a loaded CI box the sampler thread may be scheduled
        # late.
        time.sleep(0.5)
    del block, pin
    assert mem.peak_mb > 32


@pytest.mark.data
def test_pick_sentences_gives_real_sentences_of_exact_length(bench):
    if not (paths.data_dir() / "implicit_hate_elsherief2021").exists():
        pytest.skip(f"implicit-hate corpus not in {paths.data_dir()}")
    picked = bench.pick_sentences((10, 40), per_length=2, seed=1)
    assert [len(s.split()) for s in picked[10]] == [10, 10] and [len(s.split()) for s in picked[40]] == [
        40,
        40,
    ]
    assert picked == bench.pick_sentences((10, 40), per_length=2, seed=1)  # seeded
