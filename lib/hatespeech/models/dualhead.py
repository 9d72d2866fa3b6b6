"""DualHeadBert: one BERT encoder, two multi-label heads (toxicity types ``head_n``, identities ``head_i``).

One forward pass gives both heads' logits. When labels are passed, the model computes the joint loss

    loss = masked pos-weighted BCE(head_n) + focal_lambda * masked focal(head_i; focal_gamma, focal_alpha)

where the masks drop the labels a row's source does not annotate (see :mod:`hatespeech.losses`). The loss
settings (``pos_weight_n``, ``focal_gamma``, ``focal_alpha``, ``focal_lambda``) and the label names live in
the config, so ``save_pretrained`` / ``from_pretrained`` restore the whole model, loss included.

The seed's baseline (two separate single-head models) is the same class with ``heads="n"`` or ``heads="i"``.

Loading a plain encoder checkpoint (e.g. the offline MiniLM-L6 ``BertModel``, whose weights have no ``bert.``
prefix) works through ``from_pretrained``: transformers adds the ``base_model_prefix``; use
:func:`from_encoder`, which also *checks* that every encoder weight came from the checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.utils import ModelOutput
from transformers.utils import logging as hf_logging

from ..losses import focal_loss_with_logits, masked_bce_with_logits

HEADS = ("both", "n", "i")
POOLINGS = ("mean", "cls")


@dataclass
class DualHeadOutput(ModelOutput):
    loss: torch.Tensor | None = None
    loss_n: torch.Tensor | None = None
    loss_i: torch.Tensor | None = None
    logits_n: torch.Tensor | None = None
    logits_i: torch.Tensor | None = None
    features: torch.Tensor | None = None


def configure(
    config: BertConfig,
    label_names_n: Sequence[str] = (),
    label_names_i: Sequence[str] = (),
    heads: str = "both",
    pooling: str = "mean",
    pos_weight_n: Sequence[float] | None = None,
    focal_gamma: float = 2.0,
    focal_alpha: float = 0.25,
    focal_lambda: float = 1.0,
) -> BertConfig:
    """Write the dual-head fields into a ``BertConfig`` (in place; returned for chaining)."""
    if heads not in HEADS:
        raise ValueError(f"heads must be one of {HEADS}, not {heads!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
    if heads in ("both", "n") and not label_names_n:
        raise ValueError("head_n needs label_names_n")
    if heads in ("both", "i") and not label_names_i:
        raise ValueError("head_i needs label_names_i")
    if pos_weight_n is not None and len(pos_weight_n) != len(label_names_n):
        raise ValueError(
            f"pos_weight_n has {len(pos_weight_n)} values for {len(label_names_n)} head_n labels"
        )
    config.label_names_n = list(label_names_n)
    config.label_names_i = list(label_names_i)
    config.num_labels_n = len(label_names_n)
    config.num_labels_i = len(label_names_i)
    config.heads = heads
    config.pooling = pooling
    config.pos_weight_n = None if pos_weight_n is None else [float(w) for w in pos_weight_n]
    config.focal_gamma = float(focal_gamma)
    config.focal_alpha = float(focal_alpha)
    config.focal_lambda = float(focal_lambda)
    return config


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the token states over real (non-padding) tokens."""
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp_min(1.0)


