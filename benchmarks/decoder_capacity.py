"""Decoder capacity within the cpu budget: every layer trained vs LoRA adapters vs the top two layers.

    python benchmarks/decoder_capacity.py [--profile cpu] [--sentences 300] [--threads 2]

Each mode trains the plain ``decoder`` variant (the profile's decoder backbone) for one epoch (two for
``top2_memo_2ep``) on the *same* ``--sentences`` train sentences of the grouped phase-1 split, with the
phase-1 loss at every word end, and is scored on every prefix of the selection sentences (weighted F1 at the
selection-tuned threshold), exactly as notebook 02
chooses its settings. The evaluation split is never touched. The criterion is selection F1 reached per minute
of training: on 2 cores the decoder's budget is minutes, so a mode that learns less per sentence but runs much
faster can still be the better use of them.

* ``full``: every layer trainable (lr 5e-5, the cpu profile's decoder rate);
* ``lora``: LoRA rank 8 on every linear layer of every block, backbone frozen (lr 5e-4: adapters start at
  zero and need a larger step);
* ``top2``: the earlier cpu setting, the top two blocks trainable (lr 1e-4);
* ``top2_memo_2ep``: the cpu profile's setting since the frozen-layer memo: the top two blocks, two epochs,
  the frozen lower blocks computed once per sentence in the first epoch and replayed in the second
  (``anticipation.shared_layers.MemoPool``), so the second epoch costs only the top blocks and the head.

"F1 per minute" alone favours whatever is fastest (a model that learns nothing in no time has an infinite
rate), so a second pass gives every faster mode the *same training time* as the slowest one: it trains on
``--sentences x (slowest seconds / its seconds)`` sentences, and the mode with the highest selection F1 at
equal time is the pick (``best_at_equal_time``); single seed, so differences of a few hundredths are within
noise.

Results: ``reports/metrics/decoder_capacity.json`` (with the stamp); the report lists it with the other
metrics.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from hatespeech import anticipation as ant
from hatespeech.anticipation.shared_layers import MemoPool
from hatespeech.anticipation.training import _train_settings, new_prefix_classifier, one_pass_train_set
from hatespeech.config import get_profile
from hatespeech.models.adapters import apply_lora
from hatespeech.results import DecoderCapacityResult
from hatespeech.runtime import seed_everything
from hatespeech.train import train

MODES = {
    "full": {"trainable_layers": None, "lora": False, "lr": 5e-5},
    "lora": {"trainable_layers": None, "lora": True, "lr": 5e-4},
    "top2": {"trainable_layers": 2, "lora": False, "lr": 1e-4},
    "top2_memo_2ep": {"trainable_layers": 2, "lora": False, "lr": 1e-4, "epochs": 2, "memo": True},
}


def run_mode(
    name: str, profile, data: ant.Phase1Data, n_sentences: int, budget: str = "equal sentences"
) -> dict:
    mode = {"epochs": 1, "memo": False, **MODES[name]}
    settings = profile.anticipation
    seed_everything(profile.seed)
    model, tokenizer = new_prefix_classifier("decoder", profile)
    if mode["lora"]:
        apply_lora(model)
    else:
        model.freeze_lower_layers(mode["trainable_layers"])
    model.to(profile.torch_device)
    sentences = ant.phase1_train_sentences(data, n_sentences, profile.seed)
    train_set, pos_weight = one_pass_train_set(tokenizer, sentences, settings.max_length)
    with tempfile.TemporaryDirectory() as tmp:
        train_settings = _train_settings(
            profile,
            Path(tmp),
            mode["epochs"],
            settings.phase1.batch_size,
            mode["lr"],
            train_set,
            min_rows=ant.PHASE1_MIN_ROWS_PER_BATCH,
        )
        memo = MemoPool(settings.frozen_layer_memo_mb).context(model) if mode["memo"] else nullcontext()
        start = time.perf_counter()
        with memo:
            train(
                model,
                train_set,
                ant.phase1_loss_fn(pos_weight),
                train_settings,
                data_collator=ant.WordPrefixCollator(tokenizer.pad_token_id),
            )
        seconds = time.perf_counter() - start
    draw = ant.selection_sentences(data.selection, profile)
    f1, details = ant.selection_score_fn(tokenizer, draw, settings.max_length)(model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    row = {
        "mode": name,
        **mode,
        "budget": budget,
        "train_sentences": len(sentences),
        "train_prefixes": train_set.n_prefixes,
        "trainable_parameters": trainable,
        "train_seconds": seconds,
        "selection_f1": f1,
        "selection_threshold": details["threshold"],
        "selection_f1_at_0.5": details["f1_at_0.5"],
        "selection_sentences": len(draw),
        "f1_per_minute": f1 / (seconds / 60),
    }
    print(
        f"{name:5s} ({budget}) trainable {trainable / 1e6:6.1f}M  train {seconds:6.0f} s  "
        f"selection F1 {f1:.3f}  "
        f"F1/min {row['f1_per_minute']:.3f}",
        flush=True,
    )
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    profile = get_profile(args.profile)
    data = ant.load_phase1_data(profile)
    rows = [run_mode(name, profile, data, args.sentences) for name in args.modes.split(",")]
    rows_equal_sentences = list(rows)
    # Equal time: every faster mode gets the slowest mode's training time, spent on more sentences.
    slowest = max(rows, key=lambda r: r["train_seconds"])
    equal_time = [slowest] + [
        run_mode(
            r["mode"],
            profile,
            data,
            round(args.sentences * slowest["train_seconds"] / r["train_seconds"]),
            budget="equal time",
        )
        for r in rows
        if r is not slowest
    ]
    best_equal = max(equal_time, key=lambda r: r["selection_f1"])
    runner_up = sorted(r["selection_f1"] for r in equal_time)[-2] if len(equal_time) > 1 else None
    rows += equal_time[1:]
    by_f1 = max(rows_equal_sentences, key=lambda r: r["selection_f1"])
    by_rate = max(rows_equal_sentences, key=lambda r: r["f1_per_minute"])
    payload = {
        "rows": rows,
        "criterion": (
            "selection-set F1 (threshold tuned on the selection set) reached in the same training time"
        ),
        "best_at_equal_time": best_equal["mode"],
        "margin_at_equal_time": best_equal["selection_f1"] - runner_up if runner_up is not None else None,
        "equal_time_seconds": slowest["train_seconds"],
        "best_by_f1_per_minute": by_rate["mode"],
        "best_by_f1_at_equal_sentences": by_f1["mode"],
        "margin_f1_per_minute": by_rate["f1_per_minute"]
        - sorted(r["f1_per_minute"] for r in rows_equal_sentences)[-2]
        if len(rows_equal_sentences) > 1
        else None,
        "threads": args.threads,
        "note": "one seed, the same train sentences for every mode; one epoch each except top2_memo_2ep "
        "(two, the second replaying the memoised frozen blocks); chooses how the decoder variants train in "
        "the cpu profile",
    }
    DecoderCapacityResult(profile=profile.name, **payload).write(profile)  # the report reads it back
    print(
        f"best at equal time: {best_equal['mode']} (+{payload['margin_at_equal_time'] or 0:.3f} F1); "
        f"best by F1 per minute: {by_rate['mode']}; best by F1 at equal sentences: {by_f1['mode']}"
    )


if __name__ == "__main__":
    main()
