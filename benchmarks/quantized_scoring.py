"""int8 and bf16 scoring against fp32, measured in one run: speed on the decoder, accuracy on every variant.

    python benchmarks/quantized_scoring.py [--profile cpu] [--threads 1]   # print only
    python benchmarks/anticipation_speed.py          # runs this too and writes it into benchmarks.json

**Speed** (the profile's pretrained decoder, untrained head: speed does not depend on training; real
sentences of 10, 20 and 40 words as in ``anticipation_speed``, 10 per length): per mode (fp32, int8, bf16),
the per-word latency of re-scoring the whole prefix in one pass (``score([prefix])``) and of a streaming
update (``stream().add_word``), the one-token forward floor, the weights the backbone reads and the peak RSS
while a mode scores. int8 runs the backbone in ONNX Runtime (:mod:`hatespeech.anticipation.onnx_int8`), so
part of its speed is the runtime's, not int8's: a fourth mode, ``onnx_fp32``, streams with the same exported
graph and its fp32 weights (its one-token forward is :func:`runtime_split`'s), so every gain splits into
the runtime's and int8's (:func:`stream_split`). The encoder variants (the recommended scorers cannot
stream: a typed word re-scores the prefix) get the per-word latency of that re-scoring in fp32 and int8
(:func:`bench_encoders`). Ratios are per sentence, reported as the median with the 25th-75th percentiles over
the sentences of a length. The modes run interleaved per sentence so that load on the shared machine hits
them alike.

**Accuracy** (the trained phase-2 models of the profile, under ``artifacts/``): every prefix of the held-out
phase-2 train sentences and of the test set scored by each variant in each mode; MSE against the labels,
|MSE(mode) - MSE(fp32)| on each, max |p(mode) - p(fp32)|, and whether the mode is *offered* for the variant:
its MSE on the held-out sentences moves by <= 0.001 (the test change is reported, never used to choose).
Without the phase-2 models (notebook 03 not run) the accuracy part says so and is skipped.

Targets (issue 14): int8 streaming per word <= 0.2 x fp32 one-pass re-scoring at the longest length and
<= 0.5 x fp32 streaming; |held-out MSE change| <= 0.001 where offered.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from hatespeech.anticipation.inference import Anticipator
from hatespeech.anticipation.onnx_int8 import BLOCK_SIZE
from hatespeech.anticipation.quantize import quantize_model
from hatespeech.anticipation.training import new_prefix_classifier
from hatespeech.config import get_profile
from hatespeech.models.prefix import VARIANTS
from hatespeech.runtime import seed_everything
from measure import PeakRSS, pick_sentences, prefixes_of, summary, timer
from measure import forward_floor as speed_floor

MODES = ("fp32", "int8", "bf16")
#: The speed part adds the exported fp32 graph in ONNX Runtime: what the runtime brings without int8.
SPEED_MODES = ("fp32", "onnx_fp32", "int8", "bf16")
#: The encoder variants a user would type into (the recommended scorer is encoder + biLSTM).
ENCODER_VARIANTS = ("encoder", "encoder+bilstm")
MSE_TOLERANCE = 0.001  # |MSE(mode) - MSE(fp32)| at which a mode is offered for a variant
STREAM_VS_ONE_PASS_TARGET = 0.2
STREAM_VS_FP32_STREAM_TARGET = 0.5


def decoders(base: Anticipator, export_dir: Path) -> dict[str, Anticipator]:
    """``base``'s model once per mode of :data:`SPEED_MODES` (copies: the same weights in each, ``base``
    untouched); int8 exports into ``export_dir``, whose fp32 graph ``onnx_fp32`` runs."""
    models = {}
    for mode in MODES:
        anticipator = Anticipator(copy.deepcopy(base.model).eval(), base.tokenizer, device="cpu")
        if mode != "fp32":
            anticipator.quantization = quantize_model(
                anticipator.model, mode, export_dir, keep_fp32_graph=True
            )
        models[mode] = anticipator
    models["onnx_fp32"] = onnx_fp32(base, models["int8"], export_dir)
    return {mode: models[mode] for mode in SPEED_MODES}


def onnx_fp32(base: Anticipator, int8: Anticipator, export_dir: Path) -> Anticipator:
    """A copy of ``base`` with its backbone swapped for the exported fp32 graph (``backbone.onnx`` in
    ``export_dir``, the graph ``int8`` was quantized from), run by the same runtime: the runtime without
    int8."""
    from hatespeech.anticipation.onnx_int8 import OnnxBackbone

    model = copy.deepcopy(base.model).eval()
    graph = int8.model.backbone
    model.backbone = OnnxBackbone(export_dir / "backbone.onnx", graph.layout, graph.config)
    return Anticipator(model, int8.tokenizer, device="cpu")


def forward_floor(anticipator: Anticipator, sentence: str, repeats: int = 5) -> dict[str, float]:
    """``measure.forward_floor`` of this mode, with the bytes of weights it actually reads."""
    out = speed_floor(anticipator, sentence, repeats)
    if anticipator.quantization:
        out["weights_mb"] = anticipator.quantization["weights_mb"]
    return out


def runtime_split(int8: Anticipator, floors: dict[str, dict]) -> dict[str, float | str]:
    """The exported decoder graph run by ONNX Runtime with its fp32 weights (the ``onnx_fp32`` mode's
    forward floor, the graph int8 was quantized from): its one-token forward beside int8's and PyTorch
    fp32's separates what the runtime brings from what int8 brings."""
    return {
        "runtime": int8.quantization["runtime"],
        "fp32_graph_one_token_ms": floors["onnx_fp32"]["one_token_ms"],
        "fp32_graph_all_tokens_ms": floors["onnx_fp32"]["all_tokens_ms"],
        "int8_layers": int8.quantization["layers"],
    }


