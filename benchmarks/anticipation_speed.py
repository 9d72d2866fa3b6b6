"""Anticipation at typing speed: score every word-prefix four ways and time them in the same run.

    python benchmarks/anticipation_speed.py [--profile cpu] [--per-length 10] [--threads 1]

For real sentences of 10, 20 and 40 words (implicit-hate corpus, through the data layer) every word-prefix is
scored by

* (a) ``naive``: every prefix a separate sequence, padded to a fixed width and batched in order, under
  ``torch.no_grad`` (the seed's data pipeline; :func:`naive_scores`, kept here as the reference), for the
  encoder and for the decoder;
* (b) ``encoder_dynamic``: the encoder with length-sorted dynamic padding under ``torch.inference_mode``
  (:meth:`hatespeech.anticipation.inference.Anticipator.score`);
* (c) ``decoder_one_pass``: one decoder pass over the whole sentence gives all prefixes at once
  (:meth:`Anticipator.trajectory`);
* (d) ``decoder_stream``: words arrive one at a time and each update reuses the cached keys/values
  (:meth:`Anticipator.stream`), paying only for the new tokens.

Two numbers per way: **throughput** (prefixes/s when all prefixes of a sentence are scored together) and
**per-word latency** (the time from a word's arrival to its probability when the user types word by word:
(a) one padded prefix, (b) the prefix alone (``encoder.score([prefix])``), (c) one pass over the prefix so
far (``decoder.score([prefix])``: re-scoring the whole prefix), (d) one streaming update); (b), (c), (d) run
through the study's one scoring path, :class:`Anticipator`. Ratios are taken to (a) of the same backbone,
within this run. Probabilities of (b), (c), (d) are checked against (a) (max abs difference). Peak memory
is the peak resident set size above the baseline while a way runs (sampled from /proc every millisecond).
Then int8 and bf16 scoring beside fp32 (``benchmarks/quantized_scoring.py``, kept under ``quantized``), and
finally phase-1 decoder training speed: examples (word-prefixes with a loss) per second with the one-pass
loss vs one prefix per example.

The backbones are the profile's pretrained ones with an untrained head: speed does not depend on training.
``--threads 1`` is the default because this 2-core machine is shared: with other jobs running, two torch
threads spend their time waiting for each other (measured 10-30x slower for single sequences).

Results: ``reports/metrics/benchmarks.json`` (with the stamp) and ``reports/figures/bench_latency.png``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch
from hatespeech import report
from hatespeech.anticipation.examples import encode_sentences
from hatespeech.anticipation.inference import Anticipator
from hatespeech.anticipation.training import new_prefix_classifier
from hatespeech.config import get_profile
from hatespeech.results import BenchmarkResult
from hatespeech.runtime import seed_everything
from measure import (
    PeakRSS,
    forward_floor,
    pick_sentences,
    prefixes_of,
    return_freed_memory_to_os,
    summary,
    timer,
)
from quantized_scoring import print_report as print_quantized
from quantized_scoring import ratio_spread, spread_columns
from quantized_scoring import run as run_quantized

METHODS = ("naive_encoder", "encoder_dynamic", "naive_decoder", "decoder_one_pass", "decoder_stream")
BASELINE = {
    "encoder_dynamic": "naive_encoder",
    "decoder_one_pass": "naive_decoder",
    "decoder_stream": "naive_decoder",
    "naive_encoder": "naive_encoder",
    "naive_decoder": "naive_decoder",
}
LABELS = {
    "naive_encoder": "(a) naive, encoder",
    "encoder_dynamic": "(b) encoder, sorted dynamic padding",
    "naive_decoder": "(a) naive, decoder",
    "decoder_one_pass": "(c) decoder one pass (per word: re-score prefix)",
    "decoder_stream": "(d) decoder streaming (KV cache)",
}


@dataclass
class BenchSettings:
    profile: str = "cpu"
    lengths: tuple[int, ...] = (10, 20, 40)
    per_length: int = 10  # sentences per length: ratios are per sentence, with their spread over 10
    source: str = "implicit_hate"
    batch_size: int = 32  # (a)'s batch, as the seed
    threads: int | None = 1
    train_sentences: int = 8
    train_steps: int = 3  # timed optimiser steps per training mode (after one warm-up step)
    seed: int = 42
    write: bool = True  # metrics JSON + figure
    quantized: bool = True  # int8 / bf16 beside fp32 (benchmarks/quantized_scoring.py), in this run
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------------ the four ways
def naive_scores(model, tokenizer, prefixes: list[str], width: int, batch_size: int) -> np.ndarray:
    """(a) every prefix its own sequence, padded to ``width``, batched in order, no_grad (the seed's way)."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(prefixes), batch_size):
            batch = tokenizer(
                prefixes[start : start + batch_size],
                padding="max_length",
                max_length=width,
                truncation=True,
                return_tensors="pt",
            )
            logits = model(batch["input_ids"], batch["attention_mask"]).logits
            out.append(torch.sigmoid(logits).numpy())
    return np.concatenate(out)


def bench_scoring(  # noqa: C901 - the four methods timed side by side, in one loop per length
    encoder: Anticipator,
    decoder: Anticipator,
    sentences: dict[int, list[str]],
    width: int,
    batch_size: int = 32,
    progress: bool = True,
) -> tuple[list[dict], dict]:
    """One row per (sentence length, method): throughput, per-word latency, diff to (a), peak memory; and
    per sentence, ``{(words, method): {"batch_s": [...], "word_median_s": [...]}}``, which ratios with a
    spread over sentences are taken from (:func:`targets`)."""
    from tqdm.auto import tqdm

    rows = []
    jobs = [(length, s) for length, group in sentences.items() for s in group]
    for length, sentence in jobs:
        if len(sentence.split()) != length:
            raise ValueError(
                f"sentence listed under {length} words has {len(sentence.split())}: {sentence!r}"
            )
    # Warm-up: first calls allocate buffers and pick kernels; keep them out of the timings.
    warm = jobs[0][1]
    naive_scores(encoder.model, encoder.tokenizer, prefixes_of(warm)[:2], width, batch_size)
    naive_scores(decoder.model, decoder.tokenizer, prefixes_of(warm)[:2], width, batch_size)
    decoder.trajectory(warm)
    encoder.score(prefixes_of(warm)[:2], progress=False)
    per_length: dict[int, dict[str, dict[str, list]]] = {}
    for length, sentence in tqdm(jobs, desc="benchmark sentences", disable=not progress):
        prefixes = prefixes_of(sentence)
        acc = per_length.setdefault(
            length,
            {
                m: {"batch_s": [], "word_s": [], "word_median_s": [], "diff": [], "mem": [], "n": 0}
                for m in METHODS
            },
        )
        words_before = {m: len(acc[m]["word_s"]) for m in METHODS}
        # --- throughput: all prefixes of the sentence together; the methods run back to back per sentence
        probs = {}
        for method in METHODS:
            times: list[float] = []
            with PeakRSS() as mem, timer(times):
                if method == "naive_encoder":
                    probs[method] = naive_scores(
                        encoder.model, encoder.tokenizer, prefixes, width, batch_size
                    )
                elif method == "naive_decoder":
                    probs[method] = naive_scores(
                        decoder.model, decoder.tokenizer, prefixes, width, batch_size
                    )
                elif method == "encoder_dynamic":
                    probs[method] = encoder.score(prefixes, batch_size=batch_size, progress=False)
                elif method == "decoder_one_pass":
                    probs[method] = decoder.trajectory(sentence)["p_hate"].to_numpy()
                else:
                    stream = decoder.stream()
                    word_times: list[float] = []
                    for word in sentence.split():
                        with timer(word_times):
                            stream.add_word(word)
                    probs[method] = np.array(stream.probabilities)
                    acc[method]["word_s"].extend(word_times)
            acc[method]["batch_s"].append(times[0])
            acc[method]["mem"].append(mem.peak_mb)
            acc[method]["n"] += len(prefixes)
            acc[method]["diff"].append(float(np.abs(probs[method] - probs[BASELINE[method]]).max()))
        # --- per-word latency when typing: the cost of the k-th word's probability, k = 1..n
        for prefix in prefixes:
            for method, anticipator in (("naive_encoder", encoder), ("naive_decoder", decoder)):
                with timer(acc[method]["word_s"]):
                    naive_scores(anticipator.model, anticipator.tokenizer, [prefix], width, 1)
            with timer(acc["encoder_dynamic"]["word_s"]):
                encoder.score([prefix])
            with timer(acc["decoder_one_pass"]["word_s"]):
                decoder.score([prefix])
        for method in METHODS:  # this sentence's median per-word latency
            acc[method]["word_median_s"].append(
                statistics.median(acc[method]["word_s"][words_before[method] :])
            )
    for length, methods in per_length.items():
        for method, acc in methods.items():
            base = methods[BASELINE[method]]
            throughput = acc["n"] / sum(acc["batch_s"])
            base_throughput = base["n"] / sum(base["batch_s"])
            latency = summary(acc["word_s"])
            base_latency = summary(base["word_s"])
            rows.append(
                {
                    "words": length,
                    "method": method,
                    "label": LABELS[method],
                    "sentences": len(acc["batch_s"]),
                    "prefixes": acc["n"],
                    "prefixes_per_s": throughput,
                    "throughput_ratio_to_a": throughput / base_throughput,
                    "latency_median_ms": latency["median_ms"],
                    "latency_p95_ms": latency["p95_ms"],
                    "latency_last_word_ms": 1e3 * statistics.fmean(acc["word_s"][length - 1 :: length]),
                    "latency_ratio_to_a": latency["median_ms"] / base_latency["median_ms"],
                    "max_abs_diff_to_a": max(acc["diff"]),
                    "peak_rss_mb": max(acc["mem"]),
                }
            )
    per_sentence = {
        (length, method): {"batch_s": acc["batch_s"], "word_median_s": acc["word_median_s"]}
        for length, methods in per_length.items()
        for method, acc in methods.items()
    }
    return rows, per_sentence


# ------------------------------------------------------------------------------------------------ training
def bench_training(model, tokenizer, sentences: list[str], steps: int = 3, lr: float = 5e-5) -> dict:
    """Phase-1 decoder training speed: one-pass loss (every word end of a sentence) vs one prefix per example.

    Same model, optimiser, sentences and dynamic padding; the per-prefix mode draws one random prefix per
    sentence (the seed's pipeline). Examples = word-prefixes that contribute to the loss.
    """
    from hatespeech.losses import weighted_bce_with_logits

    rng = np.random.default_rng(0)
    labels = torch.tensor(rng.integers(0, 2, len(sentences)), dtype=torch.float32)
    encoded = [(e.input_ids, e.word_ends) for e in encode_sentences(tokenizer, sentences, 10**6)]
    pad = tokenizer.pad_token_id

    def pad_rows(rows):
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return ids, mask

    def one_pass_step():
        ids, mask = pad_rows([e[0] for e in encoded])
        words = max(len(e[1]) for e in encoded)
        ends = torch.full((len(encoded), words), -1, dtype=torch.long)
        w_len = torch.zeros(len(encoded), words)
        for i, (_, e) in enumerate(encoded):
            ends[i, : len(e)] = torch.tensor(e)
            w_len[i, : len(e)] = torch.arange(1, len(e) + 1) / len(e)
        logits = model(ids, mask, word_end_positions=ends).logits
        valid = ends >= 0
        loss = weighted_bce_with_logits(logits[valid], labels[:, None].expand_as(ends)[valid], w_len[valid])
        return loss, int(valid.sum())

    def per_prefix_step():
        rows, w_len = [], []
        for ids, ends in encoded:
            k = int(rng.integers(1, len(ends) + 1))
            rows.append(ids[: ends[k - 1] + 1])
            w_len.append(k / len(ends))
        ids, mask = pad_rows(rows)
        logits = model(ids, mask).logits
        return weighted_bce_with_logits(logits, labels, torch.tensor(w_len)), len(rows)

    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    out = {}
    for name, step in (("one_pass", one_pass_step), ("one_prefix_per_example", per_prefix_step)):
        times, examples = [], 0
        for i in range(steps + 1):
            start = time.perf_counter()
            loss, n = step()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if i > 0:  # step 0 is the warm-up
                times.append(time.perf_counter() - start)
                examples += n
        out[name] = {
            "examples_per_s": examples / sum(times),
            "sentences_per_s": steps * len(sentences) / sum(times),
            "step_s_median": statistics.median(times),
            "examples_per_step": examples / steps,
        }
    model.eval()
    out["examples_per_s_ratio"] = (
        out["one_pass"]["examples_per_s"] / out["one_prefix_per_example"]["examples_per_s"]
    )
    out["sentences_per_step"] = len(sentences)
    out["trainable_parameters"] = model.num_trainable_parameters()
    return out


# ------------------------------------------------------------------------------------------------ report
def targets(table: pd.DataFrame, per_sentence: dict | None = None) -> dict:
    """The issue's targets: (c) >= 8x (a) at 20 words; streaming <= 1/5 of re-scoring at 40 words. With
    ``per_sentence`` (:func:`bench_scoring`), each ratio also as the median and 25th-75th percentiles of
    its per-sentence ratios."""

    def get(words, method, column):
        hit = table[(table["words"] == words) & (table["method"] == method)]
        return float(hit[column].iloc[0]) if len(hit) else float("nan")

    out = {}
    lengths = sorted(table["words"].unique())
    mid = 20 if 20 in lengths else lengths[len(lengths) // 2]
    ratio = get(mid, "decoder_one_pass", "throughput_ratio_to_a")
    out["one_pass_vs_naive_throughput"] = {
        "words": int(mid),
        "ratio": ratio,
        "target": 8.0,
        "met": ratio >= 8.0,
    }
    longest = int(max(lengths))
    stream_med = get(longest, "decoder_stream", "latency_median_ms")
    rescore_med = get(longest, "decoder_one_pass", "latency_median_ms")
    stream_last = get(longest, "decoder_stream", "latency_last_word_ms")
    rescore_last = get(longest, "decoder_one_pass", "latency_last_word_ms")
    out["stream_vs_rescore_latency"] = {
        "words": longest,
        "median_ratio": stream_med / rescore_med,
        "last_word_ratio": stream_last / rescore_last,
        "target": 0.2,
        "met": stream_med / rescore_med <= 0.2,
    }
    if per_sentence:
        spreads = {
            "one_pass_vs_naive_throughput": ratio_spread(  # the same prefixes: time ratio = throughput ratio
                per_sentence[mid, "naive_decoder"]["batch_s"],
                per_sentence[mid, "decoder_one_pass"]["batch_s"],
            ),
            "stream_vs_rescore_latency": ratio_spread(
                per_sentence[longest, "decoder_stream"]["word_median_s"],
                per_sentence[longest, "decoder_one_pass"]["word_median_s"],
            ),
        }
        for name, spread in spreads.items():
            out[name].update(spread_columns(spread, "sentence_ratio_"), sentences=spread["sentences"])
    out["equivalence_max_abs_diff"] = {
        m: float(table.loc[table["method"] == m, "max_abs_diff_to_a"].max())
        for m in ("encoder_dynamic", "decoder_one_pass", "decoder_stream")
    }
    out["equivalence_met"] = all(v <= 1e-4 for v in out["equivalence_max_abs_diff"].values())
    return out


def plot_latency(table: pd.DataFrame, caption: str | None = None, save: bool = True):
    """Median per-word latency (p95 as error bar) against sentence length, one line per way; log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns
    from hatespeech.plots import save_figure

    fig, ax = plt.subplots(figsize=(7, 4.2))
    palette = sns.color_palette("colorblind", len(METHODS))
    for colour, method in zip(palette, METHODS, strict=True):
        part = table[table["method"] == method].sort_values("words")
        ax.errorbar(
            part["words"],
            part["latency_median_ms"],
            yerr=[np.zeros(len(part)), part["latency_p95_ms"] - part["latency_median_ms"]],
            marker="o",
            capsize=3,
            color=colour,
            label=LABELS[method],
        )
    ax.set_yscale("log")
    ax.set_xticks(sorted(table["words"].unique()))
    ax.set_xlabel("sentence length (words)")
    ax.set_ylabel("per-word latency, ms (median, bar to p95)")
    ax.set_title("Time from a typed word to its P(hateful)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    if save:
        save_figure(fig, "bench_latency", caption=caption)
    return fig


def run(
    settings: BenchSettings,
    encoder: Anticipator | None = None,
    decoder: Anticipator | None = None,
    sentences: dict[int, list[str]] | None = None,
    progress: bool = True,
) -> dict:
    """Run the whole benchmark; returns the payload written to benchmarks.json."""
    started = time.perf_counter()
    memory_returned = return_freed_memory_to_os()
    if settings.threads:
        torch.set_num_threads(settings.threads)
    seed_everything(settings.seed)
    profile = get_profile(settings.profile)
    load_before = os.getloadavg()
    if encoder is None:
        model, tokenizer = new_prefix_classifier("encoder", profile)
        encoder = Anticipator(model, tokenizer, device="cpu")
    if decoder is None:
        model, tokenizer = new_prefix_classifier("decoder", profile)
        decoder = Anticipator(model, tokenizer, device="cpu")
    if sentences is None:
        sentences = pick_sentences(settings.lengths, settings.per_length, settings.source, settings.seed)
    longest = max(
        len(a.tokenizer(s)["input_ids"]) for a in (encoder, decoder) for g in sentences.values() for s in g
    )
    width = max(
        profile.anticipation.max_length, longest
    )  # the seed padded to max_length; never truncate here
    rows, per_sentence = bench_scoring(
        encoder, decoder, sentences, width, settings.batch_size, progress=progress
    )
    table = pd.DataFrame(rows)
    floor = forward_floor(decoder, sentences[max(sentences)][0])
    stream = decoder.stream()
    stream.add_word(sentences[max(sentences)][0])
    floor["stream_state_mb_at_longest"] = stream.state_bytes / 2**20  # KV cache + token states kept
    train_sentences = [s for group in sentences.values() for s in group][: settings.train_sentences]
    quantized = {}
    if settings.quantized:
        quantized = run_quantized(
            settings.profile,
            threads=settings.threads,
            sentences=sentences,
            decoder=decoder,
            accuracy_inputs=settings.extra.get("quantized_accuracy_inputs"),
            progress=progress,
        )
    training = bench_training(decoder.model, decoder.tokenizer, train_sentences, steps=settings.train_steps)
    payload = {
        "settings": asdict(settings),
        "models": {
            "encoder": encoder.model.config.backbone_name,
            "decoder": decoder.model.config.backbone_name,
        },
        "padded_width_naive": width,
        "sentences": {str(k): v for k, v in sentences.items()},
        "table": table.to_dict(orient="records"),
        "targets": targets(table, per_sentence),
        "training": training,
        "decoder_forward_floor": floor,
        "quantized": quantized,
        "rss_follows_live_memory": memory_returned,
        "torch_threads": torch.get_num_threads(),
        "load_average_before_after": [list(load_before), list(os.getloadavg())],
        "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "note": (
            "Timings on a shared machine (load average above); ratios are measured within one run, "
            "methods interleaved per sentence, so contention affects them alike."
        ),
        "wall_s": time.perf_counter() - started,
    }
    if settings.write:
        import matplotlib.pyplot as plt
        from hatespeech import paths

        caption = report.caption(profile, f"{settings.source}, {settings.per_length} sentences per length")
        plt.close(plot_latency(table, caption=caption))
        payload["figure_path"] = paths.shown(paths.figures_dir() / "bench_latency.png")
        written = BenchmarkResult(profile=profile.name, **payload).write(profile)  # the report's contract
        payload["metrics_path"] = paths.shown(written)
    return payload


def print_report(payload: dict) -> None:
    table = pd.DataFrame(payload["table"])
    cols = [
        "words",
        "label",
        "prefixes_per_s",
        "throughput_ratio_to_a",
        "latency_median_ms",
        "latency_p95_ms",
        "latency_last_word_ms",
        "latency_ratio_to_a",
        "max_abs_diff_to_a",
        "peak_rss_mb",
    ]
    with pd.option_context(
        "display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format
    ):
        print(table[cols].to_string(index=False))
    t = payload["targets"]
    one = t["one_pass_vs_naive_throughput"]
    stream = t["stream_vs_rescore_latency"]
    print(
        f"\n(c) one pass vs (a) naive at {one['words']} words: {one['ratio']:.1f}x (target >= 8x: "
        f"{'met' if one['met'] else 'MISSED'})"
    )
    print(
        f"(d) streaming vs re-scoring the whole prefix at {stream['words']} words: median ratio "
        f"{stream['median_ratio']:.3f}, last word {stream['last_word_ratio']:.3f} (target <= 0.2: "
        f"{'met' if stream['met'] else 'MISSED'})"
    )
    print(f"max |p - p_naive|: {t['equivalence_max_abs_diff']} (<= 1e-4: {t['equivalence_met']})")
    floor = payload["decoder_forward_floor"]
    print(
        f"decoder forward, 1 token {floor['one_token_ms']:.0f} ms vs all {floor['tokens']} tokens "
        f"{floor['all_tokens_ms']:.0f} ms (ratio {floor['ratio']:.2f}: the floor of a streaming update; "
        f"{floor['weights_mb']:.0f} MB of weights are read either way); the stream keeps "
        f"{floor['stream_state_mb_at_longest']:.1f} MB of cache at "
        f"{max(map(int, payload['sentences']))} words"
    )
    tr = payload["training"]
    print(
        f"phase-1 decoder training: one-pass {tr['one_pass']['examples_per_s']:.1f} examples/s vs one prefix "
        f"per example {tr['one_prefix_per_example']['examples_per_s']:.1f} examples/s "
        f"({tr['examples_per_s_ratio']:.1f}x)"
    )
    print(
        f"threads {payload['torch_threads']}, "
        f"load average before/after {payload['load_average_before_after']}, "
        f"process peak RSS {payload['process_peak_rss_mb']:.0f} MB, wall {payload['wall_s']:.0f} s"
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--profile", default="cpu", help="profile whose encoder/decoder are timed (default cpu)"
    )
    parser.add_argument("--lengths", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--per-length", type=int, default=10, help="sentences per length")
    parser.add_argument("--source", default="implicit_hate", help="corpus the sentences come from")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (0 = torch's default)")
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; no metrics JSON / figure")
    parser.add_argument("--no-quantized", action="store_true", help="skip the int8 / bf16 rows")
    args = parser.parse_args(argv)
    settings = BenchSettings(
        profile=args.profile,
        lengths=tuple(args.lengths),
        per_length=args.per_length,
        source=args.source,
        threads=args.threads or None,
        train_steps=args.train_steps,
        write=not args.no_write,
        quantized=not args.no_quantized,
    )
    payload = run(settings)
    print_report(payload)
    if payload["quantized"]:
        print_quantized(payload["quantized"])
    return payload


if __name__ == "__main__":
    main()
