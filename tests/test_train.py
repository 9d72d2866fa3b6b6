import numpy as np
import torch
from hatespeech.losses import weighted_bce_with_logits
from hatespeech.train import TrainSettings, train
from torch import nn


class _Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 1)

    def forward(self, x):
        return self.linear(x).squeeze(-1)


def _run(tmp_path, seed):
    torch.manual_seed(0)
    features = torch.randn(64, 4)
    targets = (features[:, 0] > 0).float()
    rows = [{"x": features[i], "labels": targets[i], "w": torch.tensor(1.0)} for i in range(64)]

    def loss_fn(model, inputs):
        logits = model(inputs["x"])
        return weighted_bce_with_logits(logits, inputs["labels"], inputs["w"]), logits

    torch.manual_seed(seed)
    model, history = train(
        _Linear(),
        rows,
        loss_fn,
        TrainSettings(
            output_dir=tmp_path,
            epochs=4,
            batch_size=8,
            lr=0.2,
            logging_steps=4,
            seed=seed,
            use_cpu=True,
            disable_tqdm=True,
        ),
        eval_dataset=rows[:16],
    )
    return model, history


def test_loss_fn_trainer_learns_and_logs(tmp_path):
    _model, history = _run(tmp_path, seed=1)
    losses = history["loss"].dropna().tolist()
    assert losses[-1] < losses[0]
    assert history["eval_loss"].notna().any()


def test_training_is_repeatable_with_a_seed(tmp_path):
    a, _ = _run(tmp_path / "a", seed=5)
    b, _ = _run(tmp_path / "b", seed=5)
    assert torch.equal(a.linear.weight, b.linear.weight)


def test_training_without_eval_set(tmp_path):
    rows = [{"x": torch.randn(4), "labels": torch.tensor(1.0), "w": torch.tensor(1.0)} for _ in range(8)]

    def loss_fn(model, inputs):
        logits = model(inputs["x"])
        return weighted_bce_with_logits(logits, inputs["labels"], inputs["w"]), logits

    _, history = train(
        _Linear(),
        rows,
        loss_fn,
        TrainSettings(
            output_dir=tmp_path, epochs=1, batch_size=4, logging_steps=1, use_cpu=True, disable_tqdm=True
        ),
    )
    assert "eval_loss" not in history or history["eval_loss"].isna().all()


def test_head_lr_gives_new_modules_their_own_group(tmp_path):
    from hatespeech.train import LossFnTrainer, training_arguments

    class WithHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = nn.Linear(4, 4)
            self.head = nn.Linear(4, 1)

    model = WithHead()
    settings = TrainSettings(output_dir=tmp_path, lr=1e-5, head_lr=1e-2, use_cpu=True)
    trainer = LossFnTrainer(
        model=model,
        args=training_arguments(settings, evaluate=False),
        loss_fn=lambda m, i: (None, None),
        head_lr=settings.head_lr,
    )
    optimizer = trainer.create_optimizer()
    lr_of = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
    assert {lr_of[id(p)] for p in model.head.parameters()} == {1e-2}
    assert {lr_of[id(p)] for p in model.backbone.parameters()} == {1e-5}
    assert sum(len(g["params"]) for g in optimizer.param_groups) == 4


def test_datasets_with_lengths_train_in_length_grouped_batches(tmp_path):
    """TrainSettings.group_by_length with an ExampleDataset of prefix texts (token counts in ``length``):
    transformers' LengthGroupedSampler orders it, so batches carry far less padding than random ones."""
    from hatespeech.anticipation.examples import ExampleDataset
    from hatespeech.train import LossFnTrainer, TrainSettings, training_arguments
    from transformers.trainer_pt_utils import LengthGroupedSampler

    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.arange(1, 129)).tolist()
    dataset = ExampleDataset([{"text": "w " * n, "label": 0.0, "w_len": 1.0, "length": n} for n in lengths])
    assert dataset.lengths == lengths
    assert ExampleDataset([{"text": "a", "label": 0.0, "w_len": 1.0}]).lengths is None

    def padded(order, batch=4):
        return sum(max(lengths[i] for i in order[k : k + batch]) * batch for k in range(0, len(order), batch))

    def sampler(rows, group=True):
        settings = TrainSettings(output_dir=tmp_path, batch_size=4, use_cpu=True, group_by_length=group)
        trainer = LossFnTrainer(
            model=torch.nn.Linear(1, 1),
            args=training_arguments(settings, evaluate=False),
            train_dataset=rows,
            loss_fn=lambda model, inputs: (torch.zeros(()), None),
        )
        return trainer._get_train_sampler()

    grouped = sampler(dataset)
    assert isinstance(grouped, LengthGroupedSampler)
    assert padded(list(grouped)) < 0.8 * padded(list(sampler(dataset, group=False)))
    # a tokenized datasets.Dataset (the dual head's rows): the library infers lengths from input_ids
    from datasets import Dataset

    assert isinstance(
        sampler(Dataset.from_dict({"input_ids": [[1] * n for n in lengths]})), LengthGroupedSampler
    )
    assert sorted(grouped) == list(range(len(lengths)))  # every example once
