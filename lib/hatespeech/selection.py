"""Choosing epochs (and, by the caller, learning rates) on a selection set, never on the reported split.

:class:`EpochSelection` is a ``TrainerCallback``: after every epoch it scores the model on held-out selection
data and remembers the weights of the best epoch; :meth:`EpochSelection.restore` puts them back after
training. The Trainer's own ``load_best_model_at_end`` needs checkpoints on disk and an eval *loss*; here the
criterion is a task metric (F1 at a tuned threshold, or MSE) computed by the experiment's scoring code, and
the best weights stay in memory (no checkpoint folders).

It also tells a dataset which epoch starts (``set_epoch``), so a random-prefix dataset draws fresh prefixes
each epoch without materialising every epoch's draw up front.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transformers import TrainerCallback

#: ``score_fn(model) -> (score, details)``; details (e.g. the tuned threshold) are kept per epoch.
ScoreFn = Callable[[Any], tuple[float, dict[str, Any]]]


class EpochSelection(TrainerCallback):
    """Score the selection set after every epoch; keep the best epoch's weights (in memory)."""

    def __init__(self, score_fn: ScoreFn, higher_is_better: bool = True, dataset=None, max_epochs: int = 1):
        self.score_fn = score_fn
        self.higher_is_better = higher_is_better
        self.dataset = dataset
        self.max_epochs = int(max_epochs)
        self.epochs: list[dict[str, Any]] = []
        self.best_index: int | None = None
        self._best_state: dict[str, Any] | None = None

    def _better(self, score: float) -> bool:
        if self.best_index is None:
            return True
        best = self.epochs[self.best_index]["score"]
        return score > best if self.higher_is_better else score < best

    def on_epoch_begin(self, args, state, control, **kwargs):
        if self.dataset is not None and hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(len(self.epochs))

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        was_training = model.training
        score, details = self.score_fn(model)
        model.train(was_training)
        self.epochs.append({"epoch": len(self.epochs) + 1, "score": float(score), **details})
        if self._better(score):
            self.best_index = len(self.epochs) - 1
            # The last epoch's weights are the model's own: copy only when a later epoch could replace them.
            if len(self.epochs) < self.max_epochs:
                self._best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                self._best_state = None

    def restore(self, model) -> dict[str, Any]:
        """Load the best epoch's weights into ``model`` (no-op when the last epoch was best); return its
        row."""
        if self.best_index is None:
            raise RuntimeError("no epoch was scored: did training run?")
        if self._best_state is not None:
            model.load_state_dict(self._best_state)
            self._best_state = None
        return self.best

    @property
    def best(self) -> dict[str, Any]:
        return dict(self.epochs[self.best_index]) if self.best_index is not None else {}
