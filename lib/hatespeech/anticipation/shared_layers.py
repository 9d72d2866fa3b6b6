"""Scoring classifiers whose lower layers hold the same weights, computing those layers once.

Why by hand: no library splices one model's cached hidden states into another's forward. The cpu profile
trains only the top two blocks of the decoder in phase 1 and again in phase 2, so the four decoder models
(phase 1 and 2, with and without the biLSTM) share the pretrained embeddings and lower 28 of 30 blocks; and it
trains only the top two encoder layers in phase 2, so a phase-2 encoder model (and its rehearsal twin) shares
the lower four of six layers with the phase-1 model it started from. Scoring them one after the other
recomputes those layers for every model. Here the first model's pass records the input of the first
differing layer for every token sequence (:meth:`LowerLayerCache.capture`), and the other models replay it
(:meth:`LowerLayerCache.replay`): their shared layers are swapped for stubs that hand back the recorded
states, so only the differing layers and the heads run. Exact: the replayed states are the very tensors the
shared layers computed (padding aside, which attention masks out; tests check against plain scoring).

Sequences are keyed by their tokens, so the first model must see every sequence the others will: a model
that needs per-word trajectories goes first (an encoder scores each prefix as its own sequence; a decoder's
trajectories and full-length scores both read the whole sentence).

When the models share nothing (the gpu profile trains every layer), they are scored one by one as usual.

:class:`FrozenLayerMemo` does the same while *training*: a model whose lower layers are frozen (the cpu
profile's decoders train their top two blocks) computes those layers once per token sequence and replays their
output in every later epoch, in the selection scoring after each epoch and in the other variant of the same
backbone, so an epoch costs only the trained top blocks and the head. Exact for backbones without dropout in
the frozen layers (SmolLM2 has none; they run in eval mode, as when scoring); tests check logits and gradients
against the plain model.
"""

from __future__ import annotations

import hashlib
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .inference import Anticipator


def shared_lower_layers(models) -> int:
    """How many leading transformer layers (embeddings included, else 0) hold equal weights in every model."""
    reference, others = models[0], models[1:]
    if not others:
        return 0
    embeddings = _embedding_tensors(reference)
    for other in others:
        theirs = _embedding_tensors(other)
        if other.is_decoder != reference.is_decoder or theirs.keys() != embeddings.keys():
            return 0
        if not all(torch.equal(theirs[k], embeddings[k]) for k in embeddings):
            return 0
    layers = [m._transformer_layers() for m in models]
    shared = 0
    for index in range(min(len(stack) for stack in layers)):
        tensors = [dict(stack[index].state_dict()) for stack in layers]
        if all(t.keys() == tensors[0].keys() for t in tensors) and all(
            all(torch.equal(t[k], tensors[0][k]) for k in tensors[0]) for t in tensors[1:]
        ):
            shared += 1
        else:
            break
    return shared


def _embedding_tensors(model) -> dict[str, torch.Tensor]:
    """Word, position and token-type embeddings (and their norm): what runs below the first layer."""
    state = model.backbone.state_dict()
    return {k: v for k, v in state.items() if "embed" in k or k.split(".")[0] in ("wte", "wpe")}


class _Replay(nn.Module):
    """Stands in for the first shared layer: returns the recorded states of this batch's rows."""

    def __init__(self, cache: LowerLayerCache):
        super().__init__()
        self.cache = cache

    def forward(self, hidden_states, *args, **kwargs):
        out = torch.zeros_like(hidden_states)
        for row, key in enumerate(self.cache.batch_keys):
            if key not in self.cache.states:
                raise KeyError(f"no recorded lower-layer states for a sequence of {len(key)} tokens")
            states = self.cache.states[key]
            out[row, : states.shape[0]] = states.to(out.dtype)
        return out


def _batch_keys(kwargs) -> list[tuple[int, ...]]:
    """Each row's unpadded tokens (the key of its recorded states), from a backbone call's keyword inputs."""
    input_ids, mask = kwargs["input_ids"], kwargs["attention_mask"]
    return [tuple(ids[m.bool()].tolist()) for ids, m in zip(input_ids, mask)]


@contextmanager
def _lower_layers_swapped(model, n: int, make_first, keys_hook):
    """Run ``model`` with its first ``n`` transformer layers replaced: the first by ``make_first(saved)`` (it
    returns what all ``n`` would), the others by pass-throughs; ``keys_hook`` sees every backbone call's
    inputs. The real layers are put back on exit."""
    layers = model._transformer_layers()
    saved = [layers[i] for i in range(n)]
    handle = model.backbone.register_forward_pre_hook(keys_hook, with_kwargs=True)
    layers[0] = make_first(saved)
    for i in range(1, n):
        layers[i] = _PassThrough()
    try:
        yield
    finally:
        for i, layer in enumerate(saved):
            layers[i] = layer
        handle.remove()


