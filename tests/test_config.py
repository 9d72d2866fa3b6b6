import re

import pytest
from hatespeech import config, paths, runtime


def test_profiles_exist_and_differ():
    smoke, cpu, gpu = (config.get_profile(n) for n in ("smoke", "cpu", "gpu"))
    assert cpu.anticipation.phase1.max_train_samples is None  # every phase-1 train sentence
    assert smoke.anticipation.phase1.max_train_samples < cpu.anticipation.phase1.decoder_max_train_samples
    assert gpu.models.encoder == "bert-base-uncased" and gpu.models.decoder == "gpt2"
    assert cpu.models.encoder.startswith("offline:") and cpu.models.decoder.startswith("offline:")
    assert cpu.to_dict()["dualhead"]["grid"]["gammas"] == (0.0, 0.5, 1.0, 2.0, 3.0)


def test_overrides_with_dotted_keys_and_fresh_copies():
    p = config.get_profile("cpu", **{"anticipation.phase1.epochs": 3, "seed": 7})
    assert p.anticipation.phase1.epochs == 3 and p.seed == 7
    assert config.get_profile("cpu").anticipation.phase1.epochs == 1  # no leak between calls


def test_unknown_profile_and_setting_are_named():
    with pytest.raises(ValueError, match="unknown profile 'tpu'"):
        config.get_profile("tpu")
    with pytest.raises(ValueError, match=r"no setting 'anticipation.nope'"):
        config.get_profile("cpu", **{"anticipation.nope": 1})


def test_data_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path))
    assert paths.data_dir() == tmp_path.resolve()


def test_reports_dir_follows_env(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.REPORTS_DIR_ENV, str(tmp_path / "staging"))
    assert paths.metrics_dir() == (tmp_path / "staging" / "metrics").resolve()
    assert paths.metrics_dir().is_dir()


def test_seed_everything_repeats():
    import numpy as np
    import torch

    runtime.seed_everything(3)
    a = (np.random.rand(), torch.rand(1).item())
    runtime.seed_everything(3)
    assert (np.random.rand(), torch.rand(1).item()) == a


def test_shown_paths_hide_the_machine(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.REPORTS_DIR_ENV, str(tmp_path / "staging-1"))
    monkeypatch.setenv(paths.ARTIFACTS_DIR_ENV, str(tmp_path / "art"))
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "corpora"))
    assert (
        paths.shown(tmp_path / "staging-1" / "metrics" / "dualhead.json") == "reports/metrics/dualhead.json"
    )
    assert paths.shown(tmp_path / "art" / "cpu" / "splits" / "x.csv") == "artifacts/cpu/splits/x.csv"
    assert paths.shown(tmp_path / "corpora" / "olid" / "a.tsv") == "corpora/olid/a.tsv"
    assert paths.shown(paths.REPO_ROOT / "lib" / "x.py") == "lib/x.py"
    assert paths.shown("/somewhere/else/model.bin") == "model.bin"


def test_full_profile_is_the_gpu_scale_on_offline_models():
    full, gpu = config.get_profile("full"), config.get_profile("gpu")
    assert full.models == config.ModelConfig() and full.models.encoder.startswith("offline:")
    assert full.anticipation == gpu.anticipation and full.dualhead == gpu.dualhead
    assert full.anticipation.encoder_trainable_layers is None and full.dualhead.grid.mode == "finetune"


def test_model_ids_can_point_at_local_copies(monkeypatch, tmp_path):
    monkeypatch.setenv("HATESPEECH_ENCODER", str(tmp_path / "bert"))
    profile = config.get_profile("gpu")
    assert profile.models.encoder == str(tmp_path / "bert") and profile.models.decoder == "gpt2"