class DualHeadBert(BertPreTrainedModel):
    """BERT encoder + ``head_n`` (toxicity types) + ``head_i`` (identities); see the module docstring.

    ``pooling="mean"`` (default) averages token states, which is how MiniLM-L6 (a sentence-transformers
    model) was trained; ``"cls"`` uses BERT's pooler output (the BertForSequenceClassification convention).
    """

    def __init__(self, config: BertConfig):
        super().__init__(config)
        if not hasattr(config, "heads"):
            configure(
                config,
                getattr(config, "label_names_n", ["label_n"]),
                getattr(config, "label_names_i", ["label_i"]),
            )
        self.bert = BertModel(config, add_pooling_layer=config.pooling == "cls")
        dropout = (
            config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        )
        self.dropout = nn.Dropout(dropout)
        self.head_n = (
            nn.Linear(config.hidden_size, config.num_labels_n) if config.heads in ("both", "n") else None
        )
        self.head_i = (
            nn.Linear(config.hidden_size, config.num_labels_i) if config.heads in ("both", "i") else None
        )
        self.post_init()

    def pos_weight_n(self, device=None) -> torch.Tensor:
        """head_n's BCE ``pos_weight`` from the config (not a buffer: transformers 5 leaves non-persistent
        buffers uninitialised in ``from_pretrained``, and the config is what gets saved anyway)."""
        weights = self.config.pos_weight_n or [1.0] * self.config.num_labels_n
        return torch.tensor(weights, dtype=torch.float32, device=device)

    def encode(
        self, input_ids=None, attention_mask=None, token_type_ids=None, inputs_embeds=None
    ) -> torch.Tensor:
        """Pooled sentence features (before dropout): what the heads see, and what the focal grid caches.
        ``inputs_embeds`` stands in for the embedding output (the grid's top-layer cells feed cached
        lower-layer states there, :mod:`hatespeech.dualhead.top_layers`)."""
        out = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
            inputs_embeds=inputs_embeds,
        )
        if self.config.pooling == "cls":
            return out.pooler_output
        if attention_mask is None:
            attention_mask = torch.ones(out.last_hidden_state.shape[:2], device=out.last_hidden_state.device)
        return mean_pool(out.last_hidden_state, attention_mask)

    def forward(
        self,
        input_ids=None,
        attention_mask=None,
        token_type_ids=None,
        labels_n=None,
        mask_n=None,
        labels_i=None,
        mask_i=None,
        return_features: bool = False,
        inputs_embeds=None,
        **unused,
    ) -> DualHeadOutput:
        features = self.encode(input_ids, attention_mask, token_type_ids, inputs_embeds)
        dropped = self.dropout(features)
        logits_n = self.head_n(dropped) if self.head_n is not None else None
        logits_i = self.head_i(dropped) if self.head_i is not None else None
        loss = loss_n = loss_i = None
        if logits_n is not None and labels_n is not None:
            loss_n = masked_bce_with_logits(logits_n, labels_n, mask_n, self.pos_weight_n(logits_n.device))
        if logits_i is not None and labels_i is not None:
            loss_i = focal_loss_with_logits(
                logits_i, labels_i, self.config.focal_gamma, self.config.focal_alpha, mask_i
            )
        if loss_n is not None or loss_i is not None:
            loss = (loss_n if loss_n is not None else 0.0) + (
                self.config.focal_lambda * loss_i if loss_i is not None else 0.0
            )
        return DualHeadOutput(
            loss=loss,
            loss_n=loss_n,
            loss_i=loss_i,
            logits_n=logits_n,
            logits_i=logits_i,
            features=features if return_features else None,
        )


class EncoderWeightsNotLoadedError(RuntimeError):
    """Some encoder weights were left at their random initialisation when loading a checkpoint."""


def from_encoder(model_dir: str, **head_settings) -> DualHeadBert:
    """A DualHeadBert whose encoder comes from a (Bert) checkpoint folder and whose heads are new.

    ``head_settings`` go to :func:`configure`. Raises :class:`EncoderWeightsNotLoadedError` naming the encoder
    weights the checkpoint did not provide (only ``head_n.*`` / ``head_i.*`` may start random).
    """
    config = BertConfig.from_pretrained(model_dir)
    configure(config, **head_settings)
    # transformers logs a load report (with the folder's absolute path) for the new heads; the checks below
    # say the same thing, and raise, so the report is silenced rather than published.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model, info = DualHeadBert.from_pretrained(model_dir, config=config, output_loading_info=True)
    finally:
        hf_logging.set_verbosity(verbosity)
    not_loaded = [k for k in info["missing_keys"] if not k.startswith(("head_n.", "head_i."))]
    if not_loaded:
        raise EncoderWeightsNotLoadedError(
            f"{model_dir}: {len(not_loaded)} encoder weights were not in the checkpoint and would stay "
            f"random: {sorted(not_loaded)[:8]}"
        )
    if info.get("mismatched_keys"):
        raise EncoderWeightsNotLoadedError(f"{model_dir}: shape mismatch for {info['mismatched_keys'][:8]}")
    return model
