import pytest
from hatespeech import config, paths


def test_profiles_exist_and_differ():
    smoke, cpu, gpu = (config.get_profile(n) for n in ("smoke", "cpu", "gpu"))
    assert smoke.anticipation.phase1_max_train_samples < cpu.anticipation.phase1_max_train_samples
    assert gpu.models.encoder == "bert-base-uncased" and gpu.models.decoder == "gpt2"
    assert cpu.models.encoder.startswith("offline:") and cpu.models.decoder.startswith("offline:")
    assert cpu.to_dict()["dualhead"]["grid_gammas"] == (0.5, 1.0, 2.0, 3.0)


def test_overrides_with_dotted_keys_and_fresh_copies():
    p = config.get_profile("cpu", **{"anticipation.phase1_epochs": 3.0, "seed": 7})
    assert p.anticipation.phase1_epochs == 3.0 and p.seed == 7
    assert config.get_profile("cpu").anticipation.phase1_epochs == 2  # no leak between calls


def test_unknown_profile_and_setting_are_named():
    with pytest.raises(ValueError, match="unknown profile 'tpu'"):
        config.get_profile("tpu")
    with pytest.raises(ValueError, match="no setting 'anticipation.nope'"):
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

    config.seed_everything(3)
    a = (np.random.rand(), torch.rand(1).item())
    config.seed_everything(3)
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
