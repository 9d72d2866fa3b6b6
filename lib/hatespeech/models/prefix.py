"""Prefix classifier for hate-speech anticipation: P(finished sentence is hateful | first i words).

One class covers the four variants of the study (``VARIANTS``): an encoder (BERT family) or a causal decoder
(GPT family) backbone, optionally followed by a bidirectional LSTM over the token states, and a head giving
one logit.

* ``encoder``: the pooled [CLS] state (BERT's pooler when the backbone has one, as in the seed) -> head.
* ``decoder``: the state at the prefix's last (non-pad) token -> head.
* ``+bilstm``: a biLSTM over the non-pad token states; the final forward and backward states -> head.

**All prefixes in one pass.** A causal decoder's state at the last token of word i depends only on tokens of
words <= i, so ``forward(..., word_end_positions=...)`` scores every word-prefix of a sentence with one
forward pass (logits ``[B, W]``). Every other variant would leak the future into a prefix's score (an encoder
attends to later words, a biLSTM's backward direction reads them), so they refuse ``word_end_positions`` and
must see each prefix as its own sequence. ``decoder+bilstm`` still shares its (causal) backbone pass across
prefixes in :meth:`PrefixClassifier.all_prefix_logits`, running only the biLSTM once per prefix.

Hand-written because no library ships a prefix classifier: it is a thin ``PreTrainedModel`` around
``AutoModel`` so that ``save_pretrained`` / ``from_pretrained`` (safetensors + config.json) work unchanged and
a saved folder rebuilds offline without the original backbone files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from transformers import (
    AutoConfig,
    AutoModel,
    BertConfig,
    GPT2Config,
    LlamaConfig,
    PretrainedConfig,
    PreTrainedModel,
)
from transformers.utils import ModelOutput

from ..config import VARIANT_NAMES as VARIANTS
from .backbones import load_backbone, load_tokenizer, resolve_model_dir

_BACKBONE_TYPES = ("encoder", "decoder")


def parse_variant(variant: str) -> tuple[str, bool]:
    """``"decoder+bilstm"`` -> ``("decoder", True)``; raises ValueError for an unknown key."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown prefix-classifier variant {variant!r}; choose one of {VARIANTS}")
    backbone_type, _, extra = variant.partition("+")
    return backbone_type, extra == "bilstm"


