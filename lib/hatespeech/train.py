"""One training loop for every experiment: Hugging Face ``Trainer`` with a pluggable loss.

Each experiment supplies ``loss_fn(model, inputs) -> (loss, outputs)``: the anticipation models weight
examples by w_len (phase 1) or 0.8·C·y + 0.2·w_len (phase 2), the dual head masks missing labels. Everything
else (batching, optimiser, schedule, seeding, logging, progress bars, CPU/GPU placement) is the Trainer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from transformers import Trainer, TrainingArguments
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_pt_utils import LengthGroupedSampler

LossFn = Callable[[Any, dict[str, Any]], tuple[Any, Any]]


@dataclass
class TrainSettings:
    output_dir: str | Path
    epochs: float = 1.0
    batch_size: int = 16
    eval_batch_size: int | None = None
    lr: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    seed: int = 42
    max_steps: int = -1
    logging_steps: int = 10
    eval_steps: int | None = None  # evaluate every N steps; None = once per epoch
    use_cpu: bool = False
    disable_tqdm: bool = False
    # Mixed precision on CUDA, as the seeds trained: "bf16" where the GPU supports it, else "fp16";
    # None (fp32) on CPU. :func:`mixed_precision` picks it.
    precision: str | None = None
    # Batches of similar length (transformers' LengthGroupedSampler: shuffled megabatches of 50 batches, each
    # sorted by length). A batch is padded to its longest item, and the word-prefixes of a sentence run from
    # one word to all of them: random batches of phase-2 prefixes are half padding (measured on the cpu
    # profile's train prefixes: 191k padded tokens per epoch at random, 96k grouped, 93k real).
    group_by_length: bool = False
    # Learning rate of the freshly initialised modules (heads, LSTM); None = ``lr``. At an encoder's 5e-5 a
    # new linear head barely moves in a few hundred Adam steps while the encoder is fine-tuned.
    head_lr: float | None = None


# Top-level module names (prefixes) of the parts a model adds on top of its pretrained backbone.
NEW_MODULE_PREFIXES = ("head", "lstm", "classifier")


def is_new_module_parameter(name: str) -> bool:
    return name.split(".", 1)[0].startswith(NEW_MODULE_PREFIXES)


def training_arguments(settings: TrainSettings, evaluate: bool = True) -> TrainingArguments:
    """TrainingArguments for an in-notebook run: no checkpoints on disk, no external loggers."""
    has_eval_steps = settings.eval_steps is not None
    eval_strategy = ("steps" if has_eval_steps else "epoch") if evaluate else "no"
    return TrainingArguments(
        output_dir=str(settings.output_dir),
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.eval_batch_size or settings.batch_size * 2,
        learning_rate=settings.lr,
        weight_decay=settings.weight_decay,
        warmup_steps=settings.warmup_ratio,  # a float < 1 is a ratio of the total steps (transformers 5)
        seed=settings.seed,
        data_seed=settings.seed,
        logging_steps=settings.logging_steps,
        eval_strategy=eval_strategy,
        eval_steps=settings.eval_steps,
        save_strategy="no",
        report_to="none",
        remove_unused_columns=False,  # our collators and loss functions need the weight / mask columns
        dataloader_num_workers=0,
        use_cpu=settings.use_cpu,
        disable_tqdm=settings.disable_tqdm,
        bf16=settings.precision == "bf16",
        fp16=settings.precision == "fp16",
        train_sampling_strategy="group_by_length" if settings.group_by_length else "random",
    )


def mixed_precision(use_cpu: bool) -> str | None:
    """ "bf16" on a CUDA device that supports it, "fp16" on other CUDA devices, None (fp32) on CPU."""
    if use_cpu or not torch.cuda.is_available():
        return None
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


class LossFnTrainer(Trainer):
    """A Trainer whose loss is ``loss_fn(model, inputs) -> (loss, outputs)`` instead of the model's own."""

    def __init__(self, *args, loss_fn: LossFn, head_lr: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_fn = loss_fn
        self.head_lr = head_lr

    def create_optimizer(self, model=None):
        """The Trainer's AdamW groups, with the new modules' parameters split off at ``head_lr``."""
        optimizer = super().create_optimizer(model)
        if self.head_lr is None:
            return optimizer
        opt_model = self.model if model is None else model
        new_ids = {id(p) for n, p in opt_model.named_parameters() if is_new_module_parameter(n)}
        groups = []
        for group in optimizer.param_groups:
            body = [p for p in group["params"] if id(p) not in new_ids]
            new = [p for p in group["params"] if id(p) in new_ids]
            if body:
                groups.append({**group, "params": body})
            if new:
                groups.append({**group, "params": new, "lr": self.head_lr})
        optimizer.param_groups.clear()
        for group in groups:
            optimizer.add_param_group(group)
        return optimizer

    def _get_train_sampler(self, train_dataset=None):
        # transformers infers lengths only from an ``input_ids`` field; prefix-text datasets carry their token
        # counts as ``lengths`` instead (ExampleDataset), which the library's sampler takes as given.
        dataset = self.train_dataset if train_dataset is None else train_dataset
        lengths = getattr(dataset, "lengths", None)
        if self.args.train_sampling_strategy != "group_by_length" or lengths is None:
            return super()._get_train_sampler(train_dataset)
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return LengthGroupedSampler(batch, lengths=list(lengths))

    def _get_eval_sampler(self, eval_dataset):
        # The eval loss is a mean over the whole set: order does not matter, and the library would again
        # infer lengths from ``input_ids``.
        if eval_dataset is None or self.args.train_sampling_strategy != "group_by_length":
            return super()._get_eval_sampler(eval_dataset)
        lengths = getattr(eval_dataset, "lengths", None)
        if lengths is None:
            return super()._get_eval_sampler(eval_dataset)
        return LengthGroupedSampler(self.args.eval_batch_size, lengths=list(lengths))

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        loss, outputs = self.loss_fn(model, inputs)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        # Evaluation only needs the loss (metrics are computed by the experiments from their own predict
        # functions), which keeps the Trainer from guessing which outputs are logits.
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            loss, _ = self.loss_fn(model, inputs)
        return loss.detach(), None, None


def train(
    model,
    train_dataset,
    loss_fn: LossFn,
    settings: TrainSettings,
    eval_dataset=None,
    data_collator=None,
    callbacks=None,
) -> tuple[Any, pd.DataFrame]:
    """Train ``model`` in place; return (model, history) where history has step, epoch, loss, eval_loss.

    ``callbacks`` are ``transformers.TrainerCallback`` objects (e.g. the anticipation experiments' per-epoch
    selection, which keeps the weights of the epoch that scores best on a selection set)."""
    trainer = LossFnTrainer(
        model=model,
        args=training_arguments(settings, evaluate=eval_dataset is not None),
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=data_collator,
        loss_fn=loss_fn,
        head_lr=settings.head_lr,
        callbacks=callbacks,
    )
    quiet_logs(trainer)
    trainer.train()
    return model, history_frame(trainer.state.log_history)


class QuietProgressCallback(ProgressCallback):
    """The Trainer's progress bars without the log dicts it prints under them ({'loss': ...,
    'train_runtime': ...}): every logged value is in ``trainer.state.log_history`` (:func:`history_frame`),
    and printed dicts would land in the published notebook pages."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        return None


def quiet_logs(trainer: Trainer) -> None:
    """Swap the Trainer's log printers for :class:`QuietProgressCallback` (bars kept unless disabled)."""
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    if not trainer.args.disable_tqdm:
        trainer.add_callback(QuietProgressCallback)


def history_frame(log_history: list[dict[str, Any]]) -> pd.DataFrame:
    """Trainer log history as one row per logged step (train loss and eval loss in columns)."""
    frame = pd.DataFrame(log_history)
    keep = [c for c in ("step", "epoch", "loss", "eval_loss", "learning_rate", "grad_norm") if c in frame]
    return frame[keep] if keep else frame
