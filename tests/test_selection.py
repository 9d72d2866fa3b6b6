"""EpochSelection keeps the weights of the epoch that scored best on the selection set."""

from __future__ import annotations

import pytest
import torch
from hatespeech.selection import EpochSelection


class _Dataset:
    epoch = None

    def set_epoch(self, epoch):
        self.epoch = epoch


def _run(scores, higher_is_better=True):
    """Drive the callback as the Trainer would: weight = epoch number after each epoch."""
    model = torch.nn.Linear(1, 1, bias=False)
    dataset = _Dataset()
    it = iter(scores)
    selector = EpochSelection(
        lambda m: (next(it), {"weight": float(m.weight.detach())}),
        higher_is_better,
        dataset=dataset,
        max_epochs=len(scores),
    )
    for epoch in range(len(scores)):
        selector.on_epoch_begin(None, None, None)
        assert dataset.epoch == epoch
        with torch.no_grad():
            model.weight.fill_(epoch + 1.0)
        selector.on_epoch_end(None, None, None, model=model)
    return selector, model


def test_restores_the_best_epoch_and_reports_it():
    selector, model = _run([0.5, 0.9, 0.7])
    kept = selector.restore(model)
    assert kept["epoch"] == 2 and kept["score"] == 0.9 and float(model.weight.detach()) == 2.0
    assert [row["weight"] for row in selector.epochs] == [1.0, 2.0, 3.0]


def test_lower_is_better_and_last_epoch_best_needs_no_copy():
    selector, model = _run([0.3, 0.2, 0.1], higher_is_better=False)
    assert selector._best_state is None  # the model already holds the best (last) weights
    assert selector.restore(model)["epoch"] == 3 and float(model.weight.detach()) == 3.0


def test_restore_before_any_epoch_is_an_error():
    selector = EpochSelection(lambda m: (0.0, {}))
    with pytest.raises(RuntimeError, match="no epoch"):
        selector.restore(torch.nn.Linear(1, 1))