def test_mixed_precision_only_on_cuda(monkeypatch):
    from hatespeech import train

    assert train.mixed_precision(use_cpu=True) is None
    monkeypatch.setattr(train.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(train.torch.cuda, "is_bf16_supported", lambda: False)
    assert train.mixed_precision(use_cpu=False) == "fp16"
    monkeypatch.setattr(train.torch.cuda, "is_bf16_supported", lambda: True)
    assert train.mixed_precision(use_cpu=False) == "bf16"
    assert train.mixed_precision(use_cpu=True) is None
    args = train.training_arguments(train.TrainSettings(output_dir="x", use_cpu=True))
    assert not args.bf16 and not args.fp16


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"dualhead.grid.mode": "nope"}, "dualhead.grid.mode = 'nope' must be one of"),
        ({"anticipation.phase1.epochs": "2"}, "anticipation.phase1.epochs = '2' is not int"),
        ({"anticipation.variants": ("bert",)}, "variants = ('bert',) must be a non-empty choice"),
        ({"dualhead.focal_alpha": 2.0}, "dualhead.focal_alpha = 2.0 must be in [0, 1]"),
        ({"data.dualhead_split": (0.5, 0.5, 0.5)}, "must be three positive fractions summing to 1"),
        ({"anticipation.phase2.C_candidates": (1.0, -1.0)}, "C > 0"),
        ({"anticipation.phase1.batch_size": 0}, "anticipation.phase1.batch_size = 0 must be > 0"),
        ({"anticipation.nothing.x": 1}, "profile 'cpu': no setting 'anticipation.nothing.x'"),
        ({"anticipation.phase1.epochs.x": 1}, "no setting 'anticipation.phase1.epochs.x'"),
        ({"dualhead.grid.gammas": ()}, "dualhead.grid.gammas = () must be a non-empty tuple"),
        ({"device": "tpu"}, "device = 'tpu' must be auto, cpu, cuda or cuda:N"),
    ],
)
def test_a_bad_setting_fails_at_get_profile_naming_it(override, message):
    """Issue 27: config is validated where it is made, not deep inside a notebook."""
    with pytest.raises(ValueError, match=re.escape(message)):
        config.get_profile("cpu", **override)


def test_overrides_keep_their_types_and_every_profile_validates():
    for name in ("smoke", "cpu", "gpu", "full"):
        config.get_profile(name)  # no shipped profile breaks its own rules
    profile = config.get_profile("smoke", **{"dualhead.grid.gammas": [0, 1.5], "anticipation.phase2.lr": 1})
    assert profile.dualhead.grid.gammas == (0, 1.5) and profile.anticipation.phase2.lr == 1  # int for float


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: config.Phase1Config(epochs=0), "anticipation.phase1.epochs = 0 must be > 0"),
        (lambda: config.Phase2Config(rehearsal_shares=(1.5,)), "anticipation.phase2.rehearsal_shares"),
        (lambda: config.Phase2Config(ablation_variants=("bert",)), "anticipation.phase2.ablation_variants"),
        (lambda: config.ContinuationConfig(top_p=0.0), "anticipation.continuation.top_p = 0.0 must be in"),
        (lambda: config.GridConfig(mode="nope"), "dualhead.grid.mode = 'nope' must be one of"),
        (lambda: config.Phase1Config(encoder_lr_candidates=()), "anticipation.phase1.encoder_lr_candidates"),
        (lambda: config.DualHeadConfig(batch_size=2.5), "dualhead.batch_size = 2.5 is not int"),
        (lambda: config.Profile(name="x", device="tpu"), "device = 'tpu' must be"),
    ],
)
def test_a_bad_value_fails_at_construction_naming_the_field(make, message):
    """Each config section checks itself when it is made, wherever that is (a profile, a test, a notebook)."""
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        make()


def test_profiles_are_frozen_and_overrides_make_new_ones():
    import dataclasses

    smoke = config.get_profile("smoke")
    with pytest.raises(dataclasses.FrozenInstanceError):
        smoke.anticipation.phase1.epochs = 2  # type: ignore[misc]
    bigger = config.overridden(smoke, {"anticipation.phase1.epochs": 2, "dualhead.grid.mode": "finetune"})
    assert bigger.anticipation.phase1.epochs == 2 and bigger.dualhead.grid.mode == "finetune"
    assert smoke.anticipation.phase1.epochs == 1 and smoke.dualhead.grid.mode == "top_layers"
    assert bigger.anticipation.phase2 == smoke.anticipation.phase2  # untouched sections are kept


def test_the_device_is_resolved_once_on_the_profile(monkeypatch):
    calls = []
    resolve = runtime.resolve_device
    monkeypatch.setattr(runtime, "resolve_device", lambda device: calls.append(device) or resolve(device))
    profile = config.get_profile("smoke", device="cpu")
    assert profile.torch_device is profile.torch_device and profile.torch_device.type == "cpu"
    assert calls == ["cpu"]  # once, however often it is read
    moved = config.get_profile("smoke", device="cpu", seed=1)
    assert moved.torch_device.type == "cpu" and calls == ["cpu", "cpu"]  # an override is a new profile


def test_resolving_a_profile_gives_its_own_device(monkeypatch):
    # Code that takes "a profile or a device spec" (the dual head's predict) gets the profile's cached device.
    profile = config.get_profile("smoke", device="cpu")
    calls = []
    resolve = runtime.resolve_device
    monkeypatch.setattr(runtime, "resolve_device", lambda device: calls.append(device) or resolve(device))
    assert runtime.resolve_device(profile) is profile.torch_device is runtime.resolve_device(profile)
    assert calls.count("cpu") == 1  # the profile's own resolution; the spec "cpu" still resolves
    assert resolve("cpu").type == "cpu"
