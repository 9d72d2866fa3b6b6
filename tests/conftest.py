"""Shared fixtures. Tests never touch the real reports/ or artifacts/: both go to a temp dir per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True, scope="session")
def _isolated_outputs(tmp_path_factory):
    # Keep the repo's reports/ clean; share one artifacts dir so the dequantized SmolLM2 is made once.
    reports = tmp_path_factory.mktemp("reports")
    old = {k: os.environ.get(k) for k in ("HATESPEECH_REPORTS_DIR",)}
    os.environ["HATESPEECH_REPORTS_DIR"] = str(reports)
    yield
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def offline_tokenizer():
    """``offline_tokenizer(model_id, padding_side=None)``: a tokenizer from
    :func:`hatespeech.models.backbones.load_tokenizer`, or a skip saying it is not available (the offline
    model packages are optional)."""
    from hatespeech.models.backbones import ModelNotAvailableError, load_tokenizer

    def load(model_id: str, padding_side: str | None = None):
        try:
            tokenizer = load_tokenizer(model_id)
        except ModelNotAvailableError as exc:  # pragma: no cover - depends on the offline packages
            pytest.skip(f"offline tokenizer {model_id} not available: {exc}")
        if padding_side is not None:
            tokenizer.padding_side = padding_side
        return tokenizer

    return load


@pytest.fixture(scope="module")
def tokenizers(offline_tokenizer):
    """The encoder and decoder tokenizers of the tiny prefix models (real offline vocabularies), padded on
    the right."""
    return {
        "encoder": offline_tokenizer("offline:minilm-l6", "right"),
        "decoder": offline_tokenizer("offline:smollm2-135m", "right"),
    }


@pytest.fixture(scope="module")
def one_torch_thread():
    """Torch on one thread for a module: tiny models run fastest so (on a shared 2-core box, thread sync
    dominates). A module opts in with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_configure(config):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def isolated(monkeypatch, tmp_path, tokenizers):
    """Fixture corpora as data dir, a temp artifacts dir, tiny models instead of the real backbones."""
    monkeypatch.setenv("HATESPEECH_DATA_DIR", str(FIXTURES / "data"))
    monkeypatch.setenv("HATESPEECH_ARTIFACTS_DIR", str(tmp_path / "artifacts"))

    from hatespeech.anticipation import training  # the anticipation tests' only: keeps torch out of the rest
    from hatespeech.models.prefix import parse_variant, tiny_prefix_classifier

    def tiny_build(variant, model_id, *, lstm_hidden, trainable_layers, pretrained=True):
        # in place of the model layer's builder, so training.new_prefix_classifier (profile -> arguments) runs
        model = tiny_prefix_classifier(
            variant, tokenizers[parse_variant(variant)[0]], seed=3, trainable_layers=1
        )
        if model.is_decoder:  # as the cpu profile's decoders: the lower block frozen (and memoised)
            model.freeze_lower_layers(1)
        return model, tokenizers[parse_variant(variant)[0]]

    monkeypatch.setattr(training, "build_prefix_classifier", tiny_build)  # where train_phase1/2 look it up
    return tmp_path