def bench_speed(
    models: dict[str, Anticipator], sentences: dict[int, list[str]], progress=True
) -> tuple[list[dict], dict]:
    """One row per (words, mode): per-word latency of one-pass re-scoring and of streaming, peak RSS; and
    the per-sentence medians ``{(words, mode): {"one_pass": [...], "stream": [...]}}`` that ratios with a
    spread are taken from (:func:`ratio_spread`)."""
    from tqdm.auto import tqdm

    warm = next(iter(sentences.values()))[0]
    for anticipator in models.values():  # first calls pick kernels and allocate: keep them out of the timings
        anticipator.trajectory(warm)
        anticipator.stream().add_word(warm.split()[0])
    acc = {
        (length, mode): {"one_pass": [], "stream": [], "rss": []} for length in sentences for mode in models
    }
    per_sentence = {key: {"one_pass": [], "stream": []} for key in acc}
    jobs = [(length, s) for length, group in sentences.items() for s in group]
    for length, sentence in tqdm(jobs, desc="quantized speed", disable=not progress):
        for mode, anticipator in models.items():
            slot = acc[length, mode]
            stream_s, one_pass_s = [], []
            with PeakRSS() as mem:
                stream = anticipator.stream()
                for word in sentence.split():
                    with timer(stream_s):
                        stream.add_word(word)
                for prefix in prefixes_of(sentence):
                    with timer(one_pass_s):
                        anticipator.score([prefix])
            slot["rss"].append(mem.peak_mb)
            slot["stream"] += stream_s
            slot["one_pass"] += one_pass_s
            per_sentence[length, mode]["stream"].append(statistics.median(stream_s))
            per_sentence[length, mode]["one_pass"].append(statistics.median(one_pass_s))
    rows = []
    for (length, mode), slot in acc.items():
        rows.append(
            {
                "words": length,
                "mode": mode,
                "one_pass_median_ms": summary(slot["one_pass"])["median_ms"],
                "stream_median_ms": summary(slot["stream"])["median_ms"],
                "stream_p95_ms": summary(slot["stream"])["p95_ms"],
                "stream_last_word_ms": 1e3 * statistics.fmean(slot["stream"][length - 1 :: length]),
                "peak_rss_mb": max(slot["rss"]),
                "sentences": len(slot["rss"]),
            }
        )
    return rows, per_sentence