class _PassThrough(nn.Module):
    def forward(self, hidden_states, *args, **kwargs):
        return hidden_states


class LowerLayerCache:
    """Inputs of layer ``n_shared`` per token sequence (right-padded rows, keyed by their tokens)."""

    def __init__(self, n_shared: int):
        self.n_shared = n_shared
        self.states: dict[tuple[int, ...], torch.Tensor] = {}
        self.batch_keys: list[tuple[int, ...]] = []

    def _keys_hook(self, module, args, kwargs):
        self.batch_keys = _batch_keys(kwargs)

    @contextmanager
    def capture(self, model):
        """Record, while ``model`` scores as usual, the input of its layer ``n_shared`` for every row."""

        def record(module, args):
            hidden = args[0].detach()
            for row, key in enumerate(self.batch_keys):
                self.states[key] = hidden[row, : len(key)].clone()

        handles = [
            model.backbone.register_forward_pre_hook(self._keys_hook, with_kwargs=True),
            model._transformer_layers()[self.n_shared].register_forward_pre_hook(record),
        ]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    @contextmanager
    def replay(self, model):
        """Score with ``model``'s first ``n_shared`` layers replaced by the recorded states."""
        with _lower_layers_swapped(model, self.n_shared, lambda saved: _Replay(self), self._keys_hook):
            yield self


def score_family(
    folders: dict[str, Path], texts: list[str], max_length: int, trajectories: set[str]
) -> tuple[dict[str, tuple[np.ndarray, list[np.ndarray] | None, float]], int]:
    """``({name: (scores at full length, per-word trajectories or None, seconds)}, layers shared)`` for saved
    classifiers of one backbone (``trajectories``: the names that need them), computing the lower layers they
    have in common once. The first model's seconds include that pass; loading is spread over all."""
    start = time.perf_counter()
    # the models with trajectories go first: their pass records every sequence the others read
    order = sorted(folders, key=lambda name: name not in trajectories)
    anticipators = {name: Anticipator.from_pretrained(folders[name], max_length=max_length) for name in order}
    # at least one layer must differ (else capture has no layer to record at): cap below the depth
    depth = min(len(a.model._transformer_layers()) for a in anticipators.values()) if anticipators else 0
    n_shared = min(shared_lower_layers([a.model for a in anticipators.values()]), max(depth - 1, 0))
    seconds_loading = time.perf_counter() - start
    cache = LowerLayerCache(n_shared) if n_shared else None
    out = {}
    for i, (name, anticipator) in enumerate(anticipators.items()):
        start = time.perf_counter()
        if cache is None:
            context = _nothing()
        else:
            context = cache.capture(anticipator.model) if i == 0 else cache.replay(anticipator.model)
        with context:
            if name in trajectories:
                per_word = anticipator.trajectories(texts, progress=name)
                scores = np.array([t[-1] for t in per_word])
            else:
                per_word, scores = None, anticipator.score(texts, progress=name)
        out[name] = (scores, per_word, time.perf_counter() - start + seconds_loading / len(anticipators))
    return {name: out[name] for name in folders}, n_shared


@contextmanager
def _nothing():
    yield None


class _Memo(nn.Module):
    """Stands in for the first frozen layer: each row's output of all frozen layers, replayed when every row
    of the batch has been seen, else computed by the real layers (in eval mode) and recorded."""

    def __init__(self, memo: FrozenLayerMemo, layers: list[nn.Module]):
        super().__init__()
        self.memo = memo
        self.real = layers  # a plain list: the frozen layers stay out of this module's parameters

    def forward(self, hidden_states, *args, **kwargs):
        memo = self.memo
        keys = memo.batch_keys
        if keys and all(key in memo.states for key in keys):
            memo.hits += len(keys)
            out = torch.zeros_like(hidden_states)
            for row, key in enumerate(keys):
                states = memo.states[key]
                out[row, : states.shape[0]] = states.to(out.dtype)
            return out
        modes = [layer.training for layer in self.real]
        with torch.no_grad():
            for layer in self.real:
                layer.eval()  # no dropout: the recorded states must be the ones every later pass replays
            for layer in self.real:
                hidden_states = layer(hidden_states, *args, **kwargs)
            for layer, mode in zip(self.real, modes):
                layer.train(mode)
        memo.misses += len(keys)
        for row, key in enumerate(keys):
            if key not in memo.states and memo.bytes + len(key) * memo.row_bytes <= memo.max_bytes:
                memo.states[key] = hidden_states[row, : len(key)].detach().clone()
                memo.bytes += len(key) * memo.row_bytes
        return hidden_states.detach()