class PrefixClassifierConfig(PretrainedConfig):
    """Config of :class:`PrefixClassifier`; ``backbone_config`` holds the full backbone config as a dict."""

    model_type = "prefix_classifier"

    def __init__(
        self,
        backbone_type: str = "encoder",
        backbone_config: dict[str, Any] | None = None,
        backbone_name: str | None = None,
        use_bilstm: bool = False,
        lstm_hidden: int = 128,
        trainable_layers: int | None = None,
        variant: str | None = None,
        head_dropout: float = 0.1,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        if backbone_type not in _BACKBONE_TYPES:
            raise ValueError(f"backbone_type must be one of {_BACKBONE_TYPES}, got {backbone_type!r}")
        if isinstance(backbone_config, PretrainedConfig):
            backbone_config = backbone_config.to_dict()
        self.backbone_type = backbone_type
        self.backbone_config = backbone_config
        self.backbone_name = backbone_name
        self.use_bilstm = bool(use_bilstm)
        self.lstm_hidden = int(lstm_hidden)
        self.trainable_layers = trainable_layers
        self.variant = variant or (backbone_type + ("+bilstm" if use_bilstm else ""))
        if self.variant != backbone_type + ("+bilstm" if self.use_bilstm else ""):
            raise ValueError(
                f"variant {self.variant!r} contradicts backbone_type={backbone_type!r}, "
                f"use_bilstm={use_bilstm}"
            )
        self.head_dropout = head_dropout
        self.initializer_range = initializer_range
        super().__init__(**kwargs)


@dataclass
class PrefixClassifierOutput(ModelOutput):
    """``logits``: ``[B]`` (one prefix per row) or ``[B, W]`` (one per word-prefix; 0.0 where padded)."""

    logits: torch.Tensor | None = None


def _backbone_config_from_dict(data: dict[str, Any]) -> PretrainedConfig:
    data = dict(data)
    model_type = data.pop("model_type", None)
    if not model_type:
        raise ValueError("backbone_config has no model_type; cannot rebuild the backbone")
    return AutoConfig.for_model(model_type, **data)


def _last_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last attended token per row (works for right and left padding)."""
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    return (attention_mask.long() * (positions + 1)).argmax(dim=1)


class PrefixClassifier(PreTrainedModel):
    """Backbone (+ optional biLSTM) + one-logit head; see the module docstring for the four variants."""

    config_class = PrefixClassifierConfig
    base_model_prefix = "backbone"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = False

    def __init__(self, config: PrefixClassifierConfig, backbone: PreTrainedModel | None = None):
        super().__init__(config)
        if backbone is None:
            if not config.backbone_config:
                raise ValueError("PrefixClassifierConfig.backbone_config is empty: cannot build the backbone")
            backbone = AutoModel.from_config(_backbone_config_from_dict(config.backbone_config))
        self.backbone = backbone
        hidden = backbone.config.hidden_size
        if config.use_bilstm:
            self.lstm = nn.LSTM(hidden, config.lstm_hidden, batch_first=True, bidirectional=True)
            head_in = 2 * config.lstm_hidden
        else:
            self.lstm = None
            head_in = hidden
        self.dropout = nn.Dropout(config.head_dropout)
        self.head = nn.Linear(head_in, 1)
        self.post_init()
        # Reapplied on every load so a phase-2 run from a phase-1 checkpoint keeps the same frozen layers.
        self.freeze_lower_layers(config.trainable_layers)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        # Loading replaces the parameters (requires_grad=True again): reapply the saved freezing.
        model = super().from_pretrained(*args, **kwargs)
        # safetensors tensors can sit at unaligned (memory-mapped) addresses, which sends small matmuls down
        # another SIMD path and changes the last float bit; own, aligned copies make reloads bit-identical.
        with torch.no_grad():
            for param in model.parameters():
                param.data = param.data.clone()
        model.freeze_lower_layers(model.config.trainable_layers)
        return model

    # ------------------------------------------------------------------ properties / freezing
    @property
    def variant(self) -> str:
        return self.config.variant

    @property
    def is_decoder(self) -> bool:
        return self.config.backbone_type == "decoder"

    @property
    def supports_one_pass(self) -> bool:
        """True when one forward pass may score every word-prefix: a causal decoder without biLSTM."""
        return self.is_decoder and not self.config.use_bilstm

    @property
    def shares_backbone_pass(self) -> bool:
        """True when the backbone states of a sentence serve all its prefixes (any causal decoder)."""
        return self.is_decoder

    def _transformer_layers(self) -> nn.ModuleList:
        """The backbone's transformer blocks (BertModel.encoder.layer, LlamaModel.layers, GPT2Model.h)."""
        n_layers = getattr(self.backbone.config, "num_hidden_layers", None)
        candidates = [m for m in self.backbone.modules() if isinstance(m, nn.ModuleList) and len(m) > 0]
        for module in candidates:
            if n_layers is None or len(module) == n_layers:
                return module
        raise ValueError(f"cannot find the transformer layers of {type(self.backbone).__name__}")

    def freeze_lower_layers(self, trainable_layers: int | None) -> None:
        """Freeze the embeddings and all but the top ``trainable_layers`` blocks (None = train all).

        The final norm / pooler above the blocks, the biLSTM and the head stay trainable. The setting is
        stored in the config so a reloaded checkpoint is frozen the same way.
        """
        self.config.trainable_layers = trainable_layers
        for param in self.backbone.parameters():
            param.requires_grad = True
        if trainable_layers is None:
            return
        if trainable_layers < 0:
            raise ValueError(f"trainable_layers must be >= 0 or None, got {trainable_layers}")
        layers = self._transformer_layers()
        embeddings = self.backbone.get_input_embeddings()
        for param in embeddings.parameters():
            param.requires_grad = False
        # Position / token-type embeddings live beside the word embeddings (BERT: .embeddings, GPT-2: .wpe).
        for name in ("embeddings", "wpe"):
            module = getattr(self.backbone, name, None)
            if isinstance(module, nn.Module):
                for param in module.parameters():
                    param.requires_grad = False
        n_frozen = max(len(layers) - trainable_layers, 0)
        for layer in list(layers)[:n_frozen]:
            for param in layer.parameters():
                param.requires_grad = False

    def num_trainable_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # ------------------------------------------------------------------ building blocks
    def token_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        past_key_values=None,
        use_cache: bool = False,
    ):
        """Backbone forward; the backbone's output (``last_hidden_state``, ``pooler_output``, cache)."""
        kwargs: dict[str, Any] = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None and not self.is_decoder:
            kwargs["token_type_ids"] = token_type_ids
        if self.is_decoder:
            kwargs["use_cache"] = use_cache
            if past_key_values is not None:
                kwargs["past_key_values"] = past_key_values
        return self.backbone(**kwargs)

    def _lstm_features(self, states: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Concat of the biLSTM's final forward and backward states over the first ``lengths`` tokens."""
        packed = pack_padded_sequence(
            states, lengths.clamp_min(1).cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)
        return torch.cat([h_n[0], h_n[1]], dim=-1)

    def _logit(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.dropout(features)).squeeze(-1)

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        word_end_positions: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> PrefixClassifierOutput:
        """Logits ``[B]`` per (unpadded) sequence, or ``[B, W]`` per word-prefix (one-pass decoders).

        ``word_end_positions[b, i]`` is the token index of the last token of word i of row b (-1 = padding);
        the logit at a padded slot is 0.0 and must be masked by the caller (``word_end_positions >= 0``).
        """
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if word_end_positions is not None:
            if not self.supports_one_pass:
                raise ValueError(
                    f"variant {self.variant!r} cannot score all word-prefixes in one pass: "
                    + (
                        "an encoder attends to later words"
                        if not self.is_decoder
                        else "the biLSTM's backward direction reads later words"
                    )
                    + " (the future would leak into each prefix's score). "
                    "Give each prefix as its own sequence."
                )
            states = self.token_states(input_ids, attention_mask, token_type_ids).last_hidden_state
            return PrefixClassifierOutput(logits=self._gather_word_logits(states, word_end_positions))
        out = self.token_states(input_ids, attention_mask, token_type_ids)
        states = out.last_hidden_state
        if self.lstm is not None:
            features = self._lstm_features(states, attention_mask.long().sum(dim=1))
        elif self.is_decoder:
            last = _last_index(attention_mask)
            features = states[torch.arange(states.shape[0], device=states.device), last]
        else:
            pooled = getattr(out, "pooler_output", None)
            features = pooled if pooled is not None else states[:, 0]
        return PrefixClassifierOutput(logits=self._logit(features))

    def _gather_word_logits(self, states: torch.Tensor, word_end_positions: torch.Tensor) -> torch.Tensor:
        positions = word_end_positions.to(states.device).long()
        if positions.dim() != 2 or positions.shape[0] != states.shape[0]:
            raise ValueError(f"word_end_positions must be [batch, words], got {tuple(positions.shape)}")
        if positions.numel() and int(positions.max()) >= states.shape[1]:
            raise ValueError(
                f"word_end_positions holds index {int(positions.max())} but the sequences have "
                f"{states.shape[1]} tokens"
            )
        valid = positions >= 0
        index = positions.clamp_min(0).unsqueeze(-1).expand(-1, -1, states.shape[-1])
        gathered = states.gather(1, index)  # [B, W, H]
        logits = self._logit(gathered)
        return logits.masked_fill(~valid, 0.0)

    def all_prefix_logits(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        word_end_positions: torch.Tensor,
        lstm_batch_size: int = 256,
    ) -> torch.Tensor:
        """Logits ``[B, W]`` of every word-prefix with one backbone pass per sentence (causal decoders only).

        ``decoder``: the same as ``forward(..., word_end_positions=...)``. ``decoder+bilstm``: the causal
        backbone's token states are shared (the state at token t sees only tokens <= t, so they equal those of
        the prefix alone); the biLSTM runs once per prefix over states[:end+1], so no later word reaches it.
        Encoders raise ValueError (their states depend on later words).
        """
        if self.supports_one_pass:
            return self.forward(input_ids, attention_mask, word_end_positions=word_end_positions).logits
        if not self.is_decoder:
            raise ValueError(
                f"variant {self.variant!r}: an encoder's token states depend on later words, so prefixes "
                "cannot share a backbone pass; score each prefix as its own sequence"
            )
        states = self.token_states(input_ids, attention_mask).last_hidden_state  # [B, T, H]
        positions = word_end_positions.to(states.device).long()
        rows, cols = torch.nonzero(positions >= 0, as_tuple=True)
        logits = torch.zeros(positions.shape, dtype=states.dtype, device=states.device)
        for start in range(0, len(rows), lstm_batch_size):
            r = rows[start : start + lstm_batch_size]
            c = cols[start : start + lstm_batch_size]
            lengths = positions[r, c] + 1
            # index_select, not states[r]: the sentence's row repeats once per prefix, and the backward of
            # advanced indexing adds those repeats with parallel atomic float adds on CPU, whose order (and so
            # the rounding of the backbone's gradients) varies from run to run; index_select's does not.
            chunk = states.index_select(0, r)[:, : int(lengths.max())]
            logits[r, c] = self._logit(self._lstm_features(chunk, lengths))
        return logits

    def lstm_logit_from_states(self, states: torch.Tensor) -> torch.Tensor:
        """Logit of one prefix from its token states ``[1, T, H]`` (decoder+bilstm streaming)."""
        lengths = torch.tensor([states.shape[1]], device=states.device)
        return self._logit(self._lstm_features(states, lengths))


AutoConfig.register(PrefixClassifierConfig.model_type, PrefixClassifierConfig, exist_ok=True)
AutoModel.register(PrefixClassifierConfig, PrefixClassifier, exist_ok=True)


# ---------------------------------------------------------------------- builders / helpers
def build_prefix_classifier(
    variant: str, model_id: str, *, lstm_hidden: int, trainable_layers: int | None, pretrained: bool = True
):
    """``(model, tokenizer)`` for ``variant`` on the backbone ``model_id`` (an encoder for the encoder
    variants, a decoder for the others), with its top ``trainable_layers`` trainable (None: all) and, for
    +biLSTM variants, an LSTM of ``lstm_hidden`` units per direction. A profile's values:
    :func:`hatespeech.anticipation.training.new_prefix_classifier`.

    ``pretrained=False`` keeps the backbone's architecture but random weights (tests, speed benchmarks).
    The tokenizer pads on the right (a decoder's positions then start at 0 for every row, which keeps the
    one-pass and per-prefix scores equal); no special tokens are added beyond what the tokenizer does.
    """
    backbone_type, use_bilstm = parse_variant(variant)
    tokenizer = load_tokenizer(model_id)
    tokenizer.padding_side = "right"
    if pretrained:
        backbone = load_backbone(model_id)
    else:
        backbone = AutoModel.from_config(AutoConfig.from_pretrained(resolve_model_dir(model_id)))
    if backbone_type == "decoder" and backbone.config.pad_token_id is None:
        backbone.config.pad_token_id = tokenizer.pad_token_id
    config = PrefixClassifierConfig(
        backbone_type=backbone_type,
        backbone_config=backbone.config.to_dict(),
        backbone_name=model_id,
        use_bilstm=use_bilstm,
        lstm_hidden=lstm_hidden,
        trainable_layers=trainable_layers,
        variant=variant,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = PrefixClassifier(config, backbone=backbone)
    return model, tokenizer


def tiny_prefix_classifier(
    variant: str,
    tokenizer,
    hidden: int = 32,
    layers: int = 2,
    lstm_hidden: int = 16,
    seed: int = 0,
    trainable_layers: int | None = None,
    architecture: str = "llama",
) -> PrefixClassifier:
    """A randomly initialised prefix classifier with a tiny backbone: BERT for encoders; for decoders Llama
    (rotary positions, as SmolLM2) or ``architecture="gpt2"`` (learned absolute positions and Conv1D layers,
    as the gpu profile's GPT-2).

    For unit tests and CLI tests: it keeps the real tokenizer's vocabulary and the variant's exact code paths
    (pooling, causal one-pass, biLSTM, freezing) but builds in milliseconds and runs in microseconds.
    """
    if architecture not in ("llama", "gpt2"):
        raise ValueError(f"architecture must be 'llama' or 'gpt2', not {architecture!r}")
    backbone_type, use_bilstm = parse_variant(variant)
    common = {
        "vocab_size": len(tokenizer),
        "hidden_size": hidden,
        "intermediate_size": 2 * hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": 4,
        "pad_token_id": tokenizer.pad_token_id,
        "initializer_range": 0.3,
    }  # wider than 0.02 so random prefixes get distinct scores
    if backbone_type == "encoder":
        backbone_config = BertConfig(max_position_embeddings=128, **common)
    elif architecture == "gpt2":
        backbone_config = GPT2Config(
            vocab_size=common["vocab_size"],
            n_embd=hidden,
            n_inner=2 * hidden,
            n_layer=layers,
            n_head=4,
            n_positions=256,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            initializer_range=0.3,
        )
    else:
        backbone_config = LlamaConfig(num_key_value_heads=2, max_position_embeddings=256, **common)
    config = PrefixClassifierConfig(
        backbone_type=backbone_type,
        backbone_config=backbone_config.to_dict(),
        backbone_name="tiny-random",
        use_bilstm=use_bilstm,
        lstm_hidden=lstm_hidden,
        trainable_layers=trainable_layers,
        variant=variant,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = PrefixClassifier(config)
    # Default init gives near-zero logits; a larger head spreads the probabilities, so comparisons mean
    # something.
    with torch.no_grad():
        model.head.weight.normal_(0.0, 1.0)
    return model.eval()