def ratio_spread(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """Per-sentence ratios (the same sentences, in order): their median and 25th / 75th percentiles."""
    ratios = np.asarray(numerator) / np.asarray(denominator)
    low, mid, high = np.percentile(ratios, [25, 50, 75])
    return {"median": float(mid), "p25": float(low), "p75": float(high), "sentences": len(ratios)}


def spread_columns(spread: dict[str, float], prefix: str) -> dict[str, float]:
    """:func:`ratio_spread`'s median and percentiles as ``<prefix>median`` / ``p25`` / ``p75`` fields of a
    row or target (the sentence count is the row's own)."""
    return {f"{prefix}{k}": v for k, v in spread.items() if k != "sentences"}


def stream_split(per_sentence: dict, words: int) -> dict[str, dict[str, float]]:
    """A streamed word at ``words`` words, its speed-up from PyTorch fp32 split into causes: ``runtime``
    (PyTorch fp32 / ONNX Runtime fp32, the same graph), ``int8`` (ONNX Runtime fp32 / int8) and ``total``
    (PyTorch fp32 / int8); each a per-sentence ratio with its spread."""

    def stream(mode):
        return per_sentence[words, mode]["stream"]

    return {
        "words": words,
        "runtime": ratio_spread(stream("fp32"), stream("onnx_fp32")),
        "int8": ratio_spread(stream("onnx_fp32"), stream("int8")),
        "total": ratio_spread(stream("fp32"), stream("int8")),
    }


def bench_encoders(
    encoders: dict[str, Anticipator], sentences: dict[int, list[str]], export_dir: Path, progress=True
) -> list[dict]:
    """Someone typing into an encoder variant: each word re-scores the prefix so far (``score([prefix])``;
    an encoder has no cache to stream with). One row per (variant, words, mode in fp32 / int8): the per-word
    latency (median, p95) and int8 / fp32 as a per-sentence ratio with its spread."""
    from tqdm.auto import tqdm

    rows = []
    for variant, base in encoders.items():
        models = {"fp32": base}
        int8 = Anticipator(copy.deepcopy(base.model).eval(), base.tokenizer, device="cpu")
        int8.quantization = quantize_model(int8.model, "int8", export_dir / variant.replace("+", "_"))
        models["int8"] = int8
        warm = next(iter(sentences.values()))[0]
        for anticipator in models.values():
            anticipator.score(prefixes_of(warm)[:2], progress=False)
        words_s = {(length, mode): [] for length in sentences for mode in models}
        medians = {(length, mode): [] for length in sentences for mode in models}
        jobs = [(length, s) for length, group in sentences.items() for s in group]
        for length, sentence in tqdm(jobs, desc=f"{variant} per word", disable=not progress):
            for mode, anticipator in models.items():
                times = []
                for prefix in prefixes_of(sentence):
                    with timer(times):
                        anticipator.score([prefix])
                words_s[length, mode] += times
                medians[length, mode].append(statistics.median(times))
        for length in sentences:
            spread = ratio_spread(medians[length, "int8"], medians[length, "fp32"])
            for mode in models:
                latency = summary(words_s[length, mode])
                rows.append(
                    {
                        "variant": variant,
                        "words": length,
                        "mode": mode,
                        "per_word_median_ms": latency["median_ms"],
                        "per_word_p95_ms": latency["p95_ms"],
                        "sentences": spread["sentences"],
                        **spread_columns(spread, "int8_vs_fp32_"),
                    }
                )
    return rows


def bench_accuracy(profile, variants=VARIANTS, progress=True, folders=None, held_out=None, test=None) -> dict:
    """Per variant and mode: MSE on the held-out phase-2 train sentences and on the test set, their changes
    from fp32, max |p - p(fp32)| on the test prefixes, and whether the mode is *offered* for the variant.

    The offer is a choice, so it is made on the held-out sentences only (:func:`offer`): its MSE change there
    within :data:`MSE_TOLERANCE`. The test MSE change is reported beside it and chooses nothing (a test with
    noise for test labels checks that). ``{"skipped": reason}`` without the profile's phase-2 models.
    ``folders`` (variant -> saved model), ``held_out`` and ``test`` (phase-2 sentence rows) default to the
    profile's."""
    from hatespeech.anticipation.evaluation import prefix_frame
    from hatespeech.anticipation.phase2 import load_phase2_data
    from hatespeech.anticipation.training import checkpoint_dir
    from hatespeech.metrics.regression import regression_metrics
    from hatespeech.paths import shown

    folders = folders or {v: checkpoint_dir(profile, 2, v) for v in variants}
    missing = [shown(f) for f in folders.values() if not (f / "config.json").exists()]
    if missing:
        return {"skipped": f"no phase-2 model in {', '.join(missing)}: run notebook 03 first"}
    if held_out is None or test is None:
        data = load_phase2_data(profile)
        held_out = data.val if held_out is None else held_out
        test = data.test if test is None else test
    rows = []
    for variant, folder in folders.items():
        probs = {}
        for mode in MODES:
            anticipator = Anticipator.from_pretrained(
                folder,
                device="cpu",
                max_length=profile.anticipation.max_length,
                quantize=None if mode == "fp32" else mode,
            )
            start = time.perf_counter()
            row = {"variant": variant, "mode": mode}
            for split, sentences in (("held_out", held_out), ("test", test)):
                bar = f"{variant}, {mode}, {split}" if progress else False
                frame = prefix_frame(
                    sentences, anticipator.trajectories(sentences["sentence"].tolist(), progress=bar)
                )
                row[f"{split}_prefixes"] = len(frame)
                row[f"{split}_mse"] = regression_metrics(frame["label"], frame["p_hate"])["mse"]
                if split == "test":
                    probs[mode] = frame["p_hate"].to_numpy()
            row["score_seconds"] = time.perf_counter() - start
            rows.append(row)
        fp32 = next(r for r in rows if r["variant"] == variant and r["mode"] == "fp32")
        for row in rows:
            if row["variant"] == variant:
                for split in ("held_out", "test"):
                    row[f"{split}_abs_mse_change"] = abs(row[f"{split}_mse"] - fp32[f"{split}_mse"])
                row["max_abs_p_change"] = float(np.abs(probs[row["mode"]] - probs["fp32"]).max())
                row["offered"] = offer(row)
    return {
        "rows": rows,
        "tolerance": MSE_TOLERANCE,
        "held_out_sentences": len(held_out),
        "test_sentences": len(test),
        "offered_by": "the MSE change on the held-out phase-2 train sentences (the test change is reported "
        "beside it and chooses nothing)",
    }


def offer(row: dict) -> bool:
    """Whether a mode is offered for a variant: fp32 always; another mode when its MSE on the *held-out*
    phase-2 train sentences moves by at most :data:`MSE_TOLERANCE`. Reads no test column."""
    return row["mode"] == "fp32" or row["held_out_abs_mse_change"] <= MSE_TOLERANCE


def targets(speed: pd.DataFrame, accuracy: dict, per_sentence: dict | None = None) -> dict:
    """The issue's targets as measured ratios (speed at the longest length; with ``per_sentence``, each also
    as the median and spread of per-sentence ratios) and which variants qualify."""

    def get(mode, column):
        hit = speed[(speed["words"] == longest) & (speed["mode"] == mode)]
        return float(hit[column].iloc[0])

    longest = int(speed["words"].max())
    out = {}
    for mode in MODES[1:]:
        vs_one_pass = get(mode, "stream_median_ms") / get("fp32", "one_pass_median_ms")
        vs_stream = get(mode, "stream_median_ms") / get("fp32", "stream_median_ms")
        out[f"{mode}_stream_vs_fp32_one_pass"] = {
            "words": longest,
            "ratio": vs_one_pass,
            "target": STREAM_VS_ONE_PASS_TARGET,
            "met": vs_one_pass <= STREAM_VS_ONE_PASS_TARGET,
        }
        out[f"{mode}_stream_vs_fp32_stream"] = {
            "words": longest,
            "ratio": vs_stream,
            "target": STREAM_VS_FP32_STREAM_TARGET,
            "met": vs_stream <= STREAM_VS_FP32_STREAM_TARGET,
        }
        if per_sentence:  # the spread over sentences: p25-p75 of the per-sentence ratios
            mine = per_sentence[longest, mode]["stream"]
            for name, against in (("one_pass", "one_pass"), ("stream", "stream")):
                spread = ratio_spread(mine, per_sentence[longest, "fp32"][against])
                out[f"{mode}_stream_vs_fp32_{name}"].update(
                    spread_columns(spread, "sentence_ratio_"), sentences=spread["sentences"]
                )
    for mode in MODES[1:]:
        rows = [r for r in accuracy.get("rows", []) if r["mode"] == mode]
        if rows:
            out[f"{mode}_offered_for"] = [r["variant"] for r in rows if r["offered"]]
            out[f"{mode}_largest_mse_change"] = max(r["test_abs_mse_change"] for r in rows)
            out[f"{mode}_largest_held_out_mse_change"] = max(r["held_out_abs_mse_change"] for r in rows)
    return out


def run(
    profile_name: str = "cpu",
    lengths=(10, 20, 40),
    per_length: int = 10,
    threads: int | None = 1,
    source: str = "implicit_hate",
    sentences=None,
    decoder: Anticipator | None = None,
    accuracy_inputs: dict | None = None,
    progress: bool = True,
    encoders: dict[str, Anticipator] | None = None,
) -> dict:
    """Speed and accuracy of every mode, measured in this run (the payload benchmarks.json keeps as
    ``quantized``). ``decoder`` and ``encoders`` (variant -> scorer; default: the profile's pretrained
    backbones, untrained heads) are timed; ``accuracy_inputs`` are :func:`bench_accuracy`'s ``folders`` /
    ``test`` (default: the profile's phase-2 models and test set)."""
    started = time.perf_counter()
    if threads:
        torch.set_num_threads(threads)
    profile = get_profile(profile_name)
    seed_everything(profile.seed)
    if sentences is None:
        sentences = pick_sentences(lengths, per_length, source, profile.seed)
    if decoder is None:
        model, tokenizer = new_prefix_classifier("decoder", profile)
        decoder = Anticipator(model, tokenizer, device="cpu")
    if encoders is None:
        encoders = {}
        for variant in ENCODER_VARIANTS:
            model, tokenizer = new_prefix_classifier(variant, profile)
            encoders[variant] = Anticipator(model, tokenizer, device="cpu")
    with tempfile.TemporaryDirectory(prefix="hatespeech-bench-onnx-") as export_dir:
        models = decoders(decoder, Path(export_dir))
        rows, per_sentence = bench_speed(models, sentences, progress)
        speed = pd.DataFrame(rows)
        longest = sentences[max(sentences)][0]
        floors = {mode: forward_floor(a, longest) for mode, a in models.items()}
        floors["onnx_fp32"]["weights_mb"] = floors["fp32"]["weights_mb"]  # the same weights, outside torch
        split = runtime_split(models["int8"], floors)
        del models
        encoder_speed = bench_encoders(encoders, sentences, Path(export_dir), progress)
    accuracy = bench_accuracy(profile, progress=progress, **(accuracy_inputs or {}))
    return {
        "modes": list(MODES),
        "speed_modes": list(SPEED_MODES),
        "int8_method": (
            f"backbone exported to ONNX, {split['int8_layers']} weight matrices int8 (MatMulNBits, blocks of "
            f"{BLOCK_SIZE} input channels, int8 activations per token), run by {split['runtime']}"
        ),
        "int8_runtime_split": split,
        "speed": speed.to_dict(orient="records"),
        "stream_split": stream_split(per_sentence, max(sentences)),
        "encoder_speed": encoder_speed,
        "forward_floor": floors,
        "accuracy": accuracy,
        "targets": targets(speed, accuracy, per_sentence),
        "torch_threads": torch.get_num_threads(),
        "wall_s": time.perf_counter() - started,
    }


def print_report(payload: dict) -> None:
    with pd.option_context("display.width", 200, "display.float_format", "{:.4g}".format):
        print(pd.DataFrame(payload["speed"]).to_string(index=False))
        print(pd.DataFrame(payload["encoder_speed"]).to_string(index=False))
        print(payload["stream_split"])
        print(pd.DataFrame(payload["forward_floor"]).T.to_string())
        accuracy = payload["accuracy"]
        print(accuracy.get("skipped") or pd.DataFrame(accuracy["rows"]).to_string(index=False))
    for name, target in payload["targets"].items():
        print(name, target)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--per-length", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    args = parser.parse_args(argv)
    payload = run(args.profile, tuple(args.lengths), args.per_length, args.threads or None)
    print_report(payload)
    return payload


if __name__ == "__main__":
    main()
