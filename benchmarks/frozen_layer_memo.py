"""What the frozen-layer memo buys the decoders: one training epoch with and without it.

    python benchmarks/frozen_layer_memo.py [--profile cpu] [--sentences 500] [--threads 2]

The profile's ``decoder`` variant (its backbone, its frozen lower blocks) trains on ``--sentences`` phase-1
train sentences with the phase-1 loss at every word end, through the same Trainer loop as notebook 02:

* ``plain``: one epoch, every frozen block computed (what an epoch cost before the memo);
* ``memo, first epoch``: one epoch that computes the frozen blocks and records their output;
* ``memo, later epoch``: one more epoch that replays them (only the top blocks and the head run);
* ``decoder+bilstm, shared memo``: one epoch of the other decoder variant on the same memo.

It prints the seconds of each and their ratios to ``plain`` (measured in this one run), and the memo's size.
These set how many sentences and epochs the cpu profile gives the decoders (``lib/hatespeech/config.py``).
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
from hatespeech.runtime import seed_everything
from hatespeech.train import train


def one_epoch(variant: str, profile, sentences, memos: MemoPool | None) -> float:
    """Seconds of one training epoch of ``variant`` on ``sentences`` (with ``memos`` when given)."""
    settings = profile.anticipation
    seed_everything(profile.seed)
    model, tokenizer = new_prefix_classifier(variant, profile)
    model.to(profile.torch_device)
    train_set, pos_weight = one_pass_train_set(tokenizer, sentences, settings.max_length)
    with tempfile.TemporaryDirectory() as tmp:
        train_settings = _train_settings(
            profile,
            Path(tmp),
            1,
            settings.phase1.batch_size,
            1e-4,
            train_set,
            min_rows=ant.PHASE1_MIN_ROWS_PER_BATCH,
        )
        start = time.perf_counter()
        with memos.context(model) if memos is not None else nullcontext():
            collator = ant.WordPrefixCollator(tokenizer.pad_token_id)
            train(model, train_set, ant.phase1_loss_fn(pos_weight), train_settings, data_collator=collator)
        return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--sentences", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    profile = get_profile(args.profile)
    data = ant.load_phase1_data(profile)
    sentences = ant.phase1_train_sentences(data, args.sentences, profile.seed)
    memos = MemoPool(profile.anticipation.frozen_layer_memo_mb)
    rows = {
        "plain": one_epoch("decoder", profile, sentences, None),
        "memo, first epoch": one_epoch("decoder", profile, sentences, memos),
        "memo, later epoch": one_epoch("decoder", profile, sentences, memos),
        "decoder+bilstm, shared memo": one_epoch("decoder+bilstm", profile, sentences, memos),
    }
    print(f"{len(sentences)} sentences, {args.threads} threads, profile {profile.name}")
    for name, seconds in rows.items():
        print(f"{name:30s} {seconds:7.1f} s   x{seconds / rows['plain']:.3f} of plain")
    for memo in memos.memos.values():
        print("memo:", memo.stats())


if __name__ == "__main__":
    main()