class FrozenLayerMemo:
    """The output of a model's frozen lower layers per token sequence, kept across epochs and variants.

    ``attach(model)`` (a context) swaps the first ``n_frozen`` transformer layers for a :class:`_Memo` (and
    pass-throughs) that replays recorded states or computes and records them; memory is bounded by
    ``max_bytes`` (sequences beyond it are computed every time, never dropped). A memo serves every model
    whose embeddings and first ``n_frozen`` layers hold the same weights (checked on attach): the two decoder
    variants of one backbone share it.
    """

    def __init__(self, n_frozen: int, max_bytes: int = 2 << 30):
        if n_frozen < 1:
            raise ValueError(f"n_frozen must be >= 1, got {n_frozen}")
        self.n_frozen = n_frozen
        self.max_bytes = int(max_bytes)
        self.states: dict[tuple[int, ...], torch.Tensor] = {}
        self.batch_keys: list[tuple[int, ...]] = []
        self.bytes = 0
        self.row_bytes = 0
        self.hits = 0
        self.misses = 0
        self._reference: dict[str, torch.Tensor] | None = None

    @staticmethod
    def frozen_layers(model) -> int:
        """How many leading transformer layers of ``model`` are frozen (with its embeddings), else 0."""
        if any(p.requires_grad for p in model.backbone.get_input_embeddings().parameters()):
            return 0
        n = 0
        for layer in model._transformer_layers():
            if any(p.requires_grad for p in layer.parameters()):
                break
            n += 1
        return n

    def _fingerprint(self, model) -> dict[str, torch.Tensor]:
        layers = model._transformer_layers()
        tensors = {f"embed.{k}": v for k, v in _embedding_tensors(model).items()}
        for i in range(self.n_frozen):
            tensors.update({f"{i}.{k}": v for k, v in layers[i].state_dict().items()})
        return tensors

    def _keys_hook(self, module, args, kwargs):
        self.batch_keys = _batch_keys(kwargs)

    def stats(self) -> dict[str, int | float]:
        return {
            "frozen_layers_memoised": self.n_frozen,
            "sequences": len(self.states),
            "megabytes": self.bytes / 2**20,
            "rows_replayed": self.hits,
            "rows_computed": self.misses,
        }

    @contextmanager
    def attach(self, model):
        """Train or score ``model`` with its frozen lower layers memoised (ValueError when they differ from
        the memo's or are not frozen)."""
        if self.frozen_layers(model) < self.n_frozen:
            raise ValueError(
                f"the model freezes {self.frozen_layers(model)} lower layers; the memo needs {self.n_frozen}"
            )
        fingerprint = self._fingerprint(model)
        if self._reference is None:
            self._reference = {k: v.detach().clone() for k, v in fingerprint.items()}
        elif fingerprint.keys() != self._reference.keys() or not all(
            torch.equal(fingerprint[k], self._reference[k]) for k in fingerprint
        ):
            raise ValueError("the model's frozen layers differ from the ones this memo recorded")
        self.row_bytes = model.backbone.config.hidden_size * 4
        with _lower_layers_swapped(model, self.n_frozen, lambda saved: _Memo(self, saved), self._keys_hook):
            yield self


@dataclass
class MemoPool:
    """The frozen-layer memos of one run, one per set of frozen weights: the two decoder variants of a phase
    (same pretrained lower blocks) share one. ``context(model)`` is a no-op for encoders (their frozen layers
    have dropout, and phase 1 draws fresh prefixes every epoch) and for models that train every layer."""

    max_megabytes: int = 2048
    memos: dict[tuple[int, str], FrozenLayerMemo] = field(default_factory=dict)

    def context(self, model):
        if not model.is_decoder:
            return nullcontext(None)
        n = FrozenLayerMemo.frozen_layers(model)
        if n == 0:
            return nullcontext(None)
        first = next(model._transformer_layers()[0].parameters()).detach().cpu()
        key = (n, hashlib.sha1(first.numpy().tobytes()).hexdigest())
        if key not in self.memos:
            self.memos[key] = FrozenLayerMemo(n, max_bytes=int(self.max_megabytes) << 20)
        return self.memos[key].attach(model)
